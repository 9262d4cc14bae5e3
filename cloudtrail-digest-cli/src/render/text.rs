//! Text output line-compatible with `aws cloudtrail validate-logs`: per chain, the
//! reference's start line, one line per file that is not valid (all files when verbose),
//! and the reference's summary; then this tool's coverage and unlisted log files.

use std::io::{self, Write};

use chrono::{DateTime, Utc};
use cloudtrail_digest::report::{
    ChainReport, Counts, CoverageState, DigestOutcome, DigestStatus, LocationReport, Notice,
    Report, Severity,
};

use super::inputs::Inputs;
use super::sanitize::sanitize;
use super::verdict;

fn display(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// One line of the reference's shape: `KIND<TAB>s3://BUCKET/KEY<TAB>VERDICT`, with
/// everything that came from the data sanitized.
fn file_line(kind: &str, bucket: &str, key: &str, verdict: &str) -> String {
    format!(
        "{kind}\ts3://{}/{}\t{}",
        sanitize(bucket),
        sanitize(key),
        sanitize(verdict)
    )
}

/// The reference's output discipline: problems on stderr wrapped in blank lines, valid
/// lines on stdout only when verbose.
struct Lines<'a> {
    out: &'a mut dyn Write,
    err: &'a mut dyn Write,
    verbose: bool,
    last_double_space: bool,
}

impl Lines<'_> {
    fn status(&mut self, message: &str, is_error: bool) -> io::Result<()> {
        if is_error {
            if self.last_double_space {
                write!(self.err, "{message}\n\n")?;
            } else {
                write!(self.err, "\n{message}\n\n")?;
            }
            self.last_double_space = true;
        } else if self.verbose {
            self.last_double_space = false;
            writeln!(self.out, "{message}")?;
        }
        Ok(())
    }

    fn ratio(&mut self, counts: &Counts, name: &str) -> io::Result<()> {
        let total = counts.total();
        if total == 0 {
            return Ok(());
        }
        write!(self.out, "\n{}/{total} {name} files valid", counts.valid)?;
        for (n, word) in [
            (counts.invalid, "INVALID"),
            (counts.unverified, "UNVERIFIED"),
            (counts.unchecked, "UNCHECKED"),
        ] {
            if n > 0 {
                write!(self.out, ", {n}/{total} {name} files {word}")?;
            }
        }
        Ok(())
    }
}

