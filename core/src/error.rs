//! Every way starting a container can fail, each saying what was asked, what failed and,
//! where there is one, what to do. A message names only its own step; the cause travels
//! in `#[source]`, and the CLI prints the whole chain.

use std::path::PathBuf;

use crate::process::error::ProcessError;
use crate::state::ContainerId;

/// Shorthand for results in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a container could not be started or waited for.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Building the default rootfs failed at one step.
    #[error(transparent)]
    RootfsBuild(#[from] crate::rootfs::error::RootfsBuildError),

    /// An OCI bundle could not be read or asks for something vessel cannot do.
    #[error("bundle {bundle:?}")]
    Bundle {
        bundle: PathBuf,
        #[source]
        source: crate::oci::error::BundleError,
    },

    /// `--bundle` needs exactly one container id.
    #[error(
        "--bundle DIR takes exactly one container id after it (e.g. `vessel run --bundle ./bundle box1`)"
    )]
    BundleId,

    /// A `--cap-add`/`--cap-drop` name is not a capability.
    #[error(transparent)]
    UnknownCapability(#[from] crate::security::capabilities::UnknownCapability),

    /// Writing a user namespace's uid_map, gid_map or setgroups failed.
    #[error(transparent)]
    IdMap(#[from] crate::namespaces::error::IdMapError),

    /// A container id that could name a file outside its directory.
    #[error(transparent)]
    InvalidId(#[from] crate::state::InvalidId),

    /// `vessel wait` on a container whose exit nobody saw.
    #[error("container {id} {status}: its exit code is unknown")]
    ExitUnknown { id: ContainerId, status: String },

    /// A `--security-opt` vessel does not know, or an option that does not apply here.
    #[error("{0}")]
    SecurityOption(String),

    /// `exec -t` without a terminal.
    #[error("-t needs a terminal on stdin (run it from an interactive shell, or drop -t)")]
    NoTerminal,

    /// `run -d -t`: nothing would relay the terminal of a detached container.
    #[error(
        "-t with -d: a detached container has no terminal to relay to, its output goes to `vessel logs` (drop -t, or run it in the foreground with -it)"
    )]
    DetachedTerminal,

    /// The container state directory could not be used, or refused what was asked
    /// (no such container, a name taken, an event the state machine has no edge for).
    #[error(transparent)]
    State(#[from] crate::state::error::StateError),

    /// A `-v HOST:CTR[:ro]` volume or a `--tmpfs PATH[:OPTIONS]` mount cannot be made
    /// as asked.
    #[error(transparent)]
    MountSpec(#[from] crate::rootfs::error::MountSpecError),

    /// A network could not be set up, used or removed.
    #[error(transparent)]
    Network(#[from] crate::network::error::NetworkError),

    /// An image, a layer or a container's layers could not be used.
    #[error(transparent)]
    Image(#[from] crate::image::error::ImageError),

    /// `vessel build` failed.
    #[error(transparent)]
    Build(#[from] crate::image::build::error::BuildError),

    /// `--init`: the init binary could not be put where containers can mount it.
    #[error(transparent)]
    Init(#[from] crate::init::error::InitError),

    /// A terminal could not be set up or relayed.
    #[error(transparent)]
    Tty(#[from] crate::tty::error::TtyError),

    /// A lifecycle step on a container's processes failed.
    #[error(transparent)]
    Lifecycle(#[from] crate::lifecycle::error::LifecycleError),

    /// A step of the parent's side of a start, an exec or a wait failed.
    #[error(transparent)]
    Process(#[from] ProcessError),

    /// A step of an OCI runtime command failed.
    #[error(transparent)]
    OciCommand(#[from] crate::oci::error::OciCommandError),

    /// A resource limit cannot be applied as asked (`--memory 64q`, `--cpus 99`).
    #[error(transparent)]
    Resource(#[from] crate::cgroups::error::ResourceError),

    /// A seccomp profile cannot be read or compiled (`--security-opt seccomp=FILE`).
    #[error(transparent)]
    Seccomp(#[from] crate::security::seccomp::error::SeccompError),

    /// `--user`/`--group-add` name someone the image does not know.
    #[error(transparent)]
    User(#[from] crate::security::user::UserError),

    /// A `--ulimit` or `--sysctl` cannot be applied as asked.
    #[error(transparent)]
    Limit(#[from] crate::security::limits::LimitError),

    /// Creating, writing, reading or removing a cgroup failed at one step.
    #[error(transparent)]
    Cgroup(#[from] crate::cgroups::error::CgroupError),

    /// The state of a container made by `vessel create` could not be read or written.
    #[error(transparent)]
    OciState(#[from] crate::oci::error::OciStateError),

    /// An OCI runtime command (`create`, `start`, `kill`, `delete`, …) cannot do what
    /// was asked: the message says why and what to do.
    #[error("{0}")]
    Oci(String),
}

pub use crate::error_chain::chain;

impl Error {
    /// The exit code `vessel run` uses for this error, as docker does: 127 when the command
    /// is not found, 126 when it is found but not executable, 125 for everything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Process(error) => error.exit_code(),
            Error::Lifecycle(error) => error.exit_code(),
            _ => 125,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io;

    use super::*;

    #[test]
    fn exit_codes_follow_docker() {
        let not_found = Error::from(ProcessError::CommandNotFound {
            command: "x".into(),
            searched: "/bin".into(),
        });
        let not_exec = Error::from(ProcessError::NotExecutable {
            command: "x".into(),
            source: io::Error::from_raw_os_error(libc::EACCES),
        });
        assert_eq!(not_found.exit_code(), 127);
        assert_eq!(not_exec.exit_code(), 126);
        assert_eq!(Error::from(ProcessError::NoCommand).exit_code(), 125);
    }
}
