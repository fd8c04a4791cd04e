"""test_politeness.py: the fault matrix of issue 5 (docs/politeness.md).

One fake registry (tests/fakes, started once for the suite) and one watcher
(`run`, 1 s intervals, LMDB, a webhook sink).  Every fault the fake knows is
put on its own source behind its own connector, all at the same time, beside
a healthy source on another connector and three sources on a connector
limited to 2 requests per second.  What is asserted comes from the
timestamps of the requests the fake saw and from the webhook receiver:

- the watcher never dies;
- a faulty source backs off as specified: Retry-After is honoured (seconds
  and HTTP-date), persistent errors space their polls out exponentially,
  a one-off 429 is retried inside the same poll after its pause;
- the healthy source keeps its 1 s schedule throughout;
- every tag pushed during the faults arrives exactly once when they clear,
  and nothing else: nothing is recorded as seen without its event;
- the throttled connector stays under its rate, counted at the fake;
- an unchanged listing is asked with If-None-Match and answered 304.
"""

import calendar
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fakes"))

from fakeserver import FakeServer  # noqa: E402
from harness import (Watcher, Webhook, Workdir, docker_source,  # noqa: E402
                     logfmt, webhook_sink)

HOOK_SECRET = "politeness-hook-secret"
# A fixed seed makes every jittered backoff predictable (random_keyed).
SEED = 20261204
ENV = {"AW_POL_HOOK_KEY": HOOK_SECRET, "AW_RANDOM_SEED": str(SEED)}
PACED_RPS = 2

# name -> fault rule on /v2/<name>/ (count -1: until cleared).
FAULTS = {
    "f429s": {"fault": "429", "retry_after": "3"},
    "f429date": {"fault": "429", "retry_after_date_in": 3},
    "f429once": {"fault": "429", "retry_after": "2", "count": 1},
    "f503": {"fault": "503", "retry_after": "2"},
    "f500": {"fault": "500"},
    "fslowhead": {"fault": "slow_headers", "delay_ms": 1500},
    "fslowbody": {"fault": "slow_body", "drip_bytes": 8, "drip_ms": 100},
    "ftrunc": {"fault": "truncate"},
    "fhuge": {"fault": "huge", "size": 50 * 1024 * 1024},
    "fgarbage": {"fault": "garbage"},
}
# Faults after which every poll fails: their polls must back off.
FAILING = ["f500", "ftrunc", "fhuge", "fgarbage"]


def connector(identifier, url, **extra):
    block = {"identifier": identifier, "type": "DockerRegistry",
             "spec": {"dockerRegistryUrl": url, "providerType": "Other",
                      "auth": {"type": "Anonymous"}}}
    block.update(extra)
    return {"connector": block}


def list_times(requests, repo):
    """Wall-clock seconds of the tag listings of repo, in order."""
    path = "/v2/%s/app/tags/list" % repo
    return [r["ms"] / 1000.0 for r in requests if r["path"] == path]


def gaps(times):
    return [b - a for a, b in zip(times, times[1:])]


def random_keyed(seed, key, n):
    """watcher/backoff.c random_keyed(): splitmix64 of seed, FNV-1a(key), n."""
    mask = (1 << 64) - 1
    h = 14695981039346656037
    for c in key.encode():
        h = ((h ^ c) * 1099511628211) & mask
    z = seed ^ h ^ ((n * 0x9e3779b97f4a7c15) & mask)
    z = (z + 0x9e3779b97f4a7c15) & mask
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & mask
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & mask
    z ^= z >> 31
    return z >> 32


def poll_backoff_ms(source, failures, interval_ms=1000):
    """The full-jitter delay source.c picks after `failures` failures."""
    bound = min(interval_ms * 2 ** failures, 30 * 60 * 1000)
    return max(1000, random_keyed(SEED, source, failures) % (bound + 1))


def log_seconds(line):
    """The ts= of a log line as unix seconds (with milliseconds)."""
    ts = logfmt(line)["ts"]
    whole, frac = ts.rstrip("Z").split(".")
    return (calendar.timegm(time.strptime(whole, "%Y-%m-%dT%H:%M:%S"))
            + int(frac) / 1000.0)


