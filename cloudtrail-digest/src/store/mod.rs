//! Where objects come from: the [`ObjectStore`] trait and its backends.
//!
//! The seam is small: list keys, get one object. "Not found" is a kind of its own
//! ([`StoreErrorKind::NotFound`]), distinct from every failure that leaves a file unchecked.

use std::collections::BTreeMap;
use std::fmt;

mod body;
#[cfg(any(test, feature = "testing"))]
pub mod conformance;
mod copy;
#[cfg(unix)]
pub(crate) mod fs;
#[cfg(unix)]
mod manifest;
mod memory;
#[cfg(unix)]
mod root;
#[cfg(feature = "aws")]
pub(crate) mod s3;

pub use body::{Body, STREAM_ABOVE};
pub use copy::CopyOf;
#[cfg(unix)]
pub use fs::{FsStore, SIDECAR_SUFFIX};
#[cfg(unix)]
pub use manifest::{Manifest, ManifestEntry, NotCopied, MANIFEST};
pub use memory::{MemoryStore, StoredObject};
#[cfg(unix)]
pub use root::{read_bounded, read_regular_file, Root, RootError};
#[cfg(feature = "aws")]
pub use s3::{S3Options, S3Store, Timeouts};

/// An object's bytes as stored, and its S3 user metadata.
#[derive(Debug)]
pub struct Object {
    /// The body exactly as stored (never transparently decompressed).
    pub body: Body,
    /// The body's size, when the store says it before the body is read.
    pub size: Option<u64>,
    /// User metadata (`x-amz-meta-*`, names lowercase without the prefix). `None` when the
    /// store does not know it, as for a local copy without a `.meta.json` sidecar.
    pub metadata: Option<BTreeMap<String, String>>,
    /// S3's identifiers of this version of the object, where known.
    pub info: ObjectInfo,
}

impl Object {
    /// An object held in memory, with metadata, its S3 identifiers unknown.
    pub fn new(body: Vec<u8>, metadata: Option<BTreeMap<String, String>>) -> Self {
        Self {
            size: Some(body.len() as u64),
            body: Body::from_bytes(body),
            metadata,
            info: ObjectInfo::default(),
        }
    }
}

/// What a listing found: the keys (or folders), and the entries it could not take as keys,
/// each named with why (a symlink leading out of a local copy, a name that is not UTF-8,
/// a folder that could not be read).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// Keys, or folders ending in `/`, in lexicographic (S3) order.
    pub keys: Vec<String>,
    /// Entries left out, and why.
    pub problems: Vec<ListProblem>,
}

impl Listing {
    /// A listing of these keys and nothing else.
    pub fn of(keys: Vec<String>) -> Self {
        Self {
            keys,
            problems: Vec::new(),
        }
    }
}

/// An entry a listing could not take as a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListProblem {
    /// The entry, as a key would name it (with replacement characters where it is not
    /// UTF-8).
    pub entry: String,
    /// Why it was left out.
    pub reason: String,
    /// Whether what lies under it is unknown (a folder that could not be read), rather
    /// than the entry being merely out of place.
    pub unchecked: bool,
}

/// What S3 says identifies an object version (the fields `aws s3api head-object` prints),
/// so that a report can stand as a record of exactly what was validated.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
    /// Every key in `bucket` that starts with `prefix`, in lexicographic (S3) order.
    fn list(&self, bucket: &str, prefix: &str) -> Result<Listing, StoreError>;

    /// The object's body (in memory up to [`STREAM_ABOVE`] bytes, else read as it arrives)
    /// and metadata.
    fn get(&self, bucket: &str, key: &str) -> Result<Object, StoreError>;

    /// The distinct "folders" directly under `prefix` (which ends in `/`), each ending in
    /// `/`, sorted: S3's `CommonPrefixes` with delimiter `/`. Lets discovery reach the digest
    /// folders without listing any log file.
    fn list_prefixes(&self, bucket: &str, prefix: &str) -> Result<Listing, StoreError> {
        let listed = self.list(bucket, prefix)?;
        let mut keys: Vec<String> = listed
            .keys
            .iter()
            .filter_map(|k| {
                let rest = k.strip_prefix(prefix)?;
                rest.find('/').map(|i| format!("{prefix}{}", &rest[..=i]))
            })
            .collect();
        keys.dedup();
        Ok(Listing {
            keys,
            problems: listed.problems,
        })
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

/// A shared store is a store.
impl<T: ObjectStore + ?Sized> ObjectStore for std::sync::Arc<T> {
    fn list(&self, bucket: &str, prefix: &str) -> Result<Listing, StoreError> {
        (**self).list(bucket, prefix)
    }

    fn get(&self, bucket: &str, key: &str) -> Result<Object, StoreError> {
        (**self).get(bucket, key)
    }

    fn list_prefixes(&self, bucket: &str, prefix: &str) -> Result<Listing, StoreError> {
        (**self).list_prefixes(bucket, prefix)
    }

    fn get_each(
        &self,
        requests: &[(&str, &str)],
        each: &(dyn Fn(usize, Result<Object, StoreError>) + Sync),
    ) {
        (**self).get_each(requests, each);
    }
}

/// Fetches every request through [`ObjectStore::get_each`] and keeps `f(index, result)` by
/// index: `None` where the store skipped a request, which the caller must treat as not
/// read, never as read.
pub(crate) fn collect_each<S, T, F>(store: &S, requests: &[(&str, &str)], f: F) -> Vec<Option<T>>
where
    S: ObjectStore + ?Sized,
    T: Send,
    F: Fn(usize, Result<Object, StoreError>) -> T + Sync,
{
    let slots: std::sync::Mutex<Vec<Option<T>>> =
        std::sync::Mutex::new((0..requests.len()).map(|_| None).collect());
    store.get_each(requests, &|i, result| {
        let value = f(i, result);
        if let Ok(mut slots) = slots.lock() {
            if let Some(slot) = slots.get_mut(i) {
                *slot = Some(value);
            }
        }
    });
    slots
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The error for a request a store skipped (called `each` for it never).
pub(crate) fn skipped() -> StoreError {
    StoreError::new(
        StoreErrorKind::Other,
        "the store returned no result for this file",
    )
}
