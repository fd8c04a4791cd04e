"""test_github_packages.py: GithubPackageRegistry sources against the
GitHub packages API fake (tests/fakes/repofakes.py), whose shapes are
first checked by pointing PyGithub (Debian's python3-github) at it: if
PyGithub cannot page it, read its rate-limit headers or its errors, the
suite fails.  Then the repository-manager cases (repocase.RepoCases):
silent baseline, created, a re-pointed container tag updated, cap,
three pages of 100, auth, faults, identity; and an npm package.
"""

import os
import sys
import unittest

import github
from github.GithubObject import NonCompletableGithubObject
from github.PaginatedList import PaginatedList

from repocase import GOOD_SECRET, SECRET_ENV, RepoCase, RepoCases

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fakes"))

from repofakes import GitHubFake  # noqa: E402

TOKEN = "ghp_" + "f" * 36


class PackageVersion(NonCompletableGithubObject):
    """A package version as PyGithub would model it: every member typed."""

    def _initAttributes(self):
        self._id = self._name = self._created_at = self._updated_at = None
        self._html_url = self._metadata = self._url = None

    def _useAttributes(self, attributes):
        self._id = self._makeIntAttribute(attributes["id"])
        self._name = self._makeStringAttribute(attributes["name"])
        self._url = self._makeStringAttribute(attributes["url"])
        self._html_url = self._makeStringAttribute(attributes["html_url"])
        self._created_at = self._makeDatetimeAttribute(
            attributes["created_at"])
        self._updated_at = self._makeDatetimeAttribute(
            attributes["updated_at"])
        self._metadata = self._makeDictAttribute(attributes["metadata"])

    def values(self):
        return (self._id.value, self._name.value, self._url.value,
                self._html_url.value, self._created_at.value,
                self._updated_at.value, self._metadata.value)


class FakeShapes(unittest.TestCase):
    """PyGithub reads the fake: pages by Link, rate limits, errors."""

    @classmethod
    def setUpClass(cls):
        cls.fake = GitHubFake().start()
        cls.fake.credentials = ("bearer", TOKEN)
        for i in range(250):
            cls.fake.push("acme", "app", ["1.0.%d" % i])
        cls.fake.publish("acme", "npm", "@acme/lib", "2.0.0")

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()

    def client(self, token=TOKEN):
        return github.Github(login_or_token=token, base_url=self.fake.url)

    def test_pygithub_pages_the_versions(self):
        g = self.client()
        versions = PaginatedList(
            PackageVersion, g._Github__requester,
            self.fake.url + "/orgs/acme/packages/container/app/versions",
            {"per_page": 100})
        got = [v.values() for v in versions]
        self.assertEqual(len(got), 250)
        self.assertTrue(got[0][1].startswith("sha256:"))
        self.assertEqual(got[0][6]["container"]["tags"], ["1.0.249"])
        self.assertGreater(got[0][4], got[-1][4], "newest first")
        pages = [r for r in self.fake.requests("/orgs/acme/packages/")]
        self.assertEqual(len(pages), 3, "three pages by Link")
        remaining, limit = g.rate_limiting
        self.assertEqual(limit, 5000)
        self.assertLess(remaining, 5000)
        self.assertEqual(g.get_rate_limit().core.limit, 5000)

    def test_pygithub_reads_the_errors(self):
        with self.assertRaises(github.BadCredentialsException):
            self.client("ghp_wrong").get_rate_limit()
        g = self.client()
        with self.assertRaises(github.GithubException) as caught:
            g._Github__requester.requestJsonAndCheck(
                "GET", "/orgs/acme/packages/container/nope/versions")
        self.assertEqual(caught.exception.status, 404)
        self.assertEqual(caught.exception.data["message"],
                         "Package not found.")
        _, data = g._Github__requester.requestJsonAndCheck(
            "GET", "/orgs/acme/packages/npm/%40acme%2Flib/versions")
        self.assertEqual([v["name"] for v in data], ["2.0.0"])


