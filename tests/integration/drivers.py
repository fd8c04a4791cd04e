"""drivers.py: one conformance driver per provider (see conformance.py).

A driver maps the suite's vocabulary (a target with versions, a new
version, a re-pointed one, pages, credentials, faults) onto one provider's
server.  A new provider adds one class here and one line in
test_conformance.py.
"""

import os
import sys

from conformance import PASSWORD, USERNAME, Driver
from harness import docker_connector, docker_source
from helmrepo import HelmRepo

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fakes"))

from fakeserver import FakeServer  # noqa: E402


class DockerFakeDriver(Driver):
    """DockerRegistry against the fake registry (tests/fakes)."""

    SOURCE_TYPE = "DockerRegistry"
    KIND = "container"
    FEATURES = frozenset(("pages", "repoint", "auth"))
    PAGE_SIZE = 10

    def start(self, workdir):
        self.fake = FakeServer()
        self.digests = {}

    def stop(self):
        return self.fake.stop()

    def reset(self):
        self.fake.reset()
        self.digests = {}

    def target(self, name, versions, pages=False, auth=False):
        repo = "conf/" + name
        shape = {"max_n": self.PAGE_SIZE} if pages else {}
        self.fake.repo(name=repo, tags=[], **shape)
        if versions:
            self.digests.update({(repo, tag): digest for tag, digest in
                                 self.fake.tags(repo, versions).items()})
        if auth:
            self.fake.config(auth=True,
                             credentials="%s:%s" % (USERNAME, PASSWORD))
        return repo

    def add(self, target, version):
        digest = self.fake.tags(target, [version])[version]
        self.digests[(target, version)] = digest
        return digest

    repoint = add

    def digest(self, target, version):
        return self.digests[(target, version)]

    def ready_to_repoint(self, case, watcher, source, target, version):
        """The baseline may record a tag without its digest: wait until a
        digest check has read it and that poll is over."""
        path = "/v2/%s/manifests/%s" % (target, version)
        case.driver_wait(lambda: any(
            r["path"] == path and r["status"] == 200
            for r in self.fake.requests(path_prefix=path)),
            "a digest check of %s" % path)
        case.wait_more_polls(watcher, source)

    def connector(self, identifier, target, auth=False, password_ref=None):
        return docker_connector(identifier, self.fake.base + "/v2/",
                                USERNAME if auth else None, password_ref)

    def source(self, identifier, connector, target):
        source = docker_source(identifier, connector, target)
        del source["interval"]
        return source

    def fault(self, target, fault, count=-1, **params):
        self.fake.fault(path_prefix="/v2/%s/" % target, fault=fault,
                        count=count, **params)

    def listings(self, target):
        path = "/v2/%s/tags/list" % target
        return [{"t": r["ms"] / 1000.0, "status": r["status"],
                 "auth": r["auth"]}
                for r in self.fake.requests(path_prefix=path)
                if r["path"] == path]

    def subject(self, target, version):
        return "%s:%s" % (target, version)

    def check_fields(self, case, data, target, version):
        host = "127.0.0.1:%d" % self.fake.port
        case.assertEqual(data["registry"], host)
        case.assertEqual(data["repository"], target)
        case.assertEqual(data["image"], "%s/%s:%s" % (host, target, version))


class HelmHttpDriver(Driver):
    """HelmChart on an HttpHelmRepo (tests/integration/helmrepo.py).

    A target is a repository of its own holding one chart of the same
    name, so faults and credentials stay on it.  index.yaml has no pages.
    """

    SOURCE_TYPE = "HelmChart"
    KIND = "chart"
    FEATURES = frozenset(("repoint", "auth"))

    def start(self, workdir):
        self.helm = HelmRepo().start()

    def stop(self):
        self.helm.stop()
        return True

    def reset(self):
        self.helm.reset()

    def target(self, name, versions, pages=False, auth=False):
        assert not pages, "index.yaml has no pages"
        self.helm.repo(name, credentials=(USERNAME, PASSWORD) if auth
                       else None)
        for version in versions:
            self.helm.push(name, name, version, app_version="app-" + version)
        return name

    def add(self, target, version):
        return self.helm.push(target, target, version,
                              app_version="app-" + version)

    def repoint(self, target, version):
        return self.helm.repush(target, target, version)

    def digest(self, target, version):
        return self.helm.digest(target, target, version)

    def connector(self, identifier, target, auth=False, password_ref=None):
        if auth:
            block = {"type": "UsernamePassword",
                     "spec": {"username": USERNAME,
                              "passwordRef": password_ref}}
        else:
            block = {"type": "Anonymous"}
        return {"connector": {
            "identifier": identifier, "type": "HttpHelmRepo",
            "spec": {"helmRepoUrl": self.helm.url(target), "auth": block}}}

    def source(self, identifier, connector, target):
        return {"identifier": identifier, "type": "HelmChart",
                "spec": {"connectorRef": connector, "chartName": target}}

    def fault(self, target, fault, count=-1, **params):
        self.helm.fault("/%s/" % target, count=count, fault=fault, **params)

    def listings(self, target):
        return [{"t": r["t"], "status": r["status"], "auth": r["auth"]}
                for r in self.helm.requests(path="/%s/index.yaml" % target)]

    def subject(self, target, version):
        return "%s@%s" % (target, version)

    def check_fields(self, case, data, target, version):
        case.assertEqual(data["chart"], target)
        case.assertEqual(data["repository"], self.helm.url(target))
        case.assertEqual(data["appVersion"], "app-" + version)
        case.assertNotIn("image", data)
        case.assertEqual(data["metadata"]["url"], "%scharts/%s-%s.tgz"
                         % (self.helm.url(target), target, version))
