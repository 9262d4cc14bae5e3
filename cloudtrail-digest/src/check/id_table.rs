//! A compact map from 128-bit ids that are already uniform (truncated SHA-256 over a
//! secret salt) to a `u32`, for the log files a run has seen listed: the one structure of
//! a run that grows with the number of log files.
//!
//! A general hash map doubles when full, so it holds its entries at 44% to 87% load, and
//! while it doubles the old and the new table live side by side: 20-byte entries cost from
//! 23 to 66 bytes each at the peak. Here the entries are split by their first bits into up
//! to 1,024 open-addressed tables (linear probing, kept in Robin Hood order) that each
//! grow by a quarter when 7/8 full, one at a time: 23 to 29 bytes each, and what is held
//! twice while a table grows is a thousandth of the whole. The number of tables doubles as
//! the map grows (each table split in two by the next bit, one at a time), so a small map
//! is one small table.
//!
//! The ids' bits place the entries directly, with no further hashing: they are uniform
//! because they are SHA-256 over a per-process secret salt, so no one who picks file keys
//! can make them cluster.

use std::fmt;

/// A log file's identity: see [`crate::check::listed`].
pub(crate) type Id = [u8; 16];

/// The value that marks an empty slot: values are at most [`IdTable::MAX_VALUE`].
const EMPTY: u32 = u32::MAX;

/// At most `2^MAX_SPLIT_BITS` tables.
const MAX_SPLIT_BITS: u32 = 10;

/// The tables split in two when they hold this many entries on average.
const SPLIT_AT: usize = 2048;

/// The smallest table, in slots.
const MIN_SLOTS: usize = 16;

#[derive(Clone, Copy)]
#[repr(C)]
struct Slot {
    id: Id,
    value: u32,
}

const FREE: Slot = Slot {
    id: [0; 16],
    value: EMPTY,
};

/// One open-addressed table: linear probing in Robin Hood order.
#[derive(Clone, Default)]
struct Table {
    slots: Box<[Slot]>,
    len: usize,
}

/// A map from ids to values whose `insert` never overwrites: see the module's documentation.
#[derive(Clone)]
pub(crate) struct IdTable {
    /// The tables, chosen by the first `split_bits` bits of an id.
    tables: Vec<Table>,
    split_bits: u32,
    len: usize,
}

impl Default for IdTable {
    fn default() -> Self {
        Self {
            tables: vec![Table::default()],
            split_bits: 0,
            len: 0,
        }
    }
}

impl fmt::Debug for IdTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdTable")
            .field("len", &self.len)
            .field("tables", &self.tables.len())
            .field("split_bits", &self.split_bits)
            .finish()
    }
}

/// The bits of an id that choose its table: the first 16, of which the first
/// `split_bits` are used.
fn table_bits(id: &Id) -> u16 {
    u16::from_be_bytes([id[0], id[1]])
}

/// The bits of an id that place it in its table (apart from those that choose the table).
fn place_bits(id: &Id) -> u64 {
    u64::from_be_bytes([id[2], id[3], id[4], id[5], id[6], id[7], id[8], id[9]])
}

impl Table {
    /// The slot an id would take in an empty table of `n` slots: the place bits scaled to
    /// `n`, so the order of home slots is the order of place bits.
    fn home(id: &Id, n: usize) -> usize {
        // The product of a u64 and a usize, shifted down by 64, is below n.
        usize::try_from((u128::from(place_bits(id)) * n as u128) >> 64).unwrap_or(0)
    }

    /// How far the entry in slot `i` is from its home slot.
    fn distance(&self, i: usize) -> usize {
        let n = self.slots.len();
        (i + n - Self::home(&self.slots[i].id, n)) % n
    }

    /// The slot that holds an id.
    fn find(&self, id: &Id) -> Option<usize> {
        let n = self.slots.len();
        if n == 0 {
            return None;
        }
        let mut i = Self::home(id, n);
        // Robin Hood order: an entry farther from its home than we are from ours would
        // have been placed before us. There is always a free slot, so the walk ends.
        for distance in 0..n {
            let slot = &self.slots[i];
            if slot.value == EMPTY || self.distance(i) < distance {
                return None;
            }
            if slot.id == *id {
                return Some(i);
            }
            i = if i + 1 == n { 0 } else { i + 1 };
        }
        None
    }

    /// Places an entry known to be absent; the table has a free slot.
    fn place(&mut self, mut entry: Slot) {
        let n = self.slots.len();
        let mut i = Self::home(&entry.id, n);
        let mut distance = 0;
        loop {
            if self.slots[i].value == EMPTY {
                self.slots[i] = entry;
                self.len += 1;
                return;
            }
            let theirs = self.distance(i);
            if theirs < distance {
                std::mem::swap(&mut self.slots[i], &mut entry);
                distance = theirs;
            }
            distance += 1;
            i = if i + 1 == n { 0 } else { i + 1 };
        }
    }

