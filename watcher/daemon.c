/*
 * daemon.c: the running watcher.  It owns the environment (event base,
 * HTTP engine, store, config) and the instances made from the config: one
 * source per configured source, one sink and one dispatcher per sink.
 *
 * Signals (evsignals on the one base): SIGTERM and SIGINT stop polling, let
 * commits in flight finish (deliveries in flight are abandoned: they are
 * still in the outbox and go out again next time) and leave the loop within
 * 5 s.  SIGHUP reloads: a file that does not load is logged and the old
 * config kept; otherwise the sources are stopped, and once no commit is in
 * flight the instances are rebuilt from the new config.
 *
 * `run` on a store that several watchers may share takes leases (lease.h),
 * so that replicas split the sources and sinks between them; a shutdown
 * gives them up before leaving the loop.  `once` takes none: it is an
 * operator's one-off.  A store only one process can open (LMDB) needs none.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "api.h"
#include "connector.h"
#include "daemon.h"
#include "dispatch.h"
#include "http.h"
#include "lease.h"
#include "limit.h"
#include "retention.h"
#include "sink.h"
#include "source.h"
#include "store.h"

#define DAEMON_TICK_MS		100
#define DAEMON_STOP_MS		5000

/* What a config makes: swapped whole on reload. */
struct instances {
	struct source		**sources;
	size_t			 nsources;
	struct sink		**sinks;
	struct dispatch		**dispatchers;
	size_t			 nsinks;
};

struct daemon {
	struct env		 env;
	struct instances	 live;
	struct api		*api;		/* NULL: no api: block */
	struct retention	*retention;	/* run only: hourly trim */

	struct event		*sig_term;
	struct event		*sig_int;
	struct event		*sig_hup;
	struct event		*tick;

	int			 stopping;
	int64_t			 stop_deadline;
	struct config		*pending;	/* reload waiting for quiet */

	int			 once;
	size_t			 once_expected;
	size_t			 once_polled;
	int			 once_failed;
	int64_t			 once_wait_ms;
	int64_t			 once_deadline;	/* 0 until polls are done */
	int			 exit_code;
};

static void
daemon_committed(__unused struct source *s, size_t nevents, void *arg)
{
	struct daemon	*d = arg;
	size_t		 i;

	if (nevents == 0 || d->stopping)
		return;	/* stopped dispatchers start nothing new */
	for (i = 0; i < d->live.nsinks; i++)
		dispatch_wake(d->live.dispatchers[i]);
}

static void
daemon_polled(struct source *s, int ok, void *arg)
{
	struct daemon	*d = arg;

	if (!d->once)
		return;
	source_stop(s);
	d->once_polled++;
	if (!ok)
		d->once_failed = 1;
}

static void
instances_free(struct instances *in)
{
	size_t	 i;

	for (i = 0; i < in->nsources; i++)
		source_free(in->sources[i]);
	for (i = 0; i < in->nsinks; i++) {
		dispatch_free(in->dispatchers[i]);
		sink_free(in->sinks[i]);
	}
	free(in->sources);
	free(in->dispatchers);
	free(in->sinks);
	memset(in, 0, sizeof *in);
}

/*
 * Make the instances of d->env.conf into `in`.  They all point at d->env,
 * which outlives every reload.
 */
static int
instances_build(struct daemon *d, struct instances *in, char **cause)
{
	struct config		*conf = d->env.conf;
	struct source_hooks	 hooks;
	const char		*what, *id;
	char			*why;
	size_t			 i;

	memset(in, 0, sizeof *in);
	in->sinks = xcalloc(conf->nsinks, sizeof *in->sinks);
	in->dispatchers = xcalloc(conf->nsinks, sizeof *in->dispatchers);
	for (i = 0; i < conf->nsinks; i++) {
		in->sinks[i] = sink_create(&d->env, &conf->sinks[i], &why);
		if (in->sinks[i] == NULL) {
			what = "sink";
			id = conf->sinks[i].id;
			goto fail;
		}
		in->dispatchers[i] = dispatch_create(&d->env, in->sinks[i],
		    NULL);
		in->nsinks++;
	}

	hooks.committed = daemon_committed;
	hooks.polled = daemon_polled;
	hooks.arg = d;
	in->sources = xcalloc(conf->nsources, sizeof *in->sources);
	for (i = 0; i < conf->nsources; i++) {
		in->sources[i] = source_create(&d->env, &conf->sources[i],
		    &hooks, &why);
		if (in->sources[i] == NULL) {
			what = "source";
			id = conf->sources[i].id;
			goto fail;
		}
		in->nsources++;
	}
	return (0);

fail:
	fail(cause, "%s %s: %s", what, id, why);
	free(why);
	instances_free(in);
	return (-1);
}

