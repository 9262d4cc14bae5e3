//! Progress callbacks, for a caller that shows how far a run has come. The library never
//! prints.

/// Receives progress events; every method defaults to doing nothing. Called from several
/// threads at once.
pub trait Progress: Send + Sync {
    /// The run found `count` digest files to check (called once, before the first
    /// [`Progress::digest_done`]; digests inferred missing may add a few more).
    fn digests_to_check(&self, count: u64) {
        let _ = count;
    }
    /// A digest has been decided (valid or not).
    fn digest_done(&self) {}
    /// `count` more log files are about to be checked.
    fn logs_queued(&self, count: u64) {
        let _ = count;
    }
    /// A log file has been checked; `bytes` is its stored size.
    fn log_done(&self, bytes: u64) {
        let _ = bytes;
    }
}

/// No progress reporting.
impl Progress for () {}
