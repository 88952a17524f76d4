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

#[test]
fn check_fails_a_dir_or_shell_that_does_not_exist_and_warns_for_a_relative_dir() {
    let env = Env::new(
        "[jobs.a]\nevery = \"1m\"\ncommand = \"true\"\ndir = \"/nonexistent\"\n\
         [jobs.b]\nevery = \"1m\"\ncommand = \"true\"\nshell = \"/no/such/shell\"\n\
         [jobs.c]\nevery = \"1m\"\ncommand = \"true\"\nshell = \"no-such-shell-here\"\n",
    );
    let a = env.cmd(&["check"]).assert().code(2);
    let (_, stderr) = out(&a);
    for part in [
        "jobs.toml:4:7: job `a`, key `dir`: `/nonexistent` does not exist",
        "jobs.toml:8:9: job `b`, key `shell`: the shell `/no/such/shell` does not exist",
        "jobs.toml:12:9: job `c`, key `shell`: the shell `no-such-shell-here` is not found on PATH",
    ] {
        assert!(stderr.contains(part), "{part} missing:\n{stderr}");
    }
    // The exec form needs no shell; a relative dir may be made later.
    let env = Env::new(
        "[jobs.a]\nevery = \"1m\"\ncommand = [\"true\"]\nshell = \"/no/such/shell\"\ndir = \"later\"\n",
    );
    let a = env.cmd(&["check"]).assert().success();
    let (stdout, stderr) = out(&a);
    assert!(stdout.contains("is valid: 1 job, 1 enabled"), "{stdout}");
    assert!(
        stderr.contains("jobs.toml:5:7: job `a`, key `dir`: `later`")
            && stderr.contains("does not exist yet"),
        "{stderr}"
    );
}

#[test]
fn check_warns_that_every_ignores_the_zone_and_whole_days_fire_at_the_epochs_hour() {
    let env = Env::new(
        "[jobs.ny]\nevery = \"1d\"\ntimezone = \"America/New_York\"\ncommand = \"true\"\n\
         [jobs.weekly]\nevery = \"1w\"\ncommand = \"true\"\n\
         [jobs.fine]\nevery = \"5m\"\ncommand = \"true\"\n",
    );
    let a = env.cmd(&["check"]).assert().success();
    let (_, stderr) = out(&a);
    for part in [
        "jobs.toml:3:12: job `ny`, key `timezone`: `every = \"1d\"` counts from the Unix epoch in UTC",
        "(next at 19:00 EST)",
        "jobs.toml:2:9: job `ny`, key `every`: `every = \"1d\"` is a whole number of days: it fires at 19:00 EST",
        "e.g. `cron = \"0 2 * * *\"`",
        "job `weekly`, key `every`: `every = \"7d\"` is a whole number of days: it fires on Thursdays at 00:00 UTC",
        "`cron = \"0 2 * * MON\"`",
    ] {
        assert!(stderr.contains(part), "{part} missing:\n{stderr}");
    }
    assert!(!stderr.contains("job `fine`"), "{stderr}");
    // --json: every warning says where, and jobs are `job` as in history.
    let a = env.cmd(&["check", "--json"]).assert().success();
    let report: Value = serde_json::from_str(&out(&a).0).unwrap();
    let w = &report["warnings"][0];
    assert_eq!(
        (&w["path"], &w["line"], &w["column"], &w["job"]),
        (
            &Value::from("jobs.toml"),
            &Value::from(3),
            &Value::from(12),
            &Value::from("ny")
        ),
        "{report}"
    );
    assert_eq!(report["jobs"][0]["job"], "ny");
    assert!(report["jobs"][0].get("name").is_none(), "{report}");
}

