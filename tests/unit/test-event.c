/*
 * test-event.c: the CloudEvent of DESIGN §4, byte for byte, and the stable
 * id.  Expected ids were computed outside this code (Python's hashlib over
 * the same source "\0" version "\0" digest bytes).
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <cjson/cJSON.h>

#include "event.h"

#define DETECTED	1795341600	/* 2026-11-22T10:00:00Z */
#define PUSHED		1795341492	/* 2026-11-22T09:58:12Z */

Test(event, id_is_stable_and_known)
{
	char	 a[33], b[33];

	event_id("nginx", "1.27.3", "sha256:aaaa", a);
	event_id("nginx", "1.27.3", "sha256:aaaa", b);
	cr_assert_str_eq(a, "e6810a5ffef042de2c1aee1b674c5c32");
	cr_assert_str_eq(a, b);
}

Test(event, id_without_digest_hashes_empty_digest)
{
	char	 a[33], b[33];

	event_id("nginx", "1.0", NULL, a);
	event_id("nginx", "1.0", "", b);
	cr_assert_str_eq(a, "b06ab7715ee5c425b9d0f1a464881ea2");
	cr_assert_str_eq(a, b);
}

Test(event, id_separates_fields)
{
	char	 a[33], b[33];

	event_id("ab", "c", NULL, a);
	event_id("a", "bc", NULL, b);
	cr_assert_str_eq(a, "629c2f14f654f026086f2aefe1855533");
	cr_assert_str_eq(b, "aa795aa4bbb6117911ef062e271bcb05");
}

Test(event, id_changes_with_digest)
{
	char	 a[33], b[33];

	event_id("nginx", "latest", "sha256:aaaa", a);
	event_id("nginx", "latest", "sha256:bbbb", b);
	cr_assert_str_eq(b, "dcc259b7a1f368d79e5e6cea1879e0d3");
	cr_assert_str_neq(a, b);
}

Test(event, created_full)
{
	struct version		 v = { 0 };
	struct event_info	 ei = { 0 };
	char			 id[33], *json;

	v.name = "1.27.3";
	v.digest = "sha256:aaaa";
	v.pushed_at = PUSHED;
	v.labels = cJSON_Parse(
	    "{\"org.opencontainers.image.version\":\"1.27.3\"}");
	v.metadata = cJSON_Parse(
	    "{\"url\":\"https://hub.example/nginx\",\"tag\":\"1.27.3\"}");
	ei.type = EVENT_CREATED;
	ei.source_id = "nginx";
	ei.source_type = "DockerRegistry";
	ei.connector_ref = "dockerhub";
	ei.registry = "index.docker.io";
	ei.repository = "library/nginx";
	ei.version = &v;
	ei.previous_digest = "sha256:ignored";	/* created: never shown */
	ei.detected_s = DETECTED;

	json = event_json(&ei, id);
	cr_assert_str_eq(id, "e6810a5ffef042de2c1aee1b674c5c32");
	cr_assert_str_eq(json,
	    "{\"specversion\":\"1.0\","
	    "\"id\":\"e6810a5ffef042de2c1aee1b674c5c32\","
	    "\"source\":\"/artifact-watcher/sources/nginx\","
	    "\"type\":\"artifact.created\","
	    "\"subject\":\"library/nginx:1.27.3\","
	    "\"time\":\"2026-11-22T10:00:00Z\","
	    "\"datacontenttype\":\"application/json\","
	    "\"data\":{\"sourceId\":\"nginx\","
	    "\"sourceType\":\"DockerRegistry\","
	    "\"connectorRef\":\"dockerhub\","
	    "\"kind\":\"container\","
	    "\"registry\":\"index.docker.io\","
	    "\"repository\":\"library/nginx\","
	    "\"version\":\"1.27.3\","
	    "\"digest\":\"sha256:aaaa\","
	    "\"previousDigest\":null,"
	    "\"image\":\"index.docker.io/library/nginx:1.27.3\","
	    "\"pushedAt\":\"2026-11-22T09:58:12Z\","
	    "\"labels\":{\"org.opencontainers.image.version\":\"1.27.3\"},"
	    "\"metadata\":{\"SHA\":\"sha256:aaaa\",\"SHAV2\":\"sha256:aaaa\","
	    "\"url\":\"https://hub.example/nginx\",\"tag\":\"1.27.3\"},"
	    "\"url\":\"https://hub.example/nginx\"}}");
	free(json);
	cJSON_Delete(v.labels);
	cJSON_Delete(v.metadata);
}

Test(event, updated_carries_previous_digest)
{
	struct version		 v = { 0 };
	struct event_info	 ei = { 0 };
	char			 id[33], *json;

	v.name = "latest";
	v.digest = "sha256:bbbb";
	ei.type = EVENT_UPDATED;
	ei.source_id = "nginx";
	ei.source_type = "DockerRegistry";
	ei.connector_ref = "dockerhub";
	ei.registry = "index.docker.io";
	ei.repository = "library/nginx";
	ei.version = &v;
	ei.previous_digest = "sha256:aaaa";
	ei.detected_s = DETECTED;

	json = event_json(&ei, id);
	cr_assert_str_eq(id, "dcc259b7a1f368d79e5e6cea1879e0d3");
	cr_assert_str_eq(json,
	    "{\"specversion\":\"1.0\","
	    "\"id\":\"dcc259b7a1f368d79e5e6cea1879e0d3\","
	    "\"source\":\"/artifact-watcher/sources/nginx\","
	    "\"type\":\"artifact.updated\","
	    "\"subject\":\"library/nginx:latest\","
	    "\"time\":\"2026-11-22T10:00:00Z\","
	    "\"datacontenttype\":\"application/json\","
	    "\"data\":{\"sourceId\":\"nginx\","
	    "\"sourceType\":\"DockerRegistry\","
	    "\"connectorRef\":\"dockerhub\","
	    "\"kind\":\"container\","
	    "\"registry\":\"index.docker.io\","
	    "\"repository\":\"library/nginx\","
	    "\"version\":\"latest\","
	    "\"digest\":\"sha256:bbbb\","
	    "\"previousDigest\":\"sha256:aaaa\","
	    "\"image\":\"index.docker.io/library/nginx:latest\","
	    "\"pushedAt\":null,"
	    "\"labels\":{},"
	    "\"metadata\":{\"SHA\":\"sha256:bbbb\",\"SHAV2\":\"sha256:bbbb\"},"
	    "\"url\":null}}");
	free(json);
}

