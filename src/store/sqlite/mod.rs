//! The embedded backend: one SQLite file, WAL mode so that `schedule
//! history` reads while `schedule run` writes. Timestamps are integers (ms
//! since the Unix epoch, UTC).

mod lock;
mod migrations;
#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::{
    History, Kind, LiveOutput, Mode, Pauses, Requests, Result, Schedulers, Store, StoreError,
};
use crate::domain::{
    Chunk, HistoryQuery, NewRun, NotRunRecord, Orphan, Outcome, Request, RequestState, RunRecord,
    SchedulerStatus, StatRow,
};
pub use lock::{DEFAULT_DB_MODE, FileLock, lock_holder, watch};
use migrations::MIGRATIONS;
pub use migrations::SCHEMA_VERSION;

/// How long a statement waits for another connection's lock before it
/// fails as busy. The scheduler's own writes are off its loop, so waiting
/// costs no fire; failing sooner would turn a short clean-up step into
/// spurious errors.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
    /// `PRAGMA data_version` at the last [`Store::others_wrote`].
    data_version: Option<i64>,
    /// The files a writer opened, to notice them deleted or replaced.
    files: Option<Files>,
}

/// The database file and its `-shm` as a writer opened them (device and
/// inode), and the longest its WAL was seen: a path that names another
/// file now, or a WAL shorter than before (SQLite never truncates it here:
/// no `journal_size_limit`, no `TRUNCATE` checkpoint), means someone
/// removed or cut the files under us, and writes would go where nobody
/// reads them.
struct Files {
    db: (PathBuf, (u64, u64)),
    shm: (PathBuf, (u64, u64)),
    wal: PathBuf,
    wal_len: u64,
}

fn identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

fn side(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

impl Files {
    fn of(db: &Path) -> Option<Files> {
        let db = lock::resolve(db);
        let shm = side(&db, "-shm");
        let wal = side(&db, "-wal");
        Some(Files {
            db: (db.clone(), identity(&db)?),
            shm: (shm.clone(), identity(&shm)?),
            wal_len: std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0),
            wal,
        })
    }

    /// What went wrong with the files, if anything.
    fn trouble(&mut self) -> Option<String> {
        for (what, (path, id)) in [("database file", &self.db), ("-shm file", &self.shm)] {
            match identity(path) {
                None => return Some(format!("the {what} `{}` was deleted", path.display())),
                Some(now) if now != *id => {
                    return Some(format!("the {what} `{}` was replaced", path.display()));
                }
                Some(_) => {}
            }
        }
        let len = std::fs::metadata(&self.wal).map(|m| m.len()).unwrap_or(0);
        if len < self.wal_len {
            return Some(format!(
                "the WAL `{}` was truncated ({} bytes, was {})",
                self.wal.display(),
                len,
                self.wal_len
            ));
        }
        self.wal_len = len;
        None
    }
}

/// The error kind of a SQLite error.
fn kind(e: &rusqlite::Error) -> Kind {
    use rusqlite::ErrorCode as C;
    match e.sqlite_error_code() {
        Some(C::DatabaseBusy | C::DatabaseLocked) => Kind::Busy,
        // A full disk may get room again: keep the rows and try later.
        Some(C::DiskFull) => Kind::Unavailable,
        Some(C::NotADatabase | C::DatabaseCorrupt) => Kind::Corrupt,
        Some(
            C::ReadOnly | C::PermissionDenied | C::CannotOpen | C::AuthorizationForStatementDenied,
        ) => Kind::Denied,
        _ => Kind::Other,
    }
}

impl SqliteStore {
    fn fail(path: &Path, e: rusqlite::Error) -> StoreError {
        StoreError::new(path.display().to_string(), kind(&e), e.to_string()).caused_by(e)
    }

    fn err(&self, e: rusqlite::Error) -> StoreError {
        Self::fail(&self.path, e)
    }

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

