"""test_mqtt.py: the Mqtt sink against a real mosquitto on loopback.

One mosquitto (password file, persistence on) and one docker-registry per
suite; each test has its own topic tree, repository and watcher.  The
consumer is mosquitto_sub (MQTT 5, QoS 1, a persistent session so that it
misses nothing across a broker restart) printing each message as JSON with
its properties.  A Stdout sink beside the Mqtt one gives the outbox order
and shows that other sinks go on while the broker is down or refuses.

Cases: structured events arrive in outbox order with the right ids at
QoS 1 and 2 on the rendered topic; binary mode puts the CloudEvents
attributes in MQTT 5 user properties and the data in the payload; the
broker is stopped while tags are pushed and restarted: nothing lost, same
ids; refused credentials give a clear error and retries, without the
password in the log; config errors are FILE:LINE:COL.
"""

import json
import re
import subprocess
import threading
import unittest

from brokers import Mosquitto, console_ids, make_ca, watch_repo
from harness import (Registry, Waitable, Watcher, Workdir, docker_connector,
                     docker_source)

WORKDIR = None
BROKER = None
REGISTRY = None
ENV = {"AW_IT_MQTT_USER": Mosquitto.USER,
       "AW_IT_MQTT_PASSWORD": Mosquitto.PASSWORD,
       "AW_IT_MQTT_WRONG": "not-the-mqtt-password"}


def setUpModule():
    global WORKDIR, BROKER, REGISTRY
    WORKDIR = Workdir()
    REGISTRY = Registry(WORKDIR, "anonymous")
    REGISTRY.start()
    BROKER = Mosquitto(WORKDIR)
    BROKER.start()


def tearDownModule():
    if BROKER is not None:
        BROKER.cleanup()
    if REGISTRY is not None:
        REGISTRY.stop()
    WORKDIR.cleanup()


class Subscriber(Waitable):
    """mosquitto_sub on a topic filter; each message a parsed dict."""

    def __init__(self, topic, client_id):
        super().__init__()
        self.messages = []
        self.process = subprocess.Popen(
            ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(BROKER.port),
             "-u", Mosquitto.USER, "-P", Mosquitto.PASSWORD,
             "-t", topic, "-q", "1", "-V", "mqttv5", "-F", "%j",
             "-c", "-i", client_id, "-x", "600"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True)
        threading.Thread(target=self.read, daemon=True).start()

    probe = None

    def read(self):
        for line in self.process.stdout:
            message = json.loads(line)
            with self.cond:
                if message["topic"] == self.probe:
                    continue        # a late copy of a probe
                self.messages.append(message)
                self.cond.notify_all()

    def wait(self, count, timeout=60.0):
        def enough():
            return list(self.messages) if len(self.messages) >= count \
                else None
        return self.wait_for(enough, timeout, "%d MQTT messages" % count)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


