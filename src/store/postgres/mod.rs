//! The backend for teams: a PostgreSQL database that several machines can
//! reach. Same tables and meaning as SQLite's, with `timestamptz` times.
//!
//! The store is synchronous, like SQLite's: each call drives tokio-postgres
//! on a small runtime of the store's own, on whatever thread owns the store
//! (the scheduler's store thread, or a command's main thread), so the loop
//! never waits on the network. A lost connection is made again at the next
//! call; a call that gets no answer in [`CALL_TIMEOUT`] fails as
//! unavailable instead of hanging the thread.
//!
//! `schedule pause`, `resume` and `trigger` wake a running scheduler with
//! `NOTIFY schedule_controls`, which it `LISTEN`s for on a connection of its
//! own ([`listen`]).

mod cluster;
mod connect;
mod lease;
mod migrations;

use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::time::Duration;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Row};

use super::{
    ClusterLink, History, Kind, LiveOutput, Pauses, Requests, Result, Schedulers, Store, StoreError,
};
use crate::domain::{
    Chunk, HistoryQuery, NewRun, NotRunRecord, Orphan, Outcome, Request, RequestState, RunRecord,
    SchedulerStatus, StatRow,
};
pub use cluster::{Beat, Member, MemberSettings};
pub use connect::Target;
pub use lease::{Lease, lease_holder};
pub use migrations::SCHEMA_VERSION;
use std::sync::Arc;

/// The longest one call waits for the server.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// The channel `pause`, `resume` and `trigger` notify.
const CHANNEL: &str = "schedule_controls";
/// Any constant will do: it keeps two processes from migrating at once.
const MIGRATION_LOCK: i64 = 0x7363_6865_6475_6c65; // "schedule"

fn location_of(url: &str) -> String {
    super::location::redact(url)
}

/// The error kind of a PostgreSQL error.
fn error(location: &str, e: tokio_postgres::Error) -> StoreError {
    let kind = match e.code() {
        Some(c)
            if *c == SqlState::T_R_SERIALIZATION_FAILURE
                || *c == SqlState::T_R_DEADLOCK_DETECTED
                || *c == SqlState::LOCK_NOT_AVAILABLE
                || *c == SqlState::QUERY_CANCELED =>
        {
            Kind::Busy
        }
        Some(c)
            if *c == SqlState::ADMIN_SHUTDOWN
                || *c == SqlState::CRASH_SHUTDOWN
                || *c == SqlState::CANNOT_CONNECT_NOW
                || *c == SqlState::TOO_MANY_CONNECTIONS
                // A standby after a failover: writes come back with the primary.
                || *c == SqlState::READ_ONLY_SQL_TRANSACTION
                // Disk full, out of memory: they may pass.
                || c.code().starts_with("53")
                || c.code().starts_with("08") =>
        {
            Kind::Unavailable
        }
        Some(c)
            if *c == SqlState::INSUFFICIENT_PRIVILEGE
                || *c == SqlState::INVALID_PASSWORD
                || *c == SqlState::INVALID_AUTHORIZATION_SPECIFICATION =>
        {
            Kind::Denied
        }
        Some(c) if *c == SqlState::INVALID_CATALOG_NAME => Kind::Missing,
        Some(_) => Kind::Other,
        // No SQL state: the connection, not the statement.
        None => Kind::Unavailable,
    };
    let message = match e.as_db_error() {
        Some(db) => db.message().to_string(),
        None => {
            let mut m = e.to_string();
            let mut cause = std::error::Error::source(&e);
            while let Some(c) = cause {
                m.push_str(&format!(": {c}"));
                cause = c.source();
            }
            m
        }
    };
    StoreError::new(location, kind, message).caused_by(e)
}

/// Awaits every future together, so that tokio-postgres pipelines their
/// statements on the connection: one round trip's wait for many.
async fn join_all<F: Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut pending: Vec<std::pin::Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = (0..pending.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut all = true;
        for (i, f) in pending.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => all = false,
                }
            }
        }
        if all {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    out.into_iter()
        .map(|v| v.expect("every future ended"))
        .collect()
}

/// Times go to the database in milliseconds, as SQLite keeps them, so a
/// row reads back the same from either backend.
fn ms(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}

pub struct PgStore {
    rt: tokio::runtime::Runtime,
    target: Target,
    client: Option<Client>,
    /// How long one call waits for the server.
    call_timeout: Duration,
    /// In a cluster: this host's id, its runs' epochs.
    link: Option<Arc<ClusterLink>>,
}

