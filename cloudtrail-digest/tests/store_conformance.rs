//! One conformance suite for every `ObjectStore` backend: the same objects must list and
//! read the same way from memory and from a directory.

use std::collections::BTreeMap;

use cloudtrail_digest::store::{
    FsStore, MemoryStore, Object, ObjectInfo, ObjectStore, StoreErrorKind,
};

const BUCKET: &str = "b";

fn objects() -> Vec<(&'static str, Object)> {
    let meta = BTreeMap::from([("signature".to_owned(), "abcd".to_owned())]);
    vec![
        (
            "AWSLogs/1/CloudTrail/x/a.json.gz",
            Object::new(b"a".to_vec(), None),
        ),
        (
            "AWSLogs/1/CloudTrail/x/b.json.gz",
            Object::new(b"bb".to_vec(), None),
        ),
        (
            "AWSLogs/1/CloudTrail-Digest/x/c.json.gz",
            Object {
                info: ObjectInfo {
                    etag: Some("\"x\"".into()),
                    version_id: Some("v1".into()),
                    last_modified: Some("2024-03-01T01:12:40Z".into()),
                },
                ..Object::new(b"ccc".to_vec(), Some(meta))
            },
        ),
        (
            "AWSLogs/2/CloudTrail/y/d.json.gz",
            Object::new(Vec::new(), None),
        ),
    ]
}

fn conformance(store: &dyn ObjectStore) {
    let all: Vec<String> = objects().iter().map(|(k, _)| (*k).to_owned()).collect();
    let mut sorted = all.clone();
    sorted.sort();
    let keys = |prefix: &str| store.list(BUCKET, prefix).unwrap().keys;
    assert_eq!(keys(""), sorted);
    assert_eq!(keys("AWSLogs/"), sorted);
    assert_eq!(
        keys("AWSLogs/1/CloudTrail/"),
        [
            "AWSLogs/1/CloudTrail/x/a.json.gz",
            "AWSLogs/1/CloudTrail/x/b.json.gz"
        ]
    );
    assert_eq!(
        // `-` sorts before `/`: the digest key comes first.
        keys("AWSLogs/1/CloudTrail"),
        [
            "AWSLogs/1/CloudTrail-Digest/x/c.json.gz",
            "AWSLogs/1/CloudTrail/x/a.json.gz",
            "AWSLogs/1/CloudTrail/x/b.json.gz"
        ]
    );
    assert!(keys("AWSLogs/3/").is_empty());
    for (key, object) in objects() {
        let got = store.get(BUCKET, key).unwrap();
        let want = object.body.into_bytes(u64::MAX).unwrap();
        assert_eq!(got.body.as_bytes(), Some(want.as_slice()), "{key}");
        assert_eq!(got.size, Some(want.len() as u64), "{key}");
        assert_eq!(
            (got.metadata, got.info),
            (object.metadata, object.info),
            "{key}"
        );
    }
    assert_eq!(
        store
            .get(BUCKET, "AWSLogs/1/CloudTrail/x/zzz.json.gz")
            .unwrap_err()
            .kind(),
        StoreErrorKind::NotFound
    );
}

#[test]
fn memory_store() {
    let mut store = MemoryStore::new();
    for (key, object) in objects() {
        store.insert(BUCKET, key, object);
    }
    conformance(&store);
}

#[test]
fn fs_store() {
    let dir = tempfile::tempdir().unwrap();
    for (key, object) in objects() {
        let path = dir.path().join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, object.body.as_bytes().unwrap()).unwrap();
        if let Some(meta) = object.metadata {
            let sidecar = serde_json::json!({
                "ETag": object.info.etag,
                "VersionId": object.info.version_id,
                "LastModified": object.info.last_modified,
                "Metadata": meta,
            });
            std::fs::write(format!("{}.meta.json", path.display()), sidecar.to_string()).unwrap();
        }
    }
    conformance(&FsStore::new(dir.path(), BUCKET).unwrap());
}

#[test]
fn list_prefixes_agree() {
    let mut mem = MemoryStore::new();
    let dir = tempfile::tempdir().unwrap();
    for (key, object) in objects() {
        let path = dir.path().join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, object.body.as_bytes().unwrap()).unwrap();
        mem.insert(BUCKET, key, object);
    }
    let fs = FsStore::new(dir.path(), BUCKET).unwrap();
    for store in [&mem as &dyn ObjectStore, &fs] {
        let folders = |prefix: &str| store.list_prefixes(BUCKET, prefix).unwrap().keys;
        assert_eq!(folders(""), ["AWSLogs/"]);
        assert_eq!(folders("AWSLogs/"), ["AWSLogs/1/", "AWSLogs/2/"]);
        assert_eq!(
            folders("AWSLogs/1/"),
            ["AWSLogs/1/CloudTrail-Digest/", "AWSLogs/1/CloudTrail/"]
        );
        assert!(folders("AWSLogs/9/").is_empty());
    }
}
