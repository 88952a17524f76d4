//! The run history: the only module with SQL.
//!
//! The scheduler and the commands talk to [`RunStore`], so that a second
//! backend (PostgreSQL, for several scheduler hosts) can be added without
//! touching the loop. SQLite is the embedded default: one file, WAL mode so
//! that `schedule history` reads while `schedule run` writes.
//!
//! A fire's identity is `(job, scheduled_for)`, unique in the table: a fire
//! is claimed by inserting its `running` row, and an insert that conflicts
//! means someone already claimed it. The row is written before the child is
//! spawned, so a crash always leaves a trace.
//!
//! Only one `schedule run` may use a database: it holds an exclusive
//! `flock` on `<db>.lock`, which the kernel releases if the process dies.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::error::Error;

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
    /// Where a run is in its life.
    Status, "status" {
        Running = "running",
        Succeeded = "succeeded",
        Failed = "failed",
        TimedOut = "timed_out",
        Cancelled = "cancelled",
        Interrupted = "interrupted",
        Skipped = "skipped",
        Missed = "missed",
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
/// says. Its identity is `(job, scheduled_for, attempt)`.
#[derive(Debug, Clone)]
pub struct NewRun<'a> {
    pub job: &'a str,
    pub scheduled_for: DateTime<Utc>,
    pub attempt: u32,
    pub trigger: Trigger,
    pub started_at: DateTime<Utc>,
    pub host: &'a str,
    pub pid: u32,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: Status,
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
    /// For a `missed` row that stands for several fires: how many.
    pub missed_count: Option<u64>,
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
    pub since: Option<DateTime<Utc>>,
    pub limit: usize,
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

pub type Result<T> = std::result::Result<T, Error>;

/// The history as the rest of the program sees it.
pub trait RunStore {
    /// Claims a fire by writing its `running` row; `None` when the fire was
    /// already claimed.
    fn claim(&mut self, run: &NewRun) -> Result<Option<i64>>;
    /// Notes the pid of a claimed run's child once it is spawned.
    fn set_child_pid(&mut self, id: i64, child_pid: u32) -> Result<()>;
    /// Completes a claimed run.
    fn finish(&mut self, id: i64, outcome: &Outcome) -> Result<()>;
    /// Records a fire that did not run (`skipped`, `missed`, `cancelled`)
    /// and why; `missed_count` when the row stands for several missed fires.
    fn record(
        &mut self,
        run: &NewRun,
        status: Status,
        reason: &str,
        missed_count: Option<u64>,
    ) -> Result<Option<i64>>;
    /// Each named job's newest scheduled fire (trigger `schedule`,
    /// `catchup` or `retry`, any status): where catching up starts from.
    fn last_fires(&self, jobs: &[&str]) -> Result<HashMap<String, DateTime<Utc>>>;
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
    /// [`SchedulerLock`] may call it, before it starts any run: holding the
    /// lock proves that whoever wrote those rows is gone (a container that
    /// restarts under a new host name included).
    fn interrupt_orphans(&mut self) -> Result<Vec<Orphan>>;
    /// Newest first.
    fn history(&self, query: &HistoryQuery) -> Result<Vec<RunRecord>>;
    /// Pauses (or resumes) jobs; paused jobs' fires are recorded `skipped`.
    fn set_paused(&mut self, jobs: &[&str], paused: bool, now: DateTime<Utc>) -> Result<()>;
    /// The paused jobs.
    fn paused(&self) -> Result<Vec<String>>;
    /// Asks a running scheduler to run `job` now; `stream`: a client waits
    /// for its output. Returns the request's id.
    fn add_request(&mut self, job: &str, at: DateTime<Utc>, stream: bool) -> Result<i64>;
    /// Requests no scheduler has taken yet, oldest first; taking them marks
    /// them taken.
    fn take_requests(&mut self) -> Result<Vec<Request>>;
    /// Links a request to the row of its run (or of its skipped fire).
    fn link_request(&mut self, request: i64, run_id: i64) -> Result<()>;
    /// Where a request stands.
    fn request_state(&self, request: i64) -> Result<RequestState>;
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
    /// Appends a chunk of a streamed run's output.
    fn append_output(&mut self, run_id: i64, stream: &str, data: &[u8]) -> Result<()>;
    /// A streamed run's chunks after `after` (a sequence number).
    fn output_after(&self, run_id: i64, after: i64) -> Result<Vec<(i64, String, Vec<u8>)>>;
    /// Forgets a streamed run's chunks.
    fn delete_output(&mut self, run_id: i64) -> Result<()>;
    /// Changes whenever another connection commits: a cheap way to tell
    /// someone else's write from our own.
    fn data_version(&self) -> Result<i64>;
    /// One run by id.
    fn run(&self, id: i64) -> Result<Option<RunRecord>>;
    /// The numbers behind `schedule stats`: every row scheduled since
    /// `since` (of `job`, if given), without the output tails.
    fn stat_rows(&self, job: Option<&str>, since: DateTime<Utc>) -> Result<Vec<StatRow>>;
    /// The newest row of each named job that has one.
    fn last_runs(&self, jobs: &[&str]) -> Result<HashMap<String, RunRecord>>;
    /// When each named job's newest successful run ended, for those that
    /// have one.
    fn last_successes(&self, jobs: &[&str]) -> Result<HashMap<String, DateTime<Utc>>>;
}

/// The schema, one entry per version; `PRAGMA user_version` counts how many
/// have been applied. Never edit an entry: append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: the runs table.
    "CREATE TABLE runs (
        id            INTEGER PRIMARY KEY,
        job           TEXT    NOT NULL,
        scheduled_for INTEGER NOT NULL,  -- ms since the Unix epoch, UTC
        started_at    INTEGER,
        finished_at   INTEGER,
        status        TEXT    NOT NULL,
        exit_code     INTEGER,
        signal        INTEGER,
        duration_ms   INTEGER,
        reason        TEXT,
        host          TEXT    NOT NULL,
        pid           INTEGER NOT NULL,  -- the scheduler's
        child_pid     INTEGER,           -- the job's shell, leader of its process group
        stdout_tail   TEXT    NOT NULL DEFAULT '',
        stderr_tail   TEXT    NOT NULL DEFAULT '',
        UNIQUE (job, scheduled_for)
    );
    CREATE INDEX runs_by_time ON runs (scheduled_for);
    CREATE INDEX runs_failed_by_time ON runs (scheduled_for)
        WHERE status IN ('failed', 'timed_out', 'interrupted');
    CREATE INDEX runs_failed_by_job ON runs (job, scheduled_for)
        WHERE status IN ('failed', 'timed_out', 'interrupted');
    CREATE INDEX runs_running ON runs (id) WHERE status = 'running';",
    // 2: retries and triggers. A fire's identity becomes (job, scheduled_for,
    // attempt); SQLite cannot change a UNIQUE constraint, so the table is
    // rebuilt.
    "CREATE TABLE runs_v2 (
        id            INTEGER PRIMARY KEY,
        job           TEXT    NOT NULL,
        scheduled_for INTEGER NOT NULL,
        attempt       INTEGER NOT NULL DEFAULT 1,
        trigger       TEXT    NOT NULL DEFAULT 'schedule',
        started_at    INTEGER,
        finished_at   INTEGER,
        status        TEXT    NOT NULL,
        exit_code     INTEGER,
        signal        INTEGER,
        duration_ms   INTEGER,
        reason        TEXT,
        missed_count  INTEGER,
        host          TEXT    NOT NULL,
        pid           INTEGER NOT NULL,
        child_pid     INTEGER,
        stdout_tail   TEXT    NOT NULL DEFAULT '',
        stderr_tail   TEXT    NOT NULL DEFAULT '',
        UNIQUE (job, scheduled_for, attempt)
    );
    INSERT INTO runs_v2 (id, job, scheduled_for, started_at, finished_at, status, exit_code,
                         signal, duration_ms, reason, host, pid, child_pid, stdout_tail,
                         stderr_tail)
        SELECT id, job, scheduled_for, started_at, finished_at, status, exit_code, signal,
               duration_ms, reason, host, pid, child_pid, stdout_tail, stderr_tail
        FROM runs;
    DROP TABLE runs;
    ALTER TABLE runs_v2 RENAME TO runs;
    CREATE INDEX runs_by_time ON runs (scheduled_for, attempt);
    CREATE INDEX runs_failed_by_time ON runs (scheduled_for, attempt)
        WHERE status IN ('failed', 'timed_out', 'interrupted');
    CREATE INDEX runs_failed_by_job ON runs (job, scheduled_for, attempt)
        WHERE status IN ('failed', 'timed_out', 'interrupted');
    CREATE INDEX runs_running ON runs (id) WHERE status = 'running';",
    // 3: operator controls: paused jobs, `trigger` requests handed to a
    // running scheduler, and the live output of runs a client waits for.
    "CREATE TABLE paused (
        job       TEXT PRIMARY KEY,
        paused_at INTEGER NOT NULL
    );
    CREATE TABLE requests (
        id           INTEGER PRIMARY KEY,
        job          TEXT    NOT NULL,
        requested_at INTEGER NOT NULL,
        stream       INTEGER NOT NULL DEFAULT 0,
        taken        INTEGER NOT NULL DEFAULT 0,
        run_id       INTEGER,
        error        TEXT                -- why it will never have a run
    );
    CREATE INDEX requests_open ON requests (id) WHERE taken = 0;
    CREATE TABLE live_output (
        run_id INTEGER NOT NULL,
        seq    INTEGER NOT NULL,
        stream TEXT    NOT NULL,
        data   BLOB    NOT NULL,
        PRIMARY KEY (run_id, seq)
    );",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
}

