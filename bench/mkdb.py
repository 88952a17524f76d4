"""Fill a schedule history database with synthetic runs, fast (one transaction).

  mkdb.py --db PATH --rows N --jobs K [--name-format job-{:02d}] [--span-days D]
          [--fail-rate 0.02] [--seed 1]

PATH must already hold the schema (`schedule run` creates it); the columns are
read from the `runs` table itself, so a new nullable or defaulted column does
not break this. Row i belongs to job i % K; the rows are spread evenly over
the last D days, at whole seconds, first attempts of scheduled fires; about
FAIL_RATE of them `failed` (exit 1, an stderr tail), the rest `succeeded`.
Times are integer milliseconds since the epoch, as schedule stores them.
"""

import argparse
import random
import sqlite3
import sys
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--db", required=True)
    p.add_argument("--rows", type=int, required=True)
    p.add_argument("--jobs", type=int, required=True)
    p.add_argument("--name-format", default="job-{:02d}")
    p.add_argument("--span-days", type=float, default=365.0)
    p.add_argument("--fail-rate", type=float, default=0.02)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()

    con = sqlite3.connect(a.db, isolation_level=None)
    cols = con.execute("PRAGMA table_info(runs)").fetchall()
    if not cols:
        sys.exit(f"mkdb: {a.db} has no `runs` table")
    names = [c[1] for c in cols]
    known = {"job", "scheduled_for", "attempt", "trigger", "started_at", "finished_at",
             "status", "exit_code", "signal", "duration_ms", "reason", "missed_count",
             "host", "pid", "child_pid", "stdout_tail", "stderr_tail"}
    for cid, name, ctype, notnull, default, pk in cols:
        if name not in known and name != "id" and notnull and default is None:
            sys.exit(f"mkdb: runs.{name} is NOT NULL without a default; teach bench/mkdb.py about it")
    use = [n for n in names if n in known]

    rng = random.Random(a.seed)
    end_ms = (int(time.time()) - 3600) * 1000          # the newest run: an hour ago
    step_ms = a.span_days * 86400 * 1000 / a.rows
    if step_ms * a.jobs < 1000:
        sys.exit("mkdb: too many rows for the span: (job, scheduled_for) must stay unique")
    job_names = [a.name_format.format(j) for j in range(a.jobs)]

    def rows():
        for i in range(a.rows):
            sched = int(end_ms - (a.rows - 1 - i) * step_ms) // 1000 * 1000
            started = sched + rng.randint(0, 3)
            failed = rng.random() < a.fail_rate
            dur = rng.randint(5, 5000)
            v = {
                "job": job_names[i % a.jobs], "scheduled_for": sched, "attempt": 1,
                "trigger": "schedule", "started_at": started, "finished_at": started + dur,
                "status": "failed" if failed else "succeeded",
                "exit_code": 1 if failed else 0, "signal": None, "duration_ms": dur,
                "reason": None, "missed_count": None, "host": "bench", "pid": 4242,
                "child_pid": 100000 + i % 30000,
                "stdout_tail": "ok\n" if not failed else "",
                "stderr_tail": "error: host not found\n" if failed else "",
            }
            yield tuple(v[n] for n in use)

    con.execute("PRAGMA synchronous = OFF")
    con.execute("BEGIN")
    con.executemany(
        f"INSERT INTO runs ({', '.join(use)}) VALUES ({', '.join('?' * len(use))})", rows())
    con.execute("COMMIT")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    n, f = con.execute("SELECT count(*), sum(status = 'failed') FROM runs").fetchone()
    con.close()
    print(f"mkdb: {a.db}: {n} rows, {f} failed, {a.jobs} jobs")


if __name__ == "__main__":
    main()
