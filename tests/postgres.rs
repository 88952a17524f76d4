//! The real binary on PostgreSQL: every command against a private server
//! the tests start (or `SCHEDULE_TEST_DATABASE_URL`), with the password in
//! the URL never shown.

mod common;

use common::*;
use nix::sys::signal::Signal;
use serde_json::Value;

const JOBS: &str = r#"
[jobs.ok]
every = "1s"
command = "echo hello from ok"

[jobs.bad]
every = "1s"
command = "echo oops >&2; exit 3"

[jobs.manual]
every = "100d"
command = "echo manual line one; echo manual line two >&2; exit 4"
"#;

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn every_command_works_on_postgres_and_no_password_is_shown() {
    let env = Env::on_postgres(JOBS, Some("hunter2"));
    let mut scheduler = env.start(&["--http", "127.0.0.1:0"]);
    let rows = env.wait_for_history("two successes and two failures", |rows| {
        count(rows, "ok", "succeeded") >= 2 && count(rows, "bad", "failed") >= 2
    });
    assert!(rows.iter().all(|r| r["host"].is_string()));

    // history --failed: only the failing job.
    let failed = env.history(&["--failed"]);
    assert!(!failed.is_empty());
    assert!(
        failed
            .iter()
            .all(|r| r["job"] == "bad" && status(r) == "failed")
    );

    // show: the failure's stderr and exit code.
    let id = failed[0]["id"].to_string();
    let out = env.cmd(&["show", &id]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = stdout(&out);
    assert!(shown.contains("oops"), "{shown}");
    assert!(shown.contains('3'), "{shown}");

    // stats: both jobs, with their successes and failures.
    let out = env.cmd(&["stats", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let stats: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let ok = stats.iter().find(|s| s["job"] == "ok").unwrap();
    assert!(ok["succeeded"].as_u64().unwrap() >= 2, "{ok}");

    // list: last runs come from PostgreSQL.
    let out = env.cmd(&["list", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let list: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let bad = list
        .iter()
        .find(|j| j["name"] == "bad" || j["job"] == "bad")
        .unwrap();
    assert_eq!(bad["last_run"]["status"], "failed", "{bad}");

    // pause reaches the running scheduler through LISTEN/NOTIFY.
    let out = env.cmd(&["pause", "ok"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("the running scheduler (pid"),
        "{}",
        stdout(&out)
    );
    env.wait_for_history("a paused fire", |rows| {
        rows.iter().any(|r| {
            r["job"] == "ok"
                && status(r) == "skipped"
                && r["reason"].as_str().unwrap_or("").contains("paused")
        })
    });
    env.cmd(&["resume", "ok"]).assert().success();
    let resumed_at = chrono::Utc::now();
    env.wait_for_history("ok running again", |rows| {
        rows.iter().any(|r| {
            r["job"] == "ok"
                && status(r) == "succeeded"
                && chrono::DateTime::parse_from_rfc3339(r["scheduled_for"].as_str().unwrap())
                    .unwrap()
                    > resumed_at
        })
    });

    // trigger --wait: handed to the scheduler, output streamed, exit code
    // passed on.
    let out = env.cmd(&["trigger", "manual", "--wait"]).output().unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stdout(&out).contains("manual line one"), "{}", stdout(&out));
    assert!(stderr(&out).contains("manual line two"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("handed to the running scheduler"),
        "{}",
        stderr(&out)
    );

    // A second scheduler on the same database is refused, and says who
    // holds it.
    let out = env.cmd(&["run"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let refused = stderr(&out);
    assert!(
        refused.contains("another `schedule run` is already using"),
        "{refused}"
    );
    assert!(
        refused.contains(&format!("pid {}", scheduler.child.id())),
        "{refused}"
    );
    assert!(!refused.contains("hunter2"), "{refused}");

    scheduler.signal(Signal::SIGTERM);
    assert!(scheduler.wait().success(), "{}", scheduler.log());
    let log = scheduler.log();
    assert!(
        log.contains("postgres://postgres@127.0.0.1"),
        "the log names the database: {log}"
    );
    assert!(
        !log.contains("hunter2"),
        "the password leaked into the log:\n{log}"
    );
    // Every run ended with a row.
    assert_eq!(count(&env.history(&[]), "ok", "running"), 0);
}

#[test]
fn a_scheduler_killed_on_postgres_leaves_a_trace_and_a_restart_takes_over_at_once() {
    let env = Env::on_postgres(
        "[jobs.long]\nevery = \"1h\"\nrun_on_start = true\ncommand = \"echo $$ > pid; exec sleep 300\"\n",
        None,
    );
    let first = env.start(&[]);
    let pids = wait_for_pids(&env.path("pid"), 1);
    first.signal(Signal::SIGKILL);
    let mut first = first;
    first.wait();
    // The lease of a dead scheduler on this host does not hold the next one
    // back, and its run is marked interrupted and its process killed.
    let mut second = env.start_logging_to("second.log", &[]);
    let rows = env.wait_for_history("the run marked interrupted", |rows| {
        count(rows, "long", "interrupted") == 1
    });
    let row = rows.iter().find(|r| status(r) == "interrupted").unwrap();
    assert!(
        row["reason"]
            .as_str()
            .unwrap()
            .contains("stopped during the run")
    );
    let deadline = std::time::Instant::now() + PATIENCE;
    while alive(pids[0]) {
        assert!(
            std::time::Instant::now() < deadline,
            "the leftover job still runs"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    second.signal(Signal::SIGTERM);
    assert!(second.wait().success(), "{}", second.log());
}

#[test]
fn a_bad_postgres_url_is_a_clear_error() {
    let env = Env::new("[jobs.a]\nevery = \"1h\"\ncommand = \"true\"\n");
    let out = env
        .cmd(&["--db", "postgres://nobody:pw@127.0.0.1:1/none", "history"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("postgres://nobody@127.0.0.1:1/none"), "{err}");
    assert!(!err.contains(":pw@"), "{err}");
    let out = env
        .cmd(&["--db", "postgres://h/db?sslmode=sometimes", "history"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("sslmode `sometimes`"),
        "{}",
        stderr(&out)
    );
    let out = env
        .cmd(&["--db", "mysql://h/db", "history"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
