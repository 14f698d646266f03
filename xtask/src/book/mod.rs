//! `cargo xtask book-check`: everything that keeps the book honest, in one place.
//!
//! 1. every `{{#include}}` resolves (file and anchor), every `demo-*` has a chapter, and
//!    every chapter is in `SUMMARY.md`;
//! 2. every command the book, the README and the demos' hint print to run a demo or
//!    vessel is the form that works with Debian's sudo (`commands.rs`);
//!    every lesson page includes one real run recorded by `cargo xtask book-runs`
//!    (`runs.rs`), the cgroup lessons a cgroup-v2 run from the VM too;
//!    the schedule in `workshop.md` is the one the pages' minutes give, and every taught
//!    page has speaker notes (`schedule.rs`);
//!    no line of included code is wider than the page (`widths.rs`);
//! 3. every diagram exists, is well-formed SVG, and is shown somewhere; the list of
//!    conformance checks in the Proving chapter is the suite's own `--list`; every test
//!    and conformance check a chapter names exists;
//! 4. `mdbook build` with the pinned mdBook, in English and in every translation
//!    (`translations.rs`: the `.po` files must translate every English message as it
//!    is now, with no untranslated or fuzzy message);
//! 5. `mdbook test`: the self-contained Rust snippets compile and run (code included by
//!    anchor is marked `ignore`; it is compiled where it lives);
//! 6. a link check of the built pages of every language (internal links and anchors;
//!    external ones for syntax only), and no `{{#…}}` directive left unexpanded in them.

mod checks_list;
mod commands;
mod diagrams;
mod includes;
mod links;
mod po;
mod proofs;
pub mod runs;
mod schedule;
mod summary;
pub mod translations;
mod widths;
mod xml;

use crate::{packages, shell};

/// Runs every check; the source checks report all their problems at once.
pub fn check() -> Result<(), String> {
    let src = shell::root().join("book/src");
    let chapters = includes::markdown_files(&src);
    let mut problems = Vec::new();
    let resolved = includes::check(&chapters, &mut problems);
    let listed = summary::check(&src, &chapters, &mut problems);
    let diagrams = diagrams::check(&src, &chapters, &mut problems);
    let checks = checks_list::check(&mut problems);
    let proofs = proofs::check(&chapters, &checks, &mut problems);
    let commands = commands::check(&chapters, &mut problems);
    let runs = runs::check(&chapters, &mut problems);
    let day = schedule::check(&src, &mut problems);
    let code_lines = widths::check(&chapters, &mut problems);
    let messages = translations::check(&mut problems)?;
    fail_on(&problems, "book check")?;
    println!(
        "xtask: book check: {listed} chapters in SUMMARY.md, {resolved} includes resolve, every demo has a chapter, \
         {diagrams} diagrams are well-formed and shown, {} conformance checks listed, \
         {proofs} named tests and checks exist, {commands} commands use the one run path, {runs} recorded runs are included, \
         the {day}-minute schedule matches the pages' minutes and every taught page has speaker notes, \
         {code_lines} included code lines fit in {} columns, \
         {messages} messages of {} translated and none fuzzy",
        checks.len(),
        widths::MAX_COLUMNS,
        translations::LANGUAGES.join(", ")
    );

    let mdbook = packages::mdbook()?;
    let mdbook = mdbook.to_str().unwrap_or("mdbook");
    // English first: it empties book/book/, where the translations then go.
    translations::run_mdbook(mdbook, &["build", "book"], &[])?;
    translations::build(mdbook)?;
    translations::run_mdbook(mdbook, &["test", "book"], &[])?;

    let out = shell::root().join("book/book");
    let links = links::check(&out, &mut problems);
    let pages = links::unexpanded_directives(&out, &mut problems);
    fail_on(&problems, "book link check")?;
    println!(
        "xtask: book links: {links} links and anchors in the built book (English and {}) resolve, \
         no directive is left unexpanded in its {pages} pages",
        translations::LANGUAGES.join(", ")
    );
    Ok(())
}

fn fail_on(problems: &[String], what: &str) -> Result<(), String> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{what} failed:\n  {}", problems.join("\n  ")))
    }
}
