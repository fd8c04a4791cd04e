"""test_aws_fakes.py: the AWS fake (tests/fakes/awsfake.py) read by AWS's own
client.

The watcher's ECR, EC2, STS and IMDS tests are only as good as the fake they
run against.  Here Debian's `aws` command (awscli) talks to the fake with
--endpoint-url and real SigV4 signatures: it must page through
DescribeImages, read EC2's XML with filters, take STS's temporary
credentials, fetch IMDSv2 credentials, and read the fake's error answers as
the named AWS errors.  A request signed with the wrong secret must be
refused: the fake checks every signature with botocore's signer.
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fakes"))

from awsfake import AwsFake, digest_of  # noqa: E402
from s3front import S3Front  # noqa: E402

AWS = "/usr/bin/aws"
KEY, SECRET = "AKIAFAKEFAKEFAKE0001", "fake/secret+key=="


class AwsFakes(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = AwsFake().start()
        cls.fake.add_key(KEY, SECRET)
        cls.tmp = tempfile.TemporaryDirectory(prefix="aw-awsfake-")
        cls.s3 = S3Front(cls.tmp.name).start()

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()
        cls.s3.stop()
        cls.tmp.cleanup()

    def aws(self, *args, key=KEY, secret=SECRET, env=None, ok=True):
        e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
             "HOME": self.tmp.name,
             "AWS_CONFIG_FILE": os.path.join(self.tmp.name, "none"),
             "AWS_SHARED_CREDENTIALS_FILE": os.path.join(self.tmp.name,
                                                         "none"),
             "AWS_DEFAULT_REGION": "us-east-1",
             "AWS_PAGER": "", "AWS_EC2_METADATA_DISABLED": "true"}
        if key is not None:
            e["AWS_ACCESS_KEY_ID"] = key
            e["AWS_SECRET_ACCESS_KEY"] = secret
        e.update(env or {})
        argv = [AWS] + list(args) + ["--output", "json"]
        if "--endpoint-url" not in args:
            argv += ["--endpoint-url", self.fake.url]
        p = subprocess.run(argv, env=e, capture_output=True, text=True,
                           timeout=60)
        if ok:
            self.assertEqual(p.returncode, 0, p.stderr)
            return json.loads(p.stdout) if p.stdout.strip() else None
        self.assertNotEqual(p.returncode, 0, p.stdout)
        return p.stderr

    def test_ecr_describe_images_pages_and_untagged(self):
        for i in range(25):
            self.fake.ecr_image("pages/app", digest_of("img%d" % i),
                                ["1.%d.0" % i], pushed_at=1704103200.5 + i)
        self.fake.ecr_image("pages/app", digest_of("untagged"), [],
                            pushed_at=1704103300.25)
        out = self.aws("ecr", "describe-images", "--repository-name",
                       "pages/app", "--page-size", "10")
        details = out["imageDetails"]
        self.assertEqual(len(details), 26, "all pages were followed")
        tagged = [d for d in details if d.get("imageTags")]
        self.assertEqual(len(tagged), 25)
        first = [d for d in tagged if d["imageTags"] == ["1.0.0"]][0]
        self.assertEqual(first["imageDigest"], digest_of("img0"))
        # awscli prints imagePushedAt as a date: it read epoch seconds.
        self.assertTrue(str(first["imagePushedAt"]).startswith("2024-01-01"),
                        first["imagePushedAt"])
        only = self.aws("ecr", "describe-images", "--repository-name",
                        "pages/app", "--filter", "tagStatus=TAGGED")
        self.assertEqual(len(only["imageDetails"]), 25)

    def test_ecr_errors_read_as_named_aws_errors(self):
        err = self.aws("ecr", "describe-images", "--repository-name",
                       "no/such", ok=False)
        self.assertIn("RepositoryNotFoundException", err)
        err = self.aws("ecr", "describe-images", "--repository-name",
                       "pages/app", secret="wrong", ok=False)
        self.assertIn("InvalidSignatureException", err)
        self.assertIn(("ecr", "DescribeImages", KEY, False),
                      self.fake.requests())
        err = self.aws("ecr", "describe-images", "--repository-name",
                       "pages/app", key="AKIAUNKNOWN000000000", ok=False)
        self.assertIn("UnrecognizedClientException", err)

    def test_ecr_authorization_token(self):
        out = self.aws("ecr", "get-authorization-token")
        data = out["authorizationData"][0]
        self.assertTrue(data["proxyEndpoint"].startswith("http://"))
        self.assertIn("expiresAt", data)

    def test_ec2_describe_images_filters_and_pages(self):
        for i in range(12):
            self.fake.ec2_image("ami-%017d" % i, "my-ami-%02d" % i,
                                created=1704103200 + 3600 * i,
                                tags={"Version": "1.%d" % i})
        self.fake.ec2_image("ami-other", "other-ami", created=1704103200)
        self.fake.ec2_image("ami-pending", "my-ami-pending",
                            created=1704103200, state="pending")
        out = self.aws("ec2", "describe-images", "--owners", "self",
                       "--filters", "Name=name,Values=my-ami-*",
                       "Name=state,Values=available", "--page-size", "5")
        names = sorted(i["Name"] for i in out["Images"])
        self.assertEqual(names, ["my-ami-%02d" % i for i in range(12)])
        image = [i for i in out["Images"] if i["Name"] == "my-ami-03"][0]
        self.assertEqual(image["ImageId"], "ami-%017d" % 3)
        self.assertEqual(image["CreationDate"], "2024-01-01T13:00:00.000Z")
        self.assertEqual(image["Tags"], [{"Key": "Version", "Value": "1.3"}])
        err = self.aws("ec2", "describe-images", "--owners", "self",
                       secret="wrong", ok=False)
        self.assertIn("SignatureDoesNotMatch", err)
        self.fake.fault("ec2", "throttle", count=20)
        err = self.aws("ec2", "describe-images", "--owners", "self",
                       env={"AWS_MAX_ATTEMPTS": "1"}, ok=False)
        self.fake.fault("ec2", "throttle", count=0)
        self.assertIn("RequestLimitExceeded", err)

    def test_sts_assume_role_and_use_its_credentials(self):
        arn = "arn:aws:iam::123456789012:role/reader"
        self.fake.role(arn, external_id="ext-1")
        err = self.aws("sts", "assume-role", "--role-arn", arn,
                       "--role-session-name", "aw", ok=False)
        self.assertIn("AccessDenied", err)
        out = self.aws("sts", "assume-role", "--role-arn", arn,
                       "--role-session-name", "aw", "--external-id", "ext-1")
        creds = out["Credentials"]
        self.assertTrue(creds["AccessKeyId"].startswith("ASIA"))
        # The temporary key works, with its session token, signed.
        who = self.aws("sts", "get-caller-identity",
                       key=creds["AccessKeyId"],
                       secret=creds["SecretAccessKey"],
                       env={"AWS_SESSION_TOKEN": creds["SessionToken"]})
        self.assertEqual(who["Account"], "123456789012")
        err = self.aws("sts", "get-caller-identity",
                       key=creds["AccessKeyId"],
                       secret=creds["SecretAccessKey"], ok=False)
        self.assertIn("InvalidClientTokenId", err)

    def test_sts_web_identity(self):
        arn = "arn:aws:iam::123456789012:role/web"
        self.fake.role(arn)
        self.fake.web_identity("eyJ.fake.token")
        out = self.aws("sts", "assume-role-with-web-identity", "--role-arn",
                       arn, "--role-session-name", "aw",
                       "--web-identity-token", "eyJ.fake.token", key=None)
        self.assertIn("SessionToken", out["Credentials"])
        err = self.aws("sts", "assume-role-with-web-identity", "--role-arn",
                       arn, "--role-session-name", "aw",
                       "--web-identity-token", "not-the-token", key=None, ok=False)
        self.assertIn("InvalidIdentityToken", err)

    def test_imds_v2_credentials_used_by_awscli(self):
        self.fake.imds_role("watcher-role")
        who = self.aws("sts", "get-caller-identity", key=None, env={
            "AWS_EC2_METADATA_DISABLED": "false",
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": self.fake.url + "/"})
        self.assertEqual(who["Account"], "123456789012")
        self.assertTrue(who["UserId"].startswith("ASIA"), who)

    def test_s3rver_behind_the_signature_front(self):
        self.s3.bucket("releases")
        for i in range(7):
            self.s3.put("releases", "app/app %d.tgz" % i, b"x" * i)
        self.s3.put("releases", "other/readme", b"r")
        out = self.aws("s3api", "list-objects-v2", "--bucket", "releases",
                       "--prefix", "app/", "--page-size", "3",
                       "--endpoint-url", self.s3.url,
                       key="S3RVER", secret="S3RVER")
        self.assertEqual([c["Key"] for c in out["Contents"]],
                         ["app/app %d.tgz" % i for i in range(7)])
        self.assertEqual(out["Contents"][1]["Size"], 1)
        pages = [r for r in self.s3.requests()
                 if "continuation-token=" in r[1]]
        self.assertEqual(len(pages), 2, "7 keys in pages of 3")
        err = self.aws("s3api", "list-objects-v2", "--bucket", "releases",
                       "--endpoint-url", self.s3.url, key="S3RVER",
                       secret="wrong", ok=False)
        self.assertIn("SignatureDoesNotMatch", err)
        self.assertFalse(self.s3.requests()[-1][3])
        err = self.aws("s3api", "list-objects-v2", "--bucket", "nobucket",
                       "--endpoint-url", self.s3.url, key="S3RVER",
                       secret="S3RVER", ok=False)
        self.assertIn("NoSuchBucket", err)


if __name__ == "__main__":
    unittest.main()
