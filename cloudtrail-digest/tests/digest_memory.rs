//! A digest costs at most about twice its inflated size to read: it is parsed into typed
//! fields, never into a generic JSON tree. Measured as this test process's peak resident
//! memory (Linux: `VmHWM` after resetting it through `/proc/self/clear_refs`), the only
//! test of its binary so that nothing else allocates meanwhile.

#![cfg(target_os = "linux")]

use std::fmt::Write as _;
use std::io::Write as _;

use cloudtrail_digest::Digest;

/// A field of `/proc/self/status`, in bytes.
fn status_bytes(field: &str) -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap();
    let kb: usize = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

#[test]
fn reading_a_digest_costs_at_most_about_twice_its_inflated_size() {
    let entries = 60_000;
    let mut json = String::from(
        r#"{"awsAccountId":"111122223333","digestStartTime":"2024-03-01T00:12:34Z","digestEndTime":"2024-03-01T01:12:34Z","digestS3Bucket":"b","digestS3Object":"k","digestPublicKeyFingerprint":"00000000000000000000000000000000","digestSignatureAlgorithm":"SHA256withRSA","newestEventTime":null,"oldestEventTime":null,"previousDigestS3Bucket":null,"previousDigestS3Object":null,"previousDigestHashValue":null,"previousDigestHashAlgorithm":null,"previousDigestSignature":null,"logFiles":["#,
    );
    for i in 0..entries {
        if i > 0 {
            json.push(',');
        }
        write!(
            json,
            r#"{{"s3Bucket":"example-trail-bucket","s3Object":"AWSLogs\/111122223333\/CloudTrail\/us-east-1\/2024\/03\/01\/111122223333_CloudTrail_us-east-1_20240301T0017Z_{i:016}.json.gz","hashValue":"{i:064x}","hashAlgorithm":"SHA-256","newestEventTime":"2024-03-01T00:16:59Z","oldestEventTime":"2024-03-01T00:12:01Z"}}"#
        )
        .unwrap();
    }
    json.push_str("]}");
    let inflated = json.len();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(json.as_bytes()).unwrap();
    let gz = enc.finish().unwrap();
    drop(json);
    // Reset the peak to what the process holds now, then read the digest.
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let before = status_bytes("VmRSS:");
    let digest = Digest::from_gzip(&gz).unwrap();
    let peak = status_bytes("VmHWM:");
    assert_eq!(digest.file().log_file_count(), entries);
    let cost = peak.saturating_sub(before);
    println!("inflated {inflated} bytes, reading cost {cost} bytes");
    assert!(
        cost <= inflated * 5 / 2,
        "reading a digest of {inflated} bytes cost {cost} bytes"
    );
}
