"""kafkafake.py: drive build/fakes/fake-kafka, librdkafka's mock Kafka
cluster on loopback (no Kafka broker is packaged), for the integration
tests and the benchmark.  Python standard library only.

    kafka = FakeKafka()            # waits for "listening on ..."
    kafka.bootstraps               # "127.0.0.1:P1,127.0.0.1:P2,..."
    kafka.topic("events", 3)
    kafka.down(); kafka.up()       # every broker refuses / accepts again
    kafka.dump("events")           # [{"partition", "offset", "key",
                                   #   "value", "headers": {...}}]
    kafka.stop()
"""

import json
import os
import select
import subprocess
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BINARY = os.path.join(ROOT, "build", "fakes", "fake-kafka")
START_TIMEOUT = 10.0


class FakeKafka:
    def __init__(self, brokers=3):
        self.process = subprocess.Popen(
            [BINARY, "--brokers", str(brokers)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.lock = threading.Lock()
        self.buf = b""
        line = self._line(START_TIMEOUT)
        prefix = "listening on "
        if not line.startswith(prefix):
            self.stop()
            raise RuntimeError("fake-kafka said %r" % line)
        self.bootstraps = line[len(prefix):]

    def _line(self, timeout):
        """One line of output; read unbuffered, so select() tells true."""
        fd = self.process.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(0, left))
            if not ready:
                raise RuntimeError("fake-kafka did not answer")
            chunk = os.read(fd, 65536)
            if not chunk:
                raise RuntimeError("fake-kafka ended")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()

    def command(self, text, timeout=30.0):
        """The lines before "ok"; an "error: ..." line is raised."""
        with self.lock:
            self.process.stdin.write(text + "\n")
            self.process.stdin.flush()
            lines = []
            deadline = time.monotonic() + timeout
            while True:
                line = self._line(max(0.1, deadline - time.monotonic()))
                if line == "ok":
                    return lines
                if line.startswith("error: "):
                    raise RuntimeError("fake-kafka: " + line[7:])
                lines.append(line)

    def topic(self, name, partitions):
        self.command("topic %s %d" % (name, partitions))

    def down(self):
        self.command("down")

    def up(self):
        self.command("up")

    def count(self, name):
        return int(self.command("count " + name)[0])

    def dump(self, name):
        out = []
        for line in self.command("dump " + name):
            m = json.loads(line)
            m["headers"] = dict(m["headers"])
            out.append(m)
        return out

    def stop(self):
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
