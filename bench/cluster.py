"""Section 8 of bench/run.sh: several hosts on one PostgreSQL.

  cluster.py burst W HOSTS T0_NS STAMPS   -- one burst: last start, runs, attempts, shares
  cluster.py idle W HOSTS SECONDS CALLS   -- an idle cluster's load on the database
  cluster.py claims W TPS CLIENTS         -- claims per second one server takes (pgbench)

Prints each figure and appends records (section 8) to W/results.jsonl, which
analyze.py's summary prints with the others.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from analyze import add, load, read_stamps, say  # noqa: E402


def burst(w, hosts, t0_ns, stamps_path, counts_path):
    stamps = read_stamps(stamps_path)
    starts = sorted((ns - t0_ns) / 1e6 for ns, _, _ in stamps)
    last = starts[-1] if starts else None
    with open(counts_path) as f:
        c = json.load(f)
    runs, ids, per_host = c["runs"], c["ids"], c["per_host"]
    attempts = ids / runs if runs else None
    top = max(per_host.values()) / runs if runs and per_host else None
    rec = {"id": f"cluster.burst.{hosts}", "sec": 8, "ord": hosts, "kind": "text",
           "what": f"{hosts} host{'s' if hosts > 1 else ''}, 1,000 jobs due the same second: last start − T",
           "text": f"{last:.0f} ms" if last is not None else "-",
           "last_ms": last, "runs": runs, "stamps": len(stamps), "attempts": attempts,
           "note": f"{len(stamps)} stamps, {runs} rows; {attempts:.3f} claim attempts per fire"
                   + (f"; busiest host ran {top:.0%}" if hosts > 1 else ""),
           "target": "exactly 1,000; attempts ≤ 1.1" + ("; no host above 50 %" if hosts > 1 else ""),
           "ok": len(stamps) == 1000 and runs == 1000 and attempts is not None and attempts <= 1.1
                 and (hosts == 1 or (top is not None and top <= 0.5))}
    add(w, rec)
    say(rec["what"], f"{rec['text']}  ({rec['note']}; per host {per_host})")
    recs = load(w)
    one, three = recs.get("cluster.burst.1"), recs.get("cluster.burst.3")
    if one and three and one.get("last_ms") and three.get("last_ms"):
        r = three["last_ms"] / one["last_ms"]
        add(w, {"id": "cluster.burst.ratio", "sec": 8, "ord": 4, "kind": "text",
                "what": "3 hosts against 1: last start, ratio", "text": f"{r:.2f}×",
                "note": "three hosts share the burst; each has max_concurrent = 16",
                "target": "", "ok": None})
        say("3 hosts against 1", f"{r:.2f}×")


def idle(w, hosts, seconds, calls):
    per = calls / seconds / hosts
    add(w, {"id": "cluster.idle", "sec": 8, "ord": 5, "kind": "text",
            "what": f"idle cluster ({hosts} hosts, 1,000 jobs, none due): statements per second per host",
            "text": f"{per:.2f}/s",
            "note": f"{calls} statements in {seconds:g} s (pg_stat_statements); a heartbeat is one "
                    "statement every lease/6 (5 s): 0.20/s",
            "target": "heartbeats only (≤ 0.25/s)", "ok": per <= 0.25})
    say("idle cluster: statements per second per host", f"{per:.2f}/s ({calls} in {seconds:g} s)")


def claims(w, tps, clients):
    add(w, {"id": "cluster.claims", "sec": 8, "ord": 6, "kind": "text",
            "what": f"claims one server takes ({clients} clients, one fire per durable commit)",
            "text": f"{tps:.0f}/s",
            "note": "pgbench running the claim's INSERT … ON CONFLICT DO NOTHING, fsync on",
            "target": "", "ok": None})
    say("claims per second (pgbench)", f"{tps:.0f}/s with {clients} clients")


if __name__ == "__main__":
    cmd, w = sys.argv[1], sys.argv[2]
    if cmd == "burst":
        burst(w, int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6])
    elif cmd == "idle":
        idle(w, int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]))
    elif cmd == "claims":
        claims(w, float(sys.argv[3]), int(sys.argv[4]))
