"""test_docker_e2e.py: the watcher end to end against real servers.

A real docker-registry (anonymous, htpasswd Basic, token auth), a real
redis-server with AOF on, and a webhook receiver, all on loopback.  The
watcher (./artifact-watcher run) is configured with 1 s intervals; tests
wait on what the servers observe (registry tag listings, webhook
deliveries), never on fixed sleeps.  "A poll has finished" is observed as
two more tag listings of the repository, since polls of one source never
overlap.

Cases (issue 2): baseline emits nothing; new tag -> one created event with
the right fields and a valid signature; re-pointed tag -> updated with
previousDigest; restart -> no repeats; webhook down then up -> delivered
later; Redis restarted mid-run -> nothing lost; SIGHUP reloads (a bad
file keeps the old config); Basic and token registries;
hostile registry answers (garbage JSON, HTML, 500, truncated, oversized)
give one log line per failed poll while a healthy source still delivers;
`once` exit codes, and 5 when a receiver refused an event (its answer in
the dead-letter reason).
"""

import calendar
import json
import os
import re
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import suite
from harness import (Redis, Registry, Workdir, docker_connector,
                     docker_source, logfmt, webhook_sink)

HOOK_SECRET = "e2e-hook-secret-value"
REGISTRY_SECRET_ENV = "AW_E2E_REGISTRY_PASSWORD"
ENV = {"AW_E2E_HOOK_KEY": HOOK_SECRET,
       REGISTRY_SECRET_ENV: Registry.PASSWORD}

WORKDIR = None
REDIS = None
REGISTRY = None


def setUpModule():
    global WORKDIR, REDIS, REGISTRY
    WORKDIR = Workdir()
    REDIS = Redis(WORKDIR)
    REDIS.start()
    REGISTRY = Registry(WORKDIR, "anonymous")
    REGISTRY.start()


def tearDownModule():
    REGISTRY.stop()
    REDIS.stop()
    WORKDIR.cleanup()


def parse_time(text):
    """RFC 3339 UTC ("...Z", optional fraction) to epoch seconds."""
    base = re.sub(r"\.[0-9]+Z$", "Z", text)
    return calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%SZ"))


class WatcherCase(suite.WatcherCase):
    """Fresh Redis data, a webhook and helpers for every test."""

    HOOK_SECRET = HOOK_SECRET
    ENV = ENV

    def setUp(self):
        REDIS.cli("FLUSHALL")
        super().setUp()
        self.client = REGISTRY.client()

    def config(self, sources, connectors=None, sinks=None):
        return {
            "store": {"type": "redis", "url": REDIS.url},
            "secrets": {"hook_key": "env:AW_E2E_HOOK_KEY",
                        "registry_pwd": "env:" + REGISTRY_SECRET_ENV},
            "connectors": connectors or [
                docker_connector("local", REGISTRY.url)],
            "sources": sources,
            "sinks": sinks or [webhook_sink("hook", self.hook)],
        }

    def assert_no_secret_logged(self, watcher):
        super().assert_no_secret_logged(watcher, Registry.PASSWORD)

    def assert_event(self, delivery, kind, source, repo, tag, digest,
                     previous=None, registry=None, connector="local"):
        """Check one delivery against DESIGN sections 4 and 6."""
        registry = registry or REGISTRY
        headers, event = delivery["headers"], delivery["event"]
        self.assertIsNotNone(event, "body is not JSON: %r" % delivery["body"])
        self.assertTrue(delivery["signature_ok"], "bad signature")
        self.assertTrue(headers.get("content-type", "").startswith(
            "application/cloudevents+json"), headers.get("content-type"))
        self.assertEqual(headers.get("idempotency-key"), event["id"])
        stamp = int(headers["x-artifact-watcher-timestamp"])
        self.assertLess(abs(stamp - time.time()), 300)

        self.assertEqual(event["specversion"], "1.0")
        self.assertEqual(event["type"], "artifact." + kind)
        self.assertEqual(event["source"],
                         "/artifact-watcher/sources/" + source)
        self.assertEqual(event["subject"], "%s:%s" % (repo, tag))
        self.assertTrue(event["id"])
        self.assertEqual(event["datacontenttype"], "application/json")
        self.assertLess(abs(parse_time(event["time"]) - time.time()), 300)

        data = event["data"]
        self.assertEqual(data["sourceId"], source)
        self.assertEqual(data["sourceType"], "DockerRegistry")
        self.assertEqual(data["connectorRef"], connector)
        self.assertEqual(data["registry"], registry.host)
        self.assertEqual(data["repository"], repo)
        self.assertEqual(data["version"], tag)
        self.assertEqual(data["digest"], digest)
        self.assertEqual(data["previousDigest"], previous)
        self.assertEqual(data["image"],
                         "%s/%s:%s" % (registry.host, repo, tag))