impl PgStore {
    /// Connects and brings the schema up to date.
    pub fn connect(url: &str) -> Result<PgStore> {
        let target = Target::parse(url)?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| {
                StoreError::new(
                    target.shown(),
                    Kind::Other,
                    format!("cannot start a runtime: {e}"),
                )
            })?;
        let mut store = PgStore {
            rt,
            target,
            client: None,
            call_timeout: CALL_TIMEOUT,
            link: None,
        };
        store.migrate()?;
        Ok(store)
    }

    fn shown(&self) -> String {
        self.target.shown().to_string()
    }

    /// Calls wait at most `wait` for the server from now on.
    pub fn set_call_timeout(&mut self, wait: Duration) {
        self.call_timeout = wait;
    }

    /// Runs `f` with a connected client, connecting first if there is none
    /// (or the last one was lost). A call that times out drops the client.
    fn with<T>(
        &mut self,
        f: impl AsyncFnOnce(&mut Client) -> std::result::Result<T, tokio_postgres::Error>,
    ) -> Result<T> {
        let PgStore {
            rt,
            target,
            client,
            call_timeout,
            ..
        } = self;
        let wait = *call_timeout;
        if client.as_ref().is_some_and(Client::is_closed) {
            *client = None;
        }
        let shown = target.shown().to_string();
        let result = rt.block_on(async {
            tokio::time::timeout(wait, async {
                if client.is_none() {
                    *client = Some(target.connect(None).await?.0);
                }
                let c = client.as_mut().expect("connected above");
                f(c).await.map_err(|e| error(&shown, e))
            })
            .await
        });
        match result {
            Ok(r) => r,
            Err(_) => {
                *client = None;
                Err(StoreError::new(
                    shown,
                    Kind::Unavailable,
                    format!(
                        "the server did not answer within {}s",
                        CALL_TIMEOUT.as_secs()
                    ),
                ))
            }
        }
    }

    fn migrate(&mut self) -> Result<()> {
        let shown = self.shown();
        let version = self.with(async |c| {
            let tx = c.transaction().await?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
                .await?;
            tx.batch_execute(
                "CREATE TABLE IF NOT EXISTS schedule_schema (version BIGINT NOT NULL)",
            )
            .await?;
            let row = tx
                .query_opt("SELECT version FROM schedule_schema", &[])
                .await?;
            let version: i64 = row.map_or(0, |r| r.get(0));
            if version > SCHEMA_VERSION {
                return Ok(Err(version));
            }
            for sql in migrations::MIGRATIONS.iter().skip(version as usize) {
                tx.batch_execute(sql).await?;
            }
            if version < SCHEMA_VERSION {
                tx.execute("DELETE FROM schedule_schema", &[]).await?;
                tx.execute(
                    "INSERT INTO schedule_schema (version) VALUES ($1)",
                    &[&SCHEMA_VERSION],
                )
                .await?;
            }
            tx.commit().await?;
            Ok(Ok(version))
        })?;
        match version {
            Ok(_) => Ok(()),
            Err(newer) => Err(StoreError::new(
                shown,
                Kind::Corrupt,
                format!(
                    "its schema is version {newer}, newer than this schedule knows \
                     ({SCHEMA_VERSION}); upgrade schedule"
                ),
            )),
        }
    }
}

const COLUMNS: &str = "id, job, scheduled_for, started_at, finished_at, status, exit_code, \
                       signal, duration_ms, reason, host, pid, child_pid, stdout_tail, stderr_tail, \
                       attempt, trigger, missed_count, slot, nominal, last_scheduled_for";

/// A stored word (status, trigger) that this build does not know is a row
/// it cannot show: an error, not a panic.
fn word<T: std::str::FromStr<Err = String>>(row: &Row, i: usize) -> std::result::Result<T, String> {
    row.get::<_, String>(i).parse()
}

fn record(row: &Row) -> std::result::Result<RunRecord, String> {
    Ok(RunRecord {
        id: row.get(0),
        job: row.get(1),
        scheduled_for: row.get(2),
        started_at: row.get(3),
        finished_at: row.get(4),
        status: word(row, 5)?,
        exit_code: row.get(6),
        signal: row.get(7),
        duration_ms: row.get(8),
        reason: row.get(9),
        host: row.get(10),
        pid: row.get::<_, i64>(11) as u32,
        child_pid: row.get::<_, Option<i64>>(12).map(|p| p as u32),
        stdout_tail: row.get(13),
        stderr_tail: row.get(14),
        attempt: row.get::<_, i32>(15) as u32,
        trigger: word(row, 16)?,
        missed_count: row.get::<_, Option<i64>>(17).map(|c| c as u64),
        slot: row.get::<_, i32>(18) as u32,
        nominal: row.get(19),
        last_scheduled_for: row.get(20),
    })
}

impl PgStore {
    fn records(&self, rows: Vec<Row>) -> Result<Vec<RunRecord>> {
        rows.iter()
            .map(record)
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| StoreError::new(self.shown(), Kind::Corrupt, e))
    }

    /// One instant per job from a query over `unnest($1)` as `j(job)`.
    fn instant_per_job(
        &mut self,
        sql: &'static str,
        jobs: &[&str],
    ) -> Result<HashMap<String, DateTime<Utc>>> {
        let jobs: Vec<String> = jobs.iter().map(|j| j.to_string()).collect();
        let rows = self.with(async |c| c.query(sql, &[&jobs]).await)?;
        Ok(rows
            .iter()
            .filter_map(|r| Some((r.get::<_, String>(0), r.get::<_, Option<DateTime<Utc>>>(1)?)))
            .collect())
    }
}

