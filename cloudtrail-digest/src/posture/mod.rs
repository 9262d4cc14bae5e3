//! Posture: whether each trail is set up so that its integrity can be proven. Pure: the
//! facts read from AWS ([`PostureFacts`], gathered by `aws::Posture`) in, one verdict per
//! check out ([`evaluate`]).

mod access_checks;
mod bucket_checks;
mod catalogue;
mod evaluate;
mod facts;
mod key_checks;
mod outcome;
mod policy;
mod report;
mod trail_checks;

pub use evaluate::evaluate;
pub use facts::{
    BucketFacts, ClassicSelector, FieldSelector, KeyFacts, Known, LifecycleRule, LogGroupFacts,
    PostureFacts, Principal, PublicAccessBlock, RecentValidation, Selectors, StatusFacts,
    TrailFacts, Unknown,
};
pub use report::{
    Check, CheckCounts, CheckSeverity, CheckStatus, Mappings, PostureReport, TrailPosture,
    POSTURE_SCHEMA_VERSION,
};

/// The ids of every check, the account's first.
pub fn check_ids() -> Vec<&'static str> {
    std::iter::once(catalogue::TRAIL_ALL_REGIONS.id)
        .chain(catalogue::TRAIL_CHECKS.iter().map(|c| c.id))
        .collect()
}

#[cfg(test)]
mod tests;
