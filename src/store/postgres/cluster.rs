//! A cluster host's side of the database: its heartbeat row, the leases of
//! its runs, and the claims that make each fire run once.
//!
//! One thread per host ([`Member`]) beats on a connection of its own, so a
//! renewal never waits behind the store's other writes. Each beat is one
//! statement, whatever the host is doing: it renews the host's row and the
//! leases of its runs (measuring the skew between the clocks on the way),
//! marks `lost` the runs of other hosts whose leases expired more than the
//! grace ago, renews or takes the housekeeping lease, and reads the live
//! hosts. An idle cluster costs the database one statement per host per
//! beat, and nothing else.
//!
//! Every duration that another host relies on is timed by the database's
//! clock (`now()`); only the trust window, after which a host that cannot
//! reach the database stops its runs, is timed by the host's own monotonic
//! clock, and it ends a third of a lease before anyone may call a run lost.

use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

use super::{PgStore, ms};
use crate::domain::{ClaimOutcome, FireKey, Holder, HostRow, LostRun, NewRun, Role, Trigger};
use crate::store::{ClusterLink, LockError, Result};

/// What a host tells the cluster about itself, and how long things last.
#[derive(Debug, Clone)]
pub struct MemberSettings {
    pub name: String,
    pub version: String,
    pub lease: Duration,
    pub lost_grace: Duration,
    pub beat: Duration,
    pub trust: Duration,
    pub max_skew: Duration,
    pub config_hash: String,
    /// Each job's name and definition hash.
    pub jobs: Vec<(String, String)>,
}

/// What the heartbeat thread tells the loop.
#[derive(Debug)]
pub enum Beat {
    /// The live hosts (this one included), and for those whose config hash
    /// differs from ours, each job's definition hash.
    View {
        hosts: Vec<HostRow>,
        jobs_of: HashMap<i64, HashMap<String, String>>,
        /// This host holds the housekeeping lease.
        housekeeper: bool,
    },
    /// These runs' leases were not renewed: someone marked them lost. Stop
    /// them.
    Refused(Vec<i64>),
    /// Another host asked these runs to stop (`overlap = "replace"`).
    Cancel(Vec<i64>),
    /// This host marked these runs of other hosts `lost`.
    Lost(Vec<LostRun>),
    /// No heartbeat worked for the trust window: stop every run, claim
    /// nothing, until one works.
    Untrusted(String),
    /// A heartbeat worked again.
    Trusted,
}

enum Command {
    Jobs(String, Vec<(String, String)>),
}

