//! Runs whose listings come from an S3 Inventory, in CSV and in Parquet, give the report a
//! live listing gives, after the bucket changed since the inventory was taken: a digest it
//! lists deleted since, a log file injected after it, one it shows that is gone since; and
//! sharded, they merge to the same report. Its one blind spot is shown as documented.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone as _, Utc};

use cloudtrail_digest::inventory::{Inventory, InventoryError};
use cloudtrail_digest::report::{merge, DigestStatus, Report};
use cloudtrail_digest::store::{MemoryStore, Object};
use cloudtrail_digest::{PublicKeySet, Validator};
use cloudtrail_digest_testgen::inventory::{inventory, Format};
use cloudtrail_digest_testgen::{GenDigest, Generator, Hour, TestKey, TrailSpec, Tree};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 7).unwrap()
}

/// Taken four days in: day folders from May 3 on are listed directly.
fn taken() -> DateTime<Utc> {
    t0() + Duration::days(4)
}

fn spec(region: &str) -> TrailSpec {
    TrailSpec {
        bucket: "b".into(),
        prefix: None,
        org_id: None,
        account: "111111111111".into(),
        region: region.into(),
        trail: "t".into(),
        home_region: "us-east-1".into(),
    }
}

/// The bucket when the inventory was taken: two regions, five days of hourly digests.
fn bucket_then(k: &TestKey, g: &mut Generator) -> (Tree, Vec<GenDigest>) {
    let mut tree = Tree::default();
    let hours = vec![
        Hour {
            logs: 1,
            ..Hour::default()
        };
        24 * 5
    ];
    let digests = g.chain(&mut tree, &spec("us-east-1"), &[k], t0(), &hours, None);
    g.chain(
        &mut tree,
        &spec("eu-west-1"),
        &[k],
        t0(),
        &hours[..30],
        None,
    );
    (tree, digests)
}

fn memory(tree: &Tree) -> MemoryStore {
    let mut store = MemoryStore::new();
    for (key, o) in &tree.objects {
        store.insert("b", key, Object::new(o.body.clone(), o.metadata.clone()));
    }
    store
}

/// The inventory of `tree`, loaded from its objects in bucket `inv`.
fn load(tree: &Tree, format: Format, store: &mut MemoryStore) -> Result<Inventory, InventoryError> {
    let keys: Vec<(String, u64)> = tree
        .objects
        .iter()
        .map(|(k, o)| (k.clone(), o.body.len() as u64))
        .collect();
    for (key, body) in inventory(
        "b",
        &keys,
        taken(),
        format,
        "inv",
        "b/daily/2024-05-05T01-00Z",
    )
    .unwrap()
    {
        store.insert("inv", &key, Object::new(body, None));
    }
    Inventory::load(
        &*store,
        "inv",
        "b/daily/2024-05-05T01-00Z/manifest.json",
        "",
    )
}

fn validator(store: MemoryStore, k: &TestKey) -> Validator {
    let list = serde_json::json!({ "PublicKeyList": [k.list_entry(t0() - Duration::days(1), t0() + Duration::days(30))] });
    Validator::new(store, "b")
        .public_keys(PublicKeySet::from_list_public_keys_json(list.to_string().as_bytes()).unwrap())
        .as_of(t0() + Duration::days(5))
}

fn key() -> TestKey {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/keys");
    TestKey::load(&dir, 1).unwrap()
}

fn without_inventory(mut report: Report) -> Report {
    assert!(report.inventory.is_some());
    report.inventory = None;
    report
}

/// Changes the bucket after its inventory (`then`) was taken: returns the log file injected
/// then deleted, the one injected since, and the bucket as the inventory saw it.
fn change_since(
    tree: &mut Tree,
    g: &mut Generator,
    digests: &[GenDigest],
) -> (String, String, Tree) {
    let gone_since = g.unlisted_log(tree, &spec("us-east-1"), t0() + Duration::hours(30));
    let then = tree.clone();
    // Since: a digest of May 2 deleted, the log file injected then deleted, another log
    // file injected on May 4 (after the cut-off).
    tree.objects.remove(&digests[40].key);
    tree.objects.remove(&gone_since);
    // A lifecycle rule expires the oldest five hours, digests and log files alike. Live, the
    // oldest digest left links to an expired one, which is not found (expiry looks like
    // deletion there); the inventory, which still lists all five, must say no more.
    for digest in &digests[..5] {
        tree.objects.remove(&digest.key);
        for log in &digest.logs {
            tree.objects.remove(log);
        }
    }
    let injected = g.unlisted_log(tree, &spec("us-east-1"), t0() + Duration::hours(80));
    (gone_since, injected, then)
}

