"""test_amqp.py: the Amqp sink against a real RabbitMQ on loopback.

One rabbitmq-server (own node name, ports, data directory) and one
docker-registry per suite; each test has its own exchange, queues,
repository and watcher.  A python3-pika consumer reads what arrived.  Each
watcher also has a Stdout sink, whose lines give the outbox order and show
that the other sinks go on while the broker is down or refuses.

Cases: structured events arrive in outbox order with message_id = event
id, persistent, with the routing-key template rendered; binary mode puts
the CloudEvents attributes in cloudEvents_* headers and the data in the
body; an unroutable message is retried with "unroutable" in the log (not
dropped), and arrives once a queue is bound; the broker is stopped while
tags are pushed and restarted: nothing is lost, same ids; refused
credentials give a clear error and retries, without the password in the
log; amqps:// to the broker's TLS listener (a CA the suite makes with
openssl): delivered with the right caCertRef or insecureSkipVerify, and a
certificate that does not verify is a retried failure saying so; config
errors are FILE:LINE:COL.
"""

import json
import re
import time
import unittest

from brokers import RabbitMQ, console_ids, make_ca, watch_repo
from harness import Registry, Watcher, Workdir

WORKDIR = None
RABBIT = None
REGISTRY = None
CA = OTHER_CA = None
ENV = {"AW_IT_AMQP_PASSWORD": RabbitMQ.PASSWORD,
       "AW_IT_AMQP_WRONG": "not-the-password"}


def setUpModule():
    global WORKDIR, RABBIT, REGISTRY, CA, OTHER_CA
    WORKDIR = Workdir()
    REGISTRY = Registry(WORKDIR, "anonymous")
    REGISTRY.start()
    tls = make_ca(WORKDIR.sub("tls"))
    CA = tls[0]
    OTHER_CA = make_ca(WORKDIR.sub("tls-other"), "aw-other-ca")[0]
    RABBIT = RabbitMQ(WORKDIR, tls=tls)
    RABBIT.start()


def tearDownModule():
    if RABBIT is not None:
        RABBIT.cleanup()
    if REGISTRY is not None:
        REGISTRY.stop()
    WORKDIR.cleanup()


def consume(channel, queue, count, timeout=60.0):
    """Read count messages (acking them); fail after timeout."""
    got = []
    deadline = time.monotonic() + timeout
    for method, props, body in channel.consume(queue,
                                               inactivity_timeout=0.2):
        if method is not None:
            got.append((method, props, body))
            channel.basic_ack(method.delivery_tag)
        if len(got) >= count:
            break
        if time.monotonic() > deadline:
            break
    channel.cancel()
    if len(got) < count:
        raise AssertionError("%d of %d messages arrived on %s"
                             % (len(got), count, queue))
    return got


