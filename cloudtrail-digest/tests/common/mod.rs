//! The golden cases under `testdata/cases/`, validated through the library.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use cloudtrail_digest::report::Report;
use cloudtrail_digest::store::FsStore;
use cloudtrail_digest::{PublicKeySet, Validator};

pub(crate) fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/cases");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// The case's bucket copy: its one directory.
pub(crate) fn bucket_dir(case: &Path) -> PathBuf {
    let mut dirs = std::fs::read_dir(case)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir());
    let dir = dirs.next().unwrap();
    assert!(
        dirs.next().is_none(),
        "{}: one bucket per case",
        case.display()
    );
    dir
}

pub(crate) fn run(case: &Path, omit_valid_logs: bool) -> Report {
    let keys = std::fs::read(case.join("public-keys.json")).unwrap();
    let keys = PublicKeySet::from_file_bytes(&keys).unwrap();
    let dir = bucket_dir(case);
    let bucket = dir.file_name().unwrap().to_str().unwrap().to_owned();
    let store = FsStore::new(&dir, bucket.clone()).unwrap();
    Validator::new(store, bucket)
        .public_keys(keys)
        .omit_valid_logs(omit_valid_logs)
        .run()
        .unwrap()
}
