"""tokenserver.py: a Docker registry token realm for the integration tests.

The reference registry (docker-registry, distribution 2.8) in token-auth mode
answers 401 with `WWW-Authenticate: Bearer realm=...,service=...,scope=...`
and accepts a JWT signed by a key whose certificate is in its
`rootcertbundle`.  This server plays that realm: it checks HTTP Basic
credentials, then issues an RS256 JWT the registry verifies:

  header  {"typ": "JWT", "alg": "RS256", "x5c": [base64 DER certificate]}
  claims  iss, sub, aud (= the service), exp, nbf, iat, jti,
          access: [{"type": "repository", "name": ..., "actions": [...]}]

The signature is made by the `openssl` command line (Python's standard
library has no RSA), so nothing beyond the standard library and the Debian
openssl package is needed.  Every request is counted so tests can assert the
watcher really went through the realm.
"""

import base64
import json
import os
import subprocess
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ALLOWED_ACTIONS = ("pull", "push")
TOKEN_LIFETIME = 300


def b64url(data):
    """Base64url without padding, as JOSE wants it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_certificate(directory, common_name="artifact-watcher test issuer"):
    """Create a self-signed RSA key and certificate; return (key, cert)."""
    key = os.path.join(directory, "token-key.pem")
    cert = os.path.join(directory, "token-cert.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
         "-sha256", "-days", "2", "-subj", "/CN=" + common_name,
         "-keyout", key, "-out", cert],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return key, cert


def certificate_der_b64(cert):
    """The x5c entry: standard base64 of the DER certificate."""
    der = subprocess.run(
        ["openssl", "x509", "-in", cert, "-outform", "DER"],
        check=True, capture_output=True).stdout
    return base64.b64encode(der).decode("ascii")


def parse_scope(scope):
    """Split "repository:a/b:pull,push" into (type, name, [actions])."""
    kind, _, rest = scope.partition(":")
    name, _, actions = rest.rpartition(":")
    return kind, name, [a for a in actions.split(",") if a]


class TokenIssuer:
    """Signs registry tokens for one issuer/service pair."""

    def __init__(self, directory, issuer, service):
        self.issuer = issuer
        self.service = service
        self.key, self.cert = make_certificate(directory)
        self.x5c = certificate_der_b64(self.cert)

    def sign(self, signing_input):
        out = subprocess.run(
            ["openssl", "dgst", "-sha256", "-sign", self.key],
            input=signing_input, check=True, capture_output=True)
        return out.stdout

    def issue(self, subject, scopes, lifetime=TOKEN_LIFETIME):
        """Return a signed JWT granting the allowed part of each scope."""
        now = int(time.time())
        access = []
        for scope in scopes:
            kind, name, actions = parse_scope(scope)
            if kind != "repository" or not name:
                continue
            granted = [a for a in actions if a in ALLOWED_ACTIONS]
            access.append({"type": "repository", "name": name,
                           "actions": granted})
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        claims = {
            "iss": self.issuer, "sub": subject, "aud": self.service,
            "exp": now + lifetime, "nbf": now - 5, "iat": now,
            "jti": b64url(os.urandom(12)), "access": access,
        }
        signing_input = (b64url(json.dumps(header).encode()) + "." +
                         b64url(json.dumps(claims).encode())).encode()
        signature = self.sign(signing_input)
        return signing_input.decode() + "." + b64url(signature), lifetime


class TokenServer:
    """HTTP realm on 127.0.0.1:port issuing tokens to one user."""

    def __init__(self, directory, port, username, password,
                 issuer="aw-test-issuer", service="aw-test-registry"):
        self.issuer = TokenIssuer(directory, issuer, service)
        self.port = port
        self.username = username
        self.password = password
        self.lock = threading.Lock()
        self.requests = []
        self.server = None
        self.thread = None

    @property
    def realm(self):
        return "http://127.0.0.1:%d/token" % self.port

    def start(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                owner.answer(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def authorized(self, header):
        if not header or not header.startswith("Basic "):
            return None
        try:
            raw = base64.b64decode(header[6:]).decode()
        except (ValueError, UnicodeDecodeError):
            return None
        user, _, password = raw.partition(":")
        if user == self.username and password == self.password:
            return user
        return None

    def answer(self, handler):
        url = urllib.parse.urlsplit(handler.path)
        query = urllib.parse.parse_qs(url.query)
        user = self.authorized(handler.headers.get("Authorization"))
        with self.lock:
            self.requests.append({
                "path": url.path, "query": query, "user": user,
                "agent": handler.headers.get("User-Agent", "")})
        if url.path != "/token":
            self.reply(handler, 404, {"error": "not found"})
            return
        if user is None:
            self.reply(handler, 401, {"details": "bad credentials"},
                       {"WWW-Authenticate": 'Basic realm="token"'})
            return
        if query.get("service", [None])[0] != self.issuer.service:
            self.reply(handler, 400, {"details": "unknown service"})
            return
        scopes = []
        for value in query.get("scope", []):
            scopes.extend(value.split(" "))
        token, lifetime = self.issuer.issue(user, scopes)
        issued = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.reply(handler, 200, {"token": token, "access_token": token,
                                  "expires_in": lifetime,
                                  "issued_at": issued})

    def reply(self, handler, status, body, headers=None):
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)

    def granted_count(self, agent=""):
        """How many tokens were asked for with good credentials, by
        clients whose User-Agent starts with agent."""
        with self.lock:
            return sum(1 for r in self.requests
                       if r["path"] == "/token" and r["user"] and
                       r["agent"].startswith(agent))
