//! Building the binaries the guest runs, statically linked: the guest has no libc of its
//! own (its root filesystem is the initramfs), so every program must carry its own.
//!
//! There is no musl target on this machine and none can be fetched, so the binaries are
//! glibc ones linked with `-C target-feature=+crt-static` (static-pie). That needs an
//! explicit `--target`, or the flag would also reach build scripts and proc macros, and
//! its own target directory, so it never invalidates the normal build's cache. Each
//! result is checked: an executable with a `PT_INTERP` program header would need a
//! dynamic loader the guest does not have.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use vessel_conformance::static_build::{self, TARGET};

use crate::shell;

/// The executables of one build: cargo target name → path.
#[derive(Debug, Default)]
pub struct Built {
    pub bins: Vec<(String, PathBuf)>,
}

impl Built {
    /// The executable of target `name`.
    pub fn get(&self, name: &str) -> Result<&Path, String> {
        self.bins
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, p)| p.as_path())
            .ok_or_else(|| format!("cargo built no executable named {name}"))
    }
}

/// Where the static build goes, apart from the normal one.
pub fn target_dir() -> PathBuf {
    shell::root().join(static_build::STATIC_TARGET_DIR)
}

/// Runs `cargo <subcommand> <args>` statically linked for the guest and returns the
/// executables cargo reports; fails if any of them is not static.
pub fn cargo_static(subcommand: &str, args: &[&str]) -> Result<Built, String> {
    let target_dir = target_dir();
    let mut command = static_build::cargo(Path::new(&shell::cargo()), &shell::root(), subcommand);
    // A release build (vm-bench-peers) without debug info too: the initramfs is copied
    // into the guest's memory, and symbols change no instruction.
    command
        .env("CARGO_PROFILE_RELEASE_STRIP", "debuginfo")
        .arg("--message-format=json-render-diagnostics")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    println!(
        "xtask: $ RUSTFLAGS='-C target-feature=+crt-static' cargo {subcommand} --target {TARGET} --target-dir {} {}",
        target_dir.display(),
        args.join(" ")
    );
    let output = command
        .output()
        .map_err(|e| format!("run cargo {subcommand}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "the static build (`cargo {subcommand} {}`) failed ({})",
            args.join(" "),
            output.status
        ));
    }
    let built = executables(&String::from_utf8_lossy(&output.stdout));
    for (_, path) in &built.bins {
        check_static(path)?;
    }
    Ok(built)
}

/// The `compiler-artifact` messages that name an executable.
fn executables(json_lines: &str) -> Built {
    let mut built = Built::default();
    for line in json_lines.lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if message["reason"] != "compiler-artifact" {
            continue;
        }
        let (Some(name), Some(executable)) = (
            message["target"]["name"].as_str(),
            message["executable"].as_str(),
        ) else {
            continue;
        };
        built
            .bins
            .push((name.to_owned(), PathBuf::from(executable)));
    }
    built
}

/// Fails unless `path` is an ELF executable without a program interpreter.
pub fn check_static(path: &Path) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("read {}: {e}", path.display()))?;
    match interpreter(&bytes) {
        Ok(None) => Ok(()),
        Ok(Some(loader)) => Err(format!(
            "{} is dynamically linked (it asks for {loader}), but the VM has no libraries: \
             build it with RUSTFLAGS='-C target-feature=+crt-static'",
            path.display()
        )),
        Err(reason) => Err(format!("{}: {reason}", path.display())),
    }
}