/// The `WHERE` terms of a history query, after `WHERE true`; its values go
/// into `params`.
fn history_filter<'a>(q: &'a HistoryQuery, params: &mut Vec<&'a (dyn ToSql + Sync)>) -> String {
    let mut sql = String::new();
    if q.failed_only {
        sql.push_str(
            " AND status IN ('failed', 'timed_out', 'interrupted', 'lost') AND NOT EXISTS (
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
    if let Some(job) = &q.job {
        params.push(job);
        sql.push_str(&format!(" AND job = ${}", params.len()));
    }
    if let Some(host) = &q.host {
        params.push(host);
        sql.push_str(&format!(" AND host = ${}", params.len()));
    }
    if let Some(since) = &q.since {
        params.push(since);
        sql.push_str(&format!(" AND scheduled_for >= ${}", params.len()));
    }
    sql
}

/// The rows of a claim as one array per column, for `unnest`: one
/// statement, one round trip, however many fires are due.
pub(super) struct Columns<'a> {
    pub jobs: Vec<&'a str>,
    pub at: Vec<DateTime<Utc>>,
    pub attempts: Vec<i32>,
    pub triggers: Vec<&'a str>,
    pub started: Vec<DateTime<Utc>>,
    pub hosts: Vec<&'a str>,
    pub pids: Vec<i64>,
    pub slots: Vec<i32>,
    pub nominals: Vec<Option<&'a str>>,
}

impl<'a> Columns<'a> {
    pub fn of(runs: &'a [NewRun]) -> Columns<'a> {
        Columns {
            jobs: runs.iter().map(|r| r.job.as_str()).collect(),
            at: runs.iter().map(|r| ms(r.scheduled_for)).collect(),
            attempts: runs.iter().map(|r| r.attempt as i32).collect(),
            triggers: runs.iter().map(|r| r.trigger.as_str()).collect(),
            started: runs.iter().map(|r| ms(r.started_at)).collect(),
            hosts: runs.iter().map(|r| r.host.as_str()).collect(),
            pids: runs.iter().map(|r| i64::from(r.pid)).collect(),
            slots: runs.iter().map(|r| r.slot as i32).collect(),
            nominals: runs.iter().map(|r| r.nominal.as_deref()).collect(),
        }
    }
}

impl History for PgStore {
    fn claim(&mut self, runs: &[NewRun]) -> Result<Vec<Option<i64>>> {
        if runs.is_empty() {
            return Ok(Vec::new());
        }
        let Columns {
            jobs,
            at,
            attempts,
            triggers,
            started,
            hosts,
            pids,
            slots,
            nominals,
        } = Columns::of(runs);
        let rows = self.with(async |c| {
            c.query(
                "INSERT INTO runs (job, scheduled_for, attempt, trigger, started_at, status, host, pid,
                                   slot, nominal)
                 SELECT job, at, attempt, trigger, started, 'running', host, pid, slot, nominal
                 FROM unnest($1::text[], $2::timestamptz[], $3::int[], $4::text[],
                             $5::timestamptz[], $6::text[], $7::bigint[], $8::int[], $9::text[])
                      AS u(job, at, attempt, trigger, started, host, pid, slot, nominal)
                 ON CONFLICT (job, scheduled_for, slot, attempt) DO NOTHING
                 RETURNING id, job, scheduled_for, slot, attempt",
                &[
                    &jobs, &at, &attempts, &triggers, &started, &hosts, &pids, &slots, &nominals,
                ],
            )
            .await
        })?;
        let mut ids: HashMap<(String, DateTime<Utc>, i32, i32), i64> = rows
            .iter()
            .map(|r| ((r.get(1), r.get(2), r.get(3), r.get(4)), r.get(0)))
            .collect();
        Ok(runs
            .iter()
            .map(|r| {
                let key = (
                    r.job.clone(),
                    ms(r.scheduled_for),
                    r.slot as i32,
                    r.attempt as i32,
                );
                ids.remove(&key)
            })
            .collect())
    }

    fn set_child_pids(&mut self, pids: &[(i64, u32)]) -> Result<()> {
        if pids.is_empty() {
            return Ok(());
        }
        let ids: Vec<i64> = pids.iter().map(|(id, _)| *id).collect();
        let children: Vec<i64> = pids.iter().map(|(_, pid)| i64::from(*pid)).collect();
        self.with(async |c| {
            c.execute(
                "UPDATE runs SET child_pid = p.pid
                 FROM unnest($1::bigint[], $2::bigint[]) AS p(id, pid)
                 WHERE runs.id = p.id",
                &[&ids, &children],
            )
            .await
        })?;
        Ok(())
    }

    fn finish(&mut self, id: i64, o: &Outcome) -> Result<()> {
        self.finish_all(&[(id, o)])
    }

