"""sink_throughput.py: events per second through the outbox and a sink
(issue 14), against a bare client publishing the same messages with the
same confirmation level, in the same run.

Each case is a module bench/sinks/NAME.py with a CASE object (see
bench/sinks/file.py):

    name             the sink type, for the report
    bare_source      a C file in bench/sinks/, the bare client; built here
                     with `cc -O2` and pkg-config `pkgs`
    start(work)      start its broker (on a free loopback port), if any
    stop()
    sink(round_dir)  the sink block of the watcher's config (no identifier)
    bare_argv(binary, messages, round_dir)
                     the bare client's command: it publishes each line of
                     `messages` and prints "MESSAGES SECONDS", timed from
                     its first publish to its last confirmation
    delivered(round_dir, bare=False)
                     how many messages reached the destination in a round

The watcher side: one source on the fake registry (tests/fakes) listing N
tags with emitExisting, so its first poll commits N events to the outbox
(LMDB) in one go.  The time runs from that commit (the `poll committed`
log line) until the sink's `delivered` count in the HTTP API reaches N:
reading the outbox, the sink, and the acks.  The messages for the bare
client are those same events, taken from a first run with a File sink.
Rounds alternate watcher and bare client.  Ratio = watcher events/s /
bare messages/s (target >= 0.5): the median of each round's ratio (its two
runs are next to each other in time, so a shared machine's changing load
moves them together), and the ratio of the medians.

    python3 bench/sink_throughput.py [--events N] [--rounds R] [--case NAME]
"""

import argparse
import glob
import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import benchlib

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(benchlib.ROOT, "build", "bench")


