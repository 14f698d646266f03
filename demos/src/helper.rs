//! A lesson that needs a program of its own inside the container (a busy loop, a fork
//! bomb, a breakout attempt) is that program too: it copies *itself* into its scratch
//! rootfs and runs the copy with a hidden first argument. `main` asks
//! [`Helper::invoked`] before anything else; when the argument is there, this process
//! is the helper inside the container, not the lesson.
//!
//! ```no_run
//! use vessel_demos::helper::Helper;
//!
//! const SPINNER: Helper = Helper {
//!     path: "/usr/local/bin/spinner",
//!     flag: "--spin-ms",
//! };
//!
//! fn main() {
//!     if let Some([ms]) = SPINNER.invoked().as_deref() {
//!         println!("spin for {ms} ms inside the container");
//!         std::process::exit(0);
//!     }
//!     // … the lesson: SPINNER.install(&scratch), then run SPINNER.command(&["3000"]).
//! }
//! ```

use crate::Lesson;
use crate::scratch::ScratchRootfs;

/// The lesson binary's second role: where it lives inside the container, and the
/// hidden argument that selects it.
#[derive(Debug, Clone, Copy)]
pub struct Helper {
    /// Where the lesson installs itself inside the container.
    pub path: &'static str,
    /// The hidden first argument that turns the binary into the helper.
    pub flag: &'static str,
}

impl Helper {
    /// The helper's own arguments (those after the flag) when this process was started
    /// as the helper; `None` when it is the lesson.
    pub fn invoked(&self) -> Option<Vec<String>> {
        self.arguments_in(std::env::args())
    }

    fn arguments_in(&self, argv: impl IntoIterator<Item = String>) -> Option<Vec<String>> {
        let mut args = argv.into_iter().skip(1);
        (args.next()? == self.flag).then(|| args.collect())
    }

    /// Copies the running lesson binary, with its libraries, to [`Helper::path`] in
    /// `scratch`.
    pub fn install(&self, scratch: &ScratchRootfs) -> Result<(), Box<dyn std::error::Error>> {
        scratch.install_self(self.path)
    }

    /// A lesson's first step: a scratch copy of the default rootfs (for lesson `name`)
    /// holding this binary as the helper, `what` the helper is for the learner.
    pub fn prepare(
        &self,
        lesson: &mut Lesson,
        name: &str,
        what: &str,
    ) -> Result<ScratchRootfs, Box<dyn std::error::Error>> {
        lesson.step(&format!(
            "prepare a rootfs with this lesson's {what} inside"
        ));
        let scratch = ScratchRootfs::new(name)?;
        self.install(&scratch)?;
        lesson.see("rootfs", scratch.path().display());
        Ok(scratch)
    }

    /// The container's command that runs the helper with `args`.
    pub fn command(&self, args: &[&str]) -> Vec<String> {
        [self.path, self.flag]
            .iter()
            .chain(args)
            .map(|s| (*s).to_owned())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::Helper;

    const BOMB: Helper = Helper {
        path: "/usr/local/bin/forkbomb",
        flag: "--fork",
    };

    fn argv(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn the_flag_first_selects_the_helper_and_the_rest_are_its_arguments() {
        assert_eq!(
            BOMB.arguments_in(argv(&["/usr/local/bin/forkbomb", "--fork", "16"])),
            Some(argv(&["16"]))
        );
        assert_eq!(
            BOMB.arguments_in(argv(&["demo-pids", "--fork"])),
            Some(vec![])
        );
        assert_eq!(BOMB.arguments_in(argv(&["demo-pids"])), None);
        assert_eq!(BOMB.arguments_in(argv(&["demo-pids", "x", "--fork"])), None);
    }

    #[test]
    fn the_command_is_what_invoked_reads_back() {
        let command = BOMB.command(&["16"]);
        assert_eq!(command, argv(&["/usr/local/bin/forkbomb", "--fork", "16"]));
        assert_eq!(BOMB.arguments_in(command), Some(argv(&["16"])));
    }
}
