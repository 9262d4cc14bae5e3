//! Command-line arguments, and their conversion into the library's configuration.

use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use clap::{Parser, Subcommand, ValueEnum};
use cloudtrail_digest::Selection;

const VALIDATE_HELP: &str = "\
Examples:
  cloudtrail-digest validate s3://my-trail-bucket
  cloudtrail-digest validate s3://my-trail-bucket/my-prefix --start-time 2026-11-01 --region us-east-1
  cloudtrail-digest validate --trail-arn arn:aws:cloudtrail:us-east-1:111122223333:trail/main
  cloudtrail-digest validate ./evidence/my-trail-bucket            # made by mirror
  cloudtrail-digest validate ./copy/my-trail-bucket --public-keys keys.json --format json

Exit codes:
  0  everything in range verified
  1  integrity findings: a file deleted, altered, moved, unsigned, injected or
     malformed; digests missing; log files with no digest at all
  2  usage or operational error, or a file that could not be read (unchecked)
  3  nothing invalid, but coverage incomplete: no digest in range, a chain gap,
     a digest that cannot be verified, a log file no verified digest covers,
     or an unrecognized key";

const MERGE_HELP: &str = "\
Examples:
  cloudtrail-digest merge s3://my-reports/run-1/
  cloudtrail-digest merge reports/ --format json --output merged.json

Exit codes: those of validate for the merged report (0 verified, 1 integrity
findings, 2 a file unchecked, 3 coverage incomplete); 2 also when a shard is
missing, given twice or of another plan.";

const MIRROR_HELP: &str = "\
Examples:
  cloudtrail-digest mirror s3://my-trail-bucket ./evidence/my-trail-bucket
  cloudtrail-digest mirror s3://my-trail-bucket ./evidence/my-trail-bucket --start-time 2026-11-01

Exit codes:
  0  every digest and log file in range copied (the manifest is complete)
  2  an object not copied (listed in the manifest with why), or a usage or
     operational error; run again to resume";

const KEYS_HELP: &str = "\
Examples:
  cloudtrail-digest keys --region us-east-1 --start-time 2026-01-01 -o keys.json

Exit codes:
  0  the keys were written
  2  a usage or operational error (credentials, permissions, a region)";

const TOP_HELP: &str = "\
Examples:
  cloudtrail-digest validate s3://my-trail-bucket
  cloudtrail-digest mirror s3://my-trail-bucket ./evidence/my-trail-bucket
  cloudtrail-digest posture
  cloudtrail-digest completions bash > /etc/bash_completion.d/cloudtrail-digest

Each command's --help lists its exit codes.";

/// Prove whether AWS CloudTrail log files were altered, deleted or injected.
#[derive(Debug, Parser)]
#[command(name = "cloudtrail-digest", version, after_help = TOP_HELP)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,

    /// On an error, also print everything its source said (the AWS SDK's whole chain).
    #[arg(long, global = true)]
    pub(crate) debug: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Validate the digest and log files of a bucket in S3 or of a local copy.
    #[command(after_help = VALIDATE_HELP)]
    Validate(Box<ValidateArgs>),
    /// Save CloudTrail public keys (`ListPublicKeys`) as `list-public-keys` JSON, to
    /// validate later without AWS.
    #[command(after_help = KEYS_HELP)]
    Keys(KeysArgs),
    /// Copy a bucket's digests and log files, with their S3 metadata, into a directory as
    /// evidence: resumable, never overwriting a differing file, with a SHA-256 manifest.
    /// `validate DIR` then gives the same verdicts as the online run.
    #[command(after_help = MIRROR_HELP)]
    Mirror(Box<MirrorArgs>),
    /// Check that each trail is set up so that its integrity can be proven: logging in
    /// every region, validation on and digests verifying, a dedicated, private,
    /// delete-protected bucket, a customer managed rotating key, and who may silence it.
    #[command(after_help = POSTURE_EXIT_CODES)]
    Posture(PostureArgs),
    /// Combine the JSON reports of every shard of a sharded `validate` (`--shard`) into
    /// the report, text and exit code one run would have given.
    #[command(after_help = MERGE_HELP)]
    Merge(MergeArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `cloudtrail-digest man > cloudtrail-digest.1`.
    Man,
}

