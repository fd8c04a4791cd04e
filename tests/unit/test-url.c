/*
 * test-url.c: url_same_origin(), the rule every follow-up URL a response
 * names (a Link rel="next", a page's `next`) must pass before it gets the
 * connector's credentials: same scheme, host and port, default ports
 * filled in, no case, user information ignored.
 */
#include <criterion/criterion.h>

#include "watcher.h"
#include "http.h"

struct origin_case {
	const char	*a, *b;
	int		 same;
};

static const struct origin_case origin_cases[] = {
	{ "https://reg.example/v2/", "https://reg.example/v2/x?n=1", 1 },
	{ "https://reg.example", "https://REG.Example:443/v2/", 1 },
	{ "http://reg.example/", "http://reg.example:80/", 1 },
	{ "HTTPS://reg.example/", "https://reg.example/", 1 },
	{ "https://u:pw@reg.example/", "https://reg.example/", 1 },
	{ "http://127.0.0.1:5000/v2/", "http://127.0.0.1:5000/v2/a", 1 },
	{ "http://[::1]:5000/", "http://[::1]:5000/v2/", 1 },
	{ "https://[::1]/", "https://[::1]:443/", 1 },
	{ "https://reg.example:/", "https://reg.example/", 1 },
	/* Another host, port or scheme: never. */
	{ "https://reg.example/", "https://evil.example/", 0 },
	{ "https://reg.example/", "https://reg.example.evil.example/", 0 },
	{ "https://reg.example/", "https://reg.example:8443/", 0 },
	{ "http://127.0.0.1:5000/", "http://127.0.0.1:5001/", 0 },
	{ "http://127.0.0.1:5000/", "http://127.0.0.2:5000/", 0 },
	{ "https://reg.example/", "http://reg.example/", 0 },
	{ "https://reg.example/", "http://reg.example:443/", 0 },
	{ "http://reg.example/", "https://reg.example:80/", 0 },
	{ "http://[::1]:5000/", "http://[::2]:5000/", 0 },
	{ "https://reg.example@evil.example/", "https://reg.example/", 0 },
	/* Not URLs, or ports that are not ports. */
	{ "https://reg.example/", "/v2/x", 0 },
	{ "/v2/x", "/v2/x", 0 },
	{ "", "", 0 },
	{ "https://reg.example:99999/", "https://reg.example:99999/", 0 },
	{ "https://reg.example:4x3/", "https://reg.example:4x3/", 0 },
	{ "ftp://reg.example/", "ftp://reg.example/", 0 },
	{ "ftp://reg.example:21/", "ftp://reg.example:21/", 1 },
};

Test(url, same_origin)
{
	const struct origin_case	*c;
	size_t				 i;

	for (i = 0; i < nitems(origin_cases); i++) {
		c = &origin_cases[i];
		cr_expect_eq(url_same_origin(c->a, c->b), c->same,
		    "case %zu: %s vs %s", i, c->a, c->b);
		cr_expect_eq(url_same_origin(c->b, c->a), c->same,
		    "case %zu reversed: %s vs %s", i, c->b, c->a);
	}
}
