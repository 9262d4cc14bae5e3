//! Micro benchmarks: inflate + SHA-256 of realistic CloudTrail logs (the hot path), SHA-256
//! alone, digest parsing and signature verification. Throughput is in bytes of *inflated*
//! (raw) log data. Run: `cargo bench -p cloudtrail-digest-benches --bench log_hash`.

use std::path::Path;

use cloudtrail_digest::testing::internals::{inflate_sha256, Scratch};
use cloudtrail_digest::{Digest, PublicKeySet, Sha256Hash, Signature};
use cloudtrail_digest_benches::{realistic_log, Libdeflate};
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn inflate_and_hash(c: &mut Criterion) {
    let mut group = c.benchmark_group("inflate_sha256");
    for (name, raw) in [("small-20KB", 20_000), ("big-1.5MB", 1_500_000)] {
        let (gz, json) = realistic_log(raw, 42);
        group.throughput(Throughput::Bytes(json.len() as u64));
        let mut scratch = Scratch::default();
        group.bench_with_input(BenchmarkId::new("flate2-zlib-rs", name), &gz, |b, gz| {
            b.iter(|| inflate_sha256(black_box(gz), &mut scratch).expect("valid gzip"));
        });
        let mut libdeflate = Libdeflate::default();
        group.bench_with_input(
            BenchmarkId::new("libdeflate-no-member-end-check", name),
            &gz,
            |b, gz| {
                b.iter(|| {
                    libdeflate
                        .inflate_sha256(black_box(gz))
                        .expect("valid gzip")
                });
            },
        );
        group.bench_with_input(BenchmarkId::new("sha256-only", name), &json, |b, json| {
            b.iter(|| Sha256Hash::of(black_box(json)));
        });
    }
    group.finish();
}

fn digest_and_signature(c: &mut Criterion) {
    let case = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/cases/valid-chain");
    let keys =
        PublicKeySet::from_file_bytes(&std::fs::read(case.join("public-keys.json")).expect("keys"))
            .expect("keys parse");
    let key = "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/03/01/111122223333_CloudTrail-Digest_us-east-1_management-events_us-east-1_20240301T041234Z.json.gz";
    let path = case.join("example-trail-bucket").join(key);
    let gz = std::fs::read(&path).expect("digest");
    let meta: serde_json::Value = serde_json::from_slice(
        &std::fs::read(format!("{}.meta.json", path.display())).expect("meta"),
    )
    .expect("json");
    let signature =
        Signature::from_hex(meta["Metadata"]["signature"].as_str().expect("sig")).expect("hex");
    c.bench_function("digest_parse", |b| {
        b.iter(|| Digest::from_gzip(black_box(&gz)).expect("digest"));
    });
    let digest = Digest::from_gzip(&gz).expect("digest");
    c.bench_function("signature_verify_rsa2048", |b| {
        b.iter(|| {
            keys.verify(black_box(digest.clone()), &signature)
                .expect("verifies")
        });
    });
}

/// The logs of the ceiling benchmark: every `*.json.gz` under `CEILING_DIR/.../CloudTrail/`
/// (the bucket `e2e.sh` generated, so that both measure the same files), else 2,000
/// generated logs of about 20 KB.
fn ceiling_logs() -> Vec<Vec<u8>> {
    fn walk(dir: &Path, out: &mut Vec<Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.to_string_lossy().contains("/CloudTrail/")
                && path.extension().is_some_and(|e| e == "gz")
            {
                out.push(std::fs::read(&path).expect("read log"));
            }
        }
    }
    match std::env::var_os("CEILING_DIR") {
        Some(dir) => {
            let mut out = Vec::new();
            walk(Path::new(&dir), &mut out);
            assert!(!out.is_empty(), "no logs under CEILING_DIR");
            out
        }
        None => (0..2000).map(|i| realistic_log(20_000, i).0).collect(),
    }
}

/// The hardware ceiling: inflate + SHA-256 of a set of logs already in memory, on one core
/// and on every core (one task per file, a reused buffer per thread), nothing else.
fn ceiling(c: &mut Criterion) {
    use rayon::prelude::*;
    let logs = ceiling_logs();
    let raw: u64 = logs
        .iter()
        .map(|gz| {
            let mut out = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(gz.as_slice()), &mut out)
                .expect("valid gzip");
            out.len() as u64
        })
        .sum();
    let mut group = c.benchmark_group("ceiling");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(raw));
    let name = format!("{}-logs", logs.len());
    group.bench_with_input(BenchmarkId::new("one-core", &name), &logs, |b, logs| {
        let mut scratch = Scratch::default();
        b.iter(|| {
            for gz in logs {
                inflate_sha256(black_box(gz), &mut scratch).expect("valid gzip");
            }
        });
    });
    group.bench_with_input(BenchmarkId::new("all-cores", &name), &logs, |b, logs| {
        b.iter(|| {
            logs.par_iter()
                .for_each_init(Scratch::default, |scratch, gz| {
                    inflate_sha256(black_box(gz), scratch).expect("valid gzip");
                });
        });
    });
    group.bench_with_input(
        BenchmarkId::new("libdeflate-one-core", &name),
        &logs,
        |b, logs| {
            let mut libdeflate = Libdeflate::default();
            b.iter(|| {
                for gz in logs {
                    libdeflate
                        .inflate_sha256(black_box(gz))
                        .expect("valid gzip");
                }
            });
        },
    );
    group.bench_with_input(
        BenchmarkId::new("libdeflate-all-cores", &name),
        &logs,
        |b, logs| {
            b.iter(|| {
                logs.par_iter()
                    .for_each_init(Libdeflate::default, |libdeflate, gz| {
                        libdeflate
                            .inflate_sha256(black_box(gz))
                            .expect("valid gzip");
                    });
            });
        },
    );
    group.finish();
}

criterion_group!(benches, inflate_and_hash, digest_and_signature, ceiling);
criterion_main!(benches);
