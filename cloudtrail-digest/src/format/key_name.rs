//! The S3 key grammar of CloudTrail log and digest files (AWS CloudTrail User Guide,
//! "CloudTrail digest file structure": digest file name and location).
//!
//! ```text
//! [prefix/]AWSLogs/[o-ORGID/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHmmZ_UNIQUE.json.gz
//! [prefix/]AWSLogs/[o-ORGID/]ACCOUNT/CloudTrail-Digest/REGION/YYYY/MM/DD/ACCOUNT_CloudTrail-Digest_REGION_TRAIL_HOMEREGION_YYYYMMDDTHHMMSSZ[_backfill].json.gz
//! ```

use std::fmt;

use chrono::{DateTime, Datelike as _, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

const DIGEST_TIME_FORMAT: &str = "%Y%m%dT%H%M%SZ";
const LOG_TIME_FORMAT: &str = "%Y%m%dT%H%MZ";

/// Where one account's files for one region live: `[prefix/]AWSLogs/[o-ORGID/]ACCOUNT/…/REGION/`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Location {
    /// The trail's S3 key prefix, if any (without a trailing slash).
    pub prefix: Option<String>,
    /// The organization id (`o-…`) of an organization trail.
    pub org_id: Option<String>,
    /// The 12-digit account id.
    pub account_id: String,
    /// The region the files cover.
    pub region: String,
}

impl Location {
    fn base(&self, kind: &str) -> String {
        let mut out = String::new();
        if let Some(prefix) = &self.prefix {
            out.push_str(prefix);
            out.push('/');
        }
        out.push_str("AWSLogs/");
        if let Some(org) = &self.org_id {
            out.push_str(org);
            out.push('/');
        }
        for part in [self.account_id.as_str(), kind, self.region.as_str()] {
            out.push_str(part);
            out.push('/');
        }
        out
    }

    /// The listing prefix of this location's digest files, ending with `/`.
    pub fn digest_prefix(&self) -> String {
        self.base("CloudTrail-Digest")
    }

    /// The location of a log folder, `[prefix/]AWSLogs/[o-ORGID/]ACCOUNT/CloudTrail/REGION/`.
    ///
    /// # Errors
    /// The folder does not follow that grammar.
    pub fn from_log_folder(folder: &str) -> Result<Self, KeyError> {
        let parts: Vec<&str> = folder.trim_end_matches('/').split('/').collect();
        location_of(&parts, "CloudTrail")
    }

    /// The listing prefix of this location's log files, ending with `/`.
    pub fn log_prefix(&self) -> String {
        self.base("CloudTrail")
    }
}

/// One digest chain: the digest files a trail writes for one (account, region).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ChainId {
    /// Where the digests live.
    #[serde(flatten)]
    pub location: Location,
    /// The trail's name.
    pub trail_name: String,
    /// The trail's home region.
    pub home_region: String,
}

impl ChainId {
    /// The ARN of the trail, as far as the key tells it. For an organization trail the
    /// trail belongs to the management account, which the key does not name; the member
    /// account is used instead.
    pub fn trail_arn(&self) -> String {
        format!(
            "arn:aws:cloudtrail:{}:{}:trail/{}",
            self.home_region, self.location.account_id, self.trail_name
        )
    }

    /// The key a digest of this chain ending at `end_time` has.
    pub fn digest_key(&self, end_time: DateTime<Utc>, backfill: bool) -> String {
        let loc = &self.location;
        format!(
            "{}{}/{}_CloudTrail-Digest_{}_{}_{}_{}{}.json.gz",
            loc.digest_prefix(),
            end_time.format("%Y/%m/%d"),
            loc.account_id,
            loc.region,
            self.trail_name,
            self.home_region,
            end_time.format(DIGEST_TIME_FORMAT),
            if backfill { "_backfill" } else { "" }
        )
    }

    /// The key to list from (S3 `StartAfter`) to reach this chain's digests ending at or
    /// after `start`: the key of a digest ending one minute earlier, as the reference does.
    pub fn listing_start_after(&self, start: DateTime<Utc>) -> String {
        self.digest_key(start - chrono::Duration::minutes(1), false)
    }
}

impl fmt::Display for ChainId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "trail {} in account {} region {}",
            self.trail_name, self.location.account_id, self.location.region
        )
    }
}

