"""fakeserver.py: start build/fakes/fake-server and drive its control API.

Python 3 standard library only.  Integration tests and benchmarks import it
(add tests/fakes to sys.path) to get a fake registry on a free 127.0.0.1
port, inject faults, shape repositories and read back the requests the
fake saw.  See docs/fakes.md for the wire format of every control call.

    fake = FakeServer()                 # waits for "listening on ..."
    fake.fault(path_prefix="/v2/a/", fault="429", retry_after="5", count=3)
    fake.repo(name="a/app", tags=["v1", "v2"], link="cursor")
    fake.requests(path_prefix="/v2/a/")  # what the watcher asked, when
    fake.stop()
"""

import http.client
import json
import os
import select
import subprocess
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BINARY = os.environ.get("AW_FAKE") or os.path.join(ROOT, "build", "fakes",
                                                   "fake-server")
START_TIMEOUT = 10.0


class FakeServer:
    """One fake-server process on its own port."""

    def __init__(self, binary=BINARY, log_size=None):
        args = [binary, "--port", "0"]
        if log_size is not None:
            args += ["--log-size", str(log_size)]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE)
        line = self._first_line()
        prefix = b"listening on 127.0.0.1:"
        if not line.startswith(prefix):
            self.stop()
            raise RuntimeError("fake-server said %r" % line)
        self.port = int(line[len(prefix):])
        self.base = "http://127.0.0.1:%d" % self.port

    def _first_line(self):
        """The first stdout line, waited for with a deadline."""
        out = self.process.stdout
        deadline = time.monotonic() + START_TIMEOUT
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or self.process.poll() is not None:
                raise RuntimeError("fake-server did not start")
            ready, _, _ = select.select([out], [], [], left)
            if ready:
                chunk = os.read(out.fileno(), 1)
                if not chunk:
                    raise RuntimeError("fake-server closed stdout")
                line += chunk
        return line.strip()

    def url(self, path):
        return self.base + path

    def request(self, method, path, body=None, headers=None, timeout=10):
        """(status, headers dict with lowercase names, body bytes)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=timeout)
        try:
            data = None if body is None else json.dumps(body).encode()
            conn.request(method, path, body=data, headers=headers or {})
            resp = conn.getresponse()
            payload = resp.read()
            return (resp.status,
                    {k.lower(): v for k, v in resp.getheaders()}, payload)
        finally:
            conn.close()

    def control(self, method, path, body=None):
        status, _, payload = self.request(method, "/_fake/" + path, body)
        if status >= 300:
            raise RuntimeError("control %s %s: %d %s"
                               % (method, path, status, payload))
        return json.loads(payload) if payload else None

    def fault(self, **rule):
        """Adds a fault rule; returns its id."""
        return self.control("POST", "faults", rule)["ids"][0]

    def faults(self):
        return self.control("GET", "faults")

    def clear_faults(self):
        self.control("DELETE", "faults")

    def reset(self):
        self.control("POST", "reset")

    def requests(self, since=0, path_prefix=None):
        """The logged requests after seq `since`, oldest first."""
        query = "since=%d" % since
        if path_prefix is not None:
            query += "&path_prefix=" + path_prefix
        return self.control("GET", "requests?" + query)["requests"]

    def repo(self, **options):
        """Makes or shapes a repository (docs/fakes.md, "repos")."""
        return self.control("POST", "docker/repos", options)

    def tags(self, repo, tags):
        """Adds or re-points tags; returns {tag: digest}."""
        return self.control("POST", "docker/tags",
                            {"repo": repo, "tags": tags})["digests"]

    def config(self, **options):
        """auth, credentials, token_expires_in, ratelimit."""
        return self.control("POST", "docker/config", options)

    def stop(self):
        """SIGTERM the fake and wait for it; True when it exited cleanly."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            stream.close()
        return self.process.returncode == 0
