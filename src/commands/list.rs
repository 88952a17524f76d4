//! `schedule list`: each job, when it runs next, and how it last ended.

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashSet;

use crate::cli::{Global, ListArgs};
use crate::config::{self, Job};
use crate::domain::{Holder, Role, RunRecord, Status};
use crate::error::Error;
use crate::output;
use crate::store::{self, Mode};

#[derive(Debug, Serialize)]
pub struct JobRow {
    pub job: String,
    pub schedule: String,
    pub timezone: String,
    pub command: String,
    pub enabled: bool,
    /// `schedule pause`d: fires are recorded `skipped`.
    pub paused: bool,
    pub next_run: Option<DateTime<Utc>>,
    pub last_run: Option<LastRun>,
    /// No success within the job's `expect_success_within`.
    pub overdue: bool,
    /// Whether a `schedule run` holds the database (the same in every row).
    pub scheduler_running: bool,
}

#[derive(Debug, Serialize)]
pub struct LastRun {
    pub id: i64,
    pub status: Status,
    pub scheduled_for: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub exit_code: Option<i32>,
    /// The host whose scheduler ran it.
    pub host: String,
    /// A `running` run whose scheduler (or `trigger`) is gone: nobody holds
    /// the database, and the next `schedule run` marks it `interrupted`.
    pub orphaned: bool,
}

pub fn run(global: &Global, args: &ListArgs) -> Result<(), Error> {
    let now = Utc::now();
    let mut config = match config::load(&global.config) {
        Ok(config) => config,
        // A running scheduler keeps its last good config: the history is
        // still worth showing, with the error.
        Err(e) if !args.json && store::exists(&global.location()?) => {
            return list_history_only(global, &e.into(), now);
        }
        Err(e) => return Err(e.into()),
    };
    for name in &args.jobs {
        super::find_job(&config, name)?;
    }
    if !args.jobs.is_empty() {
        config.retain(|j| args.jobs.iter().any(|name| *name == *j.name));
    }
    // No database yet just means nothing has run.
    let location = global.location()?;
    let (last, paused, successes, firsts) = if store::exists(&location) {
        let mut store = store::open(&location, Mode::Read)?;
        let names: Vec<&str> = config.jobs.iter().map(|j| &*j.name).collect();
        let watched = config.watched_jobs();
        (
            store.last_runs(&names)?,
            store.paused()?,
            store.last_successes(&watched)?,
            store.first_fires(&watched)?,
        )
    } else {
        Default::default()
    };
    let holder = store::holder(&location);
    let scheduler = holder.as_ref().filter(|h| h.role == Role::Scheduler);
    let started = scheduler.and_then(|h| h.since);
    let rows: Vec<JobRow> = config
        .jobs
        .iter()
        .map(|job| {
            // Without a scheduler, a job never seen to succeed has been
            // failing since its first recorded fire at the latest.
            let from = started.or_else(|| {
                scheduler
                    .is_none()
                    .then(|| firsts.get(&*job.name).copied())
                    .flatten()
            });
            let late = overdue(job, successes.get(&*job.name).copied(), from, now);
            let mut row = job_row(
                job,
                last.get(&*job.name),
                paused.iter().any(|p| *p == *job.name),
                late,
                now,
            );
            row.scheduler_running = scheduler.is_some();
            if let Some(r) = &mut row.last_run {
                r.orphaned = r.status == Status::Running && holder.is_none();
            }
            row
        })
        .collect();
    // --failed: the jobs whose last run went wrong.
    let (jobs, rows): (Vec<&Job>, Vec<JobRow>) = config
        .jobs
        .iter()
        .map(|j| &**j)
        .zip(rows)
        .filter(|(_, row)| {
            !args.failed || row.last_run.as_ref().is_some_and(|r| r.status.is_failure())
        })
        .unzip();
    if args.json {
        return super::print(&output::json(&rows));
    }
    if rows.is_empty() && args.failed {
        return super::print("no job's last run failed\n");
    }
    if rows.is_empty() {
        return super::print(&format!("no jobs in {}\n", global.config.display()));
    }
    let jobs = jobs.into_iter().zip(&rows);
    let head = scheduler_line(holder.as_ref(), &location, now);
    super::print(&format!("{head}\n{}\n", render(jobs, global.look(), now)))
}

