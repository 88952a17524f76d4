//! One module per subcommand. Each takes the parsed arguments, does its work
//! through the library, and returns a [`crate::Error`] for `main` to report.

pub mod check;
pub mod completions;
pub mod history;
pub mod import;
pub mod init;
pub mod list;
pub mod logs;
pub mod next;
pub mod pause;
pub mod run;
pub mod show;
pub mod stats;
pub mod status;
pub mod trigger;

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

/// The named job, or a usage error that lists the jobs.
pub(crate) fn find_job<'a>(
    config: &'a crate::config::Config,
    name: &str,
) -> Result<&'a crate::config::Job, crate::Error> {
    config.job(name).ok_or_else(|| {
        let names: Vec<&str> = config.jobs.iter().map(|j| j.name.as_str()).collect();
        crate::Error::Usage(format!(
            "no job `{name}` in {}; jobs: {}{}",
            config.path.display(),
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            },
            crate::config::did_you_mean(name, &names)
        ))
    })
}

/// Whether a `schedule run` holds the database, and its pid.
pub(crate) fn running_scheduler(location: &crate::store::Location) -> Option<Option<u32>> {
    crate::store::holder(location)
        .filter(|h| h.role == crate::domain::Role::Scheduler)
        .map(|h| h.pid)
}

/// The database the command line names, opened for `mode`.
pub(crate) fn open_store(
    global: &crate::cli::Global,
    mode: crate::store::Mode,
) -> Result<(crate::store::Location, Box<dyn crate::store::Store>), crate::Error> {
    let location = global.location()?;
    let store = crate::store::open(&location, mode)?;
    Ok((location, store))
}

#[cfg(test)]
mod snapshots;
