//! `posture` against `moto_server` (the URL in `CLOUDTRAIL_DIGEST_TEST_MOTO`; CI's moto
//! pass sets it), through the project's proxy for the few calls and fields moto lacks: a
//! compliant account passes every check, each check fails on a setup that breaks its
//! practice, and the last hours of a trail's chain are validated for `digest-delivery`.

#![allow(clippy::too_many_lines)] // scenarios, read top to bottom

mod support;

use std::process::Command;

use aws_sdk_s3::primitives::ByteStream;
use chrono::{Duration, Utc};
use cloudtrail_digest_testserver::AugmentProxy;
use serde_json::{json, Value};
use tokio::runtime::Runtime;

const ACCOUNT: &str = "123456789012";
const BUCKET: &str = "posture-trail-bucket";
const LOGS_BUCKET: &str = "posture-access-logs";
const TRAIL: &str = "posture-trail";
const TRAIL_ARN: &str = "arn:aws:cloudtrail:us-east-1:123456789012:trail/posture-trail";

/// One way to break the compliant setup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Break {
    Nothing,
    StopLogging,
    SingleRegion,
    WriteOnlyEvents,
    NoValidation,
    StaleDigests,
    NoCloudWatch,
    ForeignData,
    NoAccessLogging,
    Public,
    NoMfaDelete,
    NoKmsKey,
    NoRotation,
    UserMaySilence,
    ShortRetention,
}

/// Moto behind the proxy, on a runtime of their own; `None` (the test is skipped) when no
/// moto server is named.
struct Moto {
    rt: Runtime,
    url: String,
    proxy: AugmentProxy,
}

fn moto() -> Option<Moto> {
    let url = std::env::var("CLOUDTRAIL_DIGEST_TEST_MOTO")
        .ok()
        .filter(|u| !u.is_empty())?;
    let rt = support::runtime();
    let proxy = AugmentProxy::start(&rt, &url).unwrap();
    Some(Moto { rt, url, proxy })
}

fn skip() {
    eprintln!("skipped: set CLOUDTRAIL_DIGEST_TEST_MOTO to a moto_server URL (CI does)");
}

async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    let credentials = aws_sdk_s3::config::Credentials::new("AKIDTEST", "test", None, None, "t");
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(credentials)
        .endpoint_url(endpoint)
        .load()
        .await
}

fn s3(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build(),
    )
}

