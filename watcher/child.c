/*
 * child.c: a child process run off the event loop (child.h): fork, its own
 * process group, non-blocking pipes for stdout and stderr read by events,
 * its exit seen through a pidfd, a timeout and an output cap that kill the
 * group.
 */
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "child.h"

#define CHILD_MAX_OUT	(8 * 1024 * 1024)
#define CHILD_ERR_KEEP	4096	/* the tail of stderr kept */
#define CHILD_POLL_MS	50	/* exit polling without a pidfd */
#define CHILD_DRAIN_MS	2000	/* pipes still open after the exit */

struct child {
	struct event_base	*base;
	pid_t			 pid;
	int			 out_fd, err_fd, pid_fd;
	struct event		*out_ev, *err_ev, *pid_ev, *timer, *drain;
	size_t			 max_out;
	int64_t			 started;
	int			 exited;
	struct child_result	 r;
	struct buf		 err;
	child_done_cb		 done;
	void			*arg;
};

static void	child_check(struct child *);

static int
pidfd_open_(pid_t pid)
{
#ifdef SYS_pidfd_open
	return ((int)syscall(SYS_pidfd_open, pid, 0));
#else
	(void)pid;
	errno = ENOSYS;
	return (-1);
#endif
}

static void
child_kill(struct child *c)
{
	if (c->pid > 0)
		kill(-c->pid, SIGKILL);
}

static void
child_close(struct child *c)
{
	struct event	**evs[] = { &c->out_ev, &c->err_ev, &c->pid_ev,
	    &c->timer, &c->drain };
	size_t		 i;

	for (i = 0; i < nitems(evs); i++) {
		if (*evs[i] != NULL)
			event_free(*evs[i]);
		*evs[i] = NULL;
	}
	if (c->out_fd != -1)
		close(c->out_fd);
	if (c->err_fd != -1)
		close(c->err_fd);
	if (c->pid_fd != -1)
		close(c->pid_fd);
	c->out_fd = c->err_fd = c->pid_fd = -1;
}

static void
child_free(struct child *c)
{
	child_close(c);
	buf_free(&c->r.out);
	buf_free(&c->err);
	free(c->r.err_line);
	free(c);
}

