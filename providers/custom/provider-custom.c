/*
 * provider-custom.c: the CustomArtifact source type (Harness' shape): a
 * Bash script the user writes fetches a JSON document of artifacts; the
 * array at scripts.fetchAllArtifacts.artifactsArrayPath holds them, the
 * version of each at versionPath, its attributes become metadata, and
 * versionRegex filters the versions.
 *
 * Each poll runs the script in a child process off the event loop
 * (child.h): from a private directory (0700) holding the script, with a
 * clean environment plus its `inputs` (Secret inputs resolved) and
 * HARNESS_ARTIFACT_RESULT_PATH, the file it may write its JSON to instead
 * of stdout.  Its process group is killed at `timeout`, its stdout is
 * capped.  The script and the secrets never appear on a command line: the
 * command is `bash DIR/script.sh`.  A non-zero exit, bad JSON or a timeout
 * fails the poll with the last line of the script's stderr.  Kind `custom`.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "child.h"
#include "order.h"
#include "provider.h"
#include "provider-custom.h"

#define CUSTOM_MAX_OUT	(8 * 1024 * 1024)
#define RESULT_VAR	"HARNESS_ARTIFACT_RESULT_PATH"

#define SRC_OFF(f)	offsetof(struct custom_source, f)

static const struct cfg_key custom_inline_keys[] = {
	{ .name = "script", .type = CFG_STRING, .off = SRC_OFF(script) },
	{ .name = NULL }
};
static const struct cfg_key custom_source_src_keys[] = {
	{ .name = "type", .type = CFG_STRING, .off = SRC_OFF(source_type),
	  .def = "Inline" },
	{ .name = "spec", .type = CFG_OBJECT, .sub = custom_inline_keys },
	{ .name = NULL }
};
static const struct cfg_key custom_script_keys[] = {
	{ .name = "shell", .type = CFG_STRING, .off = SRC_OFF(shell),
	  .def = "Bash" },
	{ .name = "source", .type = CFG_OBJECT, .sub = custom_source_src_keys },
	{ .name = NULL }
};
static const struct cfg_key custom_fetch_keys[] = {
	{ .name = "artifactsArrayPath", .type = CFG_STRING,
	  .off = SRC_OFF(array_path) },
	{ .name = "versionPath", .type = CFG_STRING,
	  .off = SRC_OFF(version_path) },
	{ .name = "digestPath", .type = CFG_STRING,
	  .off = SRC_OFF(digest_path) },
	{ .name = "attributes", .type = CFG_NODE, .off = SRC_OFF(attributes) },
	{ .name = "spec", .type = CFG_OBJECT, .sub = custom_script_keys },
	{ .name = NULL }
};
static const struct cfg_key custom_scripts_keys[] = {
	{ .name = "fetchAllArtifacts", .type = CFG_OBJECT,
	  .sub = custom_fetch_keys },
	{ .name = NULL }
};
static const struct cfg_key custom_source_keys[] = {
	{ .name = "version", .type = CFG_STRING, .off = SRC_OFF(version) },
	{ .name = "versionRegex", .type = CFG_STRING,
	  .off = SRC_OFF(version_regex) },
	{ .name = "timeout", .type = CFG_DURATION, .off = SRC_OFF(timeout_ms),
	  .def = "1m", .min = 1000, .max = 3600 * 1000 },
	{ .name = "delegateSelectors", .type = CFG_IGNORE },
	/* Read by the loader for every source type (the core filters). */
	{ .name = "tagRegex", .type = CFG_IGNORE },
	{ .name = "tagRegexExclude", .type = CFG_IGNORE },
	{ .name = "inputs", .type = CFG_NODE, .off = SRC_OFF(inputs) },
	{ .name = "scripts", .type = CFG_OBJECT, .sub = custom_scripts_keys,
	  .flags = CFG_REQUIRED },
	{ .name = NULL }
};

/* One of `inputs`: a variable of the script's environment. */
struct custom_input {
	char		*name;
	char		*value;		/* String: the value; Secret: the ref */
	int		 secret;
};

