"""test_npm.py: the Npm source against a real npm registry (verdaccio).

Verdaccio (tests/integration/verdaccio.py) runs once for the suite on a
loopback port; the machine's npm publishes new versions and moves
dist-tags.  Cases (issue 12): the first poll is a silent baseline; `npm
publish` of a new version is one artifact.created with the package fields
(and `latest`, which publish moves, an artifact.updated); `npm dist-tag
add` re-pointing `latest` is an artifact.updated with previousDigest; a
private package read with a token; without one, or an unknown package,
fails only that source with the registry's answer in one log line per
poll; maxTags cuts the listing and says so; a source pointed at another
package re-baselines silently.
"""

import hashlib
import json
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from repocase import RepoCase
from verdaccio import Verdaccio

TOKEN_ENV = "AW_NPM_TOKEN"


def npm_connector(identifier, url, token_ref=None):
    auth = {"type": "Anonymous"} if token_ref is None else \
        {"type": "Token", "spec": {"tokenRef": token_ref}}
    return {"connector": {"identifier": identifier, "type": "NpmRegistry",
                          "spec": {"registryUrl": url + "/", "auth": auth}}}


def npm_source(identifier, connector, package, **watch):
    source = {"identifier": identifier, "type": "Npm", "interval": "1s",
              "spec": {"connectorRef": connector, "packageName": package}}
    source.update(watch)
    return source


