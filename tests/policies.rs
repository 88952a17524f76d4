//! Run policies end to end: overlap, max_concurrent, retries, catch-up,
//! run_on_start, jitter, reload and retention, read back from the history
//! of the real binary. Timelines use per-second jobs; every wait has the
//! generous [`PATIENCE`] and no assertion depends on the machine's speed.

mod common;

use common::*;
use nix::sys::signal::Signal;
use serde_json::Value;
use std::time::Duration;

fn rows_of<'a>(rows: &'a [Value], job: &str) -> Vec<&'a Value> {
    let mut rows: Vec<&Value> = rows.iter().filter(|r| r["job"] == job).collect();
    rows.sort_by_key(|r| (ms(r, "scheduled_for"), r["attempt"].as_u64()));
    rows
}

/// (started, finished) of each run that ran, in start order.
fn spans(rows: &[&Value]) -> Vec<(i64, i64)> {
    let mut spans: Vec<(i64, i64)> = rows
        .iter()
        .filter(|r| r["started_at"].is_string() && r["finished_at"].is_string())
        .map(|r| (ms(r, "started_at"), ms(r, "finished_at")))
        .collect();
    spans.sort();
    spans
}

fn stop(mut scheduler: Scheduler) -> String {
    scheduler.signal(Signal::SIGTERM);
    assert!(scheduler.wait().success(), "{}", scheduler.log());
    scheduler.log()
}

#[test]
fn overlap_queue_runs_the_waiting_fire_when_the_running_one_ends() {
    let env = Env::new(
        "[jobs.q]\ncron = \"* * * * * *\"\ncommand = \"sleep 1.5\"\noverlap = \"queue\"\n",
    );
    let scheduler = env.start(&[]);
    let rows = env.wait_for_history("queued runs and a skipped fire", |rows| {
        count(rows, "q", "succeeded") >= 3 && count(rows, "q", "skipped") >= 1
    });
    stop(scheduler);
    let rows = rows_of(&rows, "q");
    for pair in spans(&rows).windows(2) {
        assert!(pair[1].0 >= pair[0].1, "runs overlapped: {pair:?}");
    }
    // A queued fire waited for the one before it: it started late.
    let waited = rows
        .iter()
        .filter(|r| status(r) == "succeeded")
        .any(|r| ms(r, "started_at") - ms(r, "scheduled_for") >= 300);
    assert!(waited, "{rows:#?}");
    let skipped = rows.iter().find(|r| status(r) == "skipped").unwrap();
    assert!(
        skipped["reason"]
            .as_str()
            .unwrap()
            .contains("already waiting"),
        "{skipped}"
    );
}

#[test]
fn overlap_allow_runs_fires_side_by_side() {
    let env = Env::new(
        "[jobs.a]\ncron = \"* * * * * *\"\ncommand = \"sleep 2.5\"\noverlap = \"allow\"\n",
    );
    let scheduler = env.start(&[]);
    let rows = env.wait_for_history("two runs at once", |rows| {
        let rows = rows_of(rows, "a");
        spans(&rows).windows(2).any(|p| p[1].0 < p[0].1)
    });
    stop(scheduler);
    assert_eq!(count(&rows, "a", "skipped"), 0);
}

#[test]
fn overlap_replace_cancels_the_running_run_and_starts_the_new_one() {
    let env = Env::new(
        "[jobs.r]\ncron = \"* * * * * *\"\ncommand = \"echo $$ >> pids; exec sleep 300\"\noverlap = \"replace\"\nkill_grace = \"2s\"\n",
    );
    let scheduler = env.start(&[]);
    let rows = env.wait_for_history("two replaced runs", |rows| {
        count(rows, "r", "cancelled") >= 2
    });
    let log = stop(scheduler);
    let rows = rows_of(&rows, "r");
    let cancelled: Vec<_> = rows.iter().filter(|r| status(r) == "cancelled").collect();
    assert!(
        cancelled[0]["reason"]
            .as_str()
            .unwrap()
            .contains("replaced by a newer fire"),
        "{:#?}",
        cancelled[0]
    );
    for pair in spans(&rows).windows(2) {
        assert!(
            pair[1].0 >= pair[0].1,
            "the new run started before the old one ended: {pair:?}"
        );
    }
    assert!(log.contains("a newer fire replaces it"), "{log}");
    for pid in pids_in(&env.path("pids")) {
        assert!(!alive(pid), "replaced run {pid} survived");
    }
}

