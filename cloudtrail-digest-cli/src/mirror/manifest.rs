//! The mirror's manifest: what was copied from where, with each object's SHA-256, and
//! CloudTrail's record of the trails at the time of the copy. Read like every file of the
//! copy: beneath the directory, a regular file, parsed as it is read.

use std::io::BufReader;

use anyhow::{bail, Context as _, Result};
use chrono::{DateTime, Utc};
use cloudtrail_digest::store::root::{Root, RootError};
use cloudtrail_digest::TrailRecord;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The manifest's file name, at the top of the directory.
pub(crate) const MANIFEST: &str = "cloudtrail-digest-manifest.json";

/// The largest manifest read (a mirror of millions of objects is hundreds of megabytes).
const MAX_MANIFEST_BYTES: u64 = 4 << 30;

/// One object in the manifest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Entry {
    pub(super) key: String,
    pub(super) size: u64,
    pub(super) sha256: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) etag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) version_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) last_modified: Option<String>,
}

/// An object that could not be copied, and why.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct NotCopied {
    pub(super) key: String,
    pub(super) reason: String,
}

/// The manifest.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Manifest {
    pub(super) tool_version: String,
    pub(super) source: String,
    pub(crate) bucket: String,
    pub(super) prefix: String,
    pub(super) created: DateTime<Utc>,
    /// When the bucket was listed: `validate DIR` judges what was due as of then.
    #[serde(default)]
    pub(crate) captured_at: Option<DateTime<Utc>>,
    /// CloudTrail's record of each trail copied (`GetTrail`, `GetTrailStatus`), as read.
    #[serde(default)]
    pub(crate) trail_records: Vec<TrailRecord>,
    pub(super) filters: Value,
    pub(super) complete: bool,
    pub(super) objects: Vec<Entry>,
    pub(super) not_copied: Vec<NotCopied>,
}

/// Reads the manifest of a mirrored directory, if it has one: beneath the directory (a
/// symlink leading out is refused), a regular file (a FIFO cannot block), parsed as it is
/// read.
pub(crate) fn read(root: &Root) -> Result<Option<Manifest>> {
    let path = root.path().join(MANIFEST);
    let (file, size) = match root.open_file(MANIFEST) {
        Ok(found) => found,
        Err(RootError::NotFound) => return Ok(None),
        Err(e) => bail!("cannot read {}: {e}", path.display()),
    };
    if size > MAX_MANIFEST_BYTES {
        bail!(
            "cannot read {}: larger than {MAX_MANIFEST_BYTES} bytes",
            path.display()
        );
    }
    let reader = BufReader::new(std::io::Read::take(file, MAX_MANIFEST_BYTES));
    let manifest = serde_json::from_reader(reader)
        .with_context(|| format!("{}: not a mirror manifest", path.display()))?;
    Ok(Some(manifest))
}

/// Writes the manifest through a `.partial` file renamed into place.
pub(super) fn write(root: &Root, manifest: &Manifest) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(manifest)?;
    super::copy::write_atomically(root, MANIFEST, &bytes)
        .with_context(|| format!("cannot write {}", root.path().join(MANIFEST).display()))
}

/// Refuses a directory that holds a mirror of another bucket; returns the manifest of an
/// earlier mirror of this one.
pub(super) fn check_target(root: &Root, bucket: &str) -> Result<Option<Manifest>> {
    let earlier = read(root)?;
    if let Some(m) = &earlier {
        if m.bucket != bucket {
            bail!(
                "{} holds a mirror of bucket {}, not {bucket}",
                root.path().display(),
                m.bucket
            );
        }
    }
    Ok(earlier)
}
