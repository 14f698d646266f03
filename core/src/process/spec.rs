//! What to run: the description a caller fills in before anything touches the kernel.

use std::path::PathBuf;

use crate::cgroups::{CgroupSpec, DeviceNode, DeviceRules};
use crate::layers::OverlayRootfs;
use crate::namespaces::Namespaces;
use crate::namespaces::time::TimeOffsets;
use crate::namespaces::user::IdMapping;
use crate::rootfs::tmpfs::TmpfsMount;
use crate::rootfs::volume::Volume;
use crate::security::capabilities::Capabilities;
use crate::security::process::ProcessSecurity;
use crate::tty::console::TerminalRequest;

/// How the child enters its root filesystem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RootfsMode {
    /// `pivot_root` into the rootfs and detach the old root: nothing of the host's
    /// filesystem stays reachable. What every real runtime does.
    #[default]
    PivotRoot,
    /// `chroot` into the rootfs. Only the *path lookup* root changes; the old root is still
    /// mounted and a root process can climb back out. Kept so the lesson can show that.
    Chroot,
}

pub use crate::rootfs::DEFAULT_PATH;

/// Everything needed to start one container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerSpec {
    /// Host directory that becomes the container's `/`.
    pub rootfs: PathBuf,
    /// The command and its arguments. A name without `/` is looked up in `PATH` inside the
    /// container.
    pub argv: Vec<String>,
    /// `KEY=VALUE` pairs, exactly as the process will see them.
    pub env: Vec<String>,
    /// Working directory inside the container (absolute).
    pub cwd: PathBuf,
    /// Hostname to set; needs a UTS namespace.
    pub hostname: Option<String>,
    /// Which namespaces to create.
    pub namespaces: Namespaces,
    /// `pivot_root` (the real thing) or `chroot` (the lesson's counter-example).
    pub rootfs_mode: RootfsMode,
    /// Record when each start-up stage ends ([`crate::process::container::Running::start_trace`]). Costs
    /// nothing when false: no pipe, no clock reads.
    pub trace_start: bool,
    /// The container's cgroup and its limits; `None` leaves the container in the
    /// caller's cgroups, unlimited and uncounted.
    pub cgroup: Option<CgroupSpec>,
    /// uid/gid maps for a user namespace; `None` picks [`IdMapping::for_caller`].
    /// Only used when `namespaces` has [`Namespace::User`](crate::namespaces::Namespace::User).
    pub id_mapping: Option<IdMapping>,
    /// Clock offsets for a time namespace; only used when `namespaces` has
    /// [`Namespace::Time`](crate::namespaces::Namespace::Time).
    pub time_offsets: TimeOffsets,
    /// Image layers to mount with overlayfs at `rootfs` (which is then the empty merged
    /// directory); `None` uses `rootfs` as a plain directory.
    pub overlay: Option<OverlayRootfs>,
    /// Host paths bind-mounted into the container (`-v HOST:CTR[:ro]`).
    pub volumes: Vec<Volume>,
    /// A terminal of the container's own as stdin, stdout, stderr and controlling
    /// terminal (`vessel run -t`); its master is sent back over the request's socket.
    pub terminal: Option<TerminalRequest>,
    /// The capability sets the command starts with: docker's 14 by default; `None`
    /// keeps every capability the child has (`--privileged`).
    pub capabilities: Option<Capabilities>,
    /// The devices the container may create and open (the device cgroup): docker's
    /// allow-list by default; `None` allows every device (`--privileged`). Applied when
    /// vessel runs as root, in the spec's cgroup or, without one, in a cgroup made for
    /// the purpose; rootless, the user namespace already refuses device nodes.
    pub devices: Option<DeviceRules>,
    /// Host devices made in the container's `/dev` (`--device`); each one's rule is in
    /// `devices` too (see [`ContainerSpec::device`]).
    pub device_nodes: Vec<DeviceNode>,
    /// seccomp, `no_new_privs`, the session keyring, passed descriptors, rlimits and
    /// sysctls: docker's defaults unless changed (see [`ProcessSecurity`]).
    pub process_security: ProcessSecurity,
    // Filesystem hardening (see crate::security): docker's defaults unless privileged.
    /// Paths hidden from the container: an empty read-only tmpfs over a directory,
    /// `/dev/null` over a file. docker's list by default; empty when privileged.
    pub masked_paths: Vec<PathBuf>,
    /// Paths bound read-only onto themselves (`/proc/sys`, …). docker's list by
    /// default; empty when privileged.
    pub readonly_paths: Vec<PathBuf>,
    /// Mount the root read-only (`--read-only`, OCI `root.readonly`): writable only
    /// where a volume, a tmpfs, `/dev` or `/proc` is mounted.
    pub read_only_root: bool,
    /// `--tmpfs PATH[:OPTIONS]` mounts.
    pub tmpfs: Vec<TmpfsMount>,
    /// Existing namespaces to join by path instead of creating them (an OCI bundle's
    /// `linux.namespaces[].path`: podman's network namespace): network, IPC or UTS.
    pub join_namespaces: Vec<(crate::namespaces::Namespace, PathBuf)>,
    /// Bridge mode: the veth pair, address and route the parent makes while the child
    /// waits on its go pipe (see [`crate::network`]); needs [`Namespace::Network`].
    pub network: Option<crate::network::Attachment>,
    /// OCI `createContainer` and `startContainer` hooks, run by the child itself.
    pub hooks: crate::process::hooks::InContainerHooks,
}

