//! The diagrams are hand-written SVG files in `book/src/diagrams/`, shown with `<img>` or
//! `![…](…)`. No mdBook plugin renders them, so nothing can break with a plugin upgrade;
//! in exchange this check does what a renderer would: every referenced file exists, every
//! diagram is well-formed XML with an `<svg>` root and a `<title>` (what a screen reader
//! says), and no diagram sits unused.

use std::fs;
use std::path::{Path, PathBuf};

use super::xml;

/// Checks the diagrams the chapters reference; returns how many were checked.
pub fn check(src: &Path, chapters: &[PathBuf], problems: &mut Vec<String>) -> usize {
    let mut referenced = Vec::new();
    for chapter in chapters {
        let text = fs::read_to_string(chapter).unwrap_or_default();
        for tag in images_without_alt(&text) {
            problems.push(format!(
                "{}: <img{tag}> has no alt text (what a reader without the picture gets)",
                chapter.display()
            ));
        }
        for image in image_references(&text) {
            if image.contains("://") {
                continue;
            }
            let path = chapter.parent().unwrap_or(src).join(&image);
            match path.canonicalize() {
                Ok(path) => referenced.push(path),
                Err(e) => problems.push(format!("{}: image {image}: {e}", chapter.display())),
            }
        }
    }
    let dir = src.join("diagrams");
    let mut diagrams: Vec<PathBuf> = fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "svg"))
        .filter_map(|p| p.canonicalize().ok())
        .collect();
    diagrams.sort();
    for diagram in &diagrams {
        if let Err(problem) = check_svg(diagram) {
            problems.push(format!("{}: {problem}", diagram.display()));
        }
        if !referenced.contains(diagram) {
            problems.push(format!("{}: no chapter shows it", diagram.display()));
        }
    }
    let elsewhere = referenced.iter().filter(|p| !diagrams.contains(p));
    for image in elsewhere.filter(|p| p.extension().is_some_and(|e| e == "svg")) {
        if let Err(problem) = check_svg(image) {
            problems.push(format!("{}: {problem}", image.display()));
        }
    }
    diagrams.len()
}

fn check_svg(path: &Path) -> Result<(), String> {
    let text = fs::read_to_string(path).map_err(|e| e.to_string())?;
    xml::check_well_formed(&text)?;
    let root = text
        .split('<')
        .skip(1)
        .find(|tag| !tag.starts_with(['?', '!']))
        .unwrap_or_default();
    if !root.starts_with("svg") {
        return Err("the root element is not <svg>".into());
    }
    if !root
        .split('>')
        .next()
        .unwrap_or_default()
        .contains("viewBox")
    {
        return Err("<svg> has no viewBox, so it cannot scale to the page".into());
    }
    if !text.contains("<title>") && !text.contains("<title ") {
        return Err("no <title>: screen readers would say nothing".into());
    }
    Ok(())
}

/// The targets of `![alt](target)` and `<img src="target">` in a chapter.
fn image_references(text: &str) -> Vec<String> {
    let markdown = text.split("![").skip(1).filter_map(|rest| {
        let (_, after) = rest.split_once("](")?;
        let target = after.split(')').next()?;
        Some(target.split_whitespace().next()?.to_owned())
    });
    let html = text.split("<img").skip(1).filter_map(|rest| {
        let tag = rest.split('>').next()?;
        let (_, after) = tag.split_once("src=\"")?;
        Some(after.split('"').next()?.to_owned())
    });
    markdown.chain(html).collect()
}

/// The `<img …>` tags of a chapter that lack a non-empty `alt`.
fn images_without_alt(text: &str) -> Vec<&str> {
    text.split("<img")
        .skip(1)
        .filter_map(|rest| rest.split('>').next())
        .filter(|tag| {
            tag.split_once("alt=\"")
                .is_none_or(|(_, alt)| alt.starts_with('"'))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{image_references, images_without_alt};

    #[test]
    fn an_image_needs_alt_text() {
        let text = "<img src=\"a.svg\" alt=\"the stack\"> <img src=\"b.svg\"> <img src=\"c.svg\" alt=\"\">";
        assert_eq!(
            images_without_alt(text),
            [" src=\"b.svg\"", " src=\"c.svg\" alt=\"\""]
        );
    }

    #[test]
    fn finds_markdown_and_html_images() {
        let text = "a ![the stack](../diagrams/overlay.svg \"t\") b\n\
                    <img src=\"../diagrams/ns.svg\" alt=\"x\"> [not an image](x.md)";
        assert_eq!(
            image_references(text),
            ["../diagrams/overlay.svg", "../diagrams/ns.svg"]
        );
    }
}
