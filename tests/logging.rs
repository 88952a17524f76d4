//! Log formats and levels of `schedule run`.

mod common;

use common::*;
use nix::sys::signal::Signal;
use serde_json::Value;

#[test]
fn json_logs_carry_the_run_fields_and_parse_back() {
    let env = Env::new(
        "[jobs.ok]\ncron = \"* * * * * *\"\ncommand = \"echo hello\"\n[jobs.bad]\ncron = \"* * * * * *\"\ncommand = \"exit 4\"\n",
    );
    let mut scheduler = env.start(&["--log-format", "json"]);
    env.wait_for_history("runs of both", |rows| {
        count(rows, "ok", "succeeded") >= 2 && count(rows, "bad", "failed") >= 2
    });
    scheduler.signal(Signal::SIGTERM);
    assert!(scheduler.wait().success());
    let lines: Vec<Value> = scheduler
        .log()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        lines.iter().all(|l| l["timestamp"].is_string()
            && l["level"].is_string()
            && l["message"].is_string())
    );
    let ended = |job: &str| {
        lines
            .iter()
            .find(|l| l["message"] == "run ended" && l["job"] == job)
            .unwrap()
            .clone()
    };
    let ok = ended("ok");
    assert_eq!(
        (ok["status"].as_str(), ok["exit_code"].as_i64()),
        (Some("succeeded"), Some(0))
    );
    assert!(ok["run_id"].is_u64() && ok["duration_ms"].is_i64(), "{ok}");
    let bad = ended("bad");
    assert_eq!(
        (
            bad["level"].as_str(),
            bad["status"].as_str(),
            bad["exit_code"].as_i64()
        ),
        (Some("WARN"), Some("failed"), Some(4))
    );
    // A job's own output stays tagged with its job and run.
    let output = lines.iter().find(|l| l["message"] == "hello").unwrap();
    assert_eq!(output["job"], "ok");
    assert!(output["run_id"].is_u64());
}

#[test]
fn quiet_keeps_warnings_only() {
    let env = Env::new("[jobs.bad]\ncron = \"* * * * * *\"\ncommand = \"exit 4\"\n");
    let mut scheduler = env.start(&["-q"]);
    env.wait_for_history("a failed run", |rows| count(rows, "bad", "failed") >= 2);
    scheduler.signal(Signal::SIGTERM);
    assert!(scheduler.wait().success());
    let log = scheduler.log();
    assert!(log.contains("WARN") && log.contains("run ended"), "{log}");
    assert!(!log.contains("INFO"), "{log}");
}

#[test]
fn color_decides_for_the_logs_too() {
    let env = Env::new("[jobs.ok]\ncron = \"* * * * * *\"\ncommand = \"true\"\n");
    for (choice, coloured) in [("always", true), ("never", false)] {
        let log = format!("{choice}.log");
        let mut scheduler = env.start_logging_to(&log, &["--color", choice]);
        wait_for_log(&scheduler, "run ended");
        scheduler.signal(Signal::SIGTERM);
        assert!(scheduler.wait().success());
        let text = scheduler.log();
        assert_eq!(
            text.contains("\x1b["),
            coloured,
            "--color {choice}:\n{text}"
        );
    }
}

/// One field per fact: one duration, instants as in JSON (`Z`), a signal
/// as its number, a hook's exit code, and nothing said that is not true.
#[test]
fn log_lines_say_each_thing_once_and_in_one_form() {
    let env = Env::new(
        "[jobs.slow]\nevery = \"1h\"\nrun_on_start = true\ntimeout = \"1s\"\ncommand = \"sleep 30\"\n\
         on_failure = \"exit 7\"\n",
    );
    let mut scheduler = env.start(&[]);
    wait_for_log(&scheduler, "hook failed");
    scheduler.signal(Signal::SIGTERM);
    assert!(scheduler.wait().success());
    let log = scheduler.log();
    let line = |text: &str| {
        log.lines()
            .find(|l| l.contains(text))
            .unwrap_or_else(|| panic!("no {text:?} in:\n{log}"))
            .to_string()
    };
    let started = line("run started");
    assert!(
        started.contains("Z attempt=") && !started.contains("+00:00"),
        "{started}"
    );
    let ended = line("run ended");
    assert!(
        ended.contains("duration_ms=") && !ended.contains(" duration="),
        "{ended}"
    );
    assert!(ended.contains("signal=15"), "{ended}");
    let hook = line("hook failed");
    assert!(hook.contains("exit_code=7"), "{hook}");
    assert!(
        !hook.contains("stderr=") && !hook.contains("exit status"),
        "{hook}"
    );
    let down = line("shutting down");
    assert!(
        down.contains("nothing is running") && down.contains("signal=15"),
        "{down}"
    );
}

#[test]
fn job_output_passes_lines_through_untouched_or_drops_them() {
    let job = "[jobs.j]\nevery = \"1h\"\nrun_on_start = true\ncommand = \"echo '{\\\"level\\\":\\\"warn\\\"}' >&2; echo plain\"\n";
    let env = Env::new(&format!(
        "[scheduler]\njob_output = \"passthrough\"\njob_output_prefix = true\n{job}"
    ));
    let mut scheduler = env.start(&[]);
    env.wait_for_history("the run", |rows| count(rows, "j", "succeeded") == 1);
    scheduler.signal(Signal::SIGTERM);
    assert!(scheduler.wait().success());
    let log = scheduler.log();
    // The scheduler's stderr is the log file: the job's stderr line is in
    // it as the job wrote it, after the prefix; not as a log line.
    assert!(
        log.lines().any(|l| l == "[j] {\"level\":\"warn\"}"),
        "{log}"
    );
    assert!(!log.contains("schedule::job"), "{log}");

    let env = Env::new(&format!("[scheduler]\njob_output = \"none\"\n{job}"));
    let mut scheduler = env.start(&[]);
    env.wait_for_history("the run", |rows| count(rows, "j", "succeeded") == 1);
    scheduler.signal(Signal::SIGTERM);
    assert!(scheduler.wait().success());
    let log = scheduler.log();
    assert!(
        !log.contains("warn\\\"") && !log.contains("level\":\"warn"),
        "{log}"
    );
    // The history keeps the tails whatever job_output says.
    let rows = env.history(&[]);
    assert_eq!(rows[0]["stderr_tail"], "{\"level\":\"warn\"}\n");

    let env = Env::new(&format!("[scheduler]\njob_output = \"loud\"\n{job}"));
    let err = env.cmd(&["check"]).assert().code(2);
    let err = String::from_utf8_lossy(&err.get_output().stderr).to_string();
    assert!(
        err.contains("`loud` is not one of") && err.contains("passthrough"),
        "{err}"
    );
}
