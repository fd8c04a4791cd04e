"""test_creds.py: credentials stay where they belong; TLS and proxies.

Issue 9, "Credentials and redirects" and "TLS and proxies".  Servers on
loopback only: a small fake registry (Python) that needs Basic credentials
and can point elsewhere (a Link `next` on another origin, a redirect of the
listing, a config blob redirected to storage on another port), the real
Debian docker-registry serving https with a CA and certificates this suite
makes with `openssl` (also token auth with a plain http realm, and mutual
TLS through http.tls.clientcas), webhook receivers that redirect to a
second receiver, and a CONNECT proxy.

One-shot commands are used where a single poll tells it all: `versions`
(list, exit 1 with the cause on a failed poll) and `once` (a full cycle
with deliveries, LMDB store in a temp dir).
"""

import base64
import hashlib
import json
import unittest

from harness import (Registry, Watcher, Workdir, docker_connector,
                     docker_source)
from tlsutil import Certs, ConnectProxy, RecordingServer, TLSRegistry

PASSWORD = "creds-pass-5678"
HOOK_KEY = "creds-api-key-9876"
ENV = {"AW_CREDS_PASSWORD": PASSWORD, "AW_CREDS_HOOK_KEY": HOOK_KEY,
       "AW_CREDS_REGISTRY": Registry.PASSWORD}
