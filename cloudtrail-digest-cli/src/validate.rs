//! `cloudtrail-digest validate SOURCE`: a bucket in S3 or a local copy.

use std::io::{self, Write as _};

use anyhow::{bail, Context as _, Result};
use chrono::Duration;
use cloudtrail_digest::store::root::{read_regular_file, Root};
use cloudtrail_digest::store::Timeouts;
use cloudtrail_digest::{
    discover_under, validate_with_progress, CopyOf, Discovery, FsStore, KeySource, Progress,
    PublicKeySet, Report, S3Options, S3Store, Selection, Severity,
};

use crate::args::{FilterArgs, Format, RequestPayer, S3Args, ValidateArgs};
use crate::aws::{Aws, CloudTrailKeys};
use crate::output::Stdout;
use crate::progress::Bar;
use crate::render;
use crate::trails;

/// The exit code of a report: 1 on any integrity finding, else 2 if a file could not be
/// read, else 3 if coverage is incomplete, else 0.
pub(crate) fn exit_code(report: &Report) -> u8 {
    match report.severity() {
        Severity::Valid => 0,
        Severity::Invalid => 1,
        Severity::Unchecked => 2,
        Severity::Incomplete => 3,
    }
}

/// The largest key file read (a year of every region's keys is well under a megabyte).
const MAX_KEY_FILE_BYTES: u64 = 16 * 1024 * 1024;

fn load_keys(args: &ValidateArgs) -> Result<PublicKeySet> {
    let mut keys = PublicKeySet::new();
    for path in &args.public_keys {
        let bytes = read_regular_file(path, MAX_KEY_FILE_BYTES)
            .with_context(|| format!("cannot read public key file {}", path.display()))?;
        let set = PublicKeySet::from_file_bytes(&bytes)
            .with_context(|| format!("public key file {}", path.display()))?;
        keys.extend(set);
    }
    Ok(keys)
}

/// The library's selection from the filter options.
pub(crate) fn filter_selection(filter: &FilterArgs) -> Result<Selection> {
    let selection = Selection {
        account_ids: filter.account_ids.clone(),
        regions: filter.regions.clone(),
        trail_name: filter.trail_name.clone(),
        start: filter.start_time,
        end: filter.end_time,
        omit_valid_logs: false,
        as_of: None,
        trail_records: Vec::new(),
    };
    if let (Some(s), Some(e)) = (selection.start, selection.end) {
        if s > e {
            bail!("start time {s} is after end time {e}");
        }
    }
    Ok(selection)
}

fn selection(args: &ValidateArgs) -> Result<Selection> {
    let mut selection = filter_selection(&args.filter)?;
    // Text prints valid log files only with --verbose; JSON is the record of every file.
    selection.omit_valid_logs = args.format == Format::Text && !args.verbose;
    if let Some(arn) = &args.trail_arn {
        let name = trails::parse_arn(arn)?.name;
        selection.trail_name = selection.trail_name.or(Some(name));
    }
    selection.as_of = args.as_of;
    Ok(selection)
}

/// The S3 store of `bucket`, with the connection options; requests in flight are kept
/// below what the open-file limit (raised as far as it goes) allows.
pub(crate) fn s3_store(aws: &Aws, s3: &S3Args, bucket: &str) -> S3Store {
    let allowed = crate::limits::max_in_flight(crate::limits::raise_open_files());
    let concurrency = usize::from(s3.concurrency);
    if concurrency > allowed {
        eprintln!(
            "cloudtrail-digest: --concurrency {concurrency} lowered to {allowed}: the open-file limit allows no more"
        );
    }
    let seconds = std::time::Duration::from_secs;
    let options = S3Options {
        timeouts: Timeouts {
            connect: seconds(s3.connect_timeout),
            first_byte: seconds(s3.read_timeout),
            idle: seconds(s3.read_timeout),
            operation: seconds(s3.timeout),
        },
        concurrency: concurrency.min(allowed),
        requester_pays: s3.request_payer == Some(RequestPayer::Requester),
        expected_bucket_owner: s3.expected_bucket_owner.clone(),
    };
    S3Store::new(
        &aws.s3_client(bucket),
        aws.runtime.handle().clone(),
        options,
    )
}

/// Splits `s3://BUCKET[/PREFIX]`.
pub(crate) fn parse_s3_url(url: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix("s3://")?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    (!bucket.is_empty()).then(|| (bucket.to_owned(), prefix.trim_matches('/').to_owned()))
}

