//! Regenerating the golden cases must not change a committed byte.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn files(root: &Path) -> BTreeSet<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.insert(p.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(root, root, &mut out);
    out
}

#[test]
fn regenerating_changes_no_committed_byte() {
    let testdata = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata");
    let tmp = tempfile::tempdir().unwrap();
    cloudtrail_digest_testgen::cases::write_all(&testdata.join("keys"), tmp.path()).unwrap();
    let committed: BTreeSet<PathBuf> = files(&testdata.join("cases"))
        .into_iter()
        .filter(|p| {
            !matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("stdout" | "stderr")
            )
        })
        .collect();
    let generated = files(tmp.path());
    let mut problems: Vec<String> = committed
        .symmetric_difference(&generated)
        .map(|p| format!("only in one tree: {}", p.display()))
        .collect();
    for p in committed.intersection(&generated) {
        if std::fs::read(testdata.join("cases").join(p)).unwrap()
            != std::fs::read(tmp.path().join(p)).unwrap()
        {
            problems.push(format!("differs: {}", p.display()));
        }
    }
    assert!(
        problems.is_empty(),
        "regenerated testdata differs from the committed one:\n{}",
        problems.join("\n")
    );
}
