//! Reading IAM and bucket policy documents: their statements, who they allow to do what,
//! and under which conditions. Conservative: an action or principal written as a pattern
//! (`s3:Delete*`, `*`) or denied by exclusion (`NotAction`, `NotPrincipal`) counts as
//! allowing what it could.

use serde_json::Value;

/// A policy's statements (one object or an array).
pub(crate) fn statements(document: &Value) -> Vec<&Value> {
    match document.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    }
}

/// Whether a statement allows.
pub(crate) fn allows(statement: &Value) -> bool {
    statement.get("Effect").and_then(Value::as_str) == Some("Allow")
}

/// A string or an array of strings, as strings.
fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether `pattern` (with `*` and `?` wildcards, case-insensitive as IAM matches actions)
/// matches `action`.
pub(crate) fn matches(pattern: &str, action: &str) -> bool {
    fn go(p: &[u8], a: &[u8]) -> bool {
        match (p.first(), a.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], a) || (!a.is_empty() && go(p, &a[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &a[1..]),
            (Some(x), Some(y)) if x.eq_ignore_ascii_case(y) => go(&p[1..], &a[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), action.as_bytes())
}

/// Whether a statement covers `action`: an `Action` pattern matches it, or a `NotAction`
/// does not exclude it.
pub(crate) fn covers_action(statement: &Value, action: &str) -> bool {
    if let Some(excluded) = statement.get("NotAction") {
        return !strings(Some(excluded)).iter().any(|p| matches(p, action));
    }
    strings(statement.get("Action"))
        .iter()
        .any(|p| matches(p, action))
}

/// The principals a statement names: `*`, or `AWS:ARN`, `Service:NAME`, `Federated:ID`.
/// A `NotPrincipal` statement names `*` (everyone but some).
pub(crate) fn principals(statement: &Value) -> Vec<String> {
    if statement.get("NotPrincipal").is_some() {
        return vec!["*".into()];
    }
    match statement.get("Principal") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Object(map)) => {
            map.iter()
                .flat_map(|(kind, v)| {
                    strings(Some(v)).into_iter().map(move |p| {
                        if p == "*" {
                            p
                        } else {
                            format!("{kind}:{p}")
                        }
                    })
                })
                .collect()
        }
        _ => Vec::new(),
    }
}

/// The condition keys a statement tests, lowercase (`aws:sourcearn`).
pub(crate) fn condition_keys(statement: &Value) -> Vec<String> {
    let Some(Value::Object(operators)) = statement.get("Condition") else {
        return Vec::new();
    };
    operators
        .values()
        .filter_map(Value::as_object)
        .flat_map(|keys| keys.keys().map(|k| k.to_ascii_lowercase()))
        .collect()
}

/// Whether a statement requires multi-factor authentication
/// (`aws:MultiFactorAuthPresent` true, or an `aws:MultiFactorAuthAge` bound).
pub(crate) fn requires_mfa(statement: &Value) -> bool {
    let Some(Value::Object(operators)) = statement.get("Condition") else {
        return false;
    };
    operators.iter().any(|(operator, keys)| {
        let Some(keys) = keys.as_object() else {
            return false;
        };
        keys.iter().any(|(key, value)| {
            let key = key.to_ascii_lowercase();
            let truthy =
                strings(Some(value)).iter().any(|v| v == "true") || value.as_bool() == Some(true);
            (key == "aws:multifactorauthpresent" && operator.starts_with("Bool") && truthy)
                || key == "aws:multifactorauthage"
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn actions_principals_and_conditions() {
        let doc = json!({"Statement": [
            {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::1:root", "*"]},
             "Action": ["s3:Delete*"], "Resource": "*"},
            {"Effect": "Deny", "Principal": "*", "NotAction": "s3:GetObject",
             "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}
        ]});
        let s = statements(&doc);
        assert_eq!(s.len(), 2);
        assert!(allows(s[0]) && !allows(s[1]));
        assert!(covers_action(s[0], "s3:DeleteObjectVersion"));
        assert!(!covers_action(s[0], "s3:PutObject"));
        assert!(covers_action(s[1], "s3:PutObject") && !covers_action(s[1], "s3:getobject"));
        assert_eq!(principals(s[0]), ["AWS:arn:aws:iam::1:root", "*"]);
        assert!(requires_mfa(s[1]) && !requires_mfa(s[0]));
        assert!(matches("cloudtrail:*", "CloudTrail:StopLogging"));
        assert!(matches("*", "anything") && !matches("s3:Get?bject", "s3:GetObjects"));
        let one = json!({"Statement": {"Effect": "Allow", "Action": "*",
            "Condition": {"StringEquals": {"aws:SourceArn": "x"}}}});
        assert_eq!(condition_keys(statements(&one)[0]), ["aws:sourcearn"]);
    }
}
