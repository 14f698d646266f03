//! The OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/…`), as a directory or
//! a tar: what skopeo's `oci:`/`oci-archive:`, podman's `--format oci-archive` and
//! docker 25's `docker save` write.
//!
//! Every manifest and config is read through its descriptor, so its digest and size are
//! checked before it is parsed; blobs are only ever looked up as `blobs/sha256/HEX` built
//! from a checked digest, so no manifest can name a file outside the layout.

use oci_spec::image::{
    Descriptor, ImageConfiguration, ImageIndex, ImageManifest, MediaType, OciLayout,
};

use super::blob::{Expected, read_json};
use super::error::ArchiveError;
use super::plan::{ImagePlan, LayerPlan, diff_ids, store_name};
use super::source::Source;

/// Nested indexes followed at most (an index of platforms of an index is already rare).
const MAX_DEPTH: usize = 4;

/// Whether `source` looks like an OCI layout.
pub fn detect(source: &Source) -> bool {
    source.has("oci-layout") && source.has("index.json")
}

/// The images of the layout.
pub fn plan(source: &Source) -> Result<Vec<ImagePlan>, ArchiveError> {
    let (layout, _): (OciLayout, _) = read_json(source, "oci-layout", None, "oci-layout file")?;
    if !layout.image_layout_version().starts_with("1.") {
        return Err(ArchiveError::Unsupported {
            archive: source.path().to_owned(),
            what: format!(
                "image layout version {:?} (vessel reads 1.x)",
                layout.image_layout_version()
            ),
        });
    }
    let (index, _): (ImageIndex, _) = read_json(source, "index.json", None, "image index")?;
    let mut plans = Vec::new();
    for descriptor in index.manifests() {
        walk(source, descriptor, name_of(descriptor), 0, &mut plans)?;
    }
    if plans.is_empty() {
        return Err(ArchiveError::Empty(source.path().to_owned()));
    }
    Ok(plans)
}

/// The name an index entry gives its image: containerd's full name, else the OCI
/// `ref.name` annotation.
fn name_of(descriptor: &Descriptor) -> Option<String> {
    let annotations = descriptor.annotations().as_ref()?;
    annotations
        .get("io.containerd.image.name")
        .or_else(|| annotations.get(oci_spec::image::ANNOTATION_REF_NAME))
        .map(|name| store_name(name))
}

fn walk(
    source: &Source,
    descriptor: &Descriptor,
    name: Option<String>,
    depth: usize,
    plans: &mut Vec<ImagePlan>,
) -> Result<(), ArchiveError> {
    let expect = Expected::of(source.path(), descriptor)?;
    let path = expect.layout_path();
    match descriptor.media_type() {
        MediaType::ImageIndex | MediaType::Other(_) if is_index(descriptor) => {
            if depth >= MAX_DEPTH {
                return Err(ArchiveError::Unsupported {
                    archive: source.path().to_owned(),
                    what: format!("indexes nested more than {MAX_DEPTH} deep at {path:?}"),
                });
            }
            let (index, _): (ImageIndex, _) =
                read_json(source, &path, Some(&expect), "image index")?;
            // A multi-platform image: only this machine's platform can run here.
            let here: Vec<&Descriptor> = index
                .manifests()
                .iter()
                .filter(|d| d.platform().as_ref().is_none_or(runs_here))
                .collect();
            match here.first() {
                Some(first) => walk(source, first, name, depth + 1, plans),
                None => Err(ArchiveError::Unsupported {
                    archive: source.path().to_owned(),
                    what: format!("{path:?} has no image for {}", std::env::consts::ARCH),
                }),
            }
        }
        MediaType::ImageManifest | MediaType::Other(_) if is_manifest(descriptor) => {
            let (manifest, _): (ImageManifest, _) =
                read_json(source, &path, Some(&expect), "image manifest")?;
            plans.push(image_plan(source, &manifest, name)?);
            Ok(())
        }
        // Signatures, attestations and other artifacts are not images.
        _ => Ok(()),
    }
}

fn is_index(descriptor: &Descriptor) -> bool {
    matches!(descriptor.media_type(), MediaType::ImageIndex)
        || descriptor.media_type().to_string()
            == "application/vnd.docker.distribution.manifest.list.v2+json"
}

fn is_manifest(descriptor: &Descriptor) -> bool {
    matches!(descriptor.media_type(), MediaType::ImageManifest)
        || descriptor.media_type().to_string()
            == "application/vnd.docker.distribution.manifest.v2+json"
}

fn runs_here(platform: &oci_spec::image::Platform) -> bool {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    platform.architecture().to_string() == arch && platform.os().to_string() == "linux"
}

/// The plan of one image manifest: its config checked and parsed, its layers listed.
pub fn image_plan(
    source: &Source,
    manifest: &ImageManifest,
    name: Option<String>,
) -> Result<ImagePlan, ArchiveError> {
    let config_expect = Expected::of(source.path(), manifest.config())?;
    let config_path = config_expect.layout_path();
    let (config, _): (ImageConfiguration, _) =
        read_json(source, &config_path, Some(&config_expect), "image config")?;
    let ids = diff_ids(source, &config_path, &config, manifest.layers().len())?;
    let layers = manifest
        .layers()
        .iter()
        .zip(ids)
        .map(|(descriptor, diff_id)| {
            let expect = Expected::of(source.path(), descriptor)?;
            Ok(LayerPlan {
                name: expect.layout_path(),
                expect: Some(expect),
                diff_id,
            })
        })
        .collect::<Result<_, ArchiveError>>()?;
    Ok(ImagePlan {
        names: name.into_iter().collect(),
        config,
        config_digest: config_expect.digest,
        layers,
    })
}
