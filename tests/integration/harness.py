"""harness.py: real servers on loopback for the integration tests.

Everything here is Python 3 standard library plus Debian programs
(redis-server, docker-registry, htpasswd, openssl), so `make check` works on a
bare Debian machine once deploy/deps.sh has run.  Each helper starts its
server on a free 127.0.0.1 port in a temporary directory and stops it again:

  Redis          redis-server with appendonly on, restartable on its port
  Registry       docker-registry: anonymous, htpasswd Basic or token auth
  RegistryClient pushes images through the registry HTTP API
  Webhook        records deliveries, checks their signature, can fail
  Watcher        writes a config and runs ./artifact-watcher

Tests wait for conditions (a threading.Condition with a deadline), never for
a fixed time.
"""

import base64
import gzip
import hashlib
import hmac
import io
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tarfile
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tokenserver import TokenServer

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BINARY = (os.environ.get("AW_BINARY") or
          os.path.join(ROOT, "artifact-watcher"))
REGISTRY_BIN = "/usr/bin/docker-registry"
START_TIMEOUT = 10.0


# Ports handed out, taken from below the kernel's ephemeral range
# (32768-60999 on Linux), so that no outgoing connection takes one between
# free_port() and the server's bind.  Suites run side by side (run-all.sh):
# each draws at random and checks that the port can be bound now.
PORT_RANGE = (15000, 32000)
_given = set()
_draw = random.SystemRandom()  # not the random a test may seed


def free_port():
    """A port nobody listens on now, not handed out before by this suite."""
    while True:
        port = _draw.randrange(*PORT_RANGE)
        if port in _given:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _given.add(port)
        return port


def wait_listening(port, process=None, timeout=START_TIMEOUT):
    """Wait until 127.0.0.1:port accepts a connection."""
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise RuntimeError("server exited with %d before listening on %d"
                               % (process.returncode, port))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError("nothing listens on port %d" % port)
            time.sleep(0.02)


def stop_process(process, timeout=10.0):
    """SIGTERM a child, wait for it, SIGKILL if it will not go."""
    if process is None or process.poll() is not None:
        return None
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


