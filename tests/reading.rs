//! The read commands (`list`, `history`, `show`, `stats`) through the real
//! binary: what they say about a scheduler that runs or is gone, about runs
//! still going, about unknown jobs, a broken config and a database they may
//! not write.

mod common;

use common::*;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;
use std::time::{Duration, Instant};

fn out(assert: &assert_cmd::assert::Assert) -> (String, String) {
    let o = assert.get_output();
    (
        String::from_utf8_lossy(&o.stdout).to_string(),
        String::from_utf8_lossy(&o.stderr).to_string(),
    )
}

fn list_json(env: &Env) -> Vec<Value> {
    let (stdout, _) = out(&env.cmd(&["list", "--json"]).assert().success());
    serde_json::from_str(&stdout).unwrap()
}

/// Polls `list` until `pred` holds for its text; panics after [`PATIENCE`].
fn wait_for_list(env: &Env, what: &str, pred: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let (text, _) = out(&env.cmd(&["list"]).assert().success());
        if pred(&text) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

const SLOW: &str = "[jobs.slow]\nevery = \"1h\"\nrun_on_start = true\ncommand = \"sleep 60\"\n";

/// A scheduler runs `slow`; it dies with SIGKILL: `list` says who runs,
/// how long the run has gone on, and that nobody owns it any more.
fn list_tells_a_running_scheduler_from_a_gone_one(env: Env) {
    let mut scheduler = env.start(&[]);
    let run = env.running_run("slow");
    let text = wait_for_list(&env, "running for", |t| t.contains("running for "));
    let first = text.lines().next().unwrap();
    assert!(first.starts_with("scheduler running (pid "), "{text}");
    assert!(
        !text.lines().skip(1).any(|l| l.contains("running (")),
        "{text}"
    );
    let json = list_json(&env);
    assert_eq!(json[0]["scheduler_running"], true);
    assert_eq!(json[0]["last_run"]["orphaned"], false);

    scheduler.signal(Signal::SIGKILL);
    scheduler.wait();
    // PostgreSQL's lease runs out (30 s) before the run is nobody's.
    let text = wait_for_list(&env, "the scheduler gone", |t| {
        t.contains("interrupted? (scheduler gone)")
    });
    assert!(
        text.lines()
            .next()
            .unwrap()
            .starts_with("no scheduler running on "),
        "{text}"
    );
    let json = list_json(&env);
    assert_eq!(json[0]["scheduler_running"], false);
    assert_eq!(json[0]["last_run"]["status"], "running");
    assert_eq!(json[0]["last_run"]["orphaned"], true);
    let child = env.run(&run)["child_pid"].as_i64().unwrap();
    let _ = kill(Pid::from_raw(-(child as i32)), Signal::SIGKILL);
    // `show` of the running row does not claim the job printed nothing.
    let (shown, _) = out(&env.cmd(&["show", &run.to_string()]).assert().success());
    assert!(!shown.contains("(empty)"), "{shown}");
    assert!(shown.contains("saved when the run ends"), "{shown}");
}

#[test]
fn list_tells_a_running_scheduler_from_a_gone_one_on_sqlite() {
    list_tells_a_running_scheduler_from_a_gone_one(Env::new(SLOW));
}

#[test]
fn list_tells_a_running_scheduler_from_a_gone_one_on_postgres() {
    list_tells_a_running_scheduler_from_a_gone_one(Env::on_postgres(SLOW, None));
}

/// Paused fires (`skipped`) after a success: LAST RUN stays the success.
fn last_run_is_the_last_that_ran(env: Env) {
    env.cmd(&["trigger", "tick"]).assert().success();
    env.cmd(&["pause", "tick"]).assert().success();
    let _scheduler = env.start(&[]);
    env.wait_for_history("a skipped fire", |rows| count(rows, "tick", "skipped") >= 1);
    let json = list_json(&env);
    assert_eq!(json[0]["last_run"]["status"], "succeeded", "{json:?}");
    let (text, _) = out(&env.cmd(&["list"]).assert().success());
    let tick = text.lines().find(|l| l.contains(" tick ")).unwrap();
    assert!(
        tick.contains("succeeded ") && !tick.contains("skipped"),
        "{text}"
    );
}

const TICK: &str = "[jobs.tick]\nevery = \"1s\"\ncommand = \"true\"\n";

#[test]
fn last_run_is_the_last_that_ran_on_sqlite() {
    last_run_is_the_last_that_ran(Env::new(TICK));
}

#[test]
fn last_run_is_the_last_that_ran_on_postgres() {
    last_run_is_the_last_that_ran(Env::on_postgres(TICK, None));
}

const FAILS: &str = "[jobs.broken]\nevery = \"1h\"\ncommand = \"false\"\n\
                     expect_success_within = \"1s\"\n\n[jobs.gone]\nevery = \"1h\"\ncommand = \"true\"\n";

/// Without a scheduler, a job that never succeeded is overdue from its
/// first fire; unknown jobs exit 2 in `history` and `stats`, a job gone
/// from the config but in the history does not.
fn without_a_scheduler(env: Env) {
    env.cmd(&["trigger", "broken"]).assert().success();
    env.cmd(&["trigger", "gone"]).assert().success();
    std::thread::sleep(Duration::from_millis(1500));
    let json = list_json(&env);
    assert_eq!(json[0]["job"], "broken");
    assert_eq!(json[0]["overdue"], true, "{json:?}");
    assert_eq!(json[0]["scheduler_running"], false);

    for cmd in ["history", "stats"] {
        let (_, err) = out(&env.cmd(&[cmd, "nosuch"]).assert().code(2));
        assert!(err.contains("no job `nosuch`"), "{cmd}: {err}");
        assert!(err.contains("broken, gone"), "{cmd}: {err}");
    }
    env.rewrite_config("[jobs.broken]\nevery = \"1h\"\ncommand = \"false\"\n");
    env.cmd(&["history", "gone"]).assert().success();
    env.cmd(&["stats", "gone"]).assert().success();

    // A config with an error: the read commands still show the history.
    env.rewrite_config("[jobs.broken]\nevery = \"1 fortnight\"\ncommand = \"false\"\n");
    for args in [&["list"][..], &["history"], &["stats"], &["show", "1"]] {
        let (stdout, stderr) = out(&env.cmd(args).assert().success());
        assert!(
            stderr.starts_with("warning: jobs.toml cannot be used"),
            "{args:?}: {stderr}"
        );
        assert!(stdout.contains("broken"), "{args:?}: {stdout}");
    }
    let (_, err) = out(&env.cmd(&["pause", "broken"]).assert().code(2));
    assert!(err.contains("last good config"), "{err}");
    env.cmd(&["trigger", "broken"]).assert().code(2);
}

#[test]
fn without_a_scheduler_on_sqlite() {
    without_a_scheduler(Env::new(FAILS));
}

#[test]
fn without_a_scheduler_on_postgres() {
    without_a_scheduler(Env::on_postgres(FAILS, None));
}

/// A user who may read `schedule.db` but not write its folder (the tests
/// run as root, where modes do not apply: the commands run as `nobody`).
#[test]
fn read_commands_need_no_write_access() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let Some(nobody) = nix::unistd::User::from_name("nobody").ok().flatten() else {
        panic!("this test needs a `nobody` user");
    };
    let env = Env::new("[jobs.a]\nevery = \"1h\"\ncommand = \"echo hi\"\n");
    env.cmd(&["trigger", "a"]).assert().success();
    // As a stopped scheduler leaves it: everything merged, no -wal, no -shm.
    let db = env.path("schedule.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    drop(conn);
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(env.path(&format!("schedule.db{suffix}")));
    }
    std::fs::set_permissions(env.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    for f in ["schedule.db", "schedule.db.lock", "jobs.toml"] {
        std::fs::set_permissions(env.path(f), std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    for args in [&["history"][..], &["list"], &["show", "1"], &["stats"]] {
        let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("schedule"))
            .current_dir(env.dir.path())
            .env_remove("SCHEDULE_CONFIG")
            .env_remove("SCHEDULE_DB")
            .env("NO_COLOR", "1")
            .args(args)
            .uid(nobody.uid.as_raw())
            .gid(nobody.gid.as_raw())
            .output()
            .unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(out.status.success(), "{args:?}: {stderr}");
        assert!(stdout.contains('a'), "{args:?}: {stdout}");
    }
    assert!(!env.path("schedule.db-shm").exists(), "nothing was written");
}