/// A parsed digest file key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestKey {
    /// The chain the digest belongs to.
    pub chain: ChainId,
    /// The digest's end time, from the file name.
    pub end_time: DateTime<Utc>,
    /// Whether the file name ends in `_backfill.json.gz`.
    pub backfill: bool,
}

/// A parsed log file key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogKey {
    /// Where the log lives.
    pub location: Location,
    /// The delivery time in the file name (minute precision).
    pub delivery_time: DateTime<Utc>,
    /// The unique suffix of the file name.
    pub unique: String,
}

/// Why a key is not a CloudTrail digest or log key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(String);

fn err<T>(msg: impl Into<String>) -> Result<T, KeyError> {
    Err(KeyError(msg.into()))
}

/// Splits a key into its location, the date folders and the file name, checking the
/// fixed parts of the grammar. `kind` is `CloudTrail` or `CloudTrail-Digest`.
fn split_key<'k>(key: &'k str, kind: &str) -> Result<(Location, [&'k str; 3], &'k str), KeyError> {
    let parts: Vec<&str> = key.split('/').collect();
    let n = parts.len();
    if n < 8 {
        return err("too few path segments");
    }
    let location = location_of(&parts[..n - 4], kind)?;
    Ok((
        location,
        [parts[n - 4], parts[n - 3], parts[n - 2]],
        parts[n - 1],
    ))
}

/// The location of folder segments ending `AWSLogs/[o-ORGID/]ACCOUNT/KIND/REGION`.
fn location_of(parts: &[&str], kind: &str) -> Result<Location, KeyError> {
    let n = parts.len();
    if n < 4 {
        return err("too few path segments");
    }
    let (root, org_id) = if parts[n - 4] == "AWSLogs" {
        (n - 4, None)
    } else if n >= 5 && parts[n - 5] == "AWSLogs" {
        let org = parts[n - 4];
        if !org.starts_with("o-") || org.len() < 3 {
            return err(format!("{org:?} is not an organization id"));
        }
        (n - 5, Some(org.to_owned()))
    } else {
        return err("no AWSLogs segment where one is expected");
    };
    let account_id = parts[n - 3];
    if account_id.len() != 12 || !account_id.bytes().all(|b| b.is_ascii_digit()) {
        return err(format!("{account_id:?} is not a 12-digit account id"));
    }
    if parts[n - 2] != kind {
        return err(format!("expected a {kind} folder"));
    }
    let region = parts[n - 1];
    if region.is_empty() || region.contains('_') {
        return err(format!("{region:?} is not a region"));
    }
    let prefix = (root > 0).then(|| parts[..root].join("/"));
    Ok(Location {
        prefix,
        org_id,
        account_id: account_id.to_owned(),
        region: region.to_owned(),
    })
}

/// A fixed-width decimal number (every byte a digit).
fn digits(s: &str, width: usize) -> Option<u32> {
    (s.len() == width && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// The UTC time of `YYYYMMDDTHHMMZ`, or with seconds `YYYYMMDDTHHMMSSZ` (the fixed-width
/// forms CloudTrail writes; one is parsed for every key, so by hand).
fn compact_time(s: &str, seconds: bool) -> Option<DateTime<Utc>> {
    let time = s.strip_suffix('Z')?;
    let (date, clock) = time.split_once('T')?;
    let (year, month, day) = (
        digits(date.get(..4)?, 4)?,
        digits(date.get(4..6)?, 2)?,
        digits(date.get(6..)?, 2)?,
    );
    let (hour, minute) = (digits(clock.get(..2)?, 2)?, digits(clock.get(2..4)?, 2)?);
    let second = if seconds {
        digits(clock.get(4..)?, 2)?
    } else if clock.len() == 4 {
        0
    } else {
        return None;
    };
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?
        .and_hms_opt(hour, minute, second)
        .map(|t| t.and_utc())
}

fn check_date_folders(folders: [&str; 3], time: DateTime<Utc>) -> Result<(), KeyError> {
    let [y, m, d] = folders;
    let matches = digits(y, 4).and_then(|y| i32::try_from(y).ok()) == Some(time.year())
        && digits(m, 2) == Some(time.month())
        && digits(d, 2) == Some(time.day());
    if matches {
        Ok(())
    } else {
        err(format!(
            "date folders {y}/{m}/{d} do not match the time in the file name"
        ))
    }
}

impl DigestKey {
    /// Parses a digest file key.
    pub fn parse(key: &str) -> Result<Self, KeyError> {
        let (location, folders, file) = split_key(key, "CloudTrail-Digest")?;
        let Some(stem) = file.strip_suffix(".json.gz") else {
            return err("file name does not end in .json.gz");
        };
        let (stem, backfill) = match stem.strip_suffix("_backfill") {
            Some(s) => (s, true),
            None => (stem, false),
        };
        let head = format!(
            "{}_CloudTrail-Digest_{}_",
            location.account_id, location.region
        );
        let Some(rest) = stem.strip_prefix(&head) else {
            return err(format!("file name does not start with {head}"));
        };
        let Some((rest, time)) = rest.rsplit_once('_') else {
            return err("file name has no end time");
        };
        let Some((trail_name, home_region)) = rest.rsplit_once('_') else {
            return err("file name has no home region");
        };
        if trail_name.is_empty() || home_region.is_empty() {
            return err("file name has an empty trail name or home region");
        }
        let Some(end_time) = compact_time(time, true) else {
            return err(format!("{time:?} is not a YYYYMMDDTHHMMSSZ time"));
        };
        check_date_folders(folders, end_time)?;
        Ok(Self {
            chain: ChainId {
                location,
                trail_name: trail_name.to_owned(),
                home_region: home_region.to_owned(),
            },
            end_time,
            backfill,
        })
    }

    /// Rebuilds the key.
    pub fn to_key(&self) -> String {
        self.chain.digest_key(self.end_time, self.backfill)
    }
}

impl LogKey {
    /// Parses a log file key.
    pub fn parse(key: &str) -> Result<Self, KeyError> {
        let (location, folders, file) = split_key(key, "CloudTrail")?;
        let Some(stem) = file.strip_suffix(".json.gz") else {
            return err("file name does not end in .json.gz");
        };
        let head = format!("{}_CloudTrail_{}_", location.account_id, location.region);
        let Some(rest) = stem.strip_prefix(&head) else {
            return err(format!("file name does not start with {head}"));
        };
        let Some((time, unique)) = rest.split_once('_') else {
            return err("file name has no unique suffix");
        };
        let Some(delivery_time) = compact_time(time, false) else {
            return err(format!("{time:?} is not a YYYYMMDDTHHmmZ time"));
        };
        check_date_folders(folders, delivery_time)?;
        Ok(Self {
            location,
            delivery_time,
            unique: unique.to_owned(),
        })
    }

    /// Rebuilds the key.
    pub fn to_key(&self) -> String {
        format!(
            "{}{}/{}_CloudTrail_{}_{}_{}.json.gz",
            self.location.log_prefix(),
            self.delivery_time.format("%Y/%m/%d"),
            self.location.account_id,
            self.location.region,
            self.delivery_time.format(LOG_TIME_FORMAT),
            self.unique
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REAL: &str = "AWSLogs/327878933619/CloudTrail-Digest/ap-northeast-1/2023/10/15/327878933619_CloudTrail-Digest_ap-northeast-1_llm-guard-trail_us-west-2_20231015T230404Z.json.gz";

    #[test]
    fn compact_times_parse_as_chrono_does_for_fixed_width_forms() {
        let cases = [
            ("20240301T0105Z", false, true),
            ("20240229T2359Z", false, true),
            ("20230229T0000Z", false, false),
            ("20240301T2400Z", false, false),
            ("20240301T0160Z", false, false),
            ("20241301T0000Z", false, false),
            ("2024031T0105Z", false, false),
            ("20240301T0105", false, false),
            ("20240301T010500Z", false, false),
            ("+2024301T0105Z", false, false),
            ("2024-301T0105Z", false, false),
            ("20240301T010507Z", true, true),
            ("20240301T010560Z", true, false),
            ("20240301T0105Z", true, false),
        ];
        for (text, seconds, valid) in cases {
            let format = if seconds {
                DIGEST_TIME_FORMAT
            } else {
                LOG_TIME_FORMAT
            };
            let chrono = chrono::NaiveDateTime::parse_from_str(text, format)
                .ok()
                .map(|t| t.and_utc());
            let ours = compact_time(text, seconds);
            assert_eq!(ours.is_some(), valid, "{text}");
            if valid {
                assert_eq!(ours, chrono, "{text}");
            }
        }
    }

    #[test]
    fn parses_log_folders() {
        let loc =
            Location::from_log_folder("p/q/AWSLogs/o-abc123/111122223333/CloudTrail/eu-west-1/")
                .unwrap();
        assert_eq!(loc.prefix.as_deref(), Some("p/q"));
        assert_eq!(loc.org_id.as_deref(), Some("o-abc123"));
        assert_eq!(
            loc.log_prefix(),
            "p/q/AWSLogs/o-abc123/111122223333/CloudTrail/eu-west-1/"
        );
        assert!(Location::from_log_folder("AWSLogs/1234/CloudTrail/eu-west-1/").is_err());
        assert!(
            Location::from_log_folder("AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/").is_err()
        );
    }

    #[test]
    fn parses_and_rebuilds_a_real_digest_key() {
        let k = DigestKey::parse(REAL).unwrap();
        assert_eq!(k.chain.location.account_id, "327878933619");
        assert_eq!(k.chain.location.region, "ap-northeast-1");
        assert_eq!(k.chain.trail_name, "llm-guard-trail");
        assert_eq!(k.chain.home_region, "us-west-2");
        assert_eq!(k.end_time.to_rfc3339(), "2023-10-15T23:04:04+00:00");
        assert!(!k.backfill);
        assert_eq!(k.chain.location.prefix, None);
        assert_eq!(k.to_key(), REAL);
    }

    #[test]
    fn parses_prefix_org_backfill_and_underscored_trail() {
        let key = "a/b/AWSLogs/o-abc123/111122223333/CloudTrail-Digest/eu-west-1/2024/01/02/111122223333_CloudTrail-Digest_eu-west-1_my_trail_us-east-1_20240102T030405Z_backfill.json.gz";
        let k = DigestKey::parse(key).unwrap();
        assert_eq!(k.chain.location.prefix.as_deref(), Some("a/b"));
        assert_eq!(k.chain.location.org_id.as_deref(), Some("o-abc123"));
        assert_eq!(k.chain.trail_name, "my_trail");
        assert!(k.backfill);
        assert_eq!(k.to_key(), key);
        assert_eq!(
            k.chain.location.digest_prefix(),
            "a/b/AWSLogs/o-abc123/111122223333/CloudTrail-Digest/eu-west-1/"
        );
    }

    #[test]
    fn rejects_malformed_digest_keys() {
        for (key, why) in [
            (
                "AWSLogs/1/CloudTrail-Digest/r/2023/10/15/x.json.gz",
                "12-digit",
            ),
            (&REAL.replace("/15/", "/16/"), "date folders"),
            (&REAL.replace("230404Z", "236404Z"), "YYYYMMDDTHHMMSSZ"),
            (&REAL.replace(".json.gz", ".json"), ".json.gz"),
            (
                &REAL.replace("CloudTrail-Digest/", "CloudTrail/"),
                "CloudTrail-Digest",
            ),
        ] {
            let e = DigestKey::parse(key).unwrap_err();
            assert!(e.0.contains(why), "{key}: {e}");
        }
    }

    #[test]
    fn parses_and_rebuilds_log_keys() {
        let key = "AWSLogs/327878933619/CloudTrail/ap-northeast-1/2023/10/15/327878933619_CloudTrail_ap-northeast-1_20231015T2205Z_iRIoDMA9l9Q4kmFy.json.gz";
        let k = LogKey::parse(key).unwrap();
        assert_eq!(k.unique, "iRIoDMA9l9Q4kmFy");
        assert_eq!(k.delivery_time.to_rfc3339(), "2023-10-15T22:05:00+00:00");
        assert_eq!(k.to_key(), key);
        assert!(LogKey::parse(REAL).is_err());
    }

    #[test]
    fn listing_start_is_one_minute_before() {
        let k = DigestKey::parse(REAL).unwrap();
        assert!(k
            .chain
            .listing_start_after(k.end_time)
            .ends_with("_20231015T230304Z.json.gz"));
    }
}