    /// Opens the database (creating it in [`Mode::Write`]) and brings its
    /// schema up to date.
    pub fn open(path: &Path, mode: Mode) -> Result<SqliteStore> {
        let create = mode == Mode::Write;
        let at = path.display().to_string();
        if !create && !path.exists() {
            return Err(StoreError::new(
                at,
                Kind::Missing,
                "no such file; `schedule run` creates it, or point at another with --db or \
                 SCHEDULE_DB",
            ));
        }
        if mode == Mode::Read
            && let Some(store) = Self::open_read_only(path)?
        {
            return Ok(store);
        }
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if create {
            // Created by us, private, before SQLite sees it (its side files
            // take its mode); someone else's file is refused. An existing
            // file keeps its mode (the lock gave it `db_mode`).
            let mode = std::fs::metadata(lock::resolve(path))
                .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o7777)
                .unwrap_or(DEFAULT_DB_MODE);
            lock::prepare_db_path(path, mode)
                .map_err(|m| StoreError::new(at.clone(), Kind::Denied, m))?;
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let conn = Connection::open_with_flags(path, flags).map_err(|e| Self::fail(path, e))?;
        let mut store = SqliteStore {
            conn,
            path: path.to_path_buf(),
            data_version: None,
            files: None,
        };
        store.setup(create)?;
        if create {
            // The WAL and -shm exist while a connection in WAL mode is open.
            store.data_version()?;
            store.files = Files::of(path);
        }
        Ok(store)
    }

    /// A reader's connection, opened read-only so that a user who may read
    /// the file but not write it or its folder can still look (with the
    /// scheduler stopped). A WAL-mode file needs its `-shm` index: SQLite
    /// uses one that exists (read-only if it must) or creates it; when it
    /// can do neither (no `-shm`, a folder we may not write) and no `-wal`
    /// holds unmerged writes, every commit is in the main file and it is
    /// opened `immutable`, which needs no index. `None` when the schema is
    /// older than ours: the caller opens it read-write and migrates it.
    fn open_read_only(path: &Path) -> Result<Option<SqliteStore>> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let attempt = |immutable: bool| -> rusqlite::Result<(Connection, i64)> {
            let conn = Connection::open_with_flags(uri(path, immutable), flags)?;
            conn.busy_timeout(BUSY_TIMEOUT)?;
            let version = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            Ok((conn, version))
        };
        let unusable = |e: rusqlite::Error| {
            let kind = kind(&e);
            StoreError::new(
                path.display().to_string(),
                kind,
                format!("cannot use it as a database: {e}"),
            )
            .caused_by(e)
        };
        let (conn, version) = match attempt(false) {
            Ok(opened) => opened,
            Err(e) if matches!(kind(&e), Kind::Denied) => {
                let mut wal = path.as_os_str().to_owned();
                wal.push("-wal");
                let pending = std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0);
                if pending {
                    return Err(StoreError::new(
                        path.display().to_string(),
                        Kind::Denied,
                        format!(
                            "cannot read it: {e}; its -wal file holds writes that only a user \
                             who may write the folder can merge (any schedule command run by \
                             that user does)"
                        ),
                    )
                    .caused_by(e));
                }
                attempt(true).map_err(unusable)?
            }
            Err(e) => return Err(unusable(e)),
        };
        if version > SCHEMA_VERSION {
            return Err(StoreError::new(
                path.display().to_string(),
                Kind::Corrupt,
                format!(
                    "its schema is version {version}, newer than this schedule knows \
                     ({SCHEMA_VERSION}); upgrade schedule"
                ),
            ));
        }
        if version < SCHEMA_VERSION {
            return Ok(None);
        }
        Ok(Some(SqliteStore {
            conn,
            path: path.to_path_buf(),
            data_version: None,
            // A read-only reader writes nothing, so has nothing to check.
            files: None,
        }))
    }

    /// `writer`: the scheduler, which always wants WAL mode; readers at the
    /// current schema version write nothing.
    fn setup(&mut self, writer: bool) -> Result<()> {
        let path = self.path.clone();
        let fail = |e: rusqlite::Error| Self::fail(&path, e);
        let plain = |kind: Kind, message: String| {
            StoreError::new(path.display().to_string(), kind, message)
        };
        let c = &mut self.conn;
        c.busy_timeout(BUSY_TIMEOUT).map_err(fail)?;
        let version: i64 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| {
                let kind = kind(&e);
                plain(kind, format!("cannot use it as a database: {e}")).caused_by(e)
            })?;
        if version == SCHEMA_VERSION && !writer {
            // Up to date: a reader (`history`, `list`) writes nothing, and
            // WAL mode is a property of the file, set when it was created.
            return c.pragma_update(None, "synchronous", "NORMAL").map_err(fail);
        }
        // The switch needs the file to itself. When another process is
        // writing it (migrating an old file as we are), SQLite refuses at
        // once rather than risk a deadlock, without the busy handler: wait
        // here as the handler would.
        let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
        let mode: String = loop {
            match c.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)) {
                Err(e) if kind(&e) == Kind::Busy && std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                result => {
                    break result.map_err(|e| {
                        let kind = kind(&e);
                        plain(kind, format!("cannot use it as a database: {e}")).caused_by(e)
                    })?;
                }
            }
        };
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(plain(
                Kind::Other,
                format!("cannot switch to WAL mode (got `{mode}`)"),
            ));
        }
        c.pragma_update(None, "synchronous", "NORMAL")
            .map_err(fail)?;
        // Read the version inside a write transaction, so that two processes
        // opening a new database at once do not both migrate it.
        let tx = c
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(fail)?;
        let version: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(fail)?;
        if version > SCHEMA_VERSION {
            return Err(plain(
                Kind::Corrupt,
                format!(
                    "its schema is version {version}, newer than this schedule knows \
                     ({SCHEMA_VERSION}); upgrade schedule"
                ),
            ));
        }
        if version < SCHEMA_VERSION {
            for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
                tx.execute_batch(sql).map_err(|e| {
                    plain(
                        Kind::Other,
                        format!("migration to schema {} failed: {e}", i + 1),
                    )
                    .caused_by(e)
                })?;
            }
            tx.pragma_update(None, "user_version", SCHEMA_VERSION)
                .map_err(fail)?;
        }
        tx.commit().map_err(fail)?;
        Ok(())
    }

    /// Refuses to write when the files were deleted, replaced or cut under
    /// us (see [`Files`]): unavailable, so that the scheduler keeps the
    /// fires and records them once the database is back.
    fn check_files(&mut self) -> Result<()> {
        match self.files.as_mut().and_then(Files::trouble) {
            None => Ok(()),
            Some(why) => Err(StoreError::new(
                self.path.display().to_string(),
                Kind::Unavailable,
                format!(
                    "{why} while the scheduler was using it; nothing is recorded until the \
                     file is back (restore it, or restart schedule to start a new one)"
                ),
            )),
        }
    }

    fn data_version(&self) -> Result<i64> {
        self.conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }
}

