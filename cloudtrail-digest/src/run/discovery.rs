//! Step 1 of a run: finding the digest chains in a bucket without listing any log file.
//! The `AWSLogs/` folders at or a few folders under the prefix, then
//! `AWSLogs/[o-ORGID/]ACCOUNT/CloudTrail-Digest/REGION/` folder by folder, keeping only the
//! selected accounts and regions; each selected region's digests are listed whole.

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;

use crate::error::{list_error, Result};
use crate::format::key_name::{ChainId, DigestKey, Location};
use crate::report::{ListingFailure, UnrecognizedKey};
use crate::run::listing::{in_listing_pool, Lister};
use crate::selection::Selection;
use crate::store::{ObjectStore, StoreError};

/// The digest keys found in a bucket, grouped by chain, and the log folders beside them.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Discovery {
    /// Each chain's digest keys, ascending.
    pub chains: BTreeMap<ChainId, Vec<DigestKey>>,
    /// The locations (account and region) with a `CloudTrail/` log folder.
    pub log_locations: BTreeSet<Location>,
    /// Keys under a `CloudTrail-Digest/` folder that are not digest keys, and entries a
    /// listing returned outside the prefix asked for.
    pub unrecognized: Vec<UnrecognizedKey>,
    /// Listings below the top that failed: what they should have listed is unchecked.
    pub failures: Vec<ListingFailure>,
}

impl Discovery {
    /// Finds the digest chains and log folders of the selected accounts and regions at or
    /// under `prefix` of `bucket`.
    ///
    /// # Errors
    /// The top listing (of `prefix` itself) failed. A listing further down that fails is
    /// recorded in [`Discovery::failures`] and the rest is still found.
    pub fn find<S: ObjectStore + ?Sized>(
        store: &S,
        bucket: &str,
        prefix: &str,
        selection: &Selection,
    ) -> Result<Self> {
        let lister = Lister::new(store, bucket);
        let start = match prefix.trim_end_matches('/') {
            "" => String::new(),
            p => format!("{p}/"),
        };
        let roots = find_awslogs(&lister, &start).map_err(list_error(bucket, &start))?;
        let accounts: Vec<String> = accounts(&lister, &roots)
            .into_iter()
            .filter(|a| wanted(&selection.account_ids, a))
            .collect();
        // Many folders are listed at once, and what they find is put together in order.
        let mut found = Self::default();
        let mut digest_folders: Vec<String> = Vec::new();
        let parts: Vec<Listed> = in_listing_pool(accounts.len(), &|| {
            accounts
                .par_iter()
                .map(|account| Self::account_folders(&lister, account, selection))
                .collect()
        });
        for (part, digests) in parts {
            found.log_locations.extend(part.log_locations);
            found.unrecognized.extend(part.unrecognized);
            digest_folders.extend(digests);
        }
        // The whole region is listed (about nine requests per year of hourly digests), so
        // a trail with no digest in the requested range is still reported as such.
        let keys: Vec<Listed> = in_listing_pool(digest_folders.len(), &|| {
            digest_folders
                .par_iter()
                .map(|region: &String| (Self::default(), lister.keys(region)))
                .collect()
        });
        for (_, k) in keys {
            found.add_keys(k);
        }
        found.finish(lister);
        Ok(found)
    }

