"""test_ci_jenkins.py: the Jenkins source against the fake Jenkins.

tests/fakes/cifake.py answers as Jenkins' remote access API (api/json with
a tree= query and its {M,N} range; `builds` stops at 100, `allBuilds` does
not; folders are /job/a/job/b).  The fake itself is checked with
python3-jenkins, the Debian client.  The provider cases of sourcecases.py,
plus: running builds are not versions until they finish, buildResults,
artifactPath filters artifacts, the job path of folders, Bearer auth.
"""

import os
import sys
import unittest
import urllib.parse

import jenkins

from sourcecases import PASSWORD, AuthCase, ProbeCase, ProviderCases

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fakes"))
from cifake import FAULT_CAUSES, CiFake  # noqa: E402

TOKEN = "jenkins-bearer-token-4242"


class JenkinsSource(ProviderCases, AuthCase, ProbeCase, unittest.TestCase):
    KIND = "build"
    SOURCE_TYPE = "Jenkins"
    FAULTS = FAULT_CAUSES
    LONG = 130          # past what `builds` returns: allBuilds

    @classmethod
    def setUpClass(cls):
        cls.fake = CiFake(users={"ci": PASSWORD}, bearer=TOKEN)

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()

    def target(self, name, versions):
        job = "team/%s" % name
        self.fake.jenkins_job(job, [self.fake.jenkins_build(
            int(v), job=job, artifacts=("dist/app.tgz", "logs/build.log"))
            for v in reversed(versions)])
        return job

    def add(self, target, version, result="SUCCESS", building=False):
        builds = [b for b in self.fake.jobs[target]
                  if b["number"] != int(version)]
        self.fake.jenkins_job(target, [self.fake.jenkins_build(
            int(version), job=target, result=result, building=building,
            artifacts=("dist/app.tgz", "logs/build.log"))] + builds)

    def connector(self, identifier, wrong=False, target=None):
        return {"identifier": identifier, "type": "Jenkins", "spec": {
            "jenkinsUrl": self.fake.base,
            "auth": {"type": "UsernamePassword", "spec": {
                "username": "ci",
                "passwordRef": "src_wrong" if wrong else "src_pwd"}}}}

    def spec(self, connector, target):
        return {"connectorRef": connector, "jobName": target,
                "artifactPath": r"\.tgz$", "build": "<+input>"}

    def fault(self, target, kind):
        path = "".join("/job/" + p for p in target.split("/"))
        self.fake.fault(path + "/api/json", kind, count=-1, retry_after="1")

    def subject(self, target, version):
        return "%s #%s" % (target, version)

    def check_fields(self, data, target, version):
        self.assertEqual(data["server"], self.fake.base)
        self.assertEqual(data["job"], target)
        self.assertEqual(data["buildNumber"], int(version))
        self.assertEqual(data["result"], "SUCCESS")
        self.assertEqual(data["digest"], "%s#%s" % (target, version))
        self.assertEqual([(a["name"], a["path"]) for a in
                          data["artifacts"]], [("app.tgz", "dist/app.tgz")])
        self.assertTrue(data["artifacts"][0]["url"].endswith(
            "/%s/artifact/dist/app.tgz" % version))
        self.assertEqual(data["url"], "%s/job/%s/%s/" % (
            self.fake.base, target, version))

    def test_fake_speaks_jenkins(self):
        """python3-jenkins reads the fake as a Jenkins."""
        t = self.target(self.unique("py"), ["1", "2"])
        client = jenkins.Jenkins(self.fake.base, username="ci",
                                 password=PASSWORD)
        self.assertEqual(client.get_version(), "2.440.1")
        self.assertEqual(client.get_whoami()["id"], "ci")
        info = client.get_job_info(t)
        self.assertEqual([b["number"] for b in info["builds"]], [2, 1])
        self.assertEqual(client.get_build_info(t, 2)["result"], "SUCCESS")
        bad = jenkins.Jenkins(self.fake.base, username="ci",
                              password="nope")
        with self.assertRaises(jenkins.JenkinsException):
            bad.get_whoami()

    def test_running_builds_wait(self):
        t = self.target(self.unique("run"), ["1"])
        cfg = self.config([("s", t, {})])
        self.once(cfg)
        self.add(t, "2", building=True)
        self.add(t, "3", result="FAILURE")
        events, _ = self.once(cfg)
        self.assertEqual(events, [])
        self.add(t, "2")        # finished now
        events, _ = self.once(cfg)
        self.assertEqual([e["data"]["version"] for e in events], ["2"])
        cfg["sources"][0]["spec"]["buildResults"] = ["SUCCESS", "FAILURE"]
        out = self.versions(cfg, "s")
        self.assertEqual([v["name"] for v in out["versions"]],
                         ["2", "3", "1"])

    def test_one_tree_request(self):
        t = self.target(self.unique("tree"), ["1", "2"])
        before = len(self.fake.requests("/job/team/"))
        self.versions(self.config([("s", t, {"maxTags": 20})]), "s")
        reqs = self.fake.requests("/job/team/")[before:]
        self.assertEqual(len(reqs), 1)
        path, headers = reqs[0]
        self.assertTrue(path.startswith("/job/team/job/%s/api/json?" %
                                        t.split("/")[1]), path)
        tree = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)[
            "tree"][0]
        self.assertEqual(tree, "builds[number,result,timestamp,building,"
                         "url,artifacts[fileName,relativePath]]{0,21}")
        self.assertNotIn("[", path)     # brackets escaped
        self.assertTrue(headers["Authorization"].startswith("Basic "))

    def test_bearer_token(self):
        t = self.target(self.unique("tok"), ["1"])
        cfg = self.config([("s", t, {})])
        cfg["secrets"]["tok"] = "env:AW_JENKINS_TOKEN"
        self.env["AW_JENKINS_TOKEN"] = TOKEN
        cfg["connectors"][0]["connector"]["spec"]["auth"] = {
            "type": "Bearer", "spec": {"tokenRef": "tok"}}
        out = self.versions(cfg, "s")
        self.assertEqual([v["name"] for v in out["versions"]], ["1"])
        proc = self.run_cli(cfg, "versions", "s")
        self.assertNotIn(TOKEN, proc.stdout + proc.stderr)

    def test_unknown_job(self):
        cfg = self.config([("s", "team/nothing", {})])
        events, logs = self.once(cfg, expect=1)
        lines = self.failed_lines(logs, "s")
        self.assertEqual(len(lines), 1)
        self.assertRegex(lines[0]["error"], "404.*team/nothing")


if __name__ == "__main__":
    unittest.main()