#[derive(Debug, clap::Args)]
pub(crate) struct MergeArgs {
    /// The shards' reports: JSON files, directories (every `*.json` in them), or
    /// `s3://BUCKET/PREFIX` (every `.json` object under it).
    #[arg(value_name = "REPORT", required = true)]
    pub(crate) reports: Vec<String>,

    /// Also print valid files (text format).
    #[arg(long, short)]
    pub(crate) verbose: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub(crate) format: Format,

    /// Also write the whole merged report to FILE or `s3://BUCKET/KEY` (text, HTML or JSON
    /// Lines by its extension `.txt`, `.html`, `.jsonl`, else JSON).
    #[arg(long, value_name = "FILE|s3://BUCKET/KEY")]
    pub(crate) output: Option<String>,

    #[command(flatten)]
    pub(crate) s3: S3Args,
}

const POSTURE_EXIT_CODES: &str = "\
Examples:
  cloudtrail-digest posture
  cloudtrail-digest posture --trail-arn arn:aws:cloudtrail:us-east-1:111122223333:trail/main --format json

Exit codes:
  0  every check passes
  1  a check fails
  2  a check could not be made (access denied, another account's resource, not
     applicable), or a usage or operational error";

#[derive(Debug, clap::Args)]
pub(crate) struct PostureArgs {
    /// The trails to check (repeatable) [default: every trail visible from the account].
    #[arg(long = "trail-arn", value_name = "ARN")]
    pub(crate) trail_arns: Vec<String>,

    /// The regions to look for trails in (repeatable) [default: the enabled regions].
    #[arg(long = "region", value_name = "R")]
    pub(crate) regions: Vec<String>,

    /// Validate the last N hours of each trail's chains (0: do not).
    #[arg(long, value_name = "N", default_value_t = 24, value_parser = clap::value_parser!(u32).range(0..=8784))]
    pub(crate) verify_hours: u32,

    /// The shortest retention of log files that passes, in days.
    #[arg(long, value_name = "DAYS", default_value_t = 365)]
    pub(crate) min_retention_days: u32,

    /// Output format.
    #[arg(long, value_enum, default_value_t = PostureFormat::Text)]
    pub(crate) format: PostureFormat,

    #[command(flatten)]
    pub(crate) aws: AwsArgs,
}

/// Output format of `posture`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PostureFormat {
    /// A table of checks per trail, with what failed and how to fix it.
    Text,
    /// The full report, with each check's evidence and mappings, as JSON (schema in the
    /// README).
    Json,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Lines compatible with `aws cloudtrail validate-logs`.
    Text,
    /// The full report as JSON (schema in the README).
    Json,
    /// One JSON object per line: each finding, then the verdict (for SIEMs).
    Jsonl,
    /// One self-contained HTML page: verdict, coverage grid, findings, inputs.
    Html,
}

/// Who pays for requests to a requester-pays bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum RequestPayer {
    /// The caller pays (`x-amz-request-payer: requester`).
    Requester,
}

/// Access to AWS.
#[derive(Debug, clap::Args)]
pub(crate) struct AwsArgs {
    /// The AWS profile to use (default: the standard credential chain).
    #[arg(long, value_name = "NAME")]
    pub(crate) profile: Option<String>,
}

#[derive(Debug, clap::Args)]
#[allow(clippy::struct_excessive_bools)]
pub(crate) struct ValidateArgs {
    /// What to validate: `s3://BUCKET[/PREFIX]` (trails are found at or under PREFIX), or a
    /// directory holding a copy of a bucket, `DIR/[prefix/]AWSLogs/...`, with each digest's
    /// S3 metadata beside it in `<key>.meta.json` (`aws s3api head-object` output).
    #[arg(value_name = "SOURCE", required_unless_present_any = ["trail_arn", "s3_bucket"])]
    pub(crate) source: Option<String>,

    /// Public key files (`aws cloudtrail list-public-keys` JSON, PEM or DER) instead of
    /// CloudTrail `ListPublicKeys`; required for a directory.
    #[arg(long = "public-keys", value_name = "FILE", num_args = 1..)]
    pub(crate) public_keys: Vec<PathBuf>,

    /// The name of the bucket a directory is a copy of [default: the bucket in the
    /// directory's mirror manifest, else the directory's name].
    #[arg(long, value_name = "NAME")]
    pub(crate) bucket: Option<String>,

