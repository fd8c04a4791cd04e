/*
 * test-exec.c: the Exec sink running real shell scripts written to a temp
 * directory: the event on stdin and CE_* in a built environment (a secret
 * by secretEnv, nothing else of the daemon's), exit 0 / 75 / other mapped
 * to delivered / retry / permanent with stderr's last line, a timeout that
 * kills the command's whole process group (a forked child too), output
 * that is drained but not kept, two runs at once, cancel, and config
 * errors with their position.  The config goes through the real loader.
 */
#include <sys/stat.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <event2/event.h>

#include "sink.h"

#define SECRET	"exec-s3cr3t-value"

struct outcome {
	int		 called;
	enum delivery	 result;
	char		*cause;
};

static struct event_base	*base;
static struct env		 env;
static struct config		*conf;
static char			 dir[64];
static char			 conf_path[128];
static int			 pending;	/* outcomes still to come */

static void
setup(void)
{
	signal(SIGPIPE, SIG_IGN);	/* as main() does */
	base = event_base_new();
	cr_assert_not_null(base);
	memset(&env, 0, sizeof env);
	env.base = base;
	snprintf(dir, sizeof dir, "/tmp/test-exec-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	setenv("AW_TEST_EXEC_KEY", SECRET, 1);
	setenv("AW_TEST_EXEC_LEAK", "leaked", 1);
}

static void
teardown(void)
{
	char	*cmd;

	config_free(conf);
	conf = NULL;
	event_base_free(base);
	xasprintf(&cmd, "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
	free(cmd);
}

TestSuite(exec, .init = setup, .fini = teardown, .timeout = 30);

/* Write an executable script into the temp dir; returns its path. */
static char *
script(const char *name, const char *body)
{
	char	*path;
	FILE	*f;

	xasprintf(&path, "%s/%s", dir, name);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	cr_assert_eq(chmod(path, 0755), 0);
	return (path);
}

/* Load a config whose one sink "run" has this spec (YAML flow). */
static struct config *
load(const char *spec, struct cfg_errors *errs)
{
	FILE	*f;

	snprintf(conf_path, sizeof conf_path, "%s/watcher.yaml", dir);
	f = fopen(conf_path, "w");
	cr_assert_not_null(f);
	fprintf(f, "secrets:\n  exec_key: env:AW_TEST_EXEC_KEY\n"
	    "sinks:\n  - identifier: run\n    type: Exec\n"
	    "    spec: %s\n", spec);
	fclose(f);
	return (config_load(conf_path, errs));
}

static struct sink *
make_sink(const char *spec)
{
	struct cfg_errors	 errs = { 0 };
	struct sink		*s;
	char			*cause = NULL;
	size_t			 i;

	conf = load(spec, &errs);
	for (i = 0; i < errs.n; i++)
		cr_log_error("%s", errs.msg[i]);
	cr_assert_not_null(conf, "config_load failed");
	cfg_errors_free(&errs);
	env.conf = conf;
	s = sink_create(&env, config_sink(conf, "run"), &cause);
	cr_assert_not_null(s, "sink_create: %s", cause);
	return (s);
}

/* A sink running one script with these extra spec keys. */
static struct sink *
sink_for(const char *path, const char *extra)
{
	struct sink	*s;
	char		*spec;

	xasprintf(&spec, "{ command: [\"%s\", \"arg one\"]%s }", path, extra);
	s = make_sink(spec);
	free(spec);
	return (s);
}

static void
outcome_cb(enum delivery result, int64_t retry_after_ms, const char *cause,
    void *arg)
{
	struct outcome	*o = arg;

	cr_assert_eq(retry_after_ms, -1);
	o->called++;
	o->result = result;
	o->cause = cause != NULL ? xstrdup(cause) : NULL;
	if (--pending == 0)
		event_base_loopbreak(base);
}

static const struct outbox_entry sample = {
	.key = "1-0",
	.id = "e6810a5ffef042de2c1aee1b674c5c32",
	.source = "nginx",
	.json = "{\"specversion\":\"1.0\",\"id\":"
	    "\"e6810a5ffef042de2c1aee1b674c5c32\",\"type\":\"artifact.created\","
	    "\"source\":\"/artifact-watcher/sources/nginx\","
	    "\"subject\":\"library/nginx:1.27.3\","
	    "\"time\":\"2026-11-22T10:00:00Z\",\"data\":{}}",
};

static void
deliver(struct sink *s, const struct outbox_entry *e, struct outcome *o)
{
	memset(o, 0, sizeof *o);
	pending = 1;
	s->entry->deliver(s, e, outcome_cb, o);
	cr_assert_eq(o->called, 0, "done ran before deliver returned");
	event_base_dispatch(base);
	cr_assert_eq(o->called, 1);
}

static char *
slurp(const char *name)
{
	char	*path, *text;
	FILE	*f;
	long	 n;

	xasprintf(&path, "%s/%s", dir, name);
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s was not written", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	text = xcalloc(1, (size_t)n + 1);
	cr_assert_eq(fread(text, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	free(path);
	return (text);
}

Test(exec, event_on_stdin_and_ce_environment)
{
	struct sink	*s;
	struct outcome	 o;
	char		*path, *body, *in, *envtext, *args;

	xasprintf(&body, "cat > %s/in\nenv > %s/env\n"
	    "printf '%%s|' \"$@\" > %s/args\necho fine", dir, dir, dir);
	path = script("ok.sh", body);
	s = sink_for(path, ", secretEnv: { DEPLOY_TOKEN: exec_key }, "
	    "env: { STAGE: prod }");
	deliver(s, &sample, &o);
	cr_assert_eq(o.result, DELIVERY_OK, "%s", o.cause);
	cr_assert_null(o.cause);

	in = slurp("in");
	cr_assert_str_eq(in, sample.json);
	args = slurp("args");
	cr_assert_str_eq(args, "arg one|");
	envtext = slurp("env");
	cr_assert(strstr(envtext, "CE_ID=" "e6810a5ffef042de2c1aee1b674c5c32\n"));
	cr_assert(strstr(envtext, "CE_TYPE=artifact.created\n"));
	cr_assert(strstr(envtext, "CE_SUBJECT=library/nginx:1.27.3\n"));
	cr_assert(strstr(envtext, "CE_SOURCE=/artifact-watcher/sources/nginx\n"));
	cr_assert(strstr(envtext, "CE_TIME=2026-11-22T10:00:00Z\n"));
	cr_assert(strstr(envtext, "DEPLOY_TOKEN=" SECRET "\n"));
	cr_assert(strstr(envtext, "STAGE=prod\n"));
	cr_assert(strstr(envtext, "PATH="));
	/* The daemon's own environment (secrets' values) is not passed on. */
	cr_assert_null(strstr(envtext, "AW_TEST_EXEC"), "%s", envtext);
	cr_assert_null(strstr(args, SECRET));
	free(in);
	free(args);
	free(envtext);
	free(body);
	free(path);
	sink_free(s);
}

Test(exec, exit_75_is_retried_with_stderr)
{
	struct sink	*s;
	struct outcome	 o;
	char		*path;

	path = script("busy.sh", "cat >/dev/null\necho 'first' >&2\n"
	    "echo 'deploy lock held, try later' >&2\nexit 75");
	s = sink_for(path, "");
	deliver(s, &sample, &o);
	cr_assert_eq(o.result, DELIVERY_RETRY);
	cr_assert_str_eq(o.cause, "exec run: exit 75: deploy lock held, try "
	    "later");
	free(o.cause);
	free(path);
	sink_free(s);
}

Test(exec, other_exit_is_permanent_with_last_stderr_line)
{
	struct sink	*s;
	struct outcome	 o;
	char		*path;

	path = script("bad.sh", "echo 'noise' >&2\necho 'step 1 ok'\n"
	    "printf 'error: no such environment \\033[31mprod\\n\\n' >&2\n"
	    "exit 3");
	s = sink_for(path, "");
	deliver(s, &sample, &o);
	cr_assert_eq(o.result, DELIVERY_PERMANENT);
	cr_assert_str_eq(o.cause, "exec run: exit 3: error: no such "
	    "environment  [31mprod");
	free(o.cause);
	free(path);
	sink_free(s);
}

/* Is the process gone (or a zombie nobody reaped, in a container)? */
static int
process_gone(pid_t pid)
{
	char	 path[64], buf[256], *p;
	FILE	*f;
	int	 gone;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return (1);
	gone = fgets(buf, sizeof buf, f) != NULL &&
	    (p = strrchr(buf, ')')) != NULL && p[1] == ' ' &&
	    (p[2] == 'Z' || p[2] == 'X');
	fclose(f);
	return (gone);
}

Test(exec, timeout_kills_the_process_group)
{
	struct sink	*s;
	struct outcome	 o;
	char		*path, *body, *pidtext;
	pid_t		 child;
	int		 i;

	/* A child that would outlive its parent, and a parent that hangs. */
	xasprintf(&body, "sleep 60 &\necho $! > %s/child.tmp\n"
	    "mv %s/child.tmp %s/child\nexec sleep 60", dir, dir, dir);
	path = script("hang.sh", body);
	s = sink_for(path, ", timeout: 300ms");
	deliver(s, &sample, &o);
	cr_assert_eq(o.result, DELIVERY_RETRY);
	cr_assert_str_eq(o.cause, "exec run: timed out after 300 ms, process "
	    "group killed");
	pidtext = slurp("child");
	child = (pid_t)atol(pidtext);
	cr_assert_gt(child, 1);
	/* SIGKILL was sent before this returned; it lands at once. */
	for (i = 0; i < 200 && !process_gone(child); i++)
		usleep(10000);
	cr_assert(process_gone(child), "the forked child %ld survived",
	    (long)child);
	free(o.cause);
	free(pidtext);
	free(body);
	free(path);
	sink_free(s);
}

Test(exec, large_input_unread_and_large_output_drained)
{
	struct sink		*s;
	struct outcome		 o;
	struct outbox_entry	 big = sample;
	struct buf		 json = { 0 };
	char			*path;
	int			 i;

	buf_adds(&json, "{\"id\":\"x\",\"data\":\"");
	for (i = 0; i < 300000; i++)
		buf_add(&json, "a", 1);
	buf_adds(&json, "\"}");
	big.json = json.data;
	/* Never reads stdin, writes 4 MiB to stdout and 1 MiB to stderr. */
	path = script("loud.sh", "head -c 4194304 /dev/zero\n"
	    "head -c 1048576 /dev/zero | tr '\\0' x >&2\necho >&2\necho >&2 done\n"
	    "exit 9");
	s = sink_for(path, "");
	deliver(s, &big, &o);
	cr_assert_eq(o.result, DELIVERY_PERMANENT);
	cr_assert_str_eq(o.cause, "exec run: exit 9: done");
	free(o.cause);
	buf_free(&json);
	free(path);
	sink_free(s);
}

Test(exec, missing_program_is_retried)
{
	struct sink	*s;
	struct outcome	 o;

	s = sink_for("/nonexistent/deploy", "");
	deliver(s, &sample, &o);
	cr_assert_eq(o.result, DELIVERY_RETRY);
	cr_assert_str_eq(o.cause, "exec run: cannot run /nonexistent/deploy: "
	    "No such file or directory");
	free(o.cause);
	sink_free(s);
}

Test(exec, two_runs_at_once_each_done_once)
{
	struct sink		*s;
	struct outcome		 a, b;
	struct outbox_entry	 second = sample;
	char			*path;

	/* Each waits for the other's mark, so both must run at once. */
	path = script("pair.sh", "d=$(dirname \"$0\")\nid=$(cat | "
	    "sed 's/.*\"id\":\"\\([^\"]*\\)\".*/\\1/')\ntouch \"$d/$id\"\n"
	    "other=$( [ \"$id\" = one ] && echo two || echo one )\n"
	    "while [ ! -e \"$d/$other\" ]; do sleep 0.01; done\n"
	    "[ \"$id\" = one ] && exit 0\necho second failed >&2\nexit 2");
	s = sink_for(path, ", timeout: 10s");
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	pending = 2;
	second.json = "{\"id\":\"two\"}";
	second.id = "two";
	s->entry->deliver(s, &(struct outbox_entry){ .key = "1-0", .id = "one",
	    .json = "{\"id\":\"one\"}" }, outcome_cb, &a);
	s->entry->deliver(s, &second, outcome_cb, &b);
	event_base_dispatch(base);
	cr_assert_eq(a.called, 1);
	cr_assert_eq(b.called, 1);
	cr_assert_eq(a.result, DELIVERY_OK);
	cr_assert_eq(b.result, DELIVERY_PERMANENT);
	cr_assert_str_eq(b.cause, "exec run: exit 2: second failed");
	free(b.cause);
	free(path);
	sink_free(s);
}

static void
stop_loop(evutil_socket_t fd __unused, short what __unused, void *arg)
{
	struct sink	*s = arg;

	struct timeval	 tv = { 0, 200000 };

	s->entry->cancel(s);
	event_base_loopexit(base, &tv);
}

Test(exec, cancel_kills_and_never_calls_done)
{
	struct sink	*s;
	struct outcome	 o;
	struct event	*ev;
	char		*path, *body, *pidtext;
	pid_t		 pid;
	int		 i;

	xasprintf(&body, "echo $$ > %s/pid.tmp\nmv %s/pid.tmp %s/pid\n"
	    "exec sleep 60", dir, dir, dir);
	path = script("long.sh", body);
	s = sink_for(path, "");
	memset(&o, 0, sizeof o);
	pending = 1;
	s->entry->deliver(s, &sample, outcome_cb, &o);
	struct timeval	 tv = { 0, 300000 };

	ev = evtimer_new(base, stop_loop, s);
	evtimer_add(ev, &tv);
	event_base_dispatch(base);
	cr_assert_eq(o.called, 0);
	pidtext = slurp("pid");
	pid = (pid_t)atol(pidtext);
	for (i = 0; i < 200 && kill(pid, 0) == 0; i++)
		usleep(10000);
	cr_assert_eq(kill(pid, 0), -1, "the cancelled run is still there");
	event_free(ev);
	free(pidtext);
	free(body);
	free(path);
	sink_free(s);
}

/* The errors a spec gives, joined by newlines. */
static char *
errors_of(const char *spec)
{
	struct cfg_errors	 errs = { 0 };
	struct buf		 b = { 0 };
	size_t			 i;

	conf = load(spec, &errs);
	cr_assert_null(conf, "config loaded");
	for (i = 0; i < errs.n; i++)
		buf_printf(&b, "%s\n", errs.msg[i]);
	cfg_errors_free(&errs);
	return (buf_take(&b));
}

Test(exec, config_errors_have_positions)
{
	char	*e, *want;

	e = errors_of("{ command: [] }");
	xasprintf(&want, "%s:6:22: spec.command of sink \"run\" must name a "
	    "program", conf_path);
	cr_assert(strstr(e, want) != NULL, "%s", e);
	free(want);
	free(e);

	e = errors_of("{ command: [x], env: { CE_ID: y, \"A-B\": z } }");
	cr_assert(strstr(e, ":6:34: spec.env of sink \"run\": \"CE_ID\" is set "
	    "by the sink itself (CE_*)") != NULL, "%s", e);
	cr_assert(strstr(e, "\"A-B\" is not a valid variable name") != NULL,
	    "%s", e);
	free(e);

	e = errors_of("{ command: [x], secretEnv: { TOKEN: nope } }");
	cr_assert(strstr(e, ":6:47: spec.secretEnv.TOKEN of sink \"run\": "
	    "secret \"nope\" is not defined under secrets:") != NULL, "%s", e);
	free(e);

	e = errors_of("{ command: x }");
	cr_assert(strstr(e, ":6:22: ") != NULL && strstr(e, "list") != NULL,
	    "%s", e);
	free(e);

	e = errors_of("{ command: [x], timeout: 0s, shell: true }");
	cr_assert(strstr(e, "timeout") != NULL, "%s", e);
	cr_assert(strstr(e, "shell") != NULL, "%s", e);
	free(e);
}
