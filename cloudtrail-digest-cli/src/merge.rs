//! `cloudtrail-digest merge REPORT...`: the shards' reports of a sharded `validate`, joined
//! into the report, text and exit code one run would have given.

use anyhow::{Context as _, Result};
use cloudtrail_digest::report::{self, Report};

use crate::args::MergeArgs;
use crate::render::Inputs;
use crate::report_file;
use crate::validate;

/// The part of a report file `merge` needs beside the library's report.
#[derive(serde::Deserialize)]
struct RunInputs {
    inputs: Inputs,
}

pub(crate) fn run(args: &MergeArgs) -> Result<u8> {
    let started = std::time::Instant::now();
    let mut shards = Vec::new();
    let mut inputs = None;
    // One report's bytes at a time: only the parsed reports are held together.
    report_file::read_each(&args.reports, &args.s3, &mut |name, bytes| {
        let report: Report = serde_json::from_slice(&bytes)
            .with_context(|| format!("{name}: not a cloudtrail-digest JSON report"))?;
        if inputs.is_none() {
            let run: RunInputs = serde_json::from_slice(&bytes)
                .with_context(|| format!("{name}: the report has no inputs"))?;
            inputs = Some(run.inputs);
        }
        shards.push((name, report));
        Ok(())
    })?;
    let merged = report::merge(shards)?;
    let inputs = inputs.context("no reports to merge")?;
    validate::write(
        &merged,
        &inputs,
        args.format,
        args.verbose,
        args.output.as_deref(),
        &args.s3,
        started,
    )
}