/*
 * Start the sources spread over a window that grows with their number
 * (10 ms each) up to their interval: one source polls at once, ten thousand
 * with a one-minute interval spread over that minute.
 */
static void
daemon_start_sources(struct daemon *d)
{
	int64_t	 window;
	size_t	 i;

	for (i = 0; i < d->live.nsources; i++) {
		window = (int64_t)d->live.nsources * 10;
		if (window > d->env.conf->sources[i].interval_ms)
			window = d->env.conf->sources[i].interval_ms;
		source_start(d->live.sources[i],
		    (int64_t)(random32() % (uint64_t)(window + 1)));
	}
	for (i = 0; i < d->live.nsinks; i++)
		dispatch_wake(d->live.dispatchers[i]);
}

static int
daemon_quiet(const struct daemon *d)
{
	size_t	 i;

	for (i = 0; i < d->live.nsources; i++) {
		if (source_busy(d->live.sources[i]))
			return (0);
	}
	return (1);
}

static int
daemon_delivering(const struct daemon *d)
{
	size_t	 i;

	for (i = 0; i < d->live.nsinks; i++) {
		if (dispatch_busy(d->live.dispatchers[i]))
			return (1);
	}
	return (0);
}

static int
daemon_store_same(const struct store_conf *a, const struct store_conf *b)
{
#define SAME(x, y) ((x) == NULL ? (y) == NULL : (y) != NULL && !strcmp(x, y))
	return (a->type == b->type && SAME(a->path, b->path) &&
	    SAME(a->url, b->url) && SAME(a->prefix, b->prefix));
#undef SAME
}

/* The sources are quiet: swap in the pending config. */
static void
daemon_reload_finish(struct daemon *d)
{
	struct config		*old = d->env.conf, *new = d->pending;
	struct instances	 next;
	struct store_conf	 store_conf;
	char			*cause;
	size_t			 i;

	d->pending = NULL;
	d->env.conf = new;
	if (instances_build(d, &next, &cause) != 0) {
		d->env.conf = old;
		log_error("reload failed: keeping the old config", "error=%s",
		    log_q(cause));
		free(cause);
		config_free(new);
		for (i = 0; i < d->live.nsources; i++)
			source_start(d->live.sources[i], 0);
		return;
	}
	instances_free(&d->live);
	d->live = next;
	limits_set_max_inflight(d->env.limits, (size_t)new->max_inflight);
	/* The store runs on with the settings it was opened with. */
	if (!daemon_store_same(&old->store, &new->store)) {
		log_warn("reload: store settings changed; they take effect "
		    "at the next restart", "file=%s", log_q(new->path));
		store_conf = old->store;
		old->store = new->store;
		new->store = store_conf;
	}
	d->env.store->conf = &new->store;
	config_free(old);
	log_info("config reloaded", "sources=%zu sinks=%zu", d->live.nsources,
	    d->live.nsinks);
	api_reloaded(d->api);
	daemon_start_sources(d);
}

static void
daemon_reload(struct daemon *d)
{
	struct cfg_errors	 errs = { 0 };
	struct config		*new;
	size_t			 i;

	if (d->stopping || d->pending != NULL)
		return;
	log_info("reloading config", "file=%s", log_q(d->env.conf->path));
	if ((new = config_load(d->env.conf->path, &errs)) == NULL) {
		for (i = 0; i < errs.n; i++)
			log_error("reload: config error", "error=%s",
			    log_q(errs.msg[i]));
		log_error("reload failed: keeping the old config", "errors=%zu",
		    errs.n);
		cfg_errors_free(&errs);
		return;
	}
	cfg_errors_free(&errs);
	d->pending = new;
	for (i = 0; i < d->live.nsources; i++)
		source_stop(d->live.sources[i]);
}

static int
daemon_drained(const struct daemon *d)
{
	size_t	 i;

	for (i = 0; i < d->live.nsinks; i++) {
		if (!dispatch_drained(d->live.dispatchers[i]))
			return (0);
	}
	return (1);
}

/* How many events this process dead-lettered, every sink together. */
static uint64_t
daemon_dead_lettered(const struct daemon *d)
{
	uint64_t	 n = 0;
	size_t		 i;

	for (i = 0; i < d->live.nsinks; i++)
		n += dispatch_counters(d->live.dispatchers[i])->dead;
	return (n);
}

