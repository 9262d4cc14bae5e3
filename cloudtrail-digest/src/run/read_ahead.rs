//! Fetching digests ahead of the walk: when the walk reads a digest, the next older listed
//! digests of the same bucket are fetched with it, concurrently, within a budget of
//! digests and bytes, so that the walk (sequential by nature) does not wait for each.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};

use crate::limits::Limits;
use crate::store::{collect_each, skipped, Object, ObjectStore, StoreError};

/// A listed digest key and the end time its name gives.
pub(crate) type Listed = (String, DateTime<Utc>);

/// A digest fetched, or fetched ahead and dropped to stay within the byte budget.
enum Fetched {
    Dropped,
    Got(Result<Object, StoreError>),
}

/// The digests of one walk's bucket fetched ahead, by key.
#[derive(Default)]
pub(crate) struct ReadAhead {
    fetched: HashMap<String, Result<Object, StoreError>>,
    /// The largest digest read yet: how many fit in the byte budget.
    largest: u64,
}

/// Where and within what a walk reads.
pub(crate) struct Source<'a, S: ObjectStore + ?Sized> {
    pub(crate) store: &'a S,
    /// The walk's own bucket: only its digests are fetched ahead.
    pub(crate) bucket: &'a str,
    pub(crate) limits: &'a Limits,
    /// Where digests are fetched, apart from the pool that checks log files (else a fetch
    /// waits for a whole batch of log files). `None`: the global pool.
    pub(crate) pool: Option<&'a rayon::ThreadPool>,
}

impl ReadAhead {
    /// Reads a digest, from what was fetched ahead if it is there; otherwise fetches it with
    /// the next older digests of `listed` (ascending by key), concurrently.
    pub(crate) fn read<S: ObjectStore + ?Sized>(
        &mut self,
        source: &Source<'_, S>,
        bucket: &str,
        key: &str,
        listed: &[Listed],
    ) -> Result<Object, StoreError> {
        let own_bucket = bucket == source.bucket;
        if own_bucket {
            if let Some(found) = self.fetched.remove(key) {
                return found;
            }
        }
        let mut batch: Vec<(&str, &str)> = vec![(bucket, key)];
        if own_bucket {
            // The walk goes on to older digests: what was fetched for newer ones is done.
            self.fetched.retain(|k, _| k.as_str() < key);
            let ahead = self.ahead(source.limits, key, listed);
            batch.extend(ahead.into_iter().map(|k| (bucket, k)));
        }
        let results = self.fetch(source, &batch);
        let mut first = None;
        for ((_, k), fetched) in batch.iter().zip(results) {
            let result = match fetched {
                Some(Fetched::Got(result)) => result,
                Some(Fetched::Dropped) => continue,
                None => Err(skipped()),
            };
            if first.is_none() {
                first = Some(result);
            } else {
                self.fetched.insert((*k).to_owned(), result);
            }
        }
        first.unwrap_or_else(|| Err(skipped()))
    }

    /// The listed digests older than `key` to fetch with it (the listing is ascending by
    /// key, and so by end time), newest first, as many as the budget allows, unless
    /// already fetched.
    fn ahead<'l>(&self, limits: &Limits, key: &str, listed: &'l [Listed]) -> Vec<&'l str> {
        let older = listed.partition_point(|(k, _)| k.as_str() < key);
        let fit = limits.read_ahead_bytes / self.largest.max(1);
        let ahead = usize::try_from(fit)
            .unwrap_or(usize::MAX)
            .min(limits.read_ahead_digests.saturating_sub(1));
        listed[..older]
            .iter()
            .rev()
            .take(ahead)
            .filter(|(k, _)| !self.fetched.contains_key(k))
            .map(|(k, _)| k.as_str())
            .collect()
    }

    /// Fetches a batch (the digest the walk needs first, then those ahead), holding what
    /// is fetched ahead within the byte budget: past it, a digest is dropped and read
    /// again when the walk gets there. A body read as it arrives holds a connection open,
    /// so it is never kept ahead.
    fn fetch<S: ObjectStore + ?Sized>(
        &mut self,
        source: &Source<'_, S>,
        batch: &[(&str, &str)],
    ) -> Vec<Option<Fetched>> {
        let budget = source.limits.read_ahead_bytes;
        let held = AtomicU64::new(0);
        let fetch = || {
            collect_each(source.store, batch, |i, result| {
                let ahead = i > 0;
                let size = result
                    .as_ref()
                    .ok()
                    .and_then(|o| o.body.as_bytes())
                    .map_or(0, |b| b.len() as u64);
                let streamed = result.as_ref().is_ok_and(|o| o.body.as_bytes().is_none());
                let over = ahead && held.fetch_add(size, Ordering::AcqRel) + size > budget;
                if ahead && (over || streamed) {
                    Fetched::Dropped
                } else {
                    Fetched::Got(result)
                }
            })
        };
        let results = match source.pool {
            Some(pool) => pool.install(fetch),
            None => fetch(),
        };
        for fetched in results.iter().flatten() {
            if let Fetched::Got(Ok(o)) = fetched {
                self.largest = self.largest.max(o.size.unwrap_or(0));
            }
        }
        results
    }
}
