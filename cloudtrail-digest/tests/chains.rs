//! Chain walks over generated trees in memory: scenarios larger than the golden cases.

use chrono::{DateTime, Duration, TimeZone as _, Utc};
use std::sync::Arc;

use cloudtrail_digest::report::{DigestStatus, LogStatus, Notice, Report, Severity};
use cloudtrail_digest::store::{FsStore, MemoryStore, Object, ObjectStore};
use cloudtrail_digest::{Discovery, PublicKeySet, Selection, Validator};
use cloudtrail_digest_testgen::cases::standard_trail;
use cloudtrail_digest_testgen::{GenDigest, Generator, Hour, TestKey, TrailSpec, Tree};

fn key() -> TestKey {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/keys");
    TestKey::load(&dir, 1).unwrap()
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 7).unwrap()
}

fn public_keys(k: &TestKey) -> PublicKeySet {
    let list = serde_json::json!({ "PublicKeyList": [k.list_entry(t0() - Duration::days(1), t0() + Duration::days(30))] });
    PublicKeySet::from_list_public_keys_json(list.to_string().as_bytes()).unwrap()
}

fn store_of(tree: &Tree, bucket: &str) -> MemoryStore {
    let mut store = MemoryStore::new();
    for (k, o) in &tree.objects {
        store.insert(bucket, k, Object::new(o.body.clone(), o.metadata.clone()));
    }
    store
}

/// A chain of `spec`; log file names are seeded by the trail's name, so that two trails
/// never write the same log keys.
fn chain(spec: &TrailSpec, hours: &[Hour], tree: &mut Tree, k: &TestKey) -> Vec<GenDigest> {
    let seed = spec.trail.bytes().map(u64::from).sum();
    Generator::new(seed).chain(tree, spec, &[k], t0(), hours, None)
}

fn run<S: ObjectStore + Clone + 'static>(store: &S, bucket: &str, k: &TestKey) -> Report {
    Validator::new(store.clone(), bucket)
        .public_keys(public_keys(k))
        .run()
        .unwrap()
}

/// Every digest key of a bucket copy, from a listing of everything.
fn all_digest_keys(
    store: &FsStore,
    bucket: &str,
) -> std::collections::BTreeMap<cloudtrail_digest::ChainId, Vec<cloudtrail_digest::DigestKey>> {
    let mut out = std::collections::BTreeMap::<_, Vec<_>>::new();
    for key in store.list(bucket, "").unwrap().keys {
        if let Ok(k) = cloudtrail_digest::DigestKey::parse(&key) {
            out.entry(k.chain.clone()).or_default().push(k);
        }
    }
    for keys in out.values_mut() {
        keys.sort_by_key(cloudtrail_digest::DigestKey::to_key);
    }
    out
}

#[test]
fn three_consecutive_deleted_digests_are_three_findings_with_their_keys() {
    let k = key();
    let spec = standard_trail();
    let mut tree = Tree::default();
    let d = chain(
        &spec,
        &vec![
            Hour {
                logs: 1,
                ..Hour::default()
            };
            24
        ],
        &mut tree,
        &k,
    );
    let mut store = store_of(&tree, &spec.bucket);
    for deleted in &d[5..8] {
        store.remove(&spec.bucket, &deleted.key);
    }
    let report = run(&store, &spec.bucket, &k);
    let digests = &report.chains[0].digests;
    let not_found: Vec<(&str, bool)> = digests
        .iter()
        .filter_map(|o| match o.status {
            DigestStatus::NotFound { inferred } => Some((o.key.as_str(), inferred)),
            _ => None,
        })
        .collect();
    assert_eq!(
        not_found,
        [
            (d[7].key.as_str(), false),
            (d[6].key.as_str(), true),
            (d[5].key.as_str(), true)
        ]
    );
    assert_eq!(report.chains[0].digest_counts.valid, 21);
    assert_eq!(report.chains[0].digest_counts.invalid, 3);
    assert_eq!(report.chains[0].log_counts.valid, 21);
    assert_eq!(report.severity(), Severity::Invalid);
}

