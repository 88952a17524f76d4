"""Analysis and reporting for bench/run.sh (plain python3, no dependencies).

Every subcommand reads the raw files a phase left in the work directory W,
prints its figures at once, and appends records to W/results.jsonl;
`summary` turns those into the final table (text, then markdown).

  analyze.py persec  W VARIANT            shell | exec | aps
  analyze.py busybox W [--burst-minute EPOCH]
  analyze.py burst   W VARIANT --t0-ns NS --expect N [--history FILE]
  analyze.py idle    W --pid PID --warm S --window S
  analyze.py timing  W NAME FILE --target-ms X [--what TEXT]
  analyze.py beside  W --bin BIN [--window S]
  analyze.py summary W --meta KEY=VALUE ...

Stamp files hold lines "<ns> <label> <scheduled RFC3339 or ->" (bench/stamp.c).
A stamp's delay is its time minus the instant it was due: SCHEDULE_SCHEDULED_FOR
when the scheduler passed it on, else the stamp floored to the second (or to
the minute for crond), which is right as long as delays stay under that.
"""

import argparse
import datetime as dt
import glob
import json
import os
import sys
import time

TARGET_P50_OVERHEAD_MS = 0.15   # issue 14 (it was 0.25)
TARGET_APS_RATIO = 0.8          # per-second start delay against APScheduler, p50 and p99
TARGET_P99_OVERHEAD_MS = 1.0
TARGET_BURST_MS = 500.0
TARGET_CPU_PCT = 0.01
TARGET_RSS_MB = 10.0
TARGET_WAKEUPS_PER_MIN = 2.0
TARGET_LIST_MS = 250.0
TARGET_HISTORY_MS = 20.0
TARGET_PG_P50_EXTRA_MS = 0.5   # start delay p50 on PostgreSQL above SQLite's
TARGET_PG_BURST_RATIO = 1.2    # last start of the burst, PostgreSQL / SQLite
TARGET_MEM_RSS_MB = 12.0       # RSS with 10,000 idle jobs
TARGET_BYTES_PER_JOB = 400.0   # private (anonymous) memory per job


# --- helpers -------------------------------------------------------------------------

def pct(sorted_vals, q):
    """Percentile with linear interpolation (numpy's default)."""
    if not sorted_vals:
        return float("nan")
    k = (len(sorted_vals) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(sorted_vals) - 1)
    return sorted_vals[lo] + (sorted_vals[hi] - sorted_vals[lo]) * (k - lo)


def dist(vals):
    v = sorted(vals)
    if not v:
        return {"n": 0, "min": None, "p50": None, "p99": None, "max": None}
    return {"n": len(v), "min": v[0], "p50": pct(v, 0.5), "p99": pct(v, 0.99), "max": v[-1]}


def fmt(x, unit="ms"):
    if x is None:
        return "-"
    if isinstance(x, str):
        return x
    a = abs(x)
    if a == 0:
        s = "0"
    elif a < 1:
        s = f"{x:.3f}"
    elif a < 100:
        s = f"{x:.2f}"
    else:
        s = f"{x:.0f}"
    return f"{s} {unit}" if unit else s


def fmt_dist(d, unit="ms"):
    if not d or not d.get("n"):
        return "no data"
    return " / ".join(fmt(d[k], None) for k in ("min", "p50", "p99", "max")) + f" {unit}"


def parse_rfc3339_ns(s):
    s = s.replace("Z", "+00:00")
    t = dt.datetime.fromisoformat(s)
    return int(round(t.timestamp() * 1000)) * 1_000_000


def read_stamps(path):
    out = []
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2:
                out.append((int(parts[0]), parts[1], parts[2] if len(parts) > 2 else "-"))
    return out


def read_history(path):
    if not path or not os.path.exists(path):
        return None
    with open(path) as f:
        txt = f.read().strip()
    return json.loads(txt) if txt else []


def add(w, rec):
    with open(os.path.join(w, "results.jsonl"), "a") as f:
        f.write(json.dumps(rec) + "\n")


def load(w):
    recs = {}
    p = os.path.join(w, "results.jsonl")
    if os.path.exists(p):
        with open(p) as f:
            for line in f:
                r = json.loads(line)
                recs[r["id"]] = r
    return recs


def check(value, limit):
    if value is None:
        return None
    return value <= limit


def say(label, text):
    print(f"  {label:<58} {text}", flush=True)


# --- 1. per-second start delay --------------------------------------------------------

def delays_per_second(stamps, label):
    out = []
    for ns, lab, sched in stamps:
        if lab != label:
            continue
        due = parse_rfc3339_ns(sched) if sched != "-" else ns // 1_000_000_000 * 1_000_000_000
        out.append(((ns - due) / 1e6, sched if sched != "-" else None))
    return out


