//! `cloudtrail-digest-testgen`: writes the golden cases (and keys) used by the tests.
//!
//! ```text
//! cargo run -p cloudtrail-digest-testgen -- cases testdata/keys testdata/cases
//! cargo run --release -p cloudtrail-digest-testgen -- keys testdata/keys   # once; test-only keys
//! ```

use std::path::PathBuf;

use anyhow::{bail, Context as _, Result};
use cloudtrail_digest_testgen::{cases, DirSink, Generator, Hour, TestKey};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["keys", dir] => {
            let dir = PathBuf::from(dir);
            std::fs::create_dir_all(&dir)?;
            for n in 1..=2 {
                let pem = TestKey::generate_pem(0x1FED_F00D + n)?;
                let path = dir.join(format!("test-only-key-{n}.pem"));
                std::fs::write(&path, pem)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            Ok(())
        }
        ["cases", keys, out] => cases::write_all(&PathBuf::from(keys), &PathBuf::from(out)),
        ["bench", keys, out, logs, per_digest, log_kb] => bench(
            &PathBuf::from(keys),
            &PathBuf::from(out),
            logs.parse()?,
            per_digest.parse()?,
            &LogSource::Generated(log_kb.parse()?),
        ),
        ["bench-real", keys, out, logs, per_digest, real] => bench(
            &PathBuf::from(keys),
            &PathBuf::from(out),
            logs.parse()?,
            per_digest.parse()?,
            &LogSource::Real(PathBuf::from(real)),
        ),
        ["bench-org", keys, out, accounts, regions, hours, per_hour] => bench_org(
            &PathBuf::from(keys),
            &PathBuf::from(out),
            accounts.parse()?,
            regions.parse()?,
            hours.parse()?,
            per_hour.parse()?,
        ),
        _ => bail!(
            "usage: cloudtrail-digest-testgen keys DIR | cases KEYDIR OUTDIR | bench KEYDIR OUTDIR LOGS LOGS_PER_DIGEST LOG_KB | bench-real KEYDIR OUTDIR LOGS LOGS_PER_DIGEST REAL_LOGS_DIR | bench-org KEYDIR OUTDIR ACCOUNTS REGIONS HOURS LOGS_PER_HOUR"
        ),
    }
}

/// The `*.json.gz` files of `dir`, in name order.
fn real_logs(dir: &std::path::Path) -> Result<Vec<Vec<u8>>> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("{}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".json.gz"))
        .collect();
    names.sort();
    anyhow::ensure!(!names.is_empty(), "{}: no *.json.gz files", dir.display());
    names
        .iter()
        .map(|p| std::fs::read(p).with_context(|| format!("{}", p.display())))
        .collect()
}

/// `out/public-keys.json`: `key`, valid from a day before `start` for ten years.
fn write_public_keys(
    out: &std::path::Path,
    key: &TestKey,
    start: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    let list = serde_json::json!({ "PublicKeyList": [key.list_entry(start - chrono::Duration::days(1), start + chrono::Duration::days(3650))] });
    std::fs::write(
        out.join("public-keys.json"),
        serde_json::to_string_pretty(&list)?,
    )?;
    Ok(())
}

/// Writes a signed organization trail's bucket, `accounts` × `regions` chains of `hours`
/// hourly digests listing `per_hour` log files each (about 20 KB inflated), under
/// `out/example-org-bucket`, with `out/public-keys.json`: the shape sharded runs split.
fn bench_org(
    keys: &std::path::Path,
    out: &std::path::Path,
    accounts: usize,
    regions: usize,
    hours: usize,
    per_hour: usize,
) -> Result<()> {
    const REGIONS: [&str; 17] = [
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
        "ca-central-1",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "eu-central-1",
        "eu-north-1",
        "ap-south-1",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-southeast-1",
        "ap-southeast-2",
        "sa-east-1",
    ];
    let key = TestKey::load(keys, 1)?;
    let start = chrono::DateTime::from_timestamp(1_709_251_954, 0).context("time")?;
    let plan = vec![
        Hour {
            logs: per_hour,
            ..Hour::default()
        };
        hours
    ];
    let bucket = "example-org-bucket";
    let mut sink = DirSink {
        root: out.join(bucket),
        error: None,
    };
    for a in 0..accounts {
        for (r, region) in REGIONS.iter().cycle().take(regions).enumerate() {
            let spec = cloudtrail_digest_testgen::TrailSpec {
                bucket: bucket.into(),
                prefix: None,
                org_id: Some("o-benchorg001".into()),
                account: format!("{:012}", 100_000_000_000 + a),
                region: (*region).into(),
                trail: "org-trail".into(),
                home_region: "us-east-1".into(),
            };
            let mut generator = Generator::new((a * 100 + r) as u64);
            generator.records_per_log = 20;
            generator.chain(&mut sink, &spec, &[&key], start, &plan, None);
        }
    }
    if let Some(e) = sink.error {
        return Err(e);
    }
    write_public_keys(out, &key, start)
}

/// Writes a signed bucket of `logs` log files of about `log_kb` KB inflated each,
/// `per_digest` per hourly digest, under `out/example-trail-bucket`, with `out/public-keys.json`.
/// Where a benchmark bucket's log files come from.
enum LogSource {
    /// Generated, of about this many KB inflated.
    Generated(usize),
    /// The `*.json.gz` files of this folder as they are (e.g. files AWS wrote), in name
    /// order, in turn.
    Real(PathBuf),
}

fn bench(
    keys: &std::path::Path,
    out: &std::path::Path,
    logs: usize,
    per_digest: usize,
    source: &LogSource,
) -> Result<()> {
    let key = TestKey::load(keys, 1)?;
    let spec = cases::standard_trail();
    let hours = logs.div_ceil(per_digest.max(1));
    let plan: Vec<Hour> = (0..hours)
        .map(|h| Hour {
            logs: per_digest.min(logs - h * per_digest),
            ..Hour::default()
        })
        .collect();
    let start = chrono::DateTime::from_timestamp(1_709_251_954, 0).context("time")?;
    let mut sink = DirSink {
        root: out.join(&spec.bucket),
        error: None,
    };
    let mut generator = Generator::new(2024);
    match source {
        // One generated record is about 1 KB inflated.
        LogSource::Generated(log_kb) => generator.records_per_log = (*log_kb).max(1),
        LogSource::Real(dir) => generator.real_logs = real_logs(dir)?,
    }
    generator.chain(&mut sink, &spec, &[&key], start, &plan, None);
    if let Some(e) = sink.error {
        return Err(e);
    }
    write_public_keys(out, &key, start)
}