    fn finish_all(&mut self, ends: &[(i64, &Outcome)]) -> Result<()> {
        if ends.is_empty() {
            return Ok(());
        }
        // A cluster run's end is written only under the epoch it was
        // claimed with, and only while it is still running: a host that
        // was cut off, or stopped, and came back after its run was called
        // lost cannot overwrite what the others wrote.
        let fenced = self.link.is_some();
        let epochs: Vec<Option<i64>> = match &self.link {
            Some(link) => {
                let mut held = link.held.lock().expect("not poisoned");
                ends.iter().map(|(id, _)| held.remove(id)).collect()
            }
            None => vec![None; ends.len()],
        };
        // One transaction, one commit (one WAL flush) for the lot; the
        // updates are sent without waiting for each other's answers.
        let written = self.with(async |c| {
            let tx = c.transaction().await?;
            let update = tx
                .prepare(
                    "UPDATE runs SET status = $2, finished_at = $3, exit_code = $4, signal = $5,
                            duration_ms = $6, stdout_tail = $7, stderr_tail = $8, reason = $9
                     WHERE id = $1 AND ($10::bigint IS NULL OR epoch = $10)
                       AND (NOT $11::bool OR status = 'running')",
                )
                .await?;
            let finished: Vec<DateTime<Utc>> =
                ends.iter().map(|(_, o)| ms(o.finished_at)).collect();
            let statuses: Vec<&str> = ends.iter().map(|(_, o)| o.status.as_str()).collect();
            let rows = ends.iter().zip(finished.iter().zip(&statuses)).zip(&epochs);
            let updates = rows.map(|(((id, o), (at, status)), epoch)| {
                let params: [&(dyn ToSql + Sync); 11] = [
                    id,
                    status,
                    at,
                    &o.exit_code,
                    &o.signal,
                    &o.duration_ms,
                    &o.stdout_tail,
                    &o.stderr_tail,
                    &o.reason,
                    epoch,
                    &fenced,
                ];
                let (tx, update) = (&tx, &update);
                async move { tx.execute(update, &params).await }
            });
            let mut written = Vec::new();
            for done in join_all(updates).await {
                written.push(done?);
            }
            tx.commit().await?;
            Ok(written)
        });
        let written = match written {
            Ok(w) => w,
            Err(e) => {
                // Not written: the ends will be tried again, fenced again.
                if let Some(link) = &self.link {
                    let mut held = link.held.lock().expect("not poisoned");
                    for ((id, _), epoch) in ends.iter().zip(&epochs) {
                        if let Some(epoch) = epoch {
                            held.insert(*id, *epoch);
                        }
                    }
                }
                return Err(e);
            }
        };
        for (((id, _), epoch), n) in ends.iter().zip(&epochs).zip(written) {
            if let (true, 0) = (fenced, n) {
                tracing::warn!(
                    run_id = id,
                    epoch,
                    "the end of the run was not recorded: its lease was lost, and another host \
                     has marked it lost"
                );
            }
        }
        Ok(())
    }

