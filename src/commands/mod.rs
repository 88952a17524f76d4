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
        let names: Vec<&str> = config.jobs.iter().map(|j| &*j.name).collect();
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

/// A job named on the command line of a read command (`history JOB`,
/// `stats JOB`): known when the config has it or the history does (a job
/// gone from the config keeps its runs); else the usage error of
/// [`find_job`], as `trigger` and `pause` give.
pub(crate) fn known_job(
    config: Option<&crate::config::Config>,
    store: &mut dyn crate::store::Store,
    name: &str,
) -> Result<(), crate::Error> {
    if config.is_some_and(|c| c.job(name).is_some()) {
        return Ok(());
    }
    let query = crate::domain::HistoryQuery {
        job: Some(name.to_string()),
        limit: 1,
        ..Default::default()
    };
    if !store.history(&query)?.is_empty() {
        return Ok(());
    }
    match config {
        Some(config) => find_job(config, name).map(|_| ()),
        None => Err(crate::Error::Usage(format!(
            "no job `{name}` in the history, and the config cannot be read to look there"
        ))),
    }
}

/// The warning of a read command whose config has an error: it goes on
/// with the database alone.
pub(crate) fn config_warning(path: &std::path::Path, error: &crate::Error) -> String {
    format!(
        "warning: {} cannot be used, so this shows the history alone (a running scheduler \
         keeps its last good config; `schedule check` lists the errors):\n{error}",
        path.display()
    )
}

/// Loads the config of a read command that can do without it (`history`,
/// `show`, `stats`): `None`, after a warning, when it has an error; `None`
/// quietly when there is no config file at all.
pub(crate) fn config_for_reading(global: &crate::cli::Global) -> Option<crate::config::Config> {
    match crate::config::load(&global.config) {
        Ok(config) => Some(config),
        Err(crate::config::ConfigError::Read { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            None
        }
        Err(e) => {
            eprintln!("{}", config_warning(&global.config, &e.into()));
            None
        }
    }
}

/// Loads the config of a command that acts on it (`trigger`, `pause`,
/// `resume`): an error says that a running scheduler is not affected.
pub(crate) fn config_for_acting(
    global: &crate::cli::Global,
) -> Result<crate::config::Config, crate::Error> {
    crate::config::load(&global.config).map_err(|e| {
        crate::Error::Usage(format!(
            "{e}\nnothing was changed: this command acts on the jobs of {}, which it cannot \
             read (a running scheduler keeps its last good config); fix it (`schedule check`) \
             and try again",
            global.config.display()
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
