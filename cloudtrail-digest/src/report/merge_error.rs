//! Why shard reports cannot be merged.

/// Why shard reports cannot be merged. Each names the report (as the caller named it).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MergeError {
    /// Nothing to merge.
    #[error("no reports to merge")]
    Empty,
    /// A report of a run that was not sharded.
    #[error("{0}: not a shard's report (made without a shard)")]
    NotAShard(String),
    /// Reports of different tool versions, buckets or plans.
    #[error("{name}: {what} differs from {first}'s ({theirs} against {ours})")]
    Mismatch {
        /// The report that differs.
        name: String,
        /// The first report.
        first: String,
        /// What differs.
        what: &'static str,
        /// Its value.
        theirs: String,
        /// The first report's.
        ours: String,
    },
    /// The same shard twice.
    #[error("shard {index} of {count} given twice: {a} and {b}")]
    Duplicate {
        /// The shard.
        index: u32,
        /// Of how many.
        count: u32,
        /// One report.
        a: String,
        /// The other.
        b: String,
    },
    /// Shards of the plan not given.
    #[error("shards missing (of {count}): {}", list(.missing))]
    Missing {
        /// Their indices.
        missing: Vec<u32>,
        /// Of how many.
        count: u32,
    },
    /// A report whose content does not match its shard: a unit outside its share, or
    /// units that do not add up to the plan.
    #[error("{name}: {reason}")]
    Inconsistent {
        /// The report.
        name: String,
        /// What is wrong.
        reason: String,
    },
}

fn list(indices: &[u32]) -> String {
    let shown: Vec<String> = indices.iter().take(20).map(u32::to_string).collect();
    let more = indices.len().saturating_sub(shown.len());
    if more == 0 {
        shown.join(", ")
    } else {
        format!("{} and {more} more", shown.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_shards_are_listed_briefly() {
        assert_eq!(list(&[1, 3]), "1, 3");
        let many: Vec<u32> = (0..25).collect();
        assert!(list(&many).ends_with("and 5 more"));
    }
}