class Waitable:
    """A condition variable with a deadline-bound wait on a predicate.

    Waits also end early, with an AssertionError, when a running Watcher
    has exited: nothing a test waits for can happen after that, so the
    test fails at once with the watcher's log instead of at its deadline.
    """

    running_watchers = set()

    def __init__(self):
        self.cond = threading.Condition()

    def wait_for(self, predicate, timeout, what):
        """Return predicate()'s first true value, or raise AssertionError."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                result = predicate()
                if result:
                    return result
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("timed out after %.1fs waiting "
                                         "for %s" % (timeout, what))
                self.check_watchers(what)
                # Wake at least every 0.2 s to see a watcher that died.
                self.cond.wait(min(left, 0.2))

    @classmethod
    def check_watchers(cls, what):
        for watcher in list(cls.running_watchers):
            code = watcher.exit_code()
            if code is not None:
                cls.running_watchers.discard(watcher)
                raise AssertionError("watcher exited %d while waiting for "
                                     "%s; log tail:\n%s"
                                     % (code, what, watcher.tail()))


class Workdir:
    """A temporary directory removed on cleanup."""

    def __init__(self, prefix="aw-it-"):
        self.path = tempfile.mkdtemp(prefix=prefix)

    def sub(self, name):
        path = os.path.join(self.path, name)
        os.makedirs(path, exist_ok=True)
        return path

    def file(self, name, text):
        path = os.path.join(self.path, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)


# ---------------------------------------------------------------- Redis

class Redis:
    """redis-server on a free port, AOF on, data in its own directory."""

    def __init__(self, workdir):
        self.dir = workdir.sub("redis-%d" % id(self))
        self.port = free_port()
        self.process = None

    @property
    def url(self):
        return "redis://127.0.0.1:%d/0" % self.port

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port),
             "--dir", self.dir, "--appendonly", "yes",
             "--appendfsync", "always", "--save", "",
             "--logfile", os.path.join(self.dir, "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_listening(self.port, self.process)
        self.wait_loaded()

    def wait_loaded(self):
        """After a restart Redis answers LOADING until the AOF is read."""
        deadline = time.monotonic() + START_TIMEOUT
        while self.cli("PING") != "PONG":
            if time.monotonic() > deadline:
                raise RuntimeError("redis did not finish loading")
            time.sleep(0.02)

    def stop(self):
        stop_process(self.process)
        self.process = None

    def restart(self):
        self.stop()
        self.start()

    def cli(self, *args):
        out = subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "-p", str(self.port)] +
            list(args), capture_output=True, text=True)
        return out.stdout.strip()


# ------------------------------------------------------------- Registry

class Registry(Waitable):
    """The Debian docker-registry (distribution 2.8) in one auth mode.

    mode: "anonymous", "htpasswd" (Basic, bcrypt) or "token" (Bearer
    tokens from a TokenServer realm this object starts and stops).  Its
    access log is read as it is written, so tests can wait until the
    watcher has listed a repository's tags n times (a finished poll).
    """

    USERNAME = "aw-user"
    PASSWORD = "aw-pass-1234"

    def __init__(self, workdir, mode="anonymous"):
        if mode not in ("anonymous", "htpasswd", "token"):
            raise ValueError("unknown registry mode " + mode)
        self.mode = mode
        self.workdir = workdir
        self.dir = workdir.sub("registry-%s-%d" % (mode, id(self)))
        self.port = free_port()
        super().__init__()
        self.process = None
        self.tokens = None
        self.requests = []
        self.log = os.path.join(self.dir, "registry.log")

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def host(self):
        return "127.0.0.1:%d" % self.port

    def auth_section(self):
        if self.mode == "htpasswd":
            out = subprocess.run(
                ["htpasswd", "-Bbn", self.USERNAME, self.PASSWORD],
                check=True, capture_output=True, text=True).stdout
            path = os.path.join(self.dir, "htpasswd")
            with open(path, "w") as f:
                f.write(out.strip() + "\n")
            return ("auth:\n  htpasswd:\n    realm: aw-test\n"
                    "    path: %s\n" % path)
        if self.mode == "token":
            self.tokens = TokenServer(self.dir, free_port(), self.USERNAME,
                                      self.PASSWORD)
            self.tokens.start()
            return ("auth:\n  token:\n    realm: %s\n    service: %s\n"
                    "    issuer: %s\n    rootcertbundle: %s\n"
                    % (self.tokens.realm, self.tokens.issuer.service,
                       self.tokens.issuer.issuer, self.tokens.issuer.cert))
        return ""

    def write_config(self):
        storage = os.path.join(self.dir, "storage")
        os.makedirs(storage, exist_ok=True)
        text = ("version: 0.1\n"
                "log:\n  level: warn\n  accesslog:\n    disabled: false\n"
                "storage:\n  filesystem:\n    rootdirectory: %s\n"
                "  delete:\n    enabled: true\n"
                "http:\n  addr: 127.0.0.1:%d\n  secret: aw-test-secret\n"
                % (storage, self.port)) + self.auth_section()
        path = os.path.join(self.dir, "config.yml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def start(self):
        config = self.write_config()
        self.process = subprocess.Popen(
            [REGISTRY_BIN, "serve", config], stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        threading.Thread(target=self.read_log, args=(self.process.stdout,),
                         daemon=True).start()
        wait_listening(self.port, self.process)

    ACCESS = re.compile(r'"([A-Z]+) ([^ ?"]+)[^"]* HTTP/[0-9.]+" ([0-9]+)')

    def read_log(self, stream):
        """Keep the log in a file; record each access-log request."""
        with open(self.log, "ab") as log:
            for line in stream:
                log.write(line)
                log.flush()
                match = self.ACCESS.search(line.decode("utf-8", "replace"))
                if match:
                    with self.cond:
                        self.requests.append((match.group(1),
                                              match.group(2),
                                              int(match.group(3))))
                        self.cond.notify_all()

    def listings(self, repo):
        """How many tag listings of repo the registry answered 200."""
        path = "/v2/%s/tags/list" % repo
        with self.cond:
            return sum(1 for method, p, status in self.requests
                       if method == "GET" and p == path and status == 200)

    def wait_listings(self, repo, count, timeout=20.0):
        """Wait until repo's tags were listed (200) at least count times."""
        path = "/v2/%s/tags/list" % repo

        def enough():
            return sum(1 for method, p, status in self.requests
                       if method == "GET" and p == path and
                       status == 200) >= count
        self.wait_for(enough, timeout, "%d listings of %s" % (count, repo))

    def wait_requests(self, method, path, count=1, timeout=20.0):
        """Wait until method path was answered 200 at least count times."""
        def enough():
            return sum(1 for m, p, status in self.requests
                       if m == method and p == path and
                       status == 200) >= count
        self.wait_for(enough, timeout, "%d x %s %s" % (count, method, path))

    def wait_more_polls(self, repo, more=2, timeout=20.0):
        """Wait for `more` further listings of repo than seen so far.

        Polls of one source never overlap, so two more listings mean the
        poll that was running when this was called has finished.
        """
        self.wait_listings(repo, self.listings(repo) + more, timeout)

    def stop(self):
        stop_process(self.process)
        self.process = None
        if self.tokens is not None:
            self.tokens.stop()
            self.tokens = None

    def client(self, username=None, password=None):
        """A client with this registry's credentials (none if anonymous)."""
        if self.mode != "anonymous" and username is None:
            username, password = self.USERNAME, self.PASSWORD
        return RegistryClient(self.url, username, password)


