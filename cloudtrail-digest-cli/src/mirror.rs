//! `cloudtrail-digest mirror s3://BUCKET[/PREFIX] DIR`: copies a bucket's digests and log
//! files, with their S3 metadata in `.meta.json` sidecars (`aws s3api head-object` shape),
//! as evidence that `validate DIR` re-validates offline.
//!
//! Every object is fetched (many in flight), compared with what `DIR` already holds, and
//! written only if absent: through a `.partial` file renamed into place, sidecar first, so
//! an interrupted run leaves no half-written object under its real name and a rerun picks
//! up where it stopped. A file that differs from the bucket is never overwritten: it is
//! reported, and the run exits 2. The manifest lists every object with its SHA-256.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{bail, Context as _, Result};
use chrono::{DateTime, Duration, Utc};
use cloudtrail_digest::{
    discover_under, list_logs, Object, ObjectStore, Selection, Sha256Hash, StoreError,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::args::MirrorArgs;
use crate::aws::Aws;
use crate::validate::{filter_selection, parse_s3_url, s3_store};

/// The manifest's file name, at the top of the directory.
pub(crate) const MANIFEST: &str = "cloudtrail-digest-manifest.json";

/// How far beyond a requested time range objects are copied, so that the walk can reach
/// the digests just outside it, as it does online.
const MARGIN: Duration = Duration::hours(2);

/// How many objects are fetched per batch.
const BATCH: usize = 2048;

/// One object in the manifest.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    key: String,
    size: u64,
    sha256: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    etag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_modified: Option<String>,
}

/// The manifest: what was copied from where, with each object's SHA-256, and CloudTrail's
/// record of the trails at the time of the copy.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Manifest {
    tool_version: String,
    source: String,
    pub(crate) bucket: String,
    prefix: String,
    created: DateTime<Utc>,
    /// When the bucket was listed: `validate DIR` judges what was due as of then.
    #[serde(default)]
    pub(crate) captured_at: Option<DateTime<Utc>>,
    /// CloudTrail's record of each trail copied (`GetTrail`, `GetTrailStatus`), as read.
    #[serde(default)]
    pub(crate) trail_records: Vec<cloudtrail_digest::TrailRecord>,
    filters: Value,
    complete: bool,
    objects: Vec<Entry>,
    not_copied: Vec<NotCopied>,
}

/// An object that could not be copied, and why.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct NotCopied {
    key: String,
    reason: String,
}

