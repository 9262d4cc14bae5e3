//! `cloudtrail-digest validate SOURCE`: a bucket in S3 or a local copy.

use std::io::{self, Write as _};
use std::sync::Arc;

use anyhow::{bail, Context as _, Result};
use chrono::{DateTime, Utc};
use cloudtrail_digest::inventory::Inventory;
use cloudtrail_digest::report::Report;
use cloudtrail_digest::store::{read_regular_file, CopyOf, FsStore, Root};
use cloudtrail_digest::{PublicKeySet, Selection, TrailConfig, TrailRecord, Validator};

use crate::args::{Format, S3Args, S3Url, ValidateArgs};
use crate::aws::Session;
use crate::output::Stdout;
use crate::progress::Bar;
use crate::render::{self, Inputs};
use crate::trails;

pub(crate) use crate::render::exit_code;

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

fn selection(args: &ValidateArgs) -> Result<Selection> {
    let mut selection = args.filter.selection();
    if let Some(arn) = &args.trail_arn {
        let name = trails::parse_arn(arn)?.name;
        selection.trail_name = selection.trail_name.or(Some(name));
    }
    selection.check()?;
    Ok(selection)
}

/// A validator and what it reads: where from and as of when.
struct Prepared {
    validator: Validator,
    read_from: String,
    as_of: DateTime<Utc>,
    /// Whether `as_of` was given or recorded, rather than read off the clock.
    as_of_fixed: bool,
}

pub(crate) fn run(args: &ValidateArgs) -> Result<u8> {
    let started = std::time::Instant::now();
    let selection = selection(args)?;
    let shard = crate::shard::resolve(args.shard.as_deref(), args.shard_count, |name| {
        std::env::var(name).ok()
    })?;
    let is_s3 = args.trail_arn.is_some()
        || args.s3_bucket.is_some()
        || args
            .source
            .as_deref()
            .is_some_and(|s| s.starts_with("s3://"));
    if !is_s3 && args.inventory.is_some() {
        bail!("--inventory is for a bucket in S3 (s3://BUCKET): a local copy is listed directly");
    }
    let prepared = if is_s3 {
        prepare_s3(args)?
    } else {
        prepare_dir(args)?
    };
    let bar = Bar::new(!args.no_progress).map(Arc::new);
    let mut validator = prepared
        .validator
        .selection(selection.clone())
        .as_of(prepared.as_of)
        // Text prints valid log files only with --verbose; JSON is the record of every
        // file unless told to count valid log files only.
        .omit_valid_logs(
            args.omit_valid_logs
                || (matches!(args.format, Format::Text | Format::Jsonl)
                    && !args.verbose
                    && args.output.is_none()),
        );
    if let Some((index, count)) = shard {
        if !prepared.as_of_fixed {
            bail!("a sharded run needs --as-of T, the same for every shard, so that every shard judges the bucket as of the same time");
        }
        validator = validator.shard(index, count);
    }
    if let Some(b) = &bar {
        validator = validator.progress(Arc::clone(b) as Arc<dyn cloudtrail_digest::Progress>);
    }
    let report = validator.run()?;
    if let Some(b) = &bar {
        b.finish();
    }
    let inputs = inputs(args, &selection, prepared.read_from, prepared.as_of);
    let code = write(
        &report,
        &inputs,
        args.format,
        args.verbose,
        args.output.as_deref(),
        &args.s3,
        started,
    )?;
    // A shard's verdict is only part of the run's: once its report is in place, the job
    // engine is told the shard finished, so that the merge runs (and gives the verdict).
    Ok(if shard.is_some() && args.output.is_some() {
        0
    } else {
        code
    })
}

/// What the run read and with which options, as the report records them.
fn inputs(
    args: &ValidateArgs,
    selection: &Selection,
    read_from: String,
    as_of: DateTime<Utc>,
) -> Inputs {
    Inputs {
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
        as_of: Some(as_of),
    }
}

/// Writes the JSON report to `output` if given, then the report in the chosen format;
/// returns its exit code.
pub(crate) fn write(
    report: &Report,
    inputs: &Inputs,
    format: Format,
    verbose: bool,
    output: Option<&str>,
    s3: &S3Args,
    started: std::time::Instant,
) -> Result<u8> {
    let code = exit_code(report);
    if let Some(place) = output {
        let mut bytes = Vec::new();
        render::json(report, inputs, code, &mut bytes)?;
        let place = crate::report_file::name_in(place, report.shard.as_ref());
        crate::report_file::write(&place, bytes, s3)?;
    }
    match format {
        Format::Text => render::text(
            report,
            inputs,
            verbose,
            Some(started.elapsed()),
            &mut Stdout::new(),
            &mut io::stderr().lock(),
        )?,
        Format::Json => {
            // Buffered: stdout flushes at every line, and pretty JSON has many.
            let mut out = io::BufWriter::with_capacity(1 << 16, Stdout::new());
            render::json(report, inputs, code, &mut out)?;
            out.flush()?;
        }
        Format::Jsonl => {
            let mut out = io::BufWriter::with_capacity(1 << 16, Stdout::new());
            render::jsonl(report, inputs, code, &mut out)?;
            out.flush()?;
        }
    }
    Ok(code)
}

