/*
 * config-sinks.c: the `sinks:` and `triggers:` blocks.  A sink is a type
 * (its entry in sink.c supplies the keys of its `spec:`) plus the delivery
 * limits the dispatcher applies to every sink.  Triggers say which sources
 * feed which sinks; every name they hold must exist.  Without triggers,
 * every source feeds every sink (config_routes()).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "sink.h"

#define SINK_OFF(f)	offsetof(struct sink_conf, f)
#define TRIG_OFF(f)	offsetof(struct trigger_conf, f)

static const struct cfg_key sink_keys[] = {
	{ .name = "identifier", .type = CFG_STRING, .off = SINK_OFF(id),
	  .flags = CFG_REQUIRED },
	{ .name = "name", .type = CFG_IGNORE },
	{ .name = "description", .type = CFG_IGNORE },
	{ .name = "type", .type = CFG_STRING, .off = SINK_OFF(type),
	  .flags = CFG_REQUIRED },
	{ .name = "spec", .type = CFG_NODE, .off = SINK_OFF(spec) },
	{ .name = "maxAttempts", .type = CFG_INT, .off = SINK_OFF(max_attempts),
	  .def = "20", .min = 1, .max = 1000000 },
	{ .name = "maxAge", .type = CFG_DURATION, .off = SINK_OFF(max_age_ms),
	  .def = "0" },
	{ .name = NULL }
};

static const struct cfg_key trigger_keys[] = {
	{ .name = "identifier", .type = CFG_STRING, .off = TRIG_OFF(id),
	  .flags = CFG_REQUIRED },
	{ .name = "name", .type = CFG_IGNORE },
	{ .name = "description", .type = CFG_IGNORE },
	{ .name = "sources", .type = CFG_STRLIST, .off = TRIG_OFF(sources),
	  .flags = CFG_REQUIRED },
	{ .name = "sinks", .type = CFG_STRLIST, .off = TRIG_OFF(sinks),
	  .flags = CFG_REQUIRED },
	{ .name = NULL }
};

static const struct cfg_key no_keys[] = { { .name = NULL } };

static void
sink_load(struct config *conf, struct sink_conf *sc,
    const struct cfg_node *item, size_t i, struct cfg_errors *errs)
{
	const struct cfg_node	*first = NULL;
	char			*where;
	size_t			 before = errs->n, j;

	where = config_entry_where("sink", "sinks", i, item);
	errs->where = where;
	sc->node = item;
	if (cfg_apply_at(sink_keys, sc, item, item, NULL, errs) != 0 &&
	    item->kind != CFG_MAP)
		goto out;
	if (sc->id != NULL) {
		for (j = 0; j < i && first == NULL; j++) {
			if (conf->sinks[j].id != NULL &&
			    strcmp(conf->sinks[j].id, sc->id) == 0)
				first = conf->sinks[j].node;
		}
		config_check_id("sink", item, sc->id, first, errs);
	}
	if (sc->type == NULL)
		goto out;
	if ((sc->entry = sink_find(sc->type)) == NULL) {
		config_unknown_type(TYPE_SINK, cfg_node_get(item, "type"),
		    where, errs);
		goto out;
	}
	sc->data = xcalloc(1, sc->entry->size);
	cfg_apply_at(sc->entry->keys != NULL ? sc->entry->keys : no_keys,
	    sc->data, sc->spec, item, "spec", errs);
	if (errs->n == before && sc->entry->check != NULL)
		sc->entry->check(sc, errs);
out:
	errs->where = NULL;
	free(where);
}

void
config_load_sinks(struct config *conf, const struct cfg_node *root,
    struct cfg_errors *errs)
{
	const struct cfg_node	*list = config_list(root, "sinks", errs);
	size_t			 i;

	if (list == NULL)
		return;
	conf->sinks = xcalloc(list->n, sizeof *conf->sinks);
	for (i = 0; i < list->n; i++) {
		conf->nsinks++;
		sink_load(conf, &conf->sinks[i], list->items[i], i, errs);
	}
}

/* Each name in trigger's `key:` list must be a source (or sink) id. */
static void
trigger_names(const struct config *conf, const struct trigger_conf *tc,
    const char *key, struct cfg_errors *errs)
{
	const struct cfg_node	*list = cfg_node_get(tc->node, key), *name;
	struct cfg_suggest	 sg;
	int			 sources = strcmp(key, "sources") == 0;
	size_t			 i, j, n;
	const char		*id;

	if (list == NULL || list->kind != CFG_SEQ)
		return;
	if (list->n == 0) {
		cfg_error(errs, list, "%s of %s must name at least one %s",
		    key, errs->where, sources ? "source" : "sink");
		return;
	}
	n = sources ? conf->nsources : conf->nsinks;
	for (i = 0; i < list->n; i++) {
		name = list->items[i];
		if (name->kind != CFG_SCALAR)
			continue;
		cfg_suggest_init(&sg, name->value);
		for (j = 0; j < n; j++) {
			id = sources ? conf->sources[j].id : conf->sinks[j].id;
			if (id == NULL)
				continue;
			if (strcmp(id, name->value) == 0)
				break;
			cfg_suggest_try(&sg, id);
		}
		if (j < n)
			continue;
		if (cfg_suggest_best(&sg) != NULL)
			cfg_error(errs, name, "%s of %s: no %s \"%s\" (did you "
			    "mean \"%s\"?)", key, errs->where, sources ?
			    "source" : "sink", name->value,
			    cfg_suggest_best(&sg));
		else
			cfg_error(errs, name, "%s of %s: no %s \"%s\" under "
			    "%s:", key, errs->where, sources ? "source" :
			    "sink", name->value, key);
	}
}

