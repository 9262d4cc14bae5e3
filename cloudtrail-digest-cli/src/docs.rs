//! `completions SHELL` and `man`: the shell completion scripts and the manual page,
//! generated from the command-line definition so that they never drift from it.

use std::io::Write as _;

use anyhow::Result;
use clap::CommandFactory as _;

use crate::args::Cli;

/// Prints the completion script for `shell`.
pub(crate) fn completions(shell: clap_complete::Shell) -> Result<u8> {
    let mut command = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "cloudtrail-digest", &mut out);
    std::io::stdout().lock().write_all(&out)?;
    Ok(0)
}

/// Prints the manual page: the top command's, then each subcommand's.
pub(crate) fn man() -> Result<u8> {
    let command = Cli::command();
    let mut out = Vec::new();
    clap_mangen::Man::new(command.clone()).render(&mut out)?;
    for sub in command.get_subcommands() {
        let name = format!("cloudtrail-digest-{}", sub.get_name());
        let sub = sub.clone().display_name(name.clone()).bin_name(name);
        clap_mangen::Man::new(sub).render(&mut out)?;
    }
    std::io::stdout().lock().write_all(&out)?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completions_name_every_command_and_the_man_page_every_option() {
        let mut command = Cli::command();
        let mut bash = Vec::new();
        clap_complete::generate(
            clap_complete::Shell::Bash,
            &mut command,
            "cloudtrail-digest",
            &mut bash,
        );
        let bash = String::from_utf8(bash).unwrap();
        for word in [
            "validate",
            "mirror",
            "merge",
            "posture",
            "keys",
            "--inventory",
            "--shard",
        ] {
            assert!(bash.contains(word), "bash completion lacks {word}");
        }
        let mut page = Vec::new();
        clap_mangen::Man::new(Cli::command())
            .render(&mut page)
            .unwrap();
        let page = String::from_utf8(page).unwrap();
        assert!(
            page.starts_with(".ie") || page.contains(".TH"),
            "{}",
            &page[..80.min(page.len())]
        );
        assert!(page.contains("cloudtrail\\-digest"));
    }
}
