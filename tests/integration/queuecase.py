"""queuecase.py: what the suites of the RedisStream, Nats and Kafka sinks
share.  One fake registry (tests/fakes) is the source and the store is
LMDB; a test's watcher has the queue sink under test (identifier SINK_ID,
type SINK_TYPE, maxAttempts 1000 so that an outage never dead-letters)
and a Stdout sink beside it, whose lines give the outbox order and show
that the other sinks go on while the broker is down.

A suite subclasses QueueSinkCase, sets SINK_ID and SINK_TYPE, starts and
stops its broker in start_broker()/stop_broker() (class methods), and
gives the broker's part of the sink's spec in broker_spec().
"""

import json
import os
import sys
import unittest

from harness import Watcher, Workdir, docker_connector, docker_source

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fakes"))
from fakeserver import FakeServer  # noqa: E402


class QueueSinkCase(unittest.TestCase):
    SINK_ID = None
    SINK_TYPE = None

    @classmethod
    def setUpClass(cls):
        cls.workdir = Workdir()
        cls.fake = FakeServer()
        cls.start_broker()

    @classmethod
    def tearDownClass(cls):
        cls.stop_broker()
        cls.fake.stop()
        cls.workdir.cleanup()

    @classmethod
    def start_broker(cls):
        pass

    @classmethod
    def stop_broker(cls):
        pass

    def broker_spec(self):
        """Where the sink reaches the broker (url, brokers)."""
        return {}

    def watcher(self, name, sources, spec):
        """A running watcher whose sources have their baseline (0.0.1)."""
        for s in sources:
            self.fake.tags("%s/%s" % (name, s), ["0.0.1"])
        conf = {
            "store": {"type": "lmdb", "path": self.workdir.sub(name)},
            "connectors": [docker_connector("fake", self.fake.base)],
            "sources": [docker_source(s, "fake", "%s/%s" % (name, s))
                        for s in sources],
            "sinks": [
                {"identifier": self.SINK_ID, "type": self.SINK_TYPE,
                 "spec": dict(self.broker_spec(), **spec),
                 "maxAttempts": 1000},
                {"identifier": "console", "type": "Stdout"},
            ],
        }
        w = Watcher(self.workdir, conf)
        check = w.run_cli("check", "-c", w.write_config())
        self.assertEqual(check.returncode, 0, check.stderr)
        w.start()
        self.addCleanup(w.stop)
        w.wait_log(r'msg="poll committed"', count=len(sources))
        return w

    def printed(self, w, count):
        """The first count events the Stdout sink printed."""
        def enough():
            events = [json.loads(line) for line in w.stdout
                      if line.startswith("{")]
            return events if len(events) >= count else None
        return w.wait_for(enough, 30, "%d events on stdout" % count)