    fn record(&mut self, run: &NewRun, n: &NotRunRecord) -> Result<Option<i64>> {
        let at = ms(run.scheduled_for);
        if n.paused {
            // The pause's row, if it is still the job's newest: count this
            // fire into it.
            let merged = self.with(async |c| {
                c.query_opt(
                    "UPDATE runs SET missed_count = coalesce(missed_count, 1) + 1,
                            last_scheduled_for = $2
                     WHERE id = (SELECT id FROM runs WHERE job = $1
                                 ORDER BY scheduled_for DESC, slot DESC, attempt DESC, id DESC LIMIT 1)
                       AND status = 'skipped' AND last_scheduled_for IS NOT NULL
                       AND last_scheduled_for < $2
                     RETURNING id",
                    &[&run.job, &at],
                )
                .await
            })?;
            if let Some(row) = merged {
                return Ok(Some(row.get(0)));
            }
        }
        let (count, last) = match n.paused {
            true => (Some(1i64), Some(at)),
            false => (n.missed_count.map(|c| c as i64), None),
        };
        let row = self.with(async |c| {
            c.query_opt(
                "INSERT INTO runs (job, scheduled_for, attempt, trigger, status, reason,
                                   missed_count, host, pid, slot, nominal,
                                   last_scheduled_for)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                 ON CONFLICT (job, scheduled_for, slot, attempt) DO NOTHING
                 RETURNING id",
                &[
                    &run.job,
                    &ms(run.scheduled_for),
                    &(run.attempt as i32),
                    &run.trigger.as_str(),
                    &n.status.as_str(),
                    &n.reason,
                    &count,
                    &run.host,
                    &i64::from(run.pid),
                    &(run.slot as i32),
                    &run.nominal,
                    &last,
                ],
            )
            .await
        })?;
        Ok(row.map(|r| r.get(0)))
    }

    fn last_fires(&mut self, jobs: &[&str]) -> Result<HashMap<String, DateTime<Utc>>> {
        self.instant_per_job(
            "SELECT j.job, (SELECT coalesce(last_scheduled_for, scheduled_for) FROM runs
                            WHERE runs.job = j.job AND trigger IN ('schedule', 'catchup', 'retry')
                            ORDER BY scheduled_for DESC LIMIT 1)
             FROM unnest($1::text[]) AS j(job)",
            jobs,
        )
    }

    fn last_successes(&mut self, jobs: &[&str]) -> Result<HashMap<String, DateTime<Utc>>> {
        self.instant_per_job(
            "SELECT j.job, (SELECT finished_at FROM runs
                            WHERE runs.job = j.job AND status = 'succeeded'
                              AND finished_at IS NOT NULL
                            ORDER BY scheduled_for DESC, slot DESC, attempt DESC LIMIT 1)
             FROM unnest($1::text[]) AS j(job)",
            jobs,
        )
    }

    fn job_names(&mut self) -> Result<Vec<String>> {
        let rows = self.with(async |c| {
            c.query("SELECT DISTINCT job FROM runs ORDER BY job", &[])
                .await
        })?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    fn first_fires(&mut self, jobs: &[&str]) -> Result<HashMap<String, DateTime<Utc>>> {
        self.instant_per_job(
            "SELECT j.job, (SELECT scheduled_for FROM runs WHERE runs.job = j.job
                            ORDER BY scheduled_for ASC, attempt ASC LIMIT 1)
             FROM unnest($1::text[]) AS j(job)",
            jobs,
        )
    }

    fn prune(
        &mut self,
        before: Option<DateTime<Utc>>,
        keep_runs: Option<u64>,
        batch: usize,
    ) -> Result<usize> {
        const NOT_NEWEST: &str = "EXISTS (SELECT 1 FROM runs AS newer WHERE newer.job = runs.job
              AND newer.scheduled_for > runs.scheduled_for
              AND newer.trigger IN ('schedule', 'catchup', 'retry'))";
        let batch = batch as i64;
        let keep = keep_runs.map(|k| k.saturating_sub(1).min(i64::MAX as u64) as i64);
        let n = self.with(async |c| {
            let tx = c.transaction().await?;
            let mut deleted: i64 = 0;
            if let Some(before) = before {
                deleted += tx
                    .execute(
                        &format!(
                            "DELETE FROM runs WHERE status <> 'running' AND (job, scheduled_for) IN (
                                SELECT job, scheduled_for FROM runs
                                WHERE scheduled_for < $1 AND {NOT_NEWEST}
                                GROUP BY job, scheduled_for ORDER BY scheduled_for LIMIT $2)"
                        ),
                        &[&before, &batch],
                    )
                    .await? as i64;
            }
            if let Some(offset) = keep.filter(|_| deleted < batch) {
                let jobs = tx.query("SELECT DISTINCT job FROM runs", &[]).await?;
                for job in jobs {
                    if deleted >= batch {
                        break;
                    }
                    let job: String = job.get(0);
                    let cutoff = tx
                        .query_opt(
                            "SELECT scheduled_for FROM runs WHERE job = $1 GROUP BY scheduled_for
                             ORDER BY scheduled_for DESC LIMIT 1 OFFSET $2",
                            &[&job, &offset],
                        )
                        .await?;
                    let Some(cutoff) = cutoff else { continue };
                    let cutoff: DateTime<Utc> = cutoff.get(0);
                    deleted += tx
                        .execute(
                            &format!(
                                "DELETE FROM runs WHERE status <> 'running' AND job = $1
                                 AND scheduled_for IN (
                                    SELECT scheduled_for FROM runs
                                    WHERE job = $1 AND scheduled_for < $2 AND {NOT_NEWEST}
                                    GROUP BY scheduled_for ORDER BY scheduled_for LIMIT $3)"
                            ),
                            &[&job, &cutoff, &(batch - deleted)],
                        )
                        .await? as i64;
                }
            }
            tx.commit().await?;
            Ok(deleted)
        })?;
        Ok(n as usize)
    }

    fn interrupt_orphans(&mut self) -> Result<Vec<Orphan>> {
        // In a cluster, the other hosts' runs are theirs (or, once their
        // leases expire, the lost-run reaper's); only the rows of this
        // host's name whose scheduler is no longer alive here are orphans.
        let mine: Option<(String, Vec<i64>)> = match &self.link {
            Some(link) => {
                let name = link.name.clone();
                let rows = self.with(async |c| {
                    c.query(
                        "SELECT DISTINCT pid FROM runs WHERE status = 'running' AND host = $1",
                        &[&name],
                    )
                    .await
                })?;
                let dead = rows
                    .iter()
                    .map(|r| r.get::<_, i64>(0))
                    .filter(|pid| !lease::alive(*pid as u32))
                    .collect();
                Some((name, dead))
            }
            None => None,
        };
        let rows = self.with(async |c| match &mine {
            None => {
                c.query(
                    "UPDATE runs SET status = 'interrupted',
                        reason = 'the scheduler (pid ' || pid || ' on ' || host || ') stopped during the run'
                     WHERE status = 'running'
                     RETURNING id, job, host, pid, child_pid",
                    &[],
                )
                .await
            }
            Some((name, dead)) => {
                c.query(
                    "UPDATE runs SET status = 'interrupted',
                        reason = 'the scheduler (pid ' || pid || ' on ' || host || ') stopped during the run'
                     WHERE status = 'running' AND host = $1 AND pid = ANY($2)
                       -- Not a live host's, though it has our name.
                       AND (host_id IS NULL OR host_id NOT IN (
                           SELECT id FROM hosts
                           WHERE heartbeat > now() - lease_ms * interval '1 millisecond'))
                     RETURNING id, job, host, pid, child_pid",
                    &[name, dead],
                )
                .await
            }
        })?;
        Ok(rows
            .iter()
            .map(|r| Orphan {
                id: r.get(0),
                job: r.get(1),
                host: r.get(2),
                pid: r.get::<_, i64>(3) as u32,
                child_pid: r.get::<_, Option<i64>>(4).map(|p| p as u32),
            })
            .collect())
    }

    fn history(&mut self, q: &HistoryQuery) -> Result<Vec<RunRecord>> {
        let limit = i64::try_from(q.limit).unwrap_or(i64::MAX);
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&limit];
        let filter = history_filter(q, &mut params);
        let order = if q.oldest_first { "ASC" } else { "DESC" };
        let sql = format!(
            "SELECT {COLUMNS} FROM runs WHERE true{filter}
             ORDER BY scheduled_for {order}, slot {order}, attempt {order}, id {order} LIMIT $1"
        );
        let rows = self.with(async |c| c.query(&sql, &params).await)?;
        self.records(rows)
    }

    fn count(&mut self, q: &HistoryQuery) -> Result<u64> {
        let mut params: Vec<&(dyn ToSql + Sync)> = Vec::new();
        let filter = history_filter(q, &mut params);
        let sql = format!("SELECT count(*) FROM runs WHERE true{filter}");
        let row = self.with(async |c| c.query_one(&sql, &params).await)?;
        Ok(row.get::<_, i64>(0) as u64)
    }

    fn run(&mut self, id: i64) -> Result<Option<RunRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM runs WHERE id = $1");
        let rows = self.with(async |c| c.query(&sql, &[&id]).await)?;
        Ok(self.records(rows)?.into_iter().next())
    }

    fn stat_rows(&mut self, job: Option<&str>, since: DateTime<Utc>) -> Result<Vec<StatRow>> {
        let rows = self.with(async |c| {
            c.query(
                "SELECT job, status, scheduled_for, started_at, finished_at, duration_ms, attempt,
                        missed_count FROM runs
                 WHERE scheduled_for >= $1 AND ($2::text IS NULL OR job = $2)
                 ORDER BY scheduled_for, slot, attempt, id",
                &[&since, &job],
            )
            .await
        })?;
        rows.iter()
            .map(|r| {
                Ok(StatRow {
                    job: r.get(0),
                    status: word(r, 1)?,
                    scheduled_for: r.get(2),
                    started_at: r.get(3),
                    finished_at: r.get(4),
                    duration_ms: r.get(5),
                    attempt: r.get::<_, i32>(6) as u32,
                    missed_count: r.get::<_, Option<i64>>(7).map(|c| c as u64),
                })
            })
            .collect::<std::result::Result<_, String>>()
            .map_err(|e| StoreError::new(self.shown(), Kind::Corrupt, e))
    }

    fn last_runs(&mut self, jobs: &[&str]) -> Result<HashMap<String, RunRecord>> {
        let jobs: Vec<String> = jobs.iter().map(|j| j.to_string()).collect();
        let sql = format!(
            "SELECT r.* FROM unnest($1::text[]) AS j(job) CROSS JOIN LATERAL (
                SELECT {COLUMNS} FROM runs WHERE runs.job = j.job AND started_at IS NOT NULL
                ORDER BY scheduled_for DESC, slot DESC, attempt DESC, id DESC LIMIT 1) AS r"
        );
        let rows = self.with(async |c| c.query(&sql, &[&jobs]).await)?;
        Ok(self
            .records(rows)?
            .into_iter()
            .map(|r| (r.job.clone(), r))
            .collect())
    }
}

