/*
 * provider-ami.c: the AmazonMachineImage source type: the machine images
 * of a region (provider-protocols.md §6).  EC2 DescribeImages (Query API,
 * XML), 1000 a page (NextToken), narrowed by the source's `tags` and
 * `filters` (Harness's filter names such as ami-image-id, mapped to EC2's;
 * EC2's own names such as `name` or `owner-id` taken as they are) and by
 * its `owners` (default: the account's own).  Only `available` images are
 * versions; version = image name, digest = image id, pushedAt =
 * CreationDate, ordered by creation date, so a name that now points to
 * another image id is an update.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "aws.h"
#include "connector.h"
#include "fetch.h"
#include "http.h"
#include "order.h"
#include "provider.h"

#define AMI_PAGE	1000
#define AMI_LIST_MAX	(32 * 1024 * 1024)

struct ami_source {
	char			*connector_ref;
	char			*region;
	const struct cfg_node	*tags;		/* [{name, value}] */
	const struct cfg_node	*filters;	/* [{name, value}] */
	struct cfg_strlist	 owners;
	char			*version;
	char			*version_regex;
};

struct ami {
	struct aws_src	 src;		/* first */
	char		*query;		/* the filters, encoded */
	char		*url;		/* the EC2 endpoint, with "/" */
};

#define SRC_OFF(f)	offsetof(struct ami_source, f)

static const struct cfg_key ami_source_keys[] = {
	{ .name = "connectorRef", .type = CFG_STRING,
	  .off = SRC_OFF(connector_ref) },
	{ .name = "region", .type = CFG_STRING, .off = SRC_OFF(region),
	  .flags = CFG_REQUIRED },
	{ .name = "tags", .type = CFG_NODE, .off = SRC_OFF(tags) },
	{ .name = "filters", .type = CFG_NODE, .off = SRC_OFF(filters) },
	{ .name = "owners", .type = CFG_STRLIST, .off = SRC_OFF(owners) },
	{ .name = "version", .type = CFG_STRING, .off = SRC_OFF(version) },
	{ .name = "versionRegex", .type = CFG_STRING,
	  .off = SRC_OFF(version_regex) },
	{ .name = NULL }
};

/* Harness's AMI filter names, and EC2's for them. */
static const char *const ami_filter_names[][2] = {
	{ "ami-image-id", "image-id" },
	{ "ami-name", "name" },
	{ "ami-owner-id", "owner-id" },
	{ "ami-platform", "platform" },
	{ "ami-architecture", "architecture" },
	{ "ami-description", "description" },
};

const char *
aws_ami_filter_name(const char *name)
{
	size_t	 i;

	for (i = 0; i < nitems(ami_filter_names); i++)
		if (strcmp(ami_filter_names[i][0], name) == 0)
			return (ami_filter_names[i][1]);
	return (name);
}

/* Each item of a tags or filters list: {name: …, value: …}. */
static int
ami_pairs_check(const struct cfg_node *list, const char *key,
    struct cfg_errors *errs)
{
	const struct cfg_node	*item, *name, *value;
	size_t			 i;
	int			 bad = 0;

	if (list == NULL || cfg_node_is_null(list))
		return (0);
	if (list->kind != CFG_SEQ) {
		cfg_error(errs, list, "%s must be a list of {name, value}, "
		    "not %s", key, cfg_node_kind_name(list));
		return (1);
	}
	for (i = 0; i < list->n; i++) {
		item = list->items[i];
		name = item->kind == CFG_MAP ? cfg_node_get(item, "name") :
		    NULL;
		value = item->kind == CFG_MAP ? cfg_node_get(item, "value") :
		    NULL;
		if (name == NULL || name->kind != CFG_SCALAR ||
		    cfg_node_is_null(name) || (value != NULL &&
		    value->kind != CFG_SCALAR) || (item->kind == CFG_MAP &&
		    item->n != (value != NULL ? 2u : 1u))) {
			cfg_error(errs, item, "%s: each item is {name: NAME, "
			    "value: VALUE}", key);
			bad++;
		}
	}
	return (bad);
}

