//! The bundle: a directory with `config.json` (the OCI runtime spec) and a root
//! filesystem. Only the fields the track's levels use are read.

use std::ffi::CString;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// What the container should be, from `config.json`.
#[derive(Debug)]
pub struct Bundle {
    /// The root filesystem, absolute.
    pub root: PathBuf,
    /// The command: `args[0]` is a path *inside* the root filesystem.
    pub args: Vec<CString>,
    /// `KEY=VALUE` strings.
    pub env: Vec<CString>,
    /// The working directory inside the root filesystem.
    pub cwd: PathBuf,
    /// The hostname to set, if any.
    pub hostname: Option<String>,
    /// The namespace types asked for: `pid`, `uts`, `mount`, `ipc`, `network`, …
    pub namespaces: Vec<String>,
    /// `linux.cgroupsPath`: the container's cgroup, from each hierarchy's root
    /// (`/…/vessel/ID`).
    pub cgroups_path: Option<PathBuf>,
    /// The limits in `linux.resources` (level 6).
    pub limits: Limits,
}

/// The limits a bundle asks for; `None` leaves a resource unlimited.
#[derive(Debug, Default)]
pub struct Limits {
    /// `memory.limit`, in bytes.
    pub memory: Option<i64>,
    /// `cpu.quota` and `cpu.period`, in µs.
    pub cpu: Option<(i64, u64)>,
    /// `pids.limit`.
    pub pids: Option<i64>,
}

impl Bundle {
    /// Reads `DIR/config.json`.
    pub fn load(dir: &Path) -> crate::Result<Bundle> {
        let path = dir.join("config.json");
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("read {}: {e}", path.display()))?;
        let config: Value =
            serde_json::from_str(&text).map_err(|e| format!("parse {}: {e}", path.display()))?;
        let root = Path::new(config["root"]["path"].as_str().unwrap_or("rootfs"));
        let process = &config["process"];
        let namespaces = config["linux"]["namespaces"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        Ok(Bundle {
            root: dir.join(root),
            args: c_strings(&process["args"])?,
            env: c_strings(&process["env"])?,
            cwd: PathBuf::from(process["cwd"].as_str().unwrap_or("/")),
            hostname: config["hostname"].as_str().map(str::to_owned),
            namespaces: namespaces
                .iter()
                .filter_map(|n| n["type"].as_str().map(str::to_owned))
                .collect(),
            cgroups_path: config["linux"]["cgroupsPath"].as_str().map(PathBuf::from),
            limits: limits(&config["linux"]["resources"]),
        })
    }

    /// Whether `config.json` asks for a new namespace of type `kind` (`"uts"`, `"pid"`…).
    pub fn wants(&self, kind: &str) -> bool {
        self.namespaces.iter().any(|n| n == kind)
    }
}

fn limits(resources: &Value) -> Limits {
    let cpu = &resources["cpu"];
    Limits {
        memory: resources["memory"]["limit"].as_i64(),
        cpu: cpu["quota"]
            .as_i64()
            .map(|q| (q, cpu["period"].as_u64().unwrap_or(100_000))),
        pids: resources["pids"]["limit"].as_i64(),
    }
}

/// A JSON array of strings as C strings, for `execve`.
fn c_strings(value: &Value) -> crate::Result<Vec<CString>> {
    let items = value.as_array().cloned().unwrap_or_default();
    items
        .iter()
        .map(|item| {
            let text = item
                .as_str()
                .ok_or("config.json: a non-string in args or env")?;
            Ok(CString::new(text).map_err(|e| format!("config.json: {text:?}: {e}"))?)
        })
        .collect()
}
