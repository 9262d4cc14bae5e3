//! The local copy store over ordinary and hostile trees.

use super::*;

fn store() -> (tempfile::TempDir, FsStore) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("bucket");
    std::fs::create_dir_all(root.join("AWSLogs/a")).unwrap();
    std::fs::write(root.join("AWSLogs/a/x.json.gz"), b"x").unwrap();
    std::fs::write(
        root.join("AWSLogs/a/x.json.gz.meta.json"),
        br#"{"ETag":"\"e\"","Metadata":{"signature":"ab","signature-algorithm":"SHA256withRSA"}}"#,
    )
    .unwrap();
    std::fs::write(root.join("AWSLogs/a/y.json.gz"), b"y").unwrap();
    std::fs::write(dir.path().join("secret"), b"s").unwrap();
    let s = FsStore::new(&root, "b").unwrap();
    (dir, s)
}

fn bytes(o: &Object) -> &[u8] {
    o.body.as_bytes().unwrap()
}

fn symlink(target: impl AsRef<Path>, link: impl AsRef<Path>) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

#[test]
fn lists_and_gets_with_sidecars() {
    let (_d, s) = store();
    assert_eq!(
        s.list("b", "AWSLogs/").unwrap().keys,
        ["AWSLogs/a/x.json.gz", "AWSLogs/a/y.json.gz"]
    );
    let x = s.get("b", "AWSLogs/a/x.json.gz").unwrap();
    assert_eq!(bytes(&x), b"x");
    assert_eq!(x.size, Some(1));
    assert_eq!(x.metadata.unwrap()["signature"], "ab");
    assert_eq!(s.get("b", "AWSLogs/a/y.json.gz").unwrap().metadata, None);
    assert_eq!(
        s.get("b", "AWSLogs/a/z.json.gz").unwrap_err().kind(),
        StoreErrorKind::NotFound
    );
    assert_eq!(
        s.get("b", "AWSLogs/nowhere/z.json.gz").unwrap_err().kind(),
        StoreErrorKind::NotFound
    );
    assert_eq!(
        s.get("other", "AWSLogs/a/x.json.gz").unwrap_err().kind(),
        StoreErrorKind::Other
    );
    assert!(s.list("b", "AWSLogs/nothing/").unwrap().keys.is_empty());
}

#[test]
fn refuses_keys_escaping_the_root() {
    let (d, s) = store();
    for key in [
        "../secret",
        "AWSLogs/../../secret",
        "/etc/passwd",
        "AWSLogs//x",
        "AWSLogs/a/..",
        "",
    ] {
        assert_eq!(
            s.get("b", key).unwrap_err().kind(),
            StoreErrorKind::OutsideRoot,
            "{key}"
        );
    }
    symlink(d.path().join("secret"), s.root().join("AWSLogs/a/link"));
    assert_eq!(
        s.get("b", "AWSLogs/a/link").unwrap_err().kind(),
        StoreErrorKind::OutsideRoot
    );
    // A folder symlink leading out, next to a folder already open.
    let outside = d.path().join("outside-dir");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("x.json.gz"), b"secret").unwrap();
    symlink(&outside, s.root().join("AWSLogs/dirlink"));
    assert_eq!(bytes(&s.get("b", "AWSLogs/a/x.json.gz").unwrap()), b"x");
    assert_eq!(
        s.get("b", "AWSLogs/dirlink/x.json.gz").unwrap_err().kind(),
        StoreErrorKind::OutsideRoot
    );
    // A relative symlink that climbs out.
    symlink("../../../secret", s.root().join("AWSLogs/a/climb"));
    assert_eq!(
        s.get("b", "AWSLogs/a/climb").unwrap_err().kind(),
        StoreErrorKind::OutsideRoot
    );
}

#[test]
fn follows_relative_symlinks_that_stay_inside_and_reads_folders_without_sidecars() {
    let (_d, s) = store();
    std::fs::create_dir_all(s.root().join("AWSLogs/plain")).unwrap();
    std::fs::write(s.root().join("AWSLogs/plain/z.json.gz"), b"z").unwrap();
    let z = s.get("b", "AWSLogs/plain/z.json.gz").unwrap();
    assert_eq!((bytes(&z), &z.metadata), (&b"z"[..], &None));
    symlink(
        "../a/x.json.gz",
        s.root().join("AWSLogs/plain/link.json.gz"),
    );
    assert_eq!(
        bytes(&s.get("b", "AWSLogs/plain/link.json.gz").unwrap()),
        b"x"
    );
    // A folder linked inside the copy is listed through the link.
    symlink("a", s.root().join("AWSLogs/alias"));
    let keys = s.list("b", "AWSLogs/alias/").unwrap().keys;
    assert_eq!(keys, ["AWSLogs/alias/x.json.gz", "AWSLogs/alias/y.json.gz"]);
}

