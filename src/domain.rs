//! The words of the domain that every layer shares: what a run's status is,
//! why it happened, and the rows the history keeps.
//!
//! This module is a leaf: it imports nothing of the crate, so that the
//! engine, the stores, the monitor and the commands can all depend on it
//! without depending on each other. The flat [`Status`] word is what the
//! database and JSON hold; the code works with typed subsets of it, so that
//! an impossible row cannot be built: an [`Outcome`] says how a run that ran
//! ended ([`Ended`]: never `running`), and a fire that never ran says why
//! ([`NotRun`]) and has no exit code to carry.

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// A fieldless enum stored and shown as snake_case words: `as_str`,
/// `Display`, `FromStr` and `ALL` from one list.
macro_rules! word_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($(#[$vmeta:meta])* $variant:ident = $word:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            pub const ALL: &[$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> std::result::Result<Self, String> {
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| format!(concat!("unknown ", $what, " `{}`"), s))
            }
        }
    };
}

word_enum! {
    /// Where a run is in its life: the word the history stores.
    Status, "status" {
        Running = "running",
        Succeeded = "succeeded",
        Failed = "failed",
        TimedOut = "timed_out",
        Cancelled = "cancelled",
        Interrupted = "interrupted",
        /// Its host stopped renewing the run's lease (it died, or lost the
        /// database): nobody knows how the run ended.
        Lost = "lost",
        Skipped = "skipped",
        Missed = "missed",
    }
}

impl Status {
    /// A run that went wrong: what `history --failed` shows.
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            Status::Failed | Status::TimedOut | Status::Interrupted | Status::Lost
        )
    }
}

word_enum! {
    /// How a run that was started ended.
    Ended, "end" {
        Succeeded = "succeeded",
        Failed = "failed",
        TimedOut = "timed_out",
        /// Stopped by the scheduler: replaced by a newer fire, or shut down.
        Cancelled = "cancelled",
    }
}

impl Ended {
    /// A failure that a retry may mend (a cancelled run is never retried).
    pub fn is_retryable(self) -> bool {
        matches!(self, Ended::Failed | Ended::TimedOut)
    }
}

impl From<Ended> for Status {
    fn from(e: Ended) -> Status {
        match e {
            Ended::Succeeded => Status::Succeeded,
            Ended::Failed => Status::Failed,
            Ended::TimedOut => Status::TimedOut,
            Ended::Cancelled => Status::Cancelled,
        }
    }
}

word_enum! {
    /// Why a fire was recorded without running.
    NotRun, "not-run status" {
        /// Its overlap policy, a pause or a full queue turned it away.
        Skipped = "skipped",
        /// Its time passed while nothing could run it.
        Missed = "missed",
        /// It was waiting when the scheduler shut down, or was superseded.
        Cancelled = "cancelled",
    }
}

impl From<NotRun> for Status {
    fn from(n: NotRun) -> Status {
        match n {
            NotRun::Skipped => Status::Skipped,
            NotRun::Missed => Status::Missed,
            NotRun::Cancelled => Status::Cancelled,
        }
    }
}

impl PartialEq<Status> for Ended {
    fn eq(&self, other: &Status) -> bool {
        Status::from(*self) == *other
    }
}

impl PartialEq<Status> for NotRun {
    fn eq(&self, other: &Status) -> bool {
        Status::from(*self) == *other
    }
}

word_enum! {
    /// Why a run happened.
    Trigger, "trigger" {
        /// Its schedule said so.
        Schedule = "schedule",
        /// It was missed while no scheduler ran, and the job catches up.
        Catchup = "catchup",
        /// An earlier attempt of the same fire failed.
        Retry = "retry",
        /// `run_on_start`.
        Startup = "startup",
        /// Someone asked for it.
        Manual = "manual",
    }
}

/// A fire about to start (or be recorded without running): what its row
/// says. Its identity is `(job, scheduled_for, slot, attempt)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRun {
    pub job: String,
    pub scheduled_for: DateTime<Utc>,
    /// Tells apart fires that share an instant (see [`RunRecord::slot`]).
    pub slot: u32,
    /// The local time the fire stands for, when it is not its instant's.
    pub nominal: Option<String>,
    pub attempt: u32,
    pub trigger: Trigger,
    pub started_at: DateTime<Utc>,
    pub host: String,
    pub pid: u32,
}

/// A fire recorded without running: why, and for a `missed` row that
/// stands for several fires, how many.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotRunRecord {
    pub status: NotRun,
    pub reason: String,
    pub missed_count: Option<u64>,
    /// A fire skipped because its job is paused: counted into the row of
    /// the pause's first skipped fire (its `missed_count`, and
    /// `last_scheduled_for`) instead of a row of its own.
    pub paused: bool,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: Ended,
    pub finished_at: DateTime<Utc>,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub duration_ms: i64,
    pub stdout_tail: String,
    pub stderr_tail: String,
    /// Why, when the status alone does not say (a spawn error, a timeout).
    pub reason: Option<String>,
}

