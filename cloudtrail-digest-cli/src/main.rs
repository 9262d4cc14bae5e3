//! `cloudtrail-digest`: a thin command line over the `cloudtrail-digest` library.

mod args;
#[cfg(feature = "aws")]
mod aws;
#[cfg(test)]
mod deploy_tests;
mod docs;
mod folder_check;
#[cfg(feature = "aws")]
mod keys;
#[cfg(feature = "aws")]
mod limits;
mod merge;
#[cfg(feature = "aws")]
mod mirror;
mod output;
#[cfg(feature = "aws")]
mod posture;
mod progress;
mod render;
mod report_file;
mod shard;

mod trails;
mod validate;

use std::process::ExitCode;

use clap::Parser as _;

/// Many small bodies are allocated and freed across threads; mimalloc does that with less
/// contention and copying than the system allocator (see benches/README.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The error of a command that needs AWS in a build without it.
#[cfg(not(feature = "aws"))]
pub(crate) fn no_aws(what: &str) -> anyhow::Result<u8> {
    anyhow::bail!("{what} needs AWS, and this build has no AWS support (built without the default `aws` feature): install it with default features, or validate a local copy")
}

/// Everything an error's causes said, with the detail of a store's failure (`--debug`).
fn details(e: &anyhow::Error) -> String {
    let mut text = format!("{e:?}");
    for cause in e.chain() {
        let detail = cause
            .downcast_ref::<cloudtrail_digest::store::StoreError>()
            .and_then(|s| s.detail());
        if let Some(detail) = detail {
            text.push_str("\n\nDetail: ");
            text.push_str(detail);
        }
    }
    text
}

/// An error and its causes in one line, each cause once (a message that already quotes
/// its cause does not repeat it), with the remedy for access denied.
fn one_line(e: &anyhow::Error) -> String {
    let mut line = e.to_string();
    for cause in e.chain().skip(1) {
        let cause = cause.to_string();
        if !line.contains(&cause) {
            line.push_str(": ");
            line.push_str(&cause);
        }
    }
    if line.contains("AccessDenied") {
        line.push_str(" (the credentials need s3:ListBucket and s3:GetObject on the bucket, kms:Decrypt for an SSE-KMS bucket, and cloudtrail:ListPublicKeys; see Permissions in the README)");
    }
    line
}

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let debug = cli.debug;
    let result = match cli.command {
        args::Command::Validate(a) => validate::run(&a),
        #[cfg(feature = "aws")]
        args::Command::Keys(a) => keys::run(&a),
        #[cfg(feature = "aws")]
        args::Command::Mirror(a) => mirror::run(&a),
        #[cfg(feature = "aws")]
        args::Command::Posture(a) => posture::run(&a),
        #[cfg(not(feature = "aws"))]
        args::Command::Keys(_) => no_aws("keys"),
        #[cfg(not(feature = "aws"))]
        args::Command::Mirror(_) => no_aws("mirror"),
        #[cfg(not(feature = "aws"))]
        args::Command::Posture(_) => no_aws("posture"),
        args::Command::Merge(a) => merge::run(&a),
        args::Command::Completions { shell } => docs::completions(shell),
        args::Command::Man => docs::man(),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // The error may name a file or key from outside: sanitized like every line.
            eprintln!(
                "cloudtrail-digest: error: {}",
                render::sanitize::sanitize(&one_line(&e))
            );
            if debug {
                for line in details(&e).lines() {
                    eprintln!("{}", render::sanitize::sanitize(line));
                }
            }
            ExitCode::from(2)
        }
    }
}
