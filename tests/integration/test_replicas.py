"""test_replicas.py: several replicas on one Redis store (issue 3, DESIGN §5
leases): three `artifact-watcher run` with the same config share one Redis,
watch one repository of the fake registry (tests/fakes) and deliver to one
webhook receiver.

  * One replica at a time polls: the listings the fake sees come about one
    per interval, not three, and every new tag is delivered exactly once.
  * kill -9 of the replica holding the source's lease: the replicas run on
    one machine, so another one sees that the holder's process is gone and
    takes over at its next attempt (a third of the TTL); nothing pushed
    meanwhile is lost, nothing known is emitted again.
  * SIGSTOP of the holder (a stalled replica, alive but silent): another
    takes over once the lease's TTL has run out (30 s for a 1 s interval,
    docs/store.md); continued, the old holder finds its lease gone and does
    not poll again.
  * SIGTERM of the holder gives the lease up (its key is gone from Redis
    when the process has exited) and another replica polls well before the
    TTL would have run out.

Each test has its own repository and key prefix; the fake and Redis are
started once for the suite.
"""

import os
import signal
import sys
import time
import unittest

import suite
from harness import (Redis, Watcher, Workdir, docker_connector,
                     docker_source, logfmt, webhook_sink)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "fakes"))
from fakeserver import FakeServer  # noqa: E402

HOOK_SECRET = "replicas-hook-secret"
ENV = {"AW_REPLICAS_HOOK_KEY": HOOK_SECRET}
REPLICAS = 3
INTERVAL = 1.0			# seconds, the sources' interval
LEASE_TTL = 30.0		# docs/store.md: 3 intervals, at least 30 s
RETRY = LEASE_TTL / 3		# replicas without the lease ask this often

WORKDIR = None
FAKE = None
REDIS = None


def setUpModule():
    global WORKDIR, FAKE, REDIS
    WORKDIR = Workdir("aw-replicas-")
    FAKE = FakeServer()
    REDIS = Redis(WORKDIR)
    REDIS.start()


def tearDownModule():
    try:
        REDIS.stop()
        assert FAKE.stop(), "fake-server did not exit cleanly"
    finally:
        WORKDIR.cleanup()


