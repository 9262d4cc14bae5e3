//! A CloudTrail endpoint speaking AWS JSON 1.1 on 127.0.0.1: `ListPublicKeys`,
//! `GetTrail`, `GetTrailStatus` and `DescribeTrails`. **Test-only.**

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::runtime::Runtime;

/// What the CloudTrail stub answers.
#[derive(Default)]
pub struct CloudTrailState {
    /// `PublicKeyList` entries returned by `ListPublicKeys` (any region, any range).
    pub public_keys: Vec<Value>,
    /// `ListPublicKeys` answers every page with this `NextToken`, forever (a loop).
    pub keys_next_token: Option<String>,
    /// Trails by ARN.
    pub trails: BTreeMap<String, StubTrail>,
    /// Every call: (target, body).
    pub calls: Vec<(String, Value)>,
}

/// A trail the stub knows: what `GetTrail`, `DescribeTrails` and `GetTrailStatus` answer.
#[derive(Debug, Clone)]
pub struct StubTrail {
    /// `S3BucketName`.
    pub bucket: String,
    /// `S3KeyPrefix` (empty: none).
    pub prefix: String,
    /// `LogFileValidationEnabled`.
    pub validation: bool,
    /// `IsMultiRegionTrail`.
    pub multi_region: bool,
    /// `IsOrganizationTrail`.
    pub organization: bool,
    /// The `GetTrailStatus` answer, in CloudTrail's JSON (times as epoch seconds), e.g.
    /// `{"IsLogging": true, "LatestDigestDeliveryTime": 1709262000}`.
    pub status: Value,
}

impl StubTrail {
    /// A logging single-region trail with validation on, delivering to `bucket`/`prefix`.
    pub fn new(bucket: &str, prefix: &str) -> Self {
        Self {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
            validation: true,
            multi_region: false,
            organization: false,
            status: json!({ "IsLogging": true }),
        }
    }
}

/// A CloudTrail endpoint speaking AWS JSON 1.1 on 127.0.0.1.
pub struct CloudTrailStub {
    /// Its URL.
    pub endpoint: String,
    /// What it answers and what it was asked.
    pub state: Arc<Mutex<CloudTrailState>>,
}

impl CloudTrailStub {
    /// Starts the stub on 127.0.0.1 (port 0: any free port), answering `ListPublicKeys`
    /// with `public_keys`.
    pub fn start(rt: &Runtime, public_keys: Vec<Value>, port: u16) -> std::io::Result<Self> {
        let state = Arc::new(Mutex::new(CloudTrailState {
            public_keys,
            ..CloudTrailState::default()
        }));
        let shared = Arc::clone(&state);
        let addr = serve(rt, port, move |req| answer(Arc::clone(&shared), req))?;
        Ok(Self {
            endpoint: format!("http://{addr}"),
            state,
        })
    }
}

/// A plain HTTP response, as the loopback servers give them.
pub(crate) type Response = hyper::Response<http_body_util::Full<hyper::body::Bytes>>;

/// Binds 127.0.0.1:`port` (0: any free port) and answers every request of every
/// connection with `answer`, on `rt`, until the runtime stops. Returns the address.
pub(crate) fn serve<F, Fut>(rt: &Runtime, port: u16, answer: F) -> std::io::Result<SocketAddr>
where
    F: Fn(hyper::Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<Response, std::convert::Infallible>> + Send + 'static,
{
    let listener = rt.block_on(TcpListener::bind(("127.0.0.1", port)))?;
    let addr = listener.local_addr()?;
    rt.spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let _ = socket.set_nodelay(true);
            let answer = answer.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(answer);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(socket), service)
                    .await;
            });
        }
    });
    Ok(addr)
}

#[allow(clippy::too_many_lines)] // one arm per CloudTrail action
async fn answer(
    state: Arc<Mutex<CloudTrailState>>,
    req: hyper::Request<Incoming>,
) -> Result<Response, std::convert::Infallible> {
    use http_body_util::BodyExt as _;
    let target = req
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .rsplit('.')
        .next()
        .unwrap_or_default()
        .to_owned();
    let body = req
        .into_body()
        .collect()
        .await
        .map(http_body_util::Collected::to_bytes)
        .unwrap_or_default();
    let input: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut st = state.lock().unwrap();
    st.calls.push((target.clone(), input.clone()));
    let (status, out) = match target.as_str() {
        "ListPublicKeys" => {
            let mut page = json!({ "PublicKeyList": st.public_keys });
            if let Some(token) = &st.keys_next_token {
                page["NextToken"] = json!(token);
            }
            (200, page)
        }
        "GetTrail" => {
            let name = input["Name"].as_str().unwrap_or_default();
            match find_trail(&st.trails, name) {
                Some((arn, t)) => (200, json!({ "Trail": trail_json(arn, t) })),
                None => trail_not_found(name),
            }
        }
        "GetTrailStatus" => {
            let name = input["Name"].as_str().unwrap_or_default();
            match find_trail(&st.trails, name) {
                Some((_, t)) => (200, t.status.clone()),
                None => trail_not_found(name),
            }
        }
        "DescribeTrails" => {
            let names: Vec<&str> = input["trailNameList"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let list: Vec<Value> = st
                .trails
                .iter()
                .filter(|(arn, _)| names.is_empty() || names.contains(&arn.as_str()))
                .map(|(arn, t)| trail_json(arn, t))
                .collect();
            (200, json!({ "trailList": list }))
        }
        _ => (
            400,
            json!({ "__type": "UnknownOperationException", "message": target }),
        ),
    };
    let response = hyper::Response::builder()
        .status(status)
        .header("content-type", "application/x-amz-json-1.1")
        .body(http_body_util::Full::new(hyper::body::Bytes::from(
            out.to_string(),
        )))
        .unwrap();
    Ok(response)
}

/// The trail `name` names: by ARN, or by its name.
fn find_trail<'t>(
    trails: &'t BTreeMap<String, StubTrail>,
    name: &str,
) -> Option<(&'t String, &'t StubTrail)> {
    trails
        .iter()
        .find(|(arn, _)| *arn == name || arn.rsplit('/').next() == Some(name))
}

fn trail_not_found(name: &str) -> (u16, Value) {
    (
        400,
        json!({ "__type": "TrailNotFoundException", "message": format!("Unknown trail: {name}") }),
    )
}

fn trail_json(arn: &str, t: &StubTrail) -> Value {
    let name = arn.rsplit('/').next().unwrap_or(arn);
    let region = arn.split(':').nth(3).unwrap_or("us-east-1");
    let mut out = json!({
        "Name": name,
        "TrailARN": arn,
        "S3BucketName": t.bucket,
        "HomeRegion": region,
        "IsMultiRegionTrail": t.multi_region,
        "IsOrganizationTrail": t.organization,
        "LogFileValidationEnabled": t.validation,
    });
    if !t.prefix.is_empty() {
        out["S3KeyPrefix"] = json!(t.prefix);
    }
    out
}
