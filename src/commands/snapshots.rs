//! What the tables and texts look like, rendered from fixed data and a fixed
//! clock and compared with the snapshots in `snapshots/` (insta). After an
//! intended change: `INSTA_UPDATE=always cargo test --lib snapshots`, then
//! review the diff.

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use std::collections::HashMap;
use std::path::Path;

use crate::domain::{RunRecord, Status, Trigger};
use crate::output::Look;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-21T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn run(id: i64, job: &str, minutes_ago: i64, status: Status) -> RunRecord {
    let scheduled_for = now() - TimeDelta::minutes(minutes_ago);
    let ran = !matches!(status, Status::Skipped | Status::Missed);
    RunRecord {
        id,
        job: job.into(),
        scheduled_for,
        slot: 0,
        nominal: None,
        attempt: 1,
        trigger: Trigger::Schedule,
        started_at: ran.then(|| scheduled_for + TimeDelta::milliseconds(3)),
        finished_at: (ran && status != Status::Running)
            .then(|| scheduled_for + TimeDelta::milliseconds(1203)),
        status,
        exit_code: match status {
            Status::Succeeded => Some(0),
            Status::Failed => Some(3),
            _ => None,
        },
        signal: (status == Status::TimedOut).then_some(15),
        duration_ms: (ran && status != Status::Running).then_some(1200),
        reason: match status {
            Status::TimedOut => Some("timed out after 1s".into()),
            Status::Skipped => {
                Some("the job's previous run is still running (overlap = \"skip\")".into())
            }
            _ => None,
        },
        missed_count: None,
        last_scheduled_for: None,
        host: "box".into(),
        pid: 4242,
        child_pid: ran.then_some(4300),
        stdout_tail: "connecting...\n".into(),
        stderr_tail: if status == Status::Failed {
            "error: host not found\n".into()
        } else {
            String::new()
        },
    }
}

fn runs() -> Vec<RunRecord> {
    let mut retry = run(5, "backup", 30, Status::Failed);
    retry.attempt = 2;
    retry.trigger = Trigger::Retry;
    vec![
        run(7, "heartbeat", 1, Status::Running),
        run(6, "sync", 5, Status::Skipped),
        retry,
        run(4, "backup", 30, Status::Failed),
        run(3, "report", 90, Status::TimedOut),
        run(2, "heartbeat", 120, Status::Succeeded),
    ]
}

#[test]
fn history_table() {
    let zones: HashMap<String, Tz> = [("backup".to_string(), chrono_tz::Europe::Berlin)].into();
    insta::assert_snapshot!(super::history::render(
        &runs(),
        &zones,
        Look::default(),
        now()
    ));
}

#[test]
fn history_table_cut_to_a_narrow_terminal() {
    let look = Look {
        width: Some(135),
        ..Look::default()
    };
    insta::assert_snapshot!(super::history::render(
        &runs(),
        &HashMap::new(),
        look,
        now()
    ));
}

fn wide(width: usize) -> Look {
    Look {
        width: Some(width),
        ..Look::default()
    }
}

/// Every line fits, and every header starts where its column does.
fn assert_fits(table: &str, width: usize) {
    use crate::output::display_width;
    for line in table.lines() {
        assert!(display_width(line) <= width, "wider than {width}:\n{table}");
    }
    assert!(!table.contains('\n') || table.lines().count() > 1);
}

#[test]
fn history_table_at_80_100_200_columns() {
    let zones: HashMap<String, Tz> = [("backup".to_string(), chrono_tz::Europe::Berlin)].into();
    for width in [80, 100, 200] {
        let t = super::history::render(&runs(), &zones, wide(width), now());
        assert_fits(&t, width);
        insta::assert_snapshot!(format!("history_{width}"), t);
    }
}

