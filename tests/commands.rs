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
    // One form for every instant in JSON: UTC, milliseconds always.
    assert_eq!(rows[0]["at"], "2026-11-22T00:00:00.000Z");
    assert_eq!(rows[0]["local"], "2026-11-22T00:00:00.000+00:00");
}

#[test]
fn next_takes_a_date_asks_for_a_zone_and_utc_wins_over_tz_for_showing() {
    let env = Env::new(
        "[jobs.off]\ncron = \"0 9 * * *\"\ntimezone = \"Europe/Berlin\"\ncommand = \"true\"\nenabled = false\n",
    );
    // A date, as `history --since` takes it: its UTC midnight.
    let out = stdout(
        env.cmd(&["next", "@daily", "--after", "2026-11-20", "-n", "1"])
            .assert()
            .success(),
    );
    assert_eq!(out, "2026-11-21T00:00:00+00:00\n");
    // No zone: say how to give one.
    let a = env
        .cmd(&["next", "@daily", "--after", "2026-11-20T10:00:00"])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(
        err.contains("has no time zone; add `Z` for UTC (`2026-11-20T10:00:00Z`)"),
        "{err}"
    );
    assert!(!err.contains("premature"), "{err}");
    // --tz counts the expression in Berlin, --utc shows the result in UTC.
    let out = stdout(
        env.cmd(&[
            "next",
            "0 9 * * *",
            "--tz",
            "Europe/Berlin",
            "--utc",
            "--after",
            "2026-11-20T00:00:00Z",
            "-n",
            "1",
        ])
        .assert()
        .success(),
    );
    assert_eq!(out, "2026-11-20T08:00:00+00:00\n");
    // A disabled job: a plain warning, not a log line.
    let a = env
        .cmd(&["next", "off", "--after", "2026-11-20T00:00:00Z", "-n", "1"])
        .assert()
        .success();
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert_eq!(
        err,
        "warning: job `off` is disabled: these are the instants it would fire at\n"
    );
    assert_eq!(
        String::from_utf8_lossy(&a.get_output().stdout),
        "2026-11-20T09:00:00+01:00\n"
    );
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
        "2026-03-29T03:00:00+02:00 (for 2026-03-29 02:30:00 local time, skipped by the daylight-saving change)\n\
         2026-03-30T02:30:00+02:00\n"
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
    assert_eq!(
        out,
        "2026-03-29T01:00:00+00:00 (for 2026-03-29 02:30:00 local time, skipped by the daylight-saving change)\n"
    );
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
    assert_eq!(lines.len(), 5, "{out}");
    assert!(lines[0].starts_with("no scheduler running on "), "{out}");
    let lines = &lines[1..];
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
        lines[0].contains("LEFT") && lines[0].contains("PASSED") && lines[0].contains("COMMAND"),
        "{out}"
    );
    // every 5m: the next fire is at most 5 minutes away, and LEFT says so.
    let cells: Vec<&str> = lines[2].split_whitespace().collect();
    let left = cells
        .iter()
        .position(|c| *c == "UTC")
        .map(|i| cells[i + 4])
        .unwrap();
    assert!(
        lines[2].contains("every 5m")
            && (left == "now" || left.ends_with('s') || left.ends_with('m')),
        "{left}: {out}"
    );
    assert!(lines[3].contains("disabled"), "{out}");
    assert!(
        !env.path("schedule.db").exists(),
        "list does not create the database"
    );

    let json: Vec<Value> =
        serde_json::from_str(&stdout(env.cmd(&["list", "--json"]).assert().success())).unwrap();
    assert_eq!(json.len(), 3);
    assert_eq!(json[0]["job"], "backup");
    assert_eq!(json[0]["schedule"], "0 2 * * *");
    assert_eq!(json[0]["timezone"], "Europe/Berlin");
    assert!(json[0]["next_run"].as_str().unwrap().ends_with('Z'));
    assert_eq!(json[1]["schedule"], "every 5m");
    assert_eq!(json[2]["enabled"], false);
    assert!(json[2]["next_run"].is_null());
    assert!(json[0]["last_run"].is_null());
    let one: Vec<Value> = serde_json::from_str(&stdout(
        env.cmd(&["list", "off", "--json"]).assert().success(),
    ))
    .unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0]["job"], "off");
    let err = env.cmd(&["list", "nosuch"]).assert().code(2);
    assert!(String::from_utf8_lossy(&err.get_output().stderr).contains("no job `nosuch`"));
    assert_eq!(
        stdout(env.cmd(&["list", "--failed"]).assert().success()),
        "no job's last run failed\n"
    );
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
    // More than a day ago: with its weekday.
    assert!(
        list.contains("succeeded Tue 2026-09-22 14:13:20 UTC"),
        "{list}"
    );
    // --failed keeps the jobs whose last run went wrong; JOB… picks jobs.
    let failed: Vec<Value> = serde_json::from_str(&stdout(
        env.cmd(&["list", "--failed", "--json"]).assert().success(),
    ))
    .unwrap();
    assert!(
        failed.iter().all(|j| j["last_run"]["status"] == "failed"),
        "{failed:?}"
    );
    env.cmd(&["history", "nosuchjob"]).assert().code(2);
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
        "init",
        "import",
        "import crontab",
        "completions",
    ] {
        let mut args: Vec<&str> = sub.split(' ').collect();
        args.push("--help");
        let out = stdout(env.cmd(&args).assert().success());
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

/// Text for roff: backslashes and hyphens escaped, and a line that would
/// start with `.` or `'` (a request) guarded.
fn roff_text(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with('.') || escaped.starts_with('\'') {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

/// `Examples:` in a command's after-help, as a no-fill block: examples are
/// shown as typed, never justified or hyphenated.
fn roff_examples(cmd: &clap::Command) -> String {
    let Some(help) = cmd.get_after_help().map(|h| h.to_string()) else {
        return String::new();
    };
    let body = help.strip_prefix("Examples:\n").unwrap_or(&help);
    let mut out = String::from(".SH EXAMPLES\n.nf\n");
    for line in body.lines() {
        out.push_str(&roff_text(line.strip_prefix("  ").unwrap_or(line)));
        out.push('\n');
    }
    out.push_str(".fi\n");
    out
}

/// The sections of schedule(1) that are not in `--help`.
const MAN_FILES_AND_MORE: &str = r#".SH JOBS.TOML
The jobs file is TOML. \fB[jobs.NAME]\fR defines one job with exactly one of \fBcron\fR (a cron expression) or \fBevery\fR (a duration), and \fBcommand\fR. \fB[defaults]\fR holds settings every job inherits; \fB[scheduler]\fR holds \fBmax_concurrent\fR, \fBmax_queued\fR, \fBkeep\fR, \fBkeep_runs\fR and \fBhttp\fR. A name with a dot is quoted: \fB[jobs."db.backup"]\fR.
.PP
.nf
[defaults]
timezone = "Europe/Berlin"
timeout = "1h"

[jobs.backup]
cron = "0 2 * * *"
command = "restic backup /srv"

[jobs.sweep]
every = "5m"
command = "./sweep.sh \-\-older\-than 7d"
dir = "scripts"
.fi
.PP
Durations are whole numbers each with a unit: \fBms\fR, \fBs\fR, \fBm\fR, \fBh\fR, \fBd\fR, \fBw\fR (\fB1h30m\fR), or spelt out (\fB5 minutes\fR, \fB2 hours\fR). \fBschedule check\fR validates a file and explains its surprises. The README lists every key.
.SH FILES
.TP
\fB./jobs.toml\fR
The jobs file, unless \fB\-\-config\fR or \fBSCHEDULE_CONFIG\fR names another.
.TP
\fBschedule.db\fR beside the jobs file
The history database (SQLite), unless \fB\-\-db\fR or \fBSCHEDULE_DB\fR names another (a path, or a \fBpostgres://\fR URL for PostgreSQL); created by \fBschedule run\fR, with \fBschedule.db\-wal\fR, \fBschedule.db\-shm\fR, \fBschedule.db.lock\fR and \fBschedule.db.notify\fR beside it.
.SH ENVIRONMENT
.TP
\fBSCHEDULE_CONFIG\fR
The jobs file (as \fB\-\-config\fR).
.TP
\fBSCHEDULE_DB\fR
The history database (as \fB\-\-db\fR).
.TP
\fBSCHEDULE_HTTP\fR
The address \fBschedule run\fR serves /health and /metrics on (as \fB\-\-http\fR).
.TP
\fBRUST_LOG\fR
The log filter, instead of \fB\-v\fR and \fB\-q\fR (e.g. \fBinfo,schedule::job=off\fR).
.TP
\fBNO_COLOR\fR
When set and not empty, no colours (as \fB\-\-color never\fR).
.PP
A job's command also sees \fBSCHEDULE_JOB\fR, \fBSCHEDULE_RUN_ID\fR and \fBSCHEDULE_SCHEDULED_FOR\fR; hooks see \fBSCHEDULE_STATUS\fR, \fBSCHEDULE_EXIT_CODE\fR and \fBSCHEDULE_DURATION_MS\fR too.
.SH "EXIT STATUS"
.TP
\fB0\fR
Success; also after a clean shutdown of \fBschedule run\fR.
.TP
\fB1\fR
Runtime failure: the database cannot be opened, read or written, or another \fBschedule run\fR holds it.
.TP
\fB2\fR
Bad usage or bad config: an unknown flag or job, a bad \fB\-\-since\fR, \fB\-\-after\fR or \fB\-\-tz\fR, an invalid jobs.toml, warnings under \fBcheck \-\-strict\fR.
.TP
\fIany\fR
\fBtrigger \-\-wait\fR exits with the job's exit code (128 + n for a signal).
"#;

/// The man pages: schedule(1) and one per command (schedule-run(1), ...),
/// from the same definition as `--help`, with the examples unfilled and
/// schedule(1) telling the files, environment, exit status and jobs.toml.
fn man_pages() -> Vec<(String, String)> {
    use clap_mangen::Man;
    let mut top = schedule::cli::command();
    top.build();
    let render = |cmd: &clap::Command, name: &str, main: bool| -> String {
        let name: &'static str = Box::leak(name.to_string().into_boxed_str());
        let mut cmd = cmd.clone().name(name);
        if !main {
            cmd = cmd.bin_name(name.replace('-', " "));
        }
        let man = Man::new(cmd.clone()).source(format!("schedule {}", env!("CARGO_PKG_VERSION")));
        let mut out = Vec::new();
        man.render_title(&mut out).unwrap();
        man.render_name_section(&mut out).unwrap();
        man.render_synopsis_section(&mut out).unwrap();
        man.render_description_section(&mut out).unwrap();
        if cmd.get_arguments().any(|a| !a.is_hide_set()) {
            man.render_options_section(&mut out).unwrap();
        }
        // Each part brings the same two-line preamble; one is enough.
        let text = String::from_utf8(out).unwrap();
        let preamble = ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n";
        // No hyphenation anywhere: flags, paths and names are split badly.
        let mut out = format!("{preamble}.nh\n");
        out.push_str(&text.replace(preamble, ""));
        if main {
            out.push_str(".SH COMMANDS\n");
            for sub in top
                .get_subcommands()
                .filter(|s| !s.is_hide_set() && s.get_name() != "help")
            {
                let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
                out.push_str(&format!(
                    ".TP\n\\fBschedule {0}\\fR\n{1}; see \\fBschedule\\-{0}\\fR(1).\n",
                    sub.get_name(),
                    roff_text(&about)
                ));
            }
        }
        out.push_str(&roff_examples(&cmd));
        if main {
            out.push_str(MAN_FILES_AND_MORE);
        }
        out.push_str(".SH \"SEE ALSO\"\n");
        if main {
            let pages: Vec<String> = top
                .get_subcommands()
                .filter(|s| !s.is_hide_set() && s.get_name() != "help")
                .map(|s| format!("\\fBschedule\\-{}\\fR(1)", s.get_name()))
                .collect();
            out.push_str(&pages.join(", "));
        } else {
            out.push_str("\\fBschedule\\fR(1)");
        }
        out.push('\n');
        if cmd.get_version().is_some() {
            let mut version = Vec::new();
            man.render_version_section(&mut version).unwrap();
            out.push_str(&String::from_utf8(version).unwrap().replace(preamble, ""));
        }
        out
    };
    let mut pages = vec![("schedule.1".to_string(), render(&top, "schedule", true))];
    for sub in top
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
    {
        let name = format!("schedule-{}", sub.get_name());
        pages.push((format!("{name}.1"), render(sub, &name, false)));
    }
    pages
}

/// The man pages are generated from the same definition as `--help`; after
/// changing the CLI, regenerate them with
/// `UPDATE_GENERATED=1 cargo test --test commands generated`.
#[test]
fn generated_man_page_is_up_to_date() {
    let pages = man_pages();
    let update = std::env::var_os("UPDATE_GENERATED").is_some();
    if update {
        std::fs::create_dir_all("man").unwrap();
    }
    for (file, fresh) in &pages {
        let path = std::path::Path::new("man").join(file);
        if update {
            std::fs::write(&path, fresh).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            &committed == fresh,
            "{} is stale: run `UPDATE_GENERATED=1 cargo test --test commands generated`",
            path.display()
        );
    }
    let main = &pages[0].1;
    for section in [
        ".SH FILES",
        ".SH ENVIRONMENT",
        ".SH \"EXIT STATUS\"",
        ".SH JOBS.TOML",
    ] {
        assert!(main.contains(section), "{section} missing:\n{main}");
    }
    // Every page a page points at exists.
    let files: Vec<&str> = pages.iter().map(|(f, _)| f.as_str()).collect();
    for (file, text) in &pages {
        for reference in text.split("\\fBschedule\\-").skip(1) {
            let name = reference.split("\\fR(1)").next().unwrap();
            let page = format!("schedule-{name}.1");
            assert!(
                files.contains(&page.as_str()),
                "{file} points at a missing {page}"
            );
        }
        // Examples are not filled (justified, hyphenated).
        if let Some(examples) = text.split(".SH EXAMPLES\n").nth(1) {
            assert!(examples.starts_with(".nf\n"), "{file}: {examples}");
        }
    }
}

#[test]
fn completions_help_lists_only_what_applies_to_it() {
    let help = stdout(
        Env::new("")
            .cmd(&["completions", "--help"])
            .assert()
            .success(),
    );
    // Listed as options, that is; the text may mention `--config`.
    for flag in ["--config", "--db", "--utc", "--color", "--log-format"] {
        let listed = help.lines().any(|l| l.trim_start().starts_with(flag));
        assert!(!listed, "{flag} listed in:\n{help}");
    }
    assert!(help.contains("<SHELL>"), "{help}");
}

/// `0 0 30 2 *` is how some repositories disable a job: it loads, `list`
/// says `never`, `next` prints nothing and says why, and both exit 0.
#[test]
fn a_line_that_never_fires_loads_and_says_never() {
    let env = Env::new("[jobs.off]\ncron = \"0 0 30 2 *\"\ncommand = \"true\"\n");
    let out = stdout(env.cmd(&["list"]).assert().success());
    let row = out.lines().find(|l| l.contains("off")).unwrap();
    let cells: Vec<&str> = row.split_whitespace().collect();
    let zone = cells.iter().position(|c| *c == "UTC").unwrap();
    assert_eq!(cells[zone + 1], "never", "{out}");
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