#[test]
fn reads_from_more_folders_than_are_kept_open() {
    let (_d, s) = store();
    let folders = OPEN_DIRS * 2 + 3;
    for i in 0..folders {
        std::fs::create_dir_all(s.root().join(format!("AWSLogs/f{i}"))).unwrap();
        std::fs::write(
            s.root().join(format!("AWSLogs/f{i}/x.json.gz")),
            i.to_string(),
        )
        .unwrap();
    }
    for _ in 0..2 {
        for i in 0..folders {
            let o = s.get("b", &format!("AWSLogs/f{i}/x.json.gz")).unwrap();
            assert_eq!(bytes(&o), i.to_string().as_bytes());
        }
    }
    assert!(s.open.lock().unwrap().len() <= OPEN_DIRS);
    // A file in the root itself.
    std::fs::write(s.root().join("top"), b"t").unwrap();
    assert_eq!(bytes(&s.get("b", "top").unwrap()), b"t");
}

#[test]
fn a_large_file_is_read_as_it_arrives_not_held() {
    let (_d, s) = store();
    let big = vec![7u8; usize::try_from(STREAM_ABOVE).unwrap() + 10];
    std::fs::write(s.root().join("AWSLogs/a/big.json.gz"), &big).unwrap();
    let o = s.get("b", "AWSLogs/a/big.json.gz").unwrap();
    assert!(o.body.as_bytes().is_none(), "streamed");
    assert_eq!(o.size, Some(big.len() as u64));
    assert_eq!(o.body.into_bytes(u64::MAX).unwrap(), big);
}

#[test]
fn a_fifo_or_device_is_refused_not_waited_on() {
    let (_d, s) = store();
    let path = s.root().join("AWSLogs/a/f.json.gz");
    let made = std::process::Command::new("mkfifo").arg(&path).status();
    assert!(made.unwrap().success(), "mkfifo");
    symlink("f.json.gz", s.root().join("AWSLogs/a/l.json.gz"));
    symlink("/dev/zero", s.root().join("AWSLogs/a/zero.json.gz"));
    // Directly, and behind a symlink that stays inside the root.
    for key in ["AWSLogs/a/f.json.gz", "AWSLogs/a/l.json.gz"] {
        let e = s.get("b", key).unwrap_err();
        assert_eq!(
            (e.kind(), e.reason()),
            (StoreErrorKind::Other, "not a regular file"),
            "{key}"
        );
    }
    // A device outside the root is never reached.
    assert_eq!(
        s.get("b", "AWSLogs/a/zero.json.gz").unwrap_err().kind(),
        StoreErrorKind::OutsideRoot
    );
    // As a sidecar: its digest cannot be checked, and nothing blocks.
    std::fs::remove_file(&path).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(s.root().join("AWSLogs/a/y.json.gz.meta.json"))
        .status();
    assert!(made.unwrap().success(), "mkfifo");
    let fresh = FsStore::new(s.root(), "b").unwrap();
    let e = fresh.get("b", "AWSLogs/a/y.json.gz").unwrap_err();
    assert_eq!(e.reason(), "not a regular file", "{e}");
}

#[test]
fn a_sidecar_leading_out_of_the_root_is_refused() {
    let (d, s) = store();
    std::fs::write(d.path().join("meta.json"), br#"{"Metadata":{}}"#).unwrap();
    symlink(
        d.path().join("meta.json"),
        s.root().join("AWSLogs/a/y.json.gz.meta.json"),
    );
    let e = s.get("b", "AWSLogs/a/y.json.gz").unwrap_err();
    assert_eq!(e.kind(), StoreErrorKind::OutsideRoot, "{e}");
    // One that stays inside is followed.
    std::fs::remove_file(s.root().join("AWSLogs/a/y.json.gz.meta.json")).unwrap();
    symlink(
        "x.json.gz.meta.json",
        s.root().join("AWSLogs/a/y.json.gz.meta.json"),
    );
    let y = s.get("b", "AWSLogs/a/y.json.gz").unwrap();
    assert_eq!(y.metadata.unwrap()["signature"], "ab");
}

#[test]
fn malformed_or_huge_sidecars_are_errors() {
    let (_d, s) = store();
    let huge = vec![b' '; usize::try_from(MAX_SIDECAR_BYTES).unwrap() + 1];
    for text in [&b"{"[..], b"[]", b"null", b"\"text\"", b"7", &huge] {
        std::fs::write(s.root().join("AWSLogs/a/y.json.gz.meta.json"), text).unwrap();
        let e = s.get("b", "AWSLogs/a/y.json.gz").unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::Other, "{e}");
        assert!(e.reason().contains("sidecar"), "{e}");
    }
}

