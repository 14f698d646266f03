//! The translated editions (today zh-CN), kept the way google/comprehensive-rust keeps
//! its translations: gettext through mdbook-i18n-helpers.
//!
//! - `mdbook-xgettext` (a renderer) extracts every paragraph, heading, list item and
//!   code block of the English book into `book/po/messages.pot`;
//! - `msgmerge` brings `book/po/LANG.po` up to date with it: a new paragraph becomes an
//!   untranslated message, a changed one keeps its old translation marked fuzzy;
//! - `mdbook-gettext` (a preprocessor, in `book.toml`) builds a language from its `.po`,
//!   with `MDBOOK_BOOK__LANGUAGE=LANG mdbook build -d book/LANG`.
//!
//! `cargo xtask book-po` does the first two and fills the messages that are only code,
//! an `{{#include}}` or an HTML comment (their translation is themselves: transcripts and
//! code stay as the code prints them). The book check fails while a language has an
//! untranslated or fuzzy message, so an English paragraph cannot change without its
//! translation.

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use super::po;
use crate::{packages, shell};

/// The languages the book is translated into: `book/po/LANG.po`, built at `book/book/LANG/`.
pub const LANGUAGES: [&str; 1] = ["zh-CN"];

/// How to bring a translation up to date; every failure of the check ends with it.
const HOW_TO_UPDATE: &str = "to update: `cargo xtask book-po` (re-extracts book/po/messages.pot, runs \
     `msgmerge --update book/po/LANG.po book/po/messages.pot` and fills code-only messages), \
     then translate every message it reports as untranslated or fuzzy in book/po/LANG.po \
     (a fuzzy one: check the old translation against the new English, fix it, delete the \
     `#, fuzzy` line); see book/README.md, \"Translations\"";

/// `cargo xtask book-po`: re-extracts the template, merges it into every language and
/// fills the code-only messages; then says what is left to translate.
pub fn refresh() -> Result<(), String> {
    let fresh = extract()?;
    let pot = po_dir().join("messages.pot");
    let old = fs::read_to_string(&pot).unwrap_or_default();
    if comparable(&old) != comparable(&fresh) {
        fs::write(&pot, &fresh).map_err(|e| format!("write {}: {e}", pot.display()))?;
        println!("xtask: wrote book/po/messages.pot");
    }
    for lang in LANGUAGES {
        let file = po_dir().join(format!("{lang}.po"));
        let file_arg = file.to_string_lossy().into_owned();
        let pot_arg = pot.to_string_lossy().into_owned();
        if file.exists() {
            shell::run(
                "msgmerge",
                &[
                    "--quiet",
                    "--update",
                    "--backup=none",
                    "--no-wrap",
                    &file_arg,
                    &pot_arg,
                ],
            )?;
        } else {
            let locale = lang.replace('-', "_");
            shell::run(
                "msginit",
                &[
                    "--no-translator",
                    "--no-wrap",
                    "--locale",
                    &locale,
                    "--input",
                    &pot_arg,
                    "--output-file",
                    &file_arg,
                ],
            )?;
        }
        let text = fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let mut entries = po::parse(&text);
        let filled = fill_verbatim(&mut entries);
        fs::write(&file, po::write(&entries)).map_err(|e| format!("{}: {e}", file.display()))?;
        let (untranslated, fuzzy) = to_translate(&entries);
        println!(
            "xtask: book/po/{lang}.po: {filled} code-only messages filled; \
             {} untranslated and {} fuzzy messages to translate",
            untranslated.len(),
            fuzzy.len()
        );
    }
    Ok(())
}

