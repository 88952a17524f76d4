//! The operator commands through the real binary: check, show, stats,
//! pause/resume, trigger.

mod common;

use common::*;
use serde_json::Value;

fn out(assert: &assert_cmd::assert::Assert) -> (String, String) {
    let o = assert.get_output();
    (
        String::from_utf8_lossy(&o.stdout).to_string(),
        String::from_utf8_lossy(&o.stderr).to_string(),
    )
}

#[test]
fn check_a_valid_config_summarises_it() {
    let env = Env::new(
        "[jobs.a]\ncron = \"0 2 * * *\"\ncommand = \"true\"\n[jobs.b]\nevery = \"5m\"\ncommand = \"true\"\n",
    );
    let a = env.cmd(&["check"]).assert().success();
    let (stdout, stderr) = out(&a);
    assert!(
        stdout.starts_with("jobs.toml is valid: 2 jobs, 2 enabled"),
        "{stdout}"
    );
    assert!(
        stdout.contains("NEXT RUN") && stdout.contains("every 5m"),
        "{stdout}"
    );
    assert_eq!(stderr, "");
    assert!(
        !env.path("schedule.db").exists(),
        "check runs and writes nothing"
    );
}

#[test]
fn check_reports_every_error_at_once() {
    let env = Env::new(
        "[jobs.a]\ncron = \"0 25 * * *\"\ncommand = \"true\"\n[jobs.b]\nevery = \"0s\"\ncommand = \"true\"\n[jobs.c]\nevery = \"1m\"\ncommand = \"true\"\ntimezone = \"Mars/Base\"\n",
    );
    let a = env.cmd(&["check"]).assert().code(2);
    let (_, stderr) = out(&a);
    for part in [
        "jobs.toml:2:8: job `a`, key `cron`",
        "jobs.toml:5:9: job `b`, key `every`",
        "jobs.toml:10:12: job `c`, key `timezone`",
    ] {
        assert!(stderr.contains(part), "{part} missing:\n{stderr}");
    }
    let a = env.cmd(&["check", "--json"]).assert().code(2);
    let (stdout, _) = out(&a);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["valid"], false);
    assert_eq!(report["errors"].as_array().unwrap().len(), 3);
    assert_eq!(report["errors"][0]["line"], 2);
    assert_eq!(report["errors"][0]["key"], "cron");
}

#[test]
fn check_warns_and_strict_fails_on_warnings() {
    let env = Env::new(
        r#"
[jobs.either-day]
cron = "0 0 1 * MON"
command = "true"

[jobs.uneven]
cron = "*/7 * * * *"
command = "true"

[jobs.dst]
cron = "30 2 * * *"
timezone = "Europe/Berlin"
command = "true"

[jobs.off]
every = "1h"
command = "true"
enabled = false

[jobs.typo]
every = "1h"
command = "definitely-not-a-program --flag"
"#,
    );
    let a = env.cmd(&["check"]).assert().success();
    let (_, stderr) = out(&a);
    for part in [
        "job `either-day`, key `cron`: both day fields are restricted",
        "job `uneven`, key `cron`: `*/7` in the minute field does not divide evenly",
        "job `dst`, key `cron`:",
        "does not exist in Europe/Berlin",
        "happens twice in Europe/Berlin",
        "job `off`, key `enabled`: the job is disabled",
        "job `typo`, key `command`: `definitely-not-a-program`",
    ] {
        assert!(stderr.contains(part), "{part} missing:\n{stderr}");
    }
    let a = env.cmd(&["check", "--strict"]).assert().code(2);
    let (_, stderr) = out(&a);
    assert!(stderr.contains("6 warnings and --strict"), "{stderr}");
    let a = env.cmd(&["check", "--json"]).assert().success();
    let report: Value = serde_json::from_str(&out(&a).0).unwrap();
    assert_eq!(report["valid"], true);
    assert_eq!(report["warnings"].as_array().unwrap().len(), 6);
    assert_eq!(report["jobs"].as_array().unwrap().len(), 5);
}
