"""test_azure.py: the Acr and AzureArtifacts sources end to end.

The Azure fake (tests/fakes/azurefake.py) plays Azure AD, the instance
metadata service, an Azure Container Registry and the Azure DevOps feeds
API; it checks the client assertion's RS256 signature against the test
certificate's public key, its x5t and its claims, and refuses every expired
token.  Each source's first poll is a silent baseline; new tags and versions
are artifact.created, a re-pointed ACR tag artifact.updated.  The token
chain (Azure AD -> /oauth2/exchange -> /oauth2/token) is cached and renewed
ahead of expiry without a failed poll; a refused grant, an unknown
repository or feed and a refused personal access token fail only their
source with the server's message in one log line; faults (429 with
Retry-After, 5xx, garbage, HTML, truncated, huge, the 203 sign-in page) are
clear failures and the next poll recovers.  No secret is ever logged.
"""

import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fakes"))

from azurefake import AzureFake, make_certificate  # noqa: E402
from cloudcase import CloudCase  # noqa: E402
from harness import Watcher, Webhook, Workdir  # noqa: E402

HOOK_SECRET = "azure-hook-secret"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
APP = "11111111-2222-3333-4444-555555555555"
CERT_APP = "66666666-2222-3333-4444-555555555555"
SECRET = "client~secret.Value_0123456789abcdef"
ADMIN_PW = "admin-password-0123456789"
PAT = "patpatpatpatpatpatpatpatpatpatpatpatpatpatpatpatpat1"
MI_CLIENT = "99999999-2222-3333-4444-555555555555"


def azure_connector(identifier, fake, auth="Secret", secret_ref="az_secret",
                    app=APP):
    spec = {"endpoints": {"login": fake.url, "imds": fake.url,
                          "acr": fake.url},
            "azureEnvironmentType": "AZURE"}
    if auth == "Secret":
        spec["credential"] = {"type": "ManualConfig", "spec": {
            "applicationId": app, "tenantId": TENANT,
            "auth": {"type": "Secret", "spec": {"secretRef": secret_ref}}}}
    elif auth == "Certificate":
        spec["credential"] = {"type": "ManualConfig", "spec": {
            "applicationId": app, "tenantId": TENANT,
            "auth": {"type": "Certificate",
                     "spec": {"certificateRef": "az_cert"}}}}
    elif auth == "UsernamePassword":
        spec["credential"] = {"type": "ManualConfig", "spec": {
            "auth": {"type": "UsernamePassword",
                     "spec": {"username": "myreg",
                              "passwordRef": "az_admin"}}}}
    else:
        spec["credential"] = {"type": "InheritFromDelegate", "spec": {
            "auth": {"type": "UserAssignedManagedIdentity",
                     "spec": {"clientId": MI_CLIENT}}}}
    return {"connector": {"identifier": identifier, "type": "Azure",
                          "spec": spec}}


def acr_source(identifier, connector, repo, **extra):
    spec = {"connectorRef": connector, "subscriptionId": "sub-1",
            "registry": "myreg", "repository": repo}
    spec.update(extra)
    return {"identifier": identifier, "type": "Acr", "interval": "1s",
            "spec": spec}


def artifacts_connector(identifier, fake, token_ref="az_pat", org="acme"):
    return {"connector": {"identifier": identifier, "type": "AzureArtifacts",
                          "spec": {"azureArtifactsUrl": "%s/%s"
                                   % (fake.url, org),
                                   "auth": {"spec": {
                                       "type": "PersonalAccessToken",
                                       "spec": {"tokenRef": token_ref}}}}}}


def artifacts_source(identifier, connector, feed, package, ptype="maven",
                     project=None):
    spec = {"connectorRef": connector, "scope": "org", "feed": feed,
            "packageType": ptype, "package": package}
    if project is not None:
        spec["scope"] = "project"
        spec["project"] = project
    return {"identifier": identifier, "type": "AzureArtifacts",
            "interval": "1s", "spec": spec}