class MqttCase(unittest.TestCase):
    def setUp(self):
        self.name = self.id().rsplit(".", 1)[-1].replace("test_", "")
        self.repo = "mqtt/" + self.name.replace("_", "-")
        self.client = REGISTRY.client()
        self.watcher = None

    def subscribe(self):
        sub = Subscriber("aw/%s/#" % self.name, "sub-" + self.name)
        self.addCleanup(sub.stop)
        # Subscribed once a probe published to the same filter comes
        # back; the first may go out before the subscription is made.
        probe = "aw/%s/probe" % self.name
        for attempt in range(100):
            subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p",
                            str(BROKER.port), "-u", Mosquitto.USER, "-P",
                            Mosquitto.PASSWORD, "-t", probe, "-m", "{}",
                            "-q", "1"], check=True)
            try:
                sub.wait(1, timeout=0.5)
                break
            except AssertionError:
                if attempt == 99:
                    raise
        with sub.cond:
            sub.messages.clear()
        sub.probe = probe
        return sub

    def sink(self, identifier="bus", **spec):
        base = {"url": BROKER.url, "usernameRef": "mqtt_user",
                "passwordRef": "mqtt_pw",
                "topic": "aw/%s/<+event.data.sourceId>" % self.name}
        base.update(spec)
        return {"identifier": identifier, "type": "Mqtt", "spec": base}

    def start(self, sinks):
        secrets = {"mqtt_user": "env:AW_IT_MQTT_USER",
                   "mqtt_pw": "env:AW_IT_MQTT_PASSWORD",
                   "mqtt_wrong": "env:AW_IT_MQTT_WRONG"}
        self.watcher = watch_repo(self, WORKDIR, REGISTRY, secrets, sinks,
                                  ENV)

    def console_ids(self, count):
        """The ids the Stdout sink printed, in outbox order."""
        return console_ids(self.watcher, count)

    def check_structured(self, qos):
        sub = self.subscribe()
        self.start([self.sink(qos=qos)])
        tags = ["1.%d.%d" % (qos, i) for i in range(6)]
        for tag in tags:
            self.client.push(self.repo, tag)
        got = sub.wait(len(tags))
        ids = self.console_ids(len(tags))
        events = [json.loads(m["payload"]) for m in got]
        self.assertEqual([e["id"] for e in events], ids)
        self.assertEqual(sorted(e["data"]["version"] for e in events), tags)
        for m in got:
            self.assertEqual(m["topic"], "aw/%s/app" % self.name)
            self.assertEqual(m["properties"]["content-type"],
                             "application/cloudevents+json")
        self.watcher.stop()

    def test_structured_qos1_in_order(self):
        self.check_structured(1)

    def test_structured_qos2_in_order(self):
        self.check_structured(2)

    def test_binary_mode_user_properties(self):
        sub = self.subscribe()
        self.start([self.sink(contentMode="binary")])
        digest = self.client.push(self.repo, "2.0.0")
        [m] = sub.wait(1)
        [event_id] = self.console_ids(1)
        props = m["properties"]["user-properties"]
        self.assertEqual(props["id"], event_id)
        self.assertEqual(props["specversion"], "1.0")
        self.assertEqual(props["type"], "artifact.created")
        self.assertEqual(props["source"], "/artifact-watcher/sources/app")
        self.assertEqual(props["subject"], self.repo + ":2.0.0")
        self.assertIn("time", props)
        self.assertNotIn("datacontenttype", props)
        self.assertEqual(m["properties"]["content-type"], "application/json")
        data = json.loads(m["payload"])
        self.assertEqual(data["version"], "2.0.0")
        self.assertEqual(data["digest"], digest)
        self.watcher.stop()

    def test_refused_credentials_retry_and_others_go_on(self):
        self.start([self.sink(passwordRef="mqtt_wrong")])
        self.client.push(self.repo, "4.0.0")
        self.console_ids(1)
        self.watcher.wait_log(r"will retry\" sink=bus .*credentials "
                              r"refused by the broker", count=2, timeout=30)
        for line in self.watcher.logs:
            self.assertNotIn(Mosquitto.PASSWORD, line)
            self.assertNotIn("not-the-mqtt-password", line)
        self.assertTrue(self.watcher.running())
        self.watcher.stop()

    def test_broker_restart_loses_nothing(self):
        sub = self.subscribe()
        self.start([self.sink()])
        self.client.push(self.repo, "5.0.0")
        sub.wait(1)
        BROKER.stop()
        self.addCleanup(self.broker_up)
        tags = ["5.1.%d" % i for i in range(4)]
        for tag in tags:
            self.client.push(self.repo, tag)
        ids = self.console_ids(1 + len(tags))
        self.watcher.wait_log(r"will retry\" sink=bus ", timeout=30)
        BROKER.start()

        def arrived():
            return {json.loads(m["payload"])["id"] for m in sub.messages}
        # At least once: every id arrives; a repeat has the same id.
        sub.wait_for(lambda: arrived() >= set(ids), 90, "every id")
        self.assertEqual(arrived(), set(ids))
        self.watcher.stop()

    def broker_up(self):
        if BROKER.process is None:
            BROKER.start()


