/*
 * main.c: the command line.
 *
 *   artifact-watcher run      -c FILE            watch until SIGTERM
 *   artifact-watcher once     -c FILE [--source ID] [--wait DUR]
 *   artifact-watcher check    -c FILE [--connect]
 *   artifact-watcher versions -c FILE SOURCE [--json]
 *   artifact-watcher history  -c FILE [--source ID] [--since DUR|TIME] [--json]
 *   artifact-watcher replay   -c FILE --sink ID (--event ID | --since DUR|TIME)
 *
 * Exit codes are in daemon.h and docs/cli.md.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "config.h"
#include "daemon.h"
#include "probe.h"
#include "source.h"
#include "store.h"

struct cli {
	const char	*command;
	const char	*config;
	const char	*source;
	const char	*sink;
	const char	*event;
	const char	*since;
	const char	*wait;
	const char	*burst_action;
	int		 json;
	int		 connect;	/* check --connect */
	const char	*arg;		/* versions: SOURCE */
};

static const char usage_text[] =
"usage: artifact-watcher COMMAND -c FILE [options]\n"
"\n"
"commands:\n"
"  run       watch every source until SIGTERM (SIGHUP reloads the config)\n"
"  once      poll once, commit, deliver what is pending, exit\n"
"            [--source ID] [--wait DURATION (default 60s)]\n"
"            [--burst-action emitNewest|fastForward]: release a held burst\n"
"  check     validate the config file [--connect: and list every source]\n"
"  versions  SOURCE [--json]: what the source lists now\n"
"  history   [--source ID] [--since DURATION|TIME] [--json]: what arrived,\n"
"            when, and where it was delivered\n"
"  replay    --sink ID (--event ID | --since DURATION|TIME): send again\n"
"\n"
"options:\n"
"  -c, --config FILE     the configuration (YAML)\n"
"  --log-level LEVEL     debug, info (default), warn or error\n"
"  -h, --help            this text\n"
"  -V, --version         the version\n"
"\n"
"exit codes: 0 ok, 1 a poll failed (once), 2 usage or config error,\n"
"3 events still undelivered (once --wait), 4 store error,\n"
"5 an event was dead-lettered (once), 70 internal.\n";

static int
usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "artifact-watcher: %s\n\n", why);
	fputs(usage_text, stderr);
	return (EXIT_USAGE);
}

static struct config *
load_config(const struct cli *cli)
{
	struct cfg_errors	 errs = { 0 };
	struct config		*conf;
	size_t			 i;

	conf = config_load(cli->config, &errs);
	for (i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msg[i]);
	if (conf == NULL)
		fprintf(stderr, "%s: %zu error%s\n", cli->config, errs.n,
		    errs.n == 1 ? "" : "s");
	cfg_errors_free(&errs);
	return (conf);
}

/* --since: a duration back from now ("2h") or an RFC 3339 time. */
static int
parse_since(const char *s, int64_t *ms)
{
	int64_t	 d, t;

	if (time_parse_rfc3339(s, &t) == 0) {
		*ms = t * 1000;
		return (0);
	}
	if (duration_parse(s, &d, NULL) == 0) {
		*ms = now_ms() - d;
		return (0);
	}
	return (-1);
}

