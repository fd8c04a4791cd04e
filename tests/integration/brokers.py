"""brokers.py: message brokers on loopback for the queue sink suites.

  RabbitMQ   rabbitmq-server with its own node name, ports (AMQP,
             distribution, epmd), data and log directories and config
             file; stoppable and restartable on the same ports with its
             data kept.  Slow to start (seconds): start it once per suite.
  Mosquitto  mosquitto with its own config file and port, optional
             password file; restartable with its persistence file kept.

Both are Debian packages that deploy/deps.sh installs.  Starting waits for
the port to accept connections (and, for RabbitMQ, for the broker to answer
the AMQP handshake), never for a fixed time.
"""

import getpass
import json
import os
import shutil
import signal
import socket
import subprocess
import time

from harness import (Watcher, docker_connector, docker_source, free_port,
                     stop_process)

RABBIT_BIN = "/usr/lib/rabbitmq/bin/rabbitmq-server"
EPMD_BIN = "/usr/bin/epmd"
MOSQUITTO_BIN = "/usr/sbin/mosquitto"


def wait_for(predicate, timeout, what, process=None):
    deadline = time.monotonic() + timeout
    while not predicate():
        if process is not None and process.poll() is not None:
            raise RuntimeError("%s: the process exited with %d"
                               % (what, process.returncode))
        if time.monotonic() > deadline:
            raise RuntimeError("timed out waiting for " + what)
        time.sleep(0.1)


def amqp_answers(port):
    """Does 127.0.0.1:port answer an AMQP 0-9-1 protocol header?"""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(b"AMQP\x00\x00\x09\x01")
            frame = s.recv(7)
            return len(frame) == 7 and frame[0] == 1    # a method frame
    except OSError:
        return False


