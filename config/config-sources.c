/*
 * config-sources.c: the `connectors:` and `sources:` blocks.  Both are the
 * Harness YAML users already have (a connector is a `connector:` block, a
 * source an artifact-source entry), so the Harness keys that mean nothing
 * here (orgIdentifier, projectIdentifier, tags, executeOnDelegate, ...) are
 * accepted and ignored.  The provider of each type supplies the keys of the
 * `spec:`; the generic parts are read here: the source's watch fields and
 * its spec.connectorRef, which must name a connector of the type the
 * provider needs.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "order.h"
#include "connector.h"
#include "provider.h"

#define CONN_OFF(f)	offsetof(struct connector_conf, f)
#define SRC_OFF(f)	offsetof(struct source_conf, f)

/* One entry of connectors: holds one `connector:` block. */
static const struct cfg_key connector_entry_keys[] = {
	{ .name = "connector", .type = CFG_NODE, .off = CONN_OFF(node),
	  .flags = CFG_REQUIRED },
	{ .name = NULL }
};

static const struct cfg_key connector_rate_keys[] = {
	{ .name = "requestsPerSecond", .type = CFG_NUMBER,
	  .off = CONN_OFF(rate.rps), .def = "0", .max = 100000 },
	{ .name = "burst", .type = CFG_INT, .off = CONN_OFF(rate.burst),
	  .def = "1", .min = 1, .max = 100000 },
	{ .name = NULL }
};

static const struct cfg_key connector_keys[] = {
	{ .name = "identifier", .type = CFG_STRING, .off = CONN_OFF(id),
	  .flags = CFG_REQUIRED },
	{ .name = "name", .type = CFG_IGNORE },
	{ .name = "description", .type = CFG_IGNORE },
	{ .name = "orgIdentifier", .type = CFG_IGNORE },
	{ .name = "projectIdentifier", .type = CFG_IGNORE },
	{ .name = "tags", .type = CFG_IGNORE },
	{ .name = "type", .type = CFG_STRING, .off = CONN_OFF(type),
	  .flags = CFG_REQUIRED },
	{ .name = "spec", .type = CFG_NODE, .off = CONN_OFF(spec),
	  .flags = CFG_REQUIRED },
	/* Politeness (docs/politeness.md), shared by its sources. */
	{ .name = "rateLimit", .type = CFG_OBJECT, .sub = connector_rate_keys },
	{ .name = "maxConcurrency", .type = CFG_INT,
	  .off = CONN_OFF(max_concurrency), .def = "0", .min = 0,
	  .max = 10000 },
	{ .name = "maxRetryWait", .type = CFG_DURATION,
	  .off = CONN_OFF(max_retry_wait_ms), .def = "60s" },
	/* TLS and proxy (docs/config.md), for every request it makes. */
	CFG_TLS_KEYS(struct connector_conf, tls),
	{ .name = NULL }
};

/* In the order of enum order_kind, enum burst_action. */
static const char *const order_names[] = {
	"none", "semver", "numeric", "alphabetical", "pushed", NULL
};
static const char *const prerelease_names[] = { "exclude", "include", NULL };
static const char *const burst_names[] = {
	"emitNewest", "fastForward", "hold", NULL
};

