//! Completions that know the jobs: `schedule __complete jobs` and the bash,
//! zsh and fish scripts that call it, run in the real shells when installed.

mod common;

use common::*;

const JOBS: &str = "[jobs.backup]\ncron = \"0 2 * * *\"\ncommand = \"true\"\n\n\
                    [jobs.beta]\nevery = \"1h\"\ncommand = \"true\"\n\n\
                    [jobs.sync]\nevery = \"5m\"\ncommand = \"true\"\n";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

#[test]
fn the_helper_prints_the_job_names_and_nothing_for_a_broken_config() {
    let env = Env::new(JOBS);
    let out = env.cmd(&["__complete", "jobs"]).assert().success();
    assert_eq!(text(&out.get_output().stdout), "backup\nbeta\nsync\n");
    std::fs::write(
        env.path("other.toml"),
        "[jobs.x]\nevery = \"1m\"\ncommand = \"true\"\n",
    )
    .unwrap();
    let out = env
        .cmd(&["--config", "other.toml", "__complete", "jobs"])
        .assert()
        .success();
    assert_eq!(text(&out.get_output().stdout), "x\n");
    for config in ["missing.toml", "broken.toml"] {
        std::fs::write(env.path("broken.toml"), "[jobs.x\n").unwrap();
        let out = env
            .cmd(&["--config", config, "__complete", "jobs"])
            .assert()
            .success();
        assert_eq!(text(&out.get_output().stdout), "", "{config}");
        assert_eq!(text(&out.get_output().stderr), "", "{config}");
    }
    // Hidden: not offered as a command.
    let out = env.cmd(&["--help"]).assert().success();
    assert!(!text(&out.get_output().stdout).contains("__complete"));
    let out = env.cmd(&["completions", "bash"]).assert().success();
    assert!(!text(&out.get_output().stdout).contains(" __complete completions"));
}

fn has(shell: &str) -> bool {
    std::process::Command::new(shell)
        .arg("-c")
        .arg("true")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn script(env: &Env, shell: &str) -> std::path::PathBuf {
    let out = env.cmd(&["completions", shell]).assert().success();
    let path = env.path(&format!("completion.{shell}"));
    std::fs::write(&path, &out.get_output().stdout).unwrap();
    path
}

/// What bash completes for the words (the last one is being typed).
fn bash_complete(env: &Env, words: &[&str]) -> String {
    let bin = assert_cmd::cargo::cargo_bin("schedule");
    let words: Vec<String> = std::iter::once(bin.display().to_string())
        .chain(words.iter().map(|w| w.to_string()))
        .collect();
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        "source {}; COMP_WORDS=({}); COMP_CWORD={}; COMPREPLY=(); \
         _schedule_with_jobs \"${{COMP_WORDS[0]}}\" \"${{COMP_WORDS[COMP_CWORD]}}\" \
         \"${{COMP_WORDS[COMP_CWORD-1]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\" | sort",
        script(env, "bash").display(),
        quoted.join(" "),
        words.len() - 1
    );
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(program)
        .current_dir(env.dir.path())
        .env_remove("SCHEDULE_CONFIG")
        .output()
        .unwrap();
    text(&out.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn bash_completes_job_names_where_a_job_goes() {
    if !has("bash") {
        eprintln!("no bash; skipped");
        return;
    }
    let env = Env::new(JOBS);
    std::fs::write(
        env.path("other.toml"),
        "[jobs.x]\nevery = \"1m\"\ncommand = \"true\"\n",
    )
    .unwrap();
    assert_eq!(bash_complete(&env, &["trigger", "b"]), "backup beta");
    assert_eq!(
        bash_complete(&env, &["pause", "backup", ""]),
        "backup beta sync"
    );
    assert_eq!(bash_complete(&env, &["next", ""]), "backup beta sync");
    assert_eq!(bash_complete(&env, &["history", "s"]), "sync");
    assert_eq!(
        bash_complete(&env, &["--config", "other.toml", "trigger", ""]),
        "x"
    );
    // Not where a job does not go.
    assert!(!bash_complete(&env, &["trigger", "backup", ""]).contains("beta"));
    assert!(!bash_complete(&env, &["history", "--since", ""]).contains("beta"));
    assert!(!bash_complete(&env, &["status", ""]).contains("backup"));
    assert_eq!(bash_complete(&env, &["list", "s"]), "sync");
    // clap's own completion still works around it.
    assert_eq!(bash_complete(&env, &["tri"]), "trigger");
}

#[test]
fn zsh_and_fish_scripts_call_the_helper_for_job_arguments() {
    let env = Env::new(JOBS);
    let zsh = std::fs::read_to_string(script(&env, "zsh")).unwrap();
    assert!(
        zsh.contains("':job -- The job to run:_schedule_jobs'"),
        "{zsh}"
    );
    assert_eq!(zsh.matches(":_schedule_jobs' \\").count(), 8, "{zsh}");
    let fish = std::fs::read_to_string(script(&env, "fish")).unwrap();
    assert!(
        fish.contains(
            "__fish_schedule_using_subcommand list trigger pause resume history logs next stats;"
        ),
        "{fish}"
    );
    if has("fish") {
        let bin = assert_cmd::cargo::cargo_bin("schedule");
        let dir = bin.parent().unwrap().display().to_string();
        let out = std::process::Command::new("fish")
            .arg("-c")
            .arg(format!(
                "set PATH {dir} $PATH; source {}; complete -C 'schedule trigger b'",
                env.path("completion.fish").display()
            ))
            .current_dir(env.dir.path())
            .env_remove("SCHEDULE_CONFIG")
            .output()
            .unwrap();
        let got: Vec<String> = text(&out.stdout)
            .lines()
            .map(|l| l.split('\t').next().unwrap().to_string())
            .collect();
        assert_eq!(got, ["backup", "beta"], "{out:?}");
    }
    if has("zsh") {
        // zsh's completion system needs a terminal to drive it; so call the
        // job action as `_arguments` would, with `_describe` printing what
        // it is offered.
        std::fs::write(
            env.path("other.toml"),
            "[jobs.x]\nevery = \"1m\"\ncommand = \"true\"\n",
        )
        .unwrap();
        let bin = assert_cmd::cargo::cargo_bin("schedule");
        let dir = bin.parent().unwrap().display().to_string();
        let out = std::process::Command::new("zsh")
            .arg("-c")
            .arg(format!(
                "source {} 2>/dev/null; PATH={dir}:$PATH; _describe() {{ print -l -- \"${{(@P)4}}\" }}; \
                 BUFFER='schedule trigger b'; _schedule_jobs; \
                 BUFFER='schedule --config other.toml pause '; _schedule_jobs",
                env.path("completion.zsh").display()
            ))
            .current_dir(env.dir.path())
            .env_remove("SCHEDULE_CONFIG")
            .output()
            .unwrap();
        assert_eq!(text(&out.stdout), "backup\nbeta\nsync\nx\n", "{out:?}");
    }
}
