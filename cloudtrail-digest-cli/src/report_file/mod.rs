//! Reports kept beside a run: written to a file or an S3 object (`--output`), and read
//! back by `merge` from files, directories or an S3 prefix.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use cloudtrail_digest::report::ShardInfo;
use cloudtrail_digest::store::read_regular_file;

use crate::args::S3Args;

mod kinds;
#[cfg(feature = "aws")]
mod s3;

pub(crate) use kinds::Each;
use kinds::{is_json, MAX_REPORT_BYTES};
#[cfg(not(feature = "aws"))]
mod s3 {
    //! Reports in S3, in a build without AWS.
    use super::kinds::Each;
    use crate::args::S3Args;

    pub(super) fn write(_: &str, _: Vec<u8>, _: &S3Args) -> anyhow::Result<()> {
        crate::no_aws("an s3:// report").map(|_| ())
    }

    #[derive(Default)]
    pub(super) struct Reader {
        _none: (),
    }

    impl Reader {
        #[allow(clippy::unused_self)]
        pub(super) fn read_prefix(
            &mut self,
            _: &S3Args,
            _: &str,
            _: Each<'_>,
        ) -> anyhow::Result<()> {
            crate::no_aws("reading reports from S3").map(|_| ())
        }
    }
}

/// Where a report goes: `place` itself, or, when it ends in `/` (a folder or an S3 prefix
/// that the shards of a job share), a name in it: `shard-INDEX-of-COUNT.json` for a
/// shard, `report.json` otherwise.
pub(crate) fn name_in(place: &str, shard: Option<&ShardInfo>) -> String {
    if !place.ends_with('/') {
        return place.to_owned();
    }
    match shard {
        Some(s) => format!("{place}shard-{:05}-of-{:05}.json", s.index, s.count),
        None => format!("{place}report.json"),
    }
}

/// Writes `bytes` to `place`: `s3://BUCKET/KEY`, or a file (written beside it, then
/// renamed over it, so a reader never sees half a report).
pub(crate) fn write(place: &str, bytes: Vec<u8>, s3: &S3Args) -> Result<()> {
    if place.starts_with("s3://") {
        return s3::write(place, bytes, s3);
    }
    let path = Path::new(place);
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create the folder of {place}"))?;
    }
    if path.is_dir() {
        bail!("--output {place}: a directory; give a file name");
    }
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    std::fs::write(&partial, &bytes)
        .and_then(|()| std::fs::rename(&partial, path))
        .with_context(|| format!("cannot write the report to {place}"))
}

/// Hands each report under `sources` to `each`, with its name, one at a time: files as
/// given, the `*.json` files of a directory, the `.json` objects under an
/// `s3://BUCKET/PREFIX`; in name order within each source.
pub(crate) fn read_each(sources: &[String], s3: &S3Args, each: Each<'_>) -> Result<()> {
    let mut reader = s3::Reader::default();
    for source in sources {
        if source.starts_with("s3://") {
            reader.read_prefix(s3, source, each)?;
            continue;
        }
        let path = Path::new(source);
        if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("cannot read the directory {source}"))?
                .map(|e| e.map(|e| e.path()))
                .collect::<std::io::Result<_>>()
                .with_context(|| format!("cannot read the directory {source}"))?;
            files.retain(|f| is_json(f));
            files.sort();
            if files.is_empty() {
                bail!("{source}: no .json report in the directory");
            }
            for file in files {
                let (name, bytes) = read_file(&file)?;
                each(name, bytes)?;
            }
        } else {
            let (name, bytes) = read_file(path)?;
            each(name, bytes)?;
        }
    }
    Ok(())
}

fn read_file(path: &Path) -> Result<(String, Vec<u8>)> {
    let name = path.display().to_string();
    let bytes = read_regular_file(path, MAX_REPORT_BYTES)
        .with_context(|| format!("cannot read the report {name}"))?;
    Ok((name, bytes))
}
