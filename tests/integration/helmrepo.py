"""helmrepo.py: a Helm HTTP chart repository for the tests (stdlib only).

Serves `GET /<repo>/index.yaml` (and the chart archives it lists, as
`/<repo>/charts/<chart>-<version>.tgz`) on a free 127.0.0.1 port, from
repositories the test shapes as it goes:

    helm = HelmRepo(); helm.start()
    helm.repo("open")                            # anonymous
    helm.repo("private", credentials=("u", "p"))  # Basic, with a challenge
    helm.charts("open", "app", ["1.0.0", "1.1.0"])
    digest = helm.push("open", "app", "1.2.0")    # a new version
    digest = helm.repush("open", "app", "1.2.0")  # same version, new digest
    helm.fault("/open/", fault="429", retry_after="2", count=1)
    helm.requests(path="/open/index.yaml")        # what was asked, answered
    helm.stop()

The index is the file Helm writes (apiVersion, entries.<chart>[] with
version, appVersion, created, digest, urls, generated), in YAML or, with
`repo(..., json=True)`, JSON.  Every answer carries an ETag (the sha256 of
the body); `If-None-Match` with it gets 304.  Content is a function of
(repository, chart, version, generation): re-pushing a version bumps its
generation, which changes its digest and created time as a real re-push
would.

Faults, in the vocabulary of the C fake (docs/fakes.md): a status ("429",
"503", "500"; `retry_after` sent verbatim), "garbage" (bytes that are not
YAML), "html" (an HTML page with 200), "truncate" (promises the full
Content-Length, sends half, closes), "huge" (a never-ending index, no
Content-Length), "yaml_error" (valid YAML that is not an index); `count`
replies (-1: until cleared), on paths starting with `path_prefix`.
"""

import base64
import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import Waitable, free_port

EPOCH = 1767261600          # 2026-01-01T10:00:00Z: created of generation 0


def rfc3339(seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z",
                         time.gmtime(seconds))