pub(crate) fn run(args: &ValidateArgs) -> Result<u8> {
    let selection = selection(args)?;
    let is_s3 = args.trail_arn.is_some()
        || args.s3_bucket.is_some()
        || args
            .source
            .as_deref()
            .is_some_and(|s| s.starts_with("s3://"));
    let bar = Bar::new(!args.no_progress);
    let progress: &dyn Progress = match &bar {
        Some(b) => b,
        None => &(),
    };
    let (report, read_from, as_of) = if is_s3 {
        run_s3(args, selection.clone(), progress)?
    } else {
        run_dir(args, selection.clone(), progress)?
    };
    let inputs = Inputs {
        read_from,
        original_bucket: args.original_bucket.clone(),
        public_keys: if args.public_keys.is_empty() {
            vec!["CloudTrail ListPublicKeys".into()]
        } else {
            args.public_keys
                .iter()
                .map(|p| p.display().to_string())
                .collect()
        },
        account_ids: selection.account_ids.clone(),
        regions: selection.regions.clone(),
        trail_name: selection.trail_name.clone(),
        start_time: selection.start,
        end_time: selection.end,
        as_of,
    };
    if let Some(b) = &bar {
        b.finish();
    }
    let code = exit_code(&report);
    let stderr = io::stderr();
    match args.format {
        Format::Text => render::text(
            &report,
            &inputs,
            args.verbose,
            &mut Stdout::new(),
            &mut stderr.lock(),
        )?,
        Format::Json => {
            // Buffered: stdout flushes at every line, and pretty JSON has many.
            let mut out = io::BufWriter::with_capacity(1 << 16, Stdout::new());
            render::json(&report, &inputs, code, &mut out)?;
            out.flush()?;
        }
    }
    Ok(code)
}

/// What a run read and with which options, recorded in the report.
#[derive(Debug, serde::Serialize)]
pub(crate) struct Inputs {
    /// The directory or `s3://BUCKET/PREFIX` read.
    pub(crate) read_from: String,
    /// The bucket the source is a copy of, when given.
    pub(crate) original_bucket: Option<String>,
    /// Where the public keys came from.
    pub(crate) public_keys: Vec<String>,
    pub(crate) account_ids: Vec<String>,
    pub(crate) regions: Vec<String>,
    pub(crate) trail_name: Option<String>,
    pub(crate) start_time: Option<chrono::DateTime<chrono::Utc>>,
    pub(crate) end_time: Option<chrono::DateTime<chrono::Utc>>,
    /// When the bucket was judged: digests not due by then are pending.
    pub(crate) as_of: Option<chrono::DateTime<chrono::Utc>>,
}

/// A report, where it was read from, and the time it was judged at.
type Outcome = (Report, String, Option<chrono::DateTime<chrono::Utc>>);

fn run_dir(
    args: &ValidateArgs,
    mut selection: Selection,
    progress: &dyn Progress,
) -> Result<Outcome> {
    let Some(dir) = args.source.as_deref().map(std::path::Path::new) else {
        bail!("nothing to validate: give s3://BUCKET[/PREFIX], --trail-arn or a directory");
    };
    if !dir.is_dir() {
        bail!("{}: not a directory", dir.display());
    }
    if args.public_keys.is_empty() {
        bail!("validating a directory needs --public-keys FILE (save them with `cloudtrail-digest keys`)");
    }
    let root = Root::open(dir).with_context(|| format!("cannot open {}", dir.display()))?;
    let manifest = crate::mirror::read_manifest(&root)?;
    // A mirror carries CloudTrail's record of its trails and when it was captured: the copy
    // is judged as the bucket was then.
    if let Some(m) = &manifest {
        selection.trail_records.clone_from(&m.trail_records);
        selection.as_of = selection.as_of.or(m.captured_at);
    }
    selection.as_of = selection.as_of.or_else(|| Some(chrono::Utc::now()));
    let bucket = match (&args.bucket, &args.original_bucket, manifest) {
        (Some(b), _, _) | (None, Some(b), _) => b.clone(),
        (None, None, Some(m)) => m.bucket,
        (None, None, None) => dir
            .canonicalize()
            .ok()
            .and_then(|p| p.file_name().and_then(|n| n.to_str()).map(str::to_owned))
            .with_context(|| {
                format!(
                    "{}: cannot tell the bucket name; pass --bucket",
                    dir.display()
                )
            })?,
    };
    let keys = load_keys(args)?;
    let store = FsStore::new(dir, bucket.clone())
        .with_context(|| format!("cannot open {}", dir.display()))?;
    let found =
        discover_under(&store, &bucket, "", &selection).context("cannot list the bucket copy")?;
    let report = validate_with_progress(&store, &bucket, &keys, &found, &selection, progress)?;
    Ok((report, dir.display().to_string(), selection.as_of))
}