    /// The bucket the validated bucket is a copy of: digests and logs written there are
    /// read here, and the relocation is a notice, not a finding.
    #[arg(long, value_name = "NAME", conflicts_with = "bucket")]
    pub(crate) original_bucket: Option<String>,

    /// The trail to validate: its bucket and prefix come from CloudTrail `GetTrail`.
    #[arg(long, value_name = "ARN")]
    pub(crate) trail_arn: Option<String>,

    /// The bucket, overriding the trail's.
    #[arg(long, value_name = "BUCKET")]
    pub(crate) s3_bucket: Option<String>,

    /// The key prefix, overriding the trail's.
    #[arg(long, value_name = "PREFIX")]
    pub(crate) s3_prefix: Option<String>,

    #[command(flatten)]
    pub(crate) filter: FilterArgs,

    /// Judge what is due as of this UTC time: a digest not due yet then is pending, not
    /// missing [default: now; for a directory made by `mirror`, when it was captured].
    #[arg(long, value_name = "T", value_parser = parse_time)]
    pub(crate) as_of: Option<DateTime<Utc>>,

    /// Also print valid files (text format).
    #[arg(long, short)]
    pub(crate) verbose: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub(crate) format: Format,

    /// List the bucket's objects from this S3 Inventory report (`s3://BUCKET/.../manifest.json`,
    /// CSV or Parquet) instead of listing them, for the days up to two days before it was
    /// taken; later days are listed directly. Objects added to earlier days after it was
    /// taken are not seen.
    #[arg(long, value_name = "S3_URL")]
    pub(crate) inventory: Option<String>,

    /// Count valid log files without listing each in the JSON report (`--format json`,
    /// `--output`): for runs of millions of files, where only what is not valid matters.
    #[arg(long)]
    pub(crate) omit_valid_logs: bool,

    /// Also write the whole report (every file's verdict) to FILE or `s3://BUCKET/KEY`: as
    /// text if it ends in `.txt` (the terminal then keeps the verdict block), HTML in
    /// `.html`, JSON Lines in `.jsonl`, else JSON. Ending in `/`, a folder or prefix the
    /// shards share: each writes `shard-INDEX-of-COUNT.json` there.
    #[arg(long, value_name = "FILE|s3://BUCKET/KEY")]
    pub(crate) output: Option<String>,

    /// Validate only shard INDEX of COUNT (`0/8`), a deterministic share of the chains'
    /// locations; or `env`: the index from `AWS_BATCH_JOB_ARRAY_INDEX` (AWS Batch array
    /// jobs) or `JOB_COMPLETION_INDEX` (Kubernetes Indexed Jobs), the count from
    /// `AWS_BATCH_JOB_ARRAY_SIZE` or `--shard-count`. Needs `--as-of` (a mirror has its
    /// own); `merge` joins the shards' `--output` reports. A shard with `--output` exits 0
    /// once its report is written (the run's verdict is `merge`'s), 2 if it could not
    /// finish.
    #[arg(long, value_name = "INDEX/COUNT|env")]
    pub(crate) shard: Option<String>,

    /// The number of shards when the index comes from the engine (implies `--shard env`).
    #[arg(long, value_name = "N")]
    pub(crate) shard_count: Option<u32>,

    #[command(flatten)]
    pub(crate) s3: S3Args,

    /// No progress bar (there is none when stderr is not a terminal).
    #[arg(long)]
    pub(crate) no_progress: bool,
}

/// Which chains and which time range.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct FilterArgs {
    /// From this UTC time (e.g. 2024-03-01T00:00:00Z) [default: the oldest digest].
    #[arg(long, value_name = "T", value_parser = parse_time)]
    pub(crate) start_time: Option<DateTime<Utc>>,

    /// Up to this UTC time [default: the newest digest].
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
}

impl FilterArgs {
    /// The library's selection.
    pub(crate) fn selection(&self) -> Selection {
        let mut selection = Selection::all()
            .accounts(self.account_ids.iter().cloned())
            .regions(self.regions.iter().cloned())
            .between(self.start_time, self.end_time);
        selection.trail_name.clone_from(&self.trail_name);
        selection
    }
}

/// `s3://BUCKET[/PREFIX]`, split.
#[cfg_attr(not(feature = "aws"), allow(dead_code))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct S3Url {
    pub(crate) bucket: String,
    pub(crate) prefix: String,
}

