//! Just enough ELF to tell a static executable from a dynamic one: a dynamic one names
//! its loader in a `PT_INTERP` program header.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

const PT_INTERP: u32 = 3;

/// Whether `path` is a 64-bit little-endian ELF executable with no program interpreter,
/// i.e. one that runs without any shared library from the host.
pub fn is_static_executable(path: &Path) -> io::Result<bool> {
    let mut file = File::open(path)?;
    let mut header = [0u8; 64];
    if file.read_exact(&mut header).is_err() {
        return Ok(false);
    }
    // ELF magic, ELFCLASS64, ELFDATA2LSB.
    if header[..4] != *b"\x7fELF" || header[4] != 2 || header[5] != 1 {
        return Ok(false);
    }
    let phoff = u64::from_le_bytes(header[32..40].try_into().expect("8 bytes"));
    let phentsize = u16::from_le_bytes([header[54], header[55]]);
    let phnum = u16::from_le_bytes([header[56], header[57]]);
    let mut entry = vec![0u8; usize::from(phentsize)];
    for index in 0..u64::from(phnum) {
        file.seek(SeekFrom::Start(phoff + index * u64::from(phentsize)))?;
        file.read_exact(&mut entry)?;
        let p_type = u32::from_le_bytes(entry[..4].try_into().expect("4 bytes"));
        if p_type == PT_INTERP {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dynamic_host_binary_is_not_static() {
        assert!(!is_static_executable(Path::new("/bin/ls")).unwrap());
        assert!(!is_static_executable(Path::new("/etc/passwd")).unwrap());
    }
}
