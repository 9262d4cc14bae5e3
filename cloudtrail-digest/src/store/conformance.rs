//! One contract for every store (feature `testing`): a suite a store's tests run against
//! a store holding [`fixture`] in [`BUCKET`]. Each check panics naming the rule broken.
//!
//! ```
//! use cloudtrail_digest::store::conformance::{check_store, fixture, BUCKET};
//! use cloudtrail_digest::store::MemoryStore;
//!
//! let mut store = MemoryStore::new();
//! for (key, object) in fixture() {
//!     store.insert(BUCKET, &key, object);
//! }
//! check_store(&store);
//! ```

// A test suite: every check panics when the store breaks the contract.
#![allow(clippy::missing_panics_doc)]

use std::collections::BTreeMap;

use super::object::{Object, ObjectInfo, StoreErrorKind};
use super::object_store::ObjectStore;

/// The bucket the store under test holds the fixture in.
pub const BUCKET: &str = "conformance-bucket";

/// A bucket no store under test holds.
pub const ABSENT_BUCKET: &str = "conformance-absent-bucket";

/// A key of the fixture's bucket that does not exist.
const ABSENT_KEY: &str = "AWSLogs/111122223333/CloudTrail/us-east-1/absent.json.gz";

/// The objects the store under test holds in [`BUCKET`]: log and digest keys, one with S3
/// metadata and identifiers, one empty, one whose name needs escaping in a URL, and
/// folders whose names sort around `/` (`CloudTrail-Digest/` before `CloudTrail/`).
pub fn fixture() -> Vec<(String, Object)> {
    let metadata = BTreeMap::from([
        ("signature".to_owned(), "0a0b".to_owned()),
        ("signature-algorithm".to_owned(), "SHA256withRSA".to_owned()),
    ]);
    let digest = Object {
        info: ObjectInfo {
            etag: Some("\"0123456789abcdef0123456789abcdef\"".into()),
            version_id: Some("v1".into()),
            last_modified: Some("2024-03-01T01:12:40Z".into()),
        },
        ..Object::new(b"digest".to_vec(), Some(metadata))
    };
    let log = |body: &[u8]| Object::new(body.to_vec(), None);
    vec![
        (
            "AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/01/a.json.gz".into(),
            log(b"a"),
        ),
        (
            "AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/01/b.json.gz".into(),
            log(b"bb"),
        ),
        (
            "AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/02/c d+é.json.gz".into(),
            log(b"ccc"),
        ),
        (
            "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/03/01/d.json.gz".into(),
            digest,
        ),
        (
            "AWSLogs/444455556666/CloudTrail/eu-west-1/2024/03/01/e.json.gz".into(),
            log(b""),
        ),
    ]
}

fn sorted_keys(prefix: &str) -> Vec<String> {
    let mut keys: Vec<String> = fixture()
        .into_iter()
        .map(|(k, _)| k)
        .filter(|k| k.starts_with(prefix))
        .collect();
    keys.sort();
    keys
}

/// Runs every check of the contract.
pub fn check_store(store: &dyn ObjectStore) {
    listings(store);
    folders(store);
    reads(store);
    reads_at_once(store);
    absent_bucket(store);
}

/// `list`: every key under a prefix, in S3's lexicographic order, nothing else.
pub fn listings(store: &dyn ObjectStore) {
    for prefix in [
        "",
        "AWSLogs/",
        "AWSLogs/111122223333/CloudTrail",
        "AWSLogs/111122223333/CloudTrail/",
        "AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/02/c d",
        "AWSLogs/999999999999/",
    ] {
        let listed = store
            .list(BUCKET, prefix)
            .unwrap_or_else(|e| panic!("list {prefix:?}: {e}"));
        assert_eq!(listed.keys, sorted_keys(prefix), "list {prefix:?}");
        assert!(
            listed.problems.is_empty(),
            "list {prefix:?}: {:?}",
            listed.problems
        );
    }
}

/// `list_prefixes`: the folders directly under a prefix, each once, sorted.
pub fn folders(store: &dyn ObjectStore) {
    let folders = |prefix: &str| {
        store
            .list_prefixes(BUCKET, prefix)
            .unwrap_or_else(|e| panic!("list_prefixes {prefix:?}: {e}"))
            .keys
    };
    assert_eq!(folders(""), ["AWSLogs/"]);
    assert_eq!(
        folders("AWSLogs/"),
        ["AWSLogs/111122223333/", "AWSLogs/444455556666/"]
    );
    assert_eq!(
        folders("AWSLogs/111122223333/"),
        [
            "AWSLogs/111122223333/CloudTrail-Digest/",
            "AWSLogs/111122223333/CloudTrail/"
        ]
    );
    assert_eq!(
        folders("AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/"),
        [
            "AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/01/",
            "AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/02/"
        ]
    );
    assert!(folders("AWSLogs/999999999999/").is_empty());
}

