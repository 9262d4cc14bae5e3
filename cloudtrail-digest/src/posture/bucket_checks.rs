//! Checks of the trail's bucket: dedicated to CloudTrail, access logged, not public,
//! protected from deletion, and keeping files long enough.

use serde_json::{json, Value};

use super::facts::{BucketFacts, PostureFacts, TrailFacts, Unknown};
use super::outcome::{known, Outcome};
use super::policy::{allows, condition_keys, covers_action, principals, statements};

/// CloudTrail's service principal.
const CLOUDTRAIL: &str = "Service:cloudtrail.amazonaws.com";

/// Condition keys that restrict who a statement applies to.
const RESTRICTING: [&str; 7] = [
    "aws:sourcearn",
    "aws:sourceaccount",
    "aws:principalorgid",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:sourcevpce",
    "aws:sourcevpc",
];

/// The bucket's facts, or the outcome that they are unknown (or that there is no bucket).
fn bucket<'a>(
    trail: &'a TrailFacts,
    evidence: &Value,
) -> Result<(&'a str, &'a BucketFacts), Outcome> {
    let (Some(name), Some(facts)) = (trail.bucket.as_deref(), trail.bucket_facts.as_ref()) else {
        return Err(Outcome::unknown(
            Unknown::NotApplicable {
                why: "the trail names no bucket".into(),
            },
            evidence.clone(),
        ));
    };
    known(facts, evidence).map(|f| (name, f))
}

/// The folder a trail's files start with: `PREFIX/AWSLogs/` or `AWSLogs/`.
fn logs_root(trail: &TrailFacts) -> String {
    match trail.prefix.as_deref().map(|p| p.trim_matches('/')) {
        Some(p) if !p.is_empty() => format!("{p}/AWSLogs/"),
        _ => "AWSLogs/".into(),
    }
}