/* The last non-empty line of what stderr said. */
static char *
last_line(const struct buf *b)
{
	const char	*s = b->data, *end, *start;

	if (s == NULL)
		return (NULL);
	end = s + b->len;
	while (end > s && (end[-1] == '\n' || end[-1] == '\r' ||
	    end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (end == s)
		return (NULL);
	start = end;
	while (start > s && start[-1] != '\n')
		start--;
	return (xstrndup(start, end - start));
}

static void
child_reap(struct child *c, int block)
{
	int	 status;
	pid_t	 rc;

	if (c->exited)
		return;
	do
		rc = waitpid(c->pid, &status, block ? 0 : WNOHANG);
	while (rc == -1 && errno == EINTR);
	if (rc == 0)
		return;
	c->exited = 1;
	if (rc == -1) {
		c->r.status = -1;
		return;
	}
	if (WIFEXITED(status))
		c->r.status = WEXITSTATUS(status);
	else {
		c->r.status = -1;
		c->r.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	}
	/* Whatever it forked goes with it; the pipes then close. */
	kill(-c->pid, SIGKILL);
}

static void
child_finish(struct child *c)
{
	child_done_cb	 done = c->done;
	void		*arg = c->arg;

	child_close(c);
	c->r.err_line = last_line(&c->err);
	c->r.elapsed_ms = mono_ms() - c->started;
	done(&c->r, arg);
	child_free(c);
}

/* A pipe still open long after the exit (a process left its group). */
static void
child_drained(__unused evutil_socket_t fd, __unused short what, void *arg)
{
	child_finish(arg);
}

/* Done when it was reaped and both pipes are closed (or drained long). */
static void
child_check(struct child *c)
{
	struct timeval	 tv;

	if (!c->exited)
		return;
	if (c->out_fd == -1 && c->err_fd == -1) {
		child_finish(c);
		return;
	}
	if (c->drain == NULL) {
		c->drain = evtimer_new(c->base, child_drained, c);
		tv.tv_sec = CHILD_DRAIN_MS / 1000;
		tv.tv_usec = (CHILD_DRAIN_MS % 1000) * 1000;
		evtimer_add(c->drain, &tv);
	}
}

static void
child_read(evutil_socket_t fd, __unused short what, void *arg)
{
	struct child	*c = arg;
	char		 chunk[16384];
	ssize_t		 n;
	int		 is_out = fd == c->out_fd;
	size_t		 room;

	for (;;) {
		n = read(fd, chunk, sizeof chunk);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0)
			break;
		if (!is_out) {
			buf_add(&c->err, chunk, n);
			if (c->err.len > 2 * CHILD_ERR_KEEP) {
				memmove(c->err.data, c->err.data + c->err.len -
				    CHILD_ERR_KEEP, CHILD_ERR_KEEP);
				c->err.len = CHILD_ERR_KEEP;
				c->err.data[c->err.len] = '\0';
			}
			continue;
		}
		room = c->max_out - c->r.out.len;
		if ((size_t)n > room) {
			buf_add(&c->r.out, chunk, room);
			c->r.overflow = 1;
			child_kill(c);
			break;
		}
		buf_add(&c->r.out, chunk, n);
	}
	/* EOF (or the cap): this pipe is done. */
	if (is_out) {
		event_free(c->out_ev);
		c->out_ev = NULL;
		close(c->out_fd);
		c->out_fd = -1;
	} else {
		event_free(c->err_ev);
		c->err_ev = NULL;
		close(c->err_fd);
		c->err_fd = -1;
	}
	child_check(c);
}

static void
child_exited(__unused evutil_socket_t fd, __unused short what, void *arg)
{
	struct child	*c = arg;
	struct timeval	 tv;

	child_reap(c, 0);
	if (!c->exited) {
		if (c->pid_fd == -1) {
			tv.tv_sec = 0;
			tv.tv_usec = CHILD_POLL_MS * 1000;
			evtimer_add(c->pid_ev, &tv);
		}
		return;
	}
	event_free(c->pid_ev);
	c->pid_ev = NULL;
	child_check(c);
}

static void
child_timeout(__unused evutil_socket_t fd, __unused short what, void *arg)
{
	struct child	*c = arg;

	c->r.timed_out = 1;
	child_kill(c);
}

/* In the forked child: close every descriptor from `lowest` on. */
static void
child_close_from(int lowest)
{
	long	 max, fd;

	if (syscall(SYS_close_range, (unsigned)lowest, ~0U, 0) == 0)
		return;
	if ((max = sysconf(_SC_OPEN_MAX)) < 0 || max > 65536)
		max = 65536;
	for (fd = lowest; fd < max; fd++)
		close((int)fd);
}

/* In the forked child: an environment of its own, a few names kept. */
static void
child_clear_env(void)
{
	static const char *const keep[] = { "PATH", "HOME", "LANG", "TMPDIR" };
	char	*saved[nitems(keep)], *v;
	size_t	 i;

	for (i = 0; i < nitems(keep); i++) {
		v = getenv(keep[i]);
		saved[i] = v != NULL ? strdup(v) : NULL;
	}
	clearenv();
	for (i = 0; i < nitems(keep); i++) {
		if (saved[i] != NULL)
			setenv(keep[i], saved[i], 1);
	}
	if (getenv("PATH") == NULL)
		setenv("PATH", "/usr/local/bin:/usr/bin:/bin", 1);
}

/* In the forked child: never returns. */
static void __attribute__((noreturn))
child_exec(const struct child_conf *cf, int out[2], int err[2])
{
	const char *const	*e;
	sigset_t		 none;
	int			 fd, rc;

	setpgid(0, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if ((fd = open("/dev/null", O_RDONLY)) != -1) {
		dup2(fd, 0);
		if (fd != 0)
			close(fd);
	}
	dup2(out[1], 1);
	dup2(err[1], 2);
	/* Nothing of the daemon's: its sockets, its store, its listener. */
	child_close_from(3);
	if (cf->clear_env)
		child_clear_env();
	for (e = cf->env; e != NULL && *e != NULL; e++)
		putenv((char *)*e);
	if (cf->dir != NULL && chdir(cf->dir) != 0) {
		dprintf(2, "cannot enter %s: %s\n", cf->dir, strerror(errno));
		_exit(126);
	}
	if (cf->fn != NULL) {
		rc = cf->fn(cf->fn_arg);
		_exit(rc & 0xff);
	}
	execvp(cf->argv[0], (char *const *)cf->argv);
	dprintf(2, "cannot run %s: %s\n", cf->argv[0], strerror(errno));
	_exit(127);
}

struct child *
child_start(struct event_base *base, const struct child_conf *cf,
    child_done_cb done, void *arg, char **cause)
{
	struct child	*c;
	struct timeval	 tv;
	int		 out[2], err[2];
	pid_t		 pid;

	if ((cf->argv == NULL || cf->argv[0] == NULL) && cf->fn == NULL)
		return (fail(cause, "nothing to run"), NULL);
	if (pipe2(out, O_CLOEXEC) != 0)
		return (fail(cause, "pipe: %s", strerror(errno)), NULL);
	if (pipe2(err, O_CLOEXEC) != 0) {
		fail(cause, "pipe: %s", strerror(errno));
		close(out[0]);
		close(out[1]);
		return (NULL);
	}
	if ((pid = fork()) == -1) {
		fail(cause, "fork: %s", strerror(errno));
		close(out[0]);
		close(out[1]);
		close(err[0]);
		close(err[1]);
		return (NULL);
	}
	if (pid == 0)
		child_exec(cf, out, err);
	/* Both sides set the group: no race with an early kill. */
	setpgid(pid, pid);
	close(out[1]);
	close(err[1]);
	c = xcalloc(1, sizeof *c);
	c->base = base;
	c->pid = pid;
	c->out_fd = out[0];
	c->err_fd = err[0];
	c->max_out = cf->max_out > 0 ? cf->max_out : CHILD_MAX_OUT;
	c->started = mono_ms();
	c->done = done;
	c->arg = arg;
	evutil_make_socket_nonblocking(c->out_fd);
	evutil_make_socket_nonblocking(c->err_fd);
	c->out_ev = event_new(base, c->out_fd, EV_READ | EV_PERSIST,
	    child_read, c);
	c->err_ev = event_new(base, c->err_fd, EV_READ | EV_PERSIST,
	    child_read, c);
	event_add(c->out_ev, NULL);
	event_add(c->err_ev, NULL);
	if ((c->pid_fd = pidfd_open_(pid)) != -1) {
		c->pid_ev = event_new(base, c->pid_fd, EV_READ, child_exited,
		    c);
		event_add(c->pid_ev, NULL);
	} else {
		c->pid_ev = evtimer_new(base, child_exited, c);
		tv.tv_sec = 0;
		tv.tv_usec = CHILD_POLL_MS * 1000;
		evtimer_add(c->pid_ev, &tv);
	}
	if (cf->timeout_ms > 0) {
		c->timer = evtimer_new(base, child_timeout, c);
		tv.tv_sec = cf->timeout_ms / 1000;
		tv.tv_usec = (cf->timeout_ms % 1000) * 1000;
		evtimer_add(c->timer, &tv);
	}
	return (c);
}

void
child_cancel(struct child *c)
{
	if (c == NULL)
		return;
	kill(-c->pid, SIGKILL);
	child_reap(c, 1);	/* SIGKILL: the wait is short */
	child_free(c);
}

char *
child_cause(const struct child_result *r, const char *what)
{
	char	*out, *tail = NULL;

	if (r->err_line != NULL)
		xasprintf(&tail, ": %s", r->err_line);
	if (r->timed_out)
		xasprintf(&out, "%s timed out after %lld ms%s", what,
		    (long long)r->elapsed_ms, tail != NULL ? tail : "");
	else if (r->overflow)
		xasprintf(&out, "%s wrote more than its output cap%s", what,
		    tail != NULL ? tail : "");
	else if (r->signal != 0)
		xasprintf(&out, "%s killed by signal %d%s", what, r->signal,
		    tail != NULL ? tail : "");
	else
		xasprintf(&out, "%s exit status %d%s", what, r->status,
		    tail != NULL ? tail : "");
	free(tail);
	return (out);
}
