//! The posture report: a compact table per trail (text), or the report as JSON.

use std::io::{self, Write};

use cloudtrail_digest::posture::{Check, CheckStatus, PostureReport};
use serde::Serialize;

use super::sanitize::sanitize;

fn word(status: CheckStatus) -> &'static str {
    match status {
        CheckStatus::Pass => "PASS",
        CheckStatus::Fail => "FAIL",
        CheckStatus::Unknown => "UNKNOWN",
    }
}

/// One check: its status and id, then what fails (or why it is unknown) and the fix.
fn check_lines(check: &Check, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "  {:<8} {:<25} {}",
        word(check.status),
        check.id,
        check.title
    )?;
    if let Some(why) = &check.unknown {
        writeln!(
            out,
            "  {:<8} {:<25} unknown: {}",
            "",
            "",
            sanitize(&why.to_string())
        )?;
    }
    for finding in &check.findings {
        writeln!(out, "  {:<8} {:<25} - {}", "", "", sanitize(finding))?;
    }
    if check.status == CheckStatus::Fail {
        writeln!(
            out,
            "  {:<8} {:<25} fix: {}",
            "",
            "",
            sanitize(&check.remediation)
        )?;
    }
    Ok(())
}

/// The text report.
pub(crate) fn posture_text(report: &PostureReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "Account {} (read {})",
        sanitize(report.account_id.as_deref().unwrap_or("unknown")),
        report.read_at.format("%Y-%m-%dT%H:%M:%SZ")
    )?;
    for check in &report.account_checks {
        check_lines(check, out)?;
    }
    if report.trails.is_empty() {
        writeln!(out, "\nNo trail found.")?;
    }
    for trail in &report.trails {
        writeln!(
            out,
            "\nTrail {} ({})",
            sanitize(&trail.arn),
            sanitize(&trail.home_region)
        )?;
        for check in &trail.checks {
            check_lines(check, out)?;
        }
    }
    let t = report.totals;
    writeln!(
        out,
        "\n{} checks: {} pass, {} fail, {} unknown",
        t.pass + t.fail + t.unknown,
        t.pass,
        t.fail,
        t.unknown
    )
}

/// The posture report with the exit code it gave.
#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[cfg_attr(test, schemars(title = "cloudtrail-digest posture --format json"))]
struct JsonPosture<'a> {
    exit_code: u8,
    #[serde(flatten)]
    report: &'a PostureReport,
}

/// The JSON report.
pub(crate) fn posture_json(
    report: &PostureReport,
    exit_code: u8,
    out: &mut dyn Write,
) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &JsonPosture { exit_code, report })?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The schema of `posture --format json`, as committed (`BLESS=1` rewrites it).
    #[test]
    fn the_committed_posture_schema_is_the_outputs() {
        let schema = schemars::schema_for!(JsonPosture<'static>);
        crate::render::assert_committed_schema(&schema, "posture.schema.json");
    }
}
