/*
 * config-sinks.c: the `sinks:` block.  A sink is a type (its entry in
 * sink.c supplies the keys of its `spec:`) plus the delivery limits the
 * dispatcher applies to every sink, and the sink's own filter (`types`,
 * `sources`).  Triggers, which say which sources feed which sinks, are
 * config-trigger.c's, and so is the check of the filter's source names
 * (a Harness trigger adds sources).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "event.h"
#include "sink.h"

#define SINK_OFF(f)	offsetof(struct sink_conf, f)

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
	{ .name = "maxInFlight", .type = CFG_INT, .off = SINK_OFF(max_inflight),
	  .min = 1, .max = 10000 },
	{ .name = "types", .type = CFG_STRLIST, .off = SINK_OFF(types) },
	{ .name = "sources", .type = CFG_STRLIST, .off = SINK_OFF(sources) },
	{ .name = NULL }
};

static const struct cfg_key no_keys[] = { { .name = NULL } };

/* Each name under the sink's `types:` must be an event type. */
static void
sink_check_types(const struct cfg_node *item, struct cfg_errors *errs)
{
	const struct cfg_node	*list = cfg_node_get(item, "types"), *t;
	struct cfg_suggest	 sg;
	size_t			 i, j;

	if (list == NULL || list->kind != CFG_SEQ)
		return;
	if (list->n == 0) {
		cfg_error(errs, list, "types of %s must name at least one "
		    "event type (or leave types out: every type)",
		    errs->where);
		return;
	}
	for (i = 0; i < list->n; i++) {
		t = list->items[i];
		if (t->kind != CFG_SCALAR)
			continue;
		cfg_suggest_init(&sg, t->value);
		for (j = 0; event_type_names[j] != NULL; j++) {
			if (strcmp(t->value, event_type_names[j]) == 0)
				break;
			cfg_suggest_try(&sg, event_type_names[j]);
		}
		if (event_type_names[j] != NULL)
			continue;
		if (cfg_suggest_best(&sg) != NULL)
			cfg_error(errs, t, "types of %s: unknown event type "
			    "\"%s\" (did you mean \"%s\"?)", errs->where,
			    t->value, cfg_suggest_best(&sg));
		else
			cfg_error(errs, t, "types of %s: unknown event type "
			    "\"%s\"; the types are artifact.created and "
			    "artifact.updated", errs->where, t->value);
	}
}

static void
sink_load(struct config *conf, struct sink_conf *sc,
    const struct cfg_node *item, size_t i, struct cfg_errors *errs)
{
	char			*where;
	size_t			 before = errs->n;

	where = config_entry_where("sink", "sinks", i, item);
	errs->where = where;
	sc->node = item;
	if (cfg_apply_at(sink_keys, sc, item, item, NULL, errs) != 0 &&
	    item->kind != CFG_MAP)
		goto out;
	CONFIG_CHECK_ID("sink", conf->sinks, i, errs);
	sink_check_types(item, errs);
	if (sc->type == NULL)
		goto out;
	if ((sc->entry = sink_find(sc->type)) == NULL) {
		config_unknown_type(TYPE_SINK, cfg_node_get(item, "type"),
		    where, errs);
		goto out;
	}
	if (sc->max_inflight > 1 && sc->entry->max_inflight == 0)
		cfg_error(errs, cfg_node_get(item, "maxInFlight"), "maxInFlight "
		    "of %s: a %s sink delivers one event at a time", where,
		    sc->entry->name);
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
}
