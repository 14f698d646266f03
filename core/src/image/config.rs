//! What an image is: its layers, bottom first, how its containers start, and the
//! history of the steps that made it.
//!
//! The config is stored in the shape of the OCI image config's `config` object
//! (`Env`, `Cmd`, `Entrypoint`, `WorkingDir`, `User`, `ExposedPorts`, `Labels`,
//! `Volumes`; the last two of the Go `map[string]struct{}` kind written as
//! `{"80/tcp": {}}`), and the history in the shape of its `history` array, so a docker
//! or OCI config maps onto it field by field ([`ImageConfig::from_oci`],
//! [`ImageConfig::to_oci`]). Records written before these fields existed (`env`, `cwd`,
//! `entrypoint`, `cmd` in lower case, no history) still read.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::layers::Digest;

// ANCHOR: image_config
/// How a container made from an image starts, unless `vessel run` says otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageConfig {
    /// `KEY=VALUE` environment entries (docker's `ENV`).
    #[serde(default, alias = "env", deserialize_with = "null_as_default")]
    pub env: Vec<String>,
    /// Working directory (docker's `WORKDIR`); empty means `/`.
    #[serde(default = "root_dir", alias = "cwd", deserialize_with = "null_as_root")]
    pub working_dir: String,
    /// Prepended to the command (docker's `ENTRYPOINT`).
    #[serde(default, alias = "entrypoint", deserialize_with = "null_as_default")]
    pub entrypoint: Vec<String>,
    /// The command when `vessel run` gives none (docker's `CMD`).
    #[serde(default, alias = "cmd", deserialize_with = "null_as_default")]
    pub cmd: Vec<String>,
    /// Who the process runs as (docker's `USER`: `name`, `uid`, `name:group`,
    /// `uid:gid`); empty means root.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub user: String,
    /// Ports the image says it listens on, as `PORT/PROTO` (docker's `EXPOSE`).
    #[serde(
        default,
        deserialize_with = "go_set",
        serialize_with = "as_go_set",
        skip_serializing_if = "BTreeSet::is_empty"
    )]
    pub exposed_ports: BTreeSet<String>,
    /// Free-form metadata (docker's `LABEL`).
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub labels: BTreeMap<String, String>,
    /// Directories that get a fresh anonymous volume in each container (docker's
    /// `VOLUME`).
    #[serde(
        default,
        deserialize_with = "go_set",
        serialize_with = "as_go_set",
        skip_serializing_if = "BTreeSet::is_empty"
    )]
    pub volumes: BTreeSet<String>,
}
// ANCHOR_END: image_config

fn root_dir() -> String {
    "/".to_owned()
}

impl Default for ImageConfig {
    fn default() -> Self {
        ImageConfig {
            env: vec![format!("PATH={}", crate::rootfs::DEFAULT_PATH)],
            working_dir: root_dir(),
            entrypoint: Vec::new(),
            cmd: vec!["/bin/sh".to_owned()],
            user: String::new(),
            exposed_ports: BTreeSet::new(),
            labels: BTreeMap::new(),
            volumes: BTreeSet::new(),
        }
    }
}

impl ImageConfig {
    /// A config with nothing set, as `FROM scratch` starts (docker gives it no `PATH`
    /// either; the runtime adds one at run time).
    pub fn empty() -> ImageConfig {
        ImageConfig {
            env: Vec::new(),
            cmd: Vec::new(),
            ..ImageConfig::default()
        }
    }

    /// The command line to run: see [`super::command::resolve`].
    pub fn argv(&self, entrypoint: Option<&str>, command: &[String]) -> Vec<String> {
        super::command::resolve(&self.entrypoint, &self.cmd, entrypoint, command)
    }

    /// The working directory to start in: `/` when the image sets none.
    pub fn working_dir(&self) -> &str {
        if self.working_dir.is_empty() {
            "/"
        } else {
            &self.working_dir
        }
    }

    /// The value of environment variable `key`, if the image sets it.
    pub fn env_var(&self, key: &str) -> Option<&str> {
        self.env.iter().rev().find_map(|entry| {
            entry
                .strip_prefix(key)
                .and_then(|rest| rest.strip_prefix('='))
        })
    }