#[test]
fn max_concurrent_holds_the_limit_and_queued_fires_wait() {
    let jobs: String = (1..=4)
        .map(|i| format!("[jobs.j{i}]\ncron = \"* * * * * *\"\ncommand = \"sleep 1.2\"\n"))
        .collect();
    let env = Env::new(&format!("[scheduler]\nmax_concurrent = 2\n{jobs}"));
    let scheduler = env.start(&[]);
    let rows = env.wait_for_history("runs of every job", |rows| {
        (1..=4).all(|i| count(rows, &format!("j{i}"), "succeeded") >= 2)
    });
    stop(scheduler);
    // Never more than two at once.
    let mut edges: Vec<(i64, i32)> = Vec::new();
    for r in rows
        .iter()
        .filter(|r| r["finished_at"].is_string() && r["started_at"].is_string())
    {
        edges.push((ms(r, "started_at"), 1));
        edges.push((ms(r, "finished_at"), -1));
    }
    edges.sort();
    let (mut now, mut max) = (0, 0);
    for (_, d) in edges {
        now += d;
        max = max.max(now);
    }
    assert!(max <= 2, "{max} runs at once");
    // Some fire waited for a slot: its start is well after its instant.
    assert!(
        rows.iter()
            .filter(|r| status(r) == "succeeded")
            .any(|r| ms(r, "started_at") - ms(r, "scheduled_for") >= 1000)
    );
}

