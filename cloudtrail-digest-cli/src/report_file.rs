//! Reports kept beside a run: written to a file or an S3 object (`--output`), and read
//! back by `merge` from files, directories or an S3 prefix.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use cloudtrail_digest::report::ShardInfo;
use cloudtrail_digest::store::read_regular_file;

use crate::args::{S3Args, S3Url};
use crate::aws::Session;

/// The largest report read back (a shard's report of millions of log files is a few
/// hundred megabytes).
const MAX_REPORT_BYTES: u64 = 4 << 30;

/// Where a report goes: `place` itself, or, when it ends in `/` (a folder or an S3 prefix
/// that the shards of a job share), a name in it: `shard-INDEX-of-COUNT.json` for a
/// shard, `report.json` otherwise.
pub(crate) fn name_in(place: &str, shard: Option<&ShardInfo>) -> String {
    if !place.ends_with('/') {
        return place.to_owned();
    }
    match shard {
        Some(s) => format!("{place}shard-{:05}-of-{:05}.json", s.index, s.count),
        None => format!("{place}report.json"),
    }
}

/// Writes `bytes` to `place`: `s3://BUCKET/KEY`, or a file (written beside it, then
/// renamed over it, so a reader never sees half a report).
pub(crate) fn write(place: &str, bytes: Vec<u8>, s3: &S3Args) -> Result<()> {
    if place.starts_with("s3://") {
        let url = S3Url::parse_or_explain(place)?;
        if url.prefix.is_empty() || url.prefix.ends_with('/') {
            bail!("--output {place}: give the object's key, s3://BUCKET/KEY");
        }
        let session = Session::load(s3.aws.profile.as_deref(), s3.endpoint_url.as_deref())?;
        let client = session.block_on(session.aws.s3_client_for(&url.bucket));
        session
            .block_on(
                client
                    .put_object()
                    .bucket(&url.bucket)
                    .key(&url.prefix)
                    .content_type("application/json")
                    .body(bytes.into())
                    .send(),
            )
            .map_err(aws_sdk_s3::Error::from)
            .with_context(|| format!("cannot write the report to {place}"))?;
        return Ok(());
    }
    let path = Path::new(place);
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create the folder of {place}"))?;
    }
    if path.is_dir() {
        bail!("--output {place}: a directory; give a file name");
    }
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    std::fs::write(&partial, &bytes)
        .and_then(|()| std::fs::rename(&partial, path))
        .with_context(|| format!("cannot write the report to {place}"))
}

/// Hands each report under `sources` to `each`, with its name, one at a time: files as
/// given, the `*.json` files of a directory, the `.json` objects under an
/// `s3://BUCKET/PREFIX`; in name order within each source.
pub(crate) fn read_each(sources: &[String], s3: &S3Args, each: Each<'_>) -> Result<()> {
    let mut session = None;
    for source in sources {
        if source.starts_with("s3://") {
            if session.is_none() {
                session = Some(Session::load(
                    s3.aws.profile.as_deref(),
                    s3.endpoint_url.as_deref(),
                )?);
            }
            if let Some(session) = &session {
                read_prefix(session, source, each)?;
            }
            continue;
        }
        let path = Path::new(source);
        if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("cannot read the directory {source}"))?
                .map(|e| e.map(|e| e.path()))
                .collect::<std::io::Result<_>>()
                .with_context(|| format!("cannot read the directory {source}"))?;
            files.retain(|f| is_json(f));
            files.sort();
            if files.is_empty() {
                bail!("{source}: no .json report in the directory");
            }
            for file in files {
                let (name, bytes) = read_file(&file)?;
                each(name, bytes)?;
            }
        } else {
            let (name, bytes) = read_file(path)?;
            each(name, bytes)?;
        }
    }
    Ok(())
}

/// What is done with each report read: its name and bytes.
pub(crate) type Each<'a> = &'a mut dyn FnMut(String, Vec<u8>) -> Result<()>;

fn is_json(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

fn read_file(path: &Path) -> Result<(String, Vec<u8>)> {
    let name = path.display().to_string();
    let bytes = read_regular_file(path, MAX_REPORT_BYTES)
        .with_context(|| format!("cannot read the report {name}"))?;
    Ok((name, bytes))
}

fn read_prefix(session: &Session, source: &str, each: Each<'_>) -> Result<()> {
    let url = S3Url::parse_or_explain(source)?;
    let client = session.block_on(session.aws.s3_client_for(&url.bucket));
    let mut keys = Vec::new();
    let mut pages = client
        .list_objects_v2()
        .bucket(&url.bucket)
        .prefix(&url.prefix)
        .into_paginator()
        .send();
    while let Some(page) = session.block_on(pages.next()) {
        let page = page
            .map_err(aws_sdk_s3::Error::from)
            .with_context(|| format!("cannot list {source}"))?;
        for object in page.contents() {
            let Some(key) = object.key().filter(|k| is_json(Path::new(k))) else {
                continue;
            };
            if object.size().unwrap_or(0) > i64::try_from(MAX_REPORT_BYTES).unwrap_or(i64::MAX) {
                bail!("s3://{}/{key}: larger than a report can be", url.bucket);
            }
            keys.push(key.to_owned());
        }
    }
    if keys.is_empty() {
        bail!("{source}: no .json report under the prefix");
    }
    keys.sort();
    for key in keys {
        let name = format!("s3://{}/{key}", url.bucket);
        let object = session
            .block_on(client.get_object().bucket(&url.bucket).key(&key).send())
            .map_err(aws_sdk_s3::Error::from)
            .with_context(|| format!("cannot read the report {name}"))?;
        let bytes = session
            .block_on(object.body.collect())
            .with_context(|| format!("cannot read the report {name}"))?
            .into_bytes()
            .to_vec();
        each(name, bytes)?;
    }
    Ok(())
}