/// `bucket-dedicated`: only CloudTrail's files at the top of the bucket, and CloudTrail's
/// writes restricted to this account's trails.
pub(crate) fn dedicated(_: &PostureFacts, trail: &TrailFacts) -> Outcome {
    let (_, b) = match bucket(trail, &json!({})) {
        Ok(b) => b,
        Err(o) => return o,
    };
    let root = logs_root(trail);
    let first = root.split('/').next().unwrap_or_default().to_owned() + "/";
    let others: Vec<&String> = b
        .top_level
        .iter()
        .filter(|k| **k != first && **k != root)
        .collect();
    let cloudtrail_writes: Vec<&Value> = b
        .policy
        .iter()
        .flat_map(statements)
        .filter(|s| allows(s) && principals(s).iter().any(|p| p == CLOUDTRAIL))
        .filter(|s| covers_action(s, "s3:PutObject"))
        .collect();
    let unrestricted = cloudtrail_writes
        .iter()
        .filter(|s| {
            let keys = condition_keys(s);
            !keys
                .iter()
                .any(|k| k == "aws:sourcearn" || k == "aws:sourceaccount")
        })
        .count();
    let evidence = json!({
        "top_level": b.top_level,
        "cloudtrail_put_statements": cloudtrail_writes,
    });
    let mut findings = Vec::new();
    if !others.is_empty() {
        findings.push(format!(
            "the bucket holds more than this trail's files: {}",
            others
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if b.policy.is_none() {
        findings.push("the bucket has no policy".into());
    } else if cloudtrail_writes.is_empty() {
        findings.push("the bucket policy does not let CloudTrail write".into());
    } else if unrestricted > 0 {
        findings.push(format!(
            "{unrestricted} statement(s) let CloudTrail write without an aws:SourceArn or aws:SourceAccount condition: any account's trail could deliver here"
        ));
    }
    Outcome::judge(findings, evidence)
}

/// `bucket-access-logging`: logging on, to another bucket.
pub(crate) fn access_logging(_: &PostureFacts, trail: &TrailFacts) -> Outcome {
    let (name, b) = match bucket(trail, &json!({})) {
        Ok(b) => b,
        Err(o) => return o,
    };
    let evidence = json!({ "LoggingEnabled.TargetBucket": b.logging_target });
    let findings = match b.logging_target.as_deref() {
        None => vec!["server access logging is off".to_owned()],
        Some(t) if t == name => vec!["access logs go to the bucket itself".to_owned()],
        Some(_) => Vec::new(),
    };
    Outcome::judge(findings, evidence)
}

/// Public grantees of ACLs.
const PUBLIC_GRANTEES: [&str; 2] = [
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
];

/// `bucket-not-public`.
pub(crate) fn not_public(facts: &PostureFacts, trail: &TrailFacts) -> Outcome {
    let (_, b) = match bucket(trail, &json!({})) {
        Ok(b) => b,
        Err(o) => return o,
    };
    let account = facts.account_public_access_block.as_ref();
    let effective = b.public_access_block.unwrap_or_default().or(account
        .ok()
        .copied()
        .flatten()
        .unwrap_or_default());
    let public_grants: Vec<&(String, String)> = b
        .acl_grants
        .iter()
        .filter(|(g, _)| PUBLIC_GRANTEES.contains(&g.as_str()))
        .collect();
    let open_statements: Vec<&Value> = b
        .policy
        .iter()
        .flat_map(statements)
        .filter(|s| allows(s) && principals(s).iter().any(|p| p == "*"))
        .filter(|s| {
            !condition_keys(s)
                .iter()
                .any(|k| RESTRICTING.contains(&k.as_str()))
        })
        .collect();
    let evidence = json!({
        "bucket_public_access_block": b.public_access_block,
        "account_public_access_block": account.ok(),
        "public_acl_grants": public_grants,
        "ObjectOwnership": b.object_ownership,
        "statements_allowing_everyone": open_statements,
        "PolicyStatus.IsPublic": b.policy_is_public,
    });
    let mut findings = Vec::new();
    if !effective.all() {
        findings
            .push("Block Public Access is not fully on, for the bucket nor for the account".into());
    }
    if !public_grants.is_empty() {
        findings.push("the bucket ACL grants access to everyone".into());
    }
    if b.object_ownership.as_deref() != Some("BucketOwnerEnforced") {
        findings.push("ACLs are not disabled (ObjectOwnership is not BucketOwnerEnforced)".into());
    }
    if !open_statements.is_empty() || b.policy_is_public == Some(true) {
        findings.push("the bucket policy allows everyone without a restricting condition".into());
    }
    if findings.len() == 1 && !effective.all() {
        if let Err(why) = account {
            // Only the account's settings could tell, and they could not be read.
            if b.public_access_block.is_none_or(|p| !p.all()) {
                return Outcome::unknown(why.clone(), evidence);
            }
        }
    }
    Outcome::judge(findings, evidence)
}

/// Actions that delete or overwrite log files.
const DESTRUCTIVE: [&str; 4] = [
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:PutObject",
    "s3:PutLifecycleConfiguration",
];

/// `bucket-delete-protection`.
pub(crate) fn delete_protection(_: &PostureFacts, trail: &TrailFacts) -> Outcome {
    let (_, b) = match bucket(trail, &json!({})) {
        Ok(b) => b,
        Err(o) => return o,
    };
    let mut who: Vec<String> = b
        .policy
        .iter()
        .flat_map(statements)
        .filter(|s| allows(s) && DESTRUCTIVE.iter().any(|a| covers_action(s, a)))
        .flat_map(principals)
        .filter(|p| p != CLOUDTRAIL)
        .collect();
    who.sort();
    who.dedup();
    let lock = b.object_lock.as_ref();
    let compliance = lock.is_some_and(|(mode, _)| mode.as_deref() == Some("COMPLIANCE"));
    let evidence = json!({
        "Versioning.Status": b.versioning,
        "Versioning.MFADelete": b.mfa_delete,
        "ObjectLock.DefaultRetention": lock.map(|(mode, days)| json!({"Mode": mode, "Days": days})),
        "policy_principals_allowed_to_delete_or_overwrite": who,
    });
    let mut findings = Vec::new();
    if b.versioning.as_deref() != Some("Enabled") {
        findings.push("versioning is off: a deleted or overwritten log file is gone".into());
    }
    let mfa = b.mfa_delete.as_deref() == Some("Enabled");
    if !mfa && !compliance {
        findings.push(match lock {
            Some((Some(mode), _)) if mode == "GOVERNANCE" => "Object Lock is in GOVERNANCE mode, which any principal with s3:BypassGovernanceRetention can lift, and MFA delete is off".into(),
            _ => "neither MFA delete nor Object Lock in COMPLIANCE mode protects the versions".into(),
        });
    }
    if !who.is_empty() {
        findings.push(format!(
            "the bucket policy lets {} delete or overwrite objects",
            who.join(", ")
        ));
    }
    let mut outcome = Outcome::judge(findings, evidence);
    if compliance && !mfa {
        outcome = outcome.note(
            "MFA delete is off, and not needed: Object Lock in COMPLIANCE mode keeps every version for its retention (only the root user can enable MFA delete)",
        );
    }
    outcome
}

/// Whether a lifecycle rule with prefix `rule` applies to (some of) the keys starting
/// with `keys`. An organization's `o-ID/` segment after the logs root is passed over, as
/// an organization trail's files are found under each member account.
fn applies(rule: &str, keys: &str, root: &str) -> bool {
    let rule = match rule.strip_prefix(root) {
        Some(rest) if rest.starts_with("o-") => {
            let after = rest.split_once('/').map_or("", |(_, a)| a);
            format!("{root}{after}")
        }
        _ => rule.to_owned(),
    };
    keys.starts_with(&rule) || rule.starts_with(keys)
}

/// `retention`: the shortest expiration of the log files, against the minimum; digests
/// no sooner than logs.
pub(crate) fn retention(facts: &PostureFacts, trail: &TrailFacts) -> Outcome {
    let (_, b) = match bucket(trail, &json!({})) {
        Ok(b) => b,
        Err(o) => return o,
    };
    let root = logs_root(trail);
    let account = trail.arn.split(':').nth(4).unwrap_or_default();
    let expiring = |part: &str| -> Option<u32> {
        let keys = format!("{root}{account}/{part}");
        b.lifecycle
            .iter()
            .filter(|r| applies(&r.prefix, &keys, &root))
            .filter_map(|r| r.expiration_days)
            .min()
    };
    let logs = expiring("CloudTrail/");
    let digests = expiring("CloudTrail-Digest/");
    let lock_days = b.object_lock.as_ref().and_then(|(_, d)| *d);
    let evidence = json!({
        "lifecycle_rules": b.lifecycle,
        "log_expiration_days": logs,
        "digest_expiration_days": digests,
        "min_retention_days": facts.min_retention_days,
        "object_lock_days": lock_days,
    });
    let mut findings = Vec::new();
    if let Some(days) = logs.filter(|d| *d < facts.min_retention_days) {
        findings.push(format!(
            "log files expire after {days} days, less than {} days",
            facts.min_retention_days
        ));
    }
    if let (Some(d), l) = (digests, logs) {
        if l.is_none_or(|l| d < l) {
            findings.push(format!(
                "digests expire after {d} days, before the log files they list{}",
                l.map(|l| format!(" ({l} days)")).unwrap_or_default()
            ));
        }
    }
    let mut outcome = Outcome::judge(findings, evidence);
    if let (Some(lock), Some(l)) = (lock_days, logs.or(digests)) {
        if lock > l {
            outcome = outcome.note(format!(
                "Object Lock keeps every version {lock} days: expiration after {l} days only adds delete markers until then"
            ));
        }
    }
    outcome
}
