/*
 * provider-ecr.c: the Ecr source type: the tags of one ECR repository
 * (provider-protocols.md §4).  DescribeImages (JSON 1.1, X-Amz-Target)
 * answers each image's tags, digest, size and push time in the listing,
 * 1000 images a page (nextToken), so every tag's digest is compared for
 * free: a re-pointed `latest` is an update without a request more, and
 * push-time order works.  Untagged images are not versions.  A source with
 * `tag:` asks for that one image (imageIds).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "aws.h"
#include "connector.h"
#include "fetch.h"
#include "json.h"
#include "order.h"
#include "provider.h"

#define ECR_TARGET	"X-Amz-Target: AmazonEC2ContainerRegistry_V20150921."
#define ECR_PAGE	1000
#define ECR_LIST_MAX	(16 * 1024 * 1024)

#define SRC_OFF(f)	offsetof(struct ecr_source, f)

static const char *const ecr_empty_codes[] = { "ImageNotFoundException",
    NULL };

static const struct cfg_key ecr_source_keys[] = {
	{ .name = "connectorRef", .type = CFG_STRING,
	  .off = SRC_OFF(connector_ref) },
	{ .name = "region", .type = CFG_STRING, .off = SRC_OFF(region),
	  .flags = CFG_REQUIRED },
	{ .name = "imagePath", .type = CFG_STRING, .off = SRC_OFF(image_path),
	  .flags = CFG_REQUIRED },
	{ .name = "registryId", .type = CFG_STRING,
	  .off = SRC_OFF(registry_id) },
	{ .name = "tag", .type = CFG_STRING, .off = SRC_OFF(tag) },
	{ .name = "digest", .type = CFG_STRING, .off = SRC_OFF(digest) },
	{ .name = NULL }
};

static int
ecr_check(struct source_conf *conf, struct cfg_errors *errs)
{
	const struct ecr_source	*src = conf->data;
	const struct cfg_node	*n;
	int			 bad = 0;
	size_t			 i;

	if (src->region != NULL && !aws_region_valid(src->region)) {
		cfg_error(errs, cfg_node_get(conf->spec, "region"), "region %s "
		    "is not an AWS region name", log_q(src->region));
		bad++;
	}
	for (i = 0; src->registry_id != NULL && src->registry_id[i] != '\0';
	    i++) {
		if (src->registry_id[i] < '0' || src->registry_id[i] > '9' ||
		    i >= 12) {
			n = cfg_node_get(conf->spec, "registryId");
			cfg_error(errs, n, "registryId %s is not a 12-digit "
			    "account id", log_q(src->registry_id));
			bad++;
			break;
		}
	}
	if (src->digest != NULL)
		log_warn("digest is ignored: a source watches tags",
		    "source=%s", log_q(conf->id));
	/* ECR lists in no order: newest by push time unless told. */
	if (conf->order == ORDER_NONE)
		conf->order = ORDER_PUSHED;
	return (bad);
}

static char *
ecr_identity(const struct source_conf *conf)
{
	const struct ecr_source	*src = conf->data;
	char			*id;

	if (src == NULL || src->image_path == NULL || src->region == NULL)
		return (NULL);
	xasprintf(&id, "%s/%s/%s%s%s", src->region, src->registry_id != NULL ?
	    src->registry_id : "self", src->image_path, src->tag != NULL ?
	    ":" : "", src->tag != NULL ? src->tag : "");
	return (id);
}

/* The request body of a page (or of the one tag). */
static char *
ecr_body(const struct ecr_source *src, const char *next)
{
	cJSON	*b = cJSON_CreateObject(), *ids, *id;
	char	*s;

	if (src->registry_id != NULL)
		cJSON_AddStringToObject(b, "registryId", src->registry_id);
	cJSON_AddStringToObject(b, "repositoryName", src->image_path);
	if (src->tag != NULL) {
		ids = cJSON_AddArrayToObject(b, "imageIds");
		id = cJSON_CreateObject();
		cJSON_AddStringToObject(id, "imageTag", src->tag);
		cJSON_AddItemToArray(ids, id);
	} else {
		cJSON_AddNumberToObject(b, "maxResults", ECR_PAGE);
		cJSON_AddItemToObject(b, "filter", cJSON_CreateObject());
		cJSON_AddStringToObject(cJSON_GetObjectItem(b, "filter"),
		    "tagStatus", "TAGGED");
		if (next != NULL)
			cJSON_AddStringToObject(b, "nextToken", next);
	}
	s = cJSON_PrintUnformatted(b);
	cJSON_Delete(b);
	return (s);
}

