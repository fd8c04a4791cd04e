/*
 * config-trigger.c: the `triggers:` block (DESIGN §3).  An entry is either
 * our own trigger {identifier, sources, sinks, conditions} or a Harness
 * trigger (`trigger:` with an Artifact source) pasted unchanged.  A Harness
 * trigger becomes a source of the same identifier (watching its artifact,
 * built from its spec and loaded like any source) plus a trigger from that
 * source to the sinks of an added `sinks:` key, or to every sink.
 *
 * Conditions are compiled here, so an unknown operator, key or a regex that
 * does not compile is an error at its FILE:LINE:COL.  Keys that would change
 * what fires but cannot be honoured here (jexlCondition, a non-Artifact
 * source, a runtime input) are errors, never silently dropped; keys that
 * only describe the Harness pipeline to run are accepted and ignored.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "cond.h"
#include "template.h"

#define TRIG_OFF(f)	offsetof(struct trigger_conf, f)
#define COND_OFF(f)	offsetof(struct cond_conf, f)

/* The expression Harness writes for "whatever version arrived". */
#define HARNESS_BUILD	"<+trigger.artifact.build>"

static const struct cfg_key trigger_keys[] = {
	{ .name = "identifier", .type = CFG_STRING, .off = TRIG_OFF(id),
	  .flags = CFG_REQUIRED },
	{ .name = "name", .type = CFG_IGNORE },
	{ .name = "description", .type = CFG_IGNORE },
	{ .name = "enabled", .type = CFG_BOOL, .off = TRIG_OFF(enabled),
	  .def = "true" },
	{ .name = "sources", .type = CFG_STRLIST, .off = TRIG_OFF(sources),
	  .flags = CFG_REQUIRED },
	{ .name = "sinks", .type = CFG_STRLIST, .off = TRIG_OFF(sinks),
	  .flags = CFG_REQUIRED },
	{ .name = "eventConditions", .type = CFG_IGNORE },
	{ .name = "metadataConditions", .type = CFG_IGNORE },
	{ .name = "metaDataConditions", .type = CFG_IGNORE },
	{ .name = NULL }
};

/* The source watch fields a Harness trigger may carry for its source. */
static const char *const harness_watch_keys[] = {
	"interval", "maxTags", "emitExisting", "fetchLabels",
	"digestCheckInterval", "digestChecksPerPoll", NULL
};

/* A Harness `trigger:` block. */
static const struct cfg_key harness_keys[] = {
	{ .name = "identifier", .type = CFG_STRING, .off = TRIG_OFF(id),
	  .flags = CFG_REQUIRED },
	{ .name = "enabled", .type = CFG_BOOL, .off = TRIG_OFF(enabled),
	  .def = "true" },
	{ .name = "sinks", .type = CFG_STRLIST, .off = TRIG_OFF(sinks) },
	{ .name = "source", .type = CFG_IGNORE },
	/* What Harness would run; here the sinks get the event instead. */
	{ .name = "name", .type = CFG_IGNORE },
	{ .name = "description", .type = CFG_IGNORE },
	{ .name = "tags", .type = CFG_IGNORE },
	{ .name = "orgIdentifier", .type = CFG_IGNORE },
	{ .name = "projectIdentifier", .type = CFG_IGNORE },
	{ .name = "pipelineIdentifier", .type = CFG_IGNORE },
	{ .name = "pipelineBranchName", .type = CFG_IGNORE },
	{ .name = "stagesToExecute", .type = CFG_IGNORE },
	{ .name = "inputYaml", .type = CFG_IGNORE },
	{ .name = "inputSetRefs", .type = CFG_IGNORE },
	/* Copied to the source (harness_watch_keys). */
	{ .name = "interval", .type = CFG_IGNORE },
	{ .name = "maxTags", .type = CFG_IGNORE },
	{ .name = "emitExisting", .type = CFG_IGNORE },
	{ .name = "fetchLabels", .type = CFG_IGNORE },
	{ .name = "digestCheckInterval", .type = CFG_IGNORE },
	{ .name = "digestChecksPerPoll", .type = CFG_IGNORE },
	{ .name = NULL }
};

