/*
 * provider-docker-poll.c: one poll of a DockerRegistry source, as a state
 * machine on the HTTP engine.  List the tags page by page (Link rel="next"),
 * then, for the tags worth it, HEAD the manifest for its digest (at most
 * DOCKER_INFLIGHT at once), and for new tags with fetchLabels GET manifest,
 * platform manifest and config blob.  Any request may meet a 401: the
 * challenge decides between Basic credentials and the Bearer token dance
 * (one token request shared by every request that waits for it).
 *
 * The poll either hands back every listed tag or fails with one cause; the
 * first failure cancels everything still in flight.
 */
#include <sys/queue.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <event2/event.h>
#include <openssl/evp.h>

#include "http.h"
#include "limit.h"
#include "provider.h"
#include "provider-docker.h"

#define DOCKER_INFLIGHT		8	/* manifest requests at once */
#define DOCKER_PAGE_CAP		1000	/* tags/list pages per poll */
#define DOCKER_PAGE_SIZE	1000	/* most tags asked for per page */
#define DOCKER_MANIFEST_MAX	(4 * 1024 * 1024)
#define DOCKER_TOKEN_MAX	(1024 * 1024)
#define DOCKER_CONFIG_MAX	(16 * 1024 * 1024)
#define DOCKER_LIST_MAX		(8 * 1024 * 1024)

/* Kept constant: a registry may convert, and the digest follows. */
static const char docker_accept[] = "Accept: "
    "application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json";

enum dreq_kind {
	DREQ_LIST,	/* a tags/list page */
	DREQ_HEAD,	/* digest of a tag */
	DREQ_MANIFEST,	/* manifest of a tag (digest, labels) */
	DREQ_PLATFORM,	/* the chosen manifest of an index */
	DREQ_CONFIG,	/* the config blob */
	DREQ_TOKEN,	/* the token of a Bearer challenge */
};

/* The per-tag work of a poll: a digest, maybe labels. */
struct docker_job {
	size_t		 tag;		/* index into poll->tags */
	int		 labels;	/* fetch labels too */
	int		 vanished;	/* 404: deleted since the listing */
	char		*digest;
	cJSON		*labels_json;
	int64_t		 pushed_at;
};

struct dreq {
	struct docker_poll	*poll;
	enum dreq_kind		 kind;
	const char		*method;
	char			*url;
	struct docker_job	*job;
	int			 auth_retried;	/* met a 401 already */
	char			*sent_token;	/* Bearer token it carried */
	char			*use_token;	/* fresh token to send */
	struct limit_req	*http;		/* through the limiter */
	TAILQ_ENTRY(dreq)	 entry;
};
TAILQ_HEAD(dreq_list, dreq);

struct docker_poll {
	struct provider		*p;
	struct docker		*d;
	const struct index	*known;
	provider_done_cb	 done;
	void			*arg;
	char			*basic;		/* Basic header, if configured */

	char			**tags;		/* listed, unique, in order */
	size_t			 ntags, tagsize;
	/* Hub API listing: what it said of each tag, parallel to tags. */
	int			 hub;
	char			**hub_digest;
	int64_t			*hub_pushed;
	struct docker_job	**job_of;	/* per tag, or NULL */
	struct index		*seen;		/* tags listed so far */
	struct index		*visited;	/* page URLs requested */
	unsigned		 pages;
	int			 truncated;
	int			 conditional;	/* send If-None-Match */
	int			 unchanged;	/* the listing said 304 */
	char			*list_etag;	/* ETag of the first page */

	struct docker_job	*jobs;
	size_t			 njobs, next_job, active;

	struct dreq_list	 reqs;		/* in flight */
	struct dreq_list	 waiting;	/* for the token */
	struct dreq		*token_req;
	unsigned		 requests;

	struct event		*later;		/* early failure, reported */
	char			*cause;		/* from the event loop */
};

static void	dreq_send(struct dreq *);
static void	job_pump(struct docker_poll *);

static void
dreq_free(struct dreq *req)
{
	free(req->url);
	free(req->sent_token);
	if (req->use_token != NULL) {
		explicit_bzero(req->use_token, strlen(req->use_token));
		free(req->use_token);
	}
	free(req);
}

static struct dreq *
dreq_new(struct docker_poll *poll, enum dreq_kind kind, const char *method,
    char *url, struct docker_job *job)
{
	struct dreq	*req;

	req = xcalloc(1, sizeof *req);
	req->poll = poll;
	req->kind = kind;
	req->method = method;
	req->url = url;
	req->job = job;
	return (req);
}

