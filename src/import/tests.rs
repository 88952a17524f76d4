use super::*;
use crate::config;

fn options(system: bool) -> Options {
    Options {
        source: "`crontab`".into(),
        system,
        timezone: Tz::Europe__Berlin,
        timezone_origin: "given with --tz".into(),
    }
}

/// Converts and loads the result as `schedule` would.
fn convert(text: &str, system: bool) -> (Conversion, config::Config) {
    let conversion = crontab(text.as_bytes(), &options(system));
    let config = config::parse(std::path::Path::new("jobs.toml"), &conversion.toml)
        .unwrap_or_else(|e| panic!("{e:?}\n{}", conversion.toml));
    (conversion, config)
}

#[test]
fn the_first_unescaped_percent_starts_stdin_and_the_rest_are_newlines() {
    assert_eq!(split_percent("echo hi"), ("echo hi".into(), None));
    assert_eq!(
        split_percent(r"date +\%Y-\%m"),
        ("date +%Y-%m".into(), None)
    );
    assert_eq!(
        split_percent(r"mail root%a%b\%c%"),
        ("mail root".into(), Some("a\nb%c\n".into()))
    );
    // Other backslashes stay, as cron leaves them.
    assert_eq!(split_percent(r"echo \n"), (r"echo \n".into(), None));
}

#[test]
fn assignments_are_read_as_cron_reads_them() {
    let ok = |line: &str| parse_assignment(line).unwrap().unwrap();
    assert_eq!(ok("A=b"), ("A".into(), "b".into()));
    assert_eq!(ok("A = b c  "), ("A".into(), "b c".into()));
    assert_eq!(ok("A=\" spaced \""), ("A".into(), " spaced ".into()));
    assert_eq!(ok("A='x=\"y\"'"), ("A".into(), "x=\"y\"".into()));
    assert_eq!(ok("MAILTO=\"\""), ("MAILTO".into(), "".into()));
    assert!(parse_assignment("A=\"open").unwrap().is_err());
    assert!(parse_assignment("\"\"=x").unwrap().is_err());
    // Entries are not assignments, even with `=` in the command.
    assert!(parse_assignment("0 2 * * * A=1 cmd").is_none());
    assert!(parse_assignment("@daily A=1 cmd").is_none());
}

#[test]
fn a_comment_right_above_names_the_job_else_its_line() {
    let (conversion, config) = convert(
        "# Nightly backup!\n0 2 * * * backup\n# Nightly backup!\n0 3 * * * backup\n\n\
         # a comment with a blank line after it\n\n0 4 * * * x\n\
         # *  *  *  *  * command to be executed\n0 5 * * * y\n\
         # 0 6 * * * an old entry, commented out\n0 7 * * * z\n",
        false,
    );
    let names: Vec<&str> = config.jobs.iter().map(|j| &*j.name).collect();
    assert_eq!(
        names,
        [
            "nightly-backup",
            "nightly-backup-2",
            "line-8",
            "line-10",
            "line-12"
        ]
    );
    assert_eq!(conversion.jobs, 5);
    assert!(conversion.skipped.is_empty());
}

#[test]
fn slugs_are_valid_job_names_cut_at_a_dash() {
    assert_eq!(
        slugify("  Réindex the DB (nightly)  ", 40),
        "r-index-the-db-nightly"
    );
    let long = slugify(&"word ".repeat(20), 40);
    assert!(long.len() <= 40 && !long.ends_with('-'), "{long}");
    assert_eq!(slugify("!!!", 40), "");
    assert!(config::check_job_name(&slugify("a/b c.d_e", 40)).is_ok());
}

#[test]
fn variables_go_to_the_jobs_after_them_and_shell_and_zone_to_their_keys() {
    let (_, config) = convert(
        "SHELL=/bin/bash\nA=1\n0 1 * * * one\nA=2\nB = \"two words\"\n\
         CRON_TZ=America/New_York\n0 2 * * * two\n",
        false,
    );
    let one = config.job("line-3").unwrap();
    assert_eq!(one.settings.env, [("A".to_string(), "1".to_string())]);
    assert_eq!(&*one.settings.shell, "/bin/bash");
    assert_eq!(one.settings.timezone, Tz::Europe__Berlin);
    let two = config.job("line-7").unwrap();
    assert_eq!(
        two.settings.env,
        [
            ("A".to_string(), "2".to_string()),
            ("B".to_string(), "two words".to_string())
        ]
    );
    assert_eq!(two.settings.timezone, Tz::America__New_York);
}

#[test]
fn tz_sets_the_zone_and_the_environment_but_cron_tz_wins() {
    let (conversion, config) = convert(
        "TZ=Asia/Tokyo\n0 1 * * * one\nCRON_TZ=UTC\n0 2 * * * two\n",
        false,
    );
    // Not every cron reads TZ for the schedule: said once, for the first job.
    assert_eq!(conversion.toml.matches("comes from TZ").count(), 1);
    let one = config.job("line-2").unwrap();
    assert_eq!(one.settings.timezone, Tz::Asia__Tokyo);
    assert_eq!(
        one.settings.env,
        [("TZ".to_string(), "Asia/Tokyo".to_string())]
    );
    assert_eq!(config.job("line-4").unwrap().settings.timezone, Tz::UTC);
}

