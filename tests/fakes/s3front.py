"""s3front.py: a real S3 server (s3rver, from npm) behind a front that checks
every request's SigV4 signature with botocore.

s3rver 3 answers S3's REST API from a directory on disk (ListObjectsV2 with
continuation tokens, PUT, DELETE), which is as close to S3 as a loopback test
gets; it is started with --allow-mismatched-signatures and the signature is
checked here instead, with botocore's S3SigV4Auth (Debian python3-botocore),
never with the watcher's signer: a wrong one is answered with S3's own 403
SignatureDoesNotMatch, an unknown key with InvalidAccessKeyId, a missing
x-amz-content-sha256 with S3's 400.  Everything else is passed to s3rver
as it came, and its answer back as it went.

s3rver is installed by deploy/deps.sh (npm, into build/node); its account
is the fixed S3RVER / S3RVER key pair.

    s3 = S3Front(workdir); s3.start()
    s3.put("bucket", "releases/app-1.0.tgz", b"...")   # signed, through the front
    ... the watcher's connector: spec.endpoints.s3 = s3.url ...
    s3.stop()
"""

import hashlib
import http.client
import http.server
import os
import socket
import socketserver
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from xml.sax.saxutils import escape

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..",
                                "integration"))
from harness import free_port  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
S3RVER = os.path.join(ROOT, "build", "node", "node_modules", ".bin",
                      "s3rver")
KEY = SECRET = "S3RVER"


def s3_error(code, message, status):
    body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s"
            "</Code><Message>%s</Message><RequestId>%s</RequestId>"
            "</Error>" % (code, escape(message), uuid.uuid4()))
    return status, body.encode()


