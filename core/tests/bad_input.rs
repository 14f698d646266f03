//! Bad input: each error says what was asked, what failed and what to do, carries the
//! right exit code, and leaves nothing mounted on the host.

use std::fs;
use std::process::{Command, Output};

use vessel::process::error::ProcessError;
use vessel::test_support::host_mounts;
use vessel::{Container, ContainerSpec, Error, rootfs};

fn spawn_error(spec: &ContainerSpec) -> Error {
    let before = host_mounts();
    let error = Container::spawn(spec).expect_err("spawn should fail");
    assert_eq!(host_mounts(), before, "a failed start left a mount behind");
    error.into()
}

fn message(error: &Error) -> String {
    vessel::cli::error_chain(error)
}

#[test]
fn a_missing_rootfs_is_named_with_what_to_do() {
    let error = spawn_error(&ContainerSpec::new("/no/such/rootfs", ["sh"]));
    assert_eq!(error.exit_code(), 125);
    assert_eq!(
        message(&error),
        "rootfs \"/no/such/rootfs\": no such directory (pass an existing directory with --rootfs DIR, or leave it out to use the default rootfs)"
    );
}

#[test]
fn a_command_that_is_not_there_exits_127() {
    vessel::require_root!();
    let rootfs = rootfs::default_rootfs().unwrap();
    let error = spawn_error(&ContainerSpec::new(&rootfs, ["/nonexistent"]));
    assert_eq!(error.exit_code(), 127);
    assert!(message(&error).starts_with("\"/nonexistent\": command not found in the container"));

    let error = spawn_error(&ContainerSpec::new(&rootfs, ["no-such-command"]));
    assert_eq!(error.exit_code(), 127);
    assert!(
        message(&error).contains("/usr/local/sbin/no-such-command, "),
        "{}",
        message(&error)
    );
}

#[test]
fn a_file_that_cannot_be_executed_exits_126() {
    vessel::require_root!();
    let rootfs = rootfs::default_rootfs().unwrap();
    let error = spawn_error(&ContainerSpec::new(&rootfs, ["/etc/passwd"]));
    assert_eq!(error.exit_code(), 126);
    assert!(message(&error).ends_with("Permission denied (os error 13)"));
}

#[test]
fn a_bad_hostname_is_refused_before_clone() {
    let error = spawn_error(&ContainerSpec::new("/tmp", ["sh"]).hostname("no spaces please"));
    assert!(matches!(
        error,
        Error::Process(ProcessError::InvalidHostname { .. })
    ));
    assert!(message(&error).starts_with("hostname \"no spaces please\": it contains a character"));
}

#[test]
fn a_failing_step_is_named_with_its_path_and_errno() {
    vessel::require_root!();
    // A rootfs whose /proc is a file: mounting proc on it fails with ENOTDIR.
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("proc"), "not a directory").unwrap();
    let error = spawn_error(&ContainerSpec::new(dir.path(), ["/bin/sh"]));
    let proc = dir.path().canonicalize().unwrap().join("proc");
    assert_eq!(
        message(&error),
        format!(
            "mount proc on {:?}: Not a directory (os error 20)",
            proc.display().to_string()
        )
    );
}

/// `vessel ARGS`, bounded, with its records in a run directory of its own.
fn vessel(args: &[&str]) -> (Output, String) {
    let run_dir = tempfile::tempdir().unwrap();
    let out = vessel::test_support::output_within(
        Command::new(env!("CARGO_BIN_EXE_vessel"))
            .args(args)
            .env("VESSEL_RUN_DIR", run_dir.path()),
        vessel::test_support::BOUND,
    )
    .expect("run vessel");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stderr)
}

#[test]
fn a_memory_limit_below_dockers_minimum_is_refused_naming_it() {
    for (value, shown) in [("4k", "4k"), ("6291455", "6291455"), ("0", "0")] {
        let (out, stderr) = vessel(&["run", "-m", value, "--", "true"]);
        assert_eq!(out.status.code(), Some(125), "-m {value}: {stderr}");
        assert!(
            stderr.starts_with(&format!(
                "vessel: --memory {shown}: below the minimum of 6m"
            )),
            "-m {value}: {stderr}"
        );
    }
}

#[test]
fn an_environment_entry_without_a_key_is_refused() {
    let error = spawn_error(&ContainerSpec::new("/tmp", ["sh"]).env("=x"));
    assert_eq!(error.exit_code(), 125);
    assert_eq!(
        message(&error),
        "invalid environment variable: =x (use -e KEY=VALUE, with a KEY)"
    );
    for detach in [&[][..], &["-d"]] {
        let mut args = vec!["run"];
        args.extend(detach);
        args.extend(["-e", "=x", "--", "true"]);
        let (out, stderr) = vessel(&args);
        assert_eq!(out.status.code(), Some(125), "{args:?}: {stderr}");
        assert!(
            stderr.contains("invalid environment variable: =x"),
            "{args:?}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{args:?} started something");
    }
}

#[test]
fn two_volumes_on_one_container_path_are_refused_naming_both() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let first = format!("{}:/data", a.path().display());
    let second = format!("{}:/data/:ro", b.path().display());
    let (out, stderr) = vessel(&["run", "-v", &first, "-v", &second, "--", "true"]);
    assert_eq!(out.status.code(), Some(125), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "volume {second:?}: duplicate mount point /data: volume {first:?} is mounted there already"
        )),
        "{stderr}"
    );
}
