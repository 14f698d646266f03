//! `--change 'INSTRUCTION ARGS'`: Dockerfile instructions that set an image's config,
//! as `docker commit --change` and `docker import --change` take them.
//!
//! Four instructions change how containers start: `CMD` and `ENTRYPOINT` (shell or exec
//! form, see [`CommandForm`]), `ENV KEY=VALUE` and `WORKDIR /dir`. As in a Dockerfile,
//! setting `ENTRYPOINT` without also setting `CMD` in the same list drops the `CMD` the
//! image had: it was written for the old entrypoint.

use super::command::CommandForm;
use super::config::ImageConfig;
use super::error::ImageError;

/// One parsed `--change`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// `CMD …`
    Cmd(CommandForm),
    /// `ENTRYPOINT …`
    Entrypoint(CommandForm),
    /// `ENV KEY=VALUE` or `ENV KEY VALUE`
    Env { key: String, value: String },
    /// `WORKDIR /dir`
    Workdir(String),
}

impl Change {
    /// Parses one instruction; the keyword is case-insensitive, as in a Dockerfile.
    pub fn parse(text: &str) -> Result<Change, ImageError> {
        let bad = |reason: &str| ImageError::BadChange {
            change: text.to_owned(),
            reason: reason.to_owned(),
        };
        let trimmed = text.trim();
        let (keyword, rest) = trimmed
            .split_once(char::is_whitespace)
            .map_or((trimmed, ""), |(k, r)| (k, r.trim()));
        if rest.is_empty() {
            return Err(bad("the instruction has no argument"));
        }
        match keyword.to_ascii_uppercase().as_str() {
            "CMD" => Ok(Change::Cmd(CommandForm::parse(rest))),
            "ENTRYPOINT" => Ok(Change::Entrypoint(CommandForm::parse(rest))),
            "ENV" => {
                let (key, value) = rest
                    .split_once('=')
                    .filter(|(key, _)| !key.contains(char::is_whitespace))
                    .or_else(|| rest.split_once(char::is_whitespace))
                    .ok_or_else(|| bad("expected ENV KEY=VALUE"))?;
                if key.is_empty() {
                    return Err(bad("the variable has no name"));
                }
                Ok(Change::Env {
                    key: key.to_owned(),
                    value: value.trim_start().to_owned(),
                })
            }
            "WORKDIR" => {
                if !rest.starts_with('/') {
                    return Err(bad("the working directory must be absolute"));
                }
                Ok(Change::Workdir(rest.to_owned()))
            }
            _ => Err(bad("vessel does not know this instruction")),
        }
    }
}

/// Applies `changes` to `config` in order, as a Dockerfile would.
pub fn apply(config: &mut ImageConfig, changes: &[Change]) {
    let sets_cmd = changes.iter().any(|c| matches!(c, Change::Cmd(_)));
    for change in changes {
        match change {
            Change::Cmd(form) => config.cmd = form.clone().into_argv(),
            Change::Entrypoint(form) => {
                config.entrypoint = form.clone().into_argv();
                if !sets_cmd {
                    config.cmd.clear();
                }
            }
            Change::Env { key, value } => {
                let prefix = format!("{key}=");
                config.env.retain(|entry| !entry.starts_with(&prefix));
                config.env.push(format!("{key}={value}"));
            }
            Change::Workdir(dir) => config.working_dir = dir.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(texts: &[&str]) -> Vec<Change> {
        texts.iter().map(|t| Change::parse(t).unwrap()).collect()
    }

    #[test]
    fn instructions_set_the_config() {
        let mut config = ImageConfig::default();
        apply(
            &mut config,
            &parse_all(&[
                r#"CMD ["sleep", "5"]"#,
                "ENV GREETING=hello world",
                "env PATH /bin",
                "WORKDIR /srv",
            ]),
        );
        assert_eq!(config.cmd, ["sleep", "5"]);
        assert_eq!(config.env, ["GREETING=hello world", "PATH=/bin"]);
        assert_eq!(config.working_dir, "/srv");
    }

    #[test]
    fn an_entrypoint_alone_drops_the_old_cmd_but_not_a_new_one() {
        let mut config = ImageConfig::default();
        apply(&mut config, &parse_all(&["ENTRYPOINT top -b"]));
        assert_eq!(config.entrypoint, ["/bin/sh", "-c", "top -b"]);
        assert!(config.cmd.is_empty());

        let mut config = ImageConfig::default();
        apply(
            &mut config,
            &parse_all(&[r#"ENTRYPOINT ["echo"]"#, r#"CMD ["hi"]"#]),
        );
        assert_eq!(
            (config.entrypoint, config.cmd),
            (vec!["echo".into()], vec!["hi".into()])
        );
    }

    #[test]
    fn bad_instructions_say_why() {
        let message = |text: &str| Change::parse(text).unwrap_err().to_string();
        assert!(
            message("RUN make").contains("does not know"),
            "{}",
            message("RUN make")
        );
        assert!(message("CMD").contains("no argument"));
        assert!(message("WORKDIR srv").contains("absolute"));
        assert!(message("ENV =x").contains("no name"));
    }
}
