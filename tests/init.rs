//! `schedule init` and `schedule --version` through the real binary.

mod common;

use common::*;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

#[test]
fn init_writes_a_config_that_check_accepts_and_never_overwrites() {
    let env = Env::new("");
    std::fs::remove_file(env.path("jobs.toml")).unwrap();
    let out = env.cmd(&["init"]).assert().success();
    assert_eq!(
        text(&out.get_output().stdout),
        "wrote jobs.toml with 2 example jobs; edit it, then `schedule check`\n"
    );
    let written = std::fs::read_to_string(env.path("jobs.toml")).unwrap();
    assert!(written.starts_with("# jobs.toml"), "{written}");
    env.cmd(&["check", "--strict"]).assert().success();

    // A second init leaves the (edited) file alone.
    std::fs::write(env.path("jobs.toml"), "# mine\n").unwrap();
    let out = env.cmd(&["init"]).assert().code(2);
    let err = text(&out.get_output().stderr);
    assert!(
        err.contains("`jobs.toml` already exists; not overwriting it") && err.contains("hint:"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(env.path("jobs.toml")).unwrap(),
        "# mine\n"
    );

    // Another path, which check then reads with --config.
    let out = env.cmd(&["init", "other.toml"]).assert().success();
    assert!(
        text(&out.get_output().stdout).contains("`schedule --config other.toml check`"),
        "{out:?}"
    );
    env.cmd(&["--config", "other.toml", "check", "--strict"])
        .assert()
        .success();
    let out = env.cmd(&["init", "no/such/dir/jobs.toml"]).assert().code(2);
    assert!(text(&out.get_output().stderr).contains("cannot create `no/such/dir/jobs.toml`"));
}

#[test]
fn version_shows_the_commit_and_the_build_date() {
    let env = Env::new("");
    let out = env.cmd(&["--version"]).assert().success();
    let version = text(&out.get_output().stdout);
    let prefix = format!("schedule {} (commit ", env!("CARGO_PKG_VERSION"));
    assert!(version.starts_with(&prefix), "{version}");
    let date = version
        .trim_end()
        .strip_suffix(')')
        .and_then(|v| v.rsplit_once(", built "))
        .map(|(_, d)| d.to_string())
        .unwrap_or_default();
    assert!(
        chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d").is_ok(),
        "{version}"
    );
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output();
    if let Ok(head) = head
        && head.status.success()
    {
        let head = text(&head.stdout).trim().to_string();
        assert!(
            version.contains(&format!("commit {head},")),
            "{version} vs {head}"
        );
    }
}
