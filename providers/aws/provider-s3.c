/*
 * provider-s3.c: the AmazonS3 source type: the objects of one bucket under
 * a path (provider-protocols.md §5).  ListObjectsV2 with the literal
 * prefix of filePathRegex (or filePath itself) as `prefix`, 1000 keys a
 * page, continuation-token paging.  Version = key, digest = ETag, pushedAt
 * = LastModified, size: an object overwritten under the same key has a new
 * ETag, which is an update.  Path-style addressing against a configured
 * endpoint (MinIO, Ceph, tests) or a bucket with dots, virtual-hosted
 * against AWS (the connector's s3Addressing overrides).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "aws.h"
#include "connector.h"
#include "fetch.h"
#include "http.h"
#include "order.h"
#include "provider.h"
#include "xml.h"

#define S3_PAGE		1000
#define S3_LIST_MAX	(16 * 1024 * 1024)

struct s3_source {
	char		*connector_ref;
	char		*region;
	char		*bucket;
	char		*file_path;
	char		*file_path_regex;
};

struct s3 {
	struct aws_src	 src;		/* first */
	char		*base;		/* up to the bucket, no '/' after */
	char		*prefix;	/* listed under */
};

#define SRC_OFF(f)	offsetof(struct s3_source, f)

static const struct cfg_key s3_source_keys[] = {
	{ .name = "connectorRef", .type = CFG_STRING,
	  .off = SRC_OFF(connector_ref) },
	{ .name = "region", .type = CFG_STRING, .off = SRC_OFF(region),
	  .def = "us-east-1" },
	{ .name = "bucketName", .type = CFG_STRING, .off = SRC_OFF(bucket),
	  .flags = CFG_REQUIRED },
	{ .name = "filePath", .type = CFG_STRING, .off = SRC_OFF(file_path) },
	{ .name = "filePathRegex", .type = CFG_STRING,
	  .off = SRC_OFF(file_path_regex) },
	{ .name = NULL }
};

/* 3-63 of a-z 0-9 . -, starting and ending with a letter or digit. */
static int
s3_bucket_valid(const char *b)
{
	size_t	 n = strlen(b), i;

	if (n < 3 || n > 63)
		return (0);
	for (i = 0; i < n; i++) {
		if (!((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= '0' &&
		    b[i] <= '9') || b[i] == '.' || b[i] == '-'))
			return (0);
	}
	return (b[0] != '.' && b[0] != '-' && b[n - 1] != '.' &&
	    b[n - 1] != '-');
}

static int
s3_check(struct source_conf *conf, struct cfg_errors *errs)
{
	struct s3_source	*src = conf->data;
	const struct cfg_node	*at = conf->spec;
	struct filter_conf	 fc;
	struct filter		*f;
	char			*cause;
	int			 bad = 0;

	if (src->bucket != NULL && !s3_bucket_valid(src->bucket)) {
		cfg_error(errs, cfg_node_get(at, "bucketName"), "bucketName %s "
		    "is not a bucket name (3-63 of a-z, 0-9, . and -)",
		    log_q(src->bucket));
		bad++;
	}
	if (src->region != NULL && !aws_region_valid(src->region)) {
		cfg_error(errs, cfg_node_get(at, "region"), "region %s is not "
		    "an AWS region name", log_q(src->region));
		bad++;
	}
	if (src->file_path != NULL && src->file_path_regex != NULL) {
		cfg_error(errs, cfg_node_get(at, "filePathRegex"), "filePath "
		    "and filePathRegex: give one of them");
		bad++;
	}
	if (src->file_path_regex != NULL && conf->tag_regex != NULL) {
		cfg_error(errs, cfg_node_get(at, "filePathRegex"),
		    "filePathRegex and tagRegex both filter keys: give one");
		bad++;
	}
	if (src->file_path_regex != NULL && bad == 0) {
		memset(&fc, 0, sizeof fc);
		fc.include = src->file_path_regex;
		if ((f = filter_create(&fc, &cause)) == NULL) {
			cfg_error(errs, cfg_node_get(at, "filePathRegex"),
			    "filePathRegex: %s", cause);
			free(cause);
			return (bad + 1);
		}
		filter_free(f);
		/* The core filters the keys with it, before anything else. */
		conf->tag_regex = xstrdup(src->file_path_regex);
	}
	/* Keys come in name order: the newest by LastModified. */
	if (conf->order == ORDER_NONE)
		conf->order = ORDER_PUSHED;
	return (bad);
}

/* What it watches: the bucket and the prefix or path. */
static char *
s3_identity(const struct source_conf *conf)
{
	const struct s3_source	*src = conf->data;
	char			*id;

	if (src == NULL || src->bucket == NULL)
		return (NULL);
	xasprintf(&id, "s3://%s/%s%s", src->bucket, src->file_path != NULL ?
	    src->file_path : "", src->file_path_regex != NULL ?
	    src->file_path_regex : "");
	return (id);
}