/* The connectors no source names: their own probes. */
static int
check_connectors(struct config *conf, size_t *failed)
{
	const struct connector_conf	**ccs;
	size_t				  i, j, n = 0;
	char				**causes, *cause;
	int				 *ok;

	ccs = xcalloc(conf->nconnectors + 1, sizeof *ccs);
	for (i = 0; i < conf->nconnectors; i++) {
		for (j = 0; j < conf->nsources; j++) {
			if (conf->sources[j].connector == &conf->connectors[i])
				break;
		}
		if (j == conf->nsources)
			ccs[n++] = &conf->connectors[i];
	}
	ok = xcalloc(n + 1, sizeof *ok);
	causes = xcalloc(n + 1, sizeof *causes);
	if (n > 0 && probe_connectors(conf, ccs, n, ok, causes, &cause) != 0) {
		fprintf(stderr, "artifact-watcher: %s\n", cause);
		free(cause);
		free(ccs);
		free(ok);
		free(causes);
		return (-1);
	}
	for (i = 0; i < n; i++) {
		if (ok[i] == 1)
			printf("connector %s: reachable\n", ccs[i]->id);
		else if (ok[i] == -1)
			printf("connector %s: not probed (type %s has no "
			    "probe)\n", ccs[i]->id, ccs[i]->type);
		else {
			printf("connector %s: FAILED: %s\n", ccs[i]->id,
			    causes[i]);
			(*failed)++;
		}
		free(causes[i]);
	}
	free(ccs);
	free(ok);
	free(causes);
	return (0);
}

/*
 * check --connect: list every source once, and probe every connector no
 * source names; exit 1 if one cannot be reached.
 */
static int
check_connect(struct config *conf)
{
	const struct source_conf	**srcs;
	struct probe_result		 *r;
	char				 *cause;
	size_t				  i, failed = 0;

	srcs = xcalloc(conf->nsources + 1, sizeof *srcs);
	r = xcalloc(conf->nsources + 1, sizeof *r);
	for (i = 0; i < conf->nsources; i++)
		srcs[i] = &conf->sources[i];
	if (probe_sources(conf, srcs, conf->nsources, r, NULL, &cause) != 0) {
		fprintf(stderr, "artifact-watcher: %s\n", cause);
		free(cause);
		free(srcs);
		free(r);
		return (EXIT_INTERNAL);
	}
	for (i = 0; i < conf->nsources; i++) {
		if (r[i].ok)
			printf("source %s: reachable, %zu versions%s\n",
			    r[i].src->id, r[i].versions->n,
			    r[i].versions->truncated ? " (truncated)" : "");
		else {
			printf("source %s: FAILED: %s\n", r[i].src->id,
			    r[i].cause);
			failed++;
		}
	}
	probe_results_free(r, conf->nsources);
	free(srcs);
	free(r);
	if (check_connectors(conf, &failed) != 0)
		return (EXIT_INTERNAL);
	return (failed > 0 ? EXIT_POLL : EXIT_OK);
}

static int
cmd_check(const struct cli *cli)
{
	struct config	*conf;
	int		 code;

	if ((conf = load_config(cli)) == NULL)
		return (EXIT_USAGE);
	printf("%s: ok (%zu connectors, %zu sources, %zu sinks, %zu "
	    "triggers)\n", cli->config, conf->nconnectors, conf->nsources,
	    conf->nsinks, conf->ntriggers);
	code = cli->connect ? check_connect(conf) : EXIT_OK;
	config_free(conf);
	return (code);
}

/* once --burst-action: how the operator releases a held burst. */
static int
set_burst_action(struct config *conf, const char *name)
{
	int	 action;
	size_t	 i;

	if (strcmp(name, "emitNewest") == 0)
		action = BURST_EMIT_NEWEST;
	else if (strcmp(name, "fastForward") == 0)
		action = BURST_FAST_FORWARD;
	else
		return (-1);
	for (i = 0; i < conf->nsources; i++)
		conf->sources[i].burst_action = action;
	return (0);
}