#[test]
fn a_missing_program_at_an_absolute_path_says_no_such_file_or_not_executable() {
    let env = Env::new(
        "[jobs.a]\nevery = \"1m\"\ncommand = \"/no/such/program --x\"\n\
         [jobs.b]\nevery = \"1m\"\ncommand = \"./plain.txt\"\n",
    );
    std::fs::write(env.path("plain.txt"), "not a program").unwrap();
    let a = env.cmd(&["check"]).assert().success();
    let (_, stderr) = out(&a);
    assert!(
        stderr.contains(
            "`/no/such/program`, the program the command starts, does not exist (no such file)"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("is not executable"), "{stderr}");
    assert!(!stderr.contains("or at that path"), "{stderr}");
}

#[test]
fn show_tells_everything_about_a_timed_out_run() {
    let env = Env::new(
        "[jobs.slow]\ncron = \"* * * * * *\"\ncommand = \"echo working; echo 'almost there' >&2; sleep 30\"\ntimeout = \"1s\"\nkill_grace = \"1s\"\ntimezone = \"Europe/Berlin\"\n",
    );
    let mut scheduler = env.start(&[]);
    let rows = env.wait_for_history("a timed-out run", |rows| {
        count(rows, "slow", "timed_out") >= 1
    });
    scheduler.signal(nix::sys::signal::Signal::SIGTERM);
    scheduler.wait();
    let id = rows.iter().find(|r| status(r) == "timed_out").unwrap()["id"].to_string();
    let (text, _) = out(&env.cmd(&["show", &id]).assert().success());
    for part in [
        &format!("run {id} of job `slow`"),
        "status     timed_out (timed out after 1s)",
        "trigger    schedule, attempt 1",
        "exit       killed by SIGTERM",
        "scheduler pid",
        "job pid",
        "stdout (last 64 KiB):\n  working\n",
        "stderr (last 64 KiB):\n  almost there\n",
        // The job's zone.
        " CET (",
    ] {
        assert!(text.contains(part), "{part:?} missing:\n{text}");
    }
    let (json, _) = out(&env.cmd(&["show", &id, "--json"]).assert().success());
    let run: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(run["status"], "timed_out");
    assert_eq!(run["signal"], 15);
    assert!(run["child_pid"].as_u64().is_some());
    let (_, err) = out(&env.cmd(&["show", "999999"]).assert().code(2));
    assert!(err.contains("no run 999999"), "{err}");
}

#[test]
fn stats_over_a_seeded_history() {
    use chrono::{TimeDelta, Utc};
    use schedule::domain::{Ended, NewRun, NotRun, NotRunRecord, Outcome, Trigger};
    use schedule::store::{self, Location, Mode};
    let env = Env::new("[jobs.a]\nevery = \"1h\"\ncommand = \"true\"\n");
    let mut store = store::open(&Location::Sqlite(env.path("schedule.db")), Mode::Write).unwrap();
    let base = Utc::now() - TimeDelta::hours(2);
    for i in 0..10i64 {
        let at = base + TimeDelta::minutes(i);
        let new = NewRun {
            job: "a".into(),
            scheduled_for: at,
            slot: 0,
            nominal: None,
            attempt: 1,
            trigger: Trigger::Schedule,
            started_at: at + TimeDelta::milliseconds(20),
            host: "h".into(),
            pid: 1,
        };
        let id = store.claim(&[new]).unwrap()[0].unwrap();
        let status = if i == 9 {
            Ended::Failed
        } else {
            Ended::Succeeded
        };
        store
            .finish(
                id,
                &Outcome {
                    status,
                    finished_at: at + TimeDelta::milliseconds(20 + 100 * (i + 1)),
                    exit_code: Some(if i == 9 { 1 } else { 0 }),
                    signal: None,
                    duration_ms: 100 * (i + 1),
                    stdout_tail: String::new(),
                    stderr_tail: String::new(),
                    reason: None,
                },
            )
            .unwrap();
    }
    let skipped = NewRun {
        job: "a".into(),
        scheduled_for: base + TimeDelta::minutes(30),
        slot: 0,
        nominal: None,
        attempt: 1,
        trigger: Trigger::Schedule,
        started_at: base,
        host: "h".into(),
        pid: 1,
    };
    let busy = NotRunRecord {
        status: NotRun::Skipped,
        reason: "busy".into(),
        missed_count: None,
        paused: false,
    };
    store.record(&skipped, &busy).unwrap();
    // Too old for the default week.
    let old = NewRun {
        job: "a".into(),
        scheduled_for: base - TimeDelta::days(30),
        slot: 0,
        nominal: None,
        attempt: 1,
        trigger: Trigger::Schedule,
        started_at: base,
        host: "h".into(),
        pid: 1,
    };
    let old_miss = NotRunRecord {
        status: NotRun::Missed,
        reason: "old".into(),
        missed_count: None,
        paused: false,
    };
    store.record(&old, &old_miss).unwrap();
    drop(store);

    let (json, _) = out(&env.cmd(&["stats", "--json"]).assert().success());
    let stats: Vec<Value> = serde_json::from_str(&json).unwrap();
    assert_eq!(stats.len(), 1);
    let a = &stats[0];
    assert_eq!(a["runs"], 10);
    assert_eq!(a["succeeded"], 9);
    assert_eq!(a["failures"], 1);
    assert_eq!(a["not_run"], 1);
    assert_eq!(a["success_rate"], 0.9);
    assert_eq!(a["duration_p50_ms"], 500);
    assert_eq!(a["duration_p95_ms"], 1000);
    assert_eq!(a["duration_max_ms"], 1000);
    assert_eq!(a["mean_start_delay_ms"], 20);
    let (table, _) = out(&env.cmd(&["stats"]).assert().success());
    assert!(table.contains("90%") && table.contains("P95"), "{table}");
    let (json, _) = out(&env
        .cmd(&["stats", "--since", "60d", "--json"])
        .assert()
        .success());
    let stats: Vec<Value> = serde_json::from_str(&json).unwrap();
    assert_eq!(stats[0]["not_run"], 2);
    let (_, err) = out(&env.cmd(&["stats", "nosuchjob"]).assert().code(2));
    assert!(err.contains("no job `nosuchjob`"), "{err}");
}

#[test]
fn pause_and_resume_reach_a_running_scheduler() {
    let env = Env::new(
        "[jobs.tick]\ncron = \"* * * * * *\"\ncommand = \"true\"\n[jobs.other]\ncron = \"* * * * * *\"\ncommand = \"true\"\n",
    );
    let mut scheduler = env.start(&[]);
    env.wait_for_history("runs", |rows| count(rows, "tick", "succeeded") >= 1);
    let (text, _) = out(&env.cmd(&["pause", "tick"]).assert().success());
    assert!(
        text.contains("paused: tick") && text.contains("the running scheduler (pid"),
        "{text}"
    );
    assert!(
        text.contains(") applied it"),
        "said only once acknowledged: {text}"
    );
    env.wait_for_history("a paused fire", |rows| {
        rows.iter().any(|r| {
            r["job"] == "tick"
                && status(r) == "skipped"
                && r["reason"].as_str().unwrap().contains("paused")
        })
    });
    let (list, _) = out(&env.cmd(&["list"]).assert().success());
    let line = list.lines().find(|l| l.contains("tick")).unwrap();
    assert!(line.contains("paused"), "{list}");
    let (json, _) = out(&env.cmd(&["list", "--json"]).assert().success());
    let jobs: Vec<Value> = serde_json::from_str(&json).unwrap();
    assert_eq!(jobs[0]["paused"], true);
    assert_eq!(jobs[1]["paused"], false);

    env.cmd(&["resume", "tick"]).assert().success();
    let resumed = chrono::Utc::now().timestamp_millis();
    env.wait_for_history("runs after resume", |rows| {
        rows.iter().any(|r| {
            r["job"] == "tick" && status(r) == "succeeded" && ms(r, "scheduled_for") > resumed
        })
    });
    scheduler.signal(nix::sys::signal::Signal::SIGTERM);
    assert!(scheduler.wait().success());
    // `other` never paused.
    assert_eq!(
        env.history(&["other"])
            .iter()
            .filter(|r| status(r) == "skipped")
            .count(),
        0
    );
}

#[test]
fn pause_survives_a_restart_and_names_are_checked() {
    let env = Env::new("[jobs.a]\ncron = \"* * * * * *\"\ncommand = \"true\"\n");
    let (text, _) = out(&env.cmd(&["pause", "--all"]).assert().success());
    assert!(text.contains("no scheduler is running"), "{text}");
    let (_, err) = out(&env.cmd(&["pause", "b"]).assert().code(2));
    assert!(err.contains("no job `b`"), "{err}");
    env.cmd(&["pause"]).assert().code(2);
    let mut scheduler = env.start(&[]);
    // One row for the pause, counting the fires it skipped.
    env.wait_for_history("skipped fires", |rows| {
        rows.iter()
            .any(|r| status(r) == "skipped" && r["missed_count"].as_u64() >= Some(2))
    });
    scheduler.signal(nix::sys::signal::Signal::SIGTERM);
    scheduler.wait();
    assert_eq!(count(&env.history(&[]), "a", "succeeded"), 0);
    assert_eq!(count(&env.history(&[]), "a", "skipped"), 1);
}

#[test]
fn trigger_without_a_scheduler_runs_the_job_here() {
    let env = Env::new(
        "[jobs.greet]\nevery = \"1h\"\ncommand = \"echo hello from $SCHEDULE_JOB; echo oops >&2; exit 4\"\n",
    );
    let a = env.cmd(&["trigger", "greet", "--wait"]).assert().code(4);
    let (stdout, stderr) = out(&a);
    assert_eq!(stdout, "hello from greet\n");
    assert!(
        stderr.contains("oops")
            && stderr.contains("running `greet` here")
            && stderr.contains("failed"),
        "{stderr}"
    );
    let rows = env.history(&[]);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["trigger"], "manual");
    assert_eq!(rows[0]["exit_code"], 4);
    // Without --wait it still records the run, and exits 0.
    env.cmd(&["trigger", "greet"]).assert().success();
    assert_eq!(env.history(&[]).len(), 2);
    let (_, err) = out(&env.cmd(&["trigger", "nope"]).assert().code(2));
    assert!(err.contains("no job `nope`"), "{err}");
}

