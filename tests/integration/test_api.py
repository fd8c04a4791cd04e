"""test_api.py: the HTTP API (docs/api.md) of a running watcher.

Each test starts `artifact-watcher run` on the fake registry (tests/fakes)
with an LMDB store, a webhook sink and `api: {listen: 127.0.0.1:0}`; the
port the API got is read from its "api listening" log line.  What is
checked, against the real daemon:

  * /healthz, /readyz (503 with reasons while a store is unreachable),
    /api/v1/sources, /api/v1/sinks, /api/v1/events, 404 and 405;
  * /metrics parses as the Prometheus text format 0.0.4 (a small parser
    below: HELP and TYPE before samples, families whole, label syntax,
    numbers) and carries the source, sink and connector counters;
  * with a tokenRef every request needs the bearer token, and a SIGHUP
    picks up a rotated token file; a wide address without one is refused;
  * without a token, a POST a browser page could send (a form post, or
    one from a foreign Origin) is refused with 403 and changes nothing;
  * pause stops polls (counted at the fake), resume and resync start one;
  * fast-forward and emit-newest release a held burst (burstLimit 1);
  * replay makes the webhook receive the same event id again;
  * a reload keeps the API answering and the paused source paused.
"""

import json
import math
import os
import re
import sys
import time
import unittest
import urllib.error
import urllib.request

import suite
from harness import Workdir, docker_source, free_port, webhook_sink

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "fakes"))
from fakeserver import FakeServer  # noqa: E402

HOOK_SECRET = "api-hook-secret"
TOKEN = "api-token-7f3a9c"
ENV = {"AW_API_HOOK_KEY": HOOK_SECRET, "AW_API_TOKEN": TOKEN}

WORKDIR = None
FAKE = None


def setUpModule():
    global WORKDIR, FAKE
    WORKDIR = Workdir("aw-api-")
    FAKE = FakeServer()


def tearDownModule():
    try:
        assert FAKE.stop(), "fake-server did not exit cleanly"
    finally:
        WORKDIR.cleanup()


# ------------------------------------------------ Prometheus text format

METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def parse_labels(text, line):
    """'a="x",b="y\\"z"' -> {a: x, b: y"z}; raises ValueError if bad."""
    labels, i = {}, 0
    while i < len(text):
        m = LABEL_NAME.match(text, i)
        if not m or text[m.end():m.end() + 2] != '="':
            raise ValueError("bad label in %r" % line)
        name, i, value = m.group(0), m.end() + 2, ""
        while True:
            if i >= len(text):
                raise ValueError("unterminated label value in %r" % line)
            c = text[i]
            if c == "\\":
                nxt = text[i + 1:i + 2]
                if nxt not in ("\\", '"', "n"):
                    raise ValueError("bad escape in %r" % line)
                value += "\n" if nxt == "n" else nxt
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == "\n":
                raise ValueError("raw newline in %r" % line)
            else:
                value += c
                i += 1
        if name in labels:
            raise ValueError("label %s twice in %r" % (name, line))
        labels[name] = value
        if i < len(text):
            if text[i] != ",":
                raise ValueError("expected , in %r" % line)
            i += 1
    return labels


def parse_value(text, line):
    if text in ("+Inf", "-Inf", "NaN"):
        return float(text.replace("Inf", "inf").replace("NaN", "nan"))
    if not re.match(r"^[-+]?[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?$", text):
        raise ValueError("bad value in %r" % line)
    return float(text)


