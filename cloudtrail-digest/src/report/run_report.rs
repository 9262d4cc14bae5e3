//! The verdicts of a whole run, with its totals, issues and verdict derived from them.

use serde::{Deserialize, Serialize};

use super::chain::ChainReport;
use super::issue::{self, Issue};
use super::location::{ListingFailure, LocationReport, UnlistedStatus, UnrecognizedKey};
use super::severity::{Counts, Severity};
use super::shard::ShardInfo;
use crate::format::trail_record::TrailRecord;

/// The version of the report's shape. It changes when a field is removed or changes
/// meaning; new fields and new variants of `#[non_exhaustive]` enums do not change it.
pub const SCHEMA_VERSION: u32 = 1;

/// The verdicts of a whole run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Report {
    /// [`SCHEMA_VERSION`] of the library that wrote it.
    pub schema_version: u32,
    /// The version of the library that wrote it.
    pub tool_version: String,
    /// The bucket validated.
    pub bucket: String,
    /// The worst severity of the run: the worst of [`Report::issues`], else valid.
    pub severity: Severity,
    /// Counts over the whole run.
    pub totals: Totals,
    /// Everything that is not verified, with its object and reason.
    pub issues: Vec<Issue>,
    /// One report per chain, ordered by chain.
    pub chains: Vec<ChainReport>,
    /// The log files of each location, with those no digest lists.
    pub locations: Vec<LocationReport>,
    /// Keys under a `CloudTrail-Digest/` or `CloudTrail/` folder that are not digest or
    /// log keys, and entries a listing returned outside the prefix asked for.
    pub unrecognized_keys: Vec<UnrecognizedKey>,
    /// Listings that failed: what they should have listed is unchecked.
    pub listing_failures: Vec<ListingFailure>,
    /// CloudTrail's records of the trails, as given to the run.
    pub trail_records: Vec<TrailRecord>,
    /// The S3 Inventory the run's object listings came from; absent when the bucket was
    /// listed directly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory: Option<InventoryUsed>,
    /// Which part of a sharded run this is; absent for a whole run (and a merged one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardInfo>,
}

/// The S3 Inventory a run's listings came from: the region and day folders' object
/// listings before `listed_directly_from` are the inventory's, later ones the bucket's.
/// An object added to an earlier day folder after the inventory was taken is not seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct InventoryUsed {
    /// Its `manifest.json` (`s3://BUCKET/KEY`).
    pub manifest: String,
    /// When it was taken.
    pub taken: chrono::DateTime<chrono::Utc>,
    /// The first day whose folders were listed directly.
    pub listed_directly_from: chrono::NaiveDate,
}

impl InventoryUsed {
    /// The inventory at `manifest`, taken at `taken`, trusted before `listed_directly_from`.
    pub fn new(
        manifest: impl Into<String>,
        taken: chrono::DateTime<chrono::Utc>,
        listed_directly_from: chrono::NaiveDate,
    ) -> Self {
        Self {
            manifest: manifest.into(),
            taken,
            listed_directly_from,
        }
    }
}

/// Counts over a whole run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Totals {
    /// Digest chains validated.
    pub chains: u64,
    /// Digest files (standard and backfill, missing ones inferred included), by verdict.
    pub digests: Counts,
    /// Every log file, listed by a digest or found in a log folder: listed ones by their
    /// verdict; those no digest lists as injected (invalid), unchecked, not covered
    /// (unverified) or pending.
    pub log_files: Counts,
}

impl Totals {
    fn of(chains: &[ChainReport], locations: &[LocationReport]) -> Self {
        let mut totals = Self {
            chains: chains.len() as u64,
            ..Self::default()
        };
        for chain in chains {
            totals.digests.merge(&chain.digest_counts);
            totals.digests.merge(&chain.backfill_digest_counts);
            totals.log_files.merge(&chain.log_counts);
        }
        for log in locations.iter().flat_map(|l| &l.unlisted) {
            match log.status {
                UnlistedStatus::Pending => totals.log_files.pending += 1,
                status => totals.log_files.add(status.severity()),
            }
        }
        totals
    }
}

/// What a run found, before the report's totals and issues are derived from it.
pub(crate) struct Parts {
    pub(crate) bucket: String,
    pub(crate) chains: Vec<ChainReport>,
    pub(crate) locations: Vec<LocationReport>,
    pub(crate) unrecognized_keys: Vec<UnrecognizedKey>,
    pub(crate) listing_failures: Vec<ListingFailure>,
    pub(crate) trail_records: Vec<TrailRecord>,
    pub(crate) inventory: Option<InventoryUsed>,
}

impl Report {
    /// The report of what a run found, with its totals, issues and severity. Its lists
    /// are put in one order (chains, locations, keys, prefixes, trail ARNs), however the
    /// run found them: a sharded run's merge gives the same report.
    pub(crate) fn new(parts: Parts) -> Self {
        let Parts {
            bucket,
            mut chains,
            mut locations,
            mut unrecognized_keys,
            mut listing_failures,
            mut trail_records,
            inventory,
        } = parts;
        chains.sort_by(|a, b| a.chain.cmp(&b.chain));
        locations.sort_by(|a, b| a.location.cmp(&b.location));
        unrecognized_keys.sort_by(|a, b| (&a.key, &a.reason).cmp(&(&b.key, &b.reason)));
        listing_failures.sort_by(|a, b| (&a.prefix, &a.reason).cmp(&(&b.prefix, &b.reason)));
        trail_records.sort_by(|a, b| a.trail_arn.cmp(&b.trail_arn));
        let issues = issue::collect(
            &bucket,
            &chains,
            &locations,
            &unrecognized_keys,
            &listing_failures,
        );
        let severity = issues
            .iter()
            .map(|i| i.severity)
            .max()
            .unwrap_or(Severity::Valid);
        Self {
            schema_version: SCHEMA_VERSION,
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            totals: Totals::of(&chains, &locations),
            severity,
            issues,
            bucket,
            chains,
            locations,
            unrecognized_keys,
            listing_failures,
            trail_records,
            inventory,
            shard: None,
        }
    }

    /// The worst severity of the run.
    pub fn severity(&self) -> Severity {
        self.severity
    }
}
