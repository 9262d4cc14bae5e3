//! The report as a contract, over every golden case: the verdict is the worst issue, and
//! every verdict that is not valid is one issue of the flat list; the totals count every
//! log file, those no digest lists included; the report reads back from its JSON.

mod common;

use cloudtrail_digest::report::{
    ChainReport, IssueKind, LocationReport, Report, Severity, UnlistedStatus, SCHEMA_VERSION,
};
use common::{cases, run};

/// The verdict worked out from the parts, as the text output reads it.
fn worst_of_parts(report: &Report) -> Severity {
    let unrecognized = (!report.unrecognized_keys.is_empty()).then_some(Severity::Incomplete);
    let failures = (!report.listing_failures.is_empty()).then_some(Severity::Unchecked);
    let nothing = report.chains.is_empty().then_some(Severity::Incomplete);
    report
        .chains
        .iter()
        .map(ChainReport::severity)
        .chain(report.locations.iter().map(LocationReport::severity))
        .chain(unrecognized)
        .chain(failures)
        .chain(nothing)
        .max()
        .unwrap_or(Severity::Valid)
}

#[test]
fn the_verdict_is_the_worst_issue_and_every_finding_is_an_issue() {
    let mut kinds = std::collections::HashSet::new();
    for case in cases() {
        let report = run(&case, false);
        let name = case.display();
        assert_eq!(report.schema_version, SCHEMA_VERSION);
        let worst = report.issues.iter().map(|i| i.severity).max();
        assert_eq!(
            report.severity(),
            worst.unwrap_or(Severity::Valid),
            "{name}"
        );
        assert_eq!(report.severity(), worst_of_parts(&report), "{name}");
        assert!(
            report.issues.iter().all(|i| i.severity != Severity::Valid),
            "{name}"
        );
        // Each digest, log file and unlisted log file that is not valid is an issue about it.
        let digests = report.chains.iter().flat_map(|c| &c.digests);
        let bad_digests = digests
            .clone()
            .filter(|d| d.status.severity() != Severity::Valid);
        let bad_logs = digests
            .flat_map(|d| &d.logs)
            .filter(|l| l.status.severity() != Severity::Valid);
        let about = |key: &str| report.issues.iter().any(|i| i.key.as_deref() == Some(key));
        for d in bad_digests {
            assert!(about(&d.key), "{name}: {}", d.key);
        }
        for l in bad_logs {
            assert!(about(&l.key), "{name}: {}", l.key);
        }
        for l in report.locations.iter().flat_map(|l| &l.unlisted) {
            assert_eq!(
                about(&l.key),
                l.status != UnlistedStatus::Pending,
                "{name}: {}",
                l.key
            );
        }
        for issue in &report.issues {
            kinds.insert(std::mem::discriminant(&issue.kind));
        }
    }
    // The cases exercise most kinds of issue.
    assert!(kinds.len() >= 7, "{} kinds", kinds.len());
}

#[test]
fn totals_count_every_log_file_those_no_digest_lists_included() {
    for case in cases() {
        let report = run(&case, false);
        let listed: u64 = report.chains.iter().map(|c| c.log_counts.total()).sum();
        let unlisted: u64 = report
            .locations
            .iter()
            .map(|l| l.unlisted.len() as u64)
            .sum();
        let totals = report.totals;
        assert_eq!(
            totals.log_files.total(),
            listed + unlisted,
            "{}",
            case.display()
        );
        assert_eq!(totals.chains, report.chains.len() as u64);
        let digests: u64 = report
            .chains
            .iter()
            .map(|c| c.digest_counts.total() + c.backfill_digest_counts.total())
            .sum();
        assert_eq!(totals.digests.total(), digests);
    }
    // An injected log file: every listed one is valid, yet the totals say one is not.
    let injected = cases()
        .into_iter()
        .find(|c| c.ends_with("log-injected"))
        .unwrap();
    let report = run(&injected, false);
    assert_eq!(report.chains[0].log_counts.invalid, 0);
    assert_eq!(report.totals.log_files.invalid, 1);
    assert!(report.issues.iter().any(|i| matches!(
        i.kind,
        IssueKind::UnlistedLog {
            status: UnlistedStatus::Injected,
            ..
        }
    )));
    assert_eq!(report.severity(), Severity::Invalid);
}

#[test]
fn a_report_reads_back_from_its_json() {
    for case in cases() {
        let report = run(&case, false);
        let json = serde_json::to_string(&report).unwrap();
        let back: Report = serde_json::from_str(&json).unwrap();
        assert_eq!(back, report, "{}", case.display());
    }
}
