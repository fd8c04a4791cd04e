"""test_files_sftp.py: the Sftp source against a real OpenSSH sshd.

fileservers.Sshd starts sshd on a free loopback port with a host key and a
user key made by the test; the source lists a directory of it over SFTP
(libssh2 in a child process), with the host key checked against
knownHostsRef.  The provider cases of sourcecases.py (a file rewritten in
place is `updated`), plus: a wrong or unknown host key is refused before
any credential, password login (UsernamePassword; sshd sees a password
of the test's only, fileservers.Sshd), depth and artifactPathRegex, a
missing directory, a server that is not there, the connector's probe
(check --connect).
"""

import os
import unittest

from fileservers import FileDriver, Sshd
from harness import Workdir, free_port
from sourcecases import PASSWORD, AuthCase, ProviderCases, UpdatedCase


class SftpSource(FileDriver, ProviderCases, UpdatedCase, AuthCase,
                 unittest.TestCase):
    SOURCE_TYPE = "Sftp"
    SCHEME = "sftp"
    FAULTS = {
        "hostkey": r"host key of 127\.0\.0\.1:\d+ does not match "
                   r"knownHostsRef: refused",
        "unknownkey": r"host key of 127\.0\.0\.1:\d+ is unknown",
        "unreachable": r"connect 127\.0\.0\.1:\d+: Connection refused",
        "nodir": r"no directory .*nodir",
    }

    @classmethod
    def setUpClass(cls):
        cls.workdir = Workdir(prefix="aw-sftp-")
        cls.server = Sshd(cls.workdir, password=PASSWORD)
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.workdir.cleanup()

    def secrets(self):
        s = self.server
        return {"ssh_key": "file:" + s.user_key,
                "ssh_other": "file:" + s.other_key,
                "kh": "file:" + s.path("known_hosts"),
                "kh_wrong": "file:" + s.path("wrong_known_hosts"),
                "kh_port": "file:" + s.path("other_port_known_hosts")}

    def event_path(self, target, version):
        return os.path.join(self.server.root, target, version)

    def connector(self, identifier, wrong=False, target=None):
        fault = self.faults.get(target)
        port = free_port() if fault == "unreachable" else self.server.port
        kh = {"hostkey": "kh_wrong", "unknownkey": "kh_port"}.get(fault,
                                                                  "kh")
        return {"identifier": identifier, "type": "Sftp", "spec": {
            "sftpUrl": "sftp://127.0.0.1:%d" % port,
            "knownHostsRef": kh,
            "connectTimeout": "5s",
            "auth": {"type": "SshKey", "spec": {
                "username": self.server.user,
                "sshKeyRef": "ssh_other" if wrong else "ssh_key"}}}}

    def spec(self, connector, target):
        directory = os.path.join(self.server.root, target)
        if self.faults.get(target) == "nodir":
            directory = os.path.join(self.server.root, "nodir")
        return {"connectorRef": connector, "directory": directory}

    def test_depth_and_regex(self):
        t = self.target(self.unique("tree"), ["a.tgz", "b.txt"])
        self.write_file(t, "sub/c.tgz", 5)
        self.write_file(t, "sub/deeper/d.tgz", 5)
        cfg = self.config([("s", t, {})])
        names = lambda: sorted(v["name"] for v in
                               self.versions(cfg, "s")["versions"])
        self.assertEqual(names(), ["a.tgz", "b.txt"])
        cfg["sources"][0]["spec"]["depth"] = 1
        self.assertEqual(names(), ["a.tgz", "b.txt", "sub/c.tgz"])
        cfg["sources"][0]["spec"]["depth"] = 2
        cfg["sources"][0]["spec"]["artifactPathRegex"] = r"\.tgz$"
        self.assertEqual(names(), ["a.tgz", "sub/c.tgz",
                                   "sub/deeper/d.tgz"])

    def test_key_with_passphrase(self):
        t = self.target(self.unique("pass"), ["1"])
        cfg = self.config([("s", t, {})])
        cfg["secrets"]["locked"] = "file:" + self.server.locked_key
        cfg["secrets"]["phrase"] = "env:AW_SFTP_PHRASE"
        self.env["AW_SFTP_PHRASE"] = Sshd.PASSPHRASE
        spec = cfg["connectors"][0]["connector"]["spec"]["auth"]["spec"]
        spec.update(sshKeyRef="locked", passphraseRef="phrase")
        out = self.versions(cfg, "s")
        self.assertEqual([v["name"] for v in out["versions"]], ["1"])
        self.env["AW_SFTP_PHRASE"] = "not the passphrase"
        proc = self.run_cli(cfg, "versions", "s")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("authentication as", proc.stderr)
        self.assertNotIn(Sshd.PASSPHRASE, proc.stdout + proc.stderr)

    def test_password_login(self):
        """UsernamePassword: the password (passwordRef) logs in; a wrong
        one is refused with a clear cause and is never logged."""
        t = self.target(self.unique("pwd"), ["1", "2"])
        cfg = self.config([("s", t, {})])
        cfg["connectors"][0]["connector"]["spec"]["auth"] = {
            "type": "UsernamePassword", "spec": {
                "username": self.server.user, "passwordRef": "src_pwd"}}
        out = self.versions(cfg, "s")
        self.assertEqual(sorted(v["name"] for v in out["versions"]),
                         ["1", "2"])
        cfg["connectors"][0]["connector"]["spec"]["auth"]["spec"][
            "passwordRef"] = "src_wrong"
        events, logs = self.once(cfg, expect=1)
        [line] = self.failed_lines(logs, "s")
        self.assertRegex(line["error"], r"authentication as %s refused by "
                         r"127\.0\.0\.1:%d" % (self.server.user,
                                                 self.server.port))

    def test_connector_probe(self):
        """check --connect of connectors no source names: the host key, a
        login (a key or the password), the SFTP channel."""
        cfg = self.config([])
        good = self.connector("lonely")
        pwd = self.connector("pwd")
        pwd["spec"]["auth"] = {"type": "UsernamePassword", "spec": {
            "username": self.server.user, "passwordRef": "src_pwd"}}
        denied = self.connector("denied", wrong=True)
        impostor = self.connector("impostor")
        impostor["spec"]["knownHostsRef"] = "kh_wrong"
        cfg["connectors"] = [{"connector": c} for c in
                             (good, pwd, denied, impostor)]
        proc = self.run_cli(cfg, "check", "--connect")
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertIn("connector lonely: reachable", proc.stdout)
        self.assertIn("connector pwd: reachable", proc.stdout)
        where = r"sftp://127\.0\.0\.1:%d: " % self.server.port
        self.assertRegex(proc.stdout, r"connector denied: FAILED: " + where +
                         r"authentication as \S+ refused")
        self.assertRegex(proc.stdout, r"connector impostor: FAILED: " +
                         where + r"host key .* does not match")

    def test_host_key_checked_before_credentials(self):
        """A wrong host key: refused, and the server saw no login."""
        t = self.target(self.unique("hk"), ["1"])
        self.fault(t, "hostkey")
        with open(self.server.path("sshd.log")) as f:
            before = f.read()
        events, logs = self.once(self.config([("s", t, {})]), expect=1)
        self.assertEqual(events, [])
        with open(self.server.path("sshd.log")) as f:
            after = f.read()[len(before):]
        self.assertNotIn("Accepted publickey", after)


if __name__ == "__main__":
    unittest.main()
