//! Debian's `docker-registry` (distribution 2.8) on a loopback port, its storage in a
//! temporary directory, stopped and removed on drop.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The registry binary Debian's `docker-registry` package installs.
pub const BINARY: &str = "/usr/bin/docker-registry";

/// How long the registry may take to listen.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running registry.
#[derive(Debug)]
pub struct Registry {
    child: Child,
    address: String,
    dir: tempfile::TempDir,
}

impl Registry {
    /// Starts a registry on `127.0.0.1` on a free port, and waits (bounded) until its log
    /// says it listens. Panics with the reason when it cannot start.
    pub fn start() -> Registry {
        assert!(
            Path::new(BINARY).is_file(),
            "{BINARY} is missing: apt-get install docker-registry (cargo xtask test installs it)"
        );
        let dir = tempfile::tempdir().expect("a temporary directory");
        // A port the kernel just handed out and released: free unless raced.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let address = format!("127.0.0.1:{port}");
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {address}\n",
                dir.path().join("data").display()
            ),
        )
        .expect("write the registry config");
        let mut child = Command::new(BINARY)
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start docker-registry");
        let stderr = child.stderr.take().expect("piped stderr");
        let (ready, wait) = mpsc::channel();
        std::thread::spawn(move || {
            let mut log = String::new();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("listening on") {
                    let _ = ready.send(Ok(()));
                }
                log.push_str(&line);
                log.push('\n');
            }
            let _ = ready.send(Err(log));
        });
        match wait.recv_timeout(START_TIMEOUT) {
            Ok(Ok(())) => Registry {
                child,
                address,
                dir,
            },
            other => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("docker-registry did not start on {address}: {other:?}");
            }
        }
    }

    /// `127.0.0.1:PORT`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Where it keeps blobs and manifests.
    pub fn storage(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
