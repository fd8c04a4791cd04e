"""test_aws.py: the Ecr, AmazonS3 and AmazonMachineImage sources end to end.

The watcher signs its requests with its own SigV4 code; the servers check
them with botocore's: the AWS fake (tests/fakes/awsfake.py: ECR, EC2, STS,
IMDSv2) and a real S3 server, s3rver, behind a front that checks each
signature (tests/fakes/s3front.py).  Each source's first poll is a silent
baseline; new versions are artifact.created; an ECR tag or AMI name that
now points elsewhere, or an S3 object written again, is artifact.updated
with the previous digest.  Keys come from the config, from the
environment, from instance metadata, from a web identity token file, and
through AssumeRole with an external id; an expired key is replaced and the
listing retried without a failed poll; throttling pauses the connector;
every AWS error fails only its source with its code in one log line, and
no secret is ever logged.
"""

import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fakes"))

from awsfake import AwsFake, digest_of  # noqa: E402
from cloudcase import CloudCase  # noqa: E402
from harness import Watcher, Webhook, Workdir  # noqa: E402
from s3front import S3Front  # noqa: E402

HOOK_SECRET = "aws-hook-secret"
KEY, SECRET = "AKIAWATCHERTEST00001", "watcher/Secret+Key0000000000000000"
ROLE = "arn:aws:iam::210987654321:role/artifact-reader"
ACCOUNT = "123456789012"


def aws_connector(identifier, fake, s3=None, secret_ref="aws_secret",
                  cred_type="ManualConfig", cross=None, **endpoints):
    spec = {"credential": {"type": cred_type, "region": "us-east-1"},
            "endpoints": {"ecr": fake.url, "ec2": fake.url,
                          "sts": fake.url, "imds": fake.url}}
    if s3 is not None:
        spec["endpoints"]["s3"] = s3.url
    spec["endpoints"].update(endpoints)
    if cred_type == "ManualConfig":
        spec["credential"]["spec"] = {"accessKeyRef": "aws_key",
                                      "secretKeyRef": secret_ref}
    if cross is not None:
        spec["credential"]["crossAccountAccess"] = cross
    return {"connector": {"identifier": identifier, "type": "Aws",
                          "spec": spec}}