    /// The selected chains and their digest keys.
    pub fn selected<'a>(
        &'a self,
        selection: &'a Selection,
    ) -> impl Iterator<Item = (&'a ChainId, &'a [DigestKey])> + 'a {
        self.chains
            .iter()
            .filter(|(chain, _)| selection.matches(chain))
            .map(|(chain, keys)| (chain, keys.as_slice()))
    }

    /// The locations whose log files a run lists: those of the selected chains, and every
    /// selected location with log files, except, with a trail filter, those where only
    /// other trails have digests (their log files are the other trails' to account for).
    pub fn log_locations_of(&self, selection: &Selection) -> BTreeSet<Location> {
        let mut out: BTreeSet<Location> = self
            .selected(selection)
            .map(|(c, _)| c.location.clone())
            .collect();
        let has_digests = |l: &Location| self.chains.keys().any(|c| c.location == *l);
        out.extend(
            self.log_locations
                .iter()
                .filter(|l| selection.matches_location(l))
                .filter(|l| selection.trail_name.is_none() || !has_digests(l))
                .cloned(),
        );
        out
    }

    /// The part of what was found at `locations`: their chains (selected or not) and log
    /// folders, with every unrecognized key and failed listing (which bear on them).
    pub(crate) fn only(&self, locations: &BTreeSet<Location>) -> Self {
        Self {
            chains: self
                .chains
                .iter()
                .filter(|(c, _)| locations.contains(&c.location))
                .map(|(c, keys)| (c.clone(), keys.clone()))
                .collect(),
            log_locations: self
                .log_locations
                .iter()
                .filter(|l| locations.contains(l))
                .cloned()
                .collect(),
            unrecognized: self.unrecognized.clone(),
            failures: self.failures.clone(),
        }
    }

    /// An account folder's log locations, and its selected digest region folders.
    fn account_folders<S: ObjectStore + ?Sized>(
        lister: &Lister<'_, S>,
        account: &str,
        selection: &Selection,
    ) -> (Self, Vec<String>) {
        let mut found = Self::default();
        let logs = format!("{account}CloudTrail/");
        for region in lister
            .folders(&logs)
            .iter()
            .filter(|r| wanted(&selection.regions, r))
        {
            match Location::from_log_folder(region) {
                Ok(location) => {
                    found.log_locations.insert(location);
                }
                Err(e) => found.unrecognized.push(UnrecognizedKey {
                    key: region.clone(),
                    reason: e.to_string(),
                }),
            }
        }
        let digests = format!("{account}CloudTrail-Digest/");
        let regions = lister
            .folders(&digests)
            .into_iter()
            .filter(|r| wanted(&selection.regions, r))
            .collect();
        (found, regions)
    }
}

/// What listing one folder found: its part of the discovery, and folders or keys in it.
type Listed = (Discovery, Vec<String>);

/// How deep under the given prefix discovery looks for `AWSLogs/` folders: a trail's key
/// prefix may have several segments.
const MAX_PREFIX_DEPTH: usize = 4;

/// The `AWSLogs/` folders at or under `start` (which is empty or ends in `/`), breadth
/// first, at most [`MAX_PREFIX_DEPTH`] folders down. Only the listing of `start` itself
/// fails the search.
fn find_awslogs<S: ObjectStore + ?Sized>(
    lister: &Lister<'_, S>,
    start: &str,
) -> Result<Vec<String>, StoreError> {
    let mut found = Vec::new();
    let mut level = vec![start.to_owned()];
    for depth in 0..=MAX_PREFIX_DEPTH {
        let mut next = Vec::new();
        for folder in &level {
            let children = if depth == 0 {
                lister.try_folders(folder)?
            } else {
                lister.folders(folder)
            };
            for child in children {
                if child.strip_prefix(folder.as_str()) == Some("AWSLogs/") {
                    found.push(child);
                } else {
                    next.push(child);
                }
            }
        }
        if next.is_empty() {
            break;
        }
        level = next;
    }
    Ok(found)
}

impl Discovery {
    fn add_keys(&mut self, keys: Vec<String>) {
        for key in keys {
            match DigestKey::parse(&key) {
                Ok(k) => self.chains.entry(k.chain.clone()).or_default().push(k),
                Err(e) => self.unrecognized.push(UnrecognizedKey {
                    key,
                    reason: e.to_string(),
                }),
            }
        }
    }

    /// Sorts each chain's keys and takes what the listings could not do.
    fn finish<S: ObjectStore + ?Sized>(&mut self, lister: Lister<'_, S>) {
        for keys in self.chains.values_mut() {
            keys.sort_by_key(DigestKey::to_key);
        }
        let left = lister.finish();
        self.unrecognized.extend(left.strays);
        self.failures.extend(left.failures);
    }
}

/// The account folders under the `AWSLogs/` folders `roots`: `ACCOUNT/`, or
/// `o-ORGID/ACCOUNT/` for an organization trail.
fn accounts<S: ObjectStore + ?Sized>(lister: &Lister<'_, S>, roots: &[String]) -> Vec<String> {
    let mut accounts = Vec::new();
    for root in roots {
        for folder in lister.folders(root) {
            if folder
                .strip_prefix(root.as_str())
                .is_some_and(|name| name.starts_with("o-"))
            {
                accounts.extend(lister.folders(&folder));
            } else {
                accounts.push(folder);
            }
        }
    }
    accounts
}

/// Whether a folder's name (its last segment; every folder was listed under its parent)
/// is in `list`, or `list` is empty.
fn wanted(list: &[String], folder: &str) -> bool {
    let name = folder
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    list.is_empty() || list.iter().any(|n| n == name)
}
