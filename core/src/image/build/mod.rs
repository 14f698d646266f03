//! `vessel build`: a Dockerfile, one instruction at a time, into an image.
//!
//! Every instruction starts from the image so far (its layers, config and history).
//! One that changes files — RUN, COPY, ADD — works in a container of that image and its
//! writable layer becomes the step's new layer ([`run_step`], [`mounted`]); one that
//! changes only the config — ENV, WORKDIR, USER, LABEL, EXPOSE, VOLUME, ENTRYPOINT, CMD —
//! adds a history entry and no layer. Each step is keyed by its parent, its instruction
//! and what it copies ([`cache`]), so a second build of the same inputs reuses every
//! layer, and changing one copied file rebuilds from that step on.

mod add_tar;
pub mod cache;
pub mod context;
mod copy;
pub mod dockerfile;
pub mod dockerignore;
pub(crate) mod error;
pub mod expand;
pub mod mounted;
mod run_step;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use self::cache::{Cache, Cached};
use self::context::{Context, EntryKind};
use self::dockerfile::{CopySpec, Op, Step};
pub use self::error::BuildError;
use self::expand::{Vars, expand};
use super::{ContainerFs, HistoryEntry, Image, ImageConfig, Store};
/// An error and its causes on one line (for errors carried inside an `io::Error`).
pub use crate::error_chain::chain as chain_text;
use crate::layers::{Digest, SourceKind};
use crate::state::ContainerId;

/// What to build.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The name of the image to make (`-t`).
    pub tag: String,
    /// The Dockerfile (`-f`; default `CONTEXT/Dockerfile`).
    pub dockerfile: PathBuf,
    /// The build context directory.
    pub context: PathBuf,
    /// `--build-arg K=V`.
    pub build_args: BTreeMap<String, String>,
    /// `--no-cache`: run every step, reuse nothing.
    pub no_cache: bool,
}

/// What one step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepReport {
    /// Its line in the Dockerfile.
    pub line: usize,
    /// The instruction, variables expanded (as the history records it).
    pub instruction: String,
    /// Whether the cache supplied it.
    pub cached: bool,
    /// The layer it added, if any.
    pub layer: Option<Digest>,
}

/// The built image and what each step did.
#[derive(Debug, Clone)]
pub struct Built {
    pub image: Image,
    pub steps: Vec<StepReport>,
}

/// The image so far.
#[derive(Debug, Clone, Default)]
struct State {
    layers: Vec<Digest>,
    config: ImageConfig,
    history: Vec<HistoryEntry>,
    /// The cache key of the last step.
    key: String,
    /// ARGs declared since FROM, with their values.
    args: Vars,
    /// Whether this Dockerfile set CMD (an ENTRYPOINT then keeps it).
    cmd_set: bool,
}

impl State {
    /// Variables for expansion: the ARGs, then the ENVs over them.
    fn vars(&self) -> Vars {
        let mut vars = self.args.clone();
        for entry in &self.config.env {
            if let Some((k, v)) = entry.split_once('=') {
                vars.insert(k.to_owned(), v.to_owned());
            }
        }
        vars
    }
}

// ANCHOR: build
/// Builds `options.dockerfile` in `options.context` into the image `options.tag`,
/// telling `log` about each step.
pub fn build(
    store: &Store,
    options: &BuildOptions,
    log: &mut dyn FnMut(&str),
) -> Result<Built, BuildError> {
    super::validate_name(&options.tag)?;
    let steps = dockerfile::read(&options.dockerfile)?;
    let context = Context::open(&options.context)?;
    let cache = Cache::open(store)?;
    let mut global_args = Vars::new();
    let mut state: Option<State> = None;
    let mut reports = Vec::new();
    let total = steps.len();
    for (n, step) in steps.iter().enumerate() {
        log(&format!(
            "STEP {}/{total}: line {}: {}",
            n + 1,
            step.line,
            step.op.keyword()
        ));
        let Some(current) = state.as_mut() else {
            match &step.op {
                Op::Arg { name, default } => {
                    let value = options.build_args.get(name).cloned().or(default.clone());
                    global_args.insert(name.clone(), value.unwrap_or_default());
                }
                Op::From(image) => {
                    state = Some(from(store, step.line, &expand(image, &global_args))?)
                }
                _ => {
                    return Err(instruction(
                        step,
                        "the first instruction must be FROM (or ARG)",
                    ));
                }
            }
            continue;
        };
        let report = apply(store, &cache, &context, options, current, step)?;
        log(&match (&report.layer, report.cached) {
            (Some(layer), true) => format!("--> using cache: layer {}", layer.short()),
            (Some(layer), false) => format!("--> layer {}", layer.short()),
            (None, _) => "--> config only, no layer".to_owned(),
        });
        reports.push(report);
    }
    let Some(state) = state else {
        return Err(BuildError::Syntax {
            path: options.dockerfile.clone(),
            message: "no FROM instruction".into(),
        });
    };
    let image = Image {
        name: options.tag.clone(),
        layers: state.layers,
        config: state.config,
        created: super::now(),
        history: state.history,
    };
    let _lock = store.lock()?;
    store.save(&image)?;
    Ok(Built {
        image,
        steps: reports,
    })
}
// ANCHOR_END: build