struct custom_call;
struct custom {
	struct custom_input	*inputs;
	size_t			 ninputs;
	struct custom_attr	*attrs;
	size_t			 nattrs;
	struct custom_call	*call;
};

struct custom_call {
	struct provider		*p;
	provider_done_cb	 done;
	void			*arg;
	long long		 max;
	char			*dir;		/* private, removed after */
	struct child		*child;
	struct event		*later;		/* a failure before the run */
	char			*cause;
};

static int
env_name_valid(const char *s)
{
	const char	*p;

	if (s == NULL || (!isalpha((unsigned char)*s) && *s != '_'))
		return (0);
	for (p = s; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && *p != '_')
			return (0);
	}
	return (strcmp(s, RESULT_VAR) != 0 && strcmp(s, "PATH") != 0);
}

/* {name, type, value} of a list entry; -1 with *cause naming what lacks. */
static int
triple(const struct cfg_node *n, const char *what, size_t i,
    const char **name, const char **type, const char **value, char **cause)
{
	const struct cfg_node	*k;

	*name = *type = *value = NULL;
	if (n->kind != CFG_MAP)
		return (fail(cause, "%s[%zu] must be a map with name and "
		    "value", what, i));
	if ((k = cfg_node_get(n, "name")) != NULL && k->kind == CFG_SCALAR)
		*name = k->value;
	if ((k = cfg_node_get(n, "type")) != NULL && k->kind == CFG_SCALAR)
		*type = k->value;
	if ((k = cfg_node_get(n, "value")) != NULL && k->kind == CFG_SCALAR)
		*value = k->value;
	if (*name == NULL || *value == NULL)
		return (fail(cause, "%s[%zu] needs a name and a value", what,
		    i));
	return (0);
}

static void
inputs_free(struct custom *d)
{
	size_t	 i;

	for (i = 0; i < d->ninputs; i++) {
		free(d->inputs[i].name);
		free(d->inputs[i].value);
	}
	free(d->inputs);
	for (i = 0; i < d->nattrs; i++) {
		free(d->attrs[i].name);
		free(d->attrs[i].path);
	}
	free(d->attrs);
	d->inputs = NULL;
	d->attrs = NULL;
	d->ninputs = d->nattrs = 0;
}

/* inputs and attributes into d; -1 with *cause (and where, the node). */
static int
custom_lists(const struct custom_source *src, struct custom *d,
    const struct cfg_node **where, char **cause)
{
	const struct cfg_node	*n;
	const char		*name, *type, *value;
	size_t			 i;

	*where = NULL;
	if ((n = src->inputs) != NULL && !cfg_node_is_null(n)) {
		if (n->kind != CFG_SEQ) {
			*where = n;
			return (fail(cause, "inputs must be a list"));
		}
		d->inputs = xcalloc(n->n + 1, sizeof *d->inputs);
		for (i = 0; i < n->n; i++) {
			*where = n->items[i];
			if (triple(n->items[i], "inputs", i, &name, &type,
			    &value, cause) != 0)
				return (-1);
			if (!env_name_valid(name))
				return (fail(cause, "inputs[%zu]: %s is not a "
				    "variable name", i, name));
			if (type != NULL && strcmp(type, "String") != 0 &&
			    strcmp(type, "Secret") != 0)
				return (fail(cause, "inputs[%zu]: type must be "
				    "String or Secret, not %s", i, type));
			d->inputs[d->ninputs].name = xstrdup(name);
			d->inputs[d->ninputs].value = xstrdup(value);
			d->inputs[d->ninputs++].secret = type != NULL &&
			    strcmp(type, "Secret") == 0;
		}
	}
	if ((n = src->attributes) != NULL && !cfg_node_is_null(n)) {
		if (n->kind != CFG_SEQ) {
			*where = n;
			return (fail(cause, "attributes must be a list"));
		}
		d->attrs = xcalloc(n->n + 1, sizeof *d->attrs);
		for (i = 0; i < n->n; i++) {
			*where = n->items[i];
			if (triple(n->items[i], "attributes", i, &name, &type,
			    &value, cause) != 0)
				return (-1);
			d->attrs[d->nattrs].name = xstrdup(name);
			d->attrs[d->nattrs++].path = xstrdup(value);
		}
	}
	return (0);
}

