//! `schedule run` end to end: the real binary, real child processes, real
//! signals and the real SQLite file, read back through `schedule history`.

mod common;

use common::*;
use nix::sys::signal::Signal;
use std::time::{Duration, Instant};

#[test]
fn per_second_jobs_run_on_time_and_are_recorded() {
    let env = Env::new(
        r#"
[jobs.tick]
cron = "* * * * * *"
command = "echo tick $SCHEDULE_JOB $SCHEDULE_RUN_ID $GREETING"
env = { GREETING = "hello" }

[jobs.every-second]
every = "1s"
command = "pwd"
dir = "."
"#,
    );
    let mut scheduler = env.start(&[]);
    let rows = env.wait_for_history("three runs of each job", |rows| {
        count(rows, "tick", "succeeded") >= 3 && count(rows, "every-second", "succeeded") >= 3
    });
    scheduler.signal(Signal::SIGTERM);
    assert!(scheduler.wait().success(), "{}", scheduler.log());

    for row in rows.iter().filter(|r| status(r) == "succeeded") {
        let scheduled = ms(row, "scheduled_for");
        assert_eq!(scheduled % 1000, 0, "fires are on whole seconds: {row}");
        assert!(ms(row, "started_at") >= scheduled, "{row}");
        assert!(ms(row, "finished_at") >= ms(row, "started_at"), "{row}");
        assert_eq!(row["exit_code"], 0);
        assert!(row["pid"].as_u64().unwrap() > 0);
        assert!(!row["host"].as_str().unwrap().is_empty());
        let out = row["stdout_tail"].as_str().unwrap();
        if row["job"] == "tick" {
            assert_eq!(out, format!("tick tick {} hello\n", row["id"]));
        } else {
            // A relative dir is taken from the config file's folder.
            let dir = env.dir.path().canonicalize().unwrap();
            assert_eq!(out.trim_end(), dir.to_str().unwrap());
        }
    }
    // No fire was lost between the first and the last: one run per second.
    for job in ["tick", "every-second"] {
        let mut fires: Vec<i64> = rows
            .iter()
            .filter(|r| r["job"] == job)
            .map(|r| ms(r, "scheduled_for"))
            .collect();
        fires.sort();
        for pair in fires.windows(2) {
            assert_eq!(
                pair[1] - pair[0],
                1000,
                "{job}: a fire is missing or doubled: {fires:?}"
            );
        }
    }

    let log = scheduler.log();
    assert!(log.contains("scheduler started"), "{log}");
    assert!(log.contains("jobs=2"), "{log}");
    assert!(log.contains("run started"), "{log}");
    assert!(log.contains("run ended"), "{log}");
    assert!(log.contains("tick tick"), "job output is logged: {log}");
    assert!(log.contains("scheduler stopped"), "{log}");
}

/// A fire is claimed ahead of its instant, and its run held until then:
/// the command itself must never start before its instant, nor before the
/// start its row gives.
#[test]
fn a_fire_claimed_ahead_never_starts_before_its_instant() {
    let env = Env::new(
        r#"
[jobs.stamp]
cron = "* * * * * *"
command = ["date", "+%s%N"]
"#,
    );
    let mut scheduler = env.start(&[]);
    let rows = env.wait_for_history("four runs", |rows| count(rows, "stamp", "succeeded") >= 4);
    scheduler.signal(Signal::SIGTERM);
    assert!(scheduler.wait().success(), "{}", scheduler.log());
    for row in rows.iter().filter(|r| status(r) == "succeeded") {
        let stamped: i64 = row["stdout_tail"].as_str().unwrap().trim().parse().unwrap();
        let stamped_ms = stamped / 1_000_000;
        assert!(
            stamped_ms >= ms(row, "scheduled_for"),
            "started early: {row}"
        );
        assert!(
            stamped_ms >= ms(row, "started_at"),
            "started before its row says: {row}"
        );
    }
}

