//! Micro benchmarks: inflate + SHA-256 of realistic CloudTrail logs (the hot path), SHA-256
//! alone, digest parsing and signature verification. Throughput is in bytes of *inflated*
//! (raw) log data. Run: `cargo bench -p cloudtrail-digest-benches --bench log_hash`.

use std::path::Path;

use cloudtrail_digest::hash::{inflate_sha256, Scratch};
use cloudtrail_digest::{Digest, PublicKeySet, Sha256Hash, Signature};
use cloudtrail_digest_benches::realistic_log;
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

criterion_group!(benches, inflate_and_hash, digest_and_signature);
criterion_main!(benches);
