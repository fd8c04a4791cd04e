"""test_kafka.py: the Kafka sink against librdkafka's mock cluster.

No Kafka broker is packaged, so the cluster is build/fakes/fake-kafka:
librdkafka's built-in mock brokers (test.mock.num.brokers' machinery) on
loopback ports, in a process of their own that the watcher's producer
reaches over TCP like a real cluster.  The fake registry is the source,
the store is LMDB, a Stdout sink goes beside.  Checked: one source's events
in one partition in order, key "<source>@<version>", the Idempotency-Key
header and the CloudEvents attributes in structured and binary mode, and
the brokers going down while tags are pushed and coming back: every event
arrives, with the id it had on stdout.
"""

import json
import unittest

from harness import Waitable
from kafkafake import FakeKafka
from queuecase import QueueSinkCase


class KafkaSink(QueueSinkCase):
    SINK_ID = "kafka"
    SINK_TYPE = "Kafka"

    @classmethod
    def start_broker(cls):
        cls.kafka = FakeKafka()

    @classmethod
    def stop_broker(cls):
        cls.kafka.stop()

    def broker_spec(self):
        return {"brokers": self.kafka.bootstraps}

    def wait_topic(self, topic, count, timeout=30):
        def enough():
            try:
                if self.kafka.count(topic) < count:
                    return None
            except RuntimeError:
                return None
            return self.kafka.dump(topic)
        return Waitable().wait_for(enough, timeout,
                                   "%d messages in %s" % (count, topic))

    def test_in_order_per_source_with_key_and_id(self):
        self.kafka.topic("order", 4)
        name, sources = "order", ["a", "b", "c"]
        w = self.watcher(name, sources, {"topic": "order"})
        versions = ["1.0.%d" % i for i in range(1, 5)]
        for v in versions:
            for s in sources:
                self.fake.tags("%s/%s" % (name, s), [v])
        printed = self.printed(w, len(sources) * len(versions))
        msgs = self.wait_topic("order", len(sources) * len(versions))
        for s in sources:
            mine = [m for m in msgs
                    if json.loads(m["value"])["data"]["sourceId"] == s]
            self.assertEqual(len({m["partition"] for m in mine}), 1,
                             "one partition for source " + s)
            mine.sort(key=lambda m: m["offset"])
            events = [json.loads(m["value"]) for m in mine]
            self.assertEqual([e["data"]["version"] for e in events],
                             versions, "in order for source " + s)
            for m, e in zip(mine, events):
                self.assertEqual(m["key"], "%s@%s"
                                 % (s, e["data"]["version"]))
                self.assertEqual(m["headers"]["Idempotency-Key"], e["id"])
                self.assertEqual(m["headers"]["content-type"],
                                 "application/cloudevents+json")
                self.assertEqual(e["specversion"], "1.0")
                self.assertEqual(e["source"],
                                 "/artifact-watcher/sources/" + s)
            self.assertEqual([e["id"] for e in events],
                             [e["id"] for e in printed
                              if e["data"]["sourceId"] == s])

    def test_binary_mode_headers(self):
        self.kafka.topic("binary", 1)
        name = "binary"
        w = self.watcher(name, ["d"], {"topic": "binary",
                                       "contentMode": "binary"})
        self.fake.tags(name + "/d", ["2.0.0"])
        event = self.printed(w, 1)[0]
        m = self.wait_topic("binary", 1)[0]
        for attr in ("specversion", "id", "source", "type", "subject",
                     "time"):
            self.assertEqual(m["headers"]["ce_" + attr], event[attr], attr)
        self.assertEqual(m["headers"]["content-type"], "application/json")
        self.assertEqual(m["headers"]["Idempotency-Key"], event["id"])
        self.assertEqual(json.loads(m["value"]), event["data"])

    def test_brokers_down_while_tags_are_pushed(self):
        self.kafka.topic("down", 2)
        name = "down"
        w = self.watcher(name, ["e"], {"topic": "down", "timeout": "2s"})
        self.fake.tags(name + "/e", ["1.0.0"])
        self.wait_topic("down", 1)
        self.kafka.down()
        try:
            later = ["1.0.1", "1.0.2", "1.0.3"]
            for v in later:
                self.fake.tags(name + "/e", [v])
            # The daemon and the Stdout sink go on without Kafka.
            printed = self.printed(w, 4)
            w.wait_log(r'delivery failed, will retry.*sink=kafka',
                       timeout=30)
        finally:
            self.kafka.up()
        msgs = self.wait_topic("down", 4, timeout=60)
        msgs.sort(key=lambda m: m["offset"])
        ids = []
        for m in msgs:	# a consumer drops repeats by the id
            if m["headers"]["Idempotency-Key"] not in ids:
                ids.append(m["headers"]["Idempotency-Key"])
        self.assertEqual(ids, [e["id"] for e in printed],
                         "nothing lost, in order")


if __name__ == "__main__":
    unittest.main()
