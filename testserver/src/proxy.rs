//! The HTTP layer in front of s3s, where faults a network, a proxy or a misbehaving server
//! would cause are injected: bare 404s, requests never answered, bodies trickled, cut short
//! or changed in transit, connections reset.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt as _;
use hyper::body::{Bytes, Incoming};
use s3s::dto::StreamingBlob;
use s3s::{Body, HttpError, HttpResponse};

use crate::faults::{key_of, Faults, GetFault};

/// Answers `req` through `service`, with the faults set for it.
pub(crate) async fn answer(
    service: s3s::service::S3Service,
    faults: Arc<Faults>,
    req: hyper::Request<Incoming>,
) -> Result<HttpResponse, HttpError> {
    let fault = (req.method() == hyper::Method::GET)
        .then(|| key_of(req.uri().path()))
        .flatten()
        .and_then(|k| faults.take_get_fault(&k));
    match fault {
        None => hyper::service::Service::call(&service, req).await,
        Some(GetFault::Bare404) => {
            let mut bare = HttpResponse::new(Body::empty());
            *bare.status_mut() = hyper::StatusCode::NOT_FOUND;
            Ok(bare)
        }
        Some(GetFault::Stall) => {
            std::future::pending::<()>().await;
            unreachable!("a pending future never completes")
        }
        Some(GetFault::Reset) => Err(HttpError::new(Box::new(std::io::Error::other(
            "connection reset by the fault injector",
        )))),
        Some(body_fault) => {
            let response = hyper::service::Service::call(&service, req).await?;
            let (parts, body) = response.into_parts();
            let bytes = body
                .collect()
                .await
                .map_err(|e| HttpError::new(Box::new(std::io::Error::other(e.to_string()))))?
                .to_bytes();
            let body = match body_fault {
                GetFault::FlipByte => {
                    let mut flipped = bytes.to_vec();
                    if let Some(b) = flipped.get_mut(bytes.len() / 2) {
                        *b ^= 1;
                    }
                    Body::from(Bytes::from(flipped))
                }
                GetFault::CutBody => {
                    let half = bytes.slice(..bytes.len() / 2);
                    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
                        Ok(half),
                        Err(std::io::Error::other("cut by the fault injector")),
                    ];
                    Body::from(StreamingBlob::wrap(futures_util::stream::iter(chunks)))
                }
                _ => {
                    let trickle = futures_util::stream::unfold(bytes, |rest| async move {
                        if rest.is_empty() {
                            return None;
                        }
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        let n = rest.len().min(20);
                        Some((Ok::<_, std::io::Error>(rest.slice(..n)), rest.slice(n..)))
                    });
                    Body::from(StreamingBlob::wrap(trickle))
                }
            };
            Ok(HttpResponse::from_parts(parts, body))
        }
    }
}