class AmqpCase(unittest.TestCase):
    def setUp(self):
        self.name = self.id().rsplit(".", 1)[-1].replace("test_", "")
        self.repo = "amqp/" + self.name.replace("_", "-")
        self.exchange = "aw." + self.name
        self.client = REGISTRY.client()
        self.connection, self.channel = RABBIT.channel()
        self.addCleanup(self.close_channel)
        self.channel.exchange_declare(self.exchange, "topic", durable=True)
        self.watcher = None

    def close_channel(self):
        try:
            self.connection.close()
        except Exception:
            pass

    def broker_up(self):
        if RABBIT.process is None:
            RABBIT.start()

    def queue(self, name, key="#"):
        queue = "q." + self.name + "." + name
        self.channel.queue_declare(queue, durable=True)
        self.channel.queue_bind(queue, self.exchange, key)
        return queue

    def sink(self, identifier="bus", **spec):
        base = {"url": RABBIT.url, "passwordRef": "amqp_pw",
                "exchange": self.exchange,
                "routingKey": "artifacts.<+event.data.sourceId>"}
        base.update(spec)
        return {"identifier": identifier, "type": "Amqp", "spec": base}

    def start(self, sinks):
        secrets = {"amqp_pw": "env:AW_IT_AMQP_PASSWORD",
                   "amqp_wrong": "env:AW_IT_AMQP_WRONG"}
        self.watcher = watch_repo(self, WORKDIR, REGISTRY, secrets, sinks,
                                  ENV)

    def console_ids(self, count):
        """The ids the Stdout sink printed, in outbox order."""
        return console_ids(self.watcher, count)

    def test_structured_in_order_with_ids(self):
        queue = self.queue("all", "artifacts.*")
        self.start([self.sink()])
        tags = ["1.0.%d" % i for i in range(6)]
        for tag in tags:
            self.client.push(self.repo, tag)
        got = consume(self.channel, queue, len(tags))
        ids = self.console_ids(len(tags))
        events = [json.loads(body) for _, _, body in got]
        self.assertEqual([e["id"] for e in events], ids)
        self.assertEqual(sorted(e["data"]["version"] for e in events), tags)
        for method, props, body in got:
            event = json.loads(body)
            self.assertEqual(props.message_id, event["id"])
            self.assertEqual(props.delivery_mode, 2)
            self.assertEqual(props.content_type,
                             "application/cloudevents+json")
            self.assertEqual(method.routing_key, "artifacts.app")
            self.assertEqual(event["specversion"], "1.0")
            self.assertEqual(event["type"], "artifact.created")
            self.assertEqual(event["subject"],
                             "%s:%s" % (self.repo, event["data"]["version"]))
        self.watcher.stop()

    def test_binary_mode_headers(self):
        queue = self.queue("bin")
        self.start([self.sink(contentMode="binary")])
        digest = self.client.push(self.repo, "2.0.0")
        [(method, props, body)] = consume(self.channel, queue, 1)
        headers = props.headers
        [event_id] = self.console_ids(1)
        self.assertEqual(props.message_id, event_id)
        self.assertEqual(headers["cloudEvents_id"], event_id)
        self.assertEqual(headers["cloudEvents_specversion"], "1.0")
        self.assertEqual(headers["cloudEvents_type"], "artifact.created")
        self.assertEqual(headers["cloudEvents_source"],
                         "/artifact-watcher/sources/app")
        self.assertEqual(headers["cloudEvents_subject"],
                         self.repo + ":2.0.0")
        self.assertIn("cloudEvents_time", headers)
        self.assertNotIn("cloudEvents_datacontenttype", headers)
        self.assertEqual(props.content_type, "application/json")
        data = json.loads(body)
        self.assertEqual(data["version"], "2.0.0")
        self.assertEqual(data["digest"], digest)
        self.assertNotIn("specversion", data)
        self.watcher.stop()

    def test_unroutable_is_a_failure_then_delivered(self):
        # No queue is bound yet: the broker returns the message.
        self.start([self.sink(routingKey="nobody.<+event.data.sourceId>")])
        self.client.push(self.repo, "3.0.0")
        [event_id] = self.console_ids(1)
        self.watcher.wait_log(r"delivery failed, will retry.*unroutable: "
                              r"312 NO_ROUTE", timeout=30)
        self.assertEqual(self.watcher.matching(r"msg=\"dispatch: delivered"
                                               r"\" sink=bus"), [])
        queue = self.queue("late", "nobody.#")
        [(_, props, body)] = consume(self.channel, queue, 1)
        self.assertEqual(props.message_id, event_id)
        self.assertEqual(json.loads(body)["id"], event_id)
        self.watcher.stop()

    def test_refused_credentials_retry_and_others_go_on(self):
        self.queue("creds")
        self.start([self.sink(passwordRef="amqp_wrong")])
        self.client.push(self.repo, "4.0.0")
        self.console_ids(1)             # the Stdout sink delivered
        self.watcher.wait_log(r"will retry\" sink=bus .*credentials "
                              r"refused by the broker", count=2, timeout=30)
        for line in self.watcher.logs:
            self.assertNotIn(RabbitMQ.PASSWORD, line)
            self.assertNotIn("not-the-password", line)
        self.assertTrue(self.watcher.running())
        self.watcher.stop()

    def test_broker_restart_loses_nothing(self):
        queue = self.queue("restart")
        self.start([self.sink()])
        self.client.push(self.repo, "5.0.0")
        first = consume(self.channel, queue, 1)
        self.close_channel()

        RABBIT.stop()
        self.addCleanup(self.broker_up)
        tags = ["5.1.%d" % i for i in range(4)]
        for tag in tags:
            self.client.push(self.repo, tag)
        # The other sink goes on while the broker is down.
        ids = self.console_ids(1 + len(tags))
        self.watcher.wait_log(r"will retry\" sink=bus ", timeout=30)
        RABBIT.start()
        self.connection, self.channel = RABBIT.channel()
        got = list(first)
        # At least once: every id arrives; a repeat keeps the same id.
        while {props.message_id for _, props, _ in got} < set(ids):
            got += consume(self.channel, queue, 1, timeout=90)
        self.assertEqual({props.message_id for _, props, _ in got},
                         set(ids))
        for _, props, body in got:
            self.assertEqual(json.loads(body)["id"], props.message_id)
        versions = {json.loads(b)["data"]["version"] for _, _, b in got}
        self.assertEqual(versions, set(tags) | {"5.0.0"})
        self.watcher.stop()

    def test_amqps_checks_the_broker_certificate(self):
        good = self.queue("good", "good.*")
        insecure = self.queue("insecure", "insecure.*")
        bad = self.queue("bad", "bad.*")
        tls = {"url": RABBIT.tls_url}
        self.start([
            self.sink("good", routingKey="good.x", caCertRef=CA, **tls),
            self.sink("insecure", routingKey="insecure.x",
                      caCertRef=OTHER_CA, insecureSkipVerify=True, **tls),
            self.sink("bad", routingKey="bad.x", caCertRef=OTHER_CA,
                      **tls)])
        self.client.push(self.repo, "1.0.0")
        ids = self.console_ids(1)
        for queue in (good, insecure):
            got = consume(self.channel, queue, 1)
            self.assertEqual([p.message_id for _, p, _ in got], ids, queue)
            self.assertEqual(json.loads(got[0][2])["data"]["version"],
                             "1.0.0")
        self.watcher.wait_log(r'delivery failed, will retry.*sink=bad.*'
                              r'certificate does not verify')
        self.assertEqual(self.channel.queue_declare(
            bad, passive=True).method.message_count, 0)
        self.assertNotIn(RabbitMQ.PASSWORD, "".join(self.watcher.logs))


