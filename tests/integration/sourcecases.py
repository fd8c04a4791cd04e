"""sourcecases.py: the provider cases of issue 8, for the sources of issue 13.

The conformance suite of branch `helm` (conformance.py, one driver per
provider) was not on main when Bamboo, Jenkins, Sftp, Smb and
CustomArtifact were written; until it is, these suites run the same cases
through `artifact-watcher once` (LMDB state per case, events on stdout):

  baseline    the first poll records what exists and emits nothing
  created     a new version -> one artifact.created with its kind's fields
  updated     a rewritten / re-pointed version -> artifact.updated with
              previousDigest (UpdatedCase: where a version can change)
  cap         maxTags is respected and the truncation flagged
  long        a long listing is read whole (paged where the API pages)
  auth        refused credentials fail that source with one log line that
              holds no secret (AuthCase: where there are credentials)
  faults      each FAULTS kind fails only that source, one log line each,
              while a healthy source of the same run still commits
  identity    a source pointed elsewhere re-baselines silently

A suite mixes ProviderCases into unittest.TestCase and implements the
driver methods below.  Servers start once per suite (setUpClass).
"""

import json
import os
import re
import subprocess

from harness import BINARY, Workdir, logfmt, to_yaml

PASSWORD_ENV = "AW_SRC_PASSWORD"
PASSWORD = "src-pass-9876"
WRONG_ENV = "AW_SRC_WRONG"
WRONG = "wrong-pass-1234"


class ProviderCases:
    """The cases; the subclass is the driver."""

    KIND = None
    SOURCE_TYPE = None
    # Fault kinds the driver can inject, each with what the cause says.
    FAULTS = {}
    LONG = 60               # versions of the long listing

    # Driver: override.
    def target(self, name, versions):
        raise NotImplementedError

    def add(self, target, version):
        raise NotImplementedError

    def rewrite(self, target, version):
        raise NotImplementedError

    def connector(self, identifier, wrong=False, target=None):
        """A connector block (None: the type has none) for a source of
        target."""
        raise NotImplementedError

    def spec(self, connector, target):
        raise NotImplementedError

    def fault(self, target, kind):
        raise NotImplementedError

    def subject(self, target, version):
        raise NotImplementedError

    def check_fields(self, data, target, version):
        pass

    def secrets(self):
        return {}

    # Plumbing.
    def setUp(self):
        self.work = Workdir(prefix="aw-src-")
        self.addCleanup(self.work.cleanup)
        self.state = self.work.sub("state")
        self.env = dict(os.environ)
        self.env.update({PASSWORD_ENV: PASSWORD, WRONG_ENV: WRONG})
        self.names = 0

    def unique(self, base):
        self.names += 1
        return "%s%d%s" % (base, self.names, self.id().rsplit(".", 1)[-1]
                           .replace("test_", "").replace("_", ""))

    def config(self, sources, wrong=False):
        secrets = {"src_pwd": "env:" + PASSWORD_ENV,
                   "src_wrong": "env:" + WRONG_ENV}
        secrets.update(self.secrets())
        conns = []
        out = []
        for ident, target, watch in sources:
            conn = self.connector("c-" + ident, wrong=wrong, target=target)
            source = {"identifier": ident, "type": self.SOURCE_TYPE}
            source.update(watch)
            if conn is not None:
                conns.append({"connector": conn})
                source["spec"] = self.spec("c-" + ident, target)
            else:
                source["spec"] = self.spec(None, target)
            out.append(source)
        cfg = {"store": {"type": "lmdb", "path": self.state},
               "secrets": secrets}
        if conns:
            cfg["connectors"] = conns
        cfg["sources"] = out
        cfg["sinks"] = [{"identifier": "out", "type": "Stdout"}]
        return cfg

    def run_cli(self, cfg, *args, timeout=120):
        path = os.path.join(self.work.path, "watcher.yaml")
        with open(path, "w") as f:
            f.write(to_yaml(cfg) + "\n")
        proc = subprocess.run([BINARY, "--log-level", "debug"] +
                              list(args[:1]) + ["-c", path] +
                              list(args[1:]), env=self.env,
                              stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=timeout)
        self.assertNotIn(PASSWORD, proc.stdout + proc.stderr)
        self.assertNotIn(WRONG, proc.stdout + proc.stderr)
        return proc

    def once(self, cfg, expect=0):
        proc = self.run_cli(cfg, "once")
        self.assertEqual(proc.returncode, expect,
                         "once exited %d:\n%s" % (proc.returncode,
                                                  proc.stderr[-3000:]))
        events = [json.loads(line) for line in proc.stdout.splitlines()
                  if line.startswith("{")]
        logs = proc.stderr.splitlines()
        return events, logs

    def versions(self, cfg, source):
        proc = self.run_cli(cfg, "versions", source, "--json")
        self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        return json.loads(proc.stdout)

    def failed_lines(self, logs, source):
        return [logfmt(line) for line in logs
                if 'msg="poll failed"' in line and
                "source=%s " % source in line]

    def assert_event(self, ev, kind_of_event, target, version):
        self.assertEqual(ev["type"], kind_of_event)
        data = ev["data"]
        self.assertEqual(data["kind"], self.KIND)
        self.assertEqual(data["version"], version)
        self.assertEqual(data["sourceType"], self.SOURCE_TYPE)
        self.assertEqual(ev["subject"], self.subject(target, version))
        self.check_fields(data, target, version)

    # The cases.
    def test_baseline_silent(self):
        t = self.target(self.unique("base"), ["1", "2"])
        events, logs = self.once(self.config([("s", t, {})]))
        self.assertEqual(events, [])
        self.assertTrue(any("silent baseline" in l for l in logs), logs)
        events, _ = self.once(self.config([("s", t, {})]))
        self.assertEqual(events, [])

    def test_created(self):
        t = self.target(self.unique("new"), ["1", "2"])
        cfg = self.config([("s", t, {})])
        self.once(cfg)
        self.add(t, "3")
        events, _ = self.once(cfg)
        self.assertEqual(len(events), 1, events)
        self.assert_event(events[0], "artifact.created", t, "3")
        events, _ = self.once(cfg)
        self.assertEqual(events, [])

    def test_cap_truncated(self):
        t = self.target(self.unique("cap"), [str(i) for i in range(1, 8)])
        out = self.versions(self.config([("s", t, {"maxTags": 3})]), "s")
        self.assertTrue(out["truncated"])
        self.assertEqual(len(out["versions"]), 3)
        out = self.versions(self.config([("s", t, {"maxTags": 7})]), "s")
        self.assertEqual(len(out["versions"]), 7)
        self.assertFalse(out["truncated"])

    def test_long_listing(self):
        names = [str(i) for i in range(1, self.LONG + 1)]
        t = self.target(self.unique("long"), names)
        out = self.versions(self.config([("s", t, {})]), "s")
        self.assertFalse(out["truncated"])
        self.assertEqual(sorted(v["name"] for v in out["versions"]),
                         sorted(names))

    def test_faults_fail_only_that_source(self):
        for kind, cause in self.FAULTS.items():
            with self.subTest(fault=kind):
                good = self.target(self.unique("good"), ["1"])
                bad = self.target(self.unique("bad"), ["1"])
                self.state = self.work.sub("state-" + kind)
                self.fault(bad, kind)
                cfg = self.config([("good", good, {}), ("bad", bad, {})])
                events, logs = self.once(cfg, expect=1)
                lines = self.failed_lines(logs, "bad")
                self.assertEqual(len(lines), 1, "\n".join(logs))
                self.assertRegex(lines[0]["error"], cause)
                self.assertEqual(self.failed_lines(logs, "good"), [])
                self.assertTrue(any("poll committed" in l and
                                    "source=good " in l for l in logs))

    def test_identity_rebaselines(self):
        a = self.target(self.unique("ida"), ["1"])
        b = self.target(self.unique("idb"), ["1", "2", "3"])
        self.once(self.config([("s", a, {})]))
        events, logs = self.once(self.config([("s", b, {})]))
        self.assertEqual(events, [])
        self.assertTrue(any(re.search("watches something else", l)
                            for l in logs), "\n".join(logs))
        self.add(b, "4")
        events, _ = self.once(self.config([("s", b, {})]))
        self.assertEqual([e["data"]["version"] for e in events], ["4"])