static int
custom_check(struct source_conf *conf, struct cfg_errors *errs)
{
	struct custom_source		*src = conf->data;
	const struct cfg_node		*where;
	struct custom			 d;
	struct filter_conf		 fc;
	struct filter			*f;
	char				*cause;
	int				 bad = 0;

	memset(&d, 0, sizeof d);
	if (custom_lists(src, &d, &where, &cause) != 0) {
		cfg_error(errs, where != NULL ? where : conf->spec, "%s: %s",
		    conf->id, cause);
		free(cause);
		bad++;
	}
	inputs_free(&d);
	if (src->array_path == NULL || src->version_path == NULL ||
	    src->script == NULL) {
		cfg_error(errs, conf->spec, "%s: scripts.fetchAllArtifacts "
		    "needs artifactsArrayPath, versionPath and "
		    "spec.source.spec.script", conf->id);
		bad++;
	}
	if (src->shell != NULL && strcmp(src->shell, "Bash") != 0) {
		cfg_error(errs, conf->spec, "%s: shell %s: only Bash runs here",
		    conf->id, log_q(src->shell));
		bad++;
	}
	if (src->source_type != NULL &&
	    strcmp(src->source_type, "Inline") != 0) {
		cfg_error(errs, conf->spec, "%s: script source %s: only Inline "
		    "scripts run here", conf->id, log_q(src->source_type));
		bad++;
	}
	if (src->version_regex != NULL) {
		memset(&fc, 0, sizeof fc);
		fc.include = src->version_regex;
		if ((f = filter_create(&fc, &cause)) == NULL) {
			cfg_error(errs, cfg_node_get(conf->spec,
			    "versionRegex"), "%s: versionRegex: %s", conf->id,
			    cause);
			free(cause);
			bad++;
		}
		filter_free(f);
		/* The core's filter: versionRegex is this type's tagRegex. */
		if (f != NULL && conf->tag_regex == NULL)
			conf->tag_regex = xstrdup(src->version_regex);
	}
	return (bad);
}

/*
 * What it watches: the script, its String inputs (Secret inputs by name:
 * their values never go into the fingerprint) and where the answer is
 * read.
 */
static char *
custom_identity(const struct source_conf *conf)
{
	const struct custom_source	*src = conf->data;
	const struct cfg_node		*where;
	struct custom			 d;
	struct buf			 b = { 0 };
	char				*cause;
	size_t				 i;

	if (src == NULL || src->script == NULL)
		return (NULL);
	buf_printf(&b, "%s\n%s\n", src->array_path != NULL ?
	    src->array_path : "", src->version_path != NULL ?
	    src->version_path : "");
	memset(&d, 0, sizeof d);
	if (custom_lists(src, &d, &where, &cause) != 0)
		free(cause);
	for (i = 0; i < d.ninputs; i++)
		buf_printf(&b, "%s%s=%s\n", d.inputs[i].secret ? "secret:" :
		    "", d.inputs[i].name, d.inputs[i].value);
	inputs_free(&d);
	buf_adds(&b, src->script);
	return (buf_take(&b));
}

static int
custom_init(struct provider *p, char **cause)
{
	const struct custom_source	*src = p->conf->data;
	const struct cfg_node		*where;
	struct custom			*d;

	if (src->script == NULL || src->array_path == NULL ||
	    src->version_path == NULL)
		return (fail(cause, "scripts.fetchAllArtifacts is incomplete"));
	d = xcalloc(1, sizeof *d);
	if (custom_lists(src, d, &where, cause) != 0) {
		inputs_free(d);
		free(d);
		return (-1);
	}
	p->fields = cJSON_CreateObject();
	p->data = d;
	return (0);
}

