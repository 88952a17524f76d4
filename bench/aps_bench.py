"""APScheduler 3.x side of bench/run.sh (run with the throwaway venv's python).

  aps_bench.py persec --seconds N --stamp STAMP --file FILE [--label aps]
      A BlockingScheduler with one CronTrigger(second='*') job that starts
      `/bin/sh -c "STAMP LABEL FILE"` with subprocess.Popen and hands the child
      to a reaper thread (the job thread does not wait). Stops after N fires'
      worth of whole seconds.

  aps_bench.py burst --at EPOCH --jobs 1000 --workers 16 --stamp STAMP --file FILE
      JOBS jobs, each a CronTrigger for exactly the second EPOCH (UTC), on a
      ThreadPoolExecutor(WORKERS); each job runs its `/bin/sh -c "STAMP aN FILE"`
      to the end (so at most WORKERS run at once, like max_concurrent = 16).
      misfire_grace_time=None so a late job still runs (and is counted).
"""

import argparse
import datetime as dt
import queue
import subprocess
import threading
import time

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger


def persec(args):
    sched = BlockingScheduler(timezone=dt.timezone.utc)
    children = queue.Queue()
    cmd = ["/bin/sh", "-c", f"{args.stamp} {args.label} {args.file}"]

    def job():
        children.put(subprocess.Popen(cmd))

    def reaper():
        while True:
            p = children.get()
            if p is None:
                return
            p.wait()

    threading.Thread(target=reaper, daemon=True).start()
    sched.add_job(job, CronTrigger(second="*", timezone=dt.timezone.utc), id="aps")
    # Stop half a second after the Nth whole second from now.
    stop_at = int(time.time()) + args.seconds + 0.5
    threading.Timer(stop_at - time.time(), lambda: sched.shutdown(wait=False)).start()
    sched.start()
    children.put(None)
    time.sleep(0.2)


def burst(args):
    at = dt.datetime.fromtimestamp(args.at, tz=dt.timezone.utc)
    sched = BlockingScheduler(
        timezone=dt.timezone.utc,
        executors={"default": ThreadPoolExecutor(args.workers)},
        job_defaults={"misfire_grace_time": None, "coalesce": False, "max_instances": 1},
    )
    done = threading.Semaphore(0)

    def job(i):
        subprocess.run(["/bin/sh", "-c", f"{args.stamp} a{i} {args.file}"], check=False)
        done.release()

    trigger = dict(year=at.year, month=at.month, day=at.day, hour=at.hour,
                   minute=at.minute, second=at.second, timezone=dt.timezone.utc)
    for i in range(args.jobs):
        sched.add_job(job, CronTrigger(**trigger), args=[i], id=f"a{i}")

    def stopper():
        deadline = args.at + args.timeout
        for _ in range(args.jobs):
            if not done.acquire(timeout=max(0.0, deadline - time.time())):
                break
        sched.shutdown(wait=False)

    threading.Thread(target=stopper, daemon=True).start()
    sched.start()


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="mode", required=True)
    a = sub.add_parser("persec")
    a.add_argument("--seconds", type=int, required=True)
    a.add_argument("--stamp", required=True)
    a.add_argument("--file", required=True)
    a.add_argument("--label", default="aps")
    b = sub.add_parser("burst")
    b.add_argument("--at", type=int, required=True)
    b.add_argument("--jobs", type=int, default=1000)
    b.add_argument("--workers", type=int, default=16)
    b.add_argument("--timeout", type=float, default=30.0)
    b.add_argument("--stamp", required=True)
    b.add_argument("--file", required=True)
    args = p.parse_args()
    {"persec": persec, "burst": burst}[args.mode](args)


if __name__ == "__main__":
    main()
