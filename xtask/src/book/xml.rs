//! Is this file well-formed XML? The book's diagrams are hand-written SVG, and a browser
//! shows a broken SVG as a broken-image icon without any error, so CI parses each one.
//!
//! This checks the XML 1.0 well-formedness rules a hand-edited SVG can break: one root
//! element, every tag closed in order, quoted and unique attributes, `<` and `&` only as
//! markup or entity references, comments without `--`. It does not validate against the
//! SVG schema, and it accepts no DTD-defined entities (an SVG has none).

/// `Ok` if `text` is well-formed; otherwise what is wrong and on which line.
pub fn check_well_formed(text: &str) -> Result<(), String> {
    Parser { text, pos: 0 }
        .document()
        .map_err(|(pos, problem)| format!("line {}: {problem}", line_of(text, pos)))
}

type Failure = (usize, String);

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn document(&mut self) -> Result<(), Failure> {
        let mut open: Vec<&'a str> = Vec::new();
        let mut root_done = false;
        let mut root_seen = false;
        while self.pos < self.text.len() {
            let rest = &self.text[self.pos..];
            let Some(lt) = rest.find('<') else {
                self.text_run(rest, open.is_empty())?;
                self.pos = self.text.len();
                break;
            };
            self.text_run(&rest[..lt], open.is_empty())?;
            self.pos += lt;
            let rest = &self.text[self.pos..];
            if rest.starts_with("<?") {
                self.skip_past("?>")?;
            } else if let Some(body) = rest.strip_prefix("<!--") {
                let end = body
                    .find("-->")
                    .ok_or_else(|| self.fail("comment never closed"))?;
                if body[..end].contains("--") {
                    return Err(self.fail("`--` inside a comment"));
                }
                self.pos += 4 + end + 3;
            } else if rest.starts_with("<![CDATA[") {
                if open.is_empty() {
                    return Err(self.fail("CDATA outside the root element"));
                }
                self.skip_past("]]>")?;
            } else if rest.starts_with("<!DOCTYPE") {
                if root_seen {
                    return Err(self.fail("DOCTYPE after the root element"));
                }
                self.skip_past(if rest.contains('[') { "]>" } else { ">" })?;
            } else if rest.starts_with("</") {
                self.pos += 2;
                let name = self.name()?;
                self.skip_space();
                self.expect(">")?;
                match open.pop() {
                    Some(expected) if expected == name => {}
                    Some(expected) => {
                        return Err(self.fail(&format!("</{name}> closes <{expected}>")));
                    }
                    None => return Err(self.fail(&format!("</{name}> closes nothing"))),
                }
                root_done = open.is_empty();
            } else {
                if root_done {
                    return Err(self.fail("a second root element"));
                }
                root_seen = true;
                self.pos += 1;
                let (name, empty) = self.start_tag()?;
                if empty {
                    root_done = open.is_empty();
                } else {
                    open.push(name);
                }
            }
        }
        if let Some(name) = open.last() {
            return Err(self.fail(&format!("<{name}> is never closed")));
        }
        if !root_seen {
            return Err(self.fail("no root element"));
        }
        Ok(())
    }

    /// The rest of a start tag after `<`: its name, attributes, and whether it is `/>`.
    fn start_tag(&mut self) -> Result<(&'a str, bool), Failure> {
        let name = self.name()?;
        let mut seen: Vec<&'a str> = Vec::new();
        loop {
            let spaced = self.skip_space();
            let rest = &self.text[self.pos..];
            if rest.starts_with("/>") {
                self.pos += 2;
                return Ok((name, true));
            }
            if rest.starts_with('>') {
                self.pos += 1;
                return Ok((name, false));
            }
            if rest.is_empty() {
                return Err(self.fail(&format!("<{name} never closed")));
            }
            if !spaced {
                return Err(self.fail(&format!("<{name}>: attributes need a space between")));
            }
            let attribute = self.name()?;
            if seen.contains(&attribute) {
                return Err(self.fail(&format!("<{name}>: attribute {attribute} twice")));
            }
            seen.push(attribute);
            self.skip_space();
            self.expect("=")?;
            self.skip_space();
            let quote = self.text[self.pos..].chars().next();
            let Some(quote @ ('"' | '\'')) = quote else {
                return Err(self.fail(&format!("<{name}>: {attribute}= needs a quoted value")));
            };
            self.pos += 1;
            let value_len = self.text[self.pos..]
                .find(quote)
                .ok_or_else(|| self.fail(&format!("<{name}>: {attribute} never closed")))?;
            let value = &self.text[self.pos..self.pos + value_len];
            if value.contains('<') {
                return Err(self.fail(&format!("<{name}>: `<` in attribute {attribute}")));
            }
            self.references(value)?;
            self.pos += value_len + 1;
        }
    }

    /// Character data: only whitespace outside the root, and `&` only as a reference.
    fn text_run(&self, run: &str, outside_root: bool) -> Result<(), Failure> {
        if outside_root && !run.trim().is_empty() {
            return Err(self.fail("text outside the root element"));
        }
        if run.contains("]]>") {
            return Err(self.fail("`]]>` in text"));
        }
        self.references(run)
    }

    /// Every `&` in `run` starts `&name;`, `&#digits;` or `&#xhex;` with a predefined name.
    fn references(&self, run: &str) -> Result<(), Failure> {
        for (i, _) in run.match_indices('&') {
            let after = &run[i + 1..];
            let body = after.split(';').next().unwrap_or_default();
            let ok = after.contains(';')
                && match body.strip_prefix('#') {
                    Some(hex) if hex.starts_with('x') => {
                        hex.len() > 1 && hex[1..].chars().all(|c| c.is_ascii_hexdigit())
                    }
                    Some(dec) => !dec.is_empty() && dec.chars().all(|c| c.is_ascii_digit()),
                    None => ["amp", "lt", "gt", "quot", "apos"].contains(&body),
                };
            if !ok {
                return Err(self.fail("`&` that is not &amp; &lt; &gt; &quot; &apos; or &#N;"));
            }
        }
        Ok(())
    }

    fn name(&mut self) -> Result<&'a str, Failure> {
        let text: &'a str = self.text;
        let rest = &text[self.pos..];
        let len = rest
            .find(|c: char| !(c.is_alphanumeric() || matches!(c, '-' | '_' | ':' | '.')))
            .unwrap_or(rest.len());
        let name = &rest[..len];
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
            return Err(self.fail("expected a name"));
        }
        self.pos += len;
        Ok(name)
    }

    /// Skips whitespace; says whether there was any.
    fn skip_space(&mut self) -> bool {
        let rest = &self.text[self.pos..];
        let len = rest.len() - rest.trim_start().len();
        self.pos += len;
        len > 0
    }

    fn expect(&mut self, token: &str) -> Result<(), Failure> {
        if self.text[self.pos..].starts_with(token) {
            self.pos += token.len();
            Ok(())
        } else {
            Err(self.fail(&format!("expected `{token}`")))
        }
    }

    fn skip_past(&mut self, end: &str) -> Result<(), Failure> {
        let at = self.text[self.pos..]
            .find(end)
            .ok_or_else(|| self.fail(&format!("`{end}` never comes")))?;
        self.pos += at + end.len();
        Ok(())
    }

    fn fail(&self, problem: &str) -> Failure {
        (self.pos, problem.to_owned())
    }
}

