/*
 * docker-details.c: what the registry API tells of one image a source of
 * another family picked (provider-docker.h, struct docker_details): Ecr's
 * and Acr's resolve() reach their registries with their own credentials,
 * and share this walk.  The manifest (by digest, else by tag; a HEAD when
 * only the digest is wanted), a multi-arch index's platform manifest, then
 * the config blob, parsed by docker-parse.c.  A 404 marks the version gone.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "provider-docker.h"
#include "fetch.h"
#include "http.h"
#include "provider.h"

#define DETAILS_MANIFEST_MAX	(4 * 1024 * 1024)
#define DETAILS_CONFIG_MAX	(16 * 1024 * 1024)

const char docker_details_accept[] = "Accept: "
    "application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json";

static int
details_config(struct fetch *f, struct fetch_page *pg, void *arg)
{
	struct docker_details	*job = arg;
	char			*cause = NULL;
	int64_t			 created = 0;
	cJSON			*labels = NULL;

	if (pg->resp->status == 404) {
		job->v->gone = 1;
		return (FETCH_STOP);
	}
	if (docker_parse_config(pg->resp->body.data, pg->resp->body.len,
	    &labels, &created, &cause) != 0) {
		fetch_fail(f, 0, "GET %s: %s", pg->url, cause);
		free(cause);
		return (FETCH_FAILED);
	}
	cJSON_Delete(job->v->labels);
	job->v->labels = labels;
	if (job->v->pushed_at == 0)
		job->v->pushed_at = created;
	return (FETCH_STOP);
}

static int
details_manifest(struct fetch *f, struct fetch_page *pg, void *arg)
{
	struct docker_details	*job = arg;
	struct docker_manifest	 m;
	const char		*d;
	char			*cause = NULL;

	if (pg->resp->status == 404) {
		job->v->gone = 1;
		return (FETCH_STOP);
	}
	if (!job->platform && job->v->digest == NULL && (d = http_header(
	    pg->resp, "Docker-Content-Digest")) != NULL &&
	    docker_digest_valid(d))
		job->v->digest = xstrdup(d);
	if (!(job->v->want & RESOLVE_DETAILS))
		return (FETCH_STOP);
	if (docker_parse_manifest(pg->resp->body.data, pg->resp->body.len,
	    http_header(pg->resp, "Content-Type"), &m, &cause) != 0) {
		fetch_fail(f, 0, "GET %s: %s", pg->url, cause);
		free(cause);
		return (FETCH_FAILED);
	}
	if (m.kind == DOCKER_MANIFEST_INDEX && !job->platform &&
	    m.platform_digest != NULL) {
		job->platform = 1;
		job->get(job, "GET", "manifests", m.platform_digest,
		    details_manifest, DETAILS_MANIFEST_MAX);
	} else if (m.kind == DOCKER_MANIFEST_IMAGE && m.config_digest != NULL)
		job->get(job, "GET", "blobs", m.config_digest, details_config,
		    DETAILS_CONFIG_MAX);
	docker_manifest_clear(&m);
	return (FETCH_STOP);
}

void
docker_details_start(struct docker_details *job)
{
	job->platform = 0;
	job->get(job, job->v->want & RESOLVE_DETAILS ? "GET" : "HEAD",
	    "manifests", job->v->digest != NULL ? job->v->digest :
	    job->v->name, details_manifest, DETAILS_MANIFEST_MAX);
}
