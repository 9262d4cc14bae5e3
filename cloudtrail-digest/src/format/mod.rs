//! What CloudTrail writes, parsed: the S3 key grammar, digest files, gzip members, hex
//! values, and CloudTrail's own record of a trail. Pure: bytes in, typed values out.

pub(crate) mod digest_file;
pub(crate) mod gzip;
pub(crate) mod hex;
pub(crate) mod key_name;
pub(crate) mod time;
pub(crate) mod trail_record;
