use super::*;
use sha2::{Digest as _, Sha256};

fn id(n: u32) -> Id {
    let hash = Sha256::digest(n.to_le_bytes());
    let mut id = [0; 16];
    id.copy_from_slice(&hash[..16]);
    id
}

#[test]
fn holds_what_it_was_given_through_growth_and_splits() {
    let mut map = IdTable::default();
    let count = u32::try_from(SPLIT_AT * 6).unwrap();
    for n in 0..count {
        assert_eq!(map.insert(id(n), n % 1000), None, "{n}");
    }
    assert_eq!(map.len(), usize::try_from(count).unwrap());
    assert_eq!(map.tables.len(), 8, "split three times");
    for n in 0..count {
        assert_eq!(map.get(&id(n)), Some(n % 1000), "{n}");
        // Never overwrites.
        assert_eq!(map.insert(id(n), 7), Some(n % 1000));
    }
    for n in count..count * 2 {
        assert_eq!(map.get(&id(n)), None);
    }
    assert_eq!(map.len(), usize::try_from(count).unwrap());
}

#[test]
fn ids_that_share_their_placing_bits_are_still_told_apart() {
    // Not uniform: the same table and home slot for all, only the last byte differs.
    let mut map = IdTable::default();
    for last in 0..=255u8 {
        let mut same = [9; 16];
        same[15] = last;
        assert_eq!(map.insert(same, u32::from(last)), None);
    }
    for last in 0..=255u8 {
        let mut same = [9; 16];
        same[15] = last;
        assert_eq!(map.get(&same), Some(u32::from(last)));
    }
    assert_eq!(map.get(&[8; 16]), None);
    // The all-zero id is an id like any other.
    assert_eq!(map.insert([0; 16], 3), None);
    assert_eq!(map.get(&[0; 16]), Some(3));
}

#[test]
fn the_largest_value_is_kept_apart_from_the_empty_mark() {
    let mut map = IdTable::default();
    map.insert(id(1), u32::MAX);
    assert_eq!(map.get(&id(1)), Some(IdTable::MAX_VALUE));
    map.offset_values(5);
    assert_eq!(map.get(&id(1)), Some(IdTable::MAX_VALUE));
}

#[test]
fn absorbing_keeps_its_own_values_and_offsets_the_others() {
    let mut ours = IdTable::default();
    let mut theirs = IdTable::default();
    for n in 0..5000 {
        ours.insert(id(n), 1);
    }
    for n in 4000..9000 {
        theirs.insert(id(n), 2);
    }
    let mut over = ours.clone();
    over.absorb_over(theirs.clone());
    ours.absorb(theirs, 10);
    assert_eq!(ours.len(), 9000);
    assert_eq!(ours.get(&id(4500)), Some(1));
    assert_eq!(ours.get(&id(8999)), Some(12));
    assert_eq!(over.len(), 9000);
    assert_eq!(over.get(&id(4500)), Some(2));
    assert_eq!(over.get(&id(10)), Some(1));
}

#[test]
fn memory_per_entry_stays_within_bounds_at_every_size() {
    let mut map = IdTable::default();
    for n in 0..200_000u32 {
        map.insert(id(n), 0);
        if n % 997 == 0 && n > 10_000 {
            let slots: usize = map.tables.iter().map(|t| t.slots.len()).sum();
            let bytes = slots * std::mem::size_of::<Slot>();
            assert!(
                bytes <= (usize::try_from(n).unwrap() + 1) * 30,
                "{bytes} bytes at {n}"
            );
        }
    }
}

#[test]
fn clusters_that_wrap_around_a_table_agree_with_a_hash_map() {
    // Ids whose placing bits are all near the top home at the last slots and wrap to the
    // first; inserted in an order that makes Robin Hood swap, compared with a plain map.
    let mut map = IdTable::default();
    let mut plain = std::collections::HashMap::new();
    for n in 0..3000u32 {
        let mut clustered = id(n);
        clustered[0] = 0;
        clustered[1] = 0;
        for b in &mut clustered[2..8] {
            *b = 0xff;
        }
        clustered[8] = u8::try_from(n % 7).unwrap();
        let value = n % 11;
        assert_eq!(
            map.insert(clustered, value),
            plain.get(&clustered).copied(),
            "{n}"
        );
        plain.entry(clustered).or_insert(value);
    }
    for (id, value) in &plain {
        assert_eq!(map.get(id), Some(*value));
    }
    assert_eq!(map.len(), plain.len());
    let mut absent = id(99_999);
    absent[..8].copy_from_slice(&[0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    assert_eq!(map.get(&absent), None);
}