#[test]
fn a_failing_job_shows_under_history_failed_and_the_loop_goes_on() {
    let env = Env::new(
        r#"
[jobs.broken]
cron = "* * * * * *"
command = "echo 'error: disk on fire' >&2; exit 3"

[jobs.unspawnable]
every = "1s"
command = "true"
shell = "/nonexistent/shell"

[jobs.fine]
every = "1s"
command = "true"
"#,
    );
    let mut scheduler = env.start(&[]);
    env.wait_for_history("failures and successes", |rows| {
        count(rows, "broken", "failed") >= 2
            && count(rows, "unspawnable", "failed") >= 2
            && count(rows, "fine", "succeeded") >= 2
    });
    scheduler.signal(Signal::SIGINT);
    assert!(scheduler.wait().success());

    let failed = env.history(&["--failed"]);
    assert!(failed.iter().all(|r| status(r) == "failed"), "{failed:#?}");
    assert!(failed.iter().all(|r| r["job"] != "fine"));
    let broken = failed.iter().find(|r| r["job"] == "broken").unwrap();
    assert_eq!(broken["exit_code"], 3);
    assert_eq!(broken["stderr_tail"], "error: disk on fire\n");
    let unspawnable = failed.iter().find(|r| r["job"] == "unspawnable").unwrap();
    assert!(
        unspawnable["reason"]
            .as_str()
            .unwrap()
            .contains("/nonexistent/shell"),
        "{unspawnable}"
    );

    // The table names the failure.
    let out = env
        .cmd(&["history", "--failed", "broken"])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        text.contains("failed") && text.contains("error: disk on fire"),
        "{text}"
    );
    assert!(!text.contains("unspawnable"), "{text}");
}

#[test]
fn a_timed_out_job_is_killed_with_its_grandchildren() {
    // One grandchild exits on SIGTERM, the other ignores it and needs SIGKILL.
    let env = Env::new(
        r#"
[jobs.hang]
cron = "* * * * * *"
command = "sleep 300 & echo $! >> pids.$SCHEDULE_RUN_ID; (trap '' TERM; exec sleep 301) & echo $! >> pids.$SCHEDULE_RUN_ID; echo started; wait"
timeout = "3s"
kill_grace = "1s"
"#,
    );
    let mut scheduler = env.start(&[]);
    let rows = env.wait_for_history("a timed-out run", |rows| {
        count(rows, "hang", "timed_out") >= 1
    });
    let row = rows.iter().find(|r| status(r) == "timed_out").unwrap();
    let pids = pids_in(&env.path(&format!("pids.{}", row["id"])));
    assert_eq!(pids.len(), 2, "both grandchildren started");
    for pid in &pids {
        assert!(!alive(*pid), "grandchild {pid} survived the timeout");
    }
    assert!(
        row["reason"]
            .as_str()
            .unwrap()
            .contains("timed out after 3s")
    );
    assert_eq!(row["stdout_tail"], "started\n");
    // Killed after the timeout, not before; and long before the 300 s
    // sleeps would have ended (the SIGTERM-proof one needed the SIGKILL).
    let took = row["duration_ms"].as_i64().unwrap();
    assert!((3000..100_000).contains(&took), "{row}");
    scheduler.signal(Signal::SIGTERM);
    assert!(scheduler.wait().success());
    // Runs that were still going at shutdown were stopped too.
    for path in std::fs::read_dir(env.dir.path()).unwrap().flatten() {
        if path.file_name().to_string_lossy().starts_with("pids.") {
            for pid in pids_in(&path.path()) {
                assert!(!alive(pid), "process {pid} survived the shutdown");
            }
        }
    }
}

#[test]
fn a_busy_job_skips_fires_instead_of_overlapping() {
    let env = Env::new(
        r#"
[jobs.slow]
cron = "* * * * * *"
command = "sleep 2.5"
"#,
    );
    let mut scheduler = env.start(&[]);
    let rows = env.wait_for_history("a skipped fire", |rows| {
        count(rows, "slow", "skipped") >= 1 && count(rows, "slow", "succeeded") >= 1
    });
    scheduler.signal(Signal::SIGTERM);
    scheduler.wait();
    let skipped = rows.iter().find(|r| status(r) == "skipped").unwrap();
    assert!(
        skipped["reason"]
            .as_str()
            .unwrap()
            .contains("still running"),
        "{skipped}"
    );
    assert!(skipped["started_at"].is_null());
    // Never two runs at once: each run starts after the previous one ended.
    let mut runs: Vec<(i64, i64)> = env
        .history(&["slow"])
        .iter()
        .filter(|r| status(r) == "succeeded")
        .map(|r| (ms(r, "started_at"), ms(r, "finished_at")))
        .collect();
    runs.sort();
    for pair in runs.windows(2) {
        assert!(pair[1].0 >= pair[0].1, "overlap: {pair:?}");
    }
}

#[test]
fn sigterm_waits_for_running_jobs_within_the_grace() {
    let env = Env::new(
        r#"
[jobs.short]
every = "1s"
command = "echo $$ > started.$SCHEDULE_RUN_ID; sleep 2; echo done"
"#,
    );
    let mut scheduler = env.start(&["--shutdown-grace", "60s"]);
    let id = env.running_run("short");
    wait_for_pids(&env.path(&format!("started.{id}")), 1);
    scheduler.signal(Signal::SIGTERM);
    assert!(scheduler.wait().success(), "{}", scheduler.log());
    let rows = env.history(&[]);
    let run = rows.iter().find(|r| r["id"] == id).unwrap();
    assert_eq!(status(run), "succeeded", "{run}");
    assert_eq!(run["stdout_tail"], "done\n");
    // Every row was completed before the scheduler exited.
    assert!(rows.iter().all(|r| status(r) != "running"), "{rows:#?}");
    assert!(scheduler.log().contains("shutting down"));
}

