//! What a store hands over: an object (body, metadata, S3 identifiers), a listing, and
//! why an operation failed.

use std::collections::BTreeMap;

use super::body::Body;

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
    /// Everything the source of the failure said, for debugging (the reason is its gist).
    detail: Option<String>,
}

impl StoreError {
    /// A new error.
    pub fn new(kind: StoreErrorKind, reason: impl Into<String>) -> Self {
        Self {
            kind,
            reason: reason.into(),
            detail: None,
        }
    }

    /// This error, with everything its source said (an SDK's whole error chain), which
    /// [`StoreError::reason`] sums up.
    #[must_use]
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Everything the source of the failure said, where it said more than the reason.
    pub fn detail(&self) -> Option<&str> {
        self.detail.as_deref()
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