#[test]
fn a_backfill_digest_without_its_generation_timestamp_is_invalid_format() {
    let k = key();
    let spec = standard_trail();
    let mut tree = Tree::default();
    let b = Generator::new(3).chain(
        &mut tree,
        &spec,
        &[&k],
        t0(),
        &[Hour::default(), Hour::default()],
        Some(t0() + Duration::hours(9)),
    );
    let mut store = store_of(&tree, &spec.bucket);
    store
        .object_mut(&spec.bucket, &b[1].key)
        .unwrap()
        .metadata
        .as_mut()
        .unwrap()
        .remove("backfill-generation-timestamp");
    let report = run(&store, &spec.bucket, &k);
    let c = &report.chains[0];
    assert_eq!(c.backfill_digest_counts.valid, 1);
    assert_eq!(c.backfill_digest_counts.invalid, 1);
    assert_eq!(c.digest_counts.total(), 0);
    let bad = c.digests.iter().find(|o| o.key == b[1].key).unwrap();
    assert!(bad.backfill);
    assert_eq!(
        bad.status,
        DigestStatus::InvalidFormat {
            problem: cloudtrail_digest::report::FormatProblem::NoBackfillTimestamp
        }
    );
}

#[test]
fn two_trails_in_one_region_are_two_chains() {
    let k = key();
    let first = standard_trail();
    let second = TrailSpec {
        trail: "data-events".into(),
        ..standard_trail()
    };
    let mut tree = Tree::default();
    chain(&first, &[Hour::default(); 2], &mut tree, &k);
    chain(&second, &[Hour::default(); 3], &mut tree, &k);
    let report = run(&store_of(&tree, &first.bucket), &first.bucket, &k);
    let names: Vec<(&str, u64)> = report
        .chains
        .iter()
        .map(|c| (c.chain.trail_name.as_str(), c.digest_counts.valid))
        .collect();
    assert_eq!(names, [("data-events", 3), ("management-events", 2)]);
    assert_eq!(report.severity(), Severity::Valid);
}

#[test]
fn a_log_in_a_bucket_the_store_lacks_is_unchecked() {
    let k = key();
    let spec = standard_trail();
    let mut tree = Tree::default();
    let d = chain(
        &spec,
        &[Hour {
            logs: 1,
            ..Hour::default()
        }],
        &mut tree,
        &k,
    );
    let dir = tempfile::tempdir().unwrap();
    tree.write(dir.path()).unwrap();
    // The same tree read as a copy of another bucket: digests are "moved"; read as the right
    // bucket, valid. A log naming another bucket is unchecked, never valid or tampered.
    let store = FsStore::new(dir.path(), &spec.bucket).unwrap();
    let report = run(&store, &spec.bucket, &k);
    assert_eq!(report.severity(), Severity::Valid);
    assert_eq!(report.chains[0].digests[0].logs[0].key, d[0].logs[0]);

    let mut mem = store_of(&tree, &spec.bucket);
    let log = mem.remove(&spec.bucket, &d[0].logs[0]).unwrap();
    mem.insert("other-bucket", &d[0].logs[0], log);
    let report = run(&mem, &spec.bucket, &k);
    assert_eq!(
        report.chains[0].digests[0].logs[0].status,
        LogStatus::NotFound
    );
}

