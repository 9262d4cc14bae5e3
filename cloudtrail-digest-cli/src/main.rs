//! `cloudtrail-digest`: a thin command line over the `cloudtrail-digest` library.

mod args;
mod aws;
#[cfg(test)]
mod deploy_tests;
mod docs;
mod folder_check;
mod keys;
mod limits;
mod merge;
mod mirror;
mod output;
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
    let result = match cli.command {
        args::Command::Validate(a) => validate::run(&a),
        args::Command::Keys(a) => keys::run(&a),
        args::Command::Mirror(a) => mirror::run(&a),
        args::Command::Posture(a) => posture::run(&a),
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
            ExitCode::from(2)
        }
    }
}