impl ContainerSpec {
    /// A spec with vessel's defaults: the default namespaces, `pivot_root`, cwd `/`,
    /// `PATH`/`HOME` set, and docker's default capabilities.
    pub fn new<I, S>(rootfs: impl Into<PathBuf>, argv: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ContainerSpec {
            rootfs: rootfs.into(),
            argv: argv.into_iter().map(Into::into).collect(),
            env: vec![format!("PATH={DEFAULT_PATH}"), "HOME=/root".to_owned()],
            cwd: PathBuf::from("/"),
            hostname: None,
            namespaces: Namespaces::container_default(),
            rootfs_mode: RootfsMode::PivotRoot,
            trace_start: false,
            cgroup: None,
            id_mapping: None,
            time_offsets: TimeOffsets::default(),
            overlay: None,
            volumes: Vec::new(),
            terminal: None,
            capabilities: Some(Capabilities::docker_default()),
            devices: Some(DeviceRules::docker_default()),
            device_nodes: Vec::new(),
            process_security: ProcessSecurity::default(),
            masked_paths: crate::security::default_masked_paths(),
            readonly_paths: crate::security::default_readonly_paths(),
            read_only_root: false,
            tmpfs: Vec::new(),
            join_namespaces: Vec::new(),
            network: None,
            hooks: crate::process::hooks::InContainerHooks::default(),
        }
    }

    /// Mounts `overlay`'s layers at the rootfs path, which must be an empty directory.
    #[must_use]
    pub fn overlay(mut self, overlay: OverlayRootfs) -> Self {
        self.overlay = Some(overlay);
        self
    }

    /// Adds a volume.
    #[must_use]
    pub fn volume(mut self, volume: Volume) -> Self {
        self.volumes.push(volume);
        self
    }

    /// Sets the hostname.
    #[must_use]
    pub fn hostname(mut self, name: impl Into<String>) -> Self {
        self.hostname = Some(name.into());
        self
    }

    /// Adds or replaces one `KEY=VALUE` environment entry.
    #[must_use]
    pub fn env(mut self, entry: impl Into<String>) -> Self {
        let entry = entry.into();
        let key = entry.split('=').next().unwrap_or_default().to_owned();
        self.env
            .retain(|e| e.split('=').next() != Some(key.as_str()));
        self.env.push(entry);
        self
    }

    /// Sets the working directory.
    #[must_use]
    pub fn cwd(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = dir.into();
        self
    }

    /// Sets the namespaces to create.
    #[must_use]
    pub fn namespaces(mut self, namespaces: Namespaces) -> Self {
        self.namespaces = namespaces;
        self
    }

    /// Sets the uid/gid maps of the user namespace (and adds a user namespace).
    #[must_use]
    pub fn id_mapping(mut self, mapping: IdMapping) -> Self {
        self.namespaces = self.namespaces.with(crate::namespaces::Namespace::User);
        self.id_mapping = Some(mapping);
        self
    }

    /// Sets the clock offsets of the time namespace (and adds a time namespace).
    #[must_use]
    pub fn time_offsets(mut self, offsets: TimeOffsets) -> Self {
        self.namespaces = self.namespaces.with(crate::namespaces::Namespace::Time);
        self.time_offsets = offsets;
        self
    }

    /// The id maps the user namespace gets: the spec's own, or the caller's default.
    pub fn effective_id_mapping(&self) -> IdMapping {
        self.id_mapping
            .clone()
            .unwrap_or_else(IdMapping::for_caller)
    }

    /// Gives the container its own cgroup with these limits.
    #[must_use]
    pub fn cgroup(mut self, cgroup: CgroupSpec) -> Self {
        self.cgroup = Some(cgroup);
        self
    }

