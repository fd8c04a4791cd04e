"""test_sink_file.py: the File sink and the per-sink filter end to end.

One watcher (LMDB store) on the fake registry (tests/fakes) with two
sources and three File sinks:

  * "all" gets every event, rotated at 4 KiB keeping 20 files, with a
    window of 8;
  * "updates" has `types: [artifact.updated]`: only re-pointed tags;
  * "other" has `sources: [other]`: only the second source's events.

Tags are pushed while it runs, more while it is stopped; after the restart
every event is in "all"'s files exactly once (a clean stop acks what it
wrote: no repeats beyond at-least-once), in order per source, rotated
files included, and the filtered sinks got exactly their share.
"""

import glob
import json
import os
import sys
import unittest

from harness import Watcher, Workdir, docker_connector, docker_source

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "fakes"))
from fakeserver import FakeServer  # noqa: E402

WORKDIR = None
FAKE = None


def setUpModule():
    global WORKDIR, FAKE
    WORKDIR = Workdir("aw-sinkfile-")
    FAKE = FakeServer()


def tearDownModule():
    try:
        assert FAKE.stop(), "fake-server did not exit cleanly"
    finally:
        WORKDIR.cleanup()


def read_events(path):
    """Every line of path and its rotated files, oldest first, as JSON."""
    rotated = glob.glob(glob.escape(path) + ".*")
    rotated.sort(key=lambda p: -int(p.rsplit(".", 1)[1]))
    events = []
    for name in rotated + ([path] if os.path.exists(path) else []):
        with open(name) as f:
            for line in f:
                assert line.endswith("\n"), "a half line in %s" % name
                events.append(json.loads(line))
    return events


class FileSinkTest(unittest.TestCase):

    def setUp(self):
        self.dir = WORKDIR.sub(self._testMethodName)
        self.repos = {"app": "file/%s/app" % self._testMethodName,
                      "other": "file/%s/other" % self._testMethodName}
        for repo in self.repos.values():
            FAKE.repo(name=repo, tags=["base"])
        self.paths = {name: os.path.join(self.dir, name + ".jsonl")
                      for name in ("all", "updates", "other")}
        config = {
            "store": {"type": "lmdb", "path": os.path.join(self.dir, "st")},
            "connectors": [docker_connector("fake", FAKE.base)],
            "sources": [docker_source(source, "fake", repo, interval="1s",
                                      digestCheckInterval="1s")
                        for source, repo in sorted(self.repos.items())],
            "sinks": [
                {"identifier": "all", "type": "File", "maxInFlight": 8,
                 "spec": {"path": self.paths["all"], "maxBytes": 4096,
                          "keep": 20}},
                {"identifier": "updates", "type": "File",
                 "types": ["artifact.updated"],
                 "spec": {"path": self.paths["updates"]}},
                {"identifier": "other", "type": "File",
                 "sources": ["other"],
                 "spec": {"path": self.paths["other"]}},
            ],
        }
        self.watcher = Watcher(WORKDIR, config, log_level="info")
        self.addCleanup(self.watcher.kill)

    def start(self, what="poll committed"):
        self.watcher.start()
        self.watcher.wait_log(r'msg="%s" source=app' % what)
        self.watcher.wait_log(r'msg="%s" source=other' % what)

    def wait_lines(self, sink, count):
        path = self.paths[sink]

        def enough():
            try:
                events = read_events(path)
            except (FileNotFoundError, AssertionError):
                return None     # rotated, or mid-write: look again
            return events if len(events) >= count else None
        return self.watcher.wait_for(enough, 30.0, "%d lines in %s"
                                     % (count, path))

    def test_lines_rotation_filter_and_restart(self):
        app = ["1.%02d" % i for i in range(12)]
        other = ["2.%d" % i for i in range(4)]
        self.start()
        FAKE.tags(self.repos["app"], app)
        FAKE.tags(self.repos["other"], other)
        self.wait_lines("all", 16)
        # Re-pointed: an artifact.updated event each.
        FAKE.tags(self.repos["app"], ["1.00", "1.01"])
        self.wait_lines("all", 18)
        self.wait_lines("updates", 2)
        self.watcher.stop()

        # While it is stopped, more tags; then a restart delivers them.
        later = ["3.%d" % i for i in range(10)]
        FAKE.tags(self.repos["app"], later)
        self.start("state loaded")
        self.wait_lines("all", 28)
        self.watcher.stop()
        events = read_events(self.paths["all"])

        ids = [e["id"] for e in events]
        self.assertEqual(len(ids), len(set(ids)), "an event written twice")
        self.assertEqual(len(ids), 28)
        rotated = glob.glob(glob.escape(self.paths["all"]) + ".*")
        self.assertGreaterEqual(len(rotated), 2, "rotated at 4 KiB")
        for name in rotated + [self.paths["all"]]:
            self.assertLessEqual(os.path.getsize(name), 4096, name)
        # In order per source, CloudEvents as stored.
        app_tags = [e["data"]["version"] for e in events
                    if e["data"]["sourceId"] == "app"
                    and e["type"] == "artifact.created"]
        self.assertEqual(app_tags, app + later)
        other_tags = [e["data"]["version"] for e in events
                      if e["data"]["sourceId"] == "other"]
        self.assertEqual(other_tags, other)
        self.assertTrue(all(e["specversion"] == "1.0" for e in events))

        updates = read_events(self.paths["updates"])
        self.assertEqual(sorted(e["data"]["version"] for e in updates),
                         ["1.00", "1.01"])
        self.assertTrue(all(e["type"] == "artifact.updated"
                            for e in updates))
        self.assertEqual([e["id"] for e in updates],
                         [e["id"] for e in events
                          if e["type"] == "artifact.updated"])
        got_other = read_events(self.paths["other"])
        self.assertEqual([e["data"]["version"] for e in got_other], other)


if __name__ == "__main__":
    unittest.main()
