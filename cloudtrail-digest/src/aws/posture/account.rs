//! Facts of the account: who it is, its enabled regions, its S3 Block Public Access, and
//! who may act on its trails (`GetAccountAuthorizationDetails`).

use std::collections::BTreeMap;

use aws_sdk_iam::types::{AttachedPolicy, EntityType, PolicyDetail};

use super::errors::{optional, policy_document, unknown};
use crate::posture::{Known, Principal, PublicAccessBlock, Unknown};

/// The most pages of a listing read (IAM answers in pages of at most 1,000 entries).
const MAX_PAGES: usize = 1000;

/// The caller's account (`GetCallerIdentity`).
pub(super) async fn account_id(sts: &aws_sdk_sts::Client) -> Known<String> {
    let out = sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| unknown("GetCallerIdentity", &e))?;
    out.account().map(str::to_owned).ok_or(Unknown::Error {
        message: "GetCallerIdentity gave no account".into(),
    })
}

/// The regions enabled for the account (`account:ListRegions`).
pub(super) async fn enabled_regions(account: &aws_sdk_account::Client) -> Known<Vec<String>> {
    use aws_sdk_account::types::RegionOptStatus;
    let mut regions = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let out = account
            .list_regions()
            .region_opt_status_contains(RegionOptStatus::Enabled)
            .region_opt_status_contains(RegionOptStatus::EnabledByDefault)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| unknown("ListRegions", &e))?;
        regions.extend(
            out.regions()
                .iter()
                .filter_map(|r| r.region_name().map(str::to_owned)),
        );
        if let Some(t) = out.next_token().filter(|t| !t.is_empty()) {
            token = Some(t.to_owned());
        } else {
            regions.sort();
            return Ok(regions);
        }
    }
    Err(Unknown::Error {
        message: format!("ListRegions did not end after {MAX_PAGES} pages"),
    })
}

/// The account's S3 Block Public Access (`s3control:GetPublicAccessBlock`).
pub(super) async fn public_access_block(
    s3control: &aws_sdk_s3control::Client,
    account_id: &str,
) -> Known<Option<PublicAccessBlock>> {
    let out = optional(
        "GetPublicAccessBlock (account)",
        s3control
            .get_public_access_block()
            .account_id(account_id)
            .send()
            .await,
        &["NoSuchPublicAccessBlockConfiguration"],
    )?;
    Ok(out
        .and_then(|o| o.public_access_block_configuration().cloned())
        .map(|c| PublicAccessBlock {
            block_public_acls: c.block_public_acls().unwrap_or(false),
            ignore_public_acls: c.ignore_public_acls().unwrap_or(false),
            block_public_policy: c.block_public_policy().unwrap_or(false),
            restrict_public_buckets: c.restrict_public_buckets().unwrap_or(false),
        }))
}

/// What the account authorization details hold, gathered over their pages.
#[derive(Default)]
struct Details {
    users: Vec<aws_sdk_iam::types::UserDetail>,
    groups: Vec<aws_sdk_iam::types::GroupDetail>,
    roles: Vec<aws_sdk_iam::types::RoleDetail>,
    /// Customer managed policies' default documents, by ARN.
    managed: BTreeMap<String, serde_json::Value>,
}

async fn details(iam: &aws_sdk_iam::Client) -> Known<Details> {
    let mut d = Details::default();
    let mut marker: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let out = iam
            .get_account_authorization_details()
            .filter(EntityType::User)
            .filter(EntityType::Group)
            .filter(EntityType::Role)
            .filter(EntityType::LocalManagedPolicy)
            .set_marker(marker.take())
            .send()
            .await
            .map_err(|e| unknown("GetAccountAuthorizationDetails", &e))?;
        d.users.extend(out.user_detail_list().iter().cloned());
        d.groups.extend(out.group_detail_list().iter().cloned());
        d.roles.extend(out.role_detail_list().iter().cloned());
        for p in out.policies() {
            let document = p
                .policy_version_list()
                .iter()
                .find(|v| v.is_default_version())
                .and_then(|v| v.document())
                .and_then(policy_document);
            if let (Some(arn), Some(doc)) = (p.arn(), document) {
                d.managed.insert(arn.to_owned(), doc);
            }
        }
        match out.marker().filter(|_| out.is_truncated()) {
            Some(m) => marker = Some(m.to_owned()),
            None => return Ok(d),
        }
    }
    Err(Unknown::Error {
        message: format!("GetAccountAuthorizationDetails did not end after {MAX_PAGES} pages"),
    })
}

/// A principal's policies: inline documents, customer managed documents, and the names of
/// the AWS managed policies attached.
fn principal(
    kind: &str,
    arn: Option<&str>,
    inline: &[PolicyDetail],
    attached: &[AttachedPolicy],
    managed: &BTreeMap<String, serde_json::Value>,
) -> Principal {
    let mut p = Principal {
        kind: kind.to_owned(),
        arn: arn.unwrap_or_default().to_owned(),
        ..Principal::default()
    };
    p.documents.extend(
        inline
            .iter()
            .filter_map(|d| d.policy_document().and_then(policy_document)),
    );
    for a in attached {
        match a.policy_arn().and_then(|arn| managed.get(arn)) {
            Some(doc) => p.documents.push(doc.clone()),
            None => p.aws_managed.extend(a.policy_name().map(str::to_owned)),
        }
    }
    p
}

/// Every user (with its groups' policies), group and role, service-linked roles left out
/// (only their service can use them).
pub(super) async fn principals(iam: &aws_sdk_iam::Client) -> Known<Vec<Principal>> {
    let d = details(iam).await?;
    let mut out = Vec::new();
    let mut groups = BTreeMap::new();
    for g in &d.groups {
        let p = principal(
            "group",
            g.arn(),
            g.group_policy_list(),
            g.attached_managed_policies(),
            &d.managed,
        );
        groups.insert(g.group_name().unwrap_or_default().to_owned(), p.clone());
        out.push(p);
    }
    for u in &d.users {
        let mut p = principal(
            "user",
            u.arn(),
            u.user_policy_list(),
            u.attached_managed_policies(),
            &d.managed,
        );
        for g in u.group_list().iter().filter_map(|g| groups.get(g)) {
            p.documents.extend(g.documents.iter().cloned());
            p.aws_managed.extend(g.aws_managed.iter().cloned());
        }
        out.push(p);
    }
    for r in d
        .roles
        .iter()
        .filter(|r| r.path() != Some("/aws-service-role/"))
    {
        let mut p = principal(
            "role",
            r.arn(),
            r.role_policy_list(),
            r.attached_managed_policies(),
            &d.managed,
        );
        p.trust_policy = r.assume_role_policy_document().and_then(policy_document);
        out.push(p);
    }
    Ok(out)
}