static void
poll_free(struct docker_poll *poll)
{
	struct dreq	*req;
	size_t		 i;

	while ((req = TAILQ_FIRST(&poll->reqs)) != NULL) {
		TAILQ_REMOVE(&poll->reqs, req, entry);
		limit_cancel(req->http);
		dreq_free(req);
	}
	while ((req = TAILQ_FIRST(&poll->waiting)) != NULL) {
		TAILQ_REMOVE(&poll->waiting, req, entry);
		dreq_free(req);
	}
	if (poll->later != NULL)
		event_free(poll->later);
	if (poll->basic != NULL) {
		explicit_bzero(poll->basic, strlen(poll->basic));
		free(poll->basic);
	}
	if (poll->hub_digest != NULL)
		docker_tags_free(poll->hub_digest, poll->ntags);
	free(poll->hub_pushed);
	docker_tags_free(poll->tags, poll->ntags);
	free(poll->job_of);
	index_free(poll->seen);
	index_free(poll->visited);
	for (i = 0; i < poll->njobs; i++) {
		free(poll->jobs[i].digest);
		cJSON_Delete(poll->jobs[i].labels_json);
	}
	free(poll->jobs);
	free(poll->cause);
	free(poll->list_etag);
	free(poll);
}

/* End the poll: free it first, so `done` may free the provider. */
static void
poll_finish(struct docker_poll *poll, struct poll_result *r)
{
	provider_done_cb	 done = poll->done;
	void			*arg = poll->arg;

	r->requests = poll->requests;
	poll->d->poll = NULL;
	poll_free(poll);
	done(r, arg);
}

static void
poll_fail_result(struct docker_poll *poll, char *cause, int64_t retry_after)
{
	struct poll_result	 r;

	memset(&r, 0, sizeof r);
	r.status = -1;
	r.cause = cause;
	r.retry_after_s = retry_after;
	poll_finish(poll, &r);
	free(cause);
}

static void poll_fail(struct docker_poll *, int64_t, const char *, ...)
    printflike(3, 4);
static void
poll_fail(struct docker_poll *poll, int64_t retry_after, const char *fmt, ...)
{
	va_list	 ap;
	char	*cause;

	va_start(ap, fmt);
	xvasprintf(&cause, fmt, ap);
	va_end(ap);
	poll_fail_result(poll, cause, retry_after);
}

static void
poll_succeed(struct docker_poll *poll)
{
	struct poll_result	 r;
	struct versions		*vs;
	struct version		*v;
	struct docker_job	*job;
	size_t			 i;

	vs = xcalloc(1, sizeof *vs);
	for (i = 0; i < poll->ntags; i++) {
		job = poll->job_of[i];
		if (job != NULL && job->vanished)
			continue;
		v = versions_add(vs, poll->tags[i]);
		if (poll->hub_digest != NULL && (job == NULL ||
		    job->digest == NULL)) {
			v->digest = poll->hub_digest[i];
			poll->hub_digest[i] = NULL;
			v->pushed_at = poll->hub_pushed[i];
		}
		if (job == NULL)
			continue;
		if (job->digest != NULL) {
			free(v->digest);
			v->digest = job->digest;
			job->digest = NULL;
		}
		v->labels = job->labels_json;
		job->labels_json = NULL;
		if (job->pushed_at != 0)
			v->pushed_at = job->pushed_at;
	}
	vs->truncated = poll->truncated;
	if (poll->pages > 0 && !poll->unchanged) {
		/*
		 * One page told it all, or the first page of a newest-first
		 * listing: its ETag stands for the listing.
		 */
		free(poll->d->etag);
		poll->d->etag = NULL;
		if (poll->hub || (poll->pages == 1 && !poll->truncated)) {
			poll->d->etag = poll->list_etag;
			poll->list_etag = NULL;
		}
	}
	memset(&r, 0, sizeof r);
	r.versions = vs;
	poll_finish(poll, &r);
}

static void
poll_later_cb(__unused evutil_socket_t fd, __unused short what, void *arg)
{
	struct docker_poll	*poll = arg;
	char			*cause = poll->cause;

	poll->cause = NULL;
	poll_fail_result(poll, cause, 0);
}

/* A failure before any request: reported from the event loop. */
static void
poll_fail_later(struct docker_poll *poll, char *cause)
{
	struct timeval	 now = { 0, 0 };

	poll->cause = cause;
	poll->later = evtimer_new(poll->p->env->base, poll_later_cb, poll);
	if (poll->later == NULL)
		fatalx("evtimer_new failed");
	evtimer_add(poll->later, &now);
}

static char *
manifest_url(const struct docker *d, const char *reference)
{
	char	*url;

	xasprintf(&url, "%s/v2/%s/manifests/%s", d->base, d->repository,
	    reference);
	return (url);
}

static char *
sha256_digest(const struct buf *body)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen, i;
	char		*out;

	if (EVP_Digest(body->data, body->len, md, &mdlen, EVP_sha256(),
	    NULL) != 1)
		fatalx("EVP_Digest failed");
	out = xmalloc(7 + 2 * mdlen + 1);
	memcpy(out, "sha256:", 7);
	for (i = 0; i < mdlen; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
	return (out);
}

