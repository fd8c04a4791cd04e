"""test_google.py: the Gcr, GoogleArtifactRegistry and GoogleCloudStorage
sources end to end, against the Google fake (tests/fakes/googlefake.py).

The fake checks every JWT grant with python3-google-auth (signature against
the key's public half, aud, iss, read-only scope, iat/exp), and a grant
signed by google-auth's own service_account credentials is accepted the
same way.  Each source's first poll is a silent baseline; new versions are
artifact.created; a GCS object written again, a GAR or gcr.io tag moved to
another image is artifact.updated with the previous digest.  The token comes
from a key in secrets:, from GOOGLE_APPLICATION_CREDENTIALS, or from the
metadata server; a token that expires mid-run is replaced without a failed
poll; quota errors pause the connector; a refused grant, an unknown bucket
or repository fails only its source with Google's message in one log line;
no key or token ever reaches the logs.
"""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fakes"))

from googlefake import GoogleFake, digest_of, make_rsa_key  # noqa: E402
from cloudcase import CloudCase  # noqa: E402
from harness import Watcher, Webhook, Workdir  # noqa: E402

HOOK_SECRET = "google-hook-secret"
EMAIL = "reader@fake-project.iam.gserviceaccount.com"
PROJECT, REGION = "fake-project", "us-central1"


def gcp_connector(identifier, fake, cred_type="ManualConfig",
                  key_ref="gcp_key", storage=True):
    spec = {"credential": {"type": cred_type},
            "endpoints": {"artifactregistry": fake.url,
                          "metadata": fake.url}}
    if storage:
        spec["endpoints"]["storage"] = fake.url
    if cred_type == "ManualConfig":
        spec["credential"]["spec"] = {"secretKeyRef": key_ref}
    return {"connector": {"identifier": identifier, "type": "Gcp",
                          "spec": spec}}