class AmqpConfig(unittest.TestCase):
    def check(self, spec):
        config = {
            "secrets": {"amqp_pw": "env:AW_IT_AMQP_PASSWORD"},
            "sinks": [{"identifier": "bus", "type": "Amqp", "spec": spec}],
        }
        watcher = Watcher(WORKDIR, config, env=ENV)
        return watcher, watcher.run_cli("check", "-c", watcher.write_config())

    def test_config_errors_have_positions(self):
        watcher, out = self.check({"url": "http://127.0.0.1:5672"})
        self.assertNotEqual(out.returncode, 0)
        path = re.escape(watcher.path)
        self.assertRegex(out.stderr, path + r":\d+:\d+: spec.url of sink "
                         r"\"bus\" must start with amqp://")
        watcher, out = self.check({"url": "amqp://127.0.0.1",
                                   "passwordRef": "missing"})
        self.assertRegex(out.stderr, re.escape(watcher.path) +
                         r":\d+:\d+: .*secret \"missing\" is not defined")
        watcher, out = self.check({"url": "amqp://u:inline-pw@127.0.0.1"})
        self.assertRegex(out.stderr, r":\d+:\d+: spec.url of sink \"bus\" "
                         r"holds a password")
        self.assertNotIn("inline-pw", out.stderr)
        watcher, out = self.check({"url": "amqp://127.0.0.1",
                                   "routingKey": "a.<+event.nope>"})
        self.assertRegex(out.stderr, r":\d+:\d+: .*routingKey")
        watcher, out = self.check({"url": "amqp://127.0.0.1",
                                   "caCertRef": "./ca.pem"})
        self.assertRegex(out.stderr, r":\d+:\d+: the TLS keys of sink "
                         r"\"bus\" need an amqps:// url")
        watcher, out = self.check({"url": "amqps://127.0.0.1",
                                   "proxyUrl": "http://127.0.0.1:3128"})
        self.assertRegex(out.stderr, r":\d+:\d+: spec.proxyUrl of sink "
                         r"\"bus\": the Amqp sink connects directly")
        watcher, out = self.check({"url": "amqps://127.0.0.1",
                                   "clientCertRef": "./c.pem"})
        self.assertRegex(out.stderr, r":\d+:\d+: clientCertRef .*needs "
                         r"clientKeyRef")


if __name__ == "__main__":
    unittest.main()
