//! Trail ARNs given on the command line.

use anyhow::{bail, Result};
use cloudtrail_digest::TrailArn;

/// Parses a trail ARN given on the command line.
pub(crate) fn parse_arn(arn: &str) -> Result<TrailArn> {
    match TrailArn::parse(arn) {
        Some(parsed) => Ok(parsed),
        None => bail!(
            "invalid trail ARN {arn:?}: expected arn:PARTITION:cloudtrail:REGION:ACCOUNT:trail/NAME"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_a_trail_arn() {
        let t = parse_arn("arn:aws:cloudtrail:eu-west-1:111122223333:trail/main").unwrap();
        assert_eq!((t.region.as_str(), t.name.as_str()), ("eu-west-1", "main"));
        for bad in [
            "arn:aws:s3:::bucket",
            "arn:aws:cloudtrail:eu-west-1:111122223333:trail/",
            "trail/main",
            "arn:aws:cloudtrail::1:trail/x",
        ] {
            assert!(
                parse_arn(bad)
                    .unwrap_err()
                    .to_string()
                    .contains("invalid trail ARN"),
                "{bad}"
            );
        }
    }
}