/// The bucket policy CloudTrail needs, for this account's trail only.
fn bucket_policy() -> String {
    json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:GetBucketAcl", "Resource": format!("arn:aws:s3:::{BUCKET}")},
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": format!("arn:aws:s3:::{BUCKET}/AWSLogs/{ACCOUNT}/*"),
         "Condition": {"StringEquals": {"aws:SourceArn": TRAIL_ARN}}}
    ]})
    .to_string()
}

/// The trail's bucket, and the bucket its access logs go to.
async fn buckets(config: &aws_config::SdkConfig, broken: Break) {
    use aws_sdk_s3::types::{
        BucketLifecycleConfiguration, BucketLoggingStatus, BucketVersioningStatus,
        ExpirationStatus, LifecycleExpiration, LifecycleRule, LifecycleRuleFilter, LoggingEnabled,
        ObjectOwnership, OwnershipControls, OwnershipControlsRule, PublicAccessBlockConfiguration,
        VersioningConfiguration,
    };
    let s3 = s3(config);
    for b in [BUCKET, LOGS_BUCKET] {
        s3.create_bucket().bucket(b).send().await.unwrap();
    }
    s3.put_bucket_policy()
        .bucket(BUCKET)
        .policy(bucket_policy())
        .send()
        .await
        .unwrap();
    let ownership = if broken == Break::Public {
        ObjectOwnership::ObjectWriter
    } else {
        ObjectOwnership::BucketOwnerEnforced
    };
    s3.put_bucket_ownership_controls()
        .bucket(BUCKET)
        .ownership_controls(
            OwnershipControls::builder()
                .rules(
                    OwnershipControlsRule::builder()
                        .object_ownership(ownership)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    if broken == Break::Public {
        s3.put_bucket_acl()
            .bucket(BUCKET)
            .acl(aws_sdk_s3::types::BucketCannedAcl::PublicRead)
            .send()
            .await
            .unwrap();
    } else {
        let all = PublicAccessBlockConfiguration::builder()
            .block_public_acls(true)
            .ignore_public_acls(true)
            .block_public_policy(true)
            .restrict_public_buckets(true)
            .build();
        s3.put_public_access_block()
            .bucket(BUCKET)
            .public_access_block_configuration(all)
            .send()
            .await
            .unwrap();
    }
    if broken != Break::NoAccessLogging {
        let logs_policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject",
            "Resource": format!("arn:aws:s3:::{LOGS_BUCKET}/*")}]});
        s3.put_bucket_policy()
            .bucket(LOGS_BUCKET)
            .policy(logs_policy.to_string())
            .send()
            .await
            .unwrap();
        let logging = LoggingEnabled::builder()
            .target_bucket(LOGS_BUCKET)
            .target_prefix(format!("{BUCKET}/"))
            .build()
            .unwrap();
        s3.put_bucket_logging()
            .bucket(BUCKET)
            .bucket_logging_status(
                BucketLoggingStatus::builder()
                    .logging_enabled(logging)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
    s3.put_bucket_versioning()
        .bucket(BUCKET)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let days = if broken == Break::ShortRetention {
        30
    } else {
        400
    };
    let rule = LifecycleRule::builder()
        .id("keep")
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("AWSLogs/").build())
        .expiration(LifecycleExpiration::builder().days(days).build())
        .build()
        .unwrap();
    s3.put_bucket_lifecycle_configuration()
        .bucket(BUCKET)
        .lifecycle_configuration(
            BucketLifecycleConfiguration::builder()
                .rules(rule)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    if broken == Break::ForeignData {
        s3.put_object()
            .bucket(BUCKET)
            .key("app-data/export.csv")
            .body(ByteStream::from_static(b"a,b\n"))
            .send()
            .await
            .unwrap();
    }
}

/// Who may act on the trail: a role that requires MFA; with `UserMaySilence`, a user too.
async fn iam(config: &aws_config::SdkConfig, broken: Break) {
    let iam = aws_sdk_iam::Client::new(config);
    let silence = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": ["cloudtrail:StopLogging", "cloudtrail:UpdateTrail"], "Resource": "*"}]})
    .to_string();
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "sts:AssumeRole",
        "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]})
    .to_string();
    iam.create_role()
        .role_name("trail-admin")
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    iam.put_role_policy()
        .role_name("trail-admin")
        .policy_name("silence")
        .policy_document(&silence)
        .send()
        .await
        .unwrap();
    let logs_trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    .to_string();
    iam.create_role()
        .role_name("trail-to-logs")
        .assume_role_policy_document(logs_trust)
        .send()
        .await
        .unwrap();
    if broken == Break::UserMaySilence {
        iam.create_user().user_name("ops").send().await.unwrap();
        iam.put_user_policy()
            .user_name("ops")
            .policy_name("silence")
            .policy_document(&silence)
            .send()
            .await
            .unwrap();
    }
}

/// The key, the log group, and the trail over them.
async fn trail(config: &aws_config::SdkConfig, broken: Break) {
    use aws_sdk_cloudtrail::types::{EventSelector, ReadWriteType};
    let kms = aws_sdk_kms::Client::new(config);
    let key = kms.create_key().send().await.unwrap();
    let key_id = key.key_metadata().unwrap().key_id().to_owned();
    if broken != Break::NoRotation {
        kms.enable_key_rotation()
            .key_id(&key_id)
            .send()
            .await
            .unwrap();
    }
    let logs = aws_sdk_cloudwatchlogs::Client::new(config);
    logs.create_log_group()
        .log_group_name("trail-events")
        .send()
        .await
        .unwrap();
    let ct = aws_sdk_cloudtrail::Client::new(config);
    let mut create = ct
        .create_trail()
        .name(TRAIL)
        .s3_bucket_name(BUCKET)
        .is_multi_region_trail(broken != Break::SingleRegion)
        .enable_log_file_validation(broken != Break::NoValidation);
    if broken != Break::NoKmsKey {
        create = create.kms_key_id(&key_id);
    }
    if broken != Break::NoCloudWatch {
        create = create
            .cloud_watch_logs_log_group_arn(format!(
                "arn:aws:logs:us-east-1:{ACCOUNT}:log-group:trail-events:*"
            ))
            .cloud_watch_logs_role_arn(format!("arn:aws:iam::{ACCOUNT}:role/trail-to-logs"));
    }
    create.send().await.unwrap();
    let read_write = if broken == Break::WriteOnlyEvents {
        ReadWriteType::WriteOnly
    } else {
        ReadWriteType::All
    };
    ct.put_event_selectors()
        .trail_name(TRAIL)
        .event_selectors(
            EventSelector::builder()
                .read_write_type(read_write)
                .include_management_events(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    if broken != Break::StopLogging {
        ct.start_logging().name(TRAIL).send().await.unwrap();
    }
}

impl Moto {
    /// A fresh moto holding the compliant account, but for `broken`.
    fn build(&self, broken: Break) {
        support::moto_reset(&self.url);
        let now = Utc::now();
        {
            let mut augments = self.proxy.state.lock().unwrap();
            augments.regions = vec!["eu-west-1".into(), "us-east-1".into()];
            let stale = if broken == Break::StaleDigests {
                5 * 60
            } else {
                10
            };
            augments.digest_delivery = Some((now - Duration::minutes(stale)).timestamp());
            augments.cloudwatch_delivery = Some((now - Duration::minutes(2)).timestamp());
            augments.mfa_delete.clear();
            if broken != Break::NoMfaDelete {
                augments.mfa_delete.insert(BUCKET.into());
            }
        }
        self.rt.block_on(async {
            let config = sdk_config(&self.url).await;
            buckets(&config, broken).await;
            iam(&config, broken).await;
            trail(&config, broken).await;
        });
    }

    /// `cloudtrail-digest posture --format json` through the proxy: its exit code and
    /// report.
    fn posture(&self, extra: &[&str]) -> (Option<i32>, Value) {
        let out = Command::new(env!("CARGO_BIN_EXE_cloudtrail-digest"))
            .args(["posture", "--format", "json"])
            .args(extra)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("AWS_ENDPOINT_URL", &self.proxy.endpoint)
            .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/nonexistent")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
            .output()
            .unwrap();
        let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "posture output is not JSON ({e}): {}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        assert_schema(&report);
        (out.status.code(), report)
    }
}

/// Asserts that a report follows the committed schema of `posture --format json`.
fn assert_schema(report: &Value) {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema/posture.schema.json");
    let schema: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

/// Each check's status, by id.
fn statuses(report: &Value) -> Vec<(String, String)> {
    let trail_checks = report["trails"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|t| t["checks"].as_array().into_iter().flatten());
    report["account_checks"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(trail_checks)
        .map(|c| {
            (
                c["id"].as_str().unwrap_or_default().to_owned(),
                c["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["trails"][0]["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(report["account_checks"].as_array().into_iter().flatten())
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id}"))
}

#[test]
fn a_compliant_account_passes_and_each_broken_practice_fails_its_check() {
    let Some(moto) = moto() else { return skip() };
    moto.build(Break::Nothing);
    let (code, report) = moto.posture(&["--verify-hours", "0"]);
    let not_passing: Vec<_> = statuses(&report)
        .into_iter()
        .filter(|(_, s)| s != "pass")
        .map(|(id, s)| {
            (
                id.clone(),
                s,
                check(&report, &id)["findings"].clone(),
                check(&report, &id)["unknown"].clone(),
            )
        })
        .collect();
    assert!(not_passing.is_empty(), "{not_passing:#?}");
    assert_eq!(code, Some(0));
    assert_eq!(statuses(&report).len(), 14);
    assert_eq!(report["account_id"], ACCOUNT);
    for (broken, id) in [
        (Break::StopLogging, "trail-logging"),
        (Break::SingleRegion, "trail-all-regions"),
        (Break::WriteOnlyEvents, "management-events"),
        (Break::NoValidation, "log-file-validation"),
        (Break::StaleDigests, "digest-delivery"),
        (Break::NoCloudWatch, "cloudwatch-logs"),
        (Break::ForeignData, "bucket-dedicated"),
        (Break::NoAccessLogging, "bucket-access-logging"),
        (Break::Public, "bucket-not-public"),
        (Break::NoMfaDelete, "bucket-delete-protection"),
        (Break::NoKmsKey, "kms-cmk"),
        (Break::NoRotation, "kms-rotation"),
        (Break::UserMaySilence, "trail-admin-access"),
        (Break::ShortRetention, "retention"),
    ] {
        moto.build(broken);
        let (code, report) = moto.posture(&["--verify-hours", "0"]);
        let c = check(&report, id);
        assert_eq!(c["status"], "fail", "{broken:?}: {c:#}");
        assert!(!c["findings"].as_array().unwrap().is_empty(), "{broken:?}");
        assert_eq!(code, Some(1), "{broken:?}");
    }
}

#[test]
fn digest_delivery_validates_the_last_hours_of_the_chain() {
    use cloudtrail_digest_testgen::{Generator, Hour, TestKey, TrailSpec, Tree};
    let Some(moto) = moto() else { return skip() };
    moto.build(Break::Nothing);
    // A chain of three hours ending five minutes ago, as CloudTrail would have written it.
    let keys = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/keys");
    let key = TestKey::load(&keys, 1).unwrap();
    let spec = TrailSpec {
        bucket: BUCKET.into(),
        prefix: None,
        org_id: None,
        account: ACCOUNT.into(),
        region: "us-east-1".into(),
        trail: TRAIL.into(),
        home_region: "us-east-1".into(),
    };
    let newest_end = Utc::now() - Duration::minutes(5);
    let mut tree = Tree::default();
    let hours = [Hour {
        logs: 2,
        ..Hour::default()
    }; 3];
    let digests = Generator::new(7).chain(
        &mut tree,
        &spec,
        &[&key],
        newest_end - Duration::hours(3),
        &hours,
        None,
    );
    {
        let mut augments = moto.proxy.state.lock().unwrap();
        let end = digests.last().unwrap().end;
        augments.digest_delivery = Some(end.timestamp());
        augments.public_keys =
            vec![key.list_entry(end - Duration::days(1), end + Duration::days(1))];
    }
    let upload = |tree: &Tree| {
        moto.rt.block_on(async {
            let s3 = s3(&sdk_config(&moto.url).await);
            for (k, o) in &tree.objects {
                s3.put_object()
                    .bucket(BUCKET)
                    .key(k)
                    .body(ByteStream::from(o.body.clone()))
                    .set_metadata(o.metadata.clone().map(|m| m.into_iter().collect()))
                    .send()
                    .await
                    .unwrap();
            }
        });
    };
    upload(&tree);
    let (code, report) = moto.posture(&["--verify-hours", "4"]);
    let c = check(&report, "digest-delivery");
    assert_eq!(c["status"], "pass", "{c:#}");
    assert_eq!(c["evidence"]["validated"]["severity"], "valid", "{c:#}");
    assert_eq!(c["evidence"]["validated"]["digests_valid"], 3, "{c:#}");
    assert_eq!(code, Some(0));
    // A log file altered since: the trail's posture fails on it.
    let log = digests[1].logs[0].clone();
    let mut altered = Tree::default();
    let mut obj = tree.objects[&log].clone();
    obj.body = cloudtrail_digest_testgen::gzip(b"{\"Records\":[]}");
    altered.objects.insert(log, obj);
    upload(&altered);
    let (code, report) = moto.posture(&["--verify-hours", "4"]);
    let c = check(&report, "digest-delivery");
    assert_eq!(c["status"], "fail", "{c:#}");
    assert!(
        c["findings"][0]
            .as_str()
            .unwrap()
            .contains("integrity findings"),
        "{c:#}"
    );
    assert_eq!(code, Some(1));
}

#[test]
fn what_cannot_be_read_is_unknown_with_its_reason_never_passed() {
    // The project's own servers, which answer CloudTrail's trail calls and S3's object
    // calls only: every other call is refused by a real protocol server.
    let rt = support::runtime();
    let s3 = support::S3Server::start(&rt);
    let ct = support::cloudtrail(&rt, Vec::new());
    let mut trail = cloudtrail_digest_testserver::StubTrail::new("example-trail-bucket", "");
    trail.status = json!({ "IsLogging": true, "LatestDigestDeliveryTime": Utc::now().timestamp() });
    ct.state.lock().unwrap().trails.insert(
        "arn:aws:cloudtrail:us-east-1:111122223333:trail/management-events".into(),
        trail,
    );
    let dir = tempfile::tempdir().unwrap();
    let out = support::cli(
        dir.path(),
        &["posture", "--format", "json", "--verify-hours", "0"],
        &s3,
        &ct,
    );
    let report = support::json(&out);
    assert_schema(&report);
    let status = |id: &str| check(&report, id)["status"].as_str().unwrap().to_owned();
    assert_eq!(status("trail-logging"), "pass", "{report:#}");
    assert_eq!(status("log-file-validation"), "pass");
    assert_eq!(status("digest-delivery"), "pass");
    assert_eq!(status("kms-cmk"), "fail");
    for id in [
        "trail-all-regions",
        "management-events",
        "bucket-dedicated",
        "bucket-not-public",
        "bucket-delete-protection",
        "trail-admin-access",
        "kms-rotation",
    ] {
        let c = check(&report, id);
        assert_eq!(c["status"], "unknown", "{id}: {c:#}");
        assert!(c["unknown"]["cause"].is_string(), "{id}: {c:#}");
    }
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(report["exit_code"], 1);
}
