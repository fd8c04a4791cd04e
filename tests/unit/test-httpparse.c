/*
 * test-httpparse.c: the pure HTTP parsers (httpparse.c, url.c), table by
 * table: the Link and WWW-Authenticate shapes real registries send
 * (provider-protocols.md 0.2-0.3), Retry-After, URL resolution against the
 * examples of RFC 3986 5.4, and hostile inputs that must give an error, not
 * a crash.  A new case is a new line in a table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "watcher.h"
#include "http.h"

#define REG	"https://registry.example/v2/library/busybox/tags/list?n=100"

struct link_case {
	const char	*values[3];	/* Link header values, NULL-ended */
	const char	*base;
	int		 want;		/* 1 found, 0 none, -1 malformed */
	const char	*next;
};

static const struct link_case link_cases[] = {
	/* distribution: relative, path and query only */
	{ { "</v2/library/busybox/tags/list?last=1.36&n=100>; rel=\"next\"" },
	  REG, 1,
	  "https://registry.example/v2/library/busybox/tags/list?last=1.36&n=100" },
	/* GitHub: absolute next and last in one header */
	{ { "<https://api.github.com/organizations/9919/packages/container/"
	    "app/versions?page=2&per_page=100>; rel=\"next\", "
	    "<https://api.github.com/organizations/9919/packages/container/"
	    "app/versions?page=5&per_page=100>; rel=\"last\"" },
	  "https://api.github.com/orgs/o/packages/container/app/versions", 1,
	  "https://api.github.com/organizations/9919/packages/container/app/"
	  "versions?page=2&per_page=100" },
	/* GitHub order reversed: last first */
	{ { "<https://x.example/p?page=5>; rel=\"last\", "
	    "<https://x.example/p?page=2>; rel=\"next\"" },
	  "https://x.example/p", 1, "https://x.example/p?page=2" },
	/* ACR: empty orderby parameter */
	{ { "</v2/hello-world/tags/list?last=v1&n=2&orderby=>; rel=\"next\"" },
	  "https://r.azurecr.io/v2/hello-world/tags/list?n=2", 1,
	  "https://r.azurecr.io/v2/hello-world/tags/list?last=v1&n=2&orderby=" },
	/* Quay: opaque cursor, escaped '=' kept as is */
	{ { "<https://quay.io/v2/coreos/etcd/tags/list?next_page=gAAAAABY%3D%3D"
	    "&n=50>; rel=\"next\"" },
	  "https://quay.io/v2/coreos/etcd/tags/list?n=50", 1,
	  "https://quay.io/v2/coreos/etcd/tags/list?next_page=gAAAAABY%3D%3D"
	  "&n=50" },
	/* unquoted rel, odd case, extra spaces */
	{ { "  </next?a=1>  ;  REL = Next  " }, "http://h:5000/x", 1,
	  "http://h:5000/next?a=1" },
	/* several relation types in one rel */
	{ { "</p2>; rel=\"prev next\"" }, "http://h/p1", 1, "http://h/p2" },
	/* a comma inside the target and inside a quoted title */
	{ { "</a,b>; title=\"x, y; z\"; rel=next" }, "http://h/", 1,
	  "http://h/a,b" },
	/* only the first rel parameter counts */
	{ { "</p2>; rel=prev; rel=next" }, "http://h/", 0, NULL },
	/* the next link in the second of several Link headers */
	{ { "</first>; rel=\"first\"", "</p2>; rel=\"next\"" }, "http://h/", 1,
	  "http://h/p2" },
	/* relative to the directory of the base, with dot segments */
	{ { "<../other/list?n=1>; rel=next" }, "http://h/v2/a/tags/list", 1,
	  "http://h/v2/a/other/list?n=1" },
	/* query-only target */
	{ { "<?last=z>; rel=next" }, "http://h/v2/a/tags/list?n=5", 1,
	  "http://h/v2/a/tags/list?last=z" },
	/* no next */
	{ { "</p1>; rel=\"prev\"" }, "http://h/", 0, NULL },
	{ { "</p1>" }, "http://h/", 0, NULL },			/* no rel */
	{ { "" }, "http://h/", 0, NULL },			/* empty */
	{ { " , ,, " }, "http://h/", 0, NULL },			/* empty elements */
	{ { "</nextdoor>; rel=\"nextdoor\"" }, "http://h/", 0, NULL },
	/* hostile */
	{ { "</v2/x?last=a; rel=\"next\"" }, "http://h/", -1, NULL },
	{ { "/v2/x; rel=next" }, "http://h/", -1, NULL },
	{ { "</v2/x>; rel=\"next" }, "http://h/", -1, NULL },
	{ { "</v2/x> rel=next" }, "http://h/", -1, NULL },
	{ { "</v2/x>; =next" }, "http://h/", -1, NULL },
	{ { "</v2/x>; rel=\"next\\" }, "http://h/", -1, NULL },
	{ { "</relative>; rel=next" }, "not a url", -1, NULL },
};