/// A local copy: its bucket name, and, for a mirror, CloudTrail's record of its trails and
/// when it was captured (the copy is judged as the bucket was then).
fn prepare_dir(args: &ValidateArgs) -> Result<Prepared> {
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
    let fixed_as_of = args.as_of.or(manifest.as_ref().and_then(|m| m.captured_at));
    let records = manifest
        .as_ref()
        .map(|m| m.trail_records.clone())
        .unwrap_or_default();
    let named = args.bucket.is_none() && args.original_bucket.is_none() && manifest.is_none();
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
    crate::folder_check::check(dir, &store, &bucket, named)?;
    Ok(Prepared {
        validator: Validator::new(store, bucket)
            .public_keys(keys)
            .trail_records(records),
        read_from: dir.display().to_string(),
        as_of: fixed_as_of.unwrap_or_else(Utc::now),
        as_of_fixed: fixed_as_of.is_some(),
    })
}

/// Where a trail named by ARN delivers, from CloudTrail's record of it.
fn trail_by_arn(session: &Session, arn: &str) -> Result<(TrailRecord, TrailConfig)> {
    let region = trails::parse_arn(arn)?.region;
    let record = session.aws.trail_records().record(arn, None, &region);
    let Some(config) = record.config.clone() else {
        bail!(
            "cannot look up trail {arn}: {}",
            record.unavailable.as_deref().unwrap_or("not found")
        );
    };
    Ok((record, config))
}

/// The bucket and prefix to read: the flags, else the URL, else the trail's.
fn bucket_and_prefix(args: &ValidateArgs, trail: Option<&TrailConfig>) -> Result<S3Url> {
    let from_url = match args.source.as_deref() {
        Some(s) if s.starts_with("s3://") => Some(S3Url::parse_or_explain(s)?),
        Some(s) => bail!("{s}: give either a directory or s3://BUCKET[/PREFIX], not both with --trail-arn/--s3-bucket"),
        None => None,
    };
    let trail = trail.filter(|_| args.s3_bucket.is_none() && from_url.is_none());
    if let Some(c) = trail.filter(|c| c.s3_bucket_name.is_none()) {
        bail!("trail {} has no S3 bucket", c.name);
    }
    let bucket = args
        .s3_bucket
        .clone()
        .or_else(|| from_url.as_ref().map(|u| u.bucket.clone()))
        .or_else(|| trail.and_then(|c| c.s3_bucket_name.clone()))
        .context("no bucket: give s3://BUCKET, --s3-bucket or --trail-arn")?;
    let prefix = args
        .s3_prefix
        .clone()
        .or_else(|| from_url.as_ref().map(|u| u.prefix.clone()))
        .or_else(|| trail.map(|c| c.s3_key_prefix.clone().unwrap_or_default()))
        .unwrap_or_default();
    Ok(S3Url { bucket, prefix })
}

/// The S3 Inventory whose manifest is at `manifest`, its keys under `prefix`.
fn load_inventory(
    session: &Session,
    args: &ValidateArgs,
    manifest: &str,
    prefix: &str,
) -> Result<Inventory> {
    let url = S3Url::parse(manifest)
        .filter(|u| !u.prefix.is_empty() && !u.prefix.ends_with('/'))
        .ok_or_else(|| {
            anyhow::anyhow!("--inventory {manifest:?}: expected s3://BUCKET/.../manifest.json")
        })?;
    let store = session.s3_store(&args.s3, &url.bucket)?;
    Ok(Inventory::load(&store, &url.bucket, &url.prefix, prefix)?)
}

/// A bucket in S3 (or a copy of one there), with CloudTrail's records of its trails and,
/// without key files, CloudTrail's public keys.
fn prepare_s3(args: &ValidateArgs) -> Result<Prepared> {
    let session = Session::load(
        args.s3.aws.profile.as_deref(),
        args.s3.endpoint_url.as_deref(),
    )?;
    let trail = args
        .trail_arn
        .as_deref()
        .map(|arn| trail_by_arn(&session, arn))
        .transpose()?;
    let url = bucket_and_prefix(args, trail.as_ref().map(|(_, c)| c))?;
    let store = session.s3_store(&args.s3, &url.bucket)?;
    let read_from = format!("s3://{}/{}", url.bucket, url.prefix);
    let mut validator = match &args.original_bucket {
        // Digests and logs name the original bucket: read them from this one.
        Some(original) => Validator::new(
            CopyOf::new(store, original.clone(), url.bucket.clone()),
            original,
        ),
        None => Validator::new(store, &url.bucket),
    };
    if let Some(manifest) = &args.inventory {
        if args.original_bucket.is_some() {
            bail!("--inventory cannot be combined with --original-bucket: validate the copy's own inventory without it, or list the copy");
        }
        let inventory = load_inventory(&session, args, manifest, &url.prefix)?;
        validator = validator.inventory(Arc::new(inventory));
    }
    let mut validator = validator
        .prefix(url.prefix)
        .trail_record_source(session.aws.trail_records())
        .trail_records(trail.map(|(r, _)| r).into_iter().collect());
    validator = if args.public_keys.is_empty() {
        validator.public_keys(session.aws.public_keys())
    } else {
        validator.public_keys(load_keys(args)?)
    };
    Ok(Prepared {
        validator,
        read_from,
        as_of: args.as_of.unwrap_or_else(Utc::now),
        as_of_fixed: args.as_of.is_some(),
    })
}
