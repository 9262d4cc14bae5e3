//! What a failed S3 request means: only `NoSuchKey` proves that an object does not exist;
//! transport failures (a bare 404, 5xx, timeouts, dropped connections) are tried again, as
//! is throttling, with the window of requests in flight shrunk.

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::store::object::{StoreError, StoreErrorKind};

/// A failed request, and whether trying it again may help.
pub(super) struct Failure {
    pub(super) error: StoreError,
    pub(super) retry: Retry,
}

/// Whether and how a failure is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Retry {
    /// It is an answer: not found, access denied, a bad request.
    No,
    /// Transport: a timeout, a dropped connection, a body cut short, a bare 404.
    Transport,
    /// S3 asked to slow down.
    Throttled,
}

pub(super) fn other(reason: String, retry: Retry) -> Failure {
    Failure {
        error: StoreError::new(StoreErrorKind::Other, reason),
        retry,
    }
}

const EXPIRED: &str =
    "the AWS credentials have expired: run `aws sso login` (for SSO) or refresh them";

const NO_CREDENTIALS: &str = "no AWS credentials found: pass --profile NAME, set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run `aws configure` (`aws sso login` for SSO)";

/// An SDK error that is not S3's answer, in one line: what it means, with the remedy,
/// for missing or expired credentials; else the innermost cause (the SDK's own text
/// repeats the provider chain and debug dumps).
fn plain<E: std::error::Error + 'static>(
    e: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> String {
    let full = DisplayErrorContext(e).to_string();
    if full.contains("no credentials found") || full.contains("CredentialsNotLoaded") {
        return NO_CREDENTIALS.to_owned();
    }
    let lower = full.to_ascii_lowercase();
    if lower.contains("expired") && (lower.contains("token") || lower.contains("sso")) {
        return EXPIRED.to_owned();
    }
    let what = match e {
        SdkError::TimeoutError(_) => "timed out",
        SdkError::DispatchFailure(_) => "the request could not be sent",
        SdkError::ResponseError(_) => "the response could not be read",
        _ => "request failed",
    };
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let cause = cause.to_string();
    let cause = cause.lines().next().unwrap_or_default();
    if cause.is_empty() {
        what.to_owned()
    } else {
        format!("{what}: {cause}")
    }
}

/// What an SDK error means. `NoSuchKey` alone is "not found".
pub(super) fn store_error<E>(e: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let code = e.as_service_error().and_then(ProvideErrorMetadata::code);
    let status = e.raw_response().map(|r| r.status().as_u16());
    let kind = match code {
        Some("NoSuchKey") => StoreErrorKind::NotFound,
        Some(
            "AccessDenied" | "AllAccessDisabled" | "InvalidAccessKeyId" | "SignatureDoesNotMatch",
        ) => StoreErrorKind::AccessDenied,
        _ => StoreErrorKind::Other,
    };
    let bare_404 = status == Some(404) && !matches!(code, Some("NoSuchKey" | "NoSuchBucket"));
    let throttled = matches!(
        code,
        Some(
            "SlowDown"
                | "Throttling"
                | "ThrottlingException"
                | "RequestLimitExceeded"
                | "TooManyRequests"
                | "RequestThrottled"
        )
    ) || matches!(status, Some(429 | 503));
    let transport = bare_404
        || matches!(status, Some(500 | 502 | 504))
        || matches!(
            e,
            SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_)
        );
    let reason = match (
        code,
        e.as_service_error().and_then(ProvideErrorMetadata::message),
    ) {
        _ if bare_404 => {
            "HTTP 404 without NoSuchKey (a proxy or load balancer?): not proof that the object is absent".to_owned()
        }
        (Some("ExpiredToken" | "TokenRefreshRequired"), _) => EXPIRED.to_owned(),
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_owned(),
        _ => plain(e),
    };
    let retry = if throttled {
        Retry::Throttled
    } else if transport {
        Retry::Transport
    } else {
        Retry::No
    };
    let detail = DisplayErrorContext(e).to_string();
    Failure {
        error: StoreError::new(kind, reason).with_detail(detail),
        retry,
    }
}
