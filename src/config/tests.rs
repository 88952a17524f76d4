use super::*;

fn load(text: &str) -> Result<Config, Vec<Diagnostic>> {
    parse(Path::new("/etc/schedule/jobs.toml"), text)
}

fn one_error(text: &str) -> Diagnostic {
    let mut diags = load(text).expect_err("config should be rejected");
    assert_eq!(diags.len(), 1, "{diags:#?}");
    diags.remove(0)
}

#[test]
fn the_issue_example_loads_with_defaults_applied() {
    let config = load(
        r#"
[defaults]
timezone = "UTC"
timeout = "1h"
shell = "/bin/sh"

[jobs.backup]
cron = "0 2 * * *"
command = "pg_dump app > /var/backups/app.sql"
timezone = "Europe/Berlin"
timeout = "30m"
env = { PGHOST = "db" }
dir = "/var/backups"

[jobs.sync-orders]
every = "5m"
command = "curl -fsS http://localhost:8080/sync"
"#,
    )
    .unwrap();
    let names: Vec<&str> = config.jobs.iter().map(|j| &*j.name).collect();
    assert_eq!(names, ["backup", "sync-orders"]);
    let backup = config.job("backup").unwrap();
    assert_eq!(backup.settings.timezone, chrono_tz::Europe::Berlin);
    assert_eq!(backup.settings.timeout, Some(Duration::from_secs(1800)));
    assert_eq!(
        backup.settings.env,
        [("PGHOST".to_string(), "db".to_string())]
    );
    assert_eq!(
        backup.settings.dir.as_deref(),
        Some(Path::new("/var/backups"))
    );
    assert_eq!(backup.schedule.to_string(), "0 2 * * *");
    let sync = config.job("sync-orders").unwrap();
    assert_eq!(sync.settings.timezone, Tz::UTC);
    assert_eq!(sync.settings.timeout, Some(Duration::from_secs(3600)));
    assert_eq!(&*sync.settings.shell, "/bin/sh");
    assert_eq!(sync.settings.kill_grace, DEFAULT_KILL_GRACE);
    assert!(sync.settings.enabled);
    assert_eq!(sync.schedule.to_string(), "every 5m");
}

#[test]
fn jobs_keep_the_file_order_not_name_order() {
    let config = load(
        "[jobs.zeta]\nevery = \"1m\"\ncommand = \"true\"\n[jobs.alpha]\nevery = \"1m\"\ncommand = \"true\"\n",
    )
    .unwrap();
    assert_eq!(&*config.jobs[0].name, "zeta");
    assert_eq!(&*config.jobs[1].name, "alpha");
}

#[test]
fn env_merges_with_defaults_and_relative_dirs_follow_the_config_file() {
    let config = load(
        r#"
[defaults]
env = { A = "1", B = "2" }
dir = "scripts"
[jobs.j]
every = "1m"
command = "true"
env = { B = "3", C = "4" }
enabled = false
"#,
    )
    .unwrap();
    let job = &config.jobs[0];
    let env: Vec<(&str, &str)> = job
        .settings
        .env
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(env, [("A", "1"), ("B", "3"), ("C", "4")]);
    assert_eq!(
        job.settings.dir.as_deref(),
        Some(Path::new("/etc/schedule/scripts"))
    );
    assert!(!job.settings.enabled);
}

#[test]
fn malformed_toml_names_line_and_column() {
    let d = one_error("[jobs.a]\nevery = \"1m\ncommand = \"true\"\n");
    assert_eq!((d.line, d.column > 0), (2, true), "{d}");
    assert!(d.message.starts_with("invalid TOML"), "{d}");
    assert_eq!(d.path, "/etc/schedule/jobs.toml");
}

#[test]
fn unknown_key_suggests_the_closest() {
    let d = one_error("[jobs.a]\nevery = \"1m\"\ncommand = \"true\"\ntimout = \"5m\"\n");
    assert_eq!((d.line, d.column), (4, 1));
    assert_eq!(d.job.as_deref(), Some("a"));
    assert_eq!(d.key.as_deref(), Some("timout"));
    assert!(d.message.contains("did you mean `timeout`?"), "{d}");
    let d = one_error("[defualts]\n");
    assert!(d.message.contains("did you mean `defaults`?"), "{d}");
}

#[test]
fn both_or_neither_schedule() {
    let d = one_error("[jobs.a]\ncron = \"* * * * *\"\nevery = \"1m\"\ncommand = \"true\"\n");
    assert!(d.message.contains("both `cron` and `every`"), "{d}");
    assert_eq!(d.line, 3);
    let d = one_error("[jobs.a]\ncommand = \"true\"\n");
    assert!(d.message.contains("no schedule"), "{d}");
    assert_eq!((d.line, d.column), (1, 7));
}