def cmd_persec(a):
    w, v = a.w, a.variant
    stamps = read_stamps(os.path.join(w, f"persec-{v}.stamps"))
    main_label = "aps" if v == "aps" else "sched"
    who = {"shell": "schedule, shell form", "exec": "schedule, exec form",
           "pg": "schedule, shell form, on PostgreSQL",
           "aps": "APScheduler 3.x (Popen sh -c)"}[v]
    fl_kind = "exec" if v == "exec" else "sh -c"
    main = delays_per_second(stamps, main_label)
    floor = delays_per_second(stamps, "floor")
    order = {"shell": 0, "pg": 5, "exec": 10, "aps": 20}[v]
    dm = dist([d for d, _ in main])
    df = dist([d for d, _ in floor])
    add(w, {"id": f"ps.{v}.stamp", "sec": 1, "ord": order, "kind": "dist", "unit": "ms",
            "what": f"{who}: stamp − due", **dm, "note": f"{dm['n']} runs"})
    add(w, {"id": f"ps.{v}.floor", "sec": 1, "ord": order + 1, "kind": "dist", "unit": "ms",
            "what": f"  floor ({fl_kind} from C, same run)", **df, "note": f"{df['n']} runs"})
    say(f"{who}: stamp − due", fmt_dist(dm) + f"  (n={dm['n']})")
    say(f"  floor ({fl_kind}, same run)", fmt_dist(df) + f"  (n={df['n']})")
    if dm["n"] and df["n"]:
        o50, o99 = dm["p50"] - df["p50"], dm["p99"] - df["p99"]
        if v in ("aps", "pg"):
            ok50 = ok99 = None
            tgt = "(info)"
        else:
            ok50, ok99 = check(o50, TARGET_P50_OVERHEAD_MS), check(o99, TARGET_P99_OVERHEAD_MS)
            tgt = f"p50 ≤ {TARGET_P50_OVERHEAD_MS} ms, p99 ≤ {TARGET_P99_OVERHEAD_MS:g} ms"
        ok = None if ok50 is None else (ok50 and ok99)
        add(w, {"id": f"ps.{v}.overhead", "sec": 1, "ord": order + 2, "kind": "text",
                "what": "  overhead above the floor",
                "text": f"p50 {o50:+.3f} ms, p99 {o99:+.3f} ms", "target": tgt, "ok": ok,
                "short": f"per-second start overhead above the floor, {who}",
                "p50": o50, "p99": o99})
        say("  overhead above the floor", f"p50 {o50:+.3f} ms, p99 {o99:+.3f} ms   target {tgt}")
    hist = read_history(os.path.join(w, f"persec-{v}.history.json"))
    if hist is not None:
        rows = [r for r in hist if r.get("job") == "persec" and r.get("trigger") == "schedule"]
        started = [r for r in rows if r.get("started_at")]
        statuses = {}
        for r in rows:
            statuses[r["status"]] = statuses.get(r["status"], 0) + 1
        hd = {}
        for r in started:
            hd[r["scheduled_for"]] = (parse_rfc3339_ns(r["started_at"])
                                      - parse_rfc3339_ns(r["scheduled_for"])) / 1e6
        dh = dist(list(hd.values()))
        st = ", ".join(f"{k} {n}" for k, n in sorted(statuses.items()))
        add(w, {"id": f"ps.{v}.hist", "sec": 1, "ord": order + 3, "kind": "dist", "unit": "ms",
                "what": "  history: started_at − scheduled_for (1 ms resolution)", **dh,
                "note": f"{len(rows)} rows: {st}"})
        say("  history: started_at − scheduled_for", fmt_dist(dh) + f"  ({st})")
        # Pair each stamp with its row: what happens between the row's
        # started_at and the job running (row write + spawn + exec).
        paired = []
        for d, sched in main:
            if sched is None:
                continue
            key = sched if sched in hd else None
            if key is None:
                # schedule prints whole seconds without fraction; be lenient
                key = next((k for k in hd if parse_rfc3339_ns(k) == parse_rfc3339_ns(sched)), None)
            if key is not None:
                paired.append(d - hd[key])
        dp = dist(paired)
        add(w, {"id": f"ps.{v}.rec", "sec": 1, "ord": order + 4, "kind": "dist", "unit": "ms",
                "what": "  stamp − started_at: row write + spawn + exec", **dp,
                "note": f"{dp['n']} paired runs"})
        say("  stamp − started_at (row write + spawn + exec)", fmt_dist(dp))


