"""drivers.py: one conformance driver per provider (see conformance.py).

A driver maps the suite's vocabulary (a target with versions, a new
version, a re-pointed one, pages, credentials, faults) onto one provider's
server.  A new provider adds one class here and one line in
test_conformance.py.
"""

import hashlib
import os
import sys

from conformance import PASSWORD, USERNAME, Driver
from harness import docker_connector, docker_source
from helmrepo import HelmRepo

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fakes"))

from awsfake import AwsFake, digest_of  # noqa: E402
from fakeserver import FakeServer  # noqa: E402
from s3front import S3Front  # noqa: E402


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


class AwsDriver(Driver):
    """What the AWS drivers share: SigV4 has no auth challenge, a key is
    signed into every request (auth_upfront) and a wrong secret key is a
    403 SignatureDoesNotMatch; the Aws connector with a ManualConfig key
    pointed at the server's ENDPOINT; the listing log of a server whose
    every request is signed.  A subclass sets KEY, ENDPOINT, url()."""

    FEATURES = frozenset(("pages", "repoint", "auth_upfront"))
    PAGE_SIZE = 10
    KEY = None
    ENDPOINT = None

    def url(self):
        raise NotImplementedError

    def connector(self, identifier, target, auth=False, password_ref=None):
        return {"connector": {
            "identifier": identifier, "type": "Aws",
            "spec": {"credential": {
                "type": "ManualConfig",
                "spec": {"accessKey": self.KEY,
                         "secretKeyRef": "conformance_pwd"}},
                "endpoints": {self.ENDPOINT: self.url()}}}}

    @staticmethod
    def signed(log):
        """A server's listing log [(t, status)] as listings() answers."""
        return [{"t": t, "status": status, "auth": "AWS4-HMAC-SHA256"}
                for t, status in log]


class AwsFakeDriver(AwsDriver):
    """An AWS driver on the AWS fake (tests/fakes/awsfake.py), every
    request's signature checked with botocore."""

    def start(self, workdir):
        self.fake = AwsFake().start()
        self.fake.add_key(self.KEY, PASSWORD)
        self.n = 0

    def stop(self):
        self.fake.stop()
        return True

    def url(self):
        return self.fake.url


class EcrDriver(AwsFakeDriver):
    """Ecr on the AWS fake: a target is a repository, a version a tag."""

    SOURCE_TYPE = "Ecr"
    KIND = "container"
    KEY = "AKIACONFORMANCE00001"
    ENDPOINT = "ecr"
    REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"

    def start(self, workdir):
        super().start(workdir)
        self.digests = {}

    def reset(self):
        self.fake.ecr_reset()
        self.digests = {}

    def _push(self, repo, version):
        self.n += 1
        digest = digest_of("%s:%s:%d" % (repo, version, self.n))
        self.fake.ecr_image(repo, digest, [version],
                            pushed_at=1704103200 + self.n)
        self.digests[(repo, version)] = digest
        return digest

    def target(self, name, versions, pages=False, auth=False):
        repo = "conf/" + name
        self.fake.ecr_repo(repo)
        if pages:
            self.fake.ecr_page_limit(repo, self.PAGE_SIZE)
        for version in versions:
            self._push(repo, version)
        return repo

    add = repoint = _push

    def digest(self, target, version):
        return self.digests[(target, version)]

    def source(self, identifier, connector, target):
        return {"identifier": identifier, "type": "Ecr",
                "spec": {"connectorRef": connector, "region": "us-east-1",
                         "imagePath": target}}

    def fault(self, target, fault, count=-1, **params):
        self.fake.ecr_fault(target, fault, count,
                            retry_after=params.get("retry_after"))

    def listings(self, target):
        return self.signed(self.fake.ecr_listings(target))

    def subject(self, target, version):
        return "%s:%s" % (target, version)

    def check_fields(self, case, data, target, version):
        case.assertEqual(data["registry"], self.REGISTRY)
        case.assertEqual(data["repository"], target)
        case.assertEqual(data["image"], "%s/%s:%s" % (self.REGISTRY, target,
                                                     version))