/// `file:PATH` for SQLite's URI parser (`%`, `?` and `#` escaped), with
/// `immutable=1` when asked.
fn uri(path: &Path, immutable: bool) -> String {
    let mut text = String::from("file:");
    for c in path.to_string_lossy().chars() {
        match c {
            '%' => text.push_str("%25"),
            '?' => text.push_str("%3f"),
            '#' => text.push_str("%23"),
            c => text.push(c),
        }
    }
    if immutable {
        text.push_str("?immutable=1");
    }
    text
}

/// The history query for a filter combination. Each combination reads a
/// matching index backwards from the newest row; the `status IN` term must be
/// spelled as in the partial indexes for SQLite to use them.
fn history_sql(q: &HistoryQuery) -> String {
    let order = if q.oldest_first { "ASC" } else { "DESC" };
    format!(
        "SELECT {COLUMNS} FROM runs WHERE 1{} \
         ORDER BY scheduled_for {order}, slot {order}, attempt {order}, id {order} LIMIT :limit",
        history_filter(q)
    )
}

/// The `WHERE` terms of a history query, after `WHERE 1`.
fn history_filter(q: &HistoryQuery) -> String {
    let mut sql = String::new();
    if q.failed_only {
        // A fire whose last attempt went wrong: a failure that a later
        // attempt retried is not a failed fire.
        sql.push_str(
            " AND status IN ('failed', 'timed_out', 'interrupted') AND NOT EXISTS (
                SELECT 1 FROM runs AS later WHERE later.job = runs.job
                AND later.scheduled_for = runs.scheduled_for AND later.slot = runs.slot
                AND later.attempt > runs.attempt
                AND later.started_at IS NOT NULL)",
        );
    }
    if !q.statuses.is_empty() {
        // The words come from `Status`, never from the user's text.
        let words: Vec<String> = q.statuses.iter().map(|s| format!("'{s}'")).collect();
        sql.push_str(&format!(" AND status IN ({})", words.join(", ")));
    }
    if q.job.is_some() {
        sql.push_str(" AND job = :job");
    }
    if q.host.is_some() {
        sql.push_str(" AND host = :host");
    }
    if q.since.is_some() {
        sql.push_str(" AND scheduled_for >= :since");
    }
    sql
}

