/*
 * config.c: loading a config file (DESIGN §3) into struct config.  The file
 * is read into a node tree, then each top-level block is checked by its own
 * file (secret.c, config-store.c, config-sources.c, config-sinks.c,
 * config-trigger.c) in the order the references need: secrets first,
 * connectors before the sources that name them, sources and sinks before
 * triggers (a Harness trigger adds a source of its own).  Nothing stops at the
 * first error: every error of the file is collected, then sorted into file
 * order, so one run of `check` shows them all.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static const struct cfg_key top_keys[] = {
	{ .name = "store", .type = CFG_IGNORE },
	{ .name = "secrets", .type = CFG_IGNORE },
	{ .name = "connectors", .type = CFG_IGNORE },
	{ .name = "sources", .type = CFG_IGNORE },
	{ .name = "sinks", .type = CFG_IGNORE },
	{ .name = "triggers", .type = CFG_IGNORE },
	{ .name = "api", .type = CFG_IGNORE },
	/* Requests in flight over all connectors (docs/politeness.md). */
	{ .name = "maxInFlight", .type = CFG_INT,
	  .off = offsetof(struct config, max_inflight), .def = "256",
	  .min = 1, .max = 100000 },
	{ .name = NULL }
};

struct config *
config_load(const char *path, struct cfg_errors *errs)
{
	struct config	*conf;
	size_t		 before = errs->n;

	errs->file = path;
	conf = xcalloc(1, sizeof *conf);
	conf->path = xstrdup(path);
	if (cfg_parse_file(path, &conf->root, errs) != 0) {
		config_free(conf);
		return (NULL);
	}
	if (conf->root != NULL && conf->root->kind != CFG_MAP) {
		cfg_error(errs, conf->root, "the top level must be a map of "
		    "store, secrets, connectors, sources, sinks and triggers, "
		    "not %s", cfg_node_kind_name(conf->root));
		config_free(conf);
		return (NULL);
	}
	cfg_apply(top_keys, conf, conf->root, errs);

	errs->conf = conf;
	secrets_load(conf, cfg_node_get(conf->root, "secrets"), errs);
	config_load_store(conf, conf->root, errs);
	config_load_connectors(conf, conf->root, errs);
	config_load_sources(conf, conf->root, errs);
	config_load_sinks(conf, conf->root, errs);
	config_load_triggers(conf, conf->root, errs);
	config_check_sink_sources(conf, errs);
	config_load_api(conf, conf->root, errs);
	errs->conf = NULL;

	cfg_errors_sort(errs);
	if (errs->n != before) {
		config_free(conf);
		return (NULL);
	}
	return (conf);
}

void
config_free(struct config *conf)
{
	size_t	 i;

	if (conf == NULL)
		return;
	config_free_triggers(conf);
	config_free_api(conf);
	config_free_sinks(conf);
	config_free_sources(conf);
	free(conf->store.path);
	free(conf->store.url);
	free(conf->store.prefix);
	free(conf->store.password);
	for (i = 0; i < conf->nsecrets; i++) {
		free(conf->secrets[i].name);
		free(conf->secrets[i].ref);
	}
	free(conf->secrets);
	cfg_node_free(conf->root);
	free(conf->path);
	free(conf);
}

struct source_conf *
config_source(struct config *conf, const char *id)
{
	size_t	 i;

	for (i = 0; i < conf->nsources; i++) {
		if (conf->sources[i].id != NULL &&
		    strcmp(conf->sources[i].id, id) == 0)
			return (&conf->sources[i]);
	}
	return (NULL);
}

struct sink_conf *
config_sink(struct config *conf, const char *id)
{
	size_t	 i;

	for (i = 0; i < conf->nsinks; i++) {
		if (conf->sinks[i].id != NULL &&
		    strcmp(conf->sinks[i].id, id) == 0)
			return (&conf->sinks[i]);
	}
	return (NULL);
}