/// This host's membership, held until drop (which takes its row away).
pub struct Member {
    link: Arc<ClusterLink>,
    /// Whether no other host was live when this one joined.
    pub first: bool,
    commands: Option<std::sync::mpsc::Sender<Command>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

const HOUSEKEEPING: &str = "housekeeping";
/// Any constant will do: hosts join one at a time.
const JOIN_LOCK: i64 = 0x6a6f_696e_6875_7374; // "joinhust"

impl Member {
    pub fn join(
        url: &str,
        settings: MemberSettings,
    ) -> std::result::Result<(Member, mpsc::UnboundedReceiver<Beat>), LockError> {
        let mut store = PgStore::connect(url)?;
        store.set_call_timeout(
            settings
                .beat
                .max(Duration::from_secs(1))
                .min(Duration::from_secs(10)),
        );
        let pid = i64::from(std::process::id());
        let lease_ms = settings.lease.as_millis() as i64;
        let (name, version, config) = (&settings.name, &settings.version, &settings.config_hash);
        // Joins one at a time (a transaction's advisory lock, which a
        // transaction-pooling PgBouncer keeps): a host that joins sees the
        // hosts that joined before it, so only one is the first.
        let (id, started, others) = store.with(async |c| {
            let tx = c.transaction().await?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&JOIN_LOCK])
                .await?;
            // Rows of hosts gone for a day are only clutter.
            tx.execute(
                "DELETE FROM hosts WHERE heartbeat < now() - interval '1 day'",
                &[],
            )
            .await?;
            let live = tx
                .query(
                    "SELECT name, pid FROM hosts
                     WHERE heartbeat > now() - lease_ms * interval '1 millisecond'",
                    &[],
                )
                .await?;
            let row = tx
                .query_one(
                    "INSERT INTO hosts (name, pid, version, started_at, heartbeat, config_hash,
                                        lease_ms)
                     VALUES ($1, $2, $3, now(), now(), $4, $5) RETURNING id, started_at",
                    &[name, &pid, version, config, &lease_ms],
                )
                .await?;
            tx.commit().await?;
            let live: Vec<(String, i64)> = live.iter().map(|r| (r.get(0), r.get(1))).collect();
            Ok((row.get::<_, i64>(0), row.get::<_, DateTime<Utc>>(1), live))
        })?;
        // A scheduler of this host's name that died here (a restart after a
        // crash) is not another live host.
        let others = others
            .iter()
            .filter(|(n, p)| n != name || super::lease::alive(*p as u32))
            .count();
        // A lone scheduler (no [cluster]) runs everything by itself: checked
        // after this host's row is in, so that a lone scheduler starting at
        // the same moment sees it (it checks for hosts after taking its
        // lease).
        if let Some(holder) = super::lease::current(&mut store)?
            && holder.role == Role::Scheduler
        {
            let _ =
                store.with(async |c| c.execute("DELETE FROM hosts WHERE id = $1", &[&id]).await);
            return Err(LockError::Held(holder));
        }
        let link = Arc::new(ClusterLink {
            host_id: id,
            name: settings.name.clone(),
            lease: settings.lease,
            tolerance: settings.max_skew,
            held: Mutex::new(HashMap::new()),
            trusted_until: Mutex::new(None),
            skew_ms: 0.into(),
            max_skew_ms: settings.max_skew.as_millis() as i64,
            runnable: RwLock::new(None),
        });
        let (events, beats) = mpsc::unbounded_channel();
        let mut heart = Heart {
            store,
            link: Arc::clone(&link),
            settings,
            events,
            last_view: Vec::new(),
            jobs_of: HashMap::new(),
            warned: false,
            trusted: true,
            housekeeper: false,
            started,
        };
        let jobs = heart.settings.jobs.clone();
        heart.publish(&jobs)?;
        // The first beat before the loop starts: it knows the hosts, and
        // trusts its leases, from its first fire.
        heart.beat()?;
        let (commands, received) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("heartbeat".into())
            .spawn(move || heart.run(received))
            .map_err(|e| {
                LockError::Store(crate::store::StoreError::new(
                    super::location_of(url),
                    crate::store::Kind::Other,
                    format!("cannot start the heartbeat thread: {e}"),
                ))
            })?;
        Ok((
            Member {
                link,
                first: others == 0,
                commands: Some(commands),
                thread: Some(thread),
            },
            beats,
        ))
    }

    pub fn link(&self) -> Arc<ClusterLink> {
        Arc::clone(&self.link)
    }

    /// The config was reloaded: publish its jobs' hashes.
    pub fn publish(&self, config_hash: String, jobs: Vec<(String, String)>) {
        if let Some(c) = &self.commands {
            let _ = c.send(Command::Jobs(config_hash, jobs));
        }
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        drop(self.commands.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Heart {
    store: PgStore,
    link: Arc<ClusterLink>,
    settings: MemberSettings,
    events: mpsc::UnboundedSender<Beat>,
    /// The live hosts and config hashes the last view had.
    last_view: Vec<(i64, String)>,
    jobs_of: HashMap<i64, HashMap<String, String>>,
    warned: bool,
    trusted: bool,
    housekeeper: bool,
    /// When this host joined, on the database's clock.
    started: DateTime<Utc>,
}

fn millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

impl Heart {
    fn run(mut self, commands: std::sync::mpsc::Receiver<Command>) {
        loop {
            match commands.recv_timeout(self.settings.beat) {
                Ok(Command::Jobs(hash, jobs)) => {
                    self.settings.config_hash = hash;
                    if let Err(e) = self.publish(&jobs) {
                        tracing::warn!(error = %e, "cannot publish the reloaded jobs to the cluster");
                    }
                    self.last_view.clear();
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            }
            self.check_trust();
            match self.beat() {
                Ok(()) => {
                    if self.warned {
                        tracing::info!("the cluster heartbeat works again");
                        self.warned = false;
                    }
                }
                Err(e) => {
                    if !self.warned {
                        tracing::warn!(error = %e, "cannot beat the cluster heartbeat; trying again");
                        self.warned = true;
                    }
                    self.check_trust();
                }
            }
        }
        self.leave();
    }

    /// Past the trust window without a heartbeat: say so, once.
    fn check_trust(&mut self) {
        let until = *self.link.trusted_until.lock().expect("not poisoned");
        if self.trusted && until.is_some_and(|t| Instant::now() >= t) {
            self.trusted = false;
            let _ = self.events.send(Beat::Untrusted(format!(
                "no heartbeat reached the database for {}s: another host may soon take this \
                 host's runs for lost",
                self.settings.trust.as_secs_f64()
            )));
        }
    }

    fn publish(&mut self, jobs: &[(String, String)]) -> Result<()> {
        let id = self.link.host_id;
        let names: Vec<&str> = jobs.iter().map(|(n, _)| n.as_str()).collect();
        let hashes: Vec<&str> = jobs.iter().map(|(_, h)| h.as_str()).collect();
        let config = self.settings.config_hash.clone();
        self.store.with(async |c| {
            let tx = c.transaction().await?;
            tx.execute("DELETE FROM host_jobs WHERE host_id = $1", &[&id])
                .await?;
            tx.execute(
                "INSERT INTO host_jobs (host_id, job, hash)
                 SELECT $1, job, hash FROM unnest($2::text[], $3::text[]) AS u(job, hash)",
                &[&id, &names, &hashes],
            )
            .await?;
            tx.execute(
                "UPDATE hosts SET config_hash = $2 WHERE id = $1",
                &[&id, &config],
            )
            .await?;
            tx.commit().await
        })
    }

    fn beat(&mut self) -> Result<()> {
        let id = self.link.host_id;
        let skew = self.link.skew_ms.load(Ordering::Relaxed);
        let lease_ms = self.settings.lease.as_millis() as i64;
        let grace_ms = self.settings.lost_grace.as_millis() as i64;
        let (ids, epochs): (Vec<i64>, Vec<i64>) = {
            let held = self.link.held.lock().expect("not poisoned");
            held.iter().map(|(id, epoch)| (*id, *epoch)).unzip()
        };
        let holder = format!("host {id}");
        let pid = i64::from(std::process::id());
        let (name, version, config) = (
            self.settings.name.clone(),
            self.settings.version.clone(),
            self.settings.config_hash.clone(),
        );
        let sent = Instant::now();
        let t0 = Utc::now();
        let row = self.store.with(async |c| {
            c.query_one(
                "WITH beat AS (
                    INSERT INTO hosts (id, name, pid, version, started_at, heartbeat, config_hash,
                                       skew_ms, lease_ms)
                    VALUES ($1, $8, $9, $10, now(), now(), $11, $2, $3)
                    ON CONFLICT (id) DO UPDATE SET heartbeat = now(), skew_ms = $2,
                        config_hash = EXCLUDED.config_hash
                    RETURNING id
                ), renewed AS (
                    UPDATE runs SET lease_until = now() + $3::bigint * interval '1 millisecond'
                    FROM unnest($4::bigint[], $5::bigint[]) AS u(id, epoch)
                    WHERE runs.id = u.id AND runs.epoch = u.epoch AND runs.status = 'running'
                    RETURNING runs.id, runs.cancel_requested
                ), lost AS (
                    UPDATE runs SET status = 'lost', epoch = nextval('run_epochs'),
                        finished_at = now(),
                        reason = 'its host ' || host || ' (pid ' || pid || ') stopped renewing the \
                                  run''s lease, which expired at '
                                 || to_char(lease_until AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')
                    WHERE status = 'running'
                      AND lease_until < now() - $6::bigint * interval '1 millisecond'
                      -- Ours only if we do not hold it (a claim whose answer
                      -- never reached us).
                      AND (host_id IS DISTINCT FROM $1 OR NOT (id = ANY($4)))
                    RETURNING id, job, scheduled_for, slot, attempt, nominal, host, pid
                ), keeper AS (
                    INSERT INTO leases (name, holder, host, pid, role, since, expires_at)
                    VALUES ($12, $7, $8, $9, 'scheduler', now(),
                            now() + $3::bigint * interval '1 millisecond')
                    ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, host = EXCLUDED.host,
                        pid = EXCLUDED.pid, expires_at = EXCLUDED.expires_at,
                        since = CASE WHEN leases.holder = EXCLUDED.holder THEN leases.since
                                ELSE EXCLUDED.since END
                    WHERE leases.holder = EXCLUDED.holder OR leases.expires_at < now()
                    RETURNING holder
                ), reopened AS (
                    -- Requests taken by a host that died before their run
                    -- started: open again, for the live hosts.
                    UPDATE requests SET taken = false, taken_by = NULL
                    WHERE taken AND run_id IS NULL AND error IS NULL AND taken_by IS NOT NULL
                      AND taken_by <> $1
                      AND taken_by NOT IN (SELECT id FROM hosts
                          WHERE heartbeat > now() - lease_ms * interval '1 millisecond')
                    RETURNING id
                )
                SELECT (extract(epoch FROM now()) * 1000)::bigint,
                    (SELECT coalesce(json_agg(json_build_array(id, cancel_requested)), '[]')::text
                     FROM renewed),
                    (SELECT coalesce(json_agg(json_build_array(id, job,
                        (extract(epoch FROM scheduled_for) * 1000)::bigint, slot, attempt, nominal,
                        host, pid)), '[]')::text FROM lost),
                    EXISTS (SELECT 1 FROM keeper),
                    (SELECT coalesce(json_agg(json_build_array(id, name, pid, version,
                        (extract(epoch FROM started_at) * 1000)::bigint,
                        (extract(epoch FROM heartbeat) * 1000)::bigint, skew_ms, config_hash)), '[]')::text
                     FROM hosts WHERE heartbeat > now() - lease_ms * interval '1 millisecond'
                                   AND id <> $1),
                    (SELECT count(*) FROM beat),
                    (SELECT count(pg_notify('schedule_controls', 'request'))
                     FROM (SELECT 1 FROM reopened LIMIT 1) r)",
                &[
                    &id, &skew, &lease_ms, &ids, &epochs, &grace_ms, &holder, &name, &pid,
                    &version, &config, &HOUSEKEEPING,
                ],
            )
            .await
        })?;
        let t1 = Utc::now();
        // The database's clock against the middle of the round trip.
        let db_now: i64 = row.get(0);
        let mid = t0.timestamp_millis() + (t1 - t0).num_milliseconds() / 2;
        self.link.skew_ms.store(db_now - mid, Ordering::Relaxed);
        *self.link.trusted_until.lock().expect("not poisoned") = Some(sent + self.settings.trust);
        if !self.trusted {
            self.trusted = true;
            let _ = self.events.send(Beat::Trusted);
        }

        let json = |i: usize| -> Vec<serde_json::Value> {
            serde_json::from_str::<serde_json::Value>(row.get::<_, &str>(i))
                .ok()
                .and_then(|v| v.as_array().cloned())
                .unwrap_or_default()
        };
        let int = |v: &serde_json::Value, i: usize| v.get(i).and_then(|x| x.as_i64()).unwrap_or(0);
        let text = |v: &serde_json::Value, i: usize| {
            v.get(i).and_then(|x| x.as_str()).unwrap_or("").to_string()
        };
        let renewed = json(1);
        let renewed_ids: std::collections::HashSet<i64> =
            renewed.iter().map(|v| int(v, 0)).collect();
        let refused: Vec<i64> = ids
            .iter()
            .copied()
            .filter(|i| !renewed_ids.contains(i))
            .collect();
        if !refused.is_empty() {
            // A run that ended meanwhile is no longer held: not refused.
            let held = self.link.held.lock().expect("not poisoned");
            let refused: Vec<i64> = refused
                .into_iter()
                .filter(|i| held.contains_key(i))
                .collect();
            drop(held);
            if !refused.is_empty() {
                let _ = self.events.send(Beat::Refused(refused));
            }
        }
        let cancel: Vec<i64> = renewed
            .iter()
            .filter(|v| v.get(1).and_then(|x| x.as_bool()) == Some(true))
            .map(|v| int(v, 0))
            .collect();
        if !cancel.is_empty() {
            let _ = self.events.send(Beat::Cancel(cancel));
        }
        let lost: Vec<LostRun> = json(2)
            .iter()
            .map(|v| LostRun {
                id: int(v, 0),
                key: FireKey {
                    job: text(v, 1),
                    scheduled_for: millis(int(v, 2)),
                    slot: int(v, 3) as u32,
                    attempt: int(v, 4) as u32,
                },
                nominal: v.get(5).and_then(|x| x.as_str()).map(str::to_string),
                host: text(v, 6),
                pid: int(v, 7) as u32,
            })
            .collect();
        if !lost.is_empty() {
            let _ = self.events.send(Beat::Lost(lost));
        }
        let housekeeper: bool = row.get(3);
        let mut hosts: Vec<HostRow> = json(4)
            .iter()
            .map(|v| HostRow {
                id: int(v, 0),
                name: text(v, 1),
                pid: int(v, 2) as u32,
                version: text(v, 3),
                started_at: millis(int(v, 4)),
                heartbeat: millis(int(v, 5)),
                skew_ms: int(v, 6),
                config_hash: text(v, 7),
                live: true,
            })
            .collect();
        hosts.push(HostRow {
            id,
            name: self.settings.name.clone(),
            pid: std::process::id(),
            version: self.settings.version.clone(),
            started_at: self.started,
            heartbeat: millis(db_now),
            skew_ms: db_now - mid,
            config_hash: self.settings.config_hash.clone(),
            live: true,
        });
        hosts.sort_by_key(|h| h.id);
        let shape: Vec<(i64, String)> = hosts
            .iter()
            .map(|h| (h.id, h.config_hash.clone()))
            .collect();
        if shape != self.last_view || housekeeper != self.housekeeper {
            let differing: Vec<i64> = hosts
                .iter()
                .filter(|h| h.config_hash != self.settings.config_hash)
                .map(|h| h.id)
                .collect();
            self.jobs_of.retain(|id, _| differing.contains(id));
            let missing: Vec<i64> = differing
                .iter()
                .copied()
                .filter(|id| !self.jobs_of.contains_key(id))
                .collect();
            if !missing.is_empty() {
                let rows = self.store.with(async |c| {
                    c.query(
                        "SELECT host_id, job, hash FROM host_jobs WHERE host_id = ANY($1)",
                        &[&missing],
                    )
                    .await
                })?;
                for r in rows {
                    self.jobs_of
                        .entry(r.get(0))
                        .or_default()
                        .insert(r.get(1), r.get(2));
                }
                for id in missing {
                    self.jobs_of.entry(id).or_default();
                }
            }
            self.last_view = shape;
            self.housekeeper = housekeeper;
            let _ = self.events.send(Beat::View {
                hosts,
                jobs_of: self.jobs_of.clone(),
                housekeeper,
            });
        }
        Ok(())
    }

    /// Takes this host's row away and gives up the housekeeping lease, so
    /// the others see it gone at once rather than after a lease.
    fn leave(&mut self) {
        let id = self.link.host_id;
        let holder = format!("host {id}");
        let _ = self.store.with(async |c| {
            c.execute("DELETE FROM hosts WHERE id = $1", &[&id]).await?;
            c.execute(
                "DELETE FROM leases WHERE name = $1 AND holder = $2",
                &[&HOUSEKEEPING, &holder],
            )
            .await
        });
    }
}

impl PgStore {
    fn link_ref(&self) -> Option<&Arc<ClusterLink>> {
        self.link.as_ref()
    }
}

impl crate::store::Cluster for PgStore {
    fn link(&mut self, link: Arc<ClusterLink>) {
        self.link = Some(link);
    }

    fn claim_fires(&mut self, runs: &[NewRun], exclusive: &[bool]) -> Result<Vec<ClaimOutcome>> {
        if runs.is_empty() {
            return Ok(Vec::new());
        }
        let Some(link) = self.link_ref().cloned() else {
            return Err(crate::store::StoreError::new(
                self.shown(),
                crate::store::Kind::Other,
                "a cluster claim before the host joined the cluster",
            ));
        };
        let super::Columns {
            jobs,
            at,
            attempts,
            triggers,
            started,
            hosts,
            pids,
            slots,
            nominals,
        } = super::Columns::of(runs);
        // A manual run's instant is the asking client's clock, not a
        // schedule's: only scheduled fires wait for the database's time.
        let timed: Vec<bool> = runs.iter().map(|r| r.trigger != Trigger::Manual).collect();
        let lease_ms = link.lease.as_millis() as i64;
        let tolerance_ms = link.tolerance.as_millis() as i64;
        let host_id = link.host_id;
        let (claimed, rest) =
            self.with(async |c| {
                // One transaction: either the claims and the look at the
                // rest both land, or neither does (no `running` row that
                // nobody holds).
                let tx = c.transaction().await?;
                let claimed = tx
                .query(
                    "INSERT INTO runs (job, scheduled_for, attempt, trigger, started_at, status,
                                       host, pid, slot, nominal, exclusive, epoch, lease_until,
                                       host_id)
                     SELECT job, at, attempt, trigger, started, 'running', host, pid, slot,
                            nominal, exclusive, nextval('run_epochs'),
                            now() + $11::bigint * interval '1 millisecond', $12
                     FROM unnest($1::text[], $2::timestamptz[], $3::int[], $4::text[],
                                 $5::timestamptz[], $6::text[], $7::bigint[], $8::int[],
                                 $9::text[], $10::bool[], $14::bool[])
                          AS u(job, at, attempt, trigger, started, host, pid, slot, nominal,
                               exclusive, timed)
                     WHERE (NOT timed OR at <= now() + $13::bigint * interval '1 millisecond')
                       -- A fire another host claimed meanwhile (a standby
                       -- took it over while it waited here for a slot) is a
                       -- read, not an insert that conflicts.
                       AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.job = u.job
                           AND r.scheduled_for = u.at AND r.slot = u.slot
                           AND r.attempt = u.attempt)
                       -- Likewise a job whose run is still running (often our
                       -- own, its end on the way): `Busy`, found by the look
                       -- below, and tried again without an insert each time.
                       AND NOT (u.exclusive AND EXISTS (SELECT 1 FROM runs b
                           WHERE b.job = u.job AND b.status = 'running' AND b.exclusive))
                     ON CONFLICT DO NOTHING
                     RETURNING id, job, scheduled_for, slot, attempt, epoch",
                    &[
                        &jobs, &at, &attempts, &triggers, &started, &hosts, &pids, &slots,
                        &nominals, &exclusive, &lease_ms, &host_id, &tolerance_ms, &timed,
                    ],
                )
                .await?;
                // Why the others were not inserted: a row of their own, not
                // due yet, or another run holding the job.
                let rest = tx
                    .query(
                        "SELECT u.i, r.id,
                            NOT u.timed OR u.at <= now() + $5::bigint * interval '1 millisecond',
                            b.id, b.host, b.host_id
                     FROM unnest($1::text[], $2::timestamptz[], $3::int[], $4::int[], $6::bool[])
                          WITH ORDINALITY AS u(job, at, slot, attempt, timed, i)
                     LEFT JOIN runs r ON r.job = u.job AND r.scheduled_for = u.at
                          AND r.slot = u.slot AND r.attempt = u.attempt
                     LEFT JOIN runs b ON b.job = u.job AND b.status = 'running' AND b.exclusive",
                        &[&jobs, &at, &slots, &attempts, &tolerance_ms, &timed],
                    )
                    .await?;
                tx.commit().await?;
                Ok((claimed, rest))
            })?;
        type Key = (String, DateTime<Utc>, i32, i32);
        let mut ids: HashMap<Key, (i64, i64)> = claimed
            .iter()
            .map(|r| {
                (
                    (r.get(1), r.get(2), r.get(3), r.get(4)),
                    (r.get(0), r.get(5)),
                )
            })
            .collect();
        let mut why: HashMap<usize, ClaimOutcome> = HashMap::new();
        for r in &rest {
            let i = r.get::<_, i64>(0) as usize - 1;
            let own: Option<i64> = r.get(1);
            let due: bool = r.get(2);
            let blocker: Option<i64> = r.get(3);
            let outcome = match (own, due, blocker) {
                (Some(_), _, _) => ClaimOutcome::Taken,
                (None, false, _) => ClaimOutcome::Early,
                (None, true, Some(b)) => ClaimOutcome::Busy {
                    run_id: b,
                    host: r.get(4),
                    ours: r.get::<_, Option<i64>>(5) == Some(host_id),
                },
                // Whatever held it ended meanwhile: ours to try again.
                (None, true, None) => ClaimOutcome::Busy {
                    run_id: 0,
                    host: String::new(),
                    ours: true,
                },
            };
            why.insert(i, outcome);
        }
        let mut held = link.held.lock().expect("not poisoned");
        Ok(runs
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let key = (
                    r.job.clone(),
                    ms(r.scheduled_for),
                    r.slot as i32,
                    r.attempt as i32,
                );
                match ids.remove(&key) {
                    Some((id, epoch)) => {
                        held.insert(id, epoch);
                        ClaimOutcome::Claimed { id, epoch }
                    }
                    None => why.remove(&i).unwrap_or(ClaimOutcome::Taken),
                }
            })
            .collect())
    }

    fn have_rows(&mut self, keys: &[FireKey]) -> Result<Vec<bool>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let jobs: Vec<&str> = keys.iter().map(|k| k.job.as_str()).collect();
        let at: Vec<DateTime<Utc>> = keys.iter().map(|k| ms(k.scheduled_for)).collect();
        let slots: Vec<i32> = keys.iter().map(|k| k.slot as i32).collect();
        let attempts: Vec<i32> = keys.iter().map(|k| k.attempt as i32).collect();
        let rows = self.with(async |c| {
            c.query(
                "SELECT EXISTS (SELECT 1 FROM runs r WHERE r.job = u.job AND r.scheduled_for = u.at
                                AND r.slot = u.slot AND r.attempt = u.attempt)
                 FROM unnest($1::text[], $2::timestamptz[], $3::int[], $4::int[])
                      WITH ORDINALITY AS u(job, at, slot, attempt, i)
                 ORDER BY u.i",
                &[&jobs, &at, &slots, &attempts],
            )
            .await
        })?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    fn ask_cancel(&mut self, run_id: i64) -> Result<()> {
        self.with(async |c| {
            c.execute(
                "UPDATE runs SET cancel_requested = true WHERE id = $1 AND status = 'running'",
                &[&run_id],
            )
            .await
        })?;
        Ok(())
    }

    fn hosts(&mut self) -> Result<Vec<HostRow>> {
        hosts(self)
    }
}

