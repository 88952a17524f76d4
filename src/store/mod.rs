//! The run history, behind one interface with two backends.
//!
//! The scheduler and the commands see the traits here, split by concern:
//! [`History`] (claiming fires and recording runs), [`Pauses`],
//! [`Requests`] (`schedule trigger` handing runs to a scheduler) and
//! [`LiveOutput`] (`trigger --wait` and `logs --follow` following a run)
//! and [`Schedulers`] (`schedule status`). [`open`] picks the
//! backend from the location: a path (or `sqlite:PATH`) is an embedded
//! SQLite file, `postgres://…` a PostgreSQL server. No module outside
//! `store/` names a backend.
//!
//! A fire's identity is `(job, scheduled_for, attempt)`, unique in the
//! table: a fire is claimed by inserting its `running` row, and an insert
//! that conflicts means someone already claimed it. The row is written
//! before the child is spawned, so a crash always leaves a trace.
//!
//! Only one `schedule run` may use a database: [`lock`] takes an `flock`
//! beside a SQLite file, or a lease row in PostgreSQL (a session advisory
//! lock would not survive a transaction-pooling PgBouncer).
//!
//! This module depends on [`crate::domain`] and nothing else of the crate.

mod error;
mod location;
pub mod postgres;
pub mod sqlite;
mod worker;

#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};
use std::collections::HashMap;

use crate::domain::{
    Chunk, ClaimOutcome, FireKey, HistoryQuery, Holder, HostRow, NewRun, NotRunRecord, Orphan,
    Outcome, Request, RequestState, Role, RunRecord, SchedulerStatus, StatRow,
};
pub use error::{Kind, Result, StoreError};
pub use location::Location;
pub use postgres::{Beat, Member, MemberSettings};
use std::collections::HashSet;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;
pub use worker::Worker;

/// Claiming fires and recording how runs went.
pub trait History {
    /// Claims fires by writing their `running` rows, all in one transaction;
    /// for each, its row id, or `None` when the fire was already claimed.
    fn claim(&mut self, runs: &[NewRun]) -> Result<Vec<Option<i64>>>;
    /// Notes the pid of a claimed run's child once it is spawned.
    fn set_child_pid(&mut self, id: i64, child_pid: u32) -> Result<()> {
        self.set_child_pids(&[(id, child_pid)])
    }
    /// The same for several runs, in one transaction.
    fn set_child_pids(&mut self, pids: &[(i64, u32)]) -> Result<()>;
    /// Completes a claimed run.
    fn finish(&mut self, id: i64, outcome: &Outcome) -> Result<()>;
    /// Completes several runs in one transaction: all or none.
    fn finish_all(&mut self, ends: &[(i64, &Outcome)]) -> Result<()>;
    /// Records a fire that did not run (`skipped`, `missed`, `cancelled`)
    /// and why; `None` when its row already exists.
    fn record(&mut self, run: &NewRun, not_run: &NotRunRecord) -> Result<Option<i64>>;
    /// Each named job's newest scheduled fire (trigger `schedule`,
    /// `catchup` or `retry`, any status): where catching up starts from.
    fn last_fires(&mut self, jobs: &[&str]) -> Result<HashMap<String, DateTime<Utc>>>;
    /// When each named job's newest successful run ended, for those that
    /// have one.
    fn last_successes(&mut self, jobs: &[&str]) -> Result<HashMap<String, DateTime<Utc>>>;
    /// Every job name the history has rows of, in name order.
    fn job_names(&mut self) -> Result<Vec<String>>;
    /// When each named job's oldest recorded fire was scheduled, for those
    /// that have one: where a job never seen to succeed has been failing
    /// from, at the latest.
    fn first_fires(&mut self, jobs: &[&str]) -> Result<HashMap<String, DateTime<Utc>>>;
    /// One step of the history clean-up: deletes up to `batch` fires (each
    /// with all its attempts, in one transaction) scheduled before `before`
    /// or older than each job's newest `keep_runs` fires. Running rows and
    /// each job's newest scheduled fire (where catching up starts) are kept.
    /// Returns how many rows went; 0 when there is nothing left to do.
    fn prune(
        &mut self,
        before: Option<DateTime<Utc>>,
        keep_runs: Option<u64>,
        batch: usize,
    ) -> Result<usize>;
    /// Marks `interrupted` every row left `running`. Only the holder of the
    /// [`lock`] may call it, before it starts any run: holding the lock
    /// proves that whoever wrote those rows is gone (a container that
    /// restarts under a new host name included).
    fn interrupt_orphans(&mut self) -> Result<Vec<Orphan>>;
    /// Newest first (oldest first with `oldest_first`), at most `limit`.
    fn history(&mut self, query: &HistoryQuery) -> Result<Vec<RunRecord>>;
    /// How many rows `history` would show without its limit.
    fn count(&mut self, query: &HistoryQuery) -> Result<u64>;
    /// One run by id.
    fn run(&mut self, id: i64) -> Result<Option<RunRecord>>;
    /// The numbers behind `schedule stats`: every row scheduled since
    /// `since` (of `job`, if given), without the output tails.
    fn stat_rows(&mut self, job: Option<&str>, since: DateTime<Utc>) -> Result<Vec<StatRow>>;
    /// The newest run of each named job that ran (started), for those that
    /// have one: `skipped`, `missed` and `cancelled` fires that never
    /// started are passed over.
    fn last_runs(&mut self, jobs: &[&str]) -> Result<HashMap<String, RunRecord>>;
}

