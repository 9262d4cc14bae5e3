//! Properties over generated inputs (proptest): the key grammar round-trips. (The coverage
//! timeline's properties are the crate's own tests, beside it.)

use chrono::{DateTime, Duration, TimeZone as _, Utc};
use cloudtrail_digest::{ChainId, DigestKey, Location, LogKey};
use proptest::prelude::*;

fn location() -> impl Strategy<Value = Location> {
    (
        proptest::option::of(proptest::collection::vec("[a-z0-9._-]{1,8}", 1..3)),
        proptest::option::of("o-[a-z0-9]{3,10}"),
        "[0-9]{12}",
        "[a-z]{2}-[a-z]{4,9}-[1-9]",
    )
        .prop_filter("AWSLogs is not a prefix segment", |(p, ..)| {
            p.as_ref()
                .is_none_or(|p| !p.iter().any(|s| s == "AWSLogs" || s == "." || s == ".."))
        })
        .prop_map(|(prefix, org_id, account_id, region)| Location {
            prefix: prefix.map(|p| p.join("/")),
            org_id,
            account_id,
            region,
        })
}

fn time() -> impl Strategy<Value = DateTime<Utc>> {
    (1_356_998_400i64..4_102_444_800).prop_map(|s| Utc.timestamp_opt(s, 0).unwrap())
}

proptest! {
    #[test]
    fn digest_keys_round_trip(
        location in location(),
        trail_name in "[A-Za-z0-9._-]{1,12}(_[A-Za-z0-9.-]{1,6})?",
        home_region in "[a-z]{2}-[a-z]{4,9}-[1-9]",
        end in time(),
        backfill in any::<bool>(),
    ) {
        let chain = ChainId { location, trail_name, home_region };
        let key = chain.digest_key(end, backfill);
        let parsed = DigestKey::parse(&key).unwrap();
        prop_assert_eq!(&parsed.chain, &chain);
        prop_assert_eq!(parsed.end_time, end);
        prop_assert_eq!(parsed.backfill, backfill);
        prop_assert_eq!(parsed.to_key(), key);
    }

    #[test]
    fn log_keys_round_trip(location in location(), at in time(), unique in "[A-Za-z0-9]{16}") {
        let minute = at - Duration::seconds(i64::from(chrono::Timelike::second(&at)));
        let key = format!(
            "{}{}/{}_CloudTrail_{}_{}_{unique}.json.gz",
            location.log_prefix(),
            minute.format("%Y/%m/%d"),
            location.account_id,
            location.region,
            minute.format("%Y%m%dT%H%MZ"),
        );
        let parsed = LogKey::parse(&key).unwrap();
        prop_assert_eq!(&parsed.location, &location);
        prop_assert_eq!(parsed.delivery_time, minute);
        prop_assert_eq!(parsed.to_key(), key);
        prop_assert_eq!(Location::from_log_folder(&location.log_prefix()).unwrap(), location);
    }
}