impl SqliteStore {
    /// Runs `sql` (one job name in, one instant in ms out) for each job;
    /// jobs without a row are left out.
    fn instant_per_job(&self, sql: &str, jobs: &[&str]) -> Result<HashMap<String, DateTime<Utc>>> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let mut out = HashMap::new();
        for job in jobs {
            let at: Option<i64> = stmt
                .query_row([job], |r| r.get(0))
                .optional()
                .map_err(|e| self.err(e))?;
            if let Some(at) = at {
                out.insert(job.to_string(), from_ms(at));
            }
        }
        Ok(out)
    }

    /// Opens the database, creating it when `create` is set, and brings its
    /// schema up to date.
    pub fn open(path: &Path, create: bool) -> Result<SqliteStore> {
        let fail = |message: String| Error::Store {
            path: path.to_path_buf(),
            message,
        };
        if !create && !path.exists() {
            return Err(fail(
                "no such file; `schedule run` creates it, or point at another with --db or \
                 SCHEDULE_DB"
                    .into(),
            ));
        }
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if create {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let conn = Connection::open_with_flags(path, flags).map_err(|e| fail(e.to_string()))?;
        let mut store = SqliteStore {
            conn,
            path: path.to_path_buf(),
        };
        store.setup(create).map_err(|e| fail(e.to_string()))?;
        Ok(store)
    }

    /// `writer`: the scheduler, which always wants WAL mode; readers at the
    /// current schema version write nothing.
    fn setup(&mut self, writer: bool) -> std::result::Result<(), String> {
        let c = &mut self.conn;
        c.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(|e| e.to_string())?;
        let version: i64 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| format!("cannot use it as a database: {e}"))?;
        if version == SCHEMA_VERSION && !writer {
            // Up to date: a reader (`history`, `list`) writes nothing, and
            // WAL mode is a property of the file, set when it was created.
            return c
                .pragma_update(None, "synchronous", "NORMAL")
                .map_err(|e| e.to_string());
        }
        let mode: String = c
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(|e| format!("cannot use it as a database: {e}"))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(format!("cannot switch to WAL mode (got `{mode}`)"));
        }
        c.pragma_update(None, "synchronous", "NORMAL")
            .map_err(|e| e.to_string())?;
        // Read the version inside a write transaction, so that two processes
        // opening a new database at once do not both migrate it.
        let tx = c
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| e.to_string())?;
        let version: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| e.to_string())?;
        if version > SCHEMA_VERSION {
            return Err(format!(
                "its schema is version {version}, newer than this schedule knows \
                 ({SCHEMA_VERSION}); upgrade schedule"
            ));
        }
        if version < SCHEMA_VERSION {
            for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
                tx.execute_batch(sql)
                    .map_err(|e| format!("migration to schema {} failed: {e}", i + 1))?;
            }
            tx.pragma_update(None, "user_version", SCHEMA_VERSION)
                .map_err(|e| e.to_string())?;
        }
        tx.commit().map_err(|e| e.to_string())?;
        Ok(())
    }

    fn err(&self, e: rusqlite::Error) -> Error {
        Error::Store {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }
}

