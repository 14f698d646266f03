//! A Dockerfile, read into the steps `vessel build` carries out.
//!
//! The lexical part (comments, `\` continuations, JSON arrays, `KEY=VALUE` pairs with
//! quotes) is the `dockerfile-parser` crate's; it types FROM, ARG, LABEL, RUN,
//! ENTRYPOINT, CMD, COPY and ENV, and hands every other instruction over as its keyword
//! and raw argument text, which this file splits as docker does (ADD's flags, VOLUME's
//! JSON or word list, EXPOSE's words). Variables are *not* expanded here: their values
//! depend on the ARGs and ENVs before each step (see [`super::expand`]).

use std::path::Path;

use dockerfile_parser::{Dockerfile, Instruction, ShellOrExecExpr};

use super::error::BuildError;
use crate::image::command::CommandForm;

/// One instruction, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Its first line in the Dockerfile (1-based).
    pub line: usize,
    /// What it does.
    pub op: Op,
}

/// What an instruction does, its arguments not yet expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// `FROM IMAGE` (`scratch` for none).
    From(String),
    /// `ARG NAME[=DEFAULT]`
    Arg {
        name: String,
        default: Option<String>,
    },
    /// `ENV K=V …`
    Env(Vec<(String, String)>),
    /// `LABEL K=V …`
    Label(Vec<(String, String)>),
    /// `RUN …`
    Run(CommandForm),
    /// `CMD …`
    Cmd(CommandForm),
    /// `ENTRYPOINT …`
    Entrypoint(CommandForm),
    /// `COPY`/`ADD [--chown=U[:G]] SRC… DEST`
    Copy(CopySpec),
    /// `WORKDIR DIR`
    Workdir(String),
    /// `USER U[:G]`
    User(String),
    /// `EXPOSE PORT[/PROTO]…`
    Expose(Vec<String>),
    /// `VOLUME DIR…` or `VOLUME ["DIR", …]`
    Volume(Vec<String>),
}

/// The arguments of a `COPY` or `ADD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopySpec {
    /// `ADD` (unpacks local tars) rather than `COPY`.
    pub add: bool,
    /// `--chown=USER[:GROUP]`
    pub chown: Option<String>,
    /// Paths in the build context.
    pub sources: Vec<String>,
    /// Where in the image.
    pub dest: String,
}

impl Op {
    /// The instruction's keyword.
    pub fn keyword(&self) -> &'static str {
        match self {
            Op::From(_) => "FROM",
            Op::Arg { .. } => "ARG",
            Op::Env(_) => "ENV",
            Op::Label(_) => "LABEL",
            Op::Run(_) => "RUN",
            Op::Cmd(_) => "CMD",
            Op::Entrypoint(_) => "ENTRYPOINT",
            Op::Copy(spec) if spec.add => "ADD",
            Op::Copy(_) => "COPY",
            Op::Workdir(_) => "WORKDIR",
            Op::User(_) => "USER",
            Op::Expose(_) => "EXPOSE",
            Op::Volume(_) => "VOLUME",
        }
    }
}

/// Reads the Dockerfile at `path`.
pub fn read(path: &Path) -> Result<Vec<Step>, BuildError> {
    let text =
        std::fs::read_to_string(path).map_err(|e| BuildError::Dockerfile(path.to_owned(), e))?;
    parse(&text, path)
}

