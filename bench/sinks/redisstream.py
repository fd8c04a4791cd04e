"""redisstream.py: the RedisStream sink case of bench/sink_throughput.py.

A redis-server of its own (tests/integration/harness.py: AOF with
appendfsync always, on a free loopback port).  The watcher's RedisStream
sink (its default window, 64) against bare-redisstream.c sending the same
XADDs (MAXLEN ~, fields id and event) with hiredis, pipelined on one
connection with at most 64 unanswered, each counted on its answer.  Each
round appends to its own stream; XLEN counts it, then it is deleted.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "tests", "integration"))

import harness  # noqa: E402

WINDOW = 64
MAXLEN = 1000000


class RedisStreamCase:
    name = "RedisStream"
    bare_source = "bare-redisstream.c"
    pkgs = ["hiredis"]

    def __init__(self):
        self.work = None
        self.redis = None

    def start(self, work):
        self.work = harness.Workdir("aw-bench-redis-")
        self.redis = harness.Redis(self.work)
        self.redis.start()

    def stop(self):
        if self.redis is not None:
            self.redis.stop()
        if self.work is not None:
            self.work.cleanup()

    @staticmethod
    def stream(round_dir, bare):
        return "bench." + os.path.basename(round_dir) + \
            (".bare" if bare else "")

    def sink(self, round_dir):
        return {"type": "RedisStream", "maxInFlight": WINDOW,
                "spec": {"url": self.redis.url, "maxLen": MAXLEN,
                         "stream": self.stream(round_dir, False)}}

    def bare_argv(self, binary, messages, round_dir):
        return [binary, messages, "127.0.0.1", str(self.redis.port),
                self.stream(round_dir, True), str(MAXLEN), str(WINDOW)]

    def delivered(self, round_dir, bare=False):
        stream = self.stream(round_dir, bare)
        count = int(self.redis.cli("XLEN", stream))
        self.redis.cli("DEL", stream)
        return count


CASE = RedisStreamCase()
