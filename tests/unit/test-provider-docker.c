/*
 * test-provider-docker.c: the DockerRegistry provider's pure parsers, run
 * over every recorded response in tests/fixtures/docker/<parser>/; each
 * response sits beside NAME.expect, the parser's result written as text.  A
 * new case is a new pair of files.  Plus the grammar checks on tags and
 * digests that keep hostile names out of URLs.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "../../providers/provider-docker.h"

#define FIXTURES	"tests/fixtures/docker"
#define TOKEN_NOW	1800000000	/* 2027-01-15T08:00:00Z */

static char *
slurp(const char *path, size_t *len)
{
	FILE	*f;
	char	*data;
	long	 size;

	f = fopen(path, "rb");
	cr_assert_not_null(f, "cannot open %s (run from the top directory)",
	    path);
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	cr_assert_geq(size, 0);
	rewind(f);
	data = xmalloc((size_t)size + 1);
	cr_assert_eq(fread(data, 1, (size_t)size, f), (size_t)size);
	data[size] = '\0';
	fclose(f);
	*len = (size_t)size;
	return (data);
}

static void
render_tags(const char *body, size_t len, struct buf *out)
{
	char	**tags, *cause;
	size_t	 n, i;

	if (docker_parse_tags(body, len, &tags, &n, &cause) != 0) {
		cr_assert_null(tags);
		buf_printf(out, "error: %s\n", cause);
		free(cause);
		return;
	}
	buf_printf(out, "tags %zu\n", n);
	for (i = 0; i < n; i++)
		buf_printf(out, "%s\n", tags[i]);
	docker_tags_free(tags, n);
}

static void
render_token(const char *body, size_t len, struct buf *out)
{
	char	*token, *cause;
	int64_t	 expires;

	if (docker_parse_token(body, len, TOKEN_NOW, &token, &expires,
	    &cause) != 0) {
		cr_assert_null(token);
		buf_printf(out, "error: %s\n", cause);
		free(cause);
		return;
	}
	buf_printf(out, "token %s\nexpires %lld\n", token,
	    (long long)(expires - TOKEN_NOW));
	free(token);
}

static void
render_manifest(const char *body, size_t len, struct buf *out)
{
	struct docker_manifest	 m;
	char			*cause;

	if (docker_parse_manifest(body, len, NULL, &m, &cause) != 0) {
		cr_assert_null(m.config_digest);
		cr_assert_null(m.platform_digest);
		buf_printf(out, "error: %s\n", cause);
		free(cause);
		return;
	}
	if (m.kind == DOCKER_MANIFEST_INDEX)
		buf_printf(out, "index %s\n", m.platform_digest);
	else
		buf_printf(out, "image %s\n", m.config_digest);
	docker_manifest_clear(&m);
}

static void
render_config(const char *body, size_t len, struct buf *out)
{
	cJSON	*labels, *item;
	char	*cause;
	int64_t	 created;

	if (docker_parse_config(body, len, &labels, &created, &cause) != 0) {
		cr_assert_null(labels);
		buf_printf(out, "error: %s\n", cause);
		free(cause);
		return;
	}
	buf_printf(out, "created %lld\n", (long long)created);
	cJSON_ArrayForEach(item, labels)
		buf_printf(out, "label %s=%s\n", item->string, item->valuestring);
	cJSON_Delete(labels);
}

/* Runs `render` over every response in dir; returns how many it checked. */
static size_t
run_fixtures(const char *dir,
    void (*render)(const char *, size_t, struct buf *))
{
	DIR		*d;
	struct dirent	*de;
	struct buf	 got = { 0 };
	char		*path, *expect_path, *body, *expect, *dot;
	size_t		 len, elen, checked = 0;

	d = opendir(dir);
	cr_assert_not_null(d, "no %s (run from the top directory)", dir);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' ||
		    (dot = strrchr(de->d_name, '.')) == NULL ||
		    strcmp(dot, ".expect") == 0)
			continue;
		xasprintf(&path, "%s/%s", dir, de->d_name);
		xasprintf(&expect_path, "%s/%.*s.expect", dir,
		    (int)(dot - de->d_name), de->d_name);
		body = slurp(path, &len);
		expect = slurp(expect_path, &elen);
		render(body, len, &got);
		cr_expect_str_eq(got.data, expect, "%s: got\n%s\nwanted\n%s",
		    path, got.data, expect);
		buf_free(&got);
		free(body);
		free(expect);
		free(path);
		free(expect_path);
		checked++;
	}
	closedir(d);
	return (checked);
}

Test(docker_parse, tag_lists)
{
	cr_assert_geq(run_fixtures(FIXTURES "/tags", render_tags), 10);
}

Test(docker_parse, token_responses)
{
	cr_assert_geq(run_fixtures(FIXTURES "/token", render_token), 10);
}

Test(docker_parse, manifests)
{
	cr_assert_geq(run_fixtures(FIXTURES "/manifest", render_manifest), 10);
}

Test(docker_parse, config_blobs)
{
	cr_assert_geq(run_fixtures(FIXTURES "/config", render_config), 10);
}

Test(docker_parse, content_type_decides_without_media_type)
{
	const char		*body = "{\"schemaVersion\":2,\"manifests\":"
	    "[{\"digest\":\"sha256:"
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	    "\",\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}";
	struct docker_manifest	 m;
	char			*cause = NULL;

	cr_assert_eq(docker_parse_manifest(body, strlen(body),
	    "application/vnd.docker.distribution.manifest.list.v2+json; x=y",
	    &m, &cause), 0);
	cr_assert_eq(m.kind, DOCKER_MANIFEST_INDEX);
	docker_manifest_clear(&m);
	cr_assert_eq(docker_parse_manifest(body, strlen(body),
	    "application/vnd.oci.image.manifest.v1+json", &m, &cause), -1);
	cr_assert_str_eq(cause, "the manifest has no \"config\" object");
	free(cause);
}

Test(docker_parse, tag_grammar)
{
	cr_assert(docker_tag_valid("latest"));
	cr_assert(docker_tag_valid("_x.y-Z9"));
	cr_assert_not(docker_tag_valid(""));
	cr_assert_not(docker_tag_valid(".hidden"));
	cr_assert_not(docker_tag_valid("-x"));
	cr_assert_not(docker_tag_valid("a/b"));
	cr_assert_not(docker_tag_valid("a?b"));
	cr_assert_not(docker_tag_valid("a b"));
}

Test(docker_parse, digest_grammar)
{
	cr_assert(docker_digest_valid("sha256:"
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
	cr_assert(docker_digest_valid("multihash+base58:QmRZxt2b1FVZPNqd8hsi"));
	cr_assert_not(docker_digest_valid("sha256:0123"));
	cr_assert_not(docker_digest_valid("sha256:"
	    "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"));
	cr_assert_not(docker_digest_valid("sha256:"));
	cr_assert_not(docker_digest_valid(":abc"));
	cr_assert_not(docker_digest_valid("SHA256:abc"));
	cr_assert_not(docker_digest_valid("sha1:ab/cd"));
	cr_assert_not(docker_digest_valid("nocolon"));
}
