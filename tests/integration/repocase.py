"""repocase.py: what the repository-manager suites share (issue 12).

A test case per suite class: a work directory for the class, a signed
webhook per test, watchers killed (log tail shown) when a test fails half
way, a config skeleton with LMDB state, and waits on the watcher's own log
("poll listed/unchanged/failed" ends every poll of a source).
"""

import re
import unittest

from harness import Watcher, Webhook, Workdir, webhook_sink

HOOK_ENV = "AW_REPOS_HOOK_KEY"
POLL_END = r'msg="poll (listed|unchanged|failed)"'


class RepoCase(unittest.TestCase):
    HOOK_SECRET = "aw-repos-hook-secret"
    ENV = {}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.workdir = Workdir("aw-repos-")

    @classmethod
    def tearDownClass(cls):
        cls.workdir.cleanup()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.watchers = []
        self.addCleanup(self.kill_watchers)
        self.hook = Webhook(secret=self.HOOK_SECRET)
        self.hook.start()
        self.addCleanup(self.hook.stop)

    def kill_watchers(self):
        for watcher in self.watchers:
            if watcher.running():
                print("--- log tail of a watcher left running:\n" +
                      watcher.tail(40))
            watcher.kill()

    def config(self, sources, connectors=(), secrets=None, state=None):
        all_secrets = {"hook_key": "env:" + HOOK_ENV}
        all_secrets.update(secrets or {})
        name = state or "state-%s-%d" % (self.id().rsplit(".", 1)[-1],
                                         len(self.watchers))
        return {
            "store": {"type": "lmdb", "path": self.workdir.sub(name)},
            "secrets": all_secrets,
            "connectors": list(connectors),
            "sources": list(sources),
            "sinks": [webhook_sink("hook", self.hook)],
        }

    def start(self, config, env=None):
        all_env = {HOOK_ENV: self.HOOK_SECRET}
        all_env.update(self.ENV)
        all_env.update(env or {})
        watcher = Watcher(self.workdir, config, env=all_env)
        self.watchers.append(watcher)
        return watcher.start()

    @staticmethod
    def polls(watcher, source):
        regex = re.compile(POLL_END + r'.*\bsource=%s( |$)'
                           % re.escape(source))
        return len([line for line in watcher.matching(POLL_END)
                    if regex.search(line)])

    def wait_polls(self, watcher, source, count, timeout=30.0):
        return watcher.wait_log(POLL_END + r'.*\bsource=%s( |$)'
                                % re.escape(source), count, timeout)

    def wait_more_polls(self, watcher, source, more=2, timeout=30.0):
        """Polls of a source never overlap: two more end the current."""
        return self.wait_polls(watcher, source,
                               self.polls(watcher, source) + more, timeout)

    def failures(self, watcher, source):
        return [line for line in watcher.matching(r'msg="poll failed"')
                if re.search(r'\bsource=%s( |$)' % re.escape(source), line)]

    def assert_no_secret_logged(self, watcher, *secrets):
        for line in watcher.logs + watcher.stdout:
            for secret in (self.HOOK_SECRET,) + secrets:
                self.assertNotIn(secret, line)

    def check_connect(self, config, env=None):
        """`check --connect` on config: (exit status, its output)."""
        all_env = {HOOK_ENV: self.HOOK_SECRET}
        all_env.update(self.ENV)
        all_env.update(env or {})
        watcher = Watcher(self.workdir, config, env=all_env)
        out = watcher.run_cli("check", "-c", watcher.write_config(),
                              "--connect")
        return out.returncode, out.stdout + out.stderr

    def events(self, count, timeout=30.0):
        return [d["event"] for d in self.hook.wait_accepted(count, timeout)]


SECRET_ENV = "AW_REPOS_SECRET"
GOOD_SECRET = "repos-good-secret-1357"
BAD_SECRET = "repos-bad-secret-0000"