/// The range the keys must cover: the selection's, else the digests found.
fn key_range(
    found: &Discovery,
    selection: &Selection,
) -> (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) {
    let ends = found.chains.values().flatten().map(|k| k.end_time);
    let oldest = ends.clone().min().unwrap_or_default();
    let newest = ends.max().unwrap_or_default();
    (
        selection.start.unwrap_or(oldest - Duration::hours(1)),
        selection.end.unwrap_or(newest),
    )
}

fn run_s3(
    args: &ValidateArgs,
    mut selection: Selection,
    progress: &dyn Progress,
) -> Result<Outcome> {
    let aws = Aws::load(
        args.s3.aws.profile.as_deref(),
        args.s3.endpoint_url.as_deref(),
    )?;
    let from_url = match args.source.as_deref() {
        Some(s) if s.starts_with("s3://") => {
            Some(parse_s3_url(s).with_context(|| format!("invalid S3 URL {s:?}: expected s3://BUCKET[/PREFIX]"))?)
        }
        Some(s) => bail!("{s}: give either a directory or s3://BUCKET[/PREFIX], not both with --trail-arn/--s3-bucket"),
        None => None,
    };
    // The trail named by ARN: where it delivers, from CloudTrail's record of it.
    let from_trail = match &args.trail_arn {
        Some(arn) => {
            let region = trails::parse_arn(arn)?.region;
            let record = trails::record(&aws, arn, None, &region);
            let Some(config) = record.config.clone() else {
                bail!(
                    "cannot look up trail {arn}: {}",
                    record.unavailable.as_deref().unwrap_or("not found")
                );
            };
            Some((record, config))
        }
        None => None,
    };
    let trail_config = from_trail
        .as_ref()
        .filter(|_| args.s3_bucket.is_none() && from_url.is_none())
        .map(|(_, c)| c);
    if let Some(c) = trail_config.filter(|c| c.s3_bucket_name.is_none()) {
        bail!("trail {} has no S3 bucket", c.name);
    }
    let bucket = args
        .s3_bucket
        .clone()
        .or_else(|| from_url.as_ref().map(|u| u.0.clone()))
        .or_else(|| trail_config.and_then(|c| c.s3_bucket_name.clone()))
        .context("no bucket: give s3://BUCKET, --s3-bucket or --trail-arn")?;
    let prefix = args
        .s3_prefix
        .clone()
        .or_else(|| from_url.as_ref().map(|u| u.1.clone()))
        .or_else(|| trail_config.map(|c| c.s3_key_prefix.clone().unwrap_or_default()))
        .unwrap_or_default();
    let store = s3_store(&aws, &args.s3, &bucket);
    let found = discover_under(&store, &bucket, &prefix, &selection)
        .with_context(|| format!("cannot list s3://{bucket}/{prefix}"))?;
    selection.as_of = selection.as_of.or_else(|| Some(chrono::Utc::now()));
    selection.trail_records =
        trails::records(&aws, found.chains.keys().filter(|c| selection.matches(c)));
    if let Some((record, _)) = from_trail {
        if !selection
            .trail_records
            .iter()
            .any(|r| r.trail_arn == record.trail_arn)
        {
            selection.trail_records.push(record);
        }
    }
    let file_keys;
    let api_keys;
    let keys: &dyn KeySource = if args.public_keys.is_empty() {
        let (start, end) = key_range(&found, &selection);
        api_keys = CloudTrailKeys::new(&aws, start, end);
        &api_keys
    } else {
        file_keys = load_keys(args)?;
        &file_keys
    };
    let read_from = format!("s3://{bucket}/{prefix}");
    let report = match &args.original_bucket {
        // Digests and logs name the original bucket: read them from this one.
        Some(original) => {
            let copy = CopyOf::new(store, original.clone(), bucket);
            validate_with_progress(&copy, original, keys, &found, &selection, progress)?
        }
        None => validate_with_progress(&store, &bucket, keys, &found, &selection, progress)?,
    };
    Ok((report, read_from, selection.as_of))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_s3_urls() {
        assert_eq!(parse_s3_url("s3://b"), Some(("b".into(), String::new())));
        assert_eq!(
            parse_s3_url("s3://b/p/q/"),
            Some(("b".into(), "p/q".into()))
        );
        assert_eq!(parse_s3_url("s3:///p"), None);
        assert_eq!(parse_s3_url("/tmp"), None);
    }
}