Test(event, unknowns_are_null)
{
	struct version		 v = { 0 };
	struct event_info	 ei = { 0 };
	char			 id[33], *json;

	v.name = "1.0";
	ei.type = EVENT_CREATED;
	ei.source_id = "builds";
	ei.source_type = "Jenkins";
	ei.version = &v;
	ei.detected_s = DETECTED;

	json = event_json(&ei, id);
	cr_assert_str_eq(json,
	    "{\"specversion\":\"1.0\","
	    "\"id\":\"585c164995b8426b9bcb28eb97d03b4d\","
	    "\"source\":\"/artifact-watcher/sources/builds\","
	    "\"type\":\"artifact.created\","
	    "\"subject\":\"1.0\","
	    "\"time\":\"2026-11-22T10:00:00Z\","
	    "\"datacontenttype\":\"application/json\","
	    "\"data\":{\"sourceId\":\"builds\","
	    "\"sourceType\":\"Jenkins\","
	    "\"connectorRef\":null,"
	    "\"kind\":\"container\","
	    "\"registry\":null,"
	    "\"repository\":null,"
	    "\"version\":\"1.0\","
	    "\"digest\":null,"
	    "\"previousDigest\":null,"
	    "\"image\":null,"
	    "\"pushedAt\":null,"
	    "\"labels\":{},"
	    "\"metadata\":{},"
	    "\"url\":null}}");
	cr_assert_str_eq(id, "585c164995b8426b9bcb28eb97d03b4d");
	free(json);
}

Test(event, hostile_names_stay_valid_json)
{
	struct version		 v = { 0 };
	struct event_info	 ei = { 0 };
	cJSON			*parsed, *data;
	char			 id[33], *json;

	v.name = "1.0\"}\n\\";
	ei.type = EVENT_CREATED;
	ei.source_id = "s";
	ei.repository = "repo";
	ei.version = &v;

	json = event_json(&ei, id);
	parsed = cJSON_Parse(json);
	cr_assert_not_null(parsed);
	data = cJSON_GetObjectItemCaseSensitive(parsed, "data");
	cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(data,
	    "version")->valuestring, "1.0\"}\n\\");
	cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(data,
	    "image")->valuestring, "repo:1.0\"}\n\\");
	cJSON_Delete(parsed);
	free(json);
}

/* Another kind: its own fields, its subject, no container fields. */
Test(event, chart_kind_has_its_fields_and_subject)
{
	struct version		 v = { 0 };
	struct event_info	 ei = { 0 };
	cJSON			*fields, *ev, *data;
	char			 id[33];

	v.name = "1.4.0";
	v.digest = "sha256:cccc";
	version_set(&v, "appVersion", "2.9");
	fields = cJSON_Parse("{\"repository\":\"https://charts.example\","
	    "\"chart\":\"podinfo\"}");
	ei.type = EVENT_CREATED;
	ei.source_id = "charts";
	ei.source_type = "HelmChart";
	ei.kind = KIND_CHART;
	ei.fields = fields;
	ei.version = &v;
	ei.detected_s = DETECTED;
	ev = event_object(&ei, id);
	cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(ev,
	    "subject")->valuestring, "podinfo@1.4.0");
	data = cJSON_GetObjectItemCaseSensitive(ev, "data");
	cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(data,
	    "kind")->valuestring, "chart");
	cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(data,
	    "chart")->valuestring, "podinfo");
	cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(data,
	    "appVersion")->valuestring, "2.9");
	cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(data,
	    "repository")->valuestring, "https://charts.example");
	cr_assert_null(cJSON_GetObjectItemCaseSensitive(data, "image"));
	cr_assert_null(cJSON_GetObjectItemCaseSensitive(data, "registry"));
	cJSON_Delete(ev);
	cJSON_Delete(fields);
	cJSON_Delete(v.fields);
}

/* A file: the subject is its URL, size a number, no bucket-less host. */
Test(event, file_kind_subject_is_its_url)
{
	struct version		 v = { 0 };
	struct event_info	 ei = { 0 };
	cJSON			*fields, *ev, *data;
	char			 id[33];

	v.name = "builds/app-1.2.tgz";
	version_set(&v, "path", "builds/app-1.2.tgz");
	version_set_number(&v, "size", 1234);
	fields = cJSON_Parse("{\"bucket\":\"artifacts\"}");
	ei.source_id = "s3";
	ei.source_type = "AmazonS3";
	ei.kind = KIND_FILE;
	ei.fields = fields;
	ei.version = &v;
	ev = event_object(&ei, id);
	cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(ev,
	    "subject")->valuestring, "s3://artifacts/builds/app-1.2.tgz");
	data = cJSON_GetObjectItemCaseSensitive(ev, "data");
	cr_assert_eq(cJSON_GetObjectItemCaseSensitive(data,
	    "size")->valuedouble, 1234);
	cr_assert_null(cJSON_GetObjectItemCaseSensitive(data, "host"));
	cJSON_Delete(ev);
	cJSON_Delete(fields);
	cJSON_Delete(v.fields);
}
