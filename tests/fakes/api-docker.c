/*
 * api-docker.c: the Docker Registry HTTP API v2 as the fake speaks it
 * (docs/provider-protocols.md section 1): the /v2/ probe and its Bearer
 * challenge, a /token realm, paged tag lists (relative, absolute or
 * Quay-style cursor Links; short pages, unsorted order, ignore-n), manifest
 * HEAD/GET chosen by Accept with real digests, config blobs with labels
 * (optionally behind a 307 to a "CDN" that refuses credentials), Docker
 * Hub pull rate-limit headers, and ETag/304 on tag lists.
 *
 * Control calls (POST /_fake/docker/<what>): "repos" makes or shapes a
 * repository, "tags" adds or re-points tags, "config" switches auth,
 * credentials, token lifetime and the pull rate limit.
 */
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docker.h"

#define DOCKER_ACCEPT_OCI_INDEX		0x1
#define DOCKER_ACCEPT_DOCKER_LIST	0x2
#define DOCKER_ACCEPT_OCI_MANIFEST	0x4
#define DOCKER_ACCEPT_DOCKER_MANIFEST	0x8

struct docker_token {
	int64_t		 issued_ms;
	int64_t		 expires_in;	/* seconds */
	int64_t		 uses;
};

struct docker {
	struct fake		*fake;
	struct docker_store	*store;
	struct strmap		*tokens;	/* token -> docker_token */
	uint64_t		 token_serial;
	int			 auth;		/* Bearer tokens required */
	char			*credentials;	/* "user:pass" or NULL */
	int64_t			 token_expires_in;
	int64_t			 rl_limit;	/* 0: no rate-limit headers */
	int64_t			 rl_remaining;
	int64_t			 rl_window;
};

/* The settings a fresh or reset fake starts with. */
static void
docker_defaults(struct docker *d)
{
	d->store = docker_store_new();
	d->tokens = strmap_new();
	d->auth = 0;
	free(d->credentials);
	d->credentials = NULL;
	d->token_expires_in = 300;
	d->rl_limit = 0;
	d->rl_remaining = 0;
	d->rl_window = 21600;
}

static void *
docker_create(struct fake *fake)
{
	struct docker	*d;

	d = xcalloc(1, sizeof *d);
	d->fake = fake;
	docker_defaults(d);
	return (d);
}

static void
docker_reset(void *arg)
{
	struct docker	*d = arg;

	docker_store_free(d->store);
	strmap_free(d->tokens, free);
	docker_defaults(d);
}

static void
docker_free(void *arg)
{
	struct docker	*d = arg;

	docker_store_free(d->store);
	strmap_free(d->tokens, free);
	free(d->credentials);
	free(d);
}

/* An OCI error body: {"errors":[{"code":...,"message":...}]}. */
static void
docker_error(struct fake_req *fr, int status, const char *code,
    const char *message)
{
	char	*text;

	xasprintf(&text, "{\"errors\":[{\"code\":\"%s\",\"message\":\"%s\","
	    "\"detail\":null}]}", code, message);
	fake_reply_text(fr, status, "application/json", text);
	free(text);
}

/* 401 with the Bearer challenge pointing at our /token. */
static void
docker_challenge(struct docker *d, struct fake_req *fr, const char *name,
    int invalid)
{
	char	*v;

	xasprintf(&v, "Bearer realm=\"http://127.0.0.1:%d/token\","
	    "service=\"fake-registry\"%s%s%s%s", fake_port(d->fake),
	    name != NULL ? ",scope=\"repository:" : "",
	    name != NULL ? name : "", name != NULL ? ":pull\"" : "",
	    invalid ? ",error=\"invalid_token\"" : "");
	fake_set_header(fr, "WWW-Authenticate", v);
	free(v);
	docker_error(fr, 401, "UNAUTHORIZED",
	    invalid ? "the token is invalid or expired" :
	    "authentication required");
}

