//! `Validator::omit_valid_logs` over every golden case: the report is the full report with
//! the valid log verdicts removed, and nothing else changes (counts, coverage, findings,
//! locations, severity).

mod common;

use cloudtrail_digest::report::LogStatus;
use common::{cases, run};

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
