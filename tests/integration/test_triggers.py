"""test_triggers.py: a Harness trigger YAML drives the watcher end to end.

A real docker-registry and a webhook receiver on loopback.  The config has
no `sources:` at all: the source comes from a Harness artifact trigger
pasted as Harness writes it (plus our `sinks:` and `interval:`), with an
eventCondition on the tag and a metaDataCondition on the SHA.  The webhook
sink has a JSON bodyTemplate and a header template; the receiver must get
exactly the rendered text, signed, for the version the conditions let
through, and nothing for the one they stop.  A Stdout sink that the trigger
does not name must print nothing.
"""

import json
import unittest

import suite
from harness import Registry, Watcher, Workdir, docker_connector, to_yaml

HOOK_SECRET = "trigger-hook-secret-value"
ENV = {"AW_IT_TRIGGER_HOOK_KEY": HOOK_SECRET}
REPO = "it/nginx"

TRIGGERS = """\
triggers:
  - trigger:
      name: nginx stable
      identifier: nginx_stable
      enabled: true
      description: ""
      tags: {}
      orgIdentifier: default
      projectIdentifier: web
      pipelineIdentifier: deploy_nginx
      stagesToExecute: []
      sinks: [ci]
      interval: 1s
      source:
        type: Artifact
        pollInterval: "0"
        webhookId: ""
        spec:
          type: DockerRegistry
          spec:
            connectorRef: local
            imagePath: %(repo)s
            tag: <+trigger.artifact.build>
            eventConditions:
              - key: build
                operator: Regex
                value: ^\\d+\\.\\d+\\.\\d+$
            metaDataConditions:
              - key: <+trigger.artifact.metadata.SHA>
                operator: StartsWith
                value: "sha256:"
            jexlCondition: ""
      inputYaml: |
        pipeline:
          identifier: deploy_nginx
"""

BODY = ('{"text": "New image <+artifacts.primary.image>", '
        '"tag": <+artifacts.primary.tag>, '
        '"sha": "<+artifacts.primary.metadata.SHA>", '
        '"build": "<+trigger.artifact.build>", '
        '"source": "<+event.data.sourceId>", '
        '"quoted": "say \\"<+artifacts.primary.tag>\\""}')


class RawConfigWatcher(Watcher):
    """A Watcher whose config file is text, so the Harness YAML is pasted
    as it is rather than rebuilt from a dict."""

    def __init__(self, workdir, text, env=None):
        super().__init__(workdir, {}, env=env)
        self.text = text

    def write_config(self):
        self.path = self.workdir.file("triggers-%d.yaml" % id(self),
                                      self.text)
        return self.path


class HarnessTrigger(suite.WatcherCase):
    HOOK_SECRET = HOOK_SECRET
    ENV = ENV

    def setUp(self):
        super().setUp()
        self.workdir = Workdir()
        self.addCleanup(self.workdir.cleanup)
        self.registry = Registry(self.workdir, "anonymous")
        self.registry.start()
        self.addCleanup(self.registry.stop)

    def config_text(self):
        base = {
            "store": {"type": "lmdb", "path": self.workdir.sub("state")},
            "secrets": {"hook_key": "env:AW_IT_TRIGGER_HOOK_KEY"},
            "connectors": [docker_connector("local", self.registry.url)],
            "sinks": [
                {"identifier": "ci", "type": "Webhook",
                 "spec": {"url": self.hook.url, "secretRef": "hook_key",
                          "headers": {
                              "X-Artifact-Tag": "<+artifacts.primary.tag>"},
                          "bodyTemplate": BODY}},
                {"identifier": "console", "type": "Stdout"},
            ],
        }
        return to_yaml(base) + "\n" + TRIGGERS % {"repo": REPO}

    def test_harness_trigger_yaml_to_templated_webhook(self):
        client = self.registry.client()
        client.push(REPO, "1.0.0")
        watcher = RawConfigWatcher(self.workdir, self.config_text(), env=ENV)
        check = watcher.run_cli("check", "-c", watcher.write_config())
        self.assertEqual(check.returncode, 0, check.stderr)
        watcher.start()
        self.addCleanup(watcher.kill)
        self.registry.wait_listings(REPO, 2)
        self.assertEqual(self.hook.deliveries, [], "baseline emitted")

        client.push(REPO, "1.1.0-rc1")
        digest = client.push(REPO, "1.1.0")
        [delivery] = self.hook.wait_accepted(1)
        image = "%s/%s:1.1.0" % (self.registry.host, REPO)
        want = (
            '{"text": "New image %s", "tag": "1.1.0", "sha": "%s", '
            '"build": "1.1.0", "source": "nginx_stable", '
            '"quoted": "say \\"1.1.0\\""}' % (image, digest))
        self.assertEqual(delivery["body"].decode(), want)
        self.assertEqual(json.loads(want)["quoted"], 'say "1.1.0"')
        self.assertTrue(delivery["signature_ok"], "bad signature")
        headers = delivery["headers"]
        self.assertEqual(headers.get("content-type"), "application/json")
        self.assertEqual(headers.get("x-artifact-tag"), "1.1.0")
        self.assertTrue(headers.get("idempotency-key"))

        # The rc was stopped by the eventCondition: a few more polls bring
        # nothing more, and the Stdout sink no trigger names printed nothing.
        self.registry.wait_more_polls(REPO)
        self.assertEqual(len(self.hook.deliveries), 1, "rc delivered")
        watcher.stop()
        self.assertEqual([line for line in watcher.stdout if line.strip()],
                         [], "the console sink got events")


if __name__ == "__main__":
    unittest.main()
