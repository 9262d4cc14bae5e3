//! A store whose object listings come from an inventory, up to shortly before it was
//! taken, and from the store itself after that.

use std::sync::Arc;

use chrono::{Duration, NaiveDate};

use super::snapshot::Inventory;
use crate::store::{Listing, Object, ObjectStore, StoreError, StoreErrorKind};

/// How long before an inventory was taken its listings are not trusted to be complete:
/// S3 Inventory is eventually consistent, so the day folders from this long before it was
/// taken onward are listed directly.
pub const INVENTORY_LAG: Duration = Duration::days(2);

/// Serves listings of a CloudTrail region folder or day folder (`.../CloudTrail/REGION/`,
/// `.../CloudTrail-Digest/REGION/YYYY/MM/DD/`) of the inventory's bucket from the inventory
/// for the days before its cut-off ([`INVENTORY_LAG`] before it was taken), and lists the
/// later days directly. Every other listing, the folder listings (a few requests) and every
/// read go to the inner store: a key the inventory lists that is gone is not found, as it
/// would be from a live listing.
///
/// An object added after the inventory was taken to a day folder before its cut-off is not
/// seen: a log file injected there then is not reported. A live listing has no such blind
/// spot; the report names the inventory so that a reader knows which was used.
#[derive(Debug)]
pub struct InventoryStore<S: ?Sized> {
    inventory: Arc<Inventory>,
    cutoff: NaiveDate,
    inner: Arc<S>,
}

impl<S: ObjectStore + ?Sized> InventoryStore<S> {
    /// `inner`, its listings of `inventory`'s bucket served from `inventory`.
    pub fn new(inner: Arc<S>, inventory: Arc<Inventory>) -> Self {
        let cutoff = cutoff_of(&inventory);
        Self {
            inventory,
            cutoff,
            inner,
        }
    }

    /// The first day listed directly.
    pub fn cutoff(&self) -> NaiveDate {
        self.cutoff
    }

    /// The region folder's listing: the inventory's keys before the cut-off, then the day
    /// folders the bucket has from the cut-off on, listed directly.
    fn list_region(&self, bucket: &str, prefix: &str) -> Result<Listing, StoreError> {
        let mut listing = Listing::of(
            self.inventory
                .under(prefix)
                .iter()
                .filter(|k| day_of(&k[prefix.len()..]).is_none_or(|d| d < self.cutoff))
                .map(ToString::to_string)
                .collect(),
        );
        if prefix.contains("/CloudTrail-Digest/") {
            self.drop_expired(bucket, &mut listing.keys);
        }
        for folder in self.recent_days(bucket, prefix, &mut listing)? {
            let live = self.inner.list(bucket, &folder)?;
            listing.keys.extend(live.keys);
            listing.problems.extend(live.problems);
        }
        listing.keys.sort_unstable();
        listing.keys.dedup();
        Ok(listing)
    }

    /// Drops the oldest digests the inventory lists that are gone since, as a lifecycle
    /// rule expires them, up to the oldest that is still there: a live listing would not
    /// list them, and the walk would take each for a deleted digest. Only the oldest run is
    /// dropped: a digest gone after one that is still there is left for the walk to find
    /// missing, as it would from a live listing (a link to it, hours it should cover).
    fn drop_expired(&self, bucket: &str, keys: &mut Vec<String>) {
        let gone = keys
            .iter()
            .take_while(|key| {
                self.inner
                    .get(bucket, key)
                    .is_err_and(|e| e.kind() == StoreErrorKind::NotFound)
            })
            .count();
        keys.drain(..gone);
    }

    /// The bucket's day folders of the region folder `prefix` from the cut-off on, found by
    /// listing the year, month and day folders (a few requests).
    fn recent_days(
        &self,
        bucket: &str,
        prefix: &str,
        listing: &mut Listing,
    ) -> Result<Vec<String>, StoreError> {
        let cutoff = self.cutoff.format("%Y/%m/%d/").to_string();
        let mut folders = vec![prefix.to_owned()];
        // Year, then month, then day folders: a folder is kept while the cut-off's date
        // does not come after everything under it.
        for depth in [5, 8, 11] {
            let mut next = Vec::new();
            for folder in folders {
                let found = self.inner.list_prefixes(bucket, &folder)?;
                listing.problems.extend(found.problems);
                next.extend(found.keys.into_iter().filter(|f| {
                    let rel = f.get(prefix.len()..).unwrap_or_default();
                    rel.len() == depth && *rel >= cutoff[..depth]
                }));
            }
            folders = next;
        }
        Ok(folders)
    }
}

/// The first day an inventory's listings are not trusted for: [`INVENTORY_LAG`] before it
/// was taken.
pub fn cutoff_of(inventory: &Inventory) -> NaiveDate {
    (inventory.taken() - INVENTORY_LAG).date_naive()
}

