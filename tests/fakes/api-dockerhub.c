/*
 * api-dockerhub.c: Docker Hub's "Hub API" tag listing as the fake speaks it
 * (docs/provider-protocols.md §1.6): GET /v2/namespaces/<ns>/repositories/
 * <repo>/tags?page=&page_size=(1..100)&ordering=last_updated answers
 * {"count","next","previous","results":[{"name","digest","last_updated",
 * "tag_last_pushed","media_type","images":[…]}]}, newest push first with
 * ordering=last_updated and by name otherwise, `next` an absolute URL, an
 * ETag on each page and 304 for a matching If-None-Match.
 *
 * Its repositories are its own (the registry API's store is another's):
 * POST /_fake/dockerhub/repos {"name": "library/app", "tags": [...]} makes
 * one, the tags pushed in the order given (oldest first), and
 * POST /_fake/dockerhub/tags {"repo", "tags"} pushes tags now: a new tag
 * goes on top, a known one moves there with a new digest.
 */
#include <event2/buffer.h>
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fakes.h"

#define HUB_MAX_TAGS		100000
#define HUB_PAGE_SIZE_MAX	100
#define HUB_PAGE_SIZE_DEFAULT	10

struct hub_tag {
	char		*name;
	uint32_t	 gen;		/* pushes of this name */
	int64_t		 pushed_s;
	uint64_t	 seq;		/* push order, for ordering */
};

struct hub_repo {
	struct hub_tag	*tags;
	size_t		 ntags;
	size_t		 size;
};

struct hub {
	struct fake	*fake;
	struct strmap	*repos;		/* "ns/repo" -> struct hub_repo */
	uint64_t	 seq;
	int64_t		 clock_s;	/* last push time handed out */
};

static void
hub_repo_free(void *arg)
{
	struct hub_repo	*r = arg;
	size_t		 i;

	for (i = 0; i < r->ntags; i++)
		free(r->tags[i].name);
	free(r->tags);
	free(r);
}

static void *
hub_create(struct fake *fake)
{
	struct hub	*h;

	h = xcalloc(1, sizeof *h);
	h->fake = fake;
	h->repos = strmap_new();
	return (h);
}

static void
hub_reset(void *arg)
{
	struct hub	*h = arg;

	strmap_free(h->repos, hub_repo_free);
	h->repos = strmap_new();
	h->seq = 0;
	h->clock_s = 0;
}

static void
hub_free(void *arg)
{
	struct hub	*h = arg;

	strmap_free(h->repos, hub_repo_free);
	free(h);
}

/* A push time: now, but strictly after every earlier push. */
static int64_t
hub_now(struct hub *h)
{
	int64_t	 now = clock_ms() / 1000;

	if (now <= h->clock_s)
		now = h->clock_s + 1;
	h->clock_s = now;
	return (now);
}

static void
hub_push(struct hub *h, struct hub_repo *r, const char *name, int64_t when)
{
	size_t	 i;

	for (i = 0; i < r->ntags; i++) {
		if (strcmp(r->tags[i].name, name) == 0)
			break;
	}
	if (i == r->ntags) {
		if (r->ntags == r->size) {
			r->size = r->size == 0 ? 16 : r->size * 2;
			r->tags = xreallocarray(r->tags, r->size,
			    sizeof *r->tags);
		}
		r->tags[i].name = xstrdup(name);
		r->tags[i].gen = 0;
		r->ntags++;
	}
	r->tags[i].gen++;
	r->tags[i].pushed_s = when;
	r->tags[i].seq = ++h->seq;
}

static int
hub_newest_first(const void *a, const void *b)
{
	const struct hub_tag	*x = *(struct hub_tag *const *)a;
	const struct hub_tag	*y = *(struct hub_tag *const *)b;

	return (x->seq < y->seq ? 1 : x->seq > y->seq ? -1 : 0);
}

static int
hub_by_name(const void *a, const void *b)
{
	const struct hub_tag	*x = *(struct hub_tag *const *)a;
	const struct hub_tag	*y = *(struct hub_tag *const *)b;

	return (strcmp(x->name, y->name));
}

