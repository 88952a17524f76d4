//! `schedule completions SHELL`: the completion script, generated from the
//! CLI definition so it never drifts from it; and `schedule __complete
//! jobs`, the hidden helper through which the bash, zsh and fish scripts
//! complete job names (`schedule trigger <TAB>`) from the config.
//!
//! clap_complete writes static scripts; the job arguments are then pointed
//! at the helper: zsh's `_default` action for them becomes `_schedule_jobs`,
//! bash's completion function is wrapped, and fish gets one more rule. Each
//! passes on a `--config` from the command line being completed.

use clap::CommandFactory;

use crate::cli::{Cli, CompleteArgs, CompleteWhat, CompletionsArgs, Global};
use crate::error::Error;

pub fn run(args: &CompletionsArgs) -> Result<(), Error> {
    super::print(&script(args.shell))
}

/// `schedule __complete jobs`: the job names, one a line. Prints nothing
/// (and succeeds) when the config cannot be read: a completion must not
/// print errors into the command line.
pub fn complete(global: &Global, args: &CompleteArgs) -> Result<(), Error> {
    match args.what {
        CompleteWhat::Jobs => {
            let names = job_names(&global.config);
            super::print(&names.iter().map(|n| format!("{n}\n")).collect::<String>())
        }
    }
}

fn job_names(path: &std::path::Path) -> Vec<String> {
    crate::config::load(path)
        .map(|c| c.jobs.iter().map(|j| j.name.to_string()).collect())
        .unwrap_or_default()
}

/// The subcommands whose positional arguments are job names.
const JOB_COMMANDS: &[&str] = &[
    "list", "trigger", "pause", "resume", "history", "logs", "next", "stats",
];

/// The completion script for one shell.
pub fn script(shell: clap_complete::Shell) -> String {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut visible_command(), "schedule", &mut out);
    let script = String::from_utf8_lossy(&out).into_owned();
    match shell {
        clap_complete::Shell::Bash => bash(&script),
        clap_complete::Shell::Zsh => zsh(&script),
        clap_complete::Shell::Fish => fish(&script),
        _ => script,
    }
}

/// The CLI without its hidden subcommands (`__complete`), which
/// clap_complete would otherwise offer at `schedule <TAB>`.
fn visible_command() -> clap::Command {
    let full = crate::cli::command();
    let mut cmd = clap::Command::new("schedule")
        .args(full.get_arguments().cloned())
        .subcommands(full.get_subcommands().filter(|s| !s.is_hide_set()).cloned());
    if let Some(about) = full.get_about() {
        cmd = cmd.about(about.clone());
    }
    if full.get_version().is_some() {
        cmd = cmd.version(env!("CARGO_PKG_VERSION"));
    }
    if full.is_subcommand_required_set() {
        cmd = cmd.subcommand_required(true);
    }
    cmd
}

/// The subcommands of [`JOB_COMMANDS`] that exist in this CLI.
fn job_commands() -> Vec<String> {
    let cli = Cli::command();
    JOB_COMMANDS
        .iter()
        .filter(|name| cli.find_subcommand(name).is_some())
        .map(|s| s.to_string())
        .collect()
}

fn bash(script: &str) -> String {
    let wrapped = script.replace("complete -F _schedule ", "complete -F _schedule_with_jobs ");
    format!(
        r#"{wrapped}
# Job names for the job arguments, from `schedule __complete jobs`.
_schedule_with_jobs() {{
    _schedule "$@"
    local cur="${{COMP_WORDS[COMP_CWORD]}}" prev="${{COMP_WORDS[COMP_CWORD-1]}}"
    local sub="" positionals=0 i word
    local -a config=()
    [[ $cur == -* ]] && return
    case "$prev" in
        --config|--db|--color|--log-format|--since|--limit|-n|--count|--after|--tz|=) return ;;
    esac
    for (( i = 1; i < COMP_CWORD; i++ )); do
        word="${{COMP_WORDS[i]}}"
        case "$word" in
            --config)
                if [[ ${{COMP_WORDS[i+1]}} == "=" ]]; then
                    config=(--config "${{COMP_WORDS[i+2]}}"); i=$((i + 2))
                else
                    config=(--config "${{COMP_WORDS[i+1]}}"); i=$((i + 1))
                fi ;;
            --db|--color|--log-format|--since|--limit|-n|--count|--after|--tz)
                [[ ${{COMP_WORDS[i+1]}} == "=" ]] && i=$((i + 1))
                i=$((i + 1)) ;;
            -*) ;;
            *)
                if [[ -z $sub ]]; then sub="$word"; else positionals=$((positionals + 1)); fi ;;
        esac
    done
    case "$sub" in
        pause|resume) ;;
        {single}) (( positionals == 0 )) || return ;;
        *) return ;;
    esac
    local IFS=$'\n'
    COMPREPLY=( $(compgen -W "$("${{COMP_WORDS[0]}}" "${{config[@]}}" __complete jobs 2>/dev/null)" -- "$cur") )
}}
"#,
        single = job_commands()
            .into_iter()
            .filter(|c| c != "pause" && c != "resume")
            .collect::<Vec<_>>()
            .join("|"),
    )
}

fn zsh(script: &str) -> String {
    let mut out = String::new();
    for line in script.lines() {
        let is_job_arg = ["'::job -- ", "':job -- ", "'*::jobs -- ", "':target -- "]
            .iter()
            .any(|p| line.starts_with(p));
        if is_job_arg && line.ends_with(":_default' \\") {
            out.push_str(&line.replace(":_default' \\", ":_schedule_jobs' \\"));
        } else {
            out.push_str(line);
        }
        out.push('\n');
        if line == "#compdef schedule" {
            out.push_str(
                r#"
# Job names for the job arguments, from `schedule __complete jobs`.
_schedule_jobs() {
    local -a line jobs config
    local i
    line=(${(z)BUFFER})
    for (( i = 1; i <= ${#line}; i++ )); do
        case ${line[i]} in
            --config) config=(--config "${(Q)line[i+1]}") ;;
            --config=*) config=(--config "${(Q)${line[i]#--config=}}") ;;
        esac
    done
    jobs=(${(f)"$(${(Q)line[1]} "${config[@]}" __complete jobs 2>/dev/null)"})
    _describe -t jobs 'job' jobs
}
"#,
            );
        }
    }
    out
}

fn fish(script: &str) -> String {
    format!(
        r#"{script}
# Job names for the job arguments, from `schedule __complete jobs`.
function __fish_schedule_jobs
    set -l words (commandline -opc)
    set -l config
    for i in (seq (count $words))
        switch $words[$i]
            case --config
                set config --config $words[(math $i + 1)]
            case '--config=*'
                set config --config (string replace -- --config= '' $words[$i])
        end
    end
    $words[1] $config __complete jobs 2>/dev/null
end
complete -c schedule -n "__fish_schedule_using_subcommand {commands}; and not string match -q -- '-*' (commandline -ct)" -f -a "(__fish_schedule_jobs)" -d 'job'
"#,
        commands = job_commands().join(" "),
    )
}
