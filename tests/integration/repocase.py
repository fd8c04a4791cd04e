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

    def events(self, count, timeout=30.0):
        return [d["event"] for d in self.hook.wait_accepted(count, timeout)]
