
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'schedule' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'schedule'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'schedule' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The jobs file')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines as text or as JSON objects (one per line)')
            [CompletionResult]::new('--utc', '--utc', [CompletionResultType]::ParameterName, 'Show times in UTC instead of each job''s time zone')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log less (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log less (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run the scheduler in the foreground until Ctrl-C or SIGTERM')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Show each job''s schedule, next run and last run, as systemd''s list-timers')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Whether a scheduler is running on this database, and what it is doing')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Print a run''s output; with --follow, its new lines until it ends')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'Show recorded runs, newest first')
            [CompletionResult]::new('next', 'next', [CompletionResultType]::ParameterValue, 'Print the next fire instants of a job or of a cron expression')
            [CompletionResult]::new('trigger', 'trigger', [CompletionResultType]::ParameterValue, 'Run a job now, outside its schedule')
            [CompletionResult]::new('pause', 'pause', [CompletionResultType]::ParameterValue, 'Pause jobs: their fires are recorded `skipped` until resumed')
            [CompletionResult]::new('resume', 'resume', [CompletionResultType]::ParameterValue, 'Resume paused jobs')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show everything about one run')
            [CompletionResult]::new('stats', 'stats', [CompletionResultType]::ParameterValue, 'Per-job statistics: runs, success rate, durations, delays')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Validate the config without running anything')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write a commented jobs.toml to start from')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Print a jobs.toml converted from another scheduler''s file')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'schedule;run' {
            [CompletionResult]::new('--shutdown-grace', '--shutdown-grace', [CompletionResultType]::ParameterName, 'How long running jobs may take to finish after Ctrl-C or SIGTERM')
            [CompletionResult]::new('--http', '--http', [CompletionResultType]::ParameterName, 'Serve /health and /metrics on this address (a bare port listens on loopback); overrides `[scheduler] http`')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'This host''s name in the history and, with [cluster], among the hosts (default: the machine''s host name)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The jobs file')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines as text or as JSON objects (one per line)')
            [CompletionResult]::new('--utc', '--utc', [CompletionResultType]::ParameterName, 'Show times in UTC instead of each job''s time zone')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log less (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log less (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'schedule;list' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The jobs file')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines as text or as JSON objects (one per line)')
            [CompletionResult]::new('--failed', '--failed', [CompletionResultType]::ParameterName, 'Only the jobs whose last run went wrong (failed, timed_out, interrupted)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON instead of a table')
            [CompletionResult]::new('--utc', '--utc', [CompletionResultType]::ParameterName, 'Show times in UTC instead of each job''s time zone')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log less (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log less (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'schedule;status' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The jobs file')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines as text or as JSON objects (one per line)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON instead of text')
            [CompletionResult]::new('--utc', '--utc', [CompletionResultType]::ParameterName, 'Show times in UTC instead of each job''s time zone')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log less (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log less (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'schedule;logs' {
            [CompletionResult]::new('--tail', '--tail', [CompletionResultType]::ParameterName, 'Only the last N lines of the output so far')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Every run of JOB started since then, oldest first: a duration ago (`2h`), a date or an RFC3339 instant')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The jobs file')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines as text or as JSON objects (one per line)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Keep printing the run''s new lines until it ends')
            [CompletionResult]::new('--follow', '--follow', [CompletionResultType]::ParameterName, 'Keep printing the run''s new lines until it ends')
            [CompletionResult]::new('--raw', '--raw', [CompletionResultType]::ParameterName, 'The job''s lines unmarked, stdout to stdout and stderr to stderr')
            [CompletionResult]::new('--utc', '--utc', [CompletionResultType]::ParameterName, 'Show times in UTC instead of each job''s time zone')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log less (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log less (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'schedule;history' {
            [CompletionResult]::new('--status', '--status', [CompletionResultType]::ParameterName, 'Only rows with this status: running, succeeded, failed, timed_out, cancelled, interrupted, skipped, missed (repeatable, or comma-separated)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Only runs of the scheduler on this host')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'At most this many runs')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'At most this many runs')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only runs scheduled since then: a duration ago (`2h`, `7d`), a date (`2026-11-01`, UTC midnight) or an RFC3339 instant')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The jobs file')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines as text or as JSON objects (one per line)')
            [CompletionResult]::new('--failed', '--failed', [CompletionResultType]::ParameterName, 'Only runs that went wrong: failed, timed_out, interrupted (a failure that a later attempt retried is left out)')
            [CompletionResult]::new('--reverse', '--reverse', [CompletionResultType]::ParameterName, 'Oldest first: the oldest N runs that match')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON instead of a table')
            [CompletionResult]::new('--utc', '--utc', [CompletionResultType]::ParameterName, 'Show times in UTC instead of each job''s time zone')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log less (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log less (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'schedule;next' {
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'How many instants (1 to 100000)')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'How many instants (1 to 100000)')
            [CompletionResult]::new('--after', '--after', [CompletionResultType]::ParameterName, 'Start after this instant instead of now: RFC3339 with `Z` or an offset (2026-11-20T10:00:00Z), or a date (2026-11-20, UTC midnight)')
            [CompletionResult]::new('--tz', '--tz', [CompletionResultType]::ParameterName, 'The time zone (IANA name) an expression is counted in and times are shown in; default: the job''s, or UTC for an expression. --utc shows UTC instead')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The jobs file')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines as text or as JSON objects (one per line)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON instead of one instant per line')
            [CompletionResult]::new('--utc', '--utc', [CompletionResultType]::ParameterName, 'Show times in UTC instead of each job''s time zone')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log less (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log less (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'schedule;trigger' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The jobs file')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines as text or as JSON objects (one per line)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Wait for the end, stream the job''s output, and exit with its exit code')
            [CompletionResult]::new('--utc', '--utc', [CompletionResultType]::ParameterName, 'Show times in UTC instead of each job''s time zone')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log less (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log less (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'schedule;pause' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The jobs file')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines as text or as JSON objects (one per line)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every job in the config')
            [CompletionResult]::new('--utc', '--utc', [CompletionResultType]::ParameterName, 'Show times in UTC instead of each job''s time zone')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log less (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log less (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'schedule;resume' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The jobs file')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines as text or as JSON objects (one per line)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every job in the config')
            [CompletionResult]::new('--utc', '--utc', [CompletionResultType]::ParameterName, 'Show times in UTC instead of each job''s time zone')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log less (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log less (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'schedule;show' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The jobs file')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines as text or as JSON objects (one per line)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON instead of text')
            [CompletionResult]::new('--raw', '--raw', [CompletionResultType]::ParameterName, 'Print the job''s output as it wrote it; on a terminal, control characters and escape sequences are otherwise shown escaped')
            [CompletionResult]::new('--utc', '--utc', [CompletionResultType]::ParameterName, 'Show times in UTC instead of each job''s time zone')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log less (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log less (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'schedule;stats' {
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Over the runs scheduled since then: a duration ago (`7d`), a date or an RFC3339 instant')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The jobs file')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines as text or as JSON objects (one per line)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON instead of a table')
            [CompletionResult]::new('--utc', '--utc', [CompletionResultType]::ParameterName, 'Show times in UTC instead of each job''s time zone')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log less (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log less (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'schedule;check' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The jobs file')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines as text or as JSON objects (one per line)')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Fail (exit 2) on warnings too')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON instead of text')
            [CompletionResult]::new('--utc', '--utc', [CompletionResultType]::ParameterName, 'Show times in UTC instead of each job''s time zone')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log less (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log less (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'schedule;init' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The jobs file')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines as text or as JSON objects (one per line)')
            [CompletionResult]::new('--utc', '--utc', [CompletionResultType]::ParameterName, 'Show times in UTC instead of each job''s time zone')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log less (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log less (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'schedule;import' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The jobs file')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines as text or as JSON objects (one per line)')
            [CompletionResult]::new('--utc', '--utc', [CompletionResultType]::ParameterName, 'Show times in UTC instead of each job''s time zone')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log less (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log less (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('crontab', 'crontab', [CompletionResultType]::ParameterValue, 'Convert a crontab: its entries, variables, CRON_TZ, macros and `%`')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'schedule;import;crontab' {
            [CompletionResult]::new('--tz', '--tz', [CompletionResultType]::ParameterName, 'The time zone cron ran the file in (IANA name); default: this machine''s, from TZ or /etc/localtime')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The jobs file')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines as text or as JSON objects (one per line)')
            [CompletionResult]::new('--system', '--system', [CompletionResultType]::ParameterName, 'Entries have a user field (as in /etc/crontab and /etc/cron.d/*, which are recognised by their path)')
            [CompletionResult]::new('--utc', '--utc', [CompletionResultType]::ParameterName, 'Show times in UTC instead of each job''s time zone')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log less (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log less (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'schedule;import;help' {
            [CompletionResult]::new('crontab', 'crontab', [CompletionResultType]::ParameterValue, 'Convert a crontab: its entries, variables, CRON_TZ, macros and `%`')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'schedule;import;help;crontab' {
            break
        }
        'schedule;import;help;help' {
            break
        }
        'schedule;completions' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The jobs file')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The history database: a SQLite file (created by `schedule run`; default: schedule.db beside the config file) or a postgres://user@host/db URL')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset), always or never')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines as text or as JSON objects (one per line)')
            [CompletionResult]::new('--utc', '--utc', [CompletionResultType]::ParameterName, 'Show times in UTC instead of each job''s time zone')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log less (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log less (-q: warnings and errors only, -qq: errors only)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'schedule;help' {
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run the scheduler in the foreground until Ctrl-C or SIGTERM')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Show each job''s schedule, next run and last run, as systemd''s list-timers')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Whether a scheduler is running on this database, and what it is doing')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Print a run''s output; with --follow, its new lines until it ends')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'Show recorded runs, newest first')
            [CompletionResult]::new('next', 'next', [CompletionResultType]::ParameterValue, 'Print the next fire instants of a job or of a cron expression')
            [CompletionResult]::new('trigger', 'trigger', [CompletionResultType]::ParameterValue, 'Run a job now, outside its schedule')
            [CompletionResult]::new('pause', 'pause', [CompletionResultType]::ParameterValue, 'Pause jobs: their fires are recorded `skipped` until resumed')
            [CompletionResult]::new('resume', 'resume', [CompletionResultType]::ParameterValue, 'Resume paused jobs')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show everything about one run')
            [CompletionResult]::new('stats', 'stats', [CompletionResultType]::ParameterValue, 'Per-job statistics: runs, success rate, durations, delays')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Validate the config without running anything')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write a commented jobs.toml to start from')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Print a jobs.toml converted from another scheduler''s file')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'schedule;help;run' {
            break
        }
        'schedule;help;list' {
            break
        }
        'schedule;help;status' {
            break
        }
        'schedule;help;logs' {
            break
        }
        'schedule;help;history' {
            break
        }
        'schedule;help;next' {
            break
        }
        'schedule;help;trigger' {
            break
        }
        'schedule;help;pause' {
            break
        }
        'schedule;help;resume' {
            break
        }
        'schedule;help;show' {
            break
        }
        'schedule;help;stats' {
            break
        }
        'schedule;help;check' {
            break
        }
        'schedule;help;init' {
            break
        }
        'schedule;help;import' {
            [CompletionResult]::new('crontab', 'crontab', [CompletionResultType]::ParameterValue, 'Convert a crontab: its entries, variables, CRON_TZ, macros and `%`')
            break
        }
        'schedule;help;import;crontab' {
            break
        }
        'schedule;help;completions' {
            break
        }
        'schedule;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
