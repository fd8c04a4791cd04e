"""tlsutil.py: TLS material and TLS servers for the integration tests.

Everything is made by the Debian `openssl` command in a temporary directory:
a test CA, a server certificate for 127.0.0.1 and localhost signed by it, a
second CA for client certificates and a client certificate signed by that
one (mutual TLS).  On top of it:

  TLSRegistry      the real docker-registry serving https with that server
                   certificate (optionally requiring client certificates:
                   http.tls.clientcas), in any auth mode of harness.Registry
  TLSClient        harness.RegistryClient pushing over that https
  ConnectProxy     a tiny HTTP CONNECT proxy that records where it tunnels
  RecordingServer  an http(s) server answering by a function and recording
                   every request (path, headers, body)
"""

import os
import select
import socket
import ssl
import subprocess
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import Registry, RegistryClient, Waitable


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Certs:
    """A CA, a server certificate (127.0.0.1, localhost) and a client one.

    Paths: ca, server_cert, server_key, client_ca, client_cert,
    client_key, and other_ca (a CA that signed nothing here).
    """

    def __init__(self, directory):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self.ca, ca_key = self.make_ca("ca", "aw test CA")
        self.client_ca, client_ca_key = self.make_ca("client-ca",
                                                     "aw test client CA")
        self.other_ca, _ = self.make_ca("other-ca", "aw unrelated CA")
        self.server_cert, self.server_key = self.sign(
            "server", "127.0.0.1", self.ca, ca_key,
            "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
            "extendedKeyUsage=serverAuth\n")
        self.client_cert, self.client_key = self.sign(
            "client", "aw test client", self.client_ca, client_ca_key,
            "extendedKeyUsage=clientAuth\n")

    def path(self, name):
        return os.path.join(self.dir, name)

    def make_ca(self, name, subject):
        key, cert = self.path(name + ".key"), self.path(name + ".pem")
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes",
                "-keyout", key, "-out", cert, "-days", "2",
                "-subj", "/CN=" + subject,
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                cwd=self.dir)
        return cert, key

    def sign(self, name, subject, ca, ca_key, extensions):
        key, csr = self.path(name + ".key"), self.path(name + ".csr")
        cert, ext = self.path(name + ".pem"), self.path(name + ".ext")
        with open(ext, "w") as f:
            f.write(extensions)
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                "-out", csr, "-subj", "/CN=" + subject, cwd=self.dir)
        openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
                "-CAcreateserial", "-out", cert, "-days", "2",
                "-extfile", ext, cwd=self.dir)
        return cert, key

    def server_context(self, require_client=False):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.server_cert, self.server_key)
        if require_client:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(self.client_ca)
        return ctx

    def client_context(self, with_cert=False):
        ctx = ssl.create_default_context(cafile=self.ca)
        if with_cert:
            ctx.load_cert_chain(self.client_cert, self.client_key)
        return ctx


class TLSRegistry(Registry):
    """harness.Registry serving https; client_auth: require client certs."""

    def __init__(self, workdir, certs, mode="anonymous", client_auth=False):
        super().__init__(workdir, mode)
        self.certs = certs
        self.client_auth = client_auth

    @property
    def url(self):
        return "https://127.0.0.1:%d" % self.port

    def write_config(self):
        path = super().write_config()
        with open(path) as f:
            text = f.read()
        tls = ("  tls:\n    certificate: %s\n    key: %s\n"
               % (self.certs.server_cert, self.certs.server_key))
        if self.client_auth:
            tls += "    clientcas:\n      - %s\n" % self.certs.client_ca
        text = text.replace("  secret: aw-test-secret\n",
                            "  secret: aw-test-secret\n" + tls, 1)
        with open(path, "w") as f:
            f.write(text)
        return path

    def client(self, username=None, password=None):
        if self.mode != "anonymous" and username is None:
            username, password = self.USERNAME, self.PASSWORD
        return TLSClient(self.url, username, password,
                         self.certs.client_context(self.client_auth))


class TLSClient(RegistryClient):
    """RegistryClient whose https requests trust the test CA."""

    def __init__(self, url, username, password, context):
        super().__init__(url, username, password)
        self.context = context

    def raw(self, method, url, body, headers, auth):
        request = urllib.request.Request(url, data=body, method=method,
                                         headers=dict(headers))
        if auth:
            request.add_header("Authorization", auth)
        try:
            with urllib.request.urlopen(request, timeout=10,
                                        context=self.context) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()


class ConnectProxy(Waitable):
    """An HTTP proxy that only tunnels (CONNECT host:port), recording each
    target; refuses anything else with 405."""

    def __init__(self):
        super().__init__()
        self.targets = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.running = True
        threading.Thread(target=self.accept, daemon=True).start()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def accept(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,),
                             daemon=True).start()

    def serve(self, conn):
        with conn:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                head += chunk
            line = head.split(b"\r\n", 1)[0].decode("latin-1")
            method, target = line.split(" ")[:2]
            if method != "CONNECT":
                conn.sendall(b"HTTP/1.1 405 Only CONNECT\r\n"
                             b"Content-Length: 0\r\n\r\n")
                return
            with self.cond:
                self.targets.append(target)
                self.cond.notify_all()
            host, port = target.rsplit(":", 1)
            try:
                upstream = socket.create_connection((host, int(port)), 5)
            except OSError:
                conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\n\r\n")
                return
            with upstream:
                conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                self.pipe(conn, upstream)

    @staticmethod
    def pipe(a, b):
        peers = {a: b, b: a}
        while True:
            ready, _, _ = select.select(list(peers), [], [], 30)
            if not ready:
                return
            for s in ready:
                data = s.recv(65536)
                if not data:
                    return
                peers[s].sendall(data)

    def tunnelled(self):
        with self.cond:
            return list(self.targets)

    def stop(self):
        self.running = False
        self.sock.close()


class RecordingServer(Waitable):
    """An http (or, given an ssl context, https) server on a free port.

    answer(handler, method, path, headers, body) returns (status, headers,
    body bytes); every request is recorded as a dict with method, path,
    headers (lower-case names) and body.
    """

    def __init__(self, answer, context=None):
        super().__init__()
        self.answer = answer
        self.requests = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def handle_any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                with owner.cond:
                    owner.requests.append({
                        "method": self.command, "path": self.path,
                        "headers": headers, "body": body})
                    owner.cond.notify_all()
                status, extra, data = owner.answer(
                    self.command, self.path, headers, body)
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_HEAD = do_PUT = handle_any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if context is not None:
            self.server.socket = context.wrap_socket(self.server.socket,
                                                     server_side=True)
        self.port = self.server.server_address[1]
        self.scheme = "https" if context is not None else "http"
        threading.Thread(target=self.server.serve_forever,
                         daemon=True).start()

    @property
    def url(self):
        return "%s://127.0.0.1:%d" % (self.scheme, self.port)

    def seen(self):
        with self.cond:
            return list(self.requests)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
