"""test_files_smb.py: the Smb source against a real Samba smbd.

fileservers.Smbd starts smbd on a free loopback port with its own smb.conf,
a share, and the current user in its own passdb; the source lists a
directory of the share through libsmbclient in a child process.  The
provider cases of sourcecases.py (a file rewritten in place is
`updated`), plus: depth and artifactPathRegex, a missing share or
directory, a server that is not there, the password never logged, the
connector's probe (check --connect).
"""

import os
import unittest

from fileservers import FileDriver, Smbd
from harness import Workdir, free_port
from sourcecases import AuthCase, ProviderCases, UpdatedCase


class SmbSource(FileDriver, ProviderCases, UpdatedCase, AuthCase,
                unittest.TestCase):
    SOURCE_TYPE = "Smb"
    SCHEME = "smb"
    FAULTS = {
        "unreachable": r"(?i)smb://127\.0\.0\.1: .*(refused|timed out)",
        "noshare": r"(?i)no such (share|file)|denied",
        "nodir": r"(?i)no such",
    }

    @classmethod
    def setUpClass(cls):
        cls.workdir = Workdir(prefix="aw-smb-")
        cls.server = Smbd(cls.workdir)
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.workdir.cleanup()

    def setUp(self):
        super().setUp()
        self.env["AW_SMB_PASSWORD"] = Smbd.PASSWORD

    def secrets(self):
        return {"smb_pwd": "env:AW_SMB_PASSWORD"}

    def event_path(self, target, version):
        return "/%s/%s" % (target, version)

    def connector(self, identifier, wrong=False, target=None):
        fault = self.faults.get(target)
        port = free_port() if fault == "unreachable" else self.server.port
        share = "noshare" if fault == "noshare" else Smbd.SHARE
        return {"identifier": identifier, "type": "Smb", "spec": {
            "smbUrl": "smb://127.0.0.1:%d/%s" % (port, share),
            "domain": "AWTEST",
            "connectTimeout": "5s",
            "auth": {"type": "UsernamePassword", "spec": {
                "username": self.server.user,
                "passwordRef": "src_wrong" if wrong else "smb_pwd"}}}}

    def spec(self, connector, target):
        directory = "/" + target
        if self.faults.get(target) == "nodir":
            directory = "/nodir"
        return {"connectorRef": connector, "directory": directory}

    def test_depth_and_regex(self):
        t = self.target(self.unique("tree"), ["a.zip", "b.txt"])
        self.write_file(t, "sub/c.zip", 5)
        cfg = self.config([("s", t, {})])
        names = lambda: sorted(v["name"] for v in
                               self.versions(cfg, "s")["versions"])
        self.assertEqual(names(), ["a.zip", "b.txt"])
        cfg["sources"][0]["spec"]["depth"] = 1
        cfg["sources"][0]["spec"]["artifactPathRegex"] = r"\.zip$"
        self.assertEqual(names(), ["a.zip", "sub/c.zip"])

    def test_connector_probe(self):
        """check --connect of connectors no source names: a login and the
        share's root opened."""
        cfg = self.config([])
        good = self.connector("lonely")
        denied = self.connector("denied", wrong=True)
        noshare = self.connector("noshare")
        noshare["spec"]["smbUrl"] = "smb://127.0.0.1:%d/noshare" % \
            self.server.port
        cfg["connectors"] = [{"connector": c} for c in
                             (good, denied, noshare)]
        proc = self.run_cli(cfg, "check", "--connect")
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertIn("connector lonely: reachable", proc.stdout)
        self.assertRegex(proc.stdout, r"connector denied: FAILED: "
                         r"smb://127\.0\.0\.1: .*(denied|refused)")
        self.assertRegex(proc.stdout, r"(?i)connector noshare: FAILED: "
                         r"smb://127\.0\.0\.1: .*no such (share|file)")
        self.assertNotIn(Smbd.PASSWORD, proc.stdout + proc.stderr)

    def test_password_not_logged(self):
        t = self.target(self.unique("pw"), ["1"])
        proc = self.run_cli(self.config([("s", t, {})]), "once")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertNotIn(Smbd.PASSWORD, proc.stdout + proc.stderr)


if __name__ == "__main__":
    unittest.main()