/// `list` while the config has an error: the error as a warning, then
/// each job of the history with its last run.
fn list_history_only(global: &Global, error: &Error, now: DateTime<Utc>) -> Result<(), Error> {
    eprintln!("{}", super::config_warning(&global.config, error));
    let location = global.location()?;
    let mut store = store::open(&location, Mode::Read)?;
    let names = store.job_names()?;
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let last = store.last_runs(&refs)?;
    let holder = store::holder(&location);
    let look = global.look();
    use output::Column;
    let table = output::table(
        [Column::new("NAME", 10), Column::new("LAST RUN", 9)],
        names.iter().map(|name| {
            let cell = match last.get(name) {
                None => "-".to_string(),
                Some(r) => format!(
                    "{} ({})",
                    look.status(r.status),
                    output::relative(r.started_at.unwrap_or(r.scheduled_for), now)
                ),
            };
            [name.clone().into(), cell.into()]
        }),
        look.width,
    );
    let head = scheduler_line(holder.as_ref(), &location, now);
    super::print(&format!("{head}\n{table}\n"))
}

/// The line above the table: whether a scheduler is running, for a reader
/// who would otherwise take NEXT RUN for a promise.
pub fn scheduler_line(
    holder: Option<&Holder>,
    location: &store::Location,
    now: DateTime<Utc>,
) -> String {
    let who = |h: &Holder| {
        let mut who = match h.pid {
            Some(pid) => format!("pid {pid}"),
            None => "pid unknown".to_string(),
        };
        if let Some(host) = &h.host {
            who.push_str(&format!(" on {host}"));
        }
        who
    };
    match holder {
        Some(h) if h.role == Role::Scheduler => match h.since {
            Some(since) => format!(
                "scheduler running ({}, started {})",
                who(h),
                output::relative(since, now)
            ),
            None => format!("scheduler running ({})", who(h)),
        },
        Some(h) => format!(
            "no scheduler running on {location} (a `schedule trigger` runs a job, {}); \
             nothing fires on schedule until `schedule run` starts",
            who(h)
        ),
        None => {
            format!("no scheduler running on {location}; nothing fires until `schedule run` starts")
        }
    }
}

