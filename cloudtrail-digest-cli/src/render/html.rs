//! `--format html`: one self-contained page (no script, no network) with the verdict, the
//! totals, a coverage grid of accounts and regions by hours, days or months, each cell
//! coloured by the worst state in it, the findings table and the run's inputs.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

use chrono::{DateTime, Datelike as _, Duration, TimeZone as _, Utc};
use cloudtrail_digest::report::{CoverageState, Report, Severity};

use super::closing::{exit_code, object_and_why, severity_word, verdict_words};
use super::inputs::Inputs;

/// A cell's state, worst last: the class and the word of each.
const STATES: [(&str, &str); 7] = [
    ("s0", "no data"),
    ("s1", "empty or before validation started"),
    ("s2", "verified"),
    ("s3", "pending"),
    ("s4", "not covered"),
    ("s5", "unchecked"),
    ("s6", "invalid"),
];

const STYLE: &str = "body{font:14px system-ui,sans-serif;margin:24px;color:#222}\
h1{font-size:22px}.verdict{font-weight:bold;font-size:16px}\
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}\
#coverage td{width:14px;min-width:14px;height:14px;padding:0}#coverage th{font-weight:normal;white-space:nowrap;font-size:12px}\
.s0{background:#fff}.s1{background:#e4e4e4}.s2{background:#3a9d3a}.s3{background:#7fb2e5}\
.s4{background:#f2d13c}.s5{background:#f08c2e}.s6{background:#d62828}\
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:middle;border:1px solid #aaa}\
#findings td{font-family:monospace;font-size:12px}pre{background:#f6f6f6;padding:8px}";

/// Columns per header label.
const LABEL_EVERY: usize = 6;

/// The grid's unit: hours for up to three days, days for up to three years, else months.
#[derive(Clone, Copy)]
enum Unit {
    Hour,
    Day,
    Month,
}

impl Unit {
    fn of(from: DateTime<Utc>, to: DateTime<Utc>) -> Self {
        match to - from {
            d if d <= Duration::hours(72) => Self::Hour,
            d if d <= Duration::days(3 * 366) => Self::Day,
            _ => Self::Month,
        }
    }

    /// The start of the cell holding `t`.
    fn floor(self, t: DateTime<Utc>) -> DateTime<Utc> {
        let (y, m, d) = (t.year(), t.month(), t.day());
        let start = match self {
            Self::Hour => Utc.with_ymd_and_hms(y, m, d, chrono::Timelike::hour(&t), 0, 0),
            Self::Day => Utc.with_ymd_and_hms(y, m, d, 0, 0, 0),
            Self::Month => Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0),
        };
        start.single().unwrap_or(t)
    }

    fn next(self, t: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Self::Hour => t + Duration::hours(1),
            Self::Day => t + Duration::days(1),
            Self::Month => self.floor(t + Duration::days(32)),
        }
    }

    fn label(self, t: DateTime<Utc>) -> String {
        let format = match self {
            Self::Hour => "%m-%d %H:00",
            Self::Day => "%Y-%m-%d",
            Self::Month => "%Y-%m",
        };
        t.format(format).to_string()
    }
}

fn rank_of_coverage(state: CoverageState) -> usize {
    match state {
        CoverageState::Empty | CoverageState::BeforeStart => 1,
        CoverageState::Verified => 2,
        CoverageState::Pending => 3,
        CoverageState::Unchecked => 5,
        CoverageState::Missing | CoverageState::Invalid => 6,
        _ => 4,
    }
}

fn rank_of(severity: Severity) -> usize {
    match severity {
        Severity::Valid => 2,
        Severity::Incomplete => 4,
        Severity::Unchecked => 5,
        Severity::Invalid => 6,
    }
}

/// Each account and region's worst state per cell, from the cell starts given.
type Grid = BTreeMap<(String, String), Vec<usize>>;

fn grid(report: &Report, cells: &[DateTime<Utc>], unit: Unit) -> Grid {
    let mut grid = Grid::new();
    let index = |t: DateTime<Utc>| cells.binary_search(&unit.floor(t)).ok();
    let mark = |grid: &mut Grid, place: (&str, &str), at: usize, rank: usize| {
        let row = grid
            .entry((place.0.to_owned(), place.1.to_owned()))
            .or_insert_with(|| vec![0; cells.len()]);
        if let Some(cell) = row.get_mut(at) {
            *cell = (*cell).max(rank);
        }
    };
    for chain in &report.chains {
        let place = (
            chain.chain.location.account_id.as_str(),
            chain.chain.location.region.as_str(),
        );
        for span in &chain.coverage {
            let mut t = unit.floor(span.from);
            while t < span.to {
                if let Some(at) = index(t) {
                    mark(&mut grid, place, at, rank_of_coverage(span.state));
                }
                t = unit.next(t);
            }
        }
        for digest in &chain.digests {
            let severity = digest.status.severity().max(if digest.findings.is_empty() {
                Severity::Valid
            } else {
                Severity::Invalid
            });
            let logs = digest.logs.iter().map(|l| l.status.severity()).max();
            let worst = severity.max(logs.unwrap_or(Severity::Valid));
            if let Some(at) = digest
                .end_time
                .and_then(|t| index(t - Duration::minutes(30)))
            {
                mark(&mut grid, place, at, rank_of(worst));
            }
        }
    }
    for location in &report.locations {
        let place = (
            location.location.account_id.as_str(),
            location.location.region.as_str(),
        );
        for log in &location.unlisted {
            if let Some(at) = index(log.delivery_time) {
                mark(&mut grid, place, at, rank_of(log.status.severity()));
            }
        }
    }
    grid
}

