//! Verdicts: pure functions from what was read to typed findings and reports (a digest's
//! findings, a log file's hash, a chain's tail, coverage and report). No I/O.

pub(crate) mod chain;
pub(crate) mod coverage;
pub(crate) mod digest;
pub(crate) mod id_table;
pub(crate) mod listed;
pub(crate) mod log_hash;
pub(crate) mod tail;

use crate::report::UncheckedReason;
use crate::store::object::{StoreError, StoreErrorKind};

/// What a failed read says about a file: `None` when it does not exist (an integrity
/// finding), else why it is unchecked, never valid and never tampered.
pub(crate) fn unchecked(error: &StoreError) -> Option<UncheckedReason> {
    (error.kind() != StoreErrorKind::NotFound).then(|| UncheckedReason::read(error))
}
