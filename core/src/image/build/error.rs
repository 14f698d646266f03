//! How `vessel build` fails: each error names the Dockerfile line it was at.

use std::io;
use std::path::PathBuf;

use crate::image::error::ImageError;
use crate::layers::LayerError;

/// Why an image could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The Dockerfile could not be read.
    #[error("build: cannot read the Dockerfile {0:?} (give one with -f FILE)")]
    Dockerfile(PathBuf, #[source] io::Error),

    /// The Dockerfile is not valid Dockerfile syntax.
    #[error("build: {path:?} is not a valid Dockerfile: {message}")]
    Syntax { path: PathBuf, message: String },

    /// An instruction vessel cannot carry out as written.
    #[error("build: line {line}: {instruction}: {reason}")]
    Instruction {
        line: usize,
        instruction: String,
        reason: String,
    },

    /// A source path that leaves the build context.
    #[error(
        "build: line {line}: {source_path:?} is outside the build context {context:?} (only files under the context can be copied)"
    )]
    OutsideContext {
        line: usize,
        source_path: String,
        context: PathBuf,
    },

    /// A source path that names nothing in the context (or only ignored files).
    #[error(
        "build: line {line}: {source_path:?} not found in the build context {context:?} (or excluded by .dockerignore)"
    )]
    SourceNotFound {
        line: usize,
        source_path: String,
        context: PathBuf,
    },

    /// A `RUN` command that did not succeed.
    #[error("build: line {line}: RUN {command}: exited with code {code}")]
    RunFailed {
        line: usize,
        command: String,
        code: i32,
    },

    /// The container for a `RUN` could not be started.
    #[error("build: line {line}: RUN {command}: the container could not start")]
    RunStart {
        line: usize,
        command: String,
        #[source]
        /// The crate error, as a trait object: `BuildError` is itself wrapped by the
        /// crate `Error`, and must not contain it by type.
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// Writing an instruction's files into the image failed.
    #[error("build: line {line}: {instruction}: {action} {path:?}")]
    Write {
        line: usize,
        instruction: String,
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// Reading or storing a layer failed.
    #[error(transparent)]
    Layer(#[from] LayerError),

    /// The image store failed.
    #[error(transparent)]
    Image(#[from] ImageError),

    /// The build context could not be read.
    #[error("build context: {action} {path:?}")]
    Context {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// The build cache could not be read or written.
    #[error("build cache: {action} {path:?}")]
    Cache {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}