def parse_challenge(header):
    """Split a WWW-Authenticate header into (scheme, {param: value})."""
    scheme, _, rest = header.strip().partition(" ")
    params = dict(re.findall(r'(\w+)="([^"]*)"', rest))
    return scheme.lower(), params


def sha256_digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class RegistryClient:
    """Pushes images through the registry API (no docker needed).

    Handles anonymous access, Basic and the Bearer token flow.  Images are
    small but real: a gzip tar layer and an image config that carries the
    labels, so a watcher reading labels finds them.
    """

    OCI = {
        "manifest": "application/vnd.oci.image.manifest.v1+json",
        "config": "application/vnd.oci.image.config.v1+json",
        "layer": "application/vnd.oci.image.layer.v1.tar+gzip",
    }
    DOCKER = {
        "manifest": "application/vnd.docker.distribution.manifest.v2+json",
        "config": "application/vnd.docker.container.image.v1+json",
        "layer": "application/vnd.docker.image.rootfs.diff.tar.gzip",
    }

    def __init__(self, url, username=None, password=None):
        self.url = url.rstrip("/")
        self.username = username
        self.password = password
        self.tokens = {}

    def basic(self):
        raw = ("%s:%s" % (self.username, self.password)).encode()
        return "Basic " + base64.b64encode(raw).decode()

    def fetch_token(self, params):
        query = {"service": params.get("service", "")}
        if params.get("scope"):
            query["scope"] = params["scope"]
        request = urllib.request.Request(
            params["realm"] + "?" + urllib.parse.urlencode(query))
        if self.username is not None:
            request.add_header("Authorization", self.basic())
        with urllib.request.urlopen(request, timeout=10) as response:
            body = json.load(response)
        return body.get("token") or body["access_token"]

    def raw(self, method, url, body, headers, auth):
        request = urllib.request.Request(url, data=body, method=method,
                                         headers=dict(headers))
        if auth:
            request.add_header("Authorization", auth)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def request(self, method, path, scope, body=None, headers=()):
        """One API call; on 401 authenticate as challenged, retry once."""
        url = path if path.startswith("http") else self.url + path
        auth = self.tokens.get(scope)
        status, head, data = self.raw(method, url, body, headers, auth)
        if status != 401:
            return status, head, data
        scheme, params = parse_challenge(head.get("WWW-Authenticate", ""))
        if scheme == "basic":
            auth = self.basic()
        elif scheme == "bearer":
            auth = "Bearer " + self.fetch_token(params)
        else:
            return status, head, data
        self.tokens[scope] = auth
        return self.raw(method, url, body, headers, auth)

    def upload_blob(self, repo, data):
        """POST to start an upload, PUT the bytes; return the digest."""
        scope = "repository:%s:pull,push" % repo
        digest = sha256_digest(data)
        status, head, body = self.request(
            "POST", "/v2/%s/blobs/uploads/" % repo, scope, b"")
        if status != 202:
            raise RuntimeError("blob upload start: %d %r" % (status, body))
        location = urllib.parse.urljoin(self.url + "/", head["Location"])
        sep = "&" if "?" in location else "?"
        status, _, body = self.request(
            "PUT", location + sep + "digest=" + urllib.parse.quote(digest),
            scope, data, {"Content-Type": "application/octet-stream"})
        if status != 201:
            raise RuntimeError("blob upload: %d %r" % (status, body))
        return digest

    @staticmethod
    def layer(content):
        """A gzip tar holding one file; returns (gzip bytes, tar digest)."""
        tar_bytes = io.BytesIO()
        with tarfile.open(fileobj=tar_bytes, mode="w") as tar:
            data = content.encode()
            info = tarfile.TarInfo("artifact.txt")
            info.size = len(data)
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
        raw = tar_bytes.getvalue()
        return gzip.compress(raw, mtime=0), sha256_digest(raw)

    def push(self, repo, tag, labels=None, content=None, media="oci"):
        """Push an image as repo:tag; return its manifest digest.

        content decides the layer bytes (default: repo and tag), so two
        pushes with different content give different digests.
        """
        types = self.OCI if media == "oci" else self.DOCKER
        layer, diff_id = self.layer(content or "%s:%s" % (repo, tag))
        config = json.dumps({
            "architecture": "amd64", "os": "linux",
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "config": {"Labels": labels or {}},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        }, sort_keys=True).encode()
        layer_digest = self.upload_blob(repo, layer)
        config_digest = self.upload_blob(repo, config)
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": types["manifest"],
            "config": {"mediaType": types["config"],
                       "digest": config_digest, "size": len(config)},
            "layers": [{"mediaType": types["layer"],
                        "digest": layer_digest, "size": len(layer)}],
        }, sort_keys=True).encode()
        status, head, body = self.request(
            "PUT", "/v2/%s/manifests/%s" % (repo, tag),
            "repository:%s:pull,push" % repo, manifest,
            {"Content-Type": types["manifest"]})
        if status != 201:
            raise RuntimeError("manifest put: %d %r" % (status, body))
        digest = sha256_digest(manifest)
        if head.get("Docker-Content-Digest") != digest:
            raise RuntimeError("registry digest %s, expected %s"
                               % (head.get("Docker-Content-Digest"), digest))
        return digest

    def retag(self, repo, tag, new_content):
        """Point an existing tag at a new image; return the new digest."""
        return self.push(repo, tag, content=new_content)

    def tags(self, repo):
        status, _, body = self.request(
            "GET", "/v2/%s/tags/list" % repo, "repository:%s:pull" % repo)
        if status != 200:
            raise RuntimeError("tags list: %d %r" % (status, body))
        return sorted(json.loads(body).get("tags") or [])

    def digest(self, repo, tag):
        accept = ", ".join([self.OCI["manifest"], self.DOCKER["manifest"]])
        status, head, _ = self.request(
            "HEAD", "/v2/%s/manifests/%s" % (repo, tag),
            "repository:%s:pull" % repo, headers={"Accept": accept})
        if status != 200:
            raise RuntimeError("manifest head: %d" % status)
        return head["Docker-Content-Digest"]


