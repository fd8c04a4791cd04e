/*
 * test-child.c: child.c on a real event loop: a command's stdout and the
 * last line of its stderr, its exit status, a function run in the forked
 * child, the environment (cleared, plus what the caller adds), the
 * timeout and the output cap (both kill the group, a grandchild too), and
 * cancel; no descriptor of the daemon reaches the child.
 */
#include <sys/types.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <event2/event.h>

#include "child.h"

struct got {
	int		 done;
	int		 status, signal, timed_out, overflow;
	char		*out, *err;
};

static void
got_cb(struct child_result *r, void *arg)
{
	struct got	*g = arg;

	g->done++;
	g->status = r->status;
	g->signal = r->signal;
	g->timed_out = r->timed_out;
	g->overflow = r->overflow;
	g->out = xstrndup(r->out.data != NULL ? r->out.data : "", r->out.len);
	g->err = r->err_line != NULL ? xstrdup(r->err_line) : NULL;
}

static void
run(const struct child_conf *cf, struct got *g)
{
	struct event_base	*base = event_base_new();
	struct child		*c;
	char			*cause = NULL;

	memset(g, 0, sizeof *g);
	c = child_start(base, cf, got_cb, g, &cause);
	cr_assert_not_null(c, "%s", cause);
	event_base_dispatch(base);
	event_base_free(base);
	cr_assert_eq(g->done, 1);
}

Test(child, command_output)
{
	const char	*argv[] = { "sh", "-c",
	    "echo out; echo first >&2; echo 'last line' >&2; exit 3", NULL };
	struct child_conf cf = { .argv = argv };
	struct got	 g;

	run(&cf, &g);
	cr_assert_eq(g.status, 3);
	cr_assert_str_eq(g.out, "out\n");
	cr_assert_str_eq(g.err, "last line");
	free(g.out);
	free(g.err);
}

static int
in_child(void *arg)
{
	printf("hello %s", (const char *)arg);
	fflush(stdout);
	return (0);
}

Test(child, function)
{
	struct child_conf cf = { .fn = in_child, .fn_arg = "there" };
	struct got	 g;

	run(&cf, &g);
	cr_assert_eq(g.status, 0);
	cr_assert_str_eq(g.out, "hello there");
	free(g.out);
}

Test(child, environment)
{
	const char	*argv[] = { "sh", "-c",
	    "echo \"$AW_CHILD_SECRET/${AW_CHILD_ADDED}/$PATH\"", NULL };
	const char	*env[] = { "AW_CHILD_ADDED=yes", NULL };
	struct child_conf cf = { .argv = argv, .env = env, .clear_env = 1 };
	struct got	 g;

	setenv("AW_CHILD_SECRET", "daemon-secret", 1);
	run(&cf, &g);
	cr_assert_eq(strncmp(g.out, "/yes/", 5), 0, "%s", g.out);
	free(g.out);
}

/* Dead (or a zombie), waiting up to 5 s for the SIGKILL to land. */
static int
gone(pid_t pid)
{
	char	 path[64], buf[512], *p;
	FILE	*f;
	int	 i;

	for (i = 0; i < 500; i++) {
		if (kill(pid, 0) != 0)
			return (1);
		snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
		if ((f = fopen(path, "r")) != NULL) {
			p = fgets(buf, sizeof buf, f);
			fclose(f);
			if (p != NULL && (p = strrchr(buf, ')')) != NULL &&
			    p[1] == ' ' && p[2] == 'Z')
				return (1);
		}
		usleep(10000);
	}
	return (0);
}

Test(child, timeout_kills_group)
{
	const char	*argv[] = { "sh", "-c",
	    "sleep 60 & echo $!; sleep 60", NULL };
	struct child_conf cf = { .argv = argv, .timeout_ms = 300 };
	struct got	 g;
	pid_t		 grandchild;

	run(&cf, &g);
	cr_assert(g.timed_out);
	cr_assert_eq(g.signal, SIGKILL);
	grandchild = (pid_t)atoi(g.out);
	cr_assert_gt(grandchild, 0);
	/* Killed with the group (it may stay a zombie until init reaps). */
	cr_assert(gone(grandchild), "the grandchild %d outlived the kill",
	    (int)grandchild);
	free(g.out);
}

Test(child, output_cap)
{
	const char	*argv[] = { "sh", "-c",
	    "while :; do echo xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; done", NULL };
	struct child_conf cf = { .argv = argv, .max_out = 4096 };
	struct got	 g;

	run(&cf, &g);
	cr_assert(g.overflow);
	cr_assert_eq(strlen(g.out), 4096);
	free(g.out);
}

Test(child, missing_program)
{
	const char	*argv[] = { "/nonexistent/aw-program", NULL };
	struct child_conf cf = { .argv = argv };
	struct got	 g;
	char		*cause;

	run(&cf, &g);
	cr_assert_eq(g.status, 127);
	cr_assert_not_null(strstr(g.err, "cannot run"));
	cause = child_cause(&(struct child_result){ .status = 127,
	    .err_line = g.err }, "script");
	cr_assert_str_eq(cause, "script exit status 127: cannot run "
	    "/nonexistent/aw-program: No such file or directory");
	free(cause);
	free(g.err);
	free(g.out);
}

Test(child, cancel)
{
	const char	*argv[] = { "sleep", "60", NULL };
	struct child_conf cf = { .argv = argv };
	struct event_base *base = event_base_new();
	struct child	*c;
	struct got	 g;
	char		*cause = NULL;

	memset(&g, 0, sizeof g);
	c = child_start(base, &cf, got_cb, &g, &cause);
	cr_assert_not_null(c);
	child_cancel(c);
	event_base_loop(base, EVLOOP_NONBLOCK);
	cr_assert_eq(g.done, 0);
	event_base_free(base);
}

Test(child, no_inherited_descriptors)
{
	const char	*argv[] = { "sh", "-c", "ls /proc/self/fd", NULL };
	struct child_conf cf = { .argv = argv };
	struct got	 g;
	char		*line, *save = NULL;
	int		 fd;

	fd = dup2(0, 100);	/* a daemon's socket, not close-on-exec */
	cr_assert_eq(fd, 100);
	run(&cf, &g);
	for (line = strtok_r(g.out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		cr_assert_neq(atoi(line), 100, "descriptor 100 leaked");
	close(fd);
	free(g.out);
}
