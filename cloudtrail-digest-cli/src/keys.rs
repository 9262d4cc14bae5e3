//! `cloudtrail-digest keys`: save CloudTrail public keys for offline validation.

use std::io::Write as _;

use anyhow::{anyhow, Context as _, Result};

use crate::args::KeysArgs;
use crate::aws::Session;

pub(crate) fn run(args: &KeysArgs) -> Result<u8> {
    let session = Session::load(args.aws.profile.as_deref(), None)?;
    let source = session.aws.public_keys();
    let end = args.end_time.unwrap_or_else(chrono::Utc::now);
    let mut list = Vec::new();
    for region in &args.regions {
        let keys = source
            .list(region, args.start_time, end)
            .map_err(|e| anyhow!(e))?;
        if let Some(entries) = keys.to_list_public_keys_json()["PublicKeyList"].as_array() {
            list.extend(entries.iter().cloned());
        }
    }
    let mut text = serde_json::to_string_pretty(&serde_json::json!({ "PublicKeyList": list }))?;
    text.push('\n');
    match &args.output {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(0)
}
