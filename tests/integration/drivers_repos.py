"""drivers_repos.py: conformance drivers (conformance.py) for the
repository managers of issue 12.

  Nexus3Registry      docker format on the fake registry (the docker
                      family's code on repositoryPort), and maven through
                      the Nexus 3 fake's search API (continuationToken)
  ArtifactoryRegistry docker through the fake's /api/docker/ API, and
                      generic files through AQL (one query, no pages)
  GithubPackageRegistry  container versions of the GitHub fake
  Npm                 a real verdaccio behind a fault-injecting front
  HelmChart           on an OciHelmRepo: the real docker-registry behind
                      the same front

The fakes are tests/fakes/repofakes.py and tests/fakes/fakeserver.py; the
front is tests/fakes/httpfront.py.  Where the front demands credentials
(npm, OCI Helm) the server behind it stays anonymous: the real servers'
own auth is covered by test_npm and test_helm_oci.
"""

import base64
import hashlib
import json
import os
import re
import sys
import urllib.parse
import urllib.request

from conformance import PASSWORD, USERNAME, Driver
from drivers import DockerFakeDriver
from harness import Registry
from test_helm_oci import push_chart
from verdaccio import Verdaccio

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fakes"))

from httpfront import HttpFront  # noqa: E402
from repofakes import ArtifactoryFake, GitHubFake, Nexus3Fake  # noqa: E402

# The fakes' fault names for the suite's.
FAULTS = {"truncate": "truncated"}


def fake_listings(records):
    """A repofakes request log as the suite's listings."""
    out = []
    for r in records:
        status = r.get("status", 0)
        if isinstance(status, str):
            status = 429 if status == "fault:429" else 200
        out.append({"t": r["t"], "status": status, "auth": r["scheme"]})
    return out


def basic_auth(auth, password_ref):
    if not auth:
        return {"type": "Anonymous"}
    return {"type": "UsernamePassword",
            "spec": {"username": USERNAME, "passwordRef": password_ref}}


def wait_manifest_read(case, watcher, source, seen, path):
    """Wait until a digest check read path (a manifest) and that poll
    ended: the watcher knows the digest a re-point changes."""
    case.driver_wait(lambda: any(p == path and status == 200
                                 for p, status in seen()),
                     "a digest check of %s" % path)
    case.wait_more_polls(watcher, source)


# ------------------------------------------------------------- Nexus

def nexus_connector(identifier, url, auth, password_ref):
    return {"connector": {
        "identifier": identifier, "type": "Nexus",
        "spec": {"nexusServerUrl": url, "version": "3.x",
                 "auth": basic_auth(auth, password_ref)}}}


class NexusDockerDriver(DockerFakeDriver):
    """Nexus3Registry, docker format: the registry API on the
    repository's port (the fake registry of tests/fakes)."""

    SOURCE_TYPE = "Nexus3Registry"
    WATCH = {"digestCheckInterval": "1s"}

    def connector(self, identifier, target, auth=False, password_ref=None):
        return nexus_connector(identifier, "http://127.0.0.1:%d/"
                               % self.fake.port, auth, password_ref)

    def source(self, identifier, connector, target):
        return {"identifier": identifier, "type": self.SOURCE_TYPE,
                "spec": {"connectorRef": connector, "repository": "docker",
                         "repositoryFormat": "docker",
                         "spec": {"artifactPath": target,
                                  "repositoryPort": str(self.fake.port)}}}


