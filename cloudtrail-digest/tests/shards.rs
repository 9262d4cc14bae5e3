//! The library's sharded runs: every shard of a plan, merged, is the report of one run,
//! over generated buckets of several accounts, regions, prefixes and trails with findings
//! of every kind, for every shard count up to more shards than units.

use chrono::{DateTime, Duration, TimeZone as _, Utc};

use cloudtrail_digest::report::{merge, MergeError, Report};
use cloudtrail_digest::store::{MemoryStore, Object};
use cloudtrail_digest::{PublicKeySet, Validator};
use cloudtrail_digest_testgen::{GenDigest, Generator, Hour, TestKey, TrailSpec, Tree};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 7).unwrap()
}

fn key() -> TestKey {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/keys");
    TestKey::load(&dir, 1).unwrap()
}

/// Accounts × regions, two prefixes for one account (a prefix changed), staggered starts
/// and lengths, and in some places an altered log, a deleted digest, an injected log, a
/// newest digest that does not verify, or logs and no digest.
fn bucket(k: &TestKey) -> MemoryStore {
    let mut tree = Tree::default();
    let mut seed = 0;
    for (account, prefix) in [
        ("111111111111", None),
        ("222222222222", Some("a")),
        ("222222222222", Some("b")),
        ("333333333333", None),
    ] {
        for (hours, region) in [(0, "us-east-1"), (1, "eu-west-1"), (2, "sa-east-1")] {
            seed += 1;
            let spec = TrailSpec {
                bucket: "b".into(),
                prefix: prefix.map(str::to_owned),
                org_id: None,
                account: account.into(),
                region: region.into(),
                trail: format!("trail-{}", prefix.unwrap_or("main")),
                home_region: "us-east-1".into(),
            };
            let mut g = Generator::new(seed);
            let start = t0() + Duration::hours(hours);
            if seed == 5 {
                g.unlisted_log(&mut tree, &spec, start + Duration::minutes(20));
                continue;
            }
            let length = vec![Hour::default(); 4 + usize::try_from(hours).unwrap()];
            let d = g.chain(&mut tree, &spec, &[k], start, &length, None);
            tamper(seed, &d, &mut g, &spec, start, &mut tree);
        }
    }
    let mut store = MemoryStore::new();
    for (key, o) in &tree.objects {
        store.insert("b", key, Object::new(o.body.clone(), o.metadata.clone()));
    }
    store
}

fn tamper(
    seed: u64,
    d: &[GenDigest],
    g: &mut Generator,
    spec: &TrailSpec,
    start: DateTime<Utc>,
    tree: &mut Tree,
) {
    match seed {
        2 => {
            tree.objects.get_mut(&d[1].logs[0]).unwrap().body =
                cloudtrail_digest_testgen::gzip(b"{}");
        }
        3 => {
            // The trail's newest digest elsewhere does not verify: the one before shows
            // until when the trail validated.
            let newest = d.last().unwrap();
            let object = tree.objects.get_mut(&newest.key).unwrap();
            let meta = object.metadata.as_mut().unwrap();
            meta.insert("signature".into(), "00".repeat(256));
        }
        7 => {
            tree.objects.remove(&d[2].key);
        }
        9 => {
            g.unlisted_log(tree, spec, start + Duration::minutes(100));
        }
        _ => {}
    }
}

fn validator(store: &MemoryStore, k: &TestKey) -> Validator {
    let list = serde_json::json!({ "PublicKeyList": [k.list_entry(t0() - Duration::days(1), t0() + Duration::days(30))] });
    Validator::new(store.clone(), "b")
        .public_keys(PublicKeySet::from_list_public_keys_json(list.to_string().as_bytes()).unwrap())
        .as_of(t0() + Duration::days(2))
}

fn shards(v: &Validator, count: u32) -> Vec<(String, Report)> {
    (0..count)
        .map(|i| {
            (
                format!("shard {i}"),
                v.clone().shard(i, count).run().unwrap(),
            )
        })
        .collect()
}

