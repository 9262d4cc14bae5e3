//! `cloudtrail-digest-testserver`: serves directory trees as S3 buckets and a CloudTrail
//! `ListPublicKeys`/`GetTrail` stub on 127.0.0.1, for benchmarks and manual tests.
//! **Test-only**: it accepts one fixed access key and keeps everything in memory.
//!
//! ```text
//! cloudtrail-digest-testserver --bucket NAME=DIR [--bucket NAME=DIR]... [--public-keys FILE]
//!     [--latency-ms MS] [--s3-port PORT] [--cloudtrail-port PORT]
//! ```
//! Prints the two endpoints and the credentials to use, then serves until killed.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use cloudtrail_digest_testserver::{
    serve_s3, CloudTrailStub, Faults, MemS3, ACCESS_KEY, SECRET_KEY,
};
use serde_json::Value;

/// The bench server shares the machine's cores with the client it serves; mimalloc spends
/// less CPU than the system allocator on its many small allocations.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let mut buckets = Vec::new();
    let mut keys: Vec<Value> = Vec::new();
    let (mut latency_ms, mut s3_port, mut ct_port) = (0u64, 0u16, 0u16);
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--bucket" => {
                let v = value()?;
                let (name, dir) = v.split_once('=').context("--bucket takes NAME=DIR")?;
                buckets.push((name.to_owned(), dir.to_owned()));
            }
            "--public-keys" => {
                let path = value()?;
                let text = std::fs::read(&path).with_context(|| format!("reading {path}"))?;
                let v: Value =
                    serde_json::from_slice(&text).with_context(|| format!("{path}: not JSON"))?;
                keys.extend(v["PublicKeyList"].as_array().cloned().unwrap_or_default());
            }
            "--latency-ms" => latency_ms = value()?.parse()?,
            "--s3-port" => s3_port = value()?.parse()?,
            "--cloudtrail-port" => ct_port = value()?.parse()?,
            other => bail!("unknown argument {other}"),
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let faults = Arc::new(Faults::default());
    *faults
        .latency
        .lock()
        .map_err(|_| anyhow::anyhow!("poisoned"))? = Duration::from_millis(latency_ms);
    let backend = MemS3::new(Arc::clone(&faults));
    for (name, dir) in &buckets {
        let n = backend
            .insert_dir(std::path::Path::new(dir), name)
            .with_context(|| format!("loading {dir}"))?;
        eprintln!("loaded {n} objects into s3://{name}");
    }
    let s3 = serve_s3(&rt, backend, s3_port)?;
    let ct = CloudTrailStub::start(&rt, keys, ct_port)?;
    println!("AWS_ENDPOINT_URL_S3={s3}");
    println!("AWS_ENDPOINT_URL_CLOUDTRAIL={}", ct.endpoint);
    println!("AWS_ACCESS_KEY_ID={ACCESS_KEY}");
    println!("AWS_SECRET_ACCESS_KEY={SECRET_KEY}");
    println!("AWS_REGION=us-east-1");
    rt.block_on(std::future::pending::<()>());
    Ok(())
}