class NexusMavenDriver(Driver):
    """Nexus3Registry, maven format, through /service/rest/v1/search
    (continuationToken pages of PAGE_SIZE); a version's digest is its
    main asset's sha256, a rebuilt asset re-points it."""

    SOURCE_TYPE = "Nexus3Registry"
    KIND = "package"
    FEATURES = frozenset(("pages", "repoint", "auth"))
    PAGE_SIZE = 10
    SEARCH = "/service/rest/v1/search"

    def start(self, workdir):
        self.fake = Nexus3Fake(page_size=self.PAGE_SIZE).start()
        self.n = 0

    def stop(self):
        self.fake.stop()
        return True

    def reset(self):
        self.fake.reset()
        self.fake.forget()

    def _add(self, target, version):
        self.n += 1
        return self.fake.add("releases", "maven2", target, version,
                             group="com.acme", content=str(self.n))

    def target(self, name, versions, pages=False, auth=False):
        for version in versions:
            self._add(name, version)
        if auth:
            self.fake.credentials = ("basic", USERNAME, PASSWORD)
        return name

    add = repoint = _add

    def digest(self, target, version):
        for c in self.fake.components:
            if c["name"] == target and c["version"] == version:
                return "sha256:" + c["assets"][0]["checksum"]["sha256"]
        raise KeyError(version)

    def connector(self, identifier, target, auth=False, password_ref=None):
        return nexus_connector(identifier, self.fake.url + "/", auth,
                               password_ref)

    def source(self, identifier, connector, target):
        return {"identifier": identifier, "type": self.SOURCE_TYPE,
                "spec": {"connectorRef": connector, "repository": "releases",
                         "repositoryFormat": "maven",
                         "spec": {"groupId": "com.acme",
                                  "artifactId": target,
                                  "extension": "jar"}}}

    def fault(self, target, fault, count=-1, **params):
        self.fake.fault(self.SEARCH, FAULTS.get(fault, fault), count,
                        contains="maven.artifactId=%s&" % target,
                        retry_after=params.get("retry_after", 1))

    def listings(self, target):
        return fake_listings(
            r for r in self.fake.requests(self.SEARCH)
            if r["query"].get("maven.artifactId") == target)

    def subject(self, target, version):
        return "com.acme:%s@%s" % (target, version)

    def check_fields(self, case, data, target, version):
        case.assertEqual(data["repository"], "releases")
        case.assertEqual(data["package"], target)
        case.assertEqual(data["group"], "com.acme")
        case.assertEqual(data["format"], "maven")
        case.assertTrue(data["downloadUrl"].endswith(
            "com/acme/%s/%s/%s-%s.jar" % (target, version, target,
                                          version)), data["downloadUrl"])
        case.assertIsNotNone(data["pushedAt"])


# ------------------------------------------------------------- Artifactory

def artifactory_connector(identifier, url, auth, password_ref):
    return {"connector": {
        "identifier": identifier, "type": "Artifactory",
        "spec": {"artifactoryServerUrl": url,
                 "auth": basic_auth(auth, password_ref)}}}


class ArtifactoryAqlDriver(Driver):
    """ArtifactoryRegistry, generic format, through AQL: one query sorted
    by created, limited at the cap (no pages); a file's digest is its
    sha256, a file written again re-points it."""

    SOURCE_TYPE = "ArtifactoryRegistry"
    KIND = "file"
    FEATURES = frozenset(("repoint", "auth"))
    AQL = "/artifactory/api/search/aql"

    def start(self, workdir):
        self.fake = ArtifactoryFake().start()
        self.n = 0

    def stop(self):
        self.fake.stop()
        return True

    def reset(self):
        self.fake.reset()
        self.fake.forget()
        self.fake.page_limit = {}

    def _put(self, target, version):
        self.n += 1
        return self.fake.put("generic-local", "builds/" + target, version,
                             content=str(self.n))

    def target(self, name, versions, pages=False, auth=False):
        assert not pages, "AQL has no pages"
        for version in versions:
            self._put(name, version)
        if auth:
            self.fake.credentials = ("basic", USERNAME, PASSWORD)
        return name

    add = repoint = _put

    def digest(self, target, version):
        for f in self.fake.files:
            if f["path"] == "builds/" + target and f["name"] == version:
                return "sha256:" + f["sha256"]
        raise KeyError(version)

    def connector(self, identifier, target, auth=False, password_ref=None):
        return artifactory_connector(identifier, self.fake.url +
                                     "/artifactory/", auth, password_ref)

    def source(self, identifier, connector, target):
        return {"identifier": identifier, "type": self.SOURCE_TYPE,
                "spec": {"connectorRef": connector,
                         "repository": "generic-local",
                         "repositoryFormat": "generic",
                         "artifactDirectory": "builds/" + target,
                         "artifactPathFilter": "*"}}

    def fault(self, target, fault, count=-1, **params):
        self.fake.fault(self.AQL, FAULTS.get(fault, fault), count,
                        contains='"builds/%s*"' % target,
                        retry_after=params.get("retry_after", 1))

    def listings(self, target):
        return fake_listings(r for r in self.fake.requests(self.AQL)
                             if '"builds/%s*"' % target in r["body"])

    def subject(self, target, version):
        return "file://generic-local/builds/%s/%s" % (target, version)

    def check_fields(self, case, data, target, version):
        case.assertEqual(data["bucket"], "generic-local")
        case.assertEqual(data["host"], "127.0.0.1")
        case.assertEqual(data["path"], "builds/%s/%s" % (target, version))
        case.assertGreater(data["size"], 0)
        case.assertNotIn("image", data)


