//! `schedule status`: whether a scheduler is running on this database, and
//! what it says of itself.
//!
//! Whether one runs comes from the lock (SQLite's `flock`, PostgreSQL's
//! lease), which dies with the process; the rest from the `status` row that
//! each scheduler writes when its state changes (at most every 5 s, and
//! never while nothing changes), and runs going from the history's
//! `running` rows.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::cli::{Global, StatusArgs};
use crate::domain::{HistoryQuery, HostRow, Role, SchedulerStatus, Status};
use crate::error::Error;
use crate::output;
use crate::store::{self, Location, Mode};

/// The exit code when no scheduler runs, as `systemctl status` has it.
pub const NOT_RUNNING: i32 = 3;

/// What `status --json` prints.
#[derive(Debug, Serialize)]
pub struct Report {
    pub running: bool,
    /// The database asked about (no password).
    pub db: String,
    pub pid: Option<u32>,
    pub host: Option<String>,
    /// When the running scheduler took the database.
    pub since: Option<DateTime<Utc>>,
    pub config: Option<String>,
    pub version: Option<String>,
    pub jobs: Option<u64>,
    /// Rows `running` in the history.
    pub runs_going: u64,
    /// Fires waiting for a free `max_concurrent` slot, as the scheduler
    /// last said.
    pub fires_queued: Option<u64>,
    /// When the running scheduler last wrote its status row.
    pub updated_at: Option<DateTime<Utc>>,
    /// Every scheduler this database has seen, the most recent first.
    pub schedulers: Vec<SchedulerStatus>,
    /// With `[cluster]`: the hosts with a heartbeat row, live ones first.
    pub hosts: Vec<HostRow>,
}

pub fn run(global: &Global, args: &StatusArgs) -> Result<(), Error> {
    let location = global.location()?;
    let report = report(&location)?;
    let text = if args.json {
        output::json(&report)
    } else {
        render(&report, Utc::now())
    };
    super::print(&text)?;
    if report.running {
        Ok(())
    } else {
        Err(Error::JobExit(NOT_RUNNING))
    }
}

fn report(location: &Location) -> Result<Report, Error> {
    let holder = store::holder(location).filter(|h| h.role == Role::Scheduler);
    let mut report = Report {
        running: holder.is_some(),
        db: location.to_string(),
        pid: holder.as_ref().and_then(|h| h.pid),
        host: holder.as_ref().and_then(|h| h.host.clone()),
        since: holder.as_ref().and_then(|h| h.since),
        config: None,
        version: None,
        jobs: None,
        runs_going: 0,
        fires_queued: None,
        updated_at: None,
        schedulers: Vec::new(),
        hosts: Vec::new(),
    };
    if !store::exists(location) {
        return Ok(report);
    }
    let mut store = store::open(location, Mode::Read)?;
    report.schedulers = store.statuses()?;
    if let Some(cluster) = store.cluster() {
        report.hosts = cluster.hosts()?;
    }
    report.runs_going = store.count(&HistoryQuery {
        statuses: vec![Status::Running],
        ..Default::default()
    })?;
    // The row of the scheduler holding the lock: same host, and not
    // stopped (a row left by a process that died is older than the lock).
    let own = report.schedulers.iter().find(|s| {
        Some(&s.host) == report.host.as_ref()
            && s.stopped_at.is_none()
            && report.pid.is_none_or(|pid| pid == s.pid)
    });
    if report.running
        && let Some(own) = own
    {
        report.config = Some(own.config.clone());
        report.version = Some(own.version.clone());
        report.jobs = Some(own.jobs);
        report.fires_queued = Some(own.queued);
        report.updated_at = Some(own.updated_at);
        report.since = report.since.or(Some(own.started_at));
    }
    Ok(report)
}