static const struct cfg_key source_keys[] = {
	{ .name = "identifier", .type = CFG_STRING, .off = SRC_OFF(id),
	  .flags = CFG_REQUIRED },
	{ .name = "name", .type = CFG_IGNORE },
	{ .name = "description", .type = CFG_IGNORE },
	{ .name = "type", .type = CFG_STRING, .off = SRC_OFF(type),
	  .flags = CFG_REQUIRED },
	{ .name = "spec", .type = CFG_NODE, .off = SRC_OFF(spec),
	  .flags = CFG_REQUIRED },
	{ .name = "interval", .type = CFG_DURATION, .off = SRC_OFF(interval_ms),
	  .def = "1m", .min = 1000 },
	{ .name = "maxTags", .type = CFG_INT, .off = SRC_OFF(max_tags),
	  .def = "10000", .min = 1, .max = 1000000 },
	{ .name = "emitExisting", .type = CFG_BOOL,
	  .off = SRC_OFF(emit_existing), .def = "false" },
	{ .name = "fetchLabels", .type = CFG_BOOL,
	  .off = SRC_OFF(fetch_labels), .def = "false" },
	{ .name = "digestCheckInterval", .type = CFG_DURATION,
	  .off = SRC_OFF(digest_check_ms), .def = "1h" },
	{ .name = "digestChecksPerPoll", .type = CFG_INT,
	  .off = SRC_OFF(digest_checks), .def = "20", .min = 0,
	  .max = 100000 },
	{ .name = "order", .type = CFG_ENUM, .off = SRC_OFF(order),
	  .def = "none", .choices = order_names },
	{ .name = "prereleases", .type = CFG_ENUM, .off = SRC_OFF(prereleases),
	  .def = "exclude", .choices = prerelease_names },
	{ .name = "includeSignatures", .type = CFG_BOOL,
	  .off = SRC_OFF(include_signatures), .def = "false" },
	{ .name = "burstLimit", .type = CFG_INT, .off = SRC_OFF(burst_limit),
	  .def = "100", .min = 1, .max = 1000000 },
	{ .name = "burstAction", .type = CFG_ENUM, .off = SRC_OFF(burst_action),
	  .def = "emitNewest", .choices = burst_names },
	{ .name = "mutableTagRegex", .type = CFG_STRING,
	  .off = SRC_OFF(mutable_tag_regex) },
	{ .name = NULL }
};

/*
 * The digest-check keys of a source of re-pointable tags (PROVIDER_TAGS),
 * in its spec: no defaults here, so that values read at the top level (the
 * older place, still accepted) stay unless the spec sets them.
 */
static const struct cfg_key source_tag_keys[] = {
	{ .name = "fetchLabels", .type = CFG_BOOL,
	  .off = SRC_OFF(fetch_labels) },
	{ .name = "digestCheckInterval", .type = CFG_DURATION,
	  .off = SRC_OFF(digest_check_ms) },
	{ .name = "digestChecksPerPoll", .type = CFG_INT,
	  .off = SRC_OFF(digest_checks), .min = 0, .max = 100000 },
	{ .name = "includeSignatures", .type = CFG_BOOL,
	  .off = SRC_OFF(include_signatures) },
	{ .name = "mutableTagRegex", .type = CFG_STRING,
	  .off = SRC_OFF(mutable_tag_regex) },
	{ .name = NULL }
};

/* spec keys every source type has; read here, not by the provider. */
static const struct cfg_key source_filter_keys[] = {
	{ .name = "tagRegex", .type = CFG_STRING, .off = SRC_OFF(tag_regex) },
	{ .name = "tagRegexExclude", .type = CFG_STRING,
	  .off = SRC_OFF(tag_regex_exclude) },
	{ .name = NULL }
};

/* Spec keys every connector accepts, and the one the loader reads. */
static const char *const connector_generic[] = {
	"executeOnDelegate", "delegateSelectors", NULL
};
static const char *const source_generic[] = {
	"connectorRef", "tagRegex", "tagRegexExclude", NULL
};
static const char *const source_tag_generic[] = {
	"connectorRef", "tagRegex", "tagRegexExclude", "fetchLabels",
	"digestCheckInterval", "digestChecksPerPoll", "includeSignatures",
	"mutableTagRegex", NULL
};
static const char *const no_generic[] = { NULL };

static const struct cfg_key *
key_find(const struct cfg_key *keys, const char *name)
{
	for (; keys->name != NULL; keys++) {
		if (strcmp(keys->name, name) == 0)
			return (keys);
	}
	return (NULL);
}

/*
 * Applies a provider's keys to a spec, leaving out the generic keys the
 * provider does not list itself (they are the loader's, not unknown).
 */
static int
spec_apply(const struct cfg_key *keys, void *data, const struct cfg_node *spec,
    const struct cfg_node *parent, const char *const *generic,
    struct cfg_errors *errs)
{
	struct cfg_node	 copy;
	size_t		 i, j;
	int		 n;

