"""httpfront.py: a fault-injecting front for a real HTTP server (verdaccio,
docker-registry), as s3front.py is for s3rver.

The front forwards every request to the server behind it and its answer
back as it came; the test tells it how to name the *target* of a request
(a package, a repository) and which requests are listings.  Per target it
can then:

  - record the listings it saw: (unix seconds, status, auth scheme);
  - play a fault on the listings: "429" (with Retry-After), "garbage"
    (broken JSON), "html" (an HTML page with status 200), "truncate" (a
    body shorter than its Content-Length), "huge" (a body past any cap);
  - cut the listing into pages: a `pager` of the test cuts the server's
    whole answer (docker-registry 2.8 ignores `n` on tags/list; the
    front then pages it as the distribution spec says, n/last and Link);
  - demand Basic credentials (a 401 with a Basic challenge otherwise);
    the server behind sees the request without them.

    front = HttpFront(backend_port, classify=lambda path, query: ...,
                      pager=lambda limit, path, query, body: ...)
    front.start()
    front.fault("app", "html")
    front.stop()

classify(path, query) -> (target or None, is_listing);
pager(limit, path, query, body) -> (body, next URL or None).
"""

import base64
import http.client
import http.server
import socketserver
import sys
import threading
import time
import urllib.parse

HUGE = 80 * 1024 * 1024         # past every provider's body cap


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body, headers=()):
        self.send_response(status)
        for k, v in headers:
            if k.lower() not in ("transfer-encoding", "connection",
                                 "content-length", "keep-alive"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def forward(self):
        front = self.server.front
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        parts = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        target, listing = front.classify(urllib.parse.unquote(parts.path),
                                         dict(query))
        got = self.headers.get("Authorization")
        scheme = got.split(" ", 1)[0] if got else None
        if target is not None and not front.authorized(target, got):
            if listing:
                front.listed(target, 401, scheme)
            self.reply(401, b'{"error":"authentication required"}',
                       [("Content-Type", "application/json"),
                        ("WWW-Authenticate", 'Basic realm="front"')])
            return
        if listing and self.play_fault(target, scheme):
            return
        path = self.path
        with front.lock:
            limit = front.page_limit.get(target) if listing else None
        conn = http.client.HTTPConnection("127.0.0.1", front.backend,
                                          timeout=60)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("connection", "keep-alive")}
        if target is not None and target in front.auth:
            headers.pop("Authorization", None)
        conn.request(self.command, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        headers = resp.getheaders()
        if limit is not None and resp.status == 200:
            data, link = front.pager(limit, parts.path, dict(query), data)
            headers = [(k, v) for k, v in headers if k.lower() != "link"]
            if link is not None:
                headers.append(("Link", '<%s>; rel="next"' % link))
        self.reply(resp.status, data, headers)
        conn.close()
        with front.lock:
            front.seen.append((self.command, parts.path, resp.status))
        if listing:
            front.listed(target, resp.status, scheme)

    def play_fault(self, target, scheme):
        """A fault on this target's listings: played, True."""
        front = self.server.front
        with front.lock:
            rule = front.faults.get(target)
            if not rule or rule[1] == 0:
                return False
            rule[1] -= 1
            kind, retry_after = rule[0], rule[2]
        front.listed(target, 429 if kind == "429" else 200, scheme)
        js = ("Content-Type", "application/json")
        if kind == "429":
            self.reply(429, b'{"error":"too many requests"}',
                       [js, ("Retry-After", str(retry_after or 1))])
        elif kind == "garbage":
            self.reply(200, b'{"versions": [1, 2,,, "x', [js])
        elif kind == "html":
            self.reply(200, b"<!DOCTYPE html><html><body><h1>Sign in</h1>"
                       b"</body></html>", [("Content-Type", "text/html")])
        elif kind == "truncate":
            self.send_response(200)
            self.send_header(*js)
            self.send_header("Content-Length", "5000")
            self.end_headers()
            self.wfile.write(b'{"name": "a", "versions": {')
            self.wfile.flush()
            self.close_connection = True
        elif kind == "huge":
            self.send_response(200)
            self.send_header(*js)
            self.send_header("Content-Length", str(HUGE + 2))
            self.end_headers()
            try:
                self.wfile.write(b"[")
                for _ in range(HUGE // 65536):
                    self.wfile.write(b" " * 65536)
                self.wfile.write(b"]")
            except OSError:
                pass
            self.close_connection = True
        else:
            raise ValueError(kind)
        return True

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = forward


class FrontServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """A client that went away mid-answer is not an error."""
        if not isinstance(sys.exc_info()[1], (BrokenPipeError,
                                              ConnectionResetError)):
            super().handle_error(request, client_address)


class HttpFront:
    """The front on a free loopback port, the server on `backend`."""

    def __init__(self, backend, classify, pager=None):
        self.backend = backend
        self.classify = classify
        self.pager = pager
        self.lock = threading.Lock()
        self.faults = {}        # target -> [kind, count, retry_after]
        self.page_limit = {}    # target -> most entries a page
        self.auth = {}          # target -> "Basic …" it demands
        self.log = {}           # target -> [(unix s, status, scheme)]
        self.seen = []          # (method, path, status) forwarded
        self.server = FrontServer(("127.0.0.1", 0), Handler)
        self.server.front = self
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.host = "127.0.0.1:%d" % self.port

    def start(self):
        threading.Thread(target=self.server.serve_forever,
                         daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def reset(self):
        with self.lock:
            self.faults = {}
            self.page_limit = {}
            self.auth = {}
            self.log = {}
            self.seen = []

    def requests(self):
        with self.lock:
            return list(self.seen)

    def fault(self, target, kind, count=-1, retry_after=None):
        with self.lock:
            self.faults[target] = [kind, count, retry_after]

    def pages(self, target, n):
        with self.lock:
            self.page_limit[target] = n

    def demand(self, target, username, password):
        raw = ("%s:%s" % (username, password)).encode()
        with self.lock:
            self.auth[target] = "Basic " + base64.b64encode(raw).decode()

    def authorized(self, target, got):
        with self.lock:
            want = self.auth.get(target)
        return want is None or got == want

    def listed(self, target, status, scheme):
        with self.lock:
            self.log.setdefault(target, []).append((time.time(), status,
                                                    scheme))

    def listings(self, target):
        with self.lock:
            return [{"t": t, "status": s, "auth": a}
                    for t, s, a in self.log.get(target, [])]
