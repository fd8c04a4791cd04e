"""drivers_ci.py: conformance drivers (conformance.py) for the sources of
issue 13: Bamboo and Jenkins on the CI fake (tests/fakes/cifake.py), Sftp
and Smb on a real sshd and smbd (fileservers.py), CustomArtifact with a
real script.

The CI servers number their builds: the suite's version names ("1.2.0")
map to build numbers in the order they were published (version_of), so
newest first stays true.  The CI connectors send their credentials with
every request (no challenge): FEATURE auth_upfront.  Sftp, Smb and the
script are not HTTP: no 429, no HTML or truncated body; each names the
faults its protocol has (FAULTS) and the one RecoveryCase lifts.
"""

import json
import os
import re
import shutil
import sys

from conformance import PASSWORD, USERNAME, Driver
from fileservers import Smbd, Sshd
from harness import free_port

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fakes"))

from cifake import CiFake  # noqa: E402


# ------------------------------------------------------------------ CI

class CiDriver(Driver):
    """What the Bamboo and Jenkins drivers share: one CiFake, builds
    numbered per target, Basic credentials demanded per target."""

    KIND = "build"
    CONNECTOR_TYPE = None
    URL_KEY = None

    def start(self, workdir):
        self.fake = CiFake()
        self.numbers = {}       # (target, version name) -> build number
        self.last = {}          # target -> its newest build number

    def stop(self):
        self.fake.stop()
        return True

    def reset(self):
        self.fake.reset()
        self.numbers = {}
        self.last = {}

    def target(self, name, versions, pages=False, auth=False):
        target = self.make(name, pages)
        if auth:
            self.fake.protect(self.path(target), {USERNAME: PASSWORD})
        for version in versions:
            self.add(target, version)
        return target

    def add(self, target, version):
        number = self.last.get(target, 0) + 1
        self.last[target] = number
        self.numbers[(target, version)] = number
        self.publish(target, number)
        return self.digest(target, version)

    def version_of(self, target, version):
        return str(self.numbers[(target, version)])

    def connector(self, identifier, target, auth=False, password_ref=None):
        if auth:
            block = {"type": "UsernamePassword",
                     "spec": {"username": USERNAME,
                              "passwordRef": password_ref}}
        else:
            block = {"type": "Anonymous"}
        return {"connector": {
            "identifier": identifier, "type": self.CONNECTOR_TYPE,
            "spec": {self.URL_KEY: self.fake.base, "auth": block}}}

    def fault(self, target, fault, count=-1, **params):
        kind = {"truncate": "truncated"}.get(fault, fault)
        self.fake.fault(self.path(target), kind, count=count,
                        retry_after=params.get("retry_after", "1"))

    def listings(self, target):
        return self.fake.served(self.path(target))

    def subject(self, target, version):
        return "%s #%s" % (target, self.version_of(target, version))

    def check_fields(self, case, data, target, version):
        case.assertEqual(data["server"], self.fake.base)
        case.assertEqual(data["job"], target)
        case.assertEqual(data["buildNumber"],
                         self.numbers[(target, version)])
        case.assertEqual(data["metadata"]["buildNumber"],
                         self.version_of(target, version))
        case.assertIsNotNone(data["pushedAt"])
        case.assertNotIn("image", data)


class BambooDriver(CiDriver):
    """Bamboo: a target is a plan (CONF-<NAME>), its results paged by the
    fake at PAGE_SIZE; digest = the build result key."""

    SOURCE_TYPE = "Bamboo"
    CONNECTOR_TYPE = "Bamboo"
    URL_KEY = "bambooUrl"
    FEATURES = frozenset(("pages", "auth_upfront"))
    PAGE_SIZE = 10

    def make(self, name, pages):
        plan = "CONF-" + re.sub(r"[^A-Z0-9]", "", name.upper())
        self.fake.bamboo_plan(plan, [])
        if pages:
            self.fake.page_limit(plan, self.PAGE_SIZE)
        return plan

    def publish(self, target, number):
        with self.fake.lock:
            results = self.fake.plans[target]
        self.fake.bamboo_plan(target, [self.fake.bamboo_result(
            number, plan=target, artifacts=("dist", "logs"))] + results)

    @staticmethod
    def path(target):
        return "/rest/api/latest/result/%s.json" % target

    def digest(self, target, version):
        return "%s-%d" % (target, self.numbers[(target, version)])

    def source(self, identifier, connector, target):
        return {"identifier": identifier, "type": "Bamboo",
                "spec": {"connectorRef": connector, "planKey": target,
                         "artifactPaths": ["dist"], "build": "<+input>"}}

    def check_fields(self, case, data, target, version):
        super().check_fields(case, data, target, version)
        case.assertEqual(data["result"], "Successful")
        case.assertEqual([a["name"] for a in data["artifacts"]], ["dist"])


