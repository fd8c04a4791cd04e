"""amqp.py: the Amqp sink case of bench/sink_throughput.py.

A rabbitmq-server of its own (tests/integration/brokers.py, on free
loopback ports, started once for the case).  The watcher's Amqp sink
(persistent, mandatory, publisher confirms, maxInFlight 64) against
bare-amqp.c publishing the same messages with librabbitmq at the same
confirmation level: persistent, mandatory, confirm mode, at most 64
unconfirmed.  Each round has its own durable queue bound to the bench
exchange; what reached it is counted, then the queue is deleted.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "tests", "integration"))

import harness  # noqa: E402
from brokers import RabbitMQ  # noqa: E402

WINDOW = 64
EXCHANGE = "bench"
PASSWORD_ENV = "AW_BENCH_AMQP_PASSWORD"


class GuestRabbit(RabbitMQ):
    """The watcher's bench config has no secrets: guest/guest, the
    password librabbitmq assumes when the URL gives none."""
    USER = "guest"
    PASSWORD = "guest"


class AmqpCase:
    name = "Amqp"
    bare_source = "bare-amqp.c"
    pkgs = ["librabbitmq"]

    def __init__(self):
        self.work = None
        self.rabbit = None
        self.connection = self.channel = None

    def start(self, work):
        self.work = harness.Workdir("aw-bench-amqp-")
        self.rabbit = GuestRabbit(self.work)
        self.rabbit.start()
        os.environ[PASSWORD_ENV] = GuestRabbit.PASSWORD
        self.connection, self.channel = self.rabbit.channel()
        self.channel.exchange_declare(EXCHANGE, "direct", durable=True)

    def stop(self):
        if self.connection is not None:
            self.connection.close()
        if self.rabbit is not None:
            self.rabbit.cleanup()
        if self.work is not None:
            self.work.cleanup()

    def queue(self, round_dir, bare):
        name = os.path.basename(round_dir) + ("-bare" if bare else "")
        self.channel.queue_declare(name, durable=True)
        self.channel.queue_bind(name, EXCHANGE, name)
        return name

    def sink(self, round_dir):
        return {"type": "Amqp", "maxInFlight": WINDOW,
                "spec": {"url": "amqp://guest@127.0.0.1:%d"
                         % self.rabbit.port, "exchange": EXCHANGE,
                         "routingKey": self.queue(round_dir, False)}}

    def bare_argv(self, binary, messages, round_dir):
        return [binary, messages, "127.0.0.1", str(self.rabbit.port),
                "guest", PASSWORD_ENV, EXCHANGE,
                self.queue(round_dir, True), str(WINDOW)]

    def delivered(self, round_dir, bare=False):
        name = os.path.basename(round_dir) + ("-bare" if bare else "")
        count = self.channel.queue_declare(
            name, passive=True).method.message_count
        self.channel.queue_delete(name)
        return count


CASE = AmqpCase()
