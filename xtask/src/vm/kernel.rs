//! The guest kernel: Debian's `linux-image-amd64` as installed on this machine
//! (`/boot/vmlinuz-<ver>` with `/lib/modules/<ver>`), and the modules the checks need
//! with everything they depend on, in load order, from `modules.dep`.

use std::path::{Path, PathBuf};

/// Modules loaded in the guest, by name: overlayfs for image layers, veth and bridge
/// for the network lessons and checks.
pub const WANTED_MODULES: [&str; 3] = ["overlay", "veth", "bridge"];

/// One installed kernel.
#[derive(Debug)]
pub struct Kernel {
    pub version: String,
    pub image: PathBuf,
    pub modules: PathBuf,
}

/// The oldest kernel vessel runs on: overlayfs takes `lowerdir+` from Linux 6.8.
pub const MIN_VERSION: [u64; 2] = [6, 8];

impl Kernel {
    /// The newest installed kernel, installing Debian's (from backports on bookworm)
    /// when none is new enough.
    pub fn for_vm() -> Result<Kernel, String> {
        if let Ok(kernel) = Kernel::installed()
            && kernel.is_new_enough()
        {
            return Ok(kernel);
        }
        crate::packages::install_vm_kernel()?;
        let kernel = Kernel::installed()?;
        if kernel.is_new_enough() {
            Ok(kernel)
        } else {
            Err(format!(
                "the newest installed kernel, {}, is older than Linux {}.{}, which vessel needs \
                 (overlayfs lowerdir+): install a newer linux-image-amd64",
                kernel.version, MIN_VERSION[0], MIN_VERSION[1]
            ))
        }
    }

    fn is_new_enough(&self) -> bool {
        version_key(&self.version).as_slice() >= MIN_VERSION.as_slice()
    }

    /// The newest kernel in `/boot` that has its modules installed.
    pub fn installed() -> Result<Kernel, String> {
        let boot = std::fs::read_dir("/boot").map_err(|e| format!("read /boot: {e}"))?;
        let mut found: Vec<Kernel> = boot
            .filter_map(|entry| {
                let name = entry.ok()?.file_name().into_string().ok()?;
                let version = name.strip_prefix("vmlinuz-")?.to_owned();
                let modules = Path::new("/lib/modules").join(&version);
                modules.join("modules.dep").is_file().then(|| Kernel {
                    image: Path::new("/boot").join(&name),
                    modules,
                    version,
                })
            })
            .collect();
        found.sort_by_key(|k| version_key(&k.version));
        found.pop().ok_or_else(|| {
            "no /boot/vmlinuz-<version> with /lib/modules/<version>/modules.dep: \
             install linux-image-amd64 (`apt-get install linux-image-amd64`)"
                .to_owned()
        })
    }

    /// The `.ko` files (relative to [`Kernel::modules`]) for `wanted`, dependencies
    /// first, each once. A module built into the kernel (in `modules.builtin`) needs no
    /// file and is skipped.
    pub fn module_files(&self, wanted: &[&str]) -> Result<Vec<String>, String> {
        let read = |file: &str| {
            std::fs::read_to_string(self.modules.join(file))
                .map_err(|e| format!("read {}/{file}: {e}", self.modules.display()))
        };
        let dep = read("modules.dep")?;
        let builtin = read("modules.builtin").unwrap_or_default();
        load_order(&dep, &builtin, wanted)
    }
}

