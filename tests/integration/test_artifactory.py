"""test_artifactory.py: ArtifactoryRegistry sources against the
Artifactory fake (tests/fakes/repofakes.py): generic files through AQL
(one query, newest first, limited at the cap; the trimmed-results notice)
and a docker repository through /artifactory/api/docker/<repo>/v2/ (the
docker family's listing and digests), through the repository-manager
cases (repocase.RepoCases), with Basic and Bearer token auth.
"""

import os
import sys
import unittest

from repocase import GOOD_SECRET, SECRET_ENV, RepoCase, RepoCases

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fakes"))

from repofakes import ArtifactoryFake  # noqa: E402


def art_connector(identifier, url, auth):
    a = {"type": "Anonymous"}
    if auth == "good":
        a = {"type": "UsernamePassword", "spec": {
            "username": "art-reader", "passwordRef": "repo_secret"}}
    elif auth == "token":
        a = {"type": "Token", "spec": {"tokenRef": "repo_secret"}}
    return {"connector": {"identifier": identifier, "type": "Artifactory",
                          "spec": {"artifactoryServerUrl": url,
                                   "auth": a}}}


class GenericDriver:
    SOURCE_TYPE = "ArtifactoryRegistry"
    KIND = "file"
    REPOINT = True
    PAGES = False

    def start(self):
        self.fake = ArtifactoryFake().start()

    def stop(self):
        self.fake.stop()

    def reset(self):
        self.fake.reset()
        self.fake.forget()
        self.fake.hard_limit = None

    def require_auth(self):
        self.fake.credentials = ("basic", "art-reader", GOOD_SECRET)

    def target(self, name, versions):
        for v in versions:
            self.fake.put("generic-local", "builds/" + name, v)
        return name

    def add(self, target, version):
        return self.fake.put("generic-local", "builds/" + target, version)

    def repoint(self, target, version):
        return self.fake.put("generic-local", "builds/" + target, version,
                             content="rebuilt")

    def digest(self, target, version):
        for f in self.fake.files:
            if f["path"] == "builds/" + target and f["name"] == version:
                return "sha256:" + f["sha256"]
        return None

    def connector(self, identifier, auth):
        return art_connector(identifier, self.fake.url + "/artifactory/",
                             auth)

    def source(self, identifier, connector, target, **watch):
        s = {"identifier": identifier, "type": self.SOURCE_TYPE,
             "interval": "1s",
             "spec": {"connectorRef": connector,
                      "repository": "generic-local",
                      "repositoryFormat": "generic",
                      "artifactDirectory": "builds/" + target,
                      "artifactPathFilter": "*"}}
        s.update(watch)
        return s

    def fault(self, target, kind, **kw):
        self.fake.fault("/artifactory/api/search/aql", kind,
                        contains='"builds/%s*"' % target, **kw)

    def clear_faults(self):
        self.fake.clear_faults()

    def records(self, target):
        return [r for r in self.fake.requests("/artifactory/api/search/aql")
                if '"builds/%s*"' % target in r["body"]]

    def listings(self, target):
        return len(self.records(target))

    def check(self, case, data, target, version):
        case.assertEqual(data["path"], "builds/%s/%s" % (target, version))
        case.assertEqual(data["host"], "127.0.0.1")
        case.assertEqual(data["bucket"], "generic-local")
        case.assertGreater(data["size"], 0)
        case.assertEqual(data["url"], "%s/artifactory/generic-local/builds/"
                         "%s/%s" % (self.fake.url, target, version))


