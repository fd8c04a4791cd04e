/*
 * redis-util.h: a real redis-server for tests, on a free loopback port, in
 * a temporary directory, with the append-only file on and fsync'd always, so
 * that a SIGKILL'd server restarted on the same directory has every write it
 * acknowledged.  Also a blocking hiredis connection to look at or delete
 * keys behind the store's back.
 *
 * The server is a child of the process that starts it and dies with it
 * (PR_SET_PDEATHSIG).  Start waits for its "Ready to accept connections"
 * line on its standard output, not for a fixed time.
 */
#ifndef REDIS_UTIL_H
#define REDIS_UTIL_H

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

struct redis_server {
	pid_t		 pid;
	int		 port;		/* 0: pick a free one */
	char		 dir[64];	/* "": make a temporary one */
	const char	*password;	/* --requirepass, or NULL */
};

/* A port nothing listens on right now: bind port 0 and ask. */
static int
redis_util_free_port(void)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof sin;
	int			 fd, port = -1;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return (-1);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	close(fd);
	return (port);
}

/* Start (or restart, same port and directory); 0 when it is ready. */
static int
redis_server_start(struct redis_server *s)
{
	char	 port[16], line[512];
	int	 p[2], ready = 0;
	FILE	*f;

	if (s->dir[0] == '\0') {
		strcpy(s->dir, "/tmp/aw-redis-XXXXXX");
		if (mkdtemp(s->dir) == NULL)
			return (-1);
	}
	if (s->port == 0 && (s->port = redis_util_free_port()) <= 0)
		return (-1);
	snprintf(port, sizeof port, "%d", s->port);
	if (pipe(p) == -1)
		return (-1);
	if ((s->pid = fork()) == -1)
		return (-1);
	if (s->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		execlp("redis-server", "redis-server", "--port", port,
		    "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
		    "--appendfsync", "always", "--dir", s->dir,
		    "--logfile", "", "--daemonize", "no",
		    s->password != NULL ? "--requirepass" : NULL, s->password,
		    (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	if ((f = fdopen(p[0], "r")) == NULL)
		return (-1);
	while (!ready && fgets(line, sizeof line, f) != NULL)
		ready = strstr(line, "Ready to accept connections") != NULL;
	/* redis-server ignores SIGPIPE: its later log lines are dropped. */
	fclose(f);
	if (!ready) {
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
		return (-1);
	}
	return (0);
}

/* Send sig (SIGKILL: a crash, SIGTERM: a clean stop) and reap it. */
static void
redis_server_kill(struct redis_server *s, int sig)
{
	if (s->pid <= 0)
		return;
	kill(s->pid, sig);
	if (sig == SIGKILL || sig == SIGTERM) {
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
}

/* Stop it and remove its directory. */
static void
redis_server_remove(struct redis_server *s)
{
	char	 cmd[128];

	redis_server_kill(s, SIGKILL);
	if (s->dir[0] != '\0' && strncmp(s->dir, "/tmp/aw-redis-", 14) == 0) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", s->dir);
	}
	s->dir[0] = '\0';
}

/* Writes since the last save (INFO persistence), or -1. */
static long long
redis_util_changes(int port)
{
	redisContext	*c;
	redisReply	*r;
	const char	*p;
	long long	 n = -1;

	c = redisConnect("127.0.0.1", port);
	if (c == NULL || c->err != 0) {
		if (c != NULL)
			redisFree(c);
		return (-1);
	}
	r = redisCommand(c, "INFO persistence");
	if (r != NULL && r->type == REDIS_REPLY_STRING &&
	    (p = strstr(r->str, "rdb_changes_since_last_save:")) != NULL)
		n = strtoll(p + strlen("rdb_changes_since_last_save:"), NULL,
		    10);
	if (r != NULL)
		freeReplyObject(r);
	redisFree(c);
	return (n);
}

/* Delete every key under prefix (prefix:*) through a blocking connection. */
static int
redis_util_delete_prefix(int port, const char *prefix)
{
	redisContext	*c;
	redisReply	*r, *d;
	char		 cursor[32] = "0", pattern[256];
	size_t		 i;
	int		 rc = 0;

	c = redisConnect("127.0.0.1", port);
	if (c == NULL || c->err != 0) {
		if (c != NULL)
			redisFree(c);
		return (-1);
	}
	snprintf(pattern, sizeof pattern, "%s:*", prefix);
	do {
		r = redisCommand(c, "SCAN %s MATCH %s COUNT 1000", cursor,
		    pattern);
		if (r == NULL || r->type != REDIS_REPLY_ARRAY ||
		    r->elements != 2) {
			rc = -1;
			break;
		}
		snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
		for (i = 0; i < r->element[1]->elements; i++) {
			d = redisCommand(c, "DEL %s",
			    r->element[1]->element[i]->str);
			if (d != NULL)
				freeReplyObject(d);
		}
		freeReplyObject(r);
	} while (strcmp(cursor, "0") != 0);
	redisFree(c);
	return (rc);
}

#endif