const COLUMNS: &str = "id, job, scheduled_for, started_at, finished_at, status, exit_code, \
                       signal, duration_ms, reason, host, pid, child_pid, stdout_tail, stderr_tail, \
                       attempt, trigger, missed_count, slot, nominal, last_scheduled_for";

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn from_ms(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

fn word<T: std::str::FromStr<Err = String>>(r: &rusqlite::Row, i: usize) -> rusqlite::Result<T> {
    let text: String = r.get(i)?;
    text.parse().map_err(|e: String| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into())
    })
}

fn row_to_record(r: &rusqlite::Row) -> rusqlite::Result<RunRecord> {
    Ok(RunRecord {
        id: r.get(0)?,
        job: r.get(1)?,
        scheduled_for: from_ms(r.get(2)?),
        started_at: r.get::<_, Option<i64>>(3)?.map(from_ms),
        finished_at: r.get::<_, Option<i64>>(4)?.map(from_ms),
        status: word(r, 5)?,
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
        trigger: word(r, 16)?,
        missed_count: r.get::<_, Option<i64>>(17)?.map(|c| c as u64),
        slot: r.get(18)?,
        nominal: r.get(19)?,
        last_scheduled_for: r.get::<_, Option<i64>>(20)?.map(from_ms),
    })
}

