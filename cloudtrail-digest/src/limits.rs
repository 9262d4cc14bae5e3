//! How much a run holds and starts at once. The defaults suit any bucket; a caller with
//! little memory, or many runs at once, may lower them.

/// Bounds on what a run holds in memory and the threads it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The most digests fetched at once ahead of the walk.
    pub read_ahead_digests: usize,
    /// The most bytes of digests held ahead of the walk: past it, a digest fetched ahead
    /// is dropped and read again when the walk gets there.
    pub read_ahead_bytes: u64,
    /// Threads fetching digests ahead (waiting, not work: digests are small).
    pub walk_threads: usize,
    /// Log files checked per batch: enough to keep a network store's pipeline full, few
    /// enough that only a bounded part of a long chain is held at once.
    pub log_batch: usize,
    /// Accounts and regions walked at once (their chains one after another): an
    /// organization's many short chains keep the store busy together. The read-ahead and
    /// batch bounds apply to each.
    pub units_at_once: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            read_ahead_digests: 32,
            read_ahead_bytes: 32 * 1024 * 1024,
            walk_threads: 4,
            log_batch: 8192,
            units_at_once: 8,
        }
    }
}
