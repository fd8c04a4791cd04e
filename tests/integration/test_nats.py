"""test_nats.py: the Nats sink against a real nats-server -js.

The fake registry (tests/fakes) is the source, the store is LMDB, and the
sink publishes to a nats-server on a free loopback port with its JetStream
store in a temporary directory.  A Stdout sink beside it shows that the
daemon and the other sinks go on while NATS is down.  Checked: JetStream
publishes in order per source with Nats-Msg-Id = the event id and the
CloudEvent as the body; core publishes in binary mode with the ce-
headers; a server stopped while tags are pushed and started again: every
event is in the stream once, with the id it had on stdout; and JetStream
drops a repeat of an id a consumer already has.
"""

import json
import unittest

from harness import Waitable
from natsclient import NatsClient, NatsServer
from queuecase import QueueSinkCase


class NatsSink(QueueSinkCase):
    SINK_ID = "nats"
    SINK_TYPE = "Nats"

    @classmethod
    def start_broker(cls):
        cls.nats = NatsServer(cls.workdir)
        cls.nats.start()

    @classmethod
    def stop_broker(cls):
        cls.nats.stop()

    def broker_spec(self):
        return {"url": self.nats.url}

    def client(self):
        c = NatsClient(self.nats.port)
        self.addCleanup(c.close)
        return c

    def wait_stream(self, client, stream, count, timeout=30):
        def enough():
            try:
                if client.stream_count(stream) < count:
                    return None
            except (OSError, RuntimeError, TimeoutError):
                return None
            return client.stream_messages(stream)
        return Waitable().wait_for(enough, timeout,
                                   "%d messages in %s" % (count, stream))

    def test_jetstream_in_order_with_msg_id(self):
        c = self.client()
        c.stream_create("ORDER", ["order.>"])
        name, sources = "order", ["a", "b"]
        w = self.watcher(name, sources,
                         {"subject": "order.<+event.data.sourceId>",
                          "jetStream": True})
        versions = ["1.0.%d" % i for i in range(1, 6)]
        for v in versions:
            for s in sources:
                self.fake.tags("%s/%s" % (name, s), [v])
        printed = self.printed(w, 2 * len(versions))
        msgs = self.wait_stream(c, "ORDER", 2 * len(versions))
        self.assertEqual(len(msgs), 2 * len(versions))
        for s in sources:
            mine = [m for m in msgs if m.subject == "order." + s]
            events = [json.loads(m.data) for m in mine]
            self.assertEqual([e["data"]["version"] for e in events],
                             versions, "in order for source " + s)
            for m, e in zip(mine, events):
                self.assertEqual(m.headers["Nats-Msg-Id"], e["id"])
                self.assertEqual(m.headers["content-type"],
                                 "application/cloudevents+json")
                self.assertEqual(e["specversion"], "1.0")
                self.assertEqual(e["type"], "artifact.created")
                self.assertEqual(e["source"],
                                 "/artifact-watcher/sources/" + s)
            self.assertEqual([e["id"] for e in events],
                             [e["id"] for e in printed
                              if e["data"]["sourceId"] == s])
        # A consumer (or JetStream itself) drops a repeat by its id.
        again = c.request(msgs[0].subject, msgs[0].data,
                          headers={"Nats-Msg-Id":
                                   msgs[0].headers["Nats-Msg-Id"]})
        self.assertTrue(json.loads(again.data).get("duplicate"))
        self.assertEqual(c.stream_count("ORDER"), 2 * len(versions))

    def test_core_binary_mode_headers(self):
        c = self.client()
        c.subscribe("core.>")
        name = "core"
        w = self.watcher(name, ["c"], {"subject": "core.events",
                                       "contentMode": "binary"})
        self.fake.tags(name + "/c", ["2.0.0"])
        event = self.printed(w, 1)[0]
        m = c.next_message(timeout=30)
        self.assertEqual(m.subject, "core.events")
        for attr in ("specversion", "id", "source", "type", "subject",
                     "time"):
            self.assertEqual(m.headers["ce-" + attr], event[attr], attr)
        self.assertEqual(m.headers["content-type"], "application/json")
        self.assertEqual(m.headers["Nats-Msg-Id"], event["id"])
        self.assertEqual(json.loads(m.data), event["data"])

    def test_server_down_while_tags_are_pushed(self):
        c = self.client()
        c.stream_create("DOWN", ["down.>"])
        name = "down"
        w = self.watcher(name, ["d"], {"subject": "down.d",
                                       "jetStream": True, "timeout": "1s"})
        self.fake.tags(name + "/d", ["1.0.0"])
        self.wait_stream(c, "DOWN", 1)
        c.close()
        self.nats.stop()
        try:
            w.wait_log(r'nats disconnected')
            later = ["1.0.1", "1.0.2", "1.0.3"]
            for v in later:
                self.fake.tags(name + "/d", [v])
            # The daemon and the Stdout sink go on without NATS.
            printed = self.printed(w, 4)
            w.wait_log(r'delivery failed, will retry.*sink=nats')
        finally:
            self.nats.start()
        c = self.client()
        msgs = self.wait_stream(c, "DOWN", 4, timeout=60)
        self.assertEqual([json.loads(m.data)["data"]["version"]
                          for m in msgs], ["1.0.0"] + later,
                         "nothing lost, in order, none twice")
        self.assertEqual([m.headers["Nats-Msg-Id"] for m in msgs],
                         [e["id"] for e in printed])


if __name__ == "__main__":
    unittest.main()
