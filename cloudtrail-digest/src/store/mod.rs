//! Where objects come from: the [`ObjectStore`] trait and its backends.
//!
//! The seam is small: list keys, get one object. "Not found" is a kind of its own
//! ([`StoreErrorKind::NotFound`]), distinct from every failure that leaves a file unchecked.

use std::collections::BTreeMap;
use std::fmt;

mod copy;
mod dir;
mod fs;
mod memory;
#[cfg(feature = "s3")]
mod s3;

pub use copy::CopyOf;
pub use fs::{FsStore, SIDECAR_SUFFIX};
pub use memory::MemoryStore;
#[cfg(feature = "s3")]
pub use s3::{S3Options, S3Store};

/// An object's bytes as stored, and its S3 user metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    /// The body exactly as stored (never transparently decompressed).
    pub body: Vec<u8>,
    /// User metadata (`x-amz-meta-*`, names lowercase without the prefix). `None` when the
    /// store does not know it, as for a local copy without a `.meta.json` sidecar.
    pub metadata: Option<BTreeMap<String, String>>,
    /// S3's identifiers of this version of the object, where known.
    pub info: ObjectInfo,
}

impl Object {
    /// An object with a body and metadata, its S3 identifiers unknown.
    pub fn new(body: Vec<u8>, metadata: Option<BTreeMap<String, String>>) -> Self {
        Self {
            body,
            metadata,
            info: ObjectInfo::default(),
        }
    }
}

/// What S3 says identifies an object version (the fields `aws s3api head-object` prints),
/// so that a report can stand as a record of exactly what was validated.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ObjectInfo {
    /// `ETag`, with its quotes as S3 sends it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// `VersionId`, in a versioned bucket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// `LastModified`, as S3 gives it (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

/// What went wrong reading from a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// The object does not exist: an integrity finding (`not found`).
    NotFound,
    /// The key would resolve outside the store (`..`, an absolute path, a symlink leading out).
    OutsideRoot,
    /// Permission was refused.
    AccessDenied,
    /// Any other failure (I/O, network, a malformed sidecar, an unknown bucket).
    Other,
}

/// A failed store operation, naming the object and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct StoreError {
    kind: StoreErrorKind,
    reason: String,
}

impl StoreError {
    /// A new error.
    pub fn new(kind: StoreErrorKind, reason: impl Into<String>) -> Self {
        Self {
            kind,
            reason: reason.into(),
        }
    }

    /// The kind of failure.
    pub fn kind(&self) -> StoreErrorKind {
        self.kind
    }

    /// The reason, for people.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// A source of CloudTrail objects: an S3 endpoint or a local copy.
pub trait ObjectStore: fmt::Debug + Send + Sync {
    /// Every key in `bucket` that starts with `prefix` and sorts after `start_after`, in
    /// lexicographic (S3) order.
    fn list(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: Option<&str>,
    ) -> Result<Vec<String>, StoreError>;

    /// The object's bytes and metadata.
    fn get(&self, bucket: &str, key: &str) -> Result<Object, StoreError>;

    /// The distinct "folders" directly under `prefix` (which ends in `/`), each ending in
    /// `/`, sorted: S3's `CommonPrefixes` with delimiter `/`. Lets discovery reach the digest
    /// folders without listing any log file.
    fn list_prefixes(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, StoreError> {
        let mut out: Vec<String> = self
            .list(bucket, prefix, None)?
            .iter()
            .filter_map(|k| {
                let rest = k.strip_prefix(prefix)?;
                rest.find('/').map(|i| format!("{prefix}{}", &rest[..=i]))
            })
            .collect();
        out.dedup();
        Ok(out)
    }

    /// Fetches every `(bucket, key)` of `requests`, calling `each(index, result)` exactly
    /// once per request, concurrently and in any order, possibly on several threads.
    ///
    /// `each` may do CPU-heavy work (inflating and hashing a log). The default reads on the
    /// rayon pool; a network store overrides it to keep many requests in flight while
    /// bounding how many bodies are held at once.
    fn get_each(
        &self,
        requests: &[(&str, &str)],
        each: &(dyn Fn(usize, Result<Object, StoreError>) + Sync),
    ) {
        use rayon::prelude::*;
        requests
            .par_iter()
            .enumerate()
            .for_each(|(i, (bucket, key))| each(i, self.get(bucket, key)));
    }
}
