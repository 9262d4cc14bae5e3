//! The verdict block that closes the text output, on stdout: the overall verdict and exit
//! code, totals that count every file, coverage in hours per state, a rollup per account
//! and region when there are several, the findings again in short (long runs collapsed),
//! and for each kind of finding what to look at next.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::time::Duration;

use cloudtrail_digest::report::{
    Counts, CoverageState, Issue, IssueKind, Report, Severity, UnlistedStatus,
};

use super::sanitize::sanitize;
use super::verdict;

/// Findings of one kind shown one by one before the rest are counted.
const SHOWN: usize = 5;

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

/// The verdict in one word or two, and what it means.
pub(crate) fn verdict_words(severity: Severity) -> (&'static str, &'static str) {
    match severity {
        Severity::Valid => (
            "VERIFIED",
            "every file in range is proven as CloudTrail wrote it",
        ),
        Severity::Invalid => (
            "TAMPERED",
            "integrity findings: files altered, deleted or injected",
        ),
        Severity::Unchecked => (
            "COULD NOT CHECK",
            "some files could not be read: neither valid nor tampered",
        ),
        Severity::Incomplete => (
            "INCOMPLETE",
            "no integrity finding, but not everything is covered by a verified digest",
        ),
    }
}

/// Writes the block.
pub(crate) fn verdict_block(
    report: &Report,
    elapsed: Option<Duration>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let (word, meaning) = verdict_words(report.severity());
    let took = elapsed.map_or(String::new(), |d| format!(" in {:.1} s", d.as_secs_f64()));
    writeln!(
        out,
        "\n== {word} (exit {}){took}: {meaning} ==",
        exit_code(report)
    )?;
    let t = &report.totals;
    writeln!(out, "Digest files: {}", counts(&t.digests))?;
    let injected = report
        .locations
        .iter()
        .flat_map(|l| &l.unlisted)
        .filter(|u| u.status == UnlistedStatus::Injected)
        .count();
    let mut logs = counts(&t.log_files);
    if injected > 0 {
        logs = format!("{logs} ({injected} of them injected: no digest lists them)");
    }
    writeln!(out, "Log files:    {logs}")?;
    writeln!(out, "Coverage:     {}", coverage(report))?;
    if let Some(shard) = &report.shard {
        shard_line(shard, out)?;
    }
    rollup(report, out)?;
    findings(report, out)
}

/// What part of a sharded run this report is: its verdict is the part's.
fn shard_line(shard: &cloudtrail_digest::report::ShardInfo, out: &mut dyn Write) -> io::Result<()> {
    let mut parts = Vec::new();
    if !shard.units.is_empty() {
        parts.push(format!("{} locations whole", shard.units.len()));
    }
    for unit in &shard.slices {
        let held: Vec<String> = unit.held.iter().map(|i| (i + 1).to_string()).collect();
        parts.push(format!(
            "time slice {} of {} of {}/{}",
            held.join(", "),
            unit.slice_count(),
            unit.account_id,
            unit.region
        ));
    }
    if parts.is_empty() {
        parts.push("nothing".into());
    }
    writeln!(
        out,
        "Shard:        {} of {}: {} (merge every shard's report for the run's verdict)",
        shard.index + 1,
        shard.count,
        parts.join("; ")
    )
}

/// Counts in words, every file counted: `N valid, N INVALID, ... of N`.
fn counts(c: &Counts) -> String {
    let mut parts = vec![format!("{} valid", c.valid)];
    for (n, word) in [
        (c.invalid, "INVALID"),
        (c.unverified, "NOT COVERED"),
        (c.unchecked, "UNCHECKED"),
        (c.pending, "PENDING"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {word}"));
        }
    }
    format!("{} of {}", parts.join(", "), c.total())
}

