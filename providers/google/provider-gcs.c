/*
 * provider-gcs.c: the GoogleCloudStorage source type: the objects of one
 * bucket under a path (provider-protocols.md §3).  objects.list with the
 * literal prefix of artifactPath (an object's name, a folder ending in
 * '/', or a regex: its literal start)
 * and pageToken paging, 1000 objects a page.  Version = object name,
 * digest = md5Hash (crc32c for composite objects, which have none) at the
 * object's generation, "HASH@GENERATION", pushedAt = updated, size.  An
 * object written again under the same name is a new generation, so a new
 * digest, the same bytes or not: an artifact.updated.  An unknown bucket
 * (404) or a missing role (403) fails this source with Google's own
 * message.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "google.h"
#include "connector.h"
#include "fetch.h"
#include "http.h"
#include "order.h"
#include "provider.h"

#define GCS_PAGE	1000

struct gcs_source {
	char		*connector_ref;
	char		*project;
	char		*bucket;
	char		*artifact_path;
};

struct gcs {
	struct gcp_src	 s;		/* first: gcp_src_list's */
	int		 exact;		/* artifactPath names one object */
};

#define SRC_OFF(f)	offsetof(struct gcs_source, f)

static const struct cfg_key gcs_source_keys[] = {
	{ .name = "connectorRef", .type = CFG_STRING,
	  .off = SRC_OFF(connector_ref) },
	{ .name = "project", .type = CFG_STRING, .off = SRC_OFF(project) },
	{ .name = "bucket", .type = CFG_STRING, .off = SRC_OFF(bucket),
	  .flags = CFG_REQUIRED },
	{ .name = "artifactPath", .type = CFG_STRING,
	  .off = SRC_OFF(artifact_path) },
	{ .name = NULL }
};

/* 3-222 of a-z 0-9 . - _, starting and ending with a letter or digit. */
static int
gcs_bucket_valid(const char *b)
{
	size_t	 n = strlen(b), i;

	if (n < 3 || n > 222)
		return (0);
	for (i = 0; i < n; i++)
		if (!((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= '0' &&
		    b[i] <= '9') || b[i] == '.' || b[i] == '-' || b[i] == '_'))
			return (0);
	return (b[0] != '.' && b[0] != '-' && b[0] != '_' &&
	    b[n - 1] != '.' && b[n - 1] != '-' && b[n - 1] != '_');
}

/* A path has none of a regex's special characters. */
static int
is_regex(const char *s)
{
	return (strpbrk(s, "^$*+?()[]{}|\\") != NULL);
}

static int
gcs_check(struct source_conf *conf, struct cfg_errors *errs)
{
	struct gcs_source	*src = conf->data;
	const struct cfg_node	*at = conf->spec;
	struct filter_conf	 fc;
	struct filter		*f;
	char			*cause;

	if (src->bucket != NULL && !gcs_bucket_valid(src->bucket)) {
		cfg_error(errs, cfg_node_get(at, "bucket"), "bucket %s is not "
		    "a bucket name (3-222 of a-z, 0-9, ., - and _)",
		    log_q(src->bucket));
		return (1);
	}
	if (src->artifact_path != NULL && is_regex(src->artifact_path)) {
		if (conf->tag_regex != NULL) {
			cfg_error(errs, cfg_node_get(at, "artifactPath"),
			    "a regex artifactPath and tagRegex both filter "
			    "names: give one");
			return (1);
		}
		memset(&fc, 0, sizeof fc);
		fc.include = src->artifact_path;
		if ((f = filter_create(&fc, &cause)) == NULL) {
			cfg_error(errs, cfg_node_get(at, "artifactPath"),
			    "artifactPath: %s", cause);
			free(cause);
			return (1);
		}
		filter_free(f);
		/* The core filters the names with it, before anything else. */
		conf->tag_regex = xstrdup(src->artifact_path);
	}
	/* Names come in name order: the newest by updated. */
	if (conf->order == ORDER_NONE)
		conf->order = ORDER_PUSHED;
	return (0);
}

static char *
gcs_identity(const struct source_conf *conf)
{
	const struct gcs_source	*src = conf->data;
	char			*id;

	if (src == NULL || src->bucket == NULL)
		return (NULL);
	xasprintf(&id, "gs://%s/%s", src->bucket, src->artifact_path != NULL ?
	    src->artifact_path : "");
	return (id);
}

/* An exact artifactPath: only that object is a version. */
static int
gcs_only(struct gcp_call *c, struct version *v)
{
	const struct gcs	*g = c->p->data;
	const struct gcs_source	*src = c->p->conf->data;

	if (g->exact && strcmp(v->name, src->artifact_path) != 0)
		return (0);
	version_set_meta(v, "bucket", src->bucket);
	return (1);
}

static int
gcs_page(struct gcp_call *c, struct fetch *f, struct fetch_page *pg)
{
	size_t	 from = c->vs->n;
	char	*cause = NULL;

	if (gcp_parse_gcs_objects(pg->json, c->vs, &cause) != 0) {
		fetch_fail(f, 0, "GET %s: %s", pg->url, cause);
		free(cause);
		return (FETCH_FAILED);
	}
	gcp_call_filter(c, from, gcs_only);
	return (FETCH_NEXT);
}

static int
gcs_init(struct provider *p, char **cause __unused)
{
	const struct gcs_source	*src = p->conf->data;
	struct gcs		*g;
	struct buf		 url = { 0 };
	char			*ep, *e, *prefix;

	g = xcalloc(1, sizeof *g);
	if (src->artifact_path == NULL)
		prefix = xstrdup("");
	else if (is_regex(src->artifact_path))
		prefix = filter_literal_prefix(src->artifact_path);
	else {
		/* "dir/": everything under it; else one object. */
		prefix = xstrdup(src->artifact_path);
		g->exact = *prefix != '\0' && prefix[strlen(prefix) - 1] != '/';
	}
	ep = gcp_endpoint(p->connector, GCP_STORAGE);
	e = url_escape(src->bucket);
	buf_printf(&url, "%s/storage/v1/b/%s/o?maxResults=%d&projection=noAcl",
	    ep, e, GCS_PAGE);
	free(e);
	if (*prefix != '\0') {
		e = url_escape(prefix);
		buf_printf(&url, "&prefix=%s", e);
		free(e);
	}
	gcp_src_open(p, &g->s, buf_take(&url), gcs_page);
	free(prefix);
	free(ep);
	p->fields = cJSON_CreateObject();
	cJSON_AddStringToObject(p->fields, "bucket", src->bucket);
	p->data = g;
	return (0);
}

const struct provider_entry provider_gcs_entry = {
	.name = "GoogleCloudStorage",
	.connector = "Gcp",
	.kind = KIND_FILE,
	.source_keys = gcs_source_keys,
	.source_size = sizeof (struct gcs_source),
	.check = gcs_check,
	.identity = gcs_identity,
	.init = gcs_init,
	.list = gcp_src_list,
	.cancel = gcp_src_cancel,
	.free = gcp_src_free,
};
