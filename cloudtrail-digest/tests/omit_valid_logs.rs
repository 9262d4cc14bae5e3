//! `Validator::omit_valid_logs` over every golden case: the report is the full report with
//! the valid log verdicts removed, and nothing else changes (counts, coverage, findings,
//! locations, severity).

use std::path::{Path, PathBuf};

use cloudtrail_digest::report::{LogStatus, Report};
use cloudtrail_digest::store::FsStore;
use cloudtrail_digest::{PublicKeySet, Validator};

fn cases() -> Vec<PathBuf> {
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
fn bucket_dir(case: &Path) -> PathBuf {
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

fn run(case: &Path, omit_valid_logs: bool) -> Report {
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

#[test]
fn omitting_valid_log_verdicts_changes_nothing_else() {
    let (mut omitted, mut kept) = (0, 0);
    for case in cases() {
        let mut full = run(&case, false);
        for digest in full.chains.iter_mut().flat_map(|c| &mut c.digests) {
            let before = digest.logs.len();
            digest.logs.retain(|l| l.status != LogStatus::Valid);
            omitted += before - digest.logs.len();
            kept += digest.logs.len();
        }
        assert_eq!(run(&case, true), full, "{}", case.display());
    }
    // The comparison saw both kinds of verdict.
    assert!(omitted > 100 && kept >= 5, "omitted {omitted}, kept {kept}");
}
