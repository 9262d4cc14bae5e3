//! The run: discovery, the chain walk with its read-ahead, log batches, log-folder
//! listings and unlisted logs. The only code, with the stores, that does I/O or starts
//! threads; [`crate::Validator::run`] calls its steps in order.

use chrono::{DateTime, Utc};

use crate::format::trail_record::TrailRecord;
use crate::limits::Limits;
use crate::progress::Progress;
use crate::selection::Selection;
use crate::signature::KeySource;
use crate::store::ObjectStore;

pub(crate) mod chains;
pub(crate) mod discovery;
pub(crate) mod listing;
pub(crate) mod log_batch;
pub(crate) mod log_folders;
pub(crate) mod read_ahead;
pub(crate) mod share;
pub(crate) mod slice;
pub(crate) mod trail_facts;
pub(crate) mod unlisted;
pub(crate) mod visit;
pub(crate) mod walk;

/// Everything a run's steps read: where, what, with which keys and evidence, within which
/// limits, and who hears of progress.
pub(crate) struct Plan<'a, S: ObjectStore + ?Sized> {
    pub(crate) store: &'a S,
    /// Whether listings may show objects gone since (an inventory's): a log file that no
    /// digest lists is then read before it is reported.
    pub(crate) confirm_unlisted: bool,
    pub(crate) bucket: &'a str,
    pub(crate) keys: &'a dyn KeySource,
    pub(crate) selection: &'a Selection,
    /// When the bucket is judged: a digest not due by then is pending.
    pub(crate) as_of: Option<DateTime<Utc>>,
    /// The start of the whole run's range (of a sharded run's too): where the log
    /// listing of a location with no chain starts when the selection gives no start.
    pub(crate) run_start: Option<DateTime<Utc>>,
    /// CloudTrail's records of the trails.
    pub(crate) trail_records: &'a [TrailRecord],
    pub(crate) omit_valid_logs: bool,
    /// The time slices a shard holds of the units it was dealt in slices.
    pub(crate) held: &'a slice::Held,
    pub(crate) limits: &'a Limits,
    pub(crate) progress: &'a dyn Progress,
}
