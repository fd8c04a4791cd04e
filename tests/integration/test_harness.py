"""test_harness.py: the integration harness checks itself.

The end-to-end suites trust these servers to behave like the real thing, so
each is proven here first, without the watcher: the registry in its three
auth modes really enforces them (the token realm's JWT is verified by the
registry, a forged one is refused), pushes and re-tags change digests, the
webhook receiver checks signatures, and Redis keeps data across a restart.
"""

import json
import tempfile
import unittest
import urllib.error
import urllib.request

from harness import (Redis, Registry, RegistryClient, Webhook, Workdir,
                     signature, to_yaml)
from tokenserver import TokenIssuer


class RegistryModes(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.workdir = Workdir()

    @classmethod
    def tearDownClass(cls):
        cls.workdir.cleanup()

    def start(self, mode):
        registry = Registry(self.workdir, mode)
        registry.start()
        self.addCleanup(registry.stop)
        return registry

    def unauthenticated_status(self, registry):
        return RegistryClient(registry.url).raw(
            "GET", registry.url + "/v2/", None, {}, None)[0]

    def check_push_and_retag(self, registry):
        client = registry.client()
        first = client.push("team/app", "1.0", labels={"k": "v"})
        second = client.push("team/app", "1.1", media="docker")
        self.assertEqual(client.tags("team/app"), ["1.0", "1.1"])
        registry.wait_listings("team/app", 1, timeout=5)
        self.assertEqual(client.digest("team/app", "1.0"), first)
        self.assertEqual(client.digest("team/app", "1.1"), second)
        moved = client.retag("team/app", "1.0", "other bytes")
        self.assertNotEqual(moved, first)
        self.assertEqual(client.digest("team/app", "1.0"), moved)

    def test_anonymous(self):
        registry = self.start("anonymous")
        self.assertEqual(self.unauthenticated_status(registry), 200)
        self.check_push_and_retag(registry)

    def test_htpasswd(self):
        registry = self.start("htpasswd")
        self.assertEqual(self.unauthenticated_status(registry), 401)
        wrong = registry.client("aw-user", "wrong")
        self.assertEqual(wrong.request("GET", "/v2/", "")[0], 401)
        self.check_push_and_retag(registry)

    def test_token(self):
        registry = self.start("token")
        self.assertEqual(self.unauthenticated_status(registry), 401)
        self.check_push_and_retag(registry)
        self.assertGreater(registry.tokens.granted_count(), 0)

        scope = "repository:team/app:pull"
        good, _ = registry.tokens.issuer.issue("aw-user", [scope])
        forged, _ = TokenIssuer(
            tempfile.mkdtemp(dir=self.workdir.path),
            registry.tokens.issuer.issuer,
            registry.tokens.issuer.service).issue("aw-user", [scope])
        client = RegistryClient(registry.url)
        path = registry.url + "/v2/team/app/tags/list"
        self.assertEqual(client.raw("GET", path, None, {},
                                    "Bearer " + good)[0], 200)
        self.assertEqual(client.raw("GET", path, None, {},
                                    "Bearer " + forged)[0], 401)
        other = registry.url + "/v2/team/other/tags/list"
        self.assertEqual(client.raw("GET", other, None, {},
                                    "Bearer " + good)[0], 401)

    def test_token_realm_wants_credentials(self):
        registry = self.start("token")
        request = urllib.request.Request(
            registry.tokens.realm + "?service=aw-test-registry")
        with self.assertRaises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=5)
        self.assertEqual(caught.exception.code, 401)


class WebhookReceiver(unittest.TestCase):
    def post(self, hook, body, stamp, sig):
        request = urllib.request.Request(hook.url, data=body, headers={
            "X-Artifact-Watcher-Timestamp": stamp,
            "X-Artifact-Watcher-Signature": sig,
            "Content-Type": "application/cloudevents+json"})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def test_records_checks_fails_and_returns(self):
        hook = Webhook(secret="s3cret")
        hook.start()
        self.addCleanup(hook.stop)
        body = json.dumps({"id": "1"}).encode()
        self.assertEqual(self.post(hook, body, "100",
                                   signature("s3cret", "100", body)), 200)
        self.assertEqual(self.post(hook, body, "100", "sha256=00"), 200)
        first, second = hook.wait_accepted(2, timeout=5)
        self.assertTrue(first["signature_ok"])
        self.assertFalse(second["signature_ok"])
        self.assertEqual(first["event"], {"id": "1"})

        hook.set_status(503)
        self.assertEqual(self.post(hook, body, "1", "x"), 503)
        hook.wait_refused(1, timeout=5)

        hook.stop()
        with self.assertRaises(OSError):
            self.post(hook, body, "1", "x")
        hook.set_status(200)
        hook.start()
        self.assertEqual(self.post(hook, body, "1", "x"), 200)
        self.assertEqual(len(hook.wait_accepted(3, timeout=5)), 3)


class RedisServer(unittest.TestCase):
    def test_data_survives_restart(self):
        workdir = Workdir()
        self.addCleanup(workdir.cleanup)
        redis = Redis(workdir)
        redis.start()
        self.addCleanup(redis.stop)
        self.assertEqual(redis.cli("XADD", "s", "*", "k", "v")[-2:], "-0")
        port = redis.port
        redis.restart()
        self.assertEqual(redis.port, port)
        self.assertEqual(redis.cli("XLEN", "s"), "1")


class ConfigWriter(unittest.TestCase):
    def test_yaml_quotes_what_needs_it(self):
        text = to_yaml({"a": [{"b": "1s", "c": True, "d": "on"}],
                        "e": {"f": "^x\\d+$", "g": [], "h": "1.0"}})
        self.assertEqual(text, 'a:\n  - b: 1s\n    c: true\n'
                               '    d: "on"\ne:\n  f: "^x\\\\d+$"\n  g: []\n'
                               '  h: "1.0"')


if __name__ == "__main__":
    unittest.main()
