//! `ENTRYPOINT` and `CMD` end to end: images made with `vessel commit --change` and
//! `vessel image import --change`, run with and without a command, `--entrypoint`,
//! `WORKDIR` and `ENV`, as docker runs them.

use std::path::Path;
use std::process::{Command, Output};

/// A state root of the test's own, so no other test sees its images or containers.
struct Root(tempfile::TempDir);

impl Root {
    fn new() -> Root {
        Root(tempfile::tempdir().expect("temporary state root"))
    }

    fn vessel(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_vessel"))
            .arg("--root")
            .arg(self.0.path())
            .args(args)
            .env("VESSEL_RUN_DIR", self.0.path().join("run"))
            .output()
            .expect("run vessel")
    }

    /// Runs `args`, asserts success, returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.vessel(args);
        assert!(
            out.status.success(),
            "vessel {args:?}: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `vessel run --rm --image IMAGE <rest>`, asserted to succeed; returns stdout.
    fn run_image(&self, image: &str, rest: &[&str]) -> String {
        let mut args = vec!["run", "--rm", "--image", image];
        args.extend_from_slice(rest);
        self.ok(&args)
    }

    /// An image `name`: the base image plus a file /greeting, with `changes` applied.
    fn image(&self, name: &str, changes: &[&str]) {
        self.ok(&["run", "--", "sh", "-c", "echo hello > /greeting"]);
        let listing = self.ok(&["container", "ls"]);
        let id = listing
            .lines()
            .nth(1)
            .and_then(|l| l.split_whitespace().next())
            .expect("the container just run is listed");
        let mut args = vec!["commit"];
        for change in changes {
            args.extend(["--change", change]);
        }
        args.extend([id, name]);
        self.ok(&args);
        self.ok(&["container", "rm", id]);
    }

    fn containers_dir_is_empty(&self) -> bool {
        let dir = self.0.path().join("containers");
        !dir.exists() || std::fs::read_dir(dir).unwrap().next().is_none()
    }
}

#[test]
fn exec_form_cmd_runs_as_written_and_shell_form_through_sh() {
    vessel::require_root!();
    let root = Root::new();
    root.image("exec", &[r#"CMD ["echo", "$HOME", "/greeting"]"#]);
    root.image("shell", &["CMD echo $HOME; cat /greeting"]);
    // Exec form: no shell, so "$HOME" stays a literal word.
    assert_eq!(root.run_image("exec", &[]), "$HOME /greeting\n");
    // Shell form: /bin/sh -c expands it and runs the list.
    assert_eq!(root.run_image("shell", &[]), "/root\nhello\n");
}

#[test]
fn arguments_replace_cmd_and_are_appended_to_the_entrypoint() {
    vessel::require_root!();
    let root = Root::new();
    root.image("cat", &[r#"ENTRYPOINT ["cat"]"#, r#"CMD ["/greeting"]"#]);
    assert_eq!(root.run_image("cat", &[]), "hello\n");
    assert_eq!(
        root.run_image("cat", &["--", "/etc/hostname", "/greeting"])
            .lines()
            .nth(1),
        Some("hello")
    );
}

#[test]
fn an_entrypoint_override_drops_the_image_cmd() {
    vessel::require_root!();
    let root = Root::new();
    root.image("cat", &[r#"ENTRYPOINT ["cat"]"#, r#"CMD ["/greeting"]"#]);
    // `echo` alone: the image's CMD (/greeting) is not passed to it.
    assert_eq!(root.run_image("cat", &["--entrypoint", "echo"]), "\n");
    assert_eq!(
        root.run_image("cat", &["--entrypoint", "echo", "--", "a", "b"]),
        "a b\n"
    );
    // An empty entrypoint resets it: the command runs alone.
    assert_eq!(
        root.run_image("cat", &["--entrypoint", "", "--", "echo", "x"]),
        "x\n"
    );
}

#[test]
fn a_shell_form_entrypoint_ignores_cmd() {
    vessel::require_root!();
    let root = Root::new();
    root.image("greet", &["ENTRYPOINT echo entry", r#"CMD ["ignored"]"#]);
    // sh -c "echo entry" ignored: CMD only becomes $0 of that shell.
    assert_eq!(root.run_image("greet", &[]), "entry\n");
    assert_eq!(
        root.run_image("greet", &["--", "also", "ignored"]),
        "entry\n"
    );
}

#[test]
fn nothing_to_run_is_refused_before_any_layer_exists() {
    vessel::require_root!();
    let root = Root::new();
    root.image("nothing", &[r#"ENTRYPOINT ["true"]"#]);
    let out = root.vessel(&["run", "--image", "nothing", "--entrypoint", ""]);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no command given"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        root.containers_dir_is_empty(),
        "a refused run left a container behind"
    );
}

#[test]
fn workdir_and_env_come_from_the_image_and_flags_override_them() {
    vessel::require_root!();
    let root = Root::new();
    root.image(
        "env",
        &[
            "WORKDIR /etc",
            "ENV GREETING=hi there",
            "CMD pwd; echo $GREETING",
        ],
    );
    assert_eq!(root.run_image("env", &[]), "/etc\nhi there\n");
    assert_eq!(
        root.run_image("env", &["-w", "/tmp", "-e", "GREETING=bye"]),
        "/tmp\nbye\n"
    );
}

#[test]
fn import_takes_changes_too_and_bad_ones_are_refused() {
    vessel::require_root!();
    let root = Root::new();
    let rootfs = root.ok(&["rootfs"]);
    let rootfs = Path::new(rootfs.lines().next().expect("rootfs prints its path"));
    root.ok(&[
        "image",
        "import",
        "--change",
        r#"CMD ["echo", "imported"]"#,
        rootfs.to_str().unwrap(),
        "imported",
    ]);
    assert_eq!(root.run_image("imported", &[]), "imported\n");

    let out = root.vessel(&[
        "image",
        "import",
        "--change",
        "RUN make",
        rootfs.to_str().unwrap(),
        "x",
    ]);
    assert_ne!(out.status.code(), Some(0));
    let message = String::from_utf8_lossy(&out.stderr);
    assert!(
        message.contains("\"RUN make\": vessel does not know this instruction"),
        "{message}"
    );
    assert!(root.ok(&["images"]).lines().all(|l| !l.starts_with("x ")));
}

#[test]
fn ps_and_inspect_show_the_command_that_runs_not_the_one_typed() {
    vessel::require_root!();
    let root = Root::new();
    root.image("svc", &[r#"ENTRYPOINT ["sleep"]"#, r#"CMD ["1000"]"#]);
    let id = root.ok(&["run", "-d", "--name", "svc", "--image", "svc"]);
    let over = root.ok(&["run", "-d", "--image", "svc", "--", "999"]);
    let ps = root.ok(&["ps"]);
    let line = |id: &str| ps.lines().find(|l| l.starts_with(id.trim())).unwrap_or("");
    assert!(line(&id).contains(" sleep 1000 "), "{ps}");
    assert!(line(&over).contains(" sleep 999 "), "{ps}");
    let inspect: serde_json::Value = serde_json::from_str(&root.ok(&["inspect", "svc"])).unwrap();
    assert_eq!(inspect["command"], serde_json::json!(["sleep", "1000"]));
    root.ok(&["rm", "-f", id.trim(), over.trim()]);
    assert!(root.containers_dir_is_empty());
}