    /// Makes room for one more entry: a quarter more slots when 7/8 full.
    fn reserve_one(&mut self) {
        let n = self.slots.len();
        if (self.len + 1) * 8 <= n * 7 {
            return;
        }
        let grown = (n + n / 4).max(MIN_SLOTS);
        self.resize(grown);
    }

    fn resize(&mut self, slots: usize) {
        let old = std::mem::replace(self, Self::with_slots(slots));
        for entry in old.entries() {
            self.place(*entry);
        }
    }

    /// An empty table of `slots` slots.
    fn with_slots(slots: usize) -> Self {
        Self {
            slots: vec![FREE; slots].into_boxed_slice(),
            len: 0,
        }
    }

    /// An empty table sized to hold `len` entries at about 3/4 load.
    fn sized_for(len: usize) -> Self {
        Self::with_slots((len + len / 3).max(MIN_SLOTS))
    }

    fn entries(&self) -> impl Iterator<Item = &Slot> {
        self.slots.iter().filter(|s| s.value != EMPTY)
    }
}

impl IdTable {
    /// The largest value a map holds: larger ones are stored as this.
    pub(crate) const MAX_VALUE: u32 = EMPTY - 1;

    fn table_of(&self, id: &Id) -> usize {
        if self.split_bits == 0 {
            0
        } else {
            usize::from(table_bits(id) >> (16 - self.split_bits))
        }
    }

    /// How many ids the map holds.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The value of an id, if the map holds it.
    pub(crate) fn get(&self, id: &Id) -> Option<u32> {
        let table = &self.tables[self.table_of(id)];
        table.find(id).map(|slot| table.slots[slot].value)
    }

    /// Inserts an id with its value, unless the map holds it: then returns the value it
    /// holds, unchanged.
    pub(crate) fn insert(&mut self, id: Id, value: u32) -> Option<u32> {
        self.put(id, value, Held::Keep)
    }

    fn put(&mut self, id: Id, value: u32, held: Held) -> Option<u32> {
        let value = value.min(Self::MAX_VALUE);
        let t = self.table_of(&id);
        let table = &mut self.tables[t];
        if let Some(slot) = table.find(&id) {
            let before = table.slots[slot].value;
            if held == Held::Replace {
                table.slots[slot].value = value;
            }
            return Some(before);
        }
        table.reserve_one();
        table.place(Slot { id, value });
        self.len += 1;
        if self.split_bits < MAX_SPLIT_BITS && self.len > self.tables.len() * SPLIT_AT {
            self.split();
        }
        None
    }

    /// Doubles the number of tables: each table is split in two by the next bit of its
    /// ids, one table at a time, so only one table's entries are ever held twice.
    fn split(&mut self) {
        let shift = 15 - self.split_bits;
        let old = std::mem::take(&mut self.tables);
        let mut tables = Vec::with_capacity(old.len() * 2);
        for table in old {
            let upper = table
                .entries()
                .filter(|s| (table_bits(&s.id) >> shift) & 1 == 1)
                .count();
            let mut halves = [Table::sized_for(table.len - upper), Table::sized_for(upper)];
            for entry in table.entries() {
                let half = usize::from((table_bits(&entry.id) >> shift) & 1);
                halves[half].place(*entry);
            }
            tables.extend(halves);
        }
        self.tables = tables;
        self.split_bits += 1;
    }

    /// Adds `offset` to every value (saturating at [`Self::MAX_VALUE`]).
    pub(crate) fn offset_values(&mut self, offset: u32) {
        for table in &mut self.tables {
            for slot in table.slots.iter_mut().filter(|s| s.value != EMPTY) {
                slot.value = slot.value.saturating_add(offset).min(Self::MAX_VALUE);
            }
        }
    }

    /// Takes every entry of `other` that this map does not hold, its value plus
    /// `offset`; `other`'s tables are freed one at a time as they are taken in.
    pub(crate) fn absorb(&mut self, other: Self, offset: u32) {
        self.take_in(other, offset, Held::Keep);
    }

    /// Takes every entry of `other`, its value replacing the value held for the same id.
    pub(crate) fn absorb_over(&mut self, other: Self) {
        self.take_in(other, 0, Held::Replace);
    }

    fn take_in(&mut self, other: Self, offset: u32, held: Held) {
        for table in other.tables {
            for entry in table.entries() {
                self.put(entry.id, entry.value.saturating_add(offset), held);
            }
        }
    }
}

/// What inserting an id the map holds does to the value held.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Held {
    Keep,
    Replace,
}

#[cfg(test)]
mod tests;
