//! `cloudtrail-digest`: a thin command line over the `cloudtrail-digest` library.

mod args;
mod aws;
#[cfg(test)]
mod deploy_tests;
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

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let result = match cli.command {
        args::Command::Validate(a) => validate::run(&a),
        args::Command::Keys(a) => keys::run(&a),
        args::Command::Mirror(a) => mirror::run(&a),
        args::Command::Posture(a) => posture::run(&a),
        args::Command::Merge(a) => merge::run(&a),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // The error may name a file or key from outside: sanitized like every line.
            eprintln!(
                "cloudtrail-digest: error: {}",
                render::sanitize::sanitize(&format!("{e:#}"))
            );
            ExitCode::from(2)
        }
    }
}