#[test]
fn every_shard_count_merges_to_one_run() {
    let k = key();
    let store = bucket(&k);
    let v = validator(&store, &k);
    let whole = v.run().unwrap();
    assert!(whole.shard.is_none());
    assert_eq!(whole.locations.len(), 12);
    assert!(whole.totals.log_files.invalid >= 2, "{:?}", whole.totals);
    for count in 1..=13 {
        let parts = shards(&v, count);
        // Every location once: whole in one shard, or cut into time slices.
        let mut locations: Vec<_> = parts
            .iter()
            .flat_map(|(_, r)| {
                let shard = r.shard.as_ref().unwrap();
                let sliced = shard.slices.iter().flat_map(|u| u.locations.clone());
                shard.units.iter().cloned().chain(sliced)
            })
            .collect();
        locations.sort();
        locations.dedup();
        assert_eq!(locations.len(), 12, "{count} shards");
        let sliced = parts
            .iter()
            .any(|(_, r)| !r.shard.as_ref().unwrap().slices.is_empty());
        // One shard never cuts; more shards than units must.
        assert!(sliced || count <= 12, "{count} shards");
        assert!(!sliced || count > 1, "{count} shards");
        let merged = merge(parts).unwrap();
        if merged != whole {
            let (a, b) = (
                serde_json::to_value(&whole).unwrap(),
                serde_json::to_value(&merged).unwrap(),
            );
            let differs: Vec<String> = a
                .as_object()
                .unwrap()
                .iter()
                .filter(|(k, v)| b.get(k.as_str()) != Some(*v))
                .map(|(k, v)| format!("{k}:\n{v}\nvs\n{}", b[k.as_str()]))
                .collect();
            panic!("{count} shards: {}", differs.join("\n\n"));
        }
    }
}

#[test]
fn shards_are_balanced_by_digests() {
    let k = key();
    let store = bucket(&k);
    let parts = shards(&validator(&store, &k), 3);
    let digests: Vec<u64> = parts
        .iter()
        .map(|(_, r)| r.chains.iter().map(|c| c.digests.len() as u64).sum())
        .collect();
    let (min, max) = (digests.iter().min().unwrap(), digests.iter().max().unwrap());
    assert!(max - min <= 6, "{digests:?}");
    // More shards than accounts and regions: the heavy ones are cut into time slices, so
    // that no shard owns much more than its share of the digests.
    let parts = shards(&validator(&store, &k), 13);
    let owned: Vec<u64> = parts
        .iter()
        .map(|(_, r)| r.chains.iter().map(|c| c.digests.len() as u64).sum())
        .collect();
    let total: u64 = owned.iter().sum();
    assert!(
        owned.iter().all(|o| *o * 13 <= total * 2),
        "{owned:?} of {total}"
    );
}

#[test]
fn a_merge_of_the_wrong_shards_is_an_error_naming_them() {
    let k = key();
    let store = bucket(&k);
    let v = validator(&store, &k);
    let mut parts = shards(&v, 4);
    let last = parts.pop().unwrap();
    assert!(
        matches!(merge(parts.clone()), Err(MergeError::Missing { ref missing, count: 4 }) if missing == &[3])
    );
    parts.push(parts[0].clone());
    assert!(matches!(
        merge(parts.clone()),
        Err(MergeError::Duplicate { index: 0, .. })
    ));
    parts.pop();
    // A shard of a plan judged as of another time.
    let other = v
        .clone()
        .as_of(t0() + Duration::days(3))
        .shard(3, 4)
        .run()
        .unwrap();
    parts.push(("other".into(), other));
    let err = merge(parts.clone()).unwrap_err();
    assert!(err.to_string().starts_with("other: plan"), "{err}");
    parts.pop();
    parts.push(last);
    assert!(merge(parts.clone()).is_ok());
    // A shard that claims another's unit as well, or an index outside the plan.
    let mut forged = parts.clone();
    let theirs = forged[2].1.shard.as_ref().unwrap().units[0].clone();
    forged[1].1.shard.as_mut().unwrap().units.push(theirs);
    let err = merge(forged).unwrap_err();
    assert!(
        err.to_string().contains("which shard 2 holds too")
            || err.to_string().contains("which shard 1 holds too"),
        "{err}"
    );
    let mut outside = parts.clone();
    outside[3].1.shard.as_mut().unwrap().index = 7;
    assert!(merge(outside)
        .unwrap_err()
        .to_string()
        .contains("not a shard of the plan"));
    assert!(
        matches!(merge(vec![("whole".into(), v.run().unwrap())]), Err(MergeError::NotAShard(n)) if n == "whole")
    );
    assert!(matches!(merge(Vec::new()), Err(MergeError::Empty)));
    let err = v.clone().shard(4, 4).run().unwrap_err();
    assert!(err.to_string().contains("below the count"), "{err}");
}