fn instruction(step: &Step, reason: &str) -> BuildError {
    BuildError::Instruction {
        line: step.line,
        instruction: step.op.keyword().to_owned(),
        reason: reason.to_owned(),
    }
}

/// `FROM IMAGE`: the image's layers, config and history, or nothing for `scratch`.
fn from(store: &Store, line: usize, name: &str) -> Result<State, BuildError> {
    if name == "scratch" {
        return Ok(State {
            config: ImageConfig::empty(),
            key: cache::key("", "FROM scratch", ""),
            ..State::default()
        });
    }
    let image = store.image(name).map_err(|e| BuildError::Instruction {
        line,
        instruction: "FROM".into(),
        reason: format!("{e}"),
    })?;
    let identity = serde_json::to_string(&(&image.layers, &image.config)).unwrap_or_default();
    Ok(State {
        key: cache::key("", "FROM", &identity),
        history: Image::history_covering(image.history, &image.layers),
        layers: image.layers,
        config: image.config,
        ..State::default()
    })
}

/// Carries out one step after FROM.
fn apply(
    store: &Store,
    cache: &Cache,
    context: &Context,
    options: &BuildOptions,
    state: &mut State,
    step: &Step,
) -> Result<StepReport, BuildError> {
    let vars = state.vars();
    let config = &mut state.config;
    // Config-only steps: the text recorded in the history.
    let text = match &step.op {
        Op::From(_) => {
            return Err(instruction(
                step,
                "multi-stage builds (a second FROM) are not supported",
            ));
        }
        Op::Arg { name, default } => {
            let value = options
                .build_args
                .get(name)
                .cloned()
                .or_else(|| default.as_ref().map(|d| expand(d, &vars)))
                .unwrap_or_default();
            state.args.insert(name.clone(), value.clone());
            state.key = cache::key(&state.key, &format!("ARG {name}={value}"), "");
            return Ok(StepReport {
                line: step.line,
                instruction: format!("ARG {name}"),
                cached: false,
                layer: None,
            });
        }
        Op::Env(pairs) => {
            let mut text = "ENV".to_owned();
            for (key, value) in pairs {
                // Each pair sees the ones before it only from the next ENV on, as in docker.
                let value = expand(value, &vars);
                config.set_env(key, &value);
                text.push_str(&format!(" {key}={value}"));
            }
            text
        }
        Op::Label(pairs) => {
            let mut text = "LABEL".to_owned();
            for (key, value) in pairs {
                let (key, value) = (expand(key, &vars), expand(value, &vars));
                text.push_str(&format!(" {key}={value}"));
                config.labels.insert(key, value);
            }
            text
        }
        Op::Workdir(dir) => {
            let dir = expand(dir, &vars);
            config.working_dir = image_path(config.working_dir(), &dir)
                .trim_end_matches('/')
                .to_owned();
            if config.working_dir.is_empty() {
                config.working_dir = "/".to_owned();
            }
            format!("WORKDIR {}", config.working_dir)
        }
        Op::User(user) => {
            config.user = expand(user, &vars);
            format!("USER {}", config.user)
        }
        Op::Expose(ports) => {
            let mut text = "EXPOSE".to_owned();
            for port in ports {
                let port = expand(port, &vars);
                let port = if port.contains('/') {
                    port
                } else {
                    format!("{port}/tcp")
                };
                text.push_str(&format!(" {port}"));
                config.exposed_ports.insert(port);
            }
            text
        }
        Op::Volume(dirs) => {
            let dirs: Vec<String> = dirs.iter().map(|d| expand(d, &vars)).collect();
            config.volumes.extend(dirs.iter().cloned());
            format!("VOLUME {dirs:?}")
        }
        Op::Cmd(form) => {
            config.cmd = form.clone().into_argv();
            state.cmd_set = true;
            format!("CMD {:?}", config.cmd)
        }
        Op::Entrypoint(form) => {
            config.entrypoint = form.clone().into_argv();
            // A CMD inherited from the base image was written for its entrypoint.
            if !state.cmd_set {
                config.cmd.clear();
            }
            format!("ENTRYPOINT {:?}", config.entrypoint)
        }
        Op::Run(_) | Op::Copy(_) => return layer_step(store, cache, context, options, state, step),
    };
    state.key = cache::key(&state.key, &text, "");
    state.history.push(HistoryEntry::config_only(text.clone()));
    Ok(StepReport {
        line: step.line,
        instruction: text,
        cached: false,
        layer: None,
    })
}

