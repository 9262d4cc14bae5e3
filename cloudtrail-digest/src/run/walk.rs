//! Walking one digest chain newest to oldest, as the reference does (spec section 5), with
//! every finding kept: two consecutive deleted digests are two findings.
//!
//! From the newest listed digest, each digest is fetched, parsed, checked to sit where its
//! JSON says it was written, and its signature verified; then the walk follows its
//! `previousDigestS3Object`. After a digest that is missing or invalid, the walk resumes
//! at the next older listed key, and every hour between the two that no digest covers is
//! reported as a digest that was not found.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};

use super::read_ahead::{Listed, ReadAhead, Source};
use super::visit::{Link, Next, Visit, Visitor};
use crate::check::chain::inferred_missing;
use crate::check::digest as checks;
use crate::check::listed::ListedLogs;
use crate::check::tail::MAX_INFERRED;
use crate::format::key_name::{ChainId, DigestKey};
use crate::limits::Limits;
use crate::report::{DigestOutcome, DigestStatus, Notice};
use crate::signature::{KeySource, VerifiedDigest};
use crate::store::ObjectStore;

/// Receives each outcome of a walk, newest first, with the verified digest if it verified.
pub(crate) type Sink<'s> = dyn FnMut(DigestOutcome, Option<VerifiedDigest>) + 's;

/// The state of one walk.
struct Walk<'s, 'k> {
    sink: &'s mut Sink<'k>,
    notices: Vec<Notice>,
    /// Digests of the walk's bucket fetched ahead.
    ahead: ReadAhead,
    /// The last outcome, held until its predecessor is visited: a broken link is a finding
    /// on both digests.
    held: Option<(DigestOutcome, Option<VerifiedDigest>)>,
}

impl Walk<'_, '_> {
    /// Hands on the outcome held, and holds this one.
    fn emit(&mut self, outcome: DigestOutcome, verified: Option<VerifiedDigest>) {
        if let Some((o, v)) = self.held.replace((outcome, verified)) {
            (self.sink)(o, v);
        }
    }

    /// Hands on the outcome held, if any.
    fn flush(&mut self) {
        if let Some((o, v)) = self.held.take() {
            (self.sink)(o, v);
        }
    }
}

pub(crate) struct ChainWalker<'a, S: ObjectStore + ?Sized> {
    pub(crate) store: &'a S,
    pub(crate) keys: &'a dyn KeySource,
    pub(crate) chain: &'a ChainId,
    pub(crate) bucket: &'a str,
    pub(crate) start: DateTime<Utc>,
    pub(crate) backfill: bool,
    /// Where digests are fetched ahead, apart from the pool that checks log files (else a
    /// fetch waits for a whole batch of log files). `None`: the global pool.
    pub(crate) pool: Option<&'a rayon::ThreadPool>,
    pub(crate) limits: &'a Limits,
}

/// The next listed key strictly older than `before`, dropping the newer ones, as the
/// reference's `_get_last_digest` does.
fn pop_older(listed: &mut Vec<Listed>, before: DateTime<Utc>) -> Option<Listed> {
    while let Some((key, end)) = listed.pop() {
        if end < before {
            return Some((key, end));
        }
    }
    None
}