	if (spec == NULL || spec->kind != CFG_MAP)
		return (cfg_apply_at(keys, data, spec, parent, "spec", errs));
	copy = *spec;
	copy.keys = xcalloc(spec->n, sizeof *copy.keys);
	copy.items = xcalloc(spec->n, sizeof *copy.items);
	copy.n = 0;
	for (i = 0; i < spec->n; i++) {
		for (j = 0; generic[j] != NULL; j++) {
			if (strcmp(spec->keys[i]->value, generic[j]) == 0 &&
			    key_find(keys, generic[j]) == NULL)
				break;
		}
		if (generic[j] != NULL)
			continue;
		copy.keys[copy.n] = spec->keys[i];
		copy.items[copy.n++] = spec->items[i];
	}
	n = cfg_apply_at(keys, data, &copy, parent, "spec", errs);
	free(copy.keys);
	free(copy.items);
	return (n);
}

static void
connector_load(struct config *conf, struct connector_conf *cc,
    const struct cfg_node *item, size_t i, struct cfg_errors *errs)
{
	char			*where;

	xasprintf(&where, "connectors[%zu]", i);
	if (item->kind == CFG_MAP && cfg_node_get(item, "connector") == NULL) {
		cfg_error(errs, item, "%s must be a \"connector:\" block, as "
		    "Harness writes it: put its keys under \"connector:\"",
		    where);
		free(where);
		return;
	}
	errs->where = where;
	cfg_apply(connector_entry_keys, cc, item, errs);
	errs->where = NULL;
	free(where);
	if (cc->node == NULL)
		return;

	where = config_entry_where("connector", "connectors", i, cc->node);
	errs->where = where;
	if (cfg_apply_at(connector_keys, cc, cc->node, item, NULL, errs) != 0 &&
	    cc->node->kind != CFG_MAP)
		goto out;
	CONFIG_CHECK_ID("connector", conf->connectors, i, errs);
	config_tls_check(&cc->tls, cc->node, where, errs);
	if (cc->type == NULL)
		goto out;
	if ((cc->entry = connector_find(cc->type)) == NULL) {
		config_unknown_type(TYPE_CONNECTOR,
		    cfg_node_get(cc->node, "type"), where, errs);
		goto out;
	}
	cc->data = xcalloc(1, cc->entry->size);
	if (cc->spec != NULL &&
	    spec_apply(cc->entry->keys, cc->data, cc->spec, cc->node,
	    connector_generic, errs) == 0 && cc->entry->check != NULL)
		cc->entry->check(cc, errs);
out:
	errs->where = NULL;
	free(where);
}

void
config_load_connectors(struct config *conf, const struct cfg_node *root,
    struct cfg_errors *errs)
{
	const struct cfg_node	*list = config_list(root, "connectors", errs);
	size_t			 i;

	if (list == NULL)
		return;
	conf->connectors = xcalloc(list->n, sizeof *conf->connectors);
	for (i = 0; i < list->n; i++) {
		conf->nconnectors++;
		connector_load(conf, &conf->connectors[i], list->items[i], i,
		    errs);
	}
}

/* spec.connectorRef: names a configured connector of the right type. */
static void
source_connector(struct config *conf, struct source_conf *sc,
    struct cfg_errors *errs)
{
	const struct cfg_key	*k;
	const struct cfg_node	*ref = cfg_node_get(sc->spec, "connectorRef");
	struct cfg_suggest	 sg;
	size_t			 i;

	k = key_find(sc->entry->source_keys, "connectorRef");
	if (ref == NULL || cfg_node_is_null(ref)) {
		if (ref == NULL && (k == NULL || !(k->flags & CFG_REQUIRED)))
			cfg_error(errs, sc->spec, "missing required key "
			    "\"connectorRef\" in spec of %s", errs->where);
		return;
	}
	if (ref->kind != CFG_SCALAR) {
		if (k == NULL)
			cfg_error(errs, ref, "spec.connectorRef of %s must be "
			    "a string, not %s", errs->where,
			    cfg_node_kind_name(ref));
		return;
	}
	cfg_suggest_init(&sg, ref->value);
	for (i = 0; i < conf->nconnectors; i++) {
		if (conf->connectors[i].id == NULL)
			continue;
		if (strcmp(conf->connectors[i].id, ref->value) == 0)
			break;
		cfg_suggest_try(&sg, conf->connectors[i].id);
	}
	if (i == conf->nconnectors) {
		if (cfg_suggest_best(&sg) != NULL)
			cfg_error(errs, ref, "spec.connectorRef of %s: no "
			    "connector \"%s\" (did you mean \"%s\"?)",
			    errs->where, ref->value, cfg_suggest_best(&sg));
		else
			cfg_error(errs, ref, "spec.connectorRef of %s: no "
			    "connector \"%s\" under connectors:", errs->where,
			    ref->value);
		return;
	}
	sc->connector = &conf->connectors[i];
	sc->connector_ref = xstrdup(ref->value);
	if (sc->connector->type != NULL &&
	    strcmp(sc->connector->type, sc->entry->connector) != 0)
		cfg_error(errs, ref, "spec.connectorRef of %s: connector "
		    "\"%s\" is of type %s, but a %s source needs a %s "
		    "connector", errs->where, ref->value, sc->connector->type,
		    sc->type, sc->entry->connector);
}