class AmazonS3Driver(AwsDriver):
    """AmazonS3 against s3rver behind the signature-checking front
    (tests/fakes/s3front.py).  A target is a bucket; a version is an
    object's key, its digest the ETag (the MD5 of a single-part object);
    writing the key again re-points it."""

    SOURCE_TYPE = "AmazonS3"
    KIND = "file"
    KEY = "S3RVER"
    ENDPOINT = "s3"

    def start(self, workdir):
        self.s3 = S3Front(workdir.path, secret=PASSWORD).start()
        self.n = 0
        self.digests = {}

    def stop(self):
        self.s3.stop()
        return True

    def reset(self):
        self.s3.reset()
        self.digests = {}

    def _put(self, bucket, version):
        self.n += 1
        body = ("%s %s %d" % (bucket, version, self.n)).encode()
        self.s3.put(bucket, version, body)
        self.digests[(bucket, version)] = hashlib.md5(body).hexdigest()
        return self.digests[(bucket, version)]

    def target(self, name, versions, pages=False, auth=False):
        bucket = ("conf-" + name.lower())[:63].rstrip("-")
        self.s3.bucket(bucket)
        if pages:
            self.s3.page_limit(bucket, self.PAGE_SIZE)
        for version in versions:
            self._put(bucket, version)
        return bucket

    add = repoint = _put

    def digest(self, target, version):
        return self.digests[(target, version)]

    def url(self):
        return self.s3.url

    def source(self, identifier, connector, target):
        return {"identifier": identifier, "type": "AmazonS3",
                "spec": {"connectorRef": connector, "bucketName": target}}

    def fault(self, target, fault, count=-1, **params):
        self.s3.fault(target, fault, count, params.get("retry_after"))

    def listings(self, target):
        return self.signed(self.s3.listings(target))

    def subject(self, target, version):
        return "s3://%s/%s" % (target, version)

    def check_fields(self, case, data, target, version):
        case.assertEqual(data["bucket"], target)
        case.assertEqual(data["path"], version)
        case.assertEqual(data["metadata"]["bucketName"], target)
        case.assertNotIn("image", data)


class AmazonMachineImageDriver(AwsFakeDriver):
    """AmazonMachineImage against the AWS fake's EC2.  A target is a tag
    (Conf=<target>) the source filters on; a version is an image name, its
    digest the image id; a new image under the same name re-points it."""

    SOURCE_TYPE = "AmazonMachineImage"
    KIND = "machineImage"
    KEY = "AKIACONFORMANCE00002"
    ENDPOINT = "ec2"

    def start(self, workdir):
        super().start(workdir)
        self.ids = {}

    def reset(self):
        self.fake.ec2_reset()
        self.ids = {}

    def _image(self, target, version):
        self.n += 1
        image_id = "ami-%017d" % self.n
        old = self.ids.get((target, version))
        if old is not None:
            with self.fake.state.lock:
                self.fake.state.ec2 = [i for i in self.fake.state.ec2
                                       if i["id"] != old]
        self.fake.ec2_image(image_id, version, created=1704103200 + self.n,
                            tags={"Conf": target})
        self.ids[(target, version)] = image_id
        return image_id

    def target(self, name, versions, pages=False, auth=False):
        if pages:
            self.fake.ec2_page_limit(name, self.PAGE_SIZE)
        for version in versions:
            self._image(name, version)
        return name

    add = repoint = _image

    def digest(self, target, version):
        return self.ids[(target, version)]

    def source(self, identifier, connector, target):
        return {"identifier": identifier, "type": "AmazonMachineImage",
                "spec": {"connectorRef": connector, "region": "us-east-1",
                         "tags": [{"name": "Conf", "value": target}]}}

    def fault(self, target, fault, count=-1, **params):
        self.fake.ec2_fault(target, fault, count, params.get("retry_after"))

    def listings(self, target):
        return self.signed(self.fake.ec2_listings(target))

    def subject(self, target, version):
        return "%s (%s)" % (self.ids[(target, version)], version)

    def check_fields(self, case, data, target, version):
        case.assertEqual(data["region"], "us-east-1")
        case.assertEqual(data["imageId"], self.ids[(target, version)])
        case.assertEqual(data["tags"], {"Conf": target})
        case.assertNotIn("image", data)
