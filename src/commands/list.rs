//! `schedule list`: each job, when it runs next, and how it last ended.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::cli::{Global, ListArgs};
use crate::config::{self, Job};
use crate::error::Error;
use crate::output;
use crate::store::{RunRecord, RunStore, SqliteStore, Status};

#[derive(Debug, Serialize)]
pub struct JobRow {
    pub name: String,
    pub schedule: String,
    pub timezone: String,
    pub command: String,
    pub enabled: bool,
    /// `schedule pause`d: fires are recorded `skipped`.
    pub paused: bool,
    pub next_run: Option<DateTime<Utc>>,
    pub last_run: Option<LastRun>,
}

#[derive(Debug, Serialize)]
pub struct LastRun {
    pub id: i64,
    pub status: Status,
    pub scheduled_for: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub exit_code: Option<i32>,
}

pub fn run(global: &Global, args: &ListArgs) -> Result<(), Error> {
    let config = config::load(&global.config)?;
    let now = Utc::now();
    // No database yet just means nothing has run.
    let (last, paused) = if global.db.exists() {
        let store = SqliteStore::open(&global.db, false)?;
        let names: Vec<&str> = config.jobs.iter().map(|j| j.name.as_str()).collect();
        (store.last_runs(&names)?, store.paused()?)
    } else {
        Default::default()
    };
    let rows: Vec<JobRow> = config
        .jobs
        .iter()
        .map(|job| job_row(job, last.get(&job.name), paused.contains(&job.name), now))
        .collect();
    if args.json {
        return super::print(&output::json(&rows));
    }
    if rows.is_empty() {
        return super::print(&format!("no jobs in {}\n", global.config.display()));
    }
    let jobs = config.jobs.iter().zip(&rows);
    super::print(&(render(jobs, global.look(), now) + "\n"))
}

pub fn job_row(job: &Job, last: Option<&RunRecord>, paused: bool, now: DateTime<Utc>) -> JobRow {
    JobRow {
        name: job.name.clone(),
        schedule: job.schedule.to_string(),
        timezone: job.timezone.name().to_string(),
        command: job.command.clone(),
        enabled: job.enabled,
        paused,
        next_run: job.enabled.then(|| job.schedule.next_after(now)).flatten(),
        last_run: last.map(|r| LastRun {
            id: r.id,
            status: r.status,
            scheduled_for: r.scheduled_for,
            started_at: r.started_at,
            finished_at: r.finished_at,
            exit_code: r.exit_code,
        }),
    }
}

/// The table: times in each job's own zone (or UTC with `look.utc`).
pub fn render<'a>(
    jobs: impl Iterator<Item = (&'a Job, &'a JobRow)>,
    look: output::Look,
    now: DateTime<Utc>,
) -> String {
    output::table(
        ["NAME", "SCHEDULE", "TIMEZONE", "NEXT RUN", "LAST RUN"],
        jobs.map(|(job, row)| {
            let tz = if look.utc {
                chrono_tz::Tz::UTC
            } else {
                job.timezone
            };
            let next = output::next_run(row.next_run, row.enabled, row.paused, tz, now);
            let last = match &row.last_run {
                None => "-".to_string(),
                Some(r) => format!(
                    "{} ({})",
                    look.status(r.status),
                    output::relative(r.started_at.unwrap_or(r.scheduled_for), now)
                ),
            };
            [
                row.name.clone(),
                output::ellipsize(&row.schedule, 30),
                row.timezone.clone(),
                next,
                last,
            ]
        }),
        look.width,
    )
}