class Delivery(WatcherCase):
    def test_baseline_silent_then_one_created_event(self):
        repo = "e2e/created"
        self.client.push(repo, "1.0")
        self.client.push(repo, "1.1")
        watcher = self.start(self.config([docker_source(
            "created", "local", repo, fetchLabels=True)]))
        REGISTRY.wait_listings(repo, 2)
        self.assertEqual(self.hook.deliveries, [], "baseline emitted")

        labels = {"org.opencontainers.image.version": "1.2",
                  "team": "e2e"}
        digest = self.client.push(repo, "1.2", labels=labels)
        [delivery] = self.hook.wait_accepted(1)
        self.assert_event(delivery, "created", "created", repo, "1.2",
                          digest)
        self.assertEqual(delivery["event"]["data"]["labels"], labels)

        REGISTRY.wait_more_polls(repo)
        self.assertEqual(len(self.hook.deliveries), 1, "event repeated")
        watcher.stop()
        self.assert_no_secret_logged(watcher)

    def test_repointed_tag_is_updated_with_previous_digest(self):
        repo = "e2e/updated"
        old = self.client.push(repo, "latest")
        watcher = self.start(self.config([docker_source(
            "updated", "local", repo, digestCheckInterval="1s")]))
        # The baseline may record the tag without its digest; wait until a
        # digest check has read it and that poll is over before moving it.
        REGISTRY.wait_requests("HEAD", "/v2/%s/manifests/latest" % repo)
        REGISTRY.wait_more_polls(repo)

        new = self.client.retag(repo, "latest", "rebuilt image")
        self.assertNotEqual(new, old)
        [delivery] = self.hook.wait_accepted(1)
        self.assert_event(delivery, "updated", "updated", repo, "latest",
                          new, previous=old)
        REGISTRY.wait_more_polls(repo)
        self.assertEqual(len(self.hook.deliveries), 1, "event repeated")
        watcher.stop()

    def test_restart_emits_no_repeats(self):
        repo = "e2e/restart"
        self.client.push(repo, "1.0")
        config = self.config([docker_source("restart", "local", repo)])
        first = self.start(config)
        REGISTRY.wait_listings(repo, 2)
        digest = self.client.push(repo, "2.0")
        [delivery] = self.hook.wait_accepted(1)
        # SIGTERM abandons a delivery in flight (at-least-once: it would
        # come again), so let the watcher see the 200 and ack it first.
        first.wait_log(r'msg="dispatch: delivered" .*id=%s'
                       % delivery["event"]["id"])
        REGISTRY.wait_more_polls(repo)
        first.stop()

        second = self.start(config)
        REGISTRY.wait_more_polls(repo, 3)
        self.assertEqual(len(self.hook.deliveries), 1,
                         "restarted watcher repeated an event")
        later = self.client.push(repo, "2.1")
        deliveries = self.hook.wait_accepted(2)
        self.assert_event(deliveries[0], "created", "restart", repo, "2.0",
                          digest)
        self.assert_event(deliveries[1], "created", "restart", repo, "2.1",
                          later)
        second.stop()

    def test_webhook_down_then_up_delivers_later(self):
        repo = "e2e/hookdown"
        self.client.push(repo, "1.0")
        watcher = self.start(self.config([docker_source(
            "hookdown", "local", repo)]))
        REGISTRY.wait_listings(repo, 2)

        self.hook.set_status(503)
        digests = {"3.0": self.client.push(repo, "3.0"),
                   "3.1": self.client.push(repo, "3.1")}
        self.hook.wait_refused(2, timeout=30)
        self.hook.stop()
        REGISTRY.wait_more_polls(repo)
        self.hook.set_status(200)
        self.hook.start()

        self.hook.wait_subjects([repo + ":3.0", repo + ":3.1"],
                                timeout=60)
        refused_ids = {d["event"]["id"] for d in self.hook.deliveries
                       if d["answered"] == 503}
        for delivery in self.hook.accepted():
            tag = delivery["event"]["data"]["version"]
            self.assert_event(delivery, "created", "hookdown", repo, tag,
                              digests[tag])
        accepted_ids = {d["event"]["id"] for d in self.hook.accepted()}
        self.assertTrue(refused_ids <= accepted_ids,
                        "a retried event changed its id")
        watcher.stop()

    def test_redis_restart_loses_nothing(self):
        repo = "e2e/redis"
        self.client.push(repo, "1.0")
        config = self.config([docker_source("redis", "local", repo)])
        watcher = self.start(config)
        REGISTRY.wait_listings(repo, 2)

        # An event committed to the outbox but not yet delivered...
        self.hook.set_status(503)
        pending = self.client.push(repo, "4.0")
        self.hook.wait_refused(1)
        # ...survives a restart of Redis under the running watcher...
        REDIS.restart()
        REGISTRY.wait_more_polls(repo)
        after = self.client.push(repo, "4.1")
        # Delivery keeps outbox order, so 4.1 waits behind 4.0: see it
        # committed in the log instead of at the webhook.
        watcher.wait_log(r'msg="poll committed" source=redis created=1',
                         count=2)
        # ...and of the watcher itself.
        watcher.stop()
        REDIS.restart()
        self.hook.set_status(200)
        watcher = self.start(config)

        self.hook.wait_subjects([repo + ":4.0", repo + ":4.1"],
                                timeout=60)
        for delivery in self.hook.accepted():
            tag = delivery["event"]["data"]["version"]
            self.assert_event(delivery, "created", "redis", repo, tag,
                              {"4.0": pending, "4.1": after}[tag])
        watcher.stop()