#[test]
fn sigterm_cancels_runs_that_outlast_the_grace() {
    let env = Env::new(
        r#"
[jobs.long]
every = "1s"
command = "echo $$ >> pids.$SCHEDULE_RUN_ID; sleep 300"
kill_grace = "1s"
"#,
    );
    let mut scheduler = env.start(&["--shutdown-grace", "1s"]);
    let id = env.running_run("long");
    let pids = wait_for_pids(&env.path(&format!("pids.{id}")), 1);
    scheduler.signal(Signal::SIGTERM);
    assert!(scheduler.wait().success(), "{}", scheduler.log());
    let run = env.run(&id);
    assert_eq!(status(&run), "cancelled", "{run}");
    assert!(run["finished_at"].is_string());
    assert!(!alive(pids[0]), "the job survived the shutdown");
}

#[test]
fn a_second_signal_kills_at_once() {
    let env = Env::new(
        r#"
[jobs.stubborn]
every = "1s"
command = "trap '' TERM; echo $$ >> pids.$SCHEDULE_RUN_ID; sleep 300"
kill_grace = "5m"
"#,
    );
    let mut scheduler = env.start(&["--shutdown-grace", "1s"]);
    let id = env.running_run("stubborn");
    let pids = wait_for_pids(&env.path(&format!("pids.{id}")), 1);
    scheduler.signal(Signal::SIGTERM);
    // Past the shutdown grace, SIGTERM reached the job, which ignores it:
    // only a second signal (not the five-minute kill grace) ends this soon.
    let deadline = Instant::now() + PATIENCE;
    while !scheduler.log().contains("terminating running jobs") {
        assert!(Instant::now() < deadline, "{}", scheduler.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    scheduler.signal(Signal::SIGINT);
    assert!(scheduler.wait().success(), "{}", scheduler.log());
    let run = env.run(&id);
    assert_eq!(status(&run), "cancelled", "{run}");
    assert_eq!(run["signal"], 9, "{run}");
    assert!(!alive(pids[0]));
}

#[test]
fn a_restart_after_kill_9_marks_the_run_interrupted() {
    let env = Env::new(
        r#"
[jobs.long]
every = "1s"
command = "echo $$ >> pids.$SCHEDULE_RUN_ID; exec sleep 300"
"#,
    );
    let mut first = env.start(&[]);
    let id = env.running_run("long");
    let pids = wait_for_pids(&env.path(&format!("pids.{id}")), 1);
    first.signal(Signal::SIGKILL);
    first.wait();
    // The crash left a visible trace, and the job still runs.
    let run = env.run(&id);
    assert_eq!(status(&run), "running");
    assert!(alive(pids[0]));

    let mut second = env.start_logging_to("second.log", &[]);
    env.wait_for_history("the old run marked interrupted", |rows| {
        rows.iter()
            .any(|r| r["id"] == id && status(r) == "interrupted")
    });
    // The new scheduler stopped what the dead one left running, so the
    // job does not run twice at once.
    let deadline = Instant::now() + PATIENCE;
    while alive(pids[0]) {
        assert!(
            Instant::now() < deadline,
            "leftover job process {} survived",
            pids[0]
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    second.signal(Signal::SIGTERM);
    assert!(second.wait().success());
    let log = second.log();
    assert!(
        log.contains("interrupted") && log.contains("killed_leftover_processes=1"),
        "{log}"
    );
    let failed = env.history(&["--failed"]);
    assert!(
        failed.iter().any(|r| r["id"] == id),
        "interrupted counts as failed"
    );
}

#[test]
fn a_second_scheduler_on_the_same_database_is_refused() {
    let env = Env::new(
        r#"
[jobs.tick]
every = "1s"
command = "true"
"#,
    );
    let mut first = env.start(&[]);
    env.wait_for_history("the first scheduler running", |rows| !rows.is_empty());
    let out = env.cmd(&["run"]).timeout(PATIENCE).assert().code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains("already using"), "{stderr}");
    assert!(
        stderr.contains(&format!("pid {}", first.child.id())),
        "{stderr}"
    );
    first.signal(Signal::SIGTERM);
    assert!(first.wait().success());
}

#[test]
fn a_background_grandchild_holding_the_pipes_does_not_hold_the_run() {
    let env = Env::new(
        r#"
[jobs.forks]
cron = "* * * * * *"
command = "sleep 300 & echo $! > bg.$SCHEDULE_RUN_ID; echo shell done"
"#,
    );
    let mut scheduler = env.start(&[]);
    let rows = env.wait_for_history("a finished run", |rows| {
        count(rows, "forks", "succeeded") >= 1
    });
    scheduler.signal(Signal::SIGTERM);
    scheduler.wait();
    let run = rows.iter().find(|r| status(r) == "succeeded").unwrap();
    let bg = pids_in(&env.path(&format!("bg.{}", run["id"])));
    kill_all(&bg);
    assert_eq!(run["stdout_tail"], "shell done\n");
    // The run ended with the shell, not with the 300 s grandchild.
    assert!(run["duration_ms"].as_i64().unwrap() < 100_000, "{run}");
}

#[test]
fn a_closed_stderr_does_not_stop_the_scheduler() {
    // `schedule run 2>&1 | head -1`: the reader goes away, the scheduler goes on.
    let env = Env::new(
        r#"
[jobs.chatty]
cron = "* * * * * *"
command = "echo line one; echo line two"
"#,
    );
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("schedule"))
        .current_dir(env.dir.path())
        .env_remove("SCHEDULE_CONFIG")
        .env_remove("SCHEDULE_DB")
        .arg("run")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    env.wait_for_history("runs after stderr closed", |rows| {
        count(rows, "chatty", "succeeded") >= 3
    });
    assert!(child.try_wait().unwrap().is_none(), "the scheduler died");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        Signal::SIGTERM,
    )
    .unwrap();
    let deadline = Instant::now() + PATIENCE;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "did not stop");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
}