/// RUN, COPY and ADD: look the step up in the cache, or carry it out in a container of
/// the image so far and pack what it wrote as a layer.
fn layer_step(
    store: &Store,
    cache: &Cache,
    context: &Context,
    options: &BuildOptions,
    state: &mut State,
    step: &Step,
) -> Result<StepReport, BuildError> {
    let vars = state.vars();
    let (text, content, work) = match &step.op {
        Op::Run(form) => {
            let argv = form.clone().into_argv();
            let shown = match form {
                super::command::CommandForm::Shell(line) => line.clone(),
                super::command::CommandForm::Exec(argv) => format!("{argv:?}"),
            };
            // The build args in RUN's environment are part of what it does.
            let args: Vec<String> = state.args.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let text = format!("RUN {}", argv.join(" "));
            (text, args.join("\n"), Work::Run { argv, shown })
        }
        Op::Copy(spec) => {
            let sources: Vec<String> = spec.sources.iter().map(|s| expand(s, &vars)).collect();
            let dest = expand(&spec.dest, &vars);
            let dest = image_path(state.config.working_dir(), &dest);
            if sources.iter().any(|s| s.contains("://")) {
                return Err(instruction(
                    step,
                    "URLs are not supported (download with RUN)",
                ));
            }
            let mut selections = Vec::new();
            for source in &sources {
                selections.extend(context.select(step.line, source)?);
            }
            let digest = context
                .digest(&selections)
                .map_err(|e| BuildError::Context {
                    action: "read",
                    path: context.path().to_owned(),
                    source: e,
                })?;
            let chown = spec.chown.as_ref().map(|c| expand(c, &vars));
            let text = format!(
                "{} {}{} {}",
                step.op.keyword(),
                chown
                    .as_ref()
                    .map(|c| format!("--chown={c} "))
                    .unwrap_or_default(),
                sources.join(" "),
                dest
            );
            let copy = CopySpec {
                add: spec.add,
                chown,
                sources,
                dest,
            };
            (text, digest, Work::Copy { copy, selections })
        }
        _ => unreachable!("only RUN, COPY and ADD make layers"),
    };
    let key = cache::key(&state.key, &text, &content);
    let cached = if options.no_cache {
        None
    } else {
        cache.get(&key)
    };
    let (made, was_cached) = match cached {
        Some(made) => (made, true),
        None => {
            let layer = carry_out(store, context, state, step, &work)?;
            let made = Cached {
                history: if layer.is_some() {
                    HistoryEntry::layer(text.clone())
                } else {
                    HistoryEntry::config_only(text.clone())
                },
                layer,
                config: state.config.clone(),
            };
            cache.put(&key, &made)?;
            (made, false)
        }
    };
    state.key = key;
    state.history.push(made.history.clone());
    if let Some(layer) = &made.layer {
        state.layers.push(layer.clone());
    }
    Ok(StepReport {
        line: step.line,
        instruction: text,
        cached: was_cached,
        layer: made.layer,
    })
}

/// `dest` as an absolute path in the image: relative to `workdir`, `.` elements gone,
/// a trailing `/` (which means "copy into") kept. `..` stays: it is resolved in the
/// image's root, where it cannot climb out.
fn image_path(workdir: &str, dest: &str) -> String {
    let joined = Path::new(workdir).join(dest);
    let cleaned: PathBuf = joined
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect();
    let mut text = cleaned.to_string_lossy().into_owned();
    if (dest.ends_with('/') || dest.ends_with("/.") || dest == ".") && !text.ends_with('/') {
        text.push('/');
    }
    text
}

/// What a layer step does once its cache entry missed.
enum Work {
    Run {
        argv: Vec<String>,
        shown: String,
    },
    Copy {
        copy: CopySpec,
        selections: Vec<context::Selection>,
    },
}

/// A build step's container layers, removed when the step is done (or fails).
struct StepFs(Option<ContainerFs>);

impl Drop for StepFs {
    fn drop(&mut self) {
        if let Some(fs) = self.0.take() {
            let _ = fs.remove();
        }
    }
}

