//! After a chain's newest digest: which hourly digests must exist and are missing, which
//! are not due yet, and what is known about the time no digest covers. Pure: facts in,
//! verdicts out.
//!
//! CloudTrail delivers a digest of each chain about once an hour while validation is on.
//! A digest is taken as due once [`OVERDUE`] has passed since its end. A due digest is
//! proven missing only by evidence that CloudTrail delivered it:
//! - CloudTrail's own `LatestDigestDeliveryTime`, for the chain the trail delivers with
//!   every digest (its own account's home region), or
//! - this location's log files going on past the newest digest while the trail is shown
//!   to validate (its digests elsewhere, or CloudTrail's record) at least as long.
//!
//! Without such evidence the time is not covered, with what is known: validation turned
//! off or logging stopped (CloudTrail's record), digests that stop while log files go on,
//! a region whose digests stop while the trail's go on elsewhere. A digest not yet due is
//! pending, which is no finding.

use chrono::{DateTime, Duration, Utc};

use crate::check::coverage::reason_of;
use crate::format::trail_record::{Bearing, TrailRecord};
use crate::report::{CoverageReason, CoverageSpan, CoverageState, DeletionEvidence};

/// The most missing hours of one gap reported one by one (ten years).
pub(crate) const MAX_INFERRED: usize = 24 * 3653;

/// How long after its end a digest is due: CloudTrail delivers digests about hourly, and a
/// delivery may lag.
pub(crate) const OVERDUE: Duration = Duration::hours(1);

const HOUR: Duration = Duration::hours(1);

/// What is known after a chain's newest digest.
pub(crate) struct Facts<'a> {
    /// End of the chain's newest standard digest listed within the request.
    pub(crate) newest: DateTime<Utc>,
    /// The requested start: no digest before it is inferred.
    pub(crate) start: DateTime<Utc>,
    /// The requested end, when one was given.
    pub(crate) end: Option<DateTime<Utc>>,
    /// When the bucket is judged: a digest not due by then is pending. `None`: all due.
    pub(crate) as_of: Option<DateTime<Utc>>,
    /// The newest log file of this location after `newest` that no digest lists.
    pub(crate) logs: Option<DateTime<Utc>>,
    /// The same, when one trail alone delivers here: only then evidence about this chain.
    pub(crate) own_logs: Option<DateTime<Utc>>,
    /// The end of the newest verified digest of the same trail in another chain.
    pub(crate) trail_digests: Option<DateTime<Utc>>,
    /// CloudTrail's record of the trail, and how it bears on this chain.
    pub(crate) record: Option<(&'a TrailRecord, Bearing)>,
}

/// What follows a chain's newest digest.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Tail {
    /// Where the chain's timeline reaches when no end was requested.
    pub(crate) reach: Option<DateTime<Utc>>,
    /// Ends of the hourly digests proven missing, newest first.
    pub(crate) missing: Vec<DateTime<Utc>>,
    /// Past [`MAX_INFERRED`] of them: the ends of the first and last of the rest.
    pub(crate) rest: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// What proves them missing.
    pub(crate) evidence: Option<DeletionEvidence>,
    /// What is known of the windows not missing.
    pub(crate) annotations: Vec<CoverageSpan>,
}