/* trigger.source, trigger.source.spec: read into this. */
struct harness_source {
	char			*type;
	const struct cfg_node	*spec;
	char			*poll_interval;
	char			*artifact_type;
	const struct cfg_node	*artifact_spec;
};
#define HS_OFF(f)	offsetof(struct harness_source, f)
static const struct cfg_key harness_source_keys[] = {
	{ .name = "type", .type = CFG_STRING, .off = HS_OFF(type),
	  .flags = CFG_REQUIRED },
	{ .name = "spec", .type = CFG_NODE, .off = HS_OFF(spec),
	  .flags = CFG_REQUIRED },
	{ .name = "pollInterval", .type = CFG_STRING,
	  .off = HS_OFF(poll_interval) },
	{ .name = "webhookId", .type = CFG_IGNORE },
	{ .name = NULL }
};
static const struct cfg_key harness_artifact_keys[] = {
	{ .name = "type", .type = CFG_STRING, .off = HS_OFF(artifact_type),
	  .flags = CFG_REQUIRED },
	{ .name = "spec", .type = CFG_NODE, .off = HS_OFF(artifact_spec),
	  .flags = CFG_REQUIRED },
	{ .name = NULL }
};

/* The keys of the artifact spec that belong to the trigger, not the source. */
static const char *const harness_trigger_only[] = {
	"eventConditions", "metaDataConditions", "metadataConditions",
	"jexlCondition", NULL
};

/* One {key, operator, value}. */
struct cond_conf {
	char	*key;
	char	*op;
	char	*value;
};
static const struct cfg_key cond_keys[] = {
	{ .name = "key", .type = CFG_STRING, .off = COND_OFF(key),
	  .flags = CFG_REQUIRED },
	{ .name = "operator", .type = CFG_STRING, .off = COND_OFF(op),
	  .flags = CFG_REQUIRED },
	{ .name = "value", .type = CFG_STRING, .off = COND_OFF(value),
	  .flags = CFG_REQUIRED },
	{ .name = NULL }
};

static int
word_in(const char *const *words, const char *w)
{
	for (; *words != NULL; words++) {
		if (strcmp(*words, w) == 0)
			return (1);
	}
	return (0);
}

/* "build" (Harness), "tag", "version", or the expression: the version. */
static int
cond_key_is_version(const char *key)
{
	static const char *const names[] = {
		"build", "tag", "version", HARNESS_BUILD, NULL
	};

	return (word_in(names, key));
}

/* The operator; an error (with a suggestion) when it is not one. */
static int
cond_load_op(const struct cfg_node *at, const char *what, const char *op,
    enum cond_op *out, struct cfg_errors *errs)
{
	const char	*best;

	if (cond_op_parse(op, out) == 0)
		return (0);
	if ((best = cond_op_suggest(op)) != NULL)
		cfg_error(errs, at, "%s: unknown operator \"%s\" (did you mean "
		    "\"%s\"?)", what, op, best);
	else
		cfg_error(errs, at, "%s: unknown operator \"%s\" (operators: "
		    "Equals, NotEquals, In, NotIn, StartsWith, EndsWith, "
		    "Contains, Regex)", what, op);
	return (-1);
}

