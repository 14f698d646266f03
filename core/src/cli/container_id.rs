//! Container ids: 12 random hex digits, like the short ids docker prints.

use std::fs::File;
use std::io::Read;

/// A fresh random id, read from the kernel's random source.
pub fn new_id() -> String {
    let mut bytes = [0u8; 6];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .expect("read /dev/urandom");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