class ArtifactoryDockerDriver(ArtifactoryAqlDriver):
    """ArtifactoryRegistry, docker format: tags through
    /artifactory/api/docker/<repo>/v2/<image>/tags/list (n/last, Link),
    digests from the manifests."""

    KIND = "container"
    FEATURES = frozenset(("pages", "repoint", "auth"))
    PAGE_SIZE = 10
    WATCH = {"digestCheckInterval": "1s"}
    REGISTRY = "acme-docker.jfrog.io"
    API = "/artifactory/api/docker/docker-local/v2/team/%s/"

    def _tag(self, target, version):
        self.n += 1
        return self.fake.tag("docker-local", "team/" + target, version,
                             content=str(self.n))

    def target(self, name, versions, pages=False, auth=False):
        with self.fake.lock:
            self.fake.images[("docker-local", "team/" + name)] = {}
            if pages:
                self.fake.page_limit[("docker-local", "team/" + name)] = \
                    self.PAGE_SIZE
        for version in versions:
            self._tag(name, version)
        if auth:
            self.fake.credentials = ("basic", USERNAME, PASSWORD)
        return name

    add = repoint = _tag

    def digest(self, target, version):
        return self.fake.images[("docker-local", "team/" + target)][version]

    def ready_to_repoint(self, case, watcher, source, target, version):
        path = (self.API % target) + "manifests/" + version
        wait_manifest_read(case, watcher, source, lambda: [
            (r["path"], r.get("status")) for r in self.fake.requests(path)],
            path)

    def source(self, identifier, connector, target):
        return {"identifier": identifier, "type": self.SOURCE_TYPE,
                "spec": {"connectorRef": connector,
                         "repository": "docker-local",
                         "repositoryFormat": "docker",
                         "artifactPath": "team/" + target,
                         "repositoryUrl": self.REGISTRY}}

    def fault(self, target, fault, count=-1, **params):
        self.fake.fault((self.API % target) + "tags/list",
                        FAULTS.get(fault, fault), count,
                        retry_after=params.get("retry_after", 1))

    def listings(self, target):
        return fake_listings(self.fake.requests((self.API % target) +
                                                "tags/list"))

    def subject(self, target, version):
        return "team/%s:%s" % (target, version)

    def check_fields(self, case, data, target, version):
        case.assertEqual(data["registry"], self.REGISTRY)
        case.assertEqual(data["repository"], "team/" + target)
        case.assertEqual(data["image"], "%s/team/%s:%s"
                         % (self.REGISTRY, target, version))


# ------------------------------------------------------------- GitHub