Test(link, table)
{
	const struct link_case	*c;
	size_t			 i, n;
	char			*next, *cause;
	int			 got;

	for (i = 0; i < nitems(link_cases); i++) {
		c = &link_cases[i];
		for (n = 0; n < nitems(c->values) && c->values[n] != NULL; n++)
			/* count */;
		next = cause = NULL;
		got = link_next_values(c->values, n, c->base, &next, &cause);
		cr_expect_eq(got, c->want, "case %zu (%s): got %d want %d",
		    i, c->values[0], got, c->want);
		if (got == 1 && c->want == 1)
			cr_expect_str_eq(next, c->next, "case %zu", i);
		if (got == -1)
			cr_expect(cause != NULL && cause[0] != '\0',
			    "case %zu: no cause", i);
		free(next);
		free(cause);
	}
}

Test(link, response_headers_and_final_url)
{
	struct http_header	 h[] = {
		{ "Content-Type", "application/json" },
		{ "link", "</v2/a/tags/list?last=b>; rel=\"last\"" },
		{ "LINK", "</v2/a/tags/list?last=c&n=2>; rel=\"next\"" },
	};
	struct http_response	 r;
	char			*next = NULL, *cause = NULL;

	memset(&r, 0, sizeof r);
	r.url = "http://old.example/v2/a/tags/list?n=2";
	r.final_url = "https://new.example:5000/v2/a/tags/list?n=2";
	r.headers = h;
	r.nheaders = nitems(h);
	cr_assert_eq(link_next(&r, &next, &cause), 1, "%s", cause);
	cr_expect_str_eq(next,
	    "https://new.example:5000/v2/a/tags/list?last=c&n=2");
	free(next);

	r.nheaders = 2;
	cr_expect_eq(link_next(&r, &next, &cause), 0);
}

Test(link, huge_value)
{
	const size_t	 len = 4 * 1024 * 1024;
	const char	*values[1];
	char		*big, *next = NULL, *cause = NULL;

	/* A huge target: found, intact. */
	big = malloc(len + 32);
	cr_assert(big != NULL);
	big[0] = '<';
	big[1] = '/';
	memset(big + 2, 'a', len);
	strcpy(big + 2 + len, ">; rel=next");
	values[0] = big;
	cr_assert_eq(link_next_values(values, 1, "http://h/", &next, &cause),
	    1);
	cr_expect_eq(strlen(next), strlen("http://h/") + len);
	free(next);

	/* Many parameters, none a rel, and a '<' that is never closed. */
	memset(big, ';', len);
	big[0] = '<';
	big[len] = '\0';
	cr_expect_eq(link_next_values(values, 1, "http://h/", &next, &cause),
	    -1);
	free(cause);
	cause = NULL;

	/* A long run of commas and spaces: nothing. */
	memset(big, ',', len);
	cr_expect_eq(link_next_values(values, 1, "http://h/", &next, &cause),
	    0);
	free(big);
}

struct challenge_case {
	const char	*value;
	int		 want;
	const char	*scheme, *realm, *service, *scope;
};