/* One condition of list `name`; added to tc->conds when it is good. */
static void
cond_load(struct trigger_conf *tc, const char *name, int version,
    const struct cfg_node *item, size_t i, struct cfg_errors *errs)
{
	struct cond_conf	 cc;
	struct expr		*key;
	struct cond		*c;
	enum cond_op		 op;
	char			*path, *what, *cause;
	size_t			 off;
	unsigned		 line, col;
	int			 n;

	memset(&cc, 0, sizeof cc);
	xasprintf(&path, "%s[%zu]", name, i);
	xasprintf(&what, "%s of %s", path, errs->where);
	n = cfg_apply_at(cond_keys, &cc, item, item, path, errs);
	free(path);
	if (n != 0 || item->kind != CFG_MAP)
		goto out;
	if (version && !cond_key_is_version(cc.key)) {
		cfg_error(errs, cfg_node_get(item, "key"), "%s: key \"%s\" is "
		    "not the version: eventConditions take key \"build\" "
		    "(or \"tag\", \"version\"); conditions on other fields go "
		    "under metadataConditions", what, cc.key);
		goto out;
	}
	if (cond_load_op(cfg_node_get(item, "operator"), what, cc.op, &op,
	    errs) != 0)
		goto out;
	key = expr_compile(version ? "build" : cc.key, version ? 5 :
	    strlen(cc.key), EXPR_PLAIN, &cause);
	if (key == NULL) {
		cfg_error(errs, cfg_node_get(item, "key"), "%s: %s", what,
		    cause);
		free(cause);
		goto out;
	}
	c = cond_create(version ? "the version" : cfg_node_get(item,
	    "key")->value, key, op, cc.value, &off, &cause);
	if (c == NULL) {
		template_pos(errs->file, cfg_node_get(item, "value"), off,
		    &line, &col);
		cfg_error_at(errs, line, col, "%s: %s", what, cause);
		free(cause);
		goto out;
	}
	if (tc->conds == NULL)
		tc->conds = xcalloc(1, sizeof *tc->conds);
	cond_list_add(tc->conds, c);
out:
	cfg_free(cond_keys, &cc);
	free(what);
}

/*
 * The conditions of a trigger (or a Harness artifact spec) in `map`:
 * eventConditions, and metadataConditions under either spelling.
 */
static void
conds_load(struct trigger_conf *tc, const struct cfg_node *map,
    const char *path, struct cfg_errors *errs)
{
	static const char *const lists[] = {
		"eventConditions", "metadataConditions", "metaDataConditions"
	};
	const struct cfg_node	*list;
	char			*name;
	size_t			 i, j;

	if (cfg_node_get(map, lists[1]) != NULL &&
	    cfg_node_get(map, lists[2]) != NULL)
		cfg_error(errs, cfg_node_get(map, lists[2]), "%s has both "
		    "metadataConditions and metaDataConditions; keep one",
		    errs->where);
	for (i = 0; i < nitems(lists); i++) {
		list = cfg_node_get(map, lists[i]);
		if (list == NULL || cfg_node_is_null(list))
			continue;
		if (path != NULL)
			xasprintf(&name, "%s.%s", path, lists[i]);
		else
			name = xstrdup(lists[i]);
		if (list->kind != CFG_SEQ)
			cfg_error(errs, list, "%s of %s must be a list of "
			    "{key, operator, value}, not %s", name,
			    errs->where, cfg_node_kind_name(list));
		for (j = 0; list->kind == CFG_SEQ && j < list->n; j++)
			cond_load(tc, name, i == 0, list->items[j], j, errs);
		free(name);
	}
}

/*
 * Each name in the `key:` list of map (a trigger, or a sink's `sources:`)
 * must be a source (or sink) id.
 */
static void
trigger_names(const struct config *conf, const struct cfg_node *map,
    const char *key, struct cfg_errors *errs)
{
	const struct cfg_node	*list = cfg_node_get(map, key), *name;
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
    const struct cfg_node *item, struct cfg_errors *errs)
{
	if (cfg_apply_at(trigger_keys, tc, item, item, NULL, errs) != 0 &&
	    item->kind != CFG_MAP)
		return;
	trigger_names(conf, item, "sources", errs);
	trigger_names(conf, item, "sinks", errs);
	conds_load(tc, item, NULL, errs);
}