/// `schedule pause` and `resume`.
pub trait Pauses {
    /// Pauses (or resumes) jobs; paused jobs' fires are recorded `skipped`.
    /// Tells a running scheduler.
    fn set_paused(&mut self, jobs: &[&str], paused: bool, now: DateTime<Utc>) -> Result<()>;
    /// The paused jobs.
    fn paused(&mut self) -> Result<Vec<String>>;
    /// Where pause and resume stand: (the version the last one made, the
    /// version a running scheduler last applied).
    fn controls(&mut self) -> Result<(i64, i64)>;
    /// A running scheduler applied pauses up to `version`.
    fn applied(&mut self, version: i64) -> Result<()>;
}

/// `schedule trigger` handing a run to a running scheduler.
pub trait Requests {
    /// Asks a running scheduler to run `job` now; `stream`: a client waits
    /// for its output. Returns the request's id. Tells the scheduler.
    fn add_request(&mut self, job: &str, at: DateTime<Utc>, stream: bool) -> Result<i64>;
    /// Requests no scheduler has taken yet, oldest first; taking them marks
    /// them taken.
    fn take_requests(&mut self) -> Result<Vec<Request>>;
    /// Links a request to the row of its run (or of its skipped fire).
    fn link_request(&mut self, request: i64, run_id: i64) -> Result<()>;
    /// Where a request stands.
    fn request_state(&mut self, request: i64) -> Result<RequestState>;
    /// Gives a request that will never have a run its reason.
    fn fail_request(&mut self, request: i64, error: &str) -> Result<()>;
    /// Fails every request no scheduler took (at shutdown), and those asked
    /// for before `older_than` (at start-up: nobody waits for them any more).
    fn fail_open_requests(
        &mut self,
        older_than: Option<DateTime<Utc>>,
        error: &str,
    ) -> Result<usize>;
    /// Takes back a request no scheduler took yet; false when one did.
    fn withdraw_request(&mut self, request: i64) -> Result<bool>;
    /// Deletes live output of runs that ended before `before`, and requests
    /// older than that.
    fn clean_controls(&mut self, before: DateTime<Utc>) -> Result<()>;
}

/// The output of runs a `trigger --wait` or `logs --follow` follows.
pub trait LiveOutput {
    /// Asks a running scheduler to pass on a run's output through
    /// `live_output`: first what it has so far, then each chunk as it
    /// comes, until the run ends. Tells the scheduler.
    fn follow(&mut self, run_id: i64, at: DateTime<Utc>) -> Result<()>;
    /// The runs someone asked to follow since the last call.
    fn take_follows(&mut self) -> Result<Vec<i64>>;
    /// Appends a chunk of a streamed run's output.
    fn append_output(&mut self, run_id: i64, stream: &str, data: &[u8]) -> Result<()>;
    /// A streamed run's chunks after `after` (a sequence number).
    fn output_after(&mut self, run_id: i64, after: i64) -> Result<Vec<Chunk>>;
    /// Forgets a streamed run's chunks.
    fn delete_output(&mut self, run_id: i64) -> Result<()>;
}

/// What each scheduler says of itself, for `schedule status`.
pub trait Schedulers {
    /// Writes (or replaces) the row of `status.host`.
    fn write_status(&mut self, status: &SchedulerStatus) -> Result<()>;
    /// Every scheduler's row, the most recently written first.
    fn statuses(&mut self) -> Result<Vec<SchedulerStatus>>;
}

