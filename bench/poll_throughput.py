"""poll_throughput.py: benchmark 1 of issue 5, steady-state polling.

The watcher (`run`) watches N sources on the fake, each a repository of one
tag polled every second with digest checks off, so a poll that finds nothing
new is exactly one tag-list request.  Only the watcher's own requests are
counted: the fake's counter is read when the watcher starts (wrk's requests
of the ceiling run before it are behind that mark, and wrk does not run
beside the watcher).  Once the watcher has made N requests (every source
has listed once, the baselines) and its rate has settled (two successive
2 s windows within 10 % of each other, or 30 s at most), the requests the
fake answers in a fixed window are counted: that is the watcher's polls per
second.  In the same run, wrk asks the same kind of
endpoint as fast as it can (the ceiling the fake and loopback allow).
Ratio = watcher polls/s / wrk requests/s.  The watcher is saturated only when
it polls fewer than N per second; otherwise N bounds the figure and the
report says so.

    python3 bench/poll_throughput.py [--sources N] [--window S]
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import time

import benchlib


def count_window(server, seconds):
    """Requests per second the fake answered over the next window."""
    first = benchlib.fake_requests_seen(server)
    start = time.monotonic()
    time.sleep(seconds)
    last = benchlib.fake_requests_seen(server)
    return (last - first) / (time.monotonic() - start)


def settle_rate(server, limit, span=2.0, tolerance=0.10):
    """Wait until two successive windows of `span` seconds give rates
    within `tolerance` of each other, or `limit` seconds passed; returns
    the seconds it took."""
    start = time.monotonic()
    last = count_window(server, span)
    while time.monotonic() - start < limit:
        rate = count_window(server, span)
        if last > 0 and abs(rate - last) <= tolerance * last:
            break
        last = rate
    return time.monotonic() - start


def watcher_rate(server, work, n, window, settle):
    sources = [("p%d" % i, "bench/p%d/r1" % i) for i in range(n)]
    conf = work.file("poll.yaml", benchlib.config_text(
        server.port, sources, os.path.join(work.path, "state-poll")))
    log = open(os.path.join(work.path, "poll.log"), "w")
    mark = benchlib.fake_requests_seen(server)
    proc = subprocess.Popen([benchlib.WATCHER, "--log-level", "warn", "run",
                             "-c", conf], stdout=subprocess.DEVNULL,
                            stderr=log)
    try:
        # Baselines first: wait until the watcher itself has made n
        # requests (every source listed once), then until its rate has
        # settled.
        deadline = time.monotonic() + 300
        while benchlib.fake_requests_seen(server) - mark < n:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("watcher did not baseline; see %s" %
                                   log.name)
            time.sleep(0.2)
        settled = settle_rate(server, settle)
        rate = count_window(server, window)
        rss = benchlib.rss_kib(proc.pid)
        if proc.poll() is not None:
            raise RuntimeError("watcher exited; see %s" % log.name)
        return rate, rss, settled
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def wrk_rate(server, seconds, connections):
    url = server.url("/v2/bench/p0/r1/tags/list")
    out = subprocess.run(["wrk", "-t1", "-c%d" % connections,
                          "-d%ds" % seconds, url], capture_output=True,
                         text=True, check=True).stdout
    m = re.search(r"Requests/sec:\s*([0-9.]+)", out)
    if m is None or "Non-2xx" in out:
        raise RuntimeError("wrk: %s" % out)
    return float(m.group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sources", type=int, default=20000)
    ap.add_argument("--window", type=int, default=10)
    ap.add_argument("--settle", type=int, default=30,
                    help="at most this many seconds of settling")
    ap.add_argument("--connections", type=int, default=4)
    args = ap.parse_args()

    server = benchlib.fake()
    work = benchlib.Workdir()
    try:
        ceiling = wrk_rate(server, args.window, args.connections)
        polls, rss, settled = watcher_rate(server, work, args.sources,
                                           args.window, args.settle)
        ceiling2 = wrk_rate(server, args.window, args.connections)
    finally:
        server.stop()
        work.cleanup()
    best = max(ceiling, ceiling2)
    print("poll throughput: %d sources, interval 1s, window %ds" %
          (args.sources, args.window))
    print("  watcher: %.0f polls/s (one tag list each; rss %d KiB; "
          "settled in %.0f s)" % (polls, rss, settled))
    print("  wrk -t1 -c%d: %.0f and %.0f requests/s (before, after)" %
          (args.connections, ceiling, ceiling2))
    print("  ratio watcher / best wrk: %.2f (target >= 0.80)%s" % (
        polls / best,
        "; NOT saturated: the watcher kept up with its schedule"
        if polls > 0.9 * args.sources else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
