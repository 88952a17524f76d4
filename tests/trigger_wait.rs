//! `schedule trigger --wait` through the real binary: retries followed to
//! the last attempt, Ctrl-C here and handed off, `-q`.

mod common;

use common::*;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::process::Stdio;

fn trigger(env: &Env, args: &[&str]) -> std::process::Child {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("schedule"));
    cmd.current_dir(env.dir.path())
        .env_remove("SCHEDULE_CONFIG")
        .env("NO_COLOR", "1")
        .args(["trigger"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(pg) = &env.pg {
        cmd.env("SCHEDULE_DB", &pg.url);
    } else {
        cmd.env_remove("SCHEDULE_DB");
    }
    cmd.spawn().unwrap()
}

fn finish(child: std::process::Child) -> (Option<i32>, String) {
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

const FLAKY: &str = "[jobs.flaky]\nevery = \"1h\"\nretries = 2\nretry_backoff = \"1s\"\n\
                     command = \"echo try; exit 3\"\n\n[jobs.slow]\nevery = \"1h\"\ncommand = \"sleep 60\"\n";

fn retries_are_followed_and_ctrl_c_leaves_the_run_going(env: Env) {
    let _scheduler = env.start(&[]);
    wait_for_log(&_scheduler, "scheduler started");
    let (code, err) = finish(trigger(&env, &["flaky", "--wait"]));
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("a retry follows"), "{err}");
    assert!(err.contains("(attempt 3)"), "{err}");
    // Every attempt had ended when the command returned.
    let rows = env.history(&["flaky"]);
    assert_eq!(count(&rows, "flaky", "failed"), 3, "{rows:#?}");

    let child = trigger(&env, &["slow", "--wait"]);
    let run = env.running_run("slow");
    std::thread::sleep(std::time::Duration::from_millis(500));
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let (code, err) = finish(child);
    assert_eq!(code, Some(130), "{err}");
    assert!(err.contains("goes on in the running scheduler"), "{err}");
    assert!(err.contains("kill -TERM -"), "{err}");
    assert_eq!(status(&env.run(&run)), "running");
}

#[test]
fn retries_are_followed_and_ctrl_c_leaves_the_run_going_on_sqlite() {
    retries_are_followed_and_ctrl_c_leaves_the_run_going(Env::new(FLAKY));
}

#[test]
fn retries_are_followed_and_ctrl_c_leaves_the_run_going_on_postgres() {
    retries_are_followed_and_ctrl_c_leaves_the_run_going(Env::on_postgres(FLAKY, None));
}

fn ctrl_c_of_a_run_here_is_recorded_as_such(env: Env) {
    let child = trigger(&env, &["slow", "--wait"]);
    let run = env.running_run("slow");
    std::thread::sleep(std::time::Duration::from_millis(500));
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let (_, err) = finish(child);
    let row = env.run(&run);
    assert_eq!(status(&row), "cancelled", "{err}");
    assert_eq!(
        row["reason"], "stopped by Ctrl-C (SIGINT) of `schedule trigger`",
        "{row}"
    );
}

#[test]
fn ctrl_c_of_a_run_here_is_recorded_as_such_on_sqlite() {
    ctrl_c_of_a_run_here_is_recorded_as_such(Env::new(FLAKY));
}

#[test]
fn ctrl_c_of_a_run_here_is_recorded_as_such_on_postgres() {
    ctrl_c_of_a_run_here_is_recorded_as_such(Env::on_postgres(FLAKY, None));
}

#[test]
fn quiet_silences_trigger() {
    let env = Env::new(
        "[jobs.ok]\nevery = \"1h\"\ncommand = \"true\"\n\n[jobs.bad]\nevery = \"1h\"\ncommand = \"exit 4\"\n",
    );
    let err = |args: &[&str]| {
        let out = env.cmd(args).output().unwrap();
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    assert!(!err(&["trigger", "ok"]).is_empty());
    assert_eq!(err(&["-q", "trigger", "ok"]), "");
    let bad = err(&["-q", "trigger", "bad"]);
    assert!(bad.starts_with("run ") && bad.contains("failed"), "{bad}");
    assert_eq!(bad.lines().count(), 1, "{bad}");
    assert_eq!(err(&["-qq", "trigger", "bad", "--wait"]), "");
}
