//! `schedule status`, `schedule logs`, the history's filters and a pause's
//! one row, through the real binary, on SQLite and on PostgreSQL.

mod common;

use common::*;
use nix::sys::signal::Signal;
use serde_json::Value;

fn out(assert: &assert_cmd::assert::Assert) -> (String, String) {
    let o = assert.get_output();
    (
        String::from_utf8_lossy(&o.stdout).to_string(),
        String::from_utf8_lossy(&o.stderr).to_string(),
    )
}

/// Runs `test` on a SQLite file and on a private PostgreSQL.
fn on_both(jobs: &str, test: impl Fn(&Env)) {
    test(&Env::new(jobs));
    test(&Env::on_postgres(jobs, Some("hunter2")));
}

#[test]
fn status_says_who_runs_on_the_database_and_exits_3_when_nobody_does() {
    on_both(
        "[jobs.a]\nevery = \"1h\"\ncommand = \"true\"\n[jobs.b]\nevery = \"1h\"\ncommand = \"true\"\n",
        |env| {
            let (text, _) = out(&env.cmd(&["status"]).assert().code(3));
            assert!(text.starts_with("no scheduler is running on "), "{text}");
            let mut scheduler = env.start(&[]);
            wait_for_log(&scheduler, "scheduler started");
            let pid = scheduler.pid().as_raw();
            let deadline = std::time::Instant::now() + PATIENCE;
            let report: Value = loop {
                let o = env.cmd(&["status", "--json"]).output().unwrap();
                let report: Value = serde_json::from_slice(&o.stdout).unwrap();
                if o.status.code() == Some(0) && report["jobs"] == 2 {
                    break report;
                }
                assert!(std::time::Instant::now() < deadline, "{report}");
                std::thread::sleep(std::time::Duration::from_millis(100));
            };
            assert_eq!(report["running"], true);
            assert_eq!(report["pid"], pid);
            assert_eq!(report["config"], "jobs.toml");
            assert_eq!(report["version"], env!("CARGO_PKG_VERSION"));
            assert_eq!(report["runs_going"], 0);
            assert_eq!(report["fires_queued"], 0);
            let (text, _) = out(&env.cmd(&["status"]).assert().success());
            assert!(
                text.starts_with("a scheduler is running on ")
                    && text.contains(&format!("(pid {pid} on "))
                    && text.contains("  jobs:    2\n")
                    && text.contains("  running: 0 runs\n"),
                "{text}"
            );
            assert!(!text.contains("hunter2"), "{text}");
            scheduler.signal(Signal::SIGTERM);
            assert!(scheduler.wait().success());
            let (text, _) = out(&env.cmd(&["status"]).assert().code(3));
            assert!(
                text.starts_with("no scheduler is running on ")
                    && text.contains(&format!("(pid {pid}, version "))
                    && text.contains("stopped"),
                "{text}"
            );
        },
    );
}

#[test]
fn logs_follows_any_running_run_to_its_end_and_shows_ended_ones() {
    on_both(
        "[jobs.talk]\nevery = \"1h\"\nrun_on_start = true\ncommand = \"echo first; sleep 1; for i in 1 2 3; do echo line $i; echo warn $i >&2; sleep 1; done\"\n",
        |env| {
            let mut scheduler = env.start(&[]);
            let id = env.running_run("talk");
            // Running, not followed: the output so far, then exit.
            let (text, _) = out(&env.cmd(&["logs", "talk"]).assert().success());
            assert!(text.starts_with("out | first\n"), "{text}");
            assert!(!text.contains("line 3"), "{text}");
            // Not started by `trigger --wait`: followed from the middle.
            let (text, _) = out(&env.cmd(&["logs", "talk", "--follow"]).assert().success());
            let lines: Vec<&str> = text.lines().collect();
            for line in [
                "out | first",
                "out | line 3",
                "err | warn 1",
                "err | warn 3",
            ] {
                assert!(lines.contains(&line), "no {line:?} in:\n{text}");
            }
            assert_eq!(
                lines.iter().filter(|l| **l == "out | first").count(),
                1,
                "{text}"
            );
            // Ended: what the history kept, by job or by id.
            let (text, _) = out(&env.cmd(&["logs", "talk"]).assert().success());
            assert_eq!(
                text,
                "out | first\nout | line 1\nout | line 2\nout | line 3\n\
                 err | warn 1\nerr | warn 2\nerr | warn 3\n"
            );
            let (text, _) = out(&env
                .cmd(&["logs", &id.to_string(), "--tail", "2"])
                .assert()
                .success());
            assert_eq!(text, "err | warn 2\nerr | warn 3\n");
            let (text, _) = out(&env.cmd(&["logs", "talk", "--raw"]).assert().success());
            assert_eq!(text, "first\nline 1\nline 2\nline 3\n");
            // --since: every run since then, each after its header.
            let (text, _) = out(&env
                .cmd(&["logs", "talk", "--since", "1h"])
                .assert()
                .success());
            assert!(
                text.starts_with(&format!("== run {id} of `talk`, started "))
                    && text.contains(": succeeded ==\nout | first\n"),
                "{text}"
            );
            let (_, err) = out(&env
                .cmd(&["logs", "talk", "--since", "2099-01-01"])
                .assert()
                .code(1));
            assert!(err.contains("`talk` has not run since"), "{err}");
            let (_, err) = out(&env.cmd(&["logs", "nosuch"]).assert().code(2));
            assert!(err.contains("no job `nosuch`"), "{err}");
            let (_, err) = out(&env.cmd(&["logs", "9999"]).assert().code(2));
            assert!(err.contains("no run 9999"), "{err}");
            scheduler.signal(Signal::SIGTERM);
            assert!(scheduler.wait().success());
        },
    );
}