/// The text form; `now` for the relative times.
pub fn render(r: &Report, now: DateTime<Utc>) -> String {
    let time = |t: DateTime<Utc>| {
        format!(
            "{} ({})",
            output::local_time(t, chrono_tz::Tz::UTC),
            output::relative(t, now)
        )
    };
    let mut out = String::new();
    if r.running {
        let mut who = String::new();
        match (r.pid, &r.host) {
            (Some(pid), Some(host)) => who = format!(" (pid {pid} on {host})"),
            (Some(pid), None) => who = format!(" (pid {pid})"),
            _ => {}
        }
        out.push_str(&format!("a scheduler is running on {}{who}\n", r.db));
    } else {
        out.push_str(&format!("no scheduler is running on {}\n", r.db));
    }
    let mut lines: Vec<(&str, String)> = Vec::new();
    if r.running {
        if let Some(since) = r.since {
            lines.push(("since", time(since)));
        }
        if let Some(config) = &r.config {
            lines.push(("config", config.clone()));
        }
        if let Some(version) = &r.version {
            lines.push(("version", version.clone()));
        }
        if let Some(jobs) = r.jobs {
            lines.push(("jobs", jobs.to_string()));
        }
        lines.push((
            "running",
            output::plural(r.runs_going as usize, "run", "runs"),
        ));
        if let Some(queued) = r.fires_queued {
            lines.push(("queued", output::plural(queued as usize, "fire", "fires")));
        }
        if let Some(at) = r.updated_at {
            lines.push(("updated", time(at)));
        }
    } else if r.runs_going > 0 {
        lines.push((
            "running",
            format!(
                "{} left `running` (the next `schedule run` marks them interrupted)",
                output::plural(r.runs_going as usize, "row", "rows")
            ),
        ));
    }
    for (key, value) in lines {
        out.push_str(&format!("  {:<9}{value}\n", format!("{key}:")));
    }
    if !r.hosts.is_empty() {
        out.push_str("cluster hosts:\n");
        for h in &r.hosts {
            let state = if h.live { "" } else { ", gone" };
            out.push_str(&format!(
                "  {} (pid {}, version {}): heartbeat {}, clock {:+.3}s from the database's{state}\n",
                h.name,
                h.pid,
                h.version,
                output::relative(h.heartbeat, now),
                -(h.skew_ms as f64) / 1000.0,
            ));
        }
    }
    // The others this database has seen (with PostgreSQL, other hosts).
    let others: Vec<&SchedulerStatus> = r
        .schedulers
        .iter()
        .filter(|s| !(r.running && Some(&s.host) == r.host.as_ref() && s.stopped_at.is_none()))
        .collect();
    if !others.is_empty() {
        out.push_str("seen before:\n");
        for s in others {
            let end = match s.stopped_at {
                Some(at) => format!("stopped {}", output::relative(at, now)),
                None => format!(
                    "gone without stopping; last heard of {}",
                    output::relative(s.updated_at, now)
                ),
            };
            out.push_str(&format!(
                "  {} (pid {}, version {}): started {}, {end}\n",
                s.host,
                s.pid,
                s.version,
                output::relative(s.started_at, now)
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_running_scheduler_and_one_seen_before() {
        let now = at("2026-11-21T12:00:00Z");
        let row = SchedulerStatus {
            host: "box".into(),
            pid: 42,
            started_at: at("2026-11-21T10:00:00Z"),
            updated_at: at("2026-11-21T11:59:58Z"),
            stopped_at: None,
            version: "0.1.0".into(),
            config: "/etc/schedule/jobs.toml".into(),
            db: "/var/lib/schedule/schedule.db".into(),
            jobs: 3,
            running: 1,
            queued: 0,
        };
        let old = SchedulerStatus {
            host: "old-box".into(),
            stopped_at: Some(at("2026-11-20T12:00:00Z")),
            ..row.clone()
        };
        let report = Report {
            running: true,
            db: "/var/lib/schedule/schedule.db".into(),
            pid: Some(42),
            host: Some("box".into()),
            since: Some(row.started_at),
            config: Some(row.config.clone()),
            version: Some("0.1.0".into()),
            jobs: Some(3),
            runs_going: 1,
            fires_queued: Some(0),
            updated_at: Some(row.updated_at),
            schedulers: vec![row, old],
            hosts: Vec::new(),
        };
        let text = render(&report, now);
        assert_eq!(
            text,
            "a scheduler is running on /var/lib/schedule/schedule.db (pid 42 on box)
  since:   2026-11-21 10:00:00 UTC (2h 00m ago)
  config:  /etc/schedule/jobs.toml
  version: 0.1.0
  jobs:    3
  running: 1 run
  queued:  0 fires
  updated: 2026-11-21 11:59:58 UTC (2s ago)
seen before:
  old-box (pid 42, version 0.1.0): started 2h 00m ago, stopped 1d 0h ago
"
        );
    }
}
