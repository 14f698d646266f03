//! How building the default rootfs fails, and how a volume or tmpfs mount is refused: a
//! leaf file, so that the crate error can wrap them without reaching the rootfs code.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// A `-v HOST:CTR[:ro]` volume or a `--tmpfs PATH[:OPTIONS]` mount that cannot be made
/// as asked: the spec as given, and why.
#[derive(Debug, thiserror::Error)]
pub enum MountSpecError {
    /// A volume.
    #[error("volume {spec:?}: {reason}")]
    Volume { spec: String, reason: String },
    /// A tmpfs mount.
    #[error("--tmpfs {spec:?}: {reason}")]
    Tmpfs { spec: String, reason: String },
}

/// Building the default rootfs in `dir` failed at `step`.
#[derive(Debug, thiserror::Error)]
#[error("building the default rootfs in {dir:?}: {step}")]
pub struct RootfsBuildError {
    pub dir: PathBuf,
    pub step: BuildStep,
    #[source]
    pub cause: BuildCause,
}

/// Why a build step failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildCause {
    /// The kernel refused it.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// `busybox --list-full` ran but failed.
    #[error("busybox --list-full {0}")]
    ListFailed(std::process::ExitStatus),
}

/// A step of building a rootfs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildStep {
    /// Making the directory the rootfs goes in.
    CreateParent,
    /// Creating the lock that lets one process build.
    CreateLock,
    /// Taking it.
    LockBuild,
    /// Removing what a build cut short left.
    RemoveUnfinished,
    /// Removing a rootfs that has no completion marker.
    RemoveIncomplete,
    /// Renaming the finished build into place.
    MoveIntoPlace,
    /// Creating a directory of the rootfs.
    CreateDir(PathBuf),
    /// Setting the mode of one of the skeleton's directories.
    Chmod(&'static str),
    /// Writing one of the skeleton's files.
    Write(&'static str),
    /// Writing the completion marker.
    WriteMarker,
    /// Copying a static busybox in.
    CopyBusybox,
    /// Asking it for its applets.
    ListApplets,
    /// Linking an applet to it.
    LinkApplet(String),
    /// Reading whether a host binary is static.
    InspectBinary,
    /// Copying a host binary or library in.
    Copy(PathBuf),
    /// Running `ldd` on a host binary.
    RunLdd,
}

impl fmt::Display for BuildStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildStep::CreateParent => f.write_str("create the parent directory"),
            BuildStep::CreateLock => f.write_str("create the lock file"),
            BuildStep::LockBuild => f.write_str("lock the build"),
            BuildStep::RemoveUnfinished => f.write_str("remove an unfinished build"),
            BuildStep::RemoveIncomplete => f.write_str("remove an incomplete rootfs"),
            BuildStep::MoveIntoPlace => f.write_str("move the finished rootfs into place"),
            BuildStep::CreateDir(dir) => write!(f, "create {}", dir.display()),
            BuildStep::Chmod(dir) => write!(f, "chmod {dir}"),
            BuildStep::Write(file) => write!(f, "write {file}"),
            BuildStep::WriteMarker => f.write_str("write the completion marker"),
            BuildStep::CopyBusybox => f.write_str("copy busybox"),
            BuildStep::ListApplets => f.write_str("list busybox applets"),
            BuildStep::LinkApplet(applet) => write!(f, "link {applet}"),
            BuildStep::InspectBinary => f.write_str("inspect binary"),
            BuildStep::Copy(from) => write!(f, "copy {}", from.display()),
            BuildStep::RunLdd => f.write_str("run ldd"),
        }
    }
}