/// Reads the manifest of a mirrored directory, if it has one.
pub(crate) fn read_manifest(dir: &Path) -> Result<Option<Manifest>> {
    let path = dir.join(MANIFEST);
    match std::fs::read(&path) {
        Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes).with_context(|| {
            format!("{}: not a mirror manifest", path.display())
        })?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

pub(crate) fn run(args: &MirrorArgs) -> Result<u8> {
    let (bucket, prefix) = parse_s3_url(&args.source).with_context(|| {
        format!(
            "invalid S3 URL {:?}: expected s3://BUCKET[/PREFIX]",
            args.source
        )
    })?;
    let selection = filter_selection(&args.filter)?;
    let aws = Aws::load(
        args.s3.aws.profile.as_deref(),
        args.s3.endpoint_url.as_deref(),
    )?;
    let store = s3_store(&aws, &args.s3, &bucket);
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("cannot create {}", args.dir.display()))?;
    let earlier = check_target(&args.dir, &bucket)?;
    let captured_at = Utc::now();
    let (keys, mut not_copied, chains) = keys_to_copy(&store, &bucket, &prefix, &selection)?;
    let trail_records = crate::trails::records(&aws, chains.iter());
    let copier = Copier {
        dir: &args.dir,
        done: Mutex::new(Done::default()),
    };
    for batch in keys.chunks(BATCH) {
        let requests: Vec<(&str, &str)> = batch
            .iter()
            .map(|k| (bucket.as_str(), k.as_str()))
            .collect();
        store.get_each(&requests, &|i, result| {
            copier.one(batch[i].as_str(), result);
        });
    }
    let Done {
        mut entries,
        failed,
        copied,
        present,
    } = copier
        .done
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // Objects an earlier run copied and this one did not select (another region, another
    // time range) stay in the directory, so they stay in the manifest.
    if let Some(earlier) = earlier {
        let fetched: BTreeSet<&str> = keys.iter().map(String::as_str).collect();
        let kept: Vec<Entry> = earlier
            .objects
            .into_iter()
            .filter(|e| !fetched.contains(e.key.as_str()))
            .collect();
        entries.extend(kept);
    }
    entries.sort_by(|a, b| a.key.cmp(&b.key));
    not_copied.extend(failed);
    not_copied.sort_by(|a, b| a.key.cmp(&b.key));
    let manifest = Manifest {
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        source: args.source.clone(),
        bucket: bucket.clone(),
        prefix,
        created: Utc::now(),
        captured_at: Some(captured_at),
        trail_records,
        filters: json!({
            "account_ids": selection.account_ids,
            "regions": selection.regions,
            "trail_name": selection.trail_name,
            "start_time": selection.start,
            "end_time": selection.end,
        }),
        complete: not_copied.is_empty(),
        objects: entries,
        not_copied,
    };
    let path = args.dir.join(MANIFEST);
    write_atomically(&path, &serde_json::to_vec_pretty(&manifest)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    let mut err = std::io::stderr().lock();
    for n in &manifest.not_copied {
        writeln!(err, "Not copied\ts3://{bucket}/{}\t{}", n.key, n.reason)?;
    }
    writeln!(
        crate::output::Stdout::new(),
        "{} objects of s3://{bucket}: {} copied, {} already present; {} not copied. Manifest: {}",
        manifest.objects.len() + manifest.not_copied.len(),
        copied,
        present,
        manifest.not_copied.len(),
        path.display()
    )?;
    Ok(if manifest.complete { 0 } else { 2 })
}

/// The keys to copy: the digests of the selected chains in range (with a margin), every
/// stray key under their digest folders, and the log files of their locations in range;
/// with the selected chains. Folders that are not date folders, and listings that failed,
/// are returned as not copied.
fn keys_to_copy<S: ObjectStore>(
    store: &S,
    bucket: &str,
    prefix: &str,
    selection: &Selection,
) -> Result<(Vec<String>, Vec<NotCopied>, Vec<cloudtrail_digest::ChainId>)> {
    let found = discover_under(store, bucket, prefix, selection)
        .with_context(|| format!("cannot list s3://{bucket}/{prefix}"))?;
    let from = selection.start.map(|s| s - MARGIN);
    let to = selection.end.map(|e| e + MARGIN);
    let mut keys = BTreeSet::new();
    let mut strays = found.unrecognized.clone();
    let mut failures = found.failures.clone();
    let mut locations = found.log_locations.clone();
    let chains = found
        .chains
        .keys()
        .filter(|c| selection.matches(c))
        .cloned()
        .collect();
    for (chain, digests) in found.chains.iter().filter(|(c, _)| selection.matches(c)) {
        locations.insert(chain.location.clone());
        keys.extend(
            digests
                .iter()
                .filter(|d| {
                    from.is_none_or(|f| d.end_time >= f) && to.is_none_or(|t| d.end_time <= t)
                })
                .map(cloudtrail_digest::DigestKey::to_key),
        );
    }
    let selected = locations.iter().filter(|l| {
        selection.matches_location(l)
            && (selection.trail_name.is_none()
                || found
                    .chains
                    .keys()
                    .any(|c| c.location == **l && selection.matches(c)))
    });
    for location in selected {
        let start = from.unwrap_or(DateTime::<Utc>::MIN_UTC);
        let listing = list_logs(store, bucket, location, start, to);
        keys.extend(listing.logs.into_iter().map(|(k, _)| k));
        strays.extend(listing.unrecognized);
        failures.extend(listing.failures);
    }
    // Stray keys are evidence too; a stray folder's contents were never listed.
    let mut not_copied = Vec::new();
    for stray in strays {
        if stray.key.ends_with('/') {
            not_copied.push(NotCopied {
                key: stray.key,
                reason: format!("{}: its contents were not listed", stray.reason),
            });
        } else {
            keys.insert(stray.key);
        }
    }
    not_copied.extend(failures.into_iter().map(|f| NotCopied {
        key: f.prefix,
        reason: format!("cannot list it: {}", f.reason),
    }));
    Ok((keys.into_iter().collect(), not_copied, chains))
}

/// What the copy has done so far.
#[derive(Debug, Default)]
struct Done {
    entries: Vec<Entry>,
    failed: Vec<NotCopied>,
    /// Objects written by this run.
    copied: u64,
    /// Objects already there, identical.
    present: u64,
}

struct Copier<'a> {
    dir: &'a Path,
    done: Mutex<Done>,
}

fn sha256(bytes: &[u8]) -> String {
    Sha256Hash::of(bytes).to_string()
}

