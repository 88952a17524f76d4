//! `list`, `history`, `next` and `completions` through the real binary.

mod common;

use common::*;
use serde_json::Value;

fn stdout(assert: assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stdout).to_string()
}

#[test]
fn next_with_an_expression_needs_no_config() {
    let env = Env::new("");
    std::fs::remove_file(env.path("jobs.toml")).unwrap();
    let out = stdout(
        env.cmd(&[
            "next",
            "15 1-3 * * *",
            "--tz",
            "America/New_York",
            "--after",
            "2026-11-01T00:00:00-04:00",
            "--count",
            "4",
        ])
        .assert()
        .success(),
    );
    assert_eq!(
        out,
        "2026-11-01T01:15:00-04:00\n2026-11-01T02:15:00-05:00\n2026-11-01T03:15:00-05:00\n2026-11-02T01:15:00-05:00\n"
    );
    let out = stdout(
        env.cmd(&[
            "next",
            "every 90s",
            "--after",
            "2026-11-21T00:00:00Z",
            "-n",
            "2",
        ])
        .assert()
        .success(),
    );
    assert_eq!(
        out,
        "2026-11-21T00:01:30+00:00\n2026-11-21T00:03:00+00:00\n"
    );
    let out = stdout(
        env.cmd(&[
            "next",
            "@daily",
            "--after",
            "2026-11-21T10:00:00Z",
            "--count",
            "1",
            "--json",
        ])
        .assert()
        .success(),
    );
    let rows: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(rows[0]["at"], "2026-11-22T00:00:00Z");
    assert_eq!(rows[0]["local"], "2026-11-22T00:00:00+00:00");
}

#[test]
fn next_of_a_job_uses_its_zone() {
    let env = Env::new(
        "[jobs.backup]\ncron = \"30 2 * * *\"\ntimezone = \"Europe/Berlin\"\ncommand = \"true\"\n",
    );
    let out = stdout(
        env.cmd(&[
            "next",
            "backup",
            "--after",
            "2026-03-28T12:00:00Z",
            "-n",
            "2",
        ])
        .assert()
        .success(),
    );
    assert_eq!(
        out,
        "2026-03-29T03:00:00+02:00\n2026-03-30T02:30:00+02:00\n"
    );
    // --tz only changes how the instants are shown.
    let out = stdout(
        env.cmd(&[
            "next",
            "backup",
            "--after",
            "2026-03-28T12:00:00Z",
            "-n",
            "1",
            "--tz",
            "UTC",
        ])
        .assert()
        .success(),
    );
    assert_eq!(out, "2026-03-29T01:00:00+00:00\n");
    let err = env.cmd(&["next", "backpu"]).assert().code(2);
    let err = String::from_utf8_lossy(&err.get_output().stderr).to_string();
    assert!(
        err.contains("no job `backpu`") && err.contains("did you mean `backup`?"),
        "{err}"
    );
}

#[test]
fn list_shows_schedules_next_runs_and_last_runs() {
    let env = Env::new(
        r#"
[jobs.backup]
cron = "0 2 * * *"
timezone = "Europe/Berlin"
command = "true"

[jobs.sync]
every = "5m"
command = "true"

[jobs.off]
cron = "@daily"
command = "true"
enabled = false
"#,
    );
    // Before any run there is no database; list still works.
    let out = stdout(env.cmd(&["list"]).assert().success());
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(
        lines[0].contains("NAME") && lines[0].contains("NEXT RUN") && lines[0].contains("LAST RUN")
    );
    assert!(
        lines[1].contains("backup")
            && lines[1].contains("0 2 * * *")
            && lines[1].contains("Europe/Berlin")
    );
    assert!(lines[1].contains("02:00:00 CE"), "{out}");
    assert!(
        lines[2].contains("every 5m") && (lines[2].contains("(in ") || lines[2].contains("(now)")),
        "{out}"
    );
    assert!(lines[3].contains("disabled"), "{out}");
    assert!(
        !env.path("schedule.db").exists(),
        "list does not create the database"
    );

    let json: Vec<Value> =
        serde_json::from_str(&stdout(env.cmd(&["list", "--json"]).assert().success())).unwrap();
    assert_eq!(json.len(), 3);
    assert_eq!(json[0]["name"], "backup");
    assert_eq!(json[0]["schedule"], "0 2 * * *");
    assert_eq!(json[0]["timezone"], "Europe/Berlin");
    assert!(json[0]["next_run"].as_str().unwrap().ends_with('Z'));
    assert_eq!(json[1]["schedule"], "every 5m");
    assert_eq!(json[2]["enabled"], false);
    assert!(json[2]["next_run"].is_null());
    assert!(json[0]["last_run"].is_null());
}

