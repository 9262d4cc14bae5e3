//! The one entry point: a [`Validator`] built from a store, a key source, a selection,
//! evidence, limits and a progress sink, whose [`Validator::run`] is the algorithm's steps
//! in order.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::check::chain::ChainBuilder;
use crate::error::{Error, Result};
use crate::format::trail_record::{TrailRecord, TrailRecordSource};
use crate::limits::Limits;
use crate::progress::Progress;
use crate::report::{Parts, Report, Severity, ShardInfo, MAX_SHARDS};
use crate::run::discovery::Discovery;
use crate::run::share::share;
use crate::run::slice::{self, Held};
use crate::run::{chains, trail_facts, unlisted, Plan};
use crate::selection::Selection;
use crate::signature::{KeySource, PublicKeySet};
use crate::store::ObjectStore;

/// Validates the CloudTrail digests and log files of one bucket (or prefix).
///
/// Built with [`Validator::new`] and the setters; [`Validator::run`] blocks until the
/// report is ready, [`Validator::run_async`] awaits it from async code. Integrity findings
/// are data in the [`Report`]; `Err` means the run could not finish.
#[derive(Clone)]
pub struct Validator {
    store: Arc<dyn ObjectStore>,
    bucket: String,
    prefix: String,
    keys: Arc<dyn KeySource>,
    selection: Selection,
    as_of: Option<DateTime<Utc>>,
    trail_records: Vec<TrailRecord>,
    record_source: Option<Arc<dyn TrailRecordSource>>,
    omit_valid_logs: bool,
    limits: Limits,
    progress: Arc<dyn Progress>,
    shard: Option<(u32, u32)>,
    #[cfg(feature = "inventory")]
    inventory: Option<Arc<crate::inventory::Inventory>>,
}

impl std::fmt::Debug for Validator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Validator")
            .field("store", &self.store)
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("selection", &self.selection)
            .field("as_of", &self.as_of)
            .field("trail_records", &self.trail_records.len())
            .field("omit_valid_logs", &self.omit_valid_logs)
            .field("limits", &self.limits)
            .field("shard", &self.shard)
            .finish_non_exhaustive()
    }
}

impl Validator {
    /// Validates `bucket` as `store` holds it: every chain, every digest, no public key
    /// yet (give them with [`Validator::public_keys`]; without keys every digest is left
    /// unchecked, never called tampered).
    pub fn new(store: impl ObjectStore + 'static, bucket: impl Into<String>) -> Self {
        Self::with_store(Arc::new(store), bucket)
    }

    /// [`Validator::new`] over a shared store.
    pub fn with_store(store: Arc<dyn ObjectStore>, bucket: impl Into<String>) -> Self {
        Self {
            store,
            bucket: bucket.into(),
            prefix: String::new(),
            keys: Arc::new(PublicKeySet::new()),
            selection: Selection::default(),
            as_of: None,
            trail_records: Vec::new(),
            record_source: None,
            omit_valid_logs: false,
            limits: Limits::default(),
            progress: Arc::new(()),
            shard: None,
            #[cfg(feature = "inventory")]
            inventory: None,
        }
    }

    /// Looks for trails at or under this key prefix (a trail's `S3KeyPrefix`, or a folder
    /// above several trails'). Default: the whole bucket.
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Where the public keys come from: a [`PublicKeySet`] loaded from files, or a source
    /// that asks CloudTrail (`ListPublicKeys`).
    #[must_use]
    pub fn public_keys(mut self, keys: impl KeySource + 'static) -> Self {
        self.keys = Arc::new(keys);
        self
    }

    /// Which chains and which time range.
    #[must_use]
    pub fn selection(mut self, selection: Selection) -> Self {
        self.selection = selection;
        self
    }

    /// Judges the bucket as of this time: a digest not due by then is pending, not
    /// missing. For a live trail, now; for a copy, when it was made. Default: every
    /// digest is taken as due.
    #[must_use]
    pub fn as_of(mut self, at: DateTime<Utc>) -> Self {
        self.as_of = Some(at);
        self
    }

    /// CloudTrail's records of the trails (`GetTrail`, `GetTrailStatus`), already read:
    /// evidence of digests delivered and deleted since, or of validation turned off.
    /// Without it, a copy cannot tell deletion from validation turned off, and says so.
    #[must_use]
    pub fn trail_records(mut self, records: Vec<TrailRecord>) -> Self {
        self.trail_records = records;
        self
    }

    /// Reads CloudTrail's records of the trails the run finds from `source`, besides the
    /// records given with [`Validator::trail_records`] (which win for the same trail).
    #[must_use]
    pub fn trail_record_source(mut self, source: impl TrailRecordSource + 'static) -> Self {
        self.record_source = Some(Arc::new(source));
        self
    }

    /// Keeps only the log file verdicts that are not valid; valid ones are counted and
    /// dropped, so memory does not grow with every valid file of a long run.
    #[must_use]
    pub fn omit_valid_logs(mut self, omit: bool) -> Self {
        self.omit_valid_logs = omit;
        self
    }

