"""poll_cpu.py: the CPU side of benchmark 1, as instructions per poll.

Wall-clock polls per second move by 20 % between runs on a shared VM, more
than most changes to the watcher do; instructions do not.  This runs the
watcher itself (`run`, the whole daemon: schedule, limiter, HTTP engine,
provider, diff, store) under callgrind against the fake, on N one-tag
sources polled every second with nothing new.  Once every source has
listed twice, callgrind's counters are zeroed, the fake's request count is
read, and after a window both are read again:

    instructions per poll = instructions in the window / requests seen

    python3 bench/poll_cpu.py [--sources N] [--window S]
"""

import argparse
import glob
import os
import signal
import subprocess
import sys
import time

import benchlib


def summary(path):
    """The total instruction count of a callgrind dump."""
    with open(path) as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise RuntimeError("no summary in %s" % path)


def measure(server, work, n, window):
    sources = [("c%d" % i, "bench/c%d/r1" % i) for i in range(n)]
    conf = work.file("cpu.yaml", benchlib.config_text(
        server.port, sources, os.path.join(work.path, "state-cpu")))
    out = os.path.join(work.path, "callgrind.watcher")
    log = open(os.path.join(work.path, "cpu.log"), "w")
    proc = subprocess.Popen(["valgrind", "--tool=callgrind",
                             "--callgrind-out-file=" + out,
                             benchlib.WATCHER, "--log-level", "warn", "run",
                             "-c", conf], stdout=subprocess.DEVNULL,
                            stderr=log)
    try:
        deadline = time.monotonic() + 300
        while benchlib.fake_requests_seen(server) < 2 * n:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("watcher did not poll; see %s" %
                                   log.name)
            time.sleep(0.2)
        subprocess.run(["callgrind_control", "-z", str(proc.pid)],
                       check=True, capture_output=True)
        first = benchlib.fake_requests_seen(server)
        time.sleep(window)
        subprocess.run(["callgrind_control", "-d", "window", str(proc.pid)],
                       check=True, capture_output=True)
        polls = benchlib.fake_requests_seen(server) - first
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    dumps = sorted(glob.glob(out + ".*"))
    if not dumps or polls == 0:
        raise RuntimeError("no window dump or no polls")
    return summary(dumps[0]), polls


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sources", type=int, default=300)
    ap.add_argument("--window", type=int, default=10)
    args = ap.parse_args()

    server = benchlib.fake()
    work = benchlib.Workdir()
    try:
        instructions, polls = measure(server, work, args.sources,
                                      args.window)
    finally:
        server.stop()
        work.cleanup()
    print("whole watcher under callgrind: %d sources, interval 1s, "
          "window %ds" % (args.sources, args.window))
    print("  %d polls, %d instructions: %d instructions per poll" % (
        polls, instructions, instructions // polls))
    return 0


if __name__ == "__main__":
    sys.exit(main())
