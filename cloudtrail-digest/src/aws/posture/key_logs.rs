//! Facts of a trail's KMS key and CloudWatch Logs log group.

use super::errors::unknown;
use crate::aws::api::Clients;
use crate::posture::{KeyFacts, Known, LogGroupFacts, Unknown};

/// The region of an ARN (`arn:PARTITION:SERVICE:REGION:...`), else `default`.
fn region_of<'a>(arn: &'a str, default: &'a str) -> &'a str {
    arn.split(':')
        .nth(3)
        .filter(|r| !r.is_empty())
        .unwrap_or(default)
}

/// `DescribeKey` and `GetKeyRotationStatus`, in the key's region.
pub(super) async fn key(api: &Clients, key_id: &str, home: &str) -> Known<KeyFacts> {
    let kms = api.kms(region_of(key_id, home));
    let out = kms
        .describe_key()
        .key_id(key_id)
        .send()
        .await
        .map_err(|e| unknown("DescribeKey", &e))?;
    let Some(m) = out.key_metadata() else {
        return Err(Unknown::Error {
            message: "DescribeKey gave no key".into(),
        });
    };
    let rotation = kms
        .get_key_rotation_status()
        .key_id(key_id)
        .send()
        .await
        .map(|r| r.key_rotation_enabled())
        .map_err(|e| unknown("GetKeyRotationStatus", &e));
    Ok(KeyFacts {
        arn: m.arn().unwrap_or(key_id).to_owned(),
        manager: m.key_manager().map_or("", |k| k.as_str()).to_owned(),
        state: m.key_state().map_or("", |k| k.as_str()).to_owned(),
        rotation,
    })
}

/// The log group an ARN (`...:log-group:NAME[:*]`) names, from `DescribeLogGroups`.
pub(super) async fn log_group(api: &Clients, arn: &str, home: &str) -> Known<LogGroupFacts> {
    let name = arn
        .split(":log-group:")
        .nth(1)
        .map(|n| n.trim_end_matches(":*"))
        .unwrap_or_default();
    let out = api
        .logs(region_of(arn, home))
        .describe_log_groups()
        .log_group_name_prefix(name)
        .send()
        .await
        .map_err(|e| unknown("DescribeLogGroups", &e))?;
    out.log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(name))
        .map(|g| LogGroupFacts {
            name: name.to_owned(),
            retention_days: g.retention_in_days(),
        })
        .ok_or(Unknown::Error {
            message: format!("log group {name} not found"),
        })
}
