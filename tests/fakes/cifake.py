"""cifake.py: a fake Bamboo and Jenkins server for the CI sources' tests.

Python 3 standard library only.  It answers as the real REST APIs do
(docs/provider-protocols.md section 11): Bamboo's result resource in JSON,
paged by start-index and max-results (at most 25 a page, as some servers
cap it) with `size`, and Jenkins' api/json with a tree= query and its
{M,N} range (`builds` stops at 100, `allBuilds` does not).  It runs in a
thread of the test process, on a free 127.0.0.1 port:

    fake = CiFake(users={"ci": "pw"})       # Basic credentials it accepts
    fake.bamboo_plan("PROJ-APP", [fake.bamboo_result(1)])
    fake.jenkins_job("team/app", [fake.jenkins_build(1)])
    fake.fault("/rest/", "429", count=1)    # 429, 500, garbage, html,
                                            # truncated, huge
    fake.requests("/job/")                  # [(path, headers)] it saw
    fake.stop()

For the conformance suite (tests/integration/drivers_ci.py), as the AWS
fake does it: per-target shapes and a log of what was answered:

    fake.page_limit("PROJ-APP", 10)         # Bamboo pages of that plan
    fake.protect("/job/team/", {"u": "pw"}) # Basic demanded below a path
    fake.served("/rest/api/latest/result/PROJ-APP")
        # [{"t": unix s, "status": 200, "auth": "Basic" or None}]
"""

import base64
import http.server
import json
import re
import threading
import time
import urllib.parse

BAMBOO_PAGE_MAX = 25
JENKINS_BUILDS_MAX = 100

# What the cause of a poll failed by each fault says.
FAULT_CAUSES = {
    "429": r"HTTP 429",
    "500": r"HTTP 500",
    "garbage": r"(?i)invalid JSON|not JSON",
    "html": r"(?i)HTML",
    "truncated": r"(?i)truncat|partial|closed|transfer|short|invalid",
    "huge": r"(?i)exceed|too (large|big)|body|cap",
}


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.fake._serve(self)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass    # a client that hung up on a fault is no news