    /// Sets `key=value`, replacing an earlier value of `key` (docker's `ENV`).
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env
            .retain(|entry| entry.split_once('=').map_or(entry.as_str(), |(k, _)| k) != key);
        self.env.push(format!("{key}={value}"));
    }

    /// Reads the `config` object of an OCI (or docker) image config. Fields vessel does
    /// not apply (`StopSignal`, docker's `Healthcheck`, …) are dropped.
    pub fn from_oci(config: &oci_spec::image::Config) -> ImageConfig {
        ImageConfig {
            env: config.env().clone().unwrap_or_default(),
            working_dir: config
                .working_dir()
                .clone()
                .filter(|dir| !dir.is_empty())
                .unwrap_or_else(root_dir),
            entrypoint: config.entrypoint().clone().unwrap_or_default(),
            cmd: config.cmd().clone().unwrap_or_default(),
            user: config.user().clone().unwrap_or_default(),
            exposed_ports: config.exposed_ports().iter().flatten().cloned().collect(),
            labels: config
                .labels()
                .iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            volumes: config.volumes().iter().flatten().cloned().collect(),
        }
    }

    /// The `config` object of an OCI image config; empty fields are left out.
    pub fn to_oci(&self) -> oci_spec::image::Config {
        let mut config = oci_spec::image::Config::default();
        let some_vec = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
        config.set_env(some_vec(&self.env));
        config.set_entrypoint(some_vec(&self.entrypoint));
        config.set_cmd(some_vec(&self.cmd));
        config.set_working_dir(
            (!self.working_dir.is_empty() && self.working_dir != "/")
                .then(|| self.working_dir.clone()),
        );
        config.set_user((!self.user.is_empty()).then(|| self.user.clone()));
        config.set_exposed_ports(
            (!self.exposed_ports.is_empty()).then(|| self.exposed_ports.iter().cloned().collect()),
        );
        config.set_volumes(
            (!self.volumes.is_empty()).then(|| self.volumes.iter().cloned().collect()),
        );
        config.set_labels((!self.labels.is_empty()).then(|| {
            self.labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        }));
        config
    }
}

// ANCHOR: history
/// One step in an image's making, as the OCI config's `history` lists them: the
/// instruction and whether it added a layer. Steps with `empty_layer` false match the
/// image's layers one for one, bottom first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// When (RFC 3339), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// The instruction that made it, e.g. `RUN /bin/sh -c make` or `COPY file:… in /`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub created_by: String,
    /// A free-form note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// True for a step that changed only the config (`ENV`, `CMD`, …) and added no layer.
    #[serde(default, deserialize_with = "null_as_default")]
    pub empty_layer: bool,
}
// ANCHOR_END: history

impl HistoryEntry {
    /// A step that added a layer.
    pub fn layer(created_by: impl Into<String>) -> HistoryEntry {
        HistoryEntry {
            created: Some(rfc3339(super::now())),
            created_by: created_by.into(),
            comment: None,
            empty_layer: false,
        }
    }

    /// A step that changed only the config.
    pub fn config_only(created_by: impl Into<String>) -> HistoryEntry {
        HistoryEntry {
            empty_layer: true,
            ..HistoryEntry::layer(created_by)
        }
    }

    /// Reads one entry of an OCI config's `history`.
    pub fn from_oci(history: &oci_spec::image::History) -> HistoryEntry {
        HistoryEntry {
            created: history.created().clone(),
            created_by: history.created_by().clone().unwrap_or_default(),
            comment: history.comment().clone(),
            empty_layer: history.empty_layer().unwrap_or(false),
        }
    }

    /// One entry of an OCI config's `history`.
    pub fn to_oci(&self) -> oci_spec::image::History {
        let mut history = oci_spec::image::History::default();
        history.set_created(self.created.clone());
        history.set_created_by(Some(self.created_by.clone()));
        history.set_comment(self.comment.clone());
        history.set_empty_layer(self.empty_layer.then_some(true));
        history
    }
}

/// A named image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    /// Its name in the store.
    pub name: String,
    /// Its layers, bottom first (each the sha256 of its uncompressed tar, which is also
    /// its OCI `diff_id`).
    pub layers: Vec<Digest>,
    /// How its containers start.
    pub config: ImageConfig,
    /// When it was made (seconds since the epoch).
    pub created: u64,
    /// The steps that made it, oldest first; empty for images stored before vessel kept
    /// history (see [`Image::layer_history`]).
    #[serde(default, deserialize_with = "null_as_default")]
    pub history: Vec<HistoryEntry>,
}

impl Image {
    /// Each history step with the layer it added (`None` for a config-only step),
    /// oldest first. When the history does not account for every layer (an image stored
    /// before history was kept, or a config that lists too few steps), the layers left
    /// over get an entry with an empty `created_by`, so every layer is listed once.
    pub fn layer_history(&self) -> Vec<(HistoryEntry, Option<Digest>)> {
        let mut layers = self.layers.iter();
        let mut steps: Vec<(HistoryEntry, Option<Digest>)> = self
            .history
            .iter()
            .map(|entry| {
                let layer = if entry.empty_layer {
                    None
                } else {
                    layers.next().cloned()
                };
                (entry.clone(), layer)
            })
            .collect();
        steps.extend(layers.map(|digest| (HistoryEntry::default(), Some(digest.clone()))));
        steps
    }

    /// `history` with an unnamed layer step added for each of `layers` it does not
    /// account for, so that a step appended next matches the layer appended next.
    pub fn history_covering(
        mut history: Vec<HistoryEntry>,
        layers: &[Digest],
    ) -> Vec<HistoryEntry> {
        let counted = history.iter().filter(|h| !h.empty_layer).count();
        for _ in counted..layers.len() {
            history.push(HistoryEntry::default());
        }
        history
    }