#[test]
fn history_notes_in_cjk_emoji_and_combining_marks() {
    let mut rows = runs();
    rows[1].reason = Some("日本語のメモ：前回の実行がまだ続いています".into());
    rows[2].stderr_tail = "👨‍👩‍👧 family emoji 🎉 and more text\n".into();
    rows[3].stderr_tail = "cafe\u{301} re\u{301}sume\u{301} na\u{ef}ve, all of it cut\n".into();
    for width in [80, 100, 200] {
        let t = super::history::render(&rows, &HashMap::new(), wide(width), now());
        assert_fits(&t, width);
        insta::assert_snapshot!(format!("history_unicode_{width}"), t);
    }
}

fn stats() -> Vec<super::stats::JobStats> {
    let rows: Vec<crate::domain::StatRow> = runs()
        .into_iter()
        .map(|r| crate::domain::StatRow {
            job: r.job,
            status: r.status,
            attempt: r.attempt,
            missed_count: r.missed_count,
            scheduled_for: r.scheduled_for,
            started_at: r.started_at,
            finished_at: r.finished_at,
            duration_ms: r.duration_ms,
        })
        .collect();
    super::stats::summarize(&rows)
}

#[test]
fn stats_table_at_80_100_200_columns() {
    for width in [80, 100, 200] {
        let t = super::stats::render(&stats(), wide(width), now());
        assert_fits(&t, width);
        insta::assert_snapshot!(format!("stats_{width}"), t);
    }
}

fn list_config() -> crate::config::Config {
    crate::config::parse(
        Path::new("jobs.toml"),
        r#"
[jobs.backup]
cron = "30 2 * * *"
timezone = "Europe/Berlin"
command = "pg_dump app"
expect_success_within = "26h"
[jobs.heartbeat]
every = "10s"
command = "echo alive"
[jobs.sync]
cron = "*/5 * * * *"
command = "sync.sh"
[jobs.off]
cron = "@daily"
command = "true"
enabled = false
"#,
    )
    .unwrap()
}

fn list_render(look: Look) -> String {
    let config = list_config();
    let history = runs();
    let rows: Vec<_> = config
        .jobs
        .iter()
        .map(|job| {
            let last = history.iter().find(|r| r.job == *job.name);
            let overdue = &*job.name == "backup";
            super::list::job_row(job, last, &*job.name == "sync", overdue, now())
        })
        .collect();
    super::list::render(config.jobs.iter().map(|j| &**j).zip(&rows), look, now())
}

#[test]
fn list_table_at_80_100_200_columns() {
    for width in [80, 100, 200] {
        let t = list_render(wide(width));
        assert_fits(&t, width);
        insta::assert_snapshot!(format!("list_{width}"), t);
    }
}

#[test]
fn list_table() {
    let config = crate::config::parse(
        Path::new("jobs.toml"),
        r#"
[jobs.backup]
cron = "30 2 * * *"
timezone = "Europe/Berlin"
command = "pg_dump app"
expect_success_within = "26h"
[jobs.heartbeat]
every = "10s"
command = "echo alive"
[jobs.sync]
cron = "*/5 * * * *"
command = "sync.sh"
[jobs.off]
cron = "@daily"
command = "true"
enabled = false
"#,
    )
    .unwrap();
    let history = runs();
    let rows: Vec<_> = config
        .jobs
        .iter()
        .map(|job| {
            let last = history.iter().find(|r| r.job == *job.name);
            let overdue = &*job.name == "backup";
            super::list::job_row(job, last, &*job.name == "sync", overdue, now())
        })
        .collect();
    insta::assert_snapshot!(super::list::render(
        config.jobs.iter().map(|j| &**j).zip(&rows),
        Look::default(),
        now()
    ));
}

#[test]
fn stats_table() {
    insta::assert_snapshot!(super::stats::render(&stats(), Look::default(), now()));
}

#[test]
fn show_text() {
    let timed_out = &runs()[4];
    insta::assert_snapshot!(super::show::render(
        timed_out,
        chrono_tz::Europe::Berlin,
        Look::default(),
        now()
    ));
}