#[test]
fn time_slices_that_disagree_or_are_missing_are_refused() {
    let k = key();
    let store = bucket(&k);
    let v = validator(&store, &k);
    // More shards than units: the heaviest accounts and regions are cut into slices.
    let count = 13;
    let parts = shards(&v, count);
    let (at, unit) = parts
        .iter()
        .enumerate()
        .find_map(|(i, (_, r))| {
            let unit = r.shard.as_ref().unwrap().slices.first()?;
            (!unit.holds_last()).then(|| (i, unit.clone()))
        })
        .expect("a shard holding a slice that is not the last");
    // A log file injected into that account and region while the shards ran: the shard
    // run after it saw another bucket than the others.
    let log = parts[at].1.chains[0]
        .digests
        .iter()
        .flat_map(|d| &d.logs)
        .next()
        .unwrap()
        .key
        .clone();
    let mut changed = store.clone();
    let copy = changed.object_mut("b", &log).unwrap().clone();
    let injected = log.replace(".json.gz", "X.json.gz");
    changed.insert("b", &injected, copy.into());
    let rerun = validator(&changed, &k)
        .shard(u32::try_from(at).unwrap(), count)
        .run()
        .unwrap();
    let mut disagreeing = parts.clone();
    disagreeing[at].1 = rerun;
    let err = merge(disagreeing).unwrap_err().to_string();
    assert!(
        err.contains("the bucket changed while the shards ran"),
        "{err}"
    );
    // A slice no report holds.
    let mut missing = parts.clone();
    let held = &mut missing[at].1.shard.as_mut().unwrap().slices[0].held;
    let dropped = held.remove(0);
    let err = merge(missing).unwrap_err().to_string();
    let place = format!("{}/{}", unit.account_id, unit.region);
    assert!(
        err.contains(&format!("slice {dropped} of the")) && err.contains(&place),
        "{err}"
    );
    // A slice held twice, and a unit held whole by one shard and in slices by others.
    let mut twice = parts.clone();
    let other = (at + 1) % parts.len();
    let mut stolen = unit.clone();
    stolen.held = vec![unit.held[0]];
    twice[other].1.shard.as_mut().unwrap().slices.push(stolen);
    let err = merge(twice).unwrap_err().to_string();
    assert!(err.contains("holds too"), "{err}");
    let mut whole = parts.clone();
    let theirs = unit.locations[0].clone();
    whole[other].1.shard.as_mut().unwrap().units.push(theirs);
    let err = merge(whole).unwrap_err().to_string();
    assert!(err.contains("in slices"), "{err}");
    assert!(merge(parts).is_ok());
}

#[test]
fn a_forged_slice_length_or_position_is_refused_not_allocated() {
    let k = key();
    let store = bucket(&k);
    let parts = shards(&validator(&store, &k), 13);
    let (at, chain) = parts
        .iter()
        .enumerate()
        .find_map(|(i, (_, r))| {
            let c = r
                .chains
                .iter()
                .position(|c| c.slice.as_ref().is_some_and(|s| !s.positions.is_empty()))?;
            Some((i, c))
        })
        .expect("a sliced chain's part with digests");
    let mut forged = parts.clone();
    forged[at].1.chains[chain].slice.as_mut().unwrap().of = u64::MAX;
    let err = merge(forged).unwrap_err().to_string();
    assert!(err.contains("says the chain has"), "{err}");
    let mut forged = parts.clone();
    forged[at].1.chains[chain].slice.as_mut().unwrap().positions[0] = u64::MAX;
    let err = merge(forged).unwrap_err().to_string();
    assert!(err.contains("beyond the chain"), "{err}");
    assert!(merge(parts).is_ok());
}