/* 0 when the request carries a live token; 1 none; 2 a dead one. */
static int
docker_check_token(struct docker *d, struct fake_req *fr)
{
	const char		*auth = fake_header(fr, "Authorization");
	const struct fault	*rule;
	struct docker_token	*t;

	if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0)
		return (1);
	if ((t = strmap_get(d->tokens, auth + 7)) == NULL)
		return (2);
	t->uses++;
	rule = faults_token_rule(fake_faults(d->fake));
	if (rule != NULL && rule->token_uses > 0 &&
	    t->uses > rule->token_uses)
		return (2);
	if (clock_ms() - t->issued_ms > t->expires_in * 1000)
		return (2);
	return (0);
}

/* 0 when Basic credentials are absent or right (when any are set). */
static int
docker_check_basic(struct docker *d, struct fake_req *fr)
{
	const char	*auth = fake_header(fr, "Authorization");
	char		*plain;
	int		 ok;

	if (auth == NULL)
		return (d->credentials == NULL ? 0 : -1);
	if (strncasecmp(auth, "Basic ", 6) != 0)
		return (-1);
	if ((plain = base64_decode(auth + 6)) == NULL)
		return (-1);
	ok = d->credentials == NULL || strcmp(plain, d->credentials) == 0;
	free(plain);
	return (ok ? 0 : -1);
}

/* GET /token: a Bearer token, Basic optional. */
static void
docker_token(struct docker *d, struct fake_req *fr)
{
	const struct fault	*rule;
	struct docker_token	*t;
	char			*text, token[64], issued[32];
	time_t			 now;
	struct tm		 tm;

	if (docker_check_basic(d, fr) != 0) {
		fake_reply_text(fr, 401, "application/json",
		    "{\"details\":\"incorrect username or password\"}");
		return;
	}
	t = xcalloc(1, sizeof *t);
	t->issued_ms = clock_ms();
	t->expires_in = d->token_expires_in;
	rule = faults_token_rule(fake_faults(d->fake));
	if (rule != NULL && rule->token_expires_in > 0)
		t->expires_in = rule->token_expires_in;
	d->token_serial++;
	snprintf(token, sizeof token, "fake.%" PRIu64 ".%016" PRIx64,
	    d->token_serial, fnv1a64(&t->issued_ms, sizeof t->issued_ms) ^
	    d->token_serial);
	strmap_put(d->tokens, token, t);
	now = (time_t)(t->issued_ms / 1000);
	gmtime_r(&now, &tm);
	strftime(issued, sizeof issued, "%Y-%m-%dT%H:%M:%SZ", &tm);
	xasprintf(&text, "{\"token\":\"%s\",\"access_token\":\"%s\","
	    "\"expires_in\":%" PRId64 ",\"issued_at\":\"%s\"}", token, token,
	    t->expires_in, issued);
	fake_reply_text(fr, 200, "application/json", text);
	free(text);
}

/* Where a tag-list page starts: after `last`, or at a cursor. */
static int
docker_page_start(struct docker_repo *r, const char *last,
    const char *cursor, size_t *start)
{
	unsigned long long	 pos, check;
	size_t			 at;
	long			 t;

	*start = 0;
	if (cursor != NULL) {
		if (sscanf(cursor, "%llx.%llx", &pos, &check) != 2)
			return (-1);
		pos ^= 0x5a17c0de;
		if (pos > r->ntags ||
		    (fnv1a64(&pos, sizeof pos) & 0xffff) != check)
			return (-1);
		*start = (size_t)pos;
	} else if (last != NULL) {
		t = docker_repo_lookup(r, last, &at);
		if (!r->unsorted)
			*start = t >= 0 ? at + 1 : at;
		else
			*start = t >= 0 ? docker_repo_slot(r, at) + 1 :
			    r->ntags;
	}
	return (0);
}

/* The Link header for the page after the one ending at slot next. */
static void
docker_page_link(struct docker *d, struct fake_req *fr, struct docker_repo *r,
    size_t next, size_t n)
{
	unsigned long long	 pos = next;
	char			*v, host[64] = "";

	if (r->link == DOCKER_LINK_CURSOR) {
		xasprintf(&v, "</v2/%s/tags/list?n=%zu&next_page=%llx.%llx>; "
		    "rel=\"next\"", r->name, n, pos ^ 0x5a17c0de,
		    (unsigned long long)(fnv1a64(&pos, sizeof pos) & 0xffff));
	} else {
		if (r->link == DOCKER_LINK_ABSOLUTE)
			snprintf(host, sizeof host, "http://127.0.0.1:%d",
			    fake_port(d->fake));
		xasprintf(&v, "<%s/v2/%s/tags/list?last=%s&n=%zu>; "
		    "rel=\"next\"", host, r->name,
		    docker_repo_at(r, next - 1)->name, n);
	}
	fake_set_header(fr, "Link", v);
	free(v);
}

