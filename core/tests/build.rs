//! `vessel build`: each instruction's effect on the image, the build cache, whiteouts,
//! and hostile contexts and base images that try to make the build read or write host
//! files. Every build runs in a store of its own; no mount or container is left behind.

mod layers_support;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use vessel::image::build::{BuildError, BuildOptions, Built, build};
use vessel::image::{Image, Store};
use vessel::layers::Digest;
use vessel::test_support::host_mounts;

/// A store, a build context and a place outside the context, all in one temp dir.
struct Fixture {
    tmp: tempfile::TempDir,
    store: Store,
}

impl Fixture {
    fn new() -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path().join("store")).unwrap();
        fs::create_dir(tmp.path().join("ctx")).unwrap();
        Fixture { tmp, store }
    }

    fn context(&self) -> PathBuf {
        self.tmp.path().join("ctx")
    }

    /// Writes `name` in the context.
    fn file(&self, name: &str, text: &str) {
        let path = self.context().join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    /// Builds `dockerfile` in the context as `tag`.
    fn build(&self, tag: &str, dockerfile: &str, no_cache: bool) -> Result<Built, BuildError> {
        self.build_with(tag, dockerfile, no_cache, &[])
    }

    fn build_with(
        &self,
        tag: &str,
        dockerfile: &str,
        no_cache: bool,
        args: &[(&str, &str)],
    ) -> Result<Built, BuildError> {
        let path = self.tmp.path().join("Dockerfile");
        fs::write(&path, dockerfile).unwrap();
        let options = BuildOptions {
            tag: tag.to_owned(),
            dockerfile: path,
            context: self.context(),
            build_args: args
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            no_cache,
        };
        build(&self.store, &options, &mut |_| {})
    }

    /// `vessel run --rm --image IMAGE -- ARGS` on this store.
    fn run(&self, image: &str, args: &[&str]) -> Output {
        let run_dir = self.tmp.path().join("run");
        fs::create_dir_all(&run_dir).unwrap();
        Command::new(env!("CARGO_BIN_EXE_vessel"))
            .env("VESSEL_RUN_DIR", &run_dir)
            .arg("--root")
            .arg(self.store.root())
            .args(["run", "--rm", "--image", image])
            .args(args)
            .output()
            .unwrap()
    }

    /// The entries of a layer's tar: path → (type, uid, gid, contents).
    fn layer(&self, digest: &Digest) -> BTreeMap<String, (char, u64, u64, String)> {
        let file = fs::File::open(self.store.layer_tar(digest)).unwrap();
        let mut archive = tar::Archive::new(file);
        let mut entries = BTreeMap::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let path = String::from_utf8_lossy(&entry.path_bytes())
                .trim_end_matches('/')
                .to_owned();
            let header = entry.header().clone();
            let kind = match header.entry_type() {
                tar::EntryType::Directory => 'd',
                tar::EntryType::Symlink => 'l',
                _ => 'f',
            };
            let mut text = String::new();
            if kind == 'f' {
                std::io::Read::read_to_string(&mut entry, &mut text).unwrap_or_default();
            } else if kind == 'l' {
                text = header.link_name().unwrap().unwrap().display().to_string();
            }
            entries.insert(
                path,
                // vessel writes a whiteout's owner fields empty: read them as root.
                (
                    kind,
                    header.uid().unwrap_or(0),
                    header.gid().unwrap_or(0),
                    text,
                ),
            );
        }
        entries
    }

    /// Every layer's tar entries, bottom first, without the base image's.
    fn new_layers(&self, image: &Image) -> Vec<BTreeMap<String, (char, u64, u64, String)>> {
        image.layers[1..].iter().map(|d| self.layer(d)).collect()
    }
}