/// The date of the day folder a key (relative to its region folder) lies in.
fn day_of(rest: &str) -> Option<NaiveDate> {
    let mut parts = rest.splitn(4, '/');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    parts.next()?;
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

/// What a listing prefix is: a region folder, a day folder under one, or anything else.
enum Folder {
    Region,
    Day(NaiveDate),
    Other,
}

fn folder_of(prefix: &str) -> Folder {
    let Some(inner) = prefix.strip_suffix('/') else {
        return Folder::Other;
    };
    let parts: Vec<&str> = inner.rsplit('/').take(5).collect();
    let is_trail_folder = |s: &&str| matches!(*s, "CloudTrail" | "CloudTrail-Digest");
    if parts.get(1).is_some_and(is_trail_folder) {
        return Folder::Region;
    }
    if let [d, m, y, _region, trail] = parts[..] {
        if is_trail_folder(&trail) {
            if let Some(date) = day_of(&format!("{y}/{m}/{d}/")) {
                return Folder::Day(date);
            }
        }
    }
    Folder::Other
}

impl<S: ObjectStore + ?Sized> ObjectStore for InventoryStore<S> {
    fn list(&self, bucket: &str, prefix: &str) -> Result<Listing, StoreError> {
        if bucket != self.inventory.source_bucket() {
            return self.inner.list(bucket, prefix);
        }
        match folder_of(prefix) {
            Folder::Day(day) if day < self.cutoff => Ok(Listing::of(
                self.inventory
                    .under(prefix)
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
            )),
            Folder::Region => self.list_region(bucket, prefix),
            Folder::Day(_) | Folder::Other => self.inner.list(bucket, prefix),
        }
    }

    fn get(&self, bucket: &str, key: &str) -> Result<Object, StoreError> {
        self.inner.get(bucket, key)
    }

    fn list_prefixes(&self, bucket: &str, prefix: &str) -> Result<Listing, StoreError> {
        self.inner.list_prefixes(bucket, prefix)
    }

    fn get_each(
        &self,
        requests: &[(&str, &str)],
        each: &(dyn Fn(usize, Result<Object, StoreError>) + Sync),
    ) {
        self.inner.get_each(requests, each);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;
    use chrono::{DateTime, TimeZone as _, Utc};

    const REGION: &str = "AWSLogs/111122223333/CloudTrail/us-east-1/";

    fn key(day: &str, name: &str) -> String {
        format!("{REGION}{day}/{name}")
    }

    fn store(
        now: &[&str],
        inventory: &[&str],
        taken: DateTime<Utc>,
    ) -> InventoryStore<MemoryStore> {
        let mut mem = MemoryStore::new();
        for k in now {
            mem.insert("b", k, Object::new(Vec::new(), None));
        }
        let keys = inventory.iter().map(|k| (*k).into()).collect();
        InventoryStore::new(
            Arc::new(mem),
            Arc::new(Inventory::new("s3://i/m", "b", taken, keys)),
        )
    }

    #[test]
    fn old_days_come_from_the_inventory_and_recent_ones_from_the_bucket() {
        let taken = Utc.with_ymd_and_hms(2024, 3, 10, 1, 0, 0).unwrap();
        let old = key("2024/03/01", "a");
        let gone = key("2024/03/02", "deleted-since");
        let late = key("2024/03/02", "added-since");
        let recent = key("2024/03/09", "r");
        let s = store(&[&old, &late, &recent], &[&old, &gone, &recent], taken);
        assert_eq!(s.cutoff().to_string(), "2024-03-08");
        // Before the cut-off, what the inventory saw, a key gone since included (reading it
        // then says not found); after it, what the bucket holds.
        let listed = s.list("b", REGION).unwrap().keys;
        assert_eq!(listed, [old.clone(), gone.clone(), recent.clone()]);
        assert_eq!(
            s.list("b", &format!("{REGION}2024/03/02/")).unwrap().keys,
            [gone]
        );
        assert_eq!(
            s.list("b", &format!("{REGION}2024/03/09/")).unwrap().keys,
            [recent]
        );
        // Other buckets and other prefixes are listed directly.
        assert_eq!(s.list("b", "AWSLogs/").unwrap().keys.len(), 3);
        // (Listed directly: the memory store has no such bucket.)
        assert!(s.list("other", REGION).is_err());
    }

    #[test]
    fn folders_are_told_apart() {
        assert!(matches!(folder_of(REGION), Folder::Region));
        assert!(matches!(
            folder_of("p/AWSLogs/o-1/1/CloudTrail-Digest/eu-west-1/"),
            Folder::Region
        ));
        assert!(matches!(
            folder_of(&format!("{REGION}2024/03/02/")),
            Folder::Day(_)
        ));
        assert!(matches!(
            folder_of(&format!("{REGION}2024/03/")),
            Folder::Other
        ));
        assert!(matches!(folder_of("AWSLogs/1/"), Folder::Other));
        assert!(matches!(
            folder_of(REGION.trim_end_matches('/')),
            Folder::Other
        ));
    }
}