impl Pauses for PgStore {
    fn set_paused(&mut self, jobs: &[&str], paused: bool, now: DateTime<Utc>) -> Result<()> {
        let jobs: Vec<String> = jobs.iter().map(|j| j.to_string()).collect();
        self.with(async |c| {
            let tx = c.transaction().await?;
            if paused {
                tx.execute(
                    "INSERT INTO paused (job, paused_at) SELECT j, $2 FROM unnest($1::text[]) AS j
                     ON CONFLICT (job) DO NOTHING",
                    &[&jobs, &ms(now)],
                )
                .await?;
            } else {
                tx.execute("DELETE FROM paused WHERE job = ANY($1)", &[&jobs])
                    .await?;
            }
            tx.execute("UPDATE controls SET version = version + 1", &[])
                .await?;
            // Delivered at commit, to a scheduler that LISTENs.
            tx.execute("SELECT pg_notify($1, 'paused')", &[&CHANNEL])
                .await?;
            tx.commit().await
        })
    }

    fn controls(&mut self) -> Result<(i64, i64)> {
        // With a cluster, applied means applied by every live host.
        let row = self.with(async |c| {
            c.query_one(
                "SELECT version, least(applied, coalesce(
                     (SELECT min(applied) FROM hosts
                      WHERE heartbeat > now() - lease_ms * interval '1 millisecond'), applied))
                 FROM controls",
                &[],
            )
            .await
        })?;
        Ok((row.get(0), row.get(1)))
    }

    fn applied(&mut self, version: i64) -> Result<()> {
        self.with(async |c| {
            c.execute(
                "UPDATE controls SET applied = greatest(applied, $1)",
                &[&version],
            )
            .await
        })?;
        if let Some(id) = self.link.as_ref().map(|l| l.host_id) {
            self.with(async |c| {
                c.execute(
                    "UPDATE hosts SET applied = greatest(applied, $2) WHERE id = $1",
                    &[&id, &version],
                )
                .await
            })?;
        }
        Ok(())
    }

    fn paused(&mut self) -> Result<Vec<String>> {
        let rows =
            self.with(async |c| c.query("SELECT job FROM paused ORDER BY job", &[]).await)?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }
}

