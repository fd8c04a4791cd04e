/*
 * ci-parse.c: pure parsers of the CI servers' build listings
 * (provider-protocols.md §11): Bamboo's result resource and Jenkins'
 * api/json with a tree= query.  Bytes (or the parsed document) in, builds
 * out; anything missing or mistyped in one build skips that build or that
 * field, never the page.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "http.h"
#include "json.h"
#include "provider-ci.h"

#define CI_MAX_BUILDS		100000
#define CI_MAX_ARTIFACTS	10000

void
ci_builds_free(struct ci_build *b, size_t n)
{
	size_t	 i, k;

	for (i = 0; b != NULL && i < n; i++) {
		free(b[i].key);
		free(b[i].state);
		free(b[i].url);
		for (k = 0; k < b[i].nartifacts; k++) {
			free(b[i].artifacts[k].name);
			free(b[i].artifacts[k].path);
			free(b[i].artifacts[k].url);
		}
		free(b[i].artifacts);
	}
	free(b);
}

/* A number given as a JSON number or a string of digits. */
static int
num_at(const cJSON *o, const char *path, long long *out)
{
	const cJSON	*n = json_get(o, path);
	const char	*s;
	char		*end;
	long long	 v;

	if (n == NULL)
		return (-1);
	if (cJSON_IsNumber(n)) {
		if (n->valuedouble < 0 || n->valuedouble > 9.0e15)
			return (-1);
		*out = (long long)n->valuedouble;
		return (0);
	}
	if ((s = cJSON_GetStringValue(n)) == NULL || !isdigit((unsigned char)*s))
		return (-1);
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0)
		return (-1);
	*out = v;
	return (0);
}

static char *
str_dup_at(const cJSON *o, const char *path)
{
	const char	*s = json_str(o, path);

	return (s != NULL && *s != '\0' ? xstrdup(s) : NULL);
}

/* The array at path, or an object standing for a one-element array. */
static const cJSON *
array_at(const cJSON *o, const char *path)
{
	return (json_get(o, path));
}

static void
bamboo_artifacts(const cJSON *r, struct ci_build *b)
{
	const cJSON	*list, *a;
	long long	 size;
	size_t		 n = 0;

	list = array_at(r, "artifacts.artifact");
	if (list == NULL || (!cJSON_IsArray(list) && !cJSON_IsObject(list)))
		return;
	n = cJSON_IsArray(list) ? (size_t)cJSON_GetArraySize(list) : 1;
	if (n > CI_MAX_ARTIFACTS)
		n = CI_MAX_ARTIFACTS;
	b->artifacts = xcalloc(n + 1, sizeof *b->artifacts);
	a = cJSON_IsArray(list) ? list->child : list;
	for (; a != NULL && b->nartifacts < n; a = a->next) {
		struct ci_artifact *ar = &b->artifacts[b->nartifacts];

		if (!cJSON_IsObject(a) || json_str(a, "name") == NULL)
			continue;
		ar->name = xstrdup(json_str(a, "name"));
		ar->url = str_dup_at(a, "link.href");
		ar->size = num_at(a, "size", &size) == 0 ? size : -1;
		b->nartifacts++;
		if (!cJSON_IsArray(list))
			break;
	}
}

int
bamboo_parse_results(const cJSON *doc, struct ci_build **out, size_t *nout,
    long long *size, char **cause)
{
	const cJSON	*list, *r, *results;
	struct ci_build	*b, *all;
	const char	*life, *state;
	long long	 num, total;
	int64_t		 t;
	size_t		 n, cap;

	*out = NULL;
	*nout = 0;
	*size = -1;
	if (!cJSON_IsObject(doc) ||
	    !cJSON_IsObject(results = json_get(doc, "results")))
		return (fail(cause, "no \"results\" object: not a Bamboo "
		    "result listing"));
	if (num_at(results, "size", &total) == 0)
		*size = total;
	list = json_get(results, "result");
	if (list == NULL || cJSON_IsNull(list))
		return (0);
	if (!cJSON_IsArray(list))
		return (fail(cause, "results.result is not an array"));
	cap = (size_t)cJSON_GetArraySize(list);
	if (cap > CI_MAX_BUILDS)
		cap = CI_MAX_BUILDS;
	all = xcalloc(cap + 1, sizeof *all);
	n = 0;
	cJSON_ArrayForEach(r, list) {
		if (n >= cap)
			break;
		if (!cJSON_IsObject(r))
			continue;
		if (num_at(r, "buildNumber", &num) != 0 &&
		    num_at(r, "number", &num) != 0 &&
		    num_at(r, "planResultKey.resultNumber", &num) != 0)
			continue;
		b = &all[n++];
		b->number = num;
		if ((b->key = str_dup_at(r, "buildResultKey")) == NULL)
			b->key = str_dup_at(r, "key");
		state = json_str(r, "buildState");
		if (state == NULL)
			state = json_str(r, "state");
		b->state = state != NULL ? xstrdup(state) : NULL;
		life = json_str(r, "lifeCycleState");
		if (life != NULL)
			b->finished = strcmp(life, "Finished") == 0;
		else
			b->finished = !cJSON_IsFalse(json_get(r, "finished"));
		b->url = str_dup_at(r, "link.href");
		t = 0;
		if (json_str(r, "buildCompletedTime") != NULL &&
		    time_parse_rfc3339(json_str(r, "buildCompletedTime"),
		    &t) != 0)
			t = 0;
		b->completed_at = t;
		bamboo_artifacts(r, b);
	}
	*out = all;
	*nout = n;
	return (0);
}