#[test]
fn invalid_cron_names_the_field() {
    let d = one_error("[jobs.a]\ncron = \"0 25 * * *\"\ncommand = \"true\"\n");
    assert_eq!((d.line, d.column), (2, 8));
    assert_eq!(d.key.as_deref(), Some("cron"));
    assert!(d.message.contains("hour field"), "{d}");
    assert!(d.message.contains("0-23"), "{d}");
}

#[test]
fn unknown_time_zone_suggests_a_real_one() {
    let d =
        one_error("[jobs.a]\nevery = \"1m\"\ncommand = \"true\"\ntimezone = \"Europe/Berln\"\n");
    assert_eq!(d.key.as_deref(), Some("timezone"));
    assert!(d.message.contains("did you mean `Europe/Berlin`?"), "{d}");
}

#[test]
fn zero_negative_and_unparsable_durations() {
    let d = one_error("[jobs.a]\nevery = \"0s\"\ncommand = \"true\"\n");
    assert!(d.message.contains("positive"), "{d}");
    let d = one_error("[jobs.a]\nevery = \"-5m\"\ncommand = \"true\"\n");
    assert!(d.message.contains("negative"), "{d}");
    let d = one_error("[jobs.a]\nevery = \"1m\"\ncommand = \"true\"\ntimeout = \"soon\"\n");
    assert_eq!(d.key.as_deref(), Some("timeout"));
    assert!(d.message.contains("e.g. `30s`"), "{d}");
    let d = one_error("[jobs.a]\nevery = 60\ncommand = \"true\"\n");
    assert!(
        d.message
            .contains("expected a string, found the integer 60"),
        "{d}"
    );
}

#[test]
fn never_firing_schedule_loads_and_empty_command_does_not() {
    // cron installs `0 0 30 2 *` and never runs it; `check` warns.
    let config = load("[jobs.a]\ncron = \"0 0 30 2 *\"\ncommand = \"true\"\n").unwrap();
    assert!(
        config.jobs[0]
            .schedule
            .next_after(chrono::Utc::now())
            .is_none()
    );
    let d = one_error("[jobs.a]\nevery = \"1m\"\ncommand = \"  \"\n");
    assert!(d.message.contains("command is empty"), "{d}");
    let d = one_error("[jobs.a]\nevery = \"1m\"\n");
    assert!(d.message.contains("no `command`"), "{d}");
}

#[test]
fn every_error_in_the_file_is_reported() {
    let diags = load(
        "[jobs.a]\nevery = \"1x\"\ncommand = \"true\"\n[jobs.b]\ncron = \"bad\"\ncommand = \"true\"\n[jobs.c]\nevery = \"1m\"\ncommand = \"true\"\nshel = \"/bin/sh\"\n",
    )
    .unwrap_err();
    let jobs: Vec<_> = diags.iter().map(|d| d.job.clone().unwrap()).collect();
    assert_eq!(jobs, ["a", "b", "c"]);
}

#[test]
fn job_names_are_restricted() {
    let d = one_error("[jobs.\"my job\"]\nevery = \"1m\"\ncommand = \"true\"\n");
    assert!(d.message.contains("contains ` `"), "{d}");
}

#[test]
fn job_only_keys_do_not_belong_in_defaults() {
    let d = one_error("[defaults]\ncommand = \"true\"\n");
    assert!(d.message.contains("belongs to a job"), "{d}");
}

#[test]
fn diagnostics_render_with_the_source_line_and_a_caret() {
    let d = one_error("[jobs.a]\nevery = \"1m\"\ncommand = \"true\"\ntimeout = \"5x\"\n");
    assert_eq!(
        d.to_string(),
        "/etc/schedule/jobs.toml:4:11: job `a`, key `timeout`: `5x` has an unknown unit `x`; \
         expected whole numbers each followed by a unit (ms, s, m, h, d, w, or spelt out: `min`, `minutes`, `hours`...), e.g. `30s`, `5m`, `1h30m`, `2 hours`\n  |\n4 | timeout = \"5x\"\n  |           ^^^^"
    );
}

#[test]
fn errors_are_listed_in_file_order() {
    // The cron error is found after the key loop, but comes first in the file.
    let diags =
        load("[jobs.a]\ncron = \"0 25 * * *\"\ncommand = \"true\"\ntimout = \"1m\"\n").unwrap_err();
    let lines: Vec<usize> = diags.iter().map(|d| d.line).collect();
    assert_eq!(lines, [2, 4]);
}