/*
 * once: the exit code when its cycle ends.  A failed poll comes first, then
 * a dead-lettered event (delivery is broken), then events left pending.
 */
static int
daemon_once_code(const struct daemon *d, int drained)
{
	if (d->once_failed)
		return (EXIT_POLL);
	if (daemon_dead_lettered(d) > 0)
		return (EXIT_DEAD);
	return (drained ? EXIT_OK : EXIT_PENDING);
}

static void
daemon_tick_cb(__unused evutil_socket_t fd, __unused short what, void *arg)
{
	struct daemon	*d = arg;

	if (d->stopping) {
		if ((daemon_quiet(d) && !daemon_delivering(d) &&
		    !leases_busy(d->env.leases)) ||
		    mono_ms() >= d->stop_deadline)
			event_base_loopbreak(d->env.base);
		return;
	}
	if (d->pending != NULL && daemon_quiet(d))
		daemon_reload_finish(d);
	if (!d->once || d->once_polled < d->once_expected || !daemon_quiet(d))
		return;
	if (d->once_deadline == 0)
		d->once_deadline = mono_ms() + d->once_wait_ms;
	if (daemon_drained(d)) {
		d->exit_code = daemon_once_code(d, 1);
		event_base_loopbreak(d->env.base);
	} else if (mono_ms() >= d->once_deadline) {
		log_warn("once: events still undelivered; they stay in the "
		    "outbox for the next run", "wait_ms=%lld",
		    (long long)d->once_wait_ms);
		d->exit_code = daemon_once_code(d, 0);
		event_base_loopbreak(d->env.base);
	}
	if (d->exit_code == EXIT_DEAD)
		log_warn("once: events were dead-lettered in this run",
		    "dead=%llu", (unsigned long long)daemon_dead_lettered(d));
}

static void
daemon_stop(struct daemon *d, const char *why)
{
	size_t	 i;

	if (d->stopping)
		return;
	log_info("shutting down", "signal=%s", why);
	d->stopping = 1;
	d->stop_deadline = mono_ms() + DAEMON_STOP_MS;
	for (i = 0; i < d->live.nsources; i++)
		source_stop(d->live.sources[i]);
	/*
	 * Dispatchers start nothing new; a delivery in flight ends with its
	 * ack (or is abandoned at the deadline and sent again next time).
	 */
	for (i = 0; i < d->live.nsinks; i++)
		dispatch_stop(d->live.dispatchers[i]);
	d->exit_code = EXIT_OK;
}

static void
daemon_signal_cb(evutil_socket_t sig, __unused short what, void *arg)
{
	struct daemon	*d = arg;

	switch (sig) {
	case SIGHUP:
		daemon_reload(d);
		break;
	case SIGTERM:
		daemon_stop(d, "TERM");
		break;
	case SIGINT:
		daemon_stop(d, "INT");
		break;
	}
}

struct daemon *
daemon_create(struct event_base *base, struct config *conf, char **cause)
{
	struct daemon	*d;
	struct timeval	 tv = { 0, DAEMON_TICK_MS * 1000 };
	char		*why;

	d = xcalloc(1, sizeof *d);
	d->env.base = base;
	d->env.conf = conf;
	env_seed(&d->env);
	if ((d->env.http = http_create(base, &why)) == NULL) {
		fail(cause, "http: %s", why);
		goto fail;
	}
	d->env.limits = limits_create(base, d->env.http,
	    (size_t)conf->max_inflight);
	d->env.connectors = connectors_create();
	if ((d->env.store = store_open_config(base, conf, &why)) == NULL) {
		fail(cause, "store: %s", why);
		goto fail;
	}
	if (instances_build(d, &d->live, &why) != 0) {
		fail(cause, "%s", why);
		goto fail;
	}
	d->sig_term = evsignal_new(base, SIGTERM, daemon_signal_cb, d);
	d->sig_int = evsignal_new(base, SIGINT, daemon_signal_cb, d);
	d->sig_hup = evsignal_new(base, SIGHUP, daemon_signal_cb, d);
	evsignal_add(d->sig_term, NULL);
	evsignal_add(d->sig_int, NULL);
	evsignal_add(d->sig_hup, NULL);
	d->tick = event_new(base, -1, EV_PERSIST, daemon_tick_cb, d);
	evtimer_add(d->tick, &tv);
	return (d);

fail:
	free(why);
	daemon_free(d);
	return (NULL);
}