static int
ami_check(struct source_conf *conf, struct cfg_errors *errs)
{
	struct ami_source	*src = conf->data;
	const struct cfg_node	*at = conf->spec;
	int			 bad = 0;

	if (src->region != NULL && !aws_region_valid(src->region)) {
		cfg_error(errs, cfg_node_get(at, "region"), "region %s is not "
		    "an AWS region name", log_q(src->region));
		bad++;
	}
	bad += ami_pairs_check(src->tags, "tags", errs);
	bad += ami_pairs_check(src->filters, "filters", errs);
	bad = provider_check_versions(conf, errs, src->version,
	    src->version_regex, bad);
	if (conf->order == ORDER_NONE)
		conf->order = ORDER_PUSHED;
	return (bad);
}

static void
query_add(struct buf *b, const char *key, const char *value)
{
	char	*k = url_escape(key), *v = url_escape(value);

	buf_printf(b, "&%s=%s", k, v);
	free(k);
	free(v);
}

/*
 * The filter part of the query: Owner.N, then Filter.N for state, each
 * filter, each tag (tag:NAME=VALUE, or tag-key=NAME without a value) and
 * the one version's name.  Pure, for the identity and the requests.
 */
char *
aws_ami_query(const struct cfg_node *tags, const struct cfg_node *filters,
    const struct cfg_strlist *owners, const char *version)
{
	struct buf		 b = { 0 };
	const struct cfg_node	*n, *v;
	char			 key[64], *tk;
	size_t			 i, nf = 1, no = 0;
	int			 owner_filter = 0;

	buf_adds(&b, "");
	for (i = 0; filters != NULL && filters->kind == CFG_SEQ &&
	    i < filters->n; i++) {
		n = cfg_node_get(filters->items[i], "name");
		if (n != NULL && (strcmp(aws_ami_filter_name(n->value),
		    "owner-id") == 0 || strcmp(n->value, "owner-alias") == 0))
			owner_filter = 1;
	}
	for (i = 0; owners != NULL && i < owners->n; i++) {
		snprintf(key, sizeof key, "Owner.%zu", ++no);
		query_add(&b, key, owners->v[i]);
	}
	if (no == 0 && !owner_filter)
		query_add(&b, "Owner.1", "self");
	query_add(&b, "Filter.1.Name", "state");
	query_add(&b, "Filter.1.Value.1", "available");
	for (i = 0; filters != NULL && filters->kind == CFG_SEQ &&
	    i < filters->n; i++) {
		n = cfg_node_get(filters->items[i], "name");
		v = cfg_node_get(filters->items[i], "value");
		if (n == NULL || v == NULL || cfg_node_is_null(v))
			continue;
		snprintf(key, sizeof key, "Filter.%zu.Name", ++nf);
		query_add(&b, key, aws_ami_filter_name(n->value));
		snprintf(key, sizeof key, "Filter.%zu.Value.1", nf);
		query_add(&b, key, v->value);
	}
	for (i = 0; tags != NULL && tags->kind == CFG_SEQ && i < tags->n;
	    i++) {
		n = cfg_node_get(tags->items[i], "name");
		v = cfg_node_get(tags->items[i], "value");
		if (n == NULL)
			continue;
		snprintf(key, sizeof key, "Filter.%zu.Name", ++nf);
		if (v == NULL || cfg_node_is_null(v) || *v->value == '\0') {
			query_add(&b, key, "tag-key");
			snprintf(key, sizeof key, "Filter.%zu.Value.1", nf);
			query_add(&b, key, n->value);
		} else {
			xasprintf(&tk, "tag:%s", n->value);
			query_add(&b, key, tk);
			free(tk);
			snprintf(key, sizeof key, "Filter.%zu.Value.1", nf);
			query_add(&b, key, v->value);
		}
	}
	if (version != NULL) {
		snprintf(key, sizeof key, "Filter.%zu.Name", ++nf);
		query_add(&b, key, "name");
		snprintf(key, sizeof key, "Filter.%zu.Value.1", nf);
		query_add(&b, key, version);
	}
	return (buf_take(&b));
}