class Front(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body, headers=()):
        self.send_response(status)
        for k, v in headers:
            if k.lower() not in ("transfer-encoding", "connection",
                                 "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def check(self, body):
        """None when the signature holds, else (status, S3 error body)."""
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("AWS4-HMAC-SHA256 "):
            return s3_error("AccessDenied", "Anonymous access is not "
                            "allowed", 403)
        fields = dict(p.strip().split("=", 1) for p in
                      auth[len("AWS4-HMAC-SHA256 "):].split(",") if "=" in p)
        try:
            akid, date, region, service, _ = fields["Credential"].split("/")
            signed = fields["SignedHeaders"].split(";")
        except (KeyError, ValueError):
            return s3_error("AuthorizationHeaderMalformed", "The "
                            "authorization header is malformed", 400)
        secrets = self.server.secrets
        if akid not in secrets:
            return s3_error("InvalidAccessKeyId", "The AWS Access Key Id "
                            "you provided does not exist in our records.",
                            403)
        sha = self.headers.get("x-amz-content-sha256")
        if sha is None or "x-amz-content-sha256" not in signed:
            return s3_error("InvalidRequest", "Missing required header "
                            "for this request: x-amz-content-sha256", 400)
        if not sha.startswith("STREAMING-") and sha != "UNSIGNED-PAYLOAD" \
                and sha != hashlib.sha256(body).hexdigest():
            return s3_error("XAmzContentSHA256Mismatch", "The provided "
                            "'x-amz-content-sha256' header does not match "
                            "what was computed.", 400)
        headers = {}
        for name in signed:
            values = self.headers.get_all(name)
            if values is None:
                return s3_error("SignatureDoesNotMatch", "signed header "
                                "%s is missing" % name, 403)
            headers[name] = ",".join(v.strip() for v in values)
        url = "http://%s%s" % (self.headers.get("Host"), self.path)
        req = AWSRequest(method=self.command, url=url, headers=headers,
                         data=body)
        req.context["timestamp"] = self.headers.get("X-Amz-Date", "")
        signer = S3SigV4Auth(Credentials(akid, secrets[akid]), "s3", region)
        creq = signer.canonical_request(req)
        want = signer.signature(signer.string_to_sign(req, creq), req)
        ok = want == fields.get("Signature")
        with self.server.lock:
            self.server.log.append((self.command, self.path, akid, ok))
        if service != "s3" or not ok:
            return s3_error("SignatureDoesNotMatch", "The request signature "
                            "we calculated does not match the signature you "
                            "provided. Check your key and signing method.",
                            403)
        return None

    def forward(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        refused = self.check(body)
        if refused is not None:
            self.reply(refused[0], refused[1],
                       [("Content-Type", "application/xml")])
            return
        bucket, path = self.listing()
        if bucket is not None and self.fault(bucket):
            return
        conn = http.client.HTTPConnection("127.0.0.1", self.server.backend,
                                          timeout=30)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("connection", "keep-alive")}
        conn.request(self.command, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        self.reply(resp.status, data, resp.getheaders())
        conn.close()
        if bucket is not None:
            self.listed(bucket, resp.status)

    def listing(self):
        """(bucket, path to send) of a ListObjectsV2, else (None, path).
        A bucket's page limit lowers max-keys (the signature was checked
        on the request as sent)."""
        parts = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        bucket = parts.path.strip("/")
        if self.command != "GET" or "/" in bucket or not bucket or \
                ("list-type", "2") not in query:
            return None, self.path
        with self.server.lock:
            limit = self.server.page_limit.get(bucket)
        if limit is None:
            return bucket, self.path
        query = [(k, str(min(int(v), limit)) if k == "max-keys" else v)
                 for k, v in query]
        return bucket, parts.path + "?" + urllib.parse.urlencode(
            query, quote_via=urllib.parse.quote)

    def listed(self, bucket, status):
        with self.server.lock:
            self.server.listings.setdefault(bucket, []).append(
                (time.time(), status))

    def fault(self, bucket):
        """A fault on this bucket's listings: played, True."""
        with self.server.lock:
            rule = self.server.faults.get(bucket)
            if not rule or rule[1] == 0:
                return False
            rule[1] -= 1
            kind, retry_after = rule[0], rule[2]
        self.listed(bucket, 429 if kind == "429" else 200)
        if kind == "429":
            status, body = s3_error("SlowDown", "Please reduce your "
                                    "request rate.", 429)
            self.reply(status, body, [("Content-Type", "application/xml"),
                                      ("Retry-After", retry_after or "1")])
        elif kind == "garbage":
            self.reply(200, b"\x00\xffnot xml{<", [("Content-Type",
                                                     "application/xml")])
        elif kind == "html":
            self.reply(200, b"<html><body>Sign in</body></html>",
                       [("Content-Type", "text/html")])
        elif kind == "truncate":
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"<?xml version=\"1.0\"?><ListBucketResult>")
            self.close_connection = True
        elif kind == "huge":
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            size = 80 * 1024 * 1024
            self.send_header("Content-Length", str(size))
            self.end_headers()
            try:
                for _ in range(size // 65536):
                    self.wfile.write(b" " * 65536)
            except OSError:
                pass
            self.close_connection = True
        return True

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = forward


class FrontServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """A client that went away mid-answer (a watcher stopped) is not
        an error of the fake; anything else is printed as usual."""
        if not isinstance(sys.exc_info()[1], (BrokenPipeError,
                                              ConnectionResetError)):
            super().handle_error(request, client_address)


class S3Front:
    """s3rver on a free port, the checking front on another."""

    def __init__(self, workdir, secret=SECRET):
        self.dir = os.path.join(workdir, "s3rver")
        os.makedirs(self.dir, exist_ok=True)
        self.backend = free_port()
        self.server = FrontServer(("127.0.0.1", 0), Front)
        self.server.backend = self.backend
        self.server.secrets = {KEY: secret}
        self.server.lock = threading.Lock()
        self.server.log = []
        self.server.faults = {}      # bucket -> [kind, count, retry_after]
        self.server.page_limit = {}  # bucket -> most keys a page
        self.server.listings = {}    # bucket -> [(unix s, status)]
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.process = None

    def start(self, timeout=30.0):
        if not os.access(S3RVER, os.X_OK):
            raise RuntimeError("%s missing: run deploy/deps.sh test" % S3RVER)
        self.log = open(os.path.join(self.dir, "..", "s3rver.log"), "wb")
        # s3rver's continuation tokens use DES, which Node's OpenSSL 3
        # has only in its legacy provider.
        env = dict(os.environ, NODE_OPTIONS="--openssl-legacy-provider")
        self.process = subprocess.Popen(
            [S3RVER, "-d", self.dir, "-a", "127.0.0.1", "-p",
             str(self.backend), "--allow-mismatched-signatures",
             "--no-vhost-buckets"],
            stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.backend),
                                         timeout=1).close()
                break
            except OSError:
                if self.process.poll() is not None or \
                        time.monotonic() > deadline:
                    raise RuntimeError("s3rver did not start")
                time.sleep(0.05)
        threading.Thread(target=self.server.serve_forever,
                         daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.log.close()

    def requests(self):
        """(method, path, access key, signature ok) the front saw."""
        with self.server.lock:
            return list(self.server.log)

    def _signed(self, method, path, body=b""):
        """A request signed by botocore, sent through the front."""
        url = self.url + path
        req = AWSRequest(method=method, url=url, data=body, headers={
            "x-amz-content-sha256": hashlib.sha256(body).hexdigest()})
        S3SigV4Auth(Credentials(KEY, self.server.secrets[KEY]), "s3",
                    "us-east-1").add_auth(req)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request(method, path, body=body, headers=dict(req.headers))
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        if resp.status >= 300:
            raise RuntimeError("%s %s: %d %s" % (method, path, resp.status,
                                                 data[:200]))
        return data

    def fault(self, bucket, kind, count=-1, retry_after=None):
        """Fault the listings of bucket: 429 (with Retry-After), garbage,
        html, truncate, huge; count -1: until cleared."""
        with self.server.lock:
            self.server.faults[bucket] = [kind, count, retry_after]

    def page_limit(self, bucket, n):
        with self.server.lock:
            self.server.page_limit[bucket] = n

    def listings(self, bucket):
        with self.server.lock:
            return list(self.server.listings.get(bucket, []))

    def reset(self):
        with self.server.lock:
            self.server.faults = {}
            self.server.page_limit = {}
            self.server.listings = {}

    def bucket(self, name):
        self._signed("PUT", "/" + name)

    def put(self, bucket, key, body):
        self._signed("PUT", "/%s/%s" % (bucket, urllib.parse.quote(key)),
                     body)

    def delete(self, bucket, key):
        self._signed("DELETE", "/%s/%s" % (bucket, urllib.parse.quote(key)))
