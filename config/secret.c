/*
 * secret.c: the `secrets:` block and the resolving of a secret name to its
 * value.  The config only ever holds references ("env:NAME", "file:PATH");
 * values are read at use time, so a rotated file or a changed environment
 * is picked up, and no value sits in the config tree or in an error.  A
 * relative file path is taken from the directory of the config file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define SECRET_MAX_SIZE	(1024 * 1024)

/* [A-Za-z_][A-Za-z0-9_]* */
static int
env_name_valid(const char *s)
{
	const char	*p;

	if (*s == '\0' || (*s >= '0' && *s <= '9'))
		return (0);
	for (p = s; *p != '\0'; p++) {
		if (!(*p == '_' || (*p >= 'a' && *p <= 'z') ||
		    (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
			return (0);
	}
	return (1);
}

/* Checks one reference; never repeats the text, which may be a password. */
static void
secret_check(const struct cfg_node *name, const struct cfg_node *ref,
    struct cfg_errors *errs)
{
	if (!config_id_valid(name->value)) {
		cfg_error(errs, name, "secret name \"%s\" may only hold "
		    "letters, digits, \"_\", \".\" and \"-\"", name->value);
	}
	if (ref->kind != CFG_SCALAR || cfg_node_is_null(ref)) {
		cfg_error(errs, ref, "secret \"%s\" must be a reference, "
		    "env:NAME or file:PATH", name->value);
	} else if (strncmp(ref->value, "env:", 4) == 0) {
		if (!env_name_valid(ref->value + 4))
			cfg_error(errs, ref, "secret \"%s\": env: must be "
			    "followed by an environment variable name",
			    name->value);
	} else if (strncmp(ref->value, "file:", 5) == 0) {
		if (ref->value[5] == '\0')
			cfg_error(errs, ref, "secret \"%s\": file: must be "
			    "followed by a path", name->value);
	} else {
		cfg_error(errs, ref, "secret \"%s\" must be a reference, "
		    "env:NAME or file:PATH; values are not written in the "
		    "config file", name->value);
	}
}

void
secrets_load(struct config *conf, const struct cfg_node *node,
    struct cfg_errors *errs)
{
	struct secret	*s;
	size_t		 i;

	if (node == NULL || cfg_node_is_null(node))
		return;
	if (node->kind != CFG_MAP) {
		cfg_error(errs, node, "secrets must be a map of names to "
		    "env:NAME or file:PATH, not %s", cfg_node_kind_name(node));
		return;
	}
	conf->secrets = xcalloc(node->n, sizeof *conf->secrets);
	for (i = 0; i < node->n; i++) {
		secret_check(node->keys[i], node->items[i], errs);
		s = &conf->secrets[conf->nsecrets++];
		s->name = xstrdup(node->keys[i]->value);
		if (node->items[i]->kind == CFG_SCALAR)
			s->ref = xstrdup(node->items[i]->value);
	}
}

/* `what` names it in messages: `secret "name"`, or `file`. */
static int
secret_read_file(const struct config *conf, const char *what,
    const char *path, char **value, char **cause)
{
	struct buf	 b;
	FILE		*f;
	char		 chunk[4096], *full = NULL, *slash;
	size_t		 n;
	int		 rc = -1;

	if (path[0] != '/' && conf->path != NULL &&
	    (slash = strrchr(conf->path, '/')) != NULL)
		xasprintf(&full, "%.*s/%s", (int)(slash - conf->path),
		    conf->path, path);
	else
		full = xstrdup(path);
	memset(&b, 0, sizeof b);
	if ((f = fopen(full, "r")) == NULL) {
		fail(cause, "%s: cannot open %s: %s", what, full,
		    strerror(errno));
		goto out;
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 &&
	    b.len <= SECRET_MAX_SIZE)
		buf_add(&b, chunk, n);
	if (ferror(f))
		fail(cause, "%s: cannot read %s: %s", what, full,
		    strerror(errno));
	else if (b.len > SECRET_MAX_SIZE)
		fail(cause, "%s: %s is larger than 1 MiB", what, full);
	else if (b.len != 0 && memchr(b.data, '\0', b.len) != NULL)
		fail(cause, "%s: %s holds a NUL byte", what, full);
	else {
		if (b.len > 0 && b.data[b.len - 1] == '\n')
			b.data[--b.len] = '\0';
		if (b.len > 0 && b.data[b.len - 1] == '\r')
			b.data[--b.len] = '\0';
		if (b.len == 0)
			fail(cause, "%s: %s is empty", what, full);
		else {
			*value = buf_take(&b);
			rc = 0;
		}
	}
	fclose(f);
out:
	buf_free(&b);
	free(full);
	return (rc);
}

int
secret_resolve(const struct config *conf, const char *name, char **value,
    char **cause)
{
	const struct secret	*s = NULL;
	const char		*env;
	char			*what;
	size_t			 i;
	int			 rc;

	for (i = 0; i < conf->nsecrets; i++) {
		if (strcmp(conf->secrets[i].name, name) == 0)
			s = &conf->secrets[i];
	}
	if (s == NULL || s->ref == NULL)
		return (fail(cause, "unknown secret \"%s\"", name));
	if (strncmp(s->ref, "env:", 4) == 0) {
		if ((env = getenv(s->ref + 4)) == NULL)
			return (fail(cause, "secret \"%s\": environment "
			    "variable %s is not set", name, s->ref + 4));
		if (*env == '\0')
			return (fail(cause, "secret \"%s\": environment "
			    "variable %s is empty", name, s->ref + 4));
		*value = xstrdup(env);
		return (0);
	}
	if (strncmp(s->ref, "file:", 5) == 0) {
		xasprintf(&what, "secret \"%s\"", name);
		rc = secret_read_file(conf, what, s->ref + 5, value, cause);
		free(what);
		return (rc);
	}
	return (fail(cause, "secret \"%s\" is not env:NAME or file:PATH",
	    name));
}

int
secret_resolve_key(const struct config *conf, const char *key,
    const char *ref, char **value, char **cause)
{
	char	*why;

	if (secret_resolve(conf, ref, value, &why) == 0)
		return (0);
	fail(cause, "%s %s: %s", key, ref, why);
	free(why);
	return (-1);
}

int
secret_or_path_resolve(const struct config *conf, const char *ref,
    char **value, char **cause)
{
	if (strchr(ref, '/') != NULL)
		return (secret_read_file(conf, "file", ref, value, cause));
	return (secret_resolve(conf, ref, value, cause));
}
