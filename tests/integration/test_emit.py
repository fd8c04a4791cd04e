"""test_emit.py: what gets emitted (issue 4): the tag filter, ordering and
the burst policy, end to end through `once` against the fake registry
(tests/fakes) with the embedded store and a Stdout sink.

Each test has its own repository and state directory; the fake is started
once for the suite.
"""

import json
import os
import subprocess
import sys
import unittest

from harness import BINARY, Workdir, docker_connector, docker_source, to_yaml

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fakes"))
from fakeserver import FakeServer  # noqa: E402

SIG = "sha256-" + "ab" * 32


class Emit(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.workdir = Workdir()
        cls.fake = FakeServer()

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()
        cls.workdir.cleanup()

    def once(self, name, tags, *extra, spec=None, **watch):
        """Adds tags to repo `name`, runs once; returns the events."""
        if tags:
            self.fake.tags("emit/" + name, tags)
        conf = {
            "store": {"type": "lmdb", "path": self.workdir.sub(name)},
            "connectors": [docker_connector("fake", self.fake.base)],
            "sources": [docker_source(name, "fake", "emit/" + name,
                                      **watch)],
            "sinks": [{"identifier": "out", "type": "Stdout"}],
        }
        conf["sources"][0]["spec"].update(spec or {})
        path = self.workdir.file(name + ".yaml", to_yaml(conf))
        run = subprocess.run([BINARY, "once", "-c", path] + list(extra),
                             capture_output=True, text=True, timeout=60,
                             stdin=subprocess.DEVNULL)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.last_log = run.stderr
        return [json.loads(line) for line in run.stdout.splitlines()]

    def versions(self, events):
        return [e["data"]["version"] for e in events]

    def test_regex_semver_order_and_noise(self):
        spec = {"tagRegex": r"^v?\d+\.\d+\.\d+(-[\w.]+)?$"}
        first = self.once("order", ["1.9.0", "1.10.0", "latest", SIG],
                          spec=spec, order="semver")
        self.assertEqual(first, [], "the baseline is silent")
        conf_tags = ["2.0.0", "1.11.0", "2.1.0-rc.1", "nightly",
                     SIG[:-2] + "cd.att", "v1.10.1"]
        events = self.once("order", conf_tags, spec=spec, order="semver")
        self.assertEqual(self.versions(events),
                         ["v1.10.1", "1.11.0", "2.0.0"],
                         "semver order, oldest first; no pre-release, "
                         "no signature, nothing the regex rejects")

    def test_prereleases_included_when_asked(self):
        self.once("pre", ["1.0.0"], order="semver", prereleases="include")
        events = self.once("pre", ["1.1.0-rc.1", "1.1.0"], order="semver",
                           prereleases="include")
        self.assertEqual(self.versions(events), ["1.1.0-rc.1", "1.1.0"])

    def test_burst_emit_newest(self):
        self.once("newest", ["1.0.0"], order="semver", burstLimit=2)
        events = self.once("newest", ["1.0.%d" % i for i in range(1, 6)],
                           order="semver", burstLimit=2)
        self.assertEqual(self.versions(events), ["1.0.4", "1.0.5"])
        self.assertIn("burst: emitting the newest only", self.last_log)
        again = self.once("newest", [], order="semver", burstLimit=2)
        self.assertEqual(again, [], "the rest was recorded, not held")

    def test_burst_fast_forward(self):
        self.once("ff", ["a"], burstLimit=2, burstAction="fastForward")
        events = self.once("ff", ["b", "c", "d"], burstLimit=2,
                           burstAction="fastForward")
        self.assertEqual(events, [])
        self.assertIn("burst: fast-forward", self.last_log)
        events = self.once("ff", ["e"], burstLimit=2,
                           burstAction="fastForward")
        self.assertEqual(self.versions(events), ["e"],
                         "b, c, d were recorded; only e is new")

    def test_burst_hold_then_release(self):
        self.once("hold", ["a"], burstLimit=2, burstAction="hold")
        held = self.once("hold", ["b", "c", "d"], burstLimit=2,
                         burstAction="hold")
        self.assertEqual(held, [])
        self.assertIn("burst held", self.last_log)
        still = self.once("hold", [], burstLimit=2, burstAction="hold")
        self.assertEqual(still, [], "held again: nothing was recorded")
        released = self.once("hold", [], "--burst-action", "emitNewest",
                             burstLimit=2, burstAction="hold")
        self.assertEqual(self.versions(released), ["c", "d"])
        after = self.once("hold", [], burstLimit=2, burstAction="hold")
        self.assertEqual(after, [])


if __name__ == "__main__":
    unittest.main()