#[test]
fn trigger_hands_the_run_to_a_running_scheduler_which_applies_overlap() {
    let env = Env::new(
        "[jobs.quick]\nevery = \"1h\"\ncommand = \"echo one; echo two >&2; exit 3\"\n[jobs.long]\nevery = \"1h\"\nrun_on_start = true\ncommand = \"exec sleep 300\"\n",
    );
    let mut scheduler = env.start(&["--shutdown-grace", "1s"]);
    wait_for_log(&scheduler, "scheduler started");
    // Handed over, streamed back, and the job's exit code passed on.
    let a = env
        .cmd(&["trigger", "quick", "--wait"])
        .timeout(PATIENCE)
        .assert()
        .code(3);
    let (stdout, stderr) = out(&a);
    assert_eq!(stdout, "one\n");
    assert!(
        stderr.contains("handed to the running scheduler (pid") && stderr.contains("two"),
        "{stderr}"
    );
    let rows = env.history(&["quick"]);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["trigger"], "manual");
    assert_eq!(
        rows[0]["pid"].as_u64(),
        Some(u64::from(scheduler.child.id()))
    );
    // `long` is running (run_on_start): overlap = skip turns a trigger away.
    env.running_run("long");
    let (_, stderr) = out(&env
        .cmd(&["trigger", "long", "--wait"])
        .timeout(PATIENCE)
        .assert()
        .code(1));
    assert!(
        stderr.contains("skipped") && stderr.contains("still running"),
        "{stderr}"
    );
    // Without --wait it returns at once.
    env.cmd(&["trigger", "quick"])
        .timeout(PATIENCE)
        .assert()
        .success();
    env.wait_for_history("the second manual run", |rows| {
        count(rows, "quick", "failed") >= 2
    });
    scheduler.signal(nix::sys::signal::Signal::SIGTERM);
    assert!(scheduler.wait().success());
}

