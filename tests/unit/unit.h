/*
 * unit.h: what the Criterion unit tests share, so that no suite keeps its
 * own copy: reading a fixture file, walking a directory of recorded
 * inputs against their .expect files, an event loop with a guard timer
 * and run_until(), and one evhttp stub server on a free loopback port.
 *
 * Everything is static in this header (each test is one program); the
 * functions are marked unused so that a suite includes what it needs.
 */
#ifndef UNIT_H
#define UNIT_H

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/http.h>
#include <criterion/criterion.h>

#include "watcher.h"
#include "json.h"

/*
 * A whole file, NUL-terminated (it may hold NULs: *len says how long), or
 * NULL when it cannot be opened.
 */
static __unused char *
ut_read_file(const char *path, size_t *len)
{
	FILE		*f;
	struct buf	 b = { 0 };
	char		 chunk[4096];
	size_t		 n;

	if ((f = fopen(path, "rb")) == NULL)
		return (NULL);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&b, chunk, n);
	cr_assert_not(ferror(f), "cannot read %s", path);
	fclose(f);
	if (b.data == NULL)
		buf_adds(&b, "");
	if (len != NULL)
		*len = b.len;
	return (buf_take(&b));
}

/* The same, failing the test when the file is not there. */
static __unused char *
ut_slurp(const char *path, size_t *len)
{
	char	*data;

	data = ut_read_file(path, len);
	cr_assert_not_null(data, "cannot open %s (run from the top directory)",
	    path);
	return (data);
}

/* The fixture dir/name (dir ends in '/'), failing the test without it. */
static __unused char *
ut_fixture(const char *dir, const char *name, size_t *len)
{
	char	*path, *data;

	xasprintf(&path, "%s%s", dir, name);
	data = ut_slurp(path, len);
	free(path);
	return (data);
}

/* The same, parsed with json_parse (the test fails if it is not JSON). */
static __unused cJSON *
ut_fixture_json(const char *dir, const char *name)
{
	size_t	 len;
	char	*body = ut_fixture(dir, name, &len), *cause = NULL;
	cJSON	*doc = NULL;

	cr_assert_eq(json_parse(body, len, &doc, &cause), 0, "%s: %s", name,
	    cause);
	free(body);
	return (doc);
}

/*
 * The fixture walker: every file PREFIX…EXT in dir (ext with its dot, ""
 * for any; never the .expect files themselves) is a case beside
 * NAME.expect; check(dir, file, expect text, arg) runs for each.  Returns
 * how many cases it found.
 */
typedef void (*ut_check_fn)(const char *dir, const char *file,
    const char *expect, void *arg);

static __unused size_t
ut_expect_files(const char *dir, const char *prefix, const char *ext,
    ut_check_fn check, void *arg)
{
	DIR		*d;
	struct dirent	*de;
	char		*expect_path, *expect, *dot;
	size_t		 checked = 0;

	d = opendir(dir);
	cr_assert_not_null(d, "no %s (run from the top directory)", dir);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' ||
		    (dot = strrchr(de->d_name, '.')) == NULL ||
		    strcmp(dot, ".expect") == 0 ||
		    strncmp(de->d_name, prefix, strlen(prefix)) != 0 ||
		    (*ext != '\0' && strcmp(dot, ext) != 0))
			continue;
		xasprintf(&expect_path, "%s/%.*s.expect", dir,
		    (int)(dot - de->d_name), de->d_name);
		expect = ut_slurp(expect_path, NULL);
		check(dir, de->d_name, expect, arg);
		free(expect);
		free(expect_path);
		checked++;
	}
	closedir(d);
	return (checked);
}

/*
 * The common case: render() writes what the code under test made of the
 * file's bytes as text, which must equal NAME.expect.  A new case is a new
 * pair of files.
 */
typedef void (*ut_render_fn)(const char *body, size_t len, struct buf *out);

static __unused void
ut_check_render(const char *dir, const char *file, const char *expect,
    void *arg)
{
	ut_render_fn	 render = *(ut_render_fn *)arg;
	struct buf	 got = { 0 };
	char		*path, *body;
	size_t		 len;

	xasprintf(&path, "%s/%s", dir, file);
	body = ut_slurp(path, &len);
	render(body, len, &got);
	cr_expect_str_eq(got.data != NULL ? got.data : "", expect,
	    "%s: got\n%s\nwanted\n%s", path,
	    got.data != NULL ? got.data : "", expect);
	buf_free(&got);
	free(body);
	free(path);
}

static __unused size_t
ut_fixtures(const char *dir, ut_render_fn render)
{
	return (ut_expect_files(dir, "", "", ut_check_render, &render));
}

/*
 * An event loop with a guard: ut_loop_init() makes the base and arms a
 * timer that, after guard_s seconds, makes run_until() fail the test
 * instead of hanging it.
 */
struct ut_loop {
	struct event_base	*base;
	struct event		*guard;
	int			 timed_out;
};

static __unused void
ut_guard_fired(__unused evutil_socket_t fd, __unused short what, void *arg)
{
	struct ut_loop	*l = arg;

	l->timed_out = 1;
	event_base_loopbreak(l->base);
}

static __unused void
ut_loop_init(struct ut_loop *l, int guard_s)
{
	struct timeval	 tv = { guard_s, 0 };

	memset(l, 0, sizeof *l);
	l->base = event_base_new();
	cr_assert_not_null(l->base);
	l->guard = evtimer_new(l->base, ut_guard_fired, l);
	evtimer_add(l->guard, &tv);
}

static __unused void
ut_loop_free(struct ut_loop *l)
{
	if (l->guard != NULL)
		event_free(l->guard);
	if (l->base != NULL)
		event_base_free(l->base);
	memset(l, 0, sizeof *l);
}

/* Step the loop until *flag reaches at least n, or fail on the guard. */
static __unused void
ut_run_until_count(struct ut_loop *l, const int *flag, int n)
{
	while (*flag < n && !l->timed_out)
		event_base_loop(l->base, EVLOOP_ONCE);
	cr_assert(!l->timed_out, "timed out waiting (%d of %d)", *flag, n);
}

/* Step the loop until *flag is non-zero, or fail on the guard. */
#define ut_run_until(l, flag)	ut_run_until_count((l), (flag), 1)

/*
 * One evhttp stub server on 127.0.0.1 and a free port: cb answers every
 * request.  The port it got is in stub->port.
 */
struct ut_stub {
	struct evhttp	*http;
	int		 port;
};

static __unused int
ut_bound_port(evutil_socket_t fd)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof ss;

	cr_assert_eq(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	if (ss.ss_family == AF_INET6)
		return (ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
	return (ntohs(((struct sockaddr_in *)&ss)->sin_port));
}

static __unused void
ut_stub_start(struct ut_stub *s, struct event_base *base, const char *addr,
    void (*cb)(struct evhttp_request *, void *), void *arg)
{
	struct evhttp_bound_socket	*bs;

	memset(s, 0, sizeof *s);
	s->http = evhttp_new(base);
	cr_assert_not_null(s->http);
	evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
	evhttp_set_gencb(s->http, cb, arg);
	bs = evhttp_bind_socket_with_handle(s->http,
	    addr != NULL ? addr : "127.0.0.1", 0);
	cr_assert_not_null(bs, "cannot bind %s", addr != NULL ? addr :
	    "127.0.0.1");
	s->port = ut_bound_port(evhttp_bound_socket_get_fd(bs));
}

static __unused void
ut_stub_stop(struct ut_stub *s)
{
	if (s->http != NULL)
		evhttp_free(s->http);
	s->http = NULL;
}

#endif