static int
cmd_daemon(const struct cli *cli)
{
	struct event_base	*base;
	struct config		*conf;
	struct daemon		*d;
	char			*cause;
	int64_t			 wait_ms = 60 * 1000;
	int			 code;

	if (cli->wait != NULL && duration_parse(cli->wait, &wait_ms, &cause)) {
		code = usage(cause);
		free(cause);
		return (code);
	}
	if ((conf = load_config(cli)) == NULL)
		return (EXIT_USAGE);
	if (cli->burst_action != NULL && set_burst_action(conf,
	    cli->burst_action) != 0) {
		config_free(conf);
		return (usage("--burst-action: emitNewest or fastForward"));
	}
	if (cli->source != NULL && config_source(conf, cli->source) == NULL) {
		fprintf(stderr, "artifact-watcher: no source \"%s\" in %s\n",
		    cli->source, cli->config);
		config_free(conf);
		return (EXIT_USAGE);
	}
	if ((base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	if ((d = daemon_create(base, conf, &cause)) == NULL) {
		log_error("cannot start", "error=%s", log_q(cause));
		free(cause);
		event_base_free(base);
		return (EXIT_STORE);
	}
	if (strcmp(cli->command, "run") == 0)
		code = daemon_run(d);
	else
		code = daemon_once(d, cli->source, wait_ms);
	daemon_free(d);
	event_base_free(base);
	return (code);
}

static void
versions_print(const struct cli *cli, const struct probe_result *r,
    cJSON *connectors)
{
	const struct versions	*vs = r->versions;
	struct source_mutable	*m;
	struct buf		 out = { 0 };
	cJSON			*o, *arr, *v;
	char			*s, when[32], *cause;
	size_t			 i, nmutable = 0;
	int			 is_mutable;

	if (cli->json) {
		m = source_mutable_create(r->src, &cause);
		free(cause);
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "source", r->src->id);
		cJSON_AddBoolToObject(o, "truncated", vs->truncated);
		cJSON_AddNumberToObject(o, "maxTags", (double)r->src->max_tags);
		cJSON_AddItemToObject(o, "connectors", connectors);
		arr = cJSON_AddArrayToObject(o, "versions");
		for (i = 0; i < vs->n; i++) {
			v = cJSON_CreateObject();
			cJSON_AddStringToObject(v, "name", vs->v[i].name);
			is_mutable = vs->v[i].digest == NULL &&
			    source_mutable_match(m, vs->v[i].name);
			nmutable += is_mutable;
			cJSON_AddBoolToObject(v, "mutable", is_mutable);
			if (vs->v[i].digest != NULL)
				cJSON_AddStringToObject(v, "digest",
				    vs->v[i].digest);
			else
				cJSON_AddNullToObject(v, "digest");
			if (vs->v[i].pushed_at != 0) {
				time_format_rfc3339(vs->v[i].pushed_at, when,
				    sizeof when);
				cJSON_AddStringToObject(v, "pushedAt", when);
			} else
				cJSON_AddNullToObject(v, "pushedAt");
			cJSON_AddItemToArray(arr, v);
		}
		/*
		 * Mutable tags whose digest the listing lacks: a poll checks
		 * this many of them (digestChecksPerPoll at most).
		 */
		cJSON_AddNumberToObject(o, "mutable", (double)nmutable);
		cJSON_AddNumberToObject(o, "digestChecks", (double)(
		    (long long)nmutable < r->src->digest_checks ? (long long)
		    nmutable : r->src->digest_checks));
		source_mutable_free(m);
		s = cJSON_PrintUnformatted(o);
		printf("%s\n", s);
		free(s);
		cJSON_Delete(o);
		return;
	}
	cJSON_Delete(connectors);
	for (i = 0; i < vs->n; i++) {	/* one write for 10,000 lines */
		buf_adds(&out, vs->v[i].name);
		if (vs->v[i].digest != NULL) {
			buf_add(&out, "\t", 1);
			buf_adds(&out, vs->v[i].digest);
		}
		buf_add(&out, "\n", 1);
	}
	if (out.len != 0)
		fwrite(out.data, 1, out.len, stdout);
	buf_free(&out);
	fprintf(stderr, "%zu versions%s\n", vs->n, vs->truncated ?
	    " (truncated: maxTags reached)" : "");
}

static int
cmd_versions(const struct cli *cli)
{
	const struct source_conf	*src;
	struct probe_result		 r;
	struct config			*conf;
	cJSON				*connectors = NULL;
	char				*cause;
	int				 code;

	if (cli->arg == NULL)
		return (usage("versions needs a SOURCE"));
	if ((conf = load_config(cli)) == NULL)
		return (EXIT_USAGE);
	if ((src = config_source(conf, cli->arg)) == NULL) {
		fprintf(stderr, "artifact-watcher: no source \"%s\" in %s\n",
		    cli->arg, cli->config);
		config_free(conf);
		return (EXIT_USAGE);
	}
	if (probe_sources(conf, &src, 1, &r, &connectors, &cause) != 0) {
		fprintf(stderr, "artifact-watcher: %s\n", cause);
		free(cause);
		config_free(conf);
		return (EXIT_INTERNAL);
	}
	if (r.ok) {
		versions_print(cli, &r, connectors);
		code = EXIT_OK;
	} else {
		fprintf(stderr, "artifact-watcher: %s: %s\n", src->id, r.cause);
		cJSON_Delete(connectors);
		code = EXIT_POLL;
	}
	probe_results_free(&r, 1);
	config_free(conf);
	return (code);
}

struct store_run {
	const struct cli	*cli;
	struct event_base	*base;
	int			 code;
};

static void
history_print_json(struct history_entry *h, size_t n)
{
	cJSON		*arr;
	char		*s;
	size_t		 i;

	arr = cJSON_CreateArray();
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, history_json(&h[i]));
	s = cJSON_PrintUnformatted(arr);
	printf("%s\n", s);
	free(s);
	cJSON_Delete(arr);
}