impl Facts<'_> {
    /// CloudTrail's latest digest delivery, where it speaks for this chain.
    fn direct(&self) -> Option<DateTime<Utc>> {
        self.record
            .filter(|(_, b)| *b == Bearing::Direct)
            .and_then(|(r, _)| r.latest_digest())
    }

    /// Until when the trail is shown to validate: its digests elsewhere or its record.
    fn validating(&self) -> Option<DateTime<Utc>> {
        let latest = self.record.and_then(|(r, _)| r.latest_digest());
        latest.max(self.trail_digests)
    }

    /// The time up to which due digests are proven delivered, and by what.
    fn proof(&self) -> Option<(DateTime<Utc>, DeletionEvidence)> {
        let record = self.record.map(|(r, _)| r);
        let direct = self.direct().zip(record).map(|(at, r)| {
            let evidence = DeletionEvidence::CloudTrailRecord {
                trail_arn: r.trail_arn.clone(),
                latest_digest_delivery: at,
                read_at: r.read_at,
            };
            (at, evidence)
        });
        let indirect = self.own_logs.zip(self.validating()).map(|(logs, trail)| {
            let evidence = DeletionEvidence::LogsContinue {
                logs_until: logs,
                trail_until: trail,
            };
            (logs.min(trail), evidence)
        });
        match (direct, indirect) {
            (Some(d), Some(i)) => Some(if i.0 > d.0 { i } else { d }),
            (d, i) => d.or(i),
        }
    }

    /// Whether the digest ending at `end` is due by the time the bucket is judged.
    fn due(&self, end: DateTime<Utc>) -> bool {
        self.as_of.is_none_or(|now| end + OVERDUE <= now)
    }

    /// What is known of a window starting at `from` (ending at `to`) that no digest covers
    /// and that is due.
    fn reason(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Option<CoverageReason> {
        // Logging that stopped before the window ended explains a digest missing for it.
        if let Some(silence) = self.record.and_then(|(r, _)| r.explains_silence(to)) {
            return Some(reason_of(silence));
        }
        if let Some(logs) = self.logs.filter(|l| *l >= from) {
            return Some(CoverageReason::DigestsStop {
                last_digest: self.newest,
                logs_until: logs,
            });
        }
        self.validating()
            .filter(|v| to + OVERDUE <= *v)
            .map(|trail| CoverageReason::RegionStops {
                last_digest: self.newest,
                trail_until: trail,
            })
    }
}

/// What follows the newest digest, over the requested range or, without a requested end,
/// as far as log files or the trail's other evidence reach.
pub(crate) fn tail(f: &Facts<'_>) -> Tail {
    let limit = f.end.map(|e| e + HOUR);
    let proof = f.proof();
    // Without a requested end: the log files found here, and the windows whose digests the
    // trail's evidence shows should exist.
    let shown = f.validating().max(f.direct());
    let mut reach = f
        .end
        .unwrap_or_else(|| f.newest.max(f.logs.unwrap_or(f.newest)));
    let mut out = Tail::default();
    let mut windows = 0;
    let mut from = f.newest;
    loop {
        let to = from + HOUR;
        if f.end.is_none() && shown.is_some_and(|s| to + OVERDUE <= s) {
            reach = reach.max(to);
        }
        if from >= reach {
            break;
        }
        let within = limit.is_none_or(|l| to <= l);
        let proven = within && f.due(to) && proof.as_ref().is_some_and(|(p, _)| to + OVERDUE <= *p);
        windows += 1;
        if windows > MAX_INFERRED {
            let last_proven = proof.as_ref().map(|(p, _)| *p - OVERDUE).filter(|_| proven);
            the_rest(f, (from, to), reach, last_proven, &mut out);
            break;
        }
        if proven {
            if to >= f.start {
                out.missing.push(to);
            }
        } else if f.due(to) {
            push(
                &mut out.annotations,
                from,
                to,
                CoverageState::NotCovered,
                f.reason(from, to),
            );
        } else {
            // Not due, nor any later one: the rest is pending.
            push(
                &mut out.annotations,
                from,
                reach.max(to),
                CoverageState::Pending,
                None,
            );
            break;
        }
        from = to;
    }
    if !out.missing.is_empty() || out.rest.is_some() {
        out.evidence = proof.map(|(_, e)| e);
    }
    out.missing.reverse();
    out.reach = f.end.is_none().then_some(reach);
    out
}

/// Past [`MAX_INFERRED`] windows (ten years of hours), from the window `from`-`to` to
/// `reach`: one span, and one notice of the digests missing up to `last_proven` if they
/// are proven missing.
fn the_rest(
    f: &Facts<'_>,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    reach: DateTime<Utc>,
    last_proven: Option<DateTime<Utc>>,
    out: &mut Tail,
) {
    if let Some(last) = last_proven {
        out.rest = Some((to, last.max(to)));
    }
    let state = if f.due(to) {
        CoverageState::NotCovered
    } else {
        CoverageState::Pending
    };
    let reason = (state == CoverageState::NotCovered)
        .then(|| f.reason(from, to))
        .flatten();
    push(&mut out.annotations, from, reach, state, reason);
}

/// Appends an annotation, merged into the last one when it continues it.
fn push(
    spans: &mut Vec<CoverageSpan>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    state: CoverageState,
    reason: Option<CoverageReason>,
) {
    match spans.last_mut() {
        Some(last) if last.to == from && last.state == state && last.reason == reason => {
            last.to = to;
        }
        _ => spans.push(CoverageSpan {
            from,
            to,
            state,
            reason,
        }),
    }
}

#[cfg(test)]
mod tests;
