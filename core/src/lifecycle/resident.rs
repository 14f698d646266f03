//! What the shim keeps resident once its container runs.
//!
//! The shim is a fork of the `vessel` that started the container, and starting one runs
//! a lot of vessel's code (plan, seccomp compiler, overlay, network): every page of it
//! the shim touched stays mapped, counted in its RSS for as long as the container lives,
//! though from then on the shim only relays output and waits. Measured on a release
//! build: 7.2 MB RSS, 6.3 MB of it vessel's and libc's code and read-only data.
//!
//! Those pages are file-backed and clean, so dropping them from the shim's page tables
//! (`MADV_DONTNEED`) loses nothing: the page cache keeps them while others use them, and
//! the shim faults back the few its loop runs. Only mappings that hold no anonymous page
//! are dropped: a private file mapping written to (the relocated `.data.rel.ro`, where
//! the dynamic loader wrote addresses) would fall back to the file's unrelocated bytes.
//! The heap's free memory goes back with `malloc_trim`.

use std::io;

/// One mapping of `/proc/self/smaps`: where it is, and whether it may be dropped.
#[derive(Debug, PartialEq, Eq)]
struct Mapping {
    start: usize,
    end: usize,
    /// A private, read-only mapping of a file, with no page copied on write.
    clean_file: bool,
}

/// Gives back what starting the container needed and the shim's loop does not.
pub fn shed_start_up_memory() {
    // SAFETY: malloc_trim only hands free heap memory back to the kernel; no allocation
    // is live in what it releases.
    unsafe { libc::malloc_trim(0) };
    let _ = drop_clean_file_pages();
}

/// `MADV_DONTNEED` on every clean, read-only private file mapping of this process.
fn drop_clean_file_pages() -> io::Result<()> {
    let smaps = std::fs::read_to_string("/proc/self/smaps")?;
    for mapping in parse(&smaps).iter().filter(|m| m.clean_file) {
        // The range is a whole private, non-writable mapping that held no anonymous page
        // when smaps was read just now (a read-only mapping gains one only after an
        // `mprotect` that makes it writable, which vessel never does).
        // SAFETY: so every page in it equals the file's and faults back in from the
        // page cache on the next access: dropping it loses nothing.
        unsafe {
            libc::madvise(
                mapping.start as *mut libc::c_void,
                mapping.end - mapping.start,
                libc::MADV_DONTNEED,
            )
        };
    }
    Ok(())
}

/// The mappings of a `/proc/PID/smaps` text: `START-END PERMS OFFSET DEV INODE PATH`
/// lines, each followed by `Key: value` lines, `Anonymous:` among them.
fn parse(smaps: &str) -> Vec<Mapping> {
    let mut mappings: Vec<Mapping> = Vec::new();
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        let Some(first) = fields.next() else {
            continue;
        };
        if let Some((start, end)) = first.split_once('-')
            && let (Ok(start), Ok(end)) = (
                usize::from_str_radix(start, 16),
                usize::from_str_radix(end, 16),
            )
        {
            let perms = fields.next().unwrap_or("");
            let path = fields.nth(3).unwrap_or("");
            mappings.push(Mapping {
                start,
                end,
                // Read-only and private (`r--p`, `r-xp`), backed by a file (not the
                // heap, the stack, the vDSO or an anonymous mapping).
                clean_file: perms.starts_with('r')
                    && perms.as_bytes().get(1) == Some(&b'-')
                    && perms.ends_with('p')
                    && path.starts_with('/'),
            });
        } else if first == "Anonymous:"
            && fields.next() != Some("0")
            && let Some(last) = mappings.last_mut()
        {
            last.clean_file = false;
        }
    }
    mappings
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsRawFd;

    use super::*;

    const SMAPS: &str = "\
55d0a0000000-55d0a0400000 r--p 00000000 fd:01 1234 /usr/bin/vessel
Rss:                1024 kB
Anonymous:             0 kB
55d0a0400000-55d0a0900000 r-xp 00400000 fd:01 1234 /usr/bin/vessel
Anonymous:             0 kB
55d0a0900000-55d0a0980000 r--p 00900000 fd:01 1234 /usr/bin/vessel
Anonymous:           472 kB
55d0a0980000-55d0a0982000 rw-p 00980000 fd:01 1234 /usr/bin/vessel
Anonymous:             8 kB
55d0a1000000-55d0a1100000 rw-p 00000000 00:00 0 [heap]
Anonymous:           344 kB
7ffd1000000-7ffd1002000 r-xp 00000000 00:00 0 [vdso]
Anonymous:             0 kB
";

    #[test]
    fn only_read_only_file_mappings_without_copied_pages_are_dropped() {
        let clean: Vec<bool> = parse(SMAPS).iter().map(|m| m.clean_file).collect();
        // rodata and text yes; the relocated relro (anonymous pages), .data, the heap
        // and the vDSO no.
        assert_eq!(clean, [true, true, false, false, false, false]);
        assert_eq!(parse(SMAPS)[1].start, 0x55d0_a040_0000);
    }

    fn rss_kib_of(start: usize) -> u64 {
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let head = format!("{start:x}-");
        let mut lines = smaps.lines().skip_while(|l| !l.starts_with(&head)).skip(1);
        lines
            .find_map(|l| l.strip_prefix("Rss:"))
            .map(|v| v.trim().trim_end_matches(" kB").trim().parse().unwrap())
            .unwrap()
    }

    /// A read-only file mapping the process has read is resident, and is not once
    /// dropped; a private mapping written to and then made read-only (what the dynamic
    /// loader does to `.data.rel.ro`) keeps what was written.
    #[test]
    fn dropping_clean_pages_frees_them_and_keeps_written_ones() {
        const LEN: usize = 64 * 4096;
        let file = tempfile::tempfile().unwrap();
        file.set_len(LEN as u64).unwrap();
        let map = |prot| {
            // SAFETY: a fresh private mapping of a file we own, unmapped below.
            let p = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    LEN,
                    prot,
                    libc::MAP_PRIVATE,
                    file.as_raw_fd(),
                    0,
                )
            };
            assert_ne!(p, libc::MAP_FAILED);
            p as usize
        };
        let read_only = map(libc::PROT_READ);
        let relocated = map(libc::PROT_READ | libc::PROT_WRITE);
        let mut sum = 0u64;
        for page in 0..64 {
            // SAFETY: both mappings are 64 pages long and readable, `relocated` writable.
            unsafe {
                sum += u64::from(*((read_only + page * 4096) as *const u8));
                *((relocated + page * 4096) as *mut u8) = 7;
            }
        }
        // SAFETY: `relocated` is our own mapping of LEN bytes; nothing writes it after.
        let protected =
            unsafe { libc::mprotect(relocated as *mut libc::c_void, LEN, libc::PROT_READ) };
        assert_eq!(protected, 0);
        assert_eq!(sum, 0);
        assert_eq!(rss_kib_of(read_only), 256);
        drop_clean_file_pages().unwrap();
        assert_eq!(rss_kib_of(read_only), 0);
        // SAFETY: still mapped and readable; every page's first byte was written 7.
        assert_eq!(unsafe { *((relocated + 63 * 4096) as *const u8) }, 7);
        for p in [read_only, relocated] {
            // SAFETY: unmapping what we mapped above.
            unsafe { libc::munmap(p as *mut libc::c_void, LEN) };
        }
    }
}
