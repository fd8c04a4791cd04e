"""test_ci_bamboo.py: the Bamboo source against the fake Bamboo server.

tests/fakes/cifake.py answers as Bamboo's REST result resource (JSON,
start-index/max-results paging capped at 25 a page, `size`, Basic auth).
The provider cases of sourcecases.py, plus: only finished results in an
accepted state are versions (buildStates), artifacts filtered by
artifactPaths, the requests carry max-results and Accept JSON, and a
server that caps its pages lower than asked is read whole.
"""

import os
import sys
import unittest
import urllib.parse

from sourcecases import PASSWORD, AuthCase, ProbeCase, ProviderCases

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fakes"))
from cifake import FAULT_CAUSES, CiFake  # noqa: E402


class BambooSource(ProviderCases, AuthCase, ProbeCase, unittest.TestCase):
    KIND = "build"
    SOURCE_TYPE = "Bamboo"
    FAULTS = FAULT_CAUSES

    @classmethod
    def setUpClass(cls):
        cls.fake = CiFake(users={"ci": PASSWORD})

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()

    def target(self, name, versions, states=None):
        plan = "P%s-APP" % name.upper()
        results = [self.fake.bamboo_result(int(v), plan=plan,
                                           artifacts=("dist", "logs"))
                   for v in reversed(versions)]
        self.fake.bamboo_plan(plan, results)
        return plan

    def add(self, target, version, state="Successful", life="Finished"):
        results = self.fake.plans[target]
        self.fake.bamboo_plan(target, [self.fake.bamboo_result(
            int(version), plan=target, state=state, life=life,
            artifacts=("dist", "logs"))] + results)

    def connector(self, identifier, wrong=False, target=None):
        return {"identifier": identifier, "type": "Bamboo", "spec": {
            "bambooUrl": self.fake.base + "/",
            "auth": {"type": "UsernamePassword", "spec": {
                "username": "ci",
                "passwordRef": "src_wrong" if wrong else "src_pwd"}}}}

    def spec(self, connector, target):
        return {"connectorRef": connector, "planKey": target,
                "artifactPaths": ["dist"], "build": "<+input>"}

    def fault(self, target, kind):
        self.fake.fault("/rest/api/latest/result/" + target, kind,
                        count=-1, retry_after="1")

    def subject(self, target, version):
        return "%s #%s" % (target, version)

    def check_fields(self, data, target, version):
        self.assertEqual(data["server"], self.fake.base)
        self.assertEqual(data["job"], target)
        self.assertEqual(data["buildNumber"], int(version))
        self.assertEqual(data["result"], "Successful")
        self.assertEqual(data["digest"], "%s-%s" % (target, version))
        self.assertEqual([a["name"] for a in data["artifacts"]], ["dist"])
        self.assertTrue(data["artifacts"][0]["url"].endswith(
            "/artifact/shared/dist/"))
        self.assertEqual(data["metadata"]["buildNumber"], version)
        self.assertIsNotNone(data["pushedAt"])

    def test_states_and_running_builds(self):
        t = self.target(self.unique("st"), ["1"])
        cfg = self.config([("s", t, {})])
        self.once(cfg)
        self.add(t, "2", state="Failed")
        self.add(t, "3", life="InProgress", state="Unknown")
        self.add(t, "4")
        events, _ = self.once(cfg)
        self.assertEqual([e["data"]["version"] for e in events], ["4"])
        cfg["sources"][0]["spec"]["buildStates"] = ["Successful", "Failed"]
        out = self.versions(cfg, "s")
        self.assertEqual([v["name"] for v in out["versions"]],
                         ["4", "2", "1"])

    def test_requests_ask_json_pages(self):
        t = self.target(self.unique("rq"), [str(i) for i in range(1, 31)])
        before = len(self.fake.requests("/rest/api/latest/result/" + t))
        out = self.versions(self.config([("s", t, {})]), "s")
        self.assertEqual(len(out["versions"]), 30)
        reqs = self.fake.requests("/rest/api/latest/result/" + t)[before:]
        self.assertEqual(len(reqs), 2)
        self.assertIn("start-index=0", reqs[0][0])
        self.assertIn("start-index=25", reqs[1][0])
        self.assertIn("max-results=25", reqs[1][0])
        self.assertIn("expand=results.result.artifacts", reqs[0][0])
        self.assertTrue(reqs[0][1].get("Authorization", "").startswith(
            "Basic "))

    def test_server_caps_pages_lower(self):
        """A server whose pages are shorter than max-results asked
        (bamboo.rest.max.results): a short page is not the last one, the
        next start-index is where it ended, up to `size`."""
        t = self.target(self.unique("cap"), [str(i) for i in range(1, 26)])
        self.fake.page_limit(t, 10)
        before = len(self.fake.requests("/rest/api/latest/result/" + t))
        out = self.versions(self.config([("s", t, {})]), "s")
        self.assertEqual([v["name"] for v in out["versions"]],
                         [str(i) for i in range(25, 0, -1)])
        self.assertFalse(out["truncated"])
        reqs = self.fake.requests("/rest/api/latest/result/" + t)[before:]
        self.assertEqual([urllib.parse.parse_qs(urllib.parse.urlsplit(
            r[0]).query)["start-index"] for r in reqs],
            [["0"], ["10"], ["20"]])

    def test_unknown_plan(self):
        cfg = self.config([("s", "NOPE-PLAN", {})])
        events, logs = self.once(cfg, expect=1)
        lines = self.failed_lines(logs, "s")
        self.assertEqual(len(lines), 1)
        self.assertRegex(lines[0]["error"], "HTTP 404")


if __name__ == "__main__":
    unittest.main()
