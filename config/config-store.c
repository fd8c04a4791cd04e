/*
 * config-store.c: the `store:` block.  No block means the embedded LMDB
 * store in its default directory (path NULL; store-lmdb picks it).  A Redis
 * URL is checked here, once, so that the store only connects: it must be
 * redis://[user@]host[:port][/db], and a password in it is refused, since
 * the config holds secrets only by name (store.password).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "redis.h"

static const char *const store_types[] = { "lmdb", "redis", NULL };

#define STORE_OFF(f)	offsetof(struct store_conf, f)

static const struct cfg_key store_keys[] = {
	{ .name = "type", .type = CFG_ENUM, .off = STORE_OFF(type),
	  .def = "lmdb", .choices = store_types, .flags = CFG_NORELOAD },
	{ .name = "path", .type = CFG_STRING, .off = STORE_OFF(path),
	  .flags = CFG_NORELOAD },
	{ .name = "url", .type = CFG_STRING, .off = STORE_OFF(url),
	  .flags = CFG_NORELOAD },
	{ .name = "prefix", .type = CFG_STRING, .off = STORE_OFF(prefix),
	  .def = "aw", .flags = CFG_NORELOAD },
	{ .name = "password", .type = CFG_SECRET, .off = STORE_OFF(password) },
	{ .name = "retention", .type = CFG_DURATION,
	  .off = STORE_OFF(retention_ms), .def = "30d" },
	{ .name = NULL }
};

/* A run of digits with a value in [lo, hi]. */
static int
number_in(const char *s, size_t len, long lo, long hi)
{
	long	 n = 0;
	size_t	 i;

	if (len == 0 || len > 9)
		return (0);
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (0);
		n = n * 10 + (s[i] - '0');
	}
	return (n >= lo && n <= hi);
}

/* The message for a bad URL, or NULL if it is fine. */
static const char *
redis_url_problem(const char *url)
{
	const char	*p, *end, *at, *host, *colon;

	if ((p = redis_url_tls_problem(url)) != NULL)
		return (p);
	if (strncmp(url, "redis://", 8) != 0)
		return ("must start with redis://");
	p = url + 8;
	end = p + strcspn(p, "/");
	if ((at = memrchr(p, '@', end - p)) != NULL) {
		if (memchr(p, ':', at - p) != NULL)
			return ("must not hold a password: name a secret in "
			    "store.password instead");
		p = at + 1;
	}
	host = p;
	if (*host == '[') {
		if ((p = memchr(host, ']', end - host)) == NULL)
			return ("has an unclosed [ in its host");
		p++;
		colon = p < end && *p == ':' ? p : NULL;
	} else
		colon = memchr(host, ':', end - host);
	if ((colon != NULL ? colon : end) == host)
		return ("has no host");
	if (colon != NULL && !number_in(colon + 1, end - colon - 1, 1, 65535))
		return ("has a bad port (1 to 65535)");
	if (*end == '/' && end[1] != '\0' &&
	    !number_in(end + 1, strlen(end + 1), 0, 1000000))
		return ("has a bad database number after the /");
	return (NULL);
}

void
config_load_store(struct config *conf, const struct cfg_node *root,
    struct cfg_errors *errs)
{
	const struct cfg_node	*node = cfg_node_get(root, "store");
	struct store_conf	*sc = &conf->store;
	const char		*problem;

	if (cfg_apply_at(store_keys, sc, node, root, "store", errs) != 0 ||
	    node == NULL)
		return;
	if (sc->type == STORE_REDIS) {
		if (sc->url == NULL)
			cfg_error(errs, node, "store.url is needed when "
			    "store.type is redis (e.g. "
			    "redis://127.0.0.1:6379/0)");
		else if ((problem = redis_url_problem(sc->url)) != NULL)
			cfg_error(errs, cfg_node_get(node, "url"),
			    "store.url %s", problem);
		if (sc->path != NULL)
			cfg_error(errs, cfg_node_get(node, "path"),
			    "store.path is for type lmdb, not redis");
	} else {
		if (sc->url != NULL)
			cfg_error(errs, cfg_node_get(node, "url"),
			    "store.url is for type redis (set store.type: "
			    "redis)");
		if (sc->password != NULL)
			cfg_error(errs, cfg_node_get(node, "password"),
			    "store.password is for type redis (set "
			    "store.type: redis)");
	}
	if (sc->prefix != NULL && (sc->prefix[0] == '\0' ||
	    strpbrk(sc->prefix, " \t\r\n") != NULL))
		cfg_error(errs, cfg_node_get(node, "prefix"), "store.prefix "
		    "must be a word without spaces");
}
