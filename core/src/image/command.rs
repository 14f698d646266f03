//! Which command a container runs: the image's `ENTRYPOINT` and `CMD`, and what
//! `vessel run` says instead.
//!
//! Docker stores both as plain string lists. The *form* is decided when the image is
//! made: `CMD echo hi` (shell form) is stored as `["/bin/sh", "-c", "echo hi"]`, and
//! `CMD ["echo", "hi"]` (exec form) as it is written. At run time docker only
//! concatenates — entrypoint, then command — so vessel does the same:
//!
//! | run with            | runs                                                   |
//! |---------------------|--------------------------------------------------------|
//! | nothing             | image entrypoint + image cmd                           |
//! | `-- ARGS`           | image entrypoint + ARGS (ARGS replace `CMD`)            |
//! | `--entrypoint E`    | E (the image's `CMD` is dropped, as docker drops it)   |
//! | `--entrypoint E -- ARGS` | E + ARGS                                          |
//! | `--entrypoint ""`   | ARGS alone (the entrypoint is reset)                   |
//!
//! A shell-form `ENTRYPOINT` therefore "ignores" `CMD`, as docker's table says: the
//! command lands after `sh -c STRING`, where the shell only sees it as `$0`, `$1`, ….

/// Prefix of the shell form: docker's default `SHELL` on Linux.
pub const SHELL_FORM: [&str; 2] = ["/bin/sh", "-c"];

/// How an instruction's argument was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandForm {
    /// `["executable", "arg", …]`: run as written, no shell in between.
    Exec(Vec<String>),
    /// `executable arg …`: one string, run by `/bin/sh -c`.
    Shell(String),
}

impl CommandForm {
    /// Reads an instruction's argument as docker does: a JSON array of strings is the
    /// exec form, anything else the shell form.
    pub fn parse(text: &str) -> CommandForm {
        let text = text.trim();
        match serde_json::from_str::<Vec<String>>(text) {
            Ok(argv) if text.starts_with('[') => CommandForm::Exec(argv),
            _ => CommandForm::Shell(text.to_owned()),
        }
    }

    /// The string list an image stores for it.
    pub fn into_argv(self) -> Vec<String> {
        match self {
            CommandForm::Exec(argv) => argv,
            CommandForm::Shell(line) => SHELL_FORM
                .iter()
                .map(|s| (*s).to_owned())
                .chain(std::iter::once(line))
                .collect(),
        }
    }
}

// ANCHOR: resolve
/// The argv a container starts with: the entrypoint (the image's, or `--entrypoint`'s)
/// followed by `command`, or by the image's `CMD` when no command was given and the
/// entrypoint was not overridden. Empty when there is nothing to run.
pub fn resolve(
    image_entrypoint: &[String],
    image_cmd: &[String],
    entrypoint: Option<&str>,
    command: &[String],
) -> Vec<String> {
    let (entrypoint, default_cmd): (Vec<String>, &[String]) = match entrypoint {
        None => (image_entrypoint.to_vec(), image_cmd),
        // `--entrypoint ""` resets it; either way the image's CMD no longer applies.
        Some("") => (Vec::new(), &[]),
        Some(program) => (vec![program.to_owned()], &[]),
    };
    let tail = if command.is_empty() {
        default_cmd
    } else {
        command
    };
    entrypoint.into_iter().chain(tail.iter().cloned()).collect()
}
// ANCHOR_END: resolve

#[cfg(test)]
mod tests {
    use super::*;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    fn stored(text: &str) -> Vec<String> {
        CommandForm::parse(text).into_argv()
    }

    /// Docker's table "Understand how CMD and ENTRYPOINT interact", row by row, with
    /// instructions written as in a Dockerfile.
    #[test]
    fn docker_entrypoint_cmd_table() {
        let no = Vec::new();
        let entry_shell = stored("exec_entry p1_entry");
        let entry_exec = stored(r#"["exec_entry", "p1_entry"]"#);
        let cmd_exec = stored(r#"["exec_cmd", "p1_cmd"]"#);
        let cmd_shell = stored("exec_cmd p1_cmd");
        let run = |entry: &[String], cmd: &[String]| resolve(entry, cmd, None, &[]);

        // No CMD: no entrypoint is an error (nothing to run).
        assert!(run(&no, &no).is_empty());
        assert_eq!(
            run(&entry_shell, &no),
            v(&["/bin/sh", "-c", "exec_entry p1_entry"])
        );
        assert_eq!(run(&entry_exec, &no), v(&["exec_entry", "p1_entry"]));

        // CMD in exec form.
        assert_eq!(run(&no, &cmd_exec), v(&["exec_cmd", "p1_cmd"]));
        // The shell form's `sh -c STRING` runs STRING; CMD only becomes $0 and $1.
        assert_eq!(
            run(&entry_shell, &cmd_exec),
            v(&["/bin/sh", "-c", "exec_entry p1_entry", "exec_cmd", "p1_cmd"])
        );
        assert_eq!(
            run(&entry_exec, &cmd_exec),
            v(&["exec_entry", "p1_entry", "exec_cmd", "p1_cmd"])
        );

        // CMD in shell form.
        assert_eq!(
            run(&no, &cmd_shell),
            v(&["/bin/sh", "-c", "exec_cmd p1_cmd"])
        );
        assert_eq!(
            run(&entry_shell, &cmd_shell),
            v(&[
                "/bin/sh",
                "-c",
                "exec_entry p1_entry",
                "/bin/sh",
                "-c",
                "exec_cmd p1_cmd"
            ])
        );
        assert_eq!(
            run(&entry_exec, &cmd_shell),
            v(&["exec_entry", "p1_entry", "/bin/sh", "-c", "exec_cmd p1_cmd"])
        );
    }

    #[test]
    fn run_arguments_replace_cmd_and_keep_the_entrypoint() {
        let entry = v(&["/bin/env"]);
        let cmd = v(&["sh"]);
        assert_eq!(
            resolve(&entry, &cmd, None, &v(&["ls"])),
            v(&["/bin/env", "ls"])
        );
        assert_eq!(resolve(&[], &cmd, None, &v(&["ls", "/"])), v(&["ls", "/"]));
    }

    #[test]
    fn an_entrypoint_override_drops_the_image_cmd() {
        let entry = v(&["/bin/env"]);
        let cmd = v(&["sh"]);
        assert_eq!(
            resolve(&entry, &cmd, Some("/bin/echo"), &[]),
            v(&["/bin/echo"])
        );
        assert_eq!(
            resolve(&entry, &cmd, Some("/bin/echo"), &v(&["hi"])),
            v(&["/bin/echo", "hi"])
        );
        // An empty override resets the entrypoint: only the given command is left.
        assert_eq!(resolve(&entry, &cmd, Some(""), &v(&["ls"])), v(&["ls"]));
        assert!(resolve(&entry, &cmd, Some(""), &[]).is_empty());
    }

    #[test]
    fn the_form_is_json_or_a_shell_line() {
        assert_eq!(
            CommandForm::parse(r#" ["sh", "-c", "echo $HOME"] "#),
            CommandForm::Exec(v(&["sh", "-c", "echo $HOME"]))
        );
        // Not valid JSON (single quotes): docker treats it as the shell form.
        assert_eq!(
            CommandForm::parse("['sh']"),
            CommandForm::Shell("['sh']".into())
        );
        assert_eq!(
            CommandForm::parse("sleep 10"),
            CommandForm::Shell("sleep 10".into())
        );
        assert_eq!(stored("sleep 10"), v(&["/bin/sh", "-c", "sleep 10"]));
    }
}