class RepoCases:
    """The provider cases every fake-backed repository manager runs (the
    conformance cases of issue 8): mixed into a RepoCase with DRIVER set.

    A driver starts its fake, makes targets (a thing a source watches)
    holding versions, adds and re-points versions, writes connector and
    source blocks (auth None, "good" or "bad"), injects faults on one
    target, counts listing requests, and checks an event's kind fields.
    """

    DRIVER = None
    MANY = 0            # versions that make three pages or more

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.driver = cls.DRIVER()
        cls.driver.start()

    @classmethod
    def tearDownClass(cls):
        cls.driver.stop()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.driver.reset()

    def setup_watcher(self, sources, auth=None, secret=GOOD_SECRET,
                      state=None):
        d = self.driver
        connectors = [d.connector("repo", auth)]
        config = self.config(sources, connectors,
                             secrets={"repo_secret": "env:" + SECRET_ENV},
                             state=state)
        return config, {SECRET_ENV: secret}

    def run_sources(self, sources, auth=None, secret=GOOD_SECRET):
        config, env = self.setup_watcher(sources, auth, secret)
        return self.start(config, env=env)

    def test_baseline_then_created(self):
        d = self.driver
        t = d.target("base", ["1.0.0", "1.1.0", "1.2.0"])
        w = self.run_sources([d.source("base", "repo", t)])
        self.wait_polls(w, "base", 2)
        self.assertEqual(self.hook.deliveries, [], "the baseline emitted")
        digest = d.add(t, "1.3.0")
        [event] = self.events(1)
        self.assertEqual(event["type"], "artifact.created")
        data = event["data"]
        self.assertEqual(data["version"], "1.3.0")
        self.assertEqual(data["kind"], d.KIND)
        if digest is not None:
            self.assertEqual(data["digest"], digest)
        d.check(self, data, t, "1.3.0")
        self.wait_more_polls(w, "base")
        self.assertEqual(len(self.hook.deliveries), 1, "event repeated")
        self.assertEqual(self.failures(w, "base"), [])
        w.stop()
        self.assert_no_secret_logged(w, GOOD_SECRET)

    def test_repointed_is_updated(self):
        d = self.driver
        if not d.REPOINT:
            self.skipTest("versions of %s cannot be re-pointed"
                          % d.SOURCE_TYPE)
        t = d.target("moving", ["1.0.0", "latest"])
        old = d.digest(t, "latest")
        w = self.run_sources([d.source("moving", "repo", t,
                                       digestCheckInterval="1s")])
        self.wait_polls(w, "moving", 3)
        new = d.repoint(t, "latest")
        self.assertNotEqual(new, old)
        [event] = self.events(1)
        self.assertEqual(event["type"], "artifact.updated")
        self.assertEqual(event["data"]["version"], "latest")
        self.assertEqual(event["data"]["digest"], new)
        self.assertEqual(event["data"]["previousDigest"], old)
        self.wait_more_polls(w, "moving")
        self.assertEqual(len(self.hook.deliveries), 1, "event repeated")
        w.stop()

    def test_cap_is_flagged(self):
        d = self.driver
        t = d.target("capped", ["1.0.%d" % i for i in range(6)])
        w = self.run_sources([d.source("capped", "repo", t, maxTags=3)])
        w.wait_log(r'msg="listing truncated at maxTags".*source=capped')
        self.wait_polls(w, "capped", 2)
        self.assertEqual(self.hook.deliveries, [])
        w.stop()

    def test_three_pages_or_more(self):
        d = self.driver
        t = d.target("paged", ["2.0.%d" % i for i in range(self.MANY)])
        w = self.run_sources([d.source("paged", "repo", t)])
        self.wait_polls(w, "paged", 2)
        first = d.listings(t)
        self.assertGreaterEqual(first, 3 if d.PAGES else 1)
        self.assertEqual(self.hook.deliveries, [])
        d.add(t, "3.0.0")
        [event] = self.events(1)
        self.assertEqual(event["data"]["version"], "3.0.0")
        w.stop()

    def test_auth(self):
        d = self.driver
        t = d.target("locked", ["1.0.0"])
        d.require_auth()
        good = self.run_sources([d.source("locked", "repo", t)],
                                auth="good")
        self.wait_polls(good, "locked", 2)
        self.assertEqual(self.failures(good, "locked"), [])
        d.add(t, "1.1.0")
        [event] = self.events(1)
        self.assertEqual(event["data"]["version"], "1.1.0")
        good.stop()
        self.assert_no_secret_logged(good, GOOD_SECRET)

        bad = self.run_sources([d.source("locked", "repo", t)],
                               auth="good", secret=BAD_SECRET)
        self.wait_polls(bad, "locked", 2)
        failures = self.failures(bad, "locked")
        self.assertEqual(len(failures), self.polls(bad, "locked"),
                         "one line per failed poll")
        self.assertIn("HTTP 401", failures[0])
        bad.stop()
        self.assert_no_secret_logged(bad, BAD_SECRET)

    def test_429_retry_after_is_honoured(self):
        d = self.driver
        t = d.target("slow", ["1.0.0"])
        w = self.run_sources([d.source("slow", "repo", t)])
        self.wait_polls(w, "slow", 2)
        before = len(d.records(t))
        d.fault(t, "429", count=1, retry_after=2)
        d.add(t, "1.1.0")
        [event] = self.events(1, timeout=40)
        self.assertEqual(event["data"]["version"], "1.1.0")
        seen = d.records(t)[before:]
        limited = [i for i, r in enumerate(seen)
                   if r.get("status") == "fault:429"]
        self.assertEqual(len(limited), 1, seen)
        after = seen[limited[0] + 1:]
        self.assertTrue(after, "no request after the 429")
        # Retry-After is a floor (a little slack for clock rounding).
        self.assertGreaterEqual(after[0]["t"] - seen[limited[0]]["t"], 1.9)
        w.stop()

    def test_faults_fail_only_that_source(self):
        """Each fault on a target of its own, all at once (one after the
        other on one source, each would wait out the backoff the last one
        grew): each fails its own source's poll with a clear cause, and
        the source beside them goes on."""
        d = self.driver
        expect = {"429": "HTTP 429", "500": "HTTP 500",
                  "garbage": "JSON", "html": "HTML",
                  "truncated": "", "huge": ""}
        sick = {kind: d.target("f" + kind, ["1.0.0"]) for kind in expect}
        well = d.target("well", ["1.0.0"])
        w = self.run_sources([d.source("f" + kind, "repo", target)
                              for kind, target in sick.items()] +
                             [d.source("well", "repo", well)])
        for source in ["f" + kind for kind in sick] + ["well"]:
            self.wait_polls(w, source, 2)
        for kind, target in sick.items():
            d.fault(target, kind)
        for kind in sick:
            w.wait_log(r'msg="poll failed".*\bsource=f%s( |$)' % kind,
                       timeout=60)
            line = self.failures(w, "f" + kind)[0]
            self.assertIn(expect[kind], line, kind)
        d.clear_faults()
        d.add(well, "1.1.0")
        events = self.events(1, timeout=60)
        self.assertEqual([e["data"]["sourceId"] for e in events], ["well"])
        for kind in sick:
            self.assertLessEqual(len(self.failures(w, "f" + kind)),
                                 self.polls(w, "f" + kind))
        self.assertEqual(self.failures(w, "well"), [])
        w.stop()

    def test_identity_change_rebaselines(self):
        d = self.driver
        one = d.target("one", ["1.0.0"])
        two = d.target("two", ["5.0.0", "5.1.0"])
        config, env = self.setup_watcher([d.source("moving", "repo", one)],
                                         state="identity")
        w = self.start(config, env=env)
        self.wait_polls(w, "moving", 2)
        w.stop()
        config["sources"] = [d.source("moving", "repo", two)]
        w = self.start(config, env=env)
        w.wait_log(r'recording a silent baseline.*source=moving')
        self.wait_polls(w, "moving", 2)
        self.assertEqual(self.hook.deliveries, [])
        d.add(two, "5.2.0")
        [event] = self.events(1)
        self.assertEqual(event["data"]["version"], "5.2.0")
        w.stop()
