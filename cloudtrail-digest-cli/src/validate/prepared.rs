//! What `validate` prepares before it runs: the public keys from key files, and the
//! validator with where it reads and as of when.

use anyhow::{Context as _, Result};
use chrono::{DateTime, Utc};
use cloudtrail_digest::store::read_regular_file;
use cloudtrail_digest::{PublicKeySet, Validator};

use crate::args::ValidateArgs;

/// The largest key file read (a year of every region's keys is well under a megabyte).
const MAX_KEY_FILE_BYTES: u64 = 16 * 1024 * 1024;

pub(super) fn load_keys(args: &ValidateArgs) -> Result<PublicKeySet> {
    let mut keys = PublicKeySet::new();
    for path in &args.public_keys {
        let bytes = read_regular_file(path, MAX_KEY_FILE_BYTES)
            .with_context(|| format!("cannot read public key file {}", path.display()))?;
        let set = PublicKeySet::from_file_bytes(&bytes)
            .with_context(|| format!("public key file {}", path.display()))?;
        keys.extend(set);
    }
    Ok(keys)
}

/// A validator and what it reads: where from and as of when.
pub(super) struct Prepared {
    pub(super) validator: Validator,
    pub(super) read_from: String,
    pub(super) as_of: DateTime<Utc>,
    /// Whether `as_of` was given or recorded, rather than read off the clock.
    pub(super) as_of_fixed: bool,
}
