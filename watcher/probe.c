/*
 * probe.c: listings of sources outside the daemon.  Every source gets a
 * provider instance and is asked to list (never to resolve), so a probe
 * costs the listing and nothing per version; the polls run together
 * on one event base of their own, through the same limiter the daemon uses,
 * and the base is left when the last one has answered.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "http.h"
#include "limit.h"
#include "probe.h"
#include "connector.h"
#include "provider.h"

struct probe_one {
	struct probe_result	*result;
	struct provider		*provider;
	size_t			*left;
	struct event_base	*base;
};

static void
probe_done(const struct provider_result *r, void *arg)
{
	struct probe_one	*one = arg;

	if (r->status != 0) {
		one->result->cause = xstrdup(r->cause != NULL ? r->cause :
		    "poll failed");
	} else {
		one->result->ok = 1;
		one->result->versions = r->versions;
		if (one->result->versions == NULL)
			one->result->versions = xcalloc(1,
			    sizeof *one->result->versions);
	}
	if (--*one->left == 0)
		event_base_loopbreak(one->base);
}

int
probe_sources(struct config *conf, const struct source_conf **srcs,
    size_t n, struct probe_result *results, cJSON **connectors, char **cause)
{
	struct probe_one	*ones;
	struct list_request	 req;
	struct env		 env;
	size_t			 i, left = 0;

	memset(&env, 0, sizeof env);
	memset(results, 0, n * sizeof *results);
	env.conf = conf;
	if ((env.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	if ((env.http = http_create(env.base, cause)) == NULL) {
		event_base_free(env.base);
		return (-1);
	}
	env.limits = limits_create(env.base, env.http,
	    (size_t)conf->max_inflight);
	env.connectors = connectors_create();
	ones = xcalloc(n, sizeof *ones);
	for (i = 0; i < n; i++) {
		results[i].src = srcs[i];
		ones[i].result = &results[i];
		ones[i].left = &left;
		ones[i].base = env.base;
		ones[i].provider = provider_create(&env, srcs[i],
		    &results[i].cause);
		if (ones[i].provider != NULL)
			left++;
	}
	for (i = 0; i < n; i++) {
		if (ones[i].provider == NULL)
			continue;
		memset(&req, 0, sizeof req);
		req.max = srcs[i]->max_tags;
		ones[i].provider->entry->list(ones[i].provider, &req,
		    probe_done, &ones[i]);
	}
	if (left > 0)
		event_base_dispatch(env.base);
	if (connectors != NULL)
		*connectors = limits_json(env.limits);
	for (i = 0; i < n; i++)
		provider_free(ones[i].provider);
	free(ones);
	connectors_free(env.connectors);
	limits_free(env.limits);
	http_free(env.http);
	event_base_free(env.base);
	return (0);
}

void
probe_results_free(struct probe_result *r, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free(r[i].cause);
		if (r[i].versions != NULL) {
			versions_free(r[i].versions);
			free(r[i].versions);
		}
	}
}

struct probe_conn {
	int		*ok;
	char		**cause;
	size_t		*left;
	struct event_base *base;
};

static void
probe_conn_done(int ok, const char *cause, void *arg)
{
	struct probe_conn	*pc = arg;

	*pc->ok = ok;
	if (!ok)
		*pc->cause = xstrdup(cause != NULL ? cause : "probe failed");
	if (--*pc->left == 0)
		event_base_loopbreak(pc->base);
}

int
probe_connectors(struct config *conf, const struct connector_conf **ccs,
    size_t n, int *ok, char **causes, char **cause)
{
	struct connector	**conns;
	struct probe_conn	*pcs;
	struct env		 env;
	size_t			 i, left = 0;

	memset(&env, 0, sizeof env);
	env.conf = conf;
	if ((env.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	if ((env.http = http_create(env.base, cause)) == NULL) {
		event_base_free(env.base);
		return (-1);
	}
	env.limits = limits_create(env.base, env.http,
	    (size_t)conf->max_inflight);
	env.connectors = connectors_create();
	conns = xcalloc(n + 1, sizeof *conns);
	pcs = xcalloc(n + 1, sizeof *pcs);
	for (i = 0; i < n; i++) {
		ok[i] = 1;
		causes[i] = NULL;
		pcs[i].ok = &ok[i];
		pcs[i].cause = &causes[i];
		pcs[i].left = &left;
		pcs[i].base = env.base;
		if (ccs[i]->entry == NULL || ccs[i]->entry->probe == NULL) {
			ok[i] = -1;
			continue;
		}
		if ((conns[i] = connector_get(&env, ccs[i], &causes[i])) ==
		    NULL) {
			ok[i] = 0;
			continue;
		}
		left++;
	}
	for (i = 0; i < n; i++) {
		if (conns[i] != NULL)
			conns[i]->entry->probe(conns[i], probe_conn_done,
			    &pcs[i]);
	}
	if (left > 0)
		event_base_dispatch(env.base);
	for (i = 0; i < n; i++)
		connector_put(conns[i]);
	free(conns);
	free(pcs);
	connectors_free(env.connectors);
	limits_free(env.limits);
	http_free(env.http);
	event_base_free(env.base);
	return (0);
}
