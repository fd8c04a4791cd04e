/*
 * sink-exec.c: the Exec sink.  Each event runs a command (an argv list, no
 * shell) with the event JSON on its standard input and CE_ID, CE_TYPE,
 * CE_SUBJECT, CE_SOURCE and CE_TIME in its environment.  The exit status
 * decides: 0 delivered, 75 (EX_TEMPFAIL) retried, anything else will never
 * work and is dead-lettered with the last line the command wrote to stderr.
 *
 * Nothing waits on the loop: the child is started with posix_spawn (its own
 * process group, every descriptor of the daemon closed), its three pipes are
 * non-blocking and watched by libevent, and its exit is seen through a
 * pidfd (where there is none, e.g. under valgrind, looked for every 20 ms).
 * At the timeout, or when the command exits, whatever is left of its
 * process group is killed, so a child it forked does not outlive it.
 * Output is capped: stdout is read and dropped, the last 4 KiB of stderr
 * are kept.
 *
 * The environment is built, not inherited: the daemon's own environment may
 * hold the values of env: secrets.  Only PATH, HOME, LANG, LC_ALL, TZ and
 * TMPDIR are passed on, plus the spec's `env` and `secretEnv`; secrets are
 * never put on the command line.  Each delivery has its own state, so
 * several may run at once under a delivery window.
 */
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "sink.h"

#define EXEC_TEMPFAIL		75	/* sysexits.h EX_TEMPFAIL */
#define EXEC_STDERR_KEEP	4096	/* bytes of stderr kept */
#define EXEC_LINE_MAX		300	/* bytes of the last line in a cause */

struct exec_conf {
	struct cfg_strlist	 command;
	int64_t			 timeout_ms;
	struct cfg_strmap	 env;
	struct cfg_strmap	 secret_env;
};

static const struct cfg_key exec_keys[] = {
	{ .name = "command", .type = CFG_STRLIST,
	  .off = offsetof(struct exec_conf, command), .flags = CFG_REQUIRED },
	{ .name = "timeout", .type = CFG_DURATION,
	  .off = offsetof(struct exec_conf, timeout_ms), .def = "30s",
	  .min = 1, .max = 24 * 60 * 60 * 1000 },
	{ .name = "env", .type = CFG_STRMAP,
	  .off = offsetof(struct exec_conf, env) },
	{ .name = "secretEnv", .type = CFG_STRMAP,
	  .off = offsetof(struct exec_conf, secret_env) },
	{ .name = NULL }
};

/* Passed on from the daemon's environment when set there. */
static const char *const exec_pass_env[] = {
	"PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR",
};

struct exec_sink;

/* One command run for one delivery. */
struct exec_run {
	struct exec_sink	*es;
	struct exec_run		*next;
	pid_t			 pid;		/* 0: not started */
	int			 pidfd;
	int			 in, out, err;	/* -1 once closed */
	struct event		*ev_in, *ev_out, *ev_err, *ev_exit;
	struct event		*timer;		/* timeout, or finish soon */
	char			*input;		/* the event JSON */
	size_t			 input_len, input_off;
	struct buf		 stderr_tail;
	int			 timed_out;
	int			 exited;
	int			 status;	/* waitpid's */
	char			*spawn_error;	/* could not start */
	sink_done_cb		 done;		/* NULL: cancelled */
	void			*arg;
};

struct exec_sink {
	const struct exec_conf	*ec;
	const char		*id;
	struct event_base	*base;
	char			**envp;		/* the fixed part */
	size_t			 nenv;
	struct exec_run		*runs;
};