#[test]
fn an_inventory_run_gives_the_live_runs_report_in_both_formats() {
    let k = key();
    let mut g = Generator::new(7);
    let (mut tree, digests) = bucket_then(&k, &mut g);
    let (gone_since, injected, then) = change_since(&mut tree, &mut g, &digests);
    let live = validator(memory(&tree), &k).run().unwrap();
    let deleted: Vec<_> = live
        .chains
        .iter()
        .flat_map(|c| &c.digests)
        .filter(|d| matches!(d.status, DigestStatus::NotFound { .. }))
        .collect();
    assert_eq!(
        deleted.len(),
        2,
        "the deleted digest, and the expired one the oldest left names"
    );
    let unlisted: Vec<&str> = live
        .locations
        .iter()
        .flat_map(|l| &l.unlisted)
        .map(|u| u.key.as_str())
        .collect();
    // The injected file, and the deleted digest's log file, which no digest lists now.
    assert_eq!(unlisted.len(), 2, "{unlisted:?}");
    assert!(unlisted.contains(&injected.as_str()));
    assert!(!unlisted.contains(&gone_since.as_str()));
    for format in [Format::Csv, Format::Parquet] {
        let mut store = memory(&tree);
        let inv = Arc::new(load(&then, format, &mut store).unwrap());
        assert_eq!(
            inv.len(),
            then.objects.len(),
            "{format:?}: current versions only"
        );
        let v = validator(store, &k).inventory(inv);
        let report = v.run().unwrap();
        let used = report.inventory.clone().unwrap();
        assert_eq!(used.listed_directly_from.to_string(), "2024-05-03");
        assert_eq!(without_inventory(report), live, "{format:?}");
        for count in [2, 3] {
            let parts: Vec<(String, Report)> = (0..count)
                .map(|i| {
                    (
                        format!("shard {i}"),
                        v.clone().shard(i, count).run().unwrap(),
                    )
                })
                .collect();
            assert_eq!(
                without_inventory(merge(parts).unwrap()),
                live,
                "{format:?}, {count} shards"
            );
        }
    }
}

#[test]
fn a_file_added_to_an_old_day_after_the_inventory_is_its_documented_blind_spot() {
    let k = key();
    let mut g = Generator::new(8);
    let (mut tree, _) = bucket_then(&k, &mut g);
    let then = tree.clone();
    let injected = g.unlisted_log(&mut tree, &spec("us-east-1"), t0() + Duration::hours(10));
    let live = validator(memory(&tree), &k).run().unwrap();
    assert_eq!(
        live.locations
            .iter()
            .map(|l| l.unlisted.len())
            .sum::<usize>(),
        1
    );
    let mut store = memory(&tree);
    let inv = Arc::new(load(&then, Format::Csv, &mut store).unwrap());
    let report = validator(store, &k).inventory(inv).run().unwrap();
    assert!(
        report.locations.iter().all(|l| l.unlisted.is_empty()),
        "{injected} is not seen"
    );
}

#[test]
fn an_inventory_that_is_not_what_its_manifest_says_is_an_error_naming_the_file() {
    let k = key();
    let (tree, _) = bucket_then(&k, &mut Generator::new(9));
    let mut store = memory(&tree);
    load(&tree, Format::Parquet, &mut store).unwrap();
    let file = "b/daily/2024-05-05T01-00Z/data/part-1.parquet";
    store.insert("inv", file, Object::new(b"PAR1 changed".to_vec(), None));
    let err =
        Inventory::load(&store, "inv", "b/daily/2024-05-05T01-00Z/manifest.json", "").unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(file) && text.contains("bytes where the manifest says"),
        "{text}"
    );
    let err = Inventory::load(&store, "inv", "b/none/manifest.json", "").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cannot read the inventory manifest s3://inv/b/none/manifest.json"),
        "{err}"
    );
}

#[test]
fn an_inventory_of_another_bucket_is_refused() {
    let k = key();
    let (tree, _) = bucket_then(&k, &mut Generator::new(10));
    let mut store = memory(&tree);
    let inv = load(&tree, Format::Csv, &mut store).unwrap();
    let other = Inventory::new(inv.manifest(), "other-bucket", inv.taken(), Vec::new());
    let err = validator(store, &k)
        .inventory(Arc::new(other))
        .run()
        .unwrap_err();
    assert!(
        err.to_string().contains("lists bucket \"other-bucket\""),
        "{err}"
    );
}
