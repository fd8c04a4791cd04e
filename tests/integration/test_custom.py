"""test_custom.py: the CustomArtifact source: real scripts in a child.

The script (Harness' shape: scripts.fetchAllArtifacts with an inline Bash
script, artifactsArrayPath, versionPath, attributes, inputs, timeout)
reads a JSON file the test writes, and answers the faults the test asks
for: garbage, an HTML page, exit 1 with a reason on stderr, a sleep past
the timeout, more output than the cap.  The provider cases of
sourcecases.py (a digest from digestPath makes `updated`), plus: the
Secret input reaches the script's environment and never a log or the
command line, the result file ($HARNESS_ARTIFACT_RESULT_PATH), versionRegex,
a process the script leaves running (or one a timeout cut short) is
killed with its group, and a daemon stopped while a script runs kills it
and removes its private directory.
"""

import json
import os
import time
import unittest

from harness import Watcher
from sourcecases import ProviderCases, UpdatedCase

SECRET_ENV = "AW_CUSTOM_TOKEN"
SECRET = "custom-token-value-31337"

SCRIPT = r"""
set -e
if [ "$TOKEN" != "%s" ]; then echo "no token" >&2; exit 3; fi
case "$(cat "$DATA.fault" 2>/dev/null || true)" in
garbage) echo "{{{ not json"; exit 0 ;;
html) echo "<!DOCTYPE html><html><body>Sign in</body></html>"; exit 0 ;;
exit) echo "fetching"; echo "boom: the artifact server said no" >&2; exit 1 ;;
timeout) sleep 300 ;;
huge) head -c 10000000 /dev/zero | tr '\0' 'x'; exit 0 ;;
orphan) sleep 300 & echo $! > "$DATA.pid" ;;
stuck) pwd > "$DATA.cwd"; sleep 300 & echo $! > "$DATA.pid"; sleep 300 ;;
esac
if [ -n "$TO_FILE" ]; then
	cp "$DATA" "$HARNESS_ARTIFACT_RESULT_PATH"
else
	cat "$DATA"
fi
""" % SECRET


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purpose.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


