"""test_chat.py: the chat sinks (Slack, Teams, Discord, GoogleChat) end to end.

The fake registry (build/fakes/fake-server) is the source; each sink posts
to its own local receiver that checks the service's payload schema (the
fields each service requires, their types and its size limits) and answers
as the service does.  Each receiver first answers 429 the way its service
does (Slack: Retry-After header; Discord: retry_after in a JSON body, in
float seconds; Teams: Retry-After; Google Chat: no hint at all): the event
must then arrive once, no sooner than asked, with the same body.  A re-pointed
tag gives an updated message naming the old digest.  Permanent answers (a
4xx, a redirect) dead-letter the event at once, with the body's start as
the reason, without following the redirect.  Teams is posted over https to a
CA of the test's own (caCertRef) through a CONNECT proxy (proxyUrl).  Two more
sinks carry templates:
a text (Slack), and a JSON object that is the whole payload (Discord).  The
webhook URLs are secrets: their token never shows in the log, only their
host.
"""

import json
import os
import sys
import time
import unittest
import urllib.parse
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import threading

from harness import (Waitable, Watcher, Workdir, docker_source, free_port)
from tlsutil import Certs, ConnectProxy

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "fakes"))
from fakeserver import FakeServer  # noqa: E402

REPO = "chat/app"
TOKEN = "tok-SECRET-"
TEXT_TEMPLATE = ("Deploy *<+artifacts.primary.image>* "
                 "(<+trigger.artifact.build>) from <+event.data.sourceId>")
JSON_TEMPLATE = ('{"content": "<+artifacts.primary.tag> is ready", '
                 '"embeds": [{"title": "<+artifacts.primary.image>", '
                 '"fields": [{"name": "Digest", '
                 '"value": "<+artifacts.primary.digest>"}]}], '
                 '"allowed_mentions": {"parse": []}}')


def chars(text):
    return len(text)


# ------------------------------------------------------------ schemas

def need(problems, cond, what):
    if not cond:
        problems.append(what)


def slack_schema(body, query):
    """Slack incoming webhook: text and Block Kit blocks."""
    p = []
    need(p, isinstance(body.get("text"), str) and body["text"], "text")
    blocks = body.get("blocks", [])
    need(p, isinstance(blocks, list) and len(blocks) <= 50, "blocks <= 50")
    for i, block in enumerate(blocks):
        kind = block.get("type")
        if kind == "section":
            text = block.get("text", {})
            need(p, text.get("type") in ("mrkdwn", "plain_text"),
                 "blocks[%d].text.type" % i)
            need(p, isinstance(text.get("text"), str) and
                 1 <= chars(text["text"]) <= 3000,
                 "blocks[%d].text.text 1..3000" % i)
        elif kind == "context":
            elements = block.get("elements", [])
            need(p, 1 <= len(elements) <= 10, "context elements 1..10")
            for e in elements:
                need(p, e.get("type") in ("mrkdwn", "plain_text", "image"),
                     "context element type")
                need(p, isinstance(e.get("text"), str), "context text")
        else:
            p.append("blocks[%d]: unexpected type %r" % (i, kind))
    return p


def teams_schema(body, query):
    """A Workflows webhook message with Adaptive Card attachments."""
    p = []
    need(p, body.get("type") == "message", "type message")
    attachments = body.get("attachments")
    need(p, isinstance(attachments, list) and attachments, "attachments")
    for a in attachments or []:
        need(p, a.get("contentType") ==
             "application/vnd.microsoft.card.adaptive", "contentType")
        card = a.get("content", {})
        need(p, card.get("type") == "AdaptiveCard", "AdaptiveCard")
        need(p, isinstance(card.get("version"), str), "version")
        need(p, isinstance(card.get("body"), list) and card["body"], "body")
        for element in card.get("body", []):
            kind = element.get("type")
            if kind == "TextBlock":
                need(p, isinstance(element.get("text"), str), "TextBlock")
            elif kind == "FactSet":
                for fact in element.get("facts", []):
                    need(p, isinstance(fact.get("title"), str) and
                         isinstance(fact.get("value"), str), "fact")
            else:
                p.append("unexpected element %r" % kind)
        for action in card.get("actions", []):
            need(p, action.get("type") == "Action.OpenUrl" and
                 action.get("url", "").startswith("http"), "action")
    return p