class RabbitMQ:
    """rabbitmq-server as root without its su wrapper, in a temp dir."""

    USER = "aw-rabbit"
    PASSWORD = "aw-rabbit-pass-5678"
    START_TIMEOUT = 90.0

    def __init__(self, workdir, tls=None):
        self.dir = workdir.sub("rabbitmq-%d" % id(self))
        self.tls = tls          # (cafile, certfile, keyfile) or None
        self.tls_port = free_port() if tls else None
        self.port = free_port()
        self.dist_port = free_port()
        self.epmd_port = free_port()
        self.node = "aw%d@localhost" % self.port
        self.process = None
        self.log = open(os.path.join(self.dir, "server.out"), "ab")

    @property
    def url(self):
        return "amqp://%s@127.0.0.1:%d" % (self.USER, self.port)

    @property
    def tls_url(self):
        """The TLS listener (amqps://), when started with tls."""
        return "amqps://%s@127.0.0.1:%d" % (self.USER, self.tls_port)

    def env(self):
        env = dict(os.environ)
        env.update({
            "HOME": self.dir,
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "ERL_EPMD_PORT": str(self.epmd_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_MNESIA_BASE": os.path.join(self.dir, "mnesia"),
            "RABBITMQ_LOG_BASE": os.path.join(self.dir, "log"),
            "RABBITMQ_CONFIG_FILE": os.path.join(self.dir, "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE":
                os.path.join(self.dir, "advanced.config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE":
                os.path.join(self.dir, "enabled_plugins"),
            "RABBITMQ_PID_FILE": os.path.join(self.dir, "rabbit.pid"),
        })
        return env

    def write_config(self):
        with open(os.path.join(self.dir, "rabbitmq.conf"), "w") as f:
            f.write("listeners.tcp.1 = 127.0.0.1:%d\n"
                    "default_user = %s\ndefault_pass = %s\n"
                    "log.console = false\nlog.file.level = warning\n"
                    "vm_memory_high_watermark.relative = 0.9\n"
                    "disk_free_limit.absolute = 1MB\n"
                    % (self.port, self.USER, self.PASSWORD))
            if self.tls:
                f.write("listeners.ssl.1 = 127.0.0.1:%d\n"
                        "ssl_options.cacertfile = %s\n"
                        "ssl_options.certfile = %s\n"
                        "ssl_options.keyfile = %s\n"
                        "ssl_options.verify = verify_none\n"
                        "ssl_options.fail_if_no_peer_cert = false\n"
                        % ((self.tls_port,) + tuple(self.tls)))
        with open(os.path.join(self.dir, "enabled_plugins"), "w") as f:
            f.write("[].\n")

    def start(self):
        self.write_config()
        self.process = subprocess.Popen(
            [RABBIT_BIN], env=self.env(), cwd=self.dir,
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
            start_new_session=True)
        wait_for(lambda: amqp_answers(self.port), self.START_TIMEOUT,
                 "rabbitmq on port %d" % self.port, self.process)
        if self.tls:
            wait_for(lambda: listening(self.tls_port), self.START_TIMEOUT,
                     "rabbitmq TLS on port %d" % self.tls_port, self.process)

    def stop(self):
        """Stop the node (its data stays) and wait until the port is free."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None

    def restart(self):
        self.stop()
        self.start()

    def cleanup(self):
        self.stop()
        env = self.env()
        subprocess.run([EPMD_BIN, "-kill"], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.log.close()

    def channel(self):
        """A pika BlockingConnection and channel as the test's consumer."""
        import pika
        params = pika.ConnectionParameters(
            host="127.0.0.1", port=self.port,
            credentials=pika.PlainCredentials(self.USER, self.PASSWORD),
            connection_attempts=30, retry_delay=0.5)
        connection = pika.BlockingConnection(params)
        return connection, connection.channel()


class Mosquitto:
    """mosquitto on a free port with a password file, persistence on."""

    USER = "aw-mqtt"
    PASSWORD = "aw-mqtt-pass-9012"

    def __init__(self, workdir, anonymous=False, tls=None):
        self.anonymous = anonymous
        self.tls = tls          # (cafile, certfile, keyfile) or None
        self.dir = workdir.sub("mosquitto-%d" % id(self))
        self.port = free_port()
        self.process = None
        self.log = open(os.path.join(self.dir, "server.out"), "ab")

    @property
    def url(self):
        return "%s://127.0.0.1:%d" % ("mqtts" if self.tls else "mqtt",
                                      self.port)

    def write_config(self):
        passwd = os.path.join(self.dir, "passwd")
        with open(passwd, "w") as f:
            f.write("%s:%s\n" % (self.USER, self.PASSWORD))
        os.chmod(passwd, 0o600)
        subprocess.run(["mosquitto_passwd", "-U", passwd], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        path = os.path.join(self.dir, "mosquitto.conf")
        with open(path, "w") as f:
            # As root it would switch to the mosquitto user, who cannot
            # read this private directory; as anyone else this is a no-op.
            f.write("user %s\n" % getpass.getuser())
            f.write("listener %d 127.0.0.1\n" % self.port)
            if self.tls:
                f.write("cafile %s\ncertfile %s\nkeyfile %s\n" % self.tls)
            if self.anonymous:
                f.write("allow_anonymous true\n")
            else:
                f.write("allow_anonymous false\npassword_file %s\n"
                        % passwd)
            f.write("persistence true\n"
                    "persistence_location %s/\nlog_dest stderr\n"
                    "log_type error\nlog_type warning\n"
                    "max_queued_messages 100000\n" % self.dir)
        return path

    def start(self):
        config = self.write_config()
        self.process = subprocess.Popen(
            [MOSQUITTO_BIN, "-c", config], stdin=subprocess.DEVNULL,
            stdout=self.log, stderr=self.log)
        wait_for(lambda: listening(self.port), 20,
                 "mosquitto on port %d" % self.port, self.process)

    def stop(self):
        stop_process(self.process)
        self.process = None

    def restart(self):
        self.stop()
        self.start()

    def cleanup(self):
        self.stop()
        self.log.close()


def watch_repo(case, workdir, registry, secrets, sinks, env):
    """A running watcher of case.repo on the registry (the suites' one,
    with its baseline 0.1.0 pushed and listed twice), with `sinks` and a
    Stdout sink beside them; the test kills it at cleanup."""
    config = {
        "store": {"type": "lmdb", "path": workdir.sub("state-" + case.name)},
        "secrets": secrets,
        "connectors": [docker_connector("local", registry.url)],
        "sources": [docker_source("app", "local", case.repo)],
        "sinks": sinks + [{"identifier": "console", "type": "Stdout"}],
    }
    case.client.push(case.repo, "0.1.0")
    watcher = Watcher(workdir, config, env=env)
    watcher.start()
    case.addCleanup(watcher.kill)
    registry.wait_listings(case.repo, 2)
    return watcher


def console_ids(watcher, count):
    """The ids the Stdout sink printed, in outbox order (count of them)."""
    def printed():
        lines = [l for l in watcher.stdout if l.startswith("{")]
        return lines if len(lines) >= count else None
    lines = watcher.wait_for(printed, 60, "%d stdout events" % count)
    return [json.loads(l)["id"] for l in lines]


def listening(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def make_ca(directory, name="aw-test-ca"):
    """A CA and a server certificate for 127.0.0.1 and localhost (openssl):
    returns (ca.pem, server.pem, server.key)."""
    ca_key = os.path.join(directory, name + ".key")
    ca = os.path.join(directory, name + ".pem")
    key = os.path.join(directory, name + "-server.key")
    csr = os.path.join(directory, name + "-server.csr")
    cert = os.path.join(directory, name + "-server.pem")
    ext = os.path.join(directory, name + "-server.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName = IP:127.0.0.1, DNS:localhost\n")
    run = lambda *a: subprocess.run(a, check=True, capture_output=True)
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
        "-keyout", ca_key, "-out", ca, "-days", "2", "-subj", "/CN=" + name)
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
        "-out", csr, "-subj", "/CN=127.0.0.1")
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
        "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext)
    return ca, cert, key


def have(*programs):
    return all(shutil.which(p) or os.path.exists(p) for p in programs)