class Replicas(suite.WatcherCase):
    HOOK_SECRET = HOOK_SECRET
    ENV = ENV

    def setUp(self):
        super().setUp()
        name = self.id().rsplit(".", 1)[-1]
        self.prefix = name
        self.repo = "replicas/" + name
        self.listing = "/v2/%s/tags/list" % self.repo
        FAKE.repo(name=self.repo, tags=["base-1", "base-2"])
        # A kill resets the watcher's connection; that is expected here.
        self.hook.server.handle_error = lambda request, address: None
        config = {
            "store": {"type": "redis", "url": REDIS.url, "prefix": name},
            "secrets": {"hook_key": "env:AW_REPLICAS_HOOK_KEY"},
            "connectors": [docker_connector("fake", FAKE.base)],
            "sources": [docker_source("app", "fake", self.repo,
                                      interval="%ds" % INTERVAL)],
            "sinks": [webhook_sink("hook", self.hook)],
        }
        self.watchers = []
        for _ in range(REPLICAS):
            watcher = Watcher(WORKDIR, config, env=self.env())
            self.addCleanup(watcher.kill)
            self.watchers.append(watcher.start())
        self.pushed = set()

    def push(self, *tags):
        FAKE.tags(self.repo, list(tags))
        self.pushed.update("%s:%s" % (self.repo, tag) for tag in tags)

    def holders(self, lease):
        """The running replicas whose last word on lease is "taken"."""
        found = []
        for watcher in self.watchers:
            if not watcher.running():
                continue
            last = None
            for line in watcher.matching(r"lease=\"?%s\b" % lease):
                msg = logfmt(line).get("msg", "")
                if msg == "lease taken":
                    last = "taken"
                elif msg.startswith("lease lost"):
                    last = "lost"
            if last == "taken":
                found.append(watcher)
        return found

    def wait_holder(self, lease, timeout, other_than=None):
        """Wait until exactly one running replica says it holds lease,
        other_than (which may not know yet that it lost it) left aside;
        return it."""
        def one():
            held = [w for w in self.holders(lease) if w is not other_than]
            return held[0] if len(held) == 1 else None
        return self.watchers[0].wait_for(one, timeout,
                                         "one replica holding %s" % lease)

    def wait_baseline(self):
        """Wait for the silent baseline (by the lease's holder); return
        the holder."""
        holder = self.wait_holder("source:app", 20)
        holder.wait_log(r"msg=\"poll committed\"", timeout=20)
        return holder

    def listings_since(self, seq):
        return [r for r in FAKE.requests(since=seq, path_prefix=self.listing)
                if r["path"] == self.listing]

    def last_seq(self):
        return FAKE.control("GET", "requests?path_prefix=/_none/")["last"]

    def wait_delivered(self, timeout):
        """Every pushed tag's event accepted; returns the ids per subject."""
        def arrived():
            got = self.hook.held_subjects(True)
            return self.pushed <= got
        self.hook.wait_for(arrived, timeout,
                           "events for %s" % sorted(self.pushed))
        ids = {}
        for delivery in self.hook.accepted():
            event = delivery["event"]
            self.assertIsInstance(event, dict, delivery["body"])
            self.assertTrue(delivery["signature_ok"], "bad signature")
            self.assertIn(event.get("subject"), self.pushed,
                          "an event for a tag known before (baseline "
                          "emitted again by a replica taking over?)")
            ids.setdefault(event["subject"], []).append(event["id"])
        return ids

    def test_one_replica_polls_and_delivers(self):
        self.wait_baseline()
        self.wait_holder("sink:hook", 20)
        # Three replicas polling on their own would list about three
        # times a second; one holder lists about once (1 s +-10 %).  The
        # fake's own clock times the listings; a slow machine only makes
        # the gaps longer.
        mark = self.last_seq()
        self.watchers[0].wait_for(lambda: len(self.listings_since(mark)) >= 7,
                                  30, "7 listings")
        seen = self.listings_since(mark)
        gaps = [(b["ms"] - a["ms"]) / 1000.0 for a, b in zip(seen, seen[1:])]
        mean = sum(gaps) / len(gaps)
        self.assertGreater(mean, 0.8 * INTERVAL,
                           "listings come %.2fs apart on average: more than "
                           "one replica polls (gaps %s)" % (mean, gaps))
        self.assertEqual(len(self.holders("source:app")), 1)

        self.push("v1", "v2")
        self.push("v3")
        ids = self.wait_delivered(30)
        # One dispatcher: nothing delivered twice.
        for subject, seen_ids in ids.items():
            self.assertEqual(len(seen_ids), 1, "%s delivered %d times"
                             % (subject, len(seen_ids)))
        for watcher in self.watchers:
            watcher.stop()

    def test_kill_holder_another_takes_over(self):
        holder = self.wait_baseline()
        self.wait_holder("sink:hook", 20)
        self.push("v1")
        self.wait_delivered(30)

        holder.kill()
        killed = time.monotonic()
        self.push("v2", "v3")
        successor = self.wait_holder("source:app", LEASE_TTL + RETRY,
                                     other_than=holder)
        took = time.monotonic() - killed
        self.assertLess(took, RETRY + 3, "takeover took %.1fs" % took)
        successor.wait_log(r"msg=\"lease held by a process of this machine "
                           r"that is gone: taking it over\" "
                           r"lease=\"?source:app", timeout=1)
        # The successor loaded what the holder had recorded first.
        successor.wait_log(r"msg=\"state loaded\".* known=3", timeout=10)
        ids = self.wait_delivered(LEASE_TTL + RETRY + 30)
        for subject, seen_ids in ids.items():
            self.assertEqual(len(set(seen_ids)), 1,
                             "%s came with different ids" % subject)
        # Still one poller after the takeover.
        mark = self.last_seq()
        self.watchers[0].wait_for(lambda: len(self.listings_since(mark)) >= 5,
                                  30, "5 listings")
        seen = self.listings_since(mark)
        mean = (seen[-1]["ms"] - seen[0]["ms"]) / 1000.0 / (len(seen) - 1)
        self.assertGreater(mean, 0.8 * INTERVAL,
                           "more than one replica polls after the takeover")
        for watcher in self.watchers:
            if watcher is not holder:
                watcher.stop()

    def test_stalled_holder_loses_the_lease(self):
        holder = self.wait_baseline()
        self.wait_holder("sink:hook", 20)
        holder.process.send_signal(signal.SIGSTOP)
        self.addCleanup(self.cont, holder)
        stalled = time.monotonic()
        self.push("v1", "v2")
        successor = self.wait_holder("source:app", LEASE_TTL + RETRY + 10,
                                     other_than=holder)
        took = time.monotonic() - stalled
        # Renewed at most ttl/3 before the stop, the lease lasts at least
        # 2/3 of its TTL more: nobody may take it sooner.
        self.assertGreater(took, LEASE_TTL * 2 / 3 - 1,
                           "taken after %.1fs, before the TTL ran out"
                           % took)
        self.assertLess(took, LEASE_TTL + RETRY + 5,
                        "takeover took %.1fs" % took)
        successor.wait_log(r"msg=\"state loaded\".* known=2", timeout=10)
        ids = self.wait_delivered(LEASE_TTL + RETRY + 30)
        for subject, seen_ids in ids.items():
            self.assertEqual(len(set(seen_ids)), 1,
                             "%s came with different ids" % subject)

        # Continued, the old holder learns it lost the lease and stays
        # quiet: still about one listing per interval.
        self.cont(holder)
        holder.wait_log(r"msg=\"lease lost: this replica stops working on "
                        r"it\" lease=\"?source:app", timeout=RETRY + 5)
        mark = self.last_seq()
        self.watchers[0].wait_for(lambda: len(self.listings_since(mark)) >= 5,
                                  30, "5 listings")
        seen = self.listings_since(mark)
        mean = (seen[-1]["ms"] - seen[0]["ms"]) / 1000.0 / (len(seen) - 1)
        self.assertGreater(mean, 0.8 * INTERVAL,
                           "the stalled replica polls again after SIGCONT")
        self.assertEqual(self.holders("source:app"), [successor])
        for watcher in self.watchers:
            watcher.stop()

    @staticmethod
    def cont(watcher):
        if watcher.running():
            watcher.process.send_signal(signal.SIGCONT)

    def test_sigterm_releases_the_lease(self):
        holder = self.wait_baseline()
        owner = logfmt(holder.matching(r"msg=\"replica owner id\"")[0])
        holder.stop()
        stopped = time.monotonic()
        # Given up on the way out: gone from Redis, or already another's.
        value = REDIS.cli("GET", "%s:lease:source:app" % self.prefix)
        self.assertFalse(value.startswith(owner["owner"] + " "),
                         "the stopped replica still holds the lease")
        self.wait_holder("source:app", LEASE_TTL, other_than=holder)
        took = time.monotonic() - stopped
        self.assertLess(took, RETRY + 3,
                        "took %.1fs: the lease was not released" % took)
        self.push("v1")
        self.wait_delivered(LEASE_TTL + RETRY + 10)
        for watcher in self.watchers:
            if watcher is not holder:
                watcher.stop()


if __name__ == "__main__":
    unittest.main()