static void
hub_time(int64_t unix_s, char *out, size_t len)
{
	time_t		 t = (time_t)unix_s;
	struct tm	 tm;

	gmtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%S.000000Z", &tm);
}

static void
hub_error(struct fake_req *fr, int status, const char *detail)
{
	cJSON	*o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "detail", detail);
	cJSON_AddStringToObject(o, "message", detail);
	fake_reply_json(fr, status, o);
	cJSON_Delete(o);
}

/* A positive number parameter, or def when absent; -1 when bad. */
static long
hub_param(const struct fake_req *fr, const char *name, long def, long max)
{
	char	*v = fake_query_param(fr, name), *end;
	long	 n;

	if (v == NULL)
		return (def);
	n = strtol(v, &end, 10);
	if (*v == '\0' || *end != '\0' || n < 1 || n > max)
		n = -1;
	free(v);
	return (n);
}

static void
hub_tags(struct hub *h, struct fake_req *fr, const char *name)
{
	struct hub_repo	*r = strmap_get(h->repos, name);
	struct hub_tag	**order;
	cJSON		*o, *results, *t, *images, *img;
	char		*text, *ordering, digest[SHA256_DIGEST_LEN], seed[512];
	char		 when[40], etag[24], *next;
	const char	*inm;
	long		 page, size;
	size_t		 i, start, end;

	if (r == NULL) {
		hub_error(fr, 404, "object not found");
		return;
	}
	page = hub_param(fr, "page", 1, 1000000);
	size = hub_param(fr, "page_size", HUB_PAGE_SIZE_DEFAULT,
	    HUB_PAGE_SIZE_MAX);
	if (page < 0 || size < 0) {
		hub_error(fr, 400, "page and page_size must be numbers; "
		    "page_size at most 100");
		return;
	}
	ordering = fake_query_param(fr, "ordering");
	order = xcalloc(r->ntags + 1, sizeof *order);
	for (i = 0; i < r->ntags; i++)
		order[i] = &r->tags[i];
	qsort(order, r->ntags, sizeof *order, ordering != NULL &&
	    strcmp(ordering, "last_updated") == 0 ? hub_newest_first :
	    hub_by_name);

	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "count", (double)r->ntags);
	start = (size_t)(page - 1) * (size_t)size;
	end = start + (size_t)size < r->ntags ? start + (size_t)size :
	    r->ntags;
	if (end < r->ntags) {
		xasprintf(&next, "http://127.0.0.1:%d%s?page=%ld&page_size=%ld"
		    "%s%s", fake_port(h->fake), fr->path, page + 1, size,
		    ordering != NULL ? "&ordering=" : "",
		    ordering != NULL ? ordering : "");
		cJSON_AddStringToObject(o, "next", next);
		free(next);
	} else
		cJSON_AddNullToObject(o, "next");
	cJSON_AddNullToObject(o, "previous");
	results = cJSON_AddArrayToObject(o, "results");
	for (i = start; i < end; i++) {
		snprintf(seed, sizeof seed, "%s:%s:%" PRIu32, name,
		    order[i]->name, order[i]->gen);
		sha256_digest(seed, strlen(seed), digest);
		hub_time(order[i]->pushed_s, when, sizeof when);
		t = cJSON_CreateObject();
		cJSON_AddStringToObject(t, "name", order[i]->name);
		cJSON_AddStringToObject(t, "last_updated", when);
		cJSON_AddStringToObject(t, "tag_last_pushed", when);
		cJSON_AddStringToObject(t, "tag_status", "active");
		cJSON_AddStringToObject(t, "media_type",
		    "application/vnd.oci.image.index.v1+json");
		cJSON_AddStringToObject(t, "digest", digest);
		images = cJSON_AddArrayToObject(t, "images");
		img = cJSON_CreateObject();
		cJSON_AddStringToObject(img, "architecture", "amd64");
		cJSON_AddStringToObject(img, "os", "linux");
		strncat(seed, ":amd64", sizeof seed - strlen(seed) - 1);
		sha256_digest(seed, strlen(seed), digest);
		cJSON_AddStringToObject(img, "digest", digest);
		cJSON_AddItemToArray(images, img);
		cJSON_AddItemToArray(results, t);
	}
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	free(order);
	free(ordering);
	snprintf(etag, sizeof etag, "\"%016" PRIx64 "\"",
	    fnv1a64(text, strlen(text)));
	fake_set_header(fr, "ETag", etag);
	inm = fake_header(fr, "If-None-Match");
	if (inm != NULL && strstr(inm, etag) != NULL)
		fake_reply(fr, 304, NULL);
	else
		fake_reply_text(fr, 200, "application/json", text);
	free(text);
}

