"""test_cli.py: the command line's promises (docs/cli.md), run for real.

--help and --version; `check` on a good file and on a file with several
mistakes (every one reported as FILE:LINE:COL, exit 2); usage errors;
`versions` against a real registry (text and --json) and against a
registry nobody listens on (exit 1); `once` with a store that cannot be
opened (exit 4).
"""

import json
import re
import subprocess
import unittest

from harness import (BINARY, Registry, Watcher, Workdir, docker_connector,
                     docker_source, free_port)


def cli(*args):
    return subprocess.run([BINARY] + list(args), capture_output=True,
                          text=True, timeout=30, stdin=subprocess.DEVNULL)


class Cli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.workdir = Workdir()
        cls.registry = Registry(cls.workdir)
        cls.registry.start()
        client = cls.registry.client()
        cls.digests = {tag: client.push("cli/app", tag)
                       for tag in ("1.0", "1.1", "2.0")}

    @classmethod
    def tearDownClass(cls):
        cls.registry.stop()
        cls.workdir.cleanup()

    def config(self, url=None, image="cli/app"):
        return {
            "store": {"type": "lmdb", "path": self.workdir.sub("state")},
            "connectors": [docker_connector("local",
                                            url or self.registry.url)],
            "sources": [docker_source("app", "local", image)],
            "sinks": [{"identifier": "out", "type": "Stdout"}],
        }

    def test_help_and_version(self):
        shown = cli("--help")
        self.assertEqual(shown.returncode, 0)
        for command in ("run", "once", "check", "versions"):
            self.assertRegex(shown.stdout, r"\b%s\b" % command)
        version = cli("--version")
        self.assertEqual(version.returncode, 0)
        self.assertRegex(version.stdout, r"^artifact-watcher \d+\.\d+\.\d+")

    def test_usage_errors_exit_2(self):
        self.assertEqual(cli().returncode, 2)
        self.assertEqual(cli("frobnicate", "-c", "x.yaml").returncode, 2)
        self.assertEqual(cli("check").returncode, 2)
        self.assertEqual(cli("--log-level", "loud", "check", "-c",
                             "x.yaml").returncode, 2)

    def test_check_good_file(self):
        watcher = Watcher(self.workdir, self.config())
        result = watcher.run_cli("check", "-c", watcher.write_config())
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("ok", result.stdout)

    def test_check_connect_lists_every_source(self):
        config = self.config()
        config["connectors"].append(
            docker_connector("dead", "http://127.0.0.1:%d" % free_port()))
        config["sources"].append(docker_source("lost", "dead", "cli/app"))
        watcher = Watcher(self.workdir, config)
        path = watcher.write_config()
        plain = watcher.run_cli("check", "-c", path)
        self.assertEqual(plain.returncode, 0, "without --connect nothing "
                         "is contacted: " + plain.stderr)
        probed = watcher.run_cli("check", "-c", path, "--connect")
        self.assertEqual(probed.returncode, 1, probed.stdout)
        self.assertIn("source app: reachable, 3 versions", probed.stdout)
        self.assertRegex(probed.stdout, r"source lost: FAILED: .*127\.0\.0\.1")
        config["sources"].pop()
        config["connectors"].pop()
        watcher = Watcher(self.workdir, config)
        ok = watcher.run_cli("check", "-c", watcher.write_config(),
                             "--connect")
        self.assertEqual(ok.returncode, 0, ok.stdout + ok.stderr)

    def test_check_connect_probes_connectors_no_source_names(self):
        config = self.config()
        config["connectors"].append(
            docker_connector("spare", config["connectors"][0]["connector"]
                             ["spec"]["dockerRegistryUrl"]))
        config["connectors"].append(
            docker_connector("dead", "http://127.0.0.1:%d" % free_port()))
        watcher = Watcher(self.workdir, config)
        probed = watcher.run_cli("check", "-c", watcher.write_config(),
                                 "--connect")
        self.assertEqual(probed.returncode, 1, probed.stdout)
        self.assertIn("source app: reachable", probed.stdout)
        self.assertIn("connector spare: reachable", probed.stdout)
        self.assertRegex(probed.stdout,
                         r"connector dead: FAILED: GET http://127\.0\.0\.1")
        self.assertNotIn("connector local", probed.stdout,
                         "a connector with a source was probed twice")

    def test_check_reports_every_error_with_position(self):
        path = self.workdir.file("bad.yaml", "\n".join([
            "store:",
            "  type: lmdb",
            "  path: ./state",
            "connectors:",
            "  - connector:",
            "      identifier: local",
            "      type: DockerRegistry",
            "      spec:",
            "        dockerRegistryUrl: http://127.0.0.1:1",
            "        providerType: Other",
            "        auth: { type: Anonymous }",
            "sources:",
            "  - identifier: app",
            "    type: DockerRegistry",
            "    spec: { connectorRef: nowhere, imagePath: a/b }",
            "    interval: 5 parsecs",
            "    colour: blue",
            "sinks:",
            "  - identifier: out",
            "    type: Stdout",
            ""]))
        result = cli("check", "-c", path)
        self.assertEqual(result.returncode, 2)
        positions = re.findall(re.escape(path) + r":(\d+):(\d+): ",
                               result.stderr)
        lines = {int(line) for line, _ in positions}
        # connectorRef nowhere (15), bad duration (16), unknown key (17).
        self.assertTrue({15, 16, 17} <= lines, result.stderr)

    def test_check_missing_file(self):
        result = cli("check", "-c", self.workdir.path + "/absent.yaml")
        self.assertEqual(result.returncode, 2)
        self.assertIn("absent.yaml", result.stderr)

    def test_unusable_store_exit_4(self):
        blocker = self.workdir.file("not-a-directory", "x")
        config = self.config()
        config["store"]["path"] = blocker + "/state"
        watcher = Watcher(self.workdir, config)
        result = watcher.run_cli("once", "-c", watcher.write_config())
        self.assertEqual(result.returncode, 4, result.stderr)
        self.assertIn(blocker, result.stderr)

    def test_versions_lists_tags_and_digests(self):
        watcher = Watcher(self.workdir, self.config())
        path = watcher.write_config()
        text = watcher.run_cli("versions", "-c", path, "app")
        self.assertEqual(text.returncode, 0, text.stderr)
        # Listing only: names always, a digest only where the provider
        # had one without an extra request per tag.
        rows = [line.split("\t") for line in text.stdout.splitlines()]
        self.assertEqual(sorted(row[0] for row in rows), sorted(self.digests))
        for row in rows:
            if len(row) > 1:
                self.assertEqual(row[1], self.digests[row[0]])

        as_json = watcher.run_cli("versions", "-c", path, "app", "--json")
        self.assertEqual(as_json.returncode, 0, as_json.stderr)
        body = json.loads(as_json.stdout)
        self.assertEqual(body["source"], "app")
        self.assertFalse(body["truncated"])
        self.assertEqual(sorted(v["name"] for v in body["versions"]),
                         sorted(self.digests))
        for version in body["versions"]:
            self.assertIn(version["digest"],
                          (None, self.digests[version["name"]]))

    def test_versions_of_unknown_source_exit_2(self):
        watcher = Watcher(self.workdir, self.config())
        result = watcher.run_cli("versions", "-c", watcher.write_config(),
                                 "nope")
        self.assertEqual(result.returncode, 2)
        self.assertIn("nope", result.stderr)

    def test_versions_of_unreachable_registry_exit_1(self):
        dead = "http://127.0.0.1:%d" % free_port()
        watcher = Watcher(self.workdir, self.config(url=dead))
        result = watcher.run_cli("versions", "-c", watcher.write_config(),
                                 "app")
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("app", result.stderr)


if __name__ == "__main__":
    unittest.main()
