//! `cloudtrail-digest-testgen`: writes the golden cases (and keys) used by the tests.
//!
//! ```text
//! cargo run -p cloudtrail-digest-testgen -- cases testdata/keys testdata/cases
//! cargo run --release -p cloudtrail-digest-testgen -- keys testdata/keys   # once; test-only keys
//! ```

use std::path::PathBuf;

use anyhow::{bail, Context as _, Result};
use cloudtrail_digest_testgen::{cases, TestKey};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["keys", dir] => {
            let dir = PathBuf::from(dir);
            std::fs::create_dir_all(&dir)?;
            for n in 1..=2 {
                let pem = TestKey::generate_pem(0x1FED_F00D + n)?;
                let path = dir.join(format!("test-only-key-{n}.pem"));
                std::fs::write(&path, pem)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            Ok(())
        }
        ["cases", keys, out] => cases::write_all(&PathBuf::from(keys), &PathBuf::from(out)),
        _ => bail!("usage: cloudtrail-digest-testgen keys DIR | cases KEYDIR OUTDIR"),
    }
}
