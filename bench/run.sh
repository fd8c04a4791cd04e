#!/bin/sh
# bench/run.sh: every benchmark, what `make bench` runs (after deploy/deps.sh
# bench and building the watcher and the fake).  Prints a line of machine
# facts, then each benchmark's figures and ratios; bench/RESULTS.md records
# them.  Not part of `make check`: timings belong here, never in tests.
set -e
cd "$(dirname "$0")/.."
make --no-print-directory artifact-watcher build/fakes/fake-server \
    build/fakes/fake-kafka >/dev/null
python3 -c 'import sys; sys.path.insert(0, "bench"); import benchlib
print("machine:", benchlib.machine())'
echo "== 1. poll throughput (watcher polls/s vs wrk requests/s)"
python3 bench/poll_throughput.py
echo "== 1. instructions per poll of the whole watcher (callgrind)"
python3 bench/poll_cpu.py
echo "== 2. one 10,000-tag repository (watcher versions vs skopeo list-tags)"
python3 bench/list_10k.py
echo "== 3. CPU per steady-state poll and memory per known tag"
sh bench/index/run.sh
echo "== 3. memory per idle source"
python3 bench/idle_sources.py
echo "== store (issue 3)"
sh bench/store/run.sh
echo "== sinks (issue 14): events/s through the outbox and a sink vs a bare client"
/usr/bin/python3 bench/sink_throughput.py