/// Compares what a store read with what it holds: the exact bytes, their size, the
/// metadata (a store that knows none says `None` or an empty map only for an object that
/// has none), and the identifiers the store keeps.
fn same_object(key: &str, got: Object, want: Object) {
    let want_body = want.body.into_bytes(u64::MAX).unwrap_or_default();
    let got_body = got
        .body
        .into_bytes(u64::MAX)
        .unwrap_or_else(|e| panic!("get {key:?}: the body does not read: {e}"));
    assert_eq!(got_body, want_body, "get {key:?}: body");
    if let Some(size) = got.size {
        assert_eq!(size, want_body.len() as u64, "get {key:?}: size");
    }
    match &want.metadata {
        Some(m) => assert_eq!(got.metadata.as_ref(), Some(m), "get {key:?}: metadata"),
        None => assert!(
            got.metadata.as_ref().is_none_or(BTreeMap::is_empty),
            "get {key:?}: metadata {:?} on an object that has none",
            got.metadata
        ),
    }
}

/// The S3 identifiers a store keeps of its own (a local copy's sidecars, memory) read back
/// exactly. A server assigns its own, so this is not part of [`check_store`].
pub fn identifiers_kept(store: &dyn ObjectStore) {
    for (key, want) in fixture() {
        let got = store
            .get(BUCKET, &key)
            .unwrap_or_else(|e| panic!("get {key:?}: {e}"));
        if want.metadata.is_some() {
            assert_eq!(got.info, want.info, "get {key:?}: identifiers");
        }
    }
}

/// `get`: each object exactly as held; a missing key is `NotFound`, the only kind that
/// proves absence.
pub fn reads(store: &dyn ObjectStore) {
    for (key, want) in fixture() {
        let got = store
            .get(BUCKET, &key)
            .unwrap_or_else(|e| panic!("get {key:?}: {e}"));
        same_object(&key, got, want);
    }
    let missing = store.get(BUCKET, ABSENT_KEY).map(|_| ()).unwrap_err();
    assert_eq!(
        missing.kind(),
        StoreErrorKind::NotFound,
        "get a missing key: {missing}"
    );
}

/// `get_each`: every request answered exactly once (the same key asked twice, a missing
/// key), with what `get` gives.
pub fn reads_at_once(store: &dyn ObjectStore) {
    let fixture = fixture();
    let mut requests: Vec<(&str, &str)> =
        fixture.iter().map(|(k, _)| (BUCKET, k.as_str())).collect();
    requests.push((BUCKET, ABSENT_KEY));
    requests.push(requests[0]);
    let answers =
        std::sync::Mutex::new((0..requests.len()).map(|_| Vec::new()).collect::<Vec<_>>());
    store.get_each(&requests, &|i, result| {
        if let Ok(mut answers) = answers.lock() {
            answers[i].push(result);
        }
    });
    let mut answers = answers.into_inner().unwrap_or_default();
    for (i, (_, key)) in requests.iter().enumerate() {
        assert_eq!(
            answers[i].len(),
            1,
            "get_each {key:?}: answered {} times",
            answers[i].len()
        );
        let result = answers[i].remove(0);
        match fixture.iter().find(|(k, _)| k == key) {
            Some(_) => {
                let got = result.unwrap_or_else(|e| panic!("get_each {key:?}: {e}"));
                let want = fixture_object(key);
                same_object(key, got, want);
            }
            None => assert_eq!(
                result.map(|_| ()).unwrap_err().kind(),
                StoreErrorKind::NotFound,
                "get_each {key:?}"
            ),
        }
    }
}

fn fixture_object(key: &str) -> Object {
    let found = fixture().into_iter().find(|(k, _)| k == key);
    match found {
        Some((_, object)) => object,
        None => panic!("{key:?} is not in the fixture"),
    }
}

/// A bucket the store does not hold: listing and reading fail, and never as `NotFound`
/// (which would make every file of it a deletion).
pub fn absent_bucket(store: &dyn ObjectStore) {
    let listed = store.list(ABSENT_BUCKET, "");
    assert!(listed.is_err(), "list an absent bucket: {listed:?}");
    let read = store.get(ABSENT_BUCKET, ABSENT_KEY).map(|_| ());
    let Err(error) = read else {
        panic!("get from an absent bucket succeeded");
    };
    assert_ne!(
        error.kind(),
        StoreErrorKind::NotFound,
        "get from an absent bucket: {error}"
    );
}