#[test]
fn one_bad_entry_is_named_and_the_listing_goes_on() {
    use std::os::unix::ffi::OsStrExt as _;
    let (d, s) = store();
    let a = s.root().join("AWSLogs/a");
    symlink(d.path().join("secret"), a.join("out.json.gz"));
    symlink("missing.json.gz", a.join("dangling.json.gz"));
    symlink("..", a.join("loop"));
    std::fs::write(
        a.join(std::ffi::OsStr::from_bytes(b"bad\xffname.json.gz")),
        b"b",
    )
    .unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(a.join("fifo.json.gz"))
        .status();
    assert!(made.unwrap().success(), "mkfifo");
    let listed = s.list("b", "AWSLogs/").unwrap();
    assert_eq!(listed.keys, ["AWSLogs/a/x.json.gz", "AWSLogs/a/y.json.gz"]);
    let mut problems: Vec<(&str, &str)> = listed
        .problems
        .iter()
        .map(|p| (p.entry.as_str(), p.reason.as_str()))
        .collect();
    problems.sort_unstable();
    assert_eq!(
        problems,
        [
            ("AWSLogs/a/bad\u{fffd}name.json.gz", "its name is not UTF-8"),
            ("AWSLogs/a/dangling.json.gz", "a symlink to nothing"),
            ("AWSLogs/a/fifo.json.gz", "not a regular file or folder"),
            (
                "AWSLogs/a/loop/",
                "a folder reached again through a symlink (a loop)"
            ),
            (
                "AWSLogs/a/out.json.gz",
                "a symlink leading outside the copy (or absolute, or a loop)"
            ),
        ]
    );
}

/// A symlink swapped between a file inside the root and one outside, while it is read:
/// what is read is never the outside file (the check and the open are one step).
#[test]
fn a_symlink_swapped_while_it_is_read_never_reads_outside() {
    let (d, s) = store();
    let link = s.root().join("AWSLogs/a/swap.json.gz");
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let swapper = {
        let (link, outside, stop) = (link.clone(), d.path().join("secret"), Arc::clone(&stop));
        std::thread::spawn(move || {
            let tmp = link.with_extension("tmp");
            let mut inside = true;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = std::fs::remove_file(&tmp);
                let target = if inside {
                    Path::new("x.json.gz")
                } else {
                    outside.as_path()
                };
                std::os::unix::fs::symlink(target, &tmp).unwrap();
                std::fs::rename(&tmp, &link).unwrap();
                inside = !inside;
            }
        })
    };
    let mut read_inside = 0;
    let started = std::time::Instant::now();
    let mut attempts = 0;
    while attempts < 3000 || (read_inside == 0 && started.elapsed().as_secs() < 20) {
        attempts += 1;
        if let Ok(o) = s.get("b", "AWSLogs/a/swap.json.gz") {
            assert_eq!(bytes(&o), b"x", "read a file outside the root");
            read_inside += 1;
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    swapper.join().unwrap();
    assert!(read_inside > 0, "the inside target was never read");
}

/// Writes the conformance fixture as a local copy: each object at its key, with a
/// `.meta.json` sidecar (`head-object` output) for those with S3 metadata.
fn write_fixture(dir: &Path) {
    use crate::store::conformance::fixture;
    for (key, object) in fixture() {
        let path = dir.join(&key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let info = object.info.clone();
        let metadata = object.metadata.clone();
        std::fs::write(&path, object.body.into_bytes(u64::MAX).unwrap()).unwrap();
        if let Some(meta) = metadata {
            let sidecar = serde_json::json!({
                "ETag": info.etag,
                "VersionId": info.version_id,
                "LastModified": info.last_modified,
                "Metadata": meta,
            });
            std::fs::write(format!("{}.meta.json", path.display()), sidecar.to_string()).unwrap();
        }
    }
}

#[test]
fn keeps_the_store_contract() {
    use crate::store::conformance::{check_store, identifiers_kept, BUCKET};
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path());
    let store = FsStore::new(dir.path(), BUCKET).unwrap();
    check_store(&store);
    identifiers_kept(&store);
}