/// The dead-man rule, as the scheduler applies it: no success within
/// `expect_success_within` of the last success or, for a job never seen to
/// succeed, of the running scheduler's start. Without either nothing is
/// known, and the job is not called overdue.
pub fn overdue(
    job: &Job,
    last_success: Option<DateTime<Utc>>,
    scheduler_started: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> bool {
    let Some(within) = job
        .settings
        .expect_success_within
        .filter(|_| job.settings.enabled)
        .and_then(|w| chrono::TimeDelta::from_std(w).ok())
    else {
        return false;
    };
    last_success
        .or(scheduler_started)
        .is_some_and(|from| now >= from + within)
}

pub fn job_row(
    job: &Job,
    last: Option<&RunRecord>,
    paused: bool,
    overdue: bool,
    now: DateTime<Utc>,
) -> JobRow {
    JobRow {
        job: job.name.to_string(),
        schedule: job.schedule.to_string(),
        timezone: job.settings.timezone.name().to_string(),
        command: job.command.to_string(),
        enabled: job.settings.enabled,
        paused,
        next_run: job
            .settings
            .enabled
            .then(|| job.schedule.next_after(now))
            .flatten(),
        last_run: last.map(|r| LastRun {
            id: r.id,
            status: r.status,
            scheduled_for: r.scheduled_for,
            started_at: r.started_at,
            finished_at: r.finished_at,
            exit_code: r.exit_code,
            host: r.host.clone(),
            orphaned: false,
        }),
        overdue,
        scheduler_running: true,
    }
}

/// The table: times in each job's own zone (or UTC with `look.utc`).
pub fn render<'a>(
    jobs: impl Iterator<Item = (&'a Job, &'a JobRow)>,
    look: output::Look,
    now: DateTime<Utc>,
) -> String {
    use output::{Cell, Column};
    let jobs: Vec<(&Job, &JobRow)> = jobs.collect();
    // Runs of several hosts (a cluster): say which host ran each last run.
    let hosts: HashSet<&str> = jobs
        .iter()
        .filter_map(|(_, row)| row.last_run.as_ref().map(|r| r.host.as_str()))
        .collect();
    let on_host = |r: &LastRun| match hosts.len() {
        0 | 1 => String::new(),
        _ => format!(" on {}", r.host),
    };
    output::table(
        [
            Column::new("NAME", 10),
            Column::new("SCHEDULE", 6),
            Column::new("TIMEZONE", 3).short("TZ").droppable(),
            Column::new("NEXT RUN", 9),
            Column::new("LEFT", 7),
            Column::new("LAST RUN", 8),
            Column::new("PASSED", 5),
            Column::new("COMMAND", 1).cut_first().droppable(),
        ],
        jobs.iter().map(|&(job, row)| {
            let tz = if look.utc {
                chrono_tz::Tz::UTC
            } else {
                job.settings.timezone
            };
            let (next, left) = match row.next_run {
                Some(t) if row.enabled && !row.paused => (
                    Cell::forms(output::timer_time(t, tz, now)),
                    output::distance(t, now),
                ),
                _ => (
                    output::next_run(row.next_run, row.enabled, row.paused, tz, now),
                    "-".into(),
                ),
            };
            let (mut last, passed) = match &row.last_run {
                None => (vec!["-".to_string()], Cell::from("-")),
                Some(r) if r.orphaned => {
                    let at = r.started_at.unwrap_or(r.scheduled_for);
                    let status = look.status(Status::Interrupted);
                    (
                        vec![format!("{status}? (scheduler gone)"), format!("{status}?")],
                        output::distance(at, now),
                    )
                }
                Some(r) if r.status == Status::Running => {
                    let at = r.started_at.unwrap_or(r.scheduled_for);
                    let status = look.status(r.status);
                    let secs = (now - at).num_seconds().max(0) as u64;
                    let long = match secs {
                        0..60 => format!("{secs}s"),
                        _ => crate::duration::human(std::time::Duration::from_secs(secs)),
                    };
                    (
                        vec![format!("{status} for {long}"), status],
                        output::distance(at, now),
                    )
                }
                Some(r) => {
                    let at = r.started_at.unwrap_or(r.scheduled_for);
                    let status = look.status(r.status);
                    let mut forms: Vec<String> = output::timer_time(at, tz, now)
                        .iter()
                        .map(|t| format!("{status} {t}"))
                        .collect();
                    if let Some(first) = forms.first_mut() {
                        first.push_str(&on_host(r));
                    }
                    forms.push(status);
                    (forms, output::distance(at, now))
                }
            };
            if row.overdue {
                let mark = match job.settings.expect_success_within {
                    Some(w) => format!("OVERDUE: no success in {}", crate::duration::format(w)),
                    None => "OVERDUE".to_string(),
                };
                let short = last.last().cloned().unwrap_or_default();
                for form in &mut last {
                    *form = format!("{form}, {}", look.paint("1;31", &mark));
                }
                last.push(format!("{short}, {}", look.paint("1;31", "OVERDUE")));
            }
            [
                row.job.clone().into(),
                output::ellipsize(&row.schedule, 30).into(),
                row.timezone.clone().into(),
                next,
                left,
                Cell::forms(last),
                passed,
                output::ellipsize(&output::plain(&job.command), 60).into(),
            ]
        }),
        look.width,
    )
}

#[cfg(test)]
mod tests {
    use super::overdue;
    use chrono::{DateTime, Utc};

    fn job(toml: &str) -> std::sync::Arc<crate::config::Job> {
        let text = format!("[jobs.a]\nevery = \"1h\"\ncommand = \"x\"\n{toml}");
        crate::config::parse(std::path::Path::new("jobs.toml"), &text)
            .unwrap()
            .jobs
            .remove(0)
    }

    fn at(s: &str) -> Option<DateTime<Utc>> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn overdue_counts_from_the_last_success_then_from_the_scheduler_start() {
        let now = at("2026-11-21T12:00:00Z").unwrap();
        let watched = job("expect_success_within = \"1h\"");
        assert!(overdue(&watched, at("2026-11-21T10:59:59Z"), None, now));
        assert!(!overdue(&watched, at("2026-11-21T11:00:01Z"), None, now));
        // A success before the scheduler started still counts from itself.
        assert!(overdue(
            &watched,
            at("2026-11-21T10:00:00Z"),
            at("2026-11-21T11:30:00Z"),
            now
        ));
        assert!(overdue(&watched, None, at("2026-11-21T10:30:00Z"), now));
        assert!(!overdue(&watched, None, at("2026-11-21T11:30:00Z"), now));
        // Nothing known: not called overdue.
        assert!(!overdue(&watched, None, None, now));
        let unwatched = job("");
        assert!(!overdue(&unwatched, at("2020-01-01T00:00:00Z"), None, now));
        let disabled = job("expect_success_within = \"1h\"\nenabled = false");
        assert!(!overdue(&disabled, at("2020-01-01T00:00:00Z"), None, now));
    }
}