#[test]
fn discovery_by_folders_finds_what_a_full_listing_finds() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/cases");
    for (case, bucket, prefix) in [
        ("org-trail", "example-org-bucket", ""),
        ("key-prefix", "example-trail-bucket", "cloudtrail/prod"),
        ("backfill-digests", "example-trail-bucket", ""),
    ] {
        let store = FsStore::new(dir.join(case).join(bucket), bucket).unwrap();
        let full = all_digest_keys(&store, bucket);
        let by_folders = Discovery::find(&store, bucket, prefix, &Selection::default()).unwrap();
        assert_eq!(by_folders.chains, full, "{case}");
        assert!(!full.is_empty());
    }
    let store = FsStore::new(
        dir.join("org-trail/example-org-bucket"),
        "example-org-bucket",
    )
    .unwrap();
    let only = Selection::all()
        .accounts(["444455556666"])
        .regions(["eu-west-1"]);
    let found = Discovery::find(&store, "example-org-bucket", "", &only).unwrap();
    let chains: Vec<(&str, &str)> = found
        .chains
        .keys()
        .map(|c| (c.location.account_id.as_str(), c.location.region.as_str()))
        .collect();
    assert_eq!(chains, [("444455556666", "eu-west-1")]);
}

#[test]
fn discovery_finds_trail_prefixes_under_the_given_one() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/cases/key-prefix/example-trail-bucket");
    let store = FsStore::new(&dir, "example-trail-bucket").unwrap();
    for prefix in ["", "cloudtrail", "cloudtrail/prod", "cloudtrail/prod/"] {
        let found = Discovery::find(
            &store,
            "example-trail-bucket",
            prefix,
            &Selection::default(),
        )
        .unwrap();
        let prefixes: Vec<Option<&str>> = found
            .chains
            .keys()
            .map(|c| c.location.prefix.as_deref())
            .collect();
        assert_eq!(prefixes, [Some("cloudtrail/prod")], "{prefix:?}");
    }
    let none = Discovery::find(
        &store,
        "example-trail-bucket",
        "elsewhere",
        &Selection::default(),
    )
    .unwrap();
    assert!(none.chains.is_empty());
}

#[test]
fn a_link_cycle_among_unverifiable_digests_terminates_visiting_each_once() {
    let k = key();
    let spec = standard_trail();
    let mut tree = Tree::default();
    let d = chain(&spec, &[Hour::default(); 2], &mut tree, &k);
    // A copy without metadata where the newest digest names no signature for its
    // predecessor, and the predecessor links back to the newest: D1 -> D0 -> D1.
    let d1 = String::from_utf8(d[1].json.clone()).unwrap();
    let d1 = d1.replace(
        &format!("\"previousDigestSignature\":\"{}\"", d[0].signature),
        "\"previousDigestSignature\":null",
    );
    let d0 = String::from_utf8(d[0].json.clone()).unwrap().replacen(
        "\"previousDigestS3Bucket\":null,\"previousDigestS3Object\":null",
        &format!(
            "\"previousDigestS3Bucket\":\"{}\",\"previousDigestS3Object\":\"{}\"",
            spec.bucket,
            d[1].key.replace('/', "\\/")
        ),
        1,
    );
    assert_ne!(d0.as_bytes(), d[0].json.as_slice(), "the edit must apply");
    let mut store = MemoryStore::new();
    for (key, json) in [(&d[0].key, d0), (&d[1].key, d1)] {
        store.insert(
            &spec.bucket,
            key,
            Object::new(cloudtrail_digest_testgen::gzip(json.as_bytes()), None),
        );
    }
    // A regression would loop forever: fail instead of hanging.
    let (tx, rx) = std::sync::mpsc::channel();
    let bucket = spec.bucket.clone();
    std::thread::spawn(move || {
        let k = key();
        let _ = tx.send(run(&store, &bucket, &k));
    });
    let report = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the walk did not terminate");
    let keys: Vec<&str> = report.chains[0]
        .digests
        .iter()
        .map(|o| o.key.as_str())
        .collect();
    assert_eq!(
        keys,
        [d[1].key.as_str(), d[0].key.as_str()],
        "each digest once, and the walk ends"
    );
    assert!(report.chains[0]
        .digests
        .iter()
        .all(|o| matches!(o.status, DigestStatus::Unverifiable { .. })));
}

