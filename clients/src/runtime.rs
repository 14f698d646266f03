//! The OCI runtimes a client can be given, by absolute path.

use std::path::PathBuf;

use crate::Skip;

/// Debian's runc: the control every scenario must also pass.
pub fn runc() -> Result<PathBuf, Skip> {
    crate::require_tool("/usr/sbin/runc", "runc")
}

/// The `vessel` binary under test: `$VESSEL_BIN`, or the one cargo built beside this
/// test executable (`target/debug/vessel`).
pub fn vessel() -> Result<PathBuf, Skip> {
    if let Some(path) = std::env::var_os("VESSEL_BIN") {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe().map_err(|e| Skip(format!("find this executable: {e}")))?;
    exe.ancestors()
        .skip(1)
        .take(2)
        .map(|dir| dir.join("vessel"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            Skip(
                "no vessel binary beside the test (cargo build -p vessel, or set VESSEL_BIN)"
                    .into(),
            )
        })
}

/// A shell script in `dir` that appends its arguments to `dir/calls.log`, one call a
/// line, and then runs `runtime` with them: how a test sees exactly what a client calls
/// (verbs, flags and their order) instead of guessing.
pub fn logging_wrapper(
    dir: &std::path::Path,
    runtime: &std::path::Path,
) -> std::io::Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let script = dir.join("logged-runtime");
    let log = dir.join("calls.log");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            runtime.display()
        ),
    )?;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))?;
    Ok(script)
}
