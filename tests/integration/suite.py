"""suite.py: the set-up every integration suite shares.

A suite's test case derives from WatcherCase instead of writing its own
copy of the same set-up: a temporary directory for the class, a signed
webhook receiver per test, watchers that are killed (with their log tail
shown) when a test fails half-way, a config skeleton, and the waits on the
watcher's own log that tell a poll is over.

    class MyCase(WatcherCase):
        HOOK_SECRET = "my-hook-secret"      # what the sink signs with
        ENV = {"MY_TOKEN": "..."}           # the watcher's environment

        def test_something(self):
            watcher = self.start(self.config(sources, connectors))
            self.wait_polls(watcher, "src", 2)
            [delivery] = self.hook.wait_accepted(1)

`self.config()` stores state in LMDB under the class's directory unless a
`store` is given; the sink is the test's webhook, its secret `hook_key`
(env AW_SUITE_HOOK_KEY) unless `sinks` are given.
"""

import re
import unittest

from harness import Watcher, Webhook, Workdir, webhook_sink

HOOK_ENV = "AW_SUITE_HOOK_KEY"

# The lines with which the core ends a poll of a source (watcher/source.c).
POLL_END = r'msg="poll (listed|unchanged|failed)"'


class WatcherCase(unittest.TestCase):
    """A class-wide work directory, a webhook per test, watcher cleanup."""

    HOOK_SECRET = "aw-suite-hook-secret"
    ENV = {}
    WORKDIR_PREFIX = "aw-it-"
    # Start a Webhook for every test (self.hook).
    WEBHOOK = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.workdir = Workdir(cls.WORKDIR_PREFIX)

    @classmethod
    def tearDownClass(cls):
        cls.workdir.cleanup()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.watchers = []
        self.addCleanup(self.kill_watchers)
        self.hook = None
        if self.WEBHOOK:
            self.hook = Webhook(secret=self.HOOK_SECRET)
            self.hook.start()
            self.addCleanup(self.hook.stop)

    def kill_watchers(self):
        """Stop what a failed test left running, showing its last log."""
        for watcher in self.watchers:
            if watcher.running():
                print("--- log tail of a watcher left running:\n" +
                      watcher.tail(40))
            watcher.kill()

    def env(self):
        env = {HOOK_ENV: self.HOOK_SECRET}
        env.update(self.ENV)
        return env

    def state_dir(self, name=None):
        """A fresh LMDB directory (or the named one, kept across starts)."""
        name = name or "state-%s-%d" % (self.id().rsplit(".", 1)[-1],
                                        len(self.watchers))
        return self.workdir.sub(name)

    def config(self, sources, connectors=(), sinks=None, store=None,
               secrets=None, **top):
        """A whole config file as a dict."""
        all_secrets = {"hook_key": "env:" + HOOK_ENV}
        all_secrets.update(secrets or {})
        config = {
            "store": store or {"type": "lmdb", "path": self.state_dir()},
            "secrets": all_secrets,
            "connectors": list(connectors),
            "sources": list(sources),
            "sinks": sinks if sinks is not None else
            [webhook_sink("hook", self.hook)],
        }
        config.update(top)
        return config

    def new_watcher(self, config, env=None):
        """A Watcher on config (not started), killed when the test ends."""
        all_env = self.env()
        all_env.update(env or {})
        watcher = Watcher(self.workdir, config, env=all_env)
        self.watchers.append(watcher)
        return watcher

    def start(self, config, env=None):
        return self.new_watcher(config, env).start()

    # ------------------------------------------------ what the log says

    @staticmethod
    def source_lines(watcher, source, pattern=""):
        """Log lines about one source (source=ID) matching pattern."""
        regex = re.compile(pattern + r'.*\bsource=%s( |$)'
                           % re.escape(source))
        return [line for line in watcher.matching(pattern)
                if regex.search(line)]

    def polls(self, watcher, source):
        """How many polls of source have ended so far."""
        return len(self.source_lines(watcher, source, POLL_END))

    def wait_polls(self, watcher, source, count, timeout=20.0):
        """Wait until count polls of source have ended in all."""
        return watcher.wait_log(POLL_END + r'.*\bsource=%s( |$)'
                                % re.escape(source), count, timeout)

    def wait_more_polls(self, watcher, source, more=2, timeout=20.0):
        """Wait for `more` further polls of source than ended so far.

        Polls of one source never overlap, so two more mean the one that
        was running when this was called has finished.
        """
        return self.wait_polls(watcher, source,
                               self.polls(watcher, source) + more, timeout)

    def assert_no_secret_logged(self, watcher, *secrets):
        for line in watcher.logs + watcher.stdout:
            for secret in (self.HOOK_SECRET,) + secrets:
                self.assertNotIn(secret, line)