/// The check: the template is current, and every language translates every message of
/// the English book as it is now (no untranslated or fuzzy message after `msgmerge`),
/// keeping each message's `{{#include}}` directives as they are.
pub fn check(problems: &mut Vec<String>) -> Result<usize, String> {
    let fresh = extract()?;
    let pot = po_dir().join("messages.pot");
    let committed = fs::read_to_string(&pot).unwrap_or_default();
    if comparable(&committed) != comparable(&fresh) {
        problems.push(
            "book/po/messages.pot is not the English book's text as it is now: run `cargo xtask book-po`"
                .to_owned(),
        );
    }
    let fresh_path = scratch().join("messages.pot");
    fs::write(&fresh_path, &fresh).map_err(|e| format!("{}: {e}", fresh_path.display()))?;
    let mut messages = 0;
    for lang in LANGUAGES {
        let file = po_dir().join(format!("{lang}.po"));
        let merged = scratch().join(format!("{lang}.po"));
        shell::run(
            "msgmerge",
            &[
                "--quiet",
                "--no-wrap",
                "--output-file",
                &merged.to_string_lossy(),
                &file.to_string_lossy(),
                &fresh_path.to_string_lossy(),
            ],
        )?;
        let text = fs::read_to_string(&merged).map_err(|e| format!("{}: {e}", merged.display()))?;
        let entries = po::parse(&text);
        messages += entries.iter().filter(|e| e.is_message()).count();
        let (untranslated, fuzzy) = to_translate(&entries);
        let code_only = entries
            .iter()
            .filter(|e| e.is_message() && (e.untranslated() || e.fuzzy) && verbatim(&e.msgid))
            .count();
        if !untranslated.is_empty() || !fuzzy.is_empty() || code_only > 0 {
            problems.push(format!(
                "book/po/{lang}.po is out of date with the English book: {} untranslated and {} fuzzy \
                 messages to translate, {code_only} code-only messages to fill; {HOW_TO_UPDATE}{}",
                untranslated.len(),
                fuzzy.len(),
                first_few(untranslated.iter().chain(&fuzzy)),
            ));
        }
        for entry in entries
            .iter()
            .filter(|e| e.is_message() && !e.untranslated())
        {
            if directives(&entry.msgid) != directives(&entry.msgstr) {
                problems.push(format!(
                    "book/po/{lang}.po: the translation of {:?} changes its {{{{#include}}}} \
                     directives; copy them as they are in the msgid",
                    short(&entry.msgid)
                ));
            }
        }
    }
    Ok(messages)
}

/// Builds every language into `book/book/LANG/` (after the English build, which empties
/// `book/book/`).
pub fn build(mdbook: &str) -> Result<(), String> {
    for lang in LANGUAGES {
        let dest = format!("book/book/{lang}");
        run_mdbook(
            mdbook,
            &["build", "book", "-d", &dest],
            &[("MDBOOK_BOOK__LANGUAGE", lang)],
        )?;
    }
    Ok(())
}

/// Runs mdbook with cargo's bin directory on `PATH`, where `mdbook-gettext` and
/// `mdbook-xgettext` are installed.
pub fn run_mdbook(mdbook: &str, args: &[&str], env: &[(&str, &str)]) -> Result<(), String> {
    let shown: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    println!("xtask: $ {} {mdbook} {}", shown.join(" "), args.join(" "));
    let path = std::env::var("PATH").unwrap_or_default();
    let bin = packages::cargo_bin_dir();
    let status = Command::new(mdbook)
        .args(args)
        .envs(env.iter().copied())
        .env("PATH", format!("{}:{path}", bin.display()))
        .current_dir(shell::root())
        .status()
        .map_err(|e| format!("{mdbook}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{mdbook} {}` failed ({status})", args.join(" ")))
    }
}

/// The English book's messages as a fresh template (mdbook-xgettext, as the only
/// renderer, one message per paragraph without wrapping).
fn extract() -> Result<String, String> {
    packages::install_mdbook_i18n_helpers()?;
    let mdbook = packages::mdbook()?;
    let dest = scratch().join("xgettext");
    let _ = fs::remove_dir_all(&dest);
    run_mdbook(
        &mdbook.to_string_lossy(),
        &["build", "book", "-d", &dest.to_string_lossy()],
        &[
            (
                "MDBOOK_OUTPUT",
                r#"{"xgettext": {"pot-file": "messages.pot", "granularity": 0}}"#,
            ),
            // Without `links`: an `{{#include}}` stays a directive (which xgettext leaves
            // out, as it has no prose), so included code never lands in the .po files.
            ("MDBOOK_BUILD__USE_DEFAULT_PREPROCESSORS", "false"),
            // ...and `gettext`, which is a no-op in English, needs no place before it.
            ("MDBOOK_PREPROCESSOR__GETTEXT__BEFORE", "[]"),
        ],
    )?;
    let pot = dest.join("messages.pot");
    let pot = if pot.exists() {
        pot
    } else {
        dest.join("xgettext/messages.pot")
    };
    fs::read_to_string(&pot).map_err(|e| format!("mdbook-xgettext wrote no {}: {e}", pot.display()))
}

/// Fills every untranslated or fuzzy code-only message with itself; returns how many.
fn fill_verbatim(entries: &mut [po::Entry]) -> usize {
    let mut filled = 0;
    for entry in entries.iter_mut() {
        if entry.is_message() && (entry.untranslated() || entry.fuzzy) && verbatim(&entry.msgid) {
            entry.translate_as_itself();
            filled += 1;
        }
    }
    filled
}