class NpmRegistry(RepoCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = Verdaccio(cls.workdir).start()
        cls.ENV = {TOKEN_ENV: cls.registry.token}

    @classmethod
    def tearDownClass(cls):
        cls.registry.stop()
        super().tearDownClass()

    def config(self, sources, connectors=None, **kw):
        return super().config(sources, connectors or [
            npm_connector("npm", self.registry.url),
            npm_connector("npm-token", self.registry.url, "npm_token")],
            secrets={"npm_token": "env:" + TOKEN_ENV}, **kw)

    def test_publish_is_created_and_dist_tag_is_updated(self):
        reg = self.registry
        first = reg.publish("@acme/app", "1.0.0")
        watcher = self.start(self.config([npm_source("app", "npm",
                                                     "@acme/app")]))
        self.wait_polls(watcher, "app", 2)
        self.assertEqual(self.hook.deliveries, [], "the baseline emitted")

        second = reg.publish("@acme/app", "1.1.0")
        events = self.events(2)
        by_version = {e["data"]["version"]: e for e in events}
        created = by_version["1.1.0"]
        self.assertEqual(created["type"], "artifact.created")
        data = created["data"]
        self.assertEqual(data["kind"], "package")
        self.assertEqual(data["sourceType"], "Npm")
        self.assertEqual(data["package"], "@acme/app")
        self.assertEqual(data["group"], "@acme")
        self.assertEqual(data["format"], "npm")
        self.assertEqual(data["repository"], reg.url)
        self.assertEqual(data["digest"], second)
        self.assertTrue(data["downloadUrl"].endswith("app-1.1.0.tgz"),
                        data["downloadUrl"])
        self.assertIsNotNone(data["pushedAt"])
        moved = by_version["latest"]
        self.assertEqual(moved["type"], "artifact.updated")
        self.assertEqual(moved["data"]["digest"], second)
        self.assertEqual(moved["data"]["previousDigest"], first)

        reg.dist_tag("@acme/app", "1.0.0", "latest")
        events = self.events(3)
        back = events[2]
        self.assertEqual(back["type"], "artifact.updated")
        self.assertEqual(back["data"]["version"], "latest")
        self.assertEqual(back["data"]["digest"], first)
        self.assertEqual(back["data"]["previousDigest"], second)
        self.assertEqual(back["data"]["metadata"].get("version"), "1.0.0")

        self.wait_more_polls(watcher, "app")
        self.assertEqual(len(self.hook.deliveries), 3, "an event repeated")
        self.assertEqual(self.failures(watcher, "app"), [])
        watcher.stop()

    def test_private_package_needs_the_token(self):
        reg = self.registry
        reg.publish("@private/tool", "0.1.0")
        watcher = self.start(self.config([
            npm_source("with-token", "npm-token", "@private/tool"),
            npm_source("anonymous", "npm", "@private/tool"),
            npm_source("missing", "npm", "@acme/no-such-package")]))
        self.wait_polls(watcher, "with-token", 2)
        self.wait_polls(watcher, "anonymous", 2)
        self.wait_polls(watcher, "missing", 2)
        digest = reg.publish("@private/tool", "0.2.0")
        events = [e for e in self.events(2)
                  if e["data"]["version"] == "0.2.0"]
        self.assertEqual(len(events), 1)
        self.assertEqual(events[0]["data"]["sourceId"], "with-token")
        self.assertEqual(events[0]["data"]["digest"], digest)

        anonymous = self.failures(watcher, "anonymous")
        self.assertGreaterEqual(len(anonymous), 2)
        self.assertEqual(len(anonymous), self.polls(watcher, "anonymous"),
                         "one line per failed poll")
        self.assertIn("HTTP 401", anonymous[0])
        missing = self.failures(watcher, "missing")
        self.assertIn("HTTP 404", missing[0])
        self.assertIn("no package @acme/no-such-package", missing[0])
        self.assertEqual(self.failures(watcher, "with-token"), [])
        watcher.stop()
        self.assert_no_secret_logged(watcher, reg.token)

    def test_cap_and_identity(self):
        reg = self.registry
        for version in ("3.0.0", "3.1.0", "3.2.0"):
            reg.publish("@acme/capped", version)
        reg.publish("@acme/other", "9.0.0")
        config = self.config([npm_source("capped", "npm", "@acme/capped",
                                         maxTags=2)], state="cap-identity")
        watcher = self.start(config)
        watcher.wait_log(r'msg="listing truncated at maxTags".*'
                         r'source=capped')
        self.wait_polls(watcher, "capped", 2)
        self.assertEqual(self.hook.deliveries, [])
        watcher.stop()

        config["sources"][0]["spec"]["packageName"] = "@acme/other"
        watcher = self.start(config)
        watcher.wait_log(r'recording a silent baseline.*source=capped')
        self.wait_polls(watcher, "capped", 2)
        self.assertEqual(self.hook.deliveries, [], "re-baseline emitted")
        reg.publish("@acme/other", "9.1.0")
        versions = sorted(e["data"]["version"] for e in self.events(2))
        self.assertEqual(versions, ["9.1.0", "latest"])
        watcher.stop()

    def test_check_connect_probes_the_connectors(self):
        """check --connect of NpmRegistry connectors no source names:
        /-/ping anonymous, /-/whoami with a token (it must name the user);
        a wrong token is not taken."""
        bad = npm_connector("refused", self.registry.url, "wrong")
        config = RepoCase.config(self, [], [
            npm_connector("anon", self.registry.url),
            npm_connector("token", self.registry.url, "npm_token"), bad],
            secrets={"npm_token": "env:" + TOKEN_ENV,
                     "wrong": "env:AW_NPM_WRONG"})
        status, out = self.check_connect(config, env={
            "AW_NPM_WRONG": "not-a-token"})
        self.assertEqual(status, 1, out)
        self.assertIn("connector anon: reachable", out)
        self.assertIn("connector token: reachable", out)
        self.assertRegex(out, r"connector refused: FAILED: .*(HTTP 401|"
                         r"credentials were not taken)")
        self.assertNotIn(self.registry.token, out)


class TimelessRegistry:
    """An npm registry whose abbreviated document has no `time` (as
    registry.npmjs.org answers it: `modified` only) or has it (as
    verdaccio does), with ETags; it records each request's Accept and
    If-None-Match."""

    def __init__(self, abbreviated_times):
        self.abbreviated_times = abbreviated_times
        self.versions = {}
        self.seen = []
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                owner.answer(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever,
                         daemon=True).start()

    def publish(self, version, when):
        with self.lock:
            self.versions[version] = when

    def document(self, abbreviated):
        versions = {v: {"name": "timeless", "version": v, "dist": {
            "integrity": "sha512-" + hashlib.sha256(v.encode()).hexdigest(),
            "tarball": "%s/timeless/-/timeless-%s.tgz" % (self.url, v)}}
            for v in self.versions}
        times = dict(self.versions)
        newest = max(self.versions, key=self.versions.get)
        doc = {"name": "timeless", "versions": versions,
               "dist-tags": {"latest": newest}}
        if abbreviated:
            doc["modified"] = times[newest]
            if self.abbreviated_times:
                doc["time"] = times
        else:
            doc["time"] = dict(times, modified=times[newest])
        return doc

    def answer(self, h):
        accept = h.headers.get("Accept") or ""
        abbreviated = accept.startswith("application/vnd.npm.install-v1")
        with self.lock:
            self.seen.append((accept, h.headers.get("If-None-Match")))
            body = json.dumps(self.document(abbreviated)).encode()
        etag = '"%s-%s"' % (hashlib.sha1(body).hexdigest(),
                            "a" if abbreviated else "f")
        if h.headers.get("If-None-Match") == etag:
            h.send_response(304)
            h.send_header("ETag", etag)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        h.send_response(200)
        h.send_header("Content-Type", "application/vnd.npm.install-v1+json"
                      if abbreviated else "application/json")
        h.send_header("ETag", etag)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class AbbreviatedMetadata(RepoCase):
    """The abbreviated document is asked for first; without push times in
    it the full one is read in the same poll and from then on, so
    pushedAt is the version's `time` either way; ETags go with both."""

    ABBREVIATED = "application/vnd.npm.install-v1+json; q=1.0, " \
        "application/json; q=0.8"

    def watch(self, registry):
        registry.publish("1.0.0", "2026-01-01T10:00:00.000Z")
        watcher = self.start(self.config([npm_source(
            "timeless", "reg", "timeless")], [npm_connector(
                "reg", registry.url)]))
        self.wait_polls(watcher, "timeless", 3)
        registry.publish("1.1.0", "2026-02-03T04:05:06.000Z")
        events = self.events(2)
        data = {e["data"]["version"]: e["data"] for e in events}
        self.assertEqual(sorted(data), ["1.1.0", "latest"])
        self.assertTrue(data["1.1.0"]["pushedAt"].startswith(
            "2026-02-03T04:05:06"), data["1.1.0"]["pushedAt"])
        self.wait_more_polls(watcher, "timeless")
        watcher.stop()
        self.assertEqual(self.failures(watcher, "timeless"), [])
        with registry.lock:
            return list(registry.seen)

    def test_without_times_the_full_document_is_read(self):
        registry = TimelessRegistry(abbreviated_times=False)
        self.addCleanup(registry.stop)
        seen = self.watch(registry)
        self.assertEqual(seen[0], (self.ABBREVIATED, None))
        self.assertEqual(seen[1], ("application/json", None))
        self.assertTrue(all(a == "application/json" for a, _ in seen[1:]),
                        seen)
        self.assertTrue(any(etag is not None for _, etag in seen[2:]),
                        "no If-None-Match sent")

    def test_with_times_the_abbreviated_document_is_enough(self):
        registry = TimelessRegistry(abbreviated_times=True)
        self.addCleanup(registry.stop)
        seen = self.watch(registry)
        self.assertTrue(all(a == self.ABBREVIATED for a, _ in seen), seen)
        self.assertTrue(any(etag is not None for _, etag in seen[1:]),
                        "no If-None-Match sent")


if __name__ == "__main__":
    unittest.main()
