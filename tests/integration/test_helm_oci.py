"""test_helm_oci.py: HelmChart sources on an OciHelmRepo, against the real
Debian docker-registry (distribution), anonymous and with htpasswd Basic.

Charts are pushed through the registry API as Helm pushes them: a config
blob (Chart.yaml as JSON, application/vnd.cncf.helm.config.v1+json) and
one layer (the chart's .tgz, application/vnd.cncf.helm.chart.content.v1
.tar+gzip); a version with build metadata "0.2.0+build.1" is tag
"0.2.0_build.1".  An image pushed into the same repository is not a chart.
Cases (issue 12): silent baseline; a new chart version is one
artifact.created of kind chart with chart and appVersion; an image beside
it is never an event; a re-pushed version is artifact.updated with
previousDigest; a wrong password fails only that source, one log line per
poll; pointing the source at another chart re-baselines silently.
"""

import gzip
import io
import json
import tarfile
import unittest

from harness import Registry, sha256_digest
from repocase import RepoCase

HELM_CONFIG = "application/vnd.cncf.helm.config.v1+json"
HELM_CHART = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
PASSWORD_ENV = "AW_HELM_OCI_PASSWORD"


def chart_tgz(name, version, note=""):
    data = ("apiVersion: v2\nname: %s\nversion: %s\n# %s\n"
            % (name, version, note)).encode()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        info = tarfile.TarInfo("%s/Chart.yaml" % name)
        info.size = len(data)
        info.mtime = 0
        tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


def push_chart(client, repo, name, version, app_version, note=""):
    """Push chart name@version as Helm does; return the manifest digest."""
    config = json.dumps({"apiVersion": "v2", "name": name,
                         "version": version, "appVersion": app_version},
                        sort_keys=True).encode()
    layer = chart_tgz(name, version, note)
    config_digest = client.upload_blob(repo, config)
    layer_digest = client.upload_blob(repo, layer)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": HELM_CONFIG, "digest": config_digest,
                   "size": len(config)},
        "layers": [{"mediaType": HELM_CHART, "digest": layer_digest,
                    "size": len(layer)}],
        "annotations": {"org.opencontainers.image.title": name,
                        "org.opencontainers.image.version": version},
    }, sort_keys=True).encode()
    tag = version.replace("+", "_")
    status, _, body = client.request(
        "PUT", "/v2/%s/manifests/%s" % (repo, tag),
        "repository:%s:pull,push" % repo, manifest,
        {"Content-Type": OCI_MANIFEST})
    if status != 201:
        raise RuntimeError("manifest put: %d %r" % (status, body))
    return sha256_digest(manifest)


def oci_connector(identifier, url, username=None):
    auth = {"type": "Anonymous"} if username is None else \
        {"type": "UsernamePassword",
         "spec": {"username": username, "passwordRef": "registry_pwd"}}
    return {"connector": {"identifier": identifier, "type": "OciHelmRepo",
                          "spec": {"helmRepoUrl": url, "auth": auth}}}


def chart_source(identifier, connector, chart, **watch):
    source = {"identifier": identifier, "type": "HelmChart",
              "interval": "1s",
              "spec": {"connectorRef": connector, "chartName": chart}}
    source.update(watch)
    return source