#[test]
fn a_pause_is_one_counted_row_and_history_filters_by_status_host_and_order() {
    on_both(
        "[jobs.tick]\ncron = \"* * * * * *\"\ncommand = \"true\"\n",
        |env| {
            let mut scheduler = env.start(&[]);
            env.wait_for_history("runs", |rows| count(rows, "tick", "succeeded") >= 2);
            env.cmd(&["pause", "tick"]).assert().success();
            let rows = env.wait_for_history("a pause counting 3 fires", |rows| {
                rows.iter().any(|r| {
                    status(r) == "skipped" && r["missed_count"].as_u64().is_some_and(|n| n >= 3)
                })
            });
            assert_eq!(count(&rows, "tick", "skipped"), 1, "{rows:?}");
            let pause = rows.iter().find(|r| status(r) == "skipped").unwrap();
            assert!(ms(pause, "last_scheduled_for") > ms(pause, "scheduled_for"));
            env.cmd(&["resume", "tick"]).assert().success();
            let resumed = chrono::Utc::now().timestamp_millis();
            env.wait_for_history("runs after resume", |rows| {
                rows.iter()
                    .any(|r| status(r) == "succeeded" && ms(r, "scheduled_for") > resumed)
            });
            scheduler.signal(Signal::SIGTERM);
            assert!(scheduler.wait().success());
            // The pause shows as one row with its count.
            assert_eq!(env.history(&["--status", "skipped"]).len(), 1);
            let (text, _) = out(&env
                .cmd(&["history", "--status", "skipped"])
                .assert()
                .success());
            assert!(text.contains(" fires to "), "{text}");
            let id = env.history(&["--status", "skipped"])[0]["id"].to_string();
            let (text, _) = out(&env.cmd(&["show", &id]).assert().success());
            assert!(text.contains(" fires, the last "), "{text}");
            // Filters and order.
            let all = env.history(&[]);
            let (json, _) = out(&env
                .cmd(&["history", "--reverse", "-n", "1", "--json"])
                .assert()
                .success());
            let oldest: Vec<Value> = serde_json::from_str(&json).unwrap();
            assert_eq!(oldest.len(), 1);
            assert_eq!(oldest[0]["id"], all.last().unwrap()["id"]);
            let ok = env.history(&["--status", "succeeded,skipped", "--status", "failed"]);
            assert_eq!(ok.len(), all.len());
            assert!(env.history(&["--host", "no-such-host"]).is_empty());
            let host = all[0]["host"].as_str().unwrap();
            assert_eq!(env.history(&["--host", host]).len(), all.len());
            let (_, err) = out(&env.cmd(&["history", "--status", "broken"]).assert().code(2));
            assert!(
                err.contains("unknown status `broken`") && err.contains("timed_out"),
                "{err}"
            );
            // `stats` counts every skipped fire.
            let (json, _) = out(&env.cmd(&["stats", "--json"]).assert().success());
            let stats: Vec<Value> = serde_json::from_str(&json).unwrap();
            assert!(stats[0]["not_run"].as_u64().unwrap() >= 3, "{stats:?}");
        },
    );
}

#[test]
fn retries_giving_up_reloads_and_next_fires_are_logged() {
    let env = Env::new(
        "[jobs.flaky]\nevery = \"1h\"\nrun_on_start = true\ncommand = \"false\"\nretries = 1\nretry_backoff = \"1s\"\n",
    );
    let mut scheduler = env.start(&[]);
    wait_for_log(&scheduler, "job scheduled: next fire in ");
    wait_for_log(&scheduler, "(attempt 2 of 2)");
    wait_for_log(&scheduler, "giving up: all 2 attempts failed");
    let log = scheduler.log();
    assert!(log.contains("retrying in 1"), "{log}");
    env.rewrite_config(
        "[jobs.flaky]\nevery = \"2h\"\ncommand = \"false\"\n[jobs.new]\nevery = \"1h\"\ncommand = \"true\"\n",
    );
    wait_for_log(&scheduler, "config reloaded: 1 added, 0 removed, 1 changed");
    let log = scheduler.log();
    assert!(
        log.contains("added=new") && log.contains("changed=flaky"),
        "{log}"
    );
    scheduler.signal(Signal::SIGTERM);
    assert!(scheduler.wait().success());
}
