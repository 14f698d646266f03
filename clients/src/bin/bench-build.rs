//! `cargo run -p vessel-clients --bin bench-build [RUNS]`: one Dockerfile built by
//! `vessel build` and by `podman build` (buildah with runc, vfs storage), interleaved,
//! each both from scratch (`--no-cache`) and fully cached, RUNS times (default 10);
//! prints the median and p90 wall time of each as a Markdown table for
//! `benches/README.md`.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use vessel_clients::docker_cli::DockerCli;
use vessel_clients::podman::{IMAGE, Podman};

/// Two COPYs, two RUNs, config steps: a small but typical Dockerfile.
const DOCKERFILE: &str = r#"FROM {BASE}
ENV APP=/app
WORKDIR /app
COPY src/ ./src/
RUN cat src/* | wc -c > size && mkdir -p out && cp src/* out/
COPY hello.txt ./
RUN echo built > built
CMD ["cat", "/app/size"]
"#;

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10);
    let runc = vessel_clients::runtime::runc().unwrap_or_else(|s| panic!("{}", s.0));
    let vessel = vessel_clients::runtime::vessel().unwrap_or_else(|s| panic!("{}", s.0));
    let podman = Podman::new(&runc).unwrap_or_else(|s| panic!("{}", s.0));
    let work = tempfile::tempdir().expect("temp dir");
    let context = work.path().join("context");
    std::fs::create_dir_all(context.join("src")).expect("context");
    for n in 0..20 {
        std::fs::write(
            context.join(format!("src/file{n}.txt")),
            vec![b'x'; 4096 * n],
        )
        .expect("source file");
    }
    std::fs::write(context.join("hello.txt"), "hello\n").expect("hello");
    let ours = work.path().join("Dockerfile.vessel");
    let theirs = work.path().join("Dockerfile.podman");
    std::fs::write(&ours, DOCKERFILE.replace("{BASE}", "base")).expect("Dockerfile");
    std::fs::write(&theirs, DOCKERFILE.replace("{BASE}", IMAGE)).expect("Dockerfile");
    let root = work.path().join("vessel-root");

    let vessel_build = |no_cache: bool| {
        let mut command = Command::new(&vessel);
        command
            .arg("--root")
            .arg(&root)
            .args(["build", "-t", "bench"]);
        if no_cache {
            command.arg("--no-cache");
        }
        command.arg("-f").arg(&ours).arg(&context);
        timed(command)
    };
    let podman_build = |no_cache: bool| {
        let (file, ctx) = (theirs.to_string_lossy(), context.to_string_lossy());
        let mut args = vec![
            "build",
            "--network",
            "none",
            "--layers",
            "-q",
            "-t",
            "localhost/bench",
        ];
        if no_cache {
            args.push("--no-cache");
        }
        args.extend(["-f", &file, &ctx]);
        timed(podman.command(&args))
    };
    // Warm-up: the base images exist and the caches are filled.
    vessel_build(false);
    podman_build(false);
    let mut times: [Vec<Duration>; 4] = Default::default();
    for _ in 0..runs {
        times[0].push(vessel_build(true));
        times[1].push(podman_build(true));
        times[2].push(vessel_build(false));
        times[3].push(podman_build(false));
    }
    println!("| build of one Dockerfile ({runs} runs) | median | p90 |");
    println!("|---|---:|---:|");
    let names = [
        "vessel build --no-cache",
        "podman build --no-cache (buildah, runc, vfs)",
        "vessel build, every step cached",
        "podman build --layers, every step cached",
    ];
    for (name, mut samples) in names.iter().zip(times) {
        samples.sort();
        let p = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
        println!("| {name} | {} | {} |", ms(p(0.5)), ms(p(0.9)));
    }
    let _ = std::fs::remove_dir_all(Path::new(&root));
}

/// Runs `command` to the end and returns how long it took; panics if it failed.
fn timed(mut command: Command) -> Duration {
    let start = Instant::now();
    let out = command.output().expect("run the builder");
    let took = start.elapsed();
    assert!(
        out.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    took
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}
