"""test_fake.py: the fake artifact server (build/fakes/fake-server) itself.

The watcher's politeness tests trust what the fake says and logs, so the
fake is tested first: the Docker Registry v2 API it speaks (auth, paging in
every Link shape, 100,000 tags, manifests by Accept with real digests,
labels, rate-limit headers, ETag/304), each fault it injects, its request
log and its control API.  One fake per class, reset before each test.
"""

import base64
import email.utils
import hashlib
import http.client
import json
import os
import re
import socket
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "fakes"))
from fakeserver import FakeServer  # noqa: E402

ACCEPT_ALL = ", ".join([
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json"])
LINK = re.compile(r'^<([^>]+)>; rel="next"$')


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class FakeTest(unittest.TestCase):
    """A fake shared by a class and reset before each test."""

    @classmethod
    def setUpClass(cls):
        cls.fake = FakeServer()

    @classmethod
    def tearDownClass(cls):
        # A clean exit on SIGTERM also proves nothing crashed meanwhile.
        assert cls.fake.stop(), "fake-server did not exit cleanly"

    def setUp(self):
        self.fake.reset()

    def get(self, path, headers=None, method="GET"):
        return self.fake.request(method, path, headers=headers)

    def list_all(self, first, headers=None):
        """Follows Link headers; returns (tags, pages, links seen)."""
        tags, links, path = [], [], first
        while path is not None:
            status, h, body = self.get(path, headers)
            self.assertEqual(status, 200, body)
            tags += json.loads(body)["tags"]
            path = None
            if "link" in h:
                links.append(h["link"])
                m = LINK.match(h["link"])
                self.assertIsNotNone(m, h["link"])
                url = urllib.parse.urlsplit(m.group(1))
                path = url.path + "?" + url.query
            self.assertLess(len(links), 10000, "Link loop")
        return tags, len(links) + 1, links


class RegistryApiTest(FakeTest):

    def test_probe_without_auth(self):
        status, h, body = self.get("/v2/")
        self.assertEqual(status, 200)
        self.assertEqual(h["docker-distribution-api-version"], "registry/2.0")
        self.assertEqual(json.loads(body), {})

    def test_auth_challenge_and_token(self):
        self.fake.config(auth=True)
        status, h, body = self.get("/v2/")
        self.assertEqual(status, 401)
        self.assertEqual(h["docker-distribution-api-version"], "registry/2.0")
        challenge = h["www-authenticate"]
        self.assertIn('realm="http://127.0.0.1:%d/token"' % self.fake.port,
                      challenge)
        self.assertIn('service="fake-registry"', challenge)
        self.assertEqual(json.loads(body)["errors"][0]["code"],
                         "UNAUTHORIZED")
        status, h, _ = self.get("/v2/a/r3/tags/list")
        self.assertEqual(status, 401)
        self.assertIn('scope="repository:a/r3:pull"', h["www-authenticate"])

        status, _, body = self.get("/token?service=fake-registry"
                                   "&scope=repository:a/r3:pull")
        self.assertEqual(status, 200)
        token = json.loads(body)
        self.assertEqual(token["token"], token["access_token"])
        self.assertEqual(token["expires_in"], 300)
        self.assertRegex(token["issued_at"],
                         r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        bearer = {"Authorization": "Bearer " + token["token"]}
        self.assertEqual(self.get("/v2/", bearer)[0], 200)
        status, _, body = self.get("/v2/a/r3/tags/list", bearer)
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["tags"], ["v1", "v2", "v3"])
        status, h, _ = self.get("/v2/", {"Authorization": "Bearer forged"})
        self.assertEqual(status, 401)
        self.assertIn('error="invalid_token"', h["www-authenticate"])

    def test_token_basic_credentials(self):
        self.fake.config(auth=True, credentials="alice:s3cret")
        good = base64.b64encode(b"alice:s3cret").decode()
        bad = base64.b64encode(b"alice:wrong").decode()
        self.assertEqual(self.get("/token")[0], 401)
        self.assertEqual(
            self.get("/token", {"Authorization": "Basic " + bad})[0], 401)
        status, _, body = self.get("/token",
                                   {"Authorization": "Basic " + good})
        self.assertEqual(status, 200)
        self.assertIn("token", json.loads(body))
        auths = [r["auth"] for r in self.fake.requests(path_prefix="/token")]
        self.assertEqual(auths, [None, "Basic", "Basic"])

    def test_expired_token_after_uses(self):
        self.fake.config(auth=True)
        self.fake.fault(fault="expired_token", uses=2)
        token = json.loads(self.get("/token")[2])["token"]
        bearer = {"Authorization": "Bearer " + token}
        self.assertEqual(self.get("/v2/a/r3/tags/list", bearer)[0], 200)
        self.assertEqual(self.get("/v2/a/r3/tags/list", bearer)[0], 200)
        status, h, _ = self.get("/v2/a/r3/tags/list", bearer)
        self.assertEqual(status, 401)
        self.assertIn('error="invalid_token"', h["www-authenticate"])
        # A fresh token works again, twice.
        token = json.loads(self.get("/token")[2])["token"]
        self.assertEqual(self.get("/v2/", {"Authorization": "Bearer " +
                                           token})[0], 200)

    def test_expired_token_after_one_second(self):
        self.fake.config(auth=True)
        self.fake.fault(fault="expired_token", expires_in=1)
        body = json.loads(self.get("/token")[2])
        self.assertEqual(body["expires_in"], 1)
        bearer = {"Authorization": "Bearer " + body["token"]}
        start = time.monotonic()
        self.assertEqual(self.get("/v2/", bearer)[0], 200)
        while self.get("/v2/", bearer)[0] == 200:
            self.assertLess(time.monotonic() - start, 5, "token never died")
            time.sleep(0.05)
        self.assertGreater(time.monotonic() - start, 0.5)

    def test_unknown_repository_and_tag(self):
        status, _, body = self.get("/v2/no/such/tags/list")
        self.assertEqual(status, 404)
        self.assertEqual(json.loads(body)["errors"][0]["code"],
                         "NAME_UNKNOWN")
        status, _, body = self.get("/v2/a/r3/manifests/v4",
                                   {"Accept": ACCEPT_ALL})
        self.assertEqual(status, 404)
        self.assertEqual(json.loads(body)["errors"][0]["code"],
                         "MANIFEST_UNKNOWN")
        self.assertEqual(self.get("/v2/a/r3/tags/list?n=x")[0], 400)

    def test_keep_alive_and_close(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.fake.port,
                                          timeout=10)
        try:
            for _ in range(3):
                conn.request("GET", "/v2/a/r3/tags/list")
                resp = conn.getresponse()
                self.assertEqual(resp.status, 200)
                resp.read()
                self.assertIsNotNone(conn.sock, "connection was closed")
            conn.request("GET", "/v2/", headers={"Connection": "close"})
            resp = conn.getresponse()
            self.assertEqual(resp.getheader("Connection"), "close")
            resp.read()
        finally:
            conn.close()


class PagingTest(FakeTest):

    def test_relative_link(self):
        tags, pages, links = self.list_all("/v2/p/r250/tags/list?n=100")
        self.assertEqual(pages, 3)
        self.assertEqual(len(tags), 250)
        self.assertEqual(tags, sorted(tags))
        self.assertEqual(set(tags), {"v%d" % i for i in range(1, 251)})
        self.assertEqual(links[0], '</v2/p/r250/tags/list?last=%s&n=100>; '
                         'rel="next"' % tags[99])

    def test_absolute_link(self):
        self.fake.repo(name="p/r250", link="absolute")
        tags, pages, links = self.list_all("/v2/p/r250/tags/list?n=100")
        self.assertEqual((len(tags), pages), (250, 3))
        self.assertTrue(links[0].startswith(
            "<http://127.0.0.1:%d/v2/p/r250/tags/list?" % self.fake.port))

    def test_quay_cursor(self):
        self.fake.repo(name="p/r250", link="cursor")
        tags, pages, links = self.list_all("/v2/p/r250/tags/list?n=100")
        self.assertEqual((len(set(tags)), pages), (250, 3))
        self.assertIn("next_page=", links[0])
        self.assertNotIn("last=", links[0])
        self.assertEqual(self.get("/v2/p/r250/tags/list?n=10"
                                  "&next_page=bogus")[0], 400)

    def test_short_pages(self):
        self.fake.repo(name="p/r250", short_page=7)
        status, h, body = self.get("/v2/p/r250/tags/list?n=100")
        self.assertEqual(len(json.loads(body)["tags"]), 7)
        self.assertIn("link", h)
        tags, pages, _ = self.list_all("/v2/p/r250/tags/list?n=100")
        self.assertEqual((len(set(tags)), pages), (250, 36))

    def test_unsorted(self):
        self.fake.repo(name="p/r250", unsorted=True)
        tags, pages, _ = self.list_all("/v2/p/r250/tags/list?n=100")
        self.assertEqual(pages, 3)
        self.assertEqual(len(tags), 250)
        self.assertEqual(set(tags), {"v%d" % i for i in range(1, 251)})
        self.assertNotEqual(tags, sorted(tags))

    def test_ignore_n(self):
        self.fake.repo(name="p/r250", ignore_n=True)
        status, h, body = self.get("/v2/p/r250/tags/list?n=10")
        self.assertEqual(len(json.loads(body)["tags"]), 250)
        self.assertNotIn("link", h)

    def test_n_zero_and_max_n(self):
        status, h, body = self.get("/v2/p/r250/tags/list?n=0")
        self.assertEqual(json.loads(body)["tags"], [])
        self.assertNotIn("link", h)
        self.fake.repo(name="p/r250", max_n=50)
        status, h, body = self.get("/v2/p/r250/tags/list?n=1000")
        self.assertEqual(len(json.loads(body)["tags"]), 50)
        self.assertIn("n=50>", h["link"])
        tags, pages, _ = self.list_all("/v2/p/r250/tags/list")
        self.assertEqual((len(set(tags)), pages), (250, 5))

    def test_unpaged_lists_everything(self):
        status, h, body = self.get("/v2/p/r250/tags/list")
        self.assertEqual(len(json.loads(body)["tags"]), 250)
        self.assertNotIn("link", h)

    def test_hundred_thousand_tags(self):
        tags, pages, _ = self.list_all("/v2/big/r100000/tags/list?n=1000")
        self.assertEqual(pages, 100)
        self.assertEqual(len(set(tags)), 100000)
        status, h, body = self.get("/v2/big/r100000/tags/list?n=2"
                                   "&last=v99998")
        self.assertEqual(json.loads(body)["tags"], ["v99999"])
        self.assertNotIn("link", h)
        self.assertEqual(self.get("/v2/big/r100001/tags/list")[0], 404)

    def test_created_repository(self):
        self.fake.repo(name="team/app", tags=["1.0", "latest", "0.9"])
        status, _, body = self.get("/v2/team/app/tags/list")
        self.assertEqual(json.loads(body),
                         {"name": "team/app",
                          "tags": ["0.9", "1.0", "latest"]})
        digests = self.fake.tags("team/app", ["1.1"])
        self.assertRegex(digests["1.1"], r"^sha256:[0-9a-f]{64}$")
        status, _, body = self.get("/v2/team/app/tags/list")
        self.assertIn("1.1", json.loads(body)["tags"])
        with self.assertRaises(RuntimeError):
            self.fake.repo(name="Bad Name", tags=["x"])
        with self.assertRaises(RuntimeError):
            self.fake.tags("team/app", ["no spaces"])

    def test_etag_and_not_modified(self):
        status, h, body = self.get("/v2/e/r20/tags/list?n=5")
        etag = h["etag"]
        status, h, body = self.get("/v2/e/r20/tags/list?n=5",
                                   {"If-None-Match": etag})
        self.assertEqual(status, 304)
        self.assertEqual(body, b"")
        self.assertEqual(h["etag"], etag)
        self.fake.tags("e/r20", ["v0"])
        status, h, body = self.get("/v2/e/r20/tags/list?n=5",
                                   {"If-None-Match": etag})
        self.assertEqual(status, 200)
        self.assertNotEqual(h["etag"], etag)
        log = self.fake.requests(path_prefix="/v2/e/")
        self.assertEqual([r["if_none_match"] for r in log],
                         [None, etag, etag])
        self.assertEqual([r["status"] for r in log], [200, 304, 200])


class ManifestTest(FakeTest):

    def head_and_get(self, path, accept):
        status, h, _ = self.get(path, {"Accept": accept}, method="HEAD")
        self.assertEqual(status, 200)
        gstatus, gh, body = self.get(path, {"Accept": accept})
        self.assertEqual(gstatus, 200)
        self.assertEqual(h["docker-content-digest"], sha256(body))
        self.assertEqual(gh["docker-content-digest"], sha256(body))
        self.assertEqual(int(h["content-length"]), len(body))
        self.assertEqual(h["content-type"], gh["content-type"])
        return h, body

    def test_index_and_manifest_by_accept(self):
        h, body = self.head_and_get("/v2/m/r5/manifests/v2", ACCEPT_ALL)
        self.assertEqual(h["content-type"],
                         "application/vnd.oci.image.index.v1+json")
        index = json.loads(body)
        platforms = [(m["platform"]["architecture"], m["platform"]["os"])
                     for m in index["manifests"]]
        self.assertEqual(platforms, [("amd64", "linux"), ("arm64", "linux"),
                                     ("unknown", "unknown")])
        h2, body2 = self.head_and_get(
            "/v2/m/r5/manifests/v2",
            "application/vnd.docker.distribution.manifest.v2+json")
        self.assertEqual(h2["content-type"],
                         "application/vnd.docker.distribution.manifest.v2+json")
        self.assertNotEqual(h["docker-content-digest"],
                            h2["docker-content-digest"])
        h3, _ = self.head_and_get(
            "/v2/m/r5/manifests/v2",
            "application/vnd.docker.distribution.manifest.list.v2+json")
        self.assertEqual(
            h3["content-type"],
            "application/vnd.docker.distribution.manifest.list.v2+json")

        # Follow the index down to the labels, as a watcher would.
        child = index["manifests"][0]
        mh, mbody = self.head_and_get("/v2/m/r5/manifests/" + child["digest"],
                                      ACCEPT_ALL)
        self.assertEqual(mh["docker-content-digest"], child["digest"])
        self.assertEqual(len(mbody), child["size"])
        config = json.loads(mbody)["config"]
        status, bh, blob = self.get("/v2/m/r5/blobs/" + config["digest"])
        self.assertEqual(status, 200)
        self.assertEqual(sha256(blob), config["digest"])
        labels = json.loads(blob)["config"]["Labels"]
        self.assertEqual(labels["org.opencontainers.image.version"], "v2")

    def test_labels_single_arch_and_repoint(self):
        self.fake.repo(name="m/app", tags=["1.0"], single_arch=True,
                       labels={"maintainer": "fake", "tier": "gold"})
        h, body = self.head_and_get("/v2/m/app/manifests/1.0", ACCEPT_ALL)
        self.assertEqual(h["content-type"],
                         "application/vnd.oci.image.manifest.v1+json")
        config = json.loads(body)["config"]["digest"]
        labels = json.loads(self.get("/v2/m/app/blobs/" + config)[2])[
            "config"]["Labels"]
        self.assertEqual((labels["maintainer"], labels["tier"]),
                         ("fake", "gold"))
        before = h["docker-content-digest"]
        digests = self.fake.tags("m/app", ["1.0"])
        after, _ = self.head_and_get("/v2/m/app/manifests/1.0", ACCEPT_ALL)
        self.assertNotEqual(before, after["docker-content-digest"])
        self.assertEqual(digests["1.0"], after["docker-content-digest"])

    def test_blob_redirect_refuses_credentials(self):
        self.fake.repo(name="m/r2", blob_redirect=True)
        _, body = self.head_and_get(
            "/v2/m/r2/manifests/v1",
            "application/vnd.oci.image.manifest.v1+json")
        config = json.loads(body)["config"]["digest"]
        status, h, _ = self.get("/v2/m/r2/blobs/" + config)
        self.assertEqual(status, 307)
        location = urllib.parse.urlsplit(h["location"])
        self.assertEqual(location.hostname, "localhost")
        self.assertEqual(location.port, self.fake.port)
        status, _, _ = self.get(location.path, {"Authorization": "Bearer x"})
        self.assertEqual(status, 400)
        status, _, blob = self.get(location.path)
        self.assertEqual((status, sha256(blob)), (200, config))

    def test_rate_limit_counts_get_only(self):
        self.fake.config(ratelimit={"limit": 3, "window": 21600})
        h, _ = self.head_and_get("/v2/m/r5/manifests/v1", ACCEPT_ALL)
        self.assertEqual(h["ratelimit-limit"], "3;w=21600")
        status, h, _ = self.get("/v2/m/r5/manifests/v1", {"Accept":
                                                          ACCEPT_ALL},
                                method="HEAD")
        self.assertEqual(h["ratelimit-remaining"], "2;w=21600")
        self.get("/v2/m/r5/manifests/v1", {"Accept": ACCEPT_ALL})
        status, h, _ = self.get("/v2/m/r5/manifests/v1",
                                {"Accept": ACCEPT_ALL})
        self.assertEqual((status, h["ratelimit-remaining"]),
                         (200, "0;w=21600"))
        status, h, body = self.get("/v2/m/r5/manifests/v1",
                                   {"Accept": ACCEPT_ALL})
        self.assertEqual(status, 429)
        self.assertIn(b"pull rate limit", body)
        self.assertEqual(self.get("/v2/m/r5/manifests/v1",
                                  {"Accept": ACCEPT_ALL}, "HEAD")[0], 200)


class FaultTest(FakeTest):

    def test_429_seconds_then_recovers(self):
        self.fake.fault(path_prefix="/v2/a/", fault="429", retry_after="5",
                        count=2)
        for _ in range(2):
            status, h, body = self.get("/v2/a/r3/tags/list")
            self.assertEqual((status, h["retry-after"]), (429, "5"))
            self.assertEqual(json.loads(body)["errors"][0]["code"],
                             "TOOMANYREQUESTS")
        self.assertEqual(self.get("/v2/a/r3/tags/list")[0], 200)
        self.assertEqual(self.get("/v2/b/r3/tags/list")[0], 200)
        self.assertEqual(self.fake.faults()[0]["hits"], 2)

    def test_429_http_date_and_5xx(self):
        date = "Wed, 21 Oct 2026 07:28:00 GMT"
        self.fake.fault(path_prefix="/v2/a/", fault="429", retry_after=date,
                        count=1)
        self.fake.fault(path_prefix="/v2/b/", fault="503", count=1,
                        retry_after=2)
        self.fake.fault(path_prefix="/v2/c/", fault="500", method="HEAD")
        status, h, _ = self.get("/v2/a/r3/tags/list")
        self.assertEqual((status, h["retry-after"]), (429, date))
        status, h, body = self.get("/v2/b/r3/tags/list")
        self.assertEqual((status, h["retry-after"]), (503, "2"))
        self.assertEqual(json.loads(body)["errors"][0]["code"],
                         "UNAVAILABLE")
        self.assertEqual(self.get("/v2/c/r3/manifests/v1", method="HEAD")[0],
                         500)
        self.fake.fault(path_prefix="/v2/d/", fault="429",
                        retry_after_date_in=30, count=1)
        status, h, _ = self.get("/v2/d/r3/tags/list")
        when = email.utils.parsedate_to_datetime(h["retry-after"])
        self.assertAlmostEqual(when.timestamp(), time.time() + 30, delta=5)
        self.assertTrue(h["retry-after"].endswith(" GMT"))
        self.assertEqual(self.get("/v2/c/r3/manifests/v1")[0], 200)

    def test_slow_headers(self):
        self.fake.fault(path_prefix="/v2/", fault="slow_headers",
                        delay_ms=300, count=1)
        start = time.monotonic()
        status, _, body = self.get("/v2/a/r3/tags/list")
        self.assertGreaterEqual(time.monotonic() - start, 0.28)
        self.assertEqual(json.loads(body)["tags"], ["v1", "v2", "v3"])

    def test_reason_phrase_and_head_through_faults(self):
        self.fake.fault(path_prefix="/v2/a/", fault="429", count=1)
        conn = http.client.HTTPConnection("127.0.0.1", self.fake.port,
                                          timeout=10)
        try:
            conn.request("GET", "/v2/a/r3/tags/list")
            resp = conn.getresponse()
            resp.read()
            self.assertEqual((resp.status, resp.reason),
                             (429, "Too Many Requests"))
        finally:
            conn.close()
        _, want, _ = self.get("/v2/a/r3/manifests/v1",
                              {"Accept": ACCEPT_ALL}, "HEAD")
        for kind in ("slow_body", "truncate", "slow_headers"):
            self.fake.clear_faults()
            self.fake.fault(path_prefix="/v2/", fault=kind, delay_ms=10,
                            drip_ms=10)
            status, h, _ = self.get("/v2/a/r3/manifests/v1",
                                    {"Accept": ACCEPT_ALL}, "HEAD")
            self.assertEqual((status, h["content-length"]),
                             (200, want["content-length"]), kind)

    def test_slow_body(self):
        self.fake.fault(path_prefix="/v2/", fault="slow_body",
                        drip_bytes=8, drip_ms=20)
        sock = socket.create_connection(("127.0.0.1", self.fake.port), 10)
        try:
            sock.sendall(b"GET /v2/a/r3/tags/list HTTP/1.1\r\n"
                         b"Host: x\r\nConnection: close\r\n\r\n")
            reads, data = 0, b""
            start = time.monotonic()
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                reads += 1
                data += chunk
        finally:
            sock.close()
        head, body = data.split(b"\r\n\r\n", 1)
        self.assertIn(b"Content-Length: 39", head)
        self.assertEqual(json.loads(body)["tags"], ["v1", "v2", "v3"])
        self.assertGreaterEqual(reads, 4, "the body came in one piece")
        self.assertGreaterEqual(time.monotonic() - start, 0.08)

    def test_client_leaving_slow_replies_does_not_hurt(self):
        self.fake.fault(path_prefix="/v2/", fault="slow_body",
                        drip_bytes=1, drip_ms=5, count=1)
        self.fake.fault(path_prefix="/v2/", fault="slow_headers",
                        delay_ms=50, count=1)
        for _ in range(2):
            sock = socket.create_connection(("127.0.0.1", self.fake.port), 5)
            sock.sendall(b"GET /v2/a/r3/tags/list HTTP/1.1\r\nHost: x\r\n\r\n")
            sock.close()
        # Both rules used; the fake answers on while their timers fire on
        # for clients that are gone (about 0.2 s of drip).
        self.assertEqual([f["count"] for f in self.fake.faults()], [0, 0])
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            self.assertEqual(self.get("/v2/")[0], 200)
            time.sleep(0.05)

    def test_truncated_body(self):
        self.fake.fault(path_prefix="/v2/", fault="truncate")
        conn = http.client.HTTPConnection("127.0.0.1", self.fake.port,
                                          timeout=10)
        try:
            conn.request("GET", "/v2/a/r100/tags/list")
            resp = conn.getresponse()
            self.assertEqual(resp.status, 200)
            promised = int(resp.getheader("Content-Length"))
            with self.assertRaises(http.client.IncompleteRead) as caught:
                resp.read()
            self.assertEqual(len(caught.exception.partial), promised // 2)
        finally:
            conn.close()

    def test_huge_body_streams(self):
        size = 100 * 1024 * 1024
        self.fake.fault(path_prefix="/v2/", fault="huge", count=1)
        conn = http.client.HTTPConnection("127.0.0.1", self.fake.port,
                                          timeout=30)
        try:
            conn.request("GET", "/v2/a/r3/tags/list")
            resp = conn.getresponse()
            self.assertEqual(int(resp.getheader("Content-Length")), size)
            total, first = 0, None
            while True:
                chunk = resp.read(1 << 20)
                if not chunk:
                    break
                first = first or chunk
                total += len(chunk)
        finally:
            conn.close()
        self.assertEqual(total, size)
        self.assertTrue(first.startswith(b'{"name":"huge","tags":["'))
        self.assertEqual(self.get("/v2/a/r3/tags/list")[0], 200)

    def test_garbage_and_html(self):
        self.fake.fault(path_prefix="/v2/g/", fault="garbage")
        self.fake.fault(path_prefix="/v2/h/", fault="html", status=502)
        status, h, body = self.get("/v2/g/r3/tags/list")
        self.assertEqual((status, h["content-type"]),
                         (200, "application/json"))
        with self.assertRaises(ValueError):
            json.loads(body)
        status, h, body = self.get("/v2/h/r3/tags/list")
        self.assertEqual(status, 502)
        self.assertTrue(h["content-type"].startswith("text/html"))
        self.assertIn(b"<html>", body)

    def test_chunked_and_close(self):
        self.fake.fault(path_prefix="/v2/c/", fault="chunked")
        self.fake.fault(path_prefix="/v2/k/", fault="close")
        status, h, body = self.get("/v2/c/r300/tags/list")
        self.assertEqual(h.get("transfer-encoding"), "chunked")
        self.assertNotIn("content-length", h)
        self.assertEqual(len(json.loads(body)["tags"]), 300)
        conn = http.client.HTTPConnection("127.0.0.1", self.fake.port,
                                          timeout=10)
        try:
            conn.request("GET", "/v2/k/r3/tags/list")
            resp = conn.getresponse()
            self.assertEqual(resp.getheader("Connection"), "close")
            self.assertEqual(json.loads(resp.read())["tags"],
                             ["v1", "v2", "v3"])
            self.assertTrue(resp.will_close)
        finally:
            conn.close()

    def test_custom_error_body(self):
        self.fake.fault(fault="429", body="slow down", content_type=
                        "text/plain", count=1)
        status, h, body = self.get("/v2/")
        self.assertEqual((status, h["content-type"], body),
                         (429, "text/plain", b"slow down"))

    def test_bad_rules_are_refused(self):
        for rule in ({"fault": "meltdown"}, {"path_prefix": "/"},
                     {"fault": "429", "count": "three"},
                     {"fault": "99"}, {"fault": "slow_body",
                                       "drip_bytes": 0}):
            status, _, body = self.fake.request("POST", "/_fake/faults", rule)
            self.assertEqual(status, 400, rule)
            self.assertIn("error", json.loads(body))
        status, _, _ = self.fake.request("POST", "/_fake/nothing", {})
        self.assertEqual(status, 404)
        self.assertEqual(self.fake.faults(), [])


class RequestLogTest(FakeTest):

    def test_log_filters_and_reset(self):
        self.fake.config(auth=True)
        self.get("/v2/")
        token = json.loads(self.get("/token")[2])["token"]
        self.get("/v2/a/r3/tags/list?n=2", {"Authorization": "Bearer " +
                                            token})
        self.get("/v2/a/r3/manifests/v1", {"Accept": ACCEPT_ALL,
                                           "Authorization": "Bearer " + token},
                 method="HEAD")
        log = self.fake.requests()
        self.assertEqual([(r["method"], r["path"], r["status"])
                          for r in log],
                         [("GET", "/v2/", 401), ("GET", "/token", 200),
                          ("GET", "/v2/a/r3/tags/list", 200),
                          ("HEAD", "/v2/a/r3/manifests/v1", 200)])
        self.assertEqual(log[2]["query"], "n=2")
        self.assertEqual(log[2]["auth"], "Bearer")
        self.assertEqual(log[3]["accept"], ACCEPT_ALL)
        self.assertTrue(all(a["ms"] <= b["ms"] for a, b in zip(log, log[1:])))
        self.assertLess(abs(log[0]["ms"] / 1000 - time.time()), 60)
        since = self.fake.requests(since=log[1]["seq"])
        self.assertEqual([r["seq"] for r in since],
                         [log[2]["seq"], log[3]["seq"]])
        only = self.fake.requests(path_prefix="/v2/a/")
        self.assertEqual(len(only), 2)
        self.fake.reset()
        self.assertEqual(self.fake.requests(), [])
        self.assertEqual(self.get("/v2/")[0], 200, "reset kept auth on")

    def test_small_ring_keeps_the_newest(self):
        small = FakeServer(log_size=4)
        try:
            for i in range(10):
                small.request("GET", "/v2/a/r3/tags/list?n=%d" % i)
            log = small.requests()
            self.assertEqual([r["query"] for r in log],
                             ["n=6", "n=7", "n=8", "n=9"])
        finally:
            self.assertTrue(small.stop())


if __name__ == "__main__":
    unittest.main()
