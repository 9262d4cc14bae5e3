//! `cloudtrail-digest validate DIR`.

use std::io::{self, Write as _};

use anyhow::{bail, Context as _, Result};
use cloudtrail_digest::{discover, validate, FsStore, PublicKeySet, Report, Selection, Severity};

use crate::args::{Format, ValidateArgs};
use crate::render;

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

fn load_keys(args: &ValidateArgs) -> Result<PublicKeySet> {
    let mut keys = PublicKeySet::new();
    for path in &args.public_keys {
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read public key file {}", path.display()))?;
        let set = PublicKeySet::from_file_bytes(&bytes)
            .with_context(|| format!("public key file {}", path.display()))?;
        keys.extend(set);
    }
    Ok(keys)
}

pub(crate) fn run(args: &ValidateArgs) -> Result<u8> {
    let dir = &args.dir;
    if !dir.is_dir() {
        bail!("{}: not a directory", dir.display());
    }
    let bucket = match &args.bucket {
        Some(b) => b.clone(),
        None => dir
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
    let selection = Selection {
        account_ids: args.account_ids.clone(),
        regions: args.regions.clone(),
        trail_name: args.trail_name.clone(),
        start: args.start_time,
        end: args.end_time,
    };
    let found = discover(&store, &bucket, "").context("cannot list the bucket copy")?;
    let report = validate(&store, &bucket, &keys, &found, &selection)?;
    let code = exit_code(&report);
    let stdout = io::stdout();
    let stderr = io::stderr();
    match args.format {
        Format::Text => {
            render::text(
                &report,
                args.verbose,
                &mut stdout.lock(),
                &mut stderr.lock(),
            )?;
        }
        Format::Json => {
            let mut out = stdout.lock();
            render::json(&report, code, &mut out)?;
            out.flush()?;
        }
    }
    Ok(code)
}