static void
rmtree_private(const char *dir)
{
	DIR		*dp;
	struct dirent	*de;
	char		*path;

	if (dir == NULL || (dp = opendir(dir)) == NULL)
		return;
	while ((de = readdir(dp)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		xasprintf(&path, "%s/%s", dir, de->d_name);
		if (unlink(path) != 0 && errno == EISDIR)
			rmtree_private(path);
		free(path);
	}
	closedir(dp);
	rmdir(dir);
}

static void
call_free(struct custom_call *l)
{
	child_cancel(l->child);
	if (l->later != NULL)
		event_free(l->later);
	rmtree_private(l->dir);
	free(l->dir);
	free(l->cause);
	free(l);
}

static void
call_end(struct custom_call *l, int ok, struct versions *vs,
    const char *cause)
{
	struct custom		*d = l->p->data;
	struct provider_result	 r;
	provider_done_cb	 done = l->done;
	void			*arg = l->arg;

	memset(&r, 0, sizeof r);
	r.status = ok ? 0 : -1;
	r.cause = cause;
	r.versions = vs;
	r.requests = 1;
	d->call = NULL;
	l->child = NULL;	/* it ended, or never started */
	done(&r, arg);
	call_free(l);
}

static void
call_failed_later(__unused evutil_socket_t fd, __unused short what,
    void *arg)
{
	struct custom_call	*l = arg;
	char			*cause = l->cause;

	l->cause = NULL;
	call_end(l, 0, NULL, cause);
	free(cause);
}

/* The answer: the result file when the script wrote one, else stdout. */
static int
read_result(const char *path, struct buf *out, char **cause)
{
	char	 chunk[16384];
	ssize_t	 n;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return (errno == ENOENT ? 0 : fail(cause, "%s: %s", RESULT_VAR,
		    strerror(errno)));
	while ((n = read(fd, chunk, sizeof chunk)) > 0) {
		if (out->len + (size_t)n > CUSTOM_MAX_OUT) {
			close(fd);
			return (fail(cause, "the result file is over %d bytes",
			    CUSTOM_MAX_OUT));
		}
		buf_add(out, chunk, n);
	}
	close(fd);
	return (n < 0 ? fail(cause, "%s: %s", RESULT_VAR, strerror(errno)) :
	    0);
}

static void
custom_ran(struct child_result *cr, void *arg)
{
	struct custom_call		*l = arg;
	struct custom			*d = l->p->data;
	const struct custom_source	*src = l->p->conf->data;
	struct versions			*vs;
	struct buf			 file = { 0 };
	const struct buf		*answer;
	char				*cause = NULL, *path, *why;

	l->child = NULL;
	if (cr->status != 0 || cr->timed_out || cr->overflow) {
		cause = child_cause(cr, "script");
		call_end(l, 0, NULL, cause);
		free(cause);
		return;
	}
	xasprintf(&path, "%s/result.json", l->dir);
	if (read_result(path, &file, &cause) != 0) {
		free(path);
		buf_free(&file);
		call_end(l, 0, NULL, cause);
		free(cause);
		return;
	}
	free(path);
	answer = file.len > 0 ? &file : &cr->out;
	vs = xcalloc(1, sizeof *vs);
	if (custom_parse(answer->data != NULL ? answer->data : "",
	    answer->len, src->array_path, src->version_path,
	    src->digest_path, d->attrs, d->nattrs, l->max, vs, &why) != 0) {
		versions_free(vs);
		free(vs);
		xasprintf(&cause, "script output: %s%s%s", why,
		    cr->err_line != NULL ? "; stderr: " : "",
		    cr->err_line != NULL ? cr->err_line : "");
		free(why);
		buf_free(&file);
		call_end(l, 0, NULL, cause);
		free(cause);
		return;
	}
	buf_free(&file);
	call_end(l, 1, vs, NULL);
}

static void
fail_later(struct custom_call *l, char *cause)
{
	struct timeval	 tv = { 0, 0 };

	l->cause = cause;
	l->later = evtimer_new(l->p->env->base, call_failed_later, l);
	evtimer_add(l->later, &tv);
}

static void
env_free(char **env, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		explicit_bzero(env[i], strlen(env[i]));
		free(env[i]);
	}
	free(env);
}

