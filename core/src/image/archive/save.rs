//! `vessel save`: images as one OCI image layout tar.
//!
//! Layers are written as the uncompressed tars the store keeps, so a layer's blob digest
//! is its diff_id and a saved-then-loaded image has exactly the same layers. The tar
//! also carries docker's `manifest.json` (as `docker save` since 25 does), so older
//! docker-archive readers find the same blobs. The file appears only when complete.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::Path;

use oci_spec::image::{
    Descriptor, DescriptorBuilder, ImageIndexBuilder, ImageManifestBuilder, MediaType,
    OciLayoutBuilder, SCHEMA_VERSION,
};

use super::config_map::oci_from_image;
use super::error::ArchiveError;
use crate::image::config::Image;
use crate::image::error::ImageError;
use crate::image::store::Store;
use crate::layers::Digest;

/// Writes the images `names` from `store` to `output` as an OCI layout tar.
pub fn save(store: &Store, names: &[String], output: &Path) -> Result<(), ImageError> {
    let images: Vec<Image> = names
        .iter()
        .map(|name| store.image(name))
        .collect::<Result<_, _>>()?;
    let partial = output.with_file_name(format!(
        ".{}.partial-{}",
        output
            .file_name()
            .map_or("save".into(), |n| n.to_string_lossy()),
        std::process::id()
    ));
    let io_error = |action: &str| {
        let archive = output.to_owned();
        let action = action.to_owned();
        move |source| ArchiveError::Io {
            archive,
            action,
            source,
        }
    };
    let result = (|| {
        let file = File::create(&partial).map_err(io_error("create"))?;
        let mut tar = tar::Builder::new(BufWriter::new(file));
        write_layout(store, &images, &mut tar).map_err(io_error("write"))?;
        let mut out = tar.into_inner().map_err(io_error("finish"))?;
        out.flush().map_err(io_error("write"))?;
        out.get_ref().sync_all().map_err(io_error("sync"))?;
        fs::rename(&partial, output).map_err(io_error("rename into place"))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&partial);
    }
    Ok(result?)
}

fn write_layout(
    store: &Store,
    images: &[Image],
    tar: &mut tar::Builder<impl Write>,
) -> io::Result<()> {
    for dir in ["blobs/", "blobs/sha256/"] {
        let mut header = tar::Header::new_ustar();
        header.set_entry_type(tar::EntryType::Directory);
        header.set_size(0);
        header.set_mode(0o755);
        header.set_mtime(0);
        tar.append_data(&mut header, dir, io::empty())?;
    }
    let mut written: HashSet<Digest> = HashSet::new();
    let mut index_entries = Vec::new();
    let mut docker_manifest = Vec::new();
    for image in images {
        let mut layers = Vec::new();
        for digest in &image.layers {
            let path = store.layer_tar(digest);
            let size = fs::metadata(&path)?.len();
            if written.insert(digest.clone()) {
                add_file(tar, &blob_path(digest), size, File::open(&path)?)?;
            }
            layers.push(descriptor(MediaType::ImageLayer, digest, size)?);
        }
        let config = serde_json::to_vec(&oci_from_image(image)).map_err(io::Error::other)?;
        let config_desc = add_blob(tar, &mut written, MediaType::ImageConfig, &config)?;
        let manifest = ImageManifestBuilder::default()
            .schema_version(SCHEMA_VERSION)
            .media_type(MediaType::ImageManifest)
            .config(config_desc.clone())
            .layers(layers)
            .build()
            .map_err(io::Error::other)?;
        let manifest = serde_json::to_vec(&manifest).map_err(io::Error::other)?;
        let mut manifest_desc = add_blob(tar, &mut written, MediaType::ImageManifest, &manifest)?;
        let reference = full_name(&image.name);
        manifest_desc.set_annotations(Some(
            [
                ("io.containerd.image.name".to_owned(), reference.clone()),
                (
                    oci_spec::image::ANNOTATION_REF_NAME.to_owned(),
                    reference.clone(),
                ),
            ]
            .into(),
        ));
        index_entries.push(manifest_desc);
        docker_manifest.push(serde_json::json!({
            "Config": blob_path(&digest_of(&config_desc)?),
            "RepoTags": [reference],
            "Layers": image.layers.iter().map(blob_path).collect::<Vec<_>>(),
        }));
    }
    let index = ImageIndexBuilder::default()
        .schema_version(SCHEMA_VERSION)
        .media_type(MediaType::ImageIndex)
        .manifests(index_entries)
        .build()
        .map_err(io::Error::other)?;
    let layout = OciLayoutBuilder::default()
        .image_layout_version("1.0.0")
        .build()
        .map_err(io::Error::other)?;
    for (name, value) in [
        ("oci-layout", serde_json::to_vec(&layout)),
        ("index.json", serde_json::to_vec(&index)),
        ("manifest.json", serde_json::to_vec(&docker_manifest)),
    ] {
        let bytes = value.map_err(io::Error::other)?;
        add_file(tar, name, bytes.len() as u64, &bytes[..])?;
    }
    tar.finish()
}

/// The reference other tools read: a name without a tag is `:latest`, as docker's.
fn full_name(name: &str) -> String {
    crate::image::name::with_default_tag(name).unwrap_or_else(|| name.to_owned())
}

fn blob_path(digest: &Digest) -> String {
    format!("blobs/sha256/{}", digest.hex())
}

fn digest_of(descriptor: &Descriptor) -> io::Result<Digest> {
    Digest::parse(descriptor.digest().as_ref())
        .ok_or_else(|| io::Error::other("descriptor digest is not sha256"))
}

fn descriptor(media_type: MediaType, digest: &Digest, size: u64) -> io::Result<Descriptor> {
    let digest: oci_spec::image::Digest = digest.to_string().parse().map_err(io::Error::other)?;
    DescriptorBuilder::default()
        .media_type(media_type)
        .digest(digest)
        .size(size)
        .build()
        .map_err(io::Error::other)
}

fn add_blob(
    tar: &mut tar::Builder<impl Write>,
    written: &mut HashSet<Digest>,
    media_type: MediaType,
    bytes: &[u8],
) -> io::Result<Descriptor> {
    let digest = Digest::of_reader(bytes)?;
    if written.insert(digest.clone()) {
        add_file(tar, &blob_path(&digest), bytes.len() as u64, bytes)?;
    }
    descriptor(media_type, &digest, bytes.len() as u64)
}

fn add_file(
    tar: &mut tar::Builder<impl Write>,
    name: &str,
    size: u64,
    data: impl Read,
) -> io::Result<()> {
    let mut header = tar::Header::new_ustar();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_size(size);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_uid(0);
    header.set_gid(0);
    tar.append_data(&mut header, name, data)
}
