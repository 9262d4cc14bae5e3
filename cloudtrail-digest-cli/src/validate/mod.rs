//! `cloudtrail-digest validate SOURCE`: a bucket in S3 or a local copy.

use std::io::{self, Write};
use std::sync::Arc;

use anyhow::{bail, Context as _, Result};
use chrono::{DateTime, Utc};
use cloudtrail_digest::report::Report;
use cloudtrail_digest::store::{FsStore, Manifest, Root, MANIFEST};
use cloudtrail_digest::{Selection, Validator};

use crate::args::{Format, S3Args, ValidateArgs};
use crate::output::Stdout;
use crate::progress::Bar;
use crate::render::{self, Inputs};
use crate::trails;

pub(crate) use crate::render::exit_code;

mod prepared;
#[cfg(feature = "aws")]
mod s3;

use prepared::{load_keys, Prepared};

fn selection(args: &ValidateArgs) -> Result<Selection> {
    let mut selection = args.filter.selection();
    if let Some(arn) = &args.trail_arn {
        let name = trails::parse_arn(arn)?.name;
        selection.trail_name = selection.trail_name.or(Some(name));
    }
    selection.check()?;
    Ok(selection)
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
                || (matches!(args.format, Format::Text | Format::Jsonl | Format::Html)
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
    let elapsed = Some(started.elapsed());
    let rendering = Rendering {
        report,
        inputs,
        verbose,
        elapsed,
        code,
    };
    if let Some(place) = output {
        let place = crate::report_file::name_in(place, report.shard.as_ref());
        let file = Buffer::default();
        let (mut out, mut err) = (file.clone(), file.clone());
        let file_format = format_of(&place);
        if report.shard.is_some() && file_format != Format::Json {
            bail!("--output {place}: a shard's report is JSON, for merge (name it .json, or end the name in /)");
        }
        // The file holds every file's verdict, whatever the terminal shows.
        let whole = Rendering {
            verbose: true,
            ..rendering
        };
        whole.render(file_format, &mut out, &mut err)?;
        crate::report_file::write(&place, file.take(), s3)?;
        if format == Format::Text && file_format == Format::Text {
            // The whole report is in the file: the terminal keeps the verdict block.
            let mut out = Stdout::new();
            render::verdict_block(report, elapsed, &mut out)?;
            out.flush()?;
            return Ok(code);
        }
    }
    if format == Format::Text {
        // Unbuffered: lines on stdout and stderr stay in order on a terminal.
        rendering.render(format, &mut Stdout::new(), &mut io::stderr().lock())?;
    } else {
        // Buffered: stdout flushes at every line, and pretty JSON has many.
        let mut out = io::BufWriter::with_capacity(1 << 16, Stdout::new());
        rendering.render(format, &mut out, &mut io::stderr().lock())?;
        out.flush()?;
    }
    Ok(code)
}

/// The format of a report file, from its name: `.txt` text (every file's line, problems
/// and all), `.html`, `.jsonl`, else JSON.
fn format_of(place: &str) -> Format {
    let extension = place
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "txt" => Format::Text,
        "html" | "htm" => Format::Html,
        "jsonl" => Format::Jsonl,
        _ => Format::Json,
    }
}

/// A report and how to render it.
#[derive(Clone, Copy)]
struct Rendering<'a> {
    report: &'a Report,
    inputs: &'a Inputs,
    verbose: bool,
    elapsed: Option<std::time::Duration>,
    code: u8,
}

impl Rendering<'_> {
    fn render(&self, format: Format, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<()> {
        let (report, inputs, code) = (self.report, self.inputs, self.code);
        match format {
            Format::Text => render::text(report, inputs, self.verbose, self.elapsed, out, err),
            Format::Json => render::json(report, inputs, code, out),
            Format::Html => render::html(report, inputs, out),
            Format::Jsonl => render::jsonl(report, inputs, code, out),
        }
    }
}

/// Bytes two writers share, in the order written (a text report's stdout and stderr
/// lines, into one file).
#[derive(Clone, Default)]
struct Buffer(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl Buffer {
    fn take(&self) -> Vec<u8> {
        self.0.take()
    }
}

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
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
    let manifest = read_manifest(&root)?;
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

/// Reads the manifest of a mirrored directory, if it has one.
pub(crate) fn read_manifest(root: &Root) -> Result<Option<Manifest>> {
    Manifest::read(root).with_context(|| root.path().join(MANIFEST).display().to_string())
}

/// A bucket in S3.
#[cfg(feature = "aws")]
fn prepare_s3(args: &ValidateArgs) -> Result<Prepared> {
    s3::prepare(args)
}

/// A bucket in S3, in a build without AWS.
#[cfg(not(feature = "aws"))]
fn prepare_s3(_: &ValidateArgs) -> Result<Prepared> {
    crate::no_aws("validating a bucket in S3").map(|_| unreachable!())
}
