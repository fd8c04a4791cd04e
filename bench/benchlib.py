"""benchlib.py: what the watcher benchmarks share (issue 5).

Starts the fake registry (tests/fakes/fakeserver.py) with its request log
off, writes watcher configs for N sources on it, runs commands and times
them, reads a process's resident memory, and prints the line of machine
facts every result in bench/RESULTS.md carries.  Python 3 stdlib only.
"""

import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
WATCHER = os.environ.get("AW_BENCH_WATCHER",
                         os.path.join(ROOT, "artifact-watcher"))
sys.path.insert(0, os.path.join(ROOT, "tests", "fakes"))

from fakeserver import FakeServer  # noqa: E402


def fake():
    """A fake registry that keeps no request log (costs least)."""
    return FakeServer(log_size=0)


def fake_requests_seen(server):
    """How many API requests the fake has answered so far."""
    status, _, body = server.request("GET", "/_fake/requests")
    if status != 200:
        raise RuntimeError("fake /_fake/requests: %d" % status)
    return int(json.loads(body)["last"])


def config_text(port, sources, state_dir, interval="1s", max_tags=10000,
                digest_check="0"):
    """A watcher config: one connector on the fake, one source per image.

    digestCheckInterval 0 and digestChecksPerPoll 0: a poll of a known
    repository is exactly one tag listing (no manifest HEADs, not even of
    the fake's tags v1..vN, which are mutable tags by default), so a poll
    can be counted as a request.
    """
    lines = [
        "store:",
        "  type: lmdb",
        "  path: %s" % state_dir,
        "connectors:",
        "  - connector:",
        "      identifier: fake",
        "      type: DockerRegistry",
        "      spec:",
        "        dockerRegistryUrl: http://127.0.0.1:%d" % port,
        "        providerType: Other",
        "        auth:",
        "          type: Anonymous",
        "sources:",
    ]
    for ident, image in sources:
        lines += [
            "  - identifier: %s" % ident,
            "    type: DockerRegistry",
            "    interval: %s" % interval,
            "    maxTags: %d" % max_tags,
            "    digestCheckInterval: %s" % digest_check,
            "    digestChecksPerPoll: 0",
            "    spec:",
            "      connectorRef: fake",
            "      imagePath: %s" % image,
        ]
    return "\n".join(lines) + "\n"


class Workdir:
    """A temporary directory removed at the end of a benchmark."""

    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="aw-bench-")

    def file(self, name, text):
        path = os.path.join(self.path, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)


def time_once(argv):
    """Wall-clock seconds of one run; raises when the command fails."""
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def alternate(commands, rounds, warmup=2):
    """Runs the commands in turn, round after round; {name: [seconds]}.

    Alternating keeps slow phases of a shared machine from favouring one
    side of a ratio.
    """
    for _ in range(warmup):
        for argv in commands.values():
            time_once(argv)
    times = {name: [] for name in commands}
    for _ in range(rounds):
        for name, argv in commands.items():
            times[name].append(time_once(argv))
    return times


def median(values):
    return statistics.median(values)


def rss_kib(pid):
    """Resident set size of a process, KiB (VmRSS of /proc/PID/status)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS for %d" % pid)


def tool_version(argv):
    """First line a tool prints about its version, or "missing"."""
    try:
        out = subprocess.run(argv, capture_output=True, text=True,
                             timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "missing"
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if text else "unknown"


def machine():
    """One line of machine facts for RESULTS.md."""
    cpu = "unknown cpu"
    with open("/proc/cpuinfo") as f:
        for line in f:
            m = re.match(r"model name\s*:\s*(.*)", line)
            if m:
                cpu = m.group(1)
                break
    return "%s %s %s; %d cpus (%s); %s; %s; %s; %s" % (
        platform.system(), platform.release(), platform.machine(),
        os.cpu_count(), cpu,
        tool_version([WATCHER, "--version"]),
        tool_version(["wrk", "--version"]),
        tool_version(["skopeo", "--version"]),
        tool_version(["valgrind", "--version"]))