class GithubPackagesDriver(Driver):
    """GithubPackageRegistry, container packages of the GitHub fake: a
    version is a manifest (its name the digest) with tags; the listing
    carries every tag's digest, Link pages of PAGE_SIZE.  The API token
    goes with every request (auth_upfront): no challenge."""

    SOURCE_TYPE = "GithubPackageRegistry"
    KIND = "container"
    FEATURES = frozenset(("pages", "repoint", "auth_upfront"))
    PAGE_SIZE = 10
    OWNER = "acme"

    def start(self, workdir):
        self.fake = GitHubFake().start()
        self.n = 0

    def stop(self):
        self.fake.stop()
        return True

    def reset(self):
        self.fake.reset()
        self.fake.forget()
        self.fake.page_limit = {}

    def _push(self, target, version):
        self.n += 1
        return self.fake.push(self.OWNER, target, [version],
                              content=str(self.n))

    def target(self, name, versions, pages=False, auth=False):
        with self.fake.lock:
            self.fake.packages[(self.OWNER, "container", name)] = []
            if pages:
                self.fake.page_limit[name] = self.PAGE_SIZE
        for version in versions:
            self._push(name, version)
        if auth:
            self.fake.credentials = ("bearer", PASSWORD)
        return name

    add = repoint = _push

    def digest(self, target, version):
        for v in self.fake.packages[(self.OWNER, "container", target)]:
            if version in v["metadata"]["container"]["tags"]:
                return v["name"]
        raise KeyError(version)

    def connector(self, identifier, target, auth=False, password_ref=None):
        ref = password_ref or "conformance_pwd"
        return {"connector": {
            "identifier": identifier, "type": "Github",
            "spec": {"url": "https://github.com/" + self.OWNER,
                     "type": "Account", "apiUrl": self.fake.url,
                     "authentication": {"type": "Http", "spec": {
                         "type": "UsernameToken", "spec": {
                             "username": USERNAME, "tokenRef": ref}}},
                     "apiAccess": {"type": "Token",
                                   "spec": {"tokenRef": ref}}}}}

    def source(self, identifier, connector, target):
        return {"identifier": identifier, "type": self.SOURCE_TYPE,
                "spec": {"connectorRef": connector, "org": self.OWNER,
                         "packageName": target,
                         "packageType": "container"}}

    def path(self, target):
        return "/orgs/%s/packages/container/%s/versions" % (self.OWNER,
                                                           target)

    def fault(self, target, fault, count=-1, **params):
        self.fake.fault(self.path(target), FAULTS.get(fault, fault), count,
                        retry_after=params.get("retry_after", 1))

    def listings(self, target):
        return fake_listings(r for r in self.fake.requests(self.path(target))
                             if r["path"] == self.path(target))

    def subject(self, target, version):
        return "%s/%s:%s" % (self.OWNER, target, version)

    def check_fields(self, case, data, target, version):
        case.assertEqual(data["registry"], "ghcr.io")
        case.assertEqual(data["repository"], "%s/%s" % (self.OWNER, target))
        case.assertEqual(data["image"], "ghcr.io/%s/%s:%s"
                         % (self.OWNER, target, version))
        case.assertIsNotNone(data["pushedAt"])


# ------------------------------------------------------------- npm

SEMVER = re.compile(r"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$")