class Azure(CloudCase):
    SECRETS = {"az_secret": "AW_AZ_SECRET", "az_wrong": "AW_AZ_WRONG",
               "az_admin": "AW_AZ_ADMIN", "az_pat": "AW_AZ_PAT",
               "az_badpat": "AW_AZ_WRONG"}

    @classmethod
    def setUpClass(cls):
        cls.workdir = Workdir("aw-azure-")
        cls.fake = AzureFake().start()
        cls.fake.add_app(TENANT, APP, SECRET)
        cls.pem, cert = make_certificate()
        cls.fake.add_app(TENANT, CERT_APP, cert)
        cls.fake.add_identity(MI_CLIENT)
        cls.fake.add_admin("myreg", ADMIN_PW)
        cls.fake.add_pat(PAT)
        cls.workdir.file("cert.pem", cls.pem)
        cls.hook = Webhook(secret=HOOK_SECRET)
        cls.hook.start()

    @classmethod
    def tearDownClass(cls):
        cls.hook.stop()
        cls.fake.stop()
        cls.workdir.cleanup()

    def setUp(self):
        self.fake.clear_faults()
        self.fake.lifetimes(aad=3600, acr=3600)
        self.fake.set_page_size(None)

    def config(self, name, connectors, sources):
        config = super().config(name, connectors, sources)
        config["secrets"]["az_cert"] = "file:" + os.path.join(
            self.workdir.path, "cert.pem")
        return config

    def env(self, **extra):
        env = {"AW_HOOK_KEY": HOOK_SECRET, "AW_AZ_SECRET": SECRET,
               "AW_AZ_WRONG": "not-the-secret-value", "AW_AZ_ADMIN":
               ADMIN_PW, "AW_AZ_PAT": PAT}
        env.update(extra)
        return env

    def no_secrets(self, watcher):
        text = "\n".join(watcher.logs + watcher.stdout)
        for secret in (SECRET, ADMIN_PW, PAT, "not-the-secret-value",
                       "PRIVATE KEY"):
            self.assertNotIn(secret, text)
        # Nor any token the fake issued.
        self.assertNotIn("aad-", text)

    def polls(self, w, source):
        return len(w.matching(r'msg="poll listed" source=%s ' % source))

    def wait_polls(self, w, source, more=1, timeout=30):
        n = self.polls(w, source)
        w.wait_log(r'msg="poll listed" source=%s ' % source, count=n + more,
                   timeout=timeout)

    # ---------------------------------------------------------------- ACR

    def check_acr(self, name, auth, repo):
        self.fake.tag(repo, "1.0.0", repo + "a1", updated=1704103200)
        self.fake.tag(repo, "latest", repo + "a1", updated=1704103201)
        before = len(self.hook.accepted())
        w = self.start(name, [azure_connector("az", self.fake, auth=auth,
                                              app=CERT_APP if auth ==
                                              "Certificate" else APP)],
                       [acr_source(name, "az", repo)])
        w.wait_log(r'msg="poll committed" source=%s ' % name)
        new = self.fake.tag(repo, "1.1.0", repo + "a2")
        latest = self.fake.tag(repo, "latest", repo + "a2")
        events = self.wait_events(name, before, 2)
        w.stop()
        by_type = {e["type"]: e for e in events}
        created = by_type["artifact.created"]["data"]
        self.assertEqual(created["version"], "1.1.0")
        self.assertEqual(created["digest"], new)
        self.assertEqual(created["kind"], "container")
        self.assertEqual(created["registry"], "myreg.azurecr.io")
        self.assertEqual(created["repository"], repo)
        updated = by_type["artifact.updated"]["data"]
        self.assertEqual(updated["version"], "latest")
        self.assertEqual(updated["digest"], latest)
        self.no_secrets(w)
        return w

    def test_acr_client_secret(self):
        before = self.fake.issued("refresh")
        self.check_acr("acrsecret", "Secret", "team/app")
        self.assertGreaterEqual(self.fake.issued("refresh"), before + 1)
        # The token rode on the listing, newest first.
        tags = self.fake.requests("/acr/v1/team/app/_tags")
        self.assertTrue(all("orderby=timedesc" in p for _, p, _ in tags))
        self.assertTrue(all(h.get("authorization", "").startswith(
            "Bearer ") for _, _, h in tags))

    def test_acr_certificate_assertion(self):
        before = self.fake.assertions()
        self.check_acr("acrcert", "Certificate", "cert/app")
        self.assertGreaterEqual(self.fake.assertions(), before + 1)

    def test_acr_managed_identity(self):
        before = self.fake.issued("imds")
        self.check_acr("acrmsi", "ManagedIdentity", "msi/app")
        self.assertGreaterEqual(self.fake.issued("imds"), before + 1)
        imds = self.fake.requests("/metadata/identity/oauth2/token")
        self.assertIn("client_id=" + MI_CLIENT, imds[-1][1])
        self.assertEqual(imds[-1][2].get("metadata"), "true")

    def test_acr_admin_user(self):
        self.check_acr("acradmin", "UsernamePassword", "admin/app")
        gets = [p for m, p, _ in self.fake.requests("/oauth2/token")
                if m == "GET"]
        self.assertTrue(gets)

    def test_acr_tokens_cached_and_link_paging(self):
        repo = "paged/app"
        for i in range(5):
            self.fake.tag(repo, "0.%d" % i, repo + str(i),
                          updated=1704103200 + i)
        self.fake.set_page_size(2)
        before = len(self.hook.accepted())
        w = self.start("acrpaged", [azure_connector("az", self.fake)],
                       [acr_source("acrpaged", "az", repo)])
        w.wait_log(r'msg="poll committed" source=acrpaged ')
        self.fake.tag(repo, "0.9", repo + "9")
        events = self.wait_events("acrpaged", before, 1)
        self.assertEqual(events[0]["data"]["version"], "0.9")
        self.wait_polls(w, "acrpaged", 2)
        w.stop()
        # Three pages a poll (Link rel="next"), one chain for all polls.
        lists = [p for _, p, _ in self.fake.requests("/acr/v1/paged/app/")]
        self.assertTrue(any("last=" in p for p in lists))
        exchanges = len(self.fake.requests("/oauth2/exchange"))
        self.assertLess(exchanges, len(lists))

    def test_acr_cap_keeps_the_newest(self):
        repo = "capped/app"
        for i in range(6):
            self.fake.tag(repo, "1.%d" % i, repo + str(i),
                          updated=1704103200 + i)
        before = len(self.hook.accepted())
        src = acr_source("acrcap", "az", repo)
        src["maxTags"] = 2
        w = self.start("acrcap", [azure_connector("az", self.fake)], [src])
        w.wait_log(r'msg="poll committed" source=acrcap ')
        self.fake.tag(repo, "2.0", repo + "new")
        events = self.wait_events("acrcap", before, 1)
        w.stop()
        self.assertEqual(events[0]["data"]["version"], "2.0")
        lists = [p for _, p, _ in self.fake.requests("/acr/v1/capped/")]
        self.assertTrue(all("n=2" in p and "last=" not in p for p in lists))

    def test_acr_labels_through_the_registry_api(self):
        for name, auth in (("acrlabels", "Secret"),
                           ("acrlabadm", "UsernamePassword")):
            repo = name + "/app"
            self.fake.tag(repo, "1.0.0", repo + "1", updated=1704103200,
                          labels={"v": "1"})
            before = len(self.hook.accepted())
            w = self.start(name, [azure_connector("az", self.fake,
                                                  auth=auth)],
                           [acr_source(name, "az", repo, fetchLabels=True)])
            w.wait_log(r'msg="poll committed" source=%s ' % name)
            digest = self.fake.tag(repo, "1.1.0", repo + "2",
                                   labels={"v": "2", "team": "web"})
            events = self.wait_events(name, before, 1)
            w.stop()
            data = events[0]["data"]
            self.assertEqual(data["version"], "1.1.0")
            self.assertEqual(data["digest"], digest)
            self.assertEqual(data["labels"], {"v": "2", "team": "web"})
            gets = self.fake.requests("/v2/%s/" % repo)
            self.assertTrue(any("/blobs/" in p for _, p, _ in gets))
            self.no_secrets(w)

    def test_config_errors_are_clear(self):
        nocert = azure_connector("nocert", self.fake, auth="Certificate")
        del nocert["connector"]["spec"]["credential"]["spec"]["auth"][
            "spec"]["certificateRef"]
        noauth = azure_connector("noauth", self.fake)
        del noauth["connector"]["spec"]["credential"]["spec"]["auth"]
        nouser = azure_connector("nouser", self.fake,
                                 auth="ManagedIdentity")
        del nouser["connector"]["spec"]["credential"]["spec"]["auth"][
            "spec"]
        noproj = artifacts_source("noproj", "ado", "f", "p")
        noproj["spec"]["scope"] = "project"
        badtype = artifacts_source("badtype", "ado", "f", "p")
        badtype["spec"]["packageType"] = "pypi"
        w = Watcher(self.workdir, self.config(
            "acrcheck", [nocert, noauth, nouser,
                         artifacts_connector("ado", self.fake)],
            [acr_source("a", "nocert", "x/y"),
             acr_source("b", "noauth", "x/y"),
             acr_source("c", "nouser", "Bad Repo"), noproj, badtype]))
        out = w.run_cli("check", "-c", w.write_config())
        self.assertNotEqual(out.returncode, 0)
        err = out.stderr
        self.assertIn("auth Certificate needs spec.certificateRef", err)
        self.assertIn("credential ManualConfig needs spec.auth.type", err)
        self.assertIn("UserAssignedManagedIdentity needs spec.clientId", err)
        self.assertIn("is not a repository name", err)
        self.assertIn("scope project needs spec.project", err)
        self.assertIn("pypi", err)

    def test_acr_cap_flagged_in_versions(self):
        repo = "flag/app"
        for i in range(25):
            self.fake.tag(repo, "1.0.%d" % i, repo + str(i),
                          updated=1704103200 + i)
        src = acr_source("flag", "az", repo)
        src["maxTags"] = 10
        w = Watcher(self.workdir, self.config(
            "acrflag", [azure_connector("az", self.fake)], [src]),
            env={"AW_HOOK_KEY": HOOK_SECRET, "AW_AZ_SECRET": SECRET})
        out = w.run_cli("versions", "-c", w.write_config(), "flag", "--json")
        self.assertEqual(out.returncode, 0, out.stderr)
        listed = json.loads(out.stdout)
        self.assertTrue(listed["truncated"])
        # The newest ten, from one page.
        self.assertEqual(sorted(v["name"] for v in listed["versions"]),
                         sorted("1.0.%d" % i for i in range(15, 25)))
        self.assertNotIn(SECRET, out.stdout + out.stderr)

    def test_429_retry_after_is_honoured(self):
        for name, connector, source, prefix, add in (
                ("acr429", azure_connector("az", self.fake),
                 acr_source("acr429", "az", "slow/app"), "/acr/v1/slow/",
                 lambda: self.fake.tag("slow/app", "2", "slow2")),
                ("art429", artifacts_connector("ado", self.fake),
                 artifacts_source("art429", "ado", "slow", "slowpkg",
                                  ptype="npm"),
                 "/acme/_apis/packaging/Feeds/slow/",
                 lambda: self.fake.package("acme", None, "slow", "slowpkg",
                                           "Npm", {"2.0.0": time.time()}))):
            self.fake.tag("slow/app", "1", "slow1", updated=1704103200)
            self.fake.package("acme", None, "slow", "slowpkg", "Npm",
                              {"1.0.0": 1704103200})
            before = len(self.hook.accepted())
            w = self.start(name, [connector], [source])
            self.wait_polls(w, name, 2)
            start = len(self.fake.timed(prefix))
            self.fake.fault(prefix, "429", count=1, retry_after=2)
            add()
            events = self.wait_events(name, before, 1, timeout=30)
            w.stop()
            self.assertEqual(events[0]["type"], "artifact.created")
            seen = self.fake.timed(prefix)[start:]
            # The 429 answered the first; the retry waited Retry-After.
            self.assertGreaterEqual(seen[1][0] - seen[0][0], 1.9, name)
            self.assertEqual(w.matching(r'msg="poll failed" source=%s '
                                        % name), [])

    def test_identity_change_rebaselines_silently(self):
        self.fake.tag("ida/app", "1.0", "ida1", updated=1704103200)
        for i in range(3):
            self.fake.tag("idb/app", "5.%d" % i, "idb%d" % i,
                          updated=1704103200 + i)
        before = len(self.hook.accepted())
        w = self.start("acrident", [azure_connector("az", self.fake)],
                       [acr_source("ident", "az", "ida/app")])
        self.wait_polls(w, "ident", 2)
        w.stop()
        w = self.start("acrident", [azure_connector("az", self.fake)],
                       [acr_source("ident", "az", "idb/app")])
        self.wait_polls(w, "ident", 2)
        self.assertEqual(self.events_of("ident", before), [])
        w.wait_log(r"(?i)(identity|fingerprint|re-?baselin).*source=ident ")
        self.fake.tag("idb/app", "5.9", "idb9")
        events = self.wait_events("ident", before, 1)
        w.stop()
        self.assertEqual(events[0]["data"]["version"], "5.9")

    def test_refused_token_is_fetched_anew_once(self):
        repo = "revoked/app"
        self.fake.tag(repo, "1", repo + "1", updated=1704103200)
        before = len(self.hook.accepted())
        w = self.start("acrrevoke", [azure_connector("az", self.fake)],
                       [acr_source("revoked", "az", repo)])
        self.wait_polls(w, "revoked", 2)
        access = self.fake.issued("access")
        self.fake.revoke_access_tokens()
        w.wait_log(r'msg="acr token refused" source=revoked\b')
        self.fake.tag(repo, "2", repo + "2")
        events = self.wait_events("revoked", before, 1)
        w.stop()
        self.assertEqual(events[0]["data"]["version"], "2")
        self.assertGreater(self.fake.issued("access"), access)
        self.assertEqual(w.matching(r'msg="poll failed" source=revoked '),
                         [])

    def test_token_expiry_mid_run_is_renewed(self):
        repo = "short/app"
        self.fake.tag(repo, "1", repo + "1", updated=1704103200)
        self.fake.lifetimes(aad=4, acr=4)
        aad, access = self.fake.issued("aad"), self.fake.issued("access")
        before = len(self.hook.accepted())
        w = self.start("acrshort", [azure_connector("az", self.fake)],
                       [acr_source("acrshort", "az", repo)])
        w.wait_log(r'msg="poll committed" source=acrshort ')
        self.hook.wait_for(lambda: self.fake.issued("access") >= access + 4
                           and self.fake.issued("aad") >= aad + 3 or None,
                           30, "tokens renewed")
        self.fake.tag(repo, "2", repo + "2")
        events = self.wait_events("acrshort", before, 1)
        w.stop()
        self.assertEqual(events[0]["data"]["version"], "2")
        self.assertEqual(w.matching(r'msg="poll failed" source=acrshort '),
                         [])
        self.assertEqual(w.matching(r'acr token refused'), [])
        self.no_secrets(w)

    def test_refused_grant_and_unknown_repository_fail_only_their_source(
            self):
        self.fake.tag("ok/app", "1", "ok1", updated=1704103200)
        w = self.start("acrerrors", [
            azure_connector("az", self.fake),
            azure_connector("bad", self.fake, secret_ref="az_wrong")], [
            acr_source("okay", "az", "ok/app"),
            acr_source("missing", "az", "no/such"),
            acr_source("refused", "bad", "ok/app")])
        w.wait_log(r'msg="poll committed" source=okay ')
        missing = w.wait_log(r'msg="poll failed" source=missing ')[0]
        self.assertIn("NAME_UNKNOWN", missing)
        self.assertIn("repository name not known to registry", missing)
        refused = w.wait_log(r'msg="poll failed" source=refused ')[0]
        self.assertIn("AADSTS7000215", refused)
        self.assertIn("Invalid client secret provided", refused)
        self.assertNotIn("Trace ID", refused)
        self.wait_polls(w, "okay", 2)
        self.assertTrue(w.running())
        w.stop()
        self.no_secrets(w)

    def test_acr_faults(self):
        repo = "faulty/app"
        self.fake.tag(repo, "1", repo + "1", updated=1704103200)
        w = self.start("acrfaults", [azure_connector("az", self.fake)],
                       [acr_source("faulty", "az", repo)])
        w.wait_log(r'msg="poll committed" source=faulty ')
        expect = {"500": "HTTP 500", "garbage": "invalid JSON",
                  "html": "not JSON", "truncate": "faulty",
                  "huge": "exceeds", "429": "HTTP 429"}
        for kind, text in expect.items():
            failed = len(w.matching(r'msg="poll failed" source=faulty '))
            retry = 2
            # Enough for the limiter's quick retries of 5xx and errors.
            self.fake.fault("/acr/v1/faulty/", kind, count=10,
                            retry_after=retry)
            line = w.wait_log(r'msg="poll failed" source=faulty ',
                              count=failed + 1, timeout=60)[-1]
            self.assertIn(text, line, kind)
            self.fake.clear_faults()
            if kind == "429":
                self.assertRegex(line, r"retry_after_s=[1-9]")
                continue
            self.wait_polls(w, "faulty")
        self.assertTrue(w.running())
        w.kill()
        self.no_secrets(w)

    # ------------------------------------------------------ Azure Artifacts

    def test_artifacts_created_with_package_fields(self):
        pid = self.fake.package("acme", None, "releases",
                                "com.acme:app", "Maven",
                                {"1.0.0": 1704103200, "1.1.0": 1704103300})
        self.assertTrue(pid)
        before = len(self.hook.accepted())
        w = self.start("azart", [artifacts_connector("ado", self.fake)],
                       [artifacts_source("azart", "ado", "releases",
                                         "com.acme:app")])
        w.wait_log(r'msg="poll committed" source=azart ')
        self.fake.package("acme", None, "releases", "com.acme:app", "Maven",
                          {"1.2.0": 1704103400})
        events = self.wait_events("azart", before, 1)
        self.wait_polls(w, "azart")
        w.stop()
        data = events[0]["data"]
        self.assertEqual(events[0]["type"], "artifact.created")
        self.assertEqual(data["version"], "1.2.0")
        self.assertEqual(data["kind"], "package")
        self.assertEqual(data["repository"], "releases")
        self.assertEqual(data["package"], "com.acme:app")
        self.assertEqual(data["group"], "com.acme")
        self.assertEqual(data["format"], "maven")
        reqs = self.fake.requests("/acme/_apis/packaging/Feeds/releases/")
        # The package is looked up once; then one request a poll.
        self.assertEqual(len([p for _, p, _ in reqs if "/packages?" in p]),
                         1)
        self.assertTrue(all(h.get("x-tfs-fedauthredirect") == "Suppress"
                            for _, _, h in reqs))
        self.no_secrets(w)

    def test_artifacts_project_scope_nuget(self):
        self.fake.package("acme", "web", "nightly", "Acme.Core", "NuGet",
                          {"2.0.0": 1704103200})
        before = len(self.hook.accepted())
        w = self.start("azartproj", [artifacts_connector("ado", self.fake)],
                       [artifacts_source("proj", "ado", "nightly",
                                         "acme.core", ptype="nuget",
                                         project="web")])
        w.wait_log(r'msg="poll committed" source=proj ')
        self.fake.package("acme", "web", "nightly", "Acme.Core", "NuGet",
                          {"2.1.0": 1704103300})
        events = self.wait_events("proj", before, 1)
        w.stop()
        self.assertEqual(events[0]["data"]["version"], "2.1.0")
        self.assertIsNone(events[0]["data"]["group"])

    def test_artifacts_errors(self):
        self.fake.package("acme", None, "errs", "com.acme:lib", "Maven",
                          {"1.0": 1704103200})
        w = self.start("azarterr", [
            artifacts_connector("ado", self.fake),
            artifacts_connector("badpat", self.fake, token_ref="az_badpat")],
            [artifacts_source("good", "ado", "errs", "com.acme:lib"),
             artifacts_source("nofeed", "ado", "nope", "com.acme:lib"),
             artifacts_source("nopkg", "ado", "errs", "com.acme:other"),
             artifacts_source("pat", "badpat", "errs", "com.acme:lib")])
        w.wait_log(r'msg="poll committed" source=good ')
        line = w.wait_log(r'msg="poll failed" source=nofeed ')[0]
        self.assertIn("VS800032", line)
        line = w.wait_log(r'msg="poll failed" source=nopkg ')[0]
        self.assertIn("has no maven package", line)
        line = w.wait_log(r'msg="poll failed" source=pat ')[0]
        self.assertIn("HTTP 401", line)
        self.assertIn("TF400813", line)
        # The sign-in page (a 203 HTML answer) is an auth error.
        failed = len(w.matching(r'msg="poll failed" source=good '))
        self.fake.fault("/acme/_apis/packaging/Feeds/errs/Packages/", "signin",
                        count=1)
        line = w.wait_log(r'msg="poll failed" source=good ',
                          count=failed + 1)[-1]
        self.assertIn("HTTP 203", line)
        self.assertIn("sign-in page", line)
        self.assertNotIn("JSON", line)
        self.wait_polls(w, "good")
        for kind, text in (("garbage", "invalid JSON"),
                           ("500", "HTTP 500"), ("huge", "exceeds")):
            failed = len(w.matching(r'msg="poll failed" source=good '))
            self.fake.fault("/acme/_apis/packaging/Feeds/errs/Packages/",
                            kind, count=10)
            line = w.wait_log(r'msg="poll failed" source=good ',
                              count=failed + 1, timeout=30)[-1]
            self.assertIn(text, line)
            self.fake.clear_faults()
            self.wait_polls(w, "good")
        self.assertTrue(w.running())
        w.stop()
        self.no_secrets(w)


if __name__ == "__main__":
    unittest.main()