/*
 * spec.tagRegex and spec.tagRegexExclude: read for every source type and
 * compiled now, so that `check` reports a bad pattern at its position.
 */
/* Apply `keys` to the members of the spec they name, and to no other. */
static void
spec_apply_only(const struct cfg_key *keys, struct source_conf *sc,
    struct cfg_errors *errs)
{
	struct cfg_node	 copy;
	size_t		 i;

	copy = *sc->spec;
	copy.keys = xcalloc(sc->spec->n + 1, sizeof *copy.keys);
	copy.items = xcalloc(sc->spec->n + 1, sizeof *copy.items);
	copy.n = 0;
	for (i = 0; i < sc->spec->n; i++) {
		if (key_find(keys, sc->spec->keys[i]->value) == NULL)
			continue;
		copy.keys[copy.n] = sc->spec->keys[i];
		copy.items[copy.n++] = sc->spec->items[i];
	}
	cfg_apply_at(keys, sc, &copy, sc->node, "spec", errs);
	free(copy.keys);
	free(copy.items);
}

/* mutableTagRegex compiles (checked where it was written). */
static void
source_mutable(struct source_conf *sc, struct cfg_errors *errs)
{
	const struct cfg_node	*n;
	struct filter_conf	 fc;
	struct filter		*f;
	char			*cause;

	if (sc->mutable_tag_regex == NULL)
		return;
	memset(&fc, 0, sizeof fc);
	fc.include = sc->mutable_tag_regex;
	if ((f = filter_create(&fc, &cause)) != NULL) {
		filter_free(f);
		return;
	}
	if ((n = cfg_node_get(sc->spec, "mutableTagRegex")) == NULL)
		n = cfg_node_get(sc->node, "mutableTagRegex");
	cfg_error(errs, n, "%s: mutableTagRegex: %s", errs->where, cause);
	free(cause);
}

static void
source_filters(struct source_conf *sc, struct cfg_errors *errs)
{
	static const char *const names[] = { "tagRegex", "tagRegexExclude" };
	const struct cfg_node	*n;
	struct cfg_node		 copy;
	struct filter_conf	 fc;
	struct filter		*f;
	char			*cause;
	size_t			 i, k;

	copy = *sc->spec;
	copy.keys = xcalloc(sc->spec->n, sizeof *copy.keys);
	copy.items = xcalloc(sc->spec->n, sizeof *copy.items);
	copy.n = 0;
	for (i = 0; i < sc->spec->n; i++) {
		for (k = 0; k < nitems(names); k++) {
			if (strcmp(sc->spec->keys[i]->value, names[k]) == 0) {
				copy.keys[copy.n] = sc->spec->keys[i];
				copy.items[copy.n++] = sc->spec->items[i];
			}
		}
	}
	cfg_apply_at(source_filter_keys, sc, &copy, sc->node, "spec", errs);
	free(copy.keys);
	free(copy.items);

	for (k = 0; k < nitems(names); k++) {
		memset(&fc, 0, sizeof fc);
		if (k == 0)
			fc.include = sc->tag_regex;
		else
			fc.exclude = sc->tag_regex_exclude;
		if (fc.include == NULL && fc.exclude == NULL)
			continue;
		if ((f = filter_create(&fc, &cause)) != NULL) {
			filter_free(f);
			continue;
		}
		n = cfg_node_get(sc->spec, names[k]);
		cfg_error(errs, n, "%s: spec.%s", errs->where, cause);
		free(cause);
	}
}

/*
 * A source type served through several connector types (HelmChart on an
 * HttpHelmRepo or an OciHelmRepo): the entry of the connector its
 * connectorRef names; else the first entry of the type (whose connector
 * type the error names).
 */
