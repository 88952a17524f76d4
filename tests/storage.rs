//! The loop never waits on the database: with the history locked by
//! another process, timeouts, signals and `/health` go on, and every fire
//! of the window still gets its row once the database is back.

mod common;

use chrono::{DateTime, Utc};
use common::*;
use nix::sys::signal::Signal;
use std::time::{Duration, Instant};

/// How long the tests hold the database.
const LOCKED: Duration = Duration::from_secs(12);

fn lock(env: &Env) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(env.path("schedule.db")).unwrap();
    conn.execute_batch("BEGIN EXCLUSIVE").unwrap();
    conn
}

fn at(row: &serde_json::Value, key: &str) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms(row, key)).unwrap()
}

#[test]
fn a_locked_database_holds_up_no_timeout_and_every_fire_gets_its_row() {
    let env = Env::new(
        r#"
[jobs.sleeper]
every = "1h"
run_on_start = true
timeout = "3s"
kill_grace = "1s"
command = "echo $$ > sleeper.pid; exec sleep 40"

[jobs.tick]
every = "1s"
command = "true"
"#,
    );
    let mut scheduler = env.start(&["--http", "127.0.0.1:0"]);
    let addr = address(&scheduler);
    let sleeper = wait_for_pids(&env.path("sleeper.pid"), 1)[0];
    env.wait_for_history("the sleeper's row", |rows| {
        count(rows, "sleeper", "running") == 1
    });
    let db = lock(&env);
    let locked_at = Instant::now();
    let locked_from = Utc::now();
    assert!(
        alive(sleeper),
        "the sleeper must still run when the lock begins"
    );

    // Its timeout is kept while the database is locked.
    while alive(sleeper) {
        assert!(
            locked_at.elapsed() < LOCKED - Duration::from_secs(2),
            "the job outlived its timeout while the database was locked"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // /health answers, and blames the database (once a write has waited
    // 2 s for it), while the lock lasts.
    loop {
        let (code, body) = health(&addr);
        assert!(
            locked_at.elapsed() < LOCKED,
            "no 503 while locked; last: {code} {body}"
        );
        if code == 503 {
            assert!(
                body["reason"].as_str().unwrap().contains("history"),
                "{body}"
            );
            assert!(body["jobs"].is_number(), "the loop itself answered: {body}");
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }

    std::thread::sleep(LOCKED.saturating_sub(locked_at.elapsed()));
    let locked_until = Utc::now();
    db.execute_batch("COMMIT").unwrap();
    drop(db);

    // The sleeper's row says how long it really ran.
    let rows = env.wait_for_history("the sleeper's end", |rows| {
        count(rows, "sleeper", "timed_out") == 1
    });
    let end = rows.iter().find(|r| r["job"] == "sleeper").unwrap();
    let took = end["duration_ms"].as_i64().unwrap();
    assert!((2500..9000).contains(&took), "recorded {took} ms: {end}");

    // Every tick fire of the window has a row: run late, or missed for the
    // database, never silently absent.
    let window = |row: &serde_json::Value| {
        let t = at(row, "scheduled_for");
        t > locked_from + chrono::TimeDelta::seconds(1)
            && t < locked_until - chrono::TimeDelta::seconds(1)
    };
    let expected = (locked_until - locked_from).num_seconds() - 3;
    let rows = env.wait_for_history("a row for every fire of the window", |rows| {
        let mut seconds: Vec<i64> = rows
            .iter()
            .filter(|r| r["job"] == "tick" && window(r) && status(r) != "running")
            .map(|r| at(r, "scheduled_for").timestamp())
            .collect();
        seconds.sort();
        seconds.dedup();
        seconds.len() as i64 >= expected
    });
    for row in rows.iter().filter(|r| r["job"] == "tick" && window(r)) {
        let reason = row["reason"].as_str().unwrap_or("");
        match status(row) {
            "succeeded" => {}
            "missed" => assert!(reason.starts_with("database unavailable"), "{row}"),
            other => panic!("a fire of the window was {other}: {row}"),
        }
    }
    assert!(
        rows.iter()
            .any(|r| r["job"] == "tick" && window(r) && status(r) == "missed"),
        "the lock must have kept some fires from running"
    );
    let body = wait_for_health(&addr, "healthy again", |code, _| code == 200);
    assert_eq!(body["db_ok"], true, "{body}");
    scheduler.signal(Signal::SIGTERM);
    assert!(scheduler.wait().success(), "{}", scheduler.log());
}

#[test]
fn sigterm_with_the_database_locked_stops_runs_within_the_grace_and_writes_their_rows_after() {
    let env = Env::new(
        r#"
[jobs.long]
every = "1h"
run_on_start = true
kill_grace = "1s"
command = "echo $$ > long.pid; exec sleep 300"
"#,
    );
    let mut scheduler = env.start(&["--shutdown-grace", "1s"]);
    let long = wait_for_pids(&env.path("long.pid"), 1)[0];
    env.wait_for_history("the run's row", |rows| count(rows, "long", "running") == 1);
    let db = lock(&env);
    let locked_at = Instant::now();
    scheduler.signal(Signal::SIGTERM);
    while alive(long) {
        assert!(
            locked_at.elapsed() < LOCKED - Duration::from_secs(2),
            "the run outlived the shutdown grace while the database was locked"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The scheduler waits for the database to take the run's end.
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        scheduler.child.try_wait().unwrap().is_none(),
        "it left before writing the row"
    );
    wait_for_log(&scheduler, "waiting for the history database");
    std::thread::sleep(LOCKED.saturating_sub(locked_at.elapsed()));
    db.execute_batch("COMMIT").unwrap();
    drop(db);
    assert!(scheduler.wait().success(), "{}", scheduler.log());
    let rows = env.history(&[]);
    assert_eq!(count(&rows, "long", "cancelled"), 1, "{rows:#?}");
}

#[test]
fn the_scheduler_s_own_writes_wake_nobody_and_a_pause_is_still_seen() {
    let env = Env::new("[jobs.tick]\nevery = \"1s\"\ncommand = \"true\"\n");
    let scheduler = env.start(&[]);
    env.wait_for_history("a first run", |rows| count(rows, "tick", "succeeded") >= 1);
    let pid = scheduler.child.id();
    let rows_before = env.history(&[]).len();
    // Not polling the history meanwhile: a reader opening the files is an
    // event too. Several runs, each a claim and an end written to the WAL.
    let before = wakeups(pid, "watch-db").expect("the database watch thread");
    let config_before = wakeups(pid, "watch").expect("the config watch thread");
    std::thread::sleep(Duration::from_secs(6));
    let after = wakeups(pid, "watch-db").unwrap();
    assert_eq!(
        wakeups(pid, "watch").unwrap(),
        config_before,
        "the config's watch woke for the scheduler's own writes"
    );
    assert!(
        env.history(&[]).len() >= rows_before + 3,
        "the job kept running"
    );
    assert_eq!(
        after, before,
        "the watch thread woke for the scheduler's own writes"
    );
    // Another process's control write still reaches it.
    env.cmd(&["pause", "tick"]).assert().success();
    env.wait_for_history("a paused fire", |rows| {
        rows.iter().any(|r| status(r) == "skipped")
    });
    assert!(wakeups(pid, "watch-db").unwrap() > after);
}