#[test]
fn a_background_process_outlives_its_run() {
    // cron keeps reading a job's output until the last writer is done;
    // so do we, so a background process is not killed by SIGPIPE.
    let env = Env::new(
        r#"
[jobs.spawner]
cron = "* * * * * *"
command = "(sleep 1.5; echo late; echo ok > alive.$SCHEDULE_RUN_ID) & echo done"
"#,
    );
    let mut scheduler = env.start(&[]);
    let rows = env.wait_for_history("a finished run", |rows| {
        count(rows, "spawner", "succeeded") >= 1
    });
    let id = rows.iter().find(|r| status(r) == "succeeded").unwrap()["id"].clone();
    let marker = env.path(&format!("alive.{id}"));
    let deadline = Instant::now() + PATIENCE;
    while !marker.exists() {
        assert!(
            Instant::now() < deadline,
            "the background process died: {}",
            scheduler.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    scheduler.signal(Signal::SIGTERM);
    assert!(scheduler.wait().success());
    // Its late output is still logged, tagged with its run.
    let log = scheduler.log();
    assert!(
        log.contains(&format!("late job=spawner run_id={id}")),
        "{log}"
    );
}

#[test]
fn the_exec_form_runs_the_program_itself_with_its_words_untouched() {
    let env = Env::new(
        "[jobs.words]\nevery = \"1h\"\nrun_on_start = true\ncommand = [\"/bin/echo\", \"$HOME\", \"two words\", \"a;b\"]\n\n\
         [jobs.direct]\nevery = \"1h\"\nrun_on_start = true\ncommand = [\"sleep\", \"30\"]\n\n\
         [jobs.missing]\nevery = \"1h\"\nrun_on_start = true\ncommand = [\"/nonexistent/prog\", \"x\"]\n",
    );
    let _scheduler = env.start(&["--shutdown-grace", "1s"]);
    let rows = env.wait_for_history("words and missing", |rows| {
        count(rows, "words", "succeeded") == 1 && count(rows, "missing", "failed") == 1
    });
    let words = rows.iter().find(|r| r["job"] == "words").unwrap();
    assert_eq!(words["stdout_tail"], "$HOME two words a;b\n");
    let missing = rows.iter().find(|r| r["job"] == "missing").unwrap();
    let reason = missing["reason"].as_str().unwrap();
    assert!(
        reason.contains("cannot start `/nonexistent/prog`"),
        "{reason}"
    );
    // No shell in between: the run's process is the program.
    let id = env.running_run("direct");
    let pid = loop {
        if let Some(pid) = env.run(&id)["child_pid"].as_i64() {
            break pid;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap();
    assert_eq!(comm.trim(), "sleep");
    let out = env.cmd(&["list", "--json"]).output().unwrap();
    let list: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list[0]["command"], "/bin/echo '$HOME' 'two words' 'a;b'");
}
