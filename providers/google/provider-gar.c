/*
 * provider-gar.c: the GoogleArtifactRegistry source type: the versions of
 * one package of an Artifact Registry repository (provider-protocols.md
 * §2.3).  repositoryType docker lists dockerImages (uploadTime, tags,
 * digest in the uri; 1000 a page, pageToken) and keeps the images of the
 * package, one version per tag: a container source.  Every other format
 * (maven, npm, python, generic…) lists packages.versions with view=FULL
 * (createTime, relatedTags): a package source.  Package names with '/'
 * are sent %2F-escaped in the resource path, as the API wants.  An unknown
 * project, repository or package fails this source with Google's message.
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

#define GAR_PAGE	1000

static const char *const gar_types[] = {
	"docker", "maven", "npm", "python", "generic", "apt", "yum", "go",
	"kfp", "nuget", NULL
};
enum { GAR_DOCKER };

struct gar_source {
	char		*connector_ref;
	char		*project;
	char		*region;
	char		*repository;
	char		*package;
	int		 type;
	char		*version;	/* accepted: one version only */
	char		*version_regex;
	char		*digest;	/* accepted, ignored */
};

#define SRC_OFF(f)	offsetof(struct gar_source, f)

static const struct cfg_key gar_source_keys[] = {
	{ .name = "connectorRef", .type = CFG_STRING,
	  .off = SRC_OFF(connector_ref) },
	{ .name = "project", .type = CFG_STRING, .off = SRC_OFF(project),
	  .flags = CFG_REQUIRED },
	{ .name = "region", .type = CFG_STRING, .off = SRC_OFF(region),
	  .flags = CFG_REQUIRED },
	{ .name = "repositoryName", .type = CFG_STRING,
	  .off = SRC_OFF(repository), .flags = CFG_REQUIRED },
	{ .name = "package", .type = CFG_STRING, .off = SRC_OFF(package),
	  .flags = CFG_REQUIRED },
	{ .name = "repositoryType", .type = CFG_ENUM, .off = SRC_OFF(type),
	  .def = "docker", .choices = gar_types },
	{ .name = "version", .type = CFG_STRING, .off = SRC_OFF(version) },
	{ .name = "versionRegex", .type = CFG_STRING,
	  .off = SRC_OFF(version_regex) },
	{ .name = "digest", .type = CFG_STRING, .off = SRC_OFF(digest) },
	{ .name = NULL }
};

/* Project ids, locations and repository ids: a-z 0-9 - (and : . _). */
static int
gar_id_valid(const char *s)
{
	size_t	 n = strlen(s), i;

	if (n == 0 || n > 128)
		return (0);
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' &&
		    s[i] <= '9') || strchr("-_.:", s[i]) != NULL))
			return (0);
	return (1);
}

static int
gar_check(struct source_conf *conf, struct cfg_errors *errs)
{
	struct gar_source	*src = conf->data;
	const struct cfg_node	*at = conf->spec;
	static const char *const names[] = { "project", "region",
	    "repositoryName" };
	const char		*vals[3];
	int			 bad = 0;
	size_t			 i;

	vals[0] = src->project;
	vals[1] = src->region;
	vals[2] = src->repository;
	for (i = 0; i < nitems(names); i++) {
		if (vals[i] != NULL && !gar_id_valid(vals[i])) {
			cfg_error(errs, cfg_node_get(at, names[i]), "%s %s is "
			    "not an Artifact Registry id (a-z, 0-9, -)",
			    names[i], log_q(vals[i]));
			bad++;
		}
	}
	if (src->package != NULL && (*src->package == '\0' ||
	    strstr(src->package, "..") != NULL)) {
		cfg_error(errs, cfg_node_get(at, "package"), "package %s is "
		    "not a package name", log_q(src->package));
		bad++;
	}
	bad = provider_check_versions(conf, errs, src->version,
	    src->version_regex, bad);
	if (conf->order == ORDER_NONE)
		conf->order = ORDER_PUSHED;
	return (bad);
}

static char *
gar_identity(const struct source_conf *conf)
{
	const struct gar_source	*src = conf->data;
	char			*id;

	if (src == NULL || src->project == NULL || src->package == NULL)
		return (NULL);
	xasprintf(&id, "gar:%s/%s/%s/%s:%s", src->project, src->region,
	    src->repository, src->package, gar_types[src->type]);
	return (id);
}

/* version: only that one is a version of the source. */
static int
gar_only(struct gcp_call *c, struct version *v)
{
	const struct gar_source	*src = c->p->conf->data;

	if (src->version != NULL && strcmp(v->name, src->version) != 0)
		return (0);
	if (src->type != GAR_DOCKER)
		version_set(v, "format", gar_types[src->type]);
	return (1);
}

static int
gar_page(struct gcp_call *c, struct fetch *f, struct fetch_page *pg)
{
	const struct gar_source	*src = c->p->conf->data;
	size_t			 from = c->vs->n;
	char			*cause = NULL;
	int			 r;

	if (src->type == GAR_DOCKER)
		r = gcp_parse_ar_images(pg->json, src->package, c->vs, &cause);
	else
		r = gcp_parse_ar_versions(pg->json, c->vs, &cause);
	if (r != 0) {
		fetch_fail(f, 0, "GET %s: %s", pg->url, cause);
		free(cause);
		return (FETCH_FAILED);
	}
	gcp_call_filter(c, from, gar_only);
	return (FETCH_NEXT);
}

static int
gar_init(struct provider *p, char **cause __unused)
{
	const struct gar_source	*src = p->conf->data;
	struct gcp_src		*g;
	char			*ep, *pkg, *repo, *reg, *url;

	g = xcalloc(1, sizeof *g);
	ep = gcp_endpoint(p->connector, GCP_AR);
	pkg = url_escape(src->package);
	p->fields = cJSON_CreateObject();
	if (src->type == GAR_DOCKER) {
		xasprintf(&url, "%s/v1/projects/%s/locations/%s/"
		    "repositories/%s/dockerImages?pageSize=%d", ep,
		    src->project, src->region, src->repository, GAR_PAGE);
		xasprintf(&reg, "%s-docker.pkg.dev", src->region);
		xasprintf(&repo, "%s/%s/%s", src->project, src->repository,
		    src->package);
		cJSON_AddStringToObject(p->fields, "registry", reg);
		cJSON_AddStringToObject(p->fields, "repository", repo);
		free(reg);
		free(repo);
		p->kind = KIND_CONTAINER;
	} else {
		xasprintf(&url, "%s/v1/projects/%s/locations/%s/"
		    "repositories/%s/packages/%s/versions?pageSize=%d"
		    "&view=FULL", ep, src->project, src->region,
		    src->repository, pkg, GAR_PAGE);
		cJSON_AddStringToObject(p->fields, "repository",
		    src->repository);
		cJSON_AddStringToObject(p->fields, "package", src->package);
		cJSON_AddStringToObject(p->fields, "format",
		    gar_types[src->type]);
		p->kind = KIND_PACKAGE;
	}
	free(pkg);
	free(ep);
	gcp_src_open(p, g, url, gar_page);
	p->data = g;
	return (0);
}

const struct provider_entry provider_gar_entry = {
	.name = "GoogleArtifactRegistry",
	.connector = "Gcp",
	.kind = KIND_CONTAINER,
	.source_keys = gar_source_keys,
	.source_size = sizeof (struct gar_source),
	.check = gar_check,
	.identity = gar_identity,
	.init = gar_init,
	.list = gcp_src_list,
	.cancel = gcp_src_cancel,
	.free = gcp_src_free,
};