def discord_schema(body, query):
    """Execute Webhook: content and embeds within Discord's limits."""
    p = []
    need(p, query.get("wait") == ["true"], "?wait=true")
    content = body.get("content", "")
    need(p, isinstance(content, str) and chars(content) <= 2000,
         "content <= 2000")
    embeds = body.get("embeds", [])
    need(p, content or embeds, "content or embeds")
    need(p, len(embeds) <= 10, "embeds <= 10")
    total = 0
    for e in embeds:
        title = e.get("title", "")
        need(p, chars(title) <= 256, "title <= 256")
        description = e.get("description", "")
        need(p, chars(description) <= 4096, "description <= 4096")
        if "url" in e:
            need(p, e["url"].startswith("http"), "url")
        if "timestamp" in e:
            try:
                datetime.fromisoformat(e["timestamp"].replace("Z",
                                                              "+00:00"))
            except ValueError:
                p.append("timestamp %r" % e["timestamp"])
        if "color" in e:
            need(p, isinstance(e["color"], int), "color int")
        fields = e.get("fields", [])
        need(p, len(fields) <= 25, "fields <= 25")
        for f in fields:
            need(p, isinstance(f.get("name"), str) and
                 1 <= chars(f["name"]) <= 256, "field name")
            need(p, isinstance(f.get("value"), str) and
                 1 <= chars(f["value"]) <= 1024, "field value")
            need(p, isinstance(f.get("inline", False), bool), "inline")
            total += chars(f["name"]) + chars(f["value"])
        footer = e.get("footer", {}).get("text", "")
        need(p, chars(footer) <= 2048, "footer")
        total += chars(title) + chars(footer) + chars(description)
    need(p, total <= 6000, "embeds <= 6000 characters")
    mentions = body.get("allowed_mentions", {})
    need(p, mentions.get("parse") == [], "mentions off")
    return p


def gchat_schema(body, query):
    """A Google Chat message: text, cardsV2, thread."""
    p = []
    text = body.get("text", "")
    need(p, isinstance(text, str) and chars(text) <= 4096, "text <= 4096")
    need(p, text or body.get("cardsV2"), "text or cards")
    for item in body.get("cardsV2", []):
        need(p, isinstance(item.get("cardId"), str), "cardId")
        card = item.get("card", {})
        need(p, isinstance(card.get("header", {}).get("title"), str),
             "header.title")
        for section in card.get("sections", []):
            for widget in section.get("widgets", []):
                need(p, len(widget) == 1 and next(iter(widget)) in
                     ("decoratedText", "buttonList", "textParagraph"),
                     "widget %r" % list(widget))
    if "thread" in body:
        need(p, isinstance(body["thread"].get("threadKey"), str),
             "threadKey")
        need(p, query.get("messageReplyOption") ==
             ["REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"], "messageReplyOption")
    need(p, len(json.dumps(body).encode()) <= 32000, "32,000 bytes")
    return p


def slack_ok(body, query):
    return 200, {"Content-Type": "text/plain"}, b"ok"


def teams_ok(body, query):
    return 202, {}, b""


def discord_ok(body, query):
    message = {"id": "1310000000000000001", "type": 0, "channel_id": "1",
               "content": body.get("content", ""),
               "embeds": body.get("embeds", [])}
    return 200, {"Content-Type": "application/json"}, \
        json.dumps(message).encode()


def gchat_ok(body, query):
    message = {"name": "spaces/AAA/messages/BBB", "text": body.get("text")}
    return 200, {"Content-Type": "application/json"}, \
        json.dumps(message).encode()


