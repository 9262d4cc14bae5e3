//! `cloudtrail-digest keys`: save CloudTrail public keys for offline validation.

use std::io::Write as _;

use anyhow::{Context as _, Result};
use serde_json::json;

use crate::args::KeysArgs;
use crate::aws::Aws;

pub(crate) fn run(args: &KeysArgs) -> Result<u8> {
    let aws = Aws::load(args.aws.profile.as_deref(), None)?;
    let end = args.end_time.unwrap_or_else(chrono::Utc::now);
    let mut list = Vec::new();
    for region in &args.regions {
        list.extend(aws.list_public_keys(region, args.start_time, end)?);
    }
    let mut text = serde_json::to_string_pretty(&json!({ "PublicKeyList": list }))?;
    text.push('\n');
    match &args.output {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(0)
}