/* GET /v2/<name>/tags/list[?n=&last=|next_page=]. */
static void
docker_tags(struct docker *d, struct fake_req *fr, struct docker_repo *r)
{
	char		*n_s, *last, *cursor, *end, etag[32];
	const char	*inm;
	struct evbuffer	*body;
	size_t		 start, limit, count, i;
	unsigned long	 n = 0;
	int		 bad = 0, paged;

	n_s = fake_query_param(fr, "n");
	last = fake_query_param(fr, "last");
	cursor = fake_query_param(fr, "next_page");
	if (n_s != NULL) {
		n = strtoul(n_s, &end, 10);
		bad = *n_s == '\0' || *end != '\0' || *n_s == '-';
	}
	if (bad || docker_page_start(r, last, cursor, &start) != 0) {
		docker_error(fr, 400, "PAGINATION_NUMBER_INVALID",
		    "invalid pagination parameters");
		goto out;
	}
	paged = n_s != NULL || r->max_n > 0;
	limit = n_s != NULL ? n : r->max_n > 0 ? r->max_n : r->ntags;
	if (r->max_n > 0 && limit > r->max_n)
		limit = r->max_n;
	if (r->ignore_n) {
		start = 0;
		limit = r->ntags;
		paged = 0;
	}
	if (start > r->ntags)
		start = r->ntags;
	count = r->ntags - start < limit ? r->ntags - start : limit;
	if (r->short_page > 0 && count > r->short_page)
		count = r->short_page;

	body = evbuffer_new();
	evbuffer_add_printf(body, "{\"name\":\"%s\",\"tags\":[", r->name);
	for (i = 0; i < count; i++)
		evbuffer_add_printf(body, "%s\"%s\"", i == 0 ? "" : ",",
		    docker_repo_at(r, start + i)->name);
	evbuffer_add(body, "]}", 2);
	snprintf(etag, sizeof etag, "\"%016" PRIx64 "\"",
	    fnv1a64(evbuffer_pullup(body, -1), evbuffer_get_length(body)));
	if (paged && limit > 0 && start + count < r->ntags)
		docker_page_link(d, fr, r, start + count, limit);
	fake_set_header(fr, "ETag", etag);
	fake_set_header(fr, "Content-Type", "application/json");
	inm = fake_header(fr, "If-None-Match");
	if (inm != NULL && (strstr(inm, etag) != NULL ||
	    strcmp(inm, "*") == 0)) {
		evbuffer_free(body);
		fake_reply(fr, 304, NULL);
	} else
		fake_reply(fr, 200, body);
out:
	free(n_s);
	free(last);
	free(cursor);
}

/* Which manifest media types every Accept header of the request lists. */
static int
docker_accepts(const struct fake_req *fr)
{
	struct evkeyvalq	*h = evhttp_request_get_input_headers(fr->req);
	struct evkeyval		*kv;
	int			 flags = 0;

	TAILQ_FOREACH(kv, h, next) {
		if (strcasecmp(kv->key, "Accept") != 0)
			continue;
		if (strstr(kv->value, "application/vnd.oci.image.index.v1+json"))
			flags |= DOCKER_ACCEPT_OCI_INDEX;
		if (strstr(kv->value,
		    "application/vnd.docker.distribution.manifest.list.v2+json"))
			flags |= DOCKER_ACCEPT_DOCKER_LIST;
		if (strstr(kv->value,
		    "application/vnd.oci.image.manifest.v1+json"))
			flags |= DOCKER_ACCEPT_OCI_MANIFEST;
		if (strstr(kv->value,
		    "application/vnd.docker.distribution.manifest.v2+json"))
			flags |= DOCKER_ACCEPT_DOCKER_MANIFEST;
	}
	return (flags);
}

