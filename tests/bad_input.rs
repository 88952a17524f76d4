//! Every kind of bad input gets one clear message naming the file, line,
//! column, job and key, exits 2, and changes nothing (no database appears).

mod common;

use common::*;

/// Runs `schedule run` on `jobs_toml` and returns its stderr, after checking
/// the exit code and that nothing was written.
fn rejected(jobs_toml: &str) -> String {
    let env = Env::new(jobs_toml);
    let out = env.cmd(&["run"]).timeout(PATIENCE).assert().code(2);
    assert!(
        !env.path("schedule.db").exists(),
        "bad config must change nothing"
    );
    assert!(
        !env.path("schedule.db.lock").exists(),
        "bad config must change nothing"
    );
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.starts_with("error: jobs.toml:"), "{stderr}");
    stderr
}

fn assert_has(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "expected {part:?} in:\n{text}");
    }
}

#[test]
fn malformed_toml() {
    let e = rejected("[jobs.a]\nevery = \"1m\ncommand = \"true\"\n");
    assert_has(&e, &["jobs.toml:2:", "invalid TOML"]);
}

#[test]
fn unknown_key() {
    let e = rejected("[jobs.a]\nevery = \"1m\"\ncommand = \"true\"\ntimout = \"5m\"\n");
    assert_has(
        &e,
        &[
            "jobs.toml:4:1:",
            "job `a`",
            "key `timout`",
            "did you mean `timeout`?",
            "valid keys",
        ],
    );
}

#[test]
fn both_cron_and_every() {
    let e = rejected("[jobs.a]\ncron = \"* * * * *\"\nevery = \"1m\"\ncommand = \"true\"\n");
    assert_has(
        &e,
        &["jobs.toml:3:1:", "job `a`", "both `cron` and `every`"],
    );
}

#[test]
fn neither_cron_nor_every() {
    let e = rejected("[jobs.a]\ncommand = \"true\"\n");
    assert_has(
        &e,
        &["jobs.toml:1:7:", "job `a`", "no schedule", "every = \"5m\""],
    );
}

#[test]
fn invalid_cron_names_the_field() {
    let e = rejected("[jobs.nightly]\ncron = \"0 25 * * *\"\ncommand = \"true\"\n");
    assert_has(
        &e,
        &[
            "jobs.toml:2:8:",
            "job `nightly`",
            "key `cron`",
            "hour field",
            "`25`",
            "0-23",
        ],
    );
}

#[test]
fn unknown_time_zone() {
    let e = rejected(
        "[jobs.a]\ncron = \"0 2 * * *\"\ncommand = \"true\"\ntimezone = \"Europe/Berln\"\n",
    );
    assert_has(
        &e,
        &[
            "jobs.toml:4:12:",
            "key `timezone`",
            "unknown time zone `Europe/Berln`",
            "did you mean `Europe/Berlin`?",
        ],
    );
}

#[test]
fn zero_interval() {
    let e = rejected("[jobs.a]\nevery = \"0s\"\ncommand = \"true\"\n");
    assert_has(&e, &["jobs.toml:2:9:", "key `every`", "positive"]);
}

#[test]
fn negative_interval() {
    let e = rejected("[jobs.a]\nevery = \"-5m\"\ncommand = \"true\"\n");
    assert_has(&e, &["jobs.toml:2:9:", "key `every`", "negative"]);
}

#[test]
fn unparsable_duration() {
    let e = rejected("[jobs.a]\nevery = \"1m\"\ncommand = \"true\"\ntimeout = \"half an hour\"\n");
    assert_has(
        &e,
        &[
            "jobs.toml:4:11:",
            "key `timeout`",
            "e.g. `30s`, `5m`, `1h30m`",
        ],
    );
}

