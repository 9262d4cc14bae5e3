//! `cloudtrail-digest posture`: is each trail set up so that its integrity can be proven?

use std::io::{self, Write as _};

use anyhow::Result;
use cloudtrail_digest::aws::PostureOptions;
use cloudtrail_digest::posture::{CheckStatus, PostureReport};

use crate::args::{PostureArgs, PostureFormat};
use crate::aws::Session;
use crate::output::Stdout;
use crate::render;

/// 1 when a check fails, else 2 when one could not be made, else 0.
pub(crate) fn exit_code(report: &PostureReport) -> u8 {
    match report.status {
        CheckStatus::Pass => 0,
        CheckStatus::Fail => 1,
        CheckStatus::Unknown => 2,
    }
}

pub(crate) fn run(args: &PostureArgs) -> Result<u8> {
    let session = Session::load(args.aws.profile.as_deref(), None)?;
    let mut options = PostureOptions::default();
    options.trail_arns.clone_from(&args.trail_arns);
    options.regions.clone_from(&args.regions);
    options.verify_hours = args.verify_hours;
    options.min_retention_days = args.min_retention_days;
    let report = session.block_on(session.aws.posture(&options));
    let code = exit_code(&report);
    let mut out = io::BufWriter::with_capacity(1 << 16, Stdout::new());
    match args.format {
        PostureFormat::Text => render::posture_text(&report, &mut out)?,
        PostureFormat::Json => render::posture_json(&report, code, &mut out)?,
    }
    out.flush()?;
    Ok(code)
}