class CustomSource(ProviderCases, UpdatedCase, unittest.TestCase):
    KIND = "custom"
    SOURCE_TYPE = "CustomArtifact"
    FAULTS = {
        "garbage": r"(?i)invalid JSON",
        "html": r"(?i)HTML",
        "exit": r"exit status 1: boom: the artifact server said no",
        "timeout": r"timed out",
        "huge": r"(?i)output cap",
    }
    TIMEOUT = "2s"

    def setUp(self):
        super().setUp()
        self.env[SECRET_ENV] = SECRET
        self.data = {}

    def secrets(self):
        return {"custom_tok": "env:" + SECRET_ENV}

    def write(self, target):
        items = [{"version": v, "sum": "sha-%s-%d" % (v, n),
                  "link": "https://example.invalid/%s" % v}
                 for v, n in self.data[target]]
        with open(target, "w") as f:
            json.dump({"data": {"items": list(reversed(items))}}, f)

    def target(self, name, versions):
        path = os.path.join(self.work.path, name + ".json")
        self.data[path] = [(v, 0) for v in versions]
        self.write(path)
        return path

    def add(self, target, version):
        self.data[target].append((version, 0))
        self.write(target)

    def rewrite(self, target, version):
        self.data[target] = [(v, n + 1 if v == version else n)
                             for v, n in self.data[target]]
        self.write(target)

    def connector(self, identifier, wrong=False, target=None):
        return None

    def spec(self, connector, target, to_file=False):
        inputs = [{"name": "DATA", "type": "String", "value": target},
                  {"name": "TOKEN", "type": "Secret",
                   "value": "custom_tok"}]
        if to_file:
            inputs.append({"name": "TO_FILE", "type": "String",
                           "value": "1"})
        return {
            "version": "<+input>",
            "timeout": self.TIMEOUT,
            "delegateSelectors": [],
            "inputs": inputs,
            "scripts": {"fetchAllArtifacts": {
                "artifactsArrayPath": "$.data.items",
                "versionPath": "version",
                "digestPath": "sum",
                "attributes": [{"name": "url", "type": "String",
                                "value": "link"}],
                "spec": {"shell": "Bash", "source": {
                    "type": "Inline", "spec": {"script": SCRIPT}}}}}}

    def fault(self, target, kind):
        with open(target + ".fault", "w") as f:
            f.write(kind)

    def subject(self, target, version):
        return "s@%s" % version

    def check_fields(self, data, target, version):
        self.assertEqual(data["metadata"]["url"],
                         "https://example.invalid/%s" % version)
        self.assertTrue(data["digest"].startswith("sha-%s-" % version))
        for field in ("registry", "bucket", "server", "path"):
            self.assertNotIn(field, data)

    def test_result_file_and_version_regex(self):
        t = self.target(self.unique("file"), ["1.0", "1.1", "2.0"])
        cfg = self.config([("s", t, {"emitExisting": True})])
        cfg["sources"][0]["spec"] = self.spec(None, t, to_file=True)
        cfg["sources"][0]["spec"]["versionRegex"] = r"^1\."
        events, _ = self.once(cfg)
        self.assertEqual(sorted(e["data"]["version"] for e in events),
                         ["1.0", "1.1"])

    def test_secret_in_environment_only(self):
        t = self.target(self.unique("sec"), ["1"])
        cfg = self.config([("s", t, {})])
        self.env.pop(SECRET_ENV)
        events, logs = self.once(cfg, expect=1)
        lines = self.failed_lines(logs, "s")
        self.assertEqual(len(lines), 1)
        self.assertRegex(lines[0]["error"], "custom_tok")
        self.env[SECRET_ENV] = SECRET
        proc = self.run_cli(cfg, "once")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertNotIn(SECRET, proc.stdout + proc.stderr)

    def test_left_running_is_killed(self):
        t = self.target(self.unique("orph"), ["1"])
        self.fault(t, "orphan")
        self.once(self.config([("s", t, {})]))
        with open(t + ".pid") as f:
            pid = int(f.read())
        deadline = time.monotonic() + 10
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertFalse(alive(pid), "the script's child outlived it")

    def test_timeout_kills_the_group(self):
        t = self.target(self.unique("stuck"), ["1"])
        self.fault(t, "stuck")
        events, logs = self.once(self.config([("s", t, {})]), expect=1)
        self.assertRegex(self.failed_lines(logs, "s")[0]["error"],
                         "timed out")
        with open(t + ".pid") as f:
            pid = int(f.read())
        deadline = time.monotonic() + 10
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertFalse(alive(pid), "the script's child outlived the kill")

    def test_daemon_stops_a_running_script(self):
        """SIGTERM while a script runs: the daemon cancels the poll, the
        script's group is killed and the daemon exits 0."""
        t = self.target(self.unique("term"), ["1"])
        self.fault(t, "stuck")
        cfg = self.config([("s", t, {"interval": "1s"})])
        cfg["sources"][0]["spec"]["timeout"] = "60s"
        watcher = Watcher(self.work, cfg, env=self.env).start()
        self.addCleanup(watcher.kill)
        deadline = time.monotonic() + 20
        while not os.path.exists(t + ".pid") and time.monotonic() < deadline:
            time.sleep(0.05)
        with open(t + ".pid") as f:
            pid = int(f.read())
        self.assertTrue(alive(pid))
        watcher.stop()          # asserts exit 0 within 10 s
        deadline = time.monotonic() + 10
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertFalse(alive(pid), "the script outlived the daemon")
        with open(t + ".cwd") as f:
            private = f.read().strip()
        self.assertTrue(os.path.basename(private).startswith("aw-custom."))
        self.assertFalse(os.path.exists(private), "private dir left")

    def test_bad_paths_are_config_errors(self):
        t = self.target(self.unique("cfg"), ["1"])
        cfg = self.config([("s", t, {})])
        spec = cfg["sources"][0]["spec"]
        spec["inputs"][0]["name"] = "1BAD"
        spec["scripts"]["fetchAllArtifacts"]["spec"]["shell"] = "PowerShell"
        proc = self.run_cli(cfg, "check")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("not a variable name", proc.stderr)
        self.assertIn("only Bash", proc.stderr)


if __name__ == "__main__":
    unittest.main()
