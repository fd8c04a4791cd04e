"""test_helm.py: the HelmChart provider on an HTTP chart repository.

A stdlib Helm repository (helmrepo.py) on loopback serves an index.yaml the
test rewrites; the watcher runs with 1 s intervals, LMDB state and a
webhook.  What the conformance suite checks for every provider is not
repeated here; these are Helm's own cases:

- the event of kind `chart`: subject chart@version, repository, chart,
  appVersion, the digest as sha256:<hex>, created as pushedAt, the
  archive URL (relative in the index) under metadata.url, no image;
- a version published again with other content -> artifact.updated;
- the ETag: every later poll asks If-None-Match and a 304 costs no
  parse (the core logs "poll unchanged", not "poll listed");
- Basic auth after a challenge, the password never logged;
- an index in JSON; a chart missing from the index fails that source
  with one clear line; an entry with a bad version is skipped with one
  warning while the others still count;
- `check --connect` probes a repository no source names (the index must
  come, with the credentials, and be an index).
"""

import re
import unittest

from harness import logfmt
from helmrepo import EPOCH, HelmRepo, rfc3339
from suite import WatcherCase

PASSWORD = "helm-pass-2468"
SECRETS = {"helm_pwd": "env:AW_HELM_PASSWORD"}


def connector(identifier, url, username=None):
    auth = {"type": "Anonymous"}
    if username is not None:
        auth = {"type": "UsernamePassword",
                "spec": {"username": username, "passwordRef": "helm_pwd"}}
    return {"connector": {"identifier": identifier, "type": "HttpHelmRepo",
                          "spec": {"helmRepoUrl": url, "auth": auth}}}


def source(identifier, conn, chart, **watch):
    block = {"identifier": identifier, "type": "HelmChart",
             "spec": {"connectorRef": conn, "chartName": chart},
             "interval": "1s"}
    block.update(watch)
    return block