impl Drop for Fixture {
    /// Nothing a build made may outlive it: no container directory, no overlay mount.
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let containers = self.store.containers_dir();
        let left: Vec<_> = fs::read_dir(&containers).unwrap().flatten().collect();
        assert!(left.is_empty(), "build containers left behind: {left:?}");
        let mounts: Vec<String> = host_mounts()
            .into_iter()
            .filter(|m| m.contains(&*self.tmp.path().to_string_lossy()))
            .collect();
        assert!(mounts.is_empty(), "mounts left behind: {mounts:?}");
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn every_instruction_shapes_the_image() {
    vessel::require_root!();
    let f = Fixture::new();
    f.file("hello.txt", "hello\n");
    f.file("dir/sub/deep", "deep\n");
    f.file("secret.key", "do not copy\n");
    f.file(".dockerignore", "*.key\n");
    // A small tar for ADD to unpack.
    let mut tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_ustar();
    header.set_size(4);
    header.set_mode(0o644);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header.set_cksum();
    tar.append_data(&mut header, "from-tar/x", &b"tar\n"[..])
        .unwrap();
    fs::write(f.context().join("bundle.tar"), tar.into_inner().unwrap()).unwrap();
    let dockerfile = r#"FROM base
ARG WHO=nobody
ENV GREETING="hi there" WHO=$WHO
WORKDIR /app
COPY --chown=1000:1001 hello.txt dir secret.key* ./
ADD bundle.tar /app/
RUN echo "$GREETING $WHO from $(pwd)" > greeting
USER 1000:1001
LABEL org.example.kind=test
EXPOSE 8080 53/udp
VOLUME /data
ENTRYPOINT ["/usr/bin/env"]
CMD echo "$GREETING" && id -u && pwd && cat /app/greeting && grep -c ' /data ' /proc/mounts
"#;
    let built = f
        .build_with("every:1", dockerfile, false, &[("WHO", "world")])
        .unwrap();
    let image = &built.image;

    // One layer per instruction that changed files: COPY, ADD, RUN.
    assert_eq!(image.layers.len(), 4, "{:?}", built.steps);
    let layers = f.new_layers(image);
    let copy = &layers[0];
    assert_eq!(copy["app/hello.txt"], ('f', 1000, 1001, "hello\n".into()));
    assert_eq!(copy["app/sub/deep"].3, "deep\n", "a directory's contents");
    assert!(
        !copy.contains_key("app/secret.key"),
        ".dockerignore: {copy:?}"
    );
    assert_eq!(
        layers[1]["app/from-tar/x"].3, "tar\n",
        "ADD unpacked the tar"
    );
    assert_eq!(
        layers[2]["app/greeting"].3, "hi there world from /app\n",
        "RUN saw ENV, the --build-arg and WORKDIR"
    );

    // Config-only instructions changed the config and added history, not layers.
    let config = &image.config;
    assert_eq!(config.env_var("GREETING"), Some("hi there"));
    assert_eq!(config.env_var("WHO"), Some("world"));
    assert_eq!(config.working_dir, "/app");
    assert_eq!(config.user, "1000:1001");
    assert_eq!(config.labels["org.example.kind"], "test");
    assert!(config.exposed_ports.contains("8080/tcp") && config.exposed_ports.contains("53/udp"));
    assert!(config.volumes.contains("/data"));
    assert_eq!(config.entrypoint, ["/usr/bin/env"], "exec form as written");
    assert_eq!(
        config.cmd[..2],
        ["/bin/sh", "-c"],
        "shell form runs under sh -c"
    );
    let empty: Vec<bool> = image.history[1..].iter().map(|h| h.empty_layer).collect();
    assert_eq!(
        empty,
        [
            true, true, false, false, false, true, true, true, true, true, true
        ],
        "{:?}",
        image.history
    );

    // `vessel run --image` applies ENV, WORKDIR, USER and VOLUME.
    let out = f.run("every:1", &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).lines().collect::<Vec<_>>(),
        ["hi there", "1000", "/app", "hi there world from /app", "1"]
    );
    // Command-line options win over the image's.
    let out = f.run(
        "every:1",
        &[
            "--user",
            "0",
            "-w",
            "/",
            "-e",
            "GREETING=cli",
            "--",
            "/bin/sh",
            "-c",
            "echo $GREETING; id -u; pwd",
        ],
    );
    assert_eq!(text(&out.stdout), "cli\n0\n/\n", "{}", text(&out.stderr));
}

#[test]
fn a_second_build_hits_the_cache_and_a_changed_file_misses_it() {
    vessel::require_root!();
    let f = Fixture::new();
    f.file("a.txt", "one\n");
    f.file("b.txt", "two\n");
    let dockerfile = "FROM base\nRUN echo first > /first\nCOPY a.txt /a.txt\nRUN cat /a.txt > /copy-of-a\nCOPY b.txt /b.txt\n";
    let first = f.build("cached:1", dockerfile, false).unwrap();
    assert!(first.steps.iter().all(|s| !s.cached));

    let second = f.build("cached:2", dockerfile, false).unwrap();
    assert!(second.steps.iter().all(|s| s.cached), "{:?}", second.steps);
    assert_eq!(second.image.layers, first.image.layers);

    // Changing a copied file misses from that COPY on; the RUN before it still hits.
    f.file("a.txt", "changed\n");
    let third = f.build("cached:3", dockerfile, false).unwrap();
    let hits: Vec<bool> = third.steps.iter().map(|s| s.cached).collect();
    assert_eq!(hits, [true, false, false, false]);
    assert_eq!(third.image.layers[1], first.image.layers[1]);
    assert_ne!(third.image.layers[2], first.image.layers[2]);
    let out = f.run("cached:3", &["--", "/bin/cat", "/copy-of-a"]);
    assert_eq!(text(&out.stdout), "changed\n");

    // --no-cache runs every step again.
    let fresh = f.build("cached:4", dockerfile, true).unwrap();
    assert!(fresh.steps.iter().all(|s| !s.cached));
}