static const struct challenge_case challenge_cases[] = {
	{ "Bearer realm=\"https://auth.docker.io/token\",service=\"registry."
	  "docker.io\",scope=\"repository:library/busybox:pull\"", 0,
	  "Bearer", "https://auth.docker.io/token", "registry.docker.io",
	  "repository:library/busybox:pull" },
	{ "Basic realm=\"https://123456789012.dkr.ecr.us-east-1.amazonaws.com/"
	  "\",service=\"ecr.amazonaws.com\"", 0, "Basic",
	  "https://123456789012.dkr.ecr.us-east-1.amazonaws.com/",
	  "ecr.amazonaws.com", NULL },
	/* comma and colons inside a quoted scope */
	{ "Bearer realm=\"https://auth.docker.io/token\",service=\"registry."
	  "docker.io\",scope=\"repository:samalba/my-app:pull,push\"", 0,
	  "Bearer", "https://auth.docker.io/token", "registry.docker.io",
	  "repository:samalba/my-app:pull,push" },
	/* GHCR, spaces after commas, key case */
	{ "Bearer Realm=\"https://ghcr.io/token\", Service=\"ghcr.io\", "
	  "Scope=\"repository:user/image:pull\"", 0, "Bearer",
	  "https://ghcr.io/token", "ghcr.io", "repository:user/image:pull" },
	/* several scopes: space-separated and repeated parameters */
	{ "Bearer realm=\"r\",scope=\"repository:a:pull repository:b:pull\","
	  "scope=\"registry:catalog:*\"", 0, "Bearer", "r", NULL,
	  "repository:a:pull repository:b:pull registry:catalog:*" },
	/* unquoted tokens and an unknown parameter */
	{ "bearer realm=https://r.example/token , service=reg, error=invalid_token",
	  0, "bearer", "https://r.example/token", "reg", NULL },
	/* backslash escapes */
	{ "Basic realm=\"a \\\"quoted\\\" \\\\ realm\"", 0, "Basic",
	  "a \"quoted\" \\ realm", NULL, NULL },
	/* scheme alone */
	{ "Basic", 0, "Basic", NULL, NULL, NULL },
	/* a second challenge ends the first */
	{ "Bearer realm=\"one\", Basic realm=\"two\"", 0, "Bearer", "one",
	  NULL, NULL },
	/* token68 */
	{ "Negotiate abc==", 0, "Negotiate", NULL, NULL, NULL },
	/* the first realm wins */
	{ "Bearer realm=\"one\",realm=\"two\"", 0, "Bearer", "one", NULL, NULL },
	/* hostile */
	{ "", -1, NULL, NULL, NULL, NULL },
	{ "   ", -1, NULL, NULL, NULL, NULL },
	{ "Bearer realm=\"never closed", -1, NULL, NULL, NULL, NULL },
	{ "Bearer realm=\"x\\", -1, NULL, NULL, NULL, NULL },
	{ "\"Bearer\" realm=x", -1, NULL, NULL, NULL, NULL },
	{ "Bearer realm=\"x\", =y", -1, NULL, NULL, NULL, NULL },
	{ "Bearer\"x\"", -1, NULL, NULL, NULL, NULL },
};

static void
expect_str_or_null(const char *got, const char *want, size_t i,
    const char *what)
{
	if (want == NULL)
		cr_expect_null(got, "case %zu: %s should be unset, is %s", i,
		    what, got);
	else {
		cr_expect_not_null(got, "case %zu: %s missing", i, what);
		if (got != NULL)
			cr_expect_str_eq(got, want, "case %zu: %s", i, what);
	}
}

Test(challenge, table)
{
	const struct challenge_case	*c;
	struct challenge		 ch;
	size_t				 i;
	char				*cause;
	int				 got;

	for (i = 0; i < nitems(challenge_cases); i++) {
		c = &challenge_cases[i];
		cause = NULL;
		got = challenge_parse(c->value, &ch, &cause);
		cr_expect_eq(got, c->want, "case %zu (%s): got %d", i, c->value,
		    got);
		if (got == -1) {
			cr_expect(cause != NULL && cause[0] != '\0',
			    "case %zu: no cause", i);
			cr_expect_null(ch.scheme, "case %zu: not cleared", i);
			free(cause);
			continue;
		}
		expect_str_or_null(ch.scheme, c->scheme, i, "scheme");
		expect_str_or_null(ch.realm, c->realm, i, "realm");
		expect_str_or_null(ch.service, c->service, i, "service");
		expect_str_or_null(ch.scope, c->scope, i, "scope");
		challenge_clear(&ch);
		cr_expect_null(ch.scheme);
	}
}

