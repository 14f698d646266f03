//! Blobs checked against what their manifest promised: digest and size of what was read,
//! and for a layer also the digest of its uncompressed tar (the config's `diff_ids`).
//!
//! A layer is decompressed while it is read (gzip or zstd, recognised by their magic
//! bytes, since docker-archives carry no media types), and both hashes are computed in the
//! same pass, so a multi-gigabyte layer is read once and never held in memory.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;

use super::error::ArchiveError;
use super::source::Source;
use crate::layers::Digest;
use crate::layers::digest::HashingWriter;

/// What a descriptor promises about a blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The digest of the blob's bytes.
    pub digest: Digest,
    /// Its size in bytes, when the descriptor gives one.
    pub size: Option<u64>,
}

impl Expected {
    /// The promise of an OCI descriptor; only sha256 digests are accepted.
    pub fn of(
        archive: &Path,
        descriptor: &oci_spec::image::Descriptor,
    ) -> Result<Expected, ArchiveError> {
        let text = descriptor.digest().to_string();
        let digest = Digest::parse(&text).ok_or_else(|| ArchiveError::Unsupported {
            archive: archive.to_owned(),
            what: format!("digest {text:?} is not sha256 (the only algorithm vessel verifies)"),
        })?;
        Ok(Expected {
            digest,
            size: Some(descriptor.size()),
        })
    }

    /// Where an OCI layout keeps this blob.
    pub fn layout_path(&self) -> String {
        format!("blobs/sha256/{}", self.digest.hex())
    }
}

/// Reads the JSON blob `name`, checks it against `expect` and parses it as `what`.
pub fn read_json<T: serde::de::DeserializeOwned>(
    source: &Source,
    name: &str,
    expect: Option<&Expected>,
    what: &'static str,
) -> Result<(T, Vec<u8>), ArchiveError> {
    let bytes = source.read_small(name)?;
    if let Some(expect) = expect {
        let digest = Digest::of_reader(&bytes[..]).map_err(|e| source.io("hash".into(), e))?;
        check(source, name, expect, &digest, bytes.len() as u64)?;
    }
    let value = serde_json::from_slice(&bytes).map_err(|e| ArchiveError::BadJson {
        archive: source.path().to_owned(),
        name: name.to_owned(),
        what,
        source: e,
    })?;
    Ok((value, bytes))
}

/// Copies the layer blob `name` to `staging` as an uncompressed tar, checking the blob
/// against `expect` and the tar against `diff_id`. On error `staging` is removed.
pub fn stage_layer(
    source: &Source,
    name: &str,
    expect: Option<&Expected>,
    diff_id: &Digest,
    staging: &Path,
) -> Result<(), ArchiveError> {
    let result = copy_layer(source, name, expect, diff_id, staging);
    if result.is_err() {
        let _ = std::fs::remove_file(staging);
    }
    result
}

fn copy_layer(
    source: &Source,
    name: &str,
    expect: Option<&Expected>,
    diff_id: &Digest,
    staging: &Path,
) -> Result<(), ArchiveError> {
    let (reader, stored_size) = source.open_file(name)?;
    if let Some(size) = expect.and_then(|e| e.size)
        && size != stored_size
    {
        return Err(mismatch(
            source,
            name,
            format!("is {stored_size} bytes, its descriptor says {size}"),
        ));
    }
    let read_error = |e: io::Error| {
        // A decoder's complaint is about the blob, not the disk.
        if matches!(
            e.kind(),
            io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput | io::ErrorKind::UnexpectedEof
        ) {
            mismatch(source, name, format!("cannot be decompressed ({e})"))
        } else {
            source.io(format!("copy layer {name:?}"), e)
        }
    };
    let mut hashed = HashingReader::new(reader);
    let out = File::create(staging).map_err(|e| source.io(format!("create {staging:?}"), e))?;
    let mut tar = HashingWriter::new(BufWriter::new(out));
    {
        let mut buffered = BufReader::with_capacity(1 << 16, &mut hashed);
        let magic = buffered.fill_buf().map_err(read_error)?;
        if magic.starts_with(&[0x1f, 0x8b]) {
            let mut gz = flate2::bufread::MultiGzDecoder::new(buffered);
            io::copy(&mut gz, &mut tar).map_err(read_error)?;
        } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            let mut zst = zstd::stream::read::Decoder::with_buffer(buffered).map_err(read_error)?;
            io::copy(&mut zst, &mut tar).map_err(read_error)?;
        } else {
            io::copy(&mut buffered, &mut tar).map_err(read_error)?;
        }
    }
    // Whatever a decoder left unread still belongs to the blob and its digest.
    io::copy(&mut hashed, &mut io::sink()).map_err(read_error)?;
    let (mut file, tar_digest, _) = tar.finish();
    file.flush()
        .map_err(|e| source.io(format!("write {staging:?}"), e))?;
    let (blob_digest, blob_size) = hashed.finish();
    if let Some(expect) = expect {
        check(source, name, expect, &blob_digest, blob_size)?;
    }
    if &tar_digest != diff_id {
        return Err(mismatch(
            source,
            name,
            format!(
                "unpacks to a tar with digest {tar_digest}, but the image config's diff_ids say {diff_id}"
            ),
        ));
    }
    Ok(())
}

fn check(
    source: &Source,
    name: &str,
    expect: &Expected,
    digest: &Digest,
    size: u64,
) -> Result<(), ArchiveError> {
    if let Some(want) = expect.size
        && want != size
    {
        return Err(mismatch(
            source,
            name,
            format!("is {size} bytes, its descriptor says {want}"),
        ));
    }
    if digest != &expect.digest {
        return Err(mismatch(
            source,
            name,
            format!("has digest {digest}, its descriptor says {}", expect.digest),
        ));
    }
    Ok(())
}

fn mismatch(source: &Source, name: &str, problem: String) -> ArchiveError {
    ArchiveError::Mismatch {
        archive: source.path().to_owned(),
        name: name.to_owned(),
        problem,
    }
}

/// A reader that hashes and counts what passes through.
pub struct HashingReader<R> {
    inner: R,
    hasher: HashingWriter<io::Sink>,
}

impl<R: Read> HashingReader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: HashingWriter::new(io::sink()),
        }
    }

    /// The digest and length of everything read.
    pub fn finish(self) -> (Digest, u64) {
        let (_, digest, size) = self.hasher.finish();
        (digest, size)
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.write_all(&buf[..n])?;
        Ok(n)
    }
}