impl Requests for PgStore {
    fn add_request(&mut self, job: &str, at: DateTime<Utc>, stream: bool) -> Result<i64> {
        self.with(async |c| {
            let tx = c.transaction().await?;
            let row = tx
                .query_one(
                    "INSERT INTO requests (job, requested_at, stream) VALUES ($1, $2, $3)
                     RETURNING id",
                    &[&job, &ms(at), &stream],
                )
                .await?;
            tx.execute("SELECT pg_notify($1, 'request')", &[&CHANNEL])
                .await?;
            tx.commit().await?;
            Ok(row.get(0))
        })
    }

    fn take_requests(&mut self) -> Result<Vec<Request>> {
        // In a cluster, a host takes only the requests of jobs it may run;
        // the others are left for the hosts that may.
        // A host that may not claim now (no heartbeat, its clock off)
        // leaves every request to the hosts that may.
        if self
            .link
            .as_ref()
            .is_some_and(|l| l.cannot_claim().is_some())
        {
            return Ok(Vec::new());
        }
        let runnable: Option<Vec<String>> = self.link.as_ref().and_then(|l| {
            l.runnable
                .read()
                .ok()
                .and_then(|r| r.as_ref().map(|s| s.iter().cloned().collect()))
        });
        let host_id = self.link.as_ref().map(|l| l.host_id);
        let rows = self.with(async |c| {
            c.query(
                "UPDATE requests SET taken = true, taken_by = $2
                 WHERE NOT taken AND ($1::text[] IS NULL OR job = ANY($1))
                 RETURNING id, job, requested_at, stream",
                &[&runnable, &host_id],
            )
            .await
        })?;
        let mut requests: Vec<Request> = rows
            .iter()
            .map(|r| Request {
                id: r.get(0),
                job: r.get(1),
                requested_at: r.get(2),
                stream: r.get(3),
            })
            .collect();
        requests.sort_by_key(|r| r.id);
        Ok(requests)
    }

    fn link_request(&mut self, request: i64, run_id: i64) -> Result<()> {
        self.with(async |c| {
            c.execute(
                "UPDATE requests SET run_id = $2 WHERE id = $1",
                &[&request, &run_id],
            )
            .await
        })?;
        Ok(())
    }

    fn request_state(&mut self, request: i64) -> Result<RequestState> {
        let row = self.with(async |c| {
            c.query_opt(
                "SELECT taken, run_id, error FROM requests WHERE id = $1",
                &[&request],
            )
            .await
        })?;
        let row = row.ok_or_else(|| {
            StoreError::new(
                self.shown(),
                Kind::Other,
                format!("no trigger request {request}"),
            )
        })?;
        Ok(RequestState {
            taken: row.get(0),
            run_id: row.get(1),
            error: row.get(2),
        })
    }

    fn fail_request(&mut self, request: i64, error: &str) -> Result<()> {
        self.with(async |c| {
            c.execute(
                "UPDATE requests SET taken = true, error = $2 WHERE id = $1 AND run_id IS NULL",
                &[&request, &error],
            )
            .await
        })?;
        Ok(())
    }

    fn fail_open_requests(
        &mut self,
        older_than: Option<DateTime<Utc>>,
        error: &str,
    ) -> Result<usize> {
        let n = self.with(async |c| {
            c.execute(
                "UPDATE requests SET taken = true, error = $1
                 WHERE NOT taken AND ($2::timestamptz IS NULL OR requested_at < $2)",
                &[&error, &older_than],
            )
            .await
        })?;
        Ok(n as usize)
    }

    fn withdraw_request(&mut self, request: i64) -> Result<bool> {
        let n = self.with(async |c| {
            c.execute(
                "DELETE FROM requests WHERE id = $1 AND NOT taken",
                &[&request],
            )
            .await
        })?;
        Ok(n == 1)
    }

    fn clean_controls(&mut self, before: DateTime<Utc>) -> Result<()> {
        self.with(async |c| {
            c.execute(
                "DELETE FROM live_output WHERE run_id IN (
                     SELECT id FROM runs WHERE finished_at < $1)",
                &[&before],
            )
            .await?;
            c.execute(
                "DELETE FROM requests WHERE requested_at < $1 AND taken",
                &[&before],
            )
            .await?;
            c.execute(
                "DELETE FROM follows WHERE asked_at < $1 AND taken",
                &[&before],
            )
            .await
        })?;
        Ok(())
    }
}

impl LiveOutput for PgStore {
    fn follow(&mut self, run_id: i64, at: DateTime<Utc>) -> Result<()> {
        self.with(async |c| {
            let tx = c.transaction().await?;
            tx.execute(
                "INSERT INTO follows (run_id, asked_at) VALUES ($1, $2)",
                &[&run_id, &ms(at)],
            )
            .await?;
            tx.execute("SELECT pg_notify($1, 'follow')", &[&CHANNEL])
                .await?;
            tx.commit().await
        })
    }