class Politeness(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.workdir = Workdir("aw-pol-")
        cls.fake = FakeServer()
        cls.hook = Webhook(secret=HOOK_SECRET)
        cls.hook.start()

    @classmethod
    def tearDownClass(cls):
        cls.hook.stop()
        ok = cls.fake.stop()
        cls.workdir.cleanup()
        assert ok, "the fake did not exit cleanly"

    def config(self):
        url = self.fake.base + "/v2/"
        connectors = [connector("healthy", url),
                      connector("paced", url,
                                rateLimit={"requestsPerSecond": PACED_RPS,
                                           "burst": 1},
                                maxConcurrency=1)]
        sources = [docker_source("good", "healthy", "good/app")]
        for name in FAULTS:
            connectors.append(connector("c-" + name, url, maxRetryWait="10s"))
            sources.append(docker_source(name, "c-" + name, name + "/app"))
        for name in ("pa", "pb", "pc"):
            sources.append(docker_source(name, "paced", "paced/" + name,
                                         interval="1s"))
        return {
            "store": {"type": "lmdb",
                      "path": os.path.join(self.workdir.path, "state")},
            "secrets": {"hook_key": "env:AW_POL_HOOK_KEY"},
            "connectors": connectors,
            "sources": sources,
            "sinks": [webhook_sink("hook", self.hook)],
        }

    def repos(self):
        return ["good"] + list(FAULTS)

    def wait_polls(self, watcher, repo, count, since, timeout=30.0):
        """Wait until the fake saw count more listings of repo."""
        def enough():
            got = list_times(self.fake.requests(since=since,
                                                path_prefix="/v2/" + repo),
                             repo)
            return got if len(got) >= count else None
        return watcher.wait_for(enough, timeout,
                                "%d listings of %s" % (count, repo))

    def test_fault_matrix(self):
        for repo in self.repos():
            self.fake.repo(name=repo + "/app", tags=["1.0", "1.1"])
        for name in ("pa", "pb", "pc"):
            self.fake.repo(name="paced/" + name, tags=["1.0"])
        before = len(self.hook.accepted())
        watcher = Watcher(self.workdir, self.config(), env=ENV)
        watcher.start()
        self.addCleanup(watcher.kill)
        for repo in self.repos():
            watcher.wait_log(r'msg="poll committed" source=%s ' % repo,
                             timeout=20)

        mark = self.fake.requests()[-1]["seq"]
        for name, rule in FAULTS.items():
            self.fake.fault(path_prefix="/v2/%s/" % name, **rule)
        pushed = {}
        for repo in self.repos():
            self.fake.tags(repo + "/app", ["2.0"])
            pushed[repo] = "%s/app:2.0" % repo
        # The healthy source sees its tag while the others fail.
        self.hook.wait_subjects([pushed["good"]], timeout=10)
        good = self.wait_polls(watcher, "good", 10, mark)
        fault_end = good[-1]
        self.fake.clear_faults()
        self.assertTrue(watcher.running(), "watcher died under faults")

        # Every source recovers and emits its one new tag, once.
        self.hook.wait_subjects(pushed.values(), timeout=40)
        seen = self.fake.requests(since=mark)
        watcher.stop()
        subjects = [d["event"]["subject"]
                    for d in self.hook.accepted()[before:]]
        self.assertEqual(sorted(subjects), sorted(pushed.values()),
                         "one event per pushed tag, nothing else")

        during = [r for r in seen if r["ms"] / 1000.0 <= fault_end]
        # The healthy source kept its schedule: 1 s +-10 % plus the poll.
        good_gaps = gaps(list_times(during, "good"))
        self.assertLess(max(good_gaps), 2.0, good_gaps)

        # Retry-After (seconds, date, 503): no request before it is over.
        for name, status, least in (("f429s", 429, 2.9),
                                    ("f429date", 429, 1.9),
                                    ("f503", 503, 1.9)):
            times = list_times([r for r in during if r["status"] == status],
                               name)
            self.assertGreaterEqual(len(times), 3, name)
            self.assertGreaterEqual(min(gaps(times)), least,
                                    "%s: %s" % (name, gaps(times)))

        # A short 429 is waited out inside the poll: no failed poll.
        once = [r for r in seen
                if r["path"] == "/v2/f429once/app/tags/list"]
        first = [i for i, r in enumerate(once) if r["status"] == 429]
        self.assertEqual(len(first), 1, once)
        retry = once[first[0]:first[0] + 2]
        self.assertEqual(retry[1]["status"], 200, once)
        self.assertGreaterEqual((retry[1]["ms"] - retry[0]["ms"]) / 1000.0,
                                1.9, retry)
        self.assertEqual(watcher.matching(
            r'msg="poll failed" source=f429once '), [])

        # Persistent failures: polls spread out (up to 2 s, then 4 s ...),
        # each retried at most twice inside the poll.
        for name in FAILING:
            times = list_times(during, name)
            failed = watcher.matching(r'msg="poll failed" source=%s ' % name)
            self.assertGreaterEqual(len(failed), 2, name)
            self.assertLessEqual(len(times), 3 * len(failed) + 3,
                                 "%s: %d requests for %d polls"
                                 % (name, len(times), len(failed)))
            backoff = watcher.matching(r'msg="poll backoff" source=%s ' %
                                       name)
            # Full jitter: the k-th failure waits uniformly up to
            # interval * 2^k (at least 1 s).  The seed fixes each draw, so
            # every delay is the predicted one, and the next listing of the
            # source came no sooner than that delay after the backoff.
            steps = [(int(logfmt(line)["failures"]),
                      int(logfmt(line)["next_ms"])) for line in backoff]
            self.assertEqual(steps, [(f, poll_backoff_ms(name, f))
                                     for f, _ in steps], name)
            self.assertGreaterEqual(max(f for f, _ in steps), 2,
                                    (name, steps))
            every = list_times(seen, name)
            for line, (_, delay) in zip(backoff, steps):
                at = log_seconds(line)
                later = [t for t in every if t > at]
                if later:
                    self.assertGreaterEqual(later[0] - at,
                                            delay / 1000.0 - 0.05,
                                            (name, at, delay, later[0]))

        # Slow answers only make the poll slow; they are not failures.
        for name in ("fslowhead", "fslowbody"):
            self.assertEqual(watcher.matching(
                r'msg="poll failed" source=%s ' % name), [], name)

        # The paced connector (2 rps, one at a time) stays under its rate.
        paced = sorted(r["ms"] / 1000.0 for r in seen
                       if r["path"].startswith("/v2/paced/"))
        self.assertGreater(len(paced), 5)
        span = paced[-1] - paced[0]
        self.assertLessEqual(len(paced), PACED_RPS * span + 2,
                             "%d requests in %.1fs" % (len(paced), span))
        # Any 5 in a row span 4 token intervals (less transit jitter).
        for a, b in zip(paced, paced[4:]):
            self.assertGreaterEqual(b - a, 4.0 / PACED_RPS - 0.3,
                                    "5 requests closer than the rate")

        # Pauses and slowdowns are in the log, with their connector.
        self.assertTrue(watcher.matching(
            r'msg="connector paused" connector=c-f429s status=429'))
        self.assertTrue(watcher.matching(
            r'msg="connector resumed" connector=c-f429date'))

        # Unchanged listings were conditional and got 304.
        conditional = [r for r in seen if r["path"] == "/v2/good/app/tags/list"
                       and r.get("if_none_match")]
        self.assertTrue(conditional, "no If-None-Match sent")
        self.assertTrue([r for r in conditional if r["status"] == 304])

    def small_config(self, name, repos, **connector_extra):
        url = self.fake.base + "/v2/"
        return {
            "store": {"type": "lmdb",
                      "path": os.path.join(self.workdir.path, name)},
            "secrets": {"hook_key": "env:AW_POL_HOOK_KEY"},
            "connectors": [connector("c-" + repo, url, **connector_extra)
                           for repo in repos],
            "sources": [docker_source(repo, "c-" + repo, repo + "/app")
                        for repo in repos],
            "sinks": [webhook_sink("hook", self.hook)],
        }

    def test_expired_tokens(self):
        self.addCleanup(self.fake.reset)
        repos = ["tka", "tkb"]
        for repo in repos:
            self.fake.repo(name=repo + "/app", tags=["1.0"])
        self.fake.config(auth=True)
        self.fake.fault(fault="expired_token", uses=2)
        before = len(self.hook.accepted())
        watcher = Watcher(self.workdir, self.small_config("tokens", repos),
                          env=ENV)
        watcher.start()
        self.addCleanup(watcher.kill)
        for repo in repos:
            watcher.wait_log(r'msg="poll committed" source=%s ' % repo,
                             timeout=20)
        for repo in repos:
            self.fake.tags(repo + "/app", ["2.0"])
        self.hook.wait_subjects(["%s/app:2.0" % r for r in repos],
                                timeout=20)
        self.assertTrue(watcher.running())
        watcher.stop()
        subjects = [d["event"]["subject"]
                    for d in self.hook.accepted()[before:]]
        self.assertEqual(sorted(subjects),
                         ["%s/app:2.0" % r for r in repos])
        dead = [r for r in self.fake.requests(path_prefix="/v2/tk")
                if r["status"] == 401 and r["auth"] == "Bearer"]
        self.assertTrue(dead, "no token expired: the fault did not bite")

    def test_once_honours_max_retry_wait(self):
        self.addCleanup(self.fake.reset)
        self.fake.repo(name="oshort/app", tags=["1.0"])
        self.fake.repo(name="olong/app", tags=["1.0"])
        watcher = Watcher(self.workdir, self.small_config(
            "once", ["oshort", "olong"], maxRetryWait="5s"), env=ENV)
        path = watcher.write_config()
        first = watcher.run_cli("once", "-c", path)
        self.assertEqual(first.returncode, 0, first.stderr)

        # 2 s is within maxRetryWait: waited out, the poll succeeds.
        self.fake.fault(path_prefix="/v2/oshort/", fault="429",
                        retry_after="2", count=1)
        short = watcher.run_cli("once", "-c", path, "--source", "oshort")
        self.assertEqual(short.returncode, 0, short.stderr)
        log = [r for r in self.fake.requests(path_prefix="/v2/oshort/")
               if r["path"].endswith("/tags/list")]
        self.assertEqual([r["status"] for r in log[-2:]], [429, 200])
        self.assertGreaterEqual(log[-1]["ms"] - log[-2]["ms"], 1900)

        # 10 minutes is not: the poll ends at once, as a failure.
        self.fake.fault(path_prefix="/v2/olong/", fault="429",
                        retry_after="600")
        long = watcher.run_cli("once", "-c", path, "--source", "olong",
                               timeout=30)
        self.assertEqual(long.returncode, 1, long.stderr)
        self.assertIn("retry_after_s=600", long.stderr)

    def test_repointed_tag_found_behind_304(self):
        self.addCleanup(self.fake.reset)
        self.fake.repo(name="rp/app", tags=["1.0", "latest"])
        config = self.small_config("repoint", ["rp"])
        config["sources"][0].update(digestCheckInterval="1s",
                                    digestChecksPerPoll=5)
        before = len(self.hook.accepted())
        watcher = Watcher(self.workdir, config, env=ENV)
        watcher.start()
        self.addCleanup(watcher.kill)
        # Both tags are mutable ("1.0" is not a full version): the
        # baseline records their digests; later checks run behind
        # unchanged listings.
        watcher.wait_log(r'msg="poll committed" source=rp .*recorded=2',
                         timeout=20)
        mark = self.fake.requests()[-1]["seq"]
        self.fake.tags("rp/app", ["latest"])
        self.hook.wait_subjects(["rp/app:latest"], timeout=20)
        seen = self.fake.requests(since=mark, path_prefix="/v2/rp/")
        watcher.stop()
        [delivery] = self.hook.accepted()[before:]
        self.assertEqual(delivery["event"]["type"], "artifact.updated")
        lists = [r for r in seen if r["path"] == "/v2/rp/app/tags/list"]
        self.assertTrue(lists and all(r["status"] == 304 for r in lists),
                        "the listing never changed: %s" % lists)

    def test_low_budget_slows_the_connector(self):
        self.addCleanup(self.fake.reset)
        self.fake.repo(name="sl/app", tags=["1.0", "latest"])
        # 10 of 100 left in a 10 s window: one request a second at most,
        # where the source alone asks for three (list + 2 HEADs) a second.
        self.fake.config(ratelimit={"limit": 100, "window": 10,
                                    "remaining": 10})
        config = self.small_config("slow", ["sl"])
        config["sources"][0].update(digestCheckInterval="1s",
                                    digestChecksPerPoll=5)
        watcher = Watcher(self.workdir, config, env=ENV)
        watcher.start()
        self.addCleanup(watcher.kill)
        watcher.wait_log(r'msg="connector slowed: rate budget runs low" '
                         r'connector=c-sl remaining=10 limit=100 '
                         r'window_s=10', timeout=20)

        def enough():
            log = self.fake.requests(path_prefix="/v2/sl/")
            heads = [i for i, r in enumerate(log) if r["method"] == "HEAD"]
            # From the third request after the first budget answer on.
            return log[heads[0] + 3:] if heads and \
                len(log) >= heads[0] + 9 else None
        later = watcher.wait_for(enough, 20, "6 slowed requests")
        watcher.stop()
        spacing = gaps([r["ms"] / 1000.0 for r in later])
        self.assertGreaterEqual(min(spacing), 0.85, spacing)

    def test_docker_hub_lists_newest_first(self):
        self.addCleanup(self.fake.reset)
        self.fake.control("POST", "dockerhub/repos", {
            "name": "library/hubapp",
            "tags": ["1.0", "1.1", "1.2", "1.3", "1.4"]})
        url = self.fake.base
        config = {
            "store": {"type": "lmdb",
                      "path": os.path.join(self.workdir.path, "hub")},
            "secrets": {"hook_key": "env:AW_POL_HOOK_KEY"},
            "connectors": [{"connector": {
                "identifier": "hub", "type": "DockerRegistry",
                "spec": {"dockerRegistryUrl": url + "/v2/",
                         "providerType": "DockerHub", "hubApiUrl": url,
                         "auth": {"type": "Anonymous"}}}}],
            "sources": [docker_source("hubapp", "hub", "hubapp",
                                      maxTags=3)],
            "sinks": [webhook_sink("hook", self.hook)],
        }
        watcher = Watcher(self.workdir, config, env=ENV)
        path = watcher.write_config()
        listed = watcher.run_cli("versions", "hubapp", "--json", "-c", path)
        self.assertEqual(listed.returncode, 0, listed.stderr)
        out = json.loads(listed.stdout)
        self.assertEqual([v["name"] for v in out["versions"]],
                         ["1.4", "1.3", "1.2"], "the cap keeps the newest")
        self.assertTrue(out["truncated"])
        self.assertTrue(all(v["digest"].startswith("sha256:") and
                            v["pushedAt"] for v in out["versions"]))
        [conn] = out["connectors"]
        self.assertEqual(conn["connector"], "hub")
        self.assertGreaterEqual(conn["requests"], 1)
        for key in ("throttled", "retries", "pausedMs"):
            self.assertEqual(conn[key], 0, key)

        before = len(self.hook.accepted())
        first = watcher.run_cli("once", "-c", path)
        self.assertEqual(first.returncode, 0, first.stderr)
        self.fake.control("POST", "dockerhub/tags",
                          {"repo": "library/hubapp", "tags": ["1.5"]})
        second = watcher.run_cli("once", "-c", path)
        self.assertEqual(second.returncode, 0, second.stderr)
        [delivery] = self.hook.accepted()[before:]
        data = delivery["event"]["data"]
        self.assertEqual(data["version"], "1.5")
        self.assertTrue(data["digest"].startswith("sha256:"), data)
        seen = self.fake.requests()
        hub = [r for r in seen if r["path"].startswith("/v2/namespaces/")]
        self.assertTrue(hub and all("ordering=last_updated" in r["query"]
                                    for r in hub))
        self.assertEqual([r for r in seen
                          if r["path"].startswith("/v2/library/")], [],
                         "the Hub API's digests need no registry request")


if __name__ == "__main__":
    unittest.main()