impl Copier<'_> {
    fn one(&self, key: &str, result: Result<Object, StoreError>) {
        let outcome = result
            .map_err(|e| format!("cannot read it: {e}"))
            .and_then(|object| self.store(key, &object).map(|fresh| (object, fresh)));
        // Hash before taking the lock: other threads keep copying meanwhile.
        let outcome = outcome.map(|(object, fresh)| {
            let entry = Entry {
                key: key.to_owned(),
                size: object.body.len() as u64,
                sha256: sha256(&object.body),
                etag: object.info.etag,
                version_id: object.info.version_id,
                last_modified: object.info.last_modified,
            };
            (entry, fresh)
        });
        let mut done = self
            .done
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match outcome {
            Ok((entry, true)) => {
                done.copied += 1;
                done.entries.push(entry);
            }
            Ok((entry, false)) => {
                done.present += 1;
                done.entries.push(entry);
            }
            Err(reason) => done.failed.push(NotCopied {
                key: key.to_owned(),
                reason,
            }),
        }
    }

    /// Writes the object and its sidecar unless the directory already holds them;
    /// returns whether anything was written. A differing file is an error, never replaced.
    fn store(&self, key: &str, object: &Object) -> Result<bool, String> {
        let path = self.dir.join(relative_path(key)?);
        let sidecar = sidecar_path(&path);
        let sidecar_bytes = sidecar_json(object).map_err(|e| e.to_string())?;
        match std::fs::read(&path) {
            Ok(existing) if existing == object.body => {
                match std::fs::read(&sidecar) {
                    Ok(s) if s == sidecar_bytes => Ok(false),
                    Ok(_) => Err(format!(
                        "{} exists and holds other metadata than the bucket now has: not overwritten",
                        sidecar.display()
                    )),
                    Err(_) => write_atomically(&sidecar, &sidecar_bytes)
                        .map(|()| true)
                        .map_err(|e| format!("cannot write {}: {e}", sidecar.display())),
                }
            }
            Ok(existing) => Err(format!(
                "{} exists and differs from the bucket (SHA-256 {} here, {} there): not overwritten",
                path.display(),
                sha256(&existing),
                sha256(&object.body)
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
                }
                // Sidecar first: an object under its real name always has its metadata.
                write_atomically(&sidecar, &sidecar_bytes)
                    .and_then(|()| write_atomically(&path, &object.body))
                    .map(|()| true)
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))
            }
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        }
    }
}

/// The key as a relative path, refusing keys that would leave the directory or collide
/// with the mirror's own files.
fn relative_path(key: &str) -> Result<PathBuf, String> {
    let parts: Vec<&str> = key.split('/').collect();
    if parts
        .iter()
        .any(|p| p.is_empty() || *p == "." || *p == ".." || p.contains('\0'))
    {
        return Err(
            "the key has an empty, `.` or `..` segment: it cannot be a file name here".into(),
        );
    }
    if key == MANIFEST
        || key.ends_with(cloudtrail_digest::store::SIDECAR_SUFFIX)
        || key.ends_with(PARTIAL)
    {
        return Err("the key collides with the mirror's own file names".into());
    }
    Ok(parts.iter().collect())
}

const PARTIAL: &str = ".partial";

fn sidecar_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(cloudtrail_digest::store::SIDECAR_SUFFIX);
    PathBuf::from(s)
}

/// The sidecar in `aws s3api head-object` shape, with the fields the store knows.
fn sidecar_json(object: &Object) -> serde_json::Result<Vec<u8>> {
    let mut head = serde_json::Map::new();
    head.insert("ContentLength".into(), json!(object.body.len()));
    let info = &object.info;
    for (name, value) in [
        ("ETag", &info.etag),
        ("VersionId", &info.version_id),
        ("LastModified", &info.last_modified),
    ] {
        if let Some(v) = value {
            head.insert(name.into(), json!(v));
        }
    }
    head.insert(
        "Metadata".into(),
        json!(object.metadata.clone().unwrap_or_default()),
    );
    let mut bytes = serde_json::to_vec_pretty(&Value::Object(head))?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Writes through `PATH.partial`, renamed into place.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(PARTIAL);
    let partial = PathBuf::from(partial);
    std::fs::write(&partial, bytes)?;
    std::fs::rename(&partial, path)
}

/// Refuses a directory that holds a mirror of another bucket; returns the manifest of an
/// earlier mirror of this one.
fn check_target(dir: &Path, bucket: &str) -> Result<Option<Manifest>> {
    let earlier = read_manifest(dir)?;
    if let Some(m) = &earlier {
        if m.bucket != bucket {
            bail!(
                "{} holds a mirror of bucket {}, not {bucket}",
                dir.display(),
                m.bucket
            );
        }
    }
    Ok(earlier)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_keys_that_leave_the_directory_or_collide() {
        assert!(relative_path("AWSLogs/1/x.json.gz").is_ok());
        for bad in [
            "../x",
            "a//b",
            "/a",
            "a/./b",
            "a/b/",
            "x.json.gz.meta.json",
            MANIFEST,
            "a.partial",
        ] {
            assert!(relative_path(bad).is_err(), "{bad}");
        }
    }
}