static const struct provider_entry *
source_entry_for(const struct config *conf, const struct source_conf *sc)
{
	const struct provider_entry	*e;
	const struct cfg_node		*ref;
	size_t				 i;

	ref = cfg_node_get(sc->spec, "connectorRef");
	if (ref == NULL || ref->kind != CFG_SCALAR)
		return (sc->entry);
	for (i = 0; i < conf->nconnectors; i++) {
		if (conf->connectors[i].id == NULL ||
		    conf->connectors[i].type == NULL ||
		    strcmp(conf->connectors[i].id, ref->value) != 0)
			continue;
		e = provider_find_for(sc->type, conf->connectors[i].type);
		return (e != NULL ? e : sc->entry);
	}
	return (sc->entry);
}

static void
source_load(struct config *conf, struct source_conf *sc,
    const struct cfg_node *item, size_t i, struct cfg_errors *errs)
{
	char			*where;
	size_t			 before = errs->n;

	where = config_entry_where("source", "sources", i, item);
	errs->where = where;
	sc->node = item;
	if (cfg_apply_at(source_keys, sc, item, item, NULL, errs) != 0 &&
	    item->kind != CFG_MAP)
		goto out;
	CONFIG_CHECK_ID("source", conf->sources, i, errs);
	if (sc->type == NULL)
		goto out;
	if ((sc->entry = provider_find(sc->type)) == NULL) {
		config_unknown_type(TYPE_SOURCE, cfg_node_get(item, "type"),
		    where, errs);
		goto out;
	}
	sc->entry = source_entry_for(conf, sc);
	sc->data = xcalloc(1, sc->entry->source_size);
	if (sc->spec == NULL)
		goto out;
	spec_apply(sc->entry->source_keys, sc->data, sc->spec, item,
	    (sc->entry->flags & PROVIDER_TAGS) ? source_tag_generic :
	    sc->entry->connector != NULL ? source_generic : no_generic, errs);
	if (sc->spec->kind == CFG_MAP && sc->entry->connector != NULL)
		source_connector(conf, sc, errs);
	if (sc->spec->kind == CFG_MAP)
		source_filters(sc, errs);
	if (sc->spec->kind == CFG_MAP && (sc->entry->flags & PROVIDER_TAGS))
		spec_apply_only(source_tag_keys, sc, errs);
	if (sc->spec->kind == CFG_MAP)
		source_mutable(sc, errs);
	if (errs->n == before && sc->entry->check != NULL)
		sc->entry->check(sc, errs);
out:
	errs->where = NULL;
	free(where);
}

/* A source block at index i of conf->sources (a Harness trigger's too). */
void
config_load_source(struct config *conf, struct source_conf *sc,
    const struct cfg_node *item, size_t i, struct cfg_errors *errs)
{
	source_load(conf, sc, item, i, errs);
}

void
config_load_sources(struct config *conf, const struct cfg_node *root,
    struct cfg_errors *errs)
{
	const struct cfg_node	*list = config_list(root, "sources", errs);
	size_t			 i;

	if (list == NULL)
		return;
	conf->sources = xcalloc(list->n, sizeof *conf->sources);
	for (i = 0; i < list->n; i++) {
		conf->nsources++;
		source_load(conf, &conf->sources[i], list->items[i], i, errs);
	}
}

/* What config_free() needs of this file. */
void
config_free_sources(struct config *conf)
{
	struct connector_conf	*cc;
	struct source_conf	*sc;
	size_t			 i;

	for (i = 0; i < conf->nsources; i++) {
		sc = &conf->sources[i];
		if (sc->entry != NULL && sc->data != NULL)
			cfg_free(sc->entry->source_keys, sc->data);
		free(sc->data);
		free(sc->connector_ref);
		cfg_free(source_filter_keys, sc);
		cfg_free(source_keys, sc);
	}
	free(conf->sources);
	for (i = 0; i < conf->nconnectors; i++) {
		cc = &conf->connectors[i];
		if (cc->entry != NULL && cc->data != NULL)
			cfg_free(cc->entry->keys, cc->data);
		free(cc->data);
		cfg_free(connector_keys, cc);
	}
	free(conf->connectors);
}