/// Runs the step in a container of the image so far and packs what it wrote; `None`
/// when it wrote nothing.
fn carry_out(
    store: &Store,
    context: &Context,
    state: &State,
    step: &Step,
    work: &Work,
) -> Result<Option<Digest>, BuildError> {
    let id = ContainerId::random();
    let so_far = Image {
        name: "vessel-build".into(),
        layers: state.layers.clone(),
        config: state.config.clone(),
        created: 0,
        history: Vec::new(),
    };
    let command = vec![step.op.keyword().to_owned()];
    let fs = StepFs(Some(ContainerFs::create(
        store,
        &id,
        &so_far,
        id.as_str(),
        &command,
    )?));
    let layers = fs.0.as_ref().expect("created above");
    let write_error = |action: &'static str, path: &str| {
        let line = step.line;
        let keyword = step.op.keyword().to_owned();
        let path = PathBuf::from(path);
        move |source: std::io::Error| BuildError::Write {
            line,
            instruction: keyword,
            action,
            path,
            source,
        }
    };
    match work {
        Work::Run { argv, shown } => {
            let workdir = state.config.working_dir().to_owned();
            if workdir != "/" {
                // WORKDIR's directory is made in the first step that needs it.
                mounted::in_merged(&layers.overlay(), &layers.merged(), |root| {
                    root.create_dir_all(&workdir, 0o755).map(drop)
                })
                .map_err(write_error("create WORKDIR", &workdir))?;
            }
            run_step::run(
                layers,
                id.as_str(),
                &state.config,
                &state.args,
                argv.clone(),
                step.line,
                shown,
            )?;
        }
        Work::Copy { copy, selections } => {
            mounted::in_merged(&layers.overlay(), &layers.merged(), |root| {
                let owner = owner(root, copy.chown.as_deref())?;
                if copy.add {
                    add(context, selections, root, copy, owner)
                } else {
                    copy::copy_into(context, selections, root, &copy.dest, owner)
                }
            })
            .map_err(write_error("write into the image at", &copy.dest))?;
        }
    }
    let upper = layers.upper();
    let empty = std::fs::read_dir(&upper)
        .map(|mut d| d.next().is_none())
        .unwrap_or(false);
    if empty {
        return Ok(None);
    }
    let _lock = store.lock()?;
    let (digest, _) = store.pack_layer(&upper, SourceKind::Overlay)?;
    Ok(Some(digest))
}

/// ADD: a local tar is unpacked at the destination, anything else copied as COPY does.
fn add(
    context: &Context,
    selections: &[context::Selection],
    root: &crate::security::InRoot,
    copy: &CopySpec,
    owner: copy::Owner,
) -> std::io::Result<()> {
    let mut plain = Vec::new();
    for selection in selections {
        let entry = &selection.entries[0];
        if !selection.is_dir && entry.kind == EntryKind::File {
            let mut file = context.open_entry(entry)?;
            if add_tar::is_tar(&mut file)? {
                // The archive is read through the descriptor resolved in the context.
                let tar = PathBuf::from(format!(
                    "/proc/thread-self/fd/{}",
                    std::os::fd::AsRawFd::as_raw_fd(&file)
                ));
                add_tar::unpack_into(&tar, root, Path::new(&copy.dest))
                    .map_err(|e| std::io::Error::other(crate::error_chain::chain(&e)))?;
                continue;
            }
        }
        plain.push(selection.clone());
    }
    if plain.is_empty() {
        return Ok(());
    }
    copy::copy_into(context, &plain, root, &copy.dest, owner)
}

/// The owner `--chown` names, looked up in the image's own /etc/passwd and /etc/group.
fn owner(root: &crate::security::InRoot, chown: Option<&str>) -> std::io::Result<copy::Owner> {
    let Some(chown) = chown else {
        return Ok(copy::Owner::default());
    };
    let request = crate::security::UserRequest {
        user: chown.to_owned(),
        group_add: Vec::new(),
    };
    let dir = crate::security::user::open_dir(root.path())?;
    let image = crate::security::user::ImageRoot::Dir(std::os::fd::AsFd::as_fd(&dir));
    let user = crate::security::user::resolve(&request, &image)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()))?;
    Ok(copy::Owner {
        uid: user.uid,
        gid: user.gid,
    })
}

/// A container id for a build step (12 hex digits, as `vessel run` makes).
#[cfg(test)]
mod tests {
    #[test]
    fn destinations_are_absolute_in_the_image() {
        use super::image_path;
        assert_eq!(image_path("/app", "./"), "/app/");
        assert_eq!(image_path("/app", "."), "/app/");
        assert_eq!(image_path("/app", "x"), "/app/x");
        assert_eq!(image_path("/app", "/etc/"), "/etc/");
        assert_eq!(image_path("/", "a/./b"), "/a/b");
    }
}
