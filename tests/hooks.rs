//! `on_failure` and `on_success` through the real binary.

mod common;

use common::*;
use nix::sys::signal::Signal;
use std::time::{Duration, Instant};

fn wait_for_file(path: &std::path::Path) -> String {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Ok(text) = std::fs::read_to_string(path)
            && text.ends_with("END\n")
        {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{} never written",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

const RECORD: &str =
    "{ env | grep '^SCHEDULE_' | sort; echo STDIN:; cat; echo END; } > hook.$SCHEDULE_RUN_ID";

#[test]
fn on_failure_runs_once_after_the_last_attempt_with_the_run_in_its_environment() {
    let env = Env::new(&format!(
        "[jobs.flaky]\nevery = \"1h\"\nrun_on_start = true\ncommand = \"echo trying; echo 'disk full' >&2; exit 3\"\nretries = 1\nretry_backoff = \"1s\"\non_failure = \"{RECORD}\"\n"
    ));
    let mut scheduler = env.start(&[]);
    let rows = env.wait_for_history("both attempts", |rows| count(rows, "flaky", "failed") >= 2);
    let last = rows.iter().find(|r| r["attempt"] == 2).unwrap();
    let first = rows.iter().find(|r| r["attempt"] == 1).unwrap();
    let text = wait_for_file(&env.path(&format!("hook.{}", last["id"])));
    // Give a wrong hook for the first attempt time to show up, then stop.
    std::thread::sleep(Duration::from_millis(500));
    scheduler.signal(Signal::SIGTERM);
    assert!(scheduler.wait().success());
    assert!(
        !env.path(&format!("hook.{}", first["id"])).exists(),
        "on_failure ran for an attempt that was retried"
    );
    for part in [
        "SCHEDULE_JOB=flaky",
        &format!("SCHEDULE_RUN_ID={}", last["id"]),
        "SCHEDULE_STATUS=failed",
        "SCHEDULE_EXIT_CODE=3",
        &format!(
            "SCHEDULE_SCHEDULED_FOR={}",
            last["scheduled_for"].as_str().unwrap()
        ),
        "SCHEDULE_DURATION_MS=",
        "STDIN:\ntrying\ndisk full\nEND",
    ] {
        assert!(text.contains(part), "{part:?} missing:\n{text}");
    }
}

#[test]
fn on_success_runs_after_a_success_and_a_slow_hook_blocks_nothing() {
    let env = Env::new(
        "[jobs.tick]\ncron = \"* * * * * *\"\ncommand = \"echo ok\"\non_success = \"sleep 30; touch never\"\nhook_timeout = \"2s\"\n\n[jobs.report]\nevery = \"1h\"\nrun_on_start = true\ncommand = \"echo done\"\non_success = \"echo $SCHEDULE_STATUS > status; cat > input\"\n",
    );
    let mut scheduler = env.start(&[]);
    // `tick`'s hooks take 30 s each (until killed at 2 s); the ticks go on.
    env.wait_for_history("ticks while hooks hang", |rows| {
        count(rows, "tick", "succeeded") >= 4
    });
    let deadline = Instant::now() + PATIENCE;
    while !env.path("input").exists()
        || std::fs::read_to_string(env.path("input")).unwrap() != "done\n"
    {
        assert!(Instant::now() < deadline, "report's on_success never ran");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        std::fs::read_to_string(env.path("status")).unwrap(),
        "succeeded\n"
    );
    wait_for_log(&scheduler, "hook timed out and was killed");
    scheduler.signal(Signal::SIGTERM);
    assert!(scheduler.wait().success());
    assert!(
        !env.path("never").exists(),
        "a timed-out hook was not killed"
    );
}

#[test]
fn a_failing_hook_is_logged_and_changes_nothing() {
    let env = Env::new(
        "[jobs.a]\ncron = \"* * * * * *\"\ncommand = \"true\"\non_success = \"echo 'webhook down' >&2; exit 7\"\n",
    );
    let mut scheduler = env.start(&[]);
    env.wait_for_history("two runs", |rows| count(rows, "a", "succeeded") >= 2);
    wait_for_log(&scheduler, "hook failed");
    scheduler.signal(Signal::SIGTERM);
    assert!(scheduler.wait().success());
    assert!(
        scheduler.log().contains("webhook down"),
        "{}",
        scheduler.log()
    );
    assert_eq!(count(&env.history(&[]), "a", "failed"), 0);
}