/// Hours per coverage state over every chain.
fn coverage(report: &Report) -> String {
    let mut hours: BTreeMap<CoverageState, i64> = BTreeMap::new();
    for span in report.chains.iter().flat_map(|c| &c.coverage) {
        *hours.entry(span.state).or_default() += span.hours();
    }
    if hours.is_empty() {
        return "no digest in range".into();
    }
    hours
        .iter()
        .map(|(state, h)| format!("{h} h {}", verdict::coverage(*state)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Digest and log file counts and the worst severity, per account and region.
type Places = BTreeMap<(String, String), (Counts, Counts, Severity)>;

fn places(report: &Report) -> Places {
    let mut places = Places::new();
    let at = |account: &str, region: &str| (account.to_owned(), region.to_owned());
    for chain in &report.chains {
        let l = &chain.chain.location;
        let entry = places.entry(at(&l.account_id, &l.region)).or_insert((
            Counts::default(),
            Counts::default(),
            Severity::Valid,
        ));
        plus(&mut entry.0, &chain.digest_counts);
        plus(&mut entry.0, &chain.backfill_digest_counts);
        plus(&mut entry.1, &chain.log_counts);
    }
    for location in &report.locations {
        let l = &location.location;
        let entry = places.entry(at(&l.account_id, &l.region)).or_insert((
            Counts::default(),
            Counts::default(),
            Severity::Valid,
        ));
        for log in &location.unlisted {
            plus(&mut entry.1, &one(log.status.severity()));
        }
    }
    for issue in &report.issues {
        let place = issue
            .chain
            .as_ref()
            .map(|c| at(&c.location.account_id, &c.location.region));
        if let Some(entry) = place.and_then(|p| places.get_mut(&p)) {
            entry.2 = entry.2.max(issue.severity);
        }
    }
    // What no chain holds: the files' own verdicts (injected ones among them), and log
    // files with no digest at all.
    for location in &report.locations {
        let l = &location.location;
        if let Some(entry) = places.get_mut(&at(&l.account_id, &l.region)) {
            let worst = entry.0.severity().max(entry.1.severity());
            entry.2 = entry.2.max(worst).max(location_severity(location));
        }
    }
    places
}

/// One line per account and region, when the run covers several.
fn rollup(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let places = places(report);
    if places.len() < 2 {
        return Ok(());
    }
    writeln!(out, "By account and region:")?;
    for ((account, region), (digests, logs, severity)) in &places {
        writeln!(
            out,
            "  {} {:<15} {:<16} digests {}/{}, log files {}/{} valid",
            sanitize(account),
            sanitize(region),
            verdict_words(*severity).0,
            digests.valid,
            digests.total(),
            logs.valid,
            logs.total()
        )?;
    }
    Ok(())
}

/// How a location's own state counts: log files and no digest at all (deleted digests
/// proven, or not), log files left unclassified.
fn location_severity(location: &cloudtrail_digest::report::LocationReport) -> Severity {
    let mut worst = Severity::Valid;
    if location.no_digests {
        let deleted = location.deleted.is_some();
        worst = worst.max(if deleted {
            Severity::Invalid
        } else {
            Severity::Incomplete
        });
    }
    if location.not_checked.is_some() {
        worst = worst.max(Severity::Incomplete);
    }
    worst
}

/// One verdict of `severity`, counted.
fn one(severity: Severity) -> Counts {
    let mut counts = Counts::default();
    match severity {
        Severity::Valid => counts.valid = 1,
        Severity::Invalid => counts.invalid = 1,
        Severity::Incomplete => counts.unverified = 1,
        Severity::Unchecked => counts.unchecked = 1,
    }
    counts
}

fn plus(a: &mut Counts, b: &Counts) {
    a.valid += b.valid;
    a.invalid += b.invalid;
    a.unverified += b.unverified;
    a.unchecked += b.unchecked;
    a.pending += b.pending;
}

/// What a finding is, in a short label, and what to look at next for it.
fn label(issue: &Issue) -> (&'static str, &'static str) {
    match &issue.kind {
        IssueKind::Digest { .. } | IssueKind::DigestFinding { .. } => ("digest file", NEXT_DIGEST),
        IssueKind::Log { .. } => ("log file", NEXT_LOG),
        IssueKind::UnlistedLog { status, .. } => match status {
            UnlistedStatus::Injected => ("log file no digest lists", NEXT_INJECTED),
            _ => (NOT_COVERED_LOGS, NEXT_NOT_COVERED),
        },
        IssueKind::NotCovered { .. } | IssueKind::Notice { .. } | IssueKind::NoDigests { .. } => {
            ("coverage", NEXT_NOT_COVERED)
        }
        IssueKind::UnrecognizedKey { .. } => ("unrecognized key", NEXT_UNRECOGNIZED),
        IssueKind::NoChains => ("no digest", NEXT_NO_CHAINS),
        _ => ("listing", NEXT_UNCHECKED),
    }
}

const NEXT_DIGEST: &str = "list its versions (aws s3api list-object-versions --prefix KEY) and look for DeleteObject/PutObject on it in S3 server access logs or CloudTrail data events";
const NEXT_LOG: &str = "list its versions (aws s3api list-object-versions --prefix KEY), compare the hashes shown, and look for PutObject/DeleteObject on it";
const NEXT_INJECTED: &str = "look for who wrote it (PutObject by a principal other than cloudtrail.amazonaws.com) in S3 server access logs or CloudTrail data events";
const NEXT_NOT_COVERED: &str = "look for StopLogging, UpdateTrail (EnableLogFileValidation) and DeleteTrail events then, and at aws cloudtrail get-trail-status";
const NEXT_UNCHECKED: &str = "check s3:GetObject and kms:Decrypt permissions and throttling, then run again; for a missing metadata sidecar, aws s3api head-object on the digest";

const NEXT_UNRECOGNIZED: &str = "look for who wrote it (PutObject) and what it holds";
const NEXT_NO_CHAINS: &str = "check the bucket, prefix and filters given, and that the trail has log file validation on (aws cloudtrail get-trail)";

/// The findings in short, by kind: a few one by one, the rest counted; then what to look
/// at next for each kind.
fn findings(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    if report.issues.is_empty() {
        return Ok(());
    }
    writeln!(out, "Findings ({}):", report.issues.len())?;
    let mut kinds: Vec<(&str, &str, Vec<&Issue>)> = Vec::new();
    for issue in &report.issues {
        let (what, next) = label(issue);
        let (what, next) = match issue.severity {
            Severity::Unchecked => ("unchecked", NEXT_UNCHECKED),
            _ => (what, next),
        };
        match kinds.iter_mut().find(|(w, _, _)| *w == what) {
            Some((_, _, list)) => list.push(issue),
            None => kinds.push((what, next, vec![issue])),
        }
    }
    for (what, _, list) in &kinds {
        if *what == NOT_COVERED_LOGS {
            not_covered_runs(list, out)?;
            continue;
        }
        for issue in list.iter().take(SHOWN) {
            writeln!(
                out,
                "  {:<11} {what}: {}",
                severity_word(issue.severity),
                one_line(issue)
            )?;
        }
        if list.len() > SHOWN {
            writeln!(
                out,
                "  ... and {} more of this kind ({what})",
                list.len() - SHOWN
            )?;
        }
    }
    // What to look at next, once per piece of advice.
    writeln!(out, "Next:")?;
    let mut advice: Vec<(Vec<&str>, &str)> = Vec::new();
    for (what, next, _) in &kinds {
        match advice.iter_mut().find(|(_, n)| n == next) {
            Some((whats, _)) => whats.push(what),
            None => advice.push((vec![what], next)),
        }
    }
    for (whats, next) in advice {
        writeln!(out, "  {}: {next}", whats.join(", "))?;
    }
    Ok(())
}

const NOT_COVERED_LOGS: &str = "log files not covered";

/// Log files no verified digest covers, one line per log folder: how many, delivered
/// from when to when (they come in long runs when digests stop).
fn not_covered_runs(list: &[&Issue], out: &mut dyn Write) -> io::Result<()> {
    let mut folders: BTreeMap<String, (usize, String, String)> = BTreeMap::new();
    for issue in list {
        let IssueKind::UnlistedLog { delivery_time, .. } = &issue.kind else {
            continue;
        };
        let key = issue.key.as_deref().unwrap_or_default();
        // The location's folder: through `CloudTrail/REGION/`.
        let folder = key
            .find("/CloudTrail/")
            .and_then(|i| {
                let j = key.get(i + 12..)?.find('/')?;
                key.get(..=i + 12 + j)
            })
            .unwrap_or(key);
        let bucket = issue.bucket.as_deref().unwrap_or_default();
        let place = format!("s3://{}/{}", sanitize(bucket), sanitize(folder));
        let when = delivery_time.format("%Y-%m-%dT%H:%MZ").to_string();
        let entry = folders
            .entry(place)
            .or_insert((0, when.clone(), when.clone()));
        entry.0 += 1;
        if when < entry.1 {
            entry.1.clone_from(&when);
        }
        if when > entry.2 {
            entry.2 = when;
        }
    }
    for (place, (n, first, last)) in folders {
        writeln!(
            out,
            "  {:<11} {n} log files in {place}, delivered {first} to {last}: no verified digest covers them",
            severity_word(Severity::Incomplete)
        )?;
    }
    Ok(())
}

pub(crate) fn severity_word(severity: Severity) -> &'static str {
    match severity {
        Severity::Invalid => "INVALID",
        Severity::Unchecked => "UNCHECKED",
        Severity::Incomplete => "NOT COVERED",
        Severity::Valid => "valid",
    }
}

/// An issue on one line: its object and, briefly, why.
fn one_line(issue: &Issue) -> String {
    let (object, why) = object_and_why(issue);
    format!("{object}: {why}")
}

/// What an issue is about (its object, sanitized) and why, briefly, without the verdict
/// word (shown beside it).
pub(crate) fn object_and_why(issue: &Issue) -> (String, String) {
    let object = match (&issue.bucket, &issue.key) {
        (Some(b), Some(k)) => format!("s3://{}/{}", sanitize(b), sanitize(k)),
        (None, Some(k)) => sanitize(k),
        _ => issue
            .chain
            .as_ref()
            .map(|c| {
                let l = &c.location;
                sanitize(&format!(
                    "{} ({} {})",
                    c.trail_arn(),
                    l.account_id,
                    l.region
                ))
            })
            .unwrap_or_default(),
    };
    let why = match &issue.kind {
        IssueKind::Digest { verdict } => verdict::digest(verdict),
        IssueKind::Log { verdict, .. } => verdict::log(verdict),
        IssueKind::UnlistedLog { status, .. } => verdict::unlisted(*status).to_owned(),
        IssueKind::UnrecognizedKey { reason } | IssueKind::ListingFailed { reason, .. } => {
            reason.clone()
        }
        IssueKind::NoChains => "no digest file found".to_owned(),
        IssueKind::Notice { notice } => verdict::notice(notice),
        IssueKind::NoDigests { deleted, .. } => match deleted {
            Some(evidence) => format!("log files and no digest of any trail, yet {evidence}: the digests were deleted"),
            None => "log files and no digest of any trail: either log file validation was off or every digest was deleted".to_owned(),
        },
        IssueKind::NotChecked { reason, .. } => reason.to_string(),
        IssueKind::DigestFinding { finding } => finding.to_string(),
        IssueKind::NotCovered { span } => format!(
            "{} to {}{}",
            span.from.format("%Y-%m-%dT%H:%M:%SZ"),
            span.to.format("%Y-%m-%dT%H:%M:%SZ"),
            span.reason
                .as_ref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        ),
        other => format!("{other:?}"),
    };
    // The verdict word is already at the start of the line.
    let why = match why.split_once(": ") {
        Some((word, rest)) if word.chars().all(|c| c.is_ascii_uppercase() || c == ' ') => rest,
        _ => &why,
    };
    (object, sanitize(why))
}