    fn take_follows(&mut self) -> Result<Vec<i64>> {
        let rows = self.with(async |c| {
            c.query(
                "UPDATE follows SET taken = true WHERE NOT taken RETURNING run_id",
                &[],
            )
            .await
        })?;
        let mut runs: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
        runs.sort_unstable();
        runs.dedup();
        Ok(runs)
    }

    fn append_output(&mut self, run_id: i64, stream: &str, data: &[u8]) -> Result<()> {
        self.with(async |c| {
            c.execute(
                "INSERT INTO live_output (run_id, seq, stream, data)
                 VALUES ($1, (SELECT coalesce(max(seq), 0) + 1 FROM live_output WHERE run_id = $1),
                         $2, $3)",
                &[&run_id, &stream, &data],
            )
            .await
        })?;
        Ok(())
    }

    fn output_after(&mut self, run_id: i64, after: i64) -> Result<Vec<Chunk>> {
        let rows = self.with(async |c| {
            c.query(
                "SELECT seq, stream, data FROM live_output WHERE run_id = $1 AND seq > $2
                 ORDER BY seq",
                &[&run_id, &after],
            )
            .await
        })?;
        Ok(rows
            .iter()
            .map(|r| Chunk {
                seq: r.get(0),
                stream: r.get(1),
                data: r.get(2),
            })
            .collect())
    }

    fn delete_output(&mut self, run_id: i64) -> Result<()> {
        self.with(async |c| {
            c.execute("DELETE FROM live_output WHERE run_id = $1", &[&run_id])
                .await
        })?;
        Ok(())
    }
}

impl Schedulers for PgStore {
    fn write_status(&mut self, st: &SchedulerStatus) -> Result<()> {
        let (jobs, running, queued) = (st.jobs as i64, st.running as i64, st.queued as i64);
        let pid = i64::from(st.pid);
        let (started, updated, stopped) =
            (ms(st.started_at), ms(st.updated_at), st.stopped_at.map(ms));
        self.with(async |c| {
            c.execute(
                "INSERT INTO status (host, pid, started_at, updated_at, stopped_at, version,
                                     config, db, jobs, running, queued)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                 ON CONFLICT (host) DO UPDATE SET pid = $2, started_at = $3, updated_at = $4,
                    stopped_at = $5, version = $6, config = $7, db = $8, jobs = $9,
                    running = $10, queued = $11",
                &[
                    &st.host,
                    &pid,
                    &started,
                    &updated,
                    &stopped,
                    &st.version,
                    &st.config,
                    &st.db,
                    &jobs,
                    &running,
                    &queued,
                ],
            )
            .await
        })?;
        Ok(())
    }

    fn statuses(&mut self) -> Result<Vec<SchedulerStatus>> {
        let rows = self.with(async |c| {
            c.query(
                "SELECT host, pid, started_at, updated_at, stopped_at, version, config, db, jobs,
                        running, queued FROM status ORDER BY updated_at DESC, host",
                &[],
            )
            .await
        })?;
        Ok(rows
            .iter()
            .map(|r| SchedulerStatus {
                host: r.get(0),
                pid: r.get::<_, i64>(1) as u32,
                started_at: r.get(2),
                updated_at: r.get(3),
                stopped_at: r.get(4),
                version: r.get(5),
                config: r.get(6),
                db: r.get(7),
                jobs: r.get::<_, i64>(8) as u64,
                running: r.get::<_, i64>(9) as u64,
                queued: r.get::<_, i64>(10) as u64,
            })
            .collect())
    }
}

impl Store for PgStore {
    fn others_wrote(&mut self) -> Result<bool> {
        Ok(true)
    }

    fn cluster(&mut self) -> Option<&mut dyn super::Cluster> {
        Some(self)
    }
}

/// `LISTEN`s for `pause`, `resume` and `trigger` on a connection of its
/// own, on a thread of its own; made again when lost, and each new
/// connection counts as a change (something may have come meanwhile).
pub fn listen(url: &str, changed: tokio::sync::mpsc::UnboundedSender<()>) -> bool {
    let Ok(target) = Target::parse(url) else {
        return false;
    };
    std::thread::Builder::new()
        .name("listen".into())
        .spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                let mut lost_since: Option<std::time::Instant> = None;
                loop {
                    if changed.is_closed() {
                        return;
                    }
                    match target.connect(Some(changed.clone())).await {
                        Ok((client, driver)) => {
                            let listening = client
                                .batch_execute(&format!("LISTEN {CHANNEL}"))
                                .await;
                            if listening.is_ok() {
                                if lost_since.take().is_some() {
                                    tracing::info!("listening for pause, resume and trigger again");
                                }
                                let _ = changed.send(());
                                let _ = driver.await;
                            }
                        }
                        Err(e) => {
                            if lost_since.is_none() {
                                tracing::warn!(error = %e, "cannot listen for pause, resume and trigger; trying again every second");
                            }
                        }
                    }
                    lost_since.get_or_insert_with(std::time::Instant::now);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            });
        })
        .is_ok()
}
