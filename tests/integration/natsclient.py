"""natsclient.py: nats-server on loopback and a small NATS client, for the
integration tests and the benchmark (Python standard library only).

  NatsServer  nats-server -js on a free port with its JetStream store in a
              temporary directory; stop() and start() again keep the port
              and the stored streams
  NatsClient  the text protocol: CONNECT with headers, SUB, PUB/HPUB,
              MSG/HMSG with their headers, request/reply, and the few
              JetStream API calls the tests need (stream create, info,
              message get)
"""

import base64
import json
import os
import socket
import subprocess
import time

from harness import START_TIMEOUT, free_port, stop_process, wait_listening

NATS_SERVER = "/usr/sbin/nats-server"


class NatsServer:
    """nats-server with JetStream, restartable on the same port and store."""

    def __init__(self, workdir):
        self.dir = workdir.sub("nats-%d" % id(self))
        self.port = free_port()
        self.process = None

    @property
    def url(self):
        return "nats://127.0.0.1:%d" % self.port

    def start(self):
        self.process = subprocess.Popen(
            [NATS_SERVER, "-a", "127.0.0.1", "-p", str(self.port), "-js",
             "-sd", self.dir, "-l", os.path.join(self.dir, "nats.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_listening(self.port, self.process)
        # JetStream answers once its store is read.
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                with NatsClient(self.port) as c:
                    c.request("$JS.API.INFO", b"", timeout=1)
                return
            except (OSError, TimeoutError, RuntimeError):
                if time.monotonic() > deadline:
                    raise RuntimeError("JetStream did not come up")
                time.sleep(0.05)

    def stop(self):
        stop_process(self.process)
        self.process = None


def parse_headers(block):
    """'NATS/1.0\\r\\nK: V\\r\\n\\r\\n' -> {K: V} (last value wins)."""
    lines = block.decode().split("\r\n")
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip()] = v.strip()
    return headers


class Message:
    def __init__(self, subject, reply, headers, data):
        self.subject = subject
        self.reply = reply
        self.headers = headers
        self.data = data


class NatsClient:
    """A blocking client on one socket; messages are read on demand."""

    def __init__(self, port, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=timeout)
        self.buf = b""
        self.inbox_n = 0
        self.sid = 0
        self.pending = []
        info = self._line()
        if not info.startswith(b"INFO "):
            raise RuntimeError("not a NATS server: %r" % info)
        self._send(b"CONNECT " + json.dumps({
            "verbose": False, "pedantic": False, "headers": True,
            "no_responders": True, "protocol": 1,
            "name": "aw-test"}).encode() + b"\r\n")
        self.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _send(self, data):
        self.sock.sendall(data)

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("nats: no answer")
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            raise TimeoutError("nats: no answer") from None
        if not chunk:
            raise RuntimeError("nats: connection closed")
        self.buf += chunk

    def _line(self, deadline=None):
        deadline = deadline or time.monotonic() + START_TIMEOUT
        while b"\r\n" not in self.buf:
            self._fill(deadline)
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _bytes(self, n, deadline):
        while len(self.buf) < n + 2:
            self._fill(deadline)
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def _read_op(self, deadline):
        """One protocol op; messages are returned, the rest handled."""
        line = self._line(deadline)
        if line == b"PING":
            self._send(b"PONG\r\n")
            return None
        if line == b"PONG":
            return "PONG"
        if line.startswith(b"-ERR"):
            raise RuntimeError("nats: %s" % line.decode())
        if line.startswith(b"MSG "):
            parts = line.decode().split()
            reply = parts[3] if len(parts) == 5 else None
            data = self._bytes(int(parts[-1]), deadline)
            return Message(parts[1], reply, {}, data)
        if line.startswith(b"HMSG "):
            parts = line.decode().split()
            reply = parts[3] if len(parts) == 6 else None
            hlen, total = int(parts[-2]), int(parts[-1])
            raw = self._bytes(total, deadline)
            return Message(parts[1], reply, parse_headers(raw[:hlen]),
                           raw[hlen:])
        return None		# +OK, INFO

    def flush(self, timeout=START_TIMEOUT):
        self._send(b"PING\r\n")
        deadline = time.monotonic() + timeout
        while True:
            op = self._read_op(deadline)
            if op == "PONG":
                return
            if isinstance(op, Message):
                self.pending.append(op)

    def subscribe(self, subject):
        self.sid += 1
        self._send(("SUB %s %d\r\n" % (subject, self.sid)).encode())
        self.flush()
        return self.sid

    def next_message(self, timeout=10.0):
        if self.pending:
            return self.pending.pop(0)
        deadline = time.monotonic() + timeout
        while True:
            op = self._read_op(deadline)
            if isinstance(op, Message):
                return op

    def publish(self, subject, data, headers=None, reply=None):
        target = subject + (" " + reply if reply else "")
        if headers:
            hdr = "NATS/1.0\r\n" + "".join(
                "%s: %s\r\n" % kv for kv in headers.items()) + "\r\n"
            hdr = hdr.encode()
            self._send(b"HPUB %s %d %d\r\n%s%s\r\n" % (
                target.encode(), len(hdr), len(hdr) + len(data), hdr, data))
        else:
            self._send(b"PUB %s %d\r\n%s\r\n" % (target.encode(), len(data),
                                                 data))

    def request(self, subject, data, headers=None, timeout=5.0):
        self.inbox_n += 1
        inbox = "_INBOX.awtest.%d.%d" % (id(self), self.inbox_n)
        sid = self.subscribe(inbox)
        self.publish(subject, data, headers, reply=inbox)
        deadline = time.monotonic() + timeout
        try:
            while True:
                op = self._read_op(deadline)
                if isinstance(op, Message) and op.subject == inbox:
                    return op
                if isinstance(op, Message):
                    self.pending.append(op)
        finally:
            self._send(("UNSUB %d\r\n" % sid).encode())

    def js(self, api, body=None):
        """A JetStream API call; the JSON answer, errors raised."""
        msg = self.request("$JS.API." + api,
                           json.dumps(body).encode() if body else b"")
        if not msg.data:
            raise RuntimeError("jetstream %s: no answer (%r)"
                               % (api, msg.headers))
        answer = json.loads(msg.data)
        if "error" in answer:
            raise RuntimeError("jetstream %s: %s" % (api, answer["error"]))
        return answer

    def stream_create(self, name, subjects):
        return self.js("STREAM.CREATE." + name,
                       {"name": name, "subjects": subjects,
                        "storage": "file", "duplicate_window": 120 * 10**9})

    def stream_count(self, name):
        return self.js("STREAM.INFO." + name)["state"]["messages"]

    def stream_messages(self, name):
        """Every stored message: [Message], oldest first."""
        out = []
        info = self.js("STREAM.INFO." + name)["state"]
        for seq in range(info["first_seq"], info["last_seq"] + 1):
            m = self.js("STREAM.MSG.GET." + name, {"seq": seq})["message"]
            hdrs = base64.b64decode(m.get("hdrs", "")) if m.get("hdrs") \
                else b""
            out.append(Message(m["subject"], None,
                               parse_headers(hdrs) if hdrs else {},
                               base64.b64decode(m.get("data", ""))))
        return out