static void
history_print_text(struct history_entry *h, size_t n)
{
	cJSON		*ev;
	const char	*type, *subject;
	char		 when[32];
	size_t		 i, j;

	for (i = 0; i < n; i++) {
		ev = cJSON_Parse(h[i].e.json);
		type = cJSON_GetStringValue(cJSON_GetObjectItem(ev, "type"));
		subject = cJSON_GetStringValue(cJSON_GetObjectItem(ev,
		    "subject"));
		time_format_rfc3339(h[i].e.committed_at / 1000, when,
		    sizeof when);
		printf("%s  %-16s %-18s %s  %s ", when, h[i].e.source,
		    type != NULL ? type : "?", subject != NULL ? subject : "?",
		    h[i].e.id);
		for (j = 0; j < h[i].nsinks; j++) {
			printf(" %s=%s", h[i].sinks[j].sink,
			    delivery_state_name(h[i].sinks[j].state));
		}
		printf("\n");
		cJSON_Delete(ev);
	}
}

static void
history_done(int status, struct history_entry *h, size_t n,
    const char *cause, void *arg)
{
	struct store_run	*sr = arg;

	if (status != STORE_OK) {
		fprintf(stderr, "artifact-watcher: history: %s\n", cause);
		sr->code = EXIT_STORE;
	} else {
		if (sr->cli->json)
			history_print_json(h, n);
		else
			history_print_text(h, n);
		sr->code = EXIT_OK;
	}
	event_base_loopbreak(sr->base);
}

static void
replay_done(int status, const char *cause, void *arg)
{
	struct store_run	*sr = arg;

	if (status != STORE_OK) {
		fprintf(stderr, "artifact-watcher: replay: %s\n", cause);
		sr->code = EXIT_STORE;
	} else {
		fprintf(stderr, "replayed to sink %s; the running watcher "
		    "delivers them\n", sr->cli->sink);
		sr->code = EXIT_OK;
	}
	event_base_loopbreak(sr->base);
}

