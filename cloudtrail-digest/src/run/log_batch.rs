//! Checking the log files of walked digests in batches while the walk goes on.
//!
//! The walk (fetching digests, parsing, verifying signatures) is sequential; checking log
//! files (reading, inflating, hashing) runs on the rayon pool. A second thread takes the
//! verified digests a batch at a time and checks their log files, so the walk's own work
//! overlaps the checking instead of leaving the pool idle. At most three batches exist at
//! once (being filled, queued, being checked): memory stays flat however long the chain.

use std::sync::mpsc;

use crate::check::log_hash::check_log;
use crate::format::digest_file::LogFileEntry;
use crate::limits::Limits;
use crate::progress::Progress;
use crate::report::{DigestOutcome, LogOutcome};
use crate::signature::VerifiedDigest;
use crate::store::{collect_each, skipped, ObjectInfo, ObjectStore};

/// A digest's outcome, with the digest itself if its signature verified.
type Walked = (DigestOutcome, Option<VerifiedDigest>);

/// Where the log files are checked, and what is kept of their verdicts.
pub(crate) struct LogChecker<'a, S: ObjectStore + ?Sized> {
    pub(crate) store: &'a S,
    pub(crate) progress: &'a dyn Progress,
    /// Keep only the log verdicts that are not valid (all are counted).
    pub(crate) omit_valid: bool,
    /// How many log files make a batch ([`Limits::log_batch`]).
    pub(crate) batch_logs: usize,
}

impl<'a, S: ObjectStore + ?Sized> LogChecker<'a, S> {
    /// A checker with batches of [`Limits::log_batch`] log files.
    pub(crate) fn new(
        store: &'a S,
        progress: &'a dyn Progress,
        omit_valid: bool,
        limits: &Limits,
    ) -> Self {
        Self {
            store,
            progress,
            omit_valid,
            batch_logs: limits.log_batch.max(1),
        }
    }
}

