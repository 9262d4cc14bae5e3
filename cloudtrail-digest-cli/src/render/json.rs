//! The report as JSON: the library's report (its schema in `schema/report.schema.json`),
//! with the exit code and the run's inputs.

use std::io::{self, Write};

use cloudtrail_digest::report::Report;
use serde::Serialize;

use super::inputs::Inputs;

/// The report with the exit code it gave and what the run read.
#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[cfg_attr(test, schemars(title = "cloudtrail-digest validate --format json"))]
struct JsonOutput<'a> {
    exit_code: u8,
    inputs: &'a Inputs,
    #[serde(flatten)]
    report: &'a Report,
}

/// Writes the report as pretty JSON with the exit code and overall severity.
pub(crate) fn json(
    report: &Report,
    inputs: &Inputs,
    exit_code: u8,
    out: &mut dyn Write,
) -> io::Result<()> {
    let output = JsonOutput {
        exit_code,
        inputs,
        report,
    };
    serde_json::to_writer_pretty(&mut *out, &output)?;
    writeln!(out)
}

/// One finding as a line of `--format jsonl`.
#[derive(Serialize)]
struct FindingLine<'a> {
    record: &'static str,
    report_bucket: &'a str,
    #[serde(flatten)]
    issue: &'a cloudtrail_digest::report::Issue,
}

/// The last line of `--format jsonl`: the verdict and totals.
#[derive(Serialize)]
struct VerdictLine<'a> {
    record: &'static str,
    report_bucket: &'a str,
    exit_code: u8,
    severity: cloudtrail_digest::report::Severity,
    totals: &'a cloudtrail_digest::report::Totals,
    inputs: &'a Inputs,
}

/// Writes one JSON object per line, for log pipelines and SIEMs: each finding
/// (`"record": "finding"`, the fields of the report's `issues`), then the verdict
/// (`"record": "verdict"`, with the exit code, totals and inputs).
pub(crate) fn jsonl(
    report: &Report,
    inputs: &Inputs,
    exit_code: u8,
    out: &mut dyn Write,
) -> io::Result<()> {
    for issue in &report.issues {
        let line = FindingLine {
            record: "finding",
            report_bucket: &report.bucket,
            issue,
        };
        serde_json::to_writer(&mut *out, &line)?;
        writeln!(out)?;
    }
    let verdict = VerdictLine {
        record: "verdict",
        report_bucket: &report.bucket,
        exit_code,
        severity: report.severity(),
        totals: &report.totals,
        inputs,
    };
    serde_json::to_writer(&mut *out, &verdict)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The schema of `--format json`, as committed (`BLESS=1` rewrites it after a change
    /// that is meant; the golden cases' outputs are checked against it).
    #[test]
    fn the_committed_schema_is_the_outputs() {
        let schema = schemars::schema_for!(JsonOutput<'static>);
        crate::render::assert_committed_schema(&schema, "report.schema.json");
    }
}
