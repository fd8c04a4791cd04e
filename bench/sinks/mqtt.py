"""mqtt.py: the Mqtt sink case of bench/sink_throughput.py.

A mosquitto of its own (tests/integration/brokers.py, anonymous, on a free
loopback port).  The watcher's Mqtt sink (MQTT 5, QoS 1, maxInFlight 64)
against bare-mqtt.c publishing the same messages with libmosquitto at the
same confirmation level: MQTT 5, QoS 1, counted on the PUBACK, at most 64
unacknowledged.  Each round publishes to its own topic, which a
mosquitto_sub started before the round counts.
"""

import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "tests", "integration"))

import harness  # noqa: E402
from brokers import Mosquitto  # noqa: E402

WINDOW = 64
QOS = 1
PASSWORD_ENV = "AW_BENCH_MQTT_PASSWORD"


class Counter:
    """mosquitto_sub on one topic, counting messages."""

    def __init__(self, port, topic):
        self.count = 0
        self.proc = subprocess.Popen(
            ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-t",
             topic, "-q", "1", "-V", "mqttv5"], stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        threading.Thread(target=self.read, daemon=True).start()
        # Subscribed once a probe comes back.
        deadline = time.monotonic() + 20
        while self.count == 0:
            subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p",
                            str(port), "-t", topic, "-m", "probe", "-q",
                            "1"], check=True)
            time.sleep(0.1)
            if time.monotonic() > deadline:
                raise RuntimeError("mosquitto_sub did not subscribe")
        self.probes = self.count

    def read(self):
        for _ in self.proc.stdout:
            self.count += 1

    def total(self):
        """Messages after the probes, once the count stops growing."""
        last = -1
        while last != self.count:
            last = self.count
            time.sleep(0.5)
        self.proc.terminate()
        self.proc.wait(10)
        return last - self.probes


class MqttCase:
    name = "Mqtt"
    bare_source = "bare-mqtt.c"
    pkgs = ["libmosquitto"]

    def __init__(self):
        self.work = None
        self.broker = None
        self.counters = {}

    def start(self, work):
        self.work = harness.Workdir("aw-bench-mqtt-")
        self.broker = Mosquitto(self.work, anonymous=True)
        self.broker.start()
        os.environ[PASSWORD_ENV] = ""

    def stop(self):
        for counter in self.counters.values():
            if counter.proc.poll() is None:
                counter.proc.kill()
        if self.broker is not None:
            self.broker.cleanup()
        if self.work is not None:
            self.work.cleanup()

    def topic(self, round_dir, bare):
        topic = "bench/" + os.path.basename(round_dir) + \
            ("-bare" if bare else "")
        self.counters[topic] = Counter(self.broker.port, topic)
        return topic

    def sink(self, round_dir):
        return {"type": "Mqtt", "maxInFlight": WINDOW,
                "spec": {"url": self.broker.url, "qos": QOS,
                         "topic": self.topic(round_dir, False)}}

    def bare_argv(self, binary, messages, round_dir):
        return [binary, messages, "127.0.0.1", str(self.broker.port),
                "", PASSWORD_ENV, self.topic(round_dir, True), str(QOS),
                str(WINDOW)]

    def delivered(self, round_dir, bare=False):
        topic = "bench/" + os.path.basename(round_dir) + \
            ("-bare" if bare else "")
        return self.counters.pop(topic).total()


CASE = MqttCase()