impl<S: ObjectStore + ?Sized> ChainWalker<'_, S> {
    /// Walks the chain over `listed` (ascending by key, all of this chain and kind), handing
    /// each outcome to `sink` as it is decided; returns the chain's notices.
    pub(crate) fn walk(
        &self,
        mut listed: Vec<Listed>,
        listed_logs: &mut ListedLogs,
        sink: &mut Sink<'_>,
    ) -> Vec<Notice> {
        let mut walk = Walk {
            sink,
            notices: Vec::new(),
            ahead: ReadAhead::default(),
            held: None,
        };
        // Every listed digest must be reached; those the walk never visits are off the chain.
        let all_listed = listed.clone();
        let Some((mut key, mut key_end)) = listed.pop() else {
            return walk.notices;
        };
        let source = Source {
            store: self.store,
            bucket: self.bucket,
            limits: self.limits,
            pool: self.pool,
        };
        let mut bucket = self.bucket.to_owned();
        let mut last_start = key_end;
        let mut link: Option<Link> = None;
        // Digests already visited: a link back to one (a cycle, possible only among digests
        // that cannot be verified) resumes at the next older listed digest instead.
        let mut visited: HashSet<(String, String)> = HashSet::new();
        while self.start <= last_start {
            let at = (bucket.as_str(), key.as_str());
            let mut visit =
                self.visit_one(&mut walk, &source, at, &listed, link.take(), listed_logs);
            visited.insert((bucket.clone(), key.clone()));
            if let Some(start) = visit.outcome.start_time.filter(|_| visit.follows()) {
                last_start = start;
            }
            if let Some((successor, _)) = walk.held.as_mut() {
                successor.findings.append(&mut visit.on_successor);
            }
            walk.emit(visit.outcome, visit.verified);
            let (resume_from, carried, starting) = match visit.next {
                Next::Follow(l) if !visited.contains(&(l.bucket.clone(), l.key.clone())) => {
                    key_end = DigestKey::parse(&l.key).map_or(last_start, |k| k.end_time);
                    bucket.clone_from(&l.bucket);
                    key.clone_from(&l.key);
                    link = Some(l);
                    continue;
                }
                Next::Follow(_) => (key_end, None, false),
                Next::Starting(l) => (key_end, l, true),
                Next::Resume(l) => (key_end, l, false),
            };
            let next = std::iter::from_fn(|| pop_older(&mut listed, resume_from))
                .find(|(k, _)| !visited.contains(&(self.bucket.to_owned(), k.clone())));
            let Some((next_key, next_end)) = next else {
                break;
            };
            self.cross(&mut walk, starting, next_end, resume_from, last_start);
            self.bucket.clone_into(&mut bucket);
            link = carried.filter(|l| l.key == next_key && l.bucket == bucket);
            key = next_key;
            key_end = next_end;
        }
        walk.flush();
        self.off_chain(&mut walk, all_listed, &visited);
        walk.notices
    }

    /// Reads and visits one digest, with the findings on the log files it lists.
    fn visit_one(
        &self,
        walk: &mut Walk<'_, '_>,
        source: &Source<'_, S>,
        (bucket, key): (&str, &str),
        listed: &[Listed],
        link: Option<Link>,
        listed_logs: &mut ListedLogs,
    ) -> Visit {
        let object = walk.ahead.read(source, bucket, key, listed);
        let mut visit = self.visitor().visit(bucket, key, object, link);
        if let Some(verified) = &visit.verified {
            let url = format!("s3://{bucket}/{key}");
            let found = checks::entry_findings(verified, url, self.chain, listed_logs);
            visit.outcome.findings.extend(found);
        }
        visit
    }

    fn visitor(&self) -> Visitor<'_> {
        Visitor {
            keys: self.keys,
            chain: self.chain,
            backfill: self.backfill,
        }
    }

    /// Crosses from a digest the walk cannot follow back to the next older listed one,
    /// ending at `older_end`: a gap after a starting digest, else digests missing between.
    fn cross(
        &self,
        walk: &mut Walk<'_, '_>,
        starting: bool,
        older_end: DateTime<Utc>,
        newer_end: DateTime<Utc>,
        last_start: DateTime<Utc>,
    ) {
        walk.flush();
        if starting {
            walk.notices.push(Notice::Gap {
                backfill: self.backfill,
                from: older_end,
                to: last_start,
            });
        } else {
            self.infer_missing(walk, older_end, newer_end);
        }
    }

    /// Reports the listed digests in range the walk never reached: off the chain.
    fn off_chain(
        &self,
        walk: &mut Walk<'_, '_>,
        all_listed: Vec<Listed>,
        visited: &HashSet<(String, String)>,
    ) {
        for (key, end) in all_listed.into_iter().rev() {
            if end >= self.start && !visited.contains(&(self.bucket.to_owned(), key.clone())) {
                let outcome =
                    self.visitor()
                        .outcome(self.bucket, &key, DigestStatus::OffChain, Some(end));
                (walk.sink)(outcome, None);
            }
        }
    }

    /// Reports a not-found digest for every hour strictly between an older digest ending at
    /// `older_end` and a missing or invalid one ending at `newer_end`.
    fn infer_missing(
        &self,
        walk: &mut Walk<'_, '_>,
        older_end: DateTime<Utc>,
        newer_end: DateTime<Utc>,
    ) {
        let slack = Duration::minutes(10);
        let mut ends = Vec::new();
        // Hours before the requested start are out of scope (the walk stops there too).
        let mut end = older_end + Duration::hours(1);
        if end < self.start {
            let skipped = (self.start - end).num_hours();
            end += Duration::hours(skipped);
        }
        while end + slack < newer_end {
            if end >= self.start {
                ends.push(end);
            }
            if ends.len() >= MAX_INFERRED {
                // Too many to name one by one (a planted key dated far in the past, say):
                // the rest is one explicit finding, never dropped.
                walk.notices.push(Notice::MissingDigests {
                    backfill: self.backfill,
                    from: end,
                    to: newer_end - Duration::hours(1),
                });
                break;
            }
            end += Duration::hours(1);
        }
        // Newest first, like the rest of the walk.
        for end in ends.into_iter().rev() {
            let outcome = inferred_missing(self.chain, self.bucket, end, self.backfill);
            (walk.sink)(outcome, None);
        }
    }
}