int
bamboo_parse_results_bytes(const char *body, size_t len,
    struct ci_build **out, size_t *nout, long long *size, char **cause)
{
	cJSON	*doc;
	int	 rc;

	*out = NULL;
	*nout = 0;
	if (json_parse_object(body, len, &doc, cause) != 0)
		return (-1);
	rc = bamboo_parse_results(doc, out, nout, size, cause);
	cJSON_Delete(doc);
	return (rc);
}

static void
jenkins_artifacts(const cJSON *r, struct ci_build *b)
{
	const cJSON	*list, *a;
	const char	*rel;
	size_t		 n;

	if (!cJSON_IsArray(list = json_get(r, "artifacts")))
		return;
	n = (size_t)cJSON_GetArraySize(list);
	if (n > CI_MAX_ARTIFACTS)
		n = CI_MAX_ARTIFACTS;
	b->artifacts = xcalloc(n + 1, sizeof *b->artifacts);
	cJSON_ArrayForEach(a, list) {
		struct ci_artifact *ar;

		if (b->nartifacts >= n)
			break;
		if (!cJSON_IsObject(a) ||
		    (rel = json_str(a, "relativePath")) == NULL || *rel == '\0')
			continue;
		ar = &b->artifacts[b->nartifacts++];
		ar->path = xstrdup(rel);
		ar->name = str_dup_at(a, "fileName");
		if (ar->name == NULL) {
			const char *slash = strrchr(rel, '/');

			ar->name = xstrdup(slash != NULL ? slash + 1 : rel);
		}
		ar->size = -1;
		if (b->url != NULL) {
			char *esc = url_escape(rel), *p;

			/* Keep the path's slashes: escape each part. */
			for (p = esc; (p = strstr(p, "%2F")) != NULL; ) {
				*p = '/';
				memmove(p + 1, p + 3, strlen(p + 3) + 1);
			}
			xasprintf(&ar->url, "%s%sartifact/%s", b->url,
			    b->url[strlen(b->url) - 1] == '/' ? "" : "/", esc);
			free(esc);
		}
	}
}

int
jenkins_parse_builds(const cJSON *doc, struct ci_build **out, size_t *nout,
    char **cause)
{
	const cJSON	*list, *r, *res;
	struct ci_build	*all, *b;
	long long	 num, ts;
	size_t		 n, cap;

	*out = NULL;
	*nout = 0;
	if (!cJSON_IsObject(doc))
		return (fail(cause, "not a Jenkins job (no object)"));
	list = json_get(doc, "builds");
	if (list == NULL)
		list = json_get(doc, "allBuilds");
	if (list == NULL) {
		if (json_get(doc, "_class") == NULL)
			return (fail(cause, "no \"builds\": not a Jenkins job"));
		return (0);	/* a job that never ran */
	}
	if (cJSON_IsNull(list))
		return (0);
	if (!cJSON_IsArray(list))
		return (fail(cause, "builds is not an array"));
	cap = (size_t)cJSON_GetArraySize(list);
	if (cap > CI_MAX_BUILDS)
		cap = CI_MAX_BUILDS;
	all = xcalloc(cap + 1, sizeof *all);
	n = 0;
	cJSON_ArrayForEach(r, list) {
		if (n >= cap)
			break;
		if (!cJSON_IsObject(r) || num_at(r, "number", &num) != 0)
			continue;
		b = &all[n++];
		b->number = num;
		res = json_get(r, "result");
		b->state = cJSON_IsString(res) ? xstrdup(res->valuestring) :
		    NULL;
		b->finished = !cJSON_IsTrue(json_get(r, "building")) &&
		    b->state != NULL;
		if (num_at(r, "timestamp", &ts) == 0)
			b->completed_at = ts / 1000;
		b->url = str_dup_at(r, "url");
		jenkins_artifacts(r, b);
	}
	*out = all;
	*nout = n;
	return (0);
}

int
jenkins_parse_builds_bytes(const char *body, size_t len,
    struct ci_build **out, size_t *nout, char **cause)
{
	cJSON	*doc;
	int	 rc;

	*out = NULL;
	*nout = 0;
	if (json_parse_object(body, len, &doc, cause) != 0)
		return (-1);
	rc = jenkins_parse_builds(doc, out, nout, cause);
	cJSON_Delete(doc);
	return (rc);
}

char *
jenkins_job_path(const char *job, char **cause)
{
	struct buf	 b = { 0 };
	const char	*p, *slash;
	char		*part, *esc;

	if (job == NULL || *job == '\0')
		return (fail(cause, "jobName is empty"), NULL);
	for (p = job; *p != '\0'; p = slash + 1) {
		if ((slash = strchr(p, '/')) == NULL)
			slash = p + strlen(p);
		if (slash == p) {
			buf_free(&b);
			fail(cause, "jobName %s has an empty part", job);
			return (NULL);
		}
		part = xstrndup(p, slash - p);
		if (strcmp(part, ".") == 0 || strcmp(part, "..") == 0) {
			free(part);
			buf_free(&b);
			fail(cause, "jobName %s has a . or .. part", job);
			return (NULL);
		}
		esc = url_escape(part);
		buf_printf(&b, "/job/%s", esc);
		free(esc);
		free(part);
		if (*slash == '\0')
			break;
	}
	return (buf_take(&b));
}

int
bamboo_plan_key_valid(const char *key)
{
	const char	*p;

	if (key == NULL || *key == '\0' || strlen(key) > 255 ||
	    strchr(key, '-') == NULL || *key == '-')
		return (0);
	for (p = key; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return (0);
	}
	return (p[-1] != '-');
}
