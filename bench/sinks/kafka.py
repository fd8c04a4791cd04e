"""kafka.py: the Kafka sink case of bench/sink_throughput.py.

No Kafka broker is packaged: the cluster is build/fakes/fake-kafka
(tests/integration/kafkafake.py), librdkafka's mock brokers in a process
of their own on loopback.  The watcher's Kafka sink (idempotent, acks=all,
its default window, 256) against bare-kafka.c producing the same messages
with librdkafka at the same confirmation level, the same key and headers,
one partition as the sink keeps one source in one, each counted in its
delivery report, at most 256 without one.  Each round has its own
one-partition topic, counted by its high watermark (the mock keeps only
the last few MB of a partition).
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "tests", "integration"))

from kafkafake import FakeKafka  # noqa: E402

WINDOW = 256


class KafkaCase:
    name = "Kafka"
    bare_source = "bare-kafka.c"
    pkgs = ["rdkafka"]

    def __init__(self):
        self.kafka = None

    def start(self, work):
        self.kafka = FakeKafka()

    def stop(self):
        if self.kafka is not None:
            self.kafka.stop()

    def topic(self, round_dir, bare):
        name = os.path.basename(round_dir) + ("-bare" if bare else "")
        self.kafka.topic(name, 1)
        return name

    def sink(self, round_dir):
        return {"type": "Kafka", "maxInFlight": WINDOW,
                "spec": {"brokers": self.kafka.bootstraps,
                         "topic": self.topic(round_dir, False)}}

    def bare_argv(self, binary, messages, round_dir):
        return [binary, messages, self.kafka.bootstraps,
                self.topic(round_dir, True), str(WINDOW)]

    def delivered(self, round_dir, bare=False):
        name = os.path.basename(round_dir) + ("-bare" if bare else "")
        return self.kafka.count(name)


CASE = KafkaCase()