static struct cfg_node *
node_copy(const struct cfg_node *n)
{
	struct cfg_node	*c;
	size_t		 i;

	c = xcalloc(1, sizeof *c);
	c->kind = n->kind;
	c->quoted = n->quoted;
	c->line = n->line;
	c->col = n->col;
	if (n->value != NULL)
		c->value = xstrdup(n->value);
	if (n->n != 0) {
		c->items = xcalloc(n->n, sizeof *c->items);
		if (n->kind == CFG_MAP)
			c->keys = xcalloc(n->n, sizeof *c->keys);
	}
	for (i = 0; i < n->n; i++) {
		c->items[i] = node_copy(n->items[i]);
		if (n->kind == CFG_MAP)
			c->keys[i] = node_copy(n->keys[i]);
	}
	c->n = n->n;
	return (c);
}

static struct cfg_node *
node_scalar(const char *value, const struct cfg_node *at)
{
	struct cfg_node	*c;

	c = xcalloc(1, sizeof *c);
	c->kind = CFG_SCALAR;
	c->value = xstrdup(value);
	c->line = at->line;
	c->col = at->col;
	return (c);
}

static struct cfg_node *
node_map(const struct cfg_node *at)
{
	struct cfg_node	*c;

	c = xcalloc(1, sizeof *c);
	c->kind = CFG_MAP;
	c->line = at->line;
	c->col = at->col;
	return (c);
}

/* Adds key: value (taken) to a map made here. */
static void
node_put(struct cfg_node *map, struct cfg_node *key, struct cfg_node *value)
{
	map->keys = xreallocarray(map->keys, map->n + 1, sizeof *map->keys);
	map->items = xreallocarray(map->items, map->n + 1,
	    sizeof *map->items);
	map->keys[map->n] = key;
	map->items[map->n++] = value;
}

/*
 * The source's spec: the artifact spec without the trigger's keys and
 * without the fields Harness fills at run time with the arriving version
 * (`tag: <+trigger.artifact.build>`); any other runtime input cannot be
 * watched and is an error.
 */
static struct cfg_node *
harness_source_spec(const struct cfg_node *aspec, struct cfg_errors *errs)
{
	struct cfg_node		*spec;
	const struct cfg_node	*k, *v;
	size_t			 i;

	spec = node_map(aspec);
	for (i = 0; i < aspec->n; i++) {
		k = aspec->keys[i];
		v = aspec->items[i];
		if (word_in(harness_trigger_only, k->value))
			continue;
		if (v->kind == CFG_SCALAR && strcmp(v->value,
		    HARNESS_BUILD) == 0)
			continue;
		if (v->kind == CFG_SCALAR && strstr(v->value, "<+") != NULL) {
			cfg_error(errs, v, "source.spec.spec.%s of %s is "
			    "\"%s\", an input Harness fills in at run time: "
			    "give the value itself (only %s, the arriving "
			    "version, is understood)", k->value, errs->where,
			    v->value, HARNESS_BUILD);
			continue;
		}
		node_put(spec, node_copy(k), node_copy(v));
	}
	return (spec);
}

/*
 * The source block a Harness trigger stands for: identifier, the artifact
 * type, its spec, and the watch fields written beside the trigger's keys.
 */
static struct cfg_node *
harness_source_node(const struct trigger_conf *tc, const struct cfg_node *trig,
    const struct harness_source *hs, struct cfg_errors *errs)
{
	const struct cfg_node	*at;
	struct cfg_node		*src;
	size_t			 i;

	src = node_map(trig);
	at = cfg_node_get(trig, "identifier");
	node_put(src, node_scalar("identifier", at), node_scalar(tc->id, at));
	at = cfg_node_get(hs->spec, "type");
	node_put(src, node_scalar("type", at), node_scalar(hs->artifact_type,
	    at));
	node_put(src, node_scalar("spec", hs->artifact_spec),
	    harness_source_spec(hs->artifact_spec, errs));
	for (i = 0; i < trig->n; i++) {
		if (word_in(harness_watch_keys, trig->keys[i]->value))
			node_put(src, node_copy(trig->keys[i]),
			    node_copy(trig->items[i]));
	}
	return (src);
}

/*
 * trigger.source: an Artifact source with an artifact spec, or -1 (and
 * errors).  Errors that leave the spec usable are added and return 0, so
 * the source is still checked and every error of the file is reported.
 */