class CiFake:
    """One fake server with Bamboo plans and Jenkins jobs."""

    def __init__(self, users=None, bearer=None):
        self.users = dict(users or {})
        self.bearer = bearer
        self.plans = {}
        self.jobs = {}
        self.faults = []
        self.log = []
        self.answers = []       # [(path, unix s, status, auth scheme)]
        self.page_limits = {}   # plan key -> results per page
        self.protected = []     # [(path prefix, {user: password})]
        self.lock = threading.Lock()
        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.fake = self
        self.port = self.httpd.server_address[1]
        self.base = "http://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    # Shapes.
    def bamboo_result(self, number, state="Successful", life="Finished",
                      plan="PROJ-APP", artifacts=("dist",),
                      completed="2026-01-01T10:05:12.000+01:00"):
        key = "%s-%d" % (plan, number)
        arts = [{"name": a, "producerJobKey": "%s-JOB1-%d" % (plan, number),
                 "shared": True, "size": 1000 + number,
                 "prettySizeDescription": "1 KB",
                 "link": {"href": "%s/browse/%s/artifact/shared/%s/" %
                          (self.base, key, a), "rel": "self"}}
                for a in artifacts]
        return {
            "expand": "changes,metadata,plan,artifacts",
            "link": {"href": "%s/rest/api/latest/result/%s" % (self.base,
                                                               key),
                     "rel": "self"},
            "planName": "App", "projectName": "Proj",
            "buildResultKey": key, "key": key,
            "planResultKey": {"key": key, "entityKey": {"key": plan},
                              "resultNumber": number},
            "lifeCycleState": life, "state": state, "buildState": state,
            "number": number, "buildNumber": number, "id": 9000 + number,
            "buildStartedTime": completed, "buildCompletedTime": completed,
            "buildDurationInSeconds": 312, "successful": state ==
            "Successful", "finished": life == "Finished",
            "artifacts": {"size": len(arts), "start-index": 0,
                          "max-result": len(arts), "artifact": arts},
        }

    def jenkins_build(self, number, result="SUCCESS", building=False,
                      job="app", artifacts=("dist/app.tgz",),
                      timestamp=1767261600000):
        return {
            "_class": "hudson.model.FreeStyleBuild", "number": number,
            "result": None if building else result, "building": building,
            "timestamp": timestamp + number * 1000, "duration": 312000,
            "url": "%s/job/%s/%d/" % (self.base, job, number),
            "artifacts": [{"fileName": a.rsplit("/", 1)[-1],
                           "relativePath": a} for a in artifacts],
        }

    def bamboo_plan(self, key, results):
        """Results of a plan, newest first."""
        with self.lock:
            self.plans[key] = list(results)

    def jenkins_job(self, name, builds):
        """Builds of a job ("team/app" is a folder), newest first."""
        with self.lock:
            self.jobs[name] = list(builds)

    def fault(self, prefix, kind, count=1, retry_after="1"):
        with self.lock:
            self.faults.append({"prefix": prefix, "kind": kind,
                                "count": count, "retry_after": retry_after})

    def clear_faults(self):
        with self.lock:
            self.faults = []

    def requests(self, prefix=""):
        with self.lock:
            return [r for r in self.log if r[0].startswith(prefix)]

    def page_limit(self, plan, n):
        """Bamboo answers at most n results a page for plan."""
        with self.lock:
            self.page_limits[plan] = n

    def protect(self, prefix, users):
        """Requests below prefix need Basic credentials of users."""
        with self.lock:
            self.protected.append((prefix, dict(users)))

    def served(self, path):
        """What was answered for path (the query aside), oldest first."""
        with self.lock:
            return [{"t": t, "status": status, "auth": auth}
                    for p, t, status, auth in self.answers if p == path]

    def reset(self):
        """Forget every plan, job, fault, protection and log entry."""
        with self.lock:
            self.plans = {}
            self.jobs = {}
            self.faults = []
            self.log = []
            self.answers = []
            self.page_limits = {}
            self.protected = []

    # Serving.
    def _send(self, h, status, body, ctype="application/json",
              headers=(), length=None):
        if isinstance(body, str):
            body = body.encode()
        auth = h.headers.get("Authorization")
        with self.lock:
            self.answers.append((urllib.parse.urlsplit(h.path).path,
                                 time.time(), status,
                                 auth.split()[0] if auth else None))
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body) if length is None
                                            else length))
        for k, v in headers:
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)
        if length is not None:
            h.close_connection = True

    def _json(self, h, status, obj, headers=()):
        self._send(h, status, json.dumps(obj), headers=headers)

    def _take_fault(self, path):
        with self.lock:
            for f in self.faults:
                if path.startswith(f["prefix"]) and f["count"] != 0:
                    f["count"] -= 1
                    return f
        return None

    @staticmethod
    def _basic(h, users):
        auth = h.headers.get("Authorization", "")
        if not auth.startswith("Basic "):
            return False
        try:
            user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return users.get(user) == pw

    def _authorized(self, h):
        path = urllib.parse.urlsplit(h.path).path
        with self.lock:
            rules = [users for prefix, users in self.protected
                     if path.startswith(prefix)]
        if not all(self._basic(h, users) for users in rules):
            return False
        if not self.users and self.bearer is None:
            return True
        auth = h.headers.get("Authorization", "")
        if self.bearer is not None and auth == "Bearer " + self.bearer:
            return True
        return self._basic(h, self.users)

    def _serve(self, h):
        url = urllib.parse.urlsplit(h.path)
        with self.lock:
            self.log.append((h.path, dict(h.headers)))
        fault = self._take_fault(url.path)
        if fault is not None:
            self._fault(h, fault)
            return
        if url.path == "/" or url.path == "":
            self._send(h, 200, "<html>Jenkins</html>", ctype="text/html",
                       headers=[("X-Jenkins", "2.440.1")])
            return
        if not self._authorized(h):
            if url.path.startswith("/rest/"):
                self._json(h, 401, {"message": "Authentication required",
                                    "status-code": 401},
                           headers=[("WWW-Authenticate",
                                     'Basic realm="Bamboo"')])
            else:
                self._send(h, 401, "<html>Unauthorized</html>",
                           ctype="text/html",
                           headers=[("WWW-Authenticate",
                                     'Basic realm="Jenkins"')])
            return
        query = urllib.parse.parse_qs(url.query)
        m = re.match(r"^/rest/api/latest/result/([^/]+?)(\.json)?$",
                     url.path)
        if m:
            self._bamboo(h, urllib.parse.unquote(m.group(1)), query)
            return
        if url.path == "/rest/api/latest/currentUser":
            self._json(h, 200, {"name": "ci", "fullName": "CI reader",
                                "email": "ci@example.invalid"})
            return
        if url.path == "/api/json":
            self._json(h, 200, {"_class": "hudson.model.Hudson",
                                "mode": "NORMAL"})
            return
        if url.path == "/me/api/json":
            self._json(h, 200, {"_class": "hudson.model.User",
                                "fullName": "ci", "id": "ci"})
            return
        m = re.match(r"^((?:/job/[^/]+)+)/(?:(\d+)/)?api/json$", url.path)
        if m:
            parts = [urllib.parse.unquote(p) for p in
                     m.group(1).split("/job/")[1:]]
            self._jenkins(h, "/".join(parts), m.group(2), query)
            return
        self._send(h, 404, "<html>Not Found</html>", ctype="text/html")

    def _fault(self, h, f):
        kind = f["kind"]
        if kind == "429":
            self._json(h, 429, {"message": "slow down"},
                       headers=[("Retry-After", f["retry_after"])])
        elif kind == "500":
            self._send(h, 500, "<html>Internal error</html>",
                       ctype="text/html")
        elif kind == "garbage":
            self._send(h, 200, b"\x00\xff{{not json at all")
        elif kind == "html":
            self._send(h, 200, "<!DOCTYPE html><html><body>Log in"
                       "</body></html>", ctype="text/html")
        elif kind == "truncated":
            self._send(h, 200, '{"results": {"size": 3, "result": [',
                       length=4096)
        elif kind == "huge":
            body = b'{"pad": "' + b"x" * (9 * 1024 * 1024) + b'"}'
            self._send(h, 200, body)
        else:
            raise ValueError(kind)

    def _bamboo(self, h, key, query):
        with self.lock:
            results = self.plans.get(key)
        if results is None:
            self._json(h, 404, {"message": "Result %s not found" % key,
                                "status-code": 404})
            return
        if h.headers.get("Accept", "").find("json") < 0 and \
                not h.path.split("?")[0].endswith(".json"):
            self._send(h, 200, "<results/>", ctype="application/xml")
            return
        start = int(query.get("start-index", ["0"])[0])
        want = int(query.get("max-results", query.get("max-result",
                                                      ["25"]))[0])
        want = min(want, BAMBOO_PAGE_MAX)
        with self.lock:
            want = min(want, self.page_limits.get(key, want))
        finished = [r for r in results if r["lifeCycleState"] == "Finished"]
        page = finished[start:start + want]
        self._json(h, 200, {"expand": "results", "link": {
            "href": "%s/rest/api/latest/result/%s" % (self.base, key),
            "rel": "self"}, "results": {
                "size": len(finished), "expand": "result",
                "start-index": start, "max-result": len(page),
                "result": page}})

    def _jenkins(self, h, name, number, query):
        with self.lock:
            builds = self.jobs.get(name)
        if builds is None:
            self._send(h, 404, "<html>Not Found</html>", ctype="text/html")
            return
        if number is not None:
            for b in builds:
                if b["number"] == int(number):
                    self._json(h, 200, b)
                    return
            self._send(h, 404, "<html>Not Found</html>", ctype="text/html")
            return
        job = {"_class": "hudson.model.FreeStyleProject", "name":
               name.rsplit("/", 1)[-1], "fullName": name,
               "url": "%s/job/%s/" % (self.base, "/job/".join(
                   name.split("/")))}
        tree = query.get("tree", [None])[0]
        if tree is None:
            job["builds"] = [{"_class": b["_class"], "number": b["number"],
                              "url": b["url"]}
                             for b in builds[:JENKINS_BUILDS_MAX]]
            job["lastBuild"] = job["builds"][0] if builds else None
            self._json(h, 200, job)
            return
        m = re.match(r"^(builds|allBuilds)\[(.*)\](?:\{(\d*),(\d*)\})?$",
                     tree)
        if not m:
            self._json(h, 400, {"message": "bad tree"})
            return
        field, lo, hi = m.group(1), m.group(3), m.group(4)
        lst = builds if field == "allBuilds" else builds[:JENKINS_BUILDS_MAX]
        lo = int(lo) if lo else 0
        hi = int(hi) if hi else len(lst)
        out = {"_class": job["_class"], field: lst[lo:hi]}
        self._json(h, 200, out)