impl<S: ObjectStore + ?Sized> LogChecker<'_, S> {
    /// Runs `walk`, handing it a sink for its outcomes, while the log files of the verified
    /// digests are checked on another thread; returns what `walk` returns and every outcome
    /// with its log verdicts, in the order the sink received them.
    pub(crate) fn walk_and_check<R>(
        &self,
        walk: impl FnOnce(&mut dyn FnMut(DigestOutcome, Option<VerifiedDigest>)) -> R,
    ) -> (R, Vec<DigestOutcome>) {
        std::thread::scope(|scope| {
            // One batch queued while another is checked; the walk waits beyond that.
            let (batches, received) = mpsc::sync_channel::<Vec<Walked>>(1);
            let checker = scope.spawn(move || {
                let mut done = Vec::new();
                for batch in received {
                    self.check(batch, &mut done);
                }
                done
            });
            let mut pending = Vec::new();
            let mut pending_logs = 0;
            // Small batches first, so the pool starts checking while the walk is still
            // verifying its first digests; then up to the full size.
            let mut threshold = (self.batch_logs / 16).max(1);
            let result = walk(&mut |outcome, verified| {
                let logs = verified.as_ref().map_or(0, |v| v.log_files().len());
                self.progress.digest_done();
                self.progress.logs_queued(logs as u64);
                pending_logs += logs;
                pending.push((outcome, verified));
                if pending_logs >= threshold {
                    pending_logs = 0;
                    threshold = (threshold * 2).min(self.batch_logs);
                    // Fails only if the checker panicked, which joining it re-raises.
                    let _ = batches.send(std::mem::take(&mut pending));
                }
            });
            if !pending.is_empty() {
                let _ = batches.send(pending);
            }
            drop(batches);
            let done = checker
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (result, done)
        })
    }

    /// Checks the log files of a batch's verified digests together, then sets each
    /// digest's verdicts.
    fn check(&self, batch: Vec<Walked>, done: &mut Vec<DigestOutcome>) {
        let entries: Vec<_> = batch
            .iter()
            .filter_map(|(_, v)| v.as_ref())
            .flat_map(VerifiedDigest::log_files)
            .collect();
        let mut checked = self.fetch_and_check(&entries).into_iter();
        for (mut outcome, verified) in batch {
            if let Some(v) = verified {
                let logs = checked.by_ref().take(v.log_files().len());
                outcome.set_logs(logs, self.omit_valid);
            }
            done.push(outcome);
        }
    }

    /// Fetches and checks log files concurrently; their outcomes in the order given.
    fn fetch_and_check(&self, entries: &[&LogFileEntry]) -> Vec<LogOutcome> {
        let requests: Vec<(&str, &str)> = entries
            .iter()
            .map(|e| (e.s3_bucket.as_str(), e.s3_object.as_str()))
            .collect();
        let checked = collect_each(self.store, &requests, |i, result| {
            let size = result.as_ref().map_or(0, |o| o.size.unwrap_or(0));
            let (status, info) = match result {
                Ok(o) => (check_log(entries[i], Ok(o.body)), o.info),
                Err(e) => (check_log(entries[i], Err(&e)), ObjectInfo::default()),
            };
            self.progress.log_done(size);
            (status, info)
        });
        entries
            .iter()
            .zip(checked)
            .map(|(entry, checked)| {
                // A request the store skipped leaves the file unchecked, never valid.
                let (status, object) = checked.unwrap_or_else(|| {
                    let status = check_log(entry, Err(&skipped()));
                    (status, ObjectInfo::default())
                });
                LogOutcome {
                    bucket: entry.s3_bucket.clone(),
                    key: entry.s3_object.clone(),
                    status,
                    object,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{DigestStatus, LogStatus};
    use crate::store::{MemoryStore, Object};
    use crate::{Digest, PublicKeySet, Signature};
    use chrono::{Duration, TimeZone as _, Utc};
    use cloudtrail_digest_testgen::cases::standard_trail;
    use cloudtrail_digest_testgen::{Generator, Hour, TestKey, Tree};

    #[test]
    #[allow(clippy::too_many_lines)] // one scenario, read top to bottom
    fn batches_keep_the_walk_order_and_each_digest_gets_its_own_verdicts() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/keys");
        let key = TestKey::load(&dir, 1).unwrap();
        let t0 = Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 7).unwrap();
        let list =
            serde_json::json!({ "PublicKeyList": [key.list_entry(t0, t0 + Duration::days(1))] });
        let keys = PublicKeySet::from_list_public_keys_json(list.to_string().as_bytes()).unwrap();
        let spec = standard_trail();
        let mut tree = Tree::default();
        let hours: Vec<Hour> = (0..7)
            .map(|i| Hour {
                logs: i % 3 + 1,
                ..Hour::default()
            })
            .collect();
        let digests = Generator::new(7).chain(&mut tree, &spec, &[&key], t0, &hours, None);
        let mut store = MemoryStore::new();
        for (k, o) in &tree.objects {
            store.insert(
                &spec.bucket,
                k,
                Object::new(o.body.clone(), o.metadata.clone()),
            );
        }
        // One log file of the fifth digest is gone.
        let gone = digests[4].logs[0].clone();
        store.remove(&spec.bucket, &gone).unwrap();
        for batch_logs in [1, 2, 5, 1000] {
            let checker = LogChecker {
                batch_logs,
                ..LogChecker::new(&store, &(), true, &Limits::default())
            };
            let ((), outcomes) = checker.walk_and_check(|sink| {
                for (i, d) in digests.iter().enumerate() {
                    let outcome = DigestOutcome::placeholder(
                        &spec.bucket,
                        &d.key,
                        false,
                        DigestStatus::Valid,
                        None,
                    );
                    let parsed = Digest::from_json(d.json.clone()).unwrap();
                    let signature = Signature::from_hex(&d.signature).unwrap();
                    sink(
                        outcome.clone(),
                        Some(keys.verify(parsed, &signature).unwrap()),
                    );
                    if i == 2 {
                        // An outcome without a verified digest in between.
                        sink(outcome, None);
                    }
                }
            });
            let order: Vec<&str> = outcomes.iter().map(|o| o.key.as_str()).collect();
            let mut expected: Vec<&str> = digests.iter().map(|d| d.key.as_str()).collect();
            expected.insert(3, &digests[2].key);
            assert_eq!(order, expected, "batches of {batch_logs}");
            let listed: Vec<u64> = outcomes.iter().map(|o| o.log_counts.total()).collect();
            assert_eq!(listed, [1, 2, 3, 0, 1, 2, 3, 1], "batches of {batch_logs}");
            let invalid: Vec<u64> = outcomes.iter().map(|o| o.log_counts.invalid).collect();
            assert_eq!(invalid, [0, 0, 0, 0, 0, 1, 0, 0], "batches of {batch_logs}");
            assert_eq!(
                outcomes[5].logs.len(),
                1,
                "only the invalid verdict is kept"
            );
            assert_eq!(
                (
                    outcomes[5].logs[0].key.as_str(),
                    &outcomes[5].logs[0].status
                ),
                (gone.as_str(), &LogStatus::NotFound)
            );
        }
    }
}
