"""nats.py: the Nats sink case of bench/sink_throughput.py.

A nats-server -js of its own (tests/integration/natsclient.py, file
storage, on a free loopback port).  The watcher's Nats sink with
`jetStream: true` (its default window, 256) against bare-nats.c
publishing the same messages with libnats: asynchronous JetStream
publishes with Nats-Msg-Id, each counted on its PubAck, at most 256
without one.  Each round publishes to its own stream, counted and then
deleted.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "tests", "integration"))

import harness  # noqa: E402
from natsclient import NatsClient, NatsServer  # noqa: E402

WINDOW = 256


class NatsCase:
    name = "Nats"
    bare_source = "bare-nats.c"
    pkgs = ["libnats"]

    def __init__(self):
        self.work = None
        self.server = None

    def start(self, work):
        self.work = harness.Workdir("aw-bench-nats-")
        self.server = NatsServer(self.work)
        self.server.start()

    def stop(self):
        if self.server is not None:
            self.server.stop()
        if self.work is not None:
            self.work.cleanup()

    @staticmethod
    def stream(round_dir, bare):
        return ("B" + os.path.basename(round_dir) +
                ("B" if bare else "")).replace("-", "_")

    def subject(self, round_dir, bare):
        """A new stream for the round, and its subject."""
        name = self.stream(round_dir, bare)
        with NatsClient(self.server.port) as c:
            c.stream_create(name, ["bench." + name])
        return "bench." + name

    def sink(self, round_dir):
        return {"type": "Nats", "maxInFlight": WINDOW,
                "spec": {"url": self.server.url, "jetStream": True,
                         "subject": self.subject(round_dir, False)}}

    def bare_argv(self, binary, messages, round_dir):
        return [binary, messages, self.server.url,
                self.subject(round_dir, True), str(WINDOW)]

    def delivered(self, round_dir, bare=False):
        name = self.stream(round_dir, bare)
        with NatsClient(self.server.port) as c:
            count = c.stream_count(name)
            c.js("STREAM.DELETE." + name)
        return count


CASE = NatsCase()