class GitHubDriver:
    SOURCE_TYPE = "GithubPackageRegistry"
    KIND = "container"
    REPOINT = True
    PAGES = True

    def start(self):
        self.fake = GitHubFake().start()

    def stop(self):
        self.fake.stop()

    def reset(self):
        self.fake.reset()
        self.fake.forget()

    def require_auth(self):
        self.fake.credentials = ("bearer", "repos-good-secret-1357")

    def target(self, name, versions):
        for v in versions:
            self.fake.push("acme", name, [v])
        return name

    def add(self, target, version):
        return self.fake.push("acme", target, [version])

    def repoint(self, target, version):
        return self.fake.push("acme", target, [version], content="new")

    def digest(self, target, tag):
        for v in self.fake.packages[("acme", "container", target)]:
            if tag in v["metadata"]["container"]["tags"]:
                return v["name"]
        return None

    def connector(self, identifier, auth):
        return {"connector": {
            "identifier": identifier, "type": "Github",
            "spec": {"url": "https://github.com/acme", "type": "Account",
                     "apiUrl": self.fake.url,
                     "authentication": {"type": "Http", "spec": {
                         "type": "UsernameToken", "spec": {
                             "username": "acme-bot",
                             "tokenRef": "repo_secret"}}},
                     "apiAccess": {"type": "Token", "spec": {
                         "tokenRef": "repo_secret"}}}}}

    def source(self, identifier, connector, target, **watch):
        s = {"identifier": identifier, "type": self.SOURCE_TYPE,
             "interval": "1s",
             "spec": {"connectorRef": connector, "org": "acme",
                      "packageName": target, "packageType": "container"}}
        s.update(watch)
        return s

    def fault(self, target, kind, **kw):
        self.fake.fault("/orgs/acme/packages/container/%s/" % target, kind,
                        **kw)

    def clear_faults(self):
        self.fake.clear_faults()

    def records(self, target):
        return self.fake.requests("/orgs/acme/packages/container/%s/"
                                  % target)

    def listings(self, target):
        return len(self.records(target))

    def check(self, case, data, target, version):
        case.assertEqual(data["registry"], "ghcr.io")
        case.assertEqual(data["repository"], "acme/" + target)
        case.assertEqual(data["image"], "ghcr.io/acme/%s:%s"
                         % (target, version))
        case.assertIsNotNone(data["pushedAt"])


class GitHubProbes(RepoCase):
    """check --connect of a Github connector no source names: GET
    /rate_limit with the token; a refused token."""

    def test_check_connect_probes_the_connectors(self):
        fake = GitHubFake().start()
        self.addCleanup(fake.stop)
        fake.credentials = ("bearer", GOOD_SECRET)
        driver = GitHubDriver()
        driver.fake = fake
        bad = driver.connector("refused", "good")
        bad["connector"]["spec"]["apiAccess"]["spec"]["tokenRef"] = "wrong"
        config = self.config([], [driver.connector("good", "good"), bad],
                             secrets={"repo_secret": "env:" + SECRET_ENV,
                                      "wrong": "env:AW_GH_WRONG"})
        status, out = self.check_connect(config, env={
            SECRET_ENV: GOOD_SECRET, "AW_GH_WRONG": "not-it"})
        self.assertEqual(status, 1, out)
        self.assertIn("connector good: reachable", out)
        self.assertRegex(out, r"connector refused: FAILED: .*HTTP 401")
        self.assertNotIn(GOOD_SECRET, out)
        self.assertEqual([r["path"] for r in fake.requests("/rate_limit")],
                         ["/rate_limit", "/rate_limit"])


class GitHubPackages(RepoCases, RepoCase):
    DRIVER = GitHubDriver
    MANY = 230

    def test_npm_package_versions(self):
        d = self.driver
        d.fake.publish("acme", "npm", "@acme/lib", "1.0.0")
        w = self.run_sources([{
            "identifier": "lib", "type": "GithubPackageRegistry",
            "interval": "1s",
            "spec": {"connectorRef": "repo", "org": "acme",
                     "packageName": "@acme/lib", "packageType": "npm"}}])
        self.wait_polls(w, "lib", 2)
        d.fake.publish("acme", "npm", "@acme/lib", "1.1.0")
        [event] = self.events(1)
        data = event["data"]
        self.assertEqual(data["kind"], "package")
        self.assertEqual(data["version"], "1.1.0")
        self.assertEqual(data["package"], "@acme/lib")
        self.assertEqual(data["format"], "npm")
        self.assertEqual(data["repository"], "acme")
        paths = {r["raw"] for r in d.fake.requests("/orgs/acme/")}
        self.assertIn("/orgs/acme/packages/npm/%40acme%2Flib/versions"
                      "?per_page=100", paths)
        w.stop()

    def test_spent_budget_waits_for_the_reset(self):
        d = self.driver
        t = d.target("budget", ["1.0.0"])
        w = self.run_sources([d.source("budget", "repo", t)])
        self.wait_polls(w, "budget", 2)
        d.fake.spent = 1
        w.wait_log(r'msg="connector paused" connector=repo status=403')
        w.wait_log(r'msg="connector resumed" connector=repo')
        d.add(t, "1.1.0")
        [event] = self.events(1)
        self.assertEqual(event["data"]["version"], "1.1.0")
        w.stop()

    def test_unknown_package_says_so(self):
        w = self.run_sources([self.driver.source("nope", "repo", "nope")])
        self.wait_polls(w, "nope", 2)
        line = self.failures(w, "nope")[0]
        self.assertIn("HTTP 404", line)
        self.assertIn("no container package acme/nope", line)
        w.stop()


if __name__ == "__main__":
    unittest.main()