#[test]
fn a_file_deleted_in_a_later_layer_is_a_whiteout() {
    vessel::require_root!();
    let f = Fixture::new();
    f.file("doomed.txt", "soon gone\n");
    let built = f
        .build(
            "whiteout:1",
            "FROM base\nCOPY doomed.txt /srv/doomed.txt\nRUN rm /srv/doomed.txt && rm -r /home\n",
            false,
        )
        .unwrap();
    let layers = f.new_layers(&built.image);
    assert_eq!(layers[0]["srv/doomed.txt"].3, "soon gone\n");
    assert!(
        layers[1].contains_key("srv/.wh.doomed.txt"),
        "{:?}",
        layers[1]
    );
    assert!(layers[1].contains_key(".wh.home"), "{:?}", layers[1]);
    let out = f.run(
        "whiteout:1",
        &["--", "/bin/sh", "-c", "ls /srv /home; echo done"],
    );
    assert_eq!(text(&out.stdout), "/srv:\ndone\n", "{}", text(&out.stderr));
}

/// A secret file on the host, outside the context.
fn host_secret(f: &Fixture) -> PathBuf {
    let outside = f.tmp.path().join("outside");
    fs::create_dir_all(&outside).unwrap();
    let secret = outside.join("secret");
    fs::write(&secret, "HOST SECRET\n").unwrap();
    secret
}

fn no_layer_holds(f: &Fixture, image: &Image, needle: &str) {
    for layer in f.new_layers(image) {
        for (path, entry) in layer {
            assert!(!entry.3.contains(needle), "{path} carries host data");
        }
    }
}

#[test]
fn a_symlink_in_the_context_cannot_reach_the_host() {
    vessel::require_root!();
    let f = Fixture::new();
    let secret = host_secret(&f);
    // Absolute and relative links that point at the host file, named directly…
    symlink(&secret, f.context().join("absolute")).unwrap();
    symlink("../outside/secret", f.context().join("relative")).unwrap();
    for name in ["absolute", "relative"] {
        let err = f
            .build("leak:1", &format!("FROM base\nCOPY {name} /leak\n"), false)
            .unwrap_err();
        assert!(
            matches!(err, BuildError::SourceNotFound { .. }),
            "{name}: resolved inside the context, where there is nothing: {err}"
        );
    }
    // …and inside a copied directory, where a link is copied as a link.
    fs::create_dir(f.context().join("dir")).unwrap();
    symlink(&secret, f.context().join("dir/link")).unwrap();
    let built = f
        .build("leak:2", "FROM base\nCOPY dir /dir\n", false)
        .unwrap();
    let layer = &f.new_layers(&built.image)[0];
    assert_eq!(layer["dir/link"].0, 'l');
    no_layer_holds(&f, &built.image, "HOST SECRET");
}

#[test]
fn dot_dot_cannot_leave_the_context() {
    vessel::require_root!();
    let f = Fixture::new();
    host_secret(&f);
    for source in ["../outside/secret", "sub/../../outside/secret"] {
        let err = f
            .build("dotdot:1", &format!("FROM base\nCOPY {source} /x\n"), false)
            .unwrap_err();
        assert!(
            matches!(err, BuildError::OutsideContext { .. }),
            "{source}: {err}"
        );
    }
    assert!(f.store.image("dotdot:1").is_err(), "no image was saved");
}

#[test]
fn a_symlink_in_the_base_image_cannot_redirect_a_copy_to_the_host() {
    vessel::require_root!();
    let f = Fixture::new();
    // A base image whose /target points at the host's `/`, and whose /hostdir points at
    // a host directory. (A relative link climbing out of its layer is refused at import
    // already.)
    let hostdir = f.tmp.path().join("hostdir");
    fs::create_dir(&hostdir).unwrap();
    let evil = f.tmp.path().join("evil");
    fs::create_dir(&evil).unwrap();
    symlink("/", evil.join("target")).unwrap();
    symlink(&hostdir, evil.join("hostdir")).unwrap();
    f.store.import(&evil, "evil").unwrap();
    let unique = format!("vessel-build-escape-{}", std::process::id());
    f.file("payload", "PAYLOAD\n");
    let dockerfile = format!(
        "FROM evil\nCOPY payload /target/tmp/{unique}\nCOPY payload /hostdir/p1\nWORKDIR /hostdir\nCOPY payload p2\n"
    );
    let built = f.build("redirect:1", &dockerfile, false).unwrap();
    assert!(
        !Path::new("/tmp").join(&unique).exists(),
        "wrote to the host's /tmp"
    );
    assert!(
        fs::read_dir(&hostdir).unwrap().next().is_none(),
        "wrote into the host directory"
    );
    // The files landed inside the image, where the links lead *in* it.
    let layers = f.new_layers(&built.image);
    let inside = hostdir.strip_prefix("/").unwrap().display().to_string();
    assert_eq!(layers[0][&format!("tmp/{unique}")].3, "PAYLOAD\n");
    assert_eq!(layers[1][&format!("{inside}/p1")].3, "PAYLOAD\n");
    assert_eq!(layers[2][&format!("{inside}/p2")].3, "PAYLOAD\n");
}