class JenkinsDriver(CiDriver):
    """Jenkins: a target is a job in folder `conf`, read in one tree=
    request (no pages); digest = "job#number"."""

    SOURCE_TYPE = "Jenkins"
    CONNECTOR_TYPE = "Jenkins"
    URL_KEY = "jenkinsUrl"
    FEATURES = frozenset(("auth_upfront",))

    def make(self, name, pages):
        assert not pages, "one tree= request reads a job's builds"
        job = "conf/" + name
        self.fake.jenkins_job(job, [])
        return job

    def publish(self, target, number):
        with self.fake.lock:
            builds = self.fake.jobs[target]
        self.fake.jenkins_job(target, [self.fake.jenkins_build(
            number, job=target, artifacts=("dist/app.tgz",
                                           "logs/build.log"))] + builds)

    @staticmethod
    def path(target):
        return "".join("/job/" + p for p in target.split("/")) + "/api/json"

    def digest(self, target, version):
        return "%s#%d" % (target, self.numbers[(target, version)])

    def source(self, identifier, connector, target):
        return {"identifier": identifier, "type": "Jenkins",
                "spec": {"connectorRef": connector, "jobName": target,
                         "artifactPath": r"\.tgz$", "build": "<+input>"}}

    def check_fields(self, case, data, target, version):
        super().check_fields(case, data, target, version)
        case.assertEqual(data["result"], "SUCCESS")
        case.assertEqual([(a["name"], a["path"]) for a in
                          data["artifacts"]], [("app.tgz", "dist/app.tgz")])


# --------------------------------------------------------------- files

