//! Docker's variable substitution in instruction arguments: `$NAME`, `${NAME}`,
//! `${NAME:-default}` (default when unset or empty), `${NAME:+alternative}` (alternative
//! when set), and `\$` for a literal dollar. An unknown variable expands to nothing.
//!
//! Docker expands variables in ADD, COPY, ENV, EXPOSE, FROM, LABEL, USER, VOLUME and
//! WORKDIR, but not in RUN, CMD or ENTRYPOINT: there the shell (if any) does it, at run
//! time, with the build's ARGs and the image's ENVs in its environment.

use std::collections::BTreeMap;

/// Variables in scope: the ARGs declared so far and the image's ENVs (ENV wins).
pub type Vars = BTreeMap<String, String>;

/// `text` with every variable reference replaced.
pub fn expand(text: &str, vars: &Vars) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'$') => {
                out.push('$');
                chars.next();
            }
            '$' => match chars.peek() {
                Some('{') => {
                    chars.next();
                    let mut inner = String::new();
                    let mut depth = 1;
                    for c in chars.by_ref() {
                        match c {
                            '{' => depth += 1,
                            '}' => {
                                depth -= 1;
                                if depth == 0 {
                                    break;
                                }
                            }
                            _ => {}
                        }
                        inner.push(c);
                    }
                    out.push_str(&braced(&inner, vars));
                }
                Some(c) if c.is_ascii_alphanumeric() || *c == '_' => {
                    let mut name = String::new();
                    while let Some(c) = chars
                        .peek()
                        .filter(|c| c.is_ascii_alphanumeric() || **c == '_')
                    {
                        name.push(*c);
                        chars.next();
                    }
                    out.push_str(vars.get(&name).map_or("", String::as_str));
                }
                _ => out.push('$'),
            },
            c => out.push(c),
        }
    }
    out
}

/// `NAME`, `NAME:-word` or `NAME:+word` (the inside of `${…}`).
fn braced(inner: &str, vars: &Vars) -> String {
    let value = |name: &str| vars.get(name).map(String::as_str);
    if let Some((name, word)) = inner.split_once(":-") {
        match value(name) {
            Some(v) if !v.is_empty() => v.to_owned(),
            _ => expand(word, vars),
        }
    } else if let Some((name, word)) = inner.split_once(":+") {
        match value(name) {
            Some(v) if !v.is_empty() => expand(word, vars),
            _ => String::new(),
        }
    } else {
        value(inner).unwrap_or_default().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_expand_as_docker_expands_them() {
        let vars: Vars = [("A", "1"), ("EMPTY", "")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        assert_eq!(expand("/x/$A/${A}y", &vars), "/x/1/1y");
        assert_eq!(expand("${NOPE:-d} ${EMPTY:-e} ${A:-f}", &vars), "d e 1");
        assert_eq!(expand("${A:+set}|${NOPE:+set}", &vars), "set|");
        assert_eq!(expand(r"\$A $ $NOPE.", &vars), "$A $ .");
    }
}