/* The object a tag stands for under the Accept list given. */
static void
docker_choose(const struct docker_repo *r, const struct docker_tag *t,
    int accept, struct docker_object *o)
{
	memset(o, 0, sizeof *o);
	o->repo = (struct docker_repo *)r;
	o->tag = t->name;
	o->gen = t->gen;
	if (!r->single_arch && (accept & DOCKER_ACCEPT_OCI_INDEX)) {
		o->kind = DOCKER_INDEX;
		o->oci = 1;
	} else if (!r->single_arch && (accept & DOCKER_ACCEPT_DOCKER_LIST))
		o->kind = DOCKER_INDEX;
	else {
		o->kind = DOCKER_MANIFEST;
		o->oci = (accept & DOCKER_ACCEPT_OCI_MANIFEST) != 0;
	}
}

/* Docker Hub's pull-limit headers; -1 when the limit is spent. */
static int
docker_rate_limit(struct docker *d, struct fake_req *fr, int pull)
{
	char	v[64];

	if (d->rl_limit <= 0)
		return (0);
	if (pull && d->rl_remaining > 0)
		d->rl_remaining--;
	else if (pull)
		pull = -1;
	snprintf(v, sizeof v, "%" PRId64 ";w=%" PRId64, d->rl_limit,
	    d->rl_window);
	fake_set_header(fr, "ratelimit-limit", v);
	snprintf(v, sizeof v, "%" PRId64 ";w=%" PRId64, d->rl_remaining,
	    d->rl_window);
	fake_set_header(fr, "ratelimit-remaining", v);
	fake_set_header(fr, "docker-ratelimit-source", "127.0.0.1");
	return (pull < 0 ? -1 : 0);
}

/* Sends a rendered body, or only its length for HEAD. */
static void
docker_send_body(struct fake_req *fr, struct docker_body *b)
{
	struct evbuffer	*body = NULL;
	char		 len[32], etag[SHA256_DIGEST_LEN + 2];

	fake_set_header(fr, "Content-Type", b->media_type);
	fake_set_header(fr, "Docker-Content-Digest", b->digest);
	snprintf(etag, sizeof etag, "\"%s\"", b->digest);
	fake_set_header(fr, "ETag", etag);
	if (strcmp(fr->method, "HEAD") == 0) {
		snprintf(len, sizeof len, "%zu", b->len);
		fake_set_header(fr, "Content-Length", len);
	} else {
		body = evbuffer_new();
		evbuffer_add(body, b->text, b->len);
	}
	fake_reply(fr, 200, body);
}

/* HEAD/GET /v2/<name>/manifests/<tag or digest>. */
static void
docker_manifest(struct docker *d, struct fake_req *fr, struct docker_repo *r,
    const char *ref)
{
	const struct docker_object	*found;
	struct docker_object		 o;
	struct docker_body		 b;
	size_t				 at;

	if (strncmp(ref, "sha256:", 7) == 0) {
		found = docker_object_find(d->store, ref);
		if (found == NULL || found->repo != r ||
		    found->kind == DOCKER_CONFIG) {
			docker_error(fr, 404, "MANIFEST_UNKNOWN",
			    "manifest unknown");
			return;
		}
		o = *found;
	} else if (docker_repo_lookup(r, ref, &at) >= 0)
		docker_choose(r, &r->tags[at], docker_accepts(fr), &o);
	else {
		docker_error(fr, 404, "MANIFEST_UNKNOWN", "manifest unknown");
		return;
	}
	if (docker_rate_limit(d, fr, strcmp(fr->method, "GET") == 0) != 0) {
		fake_reply_text(fr, 429, "text/plain", "You have reached your "
		    "pull rate limit. You may increase the limit by "
		    "authenticating and upgrading: "
		    "https://www.docker.com/increase-rate-limit\n");
		return;
	}
	docker_render(d->store, &o, &b);
	docker_send_body(fr, &b);
	free(b.text);
}