/// Writes the text report: per chain, the reference's start line, one line per file that
/// is not valid (all files with `verbose`), and the reference's summary.
pub(crate) fn text(
    report: &Report,
    inputs: &Inputs,
    verbose: bool,
    elapsed: Option<std::time::Duration>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<()> {
    let mut lines = Lines {
        out,
        err,
        verbose,
        last_double_space: false,
    };
    banner(report, inputs, &mut lines)?;
    for failure in &report.listing_failures {
        let message = file_line(
            "Listing",
            &report.bucket,
            &failure.prefix,
            &format!("UNCHECKED: cannot list it: {}", failure.reason),
        );
        lines.status(&message, true)?;
    }
    for unrecognized in &report.unrecognized_keys {
        let message = file_line(
            "Unrecognized key",
            &report.bucket,
            &unrecognized.key,
            &unrecognized.reason,
        );
        lines.status(&message, true)?;
    }
    if report.chains.is_empty() {
        writeln!(
            lines.out,
            "No digest files found in s3://{}",
            sanitize(&report.bucket)
        )?;
    }
    for (i, chain) in report.chains.iter().enumerate() {
        if i > 0 {
            writeln!(lines.out)?;
        }
        chain_text(report, chain, &mut lines)?;
    }
    for location in &report.locations {
        location_text(location, &mut lines)?;
    }
    lines.err.flush()?;
    super::closing::verdict_block(report, elapsed, lines.out)?;
    lines.out.flush()?;
    lines.err.flush()
}

/// What the run read, where it is not the bucket listed directly.
fn banner(report: &Report, inputs: &Inputs, lines: &mut Lines<'_>) -> io::Result<()> {
    if let Some(original) = &inputs.original_bucket {
        writeln!(
            lines.out,
            "Validating {} as a copy of bucket {}: files the digests place in {} are read from the copy\n",
            sanitize(&inputs.read_from),
            sanitize(original),
            sanitize(original)
        )?;
    }
    if let Some(inventory) = &report.inventory {
        writeln!(
            lines.out,
            "Listing from the S3 Inventory {} taken {}; day folders from {} on listed directly\n",
            sanitize(&inventory.manifest),
            inventory.taken.format("%Y-%m-%dT%H:%M:%SZ"),
            inventory.listed_directly_from
        )?;
    }
    Ok(())
}

/// Log files no digest lists, and locations with log files but no digest.
fn location_text(location: &LocationReport, lines: &mut Lines<'_>) -> io::Result<()> {
    let folder = format!(
        "s3://{}/{}",
        sanitize(&location.bucket),
        sanitize(&location.location.log_prefix())
    );
    if location.no_digests {
        let n = location.unlisted.len();
        let message = match &location.deleted {
            Some(evidence) => format!(
                "Log files\t{folder}\tINVALID: {n} log files and no digest of any trail, yet {}: the digests were deleted",
                sanitize(&evidence.to_string())
            ),
            None => format!(
                "Log files\t{folder}\tNOT COVERED: {n} log files and no digest of any trail: either log file validation was off or every digest was deleted"
            ),
        };
        lines.status(&message, true)?;
    }
    if let Some(reason) = &location.not_checked {
        let message = format!(
            "Log files\t{folder}\tNOT CHECKED: {}",
            sanitize(&reason.to_string())
        );
        lines.status(&message, true)?;
    }
    for log in &location.unlisted {
        let message = file_line(
            "Log file",
            &location.bucket,
            &log.key,
            verdict::unlisted(log.status),
        );
        lines.status(&message, log.status.severity() != Severity::Valid)?;
    }
    Ok(())
}

/// How many log files of the chain's location no digest lists, delivered in `[from, to)`.
fn unlisted_between(
    report: &Report,
    chain: &ChainReport,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> usize {
    report
        .locations
        .iter()
        .filter(|l| l.location == chain.chain.location)
        .flat_map(|l| &l.unlisted)
        .filter(|l| l.delivery_time >= from && l.delivery_time < to)
        .count()
}

fn chain_text(report: &Report, chain: &ChainReport, lines: &mut Lines<'_>) -> io::Result<()> {
    let r = chain.requested;
    writeln!(
        lines.out,
        "Validating log files for trail {} between {} and {}",
        sanitize(&chain.chain.trail_arn()),
        display(r.start),
        display(r.end)
    )?;
    // The reference's line names the trail only: an organization's trail has one chain
    // per account and region.
    let place = &chain.chain.location;
    writeln!(
        lines.out,
        "Digests of account {}, region {}\n",
        sanitize(&place.account_id),
        sanitize(&place.region)
    )?;
    lines.last_double_space = false;
    for digest in &chain.digests {
        digest_text(report, chain, digest, lines)?;
    }
    notices_text(chain, lines)?;
    moved_hint(chain, lines)?;
    summary(chain, lines)
}

/// A digest's line (or one per finding), its log files' lines, and the gap it starts.
fn digest_text(
    report: &Report,
    chain: &ChainReport,
    digest: &DigestOutcome,
    lines: &mut Lines<'_>,
) -> io::Result<()> {
    let kind = if digest.backfill {
        "(backfill) Digest file"
    } else {
        "Digest file"
    };
    let message = file_line(
        kind,
        &digest.bucket,
        &digest.key,
        &verdict::digest(&digest.status),
    );
    let valid = digest.status == DigestStatus::Valid;
    if !valid || digest.findings.is_empty() {
        lines.status(&message, !valid)?;
    }
    for finding in &digest.findings {
        let words = format!("INVALID: {finding}");
        let message = file_line(kind, &digest.bucket, &digest.key, &words);
        lines.status(&message, true)?;
    }
    for log in &digest.logs {
        let message = file_line(
            "Log file",
            &log.bucket,
            &log.key,
            &verdict::log(&log.status),
        );
        lines.status(&message, log.status.severity() != Severity::Valid)?;
    }
    for notice in &chain.notices {
        if let Notice::Gap { backfill, from, to } = notice {
            if *backfill == digest.backfill && Some(*to) == digest.start_time {
                let prefix = if *backfill { "(backfill) " } else { "" };
                // The reference's line, unless log files of the gap say otherwise.
                let unlisted = unlisted_between(report, chain, *from, *to);
                let (from, to) = (display(*from), display(*to));
                let message = match unlisted {
                    0 => format!("{prefix}No log files were delivered by CloudTrail between {from} and {to}"),
                    n => format!("{prefix}{n} log files were delivered between {from} and {to} while no digest covers them: not covered"),
                };
                lines.status(&message, true)?;
            }
        }
    }
    Ok(())
}

/// The chain's notices of digests missing or deleted.
fn notices_text(chain: &ChainReport, lines: &mut Lines<'_>) -> io::Result<()> {
    for notice in &chain.notices {
        match notice {
            Notice::MissingDigests { backfill, from, to } => {
                let prefix = if *backfill { "(backfill) " } else { "" };
                let message = format!(
                    "{prefix}Digest files\tending {} to {}\tINVALID: not found (every hourly digest of this range is missing)",
                    display(*from),
                    display(*to)
                );
                lines.status(&message, true)?;
            }
            Notice::NewestDeleted {
                after,
                count,
                evidence,
            } => {
                let message = format!(
                    "Digest files\tending after {}\tINVALID: the {count} hourly digests after the newest one found were deleted: {}",
                    display(*after),
                    sanitize(&evidence.to_string())
                );
                lines.status(&message, true)?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// When every digest of a chain says it was written to one other bucket, DIR is most
/// likely a copy of that bucket: say how to name it.
fn moved_hint(chain: &ChainReport, lines: &mut Lines<'_>) -> io::Result<()> {
    let mut originals = chain.digests.iter().map(|d| match &d.status {
        DigestStatus::Moved {
            original_bucket, ..
        } => Some(original_bucket),
        _ => None,
    });
    if let Some(Some(first)) = originals.next() {
        if *first != chain.bucket && originals.all(|o| o == Some(first)) {
            let message = format!(
                "hint: the digests say they were written to bucket {0}; if this directory is a copy of it, pass --bucket {0}",
                sanitize(first)
            );
            lines.status(&message, true)?;
        }
    }
    Ok(())
}

fn summary(chain: &ChainReport, lines: &mut Lines<'_>) -> io::Result<()> {
    if !lines.last_double_space {
        writeln!(lines.out)?;
    }
    let r = chain.requested;
    writeln!(
        lines.out,
        "Results requested for {} to {}",
        display(r.start),
        display(r.end)
    )?;
    let digests = chain.digest_counts.total() + chain.backfill_digest_counts.total();
    if digests == 0 {
        writeln!(lines.out, "No digests found")?;
        return Ok(());
    }
    match chain.found {
        None => writeln!(lines.out, "No valid digests found in range")?,
        Some(f) => writeln!(
            lines.out,
            "Results found for {} to {}:",
            display(f.start),
            display(f.end)
        )?,
    }
    lines.ratio(&chain.digest_counts, "digest")?;
    lines.ratio(&chain.backfill_digest_counts, "backfill digest")?;
    lines.ratio(&chain.log_counts, "log")?;
    writeln!(lines.out)?;
    coverage_text(chain, lines)
}

/// The coverage timeline: hours per state, then every span that is not verified.
fn coverage_text(chain: &ChainReport, lines: &mut Lines<'_>) -> io::Result<()> {
    let mut totals: Vec<(CoverageState, i64)> = Vec::new();
    for span in &chain.coverage {
        match totals.iter_mut().find(|(s, _)| *s == span.state) {
            Some((_, h)) => *h += span.hours(),
            None => totals.push((span.state, span.hours())),
        }
    }
    totals.sort();
    let parts: Vec<String> = totals
        .iter()
        .map(|(state, h)| format!("{h} h {}", verdict::coverage(*state)))
        .collect();
    writeln!(lines.out, "Coverage: {}", parts.join(", "))?;
    for span in chain
        .coverage
        .iter()
        .filter(|s| !matches!(s.state, CoverageState::Verified | CoverageState::Empty))
    {
        let reason = span
            .reason
            .as_ref()
            .map(|r| format!(": {}", sanitize(&r.to_string())))
            .unwrap_or_default();
        writeln!(
            lines.out,
            "  {} {} to {}{reason}",
            verdict::coverage(span.state),
            display(span.from),
            display(span.to)
        )?;
    }
    Ok(())
}