impl History for SqliteStore {
    fn claim(&mut self, runs: &[NewRun]) -> Result<Vec<Option<i64>>> {
        self.check_files()?;
        let path = self.path.clone();
        let fail = |e: rusqlite::Error| Self::fail(&path, e);
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(fail)?;
        let mut ids = Vec::with_capacity(runs.len());
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO runs (job, scheduled_for, attempt, trigger, started_at, status, host, pid,
                                       slot, nominal)
                     VALUES (?1, ?2, ?3, ?4, ?5, 'running', ?6, ?7, ?8, ?9)
                     ON CONFLICT (job, scheduled_for, slot, attempt) DO NOTHING",
                )
                .map_err(fail)?;
            for run in runs {
                let inserted = stmt
                    .execute(params![
                        run.job,
                        ms(run.scheduled_for),
                        run.attempt,
                        run.trigger.as_str(),
                        ms(run.started_at),
                        run.host,
                        run.pid,
                        run.slot,
                        run.nominal
                    ])
                    .map_err(fail)?;
                ids.push((inserted == 1).then(|| tx.last_insert_rowid()));
            }
        }
        tx.commit().map_err(fail)?;
        Ok(ids)
    }

    fn set_child_pids(&mut self, pids: &[(i64, u32)]) -> Result<()> {
        self.check_files()?;
        let path = self.path.clone();
        let fail = |e: rusqlite::Error| Self::fail(&path, e);
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(fail)?;
        {
            let mut stmt = tx
                .prepare_cached("UPDATE runs SET child_pid = ?2 WHERE id = ?1")
                .map_err(fail)?;
            for (id, child_pid) in pids {
                stmt.execute(params![id, child_pid]).map_err(fail)?;
            }
        }
        tx.commit().map_err(fail)
    }

    fn finish(&mut self, id: i64, o: &Outcome) -> Result<()> {
        self.finish_all(&[(id, o)])
    }

    fn finish_all(&mut self, ends: &[(i64, &Outcome)]) -> Result<()> {
        self.check_files()?;
        let path = self.path.clone();
        let fail = |e: rusqlite::Error| Self::fail(&path, e);
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(fail)?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "UPDATE runs SET status = ?2, finished_at = ?3, exit_code = ?4, signal = ?5,
                            duration_ms = ?6, stdout_tail = ?7, stderr_tail = ?8, reason = ?9
                     WHERE id = ?1",
                )
                .map_err(fail)?;
            for (id, o) in ends {
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
                .map_err(fail)?;
            }
        }
        tx.commit().map_err(fail)
    }

    fn record(&mut self, run: &NewRun, not_run: &NotRunRecord) -> Result<Option<i64>> {
        self.check_files()?;
        if not_run.paused {
            // The pause's row, if it is still the job's newest: count this
            // fire into it.
            let mut stmt = self
                .conn
                .prepare_cached(
                    "UPDATE runs SET missed_count = coalesce(missed_count, 1) + 1,
                            last_scheduled_for = ?2
                     WHERE id = (SELECT id FROM runs WHERE job = ?1
                                 ORDER BY scheduled_for DESC, slot DESC, attempt DESC, id DESC LIMIT 1)
                       AND status = 'skipped' AND last_scheduled_for IS NOT NULL
                       AND last_scheduled_for < ?2
                     RETURNING id",
                )
                .map_err(|e| self.err(e))?;
            let merged: Option<i64> = stmt
                .query_row(params![run.job, ms(run.scheduled_for)], |r| r.get(0))
                .optional()
                .map_err(|e| self.err(e))?;
            if merged.is_some() {
                return Ok(merged);
            }
        }
        let (count, last) = match not_run.paused {
            true => (Some(1), Some(ms(run.scheduled_for))),
            false => (not_run.missed_count.map(|c| c as i64), None),
        };
        let mut stmt = self
            .conn
            .prepare_cached(
                "INSERT INTO runs (job, scheduled_for, attempt, trigger, status, reason,
                                   missed_count, host, pid, slot, nominal,
                                   last_scheduled_for)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                 ON CONFLICT (job, scheduled_for, slot, attempt) DO NOTHING",
            )
            .map_err(|e| self.err(e))?;
        let inserted = stmt
            .execute(params![
                run.job,
                ms(run.scheduled_for),
                run.attempt,
                run.trigger.as_str(),
                not_run.status.as_str(),
                not_run.reason,
                count,
                run.host,
                run.pid,
                run.slot,
                run.nominal,
                last
            ])
            .map_err(|e| self.err(e))?;
        Ok((inserted == 1).then(|| self.conn.last_insert_rowid()))
    }

    fn last_fires(&mut self, jobs: &[&str]) -> Result<HashMap<String, DateTime<Utc>>> {
        self.instant_per_job(
            "SELECT coalesce(last_scheduled_for, scheduled_for) FROM runs
             WHERE job = ?1 AND trigger IN ('schedule', 'catchup', 'retry')
             ORDER BY scheduled_for DESC LIMIT 1",
            jobs,
        )
    }

    fn last_successes(&mut self, jobs: &[&str]) -> Result<HashMap<String, DateTime<Utc>>> {
        // Walks the job's fires newest first (the UNIQUE index) and stops at
        // the first success.
        self.instant_per_job(
            "SELECT finished_at FROM runs
             WHERE job = ?1 AND status = 'succeeded' AND finished_at IS NOT NULL
             ORDER BY scheduled_for DESC, slot DESC, attempt DESC LIMIT 1",
            jobs,
        )
    }
    fn job_names(&mut self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT DISTINCT job FROM runs ORDER BY job")
            .map_err(|e| Self::fail(&self.path, e))?;
        let names = stmt
            .query_map([], |r| r.get(0))
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<String>>>())
            .map_err(|e| Self::fail(&self.path, e))?;
        Ok(names)
    }

    fn first_fires(&mut self, jobs: &[&str]) -> Result<HashMap<String, DateTime<Utc>>> {
        self.instant_per_job(
            "SELECT scheduled_for FROM runs WHERE job = ?1
             ORDER BY scheduled_for ASC, attempt ASC LIMIT 1",
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
        let fail = |e: rusqlite::Error| Self::fail(&path, e);
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
        let fail = |e: rusqlite::Error| Self::fail(&path, e);
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

    fn history(&mut self, q: &HistoryQuery) -> Result<Vec<RunRecord>> {
        let sql = history_sql(q);
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let limit = i64::try_from(q.limit).unwrap_or(i64::MAX);
        let since = q.since.map(ms);
        let mut named: Vec<(&str, &dyn rusqlite::ToSql)> = vec![(":limit", &limit)];
        if let Some(job) = &q.job {
            named.push((":job", job));
        }
        if let Some(host) = &q.host {
            named.push((":host", host));
        }
        if let Some(since) = &since {
            named.push((":since", since));
        }
        stmt.query_map(named.as_slice(), row_to_record)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))
    }

    fn count(&mut self, q: &HistoryQuery) -> Result<u64> {
        let sql = format!("SELECT count(*) FROM runs WHERE 1{}", history_filter(q));
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let since = q.since.map(ms);
        let mut named: Vec<(&str, &dyn rusqlite::ToSql)> = Vec::new();
        if let Some(job) = &q.job {
            named.push((":job", job));
        }
        if let Some(host) = &q.host {
            named.push((":host", host));
        }
        if let Some(since) = &since {
            named.push((":since", since));
        }
        let n: i64 = stmt
            .query_row(named.as_slice(), |r| r.get(0))
            .map_err(|e| self.err(e))?;
        Ok(n as u64)
    }

    fn run(&mut self, id: i64) -> Result<Option<RunRecord>> {
        self.conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM runs WHERE id = ?1"),
                [id],
                row_to_record,
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    fn stat_rows(&mut self, job: Option<&str>, since: DateTime<Utc>) -> Result<Vec<StatRow>> {
        let sql = format!(
            "SELECT job, status, scheduled_for, started_at, finished_at, duration_ms, attempt,
                    missed_count FROM runs
             WHERE scheduled_for >= ?1 {} ORDER BY scheduled_for, slot, attempt, id",
            if job.is_some() { "AND job = ?2" } else { "" }
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let map = |r: &rusqlite::Row| -> rusqlite::Result<StatRow> {
            Ok(StatRow {
                job: r.get(0)?,
                status: word(r, 1)?,
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
            .map_err(|e| Self::fail(&self.path, e))
    }

    fn last_runs(&mut self, jobs: &[&str]) -> Result<HashMap<String, RunRecord>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM runs WHERE job = ?1 AND started_at IS NOT NULL
                 ORDER BY scheduled_for DESC, slot DESC, attempt DESC, id DESC LIMIT 1"
            ))
            .map_err(|e| Self::fail(&self.path, e))?;
        let mut out = HashMap::new();
        for job in jobs {
            if let Some(rec) = stmt
                .query_row([job], row_to_record)
                .optional()
                .map_err(|e| Self::fail(&self.path, e))?
            {
                out.insert(rec.job.clone(), rec);
            }
        }
        Ok(out)
    }
}

impl Pauses for SqliteStore {
    fn set_paused(&mut self, jobs: &[&str], paused: bool, now: DateTime<Utc>) -> Result<()> {
        let path = self.path.clone();
        let fail = |e: rusqlite::Error| Self::fail(&path, e);
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
        tx.execute("UPDATE controls SET version = version + 1", [])
            .map_err(fail)?;
        tx.commit().map_err(fail)?;
        lock::poke(&self.path);
        Ok(())
    }

    fn controls(&mut self) -> Result<(i64, i64)> {
        self.conn
            .query_row("SELECT version, applied FROM controls", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .map_err(|e| self.err(e))
    }

    fn applied(&mut self, version: i64) -> Result<()> {
        self.check_files()?;
        self.conn
            .execute("UPDATE controls SET applied = max(applied, ?1)", [version])
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    fn paused(&mut self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT job FROM paused ORDER BY job")
            .map_err(|e| self.err(e))?;
        stmt.query_map([], |r| r.get(0))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))
    }
}

impl Requests for SqliteStore {
    fn add_request(&mut self, job: &str, at: DateTime<Utc>, stream: bool) -> Result<i64> {
        self.conn
            .execute(
                "INSERT INTO requests (job, requested_at, stream) VALUES (?1, ?2, ?3)",
                params![job, ms(at), stream],
            )
            .map_err(|e| self.err(e))?;
        let id = self.conn.last_insert_rowid();
        lock::poke(&self.path);
        Ok(id)
    }

    fn take_requests(&mut self) -> Result<Vec<Request>> {
        let path = self.path.clone();
        let fail = |e: rusqlite::Error| Self::fail(&path, e);
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

    fn request_state(&mut self, request: i64) -> Result<RequestState> {
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
                 DELETE FROM requests WHERE requested_at < {t} AND taken = 1;
                 DELETE FROM follows WHERE asked_at < {t} AND taken = 1;",
                t = ms(before)
            ))
            .map_err(|e| self.err(e))
    }
}