/* A config blob by digest: served, or 307 to the CDN when asked. */
static void
docker_blob(struct docker *d, struct fake_req *fr, struct docker_repo *r,
    const char *digest, int cdn)
{
	const struct docker_object	*o;
	struct docker_body		 b;
	char				*location;

	o = docker_object_find(d->store, digest);
	if (o == NULL || (r != NULL && o->repo != r) ||
	    o->kind != DOCKER_CONFIG) {
		docker_error(fr, 404, "BLOB_UNKNOWN", "blob unknown");
		return;
	}
	if (cdn && fake_header(fr, "Authorization") != NULL) {
		fake_reply_text(fr, 400, "application/xml", "<?xml version="
		    "\"1.0\" encoding=\"UTF-8\"?><Error><Code>InvalidArgument"
		    "</Code><Message>Only one auth mechanism allowed</Message>"
		    "</Error>");
		return;
	}
	if (!cdn && o->repo->blob_redirect) {
		xasprintf(&location, "http://localhost:%d/_cdn/%s",
		    fake_port(d->fake), digest);
		fake_set_header(fr, "Location", location);
		free(location);
		fake_reply(fr, 307, NULL);
		return;
	}
	docker_render(d->store, o, &b);
	docker_send_body(fr, &b);
	free(b.text);
}

/* Routes /v2/<name>/{tags/list,manifests/<ref>,blobs/<digest>}. */
static void
docker_route(struct docker *d, struct fake_req *fr, const char *rest)
{
	struct docker_repo	*r;
	const char		*ref, *kinds[] = { "/manifests/", "/blobs/" };
	char			*name = NULL;
	size_t			 len = strlen(rest), klen, i;
	int			 state;

	if (len > 10 && strcmp(rest + len - 10, "/tags/list") == 0) {
		name = xstrndup(rest, len - 10);
		ref = NULL;
		i = 0;
	} else {
		ref = strrchr(rest, '/');
		for (i = 0; ref != NULL && i < nitems(kinds); i++) {
			klen = strlen(kinds[i]);
			if ((size_t)(ref - rest) + 1 >= klen && strncmp(ref + 1 -
			    klen, kinds[i], klen) == 0) {
				name = xstrndup(rest, ref + 1 - klen - rest);
				break;
			}
		}
		ref = ref != NULL ? ref + 1 : NULL;
	}
	if (name == NULL || !docker_valid_repo(name)) {
		docker_error(fr, 404, "NAME_UNKNOWN", "repository name not "
		    "known to registry");
		goto out;
	}
	if (d->auth && (state = docker_check_token(d, fr)) != 0) {
		docker_challenge(d, fr, name, state == 2);
		goto out;
	}
	if ((r = docker_repo_find(d->store, name)) == NULL) {
		docker_error(fr, 404, "NAME_UNKNOWN", "repository name not "
		    "known to registry");
		goto out;
	}
	if (ref == NULL)
		docker_tags(d, fr, r);
	else if (i == 0)
		docker_manifest(d, fr, r, ref);
	else
		docker_blob(d, fr, r, ref, 0);
out:
	free(name);
}

/* Everything under /v2/, /token and /_cdn/. */
static int
docker_handle(void *arg, struct fake_req *fr)
{
	struct docker	*d = arg;
	int		 state;

	if (strcmp(fr->path, "/token") == 0) {
		docker_token(d, fr);
		return (0);
	}
	if (strncmp(fr->path, "/_cdn/", 6) == 0) {
		docker_blob(d, fr, NULL, fr->path + 6, 1);
		return (0);
	}
	if (strncmp(fr->path, "/v2/", 4) != 0)
		return (-1);
	fake_set_header(fr, "Docker-Distribution-Api-Version", "registry/2.0");
	if (strcmp(fr->method, "GET") != 0 &&
	    strcmp(fr->method, "HEAD") != 0) {
		docker_error(fr, 405, "UNSUPPORTED", "the fake is read-only");
		return (0);
	}
	if (strcmp(fr->path, "/v2/") == 0) {
		if (d->auth && (state = docker_check_token(d, fr)) != 0)
			docker_challenge(d, fr, NULL, state == 2);
		else
			fake_reply_text(fr, 200, "application/json", "{}");
		return (0);
	}
	docker_route(d, fr, fr->path + 4);
	return (0);
}

/* A boolean member into *out when present. */
static void
docker_bool(const cJSON *o, const char *name, int *out)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (cJSON_IsBool(v))
		*out = cJSON_IsTrue(v);
}

