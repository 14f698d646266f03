//! `.dockerignore`: context paths a `COPY` or `ADD` never sees.
//!
//! As docker reads it: one pattern a line, `#` comments, patterns relative to the
//! context root (a leading `/` means the same), `*`/`?`/`[…]` within one path element
//! and `**` across any number of them; a pattern also excludes everything under a
//! directory it matches; `!pattern` re-includes; the last matching line decides.

use std::path::Path;

use globset::{GlobBuilder, GlobMatcher};

/// The parsed `.dockerignore` of a context.
#[derive(Debug, Default)]
pub struct DockerIgnore {
    rules: Vec<(GlobMatcher, bool)>,
}

impl DockerIgnore {
    /// Parses the file's text. A line that is not a valid pattern is skipped, as docker
    /// reports it only when it is used.
    pub fn parse(text: &str) -> DockerIgnore {
        let mut rules = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (pattern, include) = match line.strip_prefix('!') {
                Some(rest) => (rest.trim(), true),
                None => (line, false),
            };
            let pattern = clean(pattern);
            if pattern.is_empty() {
                continue;
            }
            if let Ok(glob) = GlobBuilder::new(&pattern).literal_separator(true).build() {
                rules.push((glob.compile_matcher(), include));
            }
        }
        DockerIgnore { rules }
    }

    /// Whether the context path `rel` (relative, `/`-separated) is excluded.
    pub fn excludes(&self, rel: &Path) -> bool {
        let mut excluded = false;
        for (glob, include) in &self.rules {
            // A pattern matching a parent directory covers everything under it.
            if rel
                .ancestors()
                .filter(|a| !a.as_os_str().is_empty())
                .any(|a| glob.is_match(a))
            {
                excluded = !include;
            }
        }
        excluded
    }
}

/// `pattern` without a leading `/`, `./` or trailing `/`, and with `.` elements gone.
fn clean(pattern: &str) -> String {
    pattern
        .split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_exclude_and_exceptions_include_as_docker_does() {
        let ignore = DockerIgnore::parse("# c\n/secret\n*.log\n!keep.log\nbuild/**\ndocs\n");
        let ex = |p: &str| ignore.excludes(Path::new(p));
        assert!(ex("secret") && ex("secret/key"));
        assert!(ex("a.log") && !ex("keep.log") && !ex("dir/a.log"));
        assert!(ex("build/x/y") && ex("docs/index.md"));
        assert!(!ex("src/main.rs") && !ex("secrets"));
    }
}
