//! Just enough of the gettext PO format for the translation check: entries, their
//! `msgid`/`msgstr` text, the `fuzzy` flag, and filling a message whose translation is
//! itself. Edits are textual (the `msgid` lines copied as the `msgstr` lines), so a file
//! keeps the layout `msgmerge` gave it and a diff shows only what changed.

/// One entry of a PO file: its lines as written, and what they say.
pub struct Entry {
    pub lines: Vec<String>,
    pub msgid: String,
    pub msgstr: String,
    pub fuzzy: bool,
    /// `#~` lines: a message msgmerge kept from an older template.
    pub obsolete: bool,
}

impl Entry {
    /// The header (the entry with an empty `msgid`) is not a message.
    pub fn is_message(&self) -> bool {
        !self.msgid.is_empty() && !self.obsolete
    }

    pub fn untranslated(&self) -> bool {
        self.msgstr.is_empty()
    }

    /// Makes the translation a copy of the `msgid` and drops the fuzzy flag (and the
    /// `#|` previous-msgid lines msgmerge writes with it).
    pub fn translate_as_itself(&mut self) {
        let mut lines = Vec::new();
        let mut msgid = Vec::new();
        let mut in_msgid = false;
        let mut in_msgstr = false;
        for line in &self.lines {
            if line.starts_with("#|") {
                continue;
            }
            if let Some(flags) = line.strip_prefix("#,") {
                let flags: Vec<&str> = flags
                    .split(',')
                    .map(str::trim)
                    .filter(|f| !f.is_empty() && *f != "fuzzy")
                    .collect();
                if !flags.is_empty() {
                    lines.push(format!("#, {}", flags.join(", ")));
                }
                continue;
            }
            if line.starts_with("msgid ") {
                in_msgid = true;
                msgid.push(line.replacen("msgid", "msgstr", 1));
            } else if line.starts_with("msgstr ") {
                in_msgid = false;
                in_msgstr = true;
                lines.extend(msgid.iter().cloned());
                continue;
            } else if line.starts_with('"') {
                if in_msgid {
                    msgid.push(line.clone());
                } else if in_msgstr {
                    continue;
                }
            }
            lines.push(line.clone());
        }
        self.lines = lines;
        self.msgstr = self.msgid.clone();
        self.fuzzy = false;
    }
}

/// The entries of a PO file, in order (entries are separated by blank lines).
pub fn parse(text: &str) -> Vec<Entry> {
    text.split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            let lines: Vec<String> = block
                .lines()
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect();
            let obsolete = lines.iter().any(|l| l.starts_with("#~"));
            let fuzzy = lines
                .iter()
                .any(|l| l.starts_with("#,") && l[2..].split(',').any(|f| f.trim() == "fuzzy"));
            let (msgid, msgstr) = strings(&lines);
            Entry {
                lines,
                msgid,
                msgstr,
                fuzzy,
                obsolete,
            }
        })
        .collect()
}

/// The file again, from its entries.
pub fn write(entries: &[Entry]) -> String {
    let blocks: Vec<String> = entries.iter().map(|e| e.lines.join("\n")).collect();
    blocks.join("\n\n") + "\n"
}

/// The decoded `msgid` and `msgstr` of an entry's lines.
fn strings(lines: &[String]) -> (String, String) {
    let mut msgid = String::new();
    let mut msgstr = String::new();
    let mut current: Option<&mut String> = None;
    for line in lines {
        let line = line.strip_prefix("#~ ").unwrap_or(line);
        let quoted = if let Some(rest) = line.strip_prefix("msgid ") {
            current = Some(&mut msgid);
            rest
        } else if let Some(rest) = line.strip_prefix("msgstr ") {
            current = Some(&mut msgstr);
            rest
        } else if line.starts_with('"') {
            line
        } else {
            current = None;
            continue;
        };
        if let Some(target) = current.as_deref_mut() {
            target.push_str(&unquote(quoted));
        }
    }
    (msgid, msgstr)
}

/// `"a\"b\n"` → `a"b` and a newline.
fn unquote(quoted: &str) -> String {
    let inner = quoted
        .trim()
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or_default();
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "msgid \"\"\nmsgstr \"\"\n\"Language: zh-CN\\n\"\n\n\
#: src/a.md:1\n#, fuzzy\n#| msgid \"old\"\nmsgid \"\"\n\"```console\\n\"\n\"$ ls\\n\"\n\"```\"\nmsgstr \"x\"\n\n\
#: src/a.md:5\nmsgid \"A \\\"quoted\\\" word\"\nmsgstr \"\"\n";

    #[test]
    fn reads_and_fills_entries() {
        let mut entries = parse(FILE);
        assert_eq!(entries.len(), 3);
        assert!(!entries[0].is_message());
        assert!(entries[1].fuzzy);
        assert_eq!(entries[1].msgid, "```console\n$ ls\n```");
        assert_eq!(entries[2].msgid, "A \"quoted\" word");
        assert!(entries[2].untranslated());
        entries[1].translate_as_itself();
        let again = parse(&write(&entries));
        assert!(!again[1].fuzzy);
        assert_eq!(again[1].msgstr, "```console\n$ ls\n```");
        assert!(!write(&entries).contains("#|"));
    }
}
