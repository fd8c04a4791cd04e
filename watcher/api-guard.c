/*
 * api-guard.c: what a state-changing request to an API without a token
 * must look like, so that a web page in the operator's browser cannot
 * send one (docs/api.md, "Requests from browsers").
 *
 * Without a token the API listens only on loopback, and a page from any
 * site can still make the browser POST there: a form post is a "simple"
 * request that needs no CORS preflight.  So such a request must carry
 * Content-Type: application/json, which no form can send and which a
 * cross-origin fetch may only send after a preflight this API never
 * grants, and, when the browser sent an Origin, that origin must be the
 * API's own (http, a loopback host, our port): a page served from a
 * rebound DNS name is not.  Pure functions: headers in, verdict out.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "config.h"

#define JSON_TYPE	"application/json"

int
api_guard_json_type(const char *type)
{
	size_t	 n = strlen(JSON_TYPE);

	if (type == NULL)
		return (0);
	while (*type == ' ' || *type == '\t')
		type++;
	if (strncasecmp(type, JSON_TYPE, n) != 0)
		return (0);
	type += n;
	while (*type == ' ' || *type == '\t')
		type++;
	return (*type == '\0' || *type == ';');
}

int
api_guard_own_origin(const char *origin, unsigned port)
{
	struct api_addr	 a;
	const char	*hostport, *close;
	char		*s, *why;
	int		 own;

	if (strncasecmp(origin, "http://", 7) != 0)
		return (0);
	hostport = origin + 7;
	if (*hostport == '\0' || strpbrk(hostport, "/?#@ ") != NULL)
		return (0);
	/* No port in an origin means the scheme's default. */
	close = hostport[0] == '[' ? strchr(hostport, ']') : hostport;
	if (close == NULL)
		return (0);
	if (strchr(close, ':') == NULL)
		xasprintf(&s, "%s:80", hostport);
	else
		s = xstrdup(hostport);
	if (api_listen_parse(s, &a, &why) != 0) {
		free(why);
		free(s);
		return (0);
	}
	own = a.loopback && a.port == port;
	free(a.host);
	free(s);
	return (own);
}

const char *
api_guard_check(const char *content_type, const char *origin, unsigned port)
{
	if (!api_guard_json_type(content_type))
		return ("without an API token, a POST must send Content-Type: "
		    "application/json");
	if (origin != NULL && !api_guard_own_origin(origin, port))
		return ("without an API token, a POST from another origin is "
		    "refused");
	return (NULL);
}