class FilesDriver(Driver):
    """What the Sftp and Smb drivers share: a target is a directory under
    the server's root, a version a file in it; digest "size:mtime", so a
    file rewritten is re-pointed.  No pages: a long listing is a directory
    of many files.  Faults are the protocol's: a missing directory (also
    the recovery fault: the directory is moved away and back), a server
    that is not there, and the driver's own."""

    KIND = "file"
    SCHEME = None
    SERVER = None
    FEATURES = frozenset(("repoint", "auth_upfront"))
    PROTOCOL_FEATURES = frozenset()
    LONG_LISTING = 600
    RECOVERY_FAULT = "nodir"

    def start(self, workdir):
        self.server = self.SERVER(workdir, password=PASSWORD)
        self.server.start()
        self.mtime = 1767261600
        self.digests = {}
        self.active = {}

    def stop(self):
        self.server.stop()
        return True

    def reset(self):
        for name in os.listdir(self.server.root):
            shutil.rmtree(os.path.join(self.server.root, name))
        self.digests = {}
        self.active = {}

    def where(self, target):
        """The directory of target now (moved away under "nodir")."""
        path = os.path.join(self.server.root, target)
        away = self.active.get(target) == "nodir"
        return path + ".away" if away else path

    def _write(self, target, version):
        path = os.path.join(self.where(target), version)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        size = 10 + (self.mtime // 60) % 7
        with open(path, "w") as f:
            f.write("x" * size)
        self.mtime += 60
        os.utime(path, (self.mtime, self.mtime))
        self.digests[(target, version)] = "%d:%d" % (size, self.mtime)
        return self.digests[(target, version)]

    def target(self, name, versions, pages=False, auth=False):
        assert not pages, "a directory listing has no pages"
        os.makedirs(os.path.join(self.server.root, name))
        for version in versions:
            self._write(name, version)
        return name

    add = repoint = _write

    def digest(self, target, version):
        return self.digests[(target, version)]

    def fault(self, target, fault, count=-1, **params):
        assert fault in self.FAULTS and count == -1, (fault, count)
        if fault == "nodir":
            os.rename(self.where(target), self.where(target) + ".away")
        self.active[target] = fault

    def clear_fault(self, target):
        if self.active.get(target) == "nodir":
            os.rename(self.where(target), self.where(target)[:-5])
        self.active.pop(target, None)

    def port(self, target):
        """The server's port; a closed one for "unreachable"."""
        if self.active.get(target) == "unreachable":
            return free_port()
        return self.server.port

    def subject(self, target, version):
        return "%s://127.0.0.1/%s" % (self.SCHEME,
                                      self.path(target, version)[1:])

    def check_fields(self, case, data, target, version):
        case.assertEqual(data["host"], "127.0.0.1")
        case.assertEqual(data["path"], self.path(target, version))
        size, mtime = self.digests[(target, version)].split(":")
        case.assertEqual(data["size"], int(size))
        case.assertEqual(data["digest"], "%s:%s" % (size, mtime))
        case.assertNotIn("bucket", data)
        case.assertNotIn("image", data)


class SftpDriver(FilesDriver):
    """Sftp on a real sshd: an SSH key for the plain targets, the password
    (UsernamePassword, passwordRef) where credentials are the point."""

    SOURCE_TYPE = "Sftp"
    SCHEME = "sftp"
    SERVER = Sshd
    FAULTS = {
        "nodir": r"no directory /\S+ on 127\.0\.0\.1",
        "unreachable": r"connect 127\.0\.0\.1:\d+: Connection refused",
        "hostkey": r"host key of 127\.0\.0\.1:\d+ does not match "
                   r"knownHostsRef: refused",
    }

    def secrets(self):
        s = self.server
        return {"conf_sftp_key": "file:" + s.user_key,
                "conf_sftp_kh": "file:" + s.path("known_hosts"),
                "conf_sftp_kh_wrong": "file:" + s.path("wrong_known_hosts")}

    def path(self, target, version):
        return os.path.join(self.server.root, target, version)

    def connector(self, identifier, target, auth=False, password_ref=None):
        if auth:
            block = {"type": "UsernamePassword",
                     "spec": {"username": self.server.user,
                              "passwordRef": password_ref}}
        else:
            block = {"type": "SshKey",
                     "spec": {"username": self.server.user,
                              "sshKeyRef": "conf_sftp_key"}}
        hostkey = self.active.get(target) == "hostkey"
        return {"connector": {
            "identifier": identifier, "type": "Sftp",
            "spec": {"sftpUrl": "sftp://127.0.0.1:%d" % self.port(target),
                     "knownHostsRef": "conf_sftp_kh_wrong" if hostkey
                     else "conf_sftp_kh",
                     "connectTimeout": "5s", "auth": block}}}

    def source(self, identifier, connector, target):
        return {"identifier": identifier, "type": "Sftp",
                "spec": {"connectorRef": connector,
                         "directory": os.path.join(self.server.root,
                                                   target)}}


class SmbDriver(FilesDriver):
    """Smb on a real smbd: every login takes the password (smbd has no
    anonymous share here), so every connector names passwordRef."""

    SOURCE_TYPE = "Smb"
    SCHEME = "smb"
    SERVER = Smbd
    FAULTS = {
        "nodir": r"(?i)no such",
        "unreachable": r"(?i)smb://127\.0\.0\.1: .*(refused|timed out)",
        "noshare": r"(?i)no such (share|file)|denied",
    }

    def path(self, target, version):
        return "/%s/%s" % (target, version)

    def connector(self, identifier, target, auth=False, password_ref=None):
        share = "noshare" if self.active.get(target) == "noshare" else \
            Smbd.SHARE
        return {"connector": {
            "identifier": identifier, "type": "Smb",
            "spec": {"smbUrl": "smb://127.0.0.1:%d/%s" % (self.port(target),
                                                         share),
                     "domain": "AWTEST", "connectTimeout": "5s",
                     "auth": {"type": "UsernamePassword", "spec": {
                         "username": self.server.user,
                         "passwordRef": password_ref or
                         "conformance_pwd"}}}}}

    def source(self, identifier, connector, target):
        return {"identifier": identifier, "type": "Smb",
                "spec": {"connectorRef": connector,
                         "directory": "/" + target}}


# -------------------------------------------------------------- custom

# The script of every CustomArtifact source: prints the target's JSON
# file, or what its fault file asks for; each run's end goes to a log.
SCRIPT = r"""
trap 'echo "$(date +%s.%N) $?" >> "$DATA.runs"' EXIT
case "$(cat "$DATA.fault" 2>/dev/null || true)" in
garbage) echo "{{{ not json"; exit 0 ;;
huge) head -c 10000000 /dev/zero | tr '\0' 'x'; exit 0 ;;
exit) echo "fetching"; echo "boom: the artifact server said no" >&2; exit 1 ;;
esac
cat "$DATA"
"""


class CustomDriver(Driver):
    """CustomArtifact: a target is a JSON file the script prints (input
    DATA); digestPath makes a re-published version `updated`.  No
    connector, no credentials (a Secret input is test_custom's), no pages.
    Faults: garbage output, output over the cap, exit 1 (also the
    recovery fault).  listings() reads the log of the script's runs."""

    SOURCE_TYPE = "CustomArtifact"
    KIND = "custom"
    FEATURES = frozenset(("repoint",))
    PROTOCOL_FEATURES = frozenset(("listing_log",))
    LONG_LISTING = 500
    FAULTS = {
        "garbage": r"(?i)invalid JSON",
        "huge": r"(?i)output cap",
        "exit": r"exit status 1: boom: the artifact server said no",
    }
    RECOVERY_FAULT = "exit"

    def start(self, workdir):
        self.dir = workdir.sub("custom")
        self.data = {}
        self.ids = {}
        self.n = 0

    def reset(self):
        self.data = {}
        self.ids = {}

    def _save(self, target):
        items = [{"version": v, "sum": s,
                  "link": "https://example.invalid/%s" % v}
                 for v, s in self.data[target].items()]
        tmp = target + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"data": {"items": list(reversed(items))}}, f)
        os.replace(tmp, target)

    def _put(self, target, version):
        self.n += 1
        self.data[target][version] = "sum-%s-%d" % (version, self.n)
        self._save(target)
        return self.data[target][version]

    def target(self, name, versions, pages=False, auth=False):
        assert not pages and not auth
        path = os.path.join(self.dir, name + ".json")
        self.data[path] = {}
        for version in versions:
            self.n += 1
            self.data[path][version] = "sum-%s-%d" % (version, self.n)
        self._save(path)
        return path

    add = repoint = _put

    def digest(self, target, version):
        return self.data[target][version]

    def connector(self, identifier, target, auth=False, password_ref=None):
        return None

    def source(self, identifier, connector, target):
        self.ids[target] = identifier
        return {"identifier": identifier, "type": "CustomArtifact", "spec": {
            "version": "<+input>", "timeout": "20s",
            "inputs": [{"name": "DATA", "type": "String", "value": target}],
            "scripts": {"fetchAllArtifacts": {
                "artifactsArrayPath": "$.data.items",
                "versionPath": "version", "digestPath": "sum",
                "attributes": [{"name": "url", "type": "String",
                                "value": "link"}],
                "spec": {"shell": "Bash", "source": {
                    "type": "Inline", "spec": {"script": SCRIPT}}}}}}}

    def fault(self, target, fault, count=-1, **params):
        assert fault in self.FAULTS and count == -1, (fault, count)
        with open(target + ".fault", "w") as f:
            f.write(fault)

    def clear_fault(self, target):
        os.unlink(target + ".fault")

    def listings(self, target):
        try:
            with open(target + ".runs") as f:
                runs = [line.split() for line in f if line.strip()]
        except FileNotFoundError:
            return []
        return [{"t": float(t), "status": 200 if rc == "0" else 500,
                 "auth": None} for t, rc in runs]

    def subject(self, target, version):
        return "%s@%s" % (self.ids[target], version)

    def check_fields(self, case, data, target, version):
        case.assertEqual(data["metadata"]["url"],
                         "https://example.invalid/%s" % version)
        for field in ("registry", "bucket", "server", "path", "image"):
            case.assertNotIn(field, data)
