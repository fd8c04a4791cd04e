/*
 * test-provider-docker-hub.c: the Hub API pieces of the DockerRegistry
 * provider (providers/docker/docker-hub.c): the first page's URL and the parser of
 * a page, on recorded-shape answers and hostile ones.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "watcher.h"
#include "../../providers/docker/provider-docker.h"
#include "fetch.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"

Test(docker_hub, first_page_url)
{
	char	*u;

	u = docker_hub_tags_url("https://hub.docker.com/", "library/nginx", 0);
	cr_expect_str_eq(u, "https://hub.docker.com/v2/namespaces/library/"
	    "repositories/nginx/tags?page_size=100&ordering=last_updated");
	free(u);
	u = docker_hub_tags_url("http://127.0.0.1:9", "me/app", 20);
	cr_expect_str_eq(u, "http://127.0.0.1:9/v2/namespaces/me/repositories/"
	    "app/tags?page_size=20&ordering=last_updated", "cap under 100");
	free(u);
	cr_expect_null(docker_hub_tags_url("https://h", "nginx", 0));
}

Test(docker_hub, parses_a_page)
{
	const char		*body = "{\"count\":3,\"next\":\"https://hub."
	    "docker.com/v2/namespaces/library/repositories/x/tags?page=2\","
	    "\"previous\":null,\"results\":["
	    "{\"name\":\"1.2\",\"digest\":\"" D1 "\",\"last_updated\":"
	    "\"2026-01-01T10:00:00.123456Z\",\"tag_last_pushed\":"
	    "\"2026-01-01T09:00:00Z\"},"
	    "{\"name\":\"1.1\",\"digest\":\"nope\",\"last_updated\":"
	    "\"2026-01-01T08:00:00Z\"},"
	    "{\"name\":\"old\"}]}";
	struct docker_hub_tag	*t;
	char			*next, *cause = NULL;
	size_t			 n;

	cr_assert_eq(docker_parse_hub_tags(body, strlen(body), &t, &n, &next,
	    &cause), 0, "%s", cause);
	cr_assert_eq(n, 3);
	cr_expect_str_eq(t[0].name, "1.2");
	cr_expect_str_eq(t[0].digest, D1);
	cr_expect_eq(t[0].pushed_at, 1767258000, "tag_last_pushed first");
	cr_expect_null(t[1].digest, "not a digest: dropped");
	cr_expect_eq(t[1].pushed_at, 1767254400);
	cr_expect_eq(t[2].pushed_at, 0);
	cr_expect_str_eq(next, "https://hub.docker.com/v2/namespaces/library/"
	    "repositories/x/tags?page=2");
	docker_hub_tags_free(t, n);
	free(next);
}

Test(docker_hub, last_page_has_no_next)
{
	const char		*body = "{\"next\":null,\"results\":[]}";
	struct docker_hub_tag	*t;
	char			*next, *cause = NULL;
	size_t			 n;

	cr_assert_eq(docker_parse_hub_tags(body, strlen(body), &t, &n, &next,
	    &cause), 0, "%s", cause);
	cr_expect_eq(n, 0);
	cr_expect_null(next);
	docker_hub_tags_free(t, n);
}

Test(docker_hub, hostile_pages_are_errors)
{
	static const char *const bad[] = {
		"", "<html>", "[]", "{}", "{\"results\":{}}",
		"{\"results\":[{\"name\":5}]}",
		"{\"results\":[{\"name\":\"bad tag\"}]}",
		"{\"results\":[],\"next\":7}",
		"{\"results\":[{\"digest\":\"" D1 "\"}]}",
	};
	struct docker_hub_tag	*t;
	char			*next, *cause;
	size_t			 i, n;

	for (i = 0; i < nitems(bad); i++) {
		cause = NULL;
		cr_expect_eq(docker_parse_hub_tags(bad[i], strlen(bad[i]), &t,
		    &n, &next, &cause), -1, "%s", bad[i]);
		cr_expect_not_null(cause);
		cr_expect_null(t);
		cr_expect_null(next);
		free(cause);
	}
}
