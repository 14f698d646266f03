//! Copying a host binary into a rootfs together with the shared libraries it needs.

use std::fs;
use std::path::Path;
use std::process::Command;

use super::{BuildResult, BuildStep, at, is_static_executable};

/// Copies the host binary `binary` to `dest` (an absolute path inside `root`), and, for a
/// dynamic binary, every library `ldd` lists to the same path inside `root`.
pub fn install_binary(root: &Path, binary: &Path, dest: &Path) -> BuildResult {
    copy_into(root, binary, dest)?;
    if at(BuildStep::InspectBinary, is_static_executable(binary))? {
        return Ok(());
    }
    for library in shared_libraries(binary)? {
        let library = Path::new(&library);
        if !root
            .join(library.strip_prefix("/").unwrap_or(library))
            .exists()
        {
            copy_into(root, library, library)?;
        }
    }
    Ok(())
}

fn copy_into(root: &Path, from: &Path, dest: &Path) -> BuildResult {
    let target = root.join(dest.strip_prefix("/").unwrap_or(dest));
    if let Some(dir) = target.parent() {
        at(
            BuildStep::CreateDir(dir.to_owned()),
            fs::create_dir_all(dir),
        )?;
    }
    // fs::copy follows symlinks, so the rootfs gets real files with the requested names.
    at(
        BuildStep::Copy(from.to_owned()),
        fs::copy(from, &target).map(drop),
    )
}

/// The absolute paths of the libraries `ldd` resolves for `binary`, loader included.
fn shared_libraries(binary: &Path) -> BuildResult<Vec<String>> {
    let output = at(BuildStep::RunLdd, Command::new("ldd").arg(binary).output())?;
    Ok(parse_ldd(&String::from_utf8_lossy(&output.stdout)))
}

/// Picks the absolute paths out of `ldd` output: `libc.so.6 => /lib/…/libc.so.6 (0x…)`
/// and `/lib64/ld-linux-x86-64.so.2 (0x…)`.
fn parse_ldd(output: &str) -> Vec<String> {
    output
        .lines()
        .filter_map(|line| {
            let line = line.trim();
            let path = line
                .split_once("=>")
                .map_or(line, |(_, right)| right.trim());
            let path = path.split_whitespace().next()?;
            path.starts_with('/').then(|| path.to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::parse_ldd;

    #[test]
    fn ldd_output_yields_absolute_library_paths() {
        let out = "\tlinux-vdso.so.1 (0x00007ffd)\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x7f)\n\t/lib64/ld-linux-x86-64.so.2 (0x7f)\n";
        assert_eq!(
            parse_ldd(out),
            [
                "/lib/x86_64-linux-gnu/libc.so.6",
                "/lib64/ld-linux-x86-64.so.2"
            ]
        );
    }
}
