//! A tiny JSON object writer: the probe has no dependencies but libc, so that its static
//! build is quick and the same on every machine.

use std::fmt::Write;

/// One JSON object being written, field by field.
#[derive(Debug, Default)]
pub struct Object {
    fields: Vec<String>,
}

impl Object {
    /// An object whose `kind` field names what it reports.
    pub fn kind(kind: &str) -> Object {
        let mut object = Object::default();
        object.str("kind", kind);
        object
    }

    /// Adds a string field.
    pub fn str(&mut self, key: &str, value: &str) -> &mut Self {
        self.raw(key, quote(value))
    }

    /// Adds an integer field.
    pub fn int(&mut self, key: &str, value: i64) -> &mut Self {
        self.raw(key, value.to_string())
    }

    /// Adds a boolean field.
    pub fn bool(&mut self, key: &str, value: bool) -> &mut Self {
        self.raw(key, value.to_string())
    }

    /// Adds an array of strings.
    pub fn strs<S: AsRef<str>>(&mut self, key: &str, values: &[S]) -> &mut Self {
        let items: Vec<String> = values.iter().map(|v| quote(v.as_ref())).collect();
        self.raw(key, format!("[{}]", items.join(",")))
    }

    /// Adds an array of integers.
    pub fn ints(&mut self, key: &str, values: &[i64]) -> &mut Self {
        let items: Vec<String> = values.iter().map(i64::to_string).collect();
        self.raw(key, format!("[{}]", items.join(",")))
    }

    /// Adds a nested object.
    pub fn object(&mut self, key: &str, value: &Object) -> &mut Self {
        self.raw(key, value.render())
    }

    /// Adds an already-encoded JSON value.
    pub fn raw(&mut self, key: &str, json: String) -> &mut Self {
        self.fields.push(format!("{}:{json}", quote(key)));
        self
    }

    /// The object as one line of JSON.
    pub fn render(&self) -> String {
        format!("{{{}}}", self.fields.join(","))
    }
}

/// A JSON string literal.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_as_json_requires() {
        assert_eq!(quote("a\"b\\c\nd\u{1}"), r#""a\"b\\c\nd\u0001""#);
    }

    #[test]
    fn an_object_renders_its_fields_in_order() {
        let mut o = Object::kind("report");
        o.int("pid", 1)
            .bool("ok", true)
            .strs("l", &["x"])
            .ints("n", &[1, 2]);
        assert_eq!(
            o.render(),
            r#"{"kind":"report","pid":1,"ok":true,"l":["x"],"n":[1,2]}"#
        );
    }
}
