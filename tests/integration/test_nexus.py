"""test_nexus.py: Nexus3Registry and Nexus2Registry sources.

Nexus 3 (maven) against the fake's search API (continuationToken pages
of 5), Nexus 2 against its lucene search (offset pages of 200), both from
tests/fakes/repofakes.py, through the repository-manager cases
(repocase.RepoCases).  The docker format of Nexus 3 is the docker
family's registry code: it runs against the real docker-registry on the
repository's port.
"""

import os
import sys
import unittest

from harness import Registry
from repocase import RepoCase, RepoCases

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fakes"))

from repofakes import Nexus2Fake, Nexus3Fake  # noqa: E402

GOOD = "repos-good-secret-1357"


def nexus_connector(identifier, url, auth, version="3.x"):
    spec = {"nexusServerUrl": url, "version": version,
            "auth": {"type": "Anonymous"}}
    if auth is not None:
        spec["auth"] = {"type": "UsernamePassword", "spec": {
            "username": "nexus-reader", "passwordRef": "repo_secret"}}
    return {"connector": {"identifier": identifier, "type": "Nexus",
                          "spec": spec}}


class Nexus3Driver:
    SOURCE_TYPE = "Nexus3Registry"
    KIND = "package"
    REPOINT = True
    PAGES = True

    def start(self):
        self.fake = Nexus3Fake(page_size=5).start()

    def stop(self):
        self.fake.stop()

    def reset(self):
        self.fake.reset()
        self.fake.forget()

    def require_auth(self):
        self.fake.credentials = ("basic", "nexus-reader", GOOD)

    def target(self, name, versions):
        for v in versions:
            self.fake.add("releases", "maven2", name, v, group="com.acme")
        return name

    def add(self, target, version):
        return self.fake.add("releases", "maven2", target, version,
                             group="com.acme")

    def repoint(self, target, version):
        return self.fake.add("releases", "maven2", target, version,
                             group="com.acme", content="rebuilt")

    def digest(self, target, version):
        for c in self.fake.components:
            if c["name"] == target and c["version"] == version:
                return "sha256:" + c["assets"][0]["checksum"]["sha256"]
        return None

    def connector(self, identifier, auth):
        return nexus_connector(identifier, self.fake.url + "/", auth)

    def source(self, identifier, connector, target, **watch):
        s = {"identifier": identifier, "type": self.SOURCE_TYPE,
             "interval": "1s",
             "spec": {"connectorRef": connector, "repository": "releases",
                      "repositoryFormat": "maven",
                      "spec": {"groupId": "com.acme", "artifactId": target,
                               "extension": "jar"}}}
        s.update(watch)
        return s

    def fault(self, target, kind, **kw):
        self.fake.fault("/service/rest/v1/search", kind,
                        contains="maven.artifactId=%s&" % target, **kw)

    def clear_faults(self):
        self.fake.clear_faults()

    def records(self, target):
        return [r for r in self.fake.requests("/service/rest/v1/search")
                if r["query"].get("maven.artifactId") == target]

    def listings(self, target):
        return len(self.records(target))

    def check(self, case, data, target, version):
        case.assertEqual(data["repository"], "releases")
        case.assertEqual(data["package"], target)
        case.assertEqual(data["group"], "com.acme")
        case.assertEqual(data["format"], "maven")
        case.assertTrue(data["downloadUrl"].endswith(
            "com/acme/%s/%s/%s-%s.jar" % (target, version, target,
                                          version)), data["downloadUrl"])
        case.assertIsNotNone(data["pushedAt"])


class Nexus3(RepoCases, RepoCase):
    DRIVER = Nexus3Driver
    MANY = 16

    def test_old_nexus_without_sizes_and_blob_times(self):
        d = self.driver
        d.fake.old_version = True
        try:
            t = d.target("old", ["1.0.0"])
            w = self.run_sources([d.source("old", "repo", t)])
            self.wait_polls(w, "old", 2)
            digest = d.add(t, "1.1.0")
            [event] = self.events(1)
            self.assertEqual(event["data"]["digest"], digest)
            self.assertIsNotNone(event["data"]["pushedAt"],
                                 "lastModified stands in")
            w.stop()
        finally:
            d.fake.old_version = False

    def test_unknown_repository_says_so(self):
        d = self.driver
        d.target("known", ["1.0.0"])
        s = d.source("lost", "repo", "known")
        s["spec"]["repository"] = "no-such-repo"
        w = self.run_sources([s])
        self.wait_polls(w, "lost", 2)
        line = self.failures(w, "lost")[0]
        self.assertIn("HTTP 404: Repository not found", line)
        w.stop()


def refused(connector):
    """The connector block asking with the wrong password."""
    connector["connector"]["spec"]["auth"]["spec"]["passwordRef"] = "wrong"
    return connector