#[test]
fn durations_longer_than_a_century_are_rejected() {
    let d = one_error(
        "[jobs.a]\nevery = \"1m\"\ncommand = \"true\"\ncatchup_window = \"100000000d\"\n",
    );
    assert!(d.message.contains("longer than 100 years"), "{d}");
    let d = one_error("[jobs.a]\nevery = \"1m\"\ncommand = \"true\"\njitter = \"5300w\"\n");
    assert_eq!(d.key.as_deref(), Some("jitter"));
}

#[test]
fn an_array_command_is_the_exec_form_shown_as_a_shell_would_need_it() {
    let config = load(
        "[jobs.a]\nevery = \"1m\"\ncommand = [\"/usr/bin/backup\", \"--to\", \"my disk\", \"it's\"]\n",
    )
    .unwrap();
    let job = config.job("a").unwrap();
    assert_eq!(
        job.exec.as_deref(),
        Some(&["/usr/bin/backup", "--to", "my disk", "it's"].map(String::from)[..])
    );
    assert_eq!(&*job.command, r#"/usr/bin/backup --to 'my disk' 'it'\''s'"#);
    let shell = load("[jobs.a]\nevery = \"1m\"\ncommand = \"echo hi\"\n").unwrap();
    assert_eq!(shell.job("a").unwrap().exec, None);
}

#[test]
fn an_exec_form_needs_strings_and_a_program() {
    let d = one_error("[jobs.a]\nevery = \"1m\"\ncommand = []\n");
    assert_eq!((d.line, d.column), (3, 11));
    assert!(d.message.contains("needs a program first"), "{}", d.message);
    let d = one_error("[jobs.a]\nevery = \"1m\"\ncommand = [\"ls\", 3]\n");
    assert_eq!((d.line, d.column), (3, 18));
    assert!(d.message.contains("a string"), "{}", d.message);
}

#[test]
fn cron_errors_point_at_the_comma_or_item_at_fault() {
    let d = one_error("[jobs.a]\ncron = \"0 22, 10 * * *\"\ncommand = \"true\"\n");
    assert_eq!((d.line, d.column, d.span_len), (2, 13, 1), "{d}");
    assert!(d.message.contains("split the field"), "{d}");
    assert!(d.to_string().contains("\n  |             ^"), "{d}");
    let d = one_error("[jobs.a]\ncron = \"0 22-2 * * *\"\ncommand = \"true\"\n");
    assert_eq!((d.column, d.span_len), (11, 4), "{d}");
    // Leading spaces inside the string count.
    let d = one_error("[jobs.a]\ncron = \"  0 0 * * 1,\"\ncommand = \"true\"\n");
    assert_eq!(d.column, 20, "{d}");
    // An escape moves the text: the whole value, not a wrong column.
    let d = one_error("[jobs.a]\ncron = \"0 0 * * \\u0031,\"\ncommand = \"true\"\n");
    assert_eq!((d.column, d.span_len), (8, 17), "{d}");
}

#[test]
fn the_dashboard_token_is_checked_where_it_is_written() {
    let jobs = "[jobs.a]\nevery = \"1m\"\ncommand = \"true\"\n";
    let c = load(&format!(
        "[scheduler]\nhttp_token = \"0123456789abcdef\"\nhttp_token_read = true\n{jobs}"
    ))
    .unwrap();
    assert_eq!(c.scheduler.http_token.as_deref(), Some("0123456789abcdef"));
    assert!(c.scheduler.http_token_read);
    let d = one_error(&format!("[scheduler]\nhttp_token = \"short\"\n{jobs}"));
    assert_eq!((d.line, d.column), (2, 14));
    assert_eq!(d.key.as_deref(), Some("http_token"));
    assert!(d.message.contains("at least 16 characters"), "{d}");
    let d = one_error(&format!("[scheduler]\nhttp_token_read = \"yes\"\n{jobs}"));
    assert_eq!((d.line, d.column), (2, 19));
    assert!(d.message.contains("`true` or `false`"), "{d}");
    let d = one_error(&format!(
        "[scheduler]\nhttp_tokn = \"0123456789abcdef\"\n{jobs}"
    ));
    assert!(d.message.contains("did you mean `http_token`?"), "{d}");
}

#[test]
fn the_cluster_table_and_its_job_settings() {
    let config = load(
        "[cluster]\nlease = \"9s\"\ntakeover_delay = \"500ms\"\n\
         [defaults]\non_lost = \"retry\"\n\
         [jobs.backup]\nevery = \"1h\"\ncommand = \"true\"\nhosts = [\"disk-*\", \"spare\"]\n\
         [jobs.report]\nevery = \"1h\"\ncommand = \"true\"\non_lost = \"alert\"\n",
    )
    .unwrap();
    let cluster = config.cluster.clone().expect("[cluster]");
    assert_eq!(cluster.lease, Duration::from_secs(9));
    assert_eq!(cluster.takeover_delay, Duration::from_millis(500));
    assert_eq!(cluster.max_skew, ClusterSettings::default().max_skew);
    assert_eq!(cluster.beat(), Duration::from_millis(1500));
    assert_eq!(cluster.trust(), Duration::from_secs(6));
    let backup = config.job("backup").unwrap();
    assert_eq!(backup.settings.hosts, ["disk-*", "spare"]);
    assert_eq!(backup.settings.on_lost, OnLost::Retry, "from [defaults]");
    assert_eq!(
        config.job("report").unwrap().settings.on_lost,
        OnLost::Alert
    );
    assert!(
        load("[jobs.a]\nevery = \"1h\"\ncommand = \"true\"\n")
            .unwrap()
            .cluster
            .is_none()
    );
}

#[test]
fn cluster_mistakes_are_named() {
    let d = one_error("[cluster]\nleas = \"30s\"\n");
    assert!(
        d.message.contains("unknown key `leas`") && d.message.contains("lease"),
        "{d:?}"
    );
    let d = one_error("[cluster]\nlease = \"500ms\"\n");
    assert_eq!((d.line, d.key.as_deref()), (2, Some("lease")));
    assert!(d.message.contains("at least 1s"), "{d:?}");
    let d = one_error("[jobs.a]\nevery = \"1h\"\ncommand = \"true\"\nhosts = []\n");
    assert!(d.message.contains("no host"), "{d:?}");
    let d = one_error("[jobs.a]\nevery = \"1h\"\ncommand = \"true\"\nhosts = [\"a\", 3]\n");
    assert_eq!((d.line, d.column), (4, 15), "the caret on the 3");
    let d = one_error("[jobs.a]\nevery = \"1h\"\ncommand = \"true\"\nhosts = \"a\"\n");
    assert!(d.message.contains("list of host names"), "{d:?}");
    let d = one_error("[jobs.a]\nevery = \"1h\"\ncommand = \"true\"\non_lost = \"rerun\"\n");
    assert!(
        d.message.contains("alert") && d.message.contains("retry"),
        "{d:?}"
    );
}

#[test]
fn jobs_are_found_by_name_in_any_order_and_after_retain() {
    let mut text = String::new();
    for name in ["m", "b", "z", "a", "q"] {
        text.push_str(&format!(
            "[jobs.{name}]\nevery = \"1m\"\ncommand = \"{name}\"\n"
        ));
    }
    let mut config = parse(Path::new("jobs.toml"), &text).unwrap();
    for name in ["m", "b", "z", "a", "q"] {
        assert_eq!(&*config.job(name).unwrap().command, name);
    }
    assert!(config.job("c").is_none());
    config.retain(|j| &*j.name != "b" && &*j.name != "q");
    let names: Vec<&str> = config.jobs.iter().map(|j| &*j.name).collect();
    assert_eq!(names, ["m", "z", "a"]);
    assert_eq!(&*config.job("a").unwrap().command, "a");
    assert!(config.job("b").is_none());
    // Changed in place behind the index's back: still right.
    config.jobs.remove(0);
    assert!(config.job("m").is_none());
    assert_eq!(&*config.job("z").unwrap().command, "z");
}

#[test]
fn jobs_with_equal_settings_share_one_allocation() {
    let config = load(
        r#"
[defaults]
timeout = "1h"
env = { A = "1" }

[jobs.a]
every = "1m"
command = "true"

[jobs.b]
cron = "0 2 * * *"
command = "false"
# Said again, the same as the default: still the same settings.
timeout = "1h"

[jobs.c]
every = "1m"
command = "true"
retries = 1
"#,
    )
    .unwrap();
    let settings = |name| &config.job(name).unwrap().settings;
    assert!(std::sync::Arc::ptr_eq(settings("a"), settings("b")));
    assert!(!std::sync::Arc::ptr_eq(settings("a"), settings("c")));
    assert_eq!(settings("c").retries, 1);
    assert_eq!(settings("c").timeout, Some(Duration::from_secs(3600)));
}

#[test]
fn a_job_stays_small() {
    // 10,000 idle jobs must fit in a few megabytes (BENCHMARKS.md, "Memory
    // and start-up"): a job is its name, command, schedule and a pointer to
    // its shared settings. A setting added to `Job` instead of `Settings`
    // would be paid by every job, and this fails.
    assert!(
        std::mem::size_of::<Job>() <= 72,
        "{}",
        std::mem::size_of::<Job>()
    );
}
