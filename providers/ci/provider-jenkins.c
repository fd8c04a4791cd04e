/*
 * provider-jenkins.c: the Jenkins source type (provider-protocols.md
 * §11.2): the last builds of one job (folders: team/app/main is
 * /job/team/job/app/job/main) in one api/json request with a tree= query
 * and a range, newest first.  A finished build whose result is accepted
 * (buildResults, default SUCCESS) is a version: its number, with
 * "job#number" as its digest, its start time, and its artifacts whose
 * relative path matches artifactPath.  Running builds are not versions yet.
 * Kind `build`.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "connector.h"
#include "fetch.h"
#include "http.h"
#include "order.h"
#include "provider.h"
#include "provider-ci.h"

#define JENKINS_BUILDS_MAX	100	/* what `builds` returns at most */

#define SRC_OFF(f)	offsetof(struct jenkins_source, f)

static const struct cfg_key jenkins_source_keys[] = {
	{ .name = "connectorRef", .type = CFG_STRING,
	  .off = SRC_OFF(connector_ref) },
	{ .name = "jobName", .type = CFG_STRING, .off = SRC_OFF(job_name),
	  .flags = CFG_REQUIRED },
	{ .name = "artifactPath", .type = CFG_STRING,
	  .off = SRC_OFF(artifact_path) },
	{ .name = "buildResults", .type = CFG_STRLIST,
	  .off = SRC_OFF(results) },
	/* Harness pins one build with it; a watcher watches them all. */
	{ .name = "build", .type = CFG_IGNORE },
	{ .name = NULL }
};

static struct filter *
artifact_filter(const char *re, char **cause)
{
	struct filter_conf	 fc;

	memset(&fc, 0, sizeof fc);
	fc.include = re;
	fc.keep_noise = 1;
	return (filter_create(&fc, cause));
}

static int
jenkins_check(struct source_conf *conf, struct cfg_errors *errs)
{
	const struct jenkins_source	*src = conf->data;
	struct filter			*f;
	char				*cause, *path;
	int				 bad = 0;

	if (src->job_name != NULL) {
		if ((path = jenkins_job_path(src->job_name, &cause)) == NULL) {
			cfg_error(errs, cfg_node_get(conf->spec, "jobName"),
			    "%s", cause);
			free(cause);
			bad++;
		}
		free(path);
	}
	if (src->artifact_path != NULL) {
		if ((f = artifact_filter(src->artifact_path, &cause)) == NULL) {
			cfg_error(errs, cfg_node_get(conf->spec,
			    "artifactPath"), "artifactPath: %s", cause);
			free(cause);
			bad++;
		}
		filter_free(f);
	}
	return (bad);
}

static char *
jenkins_identity(const struct source_conf *conf)
{
	const struct jenkins_source	*src = conf->data;

	return (src != NULL && src->job_name != NULL ?
	    xstrdup(src->job_name) : NULL);
}

static int
jenkins_init(struct provider *p, char **cause)
{
	const struct jenkins_source	*src = p->conf->data;
	struct filter			*af = NULL;
	struct ci_source		*d;
	char				*path;

	if ((path = jenkins_job_path(src->job_name, cause)) == NULL)
		return (-1);
	if (src->artifact_path != NULL &&
	    (af = artifact_filter(src->artifact_path, cause)) == NULL) {
		free(path);
		return (-1);
	}
	d = ci_source_new(p, src->job_name);
	d->job_path = path;
	d->artifacts = af;
	return (0);
}

static int
jenkins_page(struct fetch *f, struct fetch_page *pg, void *arg)
{
	struct ci_call			*l = arg;
	const struct jenkins_source	*src = l->p->conf->data;
	struct ci_source		*d = l->p->data;
	struct ci_build			*b;
	struct version			*v;
	size_t				 n, i;
	char				*cause, num[32], *digest;

	if (pg->resp->status == 404) {
		fetch_fail(f, 0, "GET %s: HTTP 404: no job %s (or no right "
		    "to see it)", pg->url, d->job);
		return (FETCH_FAILED);
	}
	if (jenkins_parse_builds(pg->json, &b, &n, &cause) != 0) {
		fetch_fail(f, 0, "GET %s: %s", pg->url, cause);
		free(cause);
		return (FETCH_FAILED);
	}
	for (i = 0; i < n; i++) {
		if (!b[i].finished ||
		    !ci_state_accepted(&src->results, "SUCCESS", b[i].state))
			continue;
		if ((long long)l->vs->n >= l->max) {
			l->vs->truncated = 1;
			break;
		}
		snprintf(num, sizeof num, "%lld", b[i].number);
		v = versions_add(l->vs, num);
		xasprintf(&digest, "%s#%lld", d->job, b[i].number);
		ci_version_fill(v, &b[i], digest, d->artifacts, NULL);
		free(digest);
	}
	/* The range was full: older builds were left out. */
	if ((long long)n >= l->asked)
		l->vs->truncated = 1;
	ci_builds_free(b, n);
	return (FETCH_STOP);
}

static void
jenkins_list(struct provider *p, const struct list_request *req,
    provider_done_cb done, void *arg)
{
	struct ci_source	*d = p->data;
	struct ci_call		*l;
	struct fetch		*f;
	char			*url;

	l = ci_call_new(p, req, done, arg);
	/* One more than the cap: a full range says older builds exist. */
	l->asked = l->max + 1;
	/*
	 * builds[…]{0,N}, brackets escaped: `builds` stops at 100, more
	 * takes allBuilds.
	 */
	xasprintf(&url, "%s%s/api/json?tree=%s%%5Bnumber%%2Cresult%%2C"
	    "timestamp%%2Cbuilding%%2Curl%%2Cartifacts%%5BfileName%%2C"
	    "relativePath%%5D%%5D%%7B0%%2C%lld%%7D", d->base, d->job_path,
	    l->asked > JENKINS_BUILDS_MAX ? "allBuilds" : "builds", l->asked);
	f = ci_call_fetch(l);
	fetch_submit(f, &(struct fetch_request){ .url = url,
	    .flags = FETCH_JSON | FETCH_OK_404 }, jenkins_page, l);
	free(url);
}

const struct provider_entry provider_jenkins_entry = {
	.name = "Jenkins",
	.connector = "Jenkins",
	.kind = KIND_BUILD,
	.source_keys = jenkins_source_keys,
	.source_size = sizeof (struct jenkins_source),
	.check = jenkins_check,
	.identity = jenkins_identity,
	.init = jenkins_init,
	.list = jenkins_list,
	.cancel = ci_cancel,
	.free = ci_free,
};