#[test]
fn requests_in_the_same_millisecond_each_get_their_run_and_stale_ones_never_run() {
    use schedule::store::{self, Location, Mode};
    let env = Env::new("[jobs.quick]\nevery = \"1h\"\ncommand = \"true\"\n");
    // A request left over from before the scheduler started: nobody waits.
    let stale = {
        let mut store =
            store::open(&Location::Sqlite(env.path("schedule.db")), Mode::Write).unwrap();
        store
            .add_request(
                "quick",
                chrono::Utc::now() - chrono::TimeDelta::minutes(5),
                false,
            )
            .unwrap()
    };
    let mut scheduler = env.start(&[]);
    wait_for_log(&scheduler, "scheduler started");
    let mut store = store::open(&Location::Sqlite(env.path("schedule.db")), Mode::Write).unwrap();
    let at = chrono::Utc::now();
    let first = store.add_request("quick", at, false).unwrap();
    let second = store.add_request("quick", at, false).unwrap();
    let deadline = std::time::Instant::now() + PATIENCE;
    let linked = loop {
        let a = store.request_state(first).unwrap();
        let b = store.request_state(second).unwrap();
        if let (Some(x), Some(y)) = (a.run_id, b.run_id) {
            break (x, y);
        }
        assert!(a.error.is_none() && b.error.is_none(), "{a:?} {b:?}");
        assert!(
            std::time::Instant::now() < deadline,
            "requests never linked: {a:?} {b:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_ne!(linked.0, linked.1);
    let state = store.request_state(stale).unwrap();
    assert!(state.error.unwrap().contains("in time"));
    scheduler.signal(nix::sys::signal::Signal::SIGTERM);
    assert!(scheduler.wait().success());
    let manual = env
        .history(&[])
        .iter()
        .filter(|r| r["trigger"] == "manual")
        .count();
    assert_eq!(manual, 2, "the stale request did not run");
}

#[test]
fn ctrl_c_stops_a_job_the_trigger_runs_itself_and_records_it() {
    let env =
        Env::new("[jobs.long]\nevery = \"1h\"\ncommand = \"echo $$ > pid; exec sleep 300\"\n");
    let mut trigger = std::process::Command::new(assert_cmd::cargo::cargo_bin("schedule"))
        .current_dir(env.dir.path())
        .args(["trigger", "long", "--wait"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = wait_for_pids(&env.path("pid"), 1)[0];
    // While it runs, a scheduler is refused and told why.
    let refused = env.cmd(&["run"]).timeout(PATIENCE).assert().code(1);
    let (_, err) = out(&refused);
    assert!(
        err.contains("`schedule trigger` running a job by itself"),
        "{err}"
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(trigger.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let exit = trigger.wait().unwrap();
    assert!(!exit.success());
    assert!(!alive(pid), "the job survived Ctrl-C");
    let rows = env.history(&[]);
    assert_eq!(rows.len(), 1);
    assert_eq!(status(&rows[0]), "cancelled", "{rows:#?}");
    assert!(rows[0]["child_pid"].as_u64().is_some());
}

#[test]
fn a_job_paused_then_removed_can_still_be_resumed_and_typos_change_nothing() {
    let env = Env::new(
        "[jobs.a]\nevery = \"1h\"\ncommand = \"true\"\n[jobs.b]\nevery = \"1h\"\ncommand = \"true\"\n",
    );
    env.cmd(&["pause", "nope"]).assert().code(2);
    assert!(
        !env.path("schedule.db").exists(),
        "a bad name wrote nothing"
    );
    env.cmd(&["pause", "a", "b"]).assert().success();
    std::fs::write(
        env.path("jobs.toml"),
        "[jobs.b]\nevery = \"1h\"\ncommand = \"true\"\n",
    )
    .unwrap();
    env.cmd(&["resume", "a"]).assert().success();
    env.cmd(&["resume", "--all"]).assert().success();
    use schedule::store::{self, Location, Mode};
    let mut store = store::open(&Location::Sqlite(env.path("schedule.db")), Mode::Read).unwrap();
    assert!(store.paused().unwrap().is_empty());
}

/// `pause` says a running scheduler applied it only once the scheduler says
/// so: a stopped scheduler does not answer, and the client says it did not.
#[test]
fn pause_says_applied_only_when_the_scheduler_acknowledges_it() {
    let env = Env::new("[jobs.tick]\nevery = \"1h\"\ncommand = \"true\"\n");
    let scheduler = env.start(&[]);
    wait_for_log(&scheduler, "scheduler started");
    // A stop that lands while the scheduler is inside one of its start-up
    // writes leaves the database locked until it goes on: `pause` then
    // fails, having changed nothing, and is tried again with the next stop.
    let mut tries = 0;
    let text = loop {
        scheduler.signal(nix::sys::signal::Signal::SIGSTOP);
        let output = env.cmd(&["pause", "tick"]).output().unwrap();
        scheduler.signal(nix::sys::signal::Signal::SIGCONT);
        let stderr = String::from_utf8_lossy(&output.stderr).to_string();
        if output.status.success() {
            break String::from_utf8_lossy(&output.stdout).to_string();
        }
        tries += 1;
        assert!(
            stderr.contains("locked") && tries < 5,
            "pause failed: {stderr}"
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    };
    assert!(text.contains("has not applied it yet"), "{text}");
    assert!(!text.contains(") applied it"), "{text}");
    // Once it runs again it applies it, and the next pause is acknowledged.
    let (text, _) = out(&env.cmd(&["resume", "tick"]).assert().success());
    assert!(text.contains(") applied it"), "{text}");
}
