//! Reports in S3: written with `PutObject`, read back from a prefix.

use std::path::Path;

use anyhow::{bail, Context as _, Result};

use super::kinds::{is_json, Each, MAX_REPORT_BYTES};
use crate::args::{S3Args, S3Url};
use crate::aws::Session;

/// Writes `bytes` to `s3://BUCKET/KEY`.
pub(super) fn write(place: &str, bytes: Vec<u8>, s3: &S3Args) -> Result<()> {
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
                .content_type(content_type(place))
                .body(bytes.into())
                .send(),
        )
        .map_err(aws_sdk_s3::Error::from)
        .with_context(|| format!("cannot write the report to {place}"))?;
    Ok(())
}

/// Reads reports from S3 prefixes, with one session for all.
#[derive(Default)]
pub(super) struct Reader {
    session: Option<Session>,
}

impl Reader {
    /// Hands each `.json` object under `source` (`s3://BUCKET/PREFIX`) to `each`.
    pub(super) fn read_prefix(&mut self, s3: &S3Args, source: &str, each: Each<'_>) -> Result<()> {
        if self.session.is_none() {
            self.session = Some(Session::load(
                s3.aws.profile.as_deref(),
                s3.endpoint_url.as_deref(),
            )?);
        }
        match &self.session {
            Some(session) => read_prefix(session, source, each),
            None => Ok(()),
        }
    }
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

/// The media type of a report by its name's extension.
fn content_type(place: &str) -> &'static str {
    let extension = place.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match extension.as_deref() {
        Some("txt") => "text/plain; charset=utf-8",
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("jsonl") => "application/jsonl",
        _ => "application/json",
    }
}