    /// The OCI image config of this image (`rootfs.diff_ids` are its layer digests).
    pub fn to_oci(&self) -> oci_spec::image::ImageConfiguration {
        let mut oci = oci_spec::image::ImageConfiguration::default();
        oci.set_created(Some(rfc3339(self.created)));
        oci.set_architecture(oci_spec::image::Arch::default());
        oci.set_os(oci_spec::image::Os::Linux);
        oci.set_config(Some(self.config.to_oci()));
        let mut rootfs = oci_spec::image::RootFs::default();
        rootfs.set_diff_ids(self.layers.iter().map(|d| d.to_string()).collect());
        oci.set_rootfs(rootfs);
        oci.set_history(
            (!self.history.is_empty())
                .then(|| self.history.iter().map(HistoryEntry::to_oci).collect()),
        );
        oci
    }
}

/// Seconds since the epoch as an RFC 3339 UTC time (`2026-12-04T17:15:00Z`).
pub fn rfc3339(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days, for days since 1970-01-01.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Docker writes `null` for an unset list or map; read it as empty.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

fn null_as_root<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?
        .filter(|dir| !dir.is_empty())
        .unwrap_or_else(root_dir))
}

/// A Go `map[string]struct{}` (`{"80/tcp": {}}`) read as a set of its keys.
fn go_set<'de, D: Deserializer<'de>>(deserializer: D) -> Result<BTreeSet<String>, D::Error> {
    let map = Option::<BTreeMap<String, serde::de::IgnoredAny>>::deserialize(deserializer)?;
    Ok(map.unwrap_or_default().into_keys().collect())
}

fn as_go_set<S: Serializer>(set: &BTreeSet<String>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_map(set.iter().map(|key| (key, BTreeMap::<String, ()>::new())))
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn records_written_before_the_oci_fields_still_read() {
        let old = r#"{"name":"app","layers":[],"created":5,
            "config":{"env":["A=1"],"cwd":"/srv","entrypoint":["/e"],"cmd":["c"]}}"#;
        let image: Image = serde_json::from_str(old).unwrap();
        assert_eq!(image.config.env, ["A=1"]);
        assert_eq!(image.config.working_dir, "/srv");
        assert_eq!(image.config.entrypoint, ["/e"]);
        assert_eq!(image.config.cmd, ["c"]);
        assert!(image.config.user.is_empty() && image.history.is_empty());
        // And the oldest, with no cwd at all, starts in `/`.
        let oldest: ImageConfig = serde_json::from_str(r#"{"env":[]}"#).unwrap();
        assert_eq!(oldest.working_dir, "/");
    }

    #[test]
    fn the_config_is_written_and_read_as_the_oci_config_object() {
        let mut config = ImageConfig::empty();
        config.user = "app:staff".into();
        config.exposed_ports.insert("80/tcp".into());
        config.volumes.insert("/data".into());
        config.labels.insert("a".into(), "b".into());
        config.working_dir = "/srv".into();
        let ours = serde_json::to_value(&config).unwrap();
        assert_eq!(ours["ExposedPorts"], serde_json::json!({"80/tcp": {}}));
        assert_eq!(ours["Volumes"], serde_json::json!({"/data": {}}));
        assert_eq!(ours["User"], "app:staff");
        assert_eq!(ours["WorkingDir"], "/srv");
        // oci-spec reads what vessel writes, and vessel reads what oci-spec writes.
        let oci: oci_spec::image::Config = serde_json::from_value(ours).unwrap();
        assert_eq!(ImageConfig::from_oci(&oci), config);
        let back: ImageConfig =
            serde_json::from_value(serde_json::to_value(config.to_oci()).unwrap()).unwrap();
        assert_eq!(back, config);
    }

    #[test]
    fn docker_nulls_read_as_empty() {
        let docker = r#"{"Env":null,"Cmd":null,"Entrypoint":null,"WorkingDir":"",
            "Labels":null,"Volumes":null,"ExposedPorts":null,"User":""}"#;
        let config: ImageConfig = serde_json::from_str(docker).unwrap();
        assert!(config.env.is_empty() && config.cmd.is_empty() && config.labels.is_empty());
        assert_eq!(config.working_dir(), "/");
    }

    #[test]
    fn history_pairs_steps_with_layers() {
        let d = |c: char| Digest::parse(&c.to_string().repeat(64)).unwrap();
        let image = Image {
            name: "x".into(),
            layers: vec![d('a'), d('b'), d('c')],
            config: ImageConfig::default(),
            created: 0,
            history: vec![
                HistoryEntry::layer("FROM"),
                HistoryEntry::config_only("ENV A=1"),
                HistoryEntry::layer("RUN x"),
            ],
        };
        let steps = image.layer_history();
        let layers: Vec<_> = steps.iter().map(|(_, l)| l.clone()).collect();
        assert_eq!(layers, [Some(d('a')), None, Some(d('b')), Some(d('c'))]);
        assert_eq!(steps[3].0.created_by, "");
    }

    #[test]
    fn times_are_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_796_404_500), "2026-12-04T17:15:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}