impl LiveOutput for SqliteStore {
    fn follow(&mut self, run_id: i64, at: DateTime<Utc>) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO follows (run_id, asked_at) VALUES (?1, ?2)",
                params![run_id, ms(at)],
            )
            .map_err(|e| self.err(e))?;
        lock::poke(&self.path);
        Ok(())
    }

    fn take_follows(&mut self) -> Result<Vec<i64>> {
        let path = self.path.clone();
        let fail = |e: rusqlite::Error| Self::fail(&path, e);
        let tx = self.conn.transaction().map_err(fail)?;
        let runs = tx
            .prepare("SELECT DISTINCT run_id FROM follows WHERE taken = 0 ORDER BY run_id")
            .and_then(|mut stmt| stmt.query_map([], |r| r.get(0))?.collect())
            .map_err(fail)?;
        tx.execute("UPDATE follows SET taken = 1 WHERE taken = 0", [])
            .map_err(fail)?;
        tx.commit().map_err(fail)?;
        Ok(runs)
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

    fn output_after(&mut self, run_id: i64, after: i64) -> Result<Vec<Chunk>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT seq, stream, data FROM live_output WHERE run_id = ?1 AND seq > ?2 ORDER BY seq",
            )
            .map_err(|e| self.err(e))?;
        stmt.query_map(params![run_id, after], |r| {
            Ok(Chunk {
                seq: r.get(0)?,
                stream: r.get(1)?,
                data: r.get(2)?,
            })
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
}

impl Schedulers for SqliteStore {
    fn write_status(&mut self, st: &SchedulerStatus) -> Result<()> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "INSERT OR REPLACE INTO status (host, pid, started_at, updated_at, stopped_at,
                        version, config, db, jobs, running, queued)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )
            .map_err(|e| self.err(e))?;
        stmt.execute(params![
            st.host,
            st.pid,
            ms(st.started_at),
            ms(st.updated_at),
            st.stopped_at.map(ms),
            st.version,
            st.config,
            st.db,
            st.jobs as i64,
            st.running as i64,
            st.queued as i64
        ])
        .map_err(|e| self.err(e))?;
        Ok(())
    }

    fn statuses(&mut self) -> Result<Vec<SchedulerStatus>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT host, pid, started_at, updated_at, stopped_at, version, config, db, jobs,
                        running, queued FROM status ORDER BY updated_at DESC, host",
            )
            .map_err(|e| self.err(e))?;
        stmt.query_map([], |r| {
            Ok(SchedulerStatus {
                host: r.get(0)?,
                pid: r.get(1)?,
                started_at: from_ms(r.get(2)?),
                updated_at: from_ms(r.get(3)?),
                stopped_at: r.get::<_, Option<i64>>(4)?.map(from_ms),
                version: r.get(5)?,
                config: r.get(6)?,
                db: r.get(7)?,
                jobs: r.get::<_, i64>(8)? as u64,
                running: r.get::<_, i64>(9)? as u64,
                queued: r.get::<_, i64>(10)? as u64,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| self.err(e))
    }
}

impl Store for SqliteStore {
    fn check(&mut self) -> Result<()> {
        self.check_files()
    }

    fn others_wrote(&mut self) -> Result<bool> {
        let version = Some(self.data_version()?);
        let changed = version != self.data_version;
        self.data_version = version;
        Ok(changed)
    }
}