#[test]
fn add_refuses_a_hostile_tar_and_leaves_nothing() {
    vessel::require_root!();
    let f = Fixture::new();
    let mut bytes = Vec::new();
    {
        let mut tar = tar::Builder::new(&mut bytes);
        let mut header = tar::Header::new_ustar();
        header.set_size(0);
        header.set_mode(0o644);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        header.set_cksum();
        tar.append_data(&mut header, "fine", &b""[..]).unwrap();
        let escape = layers_support::raw_header(b"../../../../escape", tar::EntryType::Regular, 5);
        // A GNU header: rewrite the magic to ustar so ADD treats it as a tar.
        let mut escape = escape;
        escape.as_mut_bytes()[257..265].copy_from_slice(b"ustar\x0000");
        escape.set_cksum();
        tar.append(&escape, &b"evil\n"[..]).unwrap();
        tar.finish().unwrap();
    }
    fs::write(f.context().join("evil.tar"), &bytes).unwrap();
    let err = f
        .build("hostile:1", "FROM base\nADD evil.tar /unpack/\n", false)
        .unwrap_err();
    assert!(
        vessel::image::build::chain_text(&err).contains("escape"),
        "{}",
        vessel::image::build::chain_text(&err)
    );
    assert!(f.store.image("hostile:1").is_err());
    assert!(!f.tmp.path().join("escape").exists());
}

#[test]
fn a_failing_run_names_its_line_and_leaves_nothing() {
    vessel::require_root!();
    let f = Fixture::new();
    let err = f
        .build("fails:1", "FROM base\nENV A=1\nRUN exit 3\n", false)
        .unwrap_err();
    match err {
        BuildError::RunFailed { line, code, .. } => assert_eq!((line, code), (3, 3)),
        other => panic!("{other}"),
    }
    assert!(f.store.image("fails:1").is_err());
}

#[test]
fn the_cli_builds_with_tag_file_and_build_args() {
    vessel::require_root!();
    let f = Fixture::new();
    let dockerfile = f.tmp.path().join("Other.dockerfile");
    fs::write(&dockerfile, "FROM base\nARG V=default\nRUN echo $V > /v\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_vessel"))
        .arg("--root")
        .arg(f.store.root())
        .args(["build", "-t", "cli:1", "-f"])
        .arg(&dockerfile)
        .args(["--build-arg", "V=given"])
        .arg(f.context())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("cli:1 sha256:"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stderr).contains("STEP 3/3"),
        "{}",
        text(&out.stderr)
    );
    let out = f.run("cli:1", &["--", "/bin/cat", "/v"]);
    assert_eq!(text(&out.stdout), "given\n");
}

/// docker fills a new anonymous volume with what the image has at its path; vessel does
/// too, from the container's own view of the image (a later layer's delete applied),
/// copying a symlink as a symlink (the host's /etc/shadow is never read).
#[test]
fn an_anonymous_volume_starts_with_the_images_files_and_never_the_hosts() {
    vessel::require_root!();
    let f = Fixture::new();
    let dockerfile = r#"FROM base
RUN mkdir -p /data/sub && echo seeded > /data/sub/file && echo gone > /data/gone && ln -s /etc/shadow /data/link && chown -R 1000:1001 /data && chmod 0750 /data
RUN rm /data/gone
VOLUME /data
"#;
    f.build("volumes:1", dockerfile, false).unwrap();
    let script = "cat /data/sub/file; stat -c '%u:%g %a' /data /data/sub/file; \
                  readlink /data/link; ls /data; \
                  echo changed > /data/sub/file";
    let out = f.run("volumes:1", &["--", "/bin/sh", "-c", script]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).lines().collect::<Vec<_>>(),
        [
            "seeded",
            "1000:1001 750",
            "1000:1001 644",
            "/etc/shadow",
            "link",
            "sub",
        ]
    );
    // Each container gets a fresh copy: the first one's write is not seen.
    let out = f.run("volumes:1", &["--", "cat", "/data/sub/file"]);
    assert_eq!(text(&out.stdout), "seeded\n", "{}", text(&out.stderr));
}