# Proxies of the machine running the tests must not bend these ones.
for name in ("http_proxy", "https_proxy", "HTTPS_PROXY", "HTTP_PROXY",
             "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
    ENV[name] = ""

WORKDIR = None
CERTS = None


def setUpModule():
    global WORKDIR, CERTS
    WORKDIR = Workdir(prefix="aw-creds-")
    CERTS = Certs(WORKDIR.sub("certs"))


def tearDownModule():
    WORKDIR.cleanup()


def basic(user, password):
    return "Basic " + base64.b64encode(
        ("%s:%s" % (user, password)).encode()).decode()


class FakeRegistry:
    """Just enough of the registry API for repository "app", tag "1.0".

    Every request needs Basic credentials (else 401 with a Basic
    challenge).  link: a Link header for the first listing page.
    list_redirect: a Location the listing is redirected to.
    blob_redirect: a Location (a function of the digest) the config blob
    is redirected to, instead of being served.
    """

    LABELS = {"team": "storage-served"}

    def __init__(self, context=None):
        self.link = None
        self.list_redirect = None
        self.blob_redirect = None
        self.config = json.dumps({
            "architecture": "amd64", "os": "linux",
            "created": "2024-01-02T03:04:05Z",
            "config": {"Labels": self.LABELS}}).encode()
        self.config_digest = "sha256:" + hashlib.sha256(
            self.config).hexdigest()
        self.manifest = json.dumps({
            "schemaVersion": 2,
            "mediaType":
                "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "digest": self.config_digest, "size": len(self.config)},
            "layers": []}).encode()
        self.digest = "sha256:" + hashlib.sha256(self.manifest).hexdigest()
        self.server = RecordingServer(self.answer, context)

    @property
    def url(self):
        return self.server.url

    def answer(self, method, path, headers, body):
        if headers.get("authorization") != basic("aw", PASSWORD):
            return 401, {"WWW-Authenticate": 'Basic realm="fake"'}, b""
        if path.startswith("/v2/app/tags/list"):
            if self.list_redirect is not None:
                return 302, {"Location": self.list_redirect}, b""
            extra = {"Content-Type": "application/json"}
            if self.link is not None:
                extra["Link"] = self.link
            return 200, extra, json.dumps(
                {"name": "app", "tags": ["1.0"]}).encode()
        if path == "/v2/app/manifests/1.0":
            return 200, {
                "Content-Type":
                    "application/vnd.docker.distribution.manifest.v2+json",
                "Docker-Content-Digest": self.digest}, self.manifest
        if path == "/v2/app/blobs/" + self.config_digest:
            if self.blob_redirect is not None:
                return 307, {"Location": self.blob_redirect}, b""
            return 200, {"Content-Type": "application/octet-stream"}, \
                self.config
        return 404, {}, b'{"errors":[]}'

    def stop(self):
        self.server.stop()


def tags_answer(tags, link=None):
    """An unauthenticated server answering every GET with a tag list."""
    def answer(method, path, headers, body):
        extra = {"Content-Type": "application/json"}
        if link is not None:
            extra["Link"] = link
        return 200, extra, json.dumps({"name": "app", "tags": tags}).encode()
    return answer


def fake_connector(url, **extra):
    block = docker_connector("fake", url, username="aw",
                             password_ref="fake_pwd")
    block["connector"].update(extra)
    return block


class Case(unittest.TestCase):
    def setUp(self):
        self.secrets = {"fake_pwd": "env:AW_CREDS_PASSWORD",
                        "registry_pwd": "env:AW_CREDS_REGISTRY",
                        "ci_key": "env:AW_CREDS_HOOK_KEY",
                        "ca": "file:" + CERTS.ca,
                        "other_ca": "file:" + CERTS.other_ca,
                        "client_cert": "file:" + CERTS.client_cert,
                        "client_key": "file:" + CERTS.client_key}

    def config(self, connectors, sources, sinks=None, store=True):
        config = {"secrets": self.secrets, "connectors": connectors,
                  "sources": sources,
                  "sinks": sinks or [{"identifier": "out",
                                      "type": "Stdout"}]}
        if store:
            config["store"] = {"type": "lmdb",
                               "path": WORKDIR.sub("lmdb-%d" % id(self))}
        return config

    def versions(self, config, source="src", env=None):
        watcher = Watcher(WORKDIR, config, env=dict(ENV, **(env or {})))
        result = watcher.run_cli("versions", "-c", watcher.write_config(),
                                 source)
        return result

    def assert_failed(self, result, *words):
        self.assertEqual(result.returncode, 1,
                         "stdout: %s\nstderr: %s" % (result.stdout,
                                                     result.stderr))
        for word in words:
            self.assertIn(word, result.stderr)

    def assert_listed(self, result, tag):
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(tag, result.stdout)


class Origins(Case):
    """A follow-up URL a response names stays on the registry's origin."""

    def setUp(self):
        super().setUp()
        self.reg = FakeRegistry()
        self.addCleanup(self.reg.stop)
        self.other = RecordingServer(tags_answer(["evil"]))
        self.addCleanup(self.other.stop)

    def source(self, **watch):
        return [docker_source("src", "fake", "app", **watch)]

    def test_next_on_another_origin_fails_the_poll(self):
        self.reg.link = ('<%s/v2/app/tags/list?last=1.0>; rel="next"'
                         % self.other.url)
        result = self.versions(self.config([fake_connector(self.reg.url)],
                                           self.source()))
        self.assert_failed(result, "points to another origin",
                           self.other.url)
        self.assertEqual(self.other.seen(), [],
                         "the next page on another origin was requested")
        self.assertNotIn(PASSWORD, result.stderr)

    def test_next_after_a_redirect_to_another_origin_fails(self):
        # Page 1 is redirected elsewhere (libcurl follows, without the
        # credentials); that host's relative `next` resolves to itself.
        self.reg.list_redirect = self.other.url + "/v2/app/tags/list?n=1"
        self.other.answer = tags_answer(
            ["evil"], link='</v2/app/tags/list?last=evil>; rel="next"')
        result = self.versions(self.config([fake_connector(self.reg.url)],
                                           self.source()))
        self.assert_failed(result, "points to another origin")
        seen = self.other.seen()
        self.assertEqual(len(seen), 1, seen)
        self.assertNotIn("authorization", seen[0]["headers"],
                         "credentials followed the redirect")

    def test_next_on_the_same_origin_is_followed(self):
        self.reg.link = '</v2/app/tags/list?last=0.9&n=1>; rel="next"'
        calls = []
        plain = self.reg.answer

        def answer(method, path, headers, body):
            if "last=0.9" in path:
                calls.append(path)
                if headers.get("authorization") != basic("aw", PASSWORD):
                    return 401, {}, b""
                return 200, {"Content-Type": "application/json"}, \
                    b'{"name":"app","tags":["0.9"]}'
            return plain(method, path, headers, body)
        self.reg.server.answer = answer
        result = self.versions(self.config([fake_connector(self.reg.url)],
                                           self.source()))
        self.assert_listed(result, "0.9")
        self.assertIn("1.0", result.stdout)
        self.assertEqual(len(calls), 1)

    def test_config_blob_redirected_to_storage_without_credentials(self):
        def storage_answer(method, path, headers, body):
            return 200, {"Content-Type": "application/octet-stream"}, \
                self.reg.config
        storage = RecordingServer(storage_answer)
        self.addCleanup(storage.stop)
        self.reg.blob_redirect = (storage.url + "/bucket/blob?X-Sig=abc")
        hook = RecordingServer(lambda *a: (200, {}, b""))
        self.addCleanup(hook.stop)
        config = self.config(
            [fake_connector(self.reg.url)],
            self.source(emitExisting=True, fetchLabels=True),
            sinks=[{"identifier": "hook", "type": "Webhook",
                    "spec": {"url": hook.url + "/hook"}}])
        watcher = Watcher(WORKDIR, config, env=ENV)
        result = watcher.run_cli("once", "-c", watcher.write_config())
        self.assertEqual(result.returncode, 0, result.stderr)
        [stored] = storage.seen()
        self.assertEqual(stored["path"], "/bucket/blob?X-Sig=abc")
        self.assertNotIn("authorization", stored["headers"])
        [delivery] = hook.seen()
        event = json.loads(delivery["body"])
        self.assertEqual(event["data"]["labels"], FakeRegistry.LABELS)


class Downgrade(Case):
    """From https, a redirect to plain http is not followed."""

    def test_https_to_http_redirect_is_refused(self):
        reg = FakeRegistry(CERTS.server_context())
        self.addCleanup(reg.stop)
        plain = RecordingServer(tags_answer(["plain"]))
        self.addCleanup(plain.stop)
        reg.list_redirect = plain.url + "/v2/app/tags/list"
        result = self.versions(self.config(
            [fake_connector(reg.url, caCertRef="ca")],
            [docker_source("src", "fake", "app")]))
        self.assert_failed(result, "redirected from https to plain http")
        self.assertEqual(plain.seen(), [], "followed https -> http")


class TLS(Case):
    """The real docker-registry over https with the suite's CA."""

    @classmethod
    def setUpClass(cls):
        cls.registry = TLSRegistry(WORKDIR, CERTS)
        cls.registry.start()
        cls.registry.client().push("tls/app", "1.0")

    @classmethod
    def tearDownClass(cls):
        cls.registry.stop()

    def run_versions(self, env=None, **connector):
        block = docker_connector("reg", self.registry.url)
        block["connector"].update(connector)
        return self.versions(self.config(
            [block], [docker_source("src", "reg", "tls/app")]), env=env)

    def test_ca_from_a_secret(self):
        self.assert_listed(self.run_versions(caCertRef="ca"), "1.0")

    def test_ca_from_a_path(self):
        self.assert_listed(self.run_versions(caCertRef=CERTS.ca), "1.0")

    def test_untrusted_without_ca(self):
        self.assert_failed(self.run_versions(), "certificate is not trusted")

    def test_untrusted_with_another_ca(self):
        self.assert_failed(self.run_versions(caCertRef="other_ca"),
                           "certificate is not trusted")

    def test_insecure_skip_verify_works_and_warns(self):
        result = self.run_versions(insecureSkipVerify=True)
        self.assert_listed(result, "1.0")
        self.assertRegex(result.stderr,
                         r'level=warn msg="insecureSkipVerify.*'
                         r'what="?connector \\"reg\\"')

    def test_ca_file_that_is_not_pem_is_named(self):
        result = self.run_versions(caCertRef=CERTS.path("server.ext"))
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("caCertRef", result.stderr)
        self.assertIn("not PEM", result.stderr)

    def test_proxy_url_per_connector(self):
        proxy = ConnectProxy()
        self.addCleanup(proxy.stop)
        self.assert_listed(self.run_versions(caCertRef="ca",
                                             proxyUrl=proxy.url), "1.0")
        self.assertIn(self.registry.host, proxy.tunnelled())

    def test_https_proxy_environment_is_honoured(self):
        proxy = ConnectProxy()
        self.addCleanup(proxy.stop)
        self.assert_listed(self.run_versions(
            env={"HTTPS_PROXY": proxy.url}, caCertRef="ca"), "1.0")
        self.assertIn(self.registry.host, proxy.tunnelled())

    def test_no_proxy_environment_is_honoured(self):
        proxy = ConnectProxy()
        self.addCleanup(proxy.stop)
        self.assert_listed(self.run_versions(
            env={"HTTPS_PROXY": proxy.url, "NO_PROXY": "127.0.0.1"},
            caCertRef="ca"), "1.0")
        self.assertEqual(proxy.tunnelled(), [])


class MutualTLS(Case):
    """docker-registry with http.tls.clientcas: a client certificate."""

    @classmethod
    def setUpClass(cls):
        cls.registry = TLSRegistry(WORKDIR, CERTS, client_auth=True)
        cls.registry.start()
        cls.registry.client().push("mtls/app", "1.0")

    @classmethod
    def tearDownClass(cls):
        cls.registry.stop()

    def run_versions(self, **connector):
        block = docker_connector("reg", self.registry.url)
        block["connector"].update(connector)
        return self.versions(self.config(
            [block], [docker_source("src", "reg", "mtls/app")]))

    def test_with_client_certificate(self):
        self.assert_listed(self.run_versions(
            caCertRef="ca", clientCertRef="client_cert",
            clientKeyRef="client_key"), "1.0")

    def test_without_client_certificate(self):
        self.assert_failed(self.run_versions(caCertRef="ca"),
                           "client certificate")


class TokenRealm(Case):
    """An https registry whose token realm is plain http."""

    @classmethod
    def setUpClass(cls):
        cls.registry = TLSRegistry(WORKDIR, CERTS, mode="token")
        cls.registry.start()
        cls.registry.client().push("realm/app", "1.0")

    @classmethod
    def tearDownClass(cls):
        cls.registry.stop()

    def run_versions(self, **spec):
        block = docker_connector("reg", self.registry.url,
                                 username=Registry.USERNAME,
                                 password_ref="registry_pwd")
        block["connector"]["caCertRef"] = "ca"
        block["connector"]["spec"].update(spec)
        return self.versions(self.config(
            [block], [docker_source("src", "reg", "realm/app")]))

    def test_http_realm_is_refused(self):
        before = self.registry.tokens.granted_count()
        result = self.run_versions()
        self.assert_failed(result, "token realm", "plain http",
                           "allowHttpTokenRealm")
        self.assertEqual(self.registry.tokens.granted_count(), before,
                         "the password went to the http realm")

    def test_http_realm_allowed_explicitly_warns(self):
        result = self.run_versions(allowHttpTokenRealm=True)
        self.assert_listed(result, "1.0")
        self.assertRegex(result.stderr,
                         r'level=warn msg="allowHttpTokenRealm')


class Webhooks(Case):
    """Webhooks: no redirects; header values from secrets; TLS."""

    def setUp(self):
        super().setUp()
        self.reg = FakeRegistry()
        self.addCleanup(self.reg.stop)

    def once(self, sink_spec, env=None):
        config = self.config(
            [fake_connector(self.reg.url)],
            [docker_source("src", "fake", "app", emitExisting=True)],
            sinks=[{"identifier": "hook", "type": "Webhook",
                    "spec": dict({"secretRef": "ci_key"}, **sink_spec)}])
        watcher = Watcher(WORKDIR, config, env=dict(ENV, **(env or {})))
        return watcher.run_cli("once", "-c", watcher.write_config(),
                               "--wait", "20s")

    def test_redirect_is_permanent_and_not_followed(self):
        second = RecordingServer(lambda *a: (200, {}, b""))
        self.addCleanup(second.stop)
        first = RecordingServer(lambda *a: (
            307, {"Location": second.url + "/moved?token=abc"}, b""))
        self.addCleanup(first.stop)
        result = self.once({"url": first.url + "/hook",
                            "headers": {"X-Team": "platform"}})
        # once says an event was dead-lettered (docs/cli.md).
        self.assertEqual(result.returncode, 5, result.stderr)
        self.assertEqual(len(first.seen()), 1)
        self.assertEqual(second.seen(), [],
                         "the event went to the redirect's target")
        self.assertRegex(result.stderr, r"dead-lettered.*HTTP 307, a "
                         r"redirect to %s/moved;" % second.url)
        self.assertNotIn("token=abc", result.stderr)
        self.assertNotIn(HOOK_KEY, result.stderr)

    def test_header_value_from_a_secret(self):
        hook = RecordingServer(lambda *a: (200, {}, b""))
        self.addCleanup(hook.stop)
        result = self.once({"url": hook.url + "/hook",
                            "headers": {"X-Api-Key": {"secretRef":
                                                      "ci_key"},
                                        "X-Team": "platform"}})
        self.assertEqual(result.returncode, 0, result.stderr)
        [delivery] = hook.seen()
        self.assertEqual(delivery["headers"]["x-api-key"], HOOK_KEY)
        self.assertEqual(delivery["headers"]["x-team"], "platform")
        self.assertNotIn(HOOK_KEY, result.stderr)

    def test_https_receiver_with_ca_and_client_certificate(self):
        hook = RecordingServer(lambda *a: (200, {}, b""),
                               CERTS.server_context(require_client=True))
        self.addCleanup(hook.stop)
        result = self.once({"url": hook.url + "/hook", "caCertRef": "ca",
                            "clientCertRef": "client_cert",
                            "clientKeyRef": "client_key"})
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(len(hook.seen()), 1)

    def test_https_receiver_untrusted_is_retried_not_delivered(self):
        hook = RecordingServer(lambda *a: (200, {}, b""),
                               CERTS.server_context())
        self.addCleanup(hook.stop)
        config = self.config(
            [fake_connector(self.reg.url)],
            [docker_source("src", "fake", "app", emitExisting=True)],
            sinks=[{"identifier": "hook", "type": "Webhook",
                    "spec": {"url": hook.url + "/hook"}}])
        watcher = Watcher(WORKDIR, config, env=ENV)
        result = watcher.run_cli("once", "-c", watcher.write_config(),
                                 "--wait", "2s")
        self.assertEqual(result.returncode, 3, result.stderr)
        self.assertIn("certificate is not trusted", result.stderr)
        self.assertEqual(hook.seen(), [])


if __name__ == "__main__":
    unittest.main()
