//! One conformance suite for every `ObjectStore` backend: the same objects must list and
//! read the same way from memory and from a directory.

use std::collections::BTreeMap;

use cloudtrail_digest::{FsStore, MemoryStore, Object, ObjectInfo, ObjectStore, StoreErrorKind};

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
    assert_eq!(store.list(BUCKET, "", None).unwrap(), sorted);
    assert_eq!(store.list(BUCKET, "AWSLogs/", None).unwrap(), sorted);
    assert_eq!(
        store.list(BUCKET, "AWSLogs/1/CloudTrail/", None).unwrap(),
        [
            "AWSLogs/1/CloudTrail/x/a.json.gz",
            "AWSLogs/1/CloudTrail/x/b.json.gz"
        ]
    );
    assert_eq!(
        store
            .list(
                BUCKET,
                "AWSLogs/1/CloudTrail",
                Some("AWSLogs/1/CloudTrail/x/a.json.gz")
            )
            .unwrap(),
        // `-` sorts before `/`: the digest key precedes the start key.
        ["AWSLogs/1/CloudTrail/x/b.json.gz"]
    );
    assert_eq!(
        store.list(BUCKET, "AWSLogs/1/CloudTrail", None).unwrap(),
        [
            "AWSLogs/1/CloudTrail-Digest/x/c.json.gz",
            "AWSLogs/1/CloudTrail/x/a.json.gz",
            "AWSLogs/1/CloudTrail/x/b.json.gz"
        ]
    );
    assert!(store.list(BUCKET, "AWSLogs/3/", None).unwrap().is_empty());
    for (key, object) in objects() {
        assert_eq!(store.get(BUCKET, key).unwrap(), object, "{key}");
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
        std::fs::write(&path, &object.body).unwrap();
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
        std::fs::write(&path, &object.body).unwrap();
        mem.insert(BUCKET, key, object);
    }
    let fs = FsStore::new(dir.path(), BUCKET).unwrap();
    for store in [&mem as &dyn ObjectStore, &fs] {
        assert_eq!(store.list_prefixes(BUCKET, "").unwrap(), ["AWSLogs/"]);
        assert_eq!(
            store.list_prefixes(BUCKET, "AWSLogs/").unwrap(),
            ["AWSLogs/1/", "AWSLogs/2/"]
        );
        assert_eq!(
            store.list_prefixes(BUCKET, "AWSLogs/1/").unwrap(),
            ["AWSLogs/1/CloudTrail-Digest/", "AWSLogs/1/CloudTrail/"]
        );
        assert!(store
            .list_prefixes(BUCKET, "AWSLogs/9/")
            .unwrap()
            .is_empty());
    }
}