/// One row of the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunRecord {
    pub id: i64,
    pub job: String,
    pub scheduled_for: DateTime<Utc>,
    /// 0, but for fires that share an instant: the local times a
    /// daylight-saving jump skips run at its end, numbered 0, 1, … in the
    /// order of those times; the runs of a wildcard job after the clock went
    /// back add 1000 for each step back.
    pub slot: u32,
    /// The local time (`2026-03-08T02:30:00`) a catch-up fire stands for,
    /// when a daylight-saving jump skipped it.
    pub nominal: Option<String>,
    /// 1 for the first attempt at a fire, 2 for its first retry, ...
    pub attempt: u32,
    pub trigger: Trigger,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub status: Status,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub duration_ms: Option<i64>,
    pub reason: Option<String>,
    /// For a `missed` row that stands for several fires, or the `skipped`
    /// row of a pause: how many.
    pub missed_count: Option<u64>,
    /// For the `skipped` row of a pause: its last skipped fire.
    pub last_scheduled_for: Option<DateTime<Utc>>,
    pub host: String,
    /// The scheduler's pid.
    pub pid: u32,
    /// The job's shell, leader of the run's process group.
    pub child_pid: Option<u32>,
    pub stdout_tail: String,
    pub stderr_tail: String,
}

/// Where a `schedule trigger` request stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestState {
    pub taken: bool,
    pub run_id: Option<i64>,
    pub error: Option<String>,
}

/// A `schedule trigger` waiting for a scheduler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub id: i64,
    pub job: String,
    pub requested_at: DateTime<Utc>,
    pub stream: bool,
}

/// The fields of a row that statistics need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatRow {
    pub job: String,
    pub status: Status,
    pub attempt: u32,
    /// How many fires a `missed` row stands for.
    pub missed_count: Option<u64>,
    pub scheduled_for: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
}

/// What `schedule history` asks for.
#[derive(Debug, Clone, Default)]
pub struct HistoryQuery {
    pub job: Option<String>,
    pub failed_only: bool,
    /// Only rows with one of these statuses (all when empty).
    pub statuses: Vec<Status>,
    /// Only rows written by the scheduler on this host.
    pub host: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub limit: usize,
    /// Oldest first (the oldest `limit` rows) instead of newest first.
    pub oldest_first: bool,
}

/// What a running scheduler says of itself (`schedule status`): one row
/// per host, written when its state changes, at most every few seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchedulerStatus {
    pub host: String,
    pub pid: u32,
    pub started_at: DateTime<Utc>,
    /// When the row was last written: the scheduler's last change.
    pub updated_at: DateTime<Utc>,
    /// When it shut down, if it did.
    pub stopped_at: Option<DateTime<Utc>>,
    pub version: String,
    pub config: String,
    /// The database, as the scheduler names it (no password).
    pub db: String,
    pub jobs: u64,
    pub running: u64,
    pub queued: u64,
}

/// A row left `running` by a scheduler that is gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Orphan {
    pub id: i64,
    pub job: String,
    pub host: String,
    /// The dead scheduler's pid.
    pub pid: u32,
    /// The run's shell, leader of its process group, if it was spawned.
    pub child_pid: Option<u32>,
}

/// A fire's identity: what the database refuses to store twice.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FireKey {
    pub job: String,
    pub scheduled_for: DateTime<Utc>,
    pub slot: u32,
    pub attempt: u32,
}

/// What a cluster claim of one fire came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// The fire is ours to run: its row, and the fencing token every later
    /// write for the run carries.
    Claimed { id: i64, epoch: i64 },
    /// The fire already has a row: another host claimed (or recorded) it.
    Taken,
    /// Another run of the job holds it (an `overlap` other than `allow`):
    /// that run's row, and whether this host wrote it.
    Busy {
        run_id: i64,
        host: String,
        ours: bool,
    },
    /// The database's clock says the fire is not due yet.
    Early,
}

/// A run whose host stopped renewing its lease, as the host that marked it
/// `lost` found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LostRun {
    pub id: i64,
    pub key: FireKey,
    pub nominal: Option<String>,
    pub host: String,
    pub pid: u32,
}

/// A member of a cluster as its heartbeat row says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostRow {
    pub id: i64,
    pub name: String,
    pub pid: u32,
    pub version: String,
    pub started_at: DateTime<Utc>,
    /// Its last heartbeat, on the database's clock.
    pub heartbeat: DateTime<Utc>,
    /// The database's clock minus the host's, as the host last measured it.
    pub skew_ms: i64,
    /// A hash of every job definition the host has.
    pub config_hash: String,
    /// The heartbeat is within the lease: the host counts as alive.
    pub live: bool,
}

/// A chunk of a streamed run's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub seq: i64,
    pub stream: String,
    pub data: Vec<u8>,
}

/// Who holds a database's lock (or lease).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `schedule run`.
    Scheduler,
    /// `schedule trigger` running a job itself, with no scheduler.
    Trigger,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Scheduler => "scheduler",
            Role::Trigger => "trigger",
        }
    }

    pub fn parse(word: &str) -> Role {
        match word {
            "trigger" => Role::Trigger,
            _ => Role::Scheduler,
        }
    }
}

/// Who holds a database: what `schedule run` refusing to start, `pause`
/// and `trigger` tell the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub pid: Option<u32>,
    pub host: Option<String>,
    pub role: Role,
    /// When it took the database.
    pub since: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_subsets_map_onto_the_stored_word() {
        for e in Ended::ALL {
            assert_eq!(Status::from(*e).as_str(), e.as_str());
            assert_ne!(Status::from(*e), Status::Running);
        }
        for n in NotRun::ALL {
            assert_eq!(Status::from(*n).as_str(), n.as_str());
            assert!(!Status::from(*n).is_failure());
        }
        assert!(Status::Interrupted.is_failure());
        assert!(!Status::Cancelled.is_failure());
        assert!(Ended::TimedOut.is_retryable());
        assert!(!Ended::Cancelled.is_retryable());
    }
}
