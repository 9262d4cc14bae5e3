//! A directory given where a copy of a bucket is expected, checked for the usual mistakes
//! before the run: the `AWSLogs` folder itself, a folder above the bucket's copy, or a copy
//! whose name is not its bucket's. Each would otherwise come out as digests "moved" from
//! another bucket, a tampered verdict for a usage mistake; here it is an error (exit 2)
//! that says what to pass instead.

use std::path::Path;

use anyhow::{bail, Result};
use cloudtrail_digest::store::{FsStore, ObjectStore as _};
use cloudtrail_digest::{Digest, Discovery, Selection};

/// The largest digest read for the check (as the run's own bound).
const MAX_DIGEST_BYTES: u64 = 64 << 20;

/// Refuses `dir` when it is the `AWSLogs` folder, or when the bucket name was taken from
/// its name (`named`) and its digests say they were written to another bucket.
pub(crate) fn check(dir: &Path, store: &FsStore, bucket: &str, named: bool) -> Result<()> {
    let shown = dir.display();
    let canonical = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    if canonical.file_name().is_some_and(|n| n == "AWSLogs") {
        let parent = dir
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .or_else(|| canonical.parent())
            .map_or_else(|| "its parent".to_owned(), |p| p.display().to_string());
        bail!("{shown} is the AWSLogs folder of a copy: pass the folder that holds it, the copy of the bucket ({parent})");
    }
    if !named {
        return Ok(());
    }
    let Some(written_to) = first_digest_bucket(store, bucket) else {
        return Ok(());
    };
    if written_to.0 == bucket {
        return Ok(());
    }
    let (digest_bucket, key) = written_to;
    if key.split('/').next() == Some(digest_bucket.as_str()) {
        bail!(
            "{shown} holds a copy of bucket {digest_bucket} in its folder {digest_bucket}/: pass {}",
            dir.join(&digest_bucket).display()
        );
    }
    bail!(
        "the digests in {shown} were written to bucket {digest_bucket}, not {bucket} (the folder's name): pass --bucket {digest_bucket} if it is a copy of that bucket"
    )
}

/// The bucket the newest digest of the first chain found says it was written to, with its
/// key; `None` when there is no digest or it cannot be read (the run will say why).
fn first_digest_bucket(store: &FsStore, bucket: &str) -> Option<(String, String)> {
    let discovery = Discovery::find(store, bucket, "", &Selection::all()).ok()?;
    let key = discovery.chains.values().next()?.last()?.to_key();
    let body = store
        .get(bucket, &key)
        .ok()?
        .body
        .into_bytes(MAX_DIGEST_BYTES)
        .ok()?;
    let digest = Digest::from_gzip(&body).ok()?;
    Some((digest.file().digest_s3_bucket.clone(), key))
}
