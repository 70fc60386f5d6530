//! Where report objects come from: a local file tree or an S3 bucket (the AWS crate adds an S3 one).

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// An opened object: a seekable local file, or a one-way stream (an S3 body).
pub enum Opened {
    File(File),
    Stream(Box<dyn Read + Send>),
}

/// Opens the objects a manifest lists.
pub trait ObjectSource: Sync {
    /// A key in the bucket the manifest came from (CUR 1.0 `reportKeys`).
    fn open_key(&self, key: &str) -> io::Result<Opened>;
    /// An object named by bucket and key (Data Exports `dataFiles` URIs).
    fn open_uri(&self, bucket: &str, key: &str) -> io::Result<Opened>;
    /// The bucket the manifest itself was read from, when there is one (an S3 source answers
    /// its bucket; a local folder answers `None`). Every `dataFiles` URI must name this bucket:
    /// a manifest cannot send the reader to another bucket.
    fn home_bucket(&self) -> Option<&str>;

    /// What the object a key (and, for a `dataFiles` URI, its bucket) resolves to, when the
    /// source can tell: two parts that answer the same identity are one object read twice (a
    /// local file reached through a symbolic or hard link). `None` when the source cannot tell
    /// or the key does not resolve (opening it then says why); S3 keys are their own identity,
    /// so an S3 source answers `None` and relies on the key comparison.
    fn identity(&self, _bucket: Option<&str>, _key: &str) -> Option<String> {
        None
    }
}

/// Splits `s3://bucket/key` into its bucket and key.
pub fn parse_s3_uri(uri: &str) -> Option<(&str, &str)> {
    let rest = uri.strip_prefix("s3://")?;
    let (bucket, key) = rest.split_once('/')?;
    (!bucket.is_empty() && !key.is_empty()).then_some((bucket, key))
}

/// Why a key cannot name a file inside the bucket folder, if it cannot: an absolute key, an
/// empty, `.` or `..` segment, a NUL or a backslash.
pub fn unsafe_key(key: &str) -> Option<&'static str> {
    if key.is_empty() {
        return Some("the key is empty");
    }
    if key.starts_with('/') {
        return Some("the key is an absolute path");
    }
    if key.contains('\0') || key.contains('\\') {
        return Some("the key holds a NUL or a backslash");
    }
    if key
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return Some("the key has an empty, '.' or '..' segment");
    }
    None
}

/// A local directory standing in for the bucket root: `s3://b/k` and key `k` both map to `DIR/k`.
/// Without an explicit root, the root is found once, from the first key opened: the nearest
/// ancestor `A` of the manifest's folder such that `A/key` is a file and the key's first segment
/// is the manifest's own first folder under `A` (a manifest and its parts share their report
/// prefix: `cur/…/r-Manifest.json` and `cur/…/r-1.csv.gz`, `exports/x/metadata/…` and
/// `exports/x/data/…`). Every key then resolves under that root, and a file that resolves
/// outside it (through a symbolic link) is refused.
pub struct LocalSource {
    root: Option<PathBuf>,
    manifest_path: PathBuf,
    found_root: OnceLock<PathBuf>,
}

impl LocalSource {
    pub fn new(root: Option<PathBuf>, manifest_path: &Path) -> Self {
        Self {
            root,
            manifest_path: manifest_path.to_path_buf(),
            found_root: OnceLock::new(),
        }
    }

    fn refuse(kind: io::ErrorKind, why: &str) -> io::Error {
        io::Error::new(kind, why.to_string())
    }

    /// The bucket root: the explicit one, the one found earlier, or the one `key` shows.
    fn root_for(&self, key: &str) -> io::Result<PathBuf> {
        if let Some(root) = &self.root {
            return Ok(root.clone());
        }
        if let Some(root) = self.found_root.get() {
            return Ok(root.clone());
        }
        let manifest = std::fs::canonicalize(&self.manifest_path)
            .or_else(|_| std::path::absolute(&self.manifest_path))?;
        let first = key.split('/').next().unwrap_or(key);
        let mut dir = manifest.parent();
        while let Some(candidate) = dir {
            let shares_prefix = manifest
                .strip_prefix(candidate)
                .ok()
                .and_then(|rel| rel.components().next())
                .is_some_and(|c| c.as_os_str() == std::ffi::OsStr::new(first));
            if shares_prefix && candidate.join(key).is_file() {
                return Ok(self
                    .found_root
                    .get_or_init(|| candidate.to_path_buf())
                    .clone());
            }
            dir = candidate.parent();
        }
        Err(Self::refuse(
            io::ErrorKind::NotFound,
            "not found under the manifest's report prefix (pass --bucket-dir)",
        ))
    }

    fn resolve(&self, key: &str) -> io::Result<PathBuf> {
        if let Some(why) = unsafe_key(key) {
            return Err(Self::refuse(io::ErrorKind::InvalidInput, why));
        }
        let root = self.root_for(key)?;
        let path = root.join(key);
        // Symbolic links may not lead out of the bucket folder.
        let real_root = std::fs::canonicalize(&root)?;
        let real = std::fs::canonicalize(&path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        if !real.starts_with(&real_root) {
            return Err(Self::refuse(
                io::ErrorKind::PermissionDenied,
                "the key resolves outside the bucket folder",
            ));
        }
        Ok(real)
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

    fn home_bucket(&self) -> Option<&str> {
        None
    }

    /// The file's device and inode (Unix), else its canonical path: the same for every name of
    /// one file, links and `..` included.
    fn identity(&self, _bucket: Option<&str>, key: &str) -> Option<String> {
        let path = self.resolve(key).ok()?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let meta = std::fs::metadata(&path).ok()?;
            Some(format!("{}:{}", meta.dev(), meta.ino()))
        }
        #[cfg(not(unix))]
        {
            Some(path.display().to_string())
        }
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
    fn unsafe_keys_are_named() {
        assert_eq!(unsafe_key("cur/r/1.csv"), None);
        assert_eq!(
            unsafe_key("exports/x/data/BILLING_PERIOD=2026-11/x-00001.csv.gz"),
            None
        );
        for bad in [
            "", "/a", "a//b", "a/./b", "a/../b", "..", "a/", "a\\b", "a\0b",
        ] {
            assert!(unsafe_key(bad).is_some(), "{bad:?}");
        }
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
        assert!(src.open_key("/etc/passwd").is_err());
        assert!(src.open_key("cur//r").is_err());
        let explicit = LocalSource::new(Some(dir.path().to_path_buf()), Path::new("m.json"));
        assert!(explicit
            .open_key("cur/r/20261101-20261201/a1/r-1.csv.gz")
            .is_ok());
    }
}
