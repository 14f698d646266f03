//! `vessel build -t NAME [-f Dockerfile] [--build-arg K=V] [--no-cache] CONTEXT`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;

use super::output::{errln, outln};
use crate::error::Result;
use crate::image::Store;
use crate::image::build::{BuildOptions, build as build_image};
use crate::state::Root;

/// Arguments of `vessel build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The name of the image to make.
    #[arg(short = 't', long = "tag", value_name = "NAME")]
    pub tag: String,
    /// The Dockerfile [default: CONTEXT/Dockerfile].
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// A value for an ARG (repeatable).
    #[arg(long = "build-arg", value_name = "KEY=VALUE", value_parser = parse_build_arg)]
    pub build_args: Vec<(String, String)>,
    /// Run every step: reuse nothing from the build cache.
    #[arg(long)]
    pub no_cache: bool,
    /// The build context: the directory COPY and ADD take files from.
    #[arg(value_name = "CONTEXT")]
    pub context: PathBuf,
}

fn parse_build_arg(text: &str) -> std::result::Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        // docker takes `--build-arg NAME` from the environment.
        None if !text.is_empty() => Ok((text.to_owned(), std::env::var(text).unwrap_or_default())),
        _ => Err(format!("--build-arg {text:?}: expected KEY=VALUE")),
    }
}

/// Builds the image; each step is reported on stderr, the image's top layer on stdout.
pub fn build(root: &Root, args: BuildArgs) -> Result<i32> {
    let store = Store::open_in(root)?;
    let options = BuildOptions {
        tag: args.tag,
        dockerfile: args.file.unwrap_or_else(|| args.context.join("Dockerfile")),
        context: args.context,
        build_args: args.build_args.into_iter().collect::<BTreeMap<_, _>>(),
        no_cache: args.no_cache,
    };
    let built = build_image(&store, &options, &mut |line| errln!("{line}"))?;
    outln!(
        "{} {}",
        built.image.name,
        built
            .image
            .layers
            .last()
            .map_or_else(|| "(no layers)".to_owned(), ToString::to_string)
    );
    Ok(0)
}
