"""test_history.py: `history` and `replay` beside a running watcher.

Both stores (LMDB in a directory, Redis).  One watcher runs on the fake
registry (tests/fakes) with two sources and three webhook sinks: "good"
answers 200 (delivered), "down" answers 503 (stays pending, retried), and
"gone" answers 404 (dead-lettered at once).  While it runs:

  * history lists every event with its source, subject, commit time and
    per-sink state (delivered, pending, dead with the reason), as text and
    as --json; --source and --since (a duration, an RFC 3339 time) narrow it;
  * replay --event and replay --since append the events again, and the
    running watcher's dispatcher delivers them with the same ids.

With LMDB this is the case the writer lock used to refuse: the commands
open the state shared (store_conf.shared).
"""

import calendar
import json
import os
import sys
import time
import unittest

from harness import Redis, Watcher, Webhook, Workdir, docker_connector, \
    docker_source

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "fakes"))
from fakeserver import FakeServer  # noqa: E402

HOOK_SECRET = "history-hook-secret"
ENV = {"AW_HISTORY_HOOK_KEY": HOOK_SECRET}
EXIT_USAGE = 2

WORKDIR = None
FAKE = None


def setUpModule():
    global WORKDIR, FAKE
    WORKDIR = Workdir("aw-history-")
    FAKE = FakeServer()


def tearDownModule():
    try:
        assert FAKE.stop(), "fake-server did not exit cleanly"
    finally:
        WORKDIR.cleanup()


def rfc3339(unix_s):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(unix_s))


def parse_rfc3339(text):
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