class NpmDriver(Driver):
    """Npm against a real verdaccio behind the front.  A target is a
    package; a semver name is a version published through the registry
    API (as `npm publish` sends it, with no dist-tag, so `latest` stays
    where the first publish put it); another name (`stable`) is a
    dist-tag on a version of its own, re-pointed to a spare version
    published beside it.  The package document has no pages; `latest`
    and the dist-tags' versions are the listing's extra names.  The front
    demands Basic credentials of an auth target."""

    SOURCE_TYPE = "Npm"
    KIND = "package"
    FEATURES = frozenset(("repoint", "auth"))

    def start(self, workdir):
        self.registry = Verdaccio(workdir).start()
        self.front = HttpFront(self.registry.port, self.classify).start()
        self.reset()

    def stop(self):
        self.front.stop()
        self.registry.stop()
        return True

    def reset(self):
        self.front.reset()
        self.integrity = {}     # (package, version) -> dist.integrity
        self.tags = {}          # (package, tag) -> version
        self.extra = {}         # package -> names beyond its versions
        self.spare = {}         # (package, tag) -> the next version
        self.n = 0

    @staticmethod
    def classify(path, query):
        """The package of a request; its document GET is the listing."""
        name = path.lstrip("/")
        if name.startswith("-/") or not name:
            return None, False
        parts = name.split("/")
        package = "/".join(parts[:2]) if name.startswith("@") else parts[0]
        return package, package == name

    def _publish(self, package, version, tags=None):
        self.n += 1
        body = ("package %s %s %d" % (package, version, self.n)).encode()
        file = "%s-%s.tgz" % (package.split("/")[-1], version)
        integrity = "sha512-" + base64.b64encode(
            hashlib.sha512(body).digest()).decode()
        doc = {"_id": package, "name": package, "dist-tags": tags or {},
               "versions": {version: {
                   "name": package, "version": version,
                   "dist": {"integrity": integrity,
                            "shasum": hashlib.sha1(body).hexdigest(),
                            "tarball": "%s/%s/-/%s" % (
                                self.registry.url, package, file)}}},
               "_attachments": {file: {
                   "content_type": "application/octet-stream",
                   "data": base64.b64encode(body).decode(),
                   "length": len(body)}}}
        self._call("PUT", "/" + package.replace("/", "%2f"), doc)
        self.integrity[(package, version)] = integrity
        return integrity

    def _call(self, method, path, doc):
        req = urllib.request.Request(
            self.registry.url + path, data=json.dumps(doc).encode(),
            method=method, headers={
                "Content-Type": "application/json",
                "Authorization": "Bearer " + self.registry.token})
        with urllib.request.urlopen(req, timeout=30) as resp:
            resp.read()

    def _tag(self, package, tag):
        """Tag `tag` on a fresh version, and a spare beside it."""
        self.n += 1
        first = "0.0.%d-%s.1" % (self.n, tag)
        spare = "0.0.%d-%s.2" % (self.n, tag)
        self._publish(package, first, {tag: first})
        self._publish(package, spare)
        self.tags[(package, tag)] = first
        self.spare[(package, tag)] = spare
        self.extra[package] += [tag, first, spare]

    def target(self, name, versions, pages=False, auth=False):
        assert not pages, "a package document has no pages"
        package = "conf-" + name.lower()
        self.extra[package] = ["latest"]
        for i, version in enumerate(versions):
            if SEMVER.match(version):
                self._publish(package, version,
                              {"latest": version} if i == 0 else None)
            else:
                self._tag(package, version)
        if auth:
            self.front.demand(package, USERNAME, PASSWORD)
        return package

    def add(self, target, version):
        return self._publish(target, version)

    def repoint(self, target, version):
        spare = self.spare.pop((target, version))
        self._call("PUT", "/-/package/%s/dist-tags/%s" % (
            target.replace("/", "%2f"), urllib.parse.quote(version)), spare)
        self.tags[(target, version)] = spare
        return self.integrity[(target, spare)]

    def digest(self, target, version):
        version = self.tags.get((target, version), version)
        return self.integrity[(target, version)]

    def extra_names(self, target):
        return list(self.extra.get(target, []))

    def connector(self, identifier, target, auth=False, password_ref=None):
        return {"connector": {
            "identifier": identifier, "type": "NpmRegistry",
            "spec": {"registryUrl": self.front.url + "/",
                     "auth": basic_auth(auth, password_ref)}}}

    def source(self, identifier, connector, target):
        return {"identifier": identifier, "type": "Npm",
                "spec": {"connectorRef": connector, "packageName": target}}

    def fault(self, target, fault, count=-1, **params):
        self.front.fault(target, fault, count, params.get("retry_after"))

    def listings(self, target):
        return self.front.listings(target)

    def subject(self, target, version):
        return "%s@%s" % (target, version)

    def check_fields(self, case, data, target, version):
        case.assertEqual(data["package"], target)
        case.assertEqual(data["format"], "npm")
        case.assertEqual(data["repository"], self.front.url)
        case.assertIsNotNone(data["pushedAt"])
        case.assertTrue(data["downloadUrl"].endswith(".tgz"),
                        data["downloadUrl"])


