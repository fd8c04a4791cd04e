"""test_crash.py: crash safety, proven (issue 3): SIGKILL at random moments.

The watcher (`artifact-watcher run`, interval 1s) watches one repository of
the fake registry (tests/fakes) while a thread keeps adding tags to it and a
webhook receiver records every delivery.  The watcher is killed with SIGKILL
over and over (KILLS times per store) and started again at once; each kill
lands at one of three kinds of moment, in turn:

  * a random time after the start (anything: loading, polling, idle),
  * just after a poll found new tags and handed them to the store (the
    commit is in flight, or has just landed and not been delivered),
  * just after the receiver got a delivery (the ack is in flight).

After the last restart the pushing stops and the watcher drains.  Then, at
the receiver: every pushed tag's event arrived at least once, no event came
for anything not pushed (the baseline stays silent), and every repeat of an
event carries the same id (CloudEvent id and Idempotency-Key).  The same
test runs with the LMDB store (a directory) and with Redis (appendonly,
appendfsync always), the persistence docs/store.md asks for.
"""

import os
import random
import sys
import threading
import time
import unittest

from harness import (Redis, Watcher, Webhook, Workdir, docker_connector,
                     docker_source, webhook_sink)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "fakes"))
from fakeserver import FakeServer  # noqa: E402

KILLS = int(os.environ.get("AW_CRASH_KILLS") or 50)
HOOK_SECRET = "crash-hook-secret"
ENV = {"AW_CRASH_HOOK_KEY": HOOK_SECRET}
BASELINE_TAGS = ["base-1", "base-2", "base-3"]
PUSH_EVERY = 0.12		# seconds between added tags
RANDOM_KILL_MAX = 1.2		# a random kill comes within this after start
MOMENT_TIMEOUT = 4.0		# waiting for a poll or a delivery to kill at
DRAIN_TIMEOUT = 30.0

WORKDIR = None
FAKE = None


def setUpModule():
    global WORKDIR, FAKE
    WORKDIR = Workdir("aw-crash-")
    FAKE = FakeServer()


def tearDownModule():
    try:
        assert FAKE.stop(), "fake-server did not exit cleanly"
    finally:
        WORKDIR.cleanup()


class Pusher(threading.Thread):
    """Adds tags t1, t2, ... to a repository of the fake until stopped;
    every REPOINT_EVERY-th step re-points an earlier tag instead (a push
    of new content under an old name: an `updated` event)."""

    REPOINT_EVERY = 6

    def __init__(self, repo, seed):
        super().__init__(daemon=True)
        self.repo = repo
        self.random = random.Random(seed)
        self.digests = {}	# tag -> its digest now
        self.repointed = 0
        self.halt = threading.Event()
        self.error = None

    def run(self):
        try:
            step = 0
            while not self.halt.wait(PUSH_EVERY):
                step += 1
                if self.digests and step % self.REPOINT_EVERY == 0:
                    tag = self.random.choice(sorted(self.digests))
                    self.repointed += 1
                else:
                    tag = "t%d" % (len(self.digests) + 1)
                self.digests.update(FAKE.tags(self.repo, [tag]))
        except Exception as error:  # reported by stop()
            self.error = error

    def stop(self):
        """Stop; return {subject: digest now} of every tag pushed."""
        self.halt.set()
        self.join(10)
        if self.error is not None:
            raise AssertionError("pushing tags failed: %r" % self.error)
        return {"%s:%s" % (self.repo, tag): digest
                for tag, digest in self.digests.items()}


class FlakyWebhook(Webhook):
    """A receiver that answers 503 to a share of the deliveries, so kills
    also land while an event waits for its retry."""

    REFUSE = 0.2

    def __init__(self, seed, **kwargs):
        super().__init__(**kwargs)
        self.random = random.Random(seed)

    def receive(self, handler):
        with self.cond:
            self.status = 503 if self.random.random() < self.REFUSE else 200
        super().receive(handler)