#[test]
fn empty_list_item_after_a_stray_space() {
    let e = rejected("[jobs.a]\ncron = \"0 22, 10 * * *\"\ncommand = \"true\"\n");
    assert_has(
        &e,
        &[
            "jobs.toml:2:13:",
            "job `a`, key `cron`",
            "`0 22, 10 * * *`",
            "space after the `,` split the field",
            "write `0 22,10 * * *`",
            "2 | cron = \"0 22, 10 * * *\"\n  |             ^\n",
        ],
    );
}

#[test]
fn quartz_line() {
    let e = rejected("[jobs.a]\ncron = \"0 0 12 ? * 2\"\ncommand = \"true\"\n");
    assert_has(
        &e,
        &[
            "jobs.toml:2:8:",
            "key `cron`",
            "Quartz",
            "in cron: `0 12 * * 1`",
        ],
    );
}

#[test]
fn hour_range_that_wraps() {
    let e = rejected("[jobs.a]\ncron = \"0 22-2 * * *\"\ncommand = \"true\"\n");
    assert_has(
        &e,
        &["jobs.toml:2:11:", "hour field", "`22-2`", "`22-23,0-2`"],
    );
}

#[test]
fn empty_command() {
    let e = rejected("[jobs.a]\nevery = \"1m\"\ncommand = \"\"\n");
    assert_has(&e, &["jobs.toml:3:11:", "key `command`", "empty"]);
}

#[test]
fn several_errors_are_all_reported() {
    let e = rejected(
        "[jobs.a]\nevery = \"1x\"\ncommand = \"true\"\n[jobs.b]\ncron = \"* * *\"\ncommand = \"true\"\n",
    );
    assert_has(&e, &["job `a`", "job `b`"]);
    assert_eq!(e.matches("error: ").count(), 2, "{e}");
}

#[test]
fn a_missing_config_file_is_a_config_error() {
    let env = Env::new("");
    let out = env.cmd(&["--config", "nope.toml", "run"]).assert().code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert_has(&stderr, &["cannot read config `nope.toml`", "hint:"]);
    assert!(!env.path("schedule.db").exists());
}

#[test]
fn a_database_that_cannot_be_opened_exits_1() {
    let env = Env::new("[jobs.a]\nevery = \"1h\"\ncommand = \"true\"\n");
    let out = env
        .cmd(&["--db", "no/such/dir/s.db", "run"])
        .timeout(PATIENCE)
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert_has(&stderr, &["no/such/dir/s.db"]);
    // A directory is not a database either.
    std::fs::create_dir(env.path("adir")).unwrap();
    let out = env.cmd(&["--db", "adir", "history"]).assert().code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert_has(&stderr, &["history database `adir`"]);
}

#[test]
fn bad_usage_exits_2() {
    let env = Env::new("");
    env.cmd(&["run", "--shutdown-grace", "soon"])
        .assert()
        .code(2);
    env.cmd(&["history", "--since", "yesterday"])
        .assert()
        .code(2);
    env.cmd(&["frobnicate"]).assert().code(2);
    env.cmd(&["next", "0 25 * * *"]).assert().code(2);
    env.cmd(&["next", "@daily", "--tz", "Mars/Olympus"])
        .assert()
        .code(2);
    env.cmd(&["next", "@daily", "--after", "tomorrow"])
        .assert()
        .code(2);
}

#[test]
fn a_crontab_line_pasted_whole_says_where_the_command_goes() {
    let e = rejected("[jobs.backup]\ncron = \"*/5 * * * * /usr/bin/backup.sh\"\ncommand = \"x\"\n");
    assert_has(
        &e,
        &[
            "jobs.toml:2:8:",
            "job `backup`",
            "looks like a crontab line",
            "`cron = \"*/5 * * * *\"` and `command = \"/usr/bin/backup.sh\"`",
        ],
    );
    assert!(!e.contains("USR"), "{e}");
}

#[test]
fn supercronic_every_suggests_the_every_key() {
    let e = rejected("[jobs.a]\ncron = \"@every 5m\"\ncommand = \"x\"\n");
    assert_has(&e, &["jobs.toml:2:8:", "job `a`", "`every = \"5m\"`"]);
}

