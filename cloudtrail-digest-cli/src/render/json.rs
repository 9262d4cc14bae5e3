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
