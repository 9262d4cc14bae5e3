//! Benchmarks of cloudtrail-digest (see `benches/README.md`). The library part holds the
//! shared fixtures: realistic CloudTrail log files from the project's generator.

use cloudtrail_digest_testgen::{gzip, Generator, TrailSpec};

/// A realistic gzip'd CloudTrail log file of about `raw_bytes` inflated bytes, with its
/// inflated content.
pub fn realistic_log(raw_bytes: usize, seed: u64) -> (Vec<u8>, Vec<u8>) {
    let spec = TrailSpec {
        bucket: "bench-bucket".into(),
        prefix: None,
        org_id: None,
        account: "111122223333".into(),
        region: "us-east-1".into(),
        trail: "bench".into(),
        home_region: "us-east-1".into(),
    };
    let mut g = Generator::new(seed);
    // One record is about 1 KB inflated.
    g.records_per_log = (raw_bytes / 1000).max(1);
    let from = chrono::DateTime::from_timestamp(1_709_251_954, 0).unwrap_or_default();
    let (json, _, _) = g.log_body(&spec, from, from + chrono::Duration::minutes(5));
    (gzip(&json), json)
}
