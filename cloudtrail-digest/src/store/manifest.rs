//! The manifest of a mirror (a local copy made by `cloudtrail-digest mirror`): what was
//! copied from where, with each object's SHA-256, and CloudTrail's record of the trails at
//! the time of the copy. `validate DIR` takes the bucket, the capture time and the records
//! from it.

use std::io::{BufReader, Read};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::root::{Root, RootError};
use crate::format::trail_record::TrailRecord;

/// The manifest's file name, at the top of the directory.
pub const MANIFEST: &str = "cloudtrail-digest-manifest.json";

/// The largest manifest read (a mirror of millions of objects is hundreds of megabytes).
pub(crate) const MAX_MANIFEST_BYTES: u64 = 4 << 30;

/// One object in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// Its key.
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
    /// The SHA-256 of its bytes, hex.
    pub sha256: String,
    /// S3's `ETag`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// S3's `VersionId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// S3's `LastModified`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

/// An object that could not be copied, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotCopied {
    /// Its key (or a folder's, ending in `/`).
    pub key: String,
    /// Why.
    pub reason: String,
}

/// The manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The version of the tool that wrote it.
    pub tool_version: String,
    /// What was copied: `s3://BUCKET[/PREFIX]`.
    pub source: String,
    /// The bucket copied.
    pub bucket: String,
    /// The prefix copied.
    pub prefix: String,
    /// When the manifest was written.
    pub created: DateTime<Utc>,
    /// When the bucket was listed: a copy is judged as the bucket was then.
    #[serde(default)]
    pub captured_at: Option<DateTime<Utc>>,
    /// CloudTrail's record of each trail copied (`GetTrail`, `GetTrailStatus`), as read.
    #[serde(default)]
    pub trail_records: Vec<TrailRecord>,
    /// The filters of the copy.
    pub filters: Value,
    /// Whether every selected object was copied.
    pub complete: bool,
    /// Every object in the directory.
    pub objects: Vec<ManifestEntry>,
    /// The objects that could not be copied.
    pub not_copied: Vec<NotCopied>,
}

/// Why a manifest could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// The file could not be opened (not a regular file, outside the directory, ...).
    #[error("cannot read it: {0}")]
    Read(RootError),
    /// It is larger than [`MAX_MANIFEST_BYTES`].
    #[error("cannot read it: larger than {MAX_MANIFEST_BYTES} bytes")]
    TooLarge,
    /// It is not a manifest.
    #[error("not a mirror manifest: {0}")]
    Format(serde_json::Error),
}

impl Manifest {
    /// Parses a manifest as it is read.
    pub fn from_reader(reader: impl Read) -> Result<Self, ManifestError> {
        let reader = BufReader::new(reader.take(MAX_MANIFEST_BYTES));
        serde_json::from_reader(reader).map_err(ManifestError::Format)
    }

    /// Reads the manifest of the directory `root`, if it has one: beneath the directory (a
    /// symlink leading out is refused), a regular file (a FIFO cannot block), parsed as it
    /// is read.
    pub fn read(root: &Root) -> Result<Option<Self>, ManifestError> {
        let (file, size) = match root.open_file(MANIFEST) {
            Ok(found) => found,
            Err(RootError::NotFound) => return Ok(None),
            Err(e) => return Err(ManifestError::Read(e)),
        };
        if size > MAX_MANIFEST_BYTES {
            return Err(ManifestError::TooLarge);
        }
        Self::from_reader(file).map(Some)
    }
}