class CrashCase:
    """The test, run by one subclass per store (store_block())."""

    name = None

    def store_block(self):
        raise NotImplementedError

    def setUp(self):
        self.repo = "crash/%s" % self.name
        FAKE.repo(name=self.repo, tags=BASELINE_TAGS)
        self.random = random.Random(os.environ.get("AW_CRASH_SEED"))
        self.hook = FlakyWebhook(self.random.random(), secret=HOOK_SECRET)
        self.hook.start()
        # A kill resets the watcher's connection; that is expected here.
        self.hook.server.handle_error = lambda request, address: None
        self.addCleanup(self.hook.stop)
        config = {
            "store": self.store_block(),
            "secrets": {"hook_key": "env:AW_CRASH_HOOK_KEY"},
            "connectors": [docker_connector("fake", FAKE.base)],
            "sources": [docker_source("app", "fake", self.repo,
                                      interval="1s")],
            "sinks": [webhook_sink("hook", self.hook)],
        }
        self.watcher = Watcher(WORKDIR, config, env=ENV)
        self.addCleanup(self.watcher.kill)
        self.moments = {"random": 0, "commit": 0, "delivery": 0,
                        "missed": 0}

    def kill_at_a_moment(self, k):
        """Start the watcher, kill it at the k-th kind of moment."""
        self.watcher.start()
        kind = ("random", "commit", "delivery")[k % 3]
        try:
            if kind == "random":
                time.sleep(self.random.uniform(0.0, RANDOM_KILL_MAX))
            elif kind == "commit":
                self.watcher.wait_log(r"msg=\"poll listed\".* "
                                      r"events=[1-9]",
                                      timeout=MOMENT_TIMEOUT)
            else:
                seen = len(self.hook.deliveries)
                self.hook.wait_for(
                    lambda: len(self.hook.deliveries) > seen,
                    MOMENT_TIMEOUT, "a delivery")
            self.moments[kind] += 1
        except AssertionError:
            # The moment did not come (or the watcher died, which the
            # drain below would show): kill anyway.
            self.moments["missed"] += 1
        self.watcher.kill()

    def test_sigkill_while_committing_and_delivering(self):
        started = time.monotonic()
        self.watcher.start()
        self.watcher.wait_log(r"msg=\"poll committed\"", timeout=20)
        self.watcher.kill()
        pusher = Pusher(self.repo, self.random.random())
        pusher.start()
        try:
            for k in range(KILLS):
                self.kill_at_a_moment(k)
        finally:
            pushed = pusher.stop()
        self.watcher.start()
        try:
            self.hook.wait_for(lambda: self.arrived(pushed), DRAIN_TIMEOUT,
                               "every pushed tag's event at its last digest")
        except AssertionError as error:
            print("%s; what is missing follows" % error, flush=True)
        self.watcher.stop()
        ids = self.check_deliveries(pushed)
        deliveries = self.hook.accepted()
        refused = len(self.hook.deliveries) - len(deliveries)
        print("%s: %d kills (%s), %d tags pushed, %d re-pointed, %d events, "
              "%d deliveries accepted, %d refused, %.1fs" % (
                  self.name, KILLS, ", ".join(
                      "%s %d" % kv for kv in sorted(self.moments.items())),
                  len(pushed), pusher.repointed, len(ids), len(deliveries),
                  refused, time.monotonic() - started), flush=True)

    def arrived(self, pushed):
        """Every pushed tag's event at its last digest was accepted
        (called with the receiver's lock held)."""
        got = {(d["event"].get("subject"),
                d["event"].get("data", {}).get("digest"))
               for d in self.hook.deliveries
               if d["answered"] < 300 and isinstance(d["event"], dict)}
        return all(item in got for item in pushed.items())

    def check_deliveries(self, pushed):
        """Assert what the receiver holds; return {(subject, digest): ids}."""
        ids = {}
        for delivery in self.hook.accepted():
            event = delivery["event"]
            self.assertIsInstance(event, dict, delivery["body"])
            self.assertTrue(delivery["signature_ok"], "bad signature")
            subject = event.get("subject")
            self.assertIn(subject, pushed,
                          "an event nobody pushed (baseline not silent?)")
            self.assertIn(event.get("type"),
                          ("artifact.created", "artifact.updated"))
            self.assertEqual(delivery["headers"].get("idempotency-key"),
                             event["id"])
            key = (subject, event["data"]["digest"])
            ids.setdefault(key, set()).add(event["id"])
        missing = sorted(item for item in pushed.items() if item not in ids)
        self.assertEqual(missing, [], "events never delivered")
        for key, seen in ids.items():
            self.assertEqual(len(seen), 1, "%s came with different ids: %s"
                             % (key, sorted(seen)))
        all_ids = [next(iter(seen)) for seen in ids.values()]
        self.assertEqual(len(set(all_ids)), len(all_ids),
                         "two events share an id")
        return ids


class LmdbCrashTest(CrashCase, unittest.TestCase):
    name = "lmdb"

    def store_block(self):
        return {"type": "lmdb", "path": WORKDIR.sub("state-lmdb")}


class RedisCrashTest(CrashCase, unittest.TestCase):
    name = "redis"

    @classmethod
    def setUpClass(cls):
        cls.redis = Redis(WORKDIR)
        cls.redis.start()

    @classmethod
    def tearDownClass(cls):
        cls.redis.stop()

    def store_block(self):
        return {"type": "redis", "url": self.redis.url, "prefix": "crash"}


if __name__ == "__main__":
    unittest.main()