    /// Bounds on what the run holds and the threads it starts.
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Hears of progress, from several threads at once.
    #[must_use]
    pub fn progress(mut self, progress: Arc<dyn Progress>) -> Self {
        self.progress = progress;
        self
    }

    /// Validates only shard `index` (from 0) of `count`: a deterministic share of the
    /// locations (log folders with their chains) the selection finds, balanced by digest
    /// count. The report records the plan; [`crate::report::merge`] of every shard's
    /// report is the report of the whole run. Every shard must list the same bucket with
    /// the same options and [`Validator::as_of`].
    #[must_use]
    pub fn shard(mut self, index: u32, count: u32) -> Self {
        self.shard = Some((index, count));
        self
    }

    /// Step 1 alone: the chains and log folders under the prefix, for the selection.
    ///
    /// # Errors
    /// The top listing failed, or the selection is inconsistent.
    pub fn discover(&self) -> Result<Discovery> {
        self.selection.check()?;
        Discovery::find(&*self.store()?, &self.bucket, &self.prefix, &self.selection)
    }

    /// Takes the object listings of the bucket's CloudTrail folders from an S3 Inventory
    /// of it, up to shortly before it was taken, instead of listing them (see
    /// [`InventoryStore`](crate::inventory::InventoryStore) for what that cannot see).
    /// Log files the inventory shows that no digest lists are read before they are
    /// reported, so that one deleted since is not reported.
    #[cfg(feature = "inventory")]
    #[must_use]
    pub fn inventory(mut self, inventory: Arc<crate::inventory::Inventory>) -> Self {
        self.inventory = Some(inventory);
        self
    }

    /// The store the run reads: listings through the inventory, if one is given.
    #[cfg_attr(not(feature = "inventory"), allow(clippy::unnecessary_wraps))]
    fn store(&self) -> Result<Arc<dyn ObjectStore>> {
        #[cfg(feature = "inventory")]
        if let Some(inventory) = &self.inventory {
            if inventory.source_bucket() != self.bucket {
                return Err(Error::Config(format!(
                    "the inventory {} lists bucket {:?}, not {:?}",
                    inventory.manifest(),
                    inventory.source_bucket(),
                    self.bucket
                )));
            }
            let store =
                crate::inventory::InventoryStore::new(self.store.clone(), inventory.clone());
            return Ok(Arc::new(store));
        }
        Ok(self.store.clone())
    }

    /// The inventory used, as the report names it.
    #[cfg_attr(not(feature = "inventory"), allow(clippy::unused_self))]
    fn inventory_used(&self) -> Option<crate::report::InventoryUsed> {
        #[cfg(feature = "inventory")]
        if let Some(inventory) = &self.inventory {
            let cutoff = crate::inventory::cutoff_of(inventory);
            return Some(crate::report::InventoryUsed::new(
                inventory.manifest(),
                inventory.taken(),
                cutoff,
            ));
        }
        None
    }

    /// Runs the validation and returns its report, blocking the calling thread (any
    /// thread, inside an async runtime too: the S3 store runs its requests on a runtime of
    /// its own). From async code, [`Validator::run_async`] does not block the executor.
    ///
    /// # Errors
    /// The selection is inconsistent, or the bucket could not be listed.
    pub fn run(&self) -> Result<Report> {
        // 1. Discover the digest chains and log folders under the prefix.
        let discovery = self.discover()?;
        self.run_discovered(&discovery)
    }

    /// Runs steps 2 to 6 over what an earlier [`Validator::discover`] found.
    ///
    /// # Errors
    /// The selection is inconsistent.
    pub fn run_discovered(&self, discovery: &Discovery) -> Result<Report> {
        self.selection.check()?;
        let newest = discovery
            .selected(&self.selection)
            .flat_map(|(_, keys)| keys.iter().map(|k| k.end_time))
            .max();
        let store = self.store()?;
        let Some((index, count)) = self.shard else {
            let report = self.run_part(&*store, discovery, None);
            // Nothing found, and no finding either (deleted digests shown by CloudTrail's
            // record are a finding, whatever the range).
            let nothing = report.totals.digests.total() == 0
                && report.totals.log_files.total() == 0
                && report
                    .issues
                    .iter()
                    .all(|i| matches!(i.severity, Severity::Incomplete | Severity::Valid));
            self.selection.check_found(newest, nothing)?;
            return Ok(report);
        };
        if count == 0 || count > MAX_SHARDS || index >= count {
            return Err(Error::Config(format!(
                "shard {index} of {count}: the index must be below the count, and the count between 1 and {MAX_SHARDS}"
            )));
        }
        let options = format!(
            "{}\n{}\n{:?}\n{}\n{:?}",
            self.bucket,
            self.prefix,
            self.as_of,
            self.omit_valid_logs,
            self.inventory_used()
        );
        let (part, info) = share(discovery, &self.selection, &options, index, count);
        Ok(self.run_part(&*store, discovery, Some((&part, info))))
    }