Test(retry_after, values)
{
	/* Sun, 06 Nov 1994 08:49:37 GMT */
	const int64_t	 now = 784111777 - 120;
	int64_t		 secs;

	cr_assert_eq(retry_after_parse("120", now, &secs), 0);
	cr_expect_eq(secs, 120);
	cr_assert_eq(retry_after_parse(" 0 ", now, &secs), 0);
	cr_expect_eq(secs, 0);
	cr_assert_eq(retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", now,
	    &secs), 0);
	cr_expect_eq(secs, 120);
	cr_assert_eq(retry_after_parse("Sunday, 06-Nov-94 08:49:37 GMT", now,
	    &secs), 0);
	cr_expect_eq(secs, 120);
	cr_assert_eq(retry_after_parse("Sun Nov  6 08:49:37 1994", now,
	    &secs), 0);
	cr_expect_eq(secs, 120);
	/* A date in the past means now. */
	cr_assert_eq(retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT",
	    now + 1000, &secs), 0);
	cr_expect_eq(secs, 0);

	cr_expect_eq(retry_after_parse("", now, &secs), -1);
	cr_expect_eq(retry_after_parse("-5", now, &secs), -1);
	cr_expect_eq(retry_after_parse("12s", now, &secs), -1);
	cr_expect_eq(retry_after_parse("1.5", now, &secs), -1);
	cr_expect_eq(retry_after_parse("99999999999999999999999", now, &secs),
	    -1);
	cr_expect_eq(retry_after_parse("tomorrow", now, &secs), -1);
}

struct resolve_case {
	const char	*base, *ref, *want;
};

#define B3986	"http://a/b/c/d;p?q"
static const struct resolve_case resolve_cases[] = {
	/* RFC 3986 5.4.1, normal examples */
	{ B3986, "g:h", "g:h" },
	{ B3986, "g", "http://a/b/c/g" },
	{ B3986, "./g", "http://a/b/c/g" },
	{ B3986, "g/", "http://a/b/c/g/" },
	{ B3986, "/g", "http://a/g" },
	{ B3986, "//g", "http://g" },
	{ B3986, "?y", "http://a/b/c/d;p?y" },
	{ B3986, "g?y", "http://a/b/c/g?y" },
	{ B3986, "#s", "http://a/b/c/d;p?q#s" },
	{ B3986, "g#s", "http://a/b/c/g#s" },
	{ B3986, "g?y#s", "http://a/b/c/g?y#s" },
	{ B3986, ";x", "http://a/b/c/;x" },
	{ B3986, "g;x", "http://a/b/c/g;x" },
	{ B3986, "", "http://a/b/c/d;p?q" },
	{ B3986, ".", "http://a/b/c/" },
	{ B3986, "./", "http://a/b/c/" },
	{ B3986, "..", "http://a/b/" },
	{ B3986, "../", "http://a/b/" },
	{ B3986, "../g", "http://a/b/g" },
	{ B3986, "../..", "http://a/" },
	{ B3986, "../../", "http://a/" },
	{ B3986, "../../g", "http://a/g" },
	/* 5.4.2, abnormal examples */
	{ B3986, "../../../g", "http://a/g" },
	{ B3986, "../../../../g", "http://a/g" },
	{ B3986, "/./g", "http://a/g" },
	{ B3986, "/../g", "http://a/g" },
	{ B3986, "g.", "http://a/b/c/g." },
	{ B3986, ".g", "http://a/b/c/.g" },
	{ B3986, "g..", "http://a/b/c/g.." },
	{ B3986, "..g", "http://a/b/c/..g" },
	{ B3986, "./../g", "http://a/b/g" },
	{ B3986, "./g/.", "http://a/b/c/g/" },
	{ B3986, "g/./h", "http://a/b/c/g/h" },
	{ B3986, "g/../h", "http://a/b/c/h" },
	{ B3986, "g;x=1/./y", "http://a/b/c/g;x=1/y" },
	{ B3986, "g;x=1/../y", "http://a/b/c/y" },
	{ B3986, "g?y/./x", "http://a/b/c/g?y/./x" },
	{ B3986, "g#s/../x", "http://a/b/c/g#s/../x" },
	/* registry shapes */
	{ "http://127.0.0.1:5000/v2/a/tags/list?n=2",
	  "/v2/a/tags/list?last=b&n=2",
	  "http://127.0.0.1:5000/v2/a/tags/list?last=b&n=2" },
	{ "https://h", "x", "https://h/x" },
	{ "https://h", "?q", "https://h?q" },
	{ "https://u:p@h:1/a/b", "c", "https://u:p@h:1/a/c" },
	{ "https://h/a", "https://other/x/../y", "https://other/y" },
	/* no absolute base */
	{ "/relative/base", "x", NULL },
	{ "", "x", NULL },
	{ "", "https://h/x", "https://h/x" },
};

