//! Extended attributes in a tar: PAX records `SCHILY.xattr.NAME=VALUE` (the convention
//! GNU tar, docker and containerd share), written in an `x` header before the entry.

use std::ffi::OsStr;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::whiteout::OVERLAY_XATTR_PREFIX;

/// The xattrs of `path` that belong in a layer: all but overlay's own bookkeeping.
pub(crate) fn layer_xattrs(path: &Path) -> io::Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut found = Vec::new();
    for name in xattr::list(path)? {
        let bytes = OsStr::as_bytes(&name);
        if bytes.starts_with(OVERLAY_XATTR_PREFIX.as_bytes()) {
            continue;
        }
        if let Some(value) = xattr::get(path, &name)? {
            let mut key = b"SCHILY.xattr.".to_vec();
            key.extend_from_slice(bytes);
            found.push((key, value));
        }
    }
    Ok(found)
}

/// One PAX record: `LENGTH KEY=VALUE\n`, where LENGTH counts its own digits too.
fn record(key: &[u8], value: &[u8]) -> Vec<u8> {
    let body = key.len() + value.len() + 3; // ' ', '=', '\n'
    let mut total = body + body.to_string().len();
    if total.to_string().len() > body.to_string().len() {
        total += 1;
    }
    let mut out = total.to_string().into_bytes();
    out.push(b' ');
    out.extend_from_slice(key);
    out.push(b'=');
    out.extend_from_slice(value);
    out.push(b'\n');
    out
}

/// Appends a PAX header carrying `records`; it applies to the next entry appended.
pub(crate) fn append_pax<W: Write>(
    builder: &mut tar::Builder<W>,
    records: &[(Vec<u8>, Vec<u8>)],
) -> io::Result<()> {
    let data: Vec<u8> = records.iter().flat_map(|(k, v)| record(k, v)).collect();
    let mut header = tar::Header::new_ustar();
    header.set_entry_type(tar::EntryType::XHeader);
    header.set_path("././@PaxHeader")?;
    header.set_mode(0o644);
    header.set_size(data.len() as u64);
    header.set_cksum();
    builder.append(&header, &data[..])
}

#[cfg(test)]
mod tests {
    use super::record;

    #[test]
    fn a_record_counts_its_own_length() {
        assert_eq!(record(b"a", b"b"), b"6 a=b\n");
        // 97 bytes of body + 2 digits = 99: still two digits.
        let short = record(b"k", &[b'v'; 93]);
        assert_eq!((short.len(), &short[..3]), (99, &b"99 "[..]));
        // 99 + 2 = 101 needs a third digit, which makes it 102.
        let long = record(b"k", &[b'v'; 95]);
        assert_eq!((long.len(), &long[..4]), (102, &b"102 "[..]));
    }
}
