/*
 * test-api.c: the pure parts of the HTTP API: Prometheus text lines with
 * hostile label values and help texts (api-metrics.c), and api.listen
 * addresses with their loopback verdict (config-api.c).  The endpoints
 * themselves are tested against a running watcher in
 * tests/integration/test_api.py.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "api.h"
#include "config.h"

Test(metrics, sample_escapes_label_values)
{
	struct buf	 b = { 0 };

	metrics_sample(&b, "aw_x_total", "source", "a\"b\\c\nd", 3);
	cr_assert_str_eq(b.data, "aw_x_total{source=\"a\\\"b\\\\c\\nd\"} 3\n");
	buf_free(&b);
}

Test(metrics, sample_without_label_and_fractions)
{
	struct buf	 b = { 0 };

	metrics_sample(&b, "aw_up", NULL, NULL, 1);
	metrics_sample(&b, "aw_s", "c", "x", 12.345);
	metrics_sample(&b, "aw_t", "c", "x", 1795459398);
	cr_assert_str_eq(b.data, "aw_up 1\naw_s{c=\"x\"} 12.345\n"
	    "aw_t{c=\"x\"} 1795459398\n");
	buf_free(&b);
}

Test(metrics, family_escapes_help_but_not_quotes)
{
	struct buf	 b = { 0 };

	metrics_family(&b, "aw_x", "gauge", "say \"hi\"\\ now\nthen");
	cr_assert_str_eq(b.data, "# HELP aw_x say \"hi\"\\\\ now\\nthen\n"
	    "# TYPE aw_x gauge\n");
	buf_free(&b);
}

struct listen_case {
	const char	*listen;
	int		 ok;
	const char	*host;
	unsigned	 port;
	int		 loopback;
};

static const struct listen_case listen_cases[] = {
	{ "127.0.0.1:9090", 1, "127.0.0.1", 9090, 1 },
	{ "127.1.2.3:0", 1, "127.1.2.3", 0, 1 },
	{ "localhost:8080", 1, "127.0.0.1", 8080, 1 },
	{ "[::1]:9090", 1, "::1", 9090, 1 },
	{ "0.0.0.0:9090", 1, "0.0.0.0", 9090, 0 },
	{ "10.1.2.3:80", 1, "10.1.2.3", 80, 0 },
	{ "[::]:9090", 1, "::", 9090, 0 },
	{ "9090", 0, NULL, 0, 0 },
	{ "127.0.0.1:", 0, NULL, 0, 0 },
	{ "127.0.0.1:65536", 0, NULL, 0, 0 },
	{ "127.0.0.1:90a", 0, NULL, 0, 0 },
	{ "example.com:9090", 0, NULL, 0, 0 },
	{ "::1:9090", 0, NULL, 0, 0 },
	{ "[::1]9090", 0, NULL, 0, 0 },
	{ "[127.0.0.1]:9090", 0, NULL, 0, 0 },
	{ "", 0, NULL, 0, 0 },
};

Test(config_api, listen_addresses)
{
	const struct listen_case	*c;
	struct api_addr			 a;
	char				*cause;
	size_t				 i;

	for (i = 0; i < nitems(listen_cases); i++) {
		c = &listen_cases[i];
		cause = NULL;
		if (!c->ok) {
			cr_assert_eq(api_listen_parse(c->listen, &a, &cause),
			    -1, "%s accepted", c->listen);
			cr_assert(cause != NULL && *cause != '\0');
			free(cause);
			continue;
		}
		cr_assert_eq(api_listen_parse(c->listen, &a, &cause), 0,
		    "%s: %s", c->listen, cause);
		cr_assert_str_eq(a.host, c->host, "%s", c->listen);
		cr_assert_eq(a.port, c->port, "%s", c->listen);
		cr_assert_eq(a.loopback, c->loopback, "%s", c->listen);
		free(a.host);
	}
}

/* Without a token, POSTs must be JSON from no origin or the API's own. */
Test(api_guard, json_content_type)
{
	cr_assert(api_guard_json_type("application/json"));
	cr_assert(api_guard_json_type("Application/JSON; charset=utf-8"));
	cr_assert(api_guard_json_type(" application/json ;x=y"));
	cr_assert_not(api_guard_json_type(NULL));
	cr_assert_not(api_guard_json_type(""));
	cr_assert_not(api_guard_json_type("application/x-www-form-urlencoded"));
	cr_assert_not(api_guard_json_type("multipart/form-data; boundary=x"));
	cr_assert_not(api_guard_json_type("text/plain"));
	cr_assert_not(api_guard_json_type("application/jsonp"));
	cr_assert_not(api_guard_json_type("application/json-seq"));
}

Test(api_guard, own_origin)
{
	cr_assert(api_guard_own_origin("http://127.0.0.1:9090", 9090));
	cr_assert(api_guard_own_origin("http://localhost:9090", 9090));
	cr_assert(api_guard_own_origin("http://[::1]:9090", 9090));
	cr_assert(api_guard_own_origin("http://127.0.0.1", 80));
	cr_assert(api_guard_own_origin("HTTP://127.0.0.2:9090", 9090));
	cr_assert_not(api_guard_own_origin("http://127.0.0.1:9091", 9090));
	cr_assert_not(api_guard_own_origin("http://127.0.0.1", 9090));
	cr_assert_not(api_guard_own_origin("https://127.0.0.1:9090", 9090));
	cr_assert_not(api_guard_own_origin("http://evil.example:9090", 9090));
	cr_assert_not(api_guard_own_origin("http://10.0.0.1:9090", 9090));
	cr_assert_not(api_guard_own_origin("null", 9090));
	cr_assert_not(api_guard_own_origin("", 9090));
	cr_assert_not(api_guard_own_origin("http://", 9090));
	cr_assert_not(api_guard_own_origin("http://127.0.0.1:9090/x", 9090));
	cr_assert_not(api_guard_own_origin("http://a@127.0.0.1:9090", 9090));
	cr_assert_not(api_guard_own_origin("http://[::1", 9090));
}

Test(api_guard, check)
{
	cr_assert_null(api_guard_check("application/json", NULL, 9090));
	cr_assert_null(api_guard_check("application/json",
	    "http://localhost:9090", 9090));
	cr_assert_not_null(api_guard_check(NULL, NULL, 9090));
	cr_assert_not_null(api_guard_check("application/x-www-form-urlencoded",
	    NULL, 9090));
	cr_assert_not_null(api_guard_check("text/plain",
	    "http://127.0.0.1:9090", 9090));
	cr_assert_not_null(api_guard_check("application/json",
	    "http://evil.example", 9090));
	cr_assert_not_null(api_guard_check("application/json", "null", 9090));
}
