/*
 * config-api.c: the `api:` block, the HTTP API of DESIGN §7 (docs/api.md).
 *
 * No block means no API: a daemon opens no port it was not asked to.  An
 * empty block (`api: {}`) listens on 127.0.0.1:9090.  The address is an IP
 * literal or "localhost" with a port, so binding never waits on DNS, and
 * anything but loopback needs a tokenRef: the admin actions must not be
 * open to the network.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define API_OFF(f)	offsetof(struct api_conf, f)

static const struct cfg_key api_keys[] = {
	{ .name = "listen", .type = CFG_STRING, .off = API_OFF(listen),
	  .def = API_DEFAULT_LISTEN },
	{ .name = "tokenRef", .type = CFG_SECRET, .off = API_OFF(token_ref) },
	{ .name = NULL }
};

/* A decimal port, 0 (any free port) to 65535. */
static int
api_port_parse(const char *s, unsigned *port)
{
	unsigned long	 n = 0;

	if (*s == '\0' || strlen(s) > 5)
		return (-1);
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return (-1);
		n = n * 10 + (unsigned long)(*s - '0');
	}
	if (n > 65535)
		return (-1);
	*port = (unsigned)n;
	return (0);
}

int
api_listen_parse(const char *listen, struct api_addr *a, char **cause)
{
	struct in_addr	 v4;
	struct in6_addr	 v6;
	const char	*colon, *port;
	char		*host;

	memset(a, 0, sizeof *a);
	if (listen[0] == '[') {
		if ((colon = strstr(listen, "]:")) == NULL)
			return (fail(cause, "must be [IPV6]:PORT"));
		host = xstrndup(listen + 1, (size_t)(colon - listen - 1));
		port = colon + 2;
	} else {
		if ((colon = strrchr(listen, ':')) == NULL ||
		    memchr(listen, ':', (size_t)(colon - listen)) != NULL) {
			return (fail(cause, "must be HOST:PORT (IPv6 in "
			    "brackets: [::1]:9090)"));
		}
		host = xstrndup(listen, (size_t)(colon - listen));
		port = colon + 1;
	}
	if (api_port_parse(port, &a->port) != 0) {
		free(host);
		return (fail(cause, "has a bad port (0 to 65535)"));
	}
	if (strcmp(host, "localhost") == 0) {
		free(host);
		host = xstrdup("127.0.0.1");
	}
	if (listen[0] != '[' && inet_pton(AF_INET, host, &v4) == 1)
		a->loopback = (ntohl(v4.s_addr) >> 24) == 127;
	else if (listen[0] == '[' && inet_pton(AF_INET6, host, &v6) == 1)
		a->loopback = IN6_IS_ADDR_LOOPBACK(&v6);
	else {
		free(host);
		return (fail(cause, "needs an IP address or localhost as its "
		    "host"));
	}
	a->host = host;
	return (0);
}

void
config_load_api(struct config *conf, const struct cfg_node *root,
    struct cfg_errors *errs)
{
	const struct cfg_node	*node = cfg_node_get(root, "api");
	struct api_conf		*ac = &conf->api;
	struct api_addr		 a;
	char			*cause;

	if (node == NULL)
		return;
	if (cfg_apply_at(api_keys, ac, node, root, "api", errs) != 0)
		return;
	ac->enabled = 1;
	if (api_listen_parse(ac->listen, &a, &cause) != 0) {
		cfg_error(errs, cfg_node_get(node, "listen") != NULL ?
		    cfg_node_get(node, "listen") : node, "api.listen %s",
		    cause);
		free(cause);
		return;
	}
	if (!a.loopback && ac->token_ref == NULL)
		cfg_error(errs, cfg_node_get(node, "listen"), "api.listen %s "
		    "is not a loopback address: set api.tokenRef too, so "
		    "that every request must carry that token", ac->listen);
	free(a.host);
}

void
config_free_api(struct config *conf)
{
	cfg_free(api_keys, &conf->api);
}