static int
harness_source_read(const struct cfg_node *trig, struct harness_source *hs,
    struct cfg_errors *errs)
{
	const struct cfg_node	*source, *jexl;

	source = cfg_node_get(trig, "source");
	if (source == NULL || cfg_node_is_null(source)) {
		cfg_error(errs, trig, "missing required key \"source\" in %s",
		    errs->where);
		return (-1);
	}
	if (cfg_apply_at(harness_source_keys, hs, source, trig, "source",
	    errs) != 0)
		return (-1);
	if (strcmp(hs->type, "Artifact") != 0) {
		cfg_error(errs, cfg_node_get(source, "type"), "source.type of "
		    "%s is %s: only Artifact triggers mean something here "
		    "(the watcher finds new artifacts itself; it runs no "
		    "schedules and takes no Harness webhooks)", errs->where,
		    hs->type);
		return (-1);
	}
	if (hs->poll_interval != NULL && strcmp(hs->poll_interval, "0") != 0 &&
	    *hs->poll_interval != '\0')
		cfg_error(errs, cfg_node_get(source, "pollInterval"),
		    "source.pollInterval of %s: write the polling period as "
		    "\"interval:\" beside the trigger's identifier (e.g. "
		    "interval: 5m)", errs->where);
	if (cfg_apply_at(harness_artifact_keys, hs, hs->spec, source,
	    "source.spec", errs) != 0)
		return (-1);
	if (hs->artifact_spec->kind != CFG_MAP) {
		cfg_error(errs, hs->artifact_spec, "source.spec.spec of %s "
		    "must be a map, not %s", errs->where,
		    cfg_node_kind_name(hs->artifact_spec));
		return (-1);
	}
	jexl = cfg_node_get(hs->artifact_spec, "jexlCondition");
	if (jexl != NULL && !cfg_node_is_null(jexl) &&
	    (jexl->kind != CFG_SCALAR || *jexl->value != '\0'))
		cfg_error(errs, jexl, "source.spec.spec.jexlCondition of %s: "
		    "JEXL cannot be evaluated here; write it as "
		    "eventConditions or metaDataConditions", errs->where);
	return (0);
}

/* Every sink, for a Harness trigger without `sinks:`. */
static void
harness_all_sinks(const struct config *conf, struct trigger_conf *tc)
{
	size_t	 i;

	for (i = 0; i < conf->nsinks; i++) {
		if (conf->sinks[i].id == NULL)
			continue;
		tc->sinks.v = xreallocarray(tc->sinks.v, tc->sinks.n + 1,
		    sizeof *tc->sinks.v);
		tc->sinks.v[tc->sinks.n++] = xstrdup(conf->sinks[i].id);
	}
}

static void
harness_load(struct config *conf, struct trigger_conf *tc,
    const struct cfg_node *trig, struct cfg_errors *errs)
{
	struct harness_source	 hs;
	const char		*where = errs->where;

	memset(&hs, 0, sizeof hs);
	if (cfg_apply_at(harness_keys, tc, trig, trig, NULL, errs) != 0 &&
	    trig->kind != CFG_MAP)
		return;
	if (cfg_node_get(trig, "sinks") != NULL)
		trigger_names(conf, trig, "sinks", errs);
	else
		harness_all_sinks(conf, tc);
	if (harness_source_read(trig, &hs, errs) != 0 || tc->id == NULL)
		goto out;
	conds_load(tc, hs.artifact_spec, "source.spec.spec", errs);

	tc->made = harness_source_node(tc, trig, &hs, errs);
	conf->sources = xreallocarray(conf->sources, conf->nsources + 1,
	    sizeof *conf->sources);
	memset(&conf->sources[conf->nsources], 0, sizeof *conf->sources);
	config_load_source(conf, &conf->sources[conf->nsources], tc->made,
	    conf->nsources, errs);
	conf->nsources++;
	errs->where = where;
	tc->sources.v = xcalloc(1, sizeof *tc->sources.v);
	tc->sources.v[0] = xstrdup(tc->id);
	tc->sources.n = 1;
out:
	cfg_free(harness_source_keys, &hs);
	cfg_free(harness_artifact_keys, &hs);
}