    /// Steps 2 to 6 over `whole`, or over a shard's `part` of it. A shard still takes the
    /// run's range from `whole`, and from the chains of its trails that other shards walk,
    /// what they show of its trails: its report is its part of the whole run's.
    fn run_part(
        &self,
        store: &dyn ObjectStore,
        whole: &Discovery,
        shard: Option<(&Discovery, ShardInfo)>,
    ) -> Report {
        let (part, mut info) = shard.map_or((None, None), |(p, i)| (Some(p), Some(i)));
        let held = Held::of(info.as_ref().map_or(&[], |i| i.slices.as_slice()));
        let mine = part.unwrap_or(whole);
        let selected: Vec<_> = mine.selected(&self.selection).collect();
        // 2. Evidence: CloudTrail's records of the trails found, beside those given.
        let records = self.records(selected.iter().map(|(c, _)| *c));
        // 3. Keys: the range the key source must cover, the whole run's.
        let range = self.prepare_keys(whole);
        self.progress
            .digests_to_check(selected.iter().map(|(_, keys)| keys.len() as u64).sum());
        let inventory = self.inventory_used();
        let plan = Plan {
            store,
            confirm_unlisted: inventory.is_some(),
            bucket: &self.bucket,
            keys: &*self.keys,
            selection: &self.selection,
            as_of: self.as_of,
            run_start: range.map(|r| r.start),
            trail_records: &records,
            omit_valid_logs: self.omit_valid_logs,
            held: &held,
            limits: &self.limits,
            progress: &*self.progress,
        };
        // 4. Walk each chain newest to oldest: verify each digest's signature and links,
        //    and check the log files of the verified ones, in parallel.
        let (mut chains, listed) = chains::walk_all(&plan, &selected);
        // 5. List the log folders: log files no digest lists, what follows each chain's
        //    newest digest (with, for a shard, what other shards' chains show of its
        //    trails), log files delivered before validation started.
        let foreign = part
            .map(|p| trail_facts::foreign_trail_digests(&plan, whole, p))
            .unwrap_or_default();
        let mut scan = unlisted::scan(&plan, mine, &listed, &foreign, &mut chains);
        let mut chains: Vec<_> = chains.into_iter().map(ChainBuilder::finish).collect();
        if let Some(info) = &mut info {
            slice::restrict(
                &mut info.slices,
                &mut chains,
                &mut scan.locations,
                &mut scan.leftovers,
            );
        }
        // 6. The report: coverage timelines, totals, issues and the verdict. What the
        //    discovery's listings found is reported once, by the first shard.
        let first = self.shard.is_none_or(|(index, _)| index == 0);
        let (mut unrecognized_keys, mut listing_failures) = if first {
            (mine.unrecognized.clone(), mine.failures.clone())
        } else {
            Default::default()
        };
        unrecognized_keys.extend(scan.leftovers.strays);
        listing_failures.extend(scan.leftovers.failures);
        let mut report = Report::new(Parts {
            bucket: self.bucket.clone(),
            chains,
            locations: scan.locations,
            unrecognized_keys,
            listing_failures,
            trail_records: records,
            inventory,
        });
        report.shard = info;
        report
    }

    /// Prepares the key source for the whole run's range, and returns that range.
    fn prepare_keys(&self, whole: &Discovery) -> Option<crate::report::TimeRange> {
        let range = self.selection.range(
            whole
                .selected(&self.selection)
                .flat_map(|(_, keys)| keys.iter().map(|k| k.end_time)),
        );
        if let Some(range) = range {
            self.keys.prepare(range.start, range.end);
        }
        range
    }

    /// [`Validator::run`] on a thread of its own, awaited: usable from any async runtime
    /// without blocking its executor.
    ///
    /// # Errors
    /// As [`Validator::run`]; [`Error::Aborted`] if the run's thread panicked.
    pub async fn run_async(self) -> Result<Report> {
        let (sender, receiver) = futures_channel::oneshot::channel();
        let spawned = std::thread::Builder::new()
            .name("cloudtrail-digest-run".into())
            .spawn(move || {
                let _ = sender.send(self.run());
            });
        if let Err(e) = spawned {
            return Err(Error::Aborted(format!("cannot start the run: {e}")));
        }
        receiver
            .await
            .unwrap_or_else(|_| Err(Error::Aborted("the run's thread panicked".into())))
    }

    /// The records given, then those the source reads for the trails not among them.
    fn records<'a>(
        &self,
        chains: impl Iterator<Item = &'a crate::format::key_name::ChainId>,
    ) -> Vec<TrailRecord> {
        let mut records = self.trail_records.clone();
        if let Some(source) = &self.record_source {
            let chains: Vec<_> = chains.collect();
            for record in source.records(&chains) {
                if !records.iter().any(|r| r.trail_arn == record.trail_arn) {
                    records.push(record);
                }
            }
        }
        records
    }
}