def load_cases():
    cases = {}
    for path in sorted(glob.glob(os.path.join(HERE, "sinks", "*.py"))):
        name = os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location("sinkcase_" + name,
                                                      path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        cases[module.CASE.name] = module.CASE
    return cases


def build_bare(case):
    os.makedirs(BUILD, exist_ok=True)
    src = os.path.join(HERE, "sinks", case.bare_source)
    out = os.path.join(BUILD, os.path.splitext(case.bare_source)[0])
    flags = []
    if case.pkgs:
        flags = subprocess.run(["pkg-config", "--cflags", "--libs"] +
                               list(case.pkgs), check=True,
                               capture_output=True,
                               text=True).stdout.split()
    subprocess.run(["cc", "-O2", "-std=c11", "-D_GNU_SOURCE", "-Wall",
                    "-Wextra", "-Werror", "-o", out, src] + flags,
                   check=True)
    return out


def subdir(work, name):
    path = os.path.join(work.path, name)
    os.makedirs(path, exist_ok=True)
    return path


def config(server, events, state, sink):
    """The watcher's config, as JSON (which YAML reads)."""
    return json.dumps({
        "store": {"type": "lmdb", "path": state},
        "api": {"listen": "127.0.0.1:0"},
        "connectors": [{"connector": {
            "identifier": "fake", "type": "DockerRegistry",
            "spec": {"dockerRegistryUrl": "http://127.0.0.1:%d"
                     % server.port, "providerType": "Other",
                     "auth": {"type": "Anonymous"}}}}],
        "sources": [{"identifier": "bench", "type": "DockerRegistry",
                     "interval": "1h", "maxTags": events,
                     "emitExisting": True, "burstLimit": events,
                     "digestCheckInterval": "0",
                     "spec": {"connectorRef": "fake",
                              "imagePath": "bench/r%d" % events}}],
        "sinks": [dict(sink, identifier="s")],
    }, indent=1) + "\n"


class Run:
    """One watcher process; its log lines as they come."""

    def __init__(self, argv):
        self.lines = []
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()

    def read(self):
        for line in self.proc.stderr:
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_line(self, pattern, timeout=300):
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for line in self.lines:
                    m = regex.search(line)
                    if m:
                        return m
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise RuntimeError("no /%s/ in the watcher's log:\n%s"
                                       % (pattern,
                                          "".join(self.lines[-20:])))
                self.cond.wait(min(left, 0.5))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(5)


def log_time(line):
    """Unix seconds of a log line's ts= (millisecond resolution)."""
    m = re.search(r"ts=(\d+-\d+-\d+T\d+:\d+:\d+)\.(\d+)Z", line)
    t = time.mktime(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S"))
    return t - time.timezone + int(m.group(2)) / 1000.0


def delivered(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/api/v1/sinks" % port,
                                timeout=10) as answer:
        sinks = json.load(answer)["sinks"]
    return sinks[0]["delivered"]


def watcher_round(server, work, events, case, name):
    """Events per second from the commit to the last one delivered."""
    round_dir = subdir(work, name)
    conf = work.file(name + ".json", config(
        server, events, os.path.join(round_dir, "state"),
        case.sink(round_dir)))
    run = Run([benchlib.WATCHER, "--log-level", "info", "run", "-c", conf])
    try:
        port = int(run.wait_line(r'msg="api listening" '
                                 r'addr=127\.0\.0\.1:(\d+)').group(1))
        committed = run.wait_line(r'msg="poll committed" source=bench '
                                  r'created=(\d+)')
        if int(committed.group(1)) != events:
            raise RuntimeError("committed %s events, not %d"
                               % (committed.group(1), events))
        t0 = log_time(committed.string)
        deadline = time.monotonic() + 600
        while delivered(port) < events:
            if time.monotonic() > deadline or run.proc.poll() is not None:
                raise RuntimeError("the watcher did not deliver %d events"
                                   % events)
            time.sleep(0.002)
        t1 = time.time()
    finally:
        run.stop()
    got = case.delivered(round_dir)
    if got != events:
        raise RuntimeError("%s: %d messages at the destination, not %d"
                           % (case.name, got, events))
    return events / (t1 - t0)


def bare_round(work, case, binary, messages, events, name):
    round_dir = subdir(work, name)
    out = subprocess.run(case.bare_argv(binary, messages, round_dir),
                         check=True, capture_output=True, text=True).stdout
    count, seconds = out.split()
    if int(count) != events or case.delivered(round_dir, bare=True) != \
            events:
        raise RuntimeError("%s bare client: %s of %d messages"
                           % (case.name, count, events))
    return events / float(seconds)


def messages_file(server, work, events):
    """The N events of the source, one JSON line each, via a File sink."""
    round_dir = subdir(work, "messages")
    path = os.path.join(round_dir, "messages.jsonl")
    conf = work.file("messages.json", config(
        server, events, os.path.join(round_dir, "state"),
        {"type": "File", "spec": {"path": path}}))
    subprocess.run([benchlib.WATCHER, "--log-level", "warn", "once", "-c",
                    conf], check=True)
    with open(path) as f:
        if sum(1 for _ in f) != events:
            raise RuntimeError("messages: not %d lines" % events)
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=50000)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--case", action="append")
    args = ap.parse_args()
    cases = load_cases()
    names = args.case or sorted(cases)

    server = benchlib.fake()
    work = benchlib.Workdir()
    try:
        messages = messages_file(server, work, args.events)
        print("%d events, %d rounds (plus one warm-up), medians:"
              % (args.events, args.rounds))
        for name in names:
            case = cases[name]
            binary = build_bare(case)
            case.start(work)
            try:
                rates = {"watcher": [], "bare": []}
                for r in range(args.rounds + 1):
                    w = watcher_round(server, work, args.events, case,
                                      "%s-w%d" % (name, r))
                    b = bare_round(work, case, binary, messages,
                                   args.events, "%s-b%d" % (name, r))
                    if r > 0:
                        rates["watcher"].append(w)
                        rates["bare"].append(b)
            finally:
                case.stop()
            w = benchlib.median(rates["watcher"])
            b = benchlib.median(rates["bare"])
            # A round's two runs are next to each other in time: their
            # ratio is what a shared machine's load changes least.
            ratios = [x / y for x, y in zip(rates["watcher"],
                                            rates["bare"])]
            print("  %-12s watcher %8.0f events/s (min %.0f, max %.0f)  "
                  "bare %8.0f msgs/s (min %.0f, max %.0f)" % (
                      name, w, min(rates["watcher"]),
                      max(rates["watcher"]), b, min(rates["bare"]),
                      max(rates["bare"])))
            print("  %-12s ratio: median of the rounds' %.2f (%s), of the "
                  "medians %.2f (target >= 0.5)" % (
                      name, benchlib.median(ratios),
                      " ".join("%.2f" % r for r in ratios), w / b))
    finally:
        server.stop()
        work.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