/// The contents of module `file` (a path from [`Kernel::module_files`]) as an
/// uncompressed `.ko` for busybox `insmod`, with its name: Debian compresses modules
/// with xz since 6.x.
pub fn module_contents(kernel: &Kernel, file: &str) -> Result<(String, Vec<u8>), String> {
    let path = kernel.modules.join(file);
    let unpack = |program: &str, name: &str| {
        let out = std::process::Command::new(program)
            .arg("-dc")
            .arg(&path)
            .output()
            .map_err(|e| format!("{program} -dc {}: {e}", path.display()))?;
        if !out.status.success() {
            return Err(format!(
                "{program} -dc {}: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok((name.to_owned(), out.stdout))
    };
    if let Some(name) = file.strip_suffix(".xz") {
        unpack("xz", name)
    } else if let Some(name) = file.strip_suffix(".zst") {
        unpack("zstd", name)
    } else if let Some(name) = file.strip_suffix(".gz") {
        unpack("gzip", name)
    } else {
        let data = std::fs::read(&path).map_err(|e| format!("read {}: {e}", path.display()))?;
        Ok((file.to_owned(), data))
    }
}

/// `6.1.0-56-amd64` → `[6, 1, 0, 56]`, so 6.10 sorts after 6.9.
fn version_key(version: &str) -> Vec<u64> {
    version
        .split(['.', '-'])
        .map_while(|part| part.parse().ok())
        .collect()
}

/// The module name of a `modules.dep` path: `kernel/fs/overlayfs/overlay.ko` →
/// `overlay`; the kernel treats `-` and `_` alike.
fn module_name(path: &str) -> String {
    let file = path.rsplit('/').next().unwrap_or(path);
    let stem = file.split(".ko").next().unwrap_or(file);
    stem.replace('-', "_")
}

/// Resolves `wanted` against `modules.dep` (`path: dep dep …`, each dep's own deps
/// listed too, nearest last), giving paths in an order `insmod` can load them.
fn load_order(dep: &str, builtin: &str, wanted: &[&str]) -> Result<Vec<String>, String> {
    let mut order: Vec<String> = Vec::new();
    for name in wanted {
        let name = name.replace('-', "_");
        let is_builtin = builtin.lines().any(|line| module_name(line) == name);
        let line = dep.lines().find(|line| {
            line.split_once(':')
                .is_some_and(|(path, _)| module_name(path) == name)
        });
        let Some(line) = line else {
            if is_builtin {
                continue;
            }
            return Err(format!(
                "module {name} is neither in modules.dep nor built in: this kernel cannot run the checks that need it"
            ));
        };
        let (path, deps) = line.split_once(':').unwrap_or((line, ""));
        // modules.dep lists the deepest dependency last: load in reverse.
        for needed in deps.split_whitespace().rev().chain([path]) {
            if !order.iter().any(|p| p == needed) {
                order.push(needed.to_owned());
            }
        }
    }
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEP: &str = "\
kernel/fs/overlayfs/overlay.ko:
kernel/net/bridge/bridge.ko: kernel/net/802/stp.ko kernel/net/llc/llc.ko
kernel/net/802/stp.ko: kernel/net/llc/llc.ko
kernel/net/llc/llc.ko:
kernel/drivers/net/veth.ko:
";

    #[test]
    fn dependencies_load_first_and_once() {
        let order = load_order(DEP, "", &["bridge", "overlay", "veth", "llc"]).unwrap();
        assert_eq!(
            order,
            [
                "kernel/net/llc/llc.ko",
                "kernel/net/802/stp.ko",
                "kernel/net/bridge/bridge.ko",
                "kernel/fs/overlayfs/overlay.ko",
                "kernel/drivers/net/veth.ko",
            ]
        );
    }

    #[test]
    fn built_in_modules_need_no_file_and_unknown_ones_are_an_error() {
        let builtin = "kernel/fs/overlayfs/overlay.ko\n";
        assert_eq!(
            load_order("", builtin, &["overlay"]).unwrap(),
            Vec::<String>::new()
        );
        let error = load_order(DEP, "", &["nosuch"]).unwrap_err();
        assert!(error.contains("module nosuch"), "{error}");
    }

    #[test]
    fn compressed_module_names_resolve() {
        let dep = "kernel/fs/overlayfs/overlay.ko.xz:\n";
        assert_eq!(
            load_order(dep, "", &["overlay"]).unwrap(),
            ["kernel/fs/overlayfs/overlay.ko.xz"]
        );
    }

    #[test]
    fn versions_sort_numerically() {
        let mut versions = ["6.10.0-1-amd64", "6.9.0-3-amd64", "6.1.0-56-amd64"];
        versions.sort_by_key(|v| version_key(v));
        assert_eq!(
            versions,
            ["6.1.0-56-amd64", "6.9.0-3-amd64", "6.10.0-1-amd64"]
        );
    }
}