class Helm(WatcherCase):
    HOOK_SECRET = "helm-hook-secret"
    ENV = {"AW_HELM_PASSWORD": PASSWORD}
    WORKDIR_PREFIX = "aw-helm-"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.helm = HelmRepo().start()

    @classmethod
    def tearDownClass(cls):
        cls.helm.stop()
        super().tearDownClass()

    def run_chart(self, repo, chart, username=None, **watch):
        url = self.helm.url(repo)
        return self.start(self.config(
            [source(chart, "c-" + chart, chart, **watch)],
            [connector("c-" + chart, url, username)], secrets=SECRETS))

    def index_path(self, repo):
        return "/%s/index.yaml" % repo

    def test_chart_event_fields(self):
        self.helm.repo("fields")
        self.helm.charts("fields", "web", ["1.0.0", "1.1.0"], "2.0")
        self.helm.charts("fields", "other", ["9.0.0"])
        watcher = self.run_chart("fields", "web")
        self.wait_polls(watcher, "web", 2)
        self.assertEqual(self.hook.deliveries, [], "the baseline emitted")

        digest = self.helm.push("fields", "web", "1.2.0", app_version="2.1")
        [delivery] = self.hook.wait_accepted(1)
        event = delivery["event"]
        self.assertTrue(delivery["signature_ok"])
        self.assertEqual(event["type"], "artifact.created")
        self.assertEqual(event["subject"], "web@1.2.0")
        data = event["data"]
        self.assertEqual(data["kind"], "chart")
        self.assertEqual(data["sourceType"], "HelmChart")
        self.assertEqual(data["connectorRef"], "c-web")
        self.assertEqual(data["repository"], self.helm.url("fields"))
        self.assertEqual(data["chart"], "web")
        self.assertEqual(data["appVersion"], "2.1")
        self.assertEqual(data["version"], "1.2.0")
        self.assertEqual(data["digest"], digest)
        self.assertRegex(data["digest"], r"^sha256:[0-9a-f]{64}$")
        self.assertIsNone(data["previousDigest"])
        self.assertEqual(data["pushedAt"], rfc3339(EPOCH).split(".")[0] +
                         "Z")
        self.assertEqual(data["metadata"]["url"],
                         self.helm.url("fields") + "charts/web-1.2.0.tgz")
        for field in ("image", "registry", "bucket"):
            self.assertNotIn(field, data)
        self.wait_more_polls(watcher, "web")
        self.assertEqual(len(self.hook.deliveries), 1, "event repeated")
        watcher.stop()

    def test_same_version_new_digest_is_updated(self):
        self.helm.repo("repush")
        self.helm.charts("repush", "api", ["0.1.0", "0.2.0"])
        watcher = self.run_chart("repush", "api")
        self.wait_polls(watcher, "api", 2)
        old = self.helm.digest("repush", "api", "0.2.0")
        new = self.helm.repush("repush", "api", "0.2.0")
        [delivery] = self.hook.wait_accepted(1)
        data = delivery["event"]["data"]
        self.assertEqual(delivery["event"]["type"], "artifact.updated")
        self.assertEqual(data["version"], "0.2.0")
        self.assertEqual(data["digest"], new)
        self.assertEqual(data["previousDigest"], old)
        watcher.stop()

    def test_etag_304_costs_no_parse(self):
        self.helm.repo("etag")
        self.helm.charts("etag", "cache", ["1.0.0"])
        watcher = self.run_chart("etag", "cache")
        path = self.index_path("etag")
        self.helm.wait_requests(path, 3, status=304)
        self.wait_more_polls(watcher, "cache")
        seen = self.helm.requests(path)
        self.assertEqual(seen[0]["status"], 200)
        self.assertIsNone(seen[0]["if_none_match"])
        for request in seen[1:]:
            self.assertIsNotNone(request["if_none_match"], seen)
        full = [r for r in seen if r["status"] == 200]
        # One parse per 200, none for a 304.
        listed = self.source_lines(watcher, "cache", r'msg="poll listed"')
        unchanged = self.source_lines(watcher, "cache",
                                      r'msg="poll unchanged"')
        self.assertEqual(len(listed), len(full))
        self.assertGreaterEqual(len(unchanged), 3)
        # A change makes the ETag stale: a 200 again, and the event.
        self.helm.push("etag", "cache", "1.1.0")
        [delivery] = self.hook.wait_accepted(1)
        self.assertEqual(delivery["event"]["data"]["version"], "1.1.0")
        watcher.stop()

    def test_basic_auth_after_a_challenge(self):
        self.helm.repo("locked", credentials=("helm-user", PASSWORD))
        self.helm.charts("locked", "secret-app", ["1.0.0"])
        watcher = self.run_chart("locked", "secret-app",
                                 username="helm-user")
        self.wait_polls(watcher, "secret-app", 2)
        seen = self.helm.requests(self.index_path("locked"))
        self.assertEqual((seen[0]["status"], seen[0]["auth"]), (401, None))
        self.assertEqual((seen[1]["status"], seen[1]["auth"]),
                         (200, "Basic"))
        self.helm.push("locked", "secret-app", "1.0.1")
        [delivery] = self.hook.wait_accepted(1)
        self.assertEqual(delivery["event"]["data"]["version"], "1.0.1")
        watcher.stop()
        self.assert_no_secret_logged(watcher, PASSWORD)

    def test_json_index(self):
        self.helm.repo("json", json=True)
        self.helm.charts("json", "j", ["1.0.0"])
        watcher = self.run_chart("json", "j")
        self.wait_polls(watcher, "j", 2)
        digest = self.helm.push("json", "j", "1.0.1")
        [delivery] = self.hook.wait_accepted(1)
        self.assertEqual(delivery["event"]["data"]["digest"], digest)
        watcher.stop()

    def test_missing_chart_fails_only_its_source(self):
        self.helm.repo("mixed")
        self.helm.charts("mixed", "present", ["1.0.0"])
        url = self.helm.url("mixed")
        watcher = self.start(self.config(
            [source("present", "c-mixed", "present"),
             source("absent", "c-mixed", "absent")],
            [connector("c-mixed", url)]))
        [line] = watcher.wait_log(r'msg="poll failed".*source=absent ')[:1]
        self.assertRegex(logfmt(line)["error"],
                         r"chart absent is not in the index")
        self.assertIn(url + "index.yaml", logfmt(line)["error"])
        # The healthy source's baseline must be over before the push.
        self.wait_polls(watcher, "present", 1)
        self.helm.push("mixed", "present", "1.1.0")
        [delivery] = self.hook.wait_accepted(1)
        self.assertEqual(delivery["event"]["subject"], "present@1.1.0")
        watcher.stop()

    def test_bad_entry_is_skipped_with_one_warning(self):
        self.helm.repo("odd")
        self.helm.charts("odd", "odd", ["1.0.0", "not a version"])
        watcher = self.run_chart("odd", "odd")
        self.wait_polls(watcher, "odd", 3)
        warnings = self.source_lines(watcher, "odd",
                                     r'msg="helm index: versions skipped"')
        # Only the 200 is parsed, so one warning however many polls.
        self.assertEqual(len(warnings), 1, warnings)
        self.assertRegex(logfmt(warnings[0])["first"],
                         re.escape("version is not a chart version"))
        self.helm.push("odd", "odd", "1.0.1")
        [delivery] = self.hook.wait_accepted(1)
        self.assertEqual(delivery["event"]["data"]["version"], "1.0.1")
        watcher.stop()

    def test_check_connect_probes_unused_repositories(self):
        self.helm.repo("probe", credentials=("helm-user", PASSWORD))
        self.helm.charts("probe", "p", ["1.0.0"])
        self.helm.repo("page")
        self.helm.charts("page", "p", ["1.0.0"])
        self.helm.fault("/page/", fault="html")
        config = self.config(
            [source("p", "c-used", "p")],
            [connector("c-used", self.helm.url("probe"), "helm-user"),
             connector("spare", self.helm.url("probe"), "helm-user"),
             connector("login", self.helm.url("page")),
             connector("gone", self.helm.base + "/nothing/")],
            secrets=SECRETS)
        watcher = self.new_watcher(config)
        out = watcher.run_cli("check", "-c", watcher.write_config(),
                              "--connect")
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.assertIn("source p: reachable, 1 versions", out.stdout)
        self.assertIn("connector spare: reachable", out.stdout)
        self.assertRegex(out.stdout, r"connector login: FAILED: GET "
                         r"http://127\.0\.0\.1:\d+/page/index\.yaml: not an "
                         r"index \(an HTML or XML page\)")
        self.assertRegex(out.stdout, r"connector gone: FAILED: .*404")
        for line in out.stdout.splitlines() + out.stderr.splitlines():
            self.assertNotIn(PASSWORD, line)


if __name__ == "__main__":
    unittest.main()
