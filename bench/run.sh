#!/usr/bin/env bash
# End-to-end benchmark of `schedule` against a spawn floor, APScheduler 3.x and
# busybox crond. Run from the repository root:
#
#   bench/run.sh           # full: ~12 minutes (per-second runs of 60 s, idle window 60 s, busybox crond)
#   bench/run.sh --quick   # ~6 minutes (15 s runs, 20 s idle window, no busybox crond)
#
# What it measures (all times min / median / p99 / max):
#   1. start delay of a `* * * * * *` job (shell and exec form), stamped by bench/stamp.c,
#      against bench/floor.c spawning the same thing in the same seconds (half a second off
#      the peer's instants, so that the two never compete for the CPUs), APScheduler 3.x
#      and (full mode) busybox crond per minute; plus the delay schedule records itself;
#   2. a burst of 1,000 jobs due the same second, max_concurrent = 16, against xargs -P16,
#      APScheduler with 16 threads and (full mode) busybox crond;
#   3. idle cost of 10,000 configured jobs: CPU, RSS, wake-ups;
#   4. `schedule list` with 10,000 jobs; 5. `schedule history --failed` over 1,000,000 rows;
#   6. memory: binary size, RSS and private (anonymous) memory with 1, 1,000 and 10,000 idle
#      jobs, and the private bytes each job adds; 7. start-up with 100,000 jobs (exec to
#      `scheduler started`, peak RSS, how long a SIGTERM sent during the load takes);
#   9. a job writing beside the config: wake-ups of all the scheduler's threads while a
#      file in the folder of its config and database is appended to every 10 ms for 10 s
#      (target 0), beside 10 s with no writer; timerfd_settime calls per instant armed for
#      a per-second job, counted by `strace -f` over 10 s (target 1);
#   1, 2 and 5 again with the history on PostgreSQL (a private server started here), as
#      ratios to SQLite's figures of the same run.
# It installs what it lacks (apt: hyperfine, busybox-static, strace; pip: APScheduler, into a venv
# in its temp dir), stops every process it started by PID, and deletes its temp files.
# The 1,000,000-row database is cached under $CARGO_TARGET_DIR (or target/)/bench-cache.
set -euo pipefail

usage() { sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; }
MODE=full
case "${1:-}" in
  "") ;;
  --quick) MODE=quick ;;
  -h|--help) usage; exit 0 ;;
  *) echo "usage: bench/run.sh [--quick]" >&2; exit 2 ;;
esac
CMDLINE="bench/run.sh${1:+ $1}"

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
START_NS=$(date +%s%N)

if [[ $MODE == quick ]]; then
  PERSEC=15; IDLE_WARM=5; IDLE_WIN=20; TIMING_RUNS=10; BURST_LEAD=6; BUSYBOX=0; BURST_EXEC=0
else
  PERSEC=60; IDLE_WARM=5; IDLE_WIN=60; TIMING_RUNS=30; BURST_LEAD=10; BUSYBOX=1; BURST_EXEC=1
fi
BURST_JOBS=1000
SKIPPED=()

TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
[[ $TARGET_DIR == /* ]] || TARGET_DIR=$ROOT/$TARGET_DIR
BIN=$TARGET_DIR/release/schedule
CACHE=$TARGET_DIR/bench-cache

W=$(mktemp -d "${TMPDIR:-/tmp}/schedule-bench.XXXXXX")
PIDS=()

# --- process bookkeeping -------------------------------------------------------------

is_running() {   # PID: alive and not a zombie
  local s
  s=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $s && $s != Z ]]
}
forget() {
  local keep=() p
  for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}
stop() {         # PID SIGNAL [TIMEOUT_S]: signal it, wait for it, KILL it if it lingers
  local pid=$1 sig=$2 t=${3:-40} i=0
  kill -"$sig" "$pid" 2>/dev/null || true
  while is_running "$pid" && (( i < t * 10 )); do sleep 0.1; i=$((i + 1)); done
  if is_running "$pid"; then
    echo "  (pid $pid did not stop after SIG$sig within ${t}s: killing it)" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  forget "$pid"
}
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    local alive=0
    for p in "${PIDS[@]}"; do is_running "$p" && alive=1; done
    (( alive )) || break
    sleep 0.3
  done
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$W" "${PGDIR:-}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ns() { date +%s%N; }
sleep_until_ns() {
  local d=$(( $1 - $(now_ns) ))
  if (( d > 0 )); then sleep "$(printf '%d.%09d' $((d / 1000000000)) $((d % 1000000000)))"; fi
}
# Sleep until FRAC_MS milliseconds past the next whole second; prints that second.
align() {
  local n s
  n=$(now_ns); s=$(( n / 1000000000 + 1 ))
  sleep_until_ns $(( s * 1000000000 + $1 * 1000000 ))
  echo "$s"
}
wait_lines() {   # FILE N DEADLINE_NS: until FILE has N lines or the deadline passes
  while (( $(now_ns) < $3 )); do
    if [[ -f $1 ]] && (( $(wc -l < "$1") >= $2 )); then return 0; fi
    sleep 0.2
  done
}
hdr() { printf '\n== %s\n' "$*"; }
an() { python3 "$BENCH/analyze.py" "$@"; }
sch() { "$BIN" "$@"; }

# --- setup ---------------------------------------------------------------------------

hdr "setup ($MODE mode; temp dir $W)"
need=()
command -v hyperfine >/dev/null || need+=(hyperfine)
command -v strace >/dev/null || need+=(strace)
if (( BUSYBOX )) && ! { command -v busybox >/dev/null && busybox crond --help >/dev/null 2>&1; }; then
  need+=(busybox-static)
fi
if (( ${#need[@]} )); then
  echo "installing with apt: ${need[*]}"
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"; } \
      >"$W/apt.log" 2>&1 || echo "  apt-get failed (see above); continuing without: ${need[*]}"
  else
    echo "  not root or no apt-get; continuing without: ${need[*]}"
  fi
fi
HAVE_HYPERFINE=0; command -v hyperfine >/dev/null && HAVE_HYPERFINE=1
if (( BUSYBOX )) && ! { command -v busybox >/dev/null && busybox crond --help >/dev/null 2>&1; }; then
  BUSYBOX=0; SKIPPED+=("busybox crond: not available (apt-get install busybox-static failed)")
fi
(( BUSYBOX )) || [[ $MODE != quick ]] || SKIPPED+=("busybox crond: skipped in --quick (per-minute only, needs minute boundaries)")

echo "cargo build --release (target dir $TARGET_DIR)"
b0=$(now_ns)
(cd "$ROOT" && cargo build --release --quiet)
BUILD_S=$(( ($(now_ns) - b0) / 1000000000 ))
echo "  built in ${BUILD_S}s: $BIN"

STAMP=$W/stamp
if ! gcc -O2 -static -o "$STAMP" "$BENCH/stamp.c" 2>"$W/gcc.log"; then
  echo "  no static libc; building stamp dynamically"
  gcc -O2 -o "$STAMP" "$BENCH/stamp.c"
fi
gcc -O2 -o "$W/floor" "$BENCH/floor.c"

APS=0
echo "APScheduler 3.x into a throwaway venv"
if python3 -m venv "$W/venv" >"$W/pip.log" 2>&1 \
   && "$W/venv/bin/pip" install -q --disable-pip-version-check 'apscheduler>=3.10,<4' >>"$W/pip.log" 2>&1; then
  APS=1
  echo "  $("$W/venv/bin/python" -c 'import apscheduler; print("APScheduler", apscheduler.__version__)')"
else
  SKIPPED+=("APScheduler: pip install failed (see pip log), not measured")
  tail -3 "$W/pip.log" || true
fi

cd "$W"   # nothing below reads or writes the repository
: > empty.toml

# The schema: let `schedule run` create it on an empty config, then stop it.
wait_schema() {   # DB: until it has a runs table (10 s at most)
  python3 - "$1" <<'EOF'
import sqlite3, sys, time
for _ in range(100):
    try:
        c = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True, timeout=1)
        if c.execute("SELECT 1 FROM sqlite_master WHERE name = 'runs'").fetchone():
            sys.exit(0)
    except sqlite3.Error:
        pass
    time.sleep(0.1)
sys.exit("schema never appeared in " + sys.argv[1])
EOF
}
"$BIN" --config empty.toml --db schema.db run 2>schema.log & PIDS+=($!); pid=$!
wait_schema schema.db
stop "$pid" TERM
SCHEMA_KEY=$(python3 - schema.db "$BENCH/mkdb.py" <<'EOF'
import hashlib, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
h = hashlib.sha256()
h.update(str(c.execute("PRAGMA user_version").fetchone()[0]).encode())
for (sql,) in c.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name"):
    h.update(sql.encode())
h.update(open(sys.argv[2], "rb").read())
print(h.hexdigest()[:16])
EOF
)
mkdir -p "$CACHE"
HIST_DB=$CACHE/history-1m-$SCHEMA_KEY.db
if [[ -f $HIST_DB ]]; then
  echo "1,000,000-row history database: cached ($HIST_DB)"
else
  echo "building the 1,000,000-row history database (cached afterwards)"
  rm -f "$CACHE"/history-1m-*.db "$CACHE"/history-1m-*.db-wal "$CACHE"/history-1m-*.db-shm
  cp schema.db "$HIST_DB.tmp"
  python3 "$BENCH/mkdb.py" --db "$HIST_DB.tmp" --rows 1000000 --jobs 50 \
    --name-format 'job-{:02d}' --span-days 365 --fail-rate 0.02
  mv "$HIST_DB.tmp" "$HIST_DB"
fi
{ for i in $(seq 0 49); do printf '[jobs.job-%02d]\nevery = "1h"\ncommand = "true"\n' "$i"; done; } > jobs50.toml

# 10,000 jobs, none due for months: minute, hour and day vary; the month is ~6 months away.
MONTH=$(( ( $(date -u +%-m) + 5 ) % 12 + 1 ))
# The config gets a folder of its own: the scheduler watches its config's folder
# (for reloads), and the other workloads write files in $W.
mkdir -p idle
python3 - "$MONTH" > idle/jobs10k.toml <<'EOF'
import sys
month = int(sys.argv[1])
for i in range(10000):
    print(f'[jobs.j{i:05d}]\ncron = "{i % 60} {(i // 60) % 24} {(i // 1440) % 28 + 1} {month} *"\ncommand = "true"\n')
EOF

# --- 3 (+ busybox crond). idle cost -------------------------------------------------------

BB_BURST_MIN=""
if (( BUSYBOX )); then
  # busybox crond runs beside the idle phase (which fires nothing), across 2-3 minute
  # boundaries; the last of them is also its 1,000-line burst.
  n=$(( $(now_ns) / 1000000000 ))
  first=$(( (n / 60 + 1) * 60 ))
  idle_end=$(( n + IDLE_WARM + IDLE_WIN + 8 ))
  BB_BURST_MIN=$(( first + 60 ))
  while (( BB_BURST_MIN < idle_end )); do BB_BURST_MIN=$(( BB_BURST_MIN + 60 )); done
  mkdir -p crontabs
  {
    echo "* * * * * $STAMP busybox $W/busybox.stamps"
    mh=$(date -d "@$BB_BURST_MIN" '+%-M %-H')   # crond reads the local wall clock
    for i in $(seq 1 "$BURST_JOBS"); do echo "$mh * * * $STAMP b$i $W/busybox.stamps"; done
  } > crontabs/root
  # crond sleep()s whole seconds from its own start, so its delay carries the sub-second
  # phase it was started at: start it just after a whole second (its best case).
  align 2 >/dev/null
  busybox crond -f -c "$W/crontabs" -L "$W/crond.log" & PIDS+=($!); CROND=$!
  echo "busybox crond (pid $CROND): minute boundaries until $(date -d "@$BB_BURST_MIN" +%T), the burst at the last one"
fi

hdr "3. idle: 10,000 jobs, none due (warm-up ${IDLE_WARM}s, window ${IDLE_WIN}s)"
"$BIN" --config idle/jobs10k.toml --db idle/idle.db run 2>idle.log & PIDS+=($!); pid=$!
an idle "$W" --pid "$pid" --warm "$IDLE_WARM" --window "$IDLE_WIN"
stop "$pid" TERM
fired=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from runs").fetchone()[0])' idle/idle.db)
echo "  runs recorded during the idle phase: $fired"

if (( BUSYBOX )); then
  hdr "busybox crond: waiting for the minute boundary at $(date -d "@$BB_BURST_MIN" +%T) (burst of $BURST_JOBS)"
  sleep_until_ns $(( (BB_BURST_MIN + 1) * 1000000000 ))
  bcount() { local c; c=$(grep -c ' b[0-9]' busybox.stamps 2>/dev/null) || true; echo "${c:-0}"; }
  dl=$(( (BB_BURST_MIN + 30) * 1000000000 ))
  while (( $(now_ns) < dl )) && (( $(bcount) < BURST_JOBS )); do sleep 0.2; done
  sleep 1
  stop "$CROND" TERM 5
  an busybox "$W" --burst-minute "$BB_BURST_MIN" --expect "$BURST_JOBS"
fi

# --- 4, 5. list and history -------------------------------------------------------------

time_cmd() {     # NAME OUTFILE CMD...: hyperfine, or a date +%s%N loop
  local name=$1 out=$2; shift 2
  if (( HAVE_HYPERFINE )); then
    hyperfine -N --style none --warmup 2 --runs "$TIMING_RUNS" --export-json "$out.json" "$*" >/dev/null 2>&1 \
      || hyperfine --style none --warmup 2 --runs "$TIMING_RUNS" --export-json "$out.json" "$*" >/dev/null
    echo "$out.json"
  else
    "$@" >/dev/null; "$@" >/dev/null
    : > "$out.txt"
    for _ in $(seq "$TIMING_RUNS"); do
      local t0; t0=$(now_ns); "$@" >/dev/null; echo $(( $(now_ns) - t0 )) >> "$out.txt"
    done
    echo "$out.txt"
  fi
}

hdr "4. schedule list, 10,000 jobs ($TIMING_RUNS runs$( (( HAVE_HYPERFINE )) && echo ', hyperfine'))"
python3 "$BENCH/mkdb.py" --db idle/idle.db --rows 100000 --jobs 10000 --name-format 'j{:05d}' --span-days 30 | sed 's/^/  /'
f=$(time_cmd list list "$BIN" --config "$W/idle/jobs10k.toml" --db "$W/idle/idle.db" list)
an timing "$W" list "$f" --target-ms 250 --what "schedule list (10,000 jobs, 100,000 rows)"

hdr "5. schedule history --failed, 1,000,000 rows ($TIMING_RUNS runs)"
f=$(time_cmd history history "$BIN" --config "$W/jobs50.toml" --db "$HIST_DB" history --failed)
an timing "$W" history "$f" --target-ms 20 --what "schedule history --failed (1,000,000 rows)"

# --- 6, 7. memory per job, start-up with 100,000 jobs --------------------------------------

hdr "6. memory: 1, 1,000 and 10,000 idle jobs (smaps_rollup 3 s after \`scheduler started\`, when the loop has handed back what start-up used)"
an mem "$W" --bin "$BIN"
hdr "7. start-up with 100,000 jobs ($( [[ $MODE == quick ]] && echo 1 || echo 3) runs, then a SIGTERM during the load)"
an startup "$W" --bin "$BIN" --jobs 100000 --runs "$( [[ $MODE == quick ]] && echo 1 || echo 3)"

# --- 9. a job writing beside the config and the database; timer arms per fire -------------

hdr "9. a file beside jobs.toml and schedule.db appended every 10 ms (10 s), and 10 s without; timerfd_settime per fire (strace, 10 s)"
an beside "$W" --bin "$BIN" --window 10
command -v strace >/dev/null || SKIPPED+=("timerfd_settime per fire: no strace (apt-get install strace failed)")

# --- PostgreSQL: a private server for sections 1, 2 and 5 ---------------------------------

PG=0
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [[ -x ${PG_BIN:-}/initdb ]] && command -v psql >/dev/null; then
  # A folder of its own: as root the server runs as nobody, who cannot enter $W.
  PGDIR=$(mktemp -d "${TMPDIR:-/tmp}/schedule-bench-pg.XXXXXX")
  asuser=()
  if [[ $(id -u) == 0 ]]; then chown nobody "$PGDIR"; asuser=(runuser -u nobody --); fi
  PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  if "${asuser[@]}" "$PG_BIN/initdb" -D "$PGDIR/data" -U postgres --auth=trust --no-sync >"$W/pg-init.log" 2>&1; then
    # Durable defaults (fsync on), as a real server would run.
    "${asuser[@]}" "$PG_BIN/postgres" -D "$PGDIR/data" -p "$PG_PORT" -k "$PGDIR" \
      -c listen_addresses=127.0.0.1 -c shared_preload_libraries=pg_stat_statements \
      >"$W/pg.log" 2>&1 & PIDS+=($!)
    for _ in $(seq 100); do
      psql -qAt -h 127.0.0.1 -p "$PG_PORT" -U postgres -c 'SELECT 1' postgres >/dev/null 2>&1 && { PG=1; break; }
      sleep 0.1
    done
  fi
fi
(( PG )) || SKIPPED+=("PostgreSQL: no server could be started (apt-get install postgresql; see pg-init.log, pg.log): not measured")
pg_url() { echo "postgres://postgres@127.0.0.1:$PG_PORT/$1?sslmode=disable"; }
pg_db() { psql -qAt -h 127.0.0.1 -p "$PG_PORT" -U postgres -c "CREATE DATABASE $1" postgres >/dev/null; pg_url "$1"; }
pgq() { psql -qAt -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"; }

if (( PG )); then
  hdr "5. schedule history --failed, 1,000,000 rows on PostgreSQL ($TIMING_RUNS runs)"
  url=$(pg_db history)
  "$BIN" --config "$W/jobs50.toml" --db "$url" history >/dev/null   # makes the schema
  # The same rows as the SQLite database's, times converted.
  python3 - "$HIST_DB" > "$W/history.csv" <<'EOF'
import csv, datetime, sqlite3, sys
utc = datetime.timezone.utc
def t(ms):
    return None if ms is None else datetime.datetime.fromtimestamp(ms / 1000, utc).isoformat()
c = sqlite3.connect(sys.argv[1])
w = csv.writer(sys.stdout)
for r in c.execute("""SELECT id, job, scheduled_for, slot, attempt, trigger, started_at,
                             finished_at, status, exit_code, signal, duration_ms, reason,
                             missed_count, host, pid, child_pid, stdout_tail, stderr_tail
                      FROM runs"""):
    r = list(r)
    for i in (2, 6, 7):
        r[i] = t(r[i])
    w.writerow(["" if v is None else v for v in r])
EOF
  pgq history -c "\copy runs (id, job, scheduled_for, slot, attempt, trigger, started_at, finished_at, status, exit_code, signal, duration_ms, reason, missed_count, host, pid, child_pid, stdout_tail, stderr_tail) FROM '$W/history.csv' WITH (FORMAT csv, FORCE_NOT_NULL (stdout_tail, stderr_tail))"
  pgq history -c 'VACUUM ANALYZE runs'
  rm -f "$W/history.csv"
  echo "  $(pgq history -c 'SELECT count(*) FROM runs') rows, copied from the SQLite database"
  f=$(time_cmd history_pg history_pg "$BIN" --config "$W/jobs50.toml" --db "$url" history --failed)
  an timing "$W" history_pg "$f" --target-ms 50 --what "schedule history --failed (1,000,000 rows, PostgreSQL)"
fi

# --- 1. per-second start delay -------------------------------------------------------------

persec() {       # shell | exec | aps | pg (shell form, history on PostgreSQL)
  local v=$1 file=$W/persec-$1.stamps pid fpid s db=persec-$1.db
  [[ $v == pg ]] && db=$(pg_db persec)
  if [[ $v == shell || $v == pg ]]; then
    printf '[jobs.persec]\ncron = "* * * * * *"\ncommand = "%s sched %s"\n' "$STAMP" "$file" > "persec-$v.toml"
  else
    printf '[jobs.persec]\ncron = "* * * * * *"\ncommand = ["%s", "sched", "%s"]\n' "$STAMP" "$file" > "persec-$v.toml"
  fi
  s=$(align 200)                       # start at x.200 s: the first fire is 0.8 s away
  if [[ $v == aps ]]; then
    "$W/venv/bin/python" "$BENCH/aps_bench.py" persec --seconds "$PERSEC" --stamp "$STAMP" \
      --file "$file" 2>aps-persec.log & PIDS+=($!); pid=$!
  else
    "$BIN" --config "persec-$v.toml" --db "$db" run 2>"persec-$v.log" & PIDS+=($!); pid=$!
  fi
  # Half a second off the peer's instants: the same seconds, never the same CPUs (floor.c).
  "$W/floor" "$PERSEC" "$([[ $v == exec ]] && echo exec || echo sh)" "$STAMP" floor "$file" 500 & PIDS+=($!); fpid=$!
  wait "$fpid"; forget "$fpid"
  sleep_until_ns $(( (s + PERSEC) * 1000000000 + 500000000 ))
  if [[ $v == aps ]]; then stop "$pid" TERM 5; else stop "$pid" TERM; fi
  if [[ $v != aps ]]; then
    sch --db "$db" history --json --limit 100000 > "persec-$v.history.json"
  fi
  an persec "$W" "$v"
}

hdr "1. per-second job, shell form (${PERSEC}s; floor: sh -c from C in the same seconds, at x.500)"
persec shell
hdr "1. per-second job, exec form (${PERSEC}s; floor: exec from C in the same seconds, at x.500)"
persec exec
if (( PG )); then
  hdr "1. per-second job, shell form, history on PostgreSQL (${PERSEC}s; floor beside it)"
  persec pg
fi
if (( APS )); then
  hdr "1. APScheduler 3.x, CronTrigger(second='*') (${PERSEC}s; floor beside it)"
  persec aps
fi

# --- 2. burst ----------------------------------------------------------------------------

burst() {        # shell | exec | pg (shell form, history on PostgreSQL)
  local v=$1 file=$W/burst-$1.stamps T hms pid db=burst-$1.db
  [[ $v == pg ]] && db=$(pg_db burst)
  T=$(( $(now_ns) / 1000000000 + BURST_LEAD ))
  hms=$(date -u -d "@$T" '+%-S %-M %-H')
  {
    printf '[scheduler]\nmax_concurrent = 16\n\n'
    for i in $(seq 1 "$BURST_JOBS"); do
      if [[ $v != exec ]]; then
        printf '[jobs.j%d]\ncron = "%s * * *"\ncommand = "%s j%d %s"\n' "$i" "$hms" "$STAMP" "$i" "$file"
      else
        printf '[jobs.j%d]\ncron = "%s * * *"\ncommand = ["%s", "j%d", "%s"]\n' "$i" "$hms" "$STAMP" "$i" "$file"
      fi
    done
  } > "burst-$v.toml"
  "$BIN" --config "burst-$v.toml" --db "$db" run 2>"burst-$v.log" & PIDS+=($!); pid=$!
  echo "  T = $(date -u -d "@$T" +%T) UTC"
  wait_lines "$file" "$BURST_JOBS" $(( (T + 30) * 1000000000 )) || true
  sleep 1
  stop "$pid" TERM
  sch --db "$db" history --json --limit 100000 > "burst-$v.history.json"
  an burst "$W" "$v" --t0-ns $(( T * 1000000000 )) --expect "$BURST_JOBS" --history "burst-$v.history.json"
}

hdr "2. burst: $BURST_JOBS jobs due the same second, max_concurrent = 16, shell form"
burst shell
if (( BURST_EXEC )); then
  hdr "2. burst: exec form"
  burst exec
fi
if (( PG )); then
  hdr "2. burst: shell form, history on PostgreSQL"
  burst pg
fi
hdr "2. burst floor: seq $BURST_JOBS | xargs -P16 -I{} sh -c 'STAMP f{} FILE'"
t0=$(now_ns)
seq "$BURST_JOBS" | xargs -P16 -I{} sh -c "$STAMP f{} $W/burst-floor.stamps"
t1=$(now_ns)
an burst "$W" floor --t0-ns "$t0" --expect "$BURST_JOBS" --elapsed-ns $(( t1 - t0 ))
if (( APS )); then
  hdr "2. burst: APScheduler 3.x, ThreadPoolExecutor(16)"
  T=$(( $(now_ns) / 1000000000 + BURST_LEAD ))
  "$W/venv/bin/python" "$BENCH/aps_bench.py" burst --at "$T" --jobs "$BURST_JOBS" --workers 16 \
    --stamp "$STAMP" --file "$W/burst-aps.stamps" 2>aps-burst.log & PIDS+=($!); pid=$!
  echo "  T = $(date -u -d "@$T" +%T) UTC"
  wait_lines burst-aps.stamps "$BURST_JOBS" $(( (T + 30) * 1000000000 )) || true
  stop "$pid" TERM 10
  an burst "$W" aps --t0-ns $(( T * 1000000000 )) --expect "$BURST_JOBS"
fi

# --- 8. several hosts on one PostgreSQL ------------------------------------------------

cluster_burst() {  # HOSTS: 1,000 jobs due the same second, on HOSTS cluster hosts
  local n=$1 file=$W/cluster-$1.stamps T hms db pids=() i p
  db=$(pg_db "cluster$n")
  T=$(( $(now_ns) / 1000000000 + BURST_LEAD + 2 ))
  hms=$(date -u -d "@$T" '+%-S %-M %-H')
  {
    printf '[scheduler]\nmax_concurrent = 16\n\n[cluster]\n\n'
    for i in $(seq 1 "$BURST_JOBS"); do
      printf '[jobs.j%d]\ncron = "%s * * *"\ncommand = "%s j%d %s"\n' "$i" "$hms" "$STAMP" "$i" "$file"
    done
  } > "cluster-$n.toml"
  for i in $(seq 1 "$n"); do
    "$BIN" --config "cluster-$n.toml" --db "$db" run --host "h$i" 2>"cluster-$n-h$i.log" & PIDS+=($!); pids+=($!)
  done
  echo "  T = $(date -u -d "@$T" +%T) UTC"
  wait_lines "$file" "$BURST_JOBS" $(( (T + 30) * 1000000000 )) || true
  sleep 1
  for p in "${pids[@]}"; do stop "$p" TERM; done
  # Every attempted insert takes an id, whether it lands or conflicts.
  pgq "cluster$n" -c "SELECT json_build_object('runs', (SELECT count(*) FROM runs WHERE started_at IS NOT NULL),
      'ids', (SELECT last_value FROM runs_id_seq),
      'per_host', (SELECT coalesce(json_object_agg(host, n), '{}') FROM (SELECT host, count(*) AS n FROM runs GROUP BY host) h))" \
    > "cluster-$n.json"
  python3 "$BENCH/cluster.py" burst "$W" "$n" $(( T * 1000000000 )) "$file" "cluster-$n.json"
}

if (( PG )); then
  hdr "8. several hosts: $BURST_JOBS jobs due the same second on 1 cluster host, then on 3"
  cluster_burst 1
  cluster_burst 3
  hdr "8. several hosts: an idle cluster (3 hosts, $BURST_JOBS jobs, none due, ${IDLE_WIN}s)"
  db=$(pg_db clusteridle)
  {
    printf '[cluster]\n\n'
    for i in $(seq 1 "$BURST_JOBS"); do printf '[jobs.j%d]\ncron = "0 0 1 1 *"\ncommand = "true"\n' "$i"; done
  } > cluster-idle.toml
  pids=()
  for i in 1 2 3; do
    "$BIN" --config cluster-idle.toml --db "$db" run --host "h$i" 2>"cluster-idle-h$i.log" & PIDS+=($!); pids+=($!)
  done
  sleep "$IDLE_WARM"
  # The hosts' statements, counted by the server (pg_stat_statements): the
  # database's transaction counter would count autovacuum's too.
  pgq clusteridle -c 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements' >/dev/null
  pgq clusteridle -c 'SELECT pg_stat_statements_reset()' >/dev/null
  sleep "$IDLE_WIN"
  calls=$(pgq clusteridle -c "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements
    WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'clusteridle')
      AND query NOT ILIKE '%pg_stat_statements%'")
  for p in "${pids[@]}"; do stop "$p" TERM; done
  python3 "$BENCH/cluster.py" idle "$W" 3 "$IDLE_WIN" "$calls"
  hdr "8. several hosts: claims one PostgreSQL takes (pgbench, 3 clients, 10 s)"
  cat > "$W/claim.sql" <<'SQL'
\set n random(1, 1000000000)
INSERT INTO runs (job, scheduled_for, attempt, trigger, started_at, status, host, pid, slot, exclusive, epoch, lease_until, host_id)
VALUES ('bench', to_timestamp(:n), 1, 'schedule', now(), 'running', 'h', 1, 0, false, nextval('run_epochs'), now() + interval '30 seconds', 1)
ON CONFLICT DO NOTHING;
SQL
  tps=$("$PG_BIN/pgbench" -n -h 127.0.0.1 -p "$PG_PORT" -U postgres -c 3 -j 3 -T 10 -f "$W/claim.sql" cluster1 2>/dev/null \
    | awk '/^tps/ {print $3; exit}')
  python3 "$BENCH/cluster.py" claims "$W" "${tps:-0}" 3
else
  SKIPPED+=("several hosts: needs PostgreSQL: not measured")
fi

# --- summary -----------------------------------------------------------------------------

ELAPSED=$(( ($(now_ns) - START_NS) / 1000000000 ))
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ -z $(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null) ]] || commit+=" + uncommitted changes"
NOTES=()
for s in "${SKIPPED[@]}"; do NOTES+=(--note "$s"); done
cpu=$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
an summary "$W" \
  --meta "date=$(date -u '+%Y-%m-%d %H:%M UTC')" \
  --meta "host=nproc $(nproc), $(free -h | awk '/^Mem:/{print $2}') RAM, Linux $(uname -r)${cpu:+, $cpu}" \
  --meta "command=$CMDLINE" \
  --meta "commit=$commit" \
  --meta "mode=$MODE: per-second runs ${PERSEC}s, idle window ${IDLE_WIN}s, ${TIMING_RUNS} timed runs per command" \
  --meta "elapsed=${ELAPSED}s (of which cargo build ${BUILD_S}s)" \
  "${NOTES[@]}"
