"""idle_sources.py: benchmark 3b of issue 5, memory per idle source.

Two watchers (`run`) on the fake, one after the other: one with a single
source, one with N (default 10,000), each source a repository of one tag
polled every 10 s (digest checks off).  Once every source has listed at
least once (counted at the fake) and a few seconds more have passed, the
resident set size of each watcher is read.
Per idle source = (RSS with N - RSS with 1) / (N - 1); target <= 4 KiB.

    python3 bench/idle_sources.py [--sources N]
"""

import argparse
import os
import signal
import subprocess
import sys
import time

import benchlib


def settled_rss(server, work, n, interval, settle):
    """RSS (KiB) of a watcher on n sources after each has polled once."""
    sources = [("i%d" % i, "bench/idle%d/r1" % i) for i in range(n)]
    state = os.path.join(work.path, "state-idle-%d" % n)
    conf = work.file("idle-%d.yaml" % n, benchlib.config_text(
        server.port, sources, state, interval=interval))
    log = open(os.path.join(work.path, "idle-%d.log" % n), "w")
    first = benchlib.fake_requests_seen(server)
    proc = subprocess.Popen([benchlib.WATCHER, "--log-level", "warn", "run",
                             "-c", conf], stdout=subprocess.DEVNULL,
                            stderr=log)
    try:
        deadline = time.monotonic() + 600
        while benchlib.fake_requests_seen(server) - first < n:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("watcher did not poll every source; "
                                   "see %s" % log.name)
            time.sleep(0.2)
        time.sleep(settle)
        samples = []
        for _ in range(5):
            samples.append(benchlib.rss_kib(proc.pid))
            time.sleep(0.5)
        fds = len(os.listdir("/proc/%d/fd" % proc.pid))
        return max(samples), fds
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sources", type=int, default=10000)
    ap.add_argument("--interval", default="10s")
    ap.add_argument("--settle", type=int, default=3)
    args = ap.parse_args()

    server = benchlib.fake()
    work = benchlib.Workdir()
    try:
        one, fds_one = settled_rss(server, work, 1, args.interval,
                                   args.settle)
        many, fds_many = settled_rss(server, work, args.sources,
                                     args.interval, args.settle)
    finally:
        server.stop()
        work.cleanup()
    per = (many - one) * 1024.0 / (args.sources - 1)
    print("memory per idle source: %d sources, interval %s" %
          (args.sources, args.interval))
    print("  rss with 1 source: %d KiB (%d fds)" % (one, fds_one))
    print("  rss with %d sources: %d KiB (%d fds)" % (args.sources, many,
                                                      fds_many))
    print("  per source: %.0f bytes = %.2f KiB (target <= 4 KiB)" %
          (per, per / 1024))
    return 0


if __name__ == "__main__":
    sys.exit(main())
