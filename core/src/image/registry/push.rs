//! `vessel push REF`: the image's layers, its config and a manifest, blobs the registry
//! already has skipped (a HEAD request by digest).
//!
//! Layers go up as the uncompressed tars the store keeps (media type
//! `application/vnd.oci.image.layer.v1.tar`): their blob digest is their diff_id, so a
//! push needs no recompression and a pull by vessel gets the same layer names back.

use std::fs::File;
use std::io::Read;

use oci_client::{Client, Reference};
use oci_spec::image::{DescriptorBuilder, ImageManifestBuilder, MediaType, SCHEMA_VERSION};

use super::client::{client_for, parse_reference, runtime};
use super::error::RegistryError;
use super::progress::Progress;
use crate::image::archive::oci_from_image;
use crate::image::error::ImageError;
use crate::image::store::Store;
use crate::layers::Digest;

/// Bytes sent per PATCH request of a chunked upload.
const CHUNK: usize = 8 << 20;

/// What a push did.
#[derive(Debug)]
pub struct Pushed {
    /// The manifest's URL.
    pub manifest_url: String,
    /// Blobs uploaded.
    pub uploaded: usize,
    /// Blobs the registry already had.
    pub skipped: usize,
}

// ANCHOR: push
/// Pushes the image named `text` to the registry and repository that name says.
pub fn push(store: &Store, text: &str) -> Result<Pushed, ImageError> {
    let image = store.image(text)?;
    let reference = parse_reference(text)?;
    let (client, auth) = client_for(&reference)?;
    let runtime = runtime()?;
    runtime.block_on(client.store_auth_if_needed(reference.resolve_registry(), &auth));
    let config = serde_json::to_vec(&oci_from_image(&image))
        .map_err(|e| RegistryError::Client(e.to_string()))?;
    let config_digest = Digest::of_reader(&config[..]).expect("hashing memory cannot fail");
    let (mut uploaded, mut skipped) = (0, 0);
    let mut layers = Vec::new();
    for digest in &image.layers {
        let path = store.layer_tar(digest);
        let size = std::fs::metadata(&path)
            .map_err(ImageError::store("read layer", &path))?
            .len();
        if runtime.block_on(upload_file(&client, &reference, digest, &path, size))? {
            uploaded += 1;
        } else {
            skipped += 1;
        }
        layers.push(descriptor(MediaType::ImageLayer, digest, size)?);
    }
    let sent = runtime.block_on(async {
        if exists(&client, &reference, &config_digest).await? {
            return Ok(false);
        }
        client
            .push_blob(&reference, config.clone(), &config_digest.to_string())
            .await
            .map_err(request(&reference, "upload the config"))?;
        Ok::<_, RegistryError>(true)
    })?;
    if sent {
        uploaded += 1;
    } else {
        skipped += 1;
    }
    let manifest = ImageManifestBuilder::default()
        .schema_version(SCHEMA_VERSION)
        .media_type(MediaType::ImageManifest)
        .config(descriptor(
            MediaType::ImageConfig,
            &config_digest,
            config.len() as u64,
        )?)
        .layers(layers)
        .build()
        .map_err(|e| RegistryError::Client(e.to_string()))?;
    // The same manifest in oci-client's type, which it uploads with the right media type.
    let manifest: oci_client::manifest::OciImageManifest = serde_json::to_vec(&manifest)
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok())
        .ok_or_else(|| RegistryError::Client("the manifest has no oci-client form".into()))?;
    let manifest_url = runtime
        .block_on(client.push_manifest(
            &reference,
            &oci_client::manifest::OciManifest::Image(manifest),
        ))
        .map_err(request(&reference, "upload the manifest"))?;
    Ok(Pushed {
        manifest_url,
        uploaded,
        skipped,
    })
}
// ANCHOR_END: push

async fn exists(
    client: &Client,
    reference: &Reference,
    digest: &Digest,
) -> Result<bool, RegistryError> {
    client
        .blob_exists(reference, &digest.to_string())
        .await
        .map_err(request(reference, "ask whether the registry has a blob"))
}

/// Uploads the file `path` as the blob `digest` unless the registry has it; returns
/// whether it was sent.
async fn upload_file(
    client: &Client,
    reference: &Reference,
    digest: &Digest,
    path: &std::path::Path,
    size: u64,
) -> Result<bool, RegistryError> {
    if exists(client, reference, digest).await? {
        return Ok(false);
    }
    let file = File::open(path).map_err(|source| RegistryError::Io {
        action: "open layer",
        path: path.to_owned(),
        source,
    })?;
    let mut progress = Progress::new(format!("pushing {}", digest.short()), size, 0);
    // The stream is moved into the client, so progress is drawn per finished layer.
    let chunks = futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut chunk = vec![0; CHUNK];
        let mut filled = 0;
        while filled < CHUNK {
            match file.read(&mut chunk[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) => {
                    return Some((
                        Err(oci_client::errors::OciDistributionError::IoError(e)),
                        None,
                    ));
                }
            }
        }
        if filled == 0 {
            return None;
        }
        chunk.truncate(filled);
        Some((Ok(bytes::Bytes::from(chunk)), Some(file)))
    });
    client
        .push_blob_stream(reference, chunks, &digest.to_string(), Some(size))
        .await
        .map_err(request(reference, "upload a layer"))?;
    progress.advance(size);
    progress.finish();
    Ok(true)
}

fn descriptor(
    media_type: MediaType,
    digest: &Digest,
    size: u64,
) -> Result<oci_spec::image::Descriptor, RegistryError> {
    let oci_digest: oci_spec::image::Digest = digest
        .to_string()
        .parse()
        .map_err(|e: oci_spec::OciSpecError| RegistryError::Client(e.to_string()))?;
    DescriptorBuilder::default()
        .media_type(media_type)
        .digest(oci_digest)
        .size(size)
        .build()
        .map_err(|e| RegistryError::Client(e.to_string()))
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