/// Several hosts on one database: what a cluster host asks of its store
/// beyond a lone scheduler's (PostgreSQL only).
pub trait Cluster {
    /// From now on, claims carry this host's id and leases, and the ends of
    /// runs are fenced by their epochs.
    fn link(&mut self, link: Arc<ClusterLink>);
    /// Claims fires in one statement: a fire's row is inserted only if it
    /// has none, the database's clock says it is due (within the skew
    /// tolerance), and, for an `exclusive` job, no other run of it holds
    /// the job.
    fn claim_fires(&mut self, runs: &[NewRun], exclusive: &[bool]) -> Result<Vec<ClaimOutcome>>;
    /// Whether each fire has a row yet (claimed, or recorded not run).
    fn have_rows(&mut self, keys: &[FireKey]) -> Result<Vec<bool>>;
    /// Asks the host of a running run to stop it (`overlap = "replace"`).
    fn ask_cancel(&mut self, run_id: i64) -> Result<()>;
    /// Every host with a heartbeat row, the live ones first.
    fn hosts(&mut self) -> Result<Vec<HostRow>>;
}

/// What a cluster host's heartbeat thread, its store and its loop share.
pub struct ClusterLink {
    pub host_id: i64,
    pub name: String,
    /// How long a run's lease lasts unrenewed.
    pub lease: std::time::Duration,
    /// A claim passes if the fire is due by the database's clock plus this.
    pub tolerance: std::time::Duration,
    /// The runs this host holds: run id → epoch.
    pub held: Mutex<std::collections::HashMap<i64, i64>>,
    /// Until when (by the monotonic clock) this host trusts its leases:
    /// its last heartbeat that worked plus the trust window.
    pub trusted_until: Mutex<Option<Instant>>,
    /// The database's clock minus ours, in ms, as last measured.
    pub skew_ms: AtomicI64,
    pub max_skew_ms: i64,
    /// The jobs this host may run (requests for others stay for others);
    /// `None`: all.
    pub runnable: RwLock<Option<HashSet<String>>>,
}

impl ClusterLink {
    /// Why this host may not claim anything now, if it may not.
    pub fn cannot_claim(&self) -> Option<String> {
        let trusted = self
            .trusted_until
            .lock()
            .ok()
            .and_then(|t| *t)
            .is_some_and(|t| Instant::now() < t);
        if !trusted {
            return Some("the database has not answered this host's heartbeat".to_string());
        }
        let skew = self.skew_ms.load(Ordering::Relaxed);
        if skew.abs() > self.max_skew_ms {
            return Some(format!(
                "this host's clock is {:.1}s {} the database's, more than max_skew ({:.1}s)",
                skew.abs() as f64 / 1000.0,
                if skew < 0 { "ahead of" } else { "behind" },
                self.max_skew_ms as f64 / 1000.0
            ));
        }
        None
    }

    pub fn may_run(&self, job: &str) -> bool {
        self.runnable
            .read()
            .map_or(true, |r| r.as_ref().is_none_or(|set| set.contains(job)))
    }
}

/// One database, all of it.
pub trait Store: History + Pauses + Requests + LiveOutput + Schedulers + Send {
    /// The cluster side of the store, if its backend has one.
    fn cluster(&mut self) -> Option<&mut dyn Cluster> {
        None
    }
    /// Whether someone else may have written pauses or requests since the
    /// last call: a cheap way to tell another process's write from our own
    /// (SQLite's `data_version`; on PostgreSQL the notifications that ask
    /// for a look come from others only, so always true).
    fn others_wrote(&mut self) -> Result<bool>;
    /// Whether the database is still where its users look for it (SQLite:
    /// the files were not deleted, replaced or truncated under us).
    fn check(&mut self) -> Result<()> {
        Ok(())
    }
}

/// How a command means to use the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Read it and nothing else (a SQLite file is opened read-only, so a
    /// user who may not write it can look); a database that does not exist
    /// yet is an error. A SQLite file of an older schema is still migrated,
    /// which needs write access once.
    Read,
    /// Write it: create it when missing.
    Write,
}

