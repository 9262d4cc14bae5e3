//! What a failed AWS call means for a fact: access denied, not set (a bucket without a
//! policy), or an error; and the URL-encoded policy documents IAM returns, decoded.

use aws_sdk_cloudtrail::error::{ProvideErrorMetadata, SdkError};

use crate::posture::Unknown;

/// Error codes that say the caller may not make the call.
const DENIED: [&str; 5] = [
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthorizationError",
    "AllAccessDisabled",
];

/// The error's code, if the service gave one.
pub(super) fn code<E, R>(e: &SdkError<E, R>) -> Option<&str>
where
    E: ProvideErrorMetadata,
{
    e.as_service_error().and_then(ProvideErrorMetadata::code)
}

/// Why a fact is unknown after `call` failed.
pub(super) fn unknown<E, R>(call: &str, e: &SdkError<E, R>) -> Unknown
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let message = match e.as_service_error().map(|s| (s.code(), s.message())) {
        Some((Some(code), Some(message))) => format!("{call}: {code}: {message}"),
        Some((Some(code), None)) => format!("{call}: {code}"),
        _ => format!("{call}: {}", causes(e)),
    };
    if code(e).is_some_and(|c| DENIED.contains(&c)) {
        Unknown::AccessDenied { message }
    } else {
        Unknown::Error { message }
    }
}

/// An error and its causes in one line, shortened.
fn causes(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source.filter(|_| parts.len() < 4) {
        parts.push(s.to_string());
        source = s.source();
    }
    let mut text = parts.join(": ");
    if text.len() > 300 {
        let cut = (0..=300)
            .rev()
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(0);
        text.truncate(cut);
        text.push('…');
    }
    text
}

/// A call's answer, `None` when the error code says the thing is not set, or why it is
/// unknown.
pub(super) fn optional<T, E, R>(
    call: &str,
    result: Result<T, SdkError<E, R>>,
    not_set: &[&str],
) -> Result<Option<T>, Unknown>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if code(&e).is_some_and(|c| not_set.contains(&c)) => Ok(None),
        Err(e) => Err(unknown(call, &e)),
    }
}

/// Decodes a policy document as IAM returns it (URL-encoded JSON); `None` if it is not
/// JSON either way.
pub(super) fn policy_document(text: &str) -> Option<serde_json::Value> {
    if let Ok(v) = serde_json::from_str(text) {
        return Some(v);
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = |j: usize| bytes.get(j).and_then(|c| (*c as char).to_digit(16));
        match (b, hex(i + 1), hex(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                out.push(u8::try_from(h * 16 + l).unwrap_or_default());
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    serde_json::from_slice(&out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_documents_decode_plain_or_url_encoded() {
        let doc = r#"{"Statement":[{"Effect":"Allow"}]}"#;
        let encoded = "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%7D%5D%7D";
        assert_eq!(policy_document(doc), policy_document(encoded));
        assert!(policy_document(doc).is_some());
        assert!(policy_document("%7Bnot json").is_none());
    }
}
