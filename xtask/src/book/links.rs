//! A link check of the built book, without the network: every internal link and anchor
//! resolves to a file and an `id` that exist, and every external link is at least a
//! well-formed `https://host/…` address. External links are not fetched: CI has no
//! network, and a man7.org outage should not fail a build.

use std::collections::HashMap;
use std::fs;
use std::path::{Component, Path, PathBuf};

/// Checks every `href` and `src` in the HTML under `out`; returns how many it checked.
pub fn check(out: &Path, problems: &mut Vec<String>) -> usize {
    let pages = html_files(out);
    let mut ids: HashMap<PathBuf, Vec<String>> = HashMap::new();
    let mut checked = 0;
    for page in &pages {
        // 404.html is served from any depth with <base href="/">: its links are absolute.
        if page.file_name().is_some_and(|n| n == "404.html") {
            continue;
        }
        let html = fs::read_to_string(page).unwrap_or_default();
        for link in attribute_values(&html, "href").chain(attribute_values(&html, "src")) {
            checked += 1;
            if let Err(problem) = check_link(out, page, &link, &mut ids) {
                let name = page.strip_prefix(out).unwrap_or(page);
                problems.push(format!("book/book/{}: {link}: {problem}", name.display()));
            }
        }
    }
    checked
}

fn check_link(
    out: &Path,
    page: &Path,
    link: &str,
    ids: &mut HashMap<PathBuf, Vec<String>>,
) -> Result<(), String> {
    let link = &link.replace("&amp;", "&");
    if let Some((scheme, rest)) = link.split_once(':')
        && !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+')
    {
        return external(scheme, rest);
    }
    let (file, anchor) = link.split_once('#').unwrap_or((link, ""));
    let file = file.split('?').next().unwrap_or_default();
    let target = if file.is_empty() {
        page.to_owned()
    } else {
        normalise(&page.parent().unwrap_or(out).join(file))
    };
    if !target.starts_with(out) {
        return Err("leads outside the book".into());
    }
    if !target.exists() {
        return Err("no such file".into());
    }
    if anchor.is_empty() || target.extension().is_none_or(|e| e != "html") {
        return Ok(());
    }
    let known = ids.entry(target.clone()).or_insert_with(|| {
        let html = fs::read_to_string(&target).unwrap_or_default();
        attribute_values(&html, "id").collect()
    });
    if known.iter().any(|id| id == anchor) {
        Ok(())
    } else {
        Err(format!("no id {anchor:?} on that page"))
    }
}

/// Syntax only: `https://host.tld/…` (or `http`), `mailto:a@b`.
fn external(scheme: &str, rest: &str) -> Result<(), String> {
    match scheme {
        "https" | "http" => {
            let host = rest
                .strip_prefix("//")
                .ok_or("needs // after the scheme")?
                .split(['/', '?', '#'])
                .next()
                .unwrap_or_default();
            let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
            let valid = host.contains('.')
                && !host.starts_with('.')
                && !host.ends_with('.')
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
            if !valid {
                return Err(format!("{host:?} is not a host name"));
            }
            if rest.contains(char::is_whitespace) {
                return Err("contains white space".into());
            }
            Ok(())
        }
        "mailto" if rest.contains('@') => Ok(()),
        _ => Err(format!("unexpected scheme {scheme:?}")),
    }
}

/// `a/b/../c` → `a/c`, without touching the file system.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The values of `name="…"` attributes in `html`.
fn attribute_values(html: &str, name: &str) -> std::vec::IntoIter<String> {
    let needle = format!(" {name}=\"");
    let values: Vec<String> = html
        .match_indices(&needle)
        .map(|(at, _)| {
            let value = &html[at + needle.len()..];
            value[..value.find('"').unwrap_or(value.len())].to_owned()
        })
        .collect();
    values.into_iter()
}

/// The include check of a built language: an `{{#include}}` (or any `{{#…}}`) that
/// mdBook could not expand, or a translation that broke, is left in the page as text.
/// Returns how many pages it read.
pub fn unexpanded_directives(out: &Path, problems: &mut Vec<String>) -> usize {
    let pages = html_files(out);
    for page in &pages {
        let html = fs::read_to_string(page).unwrap_or_default();
        if let Some(at) = html.find("{{#") {
            let directive: String = html[at..].chars().take(60).collect();
            let name = page.strip_prefix(out).unwrap_or(page);
            problems.push(format!(
                "book/book/{}: an unexpanded directive: {directive}…",
                name.display()
            ));
        }
    }
    pages.len()
}

fn html_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(html_files(&path));
        } else if path.extension().is_some_and(|e| e == "html") {
            files.push(path);
        }
    }
    files.sort();
    files
}

#[cfg(test)]
mod tests {
    use super::{attribute_values, external, normalise};
    use std::path::Path;

    #[test]
    fn external_links_are_checked_for_syntax_only() {
        assert!(external("https", "//man7.org/linux/man-pages/man2/clone3.2.html").is_ok());
        assert!(external("https", "//docs.kernel.org:443/x").is_ok());
        assert!(external("https", "man7.org/x").is_err());
        assert!(external("https", "//man7/x").is_err());
        assert!(external("https", "//man7.org/a b").is_err());
        assert!(external("ftp", "//x.org").is_err());
    }

    #[test]
    fn finds_attribute_values_and_normalises_paths() {
        let html = r##"<a href="../x.html#y">x</a><h2 id="y">y</h2><img src="d.svg">"##;
        assert_eq!(
            attribute_values(html, "href").collect::<Vec<_>>(),
            ["../x.html#y"]
        );
        assert_eq!(attribute_values(html, "id").collect::<Vec<_>>(), ["y"]);
        assert_eq!(
            normalise(Path::new("/b/ns/../limits/./p.html")),
            Path::new("/b/limits/p.html")
        );
    }
}