class Aws(CloudCase):
    SECRETS = {"aws_key": "AW_AWS_KEY", "aws_secret": "AW_AWS_SECRET",
               "s3_key": "AW_S3_KEY", "s3_secret": "AW_S3_SECRET",
               "wrong": "AW_WRONG"}

    @classmethod
    def setUpClass(cls):
        cls.workdir = Workdir("aw-aws-")
        cls.fake = AwsFake().start()
        cls.fake.add_key(KEY, SECRET)
        cls.s3 = S3Front(cls.workdir.path).start()
        cls.hook = Webhook(secret=HOOK_SECRET)
        cls.hook.start()

    @classmethod
    def tearDownClass(cls):
        cls.hook.stop()
        cls.s3.stop()
        cls.fake.stop()
        cls.workdir.cleanup()

    def env(self, **extra):
        env = {"AW_HOOK_KEY": HOOK_SECRET, "AW_AWS_KEY": KEY,
               "AW_AWS_SECRET": SECRET, "AW_S3_KEY": "S3RVER",
               "AW_S3_SECRET": "S3RVER", "AW_WRONG": "not-the-secret",
               "HOME": self.workdir.path,
               "AWS_EC2_METADATA_DISABLED": "true"}
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                     "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL",
                     "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"):
            env[name] = ""
        env.update(extra)
        return env

    def no_secrets(self, watcher, *more):
        text = "\n".join(watcher.logs + watcher.stdout)
        for secret in (SECRET, "S3RVER/", "not-the-secret") + more:
            self.assertNotIn(secret, text)

    # ---------------------------------------------------------------- ECR

    def test_ecr_created_and_repointed_latest(self):
        repo = "team/app"
        self.fake.ecr_image(repo, digest_of("a1"), ["1.0.0", "latest"],
                            pushed_at=1704103200.5)
        self.fake.ecr_image(repo, digest_of("untagged"), [],
                            pushed_at=1704103201)
        before = len(self.hook.accepted())
        w = self.start("ecr", [aws_connector("aws", self.fake)], [
            {"identifier": "ecr", "type": "Ecr", "interval": "1s",
             "spec": {"connectorRef": "aws", "region": "us-east-1",
                      "imagePath": repo}}])
        w.wait_log(r'msg="poll committed" source=ecr ')
        self.fake.ecr_image(repo, digest_of("a2"), ["1.1.0", "latest"],
                            pushed_at=1704103300)
        events = self.wait_events("ecr", before, 2)
        w.stop()
        by_type = {e["type"]: e for e in events}
        created = by_type["artifact.created"]
        self.assertEqual(created["subject"], "team/app:1.1.0")
        data = created["data"]
        self.assertEqual(data["kind"], "container")
        self.assertEqual(data["digest"], digest_of("a2"))
        self.assertEqual(data["registry"],
                         "%s.dkr.ecr.us-east-1.amazonaws.com" % ACCOUNT)
        self.assertEqual(data["pushedAt"], "2024-01-01T10:01:40Z")
        updated = by_type["artifact.updated"]
        self.assertEqual(updated["data"]["version"], "latest")
        self.assertEqual(updated["data"]["previousDigest"],
                         digest_of("a1"))
        self.assertEqual(len(events), 2, "nothing for the untagged image")
        ok = [r for r in self.fake.requests() if r[1] == "DescribeImages"]
        self.assertTrue(ok and all(r[3] for r in ok),
                        "every request's signature held (botocore)")
        self.no_secrets(w)

    def test_ecr_labels_through_the_registry_api(self):
        repo = "labels/app"
        self.fake.ecr_image_with_labels(repo, ["1.0.0"], {"v": "1"},
                                        pushed_at=1704103200)
        before = len(self.hook.accepted())
        mark = len(self.fake.requests())
        w = self.start("ecrlabels", [aws_connector("aws", self.fake)], [
            {"identifier": "lab", "type": "Ecr", "interval": "1s",
             "spec": {"connectorRef": "aws", "region": "us-east-1",
                      "imagePath": repo, "fetchLabels": True}}])
        w.wait_log(r'msg="poll committed" source=lab ')
        actions = [r[1] for r in self.fake.requests()[mark:]]
        self.assertNotIn("GetAuthorizationToken", actions,
                         "no registry token for a silent baseline")
        digest = self.fake.ecr_image_with_labels(
            repo, ["1.1.0"], {"org.opencontainers.image.version": "1.1.0"},
            pushed_at=1704103300)
        self.fake.ecr_image_with_labels(repo, ["1.2.0"], {"v": "3"},
                                        pushed_at=1704103400)
        events = self.wait_events("lab", before, 2)
        w.stop()
        by_version = {e["data"]["version"]: e["data"] for e in events}
        self.assertEqual(by_version["1.1.0"]["digest"], digest)
        self.assertEqual(by_version["1.1.0"]["labels"],
                         {"org.opencontainers.image.version": "1.1.0"})
        self.assertEqual(by_version["1.2.0"]["labels"], {"v": "3"})
        actions = [r[1] for r in self.fake.requests()[mark:]]
        self.assertEqual(actions.count("GetAuthorizationToken"), 1,
                         "one token, kept for both images")
        self.assertTrue(all(ok for _, ok in self.fake.registry_requests()))

    def test_ecr_pages_and_cap(self):
        repo = "many/app"
        for i in range(2500):
            self.fake.ecr_image(repo, digest_of("m%d" % i), ["1.0.%d" % i],
                                pushed_at=1704103200 + i)
        src = {"identifier": "ecrmany", "type": "Ecr",
               "spec": {"connectorRef": "aws", "region": "us-east-1",
                        "imagePath": repo}}
        w = Watcher(self.workdir, self.config(
            "ecrmany", [aws_connector("aws", self.fake)], [src]),
            env=self.env())
        mark = len(self.fake.requests())
        out = w.run_cli("versions", "-c", w.write_config(), "ecrmany",
                        "--json")
        self.assertEqual(out.returncode, 0, out.stderr)
        listed = json.loads(out.stdout)
        self.assertEqual(len(listed["versions"]), 2500)
        self.assertFalse(listed["truncated"])
        pages = [r for r in self.fake.requests()[mark:]
                 if r[1] == "DescribeImages"]
        self.assertEqual(len(pages), 3, "1000 images a page")
        src["maxTags"] = 1500
        w.config = self.config("ecrmany", [aws_connector("aws", self.fake)],
                               [src])
        out = w.run_cli("versions", "-c", w.write_config(), "ecrmany",
                        "--json")
        listed = json.loads(out.stdout)
        self.assertEqual(len(listed["versions"]), 1500)
        self.assertTrue(listed["truncated"])

    def test_ecr_errors_fail_only_that_source(self):
        self.fake.ecr_image("ok/app", digest_of("ok"), ["1.0"], 1704103200)
        w = self.start("ecrerr", [
            aws_connector("aws", self.fake),
            aws_connector("bad", self.fake, secret_ref="wrong")], [
            {"identifier": "okay", "type": "Ecr", "interval": "1s",
             "spec": {"connectorRef": "aws", "region": "us-east-1",
                      "imagePath": "ok/app"}},
            {"identifier": "missing", "type": "Ecr", "interval": "1s",
             "spec": {"connectorRef": "aws", "region": "us-east-1",
                      "imagePath": "no/such"}},
            {"identifier": "badsig", "type": "Ecr", "interval": "1s",
             "spec": {"connectorRef": "bad", "region": "us-east-1",
                      "imagePath": "ok/app"}}])
        w.wait_log(r'msg="poll committed" source=okay ')
        missing = w.wait_log(r'msg="poll failed" source=missing ')[0]
        self.assertIn("RepositoryNotFoundException", missing)
        self.assertIn("does not exist", missing)
        badsig = w.wait_log(r'msg="poll failed" source=badsig ')[0]
        self.assertIn("InvalidSignatureException", badsig)
        # The healthy source goes on polling beside the failing ones.
        done = len(w.matching(r'msg="poll listed" source=okay '))
        w.wait_log(r'msg="poll listed" source=okay ', count=done + 2)
        self.assertTrue(w.running())
        w.stop()
        self.no_secrets(w)

    def test_ecr_throttling_pauses_the_connector(self):
        self.fake.ecr_image("slow/app", digest_of("s"), ["1.0"], 1704103200)
        w = self.start("ecrthrottle", [aws_connector("aws", self.fake)], [
            {"identifier": "slow", "type": "Ecr", "interval": "1s",
             "spec": {"connectorRef": "aws", "region": "us-east-1",
                      "imagePath": "slow/app"}}])
        w.wait_log(r'msg="poll committed" source=slow ')
        self.fake.fault("ecr", "throttle", count=1)
        line = w.wait_log(r'msg="poll failed" source=slow ')[0]
        self.assertIn("ThrottlingException", line)
        w.wait_log(r'msg="connector paused" connector=aws ')
        listed = len(w.matching(r'msg="poll listed" source=slow '))
        w.wait_log(r'msg="poll listed" source=slow ', count=listed + 1,
                   timeout=30)
        w.stop()

    # ----------------------------------------------------------------- S3

    def s3_connector(self, secret="s3_secret"):
        c = aws_connector("s3c", self.fake, s3=self.s3)
        c["connector"]["spec"]["credential"]["spec"] = {
            "accessKeyRef": "s3_key", "secretKeyRef": secret}
        return c

    def test_s3_created_overwritten_and_filtered(self):
        self.s3.bucket("releases")
        self.s3.put("releases", "app/app-1.0.0.tgz", b"one")
        self.s3.put("releases", "app/notes.txt", b"notes")
        self.s3.put("releases", "other/app-9.9.9.tgz", b"other")
        before = len(self.hook.accepted())
        w = self.start("s3", [self.s3_connector()], [
            {"identifier": "files", "type": "AmazonS3", "interval": "1s",
             "spec": {"connectorRef": "s3c", "region": "us-east-1",
                      "bucketName": "releases",
                      "filePathRegex": r"^app/app-\d+\.\d+\.\d+\.tgz$"}}])
        w.wait_log(r'msg="poll committed" source=files ')
        self.s3.put("releases", "app/app-1.1.0.tgz", b"two")
        self.s3.put("releases", "app/notes2.txt", b"ignored")
        created = self.wait_events("files", before, 1)[0]
        self.assertEqual(created["type"], "artifact.created")
        self.assertEqual(created["subject"],
                         "s3://releases/app/app-1.1.0.tgz")
        data = created["data"]
        self.assertEqual(data["kind"], "file")
        self.assertEqual(data["bucket"], "releases")
        self.assertEqual(data["path"], "app/app-1.1.0.tgz")
        self.assertEqual(data["size"], 3)
        self.assertEqual(data["metadata"]["bucketName"], "releases")
        self.assertEqual(data["metadata"]["filePath"], "app/app-1.1.0.tgz")
        self.assertNotIn("image", data)
        self.s3.put("releases", "app/app-1.0.0.tgz", b"one, rebuilt")
        events = self.wait_events("files", before, 2)
        updated = events[1]
        self.assertEqual(updated["type"], "artifact.updated")
        self.assertEqual(updated["data"]["version"], "app/app-1.0.0.tgz")
        self.assertIsNotNone(updated["data"]["previousDigest"])
        self.assertNotEqual(updated["data"]["previousDigest"],
                            updated["data"]["digest"])
        w.stop()
        self.assertEqual(len(self.events_of("files", before)), 2)
        listings = [r for r in self.s3.requests() if "list-type=2" in r[1]]
        self.assertTrue(all("prefix=app%2F" in r[1] for r in listings),
                        "the regex's literal prefix is the prefix")
        self.assertTrue(all(r[3] for r in listings))
        self.no_secrets(w)

    def test_s3_more_than_a_thousand_keys(self):
        self.s3.bucket("big-bucket")
        for i in range(1203):
            self.s3.put("big-bucket", "k/%05d" % i, b"x")
        w = Watcher(self.workdir, self.config("s3big", [self.s3_connector()], [
            {"identifier": "big", "type": "AmazonS3",
             "spec": {"connectorRef": "s3c", "bucketName": "big-bucket",
                      "filePathRegex": "^k/"}}]), env=self.env())
        mark = len(self.s3.requests())
        out = w.run_cli("versions", "-c", w.write_config(), "big", "--json")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(len(json.loads(out.stdout)["versions"]), 1203)
        pages = [r for r in self.s3.requests()[mark:]
                 if "list-type=2" in r[1]]
        self.assertEqual(len(pages), 2)
        self.assertIn("continuation-token=", pages[1][1])

    def test_s3_wrong_secret_and_missing_bucket(self):
        w = self.start("s3bad", [self.s3_connector(secret="wrong"),
                                 dict(self.s3_connector(),
                                      connector=dict(
                                          self.s3_connector()["connector"],
                                          identifier="s3ok"))], [
            {"identifier": "wrongkey", "type": "AmazonS3", "interval": "1s",
             "spec": {"connectorRef": "s3c", "bucketName": "releases"}},
            {"identifier": "nobucket", "type": "AmazonS3", "interval": "1s",
             "spec": {"connectorRef": "s3ok", "bucketName": "no-bucket"}}])
        line = w.wait_log(r'msg="poll failed" source=wrongkey ')[0]
        self.assertIn("SignatureDoesNotMatch", line)
        line = w.wait_log(r'msg="poll failed" source=nobucket ')[0]
        self.assertIn("NoSuchBucket", line)
        w.stop()
        self.no_secrets(w)

    # ---------------------------------------------------------------- AMI

    def test_ami_created_and_name_repointed(self):
        self.fake.ec2_image("ami-00000000000000001", "base-2024-01",
                            created=1704103200, tags={"Team": "ci"})
        self.fake.ec2_image("ami-00000000000000002", "base-2024-02",
                            created=1704203200, tags={"Team": "web"})
        before = len(self.hook.accepted())
        w = self.start("ami", [aws_connector("aws", self.fake)], [
            {"identifier": "ami", "type": "AmazonMachineImage",
             "interval": "1s",
             "spec": {"connectorRef": "aws", "region": "us-east-1",
                      "tags": [{"name": "Team", "value": "ci"}],
                      "filters": [{"name": "ami-name",
                                   "value": "base-*"}]}}])
        w.wait_log(r'msg="poll committed" source=ami ')
        self.fake.ec2_image("ami-00000000000000003", "base-2024-03",
                            created=1704303200, tags={"Team": "ci"})
        self.fake.ec2_image("ami-00000000000000004", "base-2024-04",
                            created=1704403200, tags={"Team": "ci"},
                            state="pending")
        created = self.wait_events("ami", before, 1)[0]
        self.assertEqual(created["type"], "artifact.created")
        self.assertEqual(created["subject"],
                         "ami-00000000000000003 (base-2024-03)")
        data = created["data"]
        self.assertEqual(data["kind"], "machineImage")
        self.assertEqual(data["region"], "us-east-1")
        self.assertEqual(data["imageId"], "ami-00000000000000003")
        self.assertEqual(data["tags"], {"Team": "ci"})
        # The same name now on a new image: an update.
        self.fake.ec2_image("ami-00000000000000005", "base-2024-01",
                            created=1704503200, tags={"Team": "ci"})
        self.fake.state.ec2 = [i for i in self.fake.state.ec2
                               if i["id"] != "ami-00000000000000001"]
        events = self.wait_events("ami", before, 2)
        self.assertEqual(events[1]["type"], "artifact.updated")
        self.assertEqual(events[1]["data"]["version"], "base-2024-01")
        self.assertEqual(events[1]["data"]["previousDigest"],
                         "ami-00000000000000001")
        w.stop()
        self.assertEqual(len(self.events_of("ami", before)), 2,
                         "nothing for the pending image or other teams")

    # -------------------------------------------------- where keys come from

    def ecr_source(self, identifier, connector):
        self.fake.ecr_image("keys/app", digest_of("k"), ["1.0"], 1704103200)
        return {"identifier": identifier, "type": "Ecr", "interval": "1s",
                "spec": {"connectorRef": connector, "region": "us-east-1",
                         "imagePath": "keys/app"}}

    def test_inherit_from_environment(self):
        w = self.start("envkeys", [aws_connector(
            "inh", self.fake, cred_type="InheritFromDelegate")],
            [self.ecr_source("envsrc", "inh")],
            AWS_ACCESS_KEY_ID=KEY, AWS_SECRET_ACCESS_KEY=SECRET)
        w.wait_log(r'msg="poll committed" source=envsrc ')
        w.stop()
        self.no_secrets(w)

    def test_inherit_from_a_shared_credentials_profile(self):
        path = self.workdir.file("credentials", "[default]\n"
                                 "aws_access_key_id = AKIAWRONGWRONGWRONG0\n"
                                 "aws_secret_access_key = nope\n"
                                 "[ci]\naws_access_key_id = %s\n"
                                 "aws_secret_access_key = %s\n"
                                 % (KEY, SECRET))
        w = self.start("profile", [aws_connector(
            "inh", self.fake, cred_type="InheritFromDelegate")],
            [self.ecr_source("profsrc", "inh")],
            AWS_SHARED_CREDENTIALS_FILE=path, AWS_PROFILE="ci")
        w.wait_log(r'msg="poll committed" source=profsrc ')
        w.stop()
        self.no_secrets(w)

    def test_endpoint_from_the_sdk_environment(self):
        c = aws_connector("envep", self.fake)
        del c["connector"]["spec"]["endpoints"]["ecr"]
        w = self.start("envep", [c], [self.ecr_source("epsrc", "envep")],
                       AWS_ENDPOINT_URL_ECR=self.fake.url)
        w.wait_log(r'msg="poll committed" source=epsrc ')
        w.stop()

    def test_inherit_from_instance_metadata(self):
        self.fake.imds_role("watcher-node")
        w = self.start("imds", [aws_connector(
            "inh", self.fake, cred_type="InheritFromDelegate")],
            [self.ecr_source("imdssrc", "inh")],
            AWS_EC2_METADATA_DISABLED="false")
        w.wait_log(r'msg="poll committed" source=imdssrc ')
        w.stop()
        used = [r for r in self.fake.requests()
                if r[1] == "DescribeImages" and r[2].startswith("ASIA")]
        self.assertTrue(used, "signed with the instance role's key")

    def test_inherit_web_identity_then_cross_account_role(self):
        token_file = self.workdir.file("token", "eyJ.web.identity\n")
        self.fake.role("arn:aws:iam::1:role/web")
        self.fake.web_identity("eyJ.web.identity")
        self.fake.role(ROLE, external_id="ext-42")
        mark = len(self.fake.requests())
        w = self.start("web", [aws_connector(
            "inh", self.fake, cred_type="InheritFromDelegate",
            cross={"crossAccountRoleArn": ROLE, "externalId": "ext-42"})],
            [self.ecr_source("websrc", "inh")],
            AWS_WEB_IDENTITY_TOKEN_FILE=token_file,
            AWS_ROLE_ARN="arn:aws:iam::1:role/web")
        w.wait_log(r'msg="poll committed" source=websrc ')
        w.wait_log(r'msg="poll listed" source=websrc ', count=3)
        w.stop()
        actions = [r[1] for r in self.fake.requests()[mark:]]
        # The keys last an hour: fetched once, not on every poll.
        self.assertEqual(actions.count("AssumeRoleWithWebIdentity"), 1)
        self.assertEqual(actions.count("AssumeRole"), 1)
        self.no_secrets(w, "eyJ.web.identity")

    def test_expired_key_is_replaced_without_a_failed_poll(self):
        self.fake.role(ROLE, external_id="ext-42")
        w = self.start("expire", [aws_connector(
            "cross", self.fake,
            cross={"crossAccountRoleArn": ROLE, "externalId": "ext-42"})],
            [self.ecr_source("expsrc", "cross")])
        w.wait_log(r'msg="poll committed" source=expsrc ')
        assumed = len([r for r in self.fake.requests()
                       if r[1] == "AssumeRole"])
        self.fake.expire_temporary_keys()
        w.wait_log(r'msg="aws key expired" source=expsrc ')
        # The listing that met the expired key, once more with a new one.
        w.wait_log(r'msg="poll listed" source=expsrc .* requests=2 ')
        w.stop()
        self.assertEqual(w.matching(r'msg="poll failed" source=expsrc '),
                         [])
        self.assertGreater(len([r for r in self.fake.requests()
                                if r[1] == "AssumeRole"]), assumed)

    def test_config_errors_name_their_place(self):
        w = Watcher(self.workdir, self.config("cfg", [
            {"connector": {"identifier": "a", "type": "Aws", "spec": {
                "credential": {"type": "ManualConfig",
                               "spec": {"accessKey": "AK"},
                               "region": "nowhere"}}}}], [
            {"identifier": "s", "type": "AmazonS3",
             "spec": {"connectorRef": "a", "bucketName": "Bad_Bucket",
                      "filePath": "x", "filePathRegex": "y"}},
            {"identifier": "m", "type": "AmazonMachineImage",
             "spec": {"connectorRef": "a", "region": "us-east-1",
                      "filters": [{"nom": "x"}]}}]), env=self.env())
        out = w.run_cli("check", "-c", w.write_config())
        self.assertEqual(out.returncode, 2, out.stdout + out.stderr)
        text = out.stdout + out.stderr
        for what in ("needs spec.secretKeyRef", "not an AWS region",
                     "not a bucket name", "give one of them",
                     "each item is {name: NAME, value: VALUE}"):
            self.assertRegex(text, r"watcher-\d+\.yaml:\d+:\d+: .*" +
                             what.replace("{", r"\{").replace("}", r"\}"))


if __name__ == "__main__":
    unittest.main()