/// The history query for a filter combination. Each combination reads a
/// matching index backwards from the newest row; the `status IN` term must be
/// spelled as in the partial indexes for SQLite to use them.
fn history_sql(q: &HistoryQuery) -> String {
    let mut sql = format!("SELECT {COLUMNS} FROM runs WHERE 1");
    if q.failed_only {
        // A fire whose last attempt went wrong: a failure that a later
        // attempt retried is not a failed fire.
        sql.push_str(
            " AND status IN ('failed', 'timed_out', 'interrupted') AND NOT EXISTS (
                SELECT 1 FROM runs AS later WHERE later.job = runs.job
                AND later.scheduled_for = runs.scheduled_for AND later.attempt > runs.attempt
                AND later.started_at IS NOT NULL)",
        );
    }
    if q.job.is_some() {
        sql.push_str(" AND job = :job");
    }
    if q.since.is_some() {
        sql.push_str(" AND scheduled_for >= :since");
    }
    sql.push_str(" ORDER BY scheduled_for DESC, attempt DESC, id DESC LIMIT :limit");
    sql
}

const COLUMNS: &str = "id, job, scheduled_for, started_at, finished_at, status, exit_code, \
                       signal, duration_ms, reason, host, pid, child_pid, stdout_tail, stderr_tail, \
                       attempt, trigger, missed_count";

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn from_ms(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

fn row_to_record(r: &rusqlite::Row) -> rusqlite::Result<RunRecord> {
    let status: String = r.get(5)?;
    Ok(RunRecord {
        id: r.get(0)?,
        job: r.get(1)?,
        scheduled_for: from_ms(r.get(2)?),
        started_at: r.get::<_, Option<i64>>(3)?.map(from_ms),
        finished_at: r.get::<_, Option<i64>>(4)?.map(from_ms),
        status: status.parse().map_err(|e: String| {
            rusqlite::Error::FromSqlConversionFailure(5, rusqlite::types::Type::Text, e.into())
        })?,
        exit_code: r.get(6)?,
        signal: r.get(7)?,
        duration_ms: r.get(8)?,
        reason: r.get(9)?,
        host: r.get(10)?,
        pid: r.get(11)?,
        child_pid: r.get(12)?,
        stdout_tail: r.get(13)?,
        stderr_tail: r.get(14)?,
        attempt: r.get(15)?,
        trigger: r.get::<_, String>(16)?.parse().map_err(|e: String| {
            rusqlite::Error::FromSqlConversionFailure(16, rusqlite::types::Type::Text, e.into())
        })?,
        missed_count: r.get::<_, Option<i64>>(17)?.map(|c| c as u64),
    })
}

impl RunStore for SqliteStore {
    fn claim(&mut self, run: &NewRun) -> Result<Option<i64>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "INSERT INTO runs (job, scheduled_for, attempt, trigger, started_at, status, host, pid)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'running', ?6, ?7)
                 ON CONFLICT (job, scheduled_for, attempt) DO NOTHING",
            )
            .map_err(|e| self.err(e))?;
        let inserted = stmt
            .execute(params![
                run.job,
                ms(run.scheduled_for),
                run.attempt,
                run.trigger.as_str(),
                ms(run.started_at),
                run.host,
                run.pid
            ])
            .map_err(|e| self.err(e))?;
        Ok((inserted == 1).then(|| self.conn.last_insert_rowid()))
    }

    fn set_child_pid(&mut self, id: i64, child_pid: u32) -> Result<()> {
        let mut stmt = self
            .conn
            .prepare_cached("UPDATE runs SET child_pid = ?2 WHERE id = ?1")
            .map_err(|e| self.err(e))?;
        stmt.execute(params![id, child_pid])
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    fn finish(&mut self, id: i64, o: &Outcome) -> Result<()> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "UPDATE runs SET status = ?2, finished_at = ?3, exit_code = ?4, signal = ?5,
                        duration_ms = ?6, stdout_tail = ?7, stderr_tail = ?8, reason = ?9
                 WHERE id = ?1",
            )
            .map_err(|e| self.err(e))?;
        stmt.execute(params![
            id,
            o.status.as_str(),
            ms(o.finished_at),
            o.exit_code,
            o.signal,
            o.duration_ms,
            o.stdout_tail,
            o.stderr_tail,
            o.reason
        ])
        .map_err(|e| self.err(e))?;
        Ok(())
    }

    fn record(
        &mut self,
        run: &NewRun,
        status: Status,
        reason: &str,
        missed_count: Option<u64>,
    ) -> Result<Option<i64>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "INSERT INTO runs (job, scheduled_for, attempt, trigger, status, reason,
                                   missed_count, host, pid)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (job, scheduled_for, attempt) DO NOTHING",
            )
            .map_err(|e| self.err(e))?;
        let inserted = stmt
            .execute(params![
                run.job,
                ms(run.scheduled_for),
                run.attempt,
                run.trigger.as_str(),
                status.as_str(),
                reason,
                missed_count.map(|c| c as i64),
                run.host,
                run.pid
            ])
            .map_err(|e| self.err(e))?;
        Ok((inserted == 1).then(|| self.conn.last_insert_rowid()))
    }

    fn last_fires(&self, jobs: &[&str]) -> Result<HashMap<String, DateTime<Utc>>> {
        self.instant_per_job(
            "SELECT scheduled_for FROM runs
             WHERE job = ?1 AND trigger IN ('schedule', 'catchup', 'retry')
             ORDER BY scheduled_for DESC LIMIT 1",
            jobs,
        )
    }

    fn last_successes(&self, jobs: &[&str]) -> Result<HashMap<String, DateTime<Utc>>> {
        // Walks the job's fires newest first (the UNIQUE index) and stops at
        // the first success.
        self.instant_per_job(
            "SELECT finished_at FROM runs
             WHERE job = ?1 AND status = 'succeeded' AND finished_at IS NOT NULL
             ORDER BY scheduled_for DESC, attempt DESC LIMIT 1",
            jobs,
        )
    }

    fn prune(
        &mut self,
        before: Option<DateTime<Utc>>,
        keep_runs: Option<u64>,
        batch: usize,
    ) -> Result<usize> {
        let path = self.path.clone();
        let fail = |e: rusqlite::Error| Error::Store {
            path: path.clone(),
            message: e.to_string(),
        };
        // The fires to go are chosen whole, so `history` never shows a fire
        // with some of its attempts gone; each step is one short transaction
        // so that the scheduler's own writes are not held up.
        const NOT_NEWEST: &str = "EXISTS (SELECT 1 FROM runs AS newer WHERE newer.job = runs.job
              AND newer.scheduled_for > runs.scheduled_for
              AND newer.trigger IN ('schedule', 'catchup', 'retry'))";
        let tx = self.conn.transaction().map_err(fail)?;
        let mut deleted = 0;
        if let Some(before) = before {
            deleted += tx
                .execute(
                    &format!(
                        "DELETE FROM runs WHERE status != 'running' AND (job, scheduled_for) IN (
                            SELECT job, scheduled_for FROM runs
                            WHERE scheduled_for < ?1 AND {NOT_NEWEST}
                            GROUP BY job, scheduled_for ORDER BY scheduled_for LIMIT ?2)"
                    ),
                    params![ms(before), batch as i64],
                )
                .map_err(fail)?;
        }
        if let Some(keep) = keep_runs.filter(|_| deleted < batch) {
            let jobs: Vec<String> = tx
                .prepare("SELECT DISTINCT job FROM runs")
                .and_then(|mut stmt| stmt.query_map([], |r| r.get(0))?.collect())
                .map_err(fail)?;
            for job in jobs {
                if deleted >= batch {
                    break;
                }
                // The scheduled time of the job's `keep`-th newest fire.
                let cutoff: Option<i64> = tx
                    .query_row(
                        "SELECT scheduled_for FROM runs WHERE job = ?1 GROUP BY scheduled_for
                         ORDER BY scheduled_for DESC LIMIT 1 OFFSET ?2",
                        params![job, keep.saturating_sub(1).min(i64::MAX as u64) as i64],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(fail)?;
                let Some(cutoff) = cutoff else { continue };
                deleted += tx
                    .execute(
                        &format!(
                            "DELETE FROM runs WHERE status != 'running' AND job = ?1
                             AND scheduled_for IN (
                                SELECT scheduled_for FROM runs
                                WHERE job = ?1 AND scheduled_for < ?2 AND {NOT_NEWEST}
                                GROUP BY scheduled_for ORDER BY scheduled_for LIMIT ?3)"
                        ),
                        params![job, cutoff, (batch - deleted) as i64],
                    )
                    .map_err(fail)?;
            }
        }
        tx.commit().map_err(fail)?;
        Ok(deleted)
    }

    fn interrupt_orphans(&mut self) -> Result<Vec<Orphan>> {
        let path = self.path.clone();
        let fail = |e: rusqlite::Error| Error::Store {
            path: path.clone(),
            message: e.to_string(),
        };
        let tx = self.conn.transaction().map_err(fail)?;
        let orphans = tx
            .prepare("SELECT id, job, host, pid, child_pid FROM runs WHERE status = 'running'")
            .and_then(|mut stmt| {
                stmt.query_map([], |r| {
                    Ok(Orphan {
                        id: r.get(0)?,
                        job: r.get(1)?,
                        host: r.get(2)?,
                        pid: r.get(3)?,
                        child_pid: r.get(4)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(fail)?;
        tx.execute(
            "UPDATE runs SET status = 'interrupted',
                    reason = 'the scheduler (pid ' || pid || ' on ' || host || ') stopped during the run'
             WHERE status = 'running'",
            [],
        )
        .map_err(fail)?;
        tx.commit().map_err(fail)?;
        Ok(orphans)
    }

    fn history(&self, q: &HistoryQuery) -> Result<Vec<RunRecord>> {
        let sql = history_sql(q);
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let limit = i64::try_from(q.limit).unwrap_or(i64::MAX);
        let since = q.since.map(ms);
        let mut named: Vec<(&str, &dyn rusqlite::ToSql)> = vec![(":limit", &limit)];
        if let Some(job) = &q.job {
            named.push((":job", job));
        }
        if let Some(since) = &since {
            named.push((":since", since));
        }
        stmt.query_map(named.as_slice(), row_to_record)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))
    }

    fn set_paused(&mut self, jobs: &[&str], paused: bool, now: DateTime<Utc>) -> Result<()> {
        let path = self.path.clone();
        let fail = |e: rusqlite::Error| Error::Store {
            path: path.clone(),
            message: e.to_string(),
        };
        let tx = self.conn.transaction().map_err(fail)?;
        for job in jobs {
            if paused {
                tx.execute(
                    "INSERT INTO paused (job, paused_at) VALUES (?1, ?2) ON CONFLICT (job) DO NOTHING",
                    params![job, ms(now)],
                )
            } else {
                tx.execute("DELETE FROM paused WHERE job = ?1", [job])
            }
            .map_err(fail)?;
        }
        tx.commit().map_err(fail)
    }

    fn paused(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT job FROM paused ORDER BY job")
            .map_err(|e| self.err(e))?;
        stmt.query_map([], |r| r.get(0))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))
    }

    fn add_request(&mut self, job: &str, at: DateTime<Utc>, stream: bool) -> Result<i64> {
        self.conn
            .execute(
                "INSERT INTO requests (job, requested_at, stream) VALUES (?1, ?2, ?3)",
                params![job, ms(at), stream],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    fn take_requests(&mut self) -> Result<Vec<Request>> {
        let path = self.path.clone();
        let fail = |e: rusqlite::Error| Error::Store {
            path: path.clone(),
            message: e.to_string(),
        };
        let tx = self.conn.transaction().map_err(fail)?;
        let requests = tx
            .prepare(
                "SELECT id, job, requested_at, stream FROM requests WHERE taken = 0 ORDER BY id",
            )
            .and_then(|mut stmt| {
                stmt.query_map([], |r| {
                    Ok(Request {
                        id: r.get(0)?,
                        job: r.get(1)?,
                        requested_at: from_ms(r.get(2)?),
                        stream: r.get(3)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(fail)?;
        tx.execute("UPDATE requests SET taken = 1 WHERE taken = 0", [])
            .map_err(fail)?;
        tx.commit().map_err(fail)?;
        Ok(requests)
    }

    fn link_request(&mut self, request: i64, run_id: i64) -> Result<()> {
        self.conn
            .execute(
                "UPDATE requests SET run_id = ?2 WHERE id = ?1",
                params![request, run_id],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    fn request_state(&self, request: i64) -> Result<RequestState> {
        self.conn
            .query_row(
                "SELECT taken, run_id, error FROM requests WHERE id = ?1",
                [request],
                |r| {
                    Ok(RequestState {
                        taken: r.get(0)?,
                        run_id: r.get(1)?,
                        error: r.get(2)?,
                    })
                },
            )
            .map_err(|e| self.err(e))
    }

    fn fail_request(&mut self, request: i64, error: &str) -> Result<()> {
        self.conn
            .execute(
                "UPDATE requests SET taken = 1, error = ?2 WHERE id = ?1 AND run_id IS NULL",
                params![request, error],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    fn fail_open_requests(
        &mut self,
        older_than: Option<DateTime<Utc>>,
        error: &str,
    ) -> Result<usize> {
        let sql = match older_than {
            Some(_) => {
                "UPDATE requests SET taken = 1, error = ?1 WHERE taken = 0 AND requested_at < ?2"
            }
            None => "UPDATE requests SET taken = 1, error = ?1 WHERE taken = 0 AND ?2 IS NULL",
        };
        self.conn
            .execute(sql, params![error, older_than.map(ms)])
            .map_err(|e| self.err(e))
    }

    fn withdraw_request(&mut self, request: i64) -> Result<bool> {
        let n = self
            .conn
            .execute(
                "DELETE FROM requests WHERE id = ?1 AND taken = 0",
                [request],
            )
            .map_err(|e| self.err(e))?;
        Ok(n == 1)
    }

    fn clean_controls(&mut self, before: DateTime<Utc>) -> Result<()> {
        self.conn
            .execute_batch(&format!(
                "DELETE FROM live_output WHERE run_id IN (
                     SELECT id FROM runs WHERE finished_at < {t});
                 DELETE FROM requests WHERE requested_at < {t} AND taken = 1;",
                t = ms(before)
            ))
            .map_err(|e| self.err(e))
    }

    fn append_output(&mut self, run_id: i64, stream: &str, data: &[u8]) -> Result<()> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "INSERT INTO live_output (run_id, seq, stream, data)
                 VALUES (?1, (SELECT coalesce(max(seq), 0) + 1 FROM live_output WHERE run_id = ?1), ?2, ?3)",
            )
            .map_err(|e| self.err(e))?;
        stmt.execute(params![run_id, stream, data])
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    fn output_after(&self, run_id: i64, after: i64) -> Result<Vec<(i64, String, Vec<u8>)>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT seq, stream, data FROM live_output WHERE run_id = ?1 AND seq > ?2 ORDER BY seq",
            )
            .map_err(|e| self.err(e))?;
        stmt.query_map(params![run_id, after], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| self.err(e))
    }

    fn delete_output(&mut self, run_id: i64) -> Result<()> {
        self.conn
            .execute("DELETE FROM live_output WHERE run_id = ?1", [run_id])
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    fn data_version(&self) -> Result<i64> {
        self.conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    fn run(&self, id: i64) -> Result<Option<RunRecord>> {
        self.conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM runs WHERE id = ?1"),
                [id],
                row_to_record,
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    fn stat_rows(&self, job: Option<&str>, since: DateTime<Utc>) -> Result<Vec<StatRow>> {
        let sql = format!(
            "SELECT job, status, scheduled_for, started_at, finished_at, duration_ms, attempt,
                    missed_count FROM runs
             WHERE scheduled_for >= ?1 {} ORDER BY scheduled_for, attempt, id",
            if job.is_some() { "AND job = ?2" } else { "" }
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let map = |r: &rusqlite::Row| -> rusqlite::Result<StatRow> {
            let status: String = r.get(1)?;
            Ok(StatRow {
                job: r.get(0)?,
                status: status.parse().map_err(|e: String| {
                    rusqlite::Error::FromSqlConversionFailure(
                        1,
                        rusqlite::types::Type::Text,
                        e.into(),
                    )
                })?,
                scheduled_for: from_ms(r.get(2)?),
                started_at: r.get::<_, Option<i64>>(3)?.map(from_ms),
                finished_at: r.get::<_, Option<i64>>(4)?.map(from_ms),
                duration_ms: r.get(5)?,
                attempt: r.get(6)?,
                missed_count: r.get::<_, Option<i64>>(7)?.map(|c| c as u64),
            })
        };
        let rows = match job {
            Some(job) => stmt.query_map(params![ms(since), job], map),
            None => stmt.query_map(params![ms(since)], map),
        };
        rows.and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))
    }

    fn last_runs(&self, jobs: &[&str]) -> Result<HashMap<String, RunRecord>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM runs WHERE job = ?1
                 ORDER BY scheduled_for DESC, attempt DESC, id DESC LIMIT 1"
            ))
            .map_err(|e| self.err(e))?;
        let mut out = HashMap::new();
        for job in jobs {
            if let Some(rec) = stmt
                .query_row([job], row_to_record)
                .optional()
                .map_err(|e| self.err(e))?
            {
                out.insert(rec.job.clone(), rec);
            }
        }
        Ok(out)
    }
}

/// Who holds a database's lock.
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
}

/// Who holds `db`'s lock now, if anyone: (pid, host, role). Reads the lock
/// file and asks the kernel whether the lock is held, without taking it.
pub fn lock_holder(db: &Path) -> Option<(Option<u32>, Option<String>, Role)> {
    let mut file = File::options().read(true).open(lock_path(db)).ok()?;
    // A shared lock is granted only while no exclusive one is held; it is
    // dropped at once and blocks no one (an exclusive `try_lock` at the
    // same instant may fail, as it would against a reader anyway).
    match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            None
        }
        Err(_) => Some(read_holder(&mut file)),
    }
}

/// The lock file's "pid host role" line, as written by [`SchedulerLock::acquire`].
fn read_holder(file: &mut File) -> (Option<u32>, Option<String>, Role) {
    let mut holder = String::new();
    let _ = file.read_to_string(&mut holder);
    let mut words = holder.split_whitespace();
    let pid = words.next().and_then(|p| p.parse().ok());
    let host = words.next().map(str::to_string);
    let role = match words.next() {
        Some("trigger") => Role::Trigger,
        _ => Role::Scheduler,
    };
    (pid, host, role)
}

/// The exclusive right to run a scheduler on one database, held until drop.
pub struct SchedulerLock {
    _file: File,
}

impl SchedulerLock {
    /// Takes the lock beside `db` or says who holds it.
    pub fn acquire(db: &Path, host: &str, role: Role) -> Result<SchedulerLock> {
        let path = lock_path(db);
        let fail = |message: String| Error::Store {
            path: path.clone(),
            message,
        };
        let mut file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| fail(format!("cannot open the lock file: {e}")))?;
        if let Err(e) = file.try_lock() {
            return match e {
                std::fs::TryLockError::WouldBlock => {
                    let (pid, host, role) = read_holder(&mut file);
                    Err(Error::Locked {
                        path: db.to_path_buf(),
                        pid,
                        host,
                        role,
                    })
                }
                std::fs::TryLockError::Error(e) => Err(fail(format!("cannot lock: {e}"))),
            };
        }
        file.set_len(0)
            .and_then(|_| file.rewind())
            .and_then(|_| writeln!(file, "{} {host} {}", std::process::id(), role.as_str()))
            .map_err(|e| fail(format!("cannot write the lock file: {e}")))?;
        Ok(SchedulerLock { _file: file })
    }
}

/// `<db>.lock`, beside the file the path resolves to, so that two spellings
/// of one database (a symlink, `./x` and `x`) share one lock.
fn lock_path(db: &Path) -> PathBuf {
    let resolved = std::fs::canonicalize(db).unwrap_or_else(|_| {
        let parent = db.parent().filter(|p| !p.as_os_str().is_empty());
        let dir = parent.map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
        dir.join(db.file_name().unwrap_or(db.as_os_str()))
    });
    let mut name = resolved.into_os_string();
    name.push(".lock");
    PathBuf::from(name)
}

#[cfg(test)]
mod tests;

/// When the `schedule run` holding `db` started, if one does: it wrote the
/// lock file then.
pub fn scheduler_started(db: &Path) -> Option<DateTime<Utc>> {
    match lock_holder(db)? {
        (_, _, Role::Scheduler) => {
            let modified = std::fs::metadata(lock_path(db)).ok()?.modified().ok()?;
            Some(modified.into())
        }
        _ => None,
    }
}