static void
s3_send(struct aws_call *c)
{
	struct s3	*s = c->p->data;
	struct buf	 url = { 0 };
	char		*e;

	buf_printf(&url, "%s?list-type=2&max-keys=%d", s->base, S3_PAGE);
	if (*s->prefix != '\0') {
		e = url_escape(s->prefix);
		buf_printf(&url, "&prefix=%s", e);
		free(e);
	}
	if (s->src.next != NULL) {
		e = url_escape(s->src.next);
		buf_printf(&url, "&continuation-token=%s", e);
		free(e);
	}
	aws_call_send(c, "GET", url.data, NULL, NULL, 0);
	buf_free(&url);
}

static int
s3_page(struct aws_call *c, struct fetch *f, struct fetch_page *pg)
{
	struct s3		*s = c->p->data;
	const struct s3_source	*src = c->p->conf->data;
	size_t			 from = c->vs->n, i, keep;
	char			*cause = NULL, *trunc, *next;
	xmlDoc			*doc = pg->xml;
	xmlNode			*root;

	if (doc == NULL || aws_parse_s3_objects(doc, c->vs, &cause) != 0) {
		fetch_fail(f, 0, "GET %s: %s", pg->url, cause != NULL ? cause :
		    "the answer is not XML");
		free(cause);
		return (FETCH_FAILED);
	}
	/* filePath names one object: only that key is a version. */
	for (i = keep = from; i < c->vs->n; i++) {
		if (src->file_path != NULL &&
		    strcmp(c->vs->v[i].name, src->file_path) != 0) {
			version_clear(&c->vs->v[i]);
			continue;
		}
		if (keep != i)
			c->vs->v[keep] = c->vs->v[i];
		version_set_meta(&c->vs->v[keep], "bucketName", src->bucket);
		keep++;
	}
	c->vs->n = keep;
	root = xml_root(doc);
	trunc = xml_text(root, "IsTruncated");
	next = xml_text(root, "NextContinuationToken");
	free(s->src.next);
	s->src.next = NULL;
	if ((long long)c->vs->n >= c->max) {
		if ((long long)c->vs->n > c->max || (trunc != NULL &&
		    strcmp(trunc, "true") == 0))
			c->vs->truncated = 1;
		while ((long long)c->vs->n > c->max)
			version_clear(&c->vs->v[--c->vs->n]);
		free(trunc);
		free(next);
		return (FETCH_STOP);
	}
	if (trunc == NULL || strcmp(trunc, "true") != 0 || next == NULL ||
	    *next == '\0') {
		free(trunc);
		free(next);
		return (FETCH_STOP);
	}
	free(trunc);
	s->src.next = next;
	s3_send(c);
	return (FETCH_NEXT);
}

static void
s3_list(struct provider *p, const struct list_request *req,
    provider_done_cb done, void *arg)
{
	const struct s3_source	*src = p->conf->data;

	aws_src_list(p, AWS_S3, src->region, FETCH_XML, S3_LIST_MAX, req,
	    done, arg, s3_send, s3_page);
}

static void
s3_cancel(struct provider *p)
{
	struct s3	*s = p->data;

	if (s != NULL)
		aws_src_cancel(&s->src);
}

static int
s3_init(struct provider *p, char **cause __unused)
{
	const struct s3_source		*src = p->conf->data;
	const struct aws_connector	*ac = p->conf->connector->data;
	struct s3			*s;
	char				*ep;
	int				 path;

	s = xcalloc(1, sizeof *s);
	aws_src_init(&s->src, p);
	ep = aws_endpoint(p->connector, AWS_S3, src->region);
	path = ac->s3_addressing == AWS_S3_PATH ||
	    (ac->s3_addressing == AWS_S3_AUTO &&
	    (aws_endpoint_overridden(p->connector, AWS_S3) ||
	    strchr(src->bucket, '.') != NULL));
	if (path)
		xasprintf(&s->base, "%s/%s", ep, src->bucket);
	else if (strncmp(ep, "https://", 8) == 0)
		xasprintf(&s->base, "https://%s.%s/", src->bucket, ep + 8);
	else
		xasprintf(&s->base, "http://%s.%s/", src->bucket,
		    strstr(ep, "://") != NULL ? strstr(ep, "://") + 3 : ep);
	free(ep);
	if (src->file_path != NULL)
		s->prefix = xstrdup(src->file_path);
	else if (src->file_path_regex != NULL)
		s->prefix = filter_literal_prefix(src->file_path_regex);
	else
		s->prefix = xstrdup("");
	p->fields = cJSON_CreateObject();
	cJSON_AddStringToObject(p->fields, "bucket", src->bucket);
	p->data = s;
	return (0);
}

static void
s3_free(struct provider *p)
{
	struct s3	*s = p->data;

	if (s == NULL)
		return;
	aws_src_free(&s->src);
	free(s->base);
	free(s->prefix);
	free(s);
	p->data = NULL;
}

const struct provider_entry provider_s3_entry = {
	.name = "AmazonS3",
	.connector = "Aws",
	.kind = KIND_FILE,
	.source_keys = s3_source_keys,
	.source_size = sizeof (struct s3_source),
	.check = s3_check,
	.identity = s3_identity,
	.init = s3_init,
	.list = s3_list,
	.cancel = s3_cancel,
	.free = s3_free,
};
