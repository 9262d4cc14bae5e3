//! The commands of the deployment files under `deploy/` are commands this binary accepts:
//! AWS Batch job definitions (their `Ref::` parameters replaced by the defaults they
//! declare) and the Kubernetes Jobs' container arguments. `deploy/check.py` validates the
//! files themselves against the platforms' schemas.

use std::path::Path;

use clap::Parser as _;
use serde_json::Value;

use crate::args::{Cli, Command};

fn deploy(path: &str) -> String {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../deploy")
        .join(path);
    std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

fn parse(args: &[String]) -> Cli {
    let command_line = std::iter::once("cloudtrail-digest".to_owned()).chain(args.iter().cloned());
    Cli::try_parse_from(command_line).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

/// A Batch job definition's command, with `Ref::NAME` replaced by its default.
fn batch_command(path: &str) -> Vec<String> {
    let definition: Value = serde_json::from_str(&deploy(path)).unwrap();
    let parameters = &definition["parameters"];
    definition["containerProperties"]["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let a = a.as_str().unwrap();
            match a.strip_prefix("Ref::") {
                Some(name) => parameters[name].as_str().unwrap().to_owned(),
                None => a.to_owned(),
            }
        })
        .collect()
}

/// The `args:` list of a Kubernetes manifest's (only) container.
fn kubernetes_args(path: &str) -> Vec<String> {
    let text = deploy(path);
    let mut lines = text.lines().skip_while(|l| l.trim() != "args:").skip(1);
    let mut args = Vec::new();
    for line in lines.by_ref() {
        let Some(item) = line.trim().strip_prefix("- ") else {
            break;
        };
        args.push(item.trim_matches('"').to_owned());
    }
    args
}

#[test]
fn the_aws_batch_jobs_run_a_shard_from_the_engine_and_a_merge() {
    let shard = parse(&batch_command("aws-batch/job-definition.json"));
    let Command::Validate(v) = shard.command else {
        panic!("not validate")
    };
    assert_eq!(v.shard.as_deref(), Some("env"));
    assert!(v.as_of.is_some(), "a sharded run needs --as-of");
    assert!(v.output.as_deref().is_some_and(|o| o.ends_with('/')));
    let merge = parse(&batch_command("aws-batch/merge-job-definition.json"));
    let Command::Merge(m) = merge.command else {
        panic!("not merge")
    };
    assert_eq!(m.reports, [v.output.unwrap()]);
    assert!(m.output.is_some_and(|o| !o.starts_with(&m.reports[0])));
}

#[test]
fn the_kubernetes_jobs_run_a_shard_per_index_and_a_merge() {
    let text = deploy("kubernetes/validate-job.yaml");
    let completions: u32 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("completions:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let shard = parse(&kubernetes_args("kubernetes/validate-job.yaml"));
    let Command::Validate(v) = shard.command else {
        panic!("not validate")
    };
    assert_eq!(v.shard_count, Some(completions));
    assert!(v.as_of.is_some());
    let merge = parse(&kubernetes_args("kubernetes/merge-job.yaml"));
    let Command::Merge(m) = merge.command else {
        panic!("not merge")
    };
    assert_eq!(m.reports, [v.output.unwrap()]);
}
