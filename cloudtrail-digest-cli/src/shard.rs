//! Which shard a run is: `--shard INDEX/COUNT`, or the engine's own variables (AWS Batch
//! array jobs, Kubernetes Indexed Jobs).

use anyhow::{bail, Context as _, Result};
use cloudtrail_digest::report::MAX_SHARDS;

/// AWS Batch: the child's index in an array job.
const BATCH_INDEX: &str = "AWS_BATCH_JOB_ARRAY_INDEX";
/// AWS Batch: the array job's size.
const BATCH_SIZE: &str = "AWS_BATCH_JOB_ARRAY_SIZE";
/// Kubernetes Indexed Jobs: the pod's completion index.
const K8S_INDEX: &str = "JOB_COMPLETION_INDEX";

/// The shard (index, count) from `--shard` and `--shard-count`, reading the engines'
/// variables through `env` when the index is not given: `None` for a whole run.
pub(crate) fn resolve(
    shard: Option<&str>,
    shard_count: Option<u32>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<(u32, u32)>> {
    let (index, count) = match shard {
        None if shard_count.is_none() => return Ok(None),
        Some(spec) if spec != "env" => {
            let (i, n) = spec
                .split_once('/')
                .with_context(|| format!("--shard {spec}: expected INDEX/COUNT or env"))?;
            let number = |s: &str| {
                s.trim()
                    .parse::<u32>()
                    .with_context(|| format!("--shard {spec}: {s:?} is not a number"))
            };
            if shard_count.is_some() {
                bail!("--shard INDEX/COUNT and --shard-count: give one");
            }
            (number(i)?, number(n)?)
        }
        _ => from_env(shard_count, &env)?,
    };
    if count == 0 || count > MAX_SHARDS {
        bail!("{count} shards: the count must be between 1 and {MAX_SHARDS}");
    }
    if index >= count {
        bail!("shard index {index} is not below the shard count {count} (indices start at 0)");
    }
    Ok(Some((index, count)))
}

fn from_env(shard_count: Option<u32>, env: &impl Fn(&str) -> Option<String>) -> Result<(u32, u32)> {
    let read = |name: &str| -> Result<Option<u32>> {
        env(name)
            .filter(|v| !v.is_empty())
            .map(|v| {
                v.trim()
                    .parse::<u32>()
                    .with_context(|| format!("{name}={v:?} is not a number"))
            })
            .transpose()
    };
    let index = match (read(BATCH_INDEX)?, read(K8S_INDEX)?) {
        (Some(i), None) | (None, Some(i)) => i,
        (Some(_), Some(_)) => bail!("both {BATCH_INDEX} and {K8S_INDEX} are set: give --shard INDEX/COUNT"),
        (None, None) => bail!(
            "no shard index: {BATCH_INDEX} (AWS Batch array jobs) or {K8S_INDEX} (Kubernetes Indexed Jobs) is not set; give --shard INDEX/COUNT"
        ),
    };
    let Some(count) = shard_count.or(read(BATCH_SIZE)?) else {
        bail!("no shard count: give --shard-count N ({BATCH_SIZE} is not set)");
    };
    Ok((index, count))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn the_index_and_count_come_from_the_flag_or_the_engine() {
        let none = env(&[]);
        assert_eq!(resolve(None, None, &none).unwrap(), None);
        assert_eq!(resolve(Some("2/5"), None, &none).unwrap(), Some((2, 5)));
        let batch = env(&[(BATCH_INDEX, "3"), (BATCH_SIZE, "10")]);
        assert_eq!(resolve(Some("env"), None, &batch).unwrap(), Some((3, 10)));
        // The flag wins over the engine.
        assert_eq!(resolve(Some("0/2"), None, &batch).unwrap(), Some((0, 2)));
        let k8s = env(&[(K8S_INDEX, "7")]);
        assert_eq!(resolve(None, Some(8), &k8s).unwrap(), Some((7, 8)));
        assert_eq!(resolve(Some("env"), Some(8), &k8s).unwrap(), Some((7, 8)));
    }

    #[test]
    fn a_shard_that_cannot_be_told_is_an_error_naming_why() {
        let none = env(&[]);
        let err = |r: Result<_>| format!("{:#}", r.unwrap_err());
        assert!(err(resolve(Some("5/5"), None, &none)).contains("not below"));
        assert!(err(resolve(Some("0/0"), None, &none)).contains("between 1"));
        assert!(err(resolve(Some("1-5"), None, &none)).contains("INDEX/COUNT"));
        assert!(err(resolve(Some("a/5"), None, &none)).contains("not a number"));
        assert!(err(resolve(Some("env"), None, &none)).contains("no shard index"));
        assert!(err(resolve(Some("1/4"), Some(4), &none)).contains("give one"));
        let k8s = env(&[(K8S_INDEX, "1")]);
        assert!(err(resolve(Some("env"), None, &k8s)).contains("--shard-count"));
        let bad = env(&[(BATCH_INDEX, "x"), (BATCH_SIZE, "3")]);
        assert!(err(resolve(Some("env"), None, &bad)).contains("AWS_BATCH_JOB_ARRAY_INDEX"));
        let both = env(&[(BATCH_INDEX, "1"), (K8S_INDEX, "1")]);
        assert!(err(resolve(None, Some(3), &both)).contains("both"));
    }
}