class HelmRepo(Waitable):
    """Chart repositories on one loopback HTTP server."""

    def __init__(self, port=None):
        super().__init__()
        self.port = port or free_port()
        self.repos = {}
        self.rules = []
        self.log = []
        self.server = None
        self.thread = None

    # ---------------------------------------------------------- shaping

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.port

    def url(self, repo):
        """The helmRepoUrl of a repository."""
        return "%s/%s/" % (self.base, repo)

    def repo(self, name, credentials=None, json=False):
        """Make (or re-shape) a repository; credentials: (user, password)."""
        with self.cond:
            repo = self.repos.setdefault(name, {"charts": {}})
            repo["credentials"] = credentials
            repo["json"] = json
        return self.url(name)

    def charts(self, repo, chart, versions, app_version=None):
        """Put versions of chart in repo (generation 0), keeping others."""
        with self.cond:
            entries = self.repos[repo]["charts"].setdefault(chart, {})
            for version in versions:
                entries.setdefault(version, {"generation": 0,
                                             "app": app_version})

    def push(self, repo, chart, version, app_version=None):
        """A new version; returns its digest as events carry it."""
        self.charts(repo, chart, [version], app_version)
        return self.digest(repo, chart, version)

    def repush(self, repo, chart, version):
        """Publish the same version again with other content."""
        with self.cond:
            self.repos[repo]["charts"][chart][version]["generation"] += 1
        return self.digest(repo, chart, version)

    def remove(self, repo, chart):
        with self.cond:
            self.repos[repo]["charts"].pop(chart, None)

    def digest(self, repo, chart, version):
        return "sha256:" + self.hex(repo, chart, version)

    def hex(self, repo, chart, version):
        with self.cond:
            generation = self.repos[repo]["charts"][chart][version][
                "generation"]
        text = "%s/%s-%s#%d" % (repo, chart, version, generation)
        return hashlib.sha256(text.encode()).hexdigest()

    def created(self, repo, chart, version):
        with self.cond:
            generation = self.repos[repo]["charts"][chart][version][
                "generation"]
        return EPOCH + 3600 * generation

    def fault(self, path_prefix="/", count=-1, **rule):
        """Add a fault rule (see the module comment)."""
        rule.update(path_prefix=path_prefix, count=count, hits=0)
        with self.cond:
            self.rules.append(rule)

    def clear_faults(self):
        with self.cond:
            self.rules = []

    def reset(self):
        """Forget every repository, fault and logged request."""
        with self.cond:
            self.repos = {}
            self.rules = []
            self.log = []

    # --------------------------------------------------------- the log

    def requests(self, path=None, since=0):
        """[{"t", "method", "path", "status", "auth", "if_none_match"}]."""
        with self.cond:
            return [r for r in self.log[since:]
                    if path is None or r["path"] == path]

    def count(self, path, status=None):
        return len([r for r in self.requests(path)
                    if status is None or r["status"] == status])

    def wait_requests(self, path, count, status=None, timeout=20.0):
        self.wait_for(lambda: self.count(path, status) >= count, timeout,
                      "%d requests of %s (status %s)"
                      % (count, path, status))

    def wait_more(self, path, more=2, timeout=20.0):
        """Wait for `more` further requests of path than seen so far."""
        self.wait_requests(path, self.count(path) + more, timeout=timeout)

    # --------------------------------------------------------- serving

    def index(self, name):
        """The index.yaml of a repository, as bytes."""
        with self.cond:
            repo = self.repos[name]
            charts = {chart: dict(versions)
                      for chart, versions in repo["charts"].items()}
            as_json = repo["json"]
        entries = {}
        for chart, versions in sorted(charts.items()):
            entries[chart] = []
            for version in sorted(versions, reverse=True):
                entry = {"apiVersion": "v2", "name": chart,
                         "version": version,
                         "created": rfc3339(self.created(name, chart,
                                                         version)),
                         "digest": self.hex(name, chart, version),
                         "urls": ["charts/%s-%s.tgz" % (chart, version)],
                         "description": "a chart for the tests"}
                if versions[version]["app"] is not None:
                    entry["appVersion"] = versions[version]["app"]
                entries[chart].append(entry)
        if as_json:
            return json.dumps({"apiVersion": "v1", "entries": entries,
                               "generated": rfc3339(EPOCH)}).encode()
        lines = ["apiVersion: v1", "entries:"]
        if not entries:
            lines[-1] += " {}"
        for chart, items in entries.items():
            lines.append("  %s:" % chart)
            for entry in items:
                lines.append("  - apiVersion: v2")
                for key in ("name", "version", "appVersion", "created",
                            "digest", "description"):
                    if key in entry:
                        lines.append("    %s: %s" % (key,
                                                     json.dumps(entry[key])))
                lines.append("    urls:")
                lines.append("    - %s" % entry["urls"][0])
        lines.append('generated: "%s"' % rfc3339(EPOCH))
        return ("\n".join(lines) + "\n").encode()

    def take_fault(self, path):
        with self.cond:
            for rule in self.rules:
                if rule["count"] != 0 and path.startswith(
                        rule["path_prefix"]):
                    if rule["count"] > 0:
                        rule["count"] -= 1
                    rule["hits"] += 1
                    return dict(rule)
        return None

    def record(self, handler, status):
        auth = handler.headers.get("Authorization")
        with self.cond:
            self.log.append({
                "t": time.time(), "method": handler.command,
                "path": handler.path.split("?")[0], "status": status,
                "auth": auth.split(" ")[0] if auth else None,
                "if_none_match": handler.headers.get("If-None-Match")})
            self.cond.notify_all()

    def start(self):
        repo = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                repo.serve(self)

            def do_HEAD(self):
                repo.serve(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def reply(self, handler, status, body, headers=()):
        self.record(handler, status)
        handler.send_response(status)
        for name, value in headers:
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(body)

    def serve(self, handler):
        path = handler.path.split("?")[0]
        parts = path.strip("/").split("/")
        with self.cond:
            repo = self.repos.get(parts[0]) if parts else None
        if repo is None:
            return self.reply(handler, 404, b"no such repository\n")
        if repo["credentials"] is not None:
            want = "Basic " + base64.b64encode(
                ("%s:%s" % repo["credentials"]).encode()).decode()
            if handler.headers.get("Authorization") != want:
                return self.reply(handler, 401, b"401 Unauthorized\n", [
                    ("WWW-Authenticate", 'Basic realm="helm-test"')])
        rule = self.take_fault(path)
        if rule is not None:
            return self.serve_fault(handler, rule)
        if parts[1:] == ["index.yaml"]:
            body = self.index(parts[0])
            etag = '"%s"' % hashlib.sha256(body).hexdigest()[:32]
            if handler.headers.get("If-None-Match") == etag:
                self.record(handler, 304)
                handler.send_response(304)
                handler.send_header("ETag", etag)
                handler.end_headers()
                return None
            kind = "application/json" if repo["json"] else \
                "application/x-yaml"
            return self.reply(handler, 200, body, [("Content-Type", kind),
                                                   ("ETag", etag)])
        if len(parts) == 3 and parts[1] == "charts":
            return self.reply(handler, 200, b"\x1f\x8b not a real chart",
                              [("Content-Type", "application/gzip")])
        return self.reply(handler, 404, b"not found\n")

    def serve_fault(self, handler, rule):
        fault = rule["fault"]
        if fault.isdigit():
            headers = []
            if "retry_after" in rule:
                headers.append(("Retry-After", str(rule["retry_after"])))
            return self.reply(handler, int(fault),
                              b"status %s from the test\n" % fault.encode(),
                              headers)
        if fault == "garbage":
            return self.reply(handler, 200, b"\x00\x01{[ not: yaml: at: all",
                              [("Content-Type", "application/x-yaml")])
        if fault == "html":
            return self.reply(handler, 200,
                              b"<!DOCTYPE html>\n<html><body><h1>Sign in"
                              b"</h1></body></html>\n",
                              [("Content-Type", "text/html")])
        if fault == "yaml_error":
            return self.reply(handler, 200, b"- just\n- a list\n",
                              [("Content-Type", "application/x-yaml")])
        if fault == "truncate":
            parts = handler.path.strip("/").split("/")
            body = self.index(parts[0])
            self.record(handler, 200)
            handler.send_response(200)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body[:len(body) // 2])
            handler.wfile.flush()
            handler.close_connection = True
            return None
        if fault == "huge":
            self.record(handler, 200)
            handler.send_response(200)
            handler.send_header("Content-Type", "application/x-yaml")
            handler.send_header("Connection", "close")
            handler.end_headers()
            handler.close_connection = True
            block = b"# padding " + b"x" * 65000 + b"\n"
            try:
                handler.wfile.write(b"apiVersion: v1\nentries: {}\n")
                while True:
                    handler.wfile.write(block)
            except OSError:
                pass
            return None
        raise ValueError("unknown fault " + fault)
