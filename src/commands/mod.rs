//! One module per subcommand. Each takes the parsed arguments, does its work
//! through the library, and returns a [`crate::Error`] for `main` to report.

pub mod check;
pub mod completions;
pub mod history;
pub mod list;
pub mod next;
pub mod run;
pub mod show;
pub mod stats;

use std::io::Write;

/// Writes to stdout; a reader that went away (`schedule history | head`)
/// is not an error.
pub(crate) fn print(text: &str) -> Result<(), crate::Error> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(crate::Error::Runtime(
            format!("cannot write to stdout: {e}"),
        )),
        _ => Ok(()),
    }
}