class HistoryCase:
    """The tests, run by one subclass per store (store_block())."""

    name = None

    def store_block(self):
        raise NotImplementedError

    def setUp(self):
        where = "hist-%s-%s" % (self.name, self._testMethodName)
        self.repos = {"one": where + "/one", "two": where + "/two"}
        for repo in self.repos.values():
            FAKE.repo(name=repo, tags=["base"])
        self.hooks = {}
        for sink, status in (("good", 200), ("down", 503), ("gone", 404)):
            hook = Webhook(secret=HOOK_SECRET)
            hook.set_status(status)
            hook.start()
            self.addCleanup(hook.stop)
            self.hooks[sink] = hook
        config = {
            "store": self.store_block(),
            "secrets": {"hook_key": "env:AW_HISTORY_HOOK_KEY"},
            "connectors": [docker_connector("fake", FAKE.base)],
            "sources": [docker_source(source, "fake", repo, interval="1s")
                        for source, repo in sorted(self.repos.items())],
            "sinks": [{"identifier": sink, "type": "Webhook",
                       "maxAttempts": 1000,
                       "spec": {"url": hook.url, "secretRef": "hook_key"}}
                      for sink, hook in sorted(self.hooks.items())],
        }
        self.watcher = Watcher(WORKDIR, config, env=ENV)
        self.addCleanup(self.watcher.kill)
        self.watcher.start()
        self.watcher.wait_log(r'msg="poll committed" source=one')
        self.watcher.wait_log(r'msg="poll committed" source=two')

    def push(self, source, *tags):
        """Push tags; wait until good got them and gone refused them (down
        refuses the first and retries it, holding the rest back)."""
        FAKE.tags(self.repos[source], list(tags))
        subjects = ["%s:%s" % (self.repos[source], tag) for tag in tags]
        self.hooks["good"].wait_subjects(subjects)
        self.hooks["gone"].wait_subjects(subjects, accepted=False)
        self.hooks["down"].wait_refused(1)
        return subjects

    def cli(self, *args, code=0):
        result = self.watcher.run_cli(*args)
        self.assertEqual(result.returncode, code,
                         "%s exited %d:\n%s" % (" ".join(args),
                                                result.returncode,
                                                result.stderr))
        return result

    def history(self, *args):
        """history --json as a list of entries."""
        out = self.cli("history", "-c", self.watcher.path, "--json", *args)
        return json.loads(out.stdout)

    def history_settled(self, *args):
        """history --json once good has acked what it accepted: the
        receiver's answer reaches the store a moment after the receiver
        saw the event, so wait for that, not for a time."""
        deadline = time.monotonic() + 15.0
        while True:
            entries = self.history(*args)
            if all(e["sinks"].get("good", {}).get("state") != "pending"
                   for e in entries) or time.monotonic() > deadline:
                return entries
            time.sleep(0.05)

    def good_ids(self):
        return [d["event"]["id"] for d in self.hooks["good"].accepted()]

    def wait_redelivered(self, ids):
        """Wait until good has accepted each id at least twice."""
        hook = self.hooks["good"]

        def twice():
            got = [d["event"]["id"] for d in hook.deliveries
                   if d["answered"] < 300]
            return all(got.count(i) >= 2 for i in ids)
        hook.wait_for(twice, 15.0, "replayed ids %s" % sorted(ids))

    def settled_history(self, count):
        """history --json once it holds count entries and the answers the
        receivers gave are recorded: a receiver counts a delivery before
        it answers, and the watcher writes the ack or the dead letter to
        the store after the answer."""
        def settled():
            entries = self.history()
            done = len(entries) == count and all(
                e["sinks"]["good"]["state"] == "delivered" and
                e["sinks"]["gone"]["state"] == "dead" for e in entries)
            return entries if done else None
        return self.watcher.wait_for(settled, 20.0,
                                     "%d entries delivered to good and "
                                     "dead for gone" % count)

    def test_history_lists_arrivals_and_sink_states(self):
        before = int(time.time())
        subjects = self.push("one", "1.0", "1.1") + self.push("two", "2.0")
        entries = self.settled_history(len(subjects))
        self.assertEqual(sorted(e["event"]["subject"] for e in entries),
                         sorted(subjects))
        ids = {d["event"]["subject"]: d["event"]["id"]
               for d in self.hooks["good"].accepted()}
        for entry in entries:
            subject = entry["event"]["subject"]
            self.assertEqual(entry["id"], ids[subject])
            self.assertEqual(entry["event"]["id"], entry["id"])
            self.assertEqual(entry["source"],
                             "one" if "/one:" in subject else "two")
            when = parse_rfc3339(entry["committedAt"])
            self.assertTrue(before - 1 <= when <= time.time() + 1,
                            entry["committedAt"])
            sinks = entry["sinks"]
            self.assertEqual(sinks["good"], {"state": "delivered"})
            self.assertEqual(sinks["down"]["state"], "pending")
            self.assertEqual(sinks["gone"]["state"], "dead")
            self.assertIn("404", sinks["gone"].get("reason", ""))

        text = self.cli("history", "-c", self.watcher.path).stdout
        lines = text.splitlines()
        self.assertEqual(len(lines), len(subjects), text)
        for subject in subjects:
            line = [ln for ln in lines if subject in ln]
            self.assertEqual(len(line), 1, text)
            self.assertIn(ids[subject], line[0])
            self.assertIn("artifact.created", line[0])
            self.assertIn("good=delivered", line[0])
            self.assertIn("down=pending", line[0])
            self.assertIn("gone=dead", line[0])

    def test_history_source_and_since(self):
        first = self.push("one", "1.0") + self.push("two", "2.0")
        # A whole second after the first commits, so --since TIME (whole
        # seconds) falls between them and the next.
        cut = int(time.time()) + 1
        self.hooks["good"].wait_for(lambda: time.time() >= cut, 5.0,
                                    "the clock to pass %d" % cut)
        second = self.push("one", "1.1")

        def subjects(*args):
            return sorted(e["event"]["subject"] for e in self.history(*args))
        self.assertEqual(subjects("--source", "two"),
                         [s for s in first if "/two:" in s])
        self.assertEqual(subjects("--source", "one"),
                         sorted([first[0]] + second))
        self.assertEqual(subjects("--since", "1h"), sorted(first + second))
        self.assertEqual(subjects("--since", rfc3339(cut)), second)
        self.assertEqual(subjects("--since", rfc3339(cut),
                                  "--source", "two"), [])
        self.assertEqual(subjects("--since", rfc3339(time.time() + 3600)),
                         [])
        self.assertEqual(subjects("--source", "nobody"), [])
        bad = self.cli("history", "-c", self.watcher.path, "--since",
                       "yesterday-ish", code=EXIT_USAGE)
        self.assertIn("--since", bad.stderr)

    def test_replay_event_and_since_deliver_same_ids(self):
        self.push("one", "1.0")
        cut = int(time.time()) + 1
        self.hooks["good"].wait_for(lambda: time.time() >= cut, 5.0,
                                    "the clock to pass %d" % cut)
        self.push("two", "2.0", "2.1")
        by_subject = {d["event"]["subject"]: d["event"]["id"]
                      for d in self.hooks["good"].accepted()}
        first = by_subject["%s:1.0" % self.repos["one"]]

        self.cli("replay", "-c", self.watcher.path, "--sink", "good",
                 "--event", first)
        self.wait_redelivered([first])
        self.assertEqual(self.good_ids().count(first), 2)

        later = [i for s, i in by_subject.items() if "/two:" in s]
        self.cli("replay", "-c", self.watcher.path, "--sink", "good",
                 "--since", rfc3339(cut))
        self.wait_redelivered(later)
        ids = self.good_ids()
        self.assertEqual(ids.count(first), 2, "replay --since sent too much")
        for delivery in self.hooks["good"].accepted():
            self.assertEqual(delivery["headers"].get("idempotency-key"),
                             delivery["event"]["id"])
            self.assertTrue(delivery["signature_ok"])
        # History shows each replay as an entry of its own, routed to good
        # only, under the original id; down still has one pending entry
        # per event, not two.
        entries = self.history_settled()
        originals = [e for e in entries if "down" in e["sinks"]]
        replays = [e for e in entries if "down" not in e["sinks"]]
        self.assertEqual([e["sinks"]["down"]["state"] for e in originals],
                         ["pending"] * 3)
        self.assertEqual(sorted(e["id"] for e in replays),
                         sorted([first] + later))
        arrived = {e["id"]: e["committedAt"] for e in originals}
        for entry in replays:
            self.assertEqual(entry["sinks"], {"good": {"state": "delivered"}})
            self.assertEqual(entry["committedAt"], arrived[entry["id"]],
                             "a replay copy claims a new arrival time")

        bad = self.cli("replay", "-c", self.watcher.path, "--sink",
                       "nosuch", "--event", first, code=EXIT_USAGE)
        self.assertIn("nosuch", bad.stderr)
        self.cli("replay", "-c", self.watcher.path, "--sink", "good",
                 code=EXIT_USAGE)
        self.watcher.stop()


    def test_retention_trims_delivered_keeps_pending(self):
        """With a short retention, a restart trims what every sink it
        went to has done with, and keeps what a sink still waits for.
        (Redis trims its stream from the oldest entry and stops at the
        first one still needed, so the delivered event goes first.)"""
        self.watcher.stop()
        config = dict(self.watcher.config)
        config["store"] = dict(config["store"], retention="1s")
        config["triggers"] = [
            {"identifier": "one-good", "sources": ["one"], "sinks": ["good"]},
            {"identifier": "two-all", "sources": ["two"],
             "sinks": ["good", "down"]}]
        watcher = Watcher(WORKDIR, config, env=ENV)
        self.addCleanup(watcher.kill)
        watcher.start()
        self.push_via(watcher, "one", "r2")
        self.push_via(watcher, "two", "p1")
        watcher.stop()
        time.sleep(1.1)   # the events must be older than the retention
        watcher = Watcher(WORKDIR, config, env=ENV)
        self.addCleanup(watcher.kill)
        watcher.start()

        def subjects():
            out = watcher.run_cli("history", "-c", watcher.path, "--json")
            self.assertEqual(out.returncode, 0, out.stderr)
            return {e["event"]["subject"] for e in json.loads(out.stdout)}
        repo_one, repo_two = self.repos["one"], self.repos["two"]
        watcher.wait_for(lambda: repo_one + ":r2" not in subjects(), 15.0,
                         "the delivered event to be trimmed")
        self.assertIn(repo_two + ":p1", subjects(),
                      "pending at the down sink: kept")
        watcher.stop()

    def push_via(self, watcher, source, tag):
        """Push a tag and wait until the good sink accepted it."""
        FAKE.tags(self.repos[source], [tag])
        self.hooks["good"].wait_subjects(
            ["%s:%s" % (self.repos[source], tag)])


class LmdbHistoryTest(HistoryCase, unittest.TestCase):
    name = "lmdb"

    def store_block(self):
        return {"type": "lmdb",
                "path": os.path.join(WORKDIR.path, "state-%s" % self.id())}

    def test_second_watcher_still_refused(self):
        """Shared opens are for history and replay: a second `run` on the
        same directory is still refused by the writer lock."""
        other = Watcher(WORKDIR, self.watcher.config, env=ENV)
        self.addCleanup(other.kill)
        result = other.run_cli("once", "-c", other.write_config(),
                               timeout=30)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("in use by another artifact-watcher", result.stderr)


class RedisHistoryTest(HistoryCase, unittest.TestCase):
    name = "redis"

    @classmethod
    def setUpClass(cls):
        cls.redis = Redis(WORKDIR)
        cls.redis.start()

    @classmethod
    def tearDownClass(cls):
        cls.redis.stop()

    def store_block(self):
        return {"type": "redis", "url": self.redis.url,
                "prefix": "h-" + self._testMethodName}


if __name__ == "__main__":
    unittest.main()
