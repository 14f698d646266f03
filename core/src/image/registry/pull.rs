//! `vessel pull REF`: manifest, config, then only the layers the store does not have.
//!
//! Blobs are downloaded into `downloads/` under the state root, laid out as an OCI layout's
//! `blobs/sha256/HEX`, so the pulled image is then loaded by the same checked path as
//! `vessel load` (config digest, diff_ids, hostile-tar rules, all or nothing). A blob is
//! first written to `HEX.partial`; an interrupted pull leaves it there, and the next pull
//! asks the registry for the rest only (an HTTP range request), then checks the digest of
//! the whole. A layer whose content digest (diff_id) is already stored is not downloaded.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use futures_util::StreamExt;
use oci_client::client::BlobResponse;
use oci_client::manifest::OciDescriptor;
use oci_client::{Client, Reference};

use super::client::{client_for, parse_reference, runtime};
use super::error::RegistryError;
use super::progress::Progress;
use crate::image::archive::{Source, image_plan, import};
use crate::image::config::Image;
use crate::image::error::ImageError;
use crate::image::store::Store;
use crate::layers::Digest;

/// What a pull did.
#[derive(Debug)]
pub struct Pulled {
    /// The image as stored.
    pub image: Image,
    /// The manifest's digest.
    pub manifest_digest: String,
    /// Layers downloaded.
    pub downloaded: usize,
    /// Layers the store already had.
    pub reused: usize,
}

/// Where partial and complete downloads wait to be loaded.
pub fn downloads_dir(store: &Store) -> PathBuf {
    store.root().join("downloads")
}

/// The store name of a pulled reference: as typed, with `:latest` when it has no tag; a
/// digest reference is named by its repository and the digest's first 12 digits.
pub fn local_name(text: &str, reference: &Reference) -> String {
    let name = crate::image::archive::store_name(text);
    match name.split_once('@') {
        Some((repo, _)) => {
            let hex = reference
                .digest()
                .unwrap_or("")
                .trim_start_matches("sha256:");
            format!("{repo}:{}", &hex[..hex.len().min(12)])
        }
        None => crate::image::name::with_default_tag(&name).unwrap_or(name),
    }
}

// ANCHOR: pull
/// Pulls `text` (`[REGISTRY/]REPOSITORY[:TAG|@DIGEST]`) into `store`.
pub fn pull(store: &Store, text: &str) -> Result<Pulled, ImageError> {
    let reference = parse_reference(text)?;
    let name = local_name(text, &reference);
    crate::image::validate_name(&name)?;
    let (client, auth) = client_for(&reference)?;
    let downloads = downloads_dir(store);
    let blobs = downloads.join("blobs/sha256");
    fs::create_dir_all(&blobs).map_err(io("create", &blobs))?;
    let runtime = runtime()?;
    let (manifest, manifest_digest) = runtime
        .block_on(client.pull_image_manifest(&reference, &auth))
        .map_err(request(&reference, "fetch the manifest"))?;
    // The same manifest as oci-spec's type, which the archive loader reads.
    let oci_manifest = serde_json::to_vec(&manifest)
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok())
        .ok_or_else(|| RegistryError::Client("the manifest has no OCI form".into()))?;
    runtime.block_on(fetch(&client, &reference, &manifest.config, &downloads))?;
    let source = Source::open(&downloads)?;
    let plan = image_plan(&source, &oci_manifest, Some(name))?;
    let mut used = vec![manifest.config.digest.clone()];
    let (mut downloaded, mut reused) = (0, 0);
    for (layer, descriptor) in plan.layers.iter().zip(&manifest.layers) {
        if store.layer_dir(&layer.diff_id).is_dir() && store.layer_tar(&layer.diff_id).is_file() {
            reused += 1;
            continue;
        }
        runtime.block_on(fetch(&client, &reference, descriptor, &downloads))?;
        used.push(descriptor.digest.clone());
        downloaded += 1;
    }
    let images = {
        let _lock = store.lock()?;
        import(store, &source, std::slice::from_ref(&plan))?
    };
    // Loaded: the store's layer tars now hold what the downloads held.
    for digest in used {
        if let Some(digest) = Digest::parse(&digest) {
            let _ = fs::remove_file(blobs.join(digest.hex()));
        }
    }
    Ok(Pulled {
        image: images
            .into_iter()
            .next()
            .expect("one plan, one name, one image"),
        manifest_digest,
        downloaded,
        reused,
    })
}
// ANCHOR_END: pull

/// Downloads the blob `descriptor` to `downloads/blobs/sha256/HEX`, resuming a partial
/// download, and checks its digest.
async fn fetch(
    client: &Client,
    reference: &Reference,
    descriptor: &OciDescriptor,
    downloads: &Path,
) -> Result<(), RegistryError> {
    let digest = Digest::parse(&descriptor.digest).ok_or_else(|| {
        RegistryError::Client(format!(
            "{}: only sha256 blobs are pulled",
            descriptor.digest
        ))
    })?;
    let done = downloads.join("blobs/sha256").join(digest.hex());
    if done.is_file() {
        return Ok(());
    }
    let partial = downloads.join(format!("{}.partial", digest.hex()));
    let have = fs::metadata(&partial).map_or(0, |m| m.len());
    let size = descriptor.size.max(0) as u64;
    let (mut stream, offset) = if have > 0 && have < size {
        match client
            .pull_blob_stream_partial(reference, descriptor, have, None)
            .await
            .map_err(request(reference, "download a blob"))?
        {
            BlobResponse::Partial(stream) => (stream, have),
            // The registry ignored the range: start again.
            BlobResponse::Full(stream) => (stream, 0),
        }
    } else {
        let stream = client
            .pull_blob_stream(reference, descriptor)
            .await
            .map_err(request(reference, "download a blob"))?;
        (stream, 0)
    };
    let mut file = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(offset == 0)
        .append(offset > 0)
        .open(&partial)
        .map_err(io("create", &partial))?;
    let mut progress = Progress::new(format!("pulling {}", &digest.short()), size, offset);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(io("download into", &partial))?;
        file.write_all(&chunk).map_err(io("write", &partial))?;
        progress.advance(chunk.len() as u64);
    }
    progress.finish();
    file.sync_all().map_err(io("write", &partial))?;
    drop(file);
    let got = Digest::of_file(&partial).map_err(io("read", &partial))?;
    if got != digest {
        let size = fs::metadata(&partial).map_or(0, |m| m.len());
        let _ = fs::remove_file(&partial);
        return Err(RegistryError::Mismatch {
            reference: reference.whole(),
            digest: digest.to_string(),
            got: got.to_string(),
            size,
        });
    }
    fs::rename(&partial, &done).map_err(io("store download", &done))
}

fn request(
    reference: &Reference,
    action: &str,
) -> impl FnOnce(oci_client::errors::OciDistributionError) -> RegistryError {
    let reference = reference.whole();
    let action = action.to_owned();
    move |source| RegistryError::Request {
        reference,
        action,
        source,
    }
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> RegistryError {
    let path = path.to_owned();
    move |source| RegistryError::Io {
        action,
        path,
        source,
    }
}
