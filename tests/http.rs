//! `schedule run --http`: /health and /metrics over real HTTP, against the
//! real binary.

mod common;

use common::*;
use nix::sys::signal::Signal;
use serde_json::Value;
use std::time::{Duration, Instant};

/// The value of the sample `name` (with its labels) in a scrape.
fn sample(metrics: &str, name: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .map(|v| v.trim().parse().unwrap())
}

#[test]
fn health_is_ok_and_metrics_count_what_the_history_holds() {
    let env = Env::new(
        "[jobs.ok]\ncron = \"* * * * * *\"\ncommand = \"true\"\n\n\
         [jobs.bad]\ncron = \"* * * * * *\"\ncommand = \"exit 1\"\non_failure = \"exit 9\"\n",
    );
    let scheduler = env.start(&["--http", "127.0.0.1:0"]);
    let addr = address(&scheduler);
    env.wait_for_history("two of each", |rows| {
        count(rows, "ok", "succeeded") >= 2 && count(rows, "bad", "failed") >= 2
    });

    let body = wait_for_health(&addr, "ok", |code, _| code == 200);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["jobs"], 2);
    assert_eq!(body["db_ok"], true);
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    let tick = chrono::DateTime::parse_from_rfc3339(body["last_tick"].as_str().unwrap()).unwrap();
    assert!((chrono::Utc::now() - tick.to_utc()).num_seconds().abs() < 60);

    let (code, metrics) = get(&addr, "/metrics");
    assert_eq!(code, 200);
    let succeeded = sample(
        &metrics,
        "schedule_runs_total{job=\"ok\",status=\"succeeded\"}",
    );
    let failed = sample(
        &metrics,
        "schedule_runs_total{job=\"bad\",status=\"failed\"}",
    );
    assert!(succeeded.unwrap() >= 2.0, "{metrics}");
    assert!(failed.unwrap() >= 2.0, "{metrics}");
    // Every job's series exist from the start, at 0 until something happens.
    assert_eq!(
        sample(
            &metrics,
            "schedule_runs_total{job=\"ok\",status=\"failed\"}"
        ),
        Some(0.0),
        "{metrics}"
    );
    // Without retries, a fire is one attempt.
    let attempts = sample(
        &metrics,
        "schedule_attempts_total{job=\"bad\",status=\"failed\"}",
    );
    assert!(attempts.unwrap() >= failed.unwrap(), "{metrics}");
    assert!(sample(&metrics, "schedule_run_duration_seconds_count{job=\"ok\"}").unwrap() >= 2.0);
    assert!(sample(&metrics, "schedule_start_delay_seconds_count{job=\"ok\"}").unwrap() >= 2.0);
    // Every start was well under 10 s late.
    assert_eq!(
        sample(&metrics, "schedule_start_delay_seconds_count{job=\"ok\"}"),
        sample(
            &metrics,
            "schedule_start_delay_seconds_bucket{le=\"10.0\",job=\"ok\"}"
        ),
        "{metrics}"
    );
    let now = chrono::Utc::now().timestamp() as f64;
    let next = sample(&metrics, "schedule_next_fire_timestamp_seconds{job=\"ok\"}").unwrap();
    assert!(
        next > now - 5.0 && next < now + 60.0,
        "next {next}, now {now}"
    );
    let success = sample(
        &metrics,
        "schedule_last_success_timestamp_seconds{job=\"ok\"}",
    );
    assert!((success.unwrap() - now).abs() < 60.0);
    assert_eq!(
        sample(
            &metrics,
            "schedule_last_success_timestamp_seconds{job=\"bad\"}"
        ),
        None
    );
    assert!(sample(&metrics, "schedule_running{job=\"ok\"}").is_some());
    assert_eq!(sample(&metrics, "schedule_queue_depth"), Some(0.0));
    assert_eq!(
        sample(
            &metrics,
            &format!("schedule_info{{version=\"{}\"}}", env!("CARGO_PKG_VERSION"))
        ),
        Some(1.0)
    );
    // The hook's own failure is counted (it may still be running for the
    // newest failure).
    let deadline = Instant::now() + PATIENCE;
    loop {
        let (_, metrics) = get(&addr, "/metrics");
        let hooks = "schedule_hook_failures_total{job=\"bad\",hook=\"on_failure\"}";
        if sample(&metrics, hooks).is_some_and(|n| n >= 1.0) {
            break;
        }
        assert!(Instant::now() < deadline, "no hook failure in\n{metrics}");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(get(&addr, "/nope").0, 404);
}