#[test]
fn strings_that_need_escaping_survive_the_round_trip() {
    let command = r#"echo "it's" \ $HOME 'a\b' ünï	tab"#;
    let (_, config) = convert(
        &format!("WEIRD-NAME.X=\"a \\ b\"\n0 1 * * * {command}\n"),
        false,
    );
    let job = config.job("line-2").unwrap();
    assert_eq!(&*job.command, command);
    assert_eq!(
        job.settings.env,
        [("WEIRD-NAME.X".to_string(), "a \\ b".to_string())]
    );
}

#[test]
fn stdin_from_percent_becomes_a_printf_pipe_that_the_shell_runs_the_same() {
    let (_, config) = convert("0 1 * * * tr a-z A-Z%it's%done\n", false);
    let job = config.job("line-1").unwrap();
    let out = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(&*job.command)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "IT'S\nDONE");
    // A command ending in `&` or a comment still parses.
    let (_, config) = convert("0 1 * * * cat # the comment%x\n", false);
    let job = config.job("line-1").unwrap();
    let out = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(&*job.command)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "x");
}

#[test]
fn reboot_is_a_disabled_start_up_job_with_a_placeholder_schedule() {
    let (conversion, config) = convert("@reboot /usr/bin/warm\n@weekly w\n", false);
    let job = config.job("line-1").unwrap();
    assert!(job.settings.run_on_start && !job.settings.enabled);
    assert!(
        conversion.toml.contains("NOTE: @reboot"),
        "{}",
        conversion.toml
    );
    let weekly = config.job("line-2").unwrap();
    assert_eq!(weekly.schedule.to_string(), "@weekly");
    assert!(weekly.settings.enabled && !weekly.settings.run_on_start);
}

#[test]
fn a_system_crontab_user_becomes_a_comment() {
    let (conversion, config) = convert("17 * * * * root cd / && run-parts x\n", true);
    assert_eq!(
        &*config.job("line-1").unwrap().command,
        "cd / && run-parts x"
    );
    assert!(conversion.toml.contains("cron ran this as `root`"));
    // Read as a user crontab, `root` would be the command: said so.
    let (conversion, _) = convert("17 * * * * root cd /\n", false);
    assert!(conversion.toml.contains("import it with --system"));
    let conversion = crontab(b"@daily root\n", &options(true));
    assert_eq!(
        conversion.skipped[0].reason,
        "no command after the schedule"
    );
}

#[test]
fn mailto_suggests_a_hook_that_is_valid_once_uncommented() {
    let (conversion, _) = convert("MAILTO=a@x.org,b@x.org\n0 1 * * * x\n", false);
    let hook = conversion
        .toml
        .lines()
        .find_map(|l| l.strip_prefix("# on_failure = "))
        .expect("a suggestion");
    let uncommented = conversion.toml.replace("# on_failure = ", "on_failure = ");
    let config = config::parse(std::path::Path::new("jobs.toml"), &uncommented).unwrap();
    let on_failure = config
        .job("line-2")
        .unwrap()
        .settings
        .on_failure
        .clone()
        .unwrap();
    assert!(on_failure.ends_with("sendmail a@x.org b@x.org"), "{hook}");
}

#[test]
fn lines_that_cannot_be_converted_are_kept_with_where_and_why() {
    let text = b"0 0 * * MON-FRY typo\n0 4 * *\n0 0 ? * * q\n\xff\xfe 0 * * * *\nA=\"x\n\
                 CRON_TZ=Mars/Base\n0 1 * * * later\nSHELL=\"\"\n";
    let conversion = crontab(text, &options(false));
    let got: Vec<(usize, usize)> = conversion
        .skipped
        .iter()
        .map(|s| (s.line, s.column))
        .collect();
    assert_eq!(
        got,
        [(1, 9), (2, 8), (3, 5), (4, 1), (5, 1), (7, 1), (8, 1)]
    );
    assert!(conversion.skipped[0].reason.contains("day-of-week"));
    assert!(conversion.skipped[5].reason.contains("Mars/Base"));
    assert_eq!(conversion.jobs, 0);
    assert!(conversion.toml.contains("# NOT CONVERTED, line 1:"));
    assert!(conversion.toml.contains("# 0 0 * * MON-FRY typo\n"));
    config::parse(std::path::Path::new("jobs.toml"), &conversion.toml).unwrap();
}

#[test]
fn crlf_line_ends_and_a_missing_last_newline_are_fine() {
    let (_, config) = convert("A=1\r\n0 1 * * * x\r\n0 2 * * * y", false);
    assert_eq!(&*config.job("line-2").unwrap().command, "x");
    assert_eq!(config.job("line-2").unwrap().settings.env[0].1, "1");
    assert_eq!(&*config.job("line-3").unwrap().command, "y");
}