static int
cmd_store(const struct cli *cli)
{
	struct store_run	 sr;
	struct history_query	 q;
	struct config		*conf;
	struct store		*st;
	char			*cause;
	int			 replay = strcmp(cli->command, "replay") == 0;

	memset(&q, 0, sizeof q);
	q.source = cli->source;
	q.event_id = cli->event;
	if (cli->since != NULL && parse_since(cli->since, &q.since_ms) != 0)
		return (usage("--since takes a duration (2h) or an RFC 3339 "
		    "time"));
	if (replay && (cli->sink == NULL ||
	    (cli->event == NULL && cli->since == NULL)))
		return (usage("replay needs --sink and --event or --since"));
	if ((conf = load_config(cli)) == NULL)
		return (EXIT_USAGE);
	if (replay && config_sink(conf, cli->sink) == NULL) {
		fprintf(stderr, "artifact-watcher: no sink \"%s\" in %s\n",
		    cli->sink, cli->config);
		config_free(conf);
		return (EXIT_USAGE);
	}
	memset(&sr, 0, sizeof sr);
	sr.cli = cli;
	sr.code = EXIT_INTERNAL;
	if ((sr.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	conf->store.shared = 1;		/* beside a running watcher */
	if ((st = store_open_config(sr.base, conf, &cause)) == NULL) {
		fprintf(stderr, "artifact-watcher: store: %s\n", cause);
		free(cause);
		event_base_free(sr.base);
		config_free(conf);
		return (EXIT_STORE);
	}
	if (replay)
		st->entry->replay(st, cli->sink, &q, replay_done, &sr);
	else
		st->entry->history(st, &q, history_done, &sr);
	event_base_dispatch(sr.base);
	store_close(st);
	event_base_free(sr.base);
	config_free(conf);
	return (sr.code);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config",	required_argument, NULL, 'c' },
		{ "source",	required_argument, NULL, 's' },
		{ "sink",	required_argument, NULL, 'k' },
		{ "event",	required_argument, NULL, 'e' },
		{ "since",	required_argument, NULL, 'S' },
		{ "wait",	required_argument, NULL, 'w' },
		{ "burst-action", required_argument, NULL, 'b' },
		{ "json",	no_argument,	   NULL, 'j' },
		{ "connect",	no_argument,	   NULL, 'C' },
		{ "log-level",	required_argument, NULL, 'l' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ "version",	no_argument,	   NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct cli	 cli;
	enum log_level	 level;
	int		 ch;

	signal(SIGPIPE, SIG_IGN);
	memset(&cli, 0, sizeof cli);
	while ((ch = getopt_long(argc, argv, "c:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			cli.config = optarg;
			break;
		case 's':
			cli.source = optarg;
			break;
		case 'k':
			cli.sink = optarg;
			break;
		case 'e':
			cli.event = optarg;
			break;
		case 'S':
			cli.since = optarg;
			break;
		case 'w':
			cli.wait = optarg;
			break;
		case 'b':
			cli.burst_action = optarg;
			break;
		case 'j':
			cli.json = 1;
			break;
		case 'C':
			cli.connect = 1;
			break;
		case 'l':
			if (log_parse_level(optarg, &level) != 0)
				return (usage("--log-level: debug, info, warn "
				    "or error"));
			log_set_level(level);
			break;
		case 'h':
			fputs(usage_text, stdout);
			return (EXIT_OK);
		case 'V':
			printf("%s %s\n", AW_NAME, AW_VERSION);
			return (EXIT_OK);
		default:
			return (usage(NULL));
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		return (usage("no command"));
	cli.command = argv[0];
	if (argc > 1)
		cli.arg = argv[1];
	if (argc > 2 || (argc > 1 && strcmp(cli.command, "versions") != 0))
		return (usage("too many arguments"));
	if (cli.config == NULL)
		return (usage("-c FILE is required"));

	if (strcmp(cli.command, "check") == 0)
		return (cmd_check(&cli));
	if (strcmp(cli.command, "run") == 0 || strcmp(cli.command, "once") == 0)
		return (cmd_daemon(&cli));
	if (strcmp(cli.command, "versions") == 0)
		return (cmd_versions(&cli));
	if (strcmp(cli.command, "history") == 0 ||
	    strcmp(cli.command, "replay") == 0)
		return (cmd_store(&cli));
	return (usage("unknown command"));
}
