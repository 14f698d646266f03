//! The container's record, `/run/PROGRAM/ID/pid`, so that `state` and `kill` (run as
//! other processes, by the conformance suite) find the container `run` started.

use std::fs;
use std::path::PathBuf;

use nix::sys::signal::{Signal, kill as send};
use nix::unistd::Pid;

fn dir(program: &str, id: &str) -> crate::Result<PathBuf> {
    if id.is_empty() || id.contains('/') || id.starts_with('.') {
        return Err(format!("container id {id:?}: use letters, digits, '-' and '_'").into());
    }
    Ok(PathBuf::from("/run").join(program).join(id))
}

/// Records the container's pid (and its bundle, for `state`).
pub fn record(program: &str, id: &str, pid: Pid, bundle: &str) -> crate::Result<()> {
    let dir = dir(program, id)?;
    fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    fs::write(dir.join("bundle"), bundle)?;
    fs::write(dir.join("pid"), pid.to_string())?;
    Ok(())
}

fn pid(program: &str, id: &str) -> crate::Result<Pid> {
    let path = dir(program, id)?.join("pid");
    let text = fs::read_to_string(&path).map_err(|_| format!("no container {id:?}"))?;
    Ok(Pid::from_raw(text.trim().parse()?))
}

/// `state ID`: the runtime spec's state JSON.
pub fn print(program: &str, id: &str) -> crate::Result<()> {
    let pid = pid(program, id)?;
    let bundle = fs::read_to_string(dir(program, id)?.join("bundle")).unwrap_or_default();
    let state = serde_json::json!({
        "ociVersion": "1.0.2",
        "id": id,
        "status": "running",
        "pid": pid.as_raw(),
        "bundle": bundle,
    });
    println!("{state}");
    Ok(())
}

/// `kill ID SIGNAL`: SIGNAL as `9`, `KILL` or `SIGKILL`.
pub fn kill(program: &str, id: &str, signal: &str) -> crate::Result<()> {
    let signal: Signal = match signal.parse::<i32>() {
        Ok(number) => Signal::try_from(number)?,
        Err(_) if signal.starts_with("SIG") => signal.parse()?,
        Err(_) => format!("SIG{signal}").parse()?,
    };
    send(pid(program, id)?, signal)?;
    Ok(())
}

/// `delete ID`: forgets the container (its process is gone, or `run` is ending it).
pub fn delete(program: &str, id: &str) -> crate::Result<()> {
    let dir = dir(program, id)?;
    match fs::remove_dir_all(&dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(format!("remove {}: {e}", dir.display()).into())
        }
        _ => Ok(()),
    }
}