#[test]
fn a_planted_ancient_key_cannot_make_inference_unbounded() {
    let k = key();
    let spec = standard_trail();
    let mut tree = Tree::default();
    let d = chain(&spec, &[Hour::default(); 3], &mut tree, &k);
    let mut store = store_of(&tree, &spec.bucket);
    let ancient = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 7).unwrap();
    let planted = spec.digest_key(ancient, false);
    let copy = store.remove(&spec.bucket, &d[0].key).unwrap();
    store.insert(&spec.bucket, &planted, copy);
    let store = Arc::new(store);
    let validator = Validator::with_store(store, &spec.bucket).public_keys(public_keys(&k));

    // Over the whole range: ten years of hours named one by one, the rest one finding.
    let report = validator.run().unwrap();
    let c = &report.chains[0];
    let inferred = c
        .digests
        .iter()
        .filter(|o| o.status == DigestStatus::NotFound { inferred: true })
        .count();
    assert_eq!(inferred, 24 * 3653);
    assert!(c
        .notices
        .iter()
        .any(|n| matches!(n, Notice::MissingDigests { .. })));
    assert_eq!(c.severity(), Severity::Invalid);

    // Over a requested range, nothing before its start is inferred.
    let range = Selection::all().between(Some(d[1].end - Duration::hours(1)), None);
    let report = validator.selection(range).run().unwrap();
    let inferred = report.chains[0]
        .digests
        .iter()
        .filter(|o| o.status == DigestStatus::NotFound { inferred: true })
        .count();
    assert_eq!(inferred, 0);
}

/// A multi-region trail over us-east-1 and us-west-2, six hours each with `logs` log files
/// an hour; the newest three digests of us-east-1 deleted (their log files kept).
fn east_stops_while_west_goes_on(logs: usize) -> (Vec<GenDigest>, Report) {
    let k = key();
    let east = standard_trail();
    let west = TrailSpec {
        region: "us-west-2".into(),
        ..standard_trail()
    };
    let hours = [Hour {
        logs,
        ..Hour::default()
    }; 6];
    let mut tree = Tree::default();
    let gone = chain(&east, &hours, &mut tree, &k);
    chain(&west, &hours, &mut tree, &k);
    for d in &gone[3..] {
        tree.objects.remove(&d.key);
    }
    let report = run(&store_of(&tree, &east.bucket), &east.bucket, &k);
    (gone, report)
}

fn region<'r>(report: &'r Report, name: &str) -> &'r cloudtrail_digest::report::ChainReport {
    report
        .chains
        .iter()
        .find(|c| c.chain.location.region == name)
        .unwrap()
}

fn inferred(chain: &cloudtrail_digest::report::ChainReport) -> Vec<&str> {
    chain
        .digests
        .iter()
        .filter(|d| d.status == DigestStatus::NotFound { inferred: true })
        .map(|d| d.key.as_str())
        .collect()
}

#[test]
fn a_region_whose_digests_stop_while_the_trails_go_on_is_not_covered_not_tampered() {
    use cloudtrail_digest::report::{CoverageReason, CoverageState};
    // No log file says this region still delivered: it may have been removed from the
    // trail, or disabled. Not covered, with that explanation; never tampered.
    let (gone, report) = east_stops_while_west_goes_on(0);
    let east = region(&report, "us-east-1");
    assert!(inferred(east).is_empty());
    let last = gone[2].end;
    let span = east
        .coverage
        .iter()
        .find(|s| s.state == CoverageState::NotCovered)
        .expect("a span not covered after the newest digest");
    assert_eq!(span.from, last);
    assert!(
        matches!(span.reason, Some(CoverageReason::RegionStops { last_digest, .. }) if last_digest == last),
        "{span:?}"
    );
    assert_eq!(report.severity(), Severity::Incomplete);
    assert_eq!(region(&report, "us-west-2").severity(), Severity::Valid);
}

