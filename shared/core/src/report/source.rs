//! Where report objects come from: a local file tree or an S3 bucket (the AWS crate adds an S3 one).

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// An opened object: a seekable local file, or a one-way stream (an S3 body).
pub enum Opened {
    File(File),
    Stream(Box<dyn Read + Send>),
}

/// Opens the objects a manifest lists.
pub trait ObjectSource {
    /// A key in the bucket the manifest came from (CUR 1.0 `reportKeys`).
    fn open_key(&self, key: &str) -> io::Result<Opened>;
    /// An object named by bucket and key (Data Exports `dataFiles` URIs).
    fn open_uri(&self, bucket: &str, key: &str) -> io::Result<Opened>;
}

/// Splits `s3://bucket/key` into its bucket and key.
pub fn parse_s3_uri(uri: &str) -> Option<(&str, &str)> {
    let rest = uri.strip_prefix("s3://")?;
    let (bucket, key) = rest.split_once('/')?;
    (!bucket.is_empty() && !key.is_empty()).then_some((bucket, key))
}

/// A local directory standing in for the bucket root: `s3://b/k` and key `k` both map to `DIR/k`.
/// Without an explicit root, the nearest ancestor of the manifest's folder that holds the key is
/// used.
pub struct LocalSource {
    root: Option<PathBuf>,
    manifest_dir: PathBuf,
}

impl LocalSource {
    pub fn new(root: Option<PathBuf>, manifest_path: &Path) -> Self {
        let manifest_dir = manifest_path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        Self { root, manifest_dir }
    }

    fn resolve(&self, key: &str) -> io::Result<PathBuf> {
        let key = key.trim_start_matches('/');
        if key.split('/').any(|c| c == "..") {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{key}: key climbs out of the bucket"),
            ));
        }
        if let Some(root) = &self.root {
            return Ok(root.join(key));
        }
        let start = if self.manifest_dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            self.manifest_dir.as_path()
        };
        for dir in start.ancestors() {
            let candidate = dir.join(key);
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
        Err(io::Error::new(
            io::ErrorKind::NotFound,
            "not found under the manifest's folder or any folder above it (pass --bucket-dir)",
        ))
    }
}

impl ObjectSource for LocalSource {
    fn open_key(&self, key: &str) -> io::Result<Opened> {
        let path = self.resolve(key)?;
        File::open(&path)
            .map(Opened::File)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
    }

    fn open_uri(&self, _bucket: &str, key: &str) -> io::Result<Opened> {
        self.open_key(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_uris_split_into_bucket_and_key() {
        assert_eq!(parse_s3_uri("s3://b/k/x.csv"), Some(("b", "k/x.csv")));
        assert_eq!(parse_s3_uri("s3://b/"), None);
        assert_eq!(parse_s3_uri("/tmp/x"), None);
    }

    #[test]
    fn local_source_finds_the_bucket_root_above_the_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let part = dir.path().join("cur/r/20261101-20261201/a1/r-1.csv.gz");
        std::fs::create_dir_all(part.parent().unwrap()).unwrap();
        std::fs::write(&part, b"x").unwrap();
        let manifest = dir.path().join("cur/r/20261101-20261201/r-Manifest.json");
        let src = LocalSource::new(None, &manifest);
        assert!(src
            .open_key("cur/r/20261101-20261201/a1/r-1.csv.gz")
            .is_ok());
        assert!(src
            .open_uri("bucket", "cur/r/20261101-20261201/a1/r-1.csv.gz")
            .is_ok());
        assert!(src.open_key("cur/r/missing.csv.gz").is_err());
        assert!(src.open_key("../etc/passwd").is_err());
        let explicit = LocalSource::new(Some(dir.path().to_path_buf()), Path::new("m.json"));
        assert!(explicit
            .open_key("cur/r/20261101-20261201/a1/r-1.csv.gz")
            .is_ok());
    }
}
