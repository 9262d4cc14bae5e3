//! Checks of the trail's KMS key: customer managed, enabled, rotating.

use serde_json::json;

use super::facts::{PostureFacts, TrailFacts, Unknown};
use super::outcome::{known, Outcome};

/// `kms-cmk`.
pub(crate) fn kms_cmk(_: &PostureFacts, trail: &TrailFacts) -> Outcome {
    let evidence = json!({ "KmsKeyId": trail.kms_key_id });
    let Some(key) = trail.key.as_ref() else {
        return Outcome::judge(
            vec!["log files are encrypted with S3-managed keys only: no KMS key is set".into()],
            evidence,
        );
    };
    let key = match known(key, &evidence) {
        Ok(k) => k,
        Err(o) => return o,
    };
    let evidence = json!({
        "KmsKeyId": trail.kms_key_id,
        "KeyManager": key.manager,
        "KeyState": key.state,
    });
    let mut findings = Vec::new();
    if key.manager != "CUSTOMER" {
        findings.push(format!(
            "the key is managed by {}, not by the customer",
            key.manager
        ));
    }
    if key.state != "Enabled" {
        findings.push(format!(
            "the key is {}: log files cannot be written or read with it",
            key.state
        ));
    }
    Outcome::judge(findings, evidence)
}

/// `kms-rotation`.
pub(crate) fn kms_rotation(_: &PostureFacts, trail: &TrailFacts) -> Outcome {
    let evidence = json!({ "KmsKeyId": trail.kms_key_id });
    let Some(key) = trail.key.as_ref() else {
        return Outcome::unknown(
            Unknown::NotApplicable {
                why: "the trail has no KMS key".into(),
            },
            evidence,
        );
    };
    let key = match known(key, &evidence) {
        Ok(k) => k,
        Err(o) => return o,
    };
    let rotation = match known(&key.rotation, &evidence) {
        Ok(r) => *r,
        Err(o) => return o,
    };
    let findings = if rotation {
        Vec::new()
    } else {
        vec!["automatic rotation of the key is off".to_owned()]
    };
    Outcome::judge(
        findings,
        json!({ "KmsKeyId": key.arn, "KeyRotationEnabled": rotation }),
    )
}
