"""cloudcase.py: what the suites of the cloud families share (test_aws,
test_google, test_azure): one fake, one webhook and one work directory for
the class, and per test a config file named after the test's state, the
watcher started on it and the events of one source.

    class Google(CloudCase):
        SECRETS = {"gcp_key": "AW_GCP_KEY"}     # secret -> env variable

        def env(self, **extra):                 # the watcher's environment
            ...
"""

import os
import unittest

from harness import Watcher, webhook_sink


class CloudCase(unittest.TestCase):
    # Secret name -> the environment variable the watcher reads it from
    # (hook_key is AW_HOOK_KEY).
    SECRETS = {}

    def env(self, **extra):
        raise NotImplementedError

    def config(self, name, connectors, sources):
        secrets = {"hook_key": "env:AW_HOOK_KEY"}
        secrets.update({k: "env:" + v for k, v in self.SECRETS.items()})
        return {
            "store": {"type": "lmdb",
                      "path": os.path.join(self.workdir.path, name)},
            "secrets": secrets,
            "connectors": connectors,
            "sources": sources,
            "sinks": [webhook_sink("hook", self.hook)],
        }

    def start(self, name, connectors, sources, **env):
        watcher = Watcher(self.workdir, self.config(name, connectors,
                                                    sources),
                          env=self.env(**env))
        watcher.start()
        self.addCleanup(watcher.kill)
        return watcher

    def events_of(self, source, before):
        return [d["event"] for d in self.hook.accepted()[before:]
                if d["event"]["data"]["sourceId"] == source]

    def wait_events(self, source, before, count, timeout=20.0):
        def enough():
            got = self.events_of(source, before)
            return got if len(got) >= count else None
        return self.hook.wait_for(enough, timeout,
                                  "%d events of %s" % (count, source))