class Google(CloudCase):
    SECRETS = {"gcp_key": "AW_GCP_KEY", "gcp_wrong": "AW_GCP_WRONG",
               "gcp_garbage": "AW_GCP_GARBAGE"}

    @classmethod
    def setUpClass(cls):
        cls.workdir = Workdir("aw-google-")
        cls.fake = GoogleFake().start()
        cls.key = cls.fake.service_account(EMAIL)
        # The same account name, another key: its grants are refused.
        other = dict(cls.key)
        other["private_key"] = make_rsa_key()[0]
        cls.wrong_key = other
        cls.key_file = cls.workdir.file("sa.json", json.dumps(cls.key))
        cls.hook = Webhook(secret=HOOK_SECRET)
        cls.hook.start()

    @classmethod
    def tearDownClass(cls):
        cls.hook.stop()
        cls.fake.stop()
        cls.workdir.cleanup()

    def env(self, **extra):
        env = {"AW_HOOK_KEY": HOOK_SECRET,
               "AW_GCP_KEY": json.dumps(self.key),
               "AW_GCP_WRONG": json.dumps(self.wrong_key),
               "AW_GCP_GARBAGE": "not a key at all",
               "GOOGLE_APPLICATION_CREDENTIALS": "",
               "STORAGE_EMULATOR_HOST": "", "GCE_METADATA_HOST": "",
               "HOME": self.workdir.path}
        env.update(extra)
        return env

    def no_secrets(self, watcher):
        text = "\n".join(watcher.logs + watcher.stdout)
        self.assertNotIn("PRIVATE KEY", text)
        for line in self.key["private_key"].splitlines()[1:3]:
            self.assertNotIn(line, text)
        with self.fake.state.lock:
            tokens = list(self.fake.state.tokens)
        for token in tokens:
            self.assertNotIn(token, text)
        self.assertNotIn("ya29.", text)

    def gcs_source(self, ident, bucket, path=None, conn="gcp"):
        spec = {"connectorRef": conn, "project": PROJECT, "bucket": bucket}
        if path is not None:
            spec["artifactPath"] = path
        return {"identifier": ident, "type": "GoogleCloudStorage",
                "interval": "1s", "spec": spec}

    # ---------------------------------------------------------- grants

    def test_google_auth_signed_grant_is_accepted_like_ours(self):
        import urllib3
        from google.auth.transport.urllib3 import Request
        from google.oauth2 import service_account
        creds = service_account.Credentials.from_service_account_info(
            self.key, scopes=["https://www.googleapis.com/auth/"
                              "cloud-platform.read-only"])
        creds.refresh(Request(urllib3.PoolManager()))
        self.assertTrue(creds.token.startswith("ya29.fake-"))
        ok, who, claims = self.fake.grants()[-1]
        self.assertTrue(ok)
        self.assertEqual(who, EMAIL)
        # A grant with a write scope is refused with Google's message.
        rw = service_account.Credentials.from_service_account_info(
            self.key, scopes=["https://www.googleapis.com/auth/"
                              "cloud-platform"])
        with self.assertRaises(Exception) as ctx:
            rw.refresh(Request(urllib3.PoolManager()))
        self.assertIn("read-only", str(ctx.exception))
        # Ours, through a poll: the same checks, passed.
        self.fake.bucket("grant-bucket")
        mark = len(self.fake.grants())
        w = self.start("grant", [gcp_connector("gcp", self.fake)],
                       [self.gcs_source("grantsrc", "grant-bucket")])
        w.wait_log(r'msg="poll committed" source=grantsrc ')
        w.stop()
        ours = self.fake.grants()[mark:]
        self.assertEqual(len(ours), 1, "one grant, cached")
        ok, who, claims = ours[0]
        self.assertTrue(ok, who)
        self.assertEqual(claims["iss"], EMAIL)
        self.assertEqual(claims["aud"], self.fake.url + "/token")
        self.assertEqual(claims["scope"], "https://www.googleapis.com/"
                         "auth/cloud-platform.read-only")
        self.assertLessEqual(claims["exp"] - claims["iat"], 3600)
        self.no_secrets(w)

    def test_refused_grant_fails_only_that_source(self):
        self.fake.bucket("ok-bucket")
        w = self.start("refused", [
            gcp_connector("gcp", self.fake),
            gcp_connector("wrong", self.fake, key_ref="gcp_wrong")], [
            self.gcs_source("fine", "ok-bucket"),
            self.gcs_source("refused", "ok-bucket", conn="wrong"),
            self.gcs_source("nobucket", "no-such-bucket")])
        w.wait_log(r'msg="poll committed" source=fine ')
        line = w.wait_log(r'msg="poll failed" source=refused ')[0]
        self.assertIn("invalid_grant", line)
        self.assertIn("Invalid JWT Signature", line)
        line = w.wait_log(r'msg="poll failed" source=nobucket ')[0]
        self.assertIn("HTTP 404", line)
        self.assertIn("The specified bucket does not exist.", line)
        done = len(w.matching(r'msg="poll listed" source=fine '))
        w.wait_log(r'msg="poll listed" source=fine ', count=done + 2)
        self.assertTrue(w.running())
        w.stop()
        self.no_secrets(w)

    def test_a_key_that_is_not_json_is_a_clear_error(self):
        w = self.start("garbagekey", [
            gcp_connector("bad", self.fake, key_ref="gcp_garbage")],
            [self.gcs_source("badkey", "ok-bucket", conn="bad")])
        line = w.wait_log(r'source=badkey .*not a JSON object')[0]
        self.assertNotIn("not a key at all", line)
        self.assertTrue(w.running())
        w.stop()

    # ---------------------------------------------------------- GCS

    def test_gcs_created_rewritten_and_filtered(self):
        b = "releases"
        self.fake.gcs_object(b, "app/app-1.0.tgz", b"one", 1704103200)
        self.fake.gcs_object(b, "other/x.bin", b"x", 1704103200)
        before = len(self.hook.accepted())
        w = self.start("gcs", [gcp_connector("gcp", self.fake)], [
            self.gcs_source("files", b, r"app/app-.*\.tgz"),
            self.gcs_source("one", b, "app/app-1.0.tgz")])
        w.wait_log(r'msg="poll committed" source=files ')
        w.wait_log(r'msg="poll committed" source=one ')
        new = self.fake.gcs_object(b, "app/app-1.1.tgz", b"two" * 10,
                                   1704103300)
        self.fake.gcs_object(b, "app/readme.txt", b"r", 1704103300)
        first = self.wait_events("files", before, 1)[0]
        self.assertEqual(first["type"], "artifact.created")
        self.assertEqual(first["subject"], "gs://releases/app/app-1.1.tgz")
        data = first["data"]
        self.assertEqual(data["kind"], "file")
        self.assertEqual(data["digest"], "%s@%s" % (new["md5Hash"],
                                                    new["generation"]))
        self.assertEqual(data["metadata"]["md5Hash"], new["md5Hash"])
        self.assertEqual(data["pushedAt"], "2024-01-01T10:01:40Z")
        self.assertEqual(data["bucket"], "releases")
        self.assertEqual(data["path"], "app/app-1.1.tgz")
        self.assertEqual(data["size"], 30)
        # Written again: a new generation, new bytes.
        self.fake.gcs_object(b, "app/app-1.0.tgz", b"one again",
                             1704103400)
        events = self.wait_events("one", before, 1)
        self.assertEqual(events[0]["type"], "artifact.updated")
        self.assertEqual(events[0]["data"]["version"], "app/app-1.0.tgz")
        files = self.wait_events("files", before, 2)
        self.assertEqual([e["data"]["version"] for e in files],
                         ["app/app-1.1.tgz", "app/app-1.0.tgz"])
        self.assertEqual(files[1]["type"], "artifact.updated")
        # The same bytes written again: a new generation, an update too.
        again = self.fake.gcs_object(b, "app/app-1.0.tgz", b"one again",
                                     1704103500)
        events = self.wait_events("one", before, 2)
        self.assertEqual(events[1]["type"], "artifact.updated")
        self.assertEqual(events[1]["data"]["digest"], "%s@%s" % (
            again["md5Hash"], again["generation"]))
        self.assertEqual(events[1]["data"]["previousDigest"],
                         events[0]["data"]["digest"])
        w.stop()
        # The literal prefix of the regex went to the server.
        paths = [p for s, p, _ in self.fake.requests() if s == "storage"]
        self.assertTrue(any("prefix=app%2Fapp-" in p for p in paths),
                        paths[-3:])
        self.no_secrets(w)

    def test_gcs_pages_composites_and_emulator_host(self):
        b = "paged"
        self.fake.page_cap(3)
        self.addCleanup(self.fake.page_cap, 1000)
        for i in range(10):
            self.fake.gcs_object(b, "f/%02d.bin" % i, b"%d" % i,
                                 1704103200 + i, composite=(i == 5))
        before = len(self.hook.accepted())
        w = self.start("gcspaged", [gcp_connector("gcp", self.fake,
                                                  storage=False)],
                       [dict(self.gcs_source("paged", b, "f/"),
                             emitExisting=True)],
                       STORAGE_EMULATOR_HOST=self.fake.url[len("http://"):])
        events = self.wait_events("paged", before, 10)
        w.stop()
        names = sorted(e["data"]["version"] for e in events)
        self.assertEqual(names, ["f/%02d.bin" % i for i in range(10)])
        composite = [e for e in events if e["data"]["version"] ==
                     "f/05.bin"][0]
        with self.fake.state.lock:
            crc = self.fake.state.buckets[b]["f/05.bin"]["crc32c"]
        self.assertEqual(composite["data"]["digest"].split("@")[0], crc)

    def test_gcs_faults_fail_the_poll_and_the_next_one_works(self):
        b = "faulty"
        self.fake.gcs_object(b, "a.bin", b"a", 1704103200)
        w = self.start("gcsfault", [gcp_connector("gcp", self.fake)],
                       [self.gcs_source("faulty", b)])
        w.wait_log(r'msg="poll committed" source=faulty ')
        for kind, says in (("garbage", "JSON"), ("html", "JSON"),
                           ("truncate", ""), ("500", "HTTP 500 INTERNAL"),
                           ("huge", "")):
            failed = len(w.matching(r'msg="poll failed" source=faulty '))
            # More than the limiter's quick retries of a 5xx.
            self.fake.fault("storage", kind, count=3)
            line = w.wait_log(r'msg="poll failed" source=faulty ',
                              count=failed + 1, timeout=30)[-1]
            self.assertIn(says, line, kind)
            listed = len(w.matching(r'msg="poll listed" source=faulty '))
            w.wait_log(r'msg="poll listed" source=faulty ',
                       count=listed + 1, timeout=30)
        self.assertTrue(w.running())
        w.stop()

    def test_quota_exhausted_pauses_the_connector(self):
        b = "quota"
        self.fake.gcs_object(b, "a.bin", b"a", 1704103200)
        w = self.start("quota", [gcp_connector("gcp", self.fake)],
                       [self.gcs_source("quota", b)])
        w.wait_log(r'msg="poll committed" source=quota ')
        # One 429: the limiter pauses the connector and sends it again.
        self.fake.fault("storage", "throttle")
        w.wait_log(r'msg="connector paused" connector=gcp status=429 ')
        listed = len(w.matching(r'msg="poll listed" source=quota '))
        w.wait_log(r'msg="poll listed" source=quota ', count=listed + 1,
                   timeout=30)
        self.assertEqual(w.matching(r'msg="poll failed" source=quota '), [])
        # More than its retries: the poll fails with Google's message.
        self.fake.fault("storage", "throttle", count=4)
        line = w.wait_log(r'msg="poll failed" source=quota ', timeout=40)[0]
        self.assertIn("RESOURCE_EXHAUSTED", line)
        self.assertIn("Quota exceeded", line)
        self.assertRegex(line, r"retry_after_s=[1-9]")
        w.stop()

    def test_expired_token_is_replaced_without_a_failed_poll(self):
        b = "expiring"
        self.fake.gcs_object(b, "a.bin", b"a", 1704103200)
        w = self.start("expire", [gcp_connector("gcp", self.fake)],
                       [self.gcs_source("expsrc", b)])
        w.wait_log(r'msg="poll committed" source=expsrc ')
        grants = len(self.fake.grants())
        self.fake.expire_tokens()
        w.wait_log(r'msg="gcp token refused" source=expsrc$')
        w.wait_log(r'msg="poll listed" source=expsrc .* requests=2 ')
        w.stop()
        self.assertEqual(w.matching(r'msg="poll failed" source=expsrc '),
                         [])
        self.assertEqual(len(self.fake.grants()), grants + 1)

    def test_short_lived_token_is_renewed_in_the_background(self):
        b = "shortlived"
        self.fake.gcs_object(b, "a.bin", b"a", 1704103200)
        self.fake.token_lifetime(10)
        self.addCleanup(self.fake.token_lifetime, 3600)
        w = self.start("shortlived", [gcp_connector("gcp", self.fake)],
                       [self.gcs_source("short", b)])
        w.wait_log(r'msg="poll committed" source=short ')
        # Renewed halfway through each life (every 5 s), in the
        # background: polls every second use the token they find, none
        # waits for a grant or meets an expired token.
        grants = len(w.matching(r'msg="gcp token granted" '))
        listed = len(w.matching(r'msg="poll listed" source=short '))
        w.wait_log(r'msg="gcp token granted" ', count=grants + 2,
                   timeout=30)
        polls = len(w.matching(r'msg="poll listed" source=short ')) - listed
        w.stop()
        self.assertGreater(polls, 2, "more polls than grants")
        self.assertEqual(w.matching(r'msg="gcp token refused"'), [])
        self.assertEqual(w.matching(r'msg="poll failed" source=short '), [])

    # ---------------------------------------------------------- credentials

    def test_inherit_from_application_credentials_file(self):
        self.fake.bucket("adc")
        w = self.start("adc", [gcp_connector(
            "gcp", self.fake, cred_type="InheritFromDelegate")],
            [self.gcs_source("adcsrc", "adc")],
            GOOGLE_APPLICATION_CREDENTIALS=self.key_file)
        w.wait_log(r'msg="poll committed" source=adcsrc ')
        w.stop()
        self.assertTrue(self.fake.grants()[-1][0])

    def test_inherit_from_the_metadata_server(self):
        self.fake.bucket("meta")
        mark = len(self.fake.requests())
        w = self.start("meta", [gcp_connector(
            "gcp", self.fake, cred_type="InheritFromDelegate")],
            [self.gcs_source("metasrc", "meta")])
        w.wait_log(r'msg="poll committed" source=metasrc ')
        w.stop()
        services = [s for s, _, _ in self.fake.requests()[mark:]]
        self.assertIn("metadata", services)
        self.no_secrets(w)

    # ---------------------------------------------------------- GAR

    def test_gar_docker_created_and_retagged(self):
        repo, pkg = "docker-repo", "team/app"
        self.fake.ar_image(PROJECT, REGION, repo, pkg, digest_of("g1"),
                           ["1.0.0", "latest"], 1704103200)
        self.fake.ar_image(PROJECT, REGION, repo, "other", digest_of("o"),
                           ["9.9"], 1704103200)
        before = len(self.hook.accepted())
        w = self.start("gar", [gcp_connector("gcp", self.fake)], [
            {"identifier": "gar", "type": "GoogleArtifactRegistry",
             "interval": "1s",
             "spec": {"connectorRef": "gcp", "project": PROJECT,
                      "region": REGION, "repositoryName": repo,
                      "package": pkg, "repositoryType": "docker"}}])
        w.wait_log(r'msg="poll committed" source=gar ')
        self.fake.ar_image(PROJECT, REGION, repo, pkg, digest_of("g2"),
                           ["1.1.0", "latest"], 1704103300)
        events = self.wait_events("gar", before, 2)
        w.stop()
        by_type = {e["type"]: e for e in events}
        created = by_type["artifact.created"]["data"]
        self.assertEqual(created["kind"], "container")
        self.assertEqual(created["version"], "1.1.0")
        self.assertEqual(created["digest"], digest_of("g2"))
        self.assertEqual(created["registry"], "us-central1-docker.pkg.dev")
        self.assertEqual(created["repository"],
                         "fake-project/docker-repo/team/app")
        self.assertEqual(created["pushedAt"], "2024-01-01T10:01:40Z")
        updated = by_type["artifact.updated"]["data"]
        self.assertEqual(updated["version"], "latest")
        self.assertEqual(updated["previousDigest"], digest_of("g1"))
        self.assertEqual(len(events), 2, "nothing of the other package")
        self.no_secrets(w)

    def test_gar_maven_versions_pages_and_unknown_repository(self):
        repo, pkg = "maven-repo", "com.example:lib"
        self.fake.page_cap(2)
        self.addCleanup(self.fake.page_cap, 1000)
        for i in range(5):
            self.fake.ar_version(PROJECT, REGION, repo, pkg, "1.0.%d" % i,
                                 1704103200 + i)
        before = len(self.hook.accepted())
        w = self.start("garmvn", [gcp_connector("gcp", self.fake)], [
            {"identifier": "mvn", "type": "GoogleArtifactRegistry",
             "interval": "1s",
             "spec": {"connectorRef": "gcp", "project": PROJECT,
                      "region": REGION, "repositoryName": repo,
                      "package": pkg, "repositoryType": "maven"}},
            {"identifier": "norepo", "type": "GoogleArtifactRegistry",
             "interval": "1s",
             "spec": {"connectorRef": "gcp", "project": PROJECT,
                      "region": REGION, "repositoryName": "nope",
                      "package": pkg, "repositoryType": "npm"}}])
        w.wait_log(r'msg="poll committed" source=mvn ')
        line = w.wait_log(r'msg="poll failed" source=norepo ')[0]
        self.assertIn("NOT_FOUND", line)
        self.assertIn('repositories/nope\\" not found', line)
        self.fake.ar_version(PROJECT, REGION, repo, pkg, "2.0.0",
                             1704103300, tags=["release"])
        ev = self.wait_events("mvn", before, 1)[0]
        w.stop()
        data = ev["data"]
        self.assertEqual(data["kind"], "package")
        self.assertEqual(data["version"], "2.0.0")
        self.assertEqual(data["package"], pkg)
        self.assertEqual(data["repository"], repo)
        self.assertEqual(data["format"], "maven")
        self.assertEqual(data["metadata"]["tags"], "release")
        self.assertEqual(data["pushedAt"], "2024-01-01T10:01:40Z")

    # ---------------------------------------------------------- gcr.io

    def test_gcr_digests_and_times_from_the_tag_listing(self):
        repo = "fake-project/web"
        self.fake.gcr_image(repo, digest_of("w1"), ["1.0", "latest"],
                            1704103200.5)
        before = len(self.hook.accepted())
        w = self.start("gcr", [gcp_connector("gcp", self.fake)], [
            {"identifier": "gcr", "type": "Gcr", "interval": "1s",
             "spec": {"connectorRef": "gcp", "registryHostname":
                      self.fake.url, "imagePath": repo}}])
        w.wait_log(r'msg="poll committed" source=gcr ')
        mark = len(self.fake.requests())
        self.fake.gcr_image(repo, digest_of("w2"), ["1.1", "latest"],
                            1704103300)
        events = self.wait_events("gcr", before, 2)
        w.stop()
        by_type = {e["type"]: e for e in events}
        created = by_type["artifact.created"]["data"]
        self.assertEqual(created["version"], "1.1")
        self.assertEqual(created["digest"], digest_of("w2"))
        self.assertEqual(created["pushedAt"], "2024-01-01T10:01:40Z")
        self.assertEqual(created["repository"], repo)
        updated = by_type["artifact.updated"]["data"]
        self.assertEqual(updated["version"], "latest")
        self.assertEqual(updated["previousDigest"], digest_of("w1"))
        paths = [p for s, p, _ in self.fake.requests()[mark:]
                 if s == "gcr"]
        self.assertFalse([p for p in paths if "/manifests/" in p],
                         "digests came with the listing")
        self.no_secrets(w)

    def test_gcr_labels_through_the_docker_familys_resolve(self):
        repo = "fake-project/labelled"
        self.fake.gcr_image(repo, digest_of("l1"), ["1.0"], 1704103200)
        before = len(self.hook.accepted())
        w = self.start("gcrlabels", [gcp_connector("gcp", self.fake)], [
            {"identifier": "lab", "type": "Gcr", "interval": "1s",
             "spec": {"connectorRef": "gcp", "registryHostname":
                      self.fake.url, "imagePath": repo,
                      "fetchLabels": True}}])
        w.wait_log(r'msg="poll committed" source=lab ')
        self.fake.gcr_image(repo, digest_of("l2"), ["1.1"], 1704103300,
                            labels={"org.opencontainers.image.version":
                                    "1.1"})
        ev = self.wait_events("lab", before, 1)[0]
        w.stop()
        self.assertEqual(ev["data"]["version"], "1.1")
        self.assertEqual(ev["data"]["digest"], digest_of("l2"))
        self.assertEqual(ev["data"]["labels"],
                         {"org.opencontainers.image.version": "1.1"})
        self.no_secrets(w)

    def test_gcr_short_lived_tokens_are_renewed_without_a_failed_poll(self):
        """Access and registry tokens that live six seconds: the access
        token is renewed in the background, an expired registry token is
        met with the registry's challenge and a new token dance, and no
        poll fails."""
        repo = "fake-project/short"
        self.fake.gcr_image(repo, digest_of("s1"), ["1.0"], 1704103200)
        self.fake.token_lifetime(6)
        self.addCleanup(self.fake.token_lifetime, 3600)
        before = len(self.hook.accepted())
        w = self.start("gcrshort", [gcp_connector("gcp", self.fake)], [
            {"identifier": "gcrshort", "type": "Gcr", "interval": "1s",
             "spec": {"connectorRef": "gcp", "registryHostname":
                      self.fake.url, "imagePath": repo}}])
        w.wait_log(r'msg="poll committed" source=gcrshort ')
        mark = len(self.fake.requests())
        grants = len(w.matching(r'msg="gcp token granted" '))
        # Two renewals: the first tokens (registry's too) have expired.
        w.wait_log(r'msg="gcp token granted" ', count=grants + 3,
                   timeout=30)
        self.fake.gcr_image(repo, digest_of("s2"), ["1.1"], 1704103300)
        ev = self.wait_events("gcrshort", before, 1)[0]
        w.stop()
        self.assertEqual(ev["data"]["version"], "1.1")
        self.assertEqual(w.matching(r'msg="poll failed" source=gcrshort '),
                         [])
        tokens = [ok for s, p, ok in self.fake.requests()[mark:]
                  if s == "gcr" and p == "/v2/token"]
        self.assertGreaterEqual(tokens.count(True), 2,
                                "registry tokens renewed")
        self.no_secrets(w)

    def test_gcr_unknown_repository(self):
        w = self.start("gcrmissing", [gcp_connector("gcp", self.fake)], [
            {"identifier": "nogcr", "type": "Gcr", "interval": "1s",
             "spec": {"connectorRef": "gcp", "registryHostname":
                      self.fake.url, "imagePath": "fake-project/none"}}])
        line = w.wait_log(r'msg="poll failed" source=nogcr ')[0]
        self.assertIn("NAME_UNKNOWN", line)
        w.stop()

    def test_check_connect_sources_and_spare_connectors(self):
        self.fake.gcs_object("probe", "a.bin", b"a", 1704103200)
        w = Watcher(self.workdir, self.config("probe", [
            gcp_connector("gcp", self.fake),
            gcp_connector("spare", self.fake),
            gcp_connector("refused", self.fake, key_ref="gcp_wrong")],
            [self.gcs_source("probed", "probe")]), env=self.env())
        out = w.run_cli("check", "-c", w.write_config(), "--connect")
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.assertIn("source probed: reachable, 1 versions", out.stdout)
        self.assertIn("connector spare: reachable", out.stdout)
        self.assertRegex(out.stdout, r"connector refused: FAILED: .*"
                         r"invalid_grant: Invalid JWT Signature")
        self.assertNotIn("PRIVATE KEY", out.stdout + out.stderr)

    # ---------------------------------------------------------- config

    def test_config_errors_name_their_place(self):
        w = Watcher(self.workdir, self.config("cfg", [
            {"connector": {"identifier": "g", "type": "Gcp", "spec": {
                "credential": {"type": "ManualConfig"},
                "endpoints": {"storage": "ftp://x"}}}}], [
            {"identifier": "s", "type": "GoogleCloudStorage",
             "spec": {"connectorRef": "g", "bucket": "Bad Bucket"}},
            {"identifier": "a", "type": "GoogleArtifactRegistry",
             "spec": {"connectorRef": "g", "project": "P!",
                      "region": REGION, "repositoryName": "r",
                      "package": "p"}},
            {"identifier": "t", "type": "GoogleArtifactRegistry",
             "spec": {"connectorRef": "g", "project": "p",
                      "region": REGION, "repositoryName": "r",
                      "package": "p", "repositoryType": "cobol"}}]),
            env=self.env())
        out = w.run_cli("check", "-c", w.write_config())
        self.assertEqual(out.returncode, 2, out.stdout + out.stderr)
        text = out.stdout + out.stderr
        for what in ("needs spec.secretKeyRef", "must start with http",
                     "not a bucket name", "not an Artifact Registry id",
                     "repositoryType"):
            self.assertRegex(text, r"watcher-\d+\.yaml:\d+:\d+: .*" + what)


if __name__ == "__main__":
    unittest.main()