def parse_exposition(text):
    """Check text against format 0.0.4; return {family: {type, samples}}.

    samples: a list of (labels dict, value).  Raises ValueError on any
    line the format does not allow, a sample before its TYPE, a family
    split in two, or a counter whose name does not end in _total.
    """
    if not text.endswith("\n"):
        raise ValueError("the exposition must end with a newline")
    families, current = {}, None
    for line in text[:-1].split("\n"):
        if line == "":
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                if not METRIC_NAME.match(name):
                    raise ValueError("bad metric name in %r" % line)
                fam = families.get(name)
                if fam is not None and current != name:
                    raise ValueError("family %s split" % name)
                fam = families.setdefault(name, {"type": None,
                                                 "help": None,
                                                 "samples": []})
                current = name
                if parts[1] == "TYPE":
                    if len(parts) != 4 or parts[3] not in TYPES:
                        raise ValueError("bad TYPE line %r" % line)
                    if fam["type"] is not None or fam["samples"]:
                        raise ValueError("late or repeated TYPE %r" % line)
                    fam["type"] = parts[3]
                else:
                    if len(parts) != 4 or fam["help"] is not None:
                        raise ValueError("bad HELP line %r" % line)
                    if "\\" in re.sub(r"\\[\\n]", "", parts[3]):
                        raise ValueError("bad escape in HELP %r" % line)
                    fam["help"] = parts[3]
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)"
                     r"( -?[0-9]+)?$", line)
        if not m:
            raise ValueError("bad sample line %r" % line)
        name = m.group(1)
        if name != current or name not in families:
            raise ValueError("sample %r outside its family" % line)
        fam = families[name]
        if fam["type"] is None:
            raise ValueError("sample before TYPE: %r" % line)
        if fam["type"] == "counter" and not name.endswith("_total"):
            raise ValueError("counter %s without _total" % name)
        labels = parse_labels(m.group(3) or "", line)
        value = parse_value(m.group(4), line)
        if fam["type"] == "counter" and (value < 0 or math.isnan(value)):
            raise ValueError("negative counter %r" % line)
        fam["samples"].append((labels, value))
    return families


def sample(families, name, **labels):
    """The value of one sample, or None."""
    for got, value in families.get(name, {"samples": []})["samples"]:
        if got == labels:
            return value
    return None


class ExpositionParser(unittest.TestCase):
    """The checker itself must refuse what the format forbids."""

    def test_accepts_and_refuses(self):
        good = ('# HELP a_total A \\\\ b\n# TYPE a_total counter\n'
                'a_total{x="q\\"\\\\\\n"} 3\n')
        fams = parse_exposition(good)
        self.assertEqual(sample(fams, "a_total", x='q"\\\n'), 3)
        for bad in ("a 1\n",
                    "# TYPE a gauge\na{x=\"1} 1\n",
                    "# TYPE a gauge\na{x=\"\\q\"} 1\n",
                    "# TYPE a counter\na 1\n",
                    "# TYPE a gauge\na one\n",
                    "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na 2\n",
                    "# TYPE a gauge\na 1",
                    "# HELP a x\\q\n# TYPE a gauge\na 1\n"):
            with self.assertRaises(ValueError, msg=bad):
                parse_exposition(bad)


# ------------------------------------------------------------ the tests