class Reload(WatcherCase):
    def test_sighup_reloads_and_keeps_old_config_on_error(self):
        first, second = "e2e/reload-a", "e2e/reload-b"
        self.client.push(first, "1.0")
        self.client.push(second, "1.0")
        config = self.config([docker_source("reload-a", "local", first)])
        watcher = self.start(config)
        REGISTRY.wait_listings(first, 2)
        self.assertEqual(REGISTRY.listings(second), 0)

        config = self.config([docker_source("reload-a", "local", first),
                              docker_source("reload-b", "local", second)])
        watcher.reload(config)
        REGISTRY.wait_listings(second, 2)
        digest = self.client.push(second, "1.1")
        [delivery] = self.hook.wait_accepted(1)
        self.assert_event(delivery, "created", "reload-b", second, "1.1",
                          digest)

        watcher.reload(text="sources:\n  - identifier: [broken\n")
        watcher.wait_log(r"level=error .*reload")
        REGISTRY.wait_more_polls(second)
        REGISTRY.wait_more_polls(first)
        self.assertTrue(watcher.running())
        watcher.stop()


class MutableTags(WatcherCase):
    """DESIGN section 2: mutable tags are watched with no configuration."""

    def test_latest_repointed_after_baseline_is_updated_by_default(self):
        repo = "e2e/mutable"
        old = self.client.push(repo, "latest")
        self.client.push(repo, "1.0.0")
        # The default config: no digestCheckInterval, no mutableTagRegex.
        watcher = self.start(self.config([docker_source(
            "mutable", "local", repo)]))
        # The baseline records latest's digest (1.0.0's waits for its
        # digestCheckInterval).
        REGISTRY.wait_requests("HEAD", "/v2/%s/manifests/latest" % repo)
        watcher.wait_log(r'msg="poll committed" source=mutable')
        REGISTRY.wait_more_polls(repo)
        self.assertEqual(self.hook.deliveries, [], "baseline emitted")

        new = self.client.retag(repo, "latest", "rebuilt image")
        self.assertNotEqual(new, old)
        [delivery] = self.hook.wait_accepted(1)
        self.assert_event(delivery, "updated", "mutable", repo, "latest",
                          new, previous=old)
        REGISTRY.wait_more_polls(repo)
        self.assertEqual(len(self.hook.deliveries), 1, "event repeated")
        watcher.stop()

    def test_excluded_tags_cost_no_request(self):
        repo = "e2e/excluded"
        self.client.push(repo, "1.0.0")
        source = docker_source("excluded", "local", repo)
        source["spec"]["tagRegex"] = r"^\d+\.\d+\.\d+$"
        watcher = self.start(self.config([source]))
        REGISTRY.wait_listings(repo, 2)
        signature = "sha256-%s.sig" % ("ab" * 32)
        self.client.push(repo, "nightly-1")
        self.client.push(repo, signature)
        digest = self.client.push(repo, "2.0.0")
        [delivery] = self.hook.wait_accepted(1)
        self.assert_event(delivery, "created", "excluded", repo, "2.0.0",
                          digest)
        REGISTRY.wait_more_polls(repo)
        self.assertEqual(len(self.hook.deliveries), 1)
        # (the pushes above PUT those manifests: only reads count)
        asked = [p for m, p, _ in REGISTRY.requests
                 if m in ("GET", "HEAD") and "/manifests/" in p and
                 ("nightly" in p or ".sig" in p)]
        self.assertEqual(asked, [], "an excluded tag cost a request")
        watcher.stop()

    def test_versions_json_counts_digest_checks(self):
        repo = "e2e/checks"
        self.client.push(repo, "latest")
        self.client.push(repo, "stable")
        self.client.push(repo, "1.0.0")
        source = docker_source("checks", "local", repo)
        source["spec"]["digestChecksPerPoll"] = 1
        watcher = self.new_watcher(self.config([source]))
        result = watcher.run_cli("versions", "-c", watcher.write_config(),
                                 "checks", "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        out = json.loads(result.stdout)
        self.assertEqual(out["digestChecks"], 1)
        self.assertEqual(out["mutable"], 2)


class Identity(WatcherCase):
    """DESIGN section 2: a source's identity is what it watches."""

    def check_rebaseline(self, store, name):
        first, second = "e2e/ident-%s-a" % name, "e2e/ident-%s-b" % name
        self.client.push(first, "1.0")
        self.client.push(second, "2.0")
        self.client.push(second, "2.1")
        config = self.config([docker_source("ident-" + name, "local",
                                            first)])
        config["store"] = store
        watcher = self.start(config)
        watcher.wait_log(r'msg="poll committed" source=ident-%s' % name)
        watcher.stop()

        config["sources"][0]["spec"]["imagePath"] = second
        watcher = self.start(config)
        watcher.wait_log(r'msg="the source watches something else now.*'
                         r'source=ident-%s' % name)
        REGISTRY.wait_listings(second, 3)
        self.assertEqual(self.hook.deliveries, [],
                         "the new target's tags were emitted as new")
        digest = self.client.push(second, "2.2")
        [delivery] = self.hook.wait_accepted(1)
        self.assert_event(delivery, "created", "ident-" + name, second,
                          "2.2", digest)
        watcher.stop()

        # Unchanged target: a restart says nothing of the kind.
        watcher = self.start(config)
        REGISTRY.wait_more_polls(second, 3)
        self.assertEqual(
            [line for line in watcher.logs if "something else" in line], [])
        self.assertEqual(len(self.hook.deliveries), 1)
        watcher.stop()

    def test_changed_image_path_rebaselines_silently_redis(self):
        self.check_rebaseline({"type": "redis", "url": REDIS.url}, "redis")

    def test_changed_image_path_rebaselines_silently_lmdb(self):
        self.check_rebaseline({"type": "lmdb", "path": os.path.join(
            WORKDIR.path, "ident-lmdb")}, "lmdb")


class Auth(WatcherCase):
    def run_authenticated(self, mode):
        registry = Registry(WORKDIR, mode)
        registry.start()
        self.addCleanup(registry.stop)
        client = registry.client()
        repo = "e2e/" + mode
        client.push(repo, "1.0")
        connector = docker_connector("private", registry.url,
                                     username=Registry.USERNAME,
                                     password_ref="registry_pwd")
        watcher = self.start(self.config(
            [docker_source(mode, "private", repo)], connectors=[connector]))
        registry.wait_listings(repo, 2)
        self.assertEqual(self.hook.deliveries, [])
        digest = client.push(repo, "1.1")
        [delivery] = self.hook.wait_accepted(1)
        self.assert_event(delivery, "created", mode, repo, "1.1", digest,
                          registry=registry, connector="private")
        ok = [r for r in registry.requests
              if r[1] == "/v2/%s/tags/list" % repo and r[2] == 200]
        self.assertTrue(ok, "no authorised listing")
        watcher.stop()
        self.assert_no_secret_logged(watcher)
        return registry

    def test_htpasswd_basic_registry(self):
        self.run_authenticated("htpasswd")

    def test_token_auth_registry(self):
        registry = self.run_authenticated("token")
        self.assertGreater(registry.tokens.granted_count("artifact-watcher"),
                           0, "the watcher never asked the realm")


class HostileRegistry:
    """A registry that answers every tag listing badly, per repository.

    /v2/garbage/...   200, application/json, not JSON
    /v2/html/...      200, an HTML page
    /v2/error/...     500 with an error body
    /v2/truncated/... Content-Length larger than the body, then close
    /v2/huge/...      a 65 MiB JSON body, over the 64 MiB cap
    """

    HUGE = 65 * 1024 * 1024

    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                owner.answer(self)

            do_HEAD = do_GET

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever,
                         daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def listings(self, repo):
        with self.lock:
            return self.counts.get(repo, 0)

    def send(self, handler, status, kind, body, length=None):
        handler.send_response(status)
        handler.send_header("Content-Type", kind)
        handler.send_header("Docker-Distribution-Api-Version",
                            "registry/2.0")
        handler.send_header("Content-Length",
                            str(len(body) if length is None else length))
        if length is not None:
            handler.send_header("Connection", "close")
            handler.close_connection = True
        handler.end_headers()
        handler.wfile.write(body)

    def answer(self, handler):
        path = handler.path.split("?")[0]
        if path == "/v2/":
            self.send(handler, 200, "application/json", b"{}")
            return
        match = re.match(r"^/v2/(\w+)/tags/list$", path)
        if not match:
            self.send(handler, 404, "application/json",
                      b'{"errors":[{"code":"NAME_UNKNOWN"}]}')
            return
        repo = match.group(1)
        with self.lock:
            self.counts[repo] = self.counts.get(repo, 0) + 1
        if repo == "garbage":
            self.send(handler, 200, "application/json",
                      b'{"name": "garbage", "tags": [1, {]]')
        elif repo == "html":
            self.send(handler, 200, "text/html",
                      b"<html><body><h1>Welcome to nginx!</h1></body></html>")
        elif repo == "error":
            self.send(handler, 500, "application/json",
                      b'{"errors":[{"code":"UNKNOWN","message":"boom"}]}')
        elif repo == "truncated":
            self.send(handler, 200, "application/json",
                      b'{"name":"truncated","tags":["1.0","1.', length=4096)
        elif repo == "huge":
            self.send_huge(handler)
        else:
            self.send(handler, 404, "application/json", b"{}")

    def send_huge(self, handler):
        head = b'{"name":"huge","tags":["'
        tail = b'"]}'
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length",
                            str(len(head) + self.HUGE + len(tail)))
        handler.end_headers()
        chunk = b"a" * (1024 * 1024)
        try:
            handler.wfile.write(head)
            for _ in range(self.HUGE // len(chunk)):
                handler.wfile.write(chunk)
            handler.wfile.write(tail)
        except OSError:
            handler.close_connection = True


class BadInput(WatcherCase):
    BAD = ("garbage", "html", "error", "truncated", "huge")

    def failure_lines(self, watcher, source):
        """warn/error log lines about source."""
        lines = []
        for line in watcher.logs:
            fields = logfmt(line)
            if (fields.get("source") == source and
                    fields.get("level") in ("warn", "warning", "error")):
                lines.append(line)
        return lines

    def test_hostile_answers_fail_alone(self):
        fake = HostileRegistry()
        self.addCleanup(fake.stop)
        repo = "e2e/healthy"
        self.client.push(repo, "1.0")
        sources = [docker_source("bad-" + name, "hostile", name)
                   for name in self.BAD]
        sources.append(docker_source("healthy", "local", repo))
        connectors = [docker_connector("local", REGISTRY.url),
                      docker_connector("hostile", fake.url)]
        watcher = self.start(self.config(sources, connectors=connectors))

        for name in self.BAD:
            watcher.wait_for(
                lambda: len(self.failure_lines(watcher, "bad-" + name)) >= 2,
                30, "two failed polls of " + name)
        REGISTRY.wait_listings(repo, 2)
        digest = self.client.push(repo, "1.1")
        [delivery] = self.hook.wait_accepted(1)
        self.assert_event(delivery, "created", "healthy", repo, "1.1",
                          digest)
        self.assertTrue(watcher.running(), "watcher died on bad input")
        watcher.stop()

        for name in self.BAD:
            lines = self.failure_lines(watcher, "bad-" + name)
            polls = fake.listings(name)
            self.assertGreaterEqual(len(lines), 2, name)
            self.assertLessEqual(len(lines), polls,
                                 "%s: more failure lines than polls:\n%s"
                                 % (name, "\n".join(lines)))
            for line in lines:
                self.assertLess(len(line), 1000, "log line too long")
                # Clear: the line says what was asked and what went wrong.
                self.assertIn("/v2/%s/tags/list" % name,
                              logfmt(line).get("error", ""), line)
        self.assertEqual(self.failure_lines(watcher, "healthy"), [])


class Once(WatcherCase):
    def test_once_exit_codes(self):
        repo = "e2e/once"
        self.client.push(repo, "1.0")
        watcher = self.new_watcher(self.config(
            [docker_source("once", "local", repo)]))

        baseline = watcher.run_cli("once", "-c", watcher.write_config())
        self.assertEqual(baseline.returncode, 0, baseline.stderr)
        self.assertEqual(self.hook.deliveries, [])

        digest = self.client.push(repo, "1.1")
        second = watcher.run_cli("once", "-c", watcher.path)
        self.assertEqual(second.returncode, 0, second.stderr)
        # Everything pending is delivered before `once` exits.
        [delivery] = self.hook.accepted()
        self.assert_event(delivery, "created", "once", repo, "1.1", digest)

        third = watcher.run_cli("once", "-c", watcher.path)
        self.assertEqual(third.returncode, 0, third.stderr)
        self.assertEqual(len(self.hook.deliveries), 1)

    def test_once_dead_letter_exits_5_with_the_answer(self):
        repo = "e2e/once-dead"
        self.client.push(repo, "1.0")
        watcher = self.new_watcher(self.config(
            [docker_source("dead", "local", repo)]))
        path = watcher.write_config()
        baseline = watcher.run_cli("once", "-c", path)
        self.assertEqual(baseline.returncode, 0, baseline.stderr)

        # A receiver that refuses the payload, says why, and echoes
        # control characters, a long tail and the signing secret.
        self.hook.set_status(400, b'{"error": "unknown field\x1b[31m '
                             b'\'subject\'"}\r\n\t\x00' +
                             HOOK_SECRET.encode() + b" " + b"x" * 5000)
        self.client.push(repo, "1.1")
        dead = watcher.run_cli("once", "-c", path)
        self.assertEqual(dead.returncode, 5, dead.stderr)
        self.assertEqual(len(self.hook.deliveries), 1)
        lines = [logfmt(line) for line in dead.stderr.splitlines()
                 if 'msg="dispatch: event dead-lettered"' in line]
        self.assertEqual(len(lines), 1, dead.stderr)
        reason = lines[0]["reason"]
        self.assertTrue(reason.startswith(
            'webhook hook: HTTP 400: {"error": "unknown field [31m '
            '\'subject\'"} '), reason)
        self.assertTrue(reason.endswith("..."), reason)
        self.assertNotIn(HOOK_SECRET, dead.stderr)
        self.assertIn("*" * len(HOOK_SECRET), reason)
        self.assertFalse(re.search(r"[\x00-\x1f\x7f]", reason), reason)
        self.assertLess(len(reason), 300)
        self.assertIn('msg="once: events were dead-lettered in this run"',
                      dead.stderr)

        # The history keeps the same reason.
        history = watcher.run_cli("history", "-c", path, "--json")
        self.assertEqual(history.returncode, 0, history.stderr)
        self.assertIn(json.dumps(reason)[1:-1], history.stdout)

        # Dead letters of an earlier run do not count: nothing new, 0.
        self.hook.set_status(200)
        again = watcher.run_cli("once", "-c", path)
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertEqual(len(self.hook.deliveries), 1)

    def test_once_poll_error_exits_1(self):
        fake = HostileRegistry()
        self.addCleanup(fake.stop)
        repo = "e2e/once-mixed"
        self.client.push(repo, "1.0")
        connectors = [docker_connector("local", REGISTRY.url),
                      docker_connector("hostile", fake.url)]
        watcher = self.new_watcher(self.config(
            [docker_source("good", "local", repo),
             docker_source("bad", "hostile", "error")],
            connectors=connectors))
        path = watcher.write_config()

        both = watcher.run_cli("once", "-c", path)
        self.assertEqual(both.returncode, 1, both.stderr)
        self.assertGreater(fake.listings("error"), 0)
        good = watcher.run_cli("once", "-c", path, "--source", "good")
        self.assertEqual(good.returncode, 0, good.stderr)
        bad = watcher.run_cli("once", "-c", path, "--source", "bad")
        self.assertEqual(bad.returncode, 1, bad.stderr)


if __name__ == "__main__":
    unittest.main()
