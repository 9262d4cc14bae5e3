//! The report: typed verdicts on every digest file and log file of a run, per chain and
//! per location, with totals and one flat list of issues. Integrity findings are data
//! here; an `Err` from the run only means it could not finish.
//!
//! The report is a machine contract: it serializes to the JSON of `--format json` (with
//! [`SCHEMA_VERSION`]) and deserializes back. Types that will grow are
//! `#[non_exhaustive]`.

mod chain;
mod coverage;
mod digest;
mod finding;
mod issue;
mod location;
mod log;
mod merge;
mod merge_error;
mod merge_slices;
mod reason;
mod run_report;
mod severity;
mod shard;
mod slice;

pub use chain::{ChainReport, ChainSlice, Notice, TimeRange};
pub(crate) use coverage::push_merged;
pub use coverage::{CoverageReason, CoverageSpan, CoverageState};
pub use digest::{DigestOutcome, DigestStatus, SignatureSource};
pub use finding::Finding;
pub use issue::{Issue, IssueKind};
pub use location::{
    DeletionEvidence, ListingFailure, LocationReport, NotChecked, UnlistedLog, UnlistedStatus,
    UnrecognizedKey,
};
pub use log::{LogOutcome, LogStatus};
pub use merge::merge;
pub use merge_error::MergeError;
pub use reason::{FormatProblem, UncheckedReason, UnverifiedReason};
pub(crate) use run_report::Parts;
pub use run_report::{InventoryUsed, Report, Totals, SCHEMA_VERSION};
pub use severity::{Counts, Severity};
pub(crate) use shard::assign;
pub use shard::{ShardInfo, MAX_SHARDS};
pub use slice::SlicedUnit;
pub(crate) use slice::{clip, within, Span};