class UpdatedCase:
    """For the sources whose versions can change in place (files, a
    script's digests): mix in beside ProviderCases."""

    def test_updated(self):
        t = self.target(self.unique("upd"), ["1", "2"])
        cfg = self.config([("s", t, {})])
        self.once(cfg)
        self.rewrite(t, "2")
        events, _ = self.once(cfg)
        self.assertEqual(len(events), 1, events)
        self.assert_event(events[0], "artifact.updated", t, "2")
        self.assertIsNotNone(events[0]["data"]["previousDigest"])
        self.assertNotEqual(events[0]["data"]["previousDigest"],
                            events[0]["data"]["digest"])


class AuthCase:
    """For the sources with credentials."""

    def test_auth_refused(self):
        t = self.target(self.unique("auth"), ["1"])
        events, logs = self.once(self.config([("s", t, {})], wrong=True),
                                 expect=1)
        self.assertEqual(events, [])
        lines = self.failed_lines(logs, "s")
        self.assertEqual(len(lines), 1, logs)
        self.assertRegex(lines[0]["error"],
                         r"(?i)401|403|auth|denied|refused")


class ProbeCase:
    """check --connect of a connector no source names (its own probe)."""

    def test_connector_probe(self):
        cfg = self.config([])
        good = self.connector("lonely", wrong=False)
        bad = self.connector("denied", wrong=True)
        cfg["connectors"] = [{"connector": good}, {"connector": bad}]
        proc = self.run_cli(cfg, "check", "--connect")
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertIn("connector lonely: reachable", proc.stdout)
        self.assertRegex(proc.stdout, r"connector denied: FAILED: .*401")