# ------------------------------------------------------------- OCI Helm

class HelmOciDriver(Driver):
    """HelmChart on an OciHelmRepo: the real docker-registry (anonymous)
    behind the front.  A target is repository charts/<name> holding chart
    <name>; a version is a chart pushed as Helm pushes it, re-pushed with
    other content to re-point it.  The front pages tags/list (n) and
    demands Basic credentials of an auth target."""

    SOURCE_TYPE = "HelmChart"
    KIND = "chart"
    FEATURES = frozenset(("pages", "repoint", "auth"))
    PAGE_SIZE = 10
    WATCH = {"digestCheckInterval": "1s"}

    def start(self, workdir):
        self.registry = Registry(workdir, "anonymous")
        self.registry.start()
        self.client = self.registry.client()
        self.front = HttpFront(self.registry.port, self.classify,
                               self.pager).start()
        self.digests = {}
        self.n = 0

    def stop(self):
        self.front.stop()
        self.registry.stop()
        return True

    def reset(self):
        self.front.reset()
        self.digests = {}

    @staticmethod
    def classify(path, query):
        m = re.match(r"^/v2/charts/([^/]+)/(.*)$", path)
        if m is None:
            return None, False
        return m.group(1), m.group(2) == "tags/list"

    @staticmethod
    def pager(limit, path, query, body):
        """One page of tags/list (n, last), the next page's URL."""
        doc = json.loads(body)
        tags = sorted(doc.get("tags") or [])
        if query.get("last"):
            tags = [t for t in tags if t > query["last"]]
        n = min(int(query.get("n") or limit), limit)
        doc["tags"] = tags[:n]
        link = None
        if len(tags) > n:
            link = "%s?%s" % (path, urllib.parse.urlencode(
                {"n": n, "last": tags[n - 1]}))
        return json.dumps(doc).encode(), link

    def _push(self, target, version):
        self.n += 1
        digest = push_chart(self.client, "charts/" + target, target,
                            version, "app-" + version, note=str(self.n))
        self.digests[(target, version)] = digest
        return digest

    def target(self, name, versions, pages=False, auth=False):
        name = name.lower()
        for version in versions:
            self._push(name, version)
        if pages:
            self.front.pages(name, self.PAGE_SIZE)
        if auth:
            self.front.demand(name, USERNAME, PASSWORD)
        return name

    add = repoint = _push

    def digest(self, target, version):
        return self.digests[(target, version)]

    def ready_to_repoint(self, case, watcher, source, target, version):
        path = "/v2/charts/%s/manifests/%s" % (target, version)
        wait_manifest_read(case, watcher, source, lambda: [
            (p, status) for _, p, status in self.front.requests()], path)

    def connector(self, identifier, target, auth=False, password_ref=None):
        return {"connector": {
            "identifier": identifier, "type": "OciHelmRepo",
            "spec": {"helmRepoUrl": self.front.url + "/charts",
                     "auth": basic_auth(auth, password_ref)}}}

    def source(self, identifier, connector, target):
        return {"identifier": identifier, "type": "HelmChart",
                "spec": {"connectorRef": connector, "chartName": target}}

    def fault(self, target, fault, count=-1, **params):
        self.front.fault(target, fault, count, params.get("retry_after"))

    def listings(self, target):
        return self.front.listings(target)

    def subject(self, target, version):
        return "%s@%s" % (target, version)

    def check_fields(self, case, data, target, version):
        case.assertEqual(data["chart"], target)
        case.assertEqual(data["repository"], "oci://%s/charts"
                         % self.front.host)
        case.assertEqual(data["appVersion"], "app-" + version)
        case.assertNotIn("image", data)