class ApiTest(suite.WatcherCase):
    HOOK_SECRET = HOOK_SECRET
    ENV = ENV

    def setUp(self):
        super().setUp()
        self.repo = "api/%s" % self._testMethodName
        self.watcher = None
        self.port = None
        self.token = None

    # -- helpers

    def config(self, api=None, store=None, **watch):
        watch.setdefault("interval", "1s")
        return {
            "store": store or {"type": "lmdb", "path": os.path.join(
                WORKDIR.path, "state-" + self._testMethodName)},
            "secrets": {"hook_key": "env:AW_API_HOOK_KEY",
                        "api_token": "env:AW_API_TOKEN"},
            "connectors": [{"connector": {
                "identifier": "fake", "type": "DockerRegistry",
                "spec": {"dockerRegistryUrl": FAKE.base + "/v2/",
                         "providerType": "Other",
                         "auth": {"type": "Anonymous"}}}}],
            "sources": [docker_source("app", "fake", self.repo, **watch)],
            "sinks": [webhook_sink("hook", self.hook)],
            "api": api or {"listen": "127.0.0.1:0"},
        }

    def start(self, config):
        self.watcher = super().start(config)
        line = self.watcher.wait_log(r'msg="api listening"')[0]
        self.port = int(re.search(r"addr=127\.0\.0\.1:(\d+)",
                                  line).group(1))
        return self.watcher

    def call(self, method, path, token=None, body=None, headers=None):
        """(status, headers, body bytes) of one request to the API.

        A request with a body is JSON unless headers say otherwise (the
        admin actions refuse anything else without a token).
        """
        headers = dict(headers or {})
        if body is not None:
            headers.setdefault("Content-Type", "application/json")
        request = urllib.request.Request(
            "http://127.0.0.1:%d%s" % (self.port, path), method=method,
            data=body, headers=headers)
        token = token if token is not None else self.token
        if token:
            request.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def json(self, method, path, expect=200, **kw):
        status, headers, body = self.call(method, path, **kw)
        self.assertEqual(status, expect, "%s %s: %r" % (method, path, body))
        self.assertEqual(headers["Content-Type"], "application/json")
        return json.loads(body)

    def source(self):
        return self.json("GET", "/api/v1/sources/app")

    def wait_source(self, predicate, what, timeout=20):
        return self.watcher.wait_for(
            lambda: (lambda s: s if predicate(s) else None)(self.source()),
            timeout, what)

    def listings(self, since=0):
        path = "/v2/%s/tags/list" % self.repo
        return [r for r in FAKE.requests(since=since,
                                         path_prefix="/v2/" + self.repo)
                if r["path"] == path]

    def wait_listings(self, count, since=0, timeout=20):
        return self.watcher.wait_for(
            lambda: len(self.listings(since)) >= count, timeout,
            "%d listings of %s" % (count, self.repo))

    def mark(self):
        """The fake's request log position now."""
        log = FAKE.requests()
        return log[-1]["seq"] if log else 0

    def subjects(self):
        return [d["event"]["subject"] for d in self.hook.accepted()]

    # -- read-only endpoints

    def test_health_sources_sinks_events(self):
        FAKE.repo(name=self.repo, tags=["1.0"])
        self.start(self.config())
        status, headers, body = self.call("GET", "/healthz")
        self.assertEqual((status, body), (200, b"ok\n"))
        self.assertTrue(headers["Content-Type"].startswith("text/plain"))
        self.watcher.wait_for(
            lambda: self.call("GET", "/readyz")[0] == 200, 20, "ready")
        self.assertEqual(self.json("GET", "/readyz"),
                         {"ready": True, "reasons": []})

        self.wait_source(lambda s: s["counters"]["polls"] >= 1, "a poll")
        FAKE.tags(self.repo, ["1.1"])
        self.hook.wait_subjects(["%s:1.1" % self.repo])
        delivered = self.hook.accepted()[0]["event"]

        s = self.wait_source(lambda s: s["counters"]["created"] == 1,
                             "created counted")
        self.assertEqual(s["id"], "app")
        self.assertEqual(s["type"], "DockerRegistry")
        self.assertEqual(s["connector"], "fake")
        self.assertEqual(s["status"], "ok")
        self.assertFalse(s["paused"] or s["held"] or s["truncated"])
        self.assertIsNone(s["lastError"])
        self.assertTrue(s["lastPollOk"])
        self.assertRegex(s["lastPoll"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(s["known"], 2)
        self.assertEqual(s["rate"]["connector"], "fake")
        self.assertGreaterEqual(s["rate"]["requests"], 2)
        listed = self.json("GET", "/api/v1/sources")["sources"]
        self.assertEqual([x["id"] for x in listed], ["app"])

        sinks = self.watcher.wait_for(
            lambda: (lambda x: x if x[0]["delivered"] == 1 else None)(
                self.json("GET", "/api/v1/sinks")["sinks"]), 20,
            "delivered counted")
        self.assertEqual(sinks[0]["id"], "hook")
        self.assertEqual(sinks[0]["type"], "Webhook")
        self.assertEqual(sinks[0]["dead"], 0)

        events = self.json("GET", "/api/v1/events?source=app")
        self.assertEqual(events["total"], 1)
        got = events["events"][0]
        self.assertEqual(got["id"], delivered["id"])
        self.assertEqual(got["source"], "app")
        self.assertEqual(got["event"]["subject"], "%s:1.1" % self.repo)
        self.watcher.wait_for(
            lambda: self.json("GET", "/api/v1/events")["events"][0]["sinks"]
            == {"hook": {"state": "delivered"}}, 20, "history: delivered")
        self.assertEqual(self.json(
            "GET", "/api/v1/events?event=" + delivered["id"])["total"], 1)
        self.assertEqual(self.json("GET", "/api/v1/events?source=other")
                         ["total"], 0)
        self.assertEqual(self.json(
            "GET", "/api/v1/events?since=2999-01-01T00:00:00Z")["total"], 0)
        self.assertEqual(len(self.json("GET", "/api/v1/events?since=1h")
                             ["events"]), 1)
        self.json("GET", "/api/v1/events?since=yesterday", expect=400)
        self.json("GET", "/api/v1/events?limit=0", expect=400)

        self.assertIn("no source",
                      self.json("GET", "/api/v1/sources/nope",
                                expect=404)["error"])
        self.json("GET", "/nothing/here", expect=404)
        self.json("GET", "/api/v1/widgets", expect=404)
        status, headers, _ = self.call("POST", "/healthz", body=b"")
        self.assertEqual((status, headers["Allow"]), (405, "GET, HEAD"))
        status, headers, _ = self.call("GET", "/api/v1/sources/app/pause")
        self.assertEqual((status, headers["Allow"]), (405, "POST"))
        self.json("POST", "/api/v1/sources/app/explode", body=b"",
                  expect=404)
        self.json("POST", "/api/v1/sources/nope/pause", body=b"",
                  expect=404)
        self.watcher.stop()

    def test_readyz_waits_for_the_store(self):
        FAKE.repo(name=self.repo, tags=["1.0"])
        nobody = "redis://127.0.0.1:%d/0" % free_port()
        self.start(self.config(store={"type": "redis", "url": nobody}))
        self.assertEqual(self.call("GET", "/healthz")[0], 200)
        ready = self.json("GET", "/readyz", expect=503)
        self.assertFalse(ready["ready"])
        self.assertTrue(any(r.startswith("source app: state not loaded")
                            for r in ready["reasons"]), ready)
        # "loading" until the first load fails, which on loopback is at
        # once: then "error", naming the store.
        failed = self.wait_source(lambda s: s["status"] == "error",
                                  "the failed load")
        self.assertIn("redis", failed["lastError"])
        self.assertEqual(self.json("GET", "/readyz", expect=503)["ready"],
                         False)
        self.watcher.stop()

    def test_metrics_exposition(self):
        FAKE.repo(name=self.repo, tags=["1.0"])
        self.start(self.config())
        self.wait_source(lambda s: s["counters"]["polls"] >= 1, "a poll")
        FAKE.tags(self.repo, ["1.1"])
        self.hook.wait_subjects(["%s:1.1" % self.repo])
        self.json("GET", "/api/v1/sources")   # the loop is past delivery

        def scrape():
            status, headers, body = self.call("GET", "/metrics")
            self.assertEqual(status, 200)
            self.assertEqual(headers["Content-Type"],
                             "text/plain; version=0.0.4; charset=utf-8")
            return parse_exposition(body.decode("utf-8"))

        fams = self.watcher.wait_for(
            lambda: (lambda f: f if sample(f, "aw_sink_delivered_total",
                                           sink="hook") == 1 else None)(
                scrape()), 20, "delivered in /metrics")
        for name, kind in (("aw_source_polls_total", "counter"),
                           ("aw_source_errors_total", "counter"),
                           ("aw_source_created_total", "counter"),
                           ("aw_source_updated_total", "counter"),
                           ("aw_source_filtered_total", "counter"),
                           ("aw_source_bursts_total", "counter"),
                           ("aw_source_held", "gauge"),
                           ("aw_source_truncated", "gauge"),
                           ("aw_source_known_versions", "gauge"),
                           ("aw_source_last_poll_timestamp_seconds",
                            "gauge"),
                           ("aw_source_paused", "gauge"),
                           ("aw_sink_delivered_total", "counter"),
                           ("aw_sink_retried_total", "counter"),
                           ("aw_sink_dead_total", "counter"),
                           ("aw_sink_store_errors_total", "counter"),
                           ("aw_connector_requests_total", "counter"),
                           ("aw_connector_throttled_total", "counter"),
                           ("aw_build_info", "gauge")):
            self.assertIn(name, fams)
            self.assertEqual(fams[name]["type"], kind, name)
            self.assertTrue(fams[name]["help"], name)
        self.assertGreaterEqual(sample(fams, "aw_source_polls_total",
                                       source="app"), 1)
        self.assertEqual(sample(fams, "aw_source_created_total",
                                source="app"), 1)
        self.assertEqual(sample(fams, "aw_source_known_versions",
                                source="app"), 2)
        self.assertEqual(sample(fams, "aw_source_held", source="app"), 0)
        self.assertAlmostEqual(
            sample(fams, "aw_source_last_poll_timestamp_seconds",
                   source="app"), time.time(), delta=60)
        self.assertGreaterEqual(sample(fams, "aw_connector_requests_total",
                                       connector="fake"), 2)
        status, _, body = self.call("HEAD", "/metrics")
        self.assertEqual((status, body), (200, b""))
        self.watcher.stop()

    # -- auth

    def test_token_required(self):
        FAKE.repo(name=self.repo, tags=["1.0"])
        token_file = WORKDIR.file("token-" + self._testMethodName,
                                  "first-token\n")
        config = self.config(api={"listen": "127.0.0.1:0",
                                  "tokenRef": "api_file_token"})
        config["secrets"]["api_file_token"] = "file:" + token_file
        self.start(config)
        self.watcher.wait_log(r'msg="api listening" .*token=required')
        for path, method in (("/healthz", "GET"), ("/metrics", "GET"),
                             ("/api/v1/sources", "GET"),
                             ("/api/v1/sources/app/pause", "POST")):
            status, headers, _ = self.call(method, path, body=b"" if
                                           method == "POST" else None)
            self.assertEqual(status, 401, path)
            self.assertTrue(headers["WWW-Authenticate"].startswith(
                "Bearer"), path)
            self.assertEqual(self.call(method, path, token="wrong",
                                       body=b"" if method == "POST"
                                       else None)[0], 401, path)
        self.assertEqual(self.call("GET", "/healthz",
                                   token="first-token")[0], 200)
        self.assertFalse(self.json("GET", "/api/v1/sources/app",
                                   token="first-token")["paused"])

        # A rotated token file is read again on SIGHUP.
        with open(token_file, "w") as f:
            f.write("second-token\n")
        self.watcher.reload(config)
        self.watcher.wait_log(r'msg="config reloaded"')
        self.assertEqual(self.call("GET", "/healthz",
                                   token="first-token")[0], 401)
        self.assertEqual(self.call("GET", "/healthz",
                                   token="second-token")[0], 200)
        self.watcher.stop()

    def test_browser_posts_need_json_or_token(self):
        FAKE.repo(name=self.repo, tags=["1.0"])
        self.start(self.config())
        pause = "/api/v1/sources/app/pause"
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        for headers, why in (
                (form, "application/json"),
                ({"Content-Type": "text/plain"}, "application/json"),
                ({"Origin": "http://evil.example"}, "another origin"),
                ({"Origin": "null"}, "another origin"),
                ({"Origin": "http://127.0.0.1:%d" % (self.port + 1)},
                 "another origin")):
            status, _, body = self.call("POST", pause, body=b"x=1",
                                        headers=headers)
            self.assertEqual(status, 403, "%r: %r" % (headers, body))
            self.assertIn(why, json.loads(body)["error"])
        self.watcher.wait_log(r'msg="api: request refused"')
        self.assertFalse(self.source()["paused"])
        # JSON without an Origin (curl, scripts) and from our own origin.
        self.assertTrue(self.json("POST", pause, body=b"{}")["paused"])
        self.assertFalse(self.json(
            "POST", "/api/v1/sources/app/resume", body=b"",
            headers={"Origin": "http://localhost:%d" % self.port,
                     "Content-Type": "application/json; charset=utf-8"})
            ["paused"])
        self.watcher.stop()

        # With a token, the token is the proof: any content type goes.
        config = self.config(api={"listen": "127.0.0.1:0",
                                  "tokenRef": "api_token"})
        self.start(config)
        self.assertEqual(self.call("POST", pause, body=b"x=1",
                                   headers=form)[0], 401)
        self.assertTrue(self.json("POST", pause, token=TOKEN, body=b"x=1",
                                  headers=dict(form, Origin="http://e.x"))
                        ["paused"])
        self.watcher.stop()

    def test_wide_address_needs_a_token(self):
        watcher = self.new_watcher(self.config(
            api={"listen": "0.0.0.0:%d" % free_port()}))
        out = watcher.run_cli("check", "-c", watcher.write_config())
        self.assertEqual(out.returncode, 2, out.stderr)
        self.assertIn("api.listen 0.0.0.0:", out.stderr)
        self.assertIn("tokenRef", out.stderr)
        for bad in ("9090", "example.com:9090", "127.0.0.1:99999"):
            watcher.config = self.config(api={"listen": bad})
            out = watcher.run_cli("check", "-c", watcher.write_config())
            self.assertEqual(out.returncode, 2, bad)
            self.assertIn("api.listen", out.stderr, bad)
        watcher.config = self.config(api={"listen": "0.0.0.0:9090",
                                          "tokenRef": "api_token"})
        out = watcher.run_cli("check", "-c", watcher.write_config())
        self.assertEqual(out.returncode, 0, out.stderr)

    # -- admin actions

    def test_pause_resume_resync(self):
        FAKE.repo(name=self.repo, tags=["1.0"])
        self.start(self.config(interval="1s"))
        self.wait_listings(2)
        paused = self.json("POST", "/api/v1/sources/app/pause", body=b"")
        self.assertTrue(paused["paused"])
        self.assertEqual(paused["status"], "paused")
        self.assertEqual(paused["action"], "pause")
        # A poll already in flight may still finish; none may start.
        mark = self.mark()
        deadline = time.monotonic() + 3.5
        while time.monotonic() < deadline:
            self.assertTrue(self.watcher.running())
            time.sleep(0.25)   # a span with 3 intervals in it, not a wait
        self.assertLessEqual(len(self.listings(mark)), 1)
        self.assertIn("is paused",
                      self.json("POST", "/api/v1/sources/app/resync",
                                body=b"", expect=409)["error"])

        mark = self.mark()
        resumed = self.json("POST", "/api/v1/sources/app/resume", body=b"")
        self.assertFalse(resumed["paused"])
        self.wait_listings(2, since=mark)
        self.watcher.stop()

        # Resync: with a one-hour interval only the start and resync poll.
        self.repo += "-hourly"
        FAKE.repo(name=self.repo, tags=["1.0"])
        self.start(self.config(interval="1h", store={
            "type": "lmdb", "path": os.path.join(WORKDIR.path,
                                                 "state-hourly")}))
        self.wait_source(lambda s: s["counters"]["polls"] == 1, "baseline")
        mark = self.mark()
        resync = self.json("POST", "/api/v1/sources/app/resync", body=b"",
                           expect=202)
        self.assertEqual(resync["action"], "resync")
        self.wait_source(lambda s: s["counters"]["polls"] == 2, "resync")
        self.assertEqual(len(self.listings(mark)), 1)
        self.watcher.stop()

    def test_release_held_burst(self):
        FAKE.repo(name=self.repo, tags=["1.0"])
        self.start(self.config(burstLimit=1, burstAction="hold",
                               order="semver"))
        self.wait_source(lambda s: s["baselined"], "baseline")
        self.assertIn("no burst",
                      self.json("POST", "/api/v1/sources/app/fast-forward",
                                body=b"", expect=409)["error"])

        # Fast-forward: records all three, emits none.
        FAKE.tags(self.repo, ["2.0", "3.0", "4.0"])
        held = self.wait_source(lambda s: s["held"], "held burst")
        self.assertEqual(held["status"], "held")
        self.assertEqual(held["known"], 1)
        out = self.json("POST", "/api/v1/sources/app/fast-forward",
                        body=b"", expect=202)
        self.assertEqual(out["action"], "fast-forward")
        s = self.wait_source(lambda s: not s["held"] and s["known"] == 4,
                             "fast-forward recorded")
        self.assertEqual(s["counters"]["created"], 0)
        FAKE.tags(self.repo, ["5.0"])
        self.hook.wait_subjects(["%s:5.0" % self.repo])
        self.assertEqual(self.subjects(), ["%s:5.0" % self.repo])

        # Emit-newest: records all three, emits the newest one.
        FAKE.tags(self.repo, ["6.0", "7.0", "8.0"])
        self.wait_source(lambda s: s["held"], "held again")
        self.json("POST", "/api/v1/sources/app/emit-newest", body=b"",
                  expect=202)
        self.wait_source(lambda s: not s["held"] and s["known"] == 8,
                         "emit-newest recorded")
        FAKE.tags(self.repo, ["9.0"])
        self.hook.wait_subjects(["%s:9.0" % self.repo])
        self.assertEqual(self.subjects(), ["%s:%s" % (self.repo, v)
                                           for v in ("5.0", "8.0", "9.0")])
        # One-shot: the next burst is held again.
        FAKE.tags(self.repo, ["10.0", "11.0"])
        self.wait_source(lambda s: s["held"], "held a third time")
        self.watcher.stop()

    def test_replay(self):
        FAKE.repo(name=self.repo, tags=["1.0"])
        self.start(self.config())
        self.wait_source(lambda s: s["baselined"], "baseline")
        FAKE.tags(self.repo, ["1.1"])
        first = self.hook.wait_accepted(1)[0]["event"]["id"]
        out = self.json("POST", "/api/v1/sinks/hook/replay?event=" + first,
                        body=b"")
        self.assertEqual(out, {"sink": "hook", "replayed": True})
        again = self.hook.wait_accepted(2)
        self.assertEqual([d["event"]["id"] for d in again], [first, first])
        self.assertTrue(all(d["signature_ok"] for d in again))

        self.json("POST", "/api/v1/sinks/hook/replay?since=1h", body=b"")
        self.assertEqual(self.hook.wait_accepted(3)[2]["event"]["id"], first)
        self.json("POST", "/api/v1/sinks/hook/replay", body=b"",
                  expect=400)
        self.json("POST", "/api/v1/sinks/nope/replay?since=1h", body=b"",
                  expect=404)
        self.json("GET", "/api/v1/sinks/hook/replay?since=1h", expect=405)
        self.watcher.stop()

    def test_reload_keeps_api_and_pause(self):
        FAKE.repo(name=self.repo, tags=["1.0"])
        FAKE.repo(name=self.repo + "-b", tags=["1.0"])
        config = self.config()
        self.start(config)
        self.wait_source(lambda s: s["baselined"], "baseline")
        self.json("POST", "/api/v1/sources/app/pause", body=b"")
        config["sources"].append(docker_source("b", "fake",
                                               self.repo + "-b",
                                               interval="1s"))
        self.watcher.reload(config)
        self.watcher.wait_log(r'msg="config reloaded" sources=2')
        listed = {s["id"]: s for s in
                  self.json("GET", "/api/v1/sources")["sources"]}
        self.assertEqual(sorted(listed), ["app", "b"])
        self.assertTrue(listed["app"]["paused"])
        self.assertFalse(listed["b"]["paused"])
        self.watcher.wait_for(
            lambda: self.json("GET", "/api/v1/sources/b")["baselined"], 20,
            "the new source polled")
        self.json("POST", "/api/v1/sources/app/resume", body=b"")
        self.wait_source(lambda s: s["counters"]["polls"] >= 1,
                         "polls after resume")
        self.watcher.stop()


if __name__ == "__main__":
    unittest.main()