static char *
ami_identity(const struct source_conf *conf)
{
	const struct ami_source	*src = conf->data;
	char			*q, *id;

	if (src == NULL || src->region == NULL)
		return (NULL);
	q = aws_ami_query(src->tags, src->filters, &src->owners,
	    src->version);
	xasprintf(&id, "%s%s", src->region, q);
	free(q);
	return (id);
}

static void
ami_send(struct aws_call *c)
{
	struct ami	*a = c->p->data;
	struct buf	 url = { 0 };
	char		*e;

	buf_printf(&url, "%s?Action=DescribeImages&Version=2016-11-15"
	    "&MaxResults=%d%s", a->url, AMI_PAGE, a->query);
	if (a->src.next != NULL) {
		e = url_escape(a->src.next);
		buf_printf(&url, "&NextToken=%s", e);
		free(e);
	}
	aws_call_send(c, "GET", url.data, NULL, NULL, 0);
	buf_free(&url);
}

static int
ami_page(struct aws_call *c, struct fetch *f, struct fetch_page *pg)
{
	struct ami	*a = c->p->data;
	char		*cause = NULL, *next = NULL;

	if (pg->xml == NULL || aws_parse_ec2_images(pg->xml, c->vs, &next,
	    &cause) != 0) {
		fetch_fail(f, 0, "GET %s: %s", pg->url, cause != NULL ? cause :
		    "the answer is not XML");
		free(cause);
		return (FETCH_FAILED);
	}
	free(a->src.next);
	a->src.next = NULL;
	if ((long long)c->vs->n >= c->max) {
		if ((long long)c->vs->n > c->max || next != NULL)
			c->vs->truncated = 1;
		while ((long long)c->vs->n > c->max)
			version_clear(&c->vs->v[--c->vs->n]);
		free(next);
		return (FETCH_STOP);
	}
	if (next == NULL)
		return (FETCH_STOP);
	a->src.next = next;
	ami_send(c);
	return (FETCH_NEXT);
}

static void
ami_list(struct provider *p, const struct list_request *req,
    provider_done_cb done, void *arg)
{
	const struct ami_source	*src = p->conf->data;

	aws_src_list(p, AWS_EC2, src->region, FETCH_XML, AMI_LIST_MAX, req,
	    done, arg, ami_send, ami_page);
}

static void
ami_cancel(struct provider *p)
{
	struct ami	*a = p->data;

	if (a != NULL)
		aws_src_cancel(&a->src);
}

static int
ami_init(struct provider *p, char **cause __unused)
{
	const struct ami_source	*src = p->conf->data;
	struct ami		*a;
	char			*ep;

	a = xcalloc(1, sizeof *a);
	aws_src_init(&a->src, p);
	ep = aws_endpoint(p->connector, AWS_EC2, src->region);
	xasprintf(&a->url, "%s/", ep);
	free(ep);
	a->query = aws_ami_query(src->tags, src->filters, &src->owners,
	    src->version);
	p->fields = cJSON_CreateObject();
	cJSON_AddStringToObject(p->fields, "region", src->region);
	p->data = a;
	return (0);
}

static void
ami_free(struct provider *p)
{
	struct ami	*a = p->data;

	if (a == NULL)
		return;
	aws_src_free(&a->src);
	free(a->url);
	free(a->query);
	free(a);
	p->data = NULL;
}

const struct provider_entry provider_ami_entry = {
	.name = "AmazonMachineImage",
	.connector = "Aws",
	.kind = KIND_MACHINE_IMAGE,
	.source_keys = ami_source_keys,
	.source_size = sizeof (struct ami_source),
	.check = ami_check,
	.identity = ami_identity,
	.init = ami_init,
	.list = ami_list,
	.cancel = ami_cancel,
	.free = ami_free,
};
