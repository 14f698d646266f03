//! A subcommand's arguments, declared to clap only when that subcommand is the one given.
//!
//! clap's derive builds the whole command tree before it parses anything: every
//! argument of every subcommand, with its help text and value parser, on the heap. For
//! `vessel start ID`, which a client such as podman runs once per container, that tree
//! (`run` alone has ~60 arguments) was most of the process's own work and a quarter of
//! its page faults (the heap growing while it was built). `Deferred<T>` declares `T`'s
//! arguments through [`clap::Command::defer`], which clap runs only for the subcommand it
//! is about to parse (and for help that lists them). Names, about texts and parsing are
//! unchanged: the variant's doc comment is still its about, and `T` still parses.

use clap::{ArgMatches, Args, Command, FromArgMatches};

/// Runs `augment` on `command` and keeps the subcommand's about texts: the struct's doc
/// comment (`Arguments of …`) would replace the variant's, which are set first now.
fn keeping_about(command: Command, augment: fn(Command) -> Command) -> Command {
    let about = command.get_about().cloned();
    let long_about = command.get_long_about().cloned();
    let mut command = augment(command);
    if let Some(about) = about {
        command = command.about(about);
    }
    match long_about {
        Some(long_about) => command.long_about(long_about),
        None => command.long_about(None),
    }
}

/// `T`'s arguments, added to its subcommand only when clap builds that subcommand.
#[derive(Debug)]
pub struct Deferred<T>(pub T);

impl<T: Args> Args for Deferred<T> {
    fn augment_args(command: Command) -> Command {
        command.defer(|command| keeping_about(command, T::augment_args))
    }

    fn augment_args_for_update(command: Command) -> Command {
        command.defer(|command| keeping_about(command, T::augment_args_for_update))
    }

    fn group_id() -> Option<clap::Id> {
        T::group_id()
    }
}

impl<T: FromArgMatches> FromArgMatches for Deferred<T> {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches(matches).map(Deferred)
    }

    fn from_arg_matches_mut(matches: &mut ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches_mut(matches).map(Deferred)
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches(matches)
    }

    fn update_from_arg_matches_mut(&mut self, matches: &mut ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches_mut(matches)
    }
}