    /// Sets the capability sets; `None` keeps them all (`--privileged`).
    #[must_use]
    pub fn capabilities(mut self, capabilities: Option<Capabilities>) -> Self {
        self.capabilities = capabilities;
        self
    }

    /// Everything off, as `--privileged`: every capability vessel has, and no seccomp
    /// filter.
    #[must_use]
    pub fn privileged(mut self) -> Self {
        self.capabilities = None;
        self.process_security.seccomp = crate::security::Seccomp::Unconfined;
        self
    }

    /// Keeps `extra` as well as the capabilities already set (`--cap-add`); a
    /// privileged spec keeps everything anyway.
    #[must_use]
    pub fn add_capabilities(mut self, extra: crate::security::capabilities::CapSet) -> Self {
        self.capabilities = self.capabilities.map(|caps| caps.adding(extra));
        self
    }

    /// Sets the device allow-list; `None` allows every device (`--privileged`).
    #[must_use]
    pub fn devices(mut self, devices: Option<DeviceRules>) -> Self {
        self.devices = devices;
        self
    }

    /// Gives the container the host device `node` (`--device`): the node in its `/dev`,
    /// and its rule in the allow-list (a privileged spec allows every device anyway).
    #[must_use]
    pub fn device(mut self, node: DeviceNode) -> Self {
        self.devices = self.devices.map(|rules| rules.allow(node.rule()));
        self.device_nodes.push(node);
        self
    }

    /// No masked and no read-only paths (part of `--privileged`).
    #[must_use]
    pub fn without_path_hardening(mut self) -> Self {
        self.masked_paths.clear();
        self.readonly_paths.clear();
        self
    }

    /// Mounts the root read-only (`--read-only`).
    #[must_use]
    pub fn read_only_root(mut self, read_only: bool) -> Self {
        self.read_only_root = read_only;
        self
    }

    /// Adds a `--tmpfs` mount.
    #[must_use]
    pub fn tmpfs(mut self, mount: TmpfsMount) -> Self {
        self.tmpfs.push(mount);
        self
    }

    /// Records the start-up stages (see [`crate::process::trace`]).
    #[must_use]
    pub fn trace_start(mut self, trace: bool) -> Self {
        self.trace_start = trace;
        self
    }

    /// Chooses `pivot_root` or `chroot`.
    #[must_use]
    pub fn rootfs_mode(mut self, mode: RootfsMode) -> Self {
        self.rootfs_mode = mode;
        self
    }

    /// The first environment entry that is not `KEY=VALUE` with a non-empty `KEY`
    /// (`-e =x`, `-e FOO`): execve would pass it on, but no program could read it back.
    pub fn invalid_env_entry(&self) -> Option<&str> {
        self.env
            .iter()
            .find(|e| e.split_once('=').is_none_or(|(key, _)| key.is_empty()))
            .map(String::as_str)
    }

    /// The `PATH` the command is looked up in: the spec's own, or [`DEFAULT_PATH`].
    pub fn search_path(&self) -> &str {
        self.env
            .iter()
            .rev()
            .find_map(|e| e.strip_prefix("PATH="))
            .unwrap_or(DEFAULT_PATH)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_replaces_an_existing_key() {
        let spec = ContainerSpec::new("/r", ["sh"]).env("PATH=/bin").env("A=1");
        assert_eq!(spec.env, ["HOME=/root", "PATH=/bin", "A=1"]);
        assert_eq!(spec.search_path(), "/bin");
    }

    #[test]
    fn an_env_entry_needs_a_key_and_an_equals_sign() {
        let with = |entry: &str| ContainerSpec::new("/r", ["sh"]).env(entry);
        assert_eq!(with("A=").invalid_env_entry(), None);
        assert_eq!(with("A==b").invalid_env_entry(), None);
        assert_eq!(with("=x").invalid_env_entry(), Some("=x"));
        assert_eq!(with("=").invalid_env_entry(), Some("="));
        assert_eq!(with("A").invalid_env_entry(), Some("A"));
    }

    #[test]
    fn the_defaults_are_dockers_and_privileged_has_none() {
        let spec = ContainerSpec::new("/r", ["sh"]);
        assert!(spec.readonly_paths.contains(&PathBuf::from("/proc/sys")));
        assert!(spec.masked_paths.contains(&PathBuf::from("/proc/kcore")));
        assert!(spec.masked_paths.contains(&PathBuf::from("/sys/firmware")));
        let privileged = spec.without_path_hardening();
        assert!(privileged.readonly_paths.is_empty() && privileged.masked_paths.is_empty());
    }
}