static void
ecr_send(struct aws_call *c)
{
	struct ecr		*e = c->p->data;
	const char		*h[] = { "Content-Type: application/"
	    "x-amz-json-1.1", ECR_TARGET "DescribeImages", NULL };
	char			*body = ecr_body(c->p->conf->data, e->src.next);

	aws_call_send(c, "POST", e->url, h, body, strlen(body));
	free(body);
}

/* The account in the answer names the registry of the events. */
static void
ecr_registry(struct provider *p, const cJSON *doc)
{
	const struct ecr_source	*src = p->conf->data;
	const char		*acct;
	char			*reg;

	if (cJSON_GetObjectItem(p->fields, "registry") != NULL)
		return;
	acct = json_str(cJSON_GetArrayItem(json_get(doc, "imageDetails"), 0),
	    "registryId");
	if (acct == NULL)
		return;
	xasprintf(&reg, "%s.dkr.ecr.%s.amazonaws.com", acct, src->region);
	cJSON_AddStringToObject(p->fields, "registry", reg);
	free(reg);
}

static int
ecr_page(struct aws_call *c, struct fetch *f, struct fetch_page *pg)
{
	struct ecr	*e = c->p->data;
	char		*cause = NULL;
	const char	*next;

	if (aws_parse_ecr_images(pg->json, c->vs, &cause) != 0) {
		fetch_fail(f, 0, "POST %s DescribeImages: %s", pg->url, cause);
		free(cause);
		return (FETCH_FAILED);
	}
	ecr_registry(c->p, pg->json);
	next = json_str(pg->json, "nextToken");
	if ((long long)c->vs->n >= c->max) {
		if ((long long)c->vs->n > c->max || next != NULL)
			c->vs->truncated = 1;
		while ((long long)c->vs->n > c->max)
			version_clear(&c->vs->v[--c->vs->n]);
		return (FETCH_STOP);
	}
	free(e->src.next);
	e->src.next = NULL;
	if (next == NULL || *next == '\0')
		return (FETCH_STOP);
	e->src.next = xstrdup(next);
	ecr_send(c);
	return (FETCH_NEXT);
}

static void
ecr_list(struct provider *p, const struct list_request *req,
    provider_done_cb done, void *arg)
{
	const struct ecr_source	*src = p->conf->data;

	aws_src_list(p, AWS_ECR, src->region, FETCH_JSON, ECR_LIST_MAX, req,
	    done, arg, ecr_send, ecr_page);
}

static void
ecr_cancel(struct provider *p)
{
	struct ecr	*e = p->data;

	if (e != NULL)
		aws_src_cancel(&e->src);
}

static int
ecr_init(struct provider *p, char **cause __unused)
{
	const struct ecr_source	*src = p->conf->data;
	struct ecr		*e;
	char			*base, *reg;

	e = xcalloc(1, sizeof *e);
	aws_src_init(&e->src, p);
	/* The one tag, not pushed yet: nothing to list. */
	e->src.empty_codes = ecr_empty_codes;
	base = aws_endpoint(p->connector, AWS_ECR, src->region);
	xasprintf(&e->url, "%s/", base);
	free(base);
	p->fields = cJSON_CreateObject();
	if (src->registry_id != NULL) {
		xasprintf(&reg, "%s.dkr.ecr.%s.amazonaws.com", src->registry_id,
		    src->region);
		cJSON_AddStringToObject(p->fields, "registry", reg);
		free(reg);
	}
	cJSON_AddStringToObject(p->fields, "repository", src->image_path);
	p->data = e;
	return (0);
}

static void
ecr_free(struct provider *p)
{
	struct ecr	*e = p->data;

	if (e == NULL)
		return;
	aws_src_free(&e->src);
	free(e->url);
	if (e->token != NULL)
		explicit_bzero(e->token, strlen(e->token));
	free(e->token);
	free(e->registry_url);
	free(e);
	p->data = NULL;
}

const struct provider_entry provider_ecr_entry = {
	.name = "Ecr",
	.connector = "Aws",
	.kind = KIND_CONTAINER,
	.source_keys = ecr_source_keys,
	.source_size = sizeof (struct ecr_source),
	.check = ecr_check,
	.identity = ecr_identity,
	.init = ecr_init,
	.flags = PROVIDER_TAGS,
	.list = ecr_list,
	.resolve = ecr_resolve,
	.cancel = ecr_cancel,
	.free = ecr_free,
};
