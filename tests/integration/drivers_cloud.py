"""drivers_cloud.py: conformance drivers (see conformance.py) for the Google
and Azure families: Gcr, GoogleArtifactRegistry (docker and npm),
GoogleCloudStorage against tests/fakes/googlefake.py, Acr and
AzureArtifacts against tests/fakes/azurefake.py.

Each driver starts its own fake; a target is what one source watches (an
image path, a repository, a bucket, a feed) and the fakes keep per target
what the suite needs: faults, a page size and the log of its listing
requests with their Authorization scheme.

Credentials: the suite's password secret (conformance_pwd) is what each
connector authenticates with.  For Google it holds a service-account key
(env() puts the registered key there, wrong_env() a key of the same
account the token endpoint refuses: invalid_grant); for Azure it is the
service principal's client secret, the registry admin's password or the
personal access token the fake knows.
"""

import json
import os
import sys

from conformance import PASSWORD, PASSWORD_ENV, Driver

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fakes"))

from azurefake import AzureFake  # noqa: E402
from googlefake import GoogleFake, digest_of, make_rsa_key  # noqa: E402

EMAIL = "conformance@fake-project.iam.gserviceaccount.com"
PROJECT, REGION = "fake-project", "us-central1"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
APP = "11111111-2222-3333-4444-555555555555"
ORG = "acme"
T0 = 1704103200


def _listed(entries):
    return [{"t": t, "status": status, "auth": auth}
            for t, status, auth in entries]


# ------------------------------------------------------------------ Google

class GoogleDriver(Driver):
    """What the three Google drivers share: the fake, a registered
    service account whose key is the connector's secret, and the Gcp
    connector pointed at the fake.  The token is fetched up front (the
    JWT grant) and sent with every API request: no challenge.  Wrong
    credentials are a key the token endpoint refuses."""

    FEATURES = frozenset(("pages", "repoint", "auth_upfront"))
    DENIED = r"invalid_grant"
    PAGE_SIZE = 10

    def start(self, workdir):
        self.fake = GoogleFake().start()
        self.key = self.fake.service_account(EMAIL)
        wrong = dict(self.key)
        wrong["private_key"] = make_rsa_key()[0]
        self.wrong_key = wrong
        self.n = 0
        self.digests = {}

    def stop(self):
        self.fake.stop()
        return True

    def reset(self):
        self.fake.reset_targets()
        self.digests = {}

    def env(self):
        return {PASSWORD_ENV: json.dumps(self.key)}

    def wrong_env(self):
        return {PASSWORD_ENV: json.dumps(self.wrong_key)}

    def tick(self):
        """A later time for each write (a new generation, upload time)."""
        self.n += 1
        return T0 + self.n

    def connector(self, identifier, target, auth=False, password_ref=None):
        return {"connector": {
            "identifier": identifier, "type": "Gcp",
            "spec": {"credential": {"type": "ManualConfig",
                                    "spec": {"secretKeyRef":
                                             "conformance_pwd"}},
                     "endpoints": {"storage": self.fake.url,
                                   "artifactregistry": self.fake.url,
                                   "metadata": self.fake.url}}}}

    def digest(self, target, version):
        return self.digests[(target, version)]

    def create(self, name):
        """Make the empty target called name; its handle."""
        raise NotImplementedError

    def key_of(self, target):
        """The fake's key of a target (its faults, pages, listings)."""
        raise NotImplementedError

    def target(self, name, versions, pages=False, auth=False):
        target = self.create(name)
        if pages:
            self.fake.target_page_size(self.key_of(target), self.PAGE_SIZE)
        for version in versions:
            self.add(target, version)
        return target

    def fault(self, target, fault, count=-1, **params):
        self.fake.target_fault(self.key_of(target), fault, count,
                               params.get("retry_after"))

    def listings(self, target):
        return _listed(self.fake.listings(self.key_of(target)))


class GoogleCloudStorageDriver(GoogleDriver):
    """A target is a bucket; a version an object's name, its digest the
    MD5 at the object's generation.  Writing the name again is a new
    generation: re-pointed."""

    SOURCE_TYPE = "GoogleCloudStorage"
    KIND = "file"

    def key_of(self, target):
        return ("gcs", target)

    def _put(self, bucket, version):
        data = ("%s %s %d" % (bucket, version, self.n)).encode()
        obj = self.fake.gcs_object(bucket, version, data, self.tick())
        digest = "%s@%s" % (obj["md5Hash"], obj["generation"])
        self.digests[(bucket, version)] = digest
        return digest

    def create(self, name):
        self.fake.bucket(name[:63])
        return name[:63]

    add = repoint = _put

    def source(self, identifier, connector, target):
        return {"identifier": identifier, "type": self.SOURCE_TYPE,
                "spec": {"connectorRef": connector, "project": PROJECT,
                         "bucket": target}}

    def subject(self, target, version):
        return "gs://%s/%s" % (target, version)

    def check_fields(self, case, data, target, version):
        case.assertEqual(data["bucket"], target)
        case.assertEqual(data["path"], version)
        case.assertEqual(data["metadata"]["md5Hash"],
                         data["digest"].split("@")[0])
        case.assertNotIn("image", data)