SERVICES = {
    "slack": (slack_schema, slack_ok, "/services/T0/B0/" + TOKEN + "slack"),
    "teams": (teams_schema, teams_ok,
              "/workflows/abc/triggers/manual/run?sig=" + TOKEN + "teams"),
    "discord": (discord_schema, discord_ok,
                "/api/webhooks/123/" + TOKEN + "discord"),
    "gchat": (gchat_schema, gchat_ok,
              "/v1/spaces/AAA/messages?key=k&token=" + TOKEN + "gchat"),
}


class ChatReceiver(Waitable):
    """One service's webhook on loopback.

    Every request is recorded (method, path, query, headers, body, when,
    answered, problems).  plan() queues answers (status, headers, body)
    for the next requests; then the service's own success answer, unless
    the payload breaks the schema: that gets a 400 and the problems are
    kept for the test to show.
    """

    def __init__(self, service, path=None, context=None):
        super().__init__()
        self.service = service
        self.schema, self.ok, self.path = SERVICES[service]
        self.path = path or self.path
        self.context = context
        self.port = free_port()
        self.requests = []
        self.answers = []
        self.server = None

    @property
    def url(self):
        return "%s://127.0.0.1:%d%s" % ("https" if self.context else "http",
                                        self.port, self.path)

    def plan(self, *answers):
        with self.cond:
            self.answers = list(answers)

    def start(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                owner.receive(self, "POST")

            def do_GET(self):
                owner.receive(self, "GET")

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        if self.context is not None:
            self.server.socket = self.context.wrap_socket(
                self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever,
                         daemon=True).start()

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def receive(self, handler, method):
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length)
        url = urllib.parse.urlsplit(handler.path)
        query = urllib.parse.parse_qs(url.query)
        headers = {k.lower(): v for k, v in handler.headers.items()}
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        problems = []
        if method != "POST":
            problems.append("a %s, not a POST" % method)
        elif not headers.get("content-type", "").startswith(
                "application/json"):
            problems.append("content-type %r" % headers.get("content-type"))
        elif not isinstance(body, dict):
            problems.append("body is not a JSON object")
        else:
            problems = self.schema(body, query)
        with self.cond:
            if problems:
                answer = (400, {}, json.dumps(problems).encode())
            elif self.answers:
                answer = self.answers.pop(0)
            else:
                answer = self.ok(body, query)
            status, answer_headers, answer_body = answer
            self.requests.append({
                "method": method, "path": url.path, "query": query,
                "headers": headers, "raw": raw, "body": body,
                "when": time.monotonic(), "answered": status,
                "problems": problems})
            self.cond.notify_all()
        handler.send_response(status)
        for name, value in answer_headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(answer_body)))
        handler.end_headers()
        handler.wfile.write(answer_body)

    def accepted(self):
        with self.cond:
            return [r for r in self.requests if r["answered"] < 300]

    def wait_accepted(self, count, timeout=30.0):
        def enough():
            return len([r for r in self.requests
                        if r["answered"] < 300]) >= count
        self.wait_for(enough, timeout, "%d accepted by %s"
                      % (count, self.service))
        return self.accepted()

    def problems(self):
        with self.cond:
            return [(r["path"], r["problems"]) for r in self.requests
                    if r["problems"]]


def connector(identifier, url):
    return {"connector": {
        "identifier": identifier, "type": "DockerRegistry",
        "spec": {"dockerRegistryUrl": url, "providerType": "Other",
                 "auth": {"type": "Anonymous"}}}}