/// The shared libraries a dynamic executable loads, and its loader, as `ldd` lists them
/// (absolute paths; symbolic links are followed when the file is copied).
pub fn shared_libraries(executable: &Path) -> Result<Vec<PathBuf>, String> {
    let out = Command::new("ldd")
        .arg(executable)
        .output()
        .map_err(|e| format!("ldd {}: {e}", executable.display()))?;
    if !out.status.success() {
        return Err(format!(
            "ldd {}: {}",
            executable.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(ldd_paths(&String::from_utf8_lossy(&out.stdout)))
}

/// The absolute paths in `ldd` output: `libc.so.6 => /lib/…/libc.so.6 (0x…)` and
/// `/lib64/ld-linux-x86-64.so.2 (0x…)`; the kernel's vDSO has none.
fn ldd_paths(ldd: &str) -> Vec<PathBuf> {
    ldd.lines()
        .filter_map(|line| {
            let path = match line.split_once("=>") {
                Some((_, right)) => right.split_whitespace().next()?,
                None => line.split_whitespace().next()?,
            };
            path.starts_with('/').then(|| PathBuf::from(path))
        })
        .collect()
}

/// The `PT_INTERP` path of a 64-bit little-endian ELF file, if it has one.
fn interpreter(elf: &[u8]) -> Result<Option<String>, String> {
    const PT_INTERP: u32 = 3;
    if elf.get(..6) != Some(b"\x7fELF\x02\x01".as_slice()) {
        return Err("not a 64-bit little-endian ELF file".to_owned());
    }
    let u16_at = |at: usize| {
        elf.get(at..at + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    let u32_at = |at: usize| {
        elf.get(at..at + 4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
    };
    let u64_at = |at: usize| {
        elf.get(at..at + 8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
    };
    let truncated = || "truncated ELF header".to_owned();
    let phoff = u64_at(0x20).ok_or_else(truncated)? as usize;
    let phentsize = u16_at(0x36).ok_or_else(truncated)? as usize;
    let phnum = u16_at(0x38).ok_or_else(truncated)? as usize;
    for i in 0..phnum {
        let header = phoff + i * phentsize;
        if u32_at(header).ok_or_else(truncated)? != PT_INTERP {
            continue;
        }
        let offset = u64_at(header + 8).ok_or_else(truncated)? as usize;
        let size = u64_at(header + 32).ok_or_else(truncated)? as usize;
        let path = elf.get(offset..offset + size).ok_or_else(truncated)?;
        return Ok(Some(
            String::from_utf8_lossy(path)
                .trim_end_matches('\0')
                .to_owned(),
        ));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dynamic_host_binary_names_its_loader() {
        let sh = std::fs::read("/bin/sh").unwrap();
        let loader = interpreter(&sh)
            .unwrap()
            .expect("/bin/sh is dynamic on Debian");
        assert!(loader.contains("ld-linux"), "{loader}");
    }

    #[test]
    fn a_static_busybox_has_no_loader() {
        let Ok(busybox) = std::fs::read("/bin/busybox") else {
            eprintln!("skipped: no /bin/busybox (busybox-static) here");
            return;
        };
        if busybox.windows(15).any(|w| w == b"/lib64/ld-linux") {
            eprintln!("skipped: /bin/busybox is not the static one");
            return;
        }
        assert_eq!(interpreter(&busybox).unwrap(), None);
    }

    #[test]
    fn ldd_output_gives_libraries_and_the_loader() {
        let ldd = "\tlinux-vdso.so.1 (0x00007ffd)\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x7f)\n\t/lib64/ld-linux-x86-64.so.2 (0x7f)\n";
        assert_eq!(
            ldd_paths(ldd),
            [
                PathBuf::from("/lib/x86_64-linux-gnu/libc.so.6"),
                PathBuf::from("/lib64/ld-linux-x86-64.so.2")
            ]
        );
    }

    #[test]
    fn cargo_messages_name_the_executables() {
        let lines = r#"{"reason":"compiler-artifact","target":{"name":"vessel"},"executable":"/t/vessel"}
{"reason":"compiler-artifact","target":{"name":"libc"},"executable":null}
{"reason":"build-finished","success":true}"#;
        let built = executables(lines);
        assert_eq!(built.get("vessel").unwrap(), Path::new("/t/vessel"));
        assert!(built.get("libc").is_err());
        assert_eq!(
            interpreter(b"not elf").unwrap_err(),
            "not a 64-bit little-endian ELF file"
        );
    }
}
