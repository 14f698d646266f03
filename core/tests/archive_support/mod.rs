//! Image archives made in a test: layer tars, OCI layouts and docker-archives, each
//! blob named by its real digest unless a test breaks it on purpose.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

/// `sha256:HEX` of `bytes`.
pub fn digest(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    format!(
        "sha256:{}",
        hash.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

/// The hex part of a digest.
pub fn hex(digest: &str) -> &str {
    digest.trim_start_matches("sha256:")
}

/// A layer tar with regular files `(path, content)` (parents created as directories).
pub fn layer(files: &[(&str, &str)]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (path, content) in files {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(content.len() as u64);
        header.set_mode(0o755);
        header.set_mtime(1);
        header.set_uid(0);
        header.set_gid(0);
        // set_path refuses "..": write the name bytes as a hostile archive would.
        let name = header.as_old_mut().name.as_mut();
        name[..path.len()].copy_from_slice(path.as_bytes());
        header.set_cksum();
        tar.append(&header, content.as_bytes()).unwrap();
    }
    tar.into_inner().unwrap()
}

/// How a layer blob is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    pub fn apply(self, tar: &[u8]) -> Vec<u8> {
        match self {
            Compression::None => tar.to_vec(),
            Compression::Gzip => {
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                gz.write_all(tar).unwrap();
                gz.finish().unwrap()
            }
            Compression::Zstd => zstd::encode_all(tar, 1).unwrap(),
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Compression::None => "application/vnd.oci.image.layer.v1.tar",
            Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
            Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
        }
    }
}

/// An image to put in an archive.
#[derive(Debug, Clone)]
pub struct TestImage {
    pub name: String,
    pub layers: Vec<Vec<u8>>,
    pub compression: Compression,
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub workdir: String,
}

impl TestImage {
    pub fn new(name: &str, layers: Vec<Vec<u8>>) -> TestImage {
        TestImage {
            name: name.to_owned(),
            layers,
            compression: Compression::None,
            cmd: vec!["/bin/sh".into(), "-c".into(), "cat /hello".into()],
            env: vec!["PATH=/bin".into(), "GREETING=hi".into()],
            workdir: "/srv".into(),
        }
    }

    pub fn compressed(mut self, compression: Compression) -> TestImage {
        self.compression = compression;
        self
    }

    fn config(&self) -> Vec<u8> {
        let diff_ids: Vec<String> = self.layers.iter().map(|l| digest(l)).collect();
        let history: Vec<serde_json::Value> = (0..self.layers.len())
            .map(|i| serde_json::json!({"created_by": format!("step {i}")}))
            .chain([serde_json::json!({"created_by": "CMD", "empty_layer": true})])
            .collect();
        serde_json::to_vec(&serde_json::json!({
            "architecture": "amd64",
            "os": "linux",
            "config": {"Env": self.env, "Cmd": self.cmd, "WorkingDir": self.workdir,
                       "User": "1000:1000", "ExposedPorts": {"8080/tcp": {}},
                       "Labels": {"made.by": "test"}, "Volumes": {"/data": {}}},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": history,
        }))
        .unwrap()
    }
}

/// Files of an archive, by name; written as a directory or a tar.
#[derive(Debug, Default, Clone)]
pub struct Files(pub BTreeMap<String, Vec<u8>>);

impl Files {
    pub fn put(&mut self, name: impl Into<String>, bytes: Vec<u8>) {
        self.0.insert(name.into(), bytes);
    }

    pub fn write_dir(&self, dir: &Path) -> PathBuf {
        for (name, bytes) in &self.0 {
            let path = dir.join(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, bytes).unwrap();
        }
        dir.to_owned()
    }

    pub fn write_tar(&self, path: &Path) -> PathBuf {
        let mut tar = tar::Builder::new(fs::File::create(path).unwrap());
        for (name, bytes) in &self.0 {
            let mut header = tar::Header::new_gnu();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o644);
            tar.append_data(&mut header, name, &bytes[..]).unwrap();
        }
        tar.finish().unwrap();
        path.to_owned()
    }
}

/// An OCI layout holding `images`; returns the files and each image's manifest digest.
pub fn oci_layout(images: &[TestImage]) -> Files {
    let mut files = Files::default();
    files.put("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec());
    let mut manifests = Vec::new();
    for image in images {
        let config = image.config();
        let config_digest = digest(&config);
        let mut layers = Vec::new();
        for tar in &image.layers {
            let blob = image.compression.apply(tar);
            let d = digest(&blob);
            layers.push(serde_json::json!({
                "mediaType": image.compression.media_type(),
                "digest": d, "size": blob.len()}));
            files.put(format!("blobs/sha256/{}", hex(&d)), blob);
        }
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": config_digest, "size": config.len()},
            "layers": layers,
        }))
        .unwrap();
        let manifest_digest = digest(&manifest);
        files.put(format!("blobs/sha256/{}", hex(&config_digest)), config);
        manifests.push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest, "size": manifest.len(),
            "annotations": {"org.opencontainers.image.ref.name": image.name},
        }));
        files.put(format!("blobs/sha256/{}", hex(&manifest_digest)), manifest);
    }
    files.put(
        "index.json",
        serde_json::to_vec(&serde_json::json!({"schemaVersion": 2, "manifests": manifests}))
            .unwrap(),
    );
    files
}

/// A docker-archive (the legacy `ID/layer.tar` layout) holding `images`.
pub fn docker_archive(images: &[TestImage]) -> Files {
    let mut files = Files::default();
    let mut manifest = Vec::new();
    for image in images {
        let config = image.config();
        let config_name = format!("{}.json", hex(&digest(&config)));
        let mut layers = Vec::new();
        for (i, tar) in image.layers.iter().enumerate() {
            let name = format!("{:064x}/layer.tar", i + 1 + 100 * manifest.len());
            files.put(name.clone(), image.compression.apply(tar));
            layers.push(name);
        }
        files.put(config_name.clone(), config);
        manifest.push(serde_json::json!({
            "Config": config_name, "RepoTags": [image.name], "Layers": layers}));
    }
    files.put("manifest.json", serde_json::to_vec(&manifest).unwrap());
    files
}

/// Every path under `root` with its size: what a test compares before and after.
pub fn snapshot(root: &Path) -> BTreeMap<PathBuf, u64> {
    let mut found = BTreeMap::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap().flatten() {
            let meta = entry.path().symlink_metadata().unwrap();
            let rel = entry.path().strip_prefix(root).unwrap().to_owned();
            if meta.is_dir() {
                stack.push(entry.path());
                found.insert(rel, 0);
            } else {
                found.insert(rel, meta.len());
            }
        }
    }
    found
}