/// The prose messages still to translate: (untranslated, fuzzy).
fn to_translate(entries: &[po::Entry]) -> (Vec<String>, Vec<String>) {
    let prose = |e: &&po::Entry| e.is_message() && !verbatim(&e.msgid);
    let untranslated = entries
        .iter()
        .filter(prose)
        .filter(|e| e.untranslated())
        .map(|e| e.msgid.clone())
        .collect();
    let fuzzy = entries
        .iter()
        .filter(prose)
        .filter(|e| e.fuzzy && !e.untranslated())
        .map(|e| e.msgid.clone())
        .collect();
    (untranslated, fuzzy)
}

/// A message whose translation is itself: a fenced code block (code, a transcript, an
/// included run), lines that are each an `{{#include}}`, an HTML comment (the workshop
/// marker), or what xgettext takes out of a code block of a page: a string literal or a
/// comment (code comments are not translated); or a message with no word outside its
/// `code` spans and link targets (`demo-uts`, a time, a number, a man page link).
pub fn verbatim(msgid: &str) -> bool {
    let text = msgid.trim();
    let no_words = without_link_targets(text)
        .split('`')
        .step_by(2)
        .all(|outside| !outside.chars().any(|c| c.is_alphabetic()));
    let literal = text.len() >= 2 && text.starts_with('"') && text.ends_with('"');
    let code_comment = text.starts_with("//");
    let fenced = ["```", "~~~"]
        .iter()
        .any(|fence| text.starts_with(fence) && text.ends_with(fence) && text.len() > 6);
    let includes = text.lines().all(|line| {
        let line = line.trim();
        line.is_empty() || (line.starts_with("{{#") && line.ends_with("}}"))
    });
    let comment = text.starts_with("<!--") && text.ends_with("-->") && !text[4..].contains("<!--");
    fenced || includes || comment || literal || code_comment || no_words
}

/// `text` without the `(target)` of its `[text](target)` links.
fn without_link_targets(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("](") {
        out.push_str(&rest[..at + 1]);
        rest = rest[at + 2..]
            .split_once(')')
            .map_or("", |(_, after)| after);
    }
    out.push_str(rest);
    out
}

/// The `{{#…}}` directives of a message, in order.
fn directives(text: &str) -> Vec<&str> {
    text.match_indices("{{#")
        .filter_map(|(at, _)| text[at..].find("}}").map(|end| &text[at..at + end + 2]))
        .collect()
}

/// The template without what changes on every extraction (its creation date) or with
/// every edit above a message (the `#: file:line` references).
fn comparable(pot: &str) -> Vec<&str> {
    pot.lines()
        .filter(|l| !l.starts_with("\"POT-Creation-Date:") && !l.starts_with("#:"))
        .collect()
}

fn first_few<'a>(msgids: impl Iterator<Item = &'a String>) -> String {
    let few: Vec<String> = msgids
        .take(5)
        .map(|m| format!("\n      {:?}", short(m)))
        .collect();
    if few.is_empty() {
        String::new()
    } else {
        format!("\n    the first of them:{}", few.concat())
    }
}

fn short(text: &str) -> String {
    let mut s: String = text.chars().take(80).collect();
    if s.len() < text.len() {
        s.push('…');
    }
    s
}

fn po_dir() -> PathBuf {
    shell::root().join("book/po")
}

/// Where the check keeps its fresh template and merged copies (never `book/po/`).
fn scratch() -> PathBuf {
    let dir = shell::root().join("target/book-translations");
    let _ = fs::create_dir_all(&dir);
    dir
}

#[cfg(test)]
mod tests {
    use super::verbatim;

    #[test]
    fn code_only_messages_are_their_own_translation() {
        for code in [
            "```console\n$ sudo target/debug/demo-uts\n```",
            "{{#include ../runs/demo-uts.txt}}",
            "<!-- workshop: 10 min -->",
            "\"/proc/self/ns\"",
            "// e.g. \"uts -> uts:[4026531838]\"\n",
            "`demo-oom`, `demo-cpu-quota`",
            "09:20",
            "[`clone3(2)`](https://man7.org/linux/man-pages/man2/clone3.2.html);",
        ] {
            assert!(verbatim(code), "{code:?}");
        }
        for prose in [
            "The UTS namespace: a hostname of its own",
            "`demo-check` (fix any `✘` now)",
            "\"Only `lo`\" holds on this machine",
            "**namespaces**",
            "[Namespaces](namespaces/index.md)",
        ] {
            assert!(!verbatim(prose), "{prose:?}");
        }
    }
}