/* A non-negative integer member into *out when present; -1 if bad. */
static int
docker_size(const cJSON *o, const char *name, size_t max, size_t *out)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (v == NULL)
		return (0);
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > max)
		return (-1);
	*out = (size_t)v->valuedouble;
	return (0);
}

/* The tags of a JSON array, all valid; -1 otherwise. */
static int
docker_tag_list(const cJSON *list)
{
	const cJSON	*t;

	if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) > DOCKER_MAX_TAGS)
		return (-1);
	cJSON_ArrayForEach(t, list) {
		if (!cJSON_IsString(t) || !docker_valid_tag(t->valuestring))
			return (-1);
	}
	return (0);
}

/* The labels object as JSON members without braces, or NULL. */
static char *
docker_labels(const cJSON *labels)
{
	const cJSON	*l;
	char		*text, *inner;

	cJSON_ArrayForEach(l, labels) {
		if (!cJSON_IsString(l))
			return (NULL);
	}
	if (cJSON_GetArraySize(labels) == 0)
		return (NULL);
	text = cJSON_PrintUnformatted(labels);
	inner = xstrndup(text + 1, strlen(text) - 2);
	cJSON_free(text);
	return (inner);
}

/* POST /_fake/docker/repos: make or shape a repository. */
static void
docker_control_repo(struct docker *d, struct fake_req *fr, const cJSON *body)
{
	const cJSON		*name, *tags, *t, *link, *labels;
	struct docker_repo	*r;
	size_t			 count = 0;
	int			 has_count;
	char			*text;

	name = cJSON_GetObjectItemCaseSensitive(body, "name");
	tags = cJSON_GetObjectItemCaseSensitive(body, "tags");
	link = cJSON_GetObjectItemCaseSensitive(body, "link");
	labels = cJSON_GetObjectItemCaseSensitive(body, "labels");
	has_count = cJSON_GetObjectItemCaseSensitive(body, "count") != NULL;
	if (!cJSON_IsString(name) || !docker_valid_repo(name->valuestring) ||
	    (tags != NULL && docker_tag_list(tags) != 0) ||
	    docker_size(body, "count", DOCKER_MAX_TAGS, &count) != 0 ||
	    (link != NULL && !cJSON_IsString(link)) ||
	    (labels != NULL && !cJSON_IsObject(labels))) {
		docker_error(fr, 400, "INVALID", "bad repository");
		return;
	}
	r = docker_repo_find(d->store, name->valuestring);
	if (r == NULL)
		r = docker_repo_get(d->store, name->valuestring);
	if (docker_size(body, "short_page", DOCKER_MAX_TAGS,
	    &r->short_page) != 0 ||
	    docker_size(body, "max_n", DOCKER_MAX_TAGS, &r->max_n) != 0) {
		docker_error(fr, 400, "INVALID", "bad short_page or max_n");
		return;
	}
	if (cJSON_IsString(link) && strcmp(link->valuestring, "absolute") == 0)
		r->link = DOCKER_LINK_ABSOLUTE;
	else if (cJSON_IsString(link) &&
	    strcmp(link->valuestring, "cursor") == 0)
		r->link = DOCKER_LINK_CURSOR;
	else if (cJSON_IsString(link))
		r->link = DOCKER_LINK_RELATIVE;
	docker_bool(body, "unsorted", &r->unsorted);
	docker_bool(body, "ignore_n", &r->ignore_n);
	docker_bool(body, "single_arch", &r->single_arch);
	docker_bool(body, "blob_redirect", &r->blob_redirect);
	if (labels != NULL) {
		free(r->labels);
		r->labels = docker_labels(labels);
	}
	if (has_count)
		docker_repo_generate(r, count);
	else if (tags != NULL) {
		docker_repo_clear_tags(r);
		cJSON_ArrayForEach(t, tags)
			docker_repo_push(r, t->valuestring);
	}
	xasprintf(&text, "{\"name\":\"%s\",\"tags\":%zu}", r->name, r->ntags);
	fake_reply_text(fr, 200, "application/json", text);
	free(text);
}