fn line_of(text: &str, pos: usize) -> usize {
    text[..pos.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::check_well_formed;

    const GOOD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- a diagram -->
<svg xmlns="http://www.w3.org/2000/svg" viewBox='0 0 10 10'>
  <title>a &amp; b &#x2192; c &#8594;</title>
  <style><![CDATA[ text { font: 12px sans-serif } ]]></style>
  <rect x="1" y="1" width="8" height="8"/>
  <text x="5" y="5">lower &lt; upper</text>
</svg>
"#;

    #[test]
    fn accepts_a_well_formed_svg() {
        assert_eq!(check_well_formed(GOOD), Ok(()));
    }

    #[test]
    fn rejects_each_kind_of_mistake_with_its_line() {
        let cases = [
            ("<svg><g></svg>", "</svg> closes <g>"),
            ("<svg>\n<rect>", "line 2: <rect> is never closed"),
            ("<svg x=1/>", "needs a quoted value"),
            ("<svg x='1'y='2'/>", "need a space between"),
            ("<svg x='1' x='2'/>", "attribute x twice"),
            ("<svg/><svg/>", "a second root element"),
            ("hello <svg/>", "text outside the root element"),
            ("<svg>a & b</svg>", "`&` that is not"),
            ("<svg>&nbsp;</svg>", "`&` that is not"),
            ("<svg><!-- a -- b --></svg>", "`--` inside a comment"),
            ("<svg a='<'/>", "`<` in attribute a"),
            ("</svg>", "closes nothing"),
            ("", "no root element"),
        ];
        for (text, expected) in cases {
            let problem = check_well_formed(text).expect_err(text);
            assert!(problem.contains(expected), "{text:?}: {problem}");
        }
    }
}