#[test]
fn a_regions_log_files_going_on_while_the_trail_validates_prove_its_digests_deleted() {
    // us-west-2's digests show validation on to hour 6; us-east-1's log files go on to
    // 05:05: the digest ending at hour 4 was due an hour before that log was delivered.
    let (gone, report) = east_stops_while_west_goes_on(1);
    let east = region(&report, "us-east-1");
    assert_eq!(inferred(east), [gone[3].key.as_str()]);
    assert!(east
        .notices
        .iter()
        .any(|n| matches!(n, Notice::NewestDeleted { count: 1, .. })));
    assert_eq!(report.severity(), Severity::Invalid);
}

/// A store that counts the reads of each key.
#[derive(Debug)]
struct Counting {
    inner: MemoryStore,
    gets: std::sync::Mutex<std::collections::BTreeMap<String, usize>>,
}

impl ObjectStore for Counting {
    fn list(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> Result<cloudtrail_digest::store::Listing, cloudtrail_digest::store::StoreError> {
        self.inner.list(bucket, prefix)
    }

    fn get(&self, bucket: &str, key: &str) -> Result<Object, cloudtrail_digest::store::StoreError> {
        *self.gets.lock().unwrap().entry(key.to_owned()).or_default() += 1;
        self.inner.get(bucket, key)
    }
}

#[test]
fn a_long_chain_reads_each_digest_and_log_once() {
    let k = key();
    let spec = standard_trail();
    let mut tree = Tree::default();
    // More digests than are fetched ahead at once, with a deleted one mid-chain (the walk
    // then resumes from the listing).
    let d = chain(&spec, &vec![Hour::default(); 100], &mut tree, &k);
    tree.objects.remove(&d[60].key);
    let store = Arc::new(Counting {
        inner: store_of(&tree, &spec.bucket),
        gets: std::sync::Mutex::default(),
    });
    let report = run(&store, &spec.bucket, &k);
    assert_eq!(report.chains[0].digest_counts.valid, 99);
    let gets = store.gets.lock().unwrap().clone();
    let read_twice: Vec<_> = gets.iter().filter(|(_, n)| **n > 1).collect();
    assert!(read_twice.is_empty(), "read more than once: {read_twice:?}");
    // Every digest (the deleted one was asked for), and the logs of the verified ones.
    let logs: usize = d.iter().map(|x| x.logs.len()).sum();
    assert_eq!(gets.len(), 100 + logs - d[60].logs.len());
}

#[test]
fn digests_fetched_ahead_are_held_within_a_byte_budget() {
    use std::io::Write as _;
    let k = key();
    let spec = standard_trail();
    let mut tree = Tree::default();
    let d = chain(&spec, &vec![Hour::default(); 24], &mut tree, &k);
    // Each digest stored with a 5 MiB gzip comment: the same signed content, a large
    // object (as a planted one could be).
    let comment = "c".repeat(5 << 20);
    for digest in &d {
        let mut enc = flate2::GzBuilder::new()
            .comment(comment.as_bytes())
            .write(Vec::new(), flate2::Compression::fast());
        enc.write_all(&digest.json).unwrap();
        tree.objects.get_mut(&digest.key).unwrap().body = enc.finish().unwrap();
    }
    let store = Arc::new(Counting {
        inner: store_of(&tree, &spec.bucket),
        gets: std::sync::Mutex::default(),
    });
    let report = run(&store, &spec.bucket, &k);
    assert_eq!(report.chains[0].digest_counts.valid, 24);
    let gets = store.gets.lock().unwrap().clone();
    let digest_reads: Vec<usize> = d.iter().map(|x| gets[&x.key]).collect();
    // 31 fetched ahead would hold 155 MiB; within 32 MiB most are dropped and read again.
    assert!(digest_reads.contains(&2), "{digest_reads:?}");
    assert!(digest_reads.iter().all(|n| *n <= 2), "{digest_reads:?}");
}