Test(url, resolve)
{
	const struct resolve_case	*c;
	size_t				 i;
	char				*got;

	for (i = 0; i < nitems(resolve_cases); i++) {
		c = &resolve_cases[i];
		got = url_resolve(c->base, c->ref);
		if (c->want == NULL)
			cr_expect_null(got, "case %zu: %s", i, got);
		else {
			cr_expect_not_null(got, "case %zu", i);
			if (got != NULL)
				cr_expect_str_eq(got, c->want,
				    "case %zu: %s + %s", i, c->base, c->ref);
		}
		free(got);
	}
}

struct split_case {
	const char	*url, *origin, *host;
};

static const struct split_case split_cases[] = {
	{ "https://registry-1.docker.io/v2/", "https://registry-1.docker.io",
	  "registry-1.docker.io" },
	{ "HTTP://User:Pw@Host.Example:5000/x?y#z",
	  "http://host.example:5000", "host.example" },
	{ "http://[::1]:8080/v2/", "http://[::1]:8080", "[::1]" },
	{ "http://127.0.0.1?x", "http://127.0.0.1", "127.0.0.1" },
	{ "/just/a/path", NULL, NULL },
	{ "mailto:x@y", NULL, NULL },
	{ "http:///nohost", NULL, NULL },
	{ "http://[::1/", NULL, NULL },
	{ "", NULL, NULL },
};

Test(url, origin_and_host)
{
	const struct split_case	*c;
	size_t			 i;
	char			*origin, *host;

	for (i = 0; i < nitems(split_cases); i++) {
		c = &split_cases[i];
		origin = url_origin(c->url);
		host = url_host(c->url);
		expect_str_or_null(origin, c->origin, i, "origin");
		expect_str_or_null(host, c->host, i, "host");
		free(origin);
		free(host);
	}
}

Test(url, escape)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "", "" },
		{ "abc-._~XYZ019", "abc-._~XYZ019" },
		{ "repository:a/b:pull", "repository%3Aa%2Fb%3Apull" },
		{ "gAAAA+/==", "gAAAA%2B%2F%3D%3D" },
		{ "a b&c=d", "a%20b%26c%3Dd" },
		{ "\xc3\xa9", "%C3%A9" },
	};
	size_t	 i;
	char	*got;

	for (i = 0; i < nitems(cases); i++) {
		got = url_escape(cases[i].in);
		cr_expect_str_eq(got, cases[i].out, "case %zu", i);
		free(got);
	}
}

Test(base64, rfc4648_vectors)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "", "" },
		{ "f", "Zg==" },
		{ "fo", "Zm8=" },
		{ "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
		{ "user:dckr_pat_x", "dXNlcjpkY2tyX3BhdF94" },
	};
	const unsigned char	 bin[] = { 0xff, 0xfe, 0x00, 0x3f };
	size_t			 i;
	char			*got;

	for (i = 0; i < nitems(cases); i++) {
		got = base64_encode(cases[i].in, strlen(cases[i].in));
		cr_expect_str_eq(got, cases[i].out, "case %zu", i);
		free(got);
	}
	got = base64_encode(bin, sizeof bin);
	cr_expect_str_eq(got, "//4APw==");
	free(got);
}

/*
 * Random strings over the characters the parsers care about: whatever comes
 * back must be consistent (a value or a cause), and nothing may crash or
 * read out of bounds (run under valgrind or ASan to see the latter).
 */
Test(hostile, random_inputs)
{
	static const char	 alphabet[] = "<>;,=\"\\ \t/:?#.@[]relnxtREL";
	struct challenge	 ch;
	const char		*values[1];
	char			 s[65], *next, *cause, *u;
	uint32_t		 seed = 12345;
	int64_t			 secs;
	size_t			 i, j, len;
	int			 got;

	for (i = 0; i < 20000; i++) {
		seed = seed * 1103515245 + 12345;
		len = (seed >> 16) % (sizeof s);
		for (j = 0; j < len; j++) {
			seed = seed * 1103515245 + 12345;
			s[j] = alphabet[(seed >> 16) % (sizeof alphabet - 1)];
		}
		s[len] = '\0';

		values[0] = s;
		next = cause = NULL;
		got = link_next_values(values, 1, "http://h/a/b", &next,
		    &cause);
		cr_assert(got >= -1 && got <= 1);
		cr_assert(got != 1 || next != NULL, "input %s", s);
		cr_assert(got != -1 || cause != NULL, "input %s", s);
		free(next);
		free(cause);

		cause = NULL;
		got = challenge_parse(s, &ch, &cause);
		cr_assert(got == 0 ? ch.scheme != NULL : cause != NULL,
		    "input %s", s);
		challenge_clear(&ch);
		free(cause);

		free(url_resolve("http://h/a/b?q", s));
		free(url_resolve(s, "../x"));
		free(url_origin(s));
		free(url_host(s));
		free(url_escape(s));
		(void)retry_after_parse(s, 0, &secs);
		u = base64_encode(s, len);
		cr_assert_eq(strlen(u), (len + 2) / 3 * 4);
		free(u);
	}
}

