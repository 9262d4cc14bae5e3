//! Benchmark buckets of real log files: the bodies given are stored as they are, in turn,
//! and each digest lists the SHA-256 of what they inflate to.

use std::io::{Read as _, Write as _};

use chrono::TimeZone as _;
use cloudtrail_digest_testgen::{cases, Generator, Hour, TestKey, Tree};
use sha2::{Digest as _, Sha256};

/// A gzip member made as another writer would: a file name in the header, level 9.
fn foreign_gzip(json: &[u8]) -> Vec<u8> {
    let mut enc = flate2::GzBuilder::new()
        .filename("log.json")
        .write(Vec::new(), flate2::Compression::best());
    enc.write_all(json).unwrap();
    enc.finish().unwrap()
}

#[test]
fn real_log_bodies_are_stored_as_they_are_and_listed_by_their_content() {
    let keys = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/keys");
    let key = TestKey::load(&keys, 1).unwrap();
    let contents = [
        &br#"{"Records":[]}"#[..],
        br#"{"Records":[{"eventName":"A"}]}"#,
    ];
    let mut generator = Generator::new(7);
    generator.real_logs = contents.iter().map(|c| foreign_gzip(c)).collect();
    let mut tree = Tree::default();
    let start = chrono::Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap();
    let hours = [Hour {
        logs: 3,
        ..Hour::default()
    }];
    let digests = generator.chain(
        &mut tree,
        &cases::standard_trail(),
        &[&key],
        start,
        &hours,
        None,
    );
    let digest: serde_json::Value = serde_json::from_slice(&digests[0].json).unwrap();
    let listed = digest["logFiles"].as_array().unwrap();
    assert_eq!(listed.len(), 3);
    for (i, (entry, key)) in listed.iter().zip(&digests[0].logs).enumerate() {
        // In turn: the first body again for the third log file.
        let content = contents[i % 2];
        let stored = &tree.objects[key].body;
        assert_eq!(stored, &foreign_gzip(content), "log {i} stored as given");
        let mut inflated = Vec::new();
        flate2::read::GzDecoder::new(stored.as_slice())
            .read_to_end(&mut inflated)
            .unwrap();
        assert_eq!(inflated, content);
        assert_eq!(
            entry["hashValue"].as_str().unwrap(),
            hex::encode(Sha256::digest(content))
        );
    }
}
