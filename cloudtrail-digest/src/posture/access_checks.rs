//! Who can stop, change or delete a trail: the users, groups and roles allowed the actions
//! that silence it, and whether each is a role whose use requires MFA.

use serde_json::{json, Value};

use super::facts::{PostureFacts, Principal, TrailFacts};
use super::outcome::{known, Outcome};
use super::policy::{allows, covers_action, requires_mfa, statements};

/// The actions that stop, change or delete a trail.
const SILENCING: [&str; 4] = [
    "cloudtrail:StopLogging",
    "cloudtrail:UpdateTrail",
    "cloudtrail:DeleteTrail",
    "cloudtrail:PutEventSelectors",
];

/// AWS managed policies that allow them (their documents are not read).
const MANAGED: [&str; 3] = [
    "AdministratorAccess",
    "AWSCloudTrail_FullAccess",
    "PowerUserAccess",
];

/// How a principal may silence the trail: the actions, and whether every statement that
/// allows them requires MFA. `None`: it may not.
fn silencing(p: &Principal) -> Option<(Vec<&'static str>, bool)> {
    let managed = p.aws_managed.iter().any(|m| MANAGED.contains(&m.as_str()));
    let allowing: Vec<&Value> = p
        .documents
        .iter()
        .flat_map(statements)
        .filter(|s| allows(s) && SILENCING.iter().any(|a| covers_action(s, a)))
        .collect();
    if !managed && allowing.is_empty() {
        return None;
    }
    let actions = SILENCING
        .into_iter()
        .filter(|a| managed || allowing.iter().any(|s| covers_action(s, a)))
        .collect();
    let trust_mfa = p
        .trust_policy
        .iter()
        .flat_map(statements)
        .filter(|s| allows(s))
        .all(requires_mfa);
    let mfa = !managed && allowing.iter().all(|s| requires_mfa(s))
        || p.kind == "role" && p.trust_policy.is_some() && trust_mfa;
    Some((actions, mfa))
}

/// `trail-admin-access`.
pub(crate) fn trail_admin_access(facts: &PostureFacts, _: &TrailFacts) -> Outcome {
    let principals = match known(&facts.principals, &json!({})) {
        Ok(p) => p,
        Err(o) => return o,
    };
    let mut holders = Vec::new();
    let mut findings = Vec::new();
    for p in principals {
        let Some((actions, mfa)) = silencing(p) else {
            continue;
        };
        holders.push(
            json!({ "principal": p.arn, "kind": p.kind, "actions": actions, "mfa_required": mfa }),
        );
        if p.kind == "user" {
            findings.push(format!(
                "user {} may {}: long-lived credentials rather than a role",
                p.arn,
                actions.join(", ")
            ));
        } else if p.kind == "group" {
            findings.push(format!(
                "group {} lets its users, long-lived credentials, {}",
                p.arn,
                actions.join(", ")
            ));
        } else if !mfa {
            findings.push(format!(
                "role {} may {} without MFA",
                p.arn,
                actions.join(", ")
            ));
        }
    }
    Outcome::judge(
        findings,
        json!({ "principals_who_can_silence_the_trail": holders }),
    )
}