#[cfg_attr(not(feature = "aws"), allow(dead_code))]
impl S3Url {
    /// Splits `s3://BUCKET[/PREFIX]`; `None` for anything else.
    pub(crate) fn parse(url: &str) -> Option<Self> {
        let rest = url.strip_prefix("s3://")?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        (!bucket.is_empty()).then(|| Self {
            bucket: bucket.to_owned(),
            prefix: prefix.trim_matches('/').to_owned(),
        })
    }

    /// [`S3Url::parse`], refusing anything else with what was expected.
    pub(crate) fn parse_or_explain(url: &str) -> anyhow::Result<Self> {
        Self::parse(url)
            .ok_or_else(|| anyhow::anyhow!("invalid S3 URL {url:?}: expected s3://BUCKET[/PREFIX]"))
    }
}

/// How to reach S3.
#[derive(Debug, clap::Args)]
pub(crate) struct S3Args {
    #[command(flatten)]
    pub(crate) aws: AwsArgs,

    /// An S3-compatible endpoint (path-style addressing). `AWS_ENDPOINT_URL_S3` and
    /// `AWS_ENDPOINT_URL_CLOUDTRAIL` are honoured too.
    #[arg(long, value_name = "URL")]
    pub(crate) endpoint_url: Option<String>,

    /// Pay for requests to a requester-pays bucket.
    #[arg(long, value_enum, value_name = "PAYER")]
    pub(crate) request_payer: Option<RequestPayer>,

    /// Refuse a bucket not owned by this account (`x-amz-expected-bucket-owner`).
    #[arg(long, value_name = "ACCOUNT")]
    pub(crate) expected_bucket_owner: Option<String>,

    /// S3 requests in flight at once, at most: the run starts at 64 (or N, if lower),
    /// doubles while answers keep their pace, and halves while S3 throttles.
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub(crate) concurrency: u16,

    /// Seconds to connect to S3.
    #[arg(long, value_name = "S", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub(crate) connect_timeout: u64,

    /// Seconds to wait for an answer to start, and between two parts of a body.
    #[arg(long, value_name = "S", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub(crate) read_timeout: u64,

    /// Seconds a request may take (a body gets more for its size, at 64 KiB/s). What times
    /// out is tried again, then left unchecked.
    #[arg(long, value_name = "S", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86400))]
    pub(crate) timeout: u64,
}

#[derive(Debug, clap::Args)]
pub(crate) struct MirrorArgs {
    /// The bucket to copy: `s3://BUCKET[/PREFIX]`.
    #[arg(value_name = "SOURCE")]
    pub(crate) source: String,

    /// The directory to copy into (created if missing). Objects land at `DIR/KEY` with a
    /// `KEY.meta.json` sidecar; `cloudtrail-digest-manifest.json` lists every object with
    /// its SHA-256.
    #[arg(value_name = "DIR")]
    pub(crate) dir: PathBuf,

    #[command(flatten)]
    pub(crate) filter: FilterArgs,

    #[command(flatten)]
    pub(crate) s3: S3Args,
}

#[derive(Debug, clap::Args)]
pub(crate) struct KeysArgs {
    /// Regions whose keys to fetch (repeatable).
    #[arg(long = "region", value_name = "R", required = true)]
    pub(crate) regions: Vec<String>,

    /// Keys valid from this UTC time.
    #[arg(long, value_name = "T", value_parser = parse_time)]
    pub(crate) start_time: DateTime<Utc>,

    /// Keys valid up to this UTC time [default: now].
    #[arg(long, value_name = "T", value_parser = parse_time)]
    pub(crate) end_time: Option<DateTime<Utc>>,

    /// Write to this file instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,

    #[command(flatten)]
    pub(crate) aws: AwsArgs,
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
    fn parses_s3_urls() {
        let url = |b: &str, p: &str| {
            Some(S3Url {
                bucket: b.into(),
                prefix: p.into(),
            })
        };
        assert_eq!(S3Url::parse("s3://b"), url("b", ""));
        assert_eq!(S3Url::parse("s3://b/p/q/"), url("b", "p/q"));
        assert_eq!(S3Url::parse("s3:///p"), None);
        assert_eq!(S3Url::parse("/tmp"), None);
    }

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
