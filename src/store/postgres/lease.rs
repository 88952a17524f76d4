//! One scheduler per PostgreSQL database: a row in `leases` whose expiry,
//! timed by the server's clock, its holder renews from a thread of its own.
//! A session advisory lock would do on a plain server, but breaks behind a
//! transaction-pooling PgBouncer, where sessions are shared.
//!
//! A holder that dies stops renewing, and its lease expires after [`TTL`];
//! one that dies on this host is seen to be gone at once (its pid is not
//! alive), so a restart need not wait for the expiry.

use chrono::{DateTime, Utc};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

use super::{PgStore, Target};
use crate::domain::{Holder, Role};
use crate::store::{LockError, Result};

/// How long a lease lasts without renewal.
const TTL: Duration = Duration::from_secs(30);
/// How often the holder renews it.
const RENEW: Duration = Duration::from_secs(5);
/// How long one renewal may wait for the server: well inside the lease, so
/// that a hung renewal cannot outlast it.
const RENEW_WAIT: Duration = Duration::from_secs(5);
/// A lease not renewed for this long (by our monotonic clock, from the
/// last renewal that worked) is taken as lost: another scheduler may take
/// it once the server's clock says it expired, and we must stop first.
const TRUST: Duration = Duration::from_secs(20);
const NAME: &str = "scheduler";

pub struct Lease {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    lost: Option<mpsc::UnboundedReceiver<String>>,
}

impl Lease {
    pub fn acquire(url: &str, host: &str, role: Role) -> std::result::Result<Lease, LockError> {
        let mut store = PgStore::connect(url)?;
        let pid = std::process::id();
        let holder = format!(
            "{host}:{pid}:{}",
            Utc::now().timestamp_nanos_opt().unwrap_or_default()
        );
        let ttl_ms = TTL.as_millis() as i64;
        // A holder on this host whose process is gone left it behind.
        if let Some(old) = current(&mut store)?
            && old.host.as_deref() == Some(host)
            && old.pid.is_some_and(|p| !alive(p))
        {
            let old_pid = old.pid.map(i64::from);
            store.with(async |c| {
                c.execute(
                    "DELETE FROM leases WHERE name = $1 AND host = $2 AND pid = $3",
                    &[&NAME, &host, &old_pid],
                )
                .await
            })?;
        }
        let pid64 = i64::from(pid);
        let role_word = role.as_str();
        let taken = store.with(async |c| {
            c.query_opt(
                "INSERT INTO leases (name, holder, host, pid, role, since, expires_at)
                 VALUES ($1, $2, $3, $4, $5, now(), now() + $6::bigint * interval '1 millisecond')
                 ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, host = EXCLUDED.host,
                        pid = EXCLUDED.pid, role = EXCLUDED.role, since = EXCLUDED.since,
                        expires_at = EXCLUDED.expires_at
                 WHERE leases.expires_at < now()
                 RETURNING holder",
                &[&NAME, &holder, &host, &pid64, &role_word, &ttl_ms],
            )
            .await
        })?;
        // Hosts of a cluster ([cluster]) share the database; a lone
        // scheduler beside them would run every fire a second time.
        if taken.is_some()
            && let Some(host) = super::cluster::live_host(&mut store)
        {
            store.with(async |c| {
                c.execute(
                    "DELETE FROM leases WHERE name = $1 AND holder = $2",
                    &[&NAME, &holder],
                )
                .await
            })?;
            return Err(LockError::Held(host));
        }
        if taken.is_none() {
            let held = current(&mut store)?.unwrap_or(Holder {
                pid: None,
                host: None,
                role: Role::Scheduler,
                since: None,
            });
            return Err(LockError::Held(held));
        }
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let (lost_tx, lost) = mpsc::unbounded_channel();
        let thread = std::thread::Builder::new()
            .name("lease".into())
            .spawn(move || renew(store, holder, stopped, lost_tx))
            .map_err(|e| {
                LockError::Store(crate::store::StoreError::new(
                    url_shown(url),
                    crate::store::Kind::Other,
                    format!("cannot start the lease thread: {e}"),
                ))
            })?;
        Ok(Lease {
            stop: Some(stop),
            thread: Some(thread),
            lost: Some(lost),
        })
    }

    pub fn lost(&mut self) -> Option<mpsc::UnboundedReceiver<String>> {
        self.lost.take()
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn url_shown(url: &str) -> String {
    super::location_of(url)
}

/// Renews the lease until told to stop, then gives it up.
fn renew(
    mut store: PgStore,
    holder: String,
    stop: std::sync::mpsc::Receiver<()>,
    lost: mpsc::UnboundedSender<String>,
) {
    let ttl_ms = TTL.as_millis() as i64;
    let mut renewed = Instant::now();
    let mut warned = false;
    store.set_call_timeout(RENEW_WAIT);
    while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(RENEW) {
        let result = store.with(async |c| {
            c.execute(
                "UPDATE leases SET expires_at = now() + $3::bigint * interval '1 millisecond'
                 WHERE name = $1 AND holder = $2",
                &[&NAME, &holder, &ttl_ms],
            )
            .await
        });
        match result {
            Ok(1) => {
                if warned {
                    tracing::info!("the scheduler's lease is renewed again");
                    warned = false;
                }
                renewed = Instant::now();
            }
            Ok(_) => {
                let _ = lost.send("another scheduler took over this database's lease".to_string());
                return;
            }
            Err(e) => {
                if !warned {
                    tracing::warn!(error = %e, "cannot renew the scheduler's lease; trying again");
                    warned = true;
                }
                if renewed.elapsed() > TRUST {
                    let _ = lost.send(format!(
                        "its lease on the database could not be renewed for {}s (it expires \
                         after {}s, when another scheduler may take over)",
                        TRUST.as_secs(),
                        TTL.as_secs()
                    ));
                    return;
                }
            }
        }
    }
    let _ = store.with(async |c| {
        c.execute(
            "DELETE FROM leases WHERE name = $1 AND holder = $2",
            &[&NAME, &holder],
        )
        .await
    });
}

/// The lease's holder, if it has not expired.
pub(super) fn current(store: &mut PgStore) -> Result<Option<Holder>> {
    let row = store.with(async |c| {
        c.query_opt(
            "SELECT host, pid, role, since FROM leases WHERE name = $1 AND expires_at > now()",
            &[&NAME],
        )
        .await
    })?;
    Ok(row.map(|r| Holder {
        host: Some(r.get(0)),
        pid: Some(r.get::<_, i64>(1) as u32),
        role: Role::parse(r.get(2)),
        since: Some(r.get::<_, DateTime<Utc>>(3)),
    }))
}

/// Who holds the database's lease now, if anyone; nobody when the server
/// cannot be asked.
pub fn lease_holder(url: &str) -> Option<Holder> {
    let _ = Target::parse(url).ok()?;
    let mut store = PgStore::connect(url).ok()?;
    current(&mut store)
        .ok()
        .flatten()
        .or_else(|| super::cluster::live_host(&mut store))
}

pub(super) fn alive(pid: u32) -> bool {
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), None) {
        Ok(()) => true,
        Err(nix::errno::Errno::EPERM) => true,
        Err(_) => false,
    }
}