class MqttTls(unittest.TestCase):
    """mqtts:// against a mosquitto TLS listener whose certificate a CA of
    the test signed: the CA by caCertRef works; another CA is refused (a
    TLS error, retried) and nothing arrives."""

    @classmethod
    def setUpClass(cls):
        cls.dir = WORKDIR.sub("tls")
        cls.ca, cert, key = make_ca(cls.dir)
        cls.other_ca, _, _ = make_ca(cls.dir, "aw-other-ca")
        cls.broker = Mosquitto(WORKDIR, tls=(cls.ca, cert, key))
        cls.broker.start()

    @classmethod
    def tearDownClass(cls):
        cls.broker.cleanup()

    def run_watcher(self, name, ca):
        repo = "mqtt/tls-" + name
        config = {
            "store": {"type": "lmdb", "path": WORKDIR.sub("state-tls-" +
                                                          name)},
            "secrets": {"mqtt_user": "env:AW_IT_MQTT_USER",
                        "mqtt_pw": "env:AW_IT_MQTT_PASSWORD",
                        "mqtt_ca": "file:" + ca},
            "connectors": [docker_connector("local", REGISTRY.url)],
            "sources": [docker_source("app", "local", repo)],
            "sinks": [{"identifier": "bus", "type": "Mqtt", "spec": {
                "url": self.broker.url, "topic": "aw/tls/" + name,
                "usernameRef": "mqtt_user", "passwordRef": "mqtt_pw",
                "caCertRef": "mqtt_ca"}}],
        }
        client = REGISTRY.client()
        client.push(repo, "0.1.0")
        watcher = Watcher(WORKDIR, config, env=ENV)
        watcher.start()
        self.addCleanup(watcher.kill)
        REGISTRY.wait_listings(repo, 2)
        client.push(repo, "1.0.0")
        return watcher

    def test_ca_cert_ref_verifies_the_broker(self):
        watcher = self.run_watcher("good", self.ca)
        watcher.wait_log(r"msg=\"dispatch: delivered\" sink=bus")
        watcher.stop()

    def test_other_ca_is_refused_and_retried(self):
        watcher = self.run_watcher("bad", self.other_ca)
        watcher.wait_log(r"will retry\" sink=bus .*error=\"mqtt bus: ",
                         count=2, timeout=30)
        self.assertEqual(watcher.matching(r"dispatch: delivered"), [])
        watcher.stop()


class MqttConfig(unittest.TestCase):
    def check(self, spec):
        config = {
            "secrets": {"mqtt_pw": "env:AW_IT_MQTT_PASSWORD"},
            "sinks": [{"identifier": "bus", "type": "Mqtt", "spec": spec}],
        }
        watcher = Watcher(WORKDIR, config, env=ENV)
        out = watcher.run_cli("check", "-c", watcher.write_config())
        self.assertNotEqual(out.returncode, 0)
        return re.escape(watcher.path), out.stderr

    def test_config_errors_have_positions(self):
        path, err = self.check({"url": "mqtt://u:secret-pw@127.0.0.1",
                                "topic": "t"})
        self.assertRegex(err, path + r":\d+:\d+: spec.url of sink \"bus\" "
                         r"must be mqtt://HOST")
        self.assertNotIn("secret-pw", err)
        path, err = self.check({"url": "mqtt://127.0.0.1", "topic": "t",
                                "qos": 0})
        self.assertRegex(err, path + r":\d+:\d+: .*qos")
        path, err = self.check({"url": "mqtt://127.0.0.1", "topic": "t",
                                "protocol": "3.1.1",
                                "contentMode": "binary"})
        self.assertRegex(err, path + r":\d+:\d+: spec.contentMode of sink "
                         r"\"bus\": binary needs MQTT 5")
        path, err = self.check({"url": "mqtt://127.0.0.1",
                                "topic": "a/<+event.nope>"})
        self.assertRegex(err, path + r":\d+:\d+: .*topic")


if __name__ == "__main__":
    unittest.main()
