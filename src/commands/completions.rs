//! `schedule completions SHELL`: the completion script, generated from the
//! CLI definition so it never drifts from it.

use crate::cli::CompletionsArgs;
use crate::error::Error;

pub fn run(args: &CompletionsArgs) -> Result<(), Error> {
    super::print(&script(args.shell))
}

/// The completion script for one shell.
pub fn script(shell: clap_complete::Shell) -> String {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut crate::cli::command(), "schedule", &mut out);
    String::from_utf8_lossy(&out).into_owned()
}
