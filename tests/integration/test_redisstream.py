"""test_redisstream.py: the RedisStream sink against a real redis-server.

The fake registry (tests/fakes) is the source, the store is LMDB, and the
sink writes to its own redis-server on a free loopback port (AOF on, so a
restart keeps what it had).  A Stdout sink beside it shows that the daemon
and the other sinks go on while Redis is down.  Checked: per-source order,
the `id` field and the CloudEvents attributes in structured and binary
mode, a stream name rendered from a template, and a Redis stopped while
tags are pushed and started again: every event arrives, with the id it
had on stdout.
"""

import json
import unittest

from harness import Redis
from queuecase import QueueSinkCase


def xrange(redis, stream):
    """[(entry id, {field: value})] of a stream, oldest first."""
    out = redis.cli("--json", "XRANGE", stream, "-", "+")
    entries = json.loads(out) if out else []
    return [(eid, dict(zip(fields[0::2], fields[1::2])))
            for eid, fields in entries]


class RedisStreamSink(QueueSinkCase):
    SINK_ID = "stream"
    SINK_TYPE = "RedisStream"

    @classmethod
    def start_broker(cls):
        cls.redis = Redis(cls.workdir)
        cls.redis.start()

    @classmethod
    def stop_broker(cls):
        cls.redis.stop()

    def broker_spec(self):
        return {"url": self.redis.url}

    def wait_stream(self, stream, count, timeout=30):
        def enough():
            entries = xrange(self.redis, stream)
            return entries if len(entries) >= count else None
        return self.redis_wait(enough, timeout,
                               "%d entries in %s" % (count, stream))

    def redis_wait(self, predicate, timeout, what):
        # Any Waitable's wait_for polls the predicate: use a fresh one.
        from harness import Waitable
        return Waitable().wait_for(predicate, timeout, what)

    def test_structured_in_order_per_source(self):
        name, sources = "order", ["a", "b"]
        w = self.watcher(name, sources,
                         {"stream": "aw.order.<+event.data.sourceId>",
                          "maxLen": 1000})
        versions = ["1.0.%d" % i for i in range(1, 6)]
        for v in versions:
            for s in sources:
                self.fake.tags("%s/%s" % (name, s), [v])
        printed = self.printed(w, 2 * len(versions))
        for s in sources:
            entries = self.wait_stream("aw.order." + s, len(versions))
            self.assertEqual(len(entries), len(versions))
            events = [json.loads(f["event"]) for _, f in entries]
            self.assertEqual([e["data"]["version"] for e in events],
                             versions, "in order for source " + s)
            for (_, fields), event in zip(entries, events):
                self.assertEqual(fields["id"], event["id"],
                                 "the id field is the event id")
                self.assertEqual(event["specversion"], "1.0")
                self.assertEqual(event["type"], "artifact.created")
                self.assertEqual(event["source"],
                                 "/artifact-watcher/sources/" + s)
                self.assertEqual(set(fields), {"id", "event"})
            want = [e["id"] for e in printed
                    if e["data"]["sourceId"] == s]
            self.assertEqual([f["id"] for _, f in entries], want,
                             "the same ids as the Stdout sink")

    def test_binary_mode_attributes(self):
        name = "binary"
        w = self.watcher(name, ["c"], {"stream": "aw.binary",
                                       "contentMode": "binary"})
        self.fake.tags(name + "/c", ["2.0.0"])
        event = self.printed(w, 1)[0]
        _, fields = self.wait_stream("aw.binary", 1)[0]
        for attr in ("specversion", "id", "source", "type", "subject",
                     "time", "datacontenttype"):
            self.assertEqual(fields[attr], event[attr], attr)
        self.assertEqual(json.loads(fields["data"]), event["data"])
        self.assertNotIn("event", fields)
        self.assertEqual(fields["data"] and json.loads(fields["data"])
                         ["version"], "2.0.0")

    def test_redis_down_while_tags_are_pushed(self):
        name, sources = "down", ["d"]
        w = self.watcher(name, sources, {"stream": "aw.down"})
        self.fake.tags(name + "/d", ["1.0.0"])
        self.wait_stream("aw.down", 1)
        self.redis.stop()
        try:
            later = ["1.0.1", "1.0.2", "1.0.3"]
            for v in later:
                self.fake.tags(name + "/d", [v])
            # The daemon and the Stdout sink go on without Redis.
            printed = self.printed(w, 4)
            w.wait_log(r'delivery failed, will retry.*sink=stream')
        finally:
            self.redis.start()
        entries = self.wait_stream("aw.down", 4, timeout=60)
        self.assertEqual([json.loads(f["event"])["data"]["version"]
                          for _, f in entries], ["1.0.0"] + later,
                         "nothing lost, in order")
        self.assertEqual([f["id"] for _, f in entries],
                         [e["id"] for e in printed],
                         "each with the id it had on stdout")
        self.assertEqual(len({f["id"] for _, f in entries}), 4)


if __name__ == "__main__":
    unittest.main()
