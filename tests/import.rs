//! `schedule import crontab` on real crontabs (Debian's own, from the
//! `cron-daemon-common`, `php-common`, `sysstat` and `e2fsprogs` packages,
//! and a user crontab with the rest of cron(5)): the output is snapshotted,
//! `schedule check` accepts it, and `schedule next` agrees with cron.

mod common;

use chrono::{DateTime, Datelike, Duration, Timelike, Utc};
use common::*;
use serde_json::Value;

const FIXTURES: &[(&str, bool)] = &[
    ("debian-etc-crontab", true),
    ("debian-cron.d-php", true),
    ("debian-cron.d-sysstat", true),
    ("debian-cron.d-e2scrub_all", true),
    ("sysstat-example-user-crontab", false),
    ("user-crontab", false),
];

fn fixture(name: &str) -> String {
    format!(
        "{}/tests/fixtures/crontabs/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// `schedule import crontab` of a fixture, in UTC, with its stdout and stderr.
fn import(env: &Env, name: &str, system: bool) -> (String, String) {
    let path = fixture(name);
    let mut args = vec!["import", "crontab", "--tz", "UTC", path.as_str()];
    if system {
        args.insert(2, "--system");
    }
    let out = env.cmd(&args).assert().success();
    let out = out.get_output();
    let base = format!("{}/", env!("CARGO_MANIFEST_DIR"));
    (
        String::from_utf8_lossy(&out.stdout).replace(&base, ""),
        String::from_utf8_lossy(&out.stderr).replace(&base, ""),
    )
}

#[test]
fn real_crontabs_convert_to_the_snapshotted_jobs_toml() {
    let env = Env::new("");
    for (name, system) in FIXTURES {
        let (stdout, stderr) = import(&env, name, *system);
        insta::assert_snapshot!(
            format!("import_{name}"),
            format!("{stdout}\n--- stderr\n{stderr}")
        );
    }
}

#[test]
fn schedule_check_accepts_every_conversion() {
    let env = Env::new("");
    for (name, system) in FIXTURES {
        let (stdout, _) = import(&env, name, *system);
        std::fs::write(env.path("jobs.toml"), &stdout).unwrap();
        let out = env.cmd(&["check", "--json"]).assert().success();
        let json: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
        assert_eq!(json["valid"], true, "{name}: {json}");
        let jobs = json["jobs"].as_array().map_or(0, Vec::len);
        assert_eq!(jobs, stdout.matches("\n[jobs.").count(), "{name}: {json}");
        assert!(jobs > 0, "{name}");
    }
}

#[test]
fn the_system_field_is_found_by_path_and_stdin_works() {
    let env = Env::new("");
    let cron_d = env.path("etc/cron.d");
    std::fs::create_dir_all(&cron_d).unwrap();
    // Only /etc/crontab and /etc/cron.d/* themselves are system crontabs.
    std::fs::copy(fixture("debian-cron.d-php"), cron_d.join("php")).unwrap();
    let out = env
        .cmd(&["import", "crontab", "--tz", "UTC", "etc/cron.d/php"])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(text.contains("import it with --system"), "{text}");

    let out = env
        .cmd(&["import", "crontab", "--tz", "UTC", "--system", "-"])
        .write_stdin(std::fs::read(fixture("debian-cron.d-php")).unwrap())
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(text.contains("cron ran this as `root`"), "{text}");
    assert!(
        text.contains("[jobs.look-for-and-purge-old-sessions-every-30]"),
        "{text}"
    );
}

#[test]
fn a_missing_crontab_or_zone_is_bad_input() {
    let env = Env::new("");
    let out = env.cmd(&["import", "crontab", "nope"]).assert().code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        err.contains("cannot read crontab `nope`") && err.contains("hint:"),
        "{err}"
    );
    let path = fixture("user-crontab");
    let out = env
        .cmd(&["import", "crontab", "--tz", "Europe/Berlinn", &path])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("did you mean `Europe/Berlin`?"), "{err}");
}

/// cron(5) matching, minute by minute, as Vixie cron does it: the reference
/// that `schedule next` must agree with.
struct Reference {
    fields: [Vec<bool>; 5],
    dom_star: bool,
    dow_star: bool,
}