/* A name a shell would accept, and not one the sink sets itself. */
static const char *
exec_env_problem(const char *name)
{
	const char	*p;

	if (*name == '\0' || (*name >= '0' && *name <= '9'))
		return ("is not a valid variable name");
	for (p = name; *p != '\0'; p++) {
		if (!(*p == '_' || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
			return ("is not a valid variable name");
	}
	if (strncmp(name, "CE_", 3) == 0)
		return ("is set by the sink itself (CE_*)");
	return (NULL);
}

/* The key node of `name` in a map, for the error's position. */
static const struct cfg_node *
exec_key_node(const struct cfg_node *map, const char *name)
{
	size_t	 i;

	if (map == NULL || map->kind != CFG_MAP)
		return (map);
	for (i = 0; i < map->n; i++) {
		if (strcmp(map->keys[i]->value, name) == 0)
			return (map->keys[i]);
	}
	return (map);
}

static int
exec_check_env(struct sink_conf *sc, const char *key,
    const struct cfg_strmap *m, int secrets, struct cfg_errors *errs)
{
	const struct cfg_node	*map = cfg_node_get(sc->spec, key);
	const struct config	*conf = errs->conf;
	const char		*problem;
	size_t			 i, j;
	int			 n = 0;

	for (i = 0; i < m->n; i++) {
		if ((problem = exec_env_problem(m->keys[i])) != NULL) {
			cfg_error(errs, exec_key_node(map, m->keys[i]),
			    "spec.%s of sink \"%s\": \"%s\" %s", key, sc->id,
			    m->keys[i], problem);
			n++;
			continue;
		}
		if (!secrets || conf == NULL)
			continue;
		for (j = 0; j < conf->nsecrets; j++) {
			if (strcmp(conf->secrets[j].name, m->values[i]) == 0)
				break;
		}
		if (j == conf->nsecrets) {
			cfg_error(errs, cfg_node_get(map, m->keys[i]),
			    "spec.%s.%s of sink \"%s\": secret \"%s\" is not "
			    "defined under secrets:", key, m->keys[i], sc->id,
			    m->values[i]);
			n++;
		}
	}
	return (n);
}

static int
exec_check(struct sink_conf *sc, struct cfg_errors *errs)
{
	const struct exec_conf	*ec = sc->data;
	const struct cfg_node	*cmd = cfg_node_get(sc->spec, "command");
	size_t			 i;
	int			 n = 0;

	if (ec->command.n == 0 || *ec->command.v[0] == '\0') {
		cfg_error(errs, cmd, "spec.command of sink \"%s\" must name a "
		    "program: a list like [/usr/local/bin/deploy, --fast]",
		    sc->id);
		n++;
	}
	for (i = 0; i < ec->env.n; i++) {
		if (exec_env_problem(ec->env.keys[i]) != NULL)
			continue;
		if (cfg_node_get(cfg_node_get(sc->spec, "secretEnv"),
		    ec->env.keys[i]) != NULL) {
			cfg_error(errs, exec_key_node(cfg_node_get(sc->spec,
			    "env"), ec->env.keys[i]), "spec.env of sink \"%s\":"
			    " \"%s\" is also in secretEnv", sc->id,
			    ec->env.keys[i]);
			n++;
		}
	}
	n += exec_check_env(sc, "env", &ec->env, 0, errs);
	n += exec_check_env(sc, "secretEnv", &ec->secret_env, 1, errs);
	return (n);
}

static void
exec_env_add(struct exec_sink *es, const char *name, const char *value)
{
	es->envp = xreallocarray(es->envp, es->nenv + 2, sizeof *es->envp);
	xasprintf(&es->envp[es->nenv++], "%s=%s", name, value);
	es->envp[es->nenv] = NULL;
}

static int
exec_init(struct sink *s, char **cause)
{
	struct exec_sink	*es;
	const char		*v;
	char			*value, *why;
	size_t			 i;

	es = xcalloc(1, sizeof *es);
	es->ec = s->conf->data;
	es->id = s->conf->id;
	es->base = s->env->base;
	s->data = es;
	for (i = 0; i < nitems(exec_pass_env); i++) {
		if ((v = getenv(exec_pass_env[i])) != NULL)
			exec_env_add(es, exec_pass_env[i], v);
	}
	for (i = 0; i < es->ec->env.n; i++)
		exec_env_add(es, es->ec->env.keys[i], es->ec->env.values[i]);
	for (i = 0; i < es->ec->secret_env.n; i++) {
		if (secret_resolve(s->env->conf, es->ec->secret_env.values[i],
		    &value, &why) != 0) {
			fail(cause, "exec %s: secretEnv %s: %s", es->id,
			    es->ec->secret_env.keys[i], why);
			free(why);
			return (-1);
		}
		exec_env_add(es, es->ec->secret_env.keys[i], value);
		explicit_bzero(value, strlen(value));
		free(value);
	}
	return (0);
}

/* The event's attributes as CE_* variables, after the fixed part. */
static char **
exec_envp(const struct exec_sink *es, const struct outbox_entry *e)
{
	static const char *const attrs[][2] = {
		{ "CE_TYPE", "type" }, { "CE_SUBJECT", "subject" },
		{ "CE_SOURCE", "source" }, { "CE_TIME", "time" },
	};
	const cJSON	*v;
	cJSON		*event;
	char		**envp;
	size_t		 i, n = 0;

	envp = xcalloc(es->nenv + nitems(attrs) + 2, sizeof *envp);
	for (i = 0; i < es->nenv; i++)
		envp[n++] = xstrdup(es->envp[i]);
	xasprintf(&envp[n++], "CE_ID=%s", e->id != NULL ? e->id : "");
	event = cJSON_Parse(e->json);
	for (i = 0; i < nitems(attrs); i++) {
		v = cJSON_GetObjectItemCaseSensitive(event, attrs[i][1]);
		xasprintf(&envp[n++], "%s=%s", attrs[i][0],
		    cJSON_IsString(v) ? v->valuestring : "");
	}
	cJSON_Delete(event);
	envp[n] = NULL;
	return (envp);
}

/* Frees an environment, wiping it: it may hold secrets. */
static void
exec_strv_free(char **v)
{
	size_t	 i;

	for (i = 0; v != NULL && v[i] != NULL; i++) {
		explicit_bzero(v[i], strlen(v[i]));
		free(v[i]);
	}
	free(v);
}

static void
exec_close(int *fd, struct event **ev)
{
	if (*ev != NULL) {
		event_free(*ev);
		*ev = NULL;
	}
	if (*fd != -1) {
		close(*fd);
		*fd = -1;
	}
}

/* Unlink from the sink and free; the child must be reaped already. */
static void
exec_run_free(struct exec_run *r)
{
	struct exec_run	**pp;

	for (pp = &r->es->runs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	}
	exec_close(&r->in, &r->ev_in);
	exec_close(&r->out, &r->ev_out);
	exec_close(&r->err, &r->ev_err);
	exec_close(&r->pidfd, &r->ev_exit);
	if (r->timer != NULL)
		event_free(r->timer);
	free(r->input);
	buf_free(&r->stderr_tail);
	free(r->spawn_error);
	free(r);
}

/* The last non-empty line of stderr, printable, at most EXEC_LINE_MAX. */
static char *
exec_last_line(const struct buf *b)
{
	const char	*p, *end, *start;
	char		*line;
	size_t		 len, i;

	if (b->len == 0)
		return (NULL);
	end = b->data + b->len;
	while (end > b->data && (end[-1] == '\n' || end[-1] == '\r' ||
	    end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (end == b->data)
		return (NULL);
	for (p = end; p > b->data && p[-1] != '\n'; p--)
		;
	start = p;
	len = (size_t)(end - start);
	if (len > EXEC_LINE_MAX)
		len = EXEC_LINE_MAX;
	line = xstrndup(start, len);
	for (i = 0; i < len; i++) {
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = ' ';
	}
	return (line);
}

/* What the run's end means for the dispatcher, with its cause. */
static enum delivery
exec_verdict(const struct exec_run *r, char **cause)
{
	const struct exec_sink	*es = r->es;
	char			*line;
	enum delivery		 d;
	int			 code;

	*cause = NULL;
	if (r->spawn_error != NULL) {
		xasprintf(cause, "exec %s: cannot run %s: %s", es->id,
		    es->ec->command.v[0], r->spawn_error);
		return (DELIVERY_RETRY);
	}
	if (r->timed_out) {
		xasprintf(cause, "exec %s: timed out after %lld ms, process "
		    "group killed", es->id, (long long)es->ec->timeout_ms);
		return (DELIVERY_RETRY);
	}
	if (WIFSIGNALED(r->status)) {
		xasprintf(cause, "exec %s: killed by signal %d", es->id,
		    WTERMSIG(r->status));
		return (DELIVERY_RETRY);
	}
	code = WEXITSTATUS(r->status);
	if (code == 0)
		return (DELIVERY_OK);
	d = code == EXEC_TEMPFAIL ? DELIVERY_RETRY : DELIVERY_PERMANENT;
	line = exec_last_line(&r->stderr_tail);
	xasprintf(cause, "exec %s: exit %d%s%s", es->id, code,
	    line != NULL ? ": " : "", line != NULL ? line : "");
	free(line);
	return (d);
}

static void
exec_finish(struct exec_run *r)
{
	sink_done_cb	 done = r->done;
	void		*arg = r->arg;
	enum delivery	 d;
	char		*cause;

	d = exec_verdict(r, &cause);
	exec_run_free(r);
	/* The callback may deliver again, cancel or free the sink. */
	if (done != NULL)
		done(d, -1, cause, arg);
	free(cause);
}

/* Keep the last EXEC_STDERR_KEEP bytes of what came. */
static void
exec_keep_tail(struct buf *b, const char *data, size_t len)
{
	if (len >= EXEC_STDERR_KEEP) {
		b->len = 0;
		buf_add(b, data + len - EXEC_STDERR_KEEP, EXEC_STDERR_KEEP);
		return;
	}
	if (b->len + len > EXEC_STDERR_KEEP) {
		memmove(b->data, b->data + (b->len + len - EXEC_STDERR_KEEP),
		    EXEC_STDERR_KEEP - len);
		b->len = EXEC_STDERR_KEEP - len;
	}
	buf_add(b, data, len);
}

/* Read what is there; 1 at end of file or error, 0 when more may come. */
static int
exec_drain(struct exec_run *r, int fd, int keep)
{
	char	 chunk[4096];
	ssize_t	 n;

	for (;;) {
		n = read(fd, chunk, sizeof chunk);
		if (n > 0) {
			if (keep)
				exec_keep_tail(&r->stderr_tail, chunk,
				    (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return (0);
		return (1);
	}
}

static void
exec_readable(evutil_socket_t fd, short what __unused, void *arg)
{
	struct exec_run	*r = arg;

	if (fd == r->out && exec_drain(r, fd, 0))
		exec_close(&r->out, &r->ev_out);
	else if (fd == r->err && exec_drain(r, fd, 1))
		exec_close(&r->err, &r->ev_err);
}

static void
exec_writable(evutil_socket_t fd, short what __unused, void *arg)
{
	struct exec_run	*r = arg;
	ssize_t		 n;

	while (r->input_off < r->input_len) {
		n = write(fd, r->input + r->input_off,
		    r->input_len - r->input_off);
		if (n > 0) {
			r->input_off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;		/* EV_PERSIST: called again */
		break;			/* EPIPE: it does not read stdin */
	}
	exec_close(&r->in, &r->ev_in);
}

/*
 * The child has exited (it is a zombie until reaped, so its pid, which is
 * also its group's id, cannot be reused yet): kill what is left of the
 * group, take the last output, reap it, and tell the dispatcher.
 */
static void
exec_exited(evutil_socket_t fd __unused, short what __unused, void *arg)
{
	struct exec_run	*r = arg;

	(void)kill(-r->pid, SIGKILL);
	if (r->err != -1)
		(void)exec_drain(r, r->err, 1);
	while (waitpid(r->pid, &r->status, 0) == -1 && errno == EINTR)
		;
	r->exited = 1;
	exec_finish(r);
}

/* Without a pidfd: has the child exited?  Looked at, not reaped. */
static void
exec_poll_exit(evutil_socket_t fd __unused, short what __unused, void *arg)
{
	struct exec_run	*r = arg;
	siginfo_t	 si;

	memset(&si, 0, sizeof si);
	if (waitid(P_PID, (id_t)r->pid, &si, WEXITED | WNOHANG | WNOWAIT) ==
	    0 && si.si_pid == 0)
		return;
	event_del(r->ev_exit);
	exec_exited(-1, 0, r);
}

static void
exec_timeout(evutil_socket_t fd __unused, short what __unused, void *arg)
{
	struct exec_run	*r = arg;

	if (r->pid == 0) {		/* never started: report it */
		exec_finish(r);
		return;
	}
	r->timed_out = 1;
	log_warn("exec: command timed out, killing its process group",
	    "sink=%s pid=%ld", log_q(r->es->id), (long)r->pid);
	(void)kill(-r->pid, SIGKILL);	/* exec_exited() reports it */
}

static int
exec_nonblock(int fd)
{
	int	 fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		return (-1);
	return (0);
}

/* Start the child; on failure r->spawn_error says why. */
static void
exec_spawn(struct exec_run *r, char **envp)
{
	const struct exec_conf		*ec = r->es->ec;
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 attr;
	sigset_t			 none, dfl;
	char				**argv;
	int				 p_in[2], p_out[2], p_err[2], err;
	size_t				 i;

	p_in[0] = p_in[1] = p_out[0] = p_out[1] = p_err[0] = p_err[1] = -1;
	if (pipe2(p_in, O_CLOEXEC) == -1 || pipe2(p_out, O_CLOEXEC) == -1 ||
	    pipe2(p_err, O_CLOEXEC) == -1) {
		r->spawn_error = xstrdup(strerror(errno));
		goto out;
	}
	argv = xcalloc(ec->command.n + 1, sizeof *argv);
	for (i = 0; i < ec->command.n; i++)
		argv[i] = ec->command.v[i];

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p_in[0], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, p_out[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, p_err[1], STDERR_FILENO);
	posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigfillset(&dfl);
	sigdelset(&dfl, SIGKILL);
	sigdelset(&dfl, SIGSTOP);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	err = posix_spawnp(&r->pid, argv[0], &fa, &attr, argv, envp);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	free(argv);
	if (err != 0) {
		r->pid = 0;
		r->spawn_error = xstrdup(strerror(err));
		goto out;
	}
	/* Linux 5.3 and later; else exec_poll_exit() looks every 20 ms. */
	r->pidfd = (int)syscall(SYS_pidfd_open, r->pid, 0);
	r->in = p_in[1];
	r->out = p_out[0];
	r->err = p_err[0];
	p_in[1] = p_out[0] = p_err[0] = -1;
	if (exec_nonblock(r->in) == -1 || exec_nonblock(r->out) == -1 ||
	    exec_nonblock(r->err) == -1)
		fatal("fcntl O_NONBLOCK");
out:
	for (i = 0; i < 2; i++) {
		if (p_in[i] != -1)
			close(p_in[i]);
		if (p_out[i] != -1)
			close(p_out[i]);
		if (p_err[i] != -1)
			close(p_err[i]);
	}
}

static void
exec_deliver(struct sink *s, const struct outbox_entry *e,
    sink_done_cb done, void *arg)
{
	struct exec_sink	*es = s->data;
	struct exec_run		*r;
	struct timeval		 tv, poll_tv = { 0, 20000 };
	char			**envp;
	int64_t			 ms = es->ec->timeout_ms;

	r = xcalloc(1, sizeof *r);
	r->es = es;
	r->in = r->out = r->err = r->pidfd = -1;
	r->done = done;
	r->arg = arg;
	r->input = xstrdup(e->json != NULL ? e->json : "");
	r->input_len = strlen(r->input);
	r->next = es->runs;
	es->runs = r;
	r->timer = evtimer_new(es->base, exec_timeout, r);
	if (r->timer == NULL)
		fatalx("event_new failed");

	envp = exec_envp(es, e);
	exec_spawn(r, envp);
	exec_strv_free(envp);
	if (r->pid == 0) {
		/* `done` runs from the loop, never from here. */
		event_active(r->timer, EV_TIMEOUT, 0);
		return;
	}
	log_debug("exec: started", "sink=%s id=%s pid=%ld", log_q(es->id),
	    log_q(e->id), (long)r->pid);
	r->ev_in = event_new(es->base, r->in, EV_WRITE | EV_PERSIST,
	    exec_writable, r);
	r->ev_out = event_new(es->base, r->out, EV_READ | EV_PERSIST,
	    exec_readable, r);
	r->ev_err = event_new(es->base, r->err, EV_READ | EV_PERSIST,
	    exec_readable, r);
	if (r->pidfd != -1)
		r->ev_exit = event_new(es->base, r->pidfd, EV_READ,
		    exec_exited, r);
	else
		r->ev_exit = event_new(es->base, -1, EV_PERSIST,
		    exec_poll_exit, r);
	if (r->ev_in == NULL || r->ev_out == NULL || r->ev_err == NULL ||
	    r->ev_exit == NULL)
		fatalx("event_new failed");
	event_add(r->ev_in, NULL);
	event_add(r->ev_out, NULL);
	event_add(r->ev_err, NULL);
	event_add(r->ev_exit, r->pidfd != -1 ? NULL : &poll_tv);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(r->timer, &tv);
}

/*
 * Drop every delivery: no `done` runs.  A running command is killed with
 * its group; its exit event still comes and reaps it.
 */
static void
exec_cancel(struct sink *s)
{
	struct exec_sink	*es = s->data;
	struct exec_run		*r, *next;

	if (es == NULL)
		return;
	for (r = es->runs; r != NULL; r = next) {
		next = r->next;
		r->done = NULL;
		r->arg = NULL;
		if (r->pid == 0)
			exec_run_free(r);
		else
			(void)kill(-r->pid, SIGKILL);
	}
}

static void
exec_free(struct sink *s)
{
	struct exec_sink	*es = s->data;
	struct exec_run		*r;
	size_t			 i;

	if (es == NULL)
		return;
	exec_cancel(s);
	/* Killed runs are reaped here: SIGKILL ends them at once. */
	while ((r = es->runs) != NULL) {
		(void)kill(-r->pid, SIGKILL);
		while (waitpid(r->pid, NULL, 0) == -1 && errno == EINTR)
			;
		exec_run_free(r);
	}
	for (i = 0; i < es->nenv; i++) {
		explicit_bzero(es->envp[i], strlen(es->envp[i]));
		free(es->envp[i]);
	}
	free(es->envp);
	free(es);
	s->data = NULL;
}

const struct sink_entry sink_exec_entry = {
	.name = "Exec",
	.keys = exec_keys,
	.size = sizeof (struct exec_conf),
	.check = exec_check,
	.init = exec_init,
	.deliver = exec_deliver,
	.cancel = exec_cancel,
	.free = exec_free,
	.max_inflight = 1,
};
