//! podman driving an OCI runtime: the same scenarios with runc (the control) and vessel.

use vessel_clients::podman::{IMAGE, Podman};
use vessel_clients::{Skip, runtime};

fn with_podman(test: &str, runtime: Result<std::path::PathBuf, Skip>, body: impl FnOnce(&Podman)) {
    match runtime.and_then(|r| Podman::new(&r)) {
        Ok(podman) => body(&podman),
        Err(skip) => skip.report(test),
    }
}

fn run_and_print(podman: &Podman) {
    let out = podman.ok(&["run", "--rm", IMAGE, "echo", "hi"]);
    assert_eq!(out, "hi\n");
}

#[test]
fn runc_run_and_print() {
    with_podman("runc_run_and_print", runtime::runc(), run_and_print);
}

#[test]
fn vessel_run_and_print() {
    with_podman("vessel_run_and_print", runtime::vessel(), run_and_print);
}