#[test]
fn a_job_without_a_success_in_its_window_is_overdue_everywhere() {
    let env = Env::new(
        "[scheduler]\nhttp = \"127.0.0.1:0\"\n\n\
         [jobs.late]\nevery = \"1h\"\nrun_on_start = true\ncommand = \"exit 1\"\nexpect_success_within = \"2s\"\n\n\
         [jobs.fine]\nevery = \"1h\"\nrun_on_start = true\ncommand = \"true\"\nexpect_success_within = \"1h\"\n",
    );
    let mut scheduler = env.start(&[]);
    let addr = address(&scheduler);
    wait_for_log(&scheduler, "job overdue");
    let body = wait_for_health(&addr, "degraded", |code, body| {
        code == 200 && body["status"] == "degraded"
    });
    assert_eq!(body["overdue"], serde_json::json!(["late"]));
    assert!(body["reason"].as_str().unwrap().contains("late"));
    let (_, metrics) = get(&addr, "/metrics");
    assert_eq!(
        sample(&metrics, "schedule_job_overdue{job=\"late\"}"),
        Some(1.0)
    );
    assert_eq!(
        sample(&metrics, "schedule_job_overdue{job=\"fine\"}"),
        Some(0.0)
    );

    let out = env.cmd(&["list"]).output().unwrap();
    let table = String::from_utf8(out.stdout).unwrap();
    let late = table.lines().find(|l| l.contains("late")).unwrap();
    assert!(late.contains("OVERDUE: no success in 2s"), "{table}");
    let fine = table.lines().find(|l| l.contains("fine")).unwrap();
    assert!(!fine.contains("OVERDUE"), "{table}");
    let out = env.cmd(&["list", "--json"]).output().unwrap();
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let overdue: Vec<(&str, bool)> = rows
        .iter()
        .map(|r| (r["job"].as_str().unwrap(), r["overdue"].as_bool().unwrap()))
        .collect();
    assert_eq!(overdue, vec![("late", true), ("fine", false)]);

    scheduler.signal(Signal::SIGTERM);
    assert!(scheduler.wait().success());
    // Warned once, not at every look.
    assert_eq!(scheduler.log().matches("job overdue").count(), 1);
    // With no scheduler running, a job that never succeeded counts from its
    // first recorded fire (the failed run at start, more than 2s ago).
    let out = env.cmd(&["list", "--json"]).output().unwrap();
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows[0]["overdue"], true);
    assert_eq!(rows[1]["overdue"], false);
}

#[test]
fn a_locked_database_is_503_blaming_the_database_until_a_write_succeeds() {
    let env = Env::new("[jobs.tick]\nevery = \"10s\"\ncommand = \"true\"\n");
    let scheduler = env.start(&["--http", "127.0.0.1:0"]);
    let addr = address(&scheduler);
    wait_for_health(&addr, "ok", |code, _| code == 200);

    // Another process holds the write lock: the next fire's claim waits
    // in SQLite's busy handler (5 s), then fails. The loop goes on
    // answering meanwhile, and says the database is the trouble.
    let db = rusqlite::Connection::open(env.path("schedule.db")).unwrap();
    db.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let body = wait_for_health(&addr, "a database that does not answer", |code, body| {
        code == 503
            && body["reason"]
                .as_str()
                .unwrap()
                .contains("history database has not answered")
    });
    assert_eq!(body["status"], "unhealthy");
    assert_eq!(body["db_ok"], false);
    assert_eq!(body["jobs"], 1, "the loop itself answered: {body}");
    let body = wait_for_health(&addr, "a failed write", |code, body| {
        code == 503
            && body["reason"]
                .as_str()
                .unwrap()
                .contains("history write failed")
    });
    assert_eq!(body["db_ok"], false);
    db.execute_batch("COMMIT").unwrap();
    drop(db);
    // The next fire is written again.
    let body = wait_for_health(&addr, "ok again", |code, _| code == 200);
    assert_eq!(body["db_ok"], true);
    assert!(
        scheduler
            .log()
            .contains("run not started: cannot record it")
    );
}

#[test]
fn a_port_in_use_or_a_bad_address_is_a_usage_error_before_anything_runs() {
    let env = Env::new("[jobs.a]\ncron = \"* * * * * *\"\ncommand = \"touch ran\"\n");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let out = env
        .cmd(&["run", "--http", &port.to_string()])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{stderr}"
    );
    assert!(stderr.contains("another program listens there"), "{stderr}");
    assert!(!env.path("schedule.db").exists());
    assert!(!env.path("ran").exists());

    let out = env
        .cmd(&["run", "--http", "example.com:80"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("127.0.0.1:9090"), "{stderr}");

    env.rewrite_config("[scheduler]\nhttp = \"localhost:http\"\n");
    let out = env.cmd(&["run"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("jobs.toml:2:8"), "{stderr}");
    assert!(
        stderr.contains("`localhost:http` is not an address"),
        "{stderr}"
    );
}
