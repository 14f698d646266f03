//! `vessel commit CONTAINER NAME`: a container's writable layer becomes a new image.

use clap::Args;

use super::output::{errln, outln};
use crate::error::Result;
use crate::image::{Change, Store};
use crate::state::Root;
use crate::state::StateDir;

/// Arguments of `vessel commit`.
#[derive(Debug, Args)]
pub struct CommitArgs {
    /// The container's id, a unique prefix of it, or its --name.
    pub container: String,
    /// The new image's name.
    pub name: String,
    /// Set the new image's config with a Dockerfile instruction: CMD, ENTRYPOINT (shell
    /// or exec form), ENV or WORKDIR (repeatable), e.g. --change 'CMD ["sleep", "9"]'.
    #[arg(short = 'c', long = "change", value_name = "INSTRUCTION", value_parser = parse_change)]
    pub changes: Vec<Change>,
}

/// Parses one `--change`, so that a bad one is refused before anything is packed.
pub fn parse_change(text: &str) -> std::result::Result<Change, String> {
    Change::parse(text).map_err(|e| e.to_string())
}

/// Packs the container's upper layer and saves the image; prints the new layer's digest.
pub fn commit(root: &Root, args: CommitArgs) -> Result<i32> {
    let store = Store::open_in(root)?;
    let dir = StateDir::open_in(root)?;
    let id = crate::lifecycle::find(&dir, &store, &args.container)?;
    let (image, summary) = crate::lifecycle::commit(&dir, &store, &id, &args.name, &args.changes)?;
    for path in &summary.skipped {
        errln!(
            "vessel: left out /{} (device nodes and sockets cannot be in a layer)",
            path.display()
        );
    }
    outln!(
        "{}",
        image
            .layers
            .last()
            .expect("a committed image has its new layer")
    );
    Ok(0)
}