def cmd_busybox(a):
    w = a.w
    stamps = read_stamps(os.path.join(w, "busybox.stamps"))
    per_min = [(ns - ns // 60_000_000_000 * 60_000_000_000) / 1e6
               for ns, lab, _ in stamps if lab == "busybox"]
    d = dist(per_min)
    add(w, {"id": "ps.busybox", "sec": 1, "ord": 30, "kind": "dist", "unit": "ms",
            "what": "busybox crond (per-minute): stamp − minute", **d,
            "note": f"{d['n']} minute boundaries; best case: started at x.002 s, and it"
                    " sleep()s whole seconds from its start (else + up to 1 s)"})
    say("busybox crond: stamp − minute", fmt_dist(d) + f"  (n={d['n']} minute boundaries)")
    if a.burst_minute:
        t0 = a.burst_minute * 1_000_000_000
        starts = [(ns - t0) / 1e6 for ns, lab, _ in stamps if lab.startswith("b")
                  and lab != "busybox"]
        burst_record(w, "busybox", "busybox crond, 1,000 crontab lines", starts, a.expect, None, 40)


# --- 2. burst -----------------------------------------------------------------------

def burst_record(w, v, who, starts, expect, hist_rows, order):
    d = dist(starts)
    counts = f"{d['n']} stamps"
    ok_count = d["n"] == expect
    if hist_rows is not None:
        counts += f", {hist_rows} history rows"
        ok_count = ok_count and hist_rows == expect
    last = d["max"]
    is_schedule = v in ("shell", "exec", "pg")
    ok = (check(last, TARGET_BURST_MS) and ok_count) if is_schedule else None
    tgt = f"last ≤ {TARGET_BURST_MS:g} ms, exactly {expect}" if is_schedule else "(peer)"
    add(w, {"id": f"burst.{v}", "sec": 2, "ord": order, "kind": "dist", "unit": "ms",
            "what": f"{who}: start − T", **d, "note": counts, "target": tgt, "ok": ok,
            "short": f"burst of {expect}, {who.split(',')[0]} {v} form: start − T",
            "count_ok": ok_count})
    say(f"{who}: start − T", fmt_dist(d) + f"  ({counts})")


def cmd_burst(a):
    w, v = a.w, a.variant
    stamps = read_stamps(os.path.join(w, f"burst-{v}.stamps"))
    starts = [(ns - a.t0_ns) / 1e6 for ns, _, _ in stamps]
    hist_rows = None
    if a.history:
        hist = read_history(a.history) or []
        hist_rows = sum(1 for r in hist if r.get("job", "").startswith("j") and r.get("started_at"))
    who, order = {
        "shell": ("schedule, 1,000 jobs, shell form, max_concurrent 16", 0),
        "pg": ("schedule on PostgreSQL, 1,000 jobs, shell form, max_concurrent 16", 5),
        "exec": ("schedule, 1,000 jobs, exec form, max_concurrent 16", 10),
        "floor": ("floor: seq 1000 | xargs -P16 sh -c STAMP", 20),
        "aps": ("APScheduler 3.x, ThreadPoolExecutor(16)", 30),
    }[v]
    burst_record(w, v, who, starts, a.expect, hist_rows, order)
    if a.elapsed_ns:
        say("  (whole xargs run)", fmt(a.elapsed_ns / 1e6))


# --- 3. idle ------------------------------------------------------------------------

def proc_sample(pid):
    tasks = {}
    for tdir in glob.glob(f"/proc/{pid}/task/*"):
        tid = os.path.basename(tdir)
        try:
            with open(f"{tdir}/stat") as f:
                st = f.read()
            fields = st[st.rindex(")") + 2:].split()
            # fields[0] is field 3 (state): utime is field 14, stime 15.
            ticks = int(fields[11]) + int(fields[12])
            with open(f"{tdir}/schedstat") as f:
                cpu_ns = int(f.read().split()[0])
            vol = invol = 0
            with open(f"{tdir}/status") as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches:"):
                        vol = int(line.split()[1])
                    elif line.startswith("nonvoluntary_ctxt_switches:"):
                        invol = int(line.split()[1])
            tasks[tid] = (ticks, cpu_ns, vol, invol)
        except (FileNotFoundError, ProcessLookupError):
            pass
    with open(f"/proc/{pid}/stat") as f:
        st = f.read()
    fields = st[st.rindex(")") + 2:].split()
    proc_ticks = int(fields[11]) + int(fields[12])
    rss_kb = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss_kb = int(line.split()[1])
    return {"t": time.monotonic(), "tasks": tasks, "ticks": proc_ticks, "rss_kb": rss_kb}


def cmd_idle(a):
    w, pid = a.w, a.pid
    time.sleep(a.warm)
    s0 = proc_sample(pid)
    time.sleep(a.window)
    s1 = proc_sample(pid)
    secs = s1["t"] - s0["t"]
    clk = os.sysconf("SC_CLK_TCK")
    cpu_ticks_pct = (s1["ticks"] - s0["ticks"]) / clk / secs * 100
    cpu_ns = vol = invol = 0
    for tid, (tk, ns, vo, iv) in s1["tasks"].items():
        b = s0["tasks"].get(tid, (0, 0, 0, 0))
        cpu_ns += ns - b[1]
        vol += vo - b[2]
        invol += iv - b[3]
    cpu_exact_pct = cpu_ns / 1e9 / secs * 100
    wake_per_min = vol * 60 / secs
    rss_mb = s1["rss_kb"] / 1024
    n_threads = len(s1["tasks"])
    win = f"{secs:.0f} s window, {n_threads} threads"
    add(w, {"id": "idle.cpu_ticks", "sec": 3, "ord": 0, "kind": "scalar", "unit": "%",
            "what": "CPU, utime+stime ticks (1 tick = 1/%d s)" % clk, "short": "idle CPU (ticks)",
            "value": cpu_ticks_pct, "target": f"≤ {TARGET_CPU_PCT} %",
            "ok": check(cpu_ticks_pct, TARGET_CPU_PCT), "note": win})
    add(w, {"id": "idle.cpu_ns", "sec": 3, "ord": 1, "kind": "scalar", "unit": "%",
            "what": "CPU, exact (/proc/PID/task/*/schedstat)", "short": "idle CPU (schedstat)",
            "value": cpu_exact_pct, "target": f"≤ {TARGET_CPU_PCT} %",
            "ok": check(cpu_exact_pct, TARGET_CPU_PCT),
            "note": f"{cpu_ns / 1e6:.2f} ms CPU in {secs:.0f} s"})
    add(w, {"id": "idle.rss", "sec": 3, "ord": 2, "kind": "scalar", "unit": "MB",
            "what": "VmRSS at the end", "short": "idle RSS, 10,000 jobs", "value": rss_mb, "target": f"≤ {TARGET_RSS_MB:g} MB",
            "ok": check(rss_mb, TARGET_RSS_MB), "note": ""})
    add(w, {"id": "idle.wakeups", "sec": 3, "ord": 3, "kind": "scalar", "unit": "/min",
            "what": "wake-ups (voluntary ctx switches, all threads)", "value": wake_per_min,
            "short": "idle wake-ups",
            "target": f"≤ {TARGET_WAKEUPS_PER_MIN:g} /min",
            "ok": check(wake_per_min, TARGET_WAKEUPS_PER_MIN),
            "note": f"{vol} in {secs:.0f} s; +{invol} involuntary"})
    say("CPU (ticks)", f"{cpu_ticks_pct:.4f} %  ({win})")
    say("CPU (schedstat)", f"{cpu_exact_pct:.5f} %  ({cpu_ns / 1e6:.2f} ms)")
    say("VmRSS", f"{rss_mb:.1f} MB")
    say("wake-ups", f"{wake_per_min:.1f} /min  ({vol} voluntary switches, {invol} involuntary)")


# --- 4, 5. command timings ------------------------------------------------------------

def cmd_timing(a):
    w = a.w
    with open(a.file) as f:
        txt = f.read()
    if a.file.endswith(".json"):
        times = [t * 1000 for t in json.loads(txt)["results"][0]["times"]]
    else:
        times = [int(x) / 1e6 for x in txt.split()]
    d = dist(times)
    sec, order = {"list": (4, 0), "history": (5, 0), "history_pg": (5, 1)}[a.name]
    add(w, {"id": a.name, "sec": sec, "ord": order, "kind": "dist", "unit": "ms", "what": a.what,
            **d, "target": f"median ≤ {a.target_ms:g} ms", "ok": check(d["p50"], a.target_ms),
            "note": f"{d['n']} runs"})
    say(a.what, fmt_dist(d) + f"  (n={d['n']})")


# --- 6, 7. memory per job, start-up with 100,000 jobs -----------------------------------

def idle_config(path, n, month):
    """N jobs, none due for months (the idle phase's shape), in a folder of their own."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        for i in range(n):
            f.write(f'[jobs.j{i:06d}]\ncron = "{i % 60} {(i // 60) % 24} {(i // 1440) % 28 + 1} '
                    f'{month} *"\ncommand = "true"\n\n')


def start_scheduler(binary, config, db, log, http=None):
    """Starts `schedule run`; returns (process, exec instant in ns, monotonic)."""
    import subprocess
    args = [binary, "--config", config, "--db", db, "run"] + (["--http", http] if http else [])
    t0 = time.monotonic_ns()
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=open(log, "w"))
    return p, t0


def wait_started(p, log, timeout=120):
    """Until the log says `scheduler started`; the instant in ns (monotonic), or None.
    Reads only what the log gained since the last look (it can grow by 100,000 lines)."""
    deadline = time.monotonic() + timeout
    tail = ""
    with open(log) as f:
        while time.monotonic() < deadline:
            chunk = f.read()
            if "scheduler started" in tail[-64:] + chunk:
                return time.monotonic_ns()
            tail = (tail + chunk)[-64:]
            if p.poll() is not None:
                return None
            time.sleep(0.002)
    return None


def health_code(port):
    import urllib.error
    import urllib.request
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_scheduler(p, timeout=40):
    """SIGTERM, then SIGKILL after `timeout` s; how long it took to go, in ms (None: killed)."""
    import signal
    import subprocess
    t = time.monotonic_ns()
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout)
        return (time.monotonic_ns() - t) / 1e6
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return None


def mem_sample(pid):
    """kB figures of /proc/PID/smaps_rollup and /proc/PID/status."""
    out = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[0].endswith(":") and parts[1].isdigit():
                out[parts[0][:-1]] = int(parts[1])
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "Threads"):
                out[k] = int(v.split()[0])
    return out


def cmd_mem(a):
    """RSS and private memory of an idle scheduler with 1, 1,000 and 10,000 jobs."""
    w = a.w
    month = (dt.datetime.now(dt.timezone.utc).month + 5) % 12 + 1
    samples = {}
    for n in a.jobs:
        d = os.path.join(w, f"mem{n}")
        cfg = os.path.join(d, "jobs.toml")
        idle_config(cfg, n, month)
        p, _ = start_scheduler(a.bin, cfg, os.path.join(d, "mem.db"), os.path.join(d, "log"))
        if wait_started(p, os.path.join(d, "log")) is None:
            sys.exit(f"the scheduler with {n} jobs did not start (see {d}/log)")
        time.sleep(a.settle)
        samples[n] = mem_sample(p.pid)
        stop_scheduler(p)
    size = os.path.getsize(a.bin)
    add(w, {"id": "mem.size", "sec": 6, "ord": 0, "kind": "scalar", "unit": "MB",
            "what": "release binary size", "value": size / 1e6, "target": "", "ok": None,
            "note": a.bin_note or ""})
    say("release binary", f"{size / 1e6:.2f} MB ({size} bytes)")
    for i, n in enumerate(a.jobs):
        s = samples[n]
        rss, anon, pd, rf = s["Rss"], s.get("Anonymous", 0), s.get("Private_Dirty", 0), s.get("RssFile", 0)
        tgt = f"≤ {TARGET_MEM_RSS_MB:g} MB" if n == max(a.jobs) else ""
        add(w, {"id": f"mem.rss.{n}", "sec": 6, "ord": 1 + i, "kind": "scalar", "unit": "MB",
                "what": f"{n:,} jobs: RSS", "value": rss / 1024, "target": tgt,
                "ok": check(rss / 1024, TARGET_MEM_RSS_MB) if tgt else None,
                "short": f"RSS, {n:,} idle jobs",
                "note": f"anonymous {anon / 1024:.2f} MB, private dirty {pd / 1024:.2f} MB, "
                        f"file pages {rf / 1024:.2f} MB, {s.get('Threads', '?')} threads"})
        say(f"{n:>6} jobs: RSS / Anonymous / Private_Dirty / RssFile",
            f"{rss / 1024:.2f} / {anon / 1024:.2f} / {pd / 1024:.2f} / {rf / 1024:.2f} MB")
    lo, hi = min(a.jobs), max(a.jobs)
    if hi > lo:
        per = (samples[hi].get("Anonymous", 0) - samples[lo].get("Anonymous", 0)) * 1024 / (hi - lo)
        add(w, {"id": "mem.per_job", "sec": 6, "ord": 10, "kind": "scalar", "unit": "B",
                "what": f"private memory per job: (Anonymous({hi:,}) − Anonymous({lo})) / {hi - lo:,}",
                "value": per, "target": f"≤ {TARGET_BYTES_PER_JOB:g} B",
                "ok": check(per, TARGET_BYTES_PER_JOB), "short": "private memory per job",
                "note": "smaps_rollup, once the loop has handed back the heap and code pages start-up used"})
        say("private (anonymous) memory per job", f"{per:.0f} B")


def cmd_startup(a):
    """Start-up with N jobs: exec → `scheduler started` → /health answers 200, the peak RSS,
    and how long a SIGTERM sent during the load takes to stop it."""
    w, n = a.w, a.jobs
    month = (dt.datetime.now(dt.timezone.utc).month + 5) % 12 + 1
    d = os.path.join(w, f"startup{n}")
    cfg = os.path.join(d, "jobs.toml")
    idle_config(cfg, n, month)
    started, ready, hwm = [], [], 0
    for k in range(a.runs):
        log = os.path.join(d, f"log{k}")
        port = free_port()
        p, t0 = start_scheduler(a.bin, cfg, os.path.join(d, f"s{k}.db"), log, f"127.0.0.1:{port}")
        t1 = wait_started(p, log)
        if t1 is None:
            sys.exit(f"the scheduler with {n} jobs did not start (see {log})")
        t2 = None
        while time.monotonic_ns() - t0 < a.ready_timeout * 1e9:
            if health_code(port) == 200:
                t2 = time.monotonic_ns()
                break
            time.sleep(0.01)
        hwm = max(hwm, mem_sample(p.pid)["VmHWM"])
        stop_scheduler(p, 5)
        started.append((t1 - t0) / 1e6)
        if t2 is not None:
            ready.append((t2 - t0) / 1e6)
    ds, dr = dist(started), dist(ready)
    add(w, {"id": "startup.started", "sec": 7, "ord": 0, "kind": "dist", "unit": "ms",
            "what": f"{n:,} jobs: exec → `scheduler started` (parse, validate, open the database)",
            **ds, "target": "", "ok": None, "note": f"{ds['n']} runs"})
    add(w, {"id": "startup.ready", "sec": 7, "ord": 1, "kind": "dist", "unit": "ms",
            "what": f"{n:,} jobs: exec → /health answers 200 (first next fires computed, the loop running)",
            **dr, "target": "", "ok": None,
            "note": f"{dr['n']} of {a.runs} runs within {a.ready_timeout:g} s"})
    add(w, {"id": "startup.hwm", "sec": 7, "ord": 2, "kind": "scalar", "unit": "MB",
            "what": f"{n:,} jobs: peak RSS (VmHWM)", "value": hwm / 1024, "target": "", "ok": None,
            "note": ""})
    say(f"{n} jobs: exec → scheduler started", fmt_dist(ds))
    say(f"{n} jobs: exec → /health 200", fmt_dist(dr) + f" ({dr['n']} of {a.runs} within {a.ready_timeout:g} s)")
    say(f"{n} jobs: peak RSS (VmHWM)", f"{hwm / 1024:.1f} MB")
    # SIGTERM a quarter of the way into the config's load: how long until the process is gone?
    at = ds["min"] / 4 / 1e3
    log = os.path.join(d, "log-term")
    p, t0 = start_scheduler(a.bin, cfg, os.path.join(d, "term.db"), log)
    time.sleep(at)
    gone = stop_scheduler(p, a.ready_timeout)
    text = f"{gone:.0f} ms" if gone is not None else f"not within {a.ready_timeout:g} s (killed)"
    add(w, {"id": "startup.sigterm", "sec": 7, "ord": 3, "kind": "text",
            "what": f"{n:,} jobs: SIGTERM {at * 1e3:.0f} ms after exec → exited",
            "text": text, "target": "", "ok": None,
            "note": f"exit status {p.returncode}"})
    say(f"SIGTERM {at * 1e3:.0f} ms into the load → exit", f"{text} (status {p.returncode})")

# --- 9. a job writing beside the config and the database -------------------------------

def thread_wakeups(pid):
    """Voluntary context switches per thread name (summed over threads of one name)."""
    out = {}
    for tdir in glob.glob(f"/proc/{pid}/task/*"):
        try:
            with open(f"{tdir}/comm") as f:
                name = f.read().strip()
            with open(f"{tdir}/status") as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches:"):
                        out[name] = out.get(name, 0) + int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return out


def cmd_beside(a):
    """Wake-ups of every thread of an idle scheduler while a job-like writer appends to a file
    in the folder of its config and database every 10 ms, beside the same window without it;
    then timerfd_settime calls per fire of a per-second job, counted by strace."""
    import re
    import shutil
    import signal
    import sqlite3
    import subprocess
    w = a.w
    month = (dt.datetime.now(dt.timezone.utc).month + 5) % 12 + 1
    d = os.path.join(w, "beside")
    cfg = os.path.join(d, "jobs.toml")
    idle_config(cfg, 1, month)
    # The file exists before the scheduler starts: a file appearing in the folder is an event
    # its watch must see (inotify cannot filter names); its writes are what is measured.
    target = os.path.join(d, "job.log")
    open(target, "w").close()
    log = os.path.join(d, "log")
    p, _ = start_scheduler(a.bin, cfg, os.path.join(d, "schedule.db"), log)
    if wait_started(p, log) is None:
        sys.exit(f"the scheduler did not start (see {log})")
    time.sleep(a.settle)

    def window(write):
        before, writes = thread_wakeups(p.pid), 0
        t0 = time.monotonic()
        end = t0 + a.window
        while time.monotonic() < end:
            if write:
                with open(target, "a") as f:
                    f.write("a line of a job's log\n")
                writes += 1
            time.sleep(0.01)
        after = thread_wakeups(p.pid)
        woken = {n: after[n] - before.get(n, 0) for n in after if after[n] != before.get(n, 0)}
        return sum(woken.values()), woken, writes, time.monotonic() - t0

    quiet, quiet_by, _, qs = window(False)
    busy, busy_by, writes, bs = window(True)
    threads = ", ".join(sorted(thread_wakeups(p.pid)))
    stop_scheduler(p)
    by = lambda m: ", ".join(f"{n} {v}" for n, v in sorted(m.items())) or "none woke"
    add(w, {"id": "beside.quiet", "sec": 9, "ord": 0, "kind": "scalar", "unit": "",
            "what": f"idle, nothing written: wake-ups in {qs:.0f} s (all threads)",
            "value": quiet, "target": "", "ok": None, "note": f"threads: {threads}; {by(quiet_by)}"})
    add(w, {"id": "beside.writer", "sec": 9, "ord": 1, "kind": "scalar", "unit": "",
            "what": f"idle, a file beside jobs.toml and schedule.db appended every 10 ms: wake-ups in {bs:.0f} s",
            "short": "wake-ups for a job's writes beside the config", "value": busy, "target": "= 0",
            "ok": check(busy, 0), "note": f"{writes} writes (open, append, close); {by(busy_by)}"})
    say(f"wake-ups, nothing written ({qs:.0f} s)", f"{quiet}  ({by(quiet_by)})")
    say(f"wake-ups, {writes} appends to another file ({bs:.0f} s)", f"{busy}  ({by(busy_by)})")

    if not shutil.which("strace"):
        add(w, {"id": "beside.arms", "sec": 9, "ord": 2, "kind": "text",
                "what": "timerfd_settime calls per fire of a per-second job", "text": "not measured",
                "target": "", "ok": None, "note": "no strace"})
        say("timerfd_settime per fire", "not measured (no strace)")
        return
    d = os.path.join(w, "beside-arms")
    os.makedirs(d, exist_ok=True)
    cfg, db, log, trace = (os.path.join(d, n) for n in ("jobs.toml", "arms.db", "log", "trace"))
    with open(cfg, "w") as f:
        f.write('[jobs.tick]\ncron = "* * * * * *"\ncommand = "true"\n')
    tracer = subprocess.Popen(["strace", "-f", "-qq", "-e", "trace=timerfd_settime", "-o", trace,
                               a.bin, "--config", cfg, "--db", db, "run"],
                              stdout=subprocess.DEVNULL, stderr=open(log, "w"))
    started = wait_started(tracer, log)
    time.sleep(a.window)
    try:
        with open(f"/proc/{tracer.pid}/task/{tracer.pid}/children") as f:
            child = int(f.read().split()[0])
        os.kill(child, signal.SIGTERM)
        tracer.wait(40)
    except (OSError, IndexError, ValueError, subprocess.TimeoutExpired):
        tracer.kill()
        tracer.wait()
    if started is None:
        sys.exit(f"the traced scheduler did not start (see {log})")
    with open(trace) as f:
        arms = [m.group(1) for m in re.finditer(r"timerfd_settime\(.*it_value=(\{[^}]*\})", f.read())]
    fires = sqlite3.connect(db).execute("SELECT count(*) FROM runs WHERE job = 'tick'").fetchone()[0]
    instants = len(set(arms))
    per = len(arms) / instants if instants else None
    add(w, {"id": "beside.arms", "sec": 9, "ord": 2, "kind": "scalar" if per else "text", "unit": "",
            "what": "per-second job: timerfd_settime calls per instant armed (strace -f)",
            "short": "timerfd_settime per instant", "value": per, "text": "no calls",
            "target": "= 1", "ok": check(per, 1.0),
            "note": f"{len(arms)} calls, {instants} instants, {fires} fires in {a.window:.0f} s "
                    "(the first arm is before the first fire)"})
    say("timerfd_settime calls / instants armed / fires",
        f"{len(arms)} / {instants} / {fires}  ({per:.2f} per instant)" if per else "no calls")


# --- summary --------------------------------------------------------------------------

SECTIONS = {
    1: "1. Start delay of a per-second job (`* * * * * *`)",
    2: "2. Burst: 1,000 jobs due the same second",
    3: "3. Idle: 10,000 jobs configured, none due",
    4: "4. `schedule list` with 10,000 jobs",
    5: "5. `schedule history --failed` over 1,000,000 rows",
    6: "6. Memory: idle RSS and private memory for 1, 1,000 and 10,000 jobs",
    7: "7. Start-up with 100,000 jobs",
    8: "8. Several hosts on one PostgreSQL (`[cluster]`)",
    9: "9. A job writing beside the config and the database; timer arms per fire",
}


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def derived(recs):
    out = []
    s, apsr = recs.get("ps.shell.stamp"), recs.get("ps.aps.stamp")
    if s and apsr and s.get("n") and apsr.get("n"):
        r50, r99 = ratio(s["p50"], apsr["p50"]), ratio(s["p99"], apsr["p99"])
        out.append({"id": "ratio.aps", "sec": 1, "ord": 25, "kind": "text",
                    "what": "schedule (shell) / APScheduler",
                    "text": f"p50 {r50:.2f}×, p99 {r99:.2f}×",
                    "target": f"≤ {TARGET_APS_RATIO}× at p50 and p99",
                    "ok": r50 is not None and r99 is not None
                          and r50 <= TARGET_APS_RATIO and r99 <= TARGET_APS_RATIO,
                    "short": "per-second start delay against APScheduler"})
    bb = recs.get("ps.busybox")
    if s and bb and s.get("n") and bb.get("n"):
        out.append({"id": "ratio.busybox", "sec": 1, "ord": 35, "kind": "text",
                    "what": "schedule (shell) / busybox crond",
                    "text": f"p50 {ratio(s['p50'], bb['p50']):.2f}×, "
                            f"max {ratio(s['max'], bb['max']):.2f}×",
                    "target": "(peer)", "ok": None})
    b = recs.get("burst.shell")
    if b and b.get("n"):
        parts = []
        for peer, name in (("floor", "floor"), ("aps", "APScheduler"), ("busybox", "busybox")):
            p = recs.get(f"burst.{peer}")
            if p and p.get("n"):
                parts.append(f"{name} {ratio(b['max'], p['max']):.2f}×")
        if parts:
            out.append({"id": "ratio.burst", "sec": 2, "ord": 50, "kind": "text",
                        "what": "schedule (shell) last start / peers' last start",
                        "text": ", ".join(parts), "target": "(peer)", "ok": None})
    # PostgreSQL beside SQLite, measured in the same run.
    sh, pg = recs.get("ps.shell.overhead"), recs.get("ps.pg.overhead")
    if sh and pg:
        extra = pg["p50"] - sh["p50"]
        out.append({"id": "ratio.pg.persec", "sec": 1, "ord": 9, "kind": "text",
                    "what": "PostgreSQL − SQLite: start overhead above the floor, p50",
                    "text": f"{extra:+.3f} ms", "short": "per-second start delay, PostgreSQL vs SQLite",
                    "target": f"≤ {TARGET_PG_P50_EXTRA_MS} ms",
                    "ok": check(extra, TARGET_PG_P50_EXTRA_MS)})
    bs, bp = recs.get("burst.shell"), recs.get("burst.pg")
    if bs and bp and bs.get("n") and bp.get("n"):
        r = ratio(bp["max"], bs["max"])
        out.append({"id": "ratio.pg.burst", "sec": 2, "ord": 6, "kind": "text",
                    "what": "PostgreSQL / SQLite: last start of the burst",
                    "text": f"{r:.2f}×", "short": "burst, PostgreSQL vs SQLite",
                    "target": f"≤ {TARGET_PG_BURST_RATIO}×", "ok": check(r, TARGET_PG_BURST_RATIO)})
    return out


def value_text(r):
    if r["kind"] == "dist":
        return fmt_dist(r, r.get("unit", "ms"))
    if r["kind"] == "scalar":
        v = r["value"]
        if r["unit"] == "%":
            return f"{v:.4f} %"
        if r["unit"] == "":
            return f"{v:g}"
        return f"{v:.0f} {r['unit']}" if r["unit"] == "B" else f"{v:.1f} {r['unit']}"
    return r["text"]


def status_text(r):
    ok = r.get("ok")
    return "" if ok is None else ("ok" if ok else "MISS")


def miss_text(r):
    short = r.get("short") or r["what"].strip()
    return f"{short}: {value_text(r)} (target {r.get('target')})"


def cmd_summary(a):
    w = a.w
    recs = load(w)
    rows = list(recs.values()) + derived(recs)
    rows.sort(key=lambda r: (r["sec"], r["ord"]))
    meta = dict(kv.split("=", 1) for kv in a.meta)
    skipped = [s for s in a.note if s]

    table = []
    for r in rows:
        table.append((r["sec"], r["what"], value_text(r), r.get("target") or "",
                      status_text(r), r.get("note") or ""))

    # text
    head = ("figure", "min / median / p99 / max  (or value)", "target", "", "note")
    widths = [max(len(head[i]), *(len(t[i + 1]) for t in table)) for i in range(5)]
    print()
    print("=" * 100)
    print("SUMMARY")
    print("=" * 100)
    for k in ("date", "host", "command", "commit", "mode", "elapsed"):
        if k in meta:
            print(f"{k:>8}: {meta[k]}")
    last = None
    for t in table:
        if t[0] != last:
            print()
            print(SECTIONS[t[0]])
            last = t[0]
        print("  " + "  ".join(t[i + 1].ljust(widths[i]) for i in range(5)).rstrip())
    for s in skipped:
        print(f"  note: {s}")
    misses = [r for r in rows if r.get("ok") is False]
    print()
    print("missed targets: " + ("; ".join(miss_text(r) for r in misses) if misses else "none"))

    # markdown
    print()
    print("----- markdown (for BENCHMARKS.md) -----")
    print()
    print(f"### `schedule` benchmarks, {meta.get('date', '')}")
    print()
    print(f"- command: `{meta.get('command', '')}` ({meta.get('mode', '')}; took {meta.get('elapsed', '?')})")
    if "commit" in meta:
        print(f"- commit: `{meta['commit']}`")
    print(f"- machine: {meta.get('host', '')}")
    print("- with fewer than 100 samples, p99 is close to the max")
    print("- times are min / median / p99 / max; \"floor\" is the same work started by a"
          " minimal C loop (posix_spawn at clock_nanosleep(TIMER_ABSTIME) wake-ups) or xargs")
    print()
    last = None
    for t in table:
        if t[0] != last:
            if last is not None:
                print()
            print(f"**{SECTIONS[t[0]]}**")
            print()
            print("| figure | value | target | | note |")
            print("| --- | --- | --- | --- | --- |")
            last = t[0]
        cells = [t[1].strip().replace("|", "\\|")] + [c.replace("|", "\\|") for c in t[2:]]
        if t[1].startswith("  "):
            cells[0] = "↳ " + cells[0]
        print("| " + " | ".join(cells) + " |")
    print()
    for s in skipped:
        print(f"- {s}")
    print("- missed targets: " + ("; ".join(miss_text(r) for r in misses) if misses else "none"))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    x = sub.add_parser("persec")
    x.add_argument("w")
    x.add_argument("variant", choices=["shell", "exec", "aps", "pg"])
    x = sub.add_parser("busybox")
    x.add_argument("w")
    x.add_argument("--burst-minute", type=int)
    x.add_argument("--expect", type=int, default=1000)
    x = sub.add_parser("burst")
    x.add_argument("w")
    x.add_argument("variant", choices=["shell", "exec", "floor", "aps", "pg"])
    x.add_argument("--t0-ns", type=int, required=True)
    x.add_argument("--expect", type=int, default=1000)
    x.add_argument("--history")
    x.add_argument("--elapsed-ns", type=int)
    x = sub.add_parser("idle")
    x.add_argument("w")
    x.add_argument("--pid", type=int, required=True)
    x.add_argument("--warm", type=float, default=5)
    x.add_argument("--window", type=float, default=60)
    x = sub.add_parser("timing")
    x.add_argument("w")
    x.add_argument("name", choices=["list", "history", "history_pg"])
    x.add_argument("file")
    x.add_argument("--target-ms", type=float, required=True)
    x.add_argument("--what", default="")
    x = sub.add_parser("summary")
    x.add_argument("w")
    x.add_argument("--meta", action="append", default=[])
    x.add_argument("--note", action="append", default=[])
    x = sub.add_parser("mem")
    x.add_argument("w")
    x.add_argument("--bin", required=True)
    x.add_argument("--bin-note")
    x.add_argument("--jobs", type=int, nargs="+", default=[1, 1000, 10000])
    x.add_argument("--settle", type=float, default=3.0)
    x = sub.add_parser("startup")
    x.add_argument("w")
    x.add_argument("--bin", required=True)
    x.add_argument("--jobs", type=int, default=100000)
    x.add_argument("--runs", type=int, default=3)
    x.add_argument("--ready-timeout", type=float, default=120)
    x = sub.add_parser("beside")
    x.add_argument("w")
    x.add_argument("--bin", required=True)
    x.add_argument("--window", type=float, default=10)
    x.add_argument("--settle", type=float, default=3.0)
    a = p.parse_args()
    {"persec": cmd_persec, "busybox": cmd_busybox, "burst": cmd_burst, "idle": cmd_idle,
     "timing": cmd_timing, "mem": cmd_mem, "startup": cmd_startup, "beside": cmd_beside,
     "summary": cmd_summary}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