# -------------------------------------------------------------- Webhook

def signature(secret, timestamp, body):
    """What X-Artifact-Watcher-Signature must be (DESIGN section 6)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body,
                   hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class Webhook(Waitable):
    """A webhook receiver recording every delivery.

    Each delivery is a dict: path, headers (lower-case names), body (bytes),
    event (parsed JSON or None), signature_ok, answered (status sent back).
    set_status(503) makes it refuse deliveries (set_status(400, b"why")
    answers with that body); stop()/start() take it off the port and bring
    it back on the same port.
    """

    def __init__(self, secret="aw-hook-secret", port=None):
        super().__init__()
        self.secret = secret
        self.port = port or free_port()
        self.status = 200
        self.answer = b""
        self.deliveries = []
        self.server = None

    @property
    def url(self):
        return "http://127.0.0.1:%d/hook" % self.port

    def set_status(self, status, body=b""):
        with self.cond:
            self.status = status
            self.answer = body

    def start(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                owner.receive(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever,
                         daemon=True).start()

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def receive(self, handler):
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length)
        headers = {k.lower(): v for k, v in handler.headers.items()}
        stamp = headers.get("x-artifact-watcher-timestamp", "")
        expected = signature(self.secret, stamp, body)
        try:
            event = json.loads(body)
        except ValueError:
            event = None
        with self.cond:
            status, answer = self.status, self.answer
            self.deliveries.append({
                "path": handler.path, "headers": headers, "body": body,
                "event": event, "answered": status,
                "signature_ok": hmac.compare_digest(
                    expected, headers.get("x-artifact-watcher-signature", "")),
            })
            self.cond.notify_all()
        handler.send_response(status)
        handler.send_header("Content-Length", str(len(answer)))
        handler.end_headers()
        handler.wfile.write(answer)

    def accepted(self):
        """Events answered 2xx, in arrival order."""
        with self.cond:
            return [d for d in self.deliveries if d["answered"] < 300]

    def wait_accepted(self, count, timeout=20.0):
        """Wait until at least count deliveries were answered 2xx."""
        def enough():
            return len([d for d in self.deliveries
                        if d["answered"] < 300]) >= count
        self.wait_for(enough, timeout, "%d accepted deliveries" % count)
        return self.accepted()

    def held_subjects(self, accepted):
        """Subjects of events answered 2xx (accepted) or refused; locked."""
        return {d["event"].get("subject") for d in self.deliveries
                if (d["answered"] < 300) == accepted and
                isinstance(d["event"], dict)}

    def wait_subjects(self, subjects, accepted=True, timeout=20.0):
        """Wait until events with all these subjects were accepted (or,
        with accepted=False, refused)."""
        want = set(subjects)
        self.wait_for(lambda: want <= self.held_subjects(accepted), timeout,
                      "%s %s" % ("accepted" if accepted else "refused",
                                 sorted(want)))

    def wait_refused(self, count, timeout=20.0):
        """Wait until at least count deliveries were refused."""
        def enough():
            return len([d for d in self.deliveries
                        if d["answered"] >= 300]) >= count
        self.wait_for(enough, timeout, "%d refused deliveries" % count)


# --------------------------------------------------------------- Config

PLAIN = re.compile(r"^[A-Za-z0-9_/][A-Za-z0-9_./:@-]*$")
NUMBERISH = re.compile(r"^[0-9._:+-]*$")
YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n",
              "~"}


def yaml_scalar(value):
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return str(value)
    text = str(value)
    if (PLAIN.match(text) and not NUMBERISH.match(text) and
            text.lower() not in YAML_WORDS):
        return text
    return json.dumps(text)


def to_yaml(value, indent=0):
    """Block-style YAML for dicts, lists and scalars (config files)."""
    pad = " " * indent
    lines = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines.append("%s%s:" % (pad, key))
                lines.append(to_yaml(item, indent + 2))
            elif isinstance(item, (dict, list)):
                lines.append("%s%s: %s" % (pad, key,
                                           "{}" if isinstance(item, dict)
                                           else "[]"))
            else:
                lines.append("%s%s: %s" % (pad, key, yaml_scalar(item)))
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, (dict, list)) and item:
                inner = to_yaml(item, indent + 2).lstrip(" ")
                lines.append("%s- %s" % (pad, inner))
            else:
                lines.append("%s- %s" % (pad, yaml_scalar(item)))
    else:
        lines.append(pad + yaml_scalar(value))
    return "\n".join(lines)


def docker_connector(identifier, url, username=None, password_ref=None):
    """A Harness DockerRegistry connector block (Anonymous without user)."""
    if username is None:
        auth = {"type": "Anonymous"}
    else:
        auth = {"type": "UsernamePassword",
                "spec": {"username": username, "passwordRef": password_ref}}
    return {"connector": {
        "identifier": identifier, "type": "DockerRegistry",
        "spec": {"dockerRegistryUrl": url, "providerType": "Other",
                 "auth": auth}}}


def docker_source(identifier, connector, image, interval="1s", **watch):
    """A DockerRegistry source; watch holds extra watch fields."""
    source = {"identifier": identifier, "type": "DockerRegistry",
              "spec": {"connectorRef": connector, "imagePath": image},
              "interval": interval}
    source.update(watch)
    return source


def webhook_sink(identifier, hook, secret_ref="hook_key"):
    return {"identifier": identifier, "type": "Webhook",
            "spec": {"url": hook.url, "secretRef": secret_ref}}


# -------------------------------------------------------------- Watcher

class Watcher(Waitable):
    """Runs ./artifact-watcher on a config, capturing its output.

    Log lines (stderr) and stdout lines are kept in lists; tests wait for
    a log line matching a pattern.  stop() sends SIGTERM and asserts that
    the daemon exits 0.
    """

    def __init__(self, workdir, config, env=None, log_level="debug"):
        super().__init__()
        self.workdir = workdir
        self.config = config
        self.env = dict(os.environ)
        self.env.update(env or {})
        self.log_level = log_level
        self.path = None
        self.process = None
        self.logs = []
        self.stdout = []
        self.readers = []

    def write_config(self):
        self.path = os.path.join(self.workdir.path,
                                 "watcher-%d.yaml" % id(self))
        with open(self.path, "w") as f:
            f.write(to_yaml(self.config) + "\n")
        return self.path

    def command(self, *args):
        return [BINARY, "--log-level", self.log_level] + list(args)

    def start(self):
        self.write_config()
        self.logs, self.stdout = [], []
        self.process = subprocess.Popen(
            self.command("run", "-c", self.path), env=self.env,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        self.readers = [
            threading.Thread(target=self.read, daemon=True,
                             args=(self.process.stderr, self.logs)),
            threading.Thread(target=self.read, daemon=True,
                             args=(self.process.stdout, self.stdout)),
        ]
        for reader in self.readers:
            reader.start()
        Waitable.running_watchers.add(self)
        return self

    def reload(self, config=None, text=None):
        """Rewrite the config file (a dict, or raw text) and send SIGHUP."""
        with open(self.path, "w") as f:
            f.write(text if text is not None else to_yaml(config) + "\n")
        if config is not None:
            self.config = config
        self.process.send_signal(signal.SIGHUP)

    def exit_code(self):
        """The exit status if the process has ended, else None."""
        process = self.process
        return None if process is None else process.poll()

    def read(self, stream, lines):
        for line in stream:
            with self.cond:
                lines.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def running(self):
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout=10.0):
        """SIGTERM, then require a clean exit 0 within timeout."""
        Waitable.running_watchers.discard(self)
        if self.process is None:
            return
        process, self.process = self.process, None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise AssertionError("watcher ignored SIGTERM for %.0fs"
                                 % timeout)
        for reader in self.readers:
            reader.join(5)
        if code != 0:
            raise AssertionError("watcher exited %d; log tail:\n%s"
                                 % (code, self.tail()))

    def kill(self):
        Waitable.running_watchers.discard(self)
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def tail(self, n=30):
        with self.cond:
            return "\n".join(self.logs[-n:])

    def matching(self, pattern):
        regex = re.compile(pattern)
        with self.cond:
            return [line for line in self.logs if regex.search(line)]

    def wait_log(self, pattern, count=1, timeout=20.0):
        """Wait for count log lines matching pattern; return them."""
        regex = re.compile(pattern)

        def found():
            hits = [line for line in self.logs if regex.search(line)]
            return hits if len(hits) >= count else None
        try:
            return self.wait_for(found, timeout,
                                 "log line /%s/ x%d" % (pattern, count))
        except AssertionError as error:
            raise AssertionError("%s; log tail:\n%s"
                                 % (error, self.tail())) from None

    def run_cli(self, *args, timeout=60):
        """Run a one-shot command (once, check, versions) on the config."""
        if self.path is None:
            self.write_config()
        return subprocess.run(self.command(*args), env=self.env,
                              stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=timeout)


def logfmt(line):
    """Parse one logfmt line into a dict (quoted values unescaped)."""
    fields = {}
    for match in re.finditer(r'(\w[\w.-]*)=("(?:[^"\\]|\\.)*"|\S*)', line):
        value = match.group(2)
        if value.startswith('"'):
            try:
                value = json.loads(value)
            except ValueError:
                value = value[1:-1]
        fields[match.group(1)] = value
    return fields
