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
use std::sync::Mutex;

use anyhow::{Context as _, Result};
use chrono::{DateTime, Duration, Utc};
use cloudtrail_digest::store::{
    Manifest, ManifestEntry as Entry, NotCopied, ObjectStore, Root, MANIFEST,
};
use cloudtrail_digest::{list_logs, ChainId, DigestKey, Discovery, Selection, TrailRecordSource};
use serde_json::json;

use crate::args::{MirrorArgs, S3Url};
use crate::aws::Session;
use crate::render::sanitize::sanitize;

mod copy;

use crate::validate::read_manifest;

/// Refuses a directory that holds a mirror of another bucket; returns the manifest of an
/// earlier mirror of this one.
fn check_target(root: &Root, bucket: &str) -> Result<Option<Manifest>> {
    let earlier = read_manifest(root)?;
    if let Some(m) = &earlier {
        if m.bucket != bucket {
            anyhow::bail!(
                "{} holds a mirror of bucket {}, not {bucket}",
                root.path().display(),
                m.bucket
            );
        }
    }
    Ok(earlier)
}

/// How far beyond a requested time range objects are copied, so that the walk can reach
/// the digests just outside it, as it does online.
const MARGIN: Duration = Duration::hours(2);

/// How many objects are fetched per batch.
const BATCH: usize = 2048;

pub(crate) fn run(args: &MirrorArgs) -> Result<u8> {
    let existed = args.dir.exists();
    let result = capture(args);
    // A failed first capture leaves no empty evidence folder behind.
    if result.is_err() && !existed {
        let _ = std::fs::remove_dir(&args.dir);
    }
    result
}

fn capture(args: &MirrorArgs) -> Result<u8> {
    let S3Url { bucket, prefix } = S3Url::parse_or_explain(&args.source)?;
    let selection = args.filter.selection();
    selection.check()?;
    let session = Session::load(
        args.s3.aws.profile.as_deref(),
        args.s3.endpoint_url.as_deref(),
    )?;
    let store = session.s3_store(&args.s3, &bucket)?;
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("cannot create {}", args.dir.display()))?;
    let root =
        Root::open(&args.dir).with_context(|| format!("cannot open {}", args.dir.display()))?;
    let earlier = check_target(&root, &bucket)?;
    let captured_at = Utc::now();
    let (keys, mut not_copied, chains) = keys_to_copy(&store, &bucket, &prefix, &selection)?;
    let trail_records = session
        .aws
        .trail_records()
        .records(&chains.iter().collect::<Vec<_>>());
    let copy::Done {
        mut entries,
        failed,
        copied,
        present,
    } = copy_all(&store, &bucket, &keys, &root);
    if let Some(earlier) = earlier {
        let fetched: BTreeSet<&str> = keys.iter().map(String::as_str).collect();
        entries.extend(kept(&root, earlier, &fetched));
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
    let bytes = serde_json::to_vec_pretty(&manifest)?;
    copy::write_atomically(&root, MANIFEST, &bytes)
        .with_context(|| format!("cannot write {}", root.path().join(MANIFEST).display()))?;
    report(&manifest, &root, copied, present)?;
    Ok(if manifest.complete { 0 } else { 2 })
}

/// Fetches every key, many in flight, and copies each into `root` as it arrives.
fn copy_all(store: &impl ObjectStore, bucket: &str, keys: &[String], root: &Root) -> copy::Done {
    let copier = copy::Copier {
        root,
        done: Mutex::new(copy::Done::default()),
    };
    for batch in keys.chunks(BATCH) {
        let requests: Vec<(&str, &str)> = batch.iter().map(|k| (bucket, k.as_str())).collect();
        store.get_each(&requests, &|i, result| {
            copier.one(batch[i].as_str(), result);
        });
    }
    copier
        .done
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Says what was not copied (on stderr) and what was (on stdout).
fn report(manifest: &Manifest, root: &Root, copied: u64, present: u64) -> Result<()> {
    let bucket = &manifest.bucket;
    let mut err = std::io::stderr().lock();
    for n in &manifest.not_copied {
        writeln!(
            err,
            "Not copied\ts3://{}/{}\t{}",
            sanitize(bucket),
            sanitize(&n.key),
            sanitize(&n.reason)
        )?;
    }
    writeln!(
        crate::output::Stdout::new(),
        "{} objects of s3://{}: {} copied, {} already present; {} not copied. Manifest: {}",
        manifest.objects.len() + manifest.not_copied.len(),
        sanitize(bucket),
        copied,
        present,
        manifest.not_copied.len(),
        sanitize(&root.path().join(MANIFEST).display().to_string())
    )?;
    Ok(())
}

/// The objects an earlier run copied and this one did not fetch (another region, another
/// time range): those still in the directory, with the SHA-256 they have now and the S3
/// identifiers their sidecars hold. An entry whose file is gone, or planted in the
/// manifest without a file, is dropped: the manifest lists what the directory holds.
fn kept(root: &Root, earlier: Manifest, fetched: &BTreeSet<&str>) -> Vec<Entry> {
    earlier
        .objects
        .into_iter()
        .filter(|e| !fetched.contains(e.key.as_str()))
        .filter_map(|e| {
            let rel = copy::relative_path(&e.key).ok()?;
            let (sha256, size) = copy::hash_file(root, rel).ok()?;
            let sidecar = format!("{rel}{}", cloudtrail_digest::store::SIDECAR_SUFFIX);
            let info = root
                .read(&sidecar, 4 * 1024 * 1024)
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
            let text = |field: &str| {
                info.as_ref()
                    .and_then(|v| v.get(field))
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_owned)
            };
            Some(Entry {
                key: e.key,
                size,
                sha256: sha256.to_string(),
                etag: text("ETag"),
                version_id: text("VersionId"),
                last_modified: text("LastModified"),
            })
        })
        .collect()
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
) -> Result<(Vec<String>, Vec<NotCopied>, Vec<ChainId>)> {
    let found = Discovery::find(store, bucket, prefix, selection)
        .with_context(|| format!("cannot list s3://{bucket}/{prefix}"))?;
    let from = selection.start.map(|s| s - MARGIN);
    let to = selection.end.map(|e| e + MARGIN);
    let mut keys = BTreeSet::new();
    let mut strays = found.unrecognized.clone();
    let mut failures = found.failures.clone();
    let mut chains = Vec::new();
    for (chain, digests) in found.selected(selection) {
        chains.push(chain.clone());
        keys.extend(
            digests
                .iter()
                .filter(|d| {
                    from.is_none_or(|f| d.end_time >= f) && to.is_none_or(|t| d.end_time <= t)
                })
                .map(DigestKey::to_key),
        );
    }
    // The log folders a validation of this selection lists.
    for location in &found.log_locations_of(selection) {
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
