# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_schedule_global_optspecs
    string join \n config= db= color= utc v/verbose q/quiet log-format= h/help V/version
end

function __fish_schedule_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_schedule_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_schedule_using_subcommand
    set -l cmd (__fish_schedule_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c schedule -n "__fish_schedule_needs_command" -l config -d 'The jobs file' -r -F
complete -c schedule -n "__fish_schedule_needs_command" -l db -d 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL' -r
complete -c schedule -n "__fish_schedule_needs_command" -l color -d 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never' -r -f -a "auto\t'When stdout is a terminal and `NO_COLOR` is not set'
always\t''
never\t''"
complete -c schedule -n "__fish_schedule_needs_command" -l log-format -d 'Log lines as text or as JSON objects (one per line)' -r -f -a "text\t''
json\t''"
complete -c schedule -n "__fish_schedule_needs_command" -l utc -d 'Show times in UTC instead of each job\'s time zone'
complete -c schedule -n "__fish_schedule_needs_command" -s v -l verbose -d 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
complete -c schedule -n "__fish_schedule_needs_command" -s q -l quiet -d 'Log less (-q: warnings and errors only, -qq: errors only)'
complete -c schedule -n "__fish_schedule_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c schedule -n "__fish_schedule_needs_command" -s V -l version -d 'Print version'
complete -c schedule -n "__fish_schedule_needs_command" -f -a "run" -d 'Run the scheduler in the foreground until Ctrl-C or SIGTERM'
complete -c schedule -n "__fish_schedule_needs_command" -f -a "list" -d 'Show each job\'s schedule, next run and last run, as systemd\'s list-timers'
complete -c schedule -n "__fish_schedule_needs_command" -f -a "status" -d 'Whether a scheduler is running on this database, and what it is doing'
complete -c schedule -n "__fish_schedule_needs_command" -f -a "logs" -d 'Print a run\'s output; with --follow, its new lines until it ends'
complete -c schedule -n "__fish_schedule_needs_command" -f -a "history" -d 'Show recorded runs, newest first'
complete -c schedule -n "__fish_schedule_needs_command" -f -a "next" -d 'Print the next fire instants of a job or of a cron expression'
complete -c schedule -n "__fish_schedule_needs_command" -f -a "trigger" -d 'Run a job now, outside its schedule'
complete -c schedule -n "__fish_schedule_needs_command" -f -a "pause" -d 'Pause jobs: their fires are recorded `skipped` until resumed'
complete -c schedule -n "__fish_schedule_needs_command" -f -a "resume" -d 'Resume paused jobs'
complete -c schedule -n "__fish_schedule_needs_command" -f -a "show" -d 'Show everything about one run'
complete -c schedule -n "__fish_schedule_needs_command" -f -a "stats" -d 'Per-job statistics: runs, success rate, durations, delays'
complete -c schedule -n "__fish_schedule_needs_command" -f -a "check" -d 'Validate the config without running anything'
complete -c schedule -n "__fish_schedule_needs_command" -f -a "init" -d 'Write a commented jobs.toml to start from'
complete -c schedule -n "__fish_schedule_needs_command" -f -a "import" -d 'Print a jobs.toml converted from another scheduler\'s file'
complete -c schedule -n "__fish_schedule_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c schedule -n "__fish_schedule_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c schedule -n "__fish_schedule_using_subcommand run" -l shutdown-grace -d 'How long running jobs may take to finish after Ctrl-C or SIGTERM' -r
complete -c schedule -n "__fish_schedule_using_subcommand run" -l http -d 'Serve /health and /metrics on this address (a bare port listens on loopback); overrides `[scheduler] http`' -r
complete -c schedule -n "__fish_schedule_using_subcommand run" -l host -d 'This host\'s name in the history and, with [cluster], among the hosts (default: the machine\'s host name)' -r
complete -c schedule -n "__fish_schedule_using_subcommand run" -l config -d 'The jobs file' -r -F
complete -c schedule -n "__fish_schedule_using_subcommand run" -l db -d 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL' -r
complete -c schedule -n "__fish_schedule_using_subcommand run" -l color -d 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never' -r -f -a "auto\t'When stdout is a terminal and `NO_COLOR` is not set'
always\t''
never\t''"
complete -c schedule -n "__fish_schedule_using_subcommand run" -l log-format -d 'Log lines as text or as JSON objects (one per line)' -r -f -a "text\t''
json\t''"
complete -c schedule -n "__fish_schedule_using_subcommand run" -l utc -d 'Show times in UTC instead of each job\'s time zone'
complete -c schedule -n "__fish_schedule_using_subcommand run" -s v -l verbose -d 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
complete -c schedule -n "__fish_schedule_using_subcommand run" -s q -l quiet -d 'Log less (-q: warnings and errors only, -qq: errors only)'
complete -c schedule -n "__fish_schedule_using_subcommand run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c schedule -n "__fish_schedule_using_subcommand list" -l config -d 'The jobs file' -r -F
complete -c schedule -n "__fish_schedule_using_subcommand list" -l db -d 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL' -r
complete -c schedule -n "__fish_schedule_using_subcommand list" -l color -d 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never' -r -f -a "auto\t'When stdout is a terminal and `NO_COLOR` is not set'
always\t''
never\t''"
complete -c schedule -n "__fish_schedule_using_subcommand list" -l log-format -d 'Log lines as text or as JSON objects (one per line)' -r -f -a "text\t''
json\t''"
complete -c schedule -n "__fish_schedule_using_subcommand list" -l failed -d 'Only the jobs whose last run went wrong (failed, timed_out, interrupted)'
complete -c schedule -n "__fish_schedule_using_subcommand list" -l json -d 'Print JSON instead of a table'
complete -c schedule -n "__fish_schedule_using_subcommand list" -l utc -d 'Show times in UTC instead of each job\'s time zone'
complete -c schedule -n "__fish_schedule_using_subcommand list" -s v -l verbose -d 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
complete -c schedule -n "__fish_schedule_using_subcommand list" -s q -l quiet -d 'Log less (-q: warnings and errors only, -qq: errors only)'
complete -c schedule -n "__fish_schedule_using_subcommand list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c schedule -n "__fish_schedule_using_subcommand status" -l config -d 'The jobs file' -r -F
complete -c schedule -n "__fish_schedule_using_subcommand status" -l db -d 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL' -r
complete -c schedule -n "__fish_schedule_using_subcommand status" -l color -d 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never' -r -f -a "auto\t'When stdout is a terminal and `NO_COLOR` is not set'
always\t''
never\t''"
complete -c schedule -n "__fish_schedule_using_subcommand status" -l log-format -d 'Log lines as text or as JSON objects (one per line)' -r -f -a "text\t''
json\t''"
complete -c schedule -n "__fish_schedule_using_subcommand status" -l json -d 'Print JSON instead of text'
complete -c schedule -n "__fish_schedule_using_subcommand status" -l utc -d 'Show times in UTC instead of each job\'s time zone'
complete -c schedule -n "__fish_schedule_using_subcommand status" -s v -l verbose -d 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
complete -c schedule -n "__fish_schedule_using_subcommand status" -s q -l quiet -d 'Log less (-q: warnings and errors only, -qq: errors only)'
complete -c schedule -n "__fish_schedule_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c schedule -n "__fish_schedule_using_subcommand logs" -l tail -d 'Only the last N lines of the output so far' -r
complete -c schedule -n "__fish_schedule_using_subcommand logs" -l since -d 'Every run of JOB started since then, oldest first: a duration ago (`2h`), a date or an RFC3339 instant' -r
complete -c schedule -n "__fish_schedule_using_subcommand logs" -l config -d 'The jobs file' -r -F
complete -c schedule -n "__fish_schedule_using_subcommand logs" -l db -d 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL' -r
complete -c schedule -n "__fish_schedule_using_subcommand logs" -l color -d 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never' -r -f -a "auto\t'When stdout is a terminal and `NO_COLOR` is not set'
always\t''
never\t''"
complete -c schedule -n "__fish_schedule_using_subcommand logs" -l log-format -d 'Log lines as text or as JSON objects (one per line)' -r -f -a "text\t''
json\t''"
complete -c schedule -n "__fish_schedule_using_subcommand logs" -s f -l follow -d 'Keep printing the run\'s new lines until it ends'
complete -c schedule -n "__fish_schedule_using_subcommand logs" -l raw -d 'The job\'s lines unmarked, stdout to stdout and stderr to stderr'
complete -c schedule -n "__fish_schedule_using_subcommand logs" -l utc -d 'Show times in UTC instead of each job\'s time zone'
complete -c schedule -n "__fish_schedule_using_subcommand logs" -s v -l verbose -d 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
complete -c schedule -n "__fish_schedule_using_subcommand logs" -s q -l quiet -d 'Log less (-q: warnings and errors only, -qq: errors only)'
complete -c schedule -n "__fish_schedule_using_subcommand logs" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c schedule -n "__fish_schedule_using_subcommand history" -l status -d 'Only rows with this status: running, succeeded, failed, timed_out, cancelled, interrupted, skipped, missed (repeatable, or comma-separated)' -r
complete -c schedule -n "__fish_schedule_using_subcommand history" -l host -d 'Only runs of the scheduler on this host' -r
complete -c schedule -n "__fish_schedule_using_subcommand history" -s n -l limit -d 'At most this many runs' -r
complete -c schedule -n "__fish_schedule_using_subcommand history" -l since -d 'Only runs scheduled since then: a duration ago (`2h`, `7d`), a date (`2026-11-01`, UTC midnight) or an RFC3339 instant' -r
complete -c schedule -n "__fish_schedule_using_subcommand history" -l config -d 'The jobs file' -r -F
complete -c schedule -n "__fish_schedule_using_subcommand history" -l db -d 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL' -r
complete -c schedule -n "__fish_schedule_using_subcommand history" -l color -d 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never' -r -f -a "auto\t'When stdout is a terminal and `NO_COLOR` is not set'
always\t''
never\t''"
complete -c schedule -n "__fish_schedule_using_subcommand history" -l log-format -d 'Log lines as text or as JSON objects (one per line)' -r -f -a "text\t''
json\t''"
complete -c schedule -n "__fish_schedule_using_subcommand history" -l failed -d 'Only runs that went wrong: failed, timed_out, interrupted (a failure that a later attempt retried is left out)'
complete -c schedule -n "__fish_schedule_using_subcommand history" -l reverse -d 'Oldest first: the oldest N runs that match'
complete -c schedule -n "__fish_schedule_using_subcommand history" -l json -d 'Print JSON instead of a table'
complete -c schedule -n "__fish_schedule_using_subcommand history" -l utc -d 'Show times in UTC instead of each job\'s time zone'
complete -c schedule -n "__fish_schedule_using_subcommand history" -s v -l verbose -d 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
complete -c schedule -n "__fish_schedule_using_subcommand history" -s q -l quiet -d 'Log less (-q: warnings and errors only, -qq: errors only)'
complete -c schedule -n "__fish_schedule_using_subcommand history" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c schedule -n "__fish_schedule_using_subcommand next" -s n -l count -d 'How many instants (1 to 100000)' -r
complete -c schedule -n "__fish_schedule_using_subcommand next" -l after -d 'Start after this instant instead of now: RFC3339 with `Z` or an offset (2026-11-20T10:00:00Z), or a date (2026-11-20, UTC midnight)' -r
complete -c schedule -n "__fish_schedule_using_subcommand next" -l tz -d 'The time zone (IANA name) an expression is counted in and times are shown in; default: the job\'s, or UTC for an expression. --utc shows UTC instead' -r
complete -c schedule -n "__fish_schedule_using_subcommand next" -l config -d 'The jobs file' -r -F
complete -c schedule -n "__fish_schedule_using_subcommand next" -l db -d 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL' -r
complete -c schedule -n "__fish_schedule_using_subcommand next" -l color -d 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never' -r -f -a "auto\t'When stdout is a terminal and `NO_COLOR` is not set'
always\t''
never\t''"
complete -c schedule -n "__fish_schedule_using_subcommand next" -l log-format -d 'Log lines as text or as JSON objects (one per line)' -r -f -a "text\t''
json\t''"
complete -c schedule -n "__fish_schedule_using_subcommand next" -l json -d 'Print JSON instead of one instant per line'
complete -c schedule -n "__fish_schedule_using_subcommand next" -l utc -d 'Show times in UTC instead of each job\'s time zone'
complete -c schedule -n "__fish_schedule_using_subcommand next" -s v -l verbose -d 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
complete -c schedule -n "__fish_schedule_using_subcommand next" -s q -l quiet -d 'Log less (-q: warnings and errors only, -qq: errors only)'
complete -c schedule -n "__fish_schedule_using_subcommand next" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c schedule -n "__fish_schedule_using_subcommand trigger" -l config -d 'The jobs file' -r -F
complete -c schedule -n "__fish_schedule_using_subcommand trigger" -l db -d 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL' -r
complete -c schedule -n "__fish_schedule_using_subcommand trigger" -l color -d 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never' -r -f -a "auto\t'When stdout is a terminal and `NO_COLOR` is not set'
always\t''
never\t''"
complete -c schedule -n "__fish_schedule_using_subcommand trigger" -l log-format -d 'Log lines as text or as JSON objects (one per line)' -r -f -a "text\t''
json\t''"
complete -c schedule -n "__fish_schedule_using_subcommand trigger" -l wait -d 'Wait for the end, stream the job\'s output, and exit with its exit code'
complete -c schedule -n "__fish_schedule_using_subcommand trigger" -l utc -d 'Show times in UTC instead of each job\'s time zone'
complete -c schedule -n "__fish_schedule_using_subcommand trigger" -s v -l verbose -d 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
complete -c schedule -n "__fish_schedule_using_subcommand trigger" -s q -l quiet -d 'Log less (-q: warnings and errors only, -qq: errors only)'
complete -c schedule -n "__fish_schedule_using_subcommand trigger" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c schedule -n "__fish_schedule_using_subcommand pause" -l config -d 'The jobs file' -r -F
complete -c schedule -n "__fish_schedule_using_subcommand pause" -l db -d 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL' -r
complete -c schedule -n "__fish_schedule_using_subcommand pause" -l color -d 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never' -r -f -a "auto\t'When stdout is a terminal and `NO_COLOR` is not set'
always\t''
never\t''"
complete -c schedule -n "__fish_schedule_using_subcommand pause" -l log-format -d 'Log lines as text or as JSON objects (one per line)' -r -f -a "text\t''
json\t''"
complete -c schedule -n "__fish_schedule_using_subcommand pause" -l all -d 'Every job in the config'
complete -c schedule -n "__fish_schedule_using_subcommand pause" -l utc -d 'Show times in UTC instead of each job\'s time zone'
complete -c schedule -n "__fish_schedule_using_subcommand pause" -s v -l verbose -d 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
complete -c schedule -n "__fish_schedule_using_subcommand pause" -s q -l quiet -d 'Log less (-q: warnings and errors only, -qq: errors only)'
complete -c schedule -n "__fish_schedule_using_subcommand pause" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c schedule -n "__fish_schedule_using_subcommand resume" -l config -d 'The jobs file' -r -F
complete -c schedule -n "__fish_schedule_using_subcommand resume" -l db -d 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL' -r
complete -c schedule -n "__fish_schedule_using_subcommand resume" -l color -d 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never' -r -f -a "auto\t'When stdout is a terminal and `NO_COLOR` is not set'
always\t''
never\t''"
complete -c schedule -n "__fish_schedule_using_subcommand resume" -l log-format -d 'Log lines as text or as JSON objects (one per line)' -r -f -a "text\t''
json\t''"
complete -c schedule -n "__fish_schedule_using_subcommand resume" -l all -d 'Every job in the config'
complete -c schedule -n "__fish_schedule_using_subcommand resume" -l utc -d 'Show times in UTC instead of each job\'s time zone'
complete -c schedule -n "__fish_schedule_using_subcommand resume" -s v -l verbose -d 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
complete -c schedule -n "__fish_schedule_using_subcommand resume" -s q -l quiet -d 'Log less (-q: warnings and errors only, -qq: errors only)'
complete -c schedule -n "__fish_schedule_using_subcommand resume" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c schedule -n "__fish_schedule_using_subcommand show" -l config -d 'The jobs file' -r -F
complete -c schedule -n "__fish_schedule_using_subcommand show" -l db -d 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL' -r
complete -c schedule -n "__fish_schedule_using_subcommand show" -l color -d 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never' -r -f -a "auto\t'When stdout is a terminal and `NO_COLOR` is not set'
always\t''
never\t''"
complete -c schedule -n "__fish_schedule_using_subcommand show" -l log-format -d 'Log lines as text or as JSON objects (one per line)' -r -f -a "text\t''
json\t''"
complete -c schedule -n "__fish_schedule_using_subcommand show" -l json -d 'Print JSON instead of text'
complete -c schedule -n "__fish_schedule_using_subcommand show" -l raw -d 'Print the job\'s output as it wrote it; on a terminal, control characters and escape sequences are otherwise shown escaped'
complete -c schedule -n "__fish_schedule_using_subcommand show" -l utc -d 'Show times in UTC instead of each job\'s time zone'
complete -c schedule -n "__fish_schedule_using_subcommand show" -s v -l verbose -d 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
complete -c schedule -n "__fish_schedule_using_subcommand show" -s q -l quiet -d 'Log less (-q: warnings and errors only, -qq: errors only)'
complete -c schedule -n "__fish_schedule_using_subcommand show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c schedule -n "__fish_schedule_using_subcommand stats" -l since -d 'Over the runs scheduled since then: a duration ago (`7d`), a date or an RFC3339 instant' -r
complete -c schedule -n "__fish_schedule_using_subcommand stats" -l config -d 'The jobs file' -r -F
complete -c schedule -n "__fish_schedule_using_subcommand stats" -l db -d 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL' -r
complete -c schedule -n "__fish_schedule_using_subcommand stats" -l color -d 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never' -r -f -a "auto\t'When stdout is a terminal and `NO_COLOR` is not set'
always\t''
never\t''"
complete -c schedule -n "__fish_schedule_using_subcommand stats" -l log-format -d 'Log lines as text or as JSON objects (one per line)' -r -f -a "text\t''
json\t''"
complete -c schedule -n "__fish_schedule_using_subcommand stats" -l json -d 'Print JSON instead of a table'
complete -c schedule -n "__fish_schedule_using_subcommand stats" -l utc -d 'Show times in UTC instead of each job\'s time zone'
complete -c schedule -n "__fish_schedule_using_subcommand stats" -s v -l verbose -d 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
complete -c schedule -n "__fish_schedule_using_subcommand stats" -s q -l quiet -d 'Log less (-q: warnings and errors only, -qq: errors only)'
complete -c schedule -n "__fish_schedule_using_subcommand stats" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c schedule -n "__fish_schedule_using_subcommand check" -l config -d 'The jobs file' -r -F
complete -c schedule -n "__fish_schedule_using_subcommand check" -l db -d 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL' -r
complete -c schedule -n "__fish_schedule_using_subcommand check" -l color -d 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never' -r -f -a "auto\t'When stdout is a terminal and `NO_COLOR` is not set'
always\t''
never\t''"
complete -c schedule -n "__fish_schedule_using_subcommand check" -l log-format -d 'Log lines as text or as JSON objects (one per line)' -r -f -a "text\t''
json\t''"
complete -c schedule -n "__fish_schedule_using_subcommand check" -l strict -d 'Fail (exit 2) on warnings too'
complete -c schedule -n "__fish_schedule_using_subcommand check" -l json -d 'Print JSON instead of text'
complete -c schedule -n "__fish_schedule_using_subcommand check" -l utc -d 'Show times in UTC instead of each job\'s time zone'
complete -c schedule -n "__fish_schedule_using_subcommand check" -s v -l verbose -d 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
complete -c schedule -n "__fish_schedule_using_subcommand check" -s q -l quiet -d 'Log less (-q: warnings and errors only, -qq: errors only)'
complete -c schedule -n "__fish_schedule_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c schedule -n "__fish_schedule_using_subcommand init" -l config -d 'The jobs file' -r -F
complete -c schedule -n "__fish_schedule_using_subcommand init" -l db -d 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL' -r
complete -c schedule -n "__fish_schedule_using_subcommand init" -l color -d 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never' -r -f -a "auto\t'When stdout is a terminal and `NO_COLOR` is not set'
always\t''
never\t''"
complete -c schedule -n "__fish_schedule_using_subcommand init" -l log-format -d 'Log lines as text or as JSON objects (one per line)' -r -f -a "text\t''
json\t''"
complete -c schedule -n "__fish_schedule_using_subcommand init" -l utc -d 'Show times in UTC instead of each job\'s time zone'
complete -c schedule -n "__fish_schedule_using_subcommand init" -s v -l verbose -d 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
complete -c schedule -n "__fish_schedule_using_subcommand init" -s q -l quiet -d 'Log less (-q: warnings and errors only, -qq: errors only)'
complete -c schedule -n "__fish_schedule_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c schedule -n "__fish_schedule_using_subcommand import; and not __fish_seen_subcommand_from crontab help" -l config -d 'The jobs file' -r -F
complete -c schedule -n "__fish_schedule_using_subcommand import; and not __fish_seen_subcommand_from crontab help" -l db -d 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL' -r
complete -c schedule -n "__fish_schedule_using_subcommand import; and not __fish_seen_subcommand_from crontab help" -l color -d 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never' -r -f -a "auto\t'When stdout is a terminal and `NO_COLOR` is not set'
always\t''
never\t''"
complete -c schedule -n "__fish_schedule_using_subcommand import; and not __fish_seen_subcommand_from crontab help" -l log-format -d 'Log lines as text or as JSON objects (one per line)' -r -f -a "text\t''
json\t''"
complete -c schedule -n "__fish_schedule_using_subcommand import; and not __fish_seen_subcommand_from crontab help" -l utc -d 'Show times in UTC instead of each job\'s time zone'
complete -c schedule -n "__fish_schedule_using_subcommand import; and not __fish_seen_subcommand_from crontab help" -s v -l verbose -d 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
complete -c schedule -n "__fish_schedule_using_subcommand import; and not __fish_seen_subcommand_from crontab help" -s q -l quiet -d 'Log less (-q: warnings and errors only, -qq: errors only)'
complete -c schedule -n "__fish_schedule_using_subcommand import; and not __fish_seen_subcommand_from crontab help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c schedule -n "__fish_schedule_using_subcommand import; and not __fish_seen_subcommand_from crontab help" -f -a "crontab" -d 'Convert a crontab: its entries, variables, CRON_TZ, macros and `%`'
complete -c schedule -n "__fish_schedule_using_subcommand import; and not __fish_seen_subcommand_from crontab help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c schedule -n "__fish_schedule_using_subcommand import; and __fish_seen_subcommand_from crontab" -l tz -d 'The time zone cron ran the file in (IANA name); default: this machine\'s, from TZ or /etc/localtime' -r
complete -c schedule -n "__fish_schedule_using_subcommand import; and __fish_seen_subcommand_from crontab" -l config -d 'The jobs file' -r -F
complete -c schedule -n "__fish_schedule_using_subcommand import; and __fish_seen_subcommand_from crontab" -l db -d 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL' -r
complete -c schedule -n "__fish_schedule_using_subcommand import; and __fish_seen_subcommand_from crontab" -l color -d 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never' -r -f -a "auto\t'When stdout is a terminal and `NO_COLOR` is not set'
always\t''
never\t''"
complete -c schedule -n "__fish_schedule_using_subcommand import; and __fish_seen_subcommand_from crontab" -l log-format -d 'Log lines as text or as JSON objects (one per line)' -r -f -a "text\t''
json\t''"
complete -c schedule -n "__fish_schedule_using_subcommand import; and __fish_seen_subcommand_from crontab" -l system -d 'Entries have a user field (as in /etc/crontab and /etc/cron.d/*, which are recognised by their path)'
complete -c schedule -n "__fish_schedule_using_subcommand import; and __fish_seen_subcommand_from crontab" -l utc -d 'Show times in UTC instead of each job\'s time zone'
complete -c schedule -n "__fish_schedule_using_subcommand import; and __fish_seen_subcommand_from crontab" -s v -l verbose -d 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
complete -c schedule -n "__fish_schedule_using_subcommand import; and __fish_seen_subcommand_from crontab" -s q -l quiet -d 'Log less (-q: warnings and errors only, -qq: errors only)'
complete -c schedule -n "__fish_schedule_using_subcommand import; and __fish_seen_subcommand_from crontab" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c schedule -n "__fish_schedule_using_subcommand import; and __fish_seen_subcommand_from help" -f -a "crontab" -d 'Convert a crontab: its entries, variables, CRON_TZ, macros and `%`'
complete -c schedule -n "__fish_schedule_using_subcommand import; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c schedule -n "__fish_schedule_using_subcommand completions" -l config -d 'The jobs file' -r -F
complete -c schedule -n "__fish_schedule_using_subcommand completions" -l db -d 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL' -r
complete -c schedule -n "__fish_schedule_using_subcommand completions" -l color -d 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never' -r -f -a "auto\t'When stdout is a terminal and `NO_COLOR` is not set'
always\t''
never\t''"
complete -c schedule -n "__fish_schedule_using_subcommand completions" -l log-format -d 'Log lines as text or as JSON objects (one per line)' -r -f -a "text\t''
json\t''"
complete -c schedule -n "__fish_schedule_using_subcommand completions" -l utc -d 'Show times in UTC instead of each job\'s time zone'
complete -c schedule -n "__fish_schedule_using_subcommand completions" -s v -l verbose -d 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead'
complete -c schedule -n "__fish_schedule_using_subcommand completions" -s q -l quiet -d 'Log less (-q: warnings and errors only, -qq: errors only)'
complete -c schedule -n "__fish_schedule_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c schedule -n "__fish_schedule_using_subcommand help; and not __fish_seen_subcommand_from run list status logs history next trigger pause resume show stats check init import completions help" -f -a "run" -d 'Run the scheduler in the foreground until Ctrl-C or SIGTERM'
complete -c schedule -n "__fish_schedule_using_subcommand help; and not __fish_seen_subcommand_from run list status logs history next trigger pause resume show stats check init import completions help" -f -a "list" -d 'Show each job\'s schedule, next run and last run, as systemd\'s list-timers'
complete -c schedule -n "__fish_schedule_using_subcommand help; and not __fish_seen_subcommand_from run list status logs history next trigger pause resume show stats check init import completions help" -f -a "status" -d 'Whether a scheduler is running on this database, and what it is doing'
complete -c schedule -n "__fish_schedule_using_subcommand help; and not __fish_seen_subcommand_from run list status logs history next trigger pause resume show stats check init import completions help" -f -a "logs" -d 'Print a run\'s output; with --follow, its new lines until it ends'
complete -c schedule -n "__fish_schedule_using_subcommand help; and not __fish_seen_subcommand_from run list status logs history next trigger pause resume show stats check init import completions help" -f -a "history" -d 'Show recorded runs, newest first'
complete -c schedule -n "__fish_schedule_using_subcommand help; and not __fish_seen_subcommand_from run list status logs history next trigger pause resume show stats check init import completions help" -f -a "next" -d 'Print the next fire instants of a job or of a cron expression'
complete -c schedule -n "__fish_schedule_using_subcommand help; and not __fish_seen_subcommand_from run list status logs history next trigger pause resume show stats check init import completions help" -f -a "trigger" -d 'Run a job now, outside its schedule'
complete -c schedule -n "__fish_schedule_using_subcommand help; and not __fish_seen_subcommand_from run list status logs history next trigger pause resume show stats check init import completions help" -f -a "pause" -d 'Pause jobs: their fires are recorded `skipped` until resumed'
complete -c schedule -n "__fish_schedule_using_subcommand help; and not __fish_seen_subcommand_from run list status logs history next trigger pause resume show stats check init import completions help" -f -a "resume" -d 'Resume paused jobs'
complete -c schedule -n "__fish_schedule_using_subcommand help; and not __fish_seen_subcommand_from run list status logs history next trigger pause resume show stats check init import completions help" -f -a "show" -d 'Show everything about one run'
complete -c schedule -n "__fish_schedule_using_subcommand help; and not __fish_seen_subcommand_from run list status logs history next trigger pause resume show stats check init import completions help" -f -a "stats" -d 'Per-job statistics: runs, success rate, durations, delays'
complete -c schedule -n "__fish_schedule_using_subcommand help; and not __fish_seen_subcommand_from run list status logs history next trigger pause resume show stats check init import completions help" -f -a "check" -d 'Validate the config without running anything'
complete -c schedule -n "__fish_schedule_using_subcommand help; and not __fish_seen_subcommand_from run list status logs history next trigger pause resume show stats check init import completions help" -f -a "init" -d 'Write a commented jobs.toml to start from'
complete -c schedule -n "__fish_schedule_using_subcommand help; and not __fish_seen_subcommand_from run list status logs history next trigger pause resume show stats check init import completions help" -f -a "import" -d 'Print a jobs.toml converted from another scheduler\'s file'
complete -c schedule -n "__fish_schedule_using_subcommand help; and not __fish_seen_subcommand_from run list status logs history next trigger pause resume show stats check init import completions help" -f -a "completions" -d 'Print a shell completion script'
complete -c schedule -n "__fish_schedule_using_subcommand help; and not __fish_seen_subcommand_from run list status logs history next trigger pause resume show stats check init import completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c schedule -n "__fish_schedule_using_subcommand help; and __fish_seen_subcommand_from import" -f -a "crontab" -d 'Convert a crontab: its entries, variables, CRON_TZ, macros and `%`'

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
complete -c schedule -n "__fish_schedule_using_subcommand list trigger pause resume history logs next stats; and not string match -q -- '-*' (commandline -ct)" -f -a "(__fish_schedule_jobs)" -d 'job'