class OciHelm(RepoCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = Registry(cls.workdir, "anonymous")
        cls.registry.start()
        cls.locked = Registry(cls.workdir, "htpasswd")
        cls.locked.start()

    @classmethod
    def tearDownClass(cls):
        cls.registry.stop()
        cls.locked.stop()
        super().tearDownClass()

    def config(self, sources, **kw):
        return super().config(sources, [
            oci_connector("oci", self.registry.url + "/charts"),
            oci_connector("locked", self.locked.url + "/charts",
                          Registry.USERNAME)],
            secrets={"registry_pwd": "env:" + PASSWORD_ENV}, **kw)

    def test_charts_not_images(self):
        client = self.registry.client()
        repo = "charts/web"
        first = push_chart(client, repo, "web", "0.1.0", "1.0")
        client.push(repo, "image-1")
        watcher = self.start(self.config([chart_source(
            "web", "oci", "web", digestCheckInterval="1s")]),
            env={PASSWORD_ENV: "unused"})
        self.wait_polls(watcher, "web", 2)
        self.assertEqual(self.hook.deliveries, [], "the baseline emitted")

        client.push(repo, "image-2")
        new = push_chart(client, repo, "web", "0.2.0+build.1", "2.0")
        [event] = self.events(1)
        self.assertEqual(event["type"], "artifact.created")
        data = event["data"]
        self.assertEqual(data["kind"], "chart")
        self.assertEqual(data["sourceType"], "HelmChart")
        self.assertEqual(data["version"], "0.2.0+build.1")
        self.assertEqual(data["chart"], "web")
        self.assertEqual(data["appVersion"], "2.0")
        self.assertEqual(data["digest"], new)
        self.assertEqual(data["repository"],
                         "oci://%s/charts" % self.registry.host)
        self.assertEqual(event["subject"], "web@0.2.0+build.1")

        again = push_chart(client, repo, "web", "0.1.0", "1.0", "rebuilt")
        self.assertNotEqual(again, first)
        events = self.events(2)
        self.assertEqual(events[1]["type"], "artifact.updated")
        self.assertEqual(events[1]["data"]["version"], "0.1.0")
        self.assertEqual(events[1]["data"]["digest"], again)
        self.assertEqual(events[1]["data"]["previousDigest"], first)

        self.wait_more_polls(watcher, "web")
        self.assertEqual(len(self.hook.deliveries), 2,
                         "an image became an event, or one repeated")
        self.assertEqual(self.failures(watcher, "web"), [])
        watcher.stop()

    def test_check_connect_probes_the_connectors(self):
        """check --connect of OciHelmRepo connectors no source names:
        GET /v2/ with the password; a wrong one is refused."""
        config = RepoCase.config(self, [], [
            oci_connector("open", self.registry.url + "/charts"),
            oci_connector("locked", self.locked.url + "/charts",
                          Registry.USERNAME)],
            secrets={"registry_pwd": "env:" + PASSWORD_ENV})
        status, out = self.check_connect(
            config, env={PASSWORD_ENV: Registry.PASSWORD})
        self.assertEqual(status, 0, out)
        self.assertIn("connector open: reachable", out)
        self.assertIn("connector locked: reachable", out)
        status, out = self.check_connect(
            config, env={PASSWORD_ENV: "wrong-password"})
        self.assertEqual(status, 1, out)
        self.assertRegex(out, r"connector locked: FAILED: .*HTTP 401")
        self.assertNotIn("wrong-password", out)

    def test_wrong_password_fails_only_that_source(self):
        client = self.locked.client()
        push_chart(client, "charts/api", "api", "1.0.0", "1.0")
        push_chart(self.registry.client(), "charts/ok", "ok", "1.0.0", "1")
        watcher = self.start(self.config([
            chart_source("locked", "locked", "api"),
            chart_source("ok", "oci", "ok")]),
            env={PASSWORD_ENV: "wrong-password"})
        self.wait_polls(watcher, "locked", 3)
        failures = self.failures(watcher, "locked")
        self.assertEqual(len(failures), self.polls(watcher, "locked"))
        self.assertIn("HTTP 401", failures[0])
        push_chart(self.registry.client(), "charts/ok", "ok", "1.1.0", "1")
        [event] = self.events(1)
        self.assertEqual(event["data"]["sourceId"], "ok")
        watcher.stop()
        self.assert_no_secret_logged(watcher, "wrong-password")

        watcher = self.start(self.config([chart_source("locked", "locked",
                                                       "api")]),
                             env={PASSWORD_ENV: Registry.PASSWORD})
        self.wait_polls(watcher, "locked", 2)
        self.assertEqual(self.failures(watcher, "locked"), [])
        push_chart(client, "charts/api", "api", "1.1.0", "1.1")
        [event] = self.events(2)[1:]
        self.assertEqual(event["data"]["version"], "1.1.0")
        watcher.stop()
        self.assert_no_secret_logged(watcher, Registry.PASSWORD)

    def test_identity_change_rebaselines(self):
        client = self.registry.client()
        push_chart(client, "charts/one", "one", "1.0.0", "1")
        push_chart(client, "charts/two", "two", "2.0.0", "2")
        config = self.config([chart_source("moving", "oci", "one")],
                             state="identity")
        watcher = self.start(config, env={PASSWORD_ENV: "unused"})
        self.wait_polls(watcher, "moving", 2)
        watcher.stop()
        config["sources"][0]["spec"]["chartName"] = "two"
        watcher = self.start(config, env={PASSWORD_ENV: "unused"})
        watcher.wait_log(r'recording a silent baseline.*source=moving')
        self.wait_polls(watcher, "moving", 2)
        self.assertEqual(self.hook.deliveries, [])
        push_chart(client, "charts/two", "two", "2.1.0", "2")
        [event] = self.events(1)
        self.assertEqual(event["data"]["chart"], "two")
        watcher.stop()


if __name__ == "__main__":
    unittest.main()