#[test]
fn history_and_list_read_a_database_of_the_first_schema_version() {
    let env = Env::new("[jobs.backup]\ncron = \"0 2 * * *\"\ncommand = \"true\"\n");
    std::fs::copy("tests/fixtures/schema-v1.db", env.path("schedule.db")).unwrap();
    let rows = env.history(&[]);
    assert_eq!(rows.len(), 3);
    let failed = env.history(&["--failed"]);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["job"], "backup");
    assert_eq!(failed[0]["exit_code"], 3);
    for key in [
        "id",
        "job",
        "scheduled_for",
        "started_at",
        "finished_at",
        "status",
        "exit_code",
        "signal",
        "duration_ms",
        "reason",
        "host",
        "pid",
        "stdout_tail",
        "stderr_tail",
    ] {
        assert!(failed[0].get(key).is_some(), "JSON field {key} missing");
    }
    let table = stdout(env.cmd(&["history", "--failed"]).assert().success());
    assert!(table.contains("pg_dump: error"), "{table}");
    let list = stdout(env.cmd(&["list"]).assert().success());
    assert!(list.contains("succeeded ("), "{list}");
    let none = stdout(env.cmd(&["history", "nosuchjob"]).assert().success());
    assert_eq!(none, "no runs match\n");
    let since = env.history(&["--since", "2099-01-01"]);
    assert!(since.is_empty());
}

#[test]
fn history_without_a_database_says_where_it_looked() {
    let env = Env::new("");
    let err = env.cmd(&["history"]).assert().code(1);
    let err = String::from_utf8_lossy(&err.get_output().stderr).to_string();
    assert!(
        err.contains("schedule.db") && err.contains("schedule run"),
        "{err}"
    );
    assert!(!env.path("schedule.db").exists());
}

#[test]
fn help_has_examples() {
    let env = Env::new("");
    let out = stdout(env.cmd(&["--help"]).assert().success());
    assert!(
        out.contains("Examples:") && out.contains("schedule history --failed"),
        "{out}"
    );
    for sub in [
        "run",
        "list",
        "history",
        "next",
        "check",
        "trigger",
        "pause",
        "resume",
        "show",
        "stats",
        "completions",
    ] {
        let out = stdout(env.cmd(&[sub, "--help"]).assert().success());
        assert!(
            out.contains("Examples:"),
            "{sub} --help has no examples:\n{out}"
        );
    }
}

/// The committed completion scripts must match the CLI definition. After
/// changing the CLI, regenerate them with
/// `UPDATE_GENERATED=1 cargo test --test commands generated`.
#[test]
fn generated_completions_are_up_to_date() {
    use clap_complete::Shell;
    let update = std::env::var_os("UPDATE_GENERATED").is_some();
    for (shell, file) in [
        (Shell::Bash, "schedule.bash"),
        (Shell::Zsh, "_schedule"),
        (Shell::Fish, "schedule.fish"),
        (Shell::Elvish, "schedule.elv"),
        (Shell::PowerShell, "_schedule.ps1"),
    ] {
        let path = std::path::Path::new("completions").join(file);
        let fresh = stdout(
            Env::new("")
                .cmd(&["completions", &shell.to_string()])
                .assert()
                .success(),
        );
        assert!(fresh.contains("schedule"), "{shell}: {fresh}");
        if update {
            std::fs::write(&path, &fresh).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == fresh,
            "{} is stale: run `UPDATE_GENERATED=1 cargo test --test commands generated`",
            path.display()
        );
    }
}

/// The man page is generated from the same definition as `--help`; after
/// changing the CLI, regenerate it with
/// `UPDATE_GENERATED=1 cargo test --test commands generated`.
#[test]
fn generated_man_page_is_up_to_date() {
    use clap::CommandFactory;
    let mut fresh = Vec::new();
    clap_mangen::Man::new(schedule::cli::Cli::command())
        .render(&mut fresh)
        .unwrap();
    let fresh = String::from_utf8(fresh).unwrap();
    assert!(
        fresh.contains(".TH schedule") && fresh.contains("trigger"),
        "{fresh}"
    );
    let path = std::path::Path::new("man/schedule.1");
    if std::env::var_os("UPDATE_GENERATED").is_some() {
        std::fs::create_dir_all("man").unwrap();
        std::fs::write(path, &fresh).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == fresh,
        "man/schedule.1 is stale: run `UPDATE_GENERATED=1 cargo test --test commands generated`"
    );
}

/// `0 0 30 2 *` is how some repositories disable a job: it loads, `list`
/// says `never`, `next` prints nothing and says why, and both exit 0.
#[test]
fn a_line_that_never_fires_loads_and_says_never() {
    let env = Env::new("[jobs.off]\ncron = \"0 0 30 2 *\"\ncommand = \"true\"\n");
    let out = stdout(env.cmd(&["list"]).assert().success());
    let row = out.lines().find(|l| l.contains("off")).unwrap();
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells[cells.len() - 2], "never", "{out}");
    for target in ["off", "0 0 31 2 *"] {
        let out = env.cmd(&["next", target]).assert().success();
        let output = out.get_output();
        assert!(output.stdout.is_empty(), "{target}");
        let err = String::from_utf8_lossy(&output.stderr);
        assert!(err.contains("never fires"), "{target}: {err}");
    }
    let out = env.cmd(&["check"]).assert().success();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("job `off`, key `cron`: never fires"), "{err}");
}
