//! Command-line arguments, and their conversion into the library's configuration.

use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use clap::{Parser, Subcommand, ValueEnum};

const EXIT_CODES: &str = "\
Exit codes:
  0  everything in range verified
  1  integrity findings: a file deleted, altered, moved, unsigned or malformed
  2  usage or operational error, or a file that could not be read (unchecked)
  3  nothing invalid, but coverage incomplete: no digest in range, a chain gap,
     or a digest that cannot be verified";

/// Prove whether AWS CloudTrail log files were altered, deleted or injected.
#[derive(Debug, Parser)]
#[command(name = "cloudtrail-digest", version, after_help = EXIT_CODES)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Validate the digest and log files of a local copy of a CloudTrail bucket.
    #[command(after_help = EXIT_CODES)]
    Validate(ValidateArgs),
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Lines compatible with `aws cloudtrail validate-logs`.
    Text,
    /// The full report as JSON (schema in the README).
    Json,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ValidateArgs {
    /// Directory holding a copy of the bucket: `DIR/[prefix/]AWSLogs/...`; each digest's S3
    /// metadata may sit beside it in `<key>.meta.json` (`aws s3api head-object` output).
    #[arg(value_name = "DIR")]
    pub(crate) dir: PathBuf,

    /// Public key files: `aws cloudtrail list-public-keys` JSON, PEM or DER.
    #[arg(long = "public-keys", value_name = "FILE", required = true, num_args = 1..)]
    pub(crate) public_keys: Vec<PathBuf>,

    /// The name of the bucket DIR is a copy of [default: DIR's name].
    #[arg(long, value_name = "NAME")]
    pub(crate) bucket: Option<String>,

    /// Validate from this UTC time (e.g. 2024-03-01T00:00:00Z) [default: the oldest digest].
    #[arg(long, value_name = "T", value_parser = parse_time)]
    pub(crate) start_time: Option<DateTime<Utc>>,

    /// Validate up to this UTC time [default: the newest digest].
    #[arg(long, value_name = "T", value_parser = parse_time)]
    pub(crate) end_time: Option<DateTime<Utc>>,

    /// Only these accounts (repeatable).
    #[arg(long = "account-id", value_name = "A")]
    pub(crate) account_ids: Vec<String>,

    /// Only these digest regions (repeatable).
    #[arg(long = "region", value_name = "R")]
    pub(crate) regions: Vec<String>,

    /// Only this trail.
    #[arg(long, value_name = "N")]
    pub(crate) trail_name: Option<String>,

    /// Also print valid files (text format).
    #[arg(long, short)]
    pub(crate) verbose: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub(crate) format: Format,
}

/// Parses a UTC time: RFC 3339, or `YYYY-MM-DDTHH:MM:SS[Z]`, or a date.
fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    let trimmed = text.strip_suffix('Z').unwrap_or(text);
    for format in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(trimmed, format) {
            return Ok(t.and_utc());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(trimmed, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    }
    Err(format!(
        "{text:?} is not a UTC time such as 2024-03-01T00:00:00Z or 2024-03-01"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_times() {
        let want = "2024-03-01T05:06:07Z";
        for text in [
            "2024-03-01T05:06:07Z",
            "2024-03-01T05:06:07",
            "2024-03-01T07:06:07+02:00",
            "2024-03-01 05:06:07",
        ] {
            assert_eq!(
                parse_time(text)
                    .unwrap()
                    .format("%Y-%m-%dT%H:%M:%SZ")
                    .to_string(),
                want,
                "{text}"
            );
        }
        assert_eq!(
            parse_time("2024-03-01").unwrap().to_rfc3339(),
            "2024-03-01T00:00:00+00:00"
        );
        assert!(parse_time("yesterday")
            .unwrap_err()
            .contains("\"yesterday\""));
    }
}
