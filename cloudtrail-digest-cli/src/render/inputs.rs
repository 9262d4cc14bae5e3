//! What a run read and with which options, as the reports record it.

/// What a run read and with which options, recorded in the report.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub(crate) struct Inputs {
    /// The directory or `s3://BUCKET/PREFIX` read.
    pub(crate) read_from: String,
    /// The bucket the source is a copy of, when given.
    pub(crate) original_bucket: Option<String>,
    /// Where the public keys came from.
    pub(crate) public_keys: Vec<String>,
    pub(crate) account_ids: Vec<String>,
    pub(crate) regions: Vec<String>,
    pub(crate) trail_name: Option<String>,
    pub(crate) start_time: Option<chrono::DateTime<chrono::Utc>>,
    pub(crate) end_time: Option<chrono::DateTime<chrono::Utc>>,
    /// When the bucket was judged: digests not due by then are pending.
    pub(crate) as_of: Option<chrono::DateTime<chrono::Utc>>,
}