class ChatSinks(unittest.TestCase):
    """One watcher, four chat sinks, driven through three releases."""

    @classmethod
    def setUpClass(cls):
        cls.workdir = Workdir("aw-chat-")
        cls.fake = FakeServer()
        # Teams is https with a CA of our own, through a CONNECT proxy.
        cls.certs = Certs(cls.workdir.sub("certs"))
        cls.proxy = ConnectProxy()
        cls.rx = {name: ChatReceiver(name) for name in SERVICES}
        cls.rx["teams"] = ChatReceiver(
            "teams", context=cls.certs.server_context())
        # Two more with templates: a text, and a whole JSON payload.
        cls.rx["slack_text"] = ChatReceiver(
            "slack", "/services/T0/B1/" + TOKEN + "text")
        cls.rx["discord_json"] = ChatReceiver(
            "discord", "/api/webhooks/456/" + TOKEN + "json")
        for receiver in cls.rx.values():
            receiver.start()
        cls.watcher = None

    @classmethod
    def tearDownClass(cls):
        if cls.watcher is not None:
            cls.watcher.stop()
        for receiver in cls.rx.values():
            receiver.stop()
        cls.proxy.stop()
        ok = cls.fake.stop()
        cls.workdir.cleanup()
        assert ok, "the fake did not exit cleanly"

    def config(self):
        return {
            "store": {"type": "lmdb",
                      "path": os.path.join(self.workdir.path, "state")},
            "secrets": {name + "_url": "env:AW_IT_CHAT_" + name.upper()
                        for name in self.rx},
            "connectors": [connector("fake", self.fake.base + "/v2/")],
            "sources": [docker_source("app", "fake", REPO, interval="1s",
                                      digestCheckInterval="1s")],
            "sinks": [
                {"identifier": "slack", "type": "Slack",
                 "spec": {"urlRef": "slack_url"}},
                {"identifier": "teams", "type": "Teams",
                 "spec": {"urlRef": "teams_url", "caCertRef": self.certs.ca,
                          "proxyUrl": self.proxy.url}},
                {"identifier": "discord", "type": "Discord",
                 "spec": {"urlRef": "discord_url",
                          "username": "artifact-watcher"}},
                {"identifier": "gchat", "type": "GoogleChat",
                 "spec": {"urlRef": "gchat_url", "card": True,
                          "threadKey": "<+event.data.sourceId>"}},
                {"identifier": "slack_text", "type": "Slack",
                 "spec": {"urlRef": "slack_text_url",
                          "template": TEXT_TEMPLATE}},
                {"identifier": "discord_json", "type": "Discord",
                 "spec": {"urlRef": "discord_json_url",
                          "template": JSON_TEMPLATE}},
            ],
        }

    def start_watcher(self):
        env = {"AW_IT_CHAT_" + name.upper(): rx.url
               for name, rx in self.rx.items()}
        self.fake.repo(name=REPO, tags=["v1"])
        type(self).watcher = Watcher(self.workdir, self.config(), env=env)
        self.watcher.start()
        self.watcher.wait_log(r'msg="no state for source.*source=app')

    def assert_schemas_held(self):
        for name, receiver in self.rx.items():
            self.assertEqual(receiver.problems(), [],
                             "%s payloads broke the schema" % name)

    def assert_no_secret_logged(self):
        with self.watcher.cond:
            leaked = [line for line in self.watcher.logs if TOKEN in line]
        self.assertEqual(leaked, [])

    def test_1_rate_limited_then_delivered_once(self):
        self.rx["slack"].plan((429, {"Retry-After": "2"}, b"rate_limited"))
        self.rx["discord"].plan((429, {"Retry-After": "2",
                                       "Content-Type": "application/json"},
                                 b'{"message": "You are being rate '
                                 b'limited.", "retry_after": 1.5, '
                                 b'"global": false}'))
        self.rx["teams"].plan((429, {"Retry-After": "1"}, b""))
        self.rx["gchat"].plan((429, {"Content-Type": "application/json"},
                               b'{"error": {"code": 429, "status": '
                               b'"RESOURCE_EXHAUSTED"}}'))
        self.start_watcher()
        # Only the host of each URL is logged.
        ready = self.watcher.wait_log(r'msg="chat sink ready"', count=6)
        self.assertTrue(all("host=127.0.0.1" in line for line in ready))

        self.fake.tags(REPO, ["v2"])
        for receiver in self.rx.values():
            receiver.wait_accepted(1)
        self.watcher.wait_log(r'msg="dispatch: delivered"', count=6)
        self.assert_schemas_held()

        waits = {"slack": 2.0, "discord": 1.5, "teams": 1.0, "gchat": 0.0}
        for name in waits:
            receiver = self.rx[name]
            with receiver.cond:
                seen = list(receiver.requests)
            self.assertEqual([r["answered"] for r in seen],
                             [429, 200 if name in ("slack", "discord",
                                                   "gchat") else 202],
                             "%s: refused once, then delivered once" % name)
            refused, delivered = seen
            self.assertEqual(refused["raw"], delivered["raw"],
                             "%s: the same message again" % name)
            self.assertEqual(refused["headers"]["idempotency-key"],
                             delivered["headers"]["idempotency-key"])
            self.assertGreaterEqual(
                delivered["when"] - refused["when"], waits[name] - 0.05,
                "%s: retried before the wait it was given" % name)

        slack = self.rx["slack"].accepted()[0]["body"]
        self.assertIn("app v2 is out", slack["text"])
        self.assertIn("/%s:v2`" % REPO, slack["blocks"][0]["text"]["text"])
        self.assertIn("*Digest:* `sha256:", slack["blocks"][0]["text"]["text"])
        self.assertEqual(set(self.proxy.tunnelled()),
                         {"127.0.0.1:%d" % self.rx["teams"].port},
                         "Teams went through its proxy, the others not")
        discord = self.rx["discord"].accepted()[0]
        self.assertEqual(discord["query"]["wait"], ["true"])
        embed = discord["body"]["embeds"][0]
        self.assertEqual(embed["title"], "app v2 is out")
        self.assertTrue(embed["description"].endswith("/%s:v2`" % REPO))
        self.assertEqual(discord["body"]["username"], "artifact-watcher")
        teams = self.rx["teams"].accepted()[0]["body"]
        card = teams["attachments"][0]["content"]
        self.assertEqual(card["body"][0]["text"], "app v2 is out")
        gchat = self.rx["gchat"].accepted()[0]
        self.assertEqual(gchat["body"]["thread"]["threadKey"], "app")
        self.assertEqual(gchat["body"]["cardsV2"][0]["card"]["header"]
                         ["title"], "app v2 is out")

        # Templates: the text in Slack's payload; the JSON as it is.
        image = "127.0.0.1:%d/%s:v2" % (self.fake.port, REPO)
        text = self.rx["slack_text"].accepted()[0]["body"]
        self.assertEqual(text["text"], "Deploy *%s* (v2) from app" % image)
        self.assertEqual(text["blocks"], [{"type": "section", "text": {
            "type": "mrkdwn", "text": text["text"]}}])
        whole = self.rx["discord_json"].accepted()[0]
        self.assertEqual(whole["query"]["wait"], ["true"])
        self.assertEqual(whole["body"]["content"], "v2 is ready")
        self.assertEqual(whole["body"]["embeds"][0]["title"], image)
        self.assertTrue(whole["body"]["embeds"][0]["fields"][0]["value"]
                        .startswith("sha256:"))
        self.assertEqual(set(whole["body"]), {"content", "embeds",
                                              "allowed_mentions"})
        self.assert_no_secret_logged()

    def test_2_repointed_tag_names_the_old_digest(self):
        self.assertIsNotNone(self.watcher, "test_1 starts the watcher")
        before = self.rx["slack"].accepted()[-1]["body"]
        old = [line for line in before["blocks"][0]["text"]["text"]
               .splitlines() if line.startswith("*Digest:*")][0]
        self.fake.tags(REPO, ["v2"])
        for receiver in self.rx.values():
            receiver.wait_accepted(2)
        self.assert_schemas_held()
        slack = self.rx["slack"].accepted()[-1]["body"]
        self.assertIn("app v2 was re-pointed", slack["text"])
        section = slack["blocks"][0]["text"]["text"]
        self.assertIn(old.replace("*Digest:*", "*Previous digest:*"),
                      section)
        fields = {f["name"]: f["value"] for f in
                  self.rx["discord"].accepted()[-1]["body"]["embeds"][0]
                  ["fields"]}
        self.assertIn("Previous digest", fields)
        self.assertNotEqual(fields["Previous digest"], fields["Digest"])

    def test_3_permanent_answers_dead_letter_at_once(self):
        self.assertIsNotNone(self.watcher, "test_1 starts the watcher")
        elsewhere = "http://127.0.0.1:%d/moved/%sx" % (free_port(), TOKEN)
        self.rx["slack"].plan((404, {}, b"channel_not_found"))
        self.rx["teams"].plan((302, {"Location": elsewhere}, b""))
        self.rx["discord"].plan((400, {"Content-Type": "application/json"},
                                 b'{"code": 50035, "message": '
                                 b'"Invalid Form Body"}'))
        counts = {name: len(rx.requests) for name, rx in self.rx.items()}
        self.fake.tags(REPO, ["v3"])
        self.rx["gchat"].wait_accepted(3)
        dead = self.watcher.wait_log(r'msg="dispatch: event dead-lettered"',
                                     count=3)
        reasons = {line.split("sink=")[1].split()[0]: line for line in dead}
        self.assertIn("HTTP 404: channel_not_found", reasons["slack"])
        self.assertIn("HTTP 302, a redirect to http://127.0.0.1:",
                      reasons["teams"])
        self.assertIn('HTTP 400: {\\"code\\": 50035', reasons["discord"])
        # Each was asked once, and the redirect was not followed.
        for name in ("slack", "teams", "discord"):
            with self.rx[name].cond:
                after = self.rx[name].requests[counts[name]:]
            self.assertEqual([r["method"] for r in after], ["POST"], name)
        self.assert_no_secret_logged()
        self.assert_schemas_held()


