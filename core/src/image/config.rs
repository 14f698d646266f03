//! What an image is: its layers, bottom first, and how its containers start.

use crate::layers::Digest;

/// How a container made from an image starts, unless `vessel run` says otherwise.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImageConfig {
    /// `KEY=VALUE` environment entries.
    #[serde(default)]
    pub env: Vec<String>,
    /// Working directory.
    #[serde(default = "root_dir")]
    pub cwd: String,
    /// Prepended to the command (docker's `ENTRYPOINT`).
    #[serde(default)]
    pub entrypoint: Vec<String>,
    /// The command when `vessel run` gives none (docker's `CMD`).
    #[serde(default)]
    pub cmd: Vec<String>,
}

fn root_dir() -> String {
    "/".to_owned()
}

impl Default for ImageConfig {
    fn default() -> Self {
        ImageConfig {
            env: vec![format!("PATH={}", crate::spec::DEFAULT_PATH)],
            cwd: root_dir(),
            entrypoint: Vec::new(),
            cmd: vec!["/bin/sh".to_owned()],
        }
    }
}

impl ImageConfig {
    /// The command line to run: see [`super::command::resolve`].
    pub fn argv(&self, entrypoint: Option<&str>, command: &[String]) -> Vec<String> {
        super::command::resolve(&self.entrypoint, &self.cmd, entrypoint, command)
    }
}

/// A named image.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Image {
    /// Its name in the store.
    pub name: String,
    /// Its layers, bottom first.
    pub layers: Vec<Digest>,
    /// How its containers start.
    pub config: ImageConfig,
    /// When it was made (seconds since the epoch).
    pub created: u64,
}

#[cfg(test)]
mod tests {
    use super::ImageConfig;

    #[test]
    fn a_command_replaces_cmd_but_keeps_the_entrypoint() {
        let config = ImageConfig {
            entrypoint: vec!["/bin/env".into()],
            cmd: vec!["sh".into()],
            ..ImageConfig::default()
        };
        assert_eq!(config.argv(None, &[]), ["/bin/env", "sh"]);
        assert_eq!(config.argv(None, &["ls".into()]), ["/bin/env", "ls"]);
    }
}
