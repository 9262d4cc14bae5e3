//! Public keys from CloudTrail `ListPublicKeys`, as the reference asks for them: in each
//! digest's region, once over `[start, end + 2 h]` of the run, and for a digest signed
//! outside that range (a backfill digest) over one hour either side of its signing time;
//! cached per region.

use std::collections::HashMap;
use std::sync::Mutex;

use aws_sdk_cloudtrail::error::DisplayErrorContext;
use aws_sdk_cloudtrail::primitives::DateTime as AwsTime;
use chrono::{DateTime, Duration, Utc};

use super::api::Clients;
use crate::format::hex::Fingerprint;
use crate::format::time::display;
use crate::signature::{KeySource, PublicKey, PublicKeySet, Validity};

/// The most pages one `ListPublicKeys` may take (a key lasts about a month: years of keys
/// fit in one page).
const MAX_KEY_PAGES: usize = 1000;

/// How far past the run's end keys are asked for: the last digests are signed up to an
/// hour after it.
const END_MARGIN: Duration = Duration::hours(2);

/// A [`KeySource`] asking CloudTrail `ListPublicKeys`.
#[derive(Debug)]
pub struct CloudTrailKeys {
    aws: Clients,
    /// The run's range, once told ([`KeySource::prepare`]).
    range: Mutex<Option<(DateTime<Utc>, DateTime<Utc>)>>,
    /// Keys per region, or why they could not be had: each region is asked once.
    cache: Mutex<HashMap<String, Result<PublicKeySet, String>>>,
}

impl CloudTrailKeys {
    pub(super) fn new(aws: Clients) -> Self {
        Self {
            aws,
            range: Mutex::new(None),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The keys of `region` valid between `start` and `end`, from `ListPublicKeys`
    /// (none, if CloudTrail has none there).
    ///
    /// # Errors
    /// The call failed, the listing never ended, or it returned a bad key: a sentence
    /// saying which.
    pub fn list(
        &self,
        region: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<PublicKeySet, String> {
        let client = self.aws.cloudtrail(region);
        let (owned, time) = (region.to_owned(), |t: DateTime<Utc>| {
            AwsTime::from_secs(t.timestamp())
        });
        let keys = self
            .aws
            .block_on(async move {
                let mut keys = PublicKeySet::new();
                let mut token: Option<String> = None;
                let mut tokens = std::collections::HashSet::new();
                for _ in 0..MAX_KEY_PAGES {
                    let out = client
                        .list_public_keys()
                        .start_time(time(start))
                        .end_time(time(end))
                        .set_next_token(token.take())
                        .send()
                        .await
                        .map_err(|e| {
                            format!("ListPublicKeys in {owned}: {}", DisplayErrorContext(&e))
                        })?;
                    for key in out.public_key_list() {
                        keys.insert(listed_key(key, &owned)?);
                    }
                    match out.next_token().filter(|t| !t.is_empty()) {
                        // A token given before: the listing would never end.
                        Some(t) if !tokens.insert(t.to_owned()) => {
                            return Err(format!(
                                "ListPublicKeys in {owned} repeats a NextToken: it would never end"
                            ))
                        }
                        Some(t) => token = Some(t.to_owned()),
                        None => return Ok(keys),
                    }
                }
                Err(format!(
                    "ListPublicKeys in {owned} did not end after {MAX_KEY_PAGES} pages"
                ))
            })
            .unwrap_or_else(|| Err("the ListPublicKeys request did not finish".into()))?;
        Ok(keys)
    }

    /// [`CloudTrailKeys::list`], where no key at all is an error: the digests of that
    /// region and time cannot be verified.
    fn fetch(
        &self,
        region: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<PublicKeySet, String> {
        let keys = self.list(region, start, end)?;
        if keys.is_empty() {
            return Err(format!(
                "no public keys found between {} and {}",
                display(start),
                display(end)
            ));
        }
        Ok(keys)
    }

    /// The range asked for first: the run's, else the hour around `signed_at`.
    fn first_range(&self, signed_at: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        match self.range.lock().ok().and_then(|r| *r) {
            Some((start, end)) => (start, end + END_MARGIN),
            None => (
                signed_at - Duration::hours(1),
                signed_at + Duration::hours(1),
            ),
        }
    }
}

/// One key of a `ListPublicKeys` answer, checked as a key file's entry is.
fn listed_key(
    key: &aws_sdk_cloudtrail::types::PublicKey,
    region: &str,
) -> Result<PublicKey, String> {
    let bad = |what: &str| format!("ListPublicKeys in {region} returned a bad key: {what}");
    let der = key
        .value()
        .map(|v| v.as_ref().to_vec())
        .ok_or_else(|| bad("no Value"))?;
    let time = |t: Option<&AwsTime>| t.and_then(|t| DateTime::from_timestamp(t.secs(), 0));
    let (Some(start), Some(end)) = (
        time(key.validity_start_time()),
        time(key.validity_end_time()),
    ) else {
        return Err(bad("no validity window"));
    };
    let stated = key.fingerprint().unwrap_or_default();
    PublicKey::listed(
        &der,
        stated,
        Validity { start, end },
        Some(region.to_owned()),
    )
    .map_err(|actual| {
        bad(&format!(
            "its Fingerprint {stated} is not the MD5 {actual} of its Value"
        ))
    })
}

impl KeySource for CloudTrailKeys {
    fn key(
        &self,
        region: &str,
        fingerprint: &Fingerprint,
        signed_at: DateTime<Utc>,
    ) -> Result<Option<PublicKey>, String> {
        let (start, end) = self.first_range(signed_at);
        let mut cache = self
            .cache
            .lock()
            .map_err(|_| "key cache poisoned".to_owned())?;
        let entry = cache
            .entry(region.to_owned())
            .or_insert_with(|| self.fetch(region, start, end));
        let set = entry
            .as_mut()
            .map_err(|e| format!("cannot get the public keys of region {region}: {e}"))?;
        if let Some(key) = set.get(fingerprint) {
            return Ok(Some(key.clone()));
        }
        if signed_at < start || signed_at > end {
            let around = (
                signed_at - Duration::hours(1),
                signed_at + Duration::hours(1),
            );
            let more = self
                .fetch(region, around.0, around.1)
                .map_err(|e| format!("cannot get the public keys of region {region}: {e}"))?;
            set.extend(more);
        }
        Ok(set.get(fingerprint).cloned())
    }

    fn prepare(&self, start: DateTime<Utc>, end: DateTime<Utc>) {
        if let Ok(mut r) = self.range.lock() {
            *r = Some((start, end));
        }
    }
}
