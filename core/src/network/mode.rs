//! `--network`: docker's four modes, and user networks by name.

use super::store::DEFAULT_NETWORK;

/// How a container is networked: docker's four modes, and user networks by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkMode {
    /// A new network namespace holding only `lo` (up).
    None,
    /// The host's network namespace.
    Host,
    /// A new network namespace wired to network NAME's bridge (`bridge`: the default).
    Bridge(String),
    /// The network namespace of the running container NAME or ID.
    Container(String),
}

impl std::str::FromStr for NetworkMode {
    type Err = String;

    fn from_str(text: &str) -> Result<NetworkMode, String> {
        Ok(match text {
            "none" => NetworkMode::None,
            "host" => NetworkMode::Host,
            "" => {
                return Err(
                    "--network: empty (use bridge, host, none, container:NAME or a network's name)"
                        .to_owned(),
                );
            }
            _ => match text.strip_prefix("container:") {
                Some("") => {
                    return Err("--network container: needs a container's name or id".to_owned());
                }
                Some(target) => NetworkMode::Container(target.to_owned()),
                None if text.contains(['/', ':']) || text.starts_with('.') => {
                    return Err(format!(
                        "--network {text:?}: not a mode or network name (use bridge, host, none, container:NAME or NAME)"
                    ));
                }
                None => NetworkMode::Bridge(text.to_owned()),
            },
        })
    }
}

impl std::fmt::Display for NetworkMode {
    /// As `--network` spells it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NetworkMode::None => f.write_str("none"),
            NetworkMode::Host => f.write_str("host"),
            NetworkMode::Bridge(name) => f.write_str(name),
            NetworkMode::Container(target) => write!(f, "container:{target}"),
        }
    }
}

impl NetworkMode {
    /// The default: docker's bridge network.
    pub fn default_bridge() -> NetworkMode {
        NetworkMode::Bridge(DEFAULT_NETWORK.to_owned())
    }
}