static void	dreq_done(const struct http_response *, void *);

/* Send, or queue behind the token request when a token is needed. */
static void
dreq_send(struct dreq *req)
{
	struct docker_poll	*poll = req->poll;
	struct docker		*d = poll->d;
	struct http_request	 hr;
	const char		*headers[4], *token = NULL;
	char			*auth = NULL, *inm = NULL;
	size_t			 n = 0;

	memset(&hr, 0, sizeof hr);
	hr.method = req->method;
	hr.url = req->url;
	hr.tls = poll->p->tls;		/* the connector's TLS and proxy */
	free(req->sent_token);
	req->sent_token = NULL;
	switch (req->kind) {
	case DREQ_HEAD:
	case DREQ_MANIFEST:
	case DREQ_PLATFORM:
		headers[n++] = docker_accept;
		hr.max_body = DOCKER_MANIFEST_MAX;
		break;
	case DREQ_TOKEN:
		hr.max_body = DOCKER_TOKEN_MAX;
		break;
	case DREQ_CONFIG:
		hr.max_body = DOCKER_CONFIG_MAX;
		break;
	case DREQ_LIST:
		hr.max_body = DOCKER_LIST_MAX;
		if (poll->conditional && poll->pages == 1 &&
		    poll->d->etag != NULL) {
			xasprintf(&inm, "If-None-Match: %s", poll->d->etag);
			headers[n++] = inm;
		}
		break;
	}
	if (req->kind == DREQ_LIST && poll->hub) {
		/* The Hub API is anonymous here; registry auth is not its. */
	} else if (req->kind == DREQ_TOKEN || (d->auth_scheme != NULL &&
	    strcasecmp(d->auth_scheme, "Basic") == 0)) {
		if (poll->basic != NULL)
			headers[n++] = poll->basic;
	} else if (req->use_token != NULL) {
		token = req->use_token;
	} else if (d->auth_scheme != NULL) {
		token = docker_tokens_get(d->tokens, d->realm, d->service,
		    d->scope, now_ms() / 1000);
		if (token == NULL) {
			TAILQ_INSERT_TAIL(&poll->waiting, req, entry);
			if (poll->token_req == NULL) {
				poll->token_req = dreq_new(poll, DREQ_TOKEN,
				    "GET", xstrdup(d->token_url), NULL);
				dreq_send(poll->token_req);
			}
			return;
		}
	}
	if (token != NULL) {
		xasprintf(&auth, "Authorization: Bearer %s", token);
		headers[n++] = auth;
		req->sent_token = xstrdup(token);
	}
	headers[n] = NULL;
	hr.headers = headers;
	TAILQ_INSERT_TAIL(&poll->reqs, req, entry);
	req->http = limiter_submit(d->limiter, &hr, dreq_done, req);
	free(inm);
	if (auth != NULL) {
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
}

/*
 * The token realm gets the password (Basic) and hands out the token: for
 * an https registry, a plain http realm is refused unless the connector
 * says allowHttpTokenRealm.  0 when the poll was failed.
 */
static int
realm_allowed(struct docker_poll *poll, const struct dreq *req,
    const char *realm)
{
	const struct docker_connector	*c = poll->p->conf->connector->data;

	if (strncasecmp(poll->d->base, "https:", 6) != 0 ||
	    strncasecmp(realm, "http:", 5) != 0 || c->http_realm)
		return (1);
	poll_fail(poll, 0, "%s %s: HTTP 401: the registry is https but its "
	    "token realm %s is plain http, where the password and the token "
	    "would cross the network in clear; refused (set "
	    "allowHttpTokenRealm: true in the connector's spec to accept it)",
	    req->method, req->url, log_q(realm));
	return (0);
}

/* A 401: learn the challenge and send the request once more. */
static void
dreq_unauthorized(struct dreq *req, const struct http_response *resp)
{
	struct docker_poll	*poll = req->poll;
	struct docker		*d = poll->d;
	struct challenge	 ch;
	struct dreq		*again;
	const char		*value;
	char			*cause;

	if (req->auth_retried) {
		poll_fail(poll, 0, "%s %s: HTTP 401 (%s)", req->method,
		    req->url, poll->basic != NULL ? "credentials rejected" :
		    "anonymous access denied");
		return;
	}
	if ((value = http_header(resp, "WWW-Authenticate")) == NULL) {
		poll_fail(poll, 0, "%s %s: HTTP 401 without a WWW-Authenticate "
		    "challenge", req->method, req->url);
		return;
	}
	memset(&ch, 0, sizeof ch);
	if (challenge_parse(value, &ch, &cause) != 0) {
		poll_fail(poll, 0, "%s %s: bad WWW-Authenticate: %s",
		    req->method, req->url, cause);
		free(cause);
		return;
	}
	if (strcasecmp(ch.scheme, "Basic") == 0) {
		if (poll->basic == NULL) {
			challenge_clear(&ch);
			poll_fail(poll, 0, "%s %s: HTTP 401: the registry asks "
			    "for a username and password (auth "
			    "UsernamePassword); none configured", req->method,
			    req->url);
			return;
		}
	} else if (strcasecmp(ch.scheme, "Bearer") == 0) {
		if (ch.realm == NULL || *ch.realm == '\0') {
			challenge_clear(&ch);
			poll_fail(poll, 0, "%s %s: HTTP 401: Bearer challenge "
			    "without a realm", req->method, req->url);
			return;
		}
		if (!realm_allowed(poll, req, ch.realm)) {
			challenge_clear(&ch);
			return;
		}
		if (req->sent_token != NULL)
			docker_tokens_drop(d->tokens, d->realm, d->service,
			    d->scope, req->sent_token);
	} else {
		poll_fail(poll, 0, "%s %s: HTTP 401: unsupported auth scheme "
		    "%s", req->method, req->url, log_q(ch.scheme));
		challenge_clear(&ch);
		return;
	}
	free(d->auth_scheme);
	free(d->realm);
	free(d->service);
	free(d->scope);
	free(d->token_url);
	d->auth_scheme = ch.scheme;
	d->realm = ch.realm;
	d->service = ch.service;
	if (ch.scope != NULL && *ch.scope != '\0')
		d->scope = ch.scope;
	else {
		free(ch.scope);
		xasprintf(&d->scope, "repository:%s:pull", d->repository);
	}
	d->token_url = NULL;
	if (strcasecmp(d->auth_scheme, "Bearer") == 0 &&
	    (d->token_url = docker_token_url(d->realm, d->service,
	    d->scope)) == NULL) {
		poll_fail(poll, 0, "%s %s: HTTP 401: the token realm %s is not "
		    "an http(s) URL", req->method, req->url, log_q(d->realm));
		return;
	}
	again = dreq_new(poll, req->kind, req->method, xstrdup(req->url),
	    req->job);
	again->auth_retried = 1;
	dreq_send(again);
}

static void
token_done(struct dreq *req, const struct http_response *resp)
{
	struct docker_poll	*poll = req->poll;
	struct docker		*d = poll->d;
	struct dreq		*w;
	char			*token, *cause;
	int64_t			 expires, now = now_ms() / 1000;

	poll->token_req = NULL;
	if (resp->status != 200) {
		poll_fail(poll, 0, "GET %s: HTTP %ld", req->url, resp->status);
		return;
	}
	if (docker_parse_token(resp->body.data, resp->body.len, now, &token,
	    &expires, &cause) != 0) {
		poll_fail(poll, 0, "GET %s: %s", req->url, cause);
		free(cause);
		return;
	}
	docker_tokens_put(d->tokens, d->realm, d->service, d->scope, token,
	    now, expires);
	while ((w = TAILQ_FIRST(&poll->waiting)) != NULL) {
		TAILQ_REMOVE(&poll->waiting, w, entry);
		w->use_token = xstrdup(token);
		dreq_send(w);
	}
	explicit_bzero(token, strlen(token));
	free(token);
}

static void
list_request(struct docker_poll *poll, char *url)
{
	index_put(poll->visited, url, NULL, 0);
	poll->pages++;
	dreq_send(dreq_new(poll, DREQ_LIST, "GET", url, NULL));
}

static int
due_cmp(const void *a, const void *b)
{
	const int64_t	*x = a, *y = b;

	return (x[0] < y[0] ? -1 : x[0] > y[0]);
}

/* The listing is complete: choose the tags that cost a request. */
static void
plan_jobs(struct docker_poll *poll)
{
	struct provider		*p = poll->p;
	const struct source_conf *conf = p->conf;
	struct docker_job	*job;
	const char		*digest;
	int64_t			*due, cutoff;
	size_t			 i, ndue = 0;
	int			 fresh;

	poll->job_of = xcalloc(poll->ntags + 1, sizeof *poll->job_of);
	if (p->list_only) {
		poll_succeed(poll);
		return;
	}
	poll->jobs = xcalloc(poll->ntags + 1, sizeof *poll->jobs);
	fresh = !p->baseline || conf->emit_existing;
	due = xcalloc(poll->ntags + 1, 2 * sizeof *due);
	cutoff = now_ms() / 1000 - conf->digest_check_ms / 1000;
	for (i = 0; i < poll->ntags; i++) {
		if (poll->hub_digest != NULL && poll->hub_digest[i] != NULL &&
		    (!conf->fetch_labels || index_get(poll->known,
		    poll->tags[i], NULL)))
			continue;	/* the listing gave its digest */
		if (!index_get(poll->known, poll->tags[i], &digest)) {
			if (!fresh)
				continue;
			job = &poll->jobs[poll->njobs++];
			job->tag = i;
			job->labels = conf->fetch_labels;
			poll->job_of[i] = job;
		} else if (conf->digest_check_ms > 0 &&
		    index_checked(poll->known, poll->tags[i]) <= cutoff) {
			due[2 * ndue] = index_checked(poll->known,
			    poll->tags[i]);
			due[2 * ndue + 1] = (int64_t)i;
			ndue++;
		}
	}
	/* Known tags due a check: the longest unchecked first. */
	qsort(due, ndue, 2 * sizeof *due, due_cmp);
	for (i = 0; i < ndue && (long long)i < conf->digest_checks; i++) {
		job = &poll->jobs[poll->njobs++];
		job->tag = (size_t)due[2 * i + 1];
		poll->job_of[job->tag] = job;
	}
	free(due);
	job_pump(poll);
}

/* Known tags whose digest is due a check, oldest check first. */
struct due_list {
	const char	**names;
	int64_t		 *checked;
	size_t		  n, size;
	int64_t		  cutoff;
};

static int
due_collect(const char *name, __unused const char *digest, int64_t checked,
    void *arg)
{
	struct due_list	*dl = arg;

	if (checked > dl->cutoff)
		return (0);
	if (dl->n == dl->size) {
		dl->size = dl->size == 0 ? 64 : dl->size * 2;
		dl->names = xreallocarray(dl->names, dl->size,
		    sizeof *dl->names);
		dl->checked = xreallocarray(dl->checked, dl->size,
		    sizeof *dl->checked);
	}
	dl->names[dl->n] = name;
	dl->checked[dl->n++] = checked;
	return (0);
}

/*
 * A 304 for the first page: the listing is what the index holds.  Skip the
 * parse and the diff; only the digest checks that are due still run, and
 * the poll hands back just those tags.
 */
static void
list_unchanged(struct docker_poll *poll)
{
	const struct source_conf *conf = poll->p->conf;
	struct poll_result	 r;
	struct due_list		 dl;
	int64_t			*order;
	size_t			 i, n;

	poll->unchanged = 1;
	memset(&dl, 0, sizeof dl);
	dl.cutoff = now_ms() / 1000 - conf->digest_check_ms / 1000;
	if (conf->digest_check_ms > 0 && conf->digest_checks > 0)
		index_foreach(poll->known, due_collect, &dl);
	if (dl.n == 0) {
		memset(&r, 0, sizeof r);
		r.unchanged = 1;
		poll_finish(poll, &r);
		return;
	}
	order = xcalloc(dl.n, 2 * sizeof *order);
	for (i = 0; i < dl.n; i++) {
		order[2 * i] = dl.checked[i];
		order[2 * i + 1] = (int64_t)i;
	}
	qsort(order, dl.n, 2 * sizeof *order, due_cmp);
	n = dl.n < (size_t)conf->digest_checks ? dl.n :
	    (size_t)conf->digest_checks;
	poll->tags = xcalloc(n, sizeof *poll->tags);
	poll->job_of = xcalloc(n, sizeof *poll->job_of);
	poll->jobs = xcalloc(n, sizeof *poll->jobs);
	for (i = 0; i < n; i++) {
		poll->tags[i] = xstrdup(dl.names[order[2 * i + 1]]);
		poll->jobs[i].tag = i;
		poll->job_of[i] = &poll->jobs[i];
	}
	poll->ntags = poll->tagsize = poll->njobs = n;
	free(order);
	free(dl.names);
	free(dl.checked);
	job_pump(poll);
}

/* A Hub API page: newest first, each tag with its digest and push time. */
static void
hub_list_done(struct dreq *req, const struct http_response *resp)
{
	struct docker_poll	*poll = req->poll;
	struct docker_hub_tag	*tags;
	long long		 cap = poll->p->conf->max_tags;
	const char		*etag;
	char			*next, *url, *origin, *cause;
	size_t			 n, i;

	if (cap <= 0)
		cap = 10000;
	if (poll->pages == 1 && (etag = http_header(resp, "ETag")) != NULL) {
		free(poll->list_etag);
		poll->list_etag = xstrdup(etag);
	}
	if (docker_parse_hub_tags(resp->body.data, resp->body.len, &tags, &n,
	    &next, &cause) != 0) {
		poll_fail(poll, 0, "GET %s: %s", req->url, cause);
		free(cause);
		return;
	}
	for (i = 0; i < n; i++) {
		if (index_get(poll->seen, tags[i].name, NULL))
			continue;
		if ((long long)poll->ntags >= cap) {
			poll->truncated = 1;
			break;
		}
		index_put(poll->seen, tags[i].name, NULL, 0);
		if (poll->ntags == poll->tagsize) {
			poll->tagsize = poll->tagsize == 0 ? 64 :
			    poll->tagsize * 2;
			poll->tags = xreallocarray(poll->tags, poll->tagsize,
			    sizeof *poll->tags);
			poll->hub_digest = xreallocarray(poll->hub_digest,
			    poll->tagsize, sizeof *poll->hub_digest);
			poll->hub_pushed = xreallocarray(poll->hub_pushed,
			    poll->tagsize, sizeof *poll->hub_pushed);
		}
		poll->tags[poll->ntags] = tags[i].name;
		poll->hub_digest[poll->ntags] = tags[i].digest;
		poll->hub_pushed[poll->ntags++] = tags[i].pushed_at;
		tags[i].name = tags[i].digest = NULL;
	}
	docker_hub_tags_free(tags, n);
	if (next == NULL || (long long)poll->ntags >= cap) {
		/* Newest first: the cap keeps the newest. */
		if (next != NULL)
			poll->truncated = 1;
		free(next);
		plan_jobs(poll);
		return;
	}
	url = url_resolve(req->url, next);
	origin = url != NULL ? url_origin(url) : NULL;
	if (origin == NULL || strcmp(origin, poll->d->hub_origin) != 0) {
		poll_fail(poll, 0, "GET %s: the next page %s is not on %s",
		    req->url, log_q(next), poll->d->hub_origin);
		free(next);
		free(url);
		free(origin);
		return;
	}
	free(next);
	free(origin);
	if (index_get(poll->visited, url, NULL) ||
	    poll->pages >= DOCKER_PAGE_CAP) {
		poll_fail(poll, 0, "GET %s: the next page %s was asked already "
		    "or there are more than %d pages", req->url, url,
		    DOCKER_PAGE_CAP);
		free(url);
		return;
	}
	list_request(poll, url);
}

/*
 * A follow-up URL a response named gets the connector's credentials, so it
 * must stay on the registry's own origin (url_same_origin: scheme, host,
 * port; so no https -> http step either).  0 when the poll was failed.
 */
static int
next_on_origin(struct docker_poll *poll, const struct dreq *req,
    const char *next)
{
	char	*origin;

	if (url_same_origin(next, poll->d->base))
		return (1);
	origin = url_origin(next);
	poll_fail(poll, 0, "GET %s: Link rel=\"next\" points to another "
	    "origin (%s, not %s); it is not followed, so the connector's "
	    "credentials stay with its registry", req->url,
	    origin != NULL ? origin : "not a URL", poll->d->base);
	free(origin);
	return (0);
}

static void
list_done(struct dreq *req, const struct http_response *resp)
{
	struct docker_poll	*poll = req->poll;
	long long		 cap = poll->p->conf->max_tags;
	const char		*etag;
	char			**tags, *next, *cause;
	size_t			 n, i;

	if (cap <= 0)
		cap = 10000;
	if (resp->status != 200) {
		poll_fail(poll, 0, "GET %s: HTTP %ld%s", req->url, resp->status,
		    poll->hub && (resp->status == 401 || resp->status == 403 ||
		    resp->status == 404) ? " (the Hub API lists public "
		    "repositories; use providerType Other for a private one)" :
		    "");
		return;
	}
	if (poll->hub) {
		hub_list_done(req, resp);
		return;
	}
	if (poll->pages == 1 && (etag = http_header(resp, "ETag")) != NULL) {
		free(poll->list_etag);
		poll->list_etag = xstrdup(etag);
	}
	if (docker_parse_tags(resp->body.data, resp->body.len, &tags, &n,
	    &cause) != 0) {
		poll_fail(poll, 0, "GET %s: %s", req->url, cause);
		free(cause);
		return;
	}
	for (i = 0; i < n; i++) {
		if (index_get(poll->seen, tags[i], NULL))
			continue;
		if ((long long)poll->ntags >= cap) {
			poll->truncated = 1;
			break;
		}
		index_put(poll->seen, tags[i], NULL, 0);
		if (poll->ntags == poll->tagsize) {
			poll->tagsize = poll->tagsize == 0 ? 64 :
			    poll->tagsize * 2;
			poll->tags = xreallocarray(poll->tags, poll->tagsize,
			    sizeof *poll->tags);
		}
		poll->tags[poll->ntags++] = tags[i];
		tags[i] = NULL;
	}
	docker_tags_free(tags, n);
	switch (link_next(resp, &next, &cause)) {
	case -1:
		poll_fail(poll, 0, "GET %s: bad Link header: %s", req->url,
		    cause);
		free(cause);
		return;
	case 0:
		plan_jobs(poll);
		return;
	}
	if ((long long)poll->ntags >= cap) {
		free(next);
		poll->truncated = 1;
		plan_jobs(poll);
		return;
	}
	if (!next_on_origin(poll, req, next)) {
		free(next);
		return;
	}
	if (index_get(poll->visited, next, NULL)) {
		poll_fail(poll, 0, "GET %s: Link rel=\"next\" goes back to %s "
		    "(a cycle)", req->url, next);
		free(next);
		return;
	}
	if (poll->pages >= DOCKER_PAGE_CAP) {
		free(next);
		poll_fail(poll, 0, "GET %s: more than %d pages of tags",
		    req->url, DOCKER_PAGE_CAP);
		return;
	}
	list_request(poll, next);
}

static void
job_end(struct docker_poll *poll)
{
	poll->active--;
	job_pump(poll);
}

static void
job_pump(struct docker_poll *poll)
{
	struct docker_job	*job;
	const char		*tag;

	while (poll->active < DOCKER_INFLIGHT && poll->next_job < poll->njobs) {
		job = &poll->jobs[poll->next_job++];
		tag = poll->tags[job->tag];
		poll->active++;
		if (job->labels)
			dreq_send(dreq_new(poll, DREQ_MANIFEST, "GET",
			    manifest_url(poll->d, tag), job));
		else
			dreq_send(dreq_new(poll, DREQ_HEAD, "HEAD",
			    manifest_url(poll->d, tag), job));
	}
	if (poll->active == 0 && poll->next_job == poll->njobs)
		poll_succeed(poll);
}

/* The digest the registry states, if it is one; -1 if it is garbage. */
static int
stated_digest(const struct http_response *resp, char **digest)
{
	const char	*value;

	*digest = NULL;
	if ((value = http_header(resp, "Docker-Content-Digest")) == NULL)
		return (0);
	if (!docker_digest_valid(value))
		return (-1);
	*digest = xstrdup(value);
	return (0);
}

static void
head_done(struct dreq *req, const struct http_response *resp)
{
	struct docker_poll	*poll = req->poll;
	struct docker_job	*job = req->job;

	if (resp->status == 404) {
		job->vanished = 1;
		job_end(poll);
		return;
	}
	if (resp->status != 200) {
		poll_fail(poll, 0, "HEAD %s: HTTP %ld", req->url, resp->status);
		return;
	}
	if (stated_digest(resp, &job->digest) != 0) {
		poll_fail(poll, 0, "HEAD %s: Docker-Content-Digest is not a "
		    "digest", req->url);
		return;
	}
	if (job->digest == NULL) {
		/* An old registry: the digest is the hash of the body. */
		dreq_send(dreq_new(poll, DREQ_MANIFEST, "GET",
		    xstrdup(req->url), job));
		return;
	}
	job_end(poll);
}

static void
manifest_done(struct dreq *req, const struct http_response *resp)
{
	struct docker_poll	*poll = req->poll;
	struct docker_job	*job = req->job;
	struct docker_manifest	 m;
	char			*cause, *digest;

	if (resp->status == 404 && req->kind == DREQ_MANIFEST) {
		job->vanished = 1;
		job_end(poll);
		return;
	}
	if (resp->status != 200) {
		poll_fail(poll, 0, "GET %s: HTTP %ld", req->url, resp->status);
		return;
	}
	if (stated_digest(resp, &digest) != 0) {
		poll_fail(poll, 0, "GET %s: Docker-Content-Digest is not a "
		    "digest", req->url);
		return;
	}
	if (req->kind == DREQ_MANIFEST) {
		job->digest = digest != NULL ? digest : sha256_digest(&resp->body);
		if (!job->labels) {
			job_end(poll);
			return;
		}
	} else
		free(digest);
	if (docker_parse_manifest(resp->body.data, resp->body.len,
	    http_header(resp, "Content-Type"), &m, &cause) != 0) {
		poll_fail(poll, 0, "GET %s: %s", req->url, cause);
		free(cause);
		return;
	}
	if (m.kind == DOCKER_MANIFEST_INDEX && req->kind == DREQ_PLATFORM) {
		docker_manifest_clear(&m);
		poll_fail(poll, 0, "GET %s: an index inside an index", req->url);
		return;
	}
	if (m.kind == DOCKER_MANIFEST_INDEX)
		dreq_send(dreq_new(poll, DREQ_PLATFORM, "GET",
		    manifest_url(poll->d, m.platform_digest), job));
	else {
		xasprintf(&digest, "%s/v2/%s/blobs/%s", poll->d->base,
		    poll->d->repository, m.config_digest);
		dreq_send(dreq_new(poll, DREQ_CONFIG, "GET", digest, job));
	}
	docker_manifest_clear(&m);
}

static void
config_done(struct dreq *req, const struct http_response *resp)
{
	struct docker_poll	*poll = req->poll;
	struct docker_job	*job = req->job;
	char			*cause;

	if (resp->status != 200) {
		poll_fail(poll, 0, "GET %s: HTTP %ld", req->url, resp->status);
		return;
	}
	if (docker_parse_config(resp->body.data, resp->body.len,
	    &job->labels_json, &job->pushed_at, &cause) != 0) {
		poll_fail(poll, 0, "GET %s: %s", req->url, cause);
		free(cause);
		return;
	}
	job_end(poll);
}

static void
dreq_done(const struct http_response *resp, void *arg)
{
	struct dreq		*req = arg;
	struct docker_poll	*poll = req->poll;
	const char		*value;
	int64_t			 retry_after = 0;

	TAILQ_REMOVE(&poll->reqs, req, entry);
	req->http = NULL;
	poll->requests++;
	if (resp->error != 0)
		poll_fail(poll, 0, "%s %s: %s", req->method, req->url,
		    resp->cause);
	else if (resp->status == 401 && req->kind != DREQ_TOKEN)
		dreq_unauthorized(req, resp);
	else if (resp->status == 304 && req->kind == DREQ_LIST &&
	    poll->pages == 1 && poll->conditional)
		list_unchanged(poll);
	else if (resp->status == 429 || resp->status == 503) {
		/* The limiter paused the connector: resume after it. */
		retry_after = (limiter_pause_left(poll->d->limiter) + 999) /
		    1000;
		value = http_header(resp, "Retry-After");
		if (retry_after == 0 && value != NULL &&
		    retry_after_parse(value, now_ms() / 1000, &retry_after) != 0)
			retry_after = 0;
		poll_fail(poll, retry_after, "%s %s: HTTP %ld (%s)",
		    req->method, req->url, resp->status, resp->status == 429 ?
		    "rate limited" : "unavailable");
	} else {
		switch (req->kind) {
		case DREQ_LIST:
			list_done(req, resp);
			break;
		case DREQ_HEAD:
			head_done(req, resp);
			break;
		case DREQ_MANIFEST:
		case DREQ_PLATFORM:
			manifest_done(req, resp);
			break;
		case DREQ_CONFIG:
			config_done(req, resp);
			break;
		case DREQ_TOKEN:
			token_done(req, resp);
			break;
		}
	}
	dreq_free(req);
}

/* Basic credentials of the connector, when it has them. */
static int
poll_credentials(struct docker_poll *poll, char **cause)
{
	const struct docker_connector	*c = poll->p->conf->connector->data;
	char				*password, *why;

	if (c->auth_type != DOCKER_AUTH_PASSWORD)
		return (0);
	if (c->username == NULL || c->password_ref == NULL)
		return (fail(cause, "auth UsernamePassword needs username and "
		    "passwordRef"));
	if (secret_resolve(poll->p->env->conf, c->password_ref, &password,
	    &why) != 0) {
		fail(cause, "passwordRef %s: %s", c->password_ref, why);
		free(why);
		return (-1);
	}
	poll->basic = docker_basic_header(c->username, password);
	explicit_bzero(password, strlen(password));
	free(password);
	return (0);
}

void
docker_poll_start(struct provider *p, const struct index *known,
    provider_done_cb done, void *arg)
{
	struct docker			*d = p->data;
	const struct docker_source	*src = p->conf->data;
	struct docker_poll		*poll;
	long long			 n;
	char				*cause, *url;

	poll = xcalloc(1, sizeof *poll);
	poll->p = p;
	poll->d = d;
	poll->known = known;
	poll->done = done;
	poll->arg = arg;
	poll->seen = index_create();
	poll->visited = index_create();
	TAILQ_INIT(&poll->reqs);
	TAILQ_INIT(&poll->waiting);
	d->poll = poll;
	if (poll_credentials(poll, &cause) != 0) {
		poll_fail_later(poll, cause);
		return;
	}
	if (src->tag != NULL) {
		/* One mutable tag: its HEAD is the whole poll. */
		poll->tags = xcalloc(1, sizeof *poll->tags);
		poll->tags[0] = xstrdup(src->tag);
		poll->ntags = poll->tagsize = 1;
		poll->job_of = xcalloc(1, sizeof *poll->job_of);
		poll->jobs = xcalloc(1, sizeof *poll->jobs);
		poll->njobs = 1;
		poll->jobs[0].labels = p->conf->fetch_labels && !p->list_only;
		poll->job_of[0] = &poll->jobs[0];
		job_pump(poll);
		return;
	}
	poll->conditional = d->etag != NULL && p->last_ok && !p->baseline &&
	    !p->list_only;
	if (d->hub_tags_url != NULL) {
		poll->hub = 1;
		list_request(poll, xstrdup(d->hub_tags_url));
		return;
	}
	n = p->conf->max_tags;
	if (n <= 0 || n > DOCKER_PAGE_SIZE)
		n = DOCKER_PAGE_SIZE;
	xasprintf(&url, "%s/v2/%s/tags/list?n=%lld", d->base, d->repository,
	    n);
	list_request(poll, url);
}

void
docker_poll_cancel(struct provider *p)
{
	struct docker	*d = p->data;

	if (d == NULL || d->poll == NULL)
		return;
	poll_free(d->poll);
	d->poll = NULL;
}