// ANCHOR: parse
/// Parses Dockerfile `text` (`path` names it in errors).
pub fn parse(text: &str, path: &Path) -> Result<Vec<Step>, BuildError> {
    let dockerfile = Dockerfile::parse(text).map_err(|e| BuildError::Syntax {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
    let mut steps = Vec::new();
    for instruction in dockerfile.instructions {
        let (offset, op) = match instruction {
            Instruction::From(from) => (from.span.start, from_op(&from)?),
            Instruction::Arg(arg) => (
                arg.span.start,
                Op::Arg {
                    name: arg.name.content,
                    default: arg.value.map(|v| v.content),
                },
            ),
            Instruction::Env(env) => (
                env.span.start,
                Op::Env(
                    env.vars
                        .into_iter()
                        .map(|v| (v.key.content, v.value.to_string()))
                        .collect(),
                ),
            ),
            Instruction::Label(label) => (
                label.span.start,
                Op::Label(
                    label
                        .labels
                        .into_iter()
                        .map(|l| (l.name.content, l.value.content))
                        .collect(),
                ),
            ),
            Instruction::Run(run) => (run.span.start, Op::Run(form(&run.expr))),
            Instruction::Cmd(cmd) => (cmd.span.start, Op::Cmd(form(&cmd.expr))),
            Instruction::Entrypoint(entry) => (entry.span.start, Op::Entrypoint(form(&entry.expr))),
            Instruction::Copy(copy) => {
                let line = line_of(copy.span.start);
                let mut chown = None;
                for flag in &copy.flags {
                    match flag.name.content.as_str() {
                        "chown" => chown = Some(flag.value.content.clone()),
                        other => return Err(unsupported_flag(line, "COPY", other)),
                    }
                }
                let op = Op::Copy(CopySpec {
                    add: false,
                    chown,
                    sources: copy.sources.into_iter().map(|s| s.content).collect(),
                    dest: copy.destination.content,
                });
                (copy.span.start, op)
            }
            Instruction::Misc(misc) => {
                let line = line_of(misc.span.start);
                let keyword = misc.instruction.content.to_ascii_uppercase();
                let args = misc.arguments.to_string().trim().to_owned();
                (misc.span.start, misc_op(line, &keyword, &args)?)
            }
        };
        steps.push(Step {
            line: line_of(offset),
            op,
        });
    }
    Ok(steps)
}
// ANCHOR_END: parse

fn from_op(from: &dockerfile_parser::FromInstruction) -> Result<Op, BuildError> {
    if let Some(flag) = from.flags.first() {
        return Err(BuildError::Instruction {
            line: 0,
            instruction: "FROM".into(),
            reason: format!(
                "--{} is not supported (vessel builds for this machine)",
                flag.name.content
            ),
        });
    }
    Ok(Op::From(from.image.content.clone()))
}

fn form(expr: &ShellOrExecExpr) -> CommandForm {
    match expr {
        ShellOrExecExpr::Exec(array) => {
            CommandForm::Exec(array.elements.iter().map(|e| e.content.clone()).collect())
        }
        ShellOrExecExpr::Shell(line) => CommandForm::Shell(line.to_string().trim().to_owned()),
    }
}

fn unsupported_flag(line: usize, instruction: &str, flag: &str) -> BuildError {
    BuildError::Instruction {
        line,
        instruction: instruction.to_owned(),
        reason: format!("--{flag} is not supported (vessel knows --chown)"),
    }
}

/// The instructions the crate leaves untyped.
fn misc_op(line: usize, keyword: &str, args: &str) -> Result<Op, BuildError> {
    let bad = |reason: &str| BuildError::Instruction {
        line,
        instruction: keyword.to_owned(),
        reason: reason.to_owned(),
    };
    if args.is_empty() {
        return Err(bad("the instruction has no argument"));
    }
    match keyword {
        "ADD" => {
            let mut words = words_or_json(args);
            let mut chown = None;
            while let Some(flag) = words.first().and_then(|w| w.strip_prefix("--")) {
                match flag.split_once('=') {
                    Some(("chown", value)) => chown = Some(value.to_owned()),
                    _ => return Err(unsupported_flag(line, "ADD", flag)),
                }
                words.remove(0);
            }
            let Some(dest) = words.pop().filter(|_| !words.is_empty()) else {
                return Err(bad("expected ADD SRC… DEST"));
            };
            Ok(Op::Copy(CopySpec {
                add: true,
                chown,
                sources: words,
                dest,
            }))
        }
        "WORKDIR" => Ok(Op::Workdir(args.to_owned())),
        "USER" => Ok(Op::User(args.to_owned())),
        "EXPOSE" => Ok(Op::Expose(words_or_json(args))),
        "VOLUME" => Ok(Op::Volume(words_or_json(args))),
        "MAINTAINER" => Ok(Op::Label(vec![("maintainer".into(), args.to_owned())])),
        "SHELL" | "ONBUILD" | "HEALTHCHECK" | "STOPSIGNAL" => Err(bad(
            "not supported by vessel build (remove it, or build with podman/docker)",
        )),
        _ => Err(bad("unknown instruction")),
    }
}

/// A JSON array of strings, or whitespace-separated words.
fn words_or_json(args: &str) -> Vec<String> {
    if args.starts_with('[')
        && let Ok(list) = serde_json::from_str::<Vec<String>>(args)
    {
        return list;
    }
    args.split_whitespace().map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops(text: &str) -> Vec<Op> {
        parse(text, Path::new("Dockerfile"))
            .unwrap()
            .into_iter()
            .map(|s| s.op)
            .collect()
    }

    #[test]
    fn every_instruction_reads_with_its_line() {
        let text = "# comment\nFROM base\nARG V=1\nENV A=1 B=\"two words\"\nRUN echo a \\\n  b\n\
                    RUN [\"/bin/echo\", \"x\"]\nCOPY --chown=1:2 a b /dst/\nADD --chown=3 t.tar /\n\
                    WORKDIR /app\nUSER app:staff\nLABEL k=v\nEXPOSE 80 53/udp\nVOLUME /data\n\
                    VOLUME [\"/a\", \"/b\"]\nENTRYPOINT [\"/e\"]\nCMD run me\n";
        let steps = parse(text, Path::new("Dockerfile")).unwrap();
        assert_eq!(steps[0].line, 2);
        assert_eq!(steps[3].line, 5);
        assert_eq!(steps[4].line, 7);
        let ops: Vec<Op> = steps.into_iter().map(|s| s.op).collect();
        assert_eq!(ops[0], Op::From("base".into()));
        assert_eq!(
            ops[1],
            Op::Arg {
                name: "V".into(),
                default: Some("1".into())
            }
        );
        assert_eq!(
            ops[2],
            Op::Env(vec![
                ("A".into(), "1".into()),
                ("B".into(), "two words".into())
            ])
        );
        assert_eq!(ops[3], Op::Run(CommandForm::Shell("echo a   b".into())));
        assert_eq!(
            ops[4],
            Op::Run(CommandForm::Exec(vec!["/bin/echo".into(), "x".into()]))
        );
        assert_eq!(
            ops[5],
            Op::Copy(CopySpec {
                add: false,
                chown: Some("1:2".into()),
                sources: vec!["a".into(), "b".into()],
                dest: "/dst/".into()
            })
        );
        assert_eq!(
            ops[6],
            Op::Copy(CopySpec {
                add: true,
                chown: Some("3".into()),
                sources: vec!["t.tar".into()],
                dest: "/".into()
            })
        );
        assert_eq!(ops[7], Op::Workdir("/app".into()));
        assert_eq!(ops[8], Op::User("app:staff".into()));
        assert_eq!(ops[9], Op::Label(vec![("k".into(), "v".into())]));
        assert_eq!(ops[10], Op::Expose(vec!["80".into(), "53/udp".into()]));
        assert_eq!(ops[11], Op::Volume(vec!["/data".into()]));
        assert_eq!(ops[12], Op::Volume(vec!["/a".into(), "/b".into()]));
        assert_eq!(
            ops[13],
            Op::Entrypoint(CommandForm::Exec(vec!["/e".into()]))
        );
        assert_eq!(ops[14], Op::Cmd(CommandForm::Shell("run me".into())));
    }

    #[test]
    fn unknown_and_unsupported_instructions_are_refused_by_line() {
        let err = parse("FROM base\nFROB x\n", Path::new("D")).unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
        assert!(parse("FROM base\nCOPY --from=x a b\n", Path::new("D")).is_err());
        assert_eq!(ops("FROM scratch\n"), [Op::From("scratch".into())]);
    }
}
