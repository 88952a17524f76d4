//! The one error type that reaches `main`, and the exit code for each kind.
//!
//! Exit codes: 0 success, 1 runtime failure (database, I/O, a scheduler
//! already running), 2 bad usage or bad config. Every variant carries the
//! context a person needs to act: the path, the job, the value.

use crate::config::ConfigError;
use crate::domain::{Holder, Role};
use crate::store::{LockError, StoreError};
use std::fmt;

#[derive(Debug)]
pub enum Error {
    /// The config file could not be read or is invalid.
    Config(ConfigError),
    /// A bad argument that clap could not catch (an unknown job, say).
    Usage(String),
    /// The history database could not be opened, read or written.
    Store(StoreError),
    /// Another `schedule run` (or a `trigger` running a job itself) holds
    /// the database.
    Locked { location: String, holder: Holder },
    /// Anything else that went wrong at run time.
    Runtime(String),
    /// `schedule trigger --wait` passes on the job's exit code; the job said
    /// what went wrong, so there is no message.
    JobExit(i32),
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config(_) | Error::Usage(_) => 2,
            Error::Store(_) | Error::Locked { .. } | Error::Runtime(_) => 1,
            Error::JobExit(code) => *code,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config(e) => e.fmt(f),
            Error::Usage(msg) | Error::Runtime(msg) => f.write_str(msg),
            Error::JobExit(_) => Ok(()),
            Error::Store(e) => e.fmt(f),
            Error::Locked { location, holder } => {
                let who = match holder.role {
                    Role::Scheduler => "another `schedule run`",
                    Role::Trigger => "a `schedule trigger` running a job by itself",
                };
                write!(f, "{who} is already using `{location}`")?;
                match (&holder.pid, &holder.host) {
                    (Some(pid), Some(host)) => write!(f, " (pid {pid} on {host})")?,
                    (Some(pid), None) => write!(f, " (pid {pid})")?,
                    _ => {}
                }
                match holder.role {
                    Role::Scheduler => write!(
                        f,
                        "\nhint: stop it first, or give this one its own database with --db"
                    ),
                    Role::Trigger => {
                        write!(f, "\nhint: try again when its job has ended")
                    }
                }
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Store(e) => Some(e),
            _ => None,
        }
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Error::Store(e)
    }
}

impl Error {
    /// A lock that was not taken, for the database at `location`.
    pub fn from_lock(location: &crate::store::Location, e: LockError) -> Error {
        match e {
            LockError::Held(holder) => Error::Locked {
                location: location.to_string(),
                holder,
            },
            LockError::Store(e) => Error::Store(e),
        }
    }
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::Config(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_and_usage_errors_exit_2_runtime_errors_exit_1() {
        let config = Error::Config(ConfigError::Invalid(Vec::new()));
        assert_eq!(config.exit_code(), 2);
        assert_eq!(Error::Usage("x".into()).exit_code(), 2);
        let store = Error::Store(StoreError::new("db", crate::store::Kind::Busy, "x"));
        assert_eq!(store.exit_code(), 1);
        assert_eq!(Error::Runtime("x".into()).exit_code(), 1);
        let locked = Error::Locked {
            location: "schedule.db".into(),
            holder: Holder {
                pid: Some(42),
                host: Some("box".into()),
                role: Role::Scheduler,
                since: None,
            },
        };
        assert_eq!(locked.exit_code(), 1);
        assert!(locked.to_string().contains("pid 42 on box"));
    }
}