void
daemon_free(struct daemon *d)
{
	if (d == NULL)
		return;
	api_free(d->api);
	retention_free(d->retention);
	instances_free(&d->live);
	if (d->tick != NULL)
		event_free(d->tick);
	if (d->sig_term != NULL) {
		event_free(d->sig_term);
		event_free(d->sig_int);
		event_free(d->sig_hup);
	}
	limits_free(d->env.limits);
	/* curl first: its sockets live on the base (style.md §4). */
	http_free(d->env.http);
	store_close(d->env.store);
	/* After the store: a commit's end may free the last sources. */
	connectors_free(d->env.connectors);
	leases_free(d->env.leases);
	config_free(d->pending);
	config_free(d->env.conf);
	free(d);
}

int
daemon_run(struct daemon *d)
{
	char	*cause;

	/* Only `run` listens: `once` may run beside a watcher. */
	if (d->env.conf->api.enabled &&
	    (d->api = api_create(d, &cause)) == NULL) {
		log_error("cannot start the HTTP API", "error=%s",
		    log_q(cause));
		free(cause);
		return (EXIT_USAGE);
	}
	log_info("started", "version=%s sources=%zu sinks=%zu store=%s",
	    AW_VERSION, d->live.nsources, d->live.nsinks, d->env.store->entry->name);
	d->retention = retention_start(&d->env, 0);
	if (d->env.store->entry->shared)
		d->env.leases = leases_create(d->env.base, d->env.store);
	daemon_start_sources(d);
	event_base_dispatch(d->env.base);
	log_info("stopped", "exit=%d", d->exit_code);
	return (d->exit_code);
}

int
daemon_once(struct daemon *d, const char *only, int64_t wait_ms)
{
	size_t	 i;

	d->once = 1;
	d->once_wait_ms = wait_ms;
	for (i = 0; i < d->live.nsources; i++) {
		if (only != NULL &&
		    strcmp(source_conf(d->live.sources[i])->id, only) != 0)
			continue;
		d->once_expected++;
		source_start(d->live.sources[i], 0);
	}
	for (i = 0; i < d->live.nsinks; i++)
		dispatch_wake(d->live.dispatchers[i]);
	d->exit_code = EXIT_INTERNAL;
	event_base_dispatch(d->env.base);
	return (d->exit_code);
}

char *
daemon_status_json(const struct daemon *d)
{
	struct source_status	 st;
	cJSON			*arr, *o;
	char			*s, when[32];
	size_t			 i;

	arr = cJSON_CreateArray();
	for (i = 0; i < d->live.nsources; i++) {
		source_status(d->live.sources[i], &st);
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", st.id);
		cJSON_AddBoolToObject(o, "baselined", st.baselined);
		cJSON_AddNumberToObject(o, "known", (double)st.known);
		if (st.last_poll_s != 0) {
			time_format_rfc3339(st.last_poll_s, when, sizeof when);
			cJSON_AddStringToObject(o, "lastPoll", when);
		} else
			cJSON_AddNullToObject(o, "lastPoll");
		if (st.last_error != NULL)
			cJSON_AddStringToObject(o, "lastError", st.last_error);
		else
			cJSON_AddNullToObject(o, "lastError");
		cJSON_AddBoolToObject(o, "truncated", st.truncated);
		cJSON_AddNumberToObject(o, "failures", st.failures);
		cJSON_AddNumberToObject(o, "polls", (double)st.polls);
		cJSON_AddNumberToObject(o, "errors", (double)st.errors);
		cJSON_AddNumberToObject(o, "created", (double)st.created);
		cJSON_AddNumberToObject(o, "updated", (double)st.updated);
		cJSON_AddBoolToObject(o, "held", st.held);
		cJSON_AddNumberToObject(o, "filtered", (double)st.filtered);
		cJSON_AddNumberToObject(o, "bursts", (double)st.bursts);
		cJSON_AddItemToArray(arr, o);
	}
	s = cJSON_PrintUnformatted(arr);
	cJSON_Delete(arr);
	return (s);
}

struct env *
daemon_env(struct daemon *d)
{
	return (&d->env);
}

struct source *const *
daemon_sources(const struct daemon *d, size_t *n)
{
	*n = d->live.nsources;
	return (d->live.sources);
}

struct dispatch *const *
daemon_dispatchers(const struct daemon *d, size_t *n)
{
	*n = d->live.nsinks;
	return (d->live.dispatchers);
}

int
daemon_stopping(const struct daemon *d)
{
	return (d->stopping);
}