#[test]
fn a_number_out_of_its_cron_field_says_the_range_in_our_words() {
    let e = rejected("[jobs.a]\ncron = \"61 * * * *\"\ncommand = \"x\"\n");
    assert_has(&e, &["jobs.toml:2:8:", "`61` is out of range", "0-59"]);
    assert!(!e.contains("Number out of bounds"), "{e}");
}

#[test]
fn durations_spelt_as_people_write_them_load_and_a_repeated_unit_does_not() {
    let env = Env::new(
        "[jobs.a]\nevery = \"5 minutes\"\ntimeout = \"10 s\"\ncommand = \"x\"\n\
         [jobs.b]\nevery = \"5min\"\njitter = \"1h 30m\"\nkill_grace = \"2 hours\"\ncommand = \"x\"\n",
    );
    env.cmd(&["check"]).assert().success();
    let e = rejected("[jobs.a]\nevery = \"1s1s\"\ncommand = \"x\"\n");
    assert_has(
        &e,
        &["jobs.toml:2:9:", "job `a`", "key `every`", "`s` twice"],
    );
}

#[test]
fn a_dotted_job_name_says_to_quote_it_once() {
    let e = rejected("[jobs.db.backup]\ncron = \"@daily\"\ncommand = \"x\"\n");
    assert_has(
        &e,
        &[
            "jobs.toml:1:7:",
            "job `db`",
            "quote the name: `[jobs.\"db.backup\"]`",
        ],
    );
    assert_eq!(e.matches("error:").count(), 1, "{e}");
}

#[test]
fn a_negative_number_says_the_valid_range_plainly() {
    let e = rejected("[jobs.a]\nevery = \"1m\"\ncommand = \"x\"\nretries = -1\n");
    assert_has(
        &e,
        &[
            "jobs.toml:4:11:",
            "`-1` is out of range for `retries`",
            "from 0 to",
        ],
    );
    assert!(!e.contains("the integer"), "{e}");
}

#[test]
fn the_caret_spans_wide_characters_as_the_terminal_shows_them() {
    let e = rejected("[jobs.a]\nevery = \"1m\"\ncommand = \"x\"\nenv = { \"日本\" = 1 }\n");
    // `env = { "日本" = 1 }`: the value 1 sits after two wide characters.
    let lines: Vec<&str> = e.lines().collect();
    let source = lines.iter().position(|l| l.starts_with("4 | ")).unwrap();
    let caret = lines[source + 1];
    let col = caret.find('^').unwrap();
    let shown = unicode_width_of(&lines[source][..lines[source].find("1 }").unwrap()]);
    assert_eq!(col, shown, "{e}");
}

/// Display width, counting CJK as two (enough for this test's text).
fn unicode_width_of(s: &str) -> usize {
    s.chars()
        .map(|c| {
            if ('\u{3000}'..='\u{9fff}').contains(&c) {
                2
            } else {
                1
            }
        })
        .sum()
}

/// README's example of config errors is what the binary prints.
#[test]
fn the_readme_error_example_is_current() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let start = readme
        .find("$ schedule run\nerror: jobs.toml:3:1: job `backup`, key `timout`")
        .expect("the example in README.md");
    let block = &readme[start + "$ schedule run\n".len()..];
    let shown = &block[..block.find("$ echo $?").unwrap()];
    let e = rejected(
        "[jobs.backup]\ncommand = \"restic backup /srv\"\ntimout = \"1h\"\ncron = \"0 2 * * MON-FRY\"\n",
    );
    assert_eq!(
        shown, e,
        "README.md's example is stale; the binary prints:\n{e}"
    );
}

#[test]
fn next_of_an_out_of_range_expression_says_so_plainly() {
    let env = Env::new("");
    let out = env.cmd(&["next", "0 25 * * *"]).assert().code(2);
    let e = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert_has(&e, &["`25` is out of range", "0-23"]);
    assert!(!e.contains("Number out of bounds"), "{e}");
}