/// Every host with a heartbeat row, the live ones first, then by name.
pub fn hosts(store: &mut PgStore) -> Result<Vec<HostRow>> {
    let rows = store.with(async |c| {
        c.query(
            "SELECT h.id, h.name, h.pid, h.version, h.started_at, h.heartbeat, h.skew_ms,
                    h.config_hash,
                    h.heartbeat > now() - h.lease_ms * interval '1 millisecond'
             FROM hosts h ORDER BY 9 DESC, h.name, h.pid",
            &[],
        )
        .await
    })?;
    Ok(rows
        .iter()
        .map(|r| HostRow {
            id: r.get(0),
            name: r.get(1),
            pid: r.get::<_, i64>(2) as u32,
            version: r.get(3),
            started_at: r.get(4),
            heartbeat: r.get(5),
            skew_ms: r.get(6),
            config_hash: r.get(7),
            live: r.get::<_, Option<bool>>(8).unwrap_or(false),
        })
        .collect())
}

/// A live cluster host, for whoever asks who uses the database.
pub fn live_host(store: &mut PgStore) -> Option<Holder> {
    let h = hosts(store).ok()?.into_iter().find(|h| h.live)?;
    Some(Holder {
        pid: Some(h.pid),
        host: Some(h.name),
        role: Role::Scheduler,
        since: Some(h.started_at),
    })
}