/* /v2/namespaces/<ns>/repositories/<repo>/tags */
static int
hub_handle(void *arg, struct fake_req *fr)
{
	struct hub	*h = arg;
	const char	*p = fr->path, *ns, *repo;
	char		*name;
	size_t		 nslen, repolen;

	if (strncmp(p, "/v2/namespaces/", 15) != 0)
		return (-1);
	ns = p + 15;
	if ((nslen = strcspn(ns, "/")) == 0 ||
	    strncmp(ns + nslen, "/repositories/", 14) != 0)
		return (-1);
	repo = ns + nslen + 14;
	if ((repolen = strcspn(repo, "/")) == 0 ||
	    (strcmp(repo + repolen, "/tags") != 0 &&
	    strcmp(repo + repolen, "/tags/") != 0))
		return (-1);
	if (strcmp(fr->method, "GET") != 0) {
		hub_error(fr, 405, "method not allowed");
		return (0);
	}
	xasprintf(&name, "%.*s/%.*s", (int)nslen, ns, (int)repolen, repo);
	hub_tags(h, fr, name);
	free(name);
	return (0);
}

/* The "tags" array of a control body, every member a string; or NULL. */
static const cJSON *
hub_tag_list(const cJSON *body)
{
	const cJSON	*tags = cJSON_GetObjectItemCaseSensitive(body, "tags");
	const cJSON	*t;

	if (!cJSON_IsArray(tags) || cJSON_GetArraySize(tags) > HUB_MAX_TAGS)
		return (NULL);
	cJSON_ArrayForEach(t, tags) {
		if (!cJSON_IsString(t) || *t->valuestring == '\0' ||
		    strlen(t->valuestring) > 128)
			return (NULL);
	}
	return (tags);
}

static int
hub_control(void *arg, struct fake_req *fr, const char *what,
    const cJSON *body)
{
	struct hub	*h = arg;
	struct hub_repo	*r;
	const cJSON	*name, *tags, *t;
	int64_t		 when, n;

	if (strcmp(fr->method, "POST") != 0 || !cJSON_IsObject(body))
		return (-1);
	if (strcmp(what, "repos") == 0)
		name = cJSON_GetObjectItemCaseSensitive(body, "name");
	else if (strcmp(what, "tags") == 0)
		name = cJSON_GetObjectItemCaseSensitive(body, "repo");
	else
		return (-1);
	if (!cJSON_IsString(name) || strchr(name->valuestring, '/') == NULL ||
	    (tags = hub_tag_list(body)) == NULL) {
		hub_error(fr, 400, "want {\"name\" or \"repo\": \"ns/repo\", "
		    "\"tags\": [strings]}");
		return (0);
	}
	r = strmap_get(h->repos, name->valuestring);
	if (strcmp(what, "repos") == 0) {
		if (r != NULL)
			hub_repo_free(r);
		r = xcalloc(1, sizeof *r);
		strmap_put(h->repos, name->valuestring, r);
		/* Pushed in order, a second apart, ending now. */
		n = cJSON_GetArraySize(tags);
		when = hub_now(h) - n;
		cJSON_ArrayForEach(t, tags)
			hub_push(h, r, t->valuestring, ++when);
		h->clock_s = when;
	} else {
		if (r == NULL) {
			hub_error(fr, 404, "no such repository");
			return (0);
		}
		cJSON_ArrayForEach(t, tags)
			hub_push(h, r, t->valuestring, hub_now(h));
	}
	fake_reply_text(fr, 200, "application/json", "{}");
	return (0);
}

const struct fake_api api_dockerhub = {
	.name = "dockerhub",
	.create = hub_create,
	.handle = hub_handle,
	.control = hub_control,
	.reset = hub_reset,
	.free = hub_free,
};
