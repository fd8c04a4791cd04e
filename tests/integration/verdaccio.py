"""verdaccio.py: a real npm registry (verdaccio, from npm) for the tests.

deploy/deps.sh installs verdaccio into build/node of the tree.  Verdaccio
runs on a free loopback port with a config of its own: storage in a
temporary directory, no uplink (nothing leaves 127.0.0.1), one user in an
htpasswd file (bcrypt, made with apache2-utils), registration closed.
Packages under @acme/ and others are readable by anyone and publishable by
the user; packages under @private/ are readable by the user only.

The machine's npm publishes and moves dist-tags with --registry and a
temporary userconfig holding the user's token (verdaccio's login answer),
as a developer's CI would.
"""

import base64
import json
import os
import subprocess
import urllib.request

from harness import free_port, stop_process, wait_listening

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VERDACCIO = os.path.join(ROOT, "build", "node", "node_modules", ".bin",
                         "verdaccio")


class Verdaccio:
    USERNAME = "ci-publisher"
    PASSWORD = "verdaccio-pass-2468"

    def __init__(self, workdir):
        self.dir = workdir.sub("verdaccio")
        self.port = free_port()
        self.process = None
        self.token = None
        self.npmrc = os.path.join(self.dir, "npmrc")

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def write_config(self):
        htpasswd = os.path.join(self.dir, "htpasswd")
        subprocess.run(["htpasswd", "-bBc", htpasswd, self.USERNAME,
                        self.PASSWORD], check=True, capture_output=True)
        with open(os.path.join(self.dir, "config.yaml"), "w") as f:
            f.write("""storage: %s
auth:
  htpasswd:
    file: %s
    max_users: -1
uplinks: {}
packages:
  '@private/*':
    access: $authenticated
    publish: $authenticated
  '**':
    access: $all
    publish: $authenticated
server:
  keepAliveTimeout: 5
security:
  api:
    legacy: true
log: { type: stdout, format: pretty, level: warn }
publish:
  allow_offline: true
""" % (os.path.join(self.dir, "storage"), htpasswd))

    def start(self, timeout=60.0):
        if not os.path.exists(VERDACCIO):
            raise RuntimeError("verdaccio is not installed: run "
                               "sh deploy/deps.sh test")
        self.write_config()
        self.log = open(os.path.join(self.dir, "verdaccio.log"), "wb")
        self.process = subprocess.Popen(
            [VERDACCIO, "--config", os.path.join(self.dir, "config.yaml"),
             "--listen", "127.0.0.1:%d" % self.port],
            stdin=subprocess.DEVNULL, stdout=self.log,
            stderr=subprocess.STDOUT, cwd=self.dir)
        wait_listening(self.port, self.process, timeout)
        self.token = self.login(self.USERNAME, self.PASSWORD)
        with open(self.npmrc, "w") as f:
            f.write("registry=%s/\n//127.0.0.1:%d/:_authToken=%s\n"
                    % (self.url, self.port, self.token))
        return self

    def stop(self):
        if self.process is not None:
            stop_process(self.process)
            self.process = None
            self.log.close()

    def login(self, user, password):
        """The token verdaccio gives for user/password (npm login's PUT)."""
        body = json.dumps({"name": user, "password": password}).encode()
        basic = base64.b64encode(("%s:%s" % (user, password)).encode())
        req = urllib.request.Request(
            self.url + "/-/user/org.couchdb.user:" + user, data=body,
            method="PUT", headers={"Content-Type": "application/json",
                                   "Authorization": "Basic " +
                                   basic.decode()})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())["token"]

    def npm(self, *args, cwd=None):
        env = dict(os.environ)
        env.update({"npm_config_userconfig": self.npmrc,
                    "npm_config_cache": os.path.join(self.dir, "cache"),
                    "npm_config_update_notifier": "false",
                    "npm_config_audit": "false", "npm_config_fund": "false"})
        out = subprocess.run(["npm"] + list(args) +
                             ["--registry", self.url + "/"],
                             cwd=cwd or self.dir, env=env,
                             capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            raise RuntimeError("npm %s: %s%s" % (" ".join(args), out.stdout,
                                                 out.stderr))
        return out.stdout

    def publish(self, name, version, tag=None):
        """npm publish name@version (a tiny package); its dist.integrity."""
        pkg = os.path.join(self.dir, "src", name.replace("/", "+"), version)
        os.makedirs(pkg, exist_ok=True)
        with open(os.path.join(pkg, "package.json"), "w") as f:
            json.dump({"name": name, "version": version,
                       "description": "test package", "license": "MIT",
                       "main": "index.js"}, f)
        with open(os.path.join(pkg, "index.js"), "w") as f:
            f.write("module.exports = %r;\n" % version)
        args = ["publish"]
        if tag is not None:
            args += ["--tag", tag]
        self.npm(*args, cwd=pkg)
        return self.document(name)["versions"][version]["dist"]["integrity"]

    def dist_tag(self, name, version, tag):
        self.npm("dist-tag", "add", "%s@%s" % (name, version), tag)

    def document(self, name, token=None):
        quoted = name.replace("/", "%2f")
        headers = {"Accept": "application/json"}
        if token or self.token:
            headers["Authorization"] = "Bearer " + (token or self.token)
        req = urllib.request.Request(self.url + "/" + quoted,
                                     headers=headers)
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())