class NexusProbes(RepoCase):
    """check --connect of Nexus connectors no source names: the
    repositories API with the password (3.x and 2.x), a refused one."""

    def test_check_connect_probes_the_connectors(self):
        nexus3 = Nexus3Fake().start()
        nexus2 = Nexus2Fake().start()
        self.addCleanup(nexus3.stop)
        self.addCleanup(nexus2.stop)
        for fake in (nexus3, nexus2):
            fake.credentials = ("basic", "nexus-reader", GOOD)
        nexus3.add("releases", "maven2", "app", "1.0.0", group="com.acme")
        nexus2.add("releases", "com.acme", "app", "1.0.0")
        config = self.config([], [
            nexus_connector("three", nexus3.url, "good"),
            nexus_connector("two", nexus2.url, "good", "2.x"),
            refused(nexus_connector("refused", nexus3.url, "good"))],
            secrets={"repo_secret": "env:AW_NEXUS_GOOD",
                     "wrong": "env:AW_NEXUS_WRONG"})
        status, out = self.check_connect(config, env={
            "AW_NEXUS_GOOD": GOOD, "AW_NEXUS_WRONG": "not-it"})
        self.assertEqual(status, 1, out)
        self.assertIn("connector three: reachable", out)
        self.assertIn("connector two: reachable", out)
        self.assertRegex(out, r"connector refused: FAILED: .*HTTP 401")
        self.assertNotIn(GOOD, out)
        self.assertIn("/service/rest/v1/repositories",
                      [r["path"] for r in nexus3.requests()])
        self.assertIn("/service/local/repositories",
                      [r["path"] for r in nexus2.requests()])


class Nexus2Driver(Nexus3Driver):
    SOURCE_TYPE = "Nexus2Registry"
    REPOINT = False

    def start(self):
        self.fake = Nexus2Fake().start()

    def target(self, name, versions):
        for v in versions:
            self.fake.add("releases", "com.acme", name, v)
        return name

    def add(self, target, version):
        self.fake.add("releases", "com.acme", target, version)
        return None

    def connector(self, identifier, auth):
        return nexus_connector(identifier, self.fake.url, auth, "2.x")

    def fault(self, target, kind, **kw):
        self.fake.fault("/service/local/lucene/search", kind,
                        contains="a=%s&" % target, **kw)

    def records(self, target):
        return [r for r in self.fake.requests("/service/local/lucene")
                if r["query"].get("a") == target]

    def check(self, case, data, target, version):
        case.assertEqual(data["package"], target)
        case.assertEqual(data["group"], "com.acme")
        case.assertIn("/service/local/artifact/maven/redirect?r=releases"
                      "&g=com.acme&a=%s&v=%s&e=jar" % (target, version),
                      data["downloadUrl"])


class Nexus2(RepoCases, RepoCase):
    DRIVER = Nexus2Driver
    MANY = 450
    # Nexus 2's search carries no digest: a version cannot be re-pointed.
    test_repointed_is_updated = None

    def test_search_answers_json_only_when_asked(self):
        d = self.driver
        d.target("jsononly", ["1.0.0"])
        w = self.run_sources([d.source("jsononly", "repo", "jsononly")])
        self.wait_polls(w, "jsononly", 2)
        self.assertEqual(self.failures(w, "jsononly"), [])
        d.add("jsononly", "1.0.0")      # the same version again
        d.add("jsononly", "1.1.0")
        [event] = self.events(1)
        self.assertEqual(event["data"]["version"], "1.1.0")
        self.wait_more_polls(w, "jsononly")
        self.assertEqual(len(self.hook.deliveries), 1)
        w.stop()


class NexusDocker(RepoCase):
    """repositoryFormat docker: the registry API on repositoryPort."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = Registry(cls.workdir, "anonymous")
        cls.registry.start()

    @classmethod
    def tearDownClass(cls):
        cls.registry.stop()
        super().tearDownClass()

    def test_docker_tags_on_the_repository_port(self):
        client = self.registry.client()
        client.push("team/app", "1.0")
        old = client.push("team/app", "latest")
        source = {"identifier": "img", "type": "Nexus3Registry",
                  "interval": "1s", "digestCheckInterval": "1s",
                  "spec": {"connectorRef": "nexus", "repository": "docker",
                           "repositoryFormat": "docker",
                           "spec": {"artifactPath": "team/app",
                                    "repositoryPort":
                                    str(self.registry.port)}}}
        w = self.start(self.config([source], [nexus_connector(
            "nexus", "http://127.0.0.1:9/", None)]))
        self.wait_polls(w, "img", 3)
        self.assertEqual(self.hook.deliveries, [])
        digest = client.push("team/app", "1.1")
        [event] = self.events(1)
        data = event["data"]
        self.assertEqual(data["kind"], "container")
        self.assertEqual(data["registry"], self.registry.host)
        self.assertEqual(data["repository"], "team/app")
        self.assertEqual(data["version"], "1.1")
        self.assertEqual(data["digest"], digest)
        new = client.retag("team/app", "latest", "rebuilt")
        [moved] = self.events(2)[1:]
        self.assertEqual(moved["type"], "artifact.updated")
        self.assertEqual(moved["data"]["previousDigest"], old)
        self.assertEqual(moved["data"]["digest"], new)
        w.stop()


if __name__ == "__main__":
    unittest.main()