#[test]
fn failed_runs_are_retried_with_growing_gaps_and_history_shows_attempts() {
    let env = Env::new(
        r#"
[jobs.flaky]
every = "1h"
run_on_start = true
command = "echo attempt failed >&2; exit 1"
retries = 2
retry_backoff = "1s"

[jobs.second-time-lucky]
every = "1h"
run_on_start = true
command = "if [ -e flag ]; then echo ok; else touch flag; exit 1; fi"
retries = 3
retry_backoff = "1s"
"#,
    );
    let scheduler = env.start(&[]);
    let rows = env.wait_for_history("all attempts", |rows| {
        count(rows, "flaky", "failed") >= 3 && count(rows, "second-time-lucky", "succeeded") >= 1
    });
    stop(scheduler);
    let flaky = rows_of(&rows, "flaky");
    let attempts: Vec<_> = flaky
        .iter()
        .map(|r| {
            (
                r["attempt"].as_u64().unwrap(),
                r["trigger"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(attempts, [(1, "startup"), (2, "retry"), (3, "retry")]);
    assert!(
        flaky
            .iter()
            .all(|r| r["scheduled_for"] == flaky[0]["scheduled_for"])
    );
    // Backoff 1 s, then 2 s (plus up to 10 %), measured end to start.
    let gap = |a: &Value, b: &Value| ms(b, "started_at") - ms(a, "finished_at");
    assert!(gap(flaky[0], flaky[1]) >= 1000, "{flaky:#?}");
    assert!(gap(flaky[1], flaky[2]) >= 2000, "{flaky:#?}");

    // --failed shows a fire whose last attempt failed, once.
    let failed = env.history(&["--failed"]);
    let failed: Vec<_> = failed
        .iter()
        .map(|r| (r["job"].as_str().unwrap(), r["attempt"].as_u64().unwrap()))
        .collect();
    assert_eq!(failed, [("flaky", 3)]);
    let table = String::from_utf8(env.cmd(&["history", "flaky"]).output().unwrap().stdout).unwrap();
    assert!(table.contains("TRY") && table.contains("retry"), "{table}");
}

#[test]
fn a_pending_retry_is_cancelled_at_shutdown() {
    let env = Env::new(
        "[jobs.f]\nevery = \"1h\"\nrun_on_start = true\ncommand = \"exit 1\"\nretries = 3\nretry_backoff = \"10m\"\n",
    );
    let scheduler = env.start(&[]);
    env.wait_for_history("the first attempt", |rows| count(rows, "f", "failed") >= 1);
    stop(scheduler);
    let rows = env.history(&[]);
    let retry = rows
        .iter()
        .find(|r| r["attempt"] == 2)
        .expect("a row for the dropped retry");
    assert_eq!(status(retry), "cancelled");
    assert!(
        retry["reason"]
            .as_str()
            .unwrap()
            .contains("retry was dropped")
    );
}

/// Runs a per-second job briefly, stops, waits, restarts with `policy`.
fn restart_after_downtime(policy: &str) -> (Env, Vec<Value>, i64) {
    let env = Env::new("[jobs.c]\nevery = \"1s\"\ncommand = \"true\"\n");
    let first = env.start(&[]);
    env.wait_for_history("a first run", |rows| count(rows, "c", "succeeded") >= 1);
    stop(first);
    let stopped = chrono::Utc::now().timestamp_millis();
    std::thread::sleep(Duration::from_millis(3500));
    env.rewrite_config(&format!(
        "[jobs.c]\nevery = \"1s\"\ncommand = \"true\"\n{policy}"
    ));
    let second = env.start_logging_to("second.log", &[]);
    let rows = env.wait_for_history("the catch-up", |rows| {
        rows.iter().any(|r| ms(r, "scheduled_for") > stopped + 5000)
    });
    stop(second);
    (env, rows, stopped)
}

#[test]
fn catchup_skip_records_missed_fires() {
    let (_env, rows, _) = restart_after_downtime("");
    let missed = count(&rows, "c", "missed");
    assert!(missed >= 2, "{rows:#?}");
    assert!(rows.iter().all(|r| r["trigger"] != "catchup"));
}

#[test]
fn catchup_latest_runs_the_newest_missed_fire() {
    let (_env, rows, _) = restart_after_downtime("catchup = \"latest\"\n");
    let caught: Vec<_> = rows.iter().filter(|r| r["trigger"] == "catchup").collect();
    assert_eq!(caught.len(), 1, "{rows:#?}");
    assert!(count(&rows, "c", "missed") >= 1);
    // The newest missed fire: every missed one is older.
    let latest = ms(caught[0], "scheduled_for");
    assert!(
        rows.iter()
            .filter(|r| status(r) == "missed")
            .all(|r| ms(r, "scheduled_for") < latest)
    );
    // It ran at start-up, well after the instant it stands for.
    assert!(ms(caught[0], "started_at") >= latest);
}

#[test]
fn catchup_all_runs_every_missed_fire() {
    let (_env, rows, _) = restart_after_downtime("catchup = \"all\"\n");
    let caught = rows
        .iter()
        .filter(|r| r["trigger"] == "catchup" && status(r) == "succeeded")
        .count();
    assert!(caught >= 2, "{rows:#?}");
    assert_eq!(count(&rows, "c", "missed"), 0);
}

#[test]
fn fires_older_than_the_window_become_one_row_with_a_count() {
    let (_env, rows, _) = restart_after_downtime("catchup_window = \"1s\"\n");
    let counted: Vec<_> = rows
        .iter()
        .filter(|r| r["missed_count"].as_u64().is_some())
        .collect();
    assert_eq!(counted.len(), 1, "{rows:#?}");
    assert!(counted[0]["missed_count"].as_u64().unwrap() >= 1);
    assert!(
        counted[0]["reason"]
            .as_str()
            .unwrap()
            .contains("older than the catch-up window")
    );
}

#[test]
fn run_on_start_runs_at_start_up_and_jitter_delays_within_bounds() {
    let env = Env::new(
        "[jobs.boot]\nevery = \"1h\"\nrun_on_start = true\ncommand = \"true\"\n\n[jobs.spread]\ncron = \"* * * * * *\"\njitter = \"800ms\"\ncommand = \"true\"\n",
    );
    let scheduler = env.start(&[]);
    let rows = env.wait_for_history("start-up and jittered runs", |rows| {
        count(rows, "boot", "succeeded") == 1 && count(rows, "spread", "succeeded") >= 4
    });
    stop(scheduler);
    let boot = rows_of(&rows, "boot");
    assert_eq!(boot[0]["trigger"], "startup");
    let delays: Vec<i64> = rows_of(&rows, "spread")
        .iter()
        .filter(|r| status(r) == "succeeded")
        .map(|r| ms(r, "started_at") - ms(r, "scheduled_for"))
        .collect();
    assert!(
        rows_of(&rows, "spread")
            .iter()
            .all(|r| ms(r, "scheduled_for") % 1000 == 0)
    );
    assert!(
        delays.iter().all(|d| (0..=800 + 5000).contains(d)),
        "{delays:?}"
    );
    assert!(
        delays.iter().any(|d| *d > 30),
        "jitter delays some start: {delays:?}"
    );
}

#[test]
fn reload_adds_removes_and_survives_a_broken_config() {
    let env = Env::new("[jobs.old]\ncron = \"* * * * * *\"\ncommand = \"true\"\n");
    let scheduler = env.start(&[]);
    env.wait_for_history("the old job", |rows| count(rows, "old", "succeeded") >= 1);

    // Replace the file: `old` goes, `new` comes.
    env.rewrite_config("[jobs.new]\ncron = \"* * * * * *\"\ncommand = \"true\"\n");
    wait_for_log(&scheduler, "config reloaded");
    let reloaded = chrono::Utc::now().timestamp_millis();
    env.wait_for_history("the new job", |rows| count(rows, "new", "succeeded") >= 2);
    let rows = env.history(&[]);
    let late_old = rows
        .iter()
        .filter(|r| r["job"] == "old" && ms(r, "scheduled_for") > reloaded + 1000)
        .count();
    assert_eq!(late_old, 0, "a removed job fired: {rows:#?}");

    // A broken config is rejected whole; `new` keeps running.
    env.rewrite_config("[jobs.new]\ncron = \"* * * * * *\"\ncommand = \"true\"\ntimout = \"1s\"\n");
    wait_for_log(&scheduler, "config not reloaded");
    let broken_at = chrono::Utc::now().timestamp_millis();
    env.wait_for_history("more runs after the broken config", |rows| {
        rows.iter()
            .any(|r| r["job"] == "new" && ms(r, "scheduled_for") > broken_at + 1000)
    });
    let log = stop(scheduler);
    assert!(
        log.contains("jobs.toml:4:1"),
        "the rejection names the place: {log}"
    );
}

#[test]
fn keep_runs_prunes_old_history_at_start_up() {
    let env = Env::new("[jobs.p]\ncron = \"* * * * * *\"\ncommand = \"true\"\n");
    let first = env.start(&[]);
    env.wait_for_history("six runs", |rows| count(rows, "p", "succeeded") >= 6);
    stop(first);
    let before = chrono::Utc::now().timestamp_millis();
    env.rewrite_config(
        "[scheduler]\nkeep_runs = 3\n[jobs.p]\ncron = \"* * * * * *\"\ncommand = \"true\"\n",
    );
    let second = env.start_logging_to("second.log", &[]);
    wait_for_log(&second, "scheduler started");
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let old = env
            .history(&[])
            .iter()
            .filter(|r| ms(r, "scheduled_for") < before)
            .count();
        if old <= 3 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{old} old rows kept");
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = stop(second);
    assert!(log.contains("old history rows deleted"), "{log}");
}

#[test]
fn sighup_reloads_a_config_that_the_watcher_cannot_see() {
    // The config is a symlink into another folder: writes to the target are
    // not events in the watched folder, so only SIGHUP brings them in.
    let env = Env::new("");
    std::fs::create_dir(env.path("real")).unwrap();
    std::fs::write(
        env.path("real/jobs.toml"),
        "[jobs.one]\ncron = \"* * * * * *\"\ncommand = \"true\"\n",
    )
    .unwrap();
    std::fs::remove_file(env.path("jobs.toml")).unwrap();
    std::os::unix::fs::symlink(env.path("real/jobs.toml"), env.path("jobs.toml")).unwrap();
    let scheduler = env.start(&[]);
    env.wait_for_history("the first job", |rows| count(rows, "one", "succeeded") >= 1);
    std::fs::write(
        env.path("real/jobs.toml"),
        "[jobs.two]\ncron = \"* * * * * *\"\ncommand = \"true\"\n",
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        count(&env.history(&[]), "two", "succeeded"),
        0,
        "reloaded without SIGHUP"
    );
    scheduler.signal(Signal::SIGHUP);
    env.wait_for_history("the job added before SIGHUP", |rows| {
        count(rows, "two", "succeeded") >= 1
    });
    let log = stop(scheduler);
    assert!(log.contains("SIGHUP: reloading the config"), "{log}");
}
