
use builtin;
use str;

set edit:completion:arg-completer[schedule] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'schedule'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'schedule'= {
            cand --config 'The jobs file'
            cand --db 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL'
            cand --color 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never'
            cand --log-format 'Log lines as text or as JSON objects (one per line)'
            cand --utc 'Show times in UTC instead of each job''s time zone'
            cand -v 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
            cand --verbose 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
            cand -q 'Log less (-q: warnings and errors only, -qq: errors only)'
            cand --quiet 'Log less (-q: warnings and errors only, -qq: errors only)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand run 'Run the scheduler in the foreground until Ctrl-C or SIGTERM'
            cand list 'Show each job''s schedule, next run and last run, as systemd''s list-timers'
            cand status 'Whether a scheduler is running on this database, and what it is doing'
            cand logs 'Print a run''s output; with --follow, its new lines until it ends'
            cand history 'Show recorded runs, newest first'
            cand next 'Print the next fire instants of a job or of a cron expression'
            cand trigger 'Run a job now, outside its schedule'
            cand pause 'Pause jobs: their fires are recorded `skipped` until resumed'
            cand resume 'Resume paused jobs'
            cand show 'Show everything about one run'
            cand stats 'Per-job statistics: runs, success rate, durations, delays'
            cand check 'Validate the config without running anything'
            cand init 'Write a commented jobs.toml to start from'
            cand import 'Print a jobs.toml converted from another scheduler''s file'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'schedule;run'= {
            cand --shutdown-grace 'How long running jobs may take to finish after Ctrl-C or SIGTERM'
            cand --http 'Serve /health and /metrics on this address (a bare port listens on loopback); overrides `[scheduler] http`'
            cand --host 'This host''s name in the history and, with [cluster], among the hosts (default: the machine''s host name)'
            cand --config 'The jobs file'
            cand --db 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL'
            cand --color 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never'
            cand --log-format 'Log lines as text or as JSON objects (one per line)'
            cand --utc 'Show times in UTC instead of each job''s time zone'
            cand -v 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
            cand --verbose 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
            cand -q 'Log less (-q: warnings and errors only, -qq: errors only)'
            cand --quiet 'Log less (-q: warnings and errors only, -qq: errors only)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'schedule;list'= {
            cand --config 'The jobs file'
            cand --db 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL'
            cand --color 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never'
            cand --log-format 'Log lines as text or as JSON objects (one per line)'
            cand --failed 'Only the jobs whose last run went wrong (failed, timed_out, interrupted)'
            cand --json 'Print JSON instead of a table'
            cand --utc 'Show times in UTC instead of each job''s time zone'
            cand -v 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
            cand --verbose 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
            cand -q 'Log less (-q: warnings and errors only, -qq: errors only)'
            cand --quiet 'Log less (-q: warnings and errors only, -qq: errors only)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'schedule;status'= {
            cand --config 'The jobs file'
            cand --db 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL'
            cand --color 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never'
            cand --log-format 'Log lines as text or as JSON objects (one per line)'
            cand --json 'Print JSON instead of text'
            cand --utc 'Show times in UTC instead of each job''s time zone'
            cand -v 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
            cand --verbose 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
            cand -q 'Log less (-q: warnings and errors only, -qq: errors only)'
            cand --quiet 'Log less (-q: warnings and errors only, -qq: errors only)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'schedule;logs'= {
            cand --tail 'Only the last N lines of the output so far'
            cand --since 'Every run of JOB started since then, oldest first: a duration ago (`2h`), a date or an RFC3339 instant'
            cand --config 'The jobs file'
            cand --db 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL'
            cand --color 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never'
            cand --log-format 'Log lines as text or as JSON objects (one per line)'
            cand -f 'Keep printing the run''s new lines until it ends'
            cand --follow 'Keep printing the run''s new lines until it ends'
            cand --raw 'The job''s lines unmarked, stdout to stdout and stderr to stderr'
            cand --utc 'Show times in UTC instead of each job''s time zone'
            cand -v 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
            cand --verbose 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
            cand -q 'Log less (-q: warnings and errors only, -qq: errors only)'
            cand --quiet 'Log less (-q: warnings and errors only, -qq: errors only)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'schedule;history'= {
            cand --status 'Only rows with this status: running, succeeded, failed, timed_out, cancelled, interrupted, skipped, missed (repeatable, or comma-separated)'
            cand --host 'Only runs of the scheduler on this host'
            cand -n 'At most this many runs'
            cand --limit 'At most this many runs'
            cand --since 'Only runs scheduled since then: a duration ago (`2h`, `7d`), a date (`2026-11-01`, UTC midnight) or an RFC3339 instant'
            cand --config 'The jobs file'
            cand --db 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL'
            cand --color 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never'
            cand --log-format 'Log lines as text or as JSON objects (one per line)'
            cand --failed 'Only runs that went wrong: failed, timed_out, interrupted (a failure that a later attempt retried is left out)'
            cand --reverse 'Oldest first: the oldest N runs that match'
            cand --json 'Print JSON instead of a table'
            cand --utc 'Show times in UTC instead of each job''s time zone'
            cand -v 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
            cand --verbose 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
            cand -q 'Log less (-q: warnings and errors only, -qq: errors only)'
            cand --quiet 'Log less (-q: warnings and errors only, -qq: errors only)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'schedule;next'= {
            cand -n 'How many instants (1 to 100000)'
            cand --count 'How many instants (1 to 100000)'
            cand --after 'Start after this instant instead of now: RFC3339 with `Z` or an offset (2026-11-20T10:00:00Z), or a date (2026-11-20, UTC midnight)'
            cand --tz 'The time zone (IANA name) an expression is counted in and times are shown in; default: the job''s, or UTC for an expression. --utc shows UTC instead'
            cand --config 'The jobs file'
            cand --db 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL'
            cand --color 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never'
            cand --log-format 'Log lines as text or as JSON objects (one per line)'
            cand --json 'Print JSON instead of one instant per line'
            cand --utc 'Show times in UTC instead of each job''s time zone'
            cand -v 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
            cand --verbose 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
            cand -q 'Log less (-q: warnings and errors only, -qq: errors only)'
            cand --quiet 'Log less (-q: warnings and errors only, -qq: errors only)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'schedule;trigger'= {
            cand --config 'The jobs file'
            cand --db 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL'
            cand --color 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never'
            cand --log-format 'Log lines as text or as JSON objects (one per line)'
            cand --wait 'Wait for the end, stream the job''s output, and exit with its exit code'
            cand --utc 'Show times in UTC instead of each job''s time zone'
            cand -v 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
            cand --verbose 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
            cand -q 'Log less (-q: warnings and errors only, -qq: errors only)'
            cand --quiet 'Log less (-q: warnings and errors only, -qq: errors only)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'schedule;pause'= {
            cand --config 'The jobs file'
            cand --db 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL'
            cand --color 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never'
            cand --log-format 'Log lines as text or as JSON objects (one per line)'
            cand --all 'Every job in the config'
            cand --utc 'Show times in UTC instead of each job''s time zone'
            cand -v 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
            cand --verbose 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
            cand -q 'Log less (-q: warnings and errors only, -qq: errors only)'
            cand --quiet 'Log less (-q: warnings and errors only, -qq: errors only)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'schedule;resume'= {
            cand --config 'The jobs file'
            cand --db 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL'
            cand --color 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never'
            cand --log-format 'Log lines as text or as JSON objects (one per line)'
            cand --all 'Every job in the config'
            cand --utc 'Show times in UTC instead of each job''s time zone'
            cand -v 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
            cand --verbose 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
            cand -q 'Log less (-q: warnings and errors only, -qq: errors only)'
            cand --quiet 'Log less (-q: warnings and errors only, -qq: errors only)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'schedule;show'= {
            cand --config 'The jobs file'
            cand --db 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL'
            cand --color 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never'
            cand --log-format 'Log lines as text or as JSON objects (one per line)'
            cand --json 'Print JSON instead of text'
            cand --raw 'Print the job''s output as it wrote it; on a terminal, control characters and escape sequences are otherwise shown escaped'
            cand --utc 'Show times in UTC instead of each job''s time zone'
            cand -v 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
            cand --verbose 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
            cand -q 'Log less (-q: warnings and errors only, -qq: errors only)'
            cand --quiet 'Log less (-q: warnings and errors only, -qq: errors only)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'schedule;stats'= {
            cand --since 'Over the runs scheduled since then: a duration ago (`7d`), a date or an RFC3339 instant'
            cand --config 'The jobs file'
            cand --db 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL'
            cand --color 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never'
            cand --log-format 'Log lines as text or as JSON objects (one per line)'
            cand --json 'Print JSON instead of a table'
            cand --utc 'Show times in UTC instead of each job''s time zone'
            cand -v 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
            cand --verbose 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
            cand -q 'Log less (-q: warnings and errors only, -qq: errors only)'
            cand --quiet 'Log less (-q: warnings and errors only, -qq: errors only)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'schedule;check'= {
            cand --config 'The jobs file'
            cand --db 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL'
            cand --color 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never'
            cand --log-format 'Log lines as text or as JSON objects (one per line)'
            cand --strict 'Fail (exit 2) on warnings too'
            cand --json 'Print JSON instead of text'
            cand --utc 'Show times in UTC instead of each job''s time zone'
            cand -v 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
            cand --verbose 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
            cand -q 'Log less (-q: warnings and errors only, -qq: errors only)'
            cand --quiet 'Log less (-q: warnings and errors only, -qq: errors only)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'schedule;init'= {
            cand --config 'The jobs file'
            cand --db 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL'
            cand --color 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never'
            cand --log-format 'Log lines as text or as JSON objects (one per line)'
            cand --utc 'Show times in UTC instead of each job''s time zone'
            cand -v 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
            cand --verbose 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
            cand -q 'Log less (-q: warnings and errors only, -qq: errors only)'
            cand --quiet 'Log less (-q: warnings and errors only, -qq: errors only)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'schedule;import'= {
            cand --config 'The jobs file'
            cand --db 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL'
            cand --color 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never'
            cand --log-format 'Log lines as text or as JSON objects (one per line)'
            cand --utc 'Show times in UTC instead of each job''s time zone'
            cand -v 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
            cand --verbose 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
            cand -q 'Log less (-q: warnings and errors only, -qq: errors only)'
            cand --quiet 'Log less (-q: warnings and errors only, -qq: errors only)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand crontab 'Convert a crontab: its entries, variables, CRON_TZ, macros and `%`'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'schedule;import;crontab'= {
            cand --tz 'The time zone cron ran the file in (IANA name); default: this machine''s, from TZ or /etc/localtime'
            cand --config 'The jobs file'
            cand --db 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL'
            cand --color 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never'
            cand --log-format 'Log lines as text or as JSON objects (one per line)'
            cand --system 'Entries have a user field (as in /etc/crontab and /etc/cron.d/*, which are recognised by their path)'
            cand --utc 'Show times in UTC instead of each job''s time zone'
            cand -v 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
            cand --verbose 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
            cand -q 'Log less (-q: warnings and errors only, -qq: errors only)'
            cand --quiet 'Log less (-q: warnings and errors only, -qq: errors only)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'schedule;import;help'= {
            cand crontab 'Convert a crontab: its entries, variables, CRON_TZ, macros and `%`'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'schedule;import;help;crontab'= {
        }
        &'schedule;import;help;help'= {
        }
        &'schedule;completions'= {
            cand --config 'The jobs file'
            cand --db 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL'
            cand --color 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never'
            cand --log-format 'Log lines as text or as JSON objects (one per line)'
            cand --utc 'Show times in UTC instead of each job''s time zone'
            cand -v 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
            cand --verbose 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
            cand -q 'Log less (-q: warnings and errors only, -qq: errors only)'
            cand --quiet 'Log less (-q: warnings and errors only, -qq: errors only)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'schedule;help'= {
            cand run 'Run the scheduler in the foreground until Ctrl-C or SIGTERM'
            cand list 'Show each job''s schedule, next run and last run, as systemd''s list-timers'
            cand status 'Whether a scheduler is running on this database, and what it is doing'
            cand logs 'Print a run''s output; with --follow, its new lines until it ends'
            cand history 'Show recorded runs, newest first'
            cand next 'Print the next fire instants of a job or of a cron expression'
            cand trigger 'Run a job now, outside its schedule'
            cand pause 'Pause jobs: their fires are recorded `skipped` until resumed'
            cand resume 'Resume paused jobs'
            cand show 'Show everything about one run'
            cand stats 'Per-job statistics: runs, success rate, durations, delays'
            cand check 'Validate the config without running anything'
            cand init 'Write a commented jobs.toml to start from'
            cand import 'Print a jobs.toml converted from another scheduler''s file'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'schedule;help;run'= {
        }
        &'schedule;help;list'= {
        }
        &'schedule;help;status'= {
        }
        &'schedule;help;logs'= {
        }
        &'schedule;help;history'= {
        }
        &'schedule;help;next'= {
        }
        &'schedule;help;trigger'= {
        }
        &'schedule;help;pause'= {
        }
        &'schedule;help;resume'= {
        }
        &'schedule;help;show'= {
        }
        &'schedule;help;stats'= {
        }
        &'schedule;help;check'= {
        }
        &'schedule;help;init'= {
        }
        &'schedule;help;import'= {
            cand crontab 'Convert a crontab: its entries, variables, CRON_TZ, macros and `%`'
        }
        &'schedule;help;import;crontab'= {
        }
        &'schedule;help;completions'= {
        }
        &'schedule;help;help'= {
        }
    ]
    $completions[$command]
}