/// The cell starts over the run's range.
fn cells(report: &Report) -> (Vec<DateTime<Utc>>, Unit) {
    let times: BTreeSet<DateTime<Utc>> = report
        .chains
        .iter()
        .flat_map(|c| [c.requested.start, c.requested.end])
        .chain(
            report
                .locations
                .iter()
                .flat_map(|l| l.unlisted.iter().map(|u| u.delivery_time)),
        )
        .collect();
    let (Some(&from), Some(&to)) = (times.first(), times.last()) else {
        return (Vec::new(), Unit::Day);
    };
    let unit = Unit::of(from, to);
    let mut cells = vec![unit.floor(from)];
    while let Some(&last) = cells.last() {
        let next = unit.next(last);
        if next > to || cells.len() >= 2000 {
            break;
        }
        cells.push(next);
    }
    (cells, unit)
}

/// Writes the page.
pub(crate) fn html(report: &Report, inputs: &Inputs, out: &mut dyn Write) -> io::Result<()> {
    let (word, meaning) = verdict_words(report.severity());
    let bucket = escape(&report.bucket);
    writeln!(
        out,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
    )?;
    writeln!(
        out,
        "<title>cloudtrail-digest: {word} s3://{bucket}</title><style>{STYLE}</style></head><body>"
    )?;
    writeln!(out, "<h1>s3://{bucket}</h1>")?;
    writeln!(
        out,
        "<p class=\"verdict\" id=\"verdict\" data-verdict=\"{word}\">{word} (exit {}): {}</p>",
        exit_code(report),
        escape(meaning)
    )?;
    let t = &report.totals;
    writeln!(out, "<table id=\"totals\"><tr><th></th><th>valid</th><th>invalid</th><th>not covered</th><th>unchecked</th><th>pending</th></tr>")?;
    for (name, c) in [("digest files", &t.digests), ("log files", &t.log_files)] {
        writeln!(
            out,
            "<tr><th>{name}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            c.valid, c.invalid, c.unverified, c.unchecked, c.pending
        )?;
    }
    writeln!(out, "</table>")?;
    coverage(report, out)?;
    findings(report, out)?;
    let inputs = serde_json::to_string_pretty(inputs).unwrap_or_default();
    writeln!(
        out,
        "<h2>Inputs</h2><pre id=\"inputs\">{}</pre>",
        escape(&inputs)
    )?;
    writeln!(
        out,
        "<p>cloudtrail-digest {}</p></body></html>",
        escape(&report.tool_version)
    )
}

fn coverage(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let (cells, unit) = cells(report);
    let grid = grid(report, &cells, unit);
    writeln!(out, "<h2>Coverage</h2><p class=\"legend\">")?;
    for (class, word) in STATES {
        write!(out, "<span class=\"{class}\"></span>{word}")?;
    }
    writeln!(
        out,
        "</p><table id=\"coverage\"><thead><tr><th>account / region</th>"
    )?;
    // One label per group of columns keeps the header readable.
    for group in cells.chunks(LABEL_EVERY) {
        let label = group.first().map(|c| unit.label(*c)).unwrap_or_default();
        write!(out, "<th colspan=\"{}\">{label}</th>", group.len())?;
    }
    writeln!(out, "</tr></thead><tbody>")?;
    for ((account, region), row) in &grid {
        write!(
            out,
            "<tr data-account=\"{0}\" data-region=\"{1}\"><th>{0} {1}</th>",
            escape(account),
            escape(region)
        )?;
        for (cell, rank) in cells.iter().zip(row) {
            let (class, word) = STATES[(*rank).min(STATES.len() - 1)];
            write!(
                out,
                "<td class=\"{class}\" data-state=\"{word}\" title=\"{}: {word}\"></td>",
                unit.label(*cell)
            )?;
        }
        writeln!(out, "</tr>")?;
    }
    writeln!(out, "</tbody></table>")
}

fn findings(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "<h2>Findings ({})</h2><table id=\"findings\"><tr><th>severity</th><th>object</th><th>why</th></tr>", report.issues.len())?;
    for issue in &report.issues {
        let (object, why) = object_and_why(issue);
        writeln!(
            out,
            "<tr data-severity=\"{}\"><td>{}</td><td>{}</td><td>{}</td></tr>",
            severity_word(issue.severity),
            severity_word(issue.severity),
            escape(&object),
            escape(&why)
        )?;
    }
    writeln!(out, "</table>")
}

/// Text for HTML: `&`, `<`, `>`, `"` and `'` escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_html_would_read() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn cells_are_hours_days_or_months() {
        let t = Utc.with_ymd_and_hms(2024, 1, 31, 5, 30, 0).unwrap();
        assert_eq!(
            Unit::Month.next(Unit::Month.floor(t)).to_rfc3339(),
            "2024-02-01T00:00:00+00:00"
        );
        assert_eq!(
            Unit::Hour.floor(t).to_rfc3339(),
            "2024-01-31T05:00:00+00:00"
        );
        assert!(matches!(Unit::of(t, t + Duration::hours(72)), Unit::Hour));
        assert!(matches!(Unit::of(t, t + Duration::days(30)), Unit::Day));
        assert!(matches!(Unit::of(t, t + Duration::days(2000)), Unit::Month));
    }
}
