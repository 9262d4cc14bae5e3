//! A thin HTTP proxy in front of `moto_server` that answers what moto does not implement,
//! so that `posture` meets a server speaking the real protocol for every call:
//! CloudTrail `ListPublicKeys`, Account `ListRegions`, and the `GetTrailStatus` fields
//! `LatestDigestDeliveryTime` and `LatestCloudWatchLogsDeliveryTime`, S3's versioning
//! `MfaDelete`, and S3 `GetBucketPolicyStatus`, each as the test sets them; and the root
//! element of moto's `GetBucketVersioning` answer, which strict clients refuse.
//! Everything else is forwarded to moto unchanged. **Test-only.**

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt as _, Full};
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::runtime::Runtime;

use crate::cloudtrail::{serve, Response};

/// What the proxy answers in moto's stead.
#[derive(Debug, Default)]
pub struct Augments {
    /// `ListPublicKeys` entries (any region, any range).
    pub public_keys: Vec<Value>,
    /// `ListRegions`: the enabled regions.
    pub regions: Vec<String>,
    /// `LatestDigestDeliveryTime` of every trail, epoch seconds.
    pub digest_delivery: Option<i64>,
    /// `LatestCloudWatchLogsDeliveryTime` of every trail, epoch seconds.
    pub cloudwatch_delivery: Option<i64>,
    /// Buckets whose versioning has MFA delete on.
    pub mfa_delete: BTreeSet<String>,
    /// Buckets whose policy S3 judges public.
    pub public_policy: BTreeSet<String>,
}

/// The proxy: its URL, and what it answers.
pub struct AugmentProxy {
    /// Its URL.
    pub endpoint: String,
    /// What it answers in moto's stead.
    pub state: Arc<Mutex<Augments>>,
}

fn json_response(value: &Value) -> Response {
    let mut r = hyper::Response::new(Full::new(Bytes::from(value.to_string())));
    r.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    r
}

impl AugmentProxy {
    /// Starts the proxy on 127.0.0.1 (any free port) in front of `moto` (`http://HOST:PORT`).
    pub fn start(rt: &Runtime, moto: &str) -> std::io::Result<Self> {
        let upstream = moto
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let state = Arc::new(Mutex::new(Augments::default()));
        let shared = Arc::clone(&state);
        let addr = serve(rt, 0, move |req| {
            answer(Arc::clone(&shared), upstream.clone(), req)
        })?;
        Ok(Self {
            endpoint: format!("http://{addr}"),
            state,
        })
    }
}

/// The request's operation, as far as the proxy cares.
enum Operation {
    ListPublicKeys,
    ListRegions,
    GetTrailStatus,
    BucketVersioning(String),
    BucketPolicyStatus(String),
    Other,
}

fn operation(req: &hyper::Request<Incoming>) -> Operation {
    let target = req
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let query = req.uri().query().unwrap_or_default();
    let has = |name: &str| query.split('&').any(|q| q.split('=').next() == Some(name));
    let bucket = || {
        req.uri()
            .path()
            .trim_matches('/')
            .split('/')
            .next()
            .unwrap_or_default()
            .to_owned()
    };
    if target.ends_with(".ListPublicKeys") {
        Operation::ListPublicKeys
    } else if target.ends_with(".GetTrailStatus") {
        Operation::GetTrailStatus
    } else if req.uri().path() == "/listRegions" {
        Operation::ListRegions
    } else if req.method() == hyper::Method::GET && has("versioning") {
        Operation::BucketVersioning(bucket())
    } else if req.method() == hyper::Method::GET && has("policyStatus") {
        Operation::BucketPolicyStatus(bucket())
    } else {
        Operation::Other
    }
}

async fn answer(
    state: Arc<Mutex<Augments>>,
    upstream: String,
    req: hyper::Request<Incoming>,
) -> Result<Response, std::convert::Infallible> {
    let op = operation(&req);
    let response = match op {
        Operation::ListPublicKeys => {
            let keys = state.lock().unwrap().public_keys.clone();
            return Ok(json_response(&json!({ "PublicKeyList": keys })));
        }
        Operation::ListRegions => {
            let regions: Vec<Value> = state
                .lock()
                .unwrap()
                .regions
                .iter()
                .map(|r| json!({ "RegionName": r, "RegionOptStatus": "ENABLED_BY_DEFAULT" }))
                .collect();
            return Ok(json_response(&json!({ "Regions": regions })));
        }
        Operation::BucketPolicyStatus(b) => {
            let public = state.lock().unwrap().public_policy.contains(&b);
            let xml = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><PolicyStatus><IsPublic>{public}</IsPublic></PolicyStatus>"
            );
            let mut r = hyper::Response::new(Full::new(Bytes::from(xml)));
            r.headers_mut().insert(
                "content-type",
                hyper::header::HeaderValue::from_static("application/xml"),
            );
            return Ok(r);
        }
        _ => forward(&upstream, req).await,
    };
    let Ok((parts, body)) = response else {
        let mut r = hyper::Response::new(Full::new(Bytes::from("moto is unreachable")));
        *r.status_mut() = hyper::StatusCode::BAD_GATEWAY;
        return Ok(r);
    };
    let body = patch(&state.lock().unwrap(), &op, body);
    let mut parts = parts;
    parts.headers.remove(hyper::header::CONTENT_LENGTH);
    parts.headers.remove(hyper::header::TRANSFER_ENCODING);
    Ok(hyper::Response::from_parts(parts, Full::new(body)))
}

/// Moto's answer with what the proxy adds.
fn patch(augments: &Augments, op: &Operation, body: Bytes) -> Bytes {
    match op {
        Operation::GetTrailStatus => {
            let Ok(mut status) = serde_json::from_slice::<Value>(&body) else {
                return body;
            };
            if let Some(t) = augments.digest_delivery {
                status["LatestDigestDeliveryTime"] = json!(t);
            }
            if let Some(t) = augments.cloudwatch_delivery {
                status["LatestCloudWatchLogsDeliveryTime"] = json!(t);
            }
            Bytes::from(status.to_string())
        }
        Operation::BucketVersioning(b) => {
            // Moto names the root element `GetBucketVersioningResponse`; S3 names it
            // `VersioningConfiguration` (strict parsers refuse moto's).
            let mut text = String::from_utf8_lossy(&body)
                .replace("GetBucketVersioningResponse", "VersioningConfiguration");
            if let Some(at) = text
                .find("/>")
                .filter(|_| !text.contains("</VersioningConfiguration>"))
            {
                text.replace_range(at..at + 2, "></VersioningConfiguration>");
            }
            if augments.mfa_delete.contains(b) {
                text = text.replace("<MfaDelete>Disabled</MfaDelete>", "").replace(
                    "</VersioningConfiguration>",
                    "<MfaDelete>Enabled</MfaDelete></VersioningConfiguration>",
                );
            }
            Bytes::from(text)
        }
        _ => body,
    }
}

/// Sends the request to moto as it came; moto's answer, read whole.
async fn forward(
    upstream: &str,
    req: hyper::Request<Incoming>,
) -> Result<(hyper::http::response::Parts, Bytes), Box<dyn std::error::Error + Send + Sync>> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await?.to_bytes();
    let stream = TcpStream::connect(upstream).await?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let response = sender
        .send_request(hyper::Request::from_parts(parts, Full::new(body)))
        .await?;
    let (parts, body) = response.into_parts();
    Ok((parts, body.collect().await?.to_bytes()))
}
