//! Reading an account's posture facts from AWS (feature `aws`): the trails, their status
//! and selectors, buckets, keys and log groups, the account's regions, Block Public Access
//! and who may act on the trails; and, when asked, the last hours of each trail's chains
//! validated. Every call that fails leaves its fact unknown, with the reason.

use chrono::{Duration, Utc};

use super::client::Aws;
use crate::posture::{
    evaluate, Known, PostureFacts, PostureReport, RecentValidation, TrailFacts, Unknown,
};
use crate::store::S3Options;
use crate::{Selection, Validator};

mod account;
mod bucket;
mod errors;
mod key_logs;
mod trails;

/// What `posture` examines.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PostureOptions {
    /// These trails (ARNs); empty: every trail visible from the account.
    pub trail_arns: Vec<String>,
    /// The regions to look for trails in; empty: the account's enabled regions.
    pub regions: Vec<String>,
    /// Validate the last this many hours of each trail's chains; 0: do not.
    pub verify_hours: u32,
    /// How long log files must be kept, in days, at the least.
    pub min_retention_days: u32,
}

impl Default for PostureOptions {
    fn default() -> Self {
        Self {
            trail_arns: Vec::new(),
            regions: Vec::new(),
            verify_hours: 24,
            min_retention_days: 365,
        }
    }
}

impl Aws {
    /// The posture of the account's trails: the facts read now, judged.
    pub async fn posture(&self, options: &PostureOptions) -> PostureReport {
        evaluate(&self.posture_facts(options).await)
    }

    /// The facts [`Aws::posture`] judges.
    pub async fn posture_facts(&self, options: &PostureOptions) -> PostureFacts {
        let (aws, options) = (self.clone(), options.clone());
        let read_at = Utc::now();
        let task = async move { gather(&aws, &options).await };
        match self.bridge_handle() {
            Some(handle) => handle.spawn(task).await.unwrap_or_else(|e| {
                let mut facts = PostureFacts::new(read_at, 0);
                facts.trail_listing = Some(Unknown::Error {
                    message: format!("reading the facts failed: {e}"),
                });
                facts
            }),
            None => task.await,
        }
    }
}

/// Every fact, account first, then each trail.
async fn gather(aws: &Aws, options: &PostureOptions) -> PostureFacts {
    let clients = aws.api();
    let mut facts = PostureFacts::new(Utc::now(), options.min_retention_days);
    facts.account_id = account::account_id(&clients.sts()).await;
    facts.enabled_regions = account::enabled_regions(&clients.account()).await;
    facts.account_public_access_block = match &facts.account_id {
        Ok(id) => account::public_access_block(&clients.s3control(), id).await,
        Err(why) => Err(why.clone()),
    };
    facts.principals = account::principals(&clients.iam()).await;
    let regions = if options.regions.is_empty() {
        match &facts.enabled_regions {
            Ok(r) => r.clone(),
            Err(_) => vec![aws.region().to_string()],
        }
    } else {
        options.regions.clone()
    };
    match trails::trails(&clients, &regions, &options.trail_arns).await {
        Ok(found) => {
            for trail in found {
                let trail = gather_trail(aws, &facts, trail, options).await;
                facts.trails.push(trail);
            }
        }
        Err(why) => facts.trail_listing = Some(why),
    }
    facts
}

/// A trail's status, selectors, bucket, key, log group and recent validation.
async fn gather_trail(
    aws: &Aws,
    facts: &PostureFacts,
    mut t: TrailFacts,
    options: &PostureOptions,
) -> TrailFacts {
    let clients = aws.api();
    t.status = trails::status(&clients, &t).await;
    t.selectors = trails::selectors(&clients, &t).await;
    // A resource of another account (an organization trail's, seen from a member) is
    // said to be so when it cannot be read.
    let owner = t.arn.split(':').nth(4).unwrap_or_default().to_owned();
    let elsewhere = facts.account_id.as_ref().is_ok_and(|me| *me != owner);
    if let Some(b) = t.bucket.clone() {
        let region = aws.bucket_region(&b).await;
        let s3 = aws.s3_client_in(region.as_deref());
        t.bucket_facts = Some(other(bucket::bucket(&s3, &b).await, elsewhere, &owner));
    }
    if let Some(k) = t.kms_key_id.clone() {
        t.key = Some(other(
            key_logs::key(&clients, &k, &t.home_region).await,
            elsewhere,
            &owner,
        ));
    }
    if let Some(g) = t.log_group_arn.clone() {
        t.log_group = Some(key_logs::log_group(&clients, &g, &t.home_region).await);
    }
    if options.verify_hours > 0 && t.log_file_validation {
        t.recent = recent(aws, &t, options.verify_hours, facts.read_at).await;
    }
    t
}

/// A fact of another account's resource, denied: said to be in that account.
fn other<T>(known: Known<T>, elsewhere: bool, owner: &str) -> Known<T> {
    match known {
        Err(Unknown::AccessDenied { .. }) if elsewhere => Err(Unknown::OtherAccount {
            owner: owner.to_owned(),
        }),
        k => k,
    }
}

/// The last `hours` of a trail's chains, validated from its bucket.
async fn recent(
    aws: &Aws,
    t: &TrailFacts,
    hours: u32,
    now: chrono::DateTime<Utc>,
) -> Option<Known<RecentValidation>> {
    let bucket = t.bucket.clone()?;
    let store = match aws.s3_store(&bucket, S3Options::default()).await {
        Ok(s) => s,
        Err(e) => {
            return Some(Err(Unknown::Error {
                message: format!("cannot start the S3 store: {e}"),
            }))
        }
    };
    let validator = Validator::new(store, &bucket)
        .prefix(t.prefix.clone().unwrap_or_default())
        .public_keys(aws.public_keys())
        .trail_record_source(aws.trail_records())
        .selection(
            Selection::all()
                .trail(&t.name)
                .between(Some(now - Duration::hours(i64::from(hours))), None),
        )
        .as_of(now)
        .omit_valid_logs(true);
    let run = tokio::task::spawn_blocking(move || validator.run()).await;
    Some(match run {
        Ok(Ok(report)) => Ok(RecentValidation {
            hours,
            severity: report.severity(),
            digests_valid: report.totals.digests.valid,
            issues: report.issues.len() as u64,
        }),
        Ok(Err(e)) => Err(Unknown::Error {
            message: format!("validating the last {hours} hours: {e}"),
        }),
        Err(e) => Err(Unknown::Error {
            message: format!("validating the last {hours} hours stopped: {e}"),
        }),
    })
}
