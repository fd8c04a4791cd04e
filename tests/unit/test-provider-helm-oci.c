/*
 * test-provider-helm-oci.c: the pure parts of Helm charts in OCI
 * registries (providers/helm/helm-oci-parse.c): helmRepoUrl, manifests
 * (a chart's, an image's, an index, hostile ones), the config blob and the
 * '+'/'_' spelling of versions in tags.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "watcher.h"
#include "../../providers/helm/helm-oci.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"

static char *
slurp(const char *path, size_t *len)
{
	FILE	*f;
	char	*buf;
	long	 n;

	cr_assert_not_null(f = fopen(path, "rb"), "%s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = xmalloc(n + 1);
	cr_assert_eq(fread(buf, 1, n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = n;
	return (buf);
}

Test(helm_oci, urls)
{
	struct helm_oci_url	 u;
	char			*cause = NULL;

	cr_assert_eq(helm_oci_url_parse("oci://ghcr.io/acme/charts/", &u,
	    &cause), 0, "%s", cause);
	cr_expect_str_eq(u.base, "https://ghcr.io");
	cr_expect_str_eq(u.registry, "ghcr.io");
	cr_expect_str_eq(u.namespace, "acme/charts");
	helm_oci_url_clear(&u);
	cr_assert_eq(helm_oci_url_parse("http://127.0.0.1:5000", &u,
	    &cause), 0, "%s", cause);
	cr_expect_str_eq(u.base, "http://127.0.0.1:5000");
	cr_expect_str_eq(u.namespace, "");
	helm_oci_url_clear(&u);
	cr_expect_eq(helm_oci_url_parse("ftp://x/y", &u, &cause), -1);
	free(cause);
	cr_expect_eq(helm_oci_url_parse("oci:///charts", &u, &cause), -1);
	free(cause);
	cr_expect_eq(helm_oci_url_parse("oci://user@host/charts", &u,
	    &cause), -1);
	free(cause);
	cr_expect_eq(helm_oci_url_parse("oci://host/Bad Path", &u, &cause),
	    -1);
	free(cause);
}

Test(helm_oci, chart_manifest)
{
	struct helm_oci_manifest m;
	char			*body, *cause = NULL;
	size_t			 len;

	body = slurp("tests/fixtures/helm-oci/chart-manifest.json", &len);
	cr_assert_eq(helm_oci_parse_manifest(body, len, &m, &cause), 0, "%s",
	    cause);
	cr_expect(m.chart);
	cr_expect_str_eq(m.config_digest, D1);
	cr_expect_str_eq(m.chart_digest, D2);
	helm_oci_manifest_clear(&m);
	free(body);
	body = slurp("tests/fixtures/helm-oci/image-manifest.json", &len);
	cr_assert_eq(helm_oci_parse_manifest(body, len, &m, &cause), 0);
	cr_expect_not(m.chart, "an image is not a chart");
	helm_oci_manifest_clear(&m);
	free(body);
}

Test(helm_oci, index_and_hostile_manifests)
{
	static const char *const bad[] = {
		"", "<html>nope</html>", "{\"schemaVersion\":2}",
		"{\"config\":{\"mediaType\":\"application/vnd.cncf.helm.config"
		".v1+json\",\"digest\":\"sha256:zz\"}}",
		"{\"config\":",
	};
	struct helm_oci_manifest m;
	const char		*index = "{\"mediaType\":\"application/vnd.oci"
	    ".image.index.v1+json\",\"manifests\":[]}";
	char			*cause;
	size_t			 i;

	cr_assert_eq(helm_oci_parse_manifest(index, strlen(index), &m,
	    &cause), 0);
	cr_expect_not(m.chart);
	helm_oci_manifest_clear(&m);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cause = NULL;
		cr_expect_eq(helm_oci_parse_manifest(bad[i], strlen(bad[i]),
		    &m, &cause), -1, "%s", bad[i]);
		cr_expect_not_null(cause);
		free(cause);
	}
}

Test(helm_oci, config_blob)
{
	char	*body, *name, *version, *app, *cause = NULL;
	size_t	 len;

	body = slurp("tests/fixtures/helm-oci/chart-config.json", &len);
	cr_assert_eq(helm_oci_parse_config(body, len, &name, &version, &app,
	    &cause), 0, "%s", cause);
	cr_expect_str_eq(name, "mychart");
	cr_expect_str_eq(version, "0.2.0+build.1");
	cr_expect_str_eq(app, "1.16.0");
	free(name);
	free(version);
	free(app);
	free(body);
	cr_expect_eq(helm_oci_parse_config("{\"name\":\"x\"}", 12, &name,
	    &version, &app, &cause), -1);
	free(cause);
}

Test(helm_oci, version_spelling)
{
	char	*s;

	s = helm_oci_tag_of("0.2.0+build.1");
	cr_expect_str_eq(s, "0.2.0_build.1");
	free(s);
	s = helm_oci_version_of("0.2.0_build.1");
	cr_expect_str_eq(s, "0.2.0+build.1");
	free(s);
}