/* POST /_fake/docker/tags: add or re-point tags; returns their digests. */
static void
docker_control_tags(struct docker *d, struct fake_req *fr, const cJSON *body)
{
	const cJSON		*repo, *tags, *t;
	struct docker_repo	*r;
	struct docker_object	 o;
	struct docker_body	 b;
	cJSON			*reply, *digests;
	size_t			 at;

	repo = cJSON_GetObjectItemCaseSensitive(body, "repo");
	tags = cJSON_GetObjectItemCaseSensitive(body, "tags");
	if (!cJSON_IsString(repo) || !docker_valid_repo(repo->valuestring) ||
	    docker_tag_list(tags) != 0) {
		docker_error(fr, 400, "INVALID", "want {\"repo\", \"tags\"}");
		return;
	}
	if ((r = docker_repo_find(d->store, repo->valuestring)) == NULL)
		r = docker_repo_get(d->store, repo->valuestring);
	if (r->ntags + (size_t)cJSON_GetArraySize(tags) > DOCKER_MAX_TAGS) {
		docker_error(fr, 400, "INVALID", "too many tags");
		return;
	}
	reply = cJSON_CreateObject();
	digests = cJSON_AddObjectToObject(reply, "digests");
	cJSON_ArrayForEach(t, tags) {
		docker_repo_push(r, t->valuestring);
		docker_repo_lookup(r, t->valuestring, &at);
		docker_choose(r, &r->tags[at], ~0, &o);
		docker_render(d->store, &o, &b);
		cJSON_AddStringToObject(digests, t->valuestring, b.digest);
		free(b.text);
	}
	fake_reply_json(fr, 200, reply);
	cJSON_Delete(reply);
}

/* POST /_fake/docker/config: auth, credentials, tokens, rate limit. */
static void
docker_control_config(struct docker *d, struct fake_req *fr,
    const cJSON *body)
{
	const cJSON	*cred, *rl;
	size_t		 expires = (size_t)d->token_expires_in;
	size_t		 limit = 0, window = (size_t)d->rl_window, remaining;

	cred = cJSON_GetObjectItemCaseSensitive(body, "credentials");
	rl = cJSON_GetObjectItemCaseSensitive(body, "ratelimit");
	if ((cred != NULL && !cJSON_IsString(cred) && !cJSON_IsNull(cred)) ||
	    (rl != NULL && !cJSON_IsObject(rl) && !cJSON_IsNull(rl)) ||
	    docker_size(body, "token_expires_in", 86400, &expires) != 0 ||
	    docker_size(rl, "limit", 1000000000, &limit) != 0 ||
	    docker_size(rl, "window", 1000000000, &window) != 0) {
		docker_error(fr, 400, "INVALID", "bad config");
		return;
	}
	remaining = limit;
	if (docker_size(rl, "remaining", 1000000000, &remaining) != 0) {
		docker_error(fr, 400, "INVALID", "bad remaining");
		return;
	}
	docker_bool(body, "auth", &d->auth);
	if (cred != NULL) {
		free(d->credentials);
		d->credentials = cJSON_IsString(cred) ?
		    xstrdup(cred->valuestring) : NULL;
	}
	d->token_expires_in = (int64_t)expires;
	if (rl != NULL) {
		d->rl_limit = (int64_t)limit;
		d->rl_window = (int64_t)window;
		d->rl_remaining = (int64_t)remaining;
	}
	fake_reply_text(fr, 200, "application/json", "{}");
}

/* The control calls under /_fake/docker/. */
static int
docker_control(void *arg, struct fake_req *fr, const char *what,
    const cJSON *body)
{
	struct docker	*d = arg;

	if (strcmp(fr->method, "POST") != 0 || !cJSON_IsObject(body))
		return (-1);
	if (strcmp(what, "repos") == 0)
		docker_control_repo(d, fr, body);
	else if (strcmp(what, "tags") == 0)
		docker_control_tags(d, fr, body);
	else if (strcmp(what, "config") == 0)
		docker_control_config(d, fr, body);
	else
		return (-1);
	return (0);
}

const struct fake_api api_docker = {
	.name = "docker",
	.create = docker_create,
	.handle = docker_handle,
	.control = docker_control,
	.reset = docker_reset,
	.free = docker_free,
};