static void
trigger_load(struct config *conf, struct trigger_conf *tc,
    const struct cfg_node *item, size_t i, struct cfg_errors *errs)
{
	const struct cfg_node	*first = NULL;
	char			*where;
	size_t			 j;

	where = config_entry_where("trigger", "triggers", i, item);
	errs->where = where;
	tc->node = item;
	if (cfg_apply_at(trigger_keys, tc, item, item, NULL, errs) != 0 &&
	    item->kind != CFG_MAP)
		goto out;
	if (tc->id != NULL) {
		for (j = 0; j < i && first == NULL; j++) {
			if (conf->triggers[j].id != NULL &&
			    strcmp(conf->triggers[j].id, tc->id) == 0)
				first = conf->triggers[j].node;
		}
		config_check_id("trigger", item, tc->id, first, errs);
	}
	trigger_names(conf, tc, "sources", errs);
	trigger_names(conf, tc, "sinks", errs);
out:
	errs->where = NULL;
	free(where);
}

void
config_load_triggers(struct config *conf, const struct cfg_node *root,
    struct cfg_errors *errs)
{
	const struct cfg_node	*list = config_list(root, "triggers", errs);
	size_t			 i;

	if (list == NULL)
		return;
	conf->triggers = xcalloc(list->n, sizeof *conf->triggers);
	for (i = 0; i < list->n; i++) {
		conf->ntriggers++;
		trigger_load(conf, &conf->triggers[i], list->items[i], i,
		    errs);
	}
}

static int
strlist_has(const struct cfg_strlist *l, const char *s)
{
	size_t	 i;

	for (i = 0; i < l->n; i++) {
		if (strcmp(l->v[i], s) == 0)
			return (1);
	}
	return (0);
}

int
config_routes(const struct config *conf, const struct source_conf *src,
    const struct sink_conf *sink)
{
	size_t	 i;

	if (conf->ntriggers == 0)
		return (1);
	for (i = 0; i < conf->ntriggers; i++) {
		if (strlist_has(&conf->triggers[i].sources, src->id) &&
		    strlist_has(&conf->triggers[i].sinks, sink->id))
			return (1);
	}
	return (0);
}

/* What config_free() needs of this file. */
void
config_free_sinks(struct config *conf)
{
	struct sink_conf	*sc;
	size_t			 i;

	for (i = 0; i < conf->nsinks; i++) {
		sc = &conf->sinks[i];
		if (sc->entry != NULL && sc->data != NULL)
			cfg_free(sc->entry->keys != NULL ? sc->entry->keys :
			    no_keys, sc->data);
		free(sc->data);
		cfg_free(sink_keys, sc);
	}
	free(conf->sinks);
	for (i = 0; i < conf->ntriggers; i++)
		cfg_free(trigger_keys, &conf->triggers[i]);
	free(conf->triggers);
}