class GoogleArtifactRegistryDriver(GoogleDriver):
    """repositoryType docker: a target is a repository holding the image
    `app`; a version is a tag, its digest the image's; a tag moved to a
    new image is re-pointed.  Paged by the repository's dockerImages."""

    SOURCE_TYPE = "GoogleArtifactRegistry"
    KIND = "container"
    PACKAGE = "app"

    def key_of(self, target):
        return ("ar", target)

    def _push(self, repo, version):
        digest = digest_of("%s:%s:%d" % (repo, version, self.n))
        self.fake.ar_image(PROJECT, REGION, repo, self.PACKAGE, digest,
                           [version], self.tick())
        self.digests[(repo, version)] = digest
        return digest

    def create(self, name):
        self.fake.ar_repo(PROJECT, REGION, name)
        return name

    add = repoint = _push

    def source(self, identifier, connector, target):
        return {"identifier": identifier, "type": self.SOURCE_TYPE,
                "spec": {"connectorRef": connector, "project": PROJECT,
                         "region": REGION, "repositoryName": target,
                         "package": self.PACKAGE,
                         "repositoryType": "docker"}}

    def repository(self, target):
        return "%s/%s/%s" % (PROJECT, target, self.PACKAGE)

    def subject(self, target, version):
        return "%s:%s" % (self.repository(target), version)

    def check_fields(self, case, data, target, version):
        registry = "%s-docker.pkg.dev" % REGION
        case.assertEqual(data["registry"], registry)
        case.assertEqual(data["repository"], self.repository(target))
        case.assertEqual(data["image"], "%s/%s:%s" % (
            registry, self.repository(target), version))


class GoogleArtifactRegistryNpmDriver(GoogleArtifactRegistryDriver):
    """repositoryType npm: a target is a repository holding the package
    `app`; a version is a package version.  A published version never
    changes (no digest), so there is nothing to re-point."""

    FEATURES = frozenset(("pages", "auth_upfront"))
    KIND = "package"

    def _push(self, repo, version):
        self.fake.ar_version(PROJECT, REGION, repo, self.PACKAGE, version,
                             self.tick())
        return None

    add = _push

    def source(self, identifier, connector, target):
        source = super().source(identifier, connector, target)
        source["spec"]["repositoryType"] = "npm"
        return source

    def subject(self, target, version):
        return "%s@%s" % (self.PACKAGE, version)

    def check_fields(self, case, data, target, version):
        case.assertEqual(data["repository"], target)
        case.assertEqual(data["package"], self.PACKAGE)
        case.assertEqual(data["format"], "npm")
        case.assertNotIn("image", data)


class GcrDriver(GoogleDriver):
    """A target is an image path on the fake's registry API; a version a
    tag, its digest (from tags/list's manifest map) the image's; a tag
    moved to a new image is re-pointed.  The registry challenges the
    first listing (401), the watcher gets a registry token with the
    Google access token as oauth2accesstoken's password, and retries
    once.  Paged with n/last and Link when the target has a page size."""

    SOURCE_TYPE = "Gcr"
    KIND = "container"
    FEATURES = frozenset(("pages", "repoint", "auth"))

    def key_of(self, target):
        return ("gcr", target)

    def _push(self, repo, version):
        digest = digest_of("%s:%s:%d" % (repo, version, self.n))
        self.fake.gcr_image(repo, digest, [version], self.tick())
        self.digests[(repo, version)] = digest
        return digest

    def create(self, name):
        repo = "conf/" + name
        with self.fake.state.lock:
            self.fake.state.gcr.setdefault(repo, {})
        return repo

    add = repoint = _push

    def source(self, identifier, connector, target):
        return {"identifier": identifier, "type": self.SOURCE_TYPE,
                "spec": {"connectorRef": connector,
                         "registryHostname": self.fake.url,
                         "imagePath": target}}

    def subject(self, target, version):
        return "%s:%s" % (target, version)

    def check_fields(self, case, data, target, version):
        host = self.fake.url[len("http://"):]
        case.assertEqual(data["registry"], host)
        case.assertEqual(data["repository"], target)
        case.assertEqual(data["image"], "%s/%s:%s" % (host, target, version))


# ------------------------------------------------------------------- Azure