impl Reference {
    fn parse(expr: &str) -> Reference {
        let expr = match expr {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            other => other,
        };
        let parts: Vec<&str> = expr.split_whitespace().collect();
        assert_eq!(parts.len(), 5, "{expr}");
        const MONTHS: [&str; 12] = [
            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        ];
        const DAYS: [&str; 8] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun"];
        let ranges = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)];
        let fields = std::array::from_fn(|i| {
            let (low, high) = ranges[i];
            let number = |s: &str| -> usize {
                let lower = s.to_ascii_lowercase();
                match i {
                    3 => MONTHS.iter().position(|m| *m == lower).map(|p| p + 1),
                    4 => DAYS.iter().position(|d| *d == lower),
                    _ => None,
                }
                .unwrap_or_else(|| s.parse().unwrap())
            };
            let mut bits = vec![false; high + 1];
            for item in parts[i].split(',') {
                let (range, step) = match item.split_once('/') {
                    Some((r, s)) => (r, s.parse().unwrap()),
                    None => (item, 1),
                };
                let (a, b) = match range {
                    "*" => (low, high),
                    r => match r.split_once('-') {
                        Some((a, b)) => (number(a), number(b)),
                        None => (number(r), number(r)),
                    },
                };
                for v in (a..=b).step_by(step) {
                    bits[v] = true;
                }
            }
            if i == 4 && bits[7] {
                bits[0] = true;
            }
            bits
        });
        Reference {
            fields,
            dom_star: parts[2].starts_with('*'),
            dow_star: parts[4].starts_with('*'),
        }
    }

    fn matches(&self, t: DateTime<Utc>) -> bool {
        let [minute, hour, dom, month, dow] = &self.fields;
        let day_dom = dom[t.day() as usize];
        let day_dow = dow[t.weekday().num_days_from_sunday() as usize];
        let day = if self.dom_star || self.dow_star {
            day_dom && day_dow
        } else {
            day_dom || day_dow
        };
        minute[t.minute() as usize] && hour[t.hour() as usize] && month[t.month() as usize] && day
    }

    fn next(&self, after: DateTime<Utc>, count: usize) -> Vec<DateTime<Utc>> {
        let mut t = after.with_second(0).unwrap() + Duration::minutes(1);
        let mut out = Vec::new();
        while out.len() < count {
            if self.matches(t) {
                out.push(t);
            }
            t += Duration::minutes(1);
        }
        out
    }
}

#[test]
fn schedule_next_agrees_with_cron_for_every_converted_line() {
    let env = Env::new("");
    let after: DateTime<Utc> = "2026-02-27T22:58:00Z".parse().unwrap();
    let mut checked = 0;
    for (name, system) in FIXTURES {
        let (stdout, _) = import(&env, name, *system);
        std::fs::write(env.path("jobs.toml"), &stdout).unwrap();
        let list = env.cmd(&["list", "--json"]).assert().success();
        let jobs: Vec<Value> = serde_json::from_slice(&list.get_output().stdout).unwrap();
        for job in jobs {
            if job["timezone"] != "UTC" {
                continue; // the zone rules are tested in the schedule module
            }
            let (job, expr) = (
                job["job"].as_str().unwrap(),
                job["schedule"].as_str().unwrap(),
            );
            let out = env
                .cmd(&[
                    "next",
                    job,
                    "-n",
                    "6",
                    "--json",
                    "--after",
                    &after.to_rfc3339(),
                ])
                .assert()
                .success();
            let got: Vec<Value> = serde_json::from_slice(&out.get_output().stdout).unwrap();
            let got: Vec<DateTime<Utc>> = got
                .iter()
                .map(|v| v["at"].as_str().unwrap().parse().unwrap())
                .collect();
            assert_eq!(
                got,
                Reference::parse(expr).next(after, 6),
                "{name}: {job} `{expr}`"
            );
            checked += 1;
        }
    }
    assert!(checked >= 15, "only {checked} jobs checked");
}

/// The README's `schedule import`, `schedule init`, `schedule status` and
/// `schedule history --status` examples print what it shows (stdout, then
/// stderr), run from the repository (import) or in an empty folder (the
/// others, one session per block). The quick start's `status` shows a
/// running scheduler and is not checked (its block has `list` first).
#[test]
fn the_readme_examples_print_what_the_readme_shows() {
    let readme =
        std::fs::read_to_string(format!("{}/README.md", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let mut checked = 0;
    for block in readme.split("```console\n").skip(1) {
        let block = block.split("```").next().unwrap();
        let checked_commands = [
            "$ schedule import",
            "$ schedule init",
            "$ schedule status\n",
            "$ schedule history --status",
        ];
        if !checked_commands.iter().any(|c| block.starts_with(c)) {
            continue;
        }
        let env = Env::new("");
        std::fs::remove_file(env.path("jobs.toml")).unwrap();
        for session in block.split("$ ").skip(1) {
            let (command, expected) = session.split_once('\n').unwrap();
            let args: Vec<&str> = command.split_whitespace().skip(1).collect();
            let mut cmd = env.cmd(&args);
            if args[0] == "import" {
                cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
            }
            let out = cmd.output().unwrap();
            let mut got = text_of(&out.stdout);
            got.push_str(&text_of(&out.stderr));
            assert_eq!(got, expected, "README: `{command}`");
            checked += 1;
        }
    }
    assert!(checked >= 5, "only {checked} README examples found");
}

fn text_of(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}