/// Opens the database at `location`, bringing its schema up to date.
pub fn open(location: &Location, mode: Mode) -> Result<Box<dyn Store>> {
    Ok(match location {
        Location::Sqlite(path) => Box::new(sqlite::SqliteStore::open(path, mode)?),
        Location::Postgres(url) => Box::new(postgres::PgStore::connect(url)?),
    })
}

/// Whether the database exists yet (a PostgreSQL database always does: the
/// server says otherwise when it is opened).
pub fn exists(location: &Location) -> bool {
    match location {
        Location::Sqlite(path) => path.exists(),
        Location::Postgres(_) => true,
    }
}

/// Removes a SQLite database file that is still empty (made by [`lock`]
/// for a scheduler that then failed to start).
pub fn discard_empty(location: &Location) {
    if let Location::Sqlite(path) = location
        && std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == 0)
    {
        let _ = std::fs::remove_file(path);
    }
}

/// The exclusive right to run a scheduler on one database, held until drop.
pub enum Lock {
    File(sqlite::FileLock),
    Lease(postgres::Lease),
}

impl Lock {
    /// A receiver that hears why, if the lock is lost while held (a lease
    /// taken over after it could not be renewed); never for a file lock.
    pub fn lost(&mut self) -> Option<tokio::sync::mpsc::UnboundedReceiver<String>> {
        match self {
            Lock::File(_) => None,
            Lock::Lease(lease) => lease.lost(),
        }
    }
}

/// Why the lock was not taken.
#[derive(Debug)]
pub enum LockError {
    /// Someone holds it.
    Held(Holder),
    Store(StoreError),
}

impl From<StoreError> for LockError {
    fn from(e: StoreError) -> Self {
        LockError::Store(e)
    }
}

/// Takes the database's lock as `role`, or says who holds it; a SQLite
/// database is created private (0600) if missing, and an existing one keeps
/// its mode.
pub fn lock(location: &Location, host: &str, role: Role) -> std::result::Result<Lock, LockError> {
    let mode = match location {
        Location::Sqlite(path) => std::fs::metadata(path)
            .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o7777)
            .unwrap_or(sqlite::DEFAULT_DB_MODE),
        Location::Postgres(_) => sqlite::DEFAULT_DB_MODE,
    };
    lock_with_mode(location, host, role, mode)
}

/// [`lock`], creating (or keeping) a SQLite database with `db_mode`.
pub fn lock_with_mode(
    location: &Location,
    host: &str,
    role: Role,
    db_mode: u32,
) -> std::result::Result<Lock, LockError> {
    Ok(match location {
        Location::Sqlite(path) => Lock::File(sqlite::FileLock::acquire(path, host, role, db_mode)?),
        Location::Postgres(url) => Lock::Lease(postgres::Lease::acquire(url, host, role)?),
    })
}

/// Joins the cluster of hosts that share the database at `location`
/// (PostgreSQL only): registers this host and starts its heartbeat.
pub fn join(
    location: &Location,
    settings: MemberSettings,
) -> std::result::Result<(Member, tokio::sync::mpsc::UnboundedReceiver<Beat>), LockError> {
    match location {
        Location::Sqlite(path) => Err(LockError::Store(StoreError::new(
            path.display().to_string(),
            Kind::Other,
            "[cluster] needs a PostgreSQL database shared by the hosts (--db postgres://…); a \
             SQLite file serves one scheduler: remove [cluster] to use it",
        ))),
        Location::Postgres(url) => postgres::Member::join(url, settings),
    }
}

/// Who holds the database's lock now, if anyone, without taking it.
pub fn holder(location: &Location) -> Option<Holder> {
    match location {
        Location::Sqlite(path) => sqlite::lock_holder(path),
        Location::Postgres(url) => postgres::lease_holder(url),
    }
}

/// When the `schedule run` holding the database started, if one does.
pub fn scheduler_started(location: &Location) -> Option<DateTime<Utc>> {
    holder(location)
        .filter(|h| h.role == Role::Scheduler)
        .and_then(|h| h.since)
}

/// Tells `changed` whenever someone may have written pauses or requests
/// (SQLite: inotify on the file and its WAL; PostgreSQL: `LISTEN`). Returns
/// false when nothing can watch, and the caller has to look now and then.
pub fn watch(location: &Location, changed: tokio::sync::mpsc::UnboundedSender<()>) -> bool {
    match location {
        Location::Sqlite(path) => sqlite::watch(path, changed),
        Location::Postgres(url) => postgres::listen(url, changed),
    }
}