BAD_CONFIG = """\
secrets:
  hook: env:AW_IT_CHAT_UNSET
sinks:
  - identifier: s
    type: Slack
    spec:
      template: "hi"
  - identifier: d
    type: Discord
    spec:
      urlRef: hook
      colour: red
  - identifier: g
    type: GoogleChat
    spec:
      urlRef: missing
  - identifier: g2
    type: GoogleChat
    spec:
      urlRef: hook
      threadKey: "<+event.data.sourceId"
  - identifier: t
    type: Teams
    spec:
      urlRef: hook
      template: '["<+artifacts.primary.tag>"]'
  - identifier: t2
    type: Teams
    spec:
      urlRef: hook
      template: "New: <+artifacts.primary.tgs>"
  - identifier: p
    type: Slack
    spec:
      urlRef: hook
      proxyUrl: ftp://proxy.example:21
"""


class ChatConfig(unittest.TestCase):
    """Every mistake in a chat sink's spec is reported at its place."""

    def test_errors_with_file_line_col(self):
        workdir = Workdir("aw-chat-cfg-")
        try:
            path = workdir.file("bad.yaml", BAD_CONFIG)
            watcher = Watcher(workdir, {})
            watcher.path = path
            done = watcher.run_cli("check", "-c", path)
        finally:
            workdir.cleanup()
        self.assertEqual(done.returncode, 2, done.stderr)
        lines = [line.replace(path, "F") for line in
                 done.stderr.strip().splitlines()]
        self.assertEqual(lines[:5], [
            'F:7:7: missing required key "urlRef" in spec of sink "s"',
            'F:12:7: unknown key "colour" in spec of sink "d"',
            'F:16:15: spec.urlRef of sink "g": secret "missing" is not '
            'defined under secrets:',
            'F:21:19: spec.threadKey of sink "g2": "<+" is not closed by '
            '">"',
            'F:26:17: spec.template of sink "t": a JSON template must be an '
            'object: the whole payload of the service',
        ])
        self.assertTrue(lines[5].startswith(
            'F:31:23: spec.template of sink "t2": unknown expression '
            '<+artifacts.primary.tgs>'), lines[5])
        self.assertEqual(lines[6:], [
            'F:36:17: proxyUrl of sink "p" must start with http://, '
            'https://, socks5://, socks5h://, socks4:// or socks4a://',
            "F: 7 errors"])


if __name__ == "__main__":
    unittest.main()
