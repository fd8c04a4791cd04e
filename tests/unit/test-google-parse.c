/*
 * test-google-parse.c: the pure parsers of the Google family against
 * recorded answers of the shapes Google documents (tests/fixtures/google/):
 * a service-account key, the grant's claims, error bodies of the APIs, of
 * GCS and of OAuth, GCS objects.list, Artifact Registry dockerImages.list
 * and packages.versions.list, and gcr.io's tags/list with its manifest map.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "watcher.h"
#include "unit.h"
#include "fetch.h"
#include "json.h"
#include "google/google.h"

#define FIX "tests/fixtures/google/"

#define fixture(name, len)	ut_fixture(FIX, name, len)
#define fixture_json(name)	ut_fixture_json(FIX, name)

static const char *
meta(const struct version *v, const char *name)
{
	const cJSON	*f = cJSON_GetObjectItemCaseSensitive(v->metadata, name);

	return (cJSON_IsString(f) ? f->valuestring : NULL);
}

static const struct version *
find(const struct versions *vs, const char *name)
{
	size_t	 i;

	for (i = 0; i < vs->n; i++)
		if (strcmp(vs->v[i].name, name) == 0)
			return (&vs->v[i]);
	return (NULL);
}

Test(google_parse, service_account_key)
{
	size_t		 len;
	char		*body = fixture("sa-key.json", &len), *cause = NULL;
	struct gcp_key	 k;

	cr_assert_eq(gcp_parse_key(body, len, &k, &cause), 0, "%s", cause);
	cr_assert_str_eq(k.client_email,
	    "svc@my-project.iam.gserviceaccount.com");
	cr_assert_str_eq(k.token_uri, "https://oauth2.googleapis.com/token");
	cr_assert_str_eq(k.private_key_id,
	    "0123456789abcdef0123456789abcdef01234567");
	cr_assert(strncmp(k.private_key, "-----BEGIN PRIVATE KEY-----", 27) ==
	    0);
	gcp_key_clear(&k);
	cr_assert_null(k.private_key);
	free(body);
}

Test(google_parse, bad_keys_say_why_without_the_key)
{
	struct gcp_key	 k;
	char		*cause = NULL;
	const char	*user = "{\"type\":\"authorized_user\","
	    "\"client_secret\":\"s3cr3t\"}";
	const char	*nokey = "{\"client_email\":\"a@b\"}";
	const char	*ftp = "{\"client_email\":\"a@b\",\"private_key\":\"k\","
	    "\"token_uri\":\"ftp://x\"}";
	const char	*garbage = "-----BEGIN PRIVATE KEY----- MIIB";

	cr_assert_eq(gcp_parse_key(user, strlen(user), &k, &cause), -1);
	cr_assert(strstr(cause, "authorized_user") != NULL, "%s", cause);
	cr_assert(strstr(cause, "s3cr3t") == NULL);
	free(cause);
	cr_assert_eq(gcp_parse_key(nokey, strlen(nokey), &k, &cause), -1);
	cr_assert(strstr(cause, "private_key") != NULL, "%s", cause);
	free(cause);
	cr_assert_eq(gcp_parse_key(ftp, strlen(ftp), &k, &cause), -1);
	cr_assert(strstr(cause, "token_uri") != NULL, "%s", cause);
	free(cause);
	cr_assert_eq(gcp_parse_key(garbage, strlen(garbage), &k, &cause), -1);
	cr_assert(strstr(cause, "MIIB") == NULL, "%s", cause);
	free(cause);
}

Test(google_parse, grant_claims)
{
	struct gcp_key	 k = { .client_email = "svc@p.iam.gserviceaccount.com",
	    .token_uri = "https://oauth2.googleapis.com/token" };
	char		*s = gcp_grant_claims(&k, GCP_SCOPE, 1767261600);
	cJSON		*c = cJSON_Parse(s);
	double		 iat, exp;

	cr_assert_not_null(c);
	cr_assert_str_eq(json_str(c, "iss"), k.client_email);
	cr_assert_str_eq(json_str(c, "aud"), k.token_uri);
	cr_assert_str_eq(json_str(c, "scope"), GCP_SCOPE);
	cr_assert_eq(json_num(c, "iat", &iat), 0);
	cr_assert_eq(json_num(c, "exp", &exp), 0);
	cr_assert(iat <= 1767261600 && iat > 1767261600 - 120);
	cr_assert_eq(exp - iat, 3600);
	cJSON_Delete(c);
	free(s);
}

Test(google_parse, errors_of_apis_gcs_and_oauth)
{
	static const char *const files[] = { "error-api.json",
	    "error-gcs.json", "error-oauth.json" };
	static const char *const status[] = { "RESOURCE_EXHAUSTED",
	    "notFound", "invalid_grant" };
	static const char *const says[] = { "Quota exceeded",
	    "bucket does not exist", "short-lived token" };
	size_t		 i, len;
	char		*body, *code, *msg;

	for (i = 0; i < nitems(files); i++) {
		body = fixture(files[i], &len);
		cr_assert_eq(gcp_parse_error(body, len, &code, &msg), 0);
		cr_assert_str_eq(code, status[i]);
		cr_assert(strstr(msg, says[i]) != NULL, "%s", msg);
		free(code);
		free(msg);
		free(body);
	}
	cr_assert_eq(gcp_parse_error("<html>", 6, &code, &msg), -1);
	cr_assert_eq(gcp_parse_error("{\"error\":3}", 11, &code, &msg), -1);
	cr_assert_eq(gcp_parse_error(NULL, 0, &code, &msg), -1);
}

Test(google_parse, token_answer)
{
	size_t	 len;
	char	*body = fixture("token.json", &len), *token, *cause = NULL;
	int64_t	 exp;

	cr_assert_eq(fetch_parse_token(body, len, 1000, &token, &exp, &cause),
	    0, "%s", cause);
	cr_assert_str_eq(token, "ya29.c.b0AXv0zTexample");
	cr_assert_eq(exp, 1000 + 3599);
	free(token);
	free(body);
}

Test(google_parse, gcs_objects)
{
	cJSON			*doc = fixture_json("gcs-objects.json");
	struct versions		 vs = { 0 };
	const struct version	*v;
	char			*cause = NULL;

	cr_assert_eq(gcp_parse_gcs_objects(doc, &vs, &cause), 0, "%s", cause);
	cr_assert_eq(vs.n, 2, "the folder placeholder is no version");
	v = find(&vs, "releases/v1.2.3/app.tgz");
	cr_assert_not_null(v);
	cr_assert_str_eq(v->digest, "1B2M2Y8AsgTpgAmY7PhCfg==@1704103200123456",
	    "the hash at its generation: a rewrite is a new digest");
	cr_assert_str_eq(meta(v, "md5Hash"), "1B2M2Y8AsgTpgAmY7PhCfg==");
	cr_assert_eq(v->pushed_at, 1704103200);
	cr_assert_eq(v->size, 1048576);
	cr_assert_str_eq(meta(v, "generation"), "1704103200123456");
	cr_assert(strstr(meta(v, "url"), "alt=media") != NULL);
	v = find(&vs, "releases/v1.2.3/composed.bin");
	cr_assert_not_null(v);
	cr_assert_str_eq(v->digest, "yZRlqg==@1704103300000000",
	    "composite: crc32c");
	cr_assert_str_eq(meta(v, "crc32c"), "yZRlqg==");
	cr_assert_eq(v->size, 42);
	versions_free(&vs);
	cJSON_Delete(doc);
}

Test(google_parse, gcs_bad_shapes)
{
	struct versions	 vs = { 0 };
	char		*cause = NULL;
	cJSON		*a = cJSON_Parse("{\"items\": {}}");
	cJSON		*b = cJSON_Parse("{\"kind\": \"storage#objects\"}");
	cJSON		*c = cJSON_Parse("[1]");
	cJSON		*d = cJSON_Parse("{\"items\": [1, {\"name\": 5}, "
	    "{\"name\": \"x\", \"size\": \"-3\", \"updated\": \"soon\"}]}");

	cr_assert_eq(gcp_parse_gcs_objects(a, &vs, &cause), -1);
	free(cause);
	cr_assert_eq(gcp_parse_gcs_objects(b, &vs, &cause), 0, "empty bucket");
	cr_assert_eq(vs.n, 0);
	cr_assert_eq(gcp_parse_gcs_objects(c, &vs, &cause), -1);
	free(cause);
	cr_assert_eq(gcp_parse_gcs_objects(d, &vs, &cause), 0);
	cr_assert_eq(vs.n, 1);
	cr_assert_eq(vs.v[0].size, -1);
	cr_assert_eq(vs.v[0].pushed_at, 0);
	cr_assert_null(vs.v[0].digest);
	versions_free(&vs);
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(c);
	cJSON_Delete(d);
}

Test(google_parse, ar_docker_images_of_one_package)
{
	cJSON			*doc = fixture_json("ar-docker-images.json");
	struct versions		 vs = { 0 };
	const struct version	*v;
	char			*cause = NULL;

	cr_assert_eq(gcp_parse_ar_images(doc, "team/app", &vs, &cause), 0,
	    "%s", cause);
	cr_assert_eq(vs.n, 2, "two tags; the untagged image and another "
	    "package are none");
	v = find(&vs, "latest");
	cr_assert_not_null(v);
	cr_assert_str_eq(v->digest, "sha256:9f1c0c1d0e5c4f1b7b0d1f7e1e3a3a1b"
	    "2c3d4e5f60718293a4b5c6d7e8f90a1b");
	cr_assert_eq(v->pushed_at, 1767261600);
	cr_assert_eq(v->size, 29364201);
	cr_assert_not_null(find(&vs, "1.2.3"));
	cr_assert_null(find(&vs, "9.9"));
	versions_free(&vs);
	cJSON_Delete(doc);
}

Test(google_parse, ar_versions_with_related_tags)
{
	cJSON			*doc = fixture_json("ar-versions.json");
	struct versions		 vs = { 0 };
	const struct version	*v;
	char			*cause = NULL;

	cr_assert_eq(gcp_parse_ar_versions(doc, &vs, &cause), 0, "%s", cause);
	cr_assert_eq(vs.n, 2);
	v = find(&vs, "1.4.0");
	cr_assert_not_null(v);
	cr_assert_eq(v->pushed_at, 1767261600);
	cr_assert_str_eq(meta(v, "tags"), "release,stable");
	cr_assert_not_null(find(&vs, "2.0.0+rc1"), "%%2B decoded");
	versions_free(&vs);
	cJSON_Delete(doc);
}

Test(google_parse, gcr_tags_with_the_manifest_map)
{
	cJSON			*doc = fixture_json("gcr-tags.json");
	struct versions		 vs = { 0 };
	const struct version	*v;
	char			*cause = NULL;

	cr_assert_eq(gcp_parse_gcr_tags(doc, &vs, &cause), 0, "%s", cause);
	cr_assert_eq(vs.n, 2);
	v = find(&vs, "latest");
	cr_assert_not_null(v);
	cr_assert_str_eq(v->digest, "sha256:400ee2ed939df769d4681023810d2e4f"
	    "b9479b8401d97003c710d0e20f7c49c6");
	cr_assert_eq(v->pushed_at, 1597767277);
	cr_assert_eq(v->size, 763789);
	versions_free(&vs);
	cJSON_Delete(doc);
}

Test(google_parse, plain_tag_list_without_the_map)
{
	cJSON		*doc = cJSON_Parse("{\"name\":\"p/i\",\"tags\":[\"a\","
	    "\"b\", 3]}");
	cJSON		*bad = cJSON_Parse("{\"manifest\": []}");
	struct versions	 vs = { 0 };
	char		*cause = NULL;

	cr_assert_eq(gcp_parse_gcr_tags(doc, &vs, &cause), 0);
	cr_assert_eq(vs.n, 2);
	cr_assert_null(vs.v[0].digest, "the core resolves it");
	cr_assert_eq(gcp_parse_gcr_tags(bad, &vs, &cause), -1);
	free(cause);
	versions_free(&vs);
	cJSON_Delete(doc);
	cJSON_Delete(bad);
}
