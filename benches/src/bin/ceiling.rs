//! The hardware ceiling of checking log files from a directory, as a whole process timed
//! like the tool: walk the folder, read every log file (`*.json.gz` under a `CloudTrail/`
//! folder), inflate it whole with libdeflate into a buffer sized from its trailer, and
//! SHA-256 it, on every core (one task per file, one buffer per thread). Nothing else: no
//! digest, no signature, no report. `benches/e2e.sh` alternates it with the tool on the
//! same files and reports the tool's share of it.
//!
//!   ceiling DIR
//!
//! Prints the number of files and of inflated bytes, so that a run over the wrong folder
//! shows.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use cloudtrail_digest_benches::Libdeflate;
use rayon::prelude::*;

/// Every log file under `dir`, in no particular order.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.to_string_lossy().contains("/CloudTrail/")
            && path.extension().is_some_and(|e| e == "gz")
        {
            out.push(path);
        }
    }
    Ok(())
}

/// Reads, inflates and hashes one file; the inflated size.
fn check(path: &Path, libdeflate: &mut Libdeflate) -> Result<u64, String> {
    let gz = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (n, digest) = libdeflate
        .inflate_sha256(&gz)
        .map_err(|e| format!("{}: {e:?}", path.display()))?;
    std::hint::black_box(digest);
    Ok(n as u64)
}

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1) else {
        eprintln!("usage: ceiling DIR");
        return ExitCode::from(2);
    };
    let mut files = Vec::new();
    if let Err(e) = walk(Path::new(&dir), &mut files) {
        eprintln!("ceiling: {e}");
        return ExitCode::from(2);
    }
    let inflated: Result<Vec<u64>, String> = files
        .par_iter()
        .map_init(Libdeflate::default, |libdeflate, path| {
            check(path, libdeflate)
        })
        .collect();
    match inflated {
        Ok(sizes) => {
            println!(
                "{} files, {} bytes inflated",
                files.len(),
                sizes.iter().sum::<u64>()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ceiling: {e}");
            ExitCode::from(1)
        }
    }
}