static void
custom_list(struct provider *p, const struct list_request *req,
    provider_done_cb done, void *arg)
{
	const struct custom_source	*src = p->conf->data;
	struct custom			*d = p->data;
	struct custom_call		*l;
	struct child_conf		 cc;
	const char			*tmp;
	const char			*argv[3];
	char				*script, *cause, *secret, *why;
	char				**env;
	size_t				 n = 0, i;
	int				 fd;

	l = xcalloc(1, sizeof *l);
	l->p = p;
	l->done = done;
	l->arg = arg;
	l->max = req->max > 0 ? req->max : 10000;
	d->call = l;
	if ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0')
		tmp = "/tmp";
	xasprintf(&l->dir, "%s/aw-custom.XXXXXX", tmp);
	if (mkdtemp(l->dir) == NULL) {
		xasprintf(&cause, "mkdtemp %s: %s", l->dir, strerror(errno));
		free(l->dir);
		l->dir = NULL;
		fail_later(l, cause);
		return;
	}
	xasprintf(&script, "%s/script.sh", l->dir);
	if ((fd = open(script, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0700)) == -1 || write(fd, src->script, strlen(src->script)) !=
	    (ssize_t)strlen(src->script)) {
		xasprintf(&cause, "writing the script: %s", strerror(errno));
		if (fd != -1)
			close(fd);
		free(script);
		fail_later(l, cause);
		return;
	}
	close(fd);
	env = xcalloc(d->ninputs + 2, sizeof *env);
	for (i = 0; i < d->ninputs; i++) {
		if (!d->inputs[i].secret) {
			xasprintf(&env[n++], "%s=%s", d->inputs[i].name,
			    d->inputs[i].value);
			continue;
		}
		if (secret_resolve(p->env->conf, d->inputs[i].value, &secret,
		    &why) != 0) {
			xasprintf(&cause, "inputs %s: secret %s: %s",
			    d->inputs[i].name, d->inputs[i].value, why);
			free(why);
			env_free(env, n);
			free(script);
			fail_later(l, cause);
			return;
		}
		xasprintf(&env[n++], "%s=%s", d->inputs[i].name, secret);
		explicit_bzero(secret, strlen(secret));
		free(secret);
	}
	xasprintf(&env[n++], "%s=%s/result.json", RESULT_VAR, l->dir);
	argv[0] = "bash";
	argv[1] = script;
	argv[2] = NULL;
	memset(&cc, 0, sizeof cc);
	cc.argv = argv;
	cc.env = (const char *const *)env;
	cc.clear_env = 1;
	cc.dir = l->dir;
	cc.timeout_ms = src->timeout_ms;
	cc.max_out = CUSTOM_MAX_OUT;
	l->child = child_start(p->env->base, &cc, custom_ran, l, &cause);
	env_free(env, n);
	free(script);
	if (l->child == NULL)
		fail_later(l, cause);
}

static void
custom_cancel(struct provider *p)
{
	struct custom	*d = p->data;

	if (d == NULL || d->call == NULL)
		return;
	call_free(d->call);
	d->call = NULL;
}

static void
custom_free(struct provider *p)
{
	struct custom	*d = p->data;

	if (d == NULL)
		return;
	custom_cancel(p);
	inputs_free(d);
	free(d);
	p->data = NULL;
}

const struct provider_entry provider_custom_entry = {
	.name = "CustomArtifact",
	.connector = NULL,
	.kind = KIND_CUSTOM,
	.source_keys = custom_source_keys,
	.source_size = sizeof (struct custom_source),
	.check = custom_check,
	.identity = custom_identity,
	.init = custom_init,
	.list = custom_list,
	.cancel = custom_cancel,
	.free = custom_free,
};