/* ------------------------------------------------- header_list_line() */

static void
feed(struct header_list *h, const char *line)
{
	header_list_line(h, line, strlen(line));
}

Test(header_list, lines)
{
	struct header_list	 h = { 0 };

	feed(&h, "HTTP/1.1 302 Found\r\n");
	feed(&h, "Location: /x\r\n");
	cr_assert_eq(h.n, 1);
	/* A new status line: the list starts again. */
	cr_expect_eq(header_list_line(&h, "HTTP/1.1 200 OK\r\n", 17), 1);
	cr_assert_eq(h.n, 0);
	feed(&h, "\tleading fold with nothing before it\r\n");
	cr_assert_eq(h.n, 0);
	feed(&h, "Content-Type :  text/plain \r\n");
	feed(&h, "X-Long: one\r\n");
	feed(&h, "   two\r\n");
	feed(&h, "\t three \r\n");
	feed(&h, "not a header\r\n");
	feed(&h, "Empty:\r\n");
	feed(&h, "\r\n");
	cr_assert_eq(h.n, 3);
	cr_expect_str_eq(h.v[0].name, "Content-Type");
	cr_expect_str_eq(h.v[0].value, "text/plain");
	cr_expect_str_eq(h.v[1].name, "X-Long");
	cr_expect_str_eq(h.v[1].value, "one two three");
	cr_expect_str_eq(h.v[2].name, "Empty");
	cr_expect_str_eq(h.v[2].value, "");
	header_list_clear(&h);
	cr_expect_eq(h.n, 0);
	cr_expect_null(h.v);
}

/*
 * More folded lines than libcurl lets through (it stops at 300 KiB of
 * headers, about 77000 such lines): the value is right and the bytes moved
 * stay within a small multiple of the bytes given.  Appending each line by
 * copying the value so far moved about FOLDS² bytes (10^10 here).
 */
Test(header_list, many_folded_lines_take_linear_work)
{
	enum { FOLDS = 100000 };
	struct header_list	 h = { 0 };
	size_t			 in = 0, i;
	char			 line[32];

	feed(&h, "HTTP/1.1 200 OK\r\n");
	feed(&h, "X-Fold: v\r\n");
	in += 11;
	for (i = 0; i < FOLDS; i++) {
		snprintf(line, sizeof line, " %zu\r\n", i % 10);
		feed(&h, line);
		in += strlen(line);
	}
	feed(&h, "After: 1\r\n");
	in += 10;
	cr_assert_eq(h.n, 2);
	cr_assert_eq(strlen(h.v[0].value), 1 + 2 * (size_t)FOLDS);
	for (i = 0; i < FOLDS; i++) {
		if (h.v[0].value[1 + 2 * i] != ' ' ||
		    h.v[0].value[2 + 2 * i] != (char)('0' + i % 10))
			cr_assert_fail("value wrong at fold %zu", i);
	}
	cr_expect_str_eq(h.v[1].value, "1");
	cr_expect_leq(h.copied, 3 * in, "%zu bytes moved for %zu given",
	    h.copied, in);
	header_list_clear(&h);
}

/* Many headers, not folded: the array grows by doubling too. */
Test(header_list, many_headers_take_linear_work)
{
	enum { N = 50000 };
	struct header_list	 h = { 0 };
	size_t			 in = 0, i;
	char			 line[32];

	for (i = 0; i < N; i++) {
		snprintf(line, sizeof line, "H%zu: %zu\r\n", i, i);
		feed(&h, line);
		in += strlen(line);
	}
	cr_assert_eq(h.n, N);
	cr_expect_str_eq(h.v[N - 1].name, "H49999");
	cr_expect_leq(h.copied, in + 2 * N * sizeof *h.v, "%zu moved",
	    h.copied);
	header_list_clear(&h);
}