class AcrDriver(Driver):
    """A target is a repository of the fake registry; a version a tag,
    its digest the manifest's; pushing other content under a tag
    re-points it.  The listing is /acr/v1/<repo>/_tags, newest first,
    paged by Link.  Without "auth" the connector is a service principal
    (its client secret the suite's password): the registry token is had
    up front.  With it, the registry's admin user (UsernamePassword): the
    first listing meets the registry's challenge, the fetch engine gets a
    token with Basic credentials and retries once."""

    SOURCE_TYPE = "Acr"
    KIND = "container"
    FEATURES = frozenset(("pages", "repoint", "auth"))
    PAGE_SIZE = 10
    REGISTRY = "myreg.azurecr.io"

    def start(self, workdir):
        self.fake = AzureFake().start()
        self.fake.add_app(TENANT, APP, PASSWORD)
        self.fake.add_admin("myreg", PASSWORD)
        self.n = 0
        self.digests = {}

    def stop(self):
        self.fake.stop()
        return True

    def reset(self):
        self.fake.reset_targets()
        self.digests = {}

    def _push(self, repo, version):
        self.n += 1
        digest = self.fake.tag(repo, version, "%s:%s:%d" % (repo, version,
                                                            self.n),
                               updated=T0 + self.n)
        self.digests[(repo, version)] = digest
        return digest

    def target(self, name, versions, pages=False, auth=False):
        repo = "conf/" + name
        with self.fake.state.lock:
            self.fake.state.repos.setdefault(repo, {})
        if pages:
            self.fake.repo_page_size(repo, self.PAGE_SIZE)
        for version in versions:
            self._push(repo, version)
        return repo

    add = repoint = _push

    def digest(self, target, version):
        return self.digests[(target, version)]

    def connector(self, identifier, target, auth=False, password_ref=None):
        spec = {"endpoints": {"login": self.fake.url, "imds": self.fake.url,
                              "acr": self.fake.url},
                "azureEnvironmentType": "AZURE"}
        if auth:
            spec["credential"] = {"type": "ManualConfig", "spec": {
                "auth": {"type": "UsernamePassword",
                         "spec": {"username": "myreg",
                                  "passwordRef": password_ref}}}}
        else:
            spec["credential"] = {"type": "ManualConfig", "spec": {
                "applicationId": APP, "tenantId": TENANT,
                "auth": {"type": "Secret",
                         "spec": {"secretRef": "conformance_pwd"}}}}
        return {"connector": {"identifier": identifier, "type": "Azure",
                              "spec": spec}}

    def source(self, identifier, connector, target):
        return {"identifier": identifier, "type": self.SOURCE_TYPE,
                "spec": {"connectorRef": connector,
                         "subscriptionId": "sub-1", "registry": "myreg",
                         "repository": target}}

    def fault(self, target, fault, count=-1, **params):
        self.fake.fault("/acr/v1/%s/_tags" % target, fault, count,
                        params.get("retry_after") or 1)

    def listings(self, target):
        return _listed(self.fake.listings(("acr", target)))

    def subject(self, target, version):
        return "%s:%s" % (target, version)

    def check_fields(self, case, data, target, version):
        case.assertEqual(data["registry"], self.REGISTRY)
        case.assertEqual(data["repository"], target)
        case.assertEqual(data["image"], "%s/%s:%s" % (self.REGISTRY, target,
                                                     version))


class AzureArtifactsDriver(Driver):
    """A target is a feed of the organization holding one npm package of
    the same name; a version a package version.  The feeds API has no
    pages and a published version never changes (no digest).  The
    personal access token goes as Basic with every request (no
    challenge); the first poll looks the package's id up, so it reads the
    listing in two requests, later polls in one."""

    SOURCE_TYPE = "AzureArtifacts"
    KIND = "package"
    FEATURES = frozenset(("auth_upfront",))
    WHOLE_REQUESTS = 2

    def start(self, workdir):
        self.fake = AzureFake().start()
        self.fake.add_pat(PASSWORD)
        self.n = 0

    def stop(self):
        self.fake.stop()
        return True

    def reset(self):
        self.fake.reset_targets()

    def target(self, name, versions, pages=False, auth=False):
        assert not pages, "the feeds API has no pages"
        self.fake.package(ORG, None, name, name, "Npm", {})
        for version in versions:
            self.add(name, version)
        return name

    def add(self, target, version):
        self.n += 1
        self.fake.package(ORG, None, target, target, "Npm",
                          {version: T0 + self.n})
        return None

    def connector(self, identifier, target, auth=False, password_ref=None):
        return {"connector": {
            "identifier": identifier, "type": "AzureArtifacts",
            "spec": {"azureArtifactsUrl": "%s/%s" % (self.fake.url, ORG),
                     "auth": {"spec": {"type": "PersonalAccessToken",
                                       "spec": {"tokenRef":
                                                "conformance_pwd"}}}}}}

    def source(self, identifier, connector, target):
        return {"identifier": identifier, "type": self.SOURCE_TYPE,
                "spec": {"connectorRef": connector, "scope": "org",
                         "feed": target, "packageType": "npm",
                         "package": target}}

    def fault(self, target, fault, count=-1, **params):
        self.fake.fault("/%s/_apis/packaging/Feeds/%s/" % (ORG, target),
                        fault, count, params.get("retry_after") or 1)

    def listings(self, target):
        return _listed(self.fake.listings(("feed", target)))

    def subject(self, target, version):
        return "%s@%s" % (target, version)

    def check_fields(self, case, data, target, version):
        case.assertEqual(data["repository"], target)
        case.assertEqual(data["package"], target)
        case.assertEqual(data["format"], "npm")
        case.assertNotIn("image", data)