class ArtifactoryGeneric(RepoCases, RepoCase):
    DRIVER = GenericDriver
    MANY = 40

    def test_trimmed_results_are_flagged(self):
        d = self.driver
        d.fake.hard_limit = 4
        t = d.target("trim", ["1.0.%d" % i for i in range(8)])
        w = self.run_sources([d.source("trim", "repo", t)])
        w.wait_log(r'msg="AQL results trimmed by the server.*source=trim')
        w.wait_log(r'msg="listing truncated at maxTags".*source=trim')
        self.wait_polls(w, "trim", 2)
        self.assertEqual(self.hook.deliveries, [])
        w.stop()

    def test_quoted_numbers_and_a_token(self):
        d = self.driver
        d.fake.quoted_numbers = True
        d.fake.credentials = ("bearer", GOOD_SECRET)
        try:
            t = d.target("quoted", ["1.0.0"])
            config = self.config([d.source("quoted", "repo", t)],
                                 [art_connector("repo", d.fake.url +
                                                "/artifactory", "token")],
                                 secrets={"repo_secret": "env:" +
                                          SECRET_ENV})
            w = self.start(config, env={SECRET_ENV: GOOD_SECRET})
            self.wait_polls(w, "quoted", 2)
            d.add(t, "1.1.0")
            [event] = self.events(1)
            self.assertGreater(event["data"]["size"], 0)
            w.stop()
            self.assert_no_secret_logged(w, GOOD_SECRET)
        finally:
            d.fake.quoted_numbers = False


class ArtifactoryProbes(RepoCase):
    """check --connect of Artifactory connectors no source names: the
    repositories API with a password or a token; a refused token."""

    def test_check_connect_probes_the_connectors(self):
        fake = ArtifactoryFake().start()
        self.addCleanup(fake.stop)
        fake.put("generic-local", "builds", "app-1.0.0.tgz")
        fake.credentials = ("bearer", GOOD_SECRET)
        bad = art_connector("refused", fake.url + "/artifactory", "token")
        bad["connector"]["spec"]["auth"]["spec"]["tokenRef"] = "wrong"
        config = self.config([], [
            art_connector("token", fake.url + "/artifactory/", "token"),
            bad], secrets={"repo_secret": "env:" + SECRET_ENV,
                           "wrong": "env:AW_ART_WRONG"})
        status, out = self.check_connect(config, env={
            SECRET_ENV: GOOD_SECRET, "AW_ART_WRONG": "not-it"})
        self.assertEqual(status, 1, out)
        self.assertIn("connector token: reachable", out)
        self.assertRegex(out, r"connector refused: FAILED: .*HTTP 401")
        self.assertNotIn(GOOD_SECRET, out)
        self.assertIn("/artifactory/api/repositories",
                      [r["path"] for r in fake.requests()])


class DockerDriver(GenericDriver):
    KIND = "container"
    PAGES = True

    def target(self, name, versions):
        for v in versions:
            self.fake.tag("docker-local", "team/" + name, v)
        return name

    def add(self, target, version):
        return self.fake.tag("docker-local", "team/" + target, version)

    def repoint(self, target, version):
        return self.fake.tag("docker-local", "team/" + target, version,
                             content="rebuilt")

    def digest(self, target, version):
        return self.fake.images[("docker-local", "team/" + target)][version]

    def source(self, identifier, connector, target, **watch):
        s = {"identifier": identifier, "type": self.SOURCE_TYPE,
             "interval": "1s",
             "spec": {"connectorRef": connector,
                      "repository": "docker-local",
                      "repositoryFormat": "docker",
                      "artifactPath": "team/" + target,
                      "repositoryUrl": "acme-docker.jfrog.io"}}
        s.update(watch)
        return s

    def fault(self, target, kind, **kw):
        self.fake.fault("/artifactory/api/docker/docker-local/v2/team/%s/"
                        % target, kind, **kw)

    def records(self, target):
        return self.fake.requests(
            "/artifactory/api/docker/docker-local/v2/team/%s/tags/list"
            % target)

    def check(self, case, data, target, version):
        case.assertEqual(data["registry"], "acme-docker.jfrog.io")
        case.assertEqual(data["repository"], "team/" + target)
        case.assertEqual(data["image"], "acme-docker.jfrog.io/team/%s:%s"
                         % (target, version))


class ArtifactoryDocker(RepoCases, RepoCase):
    DRIVER = DockerDriver
    MANY = 2100


if __name__ == "__main__":
    unittest.main()