/*
 * A Harness trigger: a list entry holding a `trigger:` block.  Keys beside
 * it are errors: ours (sinks, interval) go inside the block.
 */
static const struct cfg_node *
harness_block(const struct cfg_node *item, size_t i, struct cfg_errors *errs)
{
	const struct cfg_node	*block = cfg_node_get(item, "trigger");
	size_t			 j;

	if (block == NULL)
		return (NULL);
	for (j = 0; errs != NULL && j < item->n; j++) {
		if (strcmp(item->keys[j]->value, "trigger") != 0)
			cfg_error(errs, item->keys[j], "\"%s\" beside "
			    "\"trigger:\" in triggers[%zu]: put it inside the "
			    "trigger: block", item->keys[j]->value, i);
	}
	return (block);
}

void
config_load_triggers(struct config *conf, const struct cfg_node *root,
    struct cfg_errors *errs)
{
	const struct cfg_node	*list, *item, *block;
	struct trigger_conf	*tc;
	char			*where;
	size_t			 i, pass;

	if ((list = config_list(root, "triggers", errs)) == NULL)
		return;
	conf->triggers = xcalloc(list->n, sizeof *conf->triggers);
	conf->ntriggers = list->n;
	/* Harness triggers first: their sources may be named by others. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < list->n; i++) {
			item = list->items[i];
			block = harness_block(item, i, pass == 0 ? errs :
			    NULL);
			if ((block != NULL) != (pass == 0))
				continue;
			tc = &conf->triggers[i];
			tc->node = block != NULL ? block : item;
			where = config_entry_where("trigger", "triggers", i,
			    tc->node);
			errs->where = where;
			if (block != NULL)
				harness_load(conf, tc, block, errs);
			else
				trigger_load(conf, tc, item, errs);
			errs->where = NULL;
			free(where);
		}
	}
	for (i = 0; i < list->n; i++) {
		tc = &conf->triggers[i];
		if (tc->id == NULL)
			continue;
		CONFIG_CHECK_ID("trigger", conf->triggers, i, errs);
		if (!tc->enabled)
			log_info("trigger disabled: kept, routes nothing",
			    "trigger=%s", log_q(tc->id));
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

/* Could an event of src reach sink (conditions and types aside)? */
int
config_routes(const struct config *conf, const struct source_conf *src,
    const struct sink_conf *sink)
{
	const struct trigger_conf	*tc;
	size_t				 i;

	if (sink->sources.n != 0 && !strlist_has(&sink->sources, src->id))
		return (0);
	if (conf->ntriggers == 0)
		return (1);
	for (i = 0; i < conf->ntriggers; i++) {
		tc = &conf->triggers[i];
		if (tc->enabled && strlist_has(&tc->sources, src->id) &&
		    strlist_has(&tc->sinks, sink->id))
			return (1);
	}
	return (0);
}

void
config_check_sink_sources(struct config *conf, struct cfg_errors *errs)
{
	struct sink_conf	*sc;
	char			*where;
	size_t			 i;

	for (i = 0; i < conf->nsinks; i++) {
		sc = &conf->sinks[i];
		if (sc->node == NULL)
			continue;
		where = config_entry_where("sink", "sinks", i, sc->node);
		errs->where = where;
		trigger_names(conf, sc->node, "sources", errs);
		errs->where = NULL;
		free(where);
	}
}

void
config_free_triggers(struct config *conf)
{
	struct trigger_conf	*tc;
	size_t			 i;

	for (i = 0; i < conf->ntriggers; i++) {
		tc = &conf->triggers[i];
		cfg_free(trigger_keys, tc);
		if (tc->conds != NULL)
			cond_list_free(tc->conds);
		free(tc->conds);
		cfg_node_free(tc->made);
	}
	free(conf->triggers);
	conf->triggers = NULL;
	conf->ntriggers = 0;
}
