/*
 * files-sftp.c: the SFTP side of a listing, run in the listing child
 * (provider-files.c) with libssh2 in blocking mode, bounded by its session
 * timeout, socket timeouts and the child's kill.  The server's host key
 * must be in the connector's known_hosts text (knownHostsRef): an unknown
 * key, or one that does not match, ends the listing before any credential
 * is sent.  Keys are read from memory: no secret touches the disk.  A
 * probe (check --connect) stops once the SFTP channel is open.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh2.h>
#include <libssh2_sftp.h>

#include "provider-files.h"

struct sftp_ctx {
	const struct sftp_job	*job;
	LIBSSH2_SESSION		*session;
	LIBSSH2_SFTP		*sftp;
	char			 why[512];
};

/* A TCP connection within the timeout, left blocking with timeouts. */
static int
sftp_connect(const struct sftp_job *j, char *why, size_t len)
{
	struct addrinfo	 hints, *res, *ai;
	struct pollfd	 pfd;
	struct timeval	 tv;
	socklen_t	 elen;
	char		 port[16];
	int		 fd = -1, rc, err, fl;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof port, "%u", j->port);
	if ((rc = getaddrinfo(j->host, port, &hints, &res)) != 0) {
		snprintf(why, len, "%s: %s", j->host, gai_strerror(rc));
		return (-1);
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype,
		    ai->ai_protocol)) == -1)
			continue;
		fl = fcntl(fd, F_GETFL);
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
		rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
		if (rc != 0 && errno == EINPROGRESS) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			if (poll(&pfd, 1, (int)j->timeout_ms) != 1) {
				errno = ETIMEDOUT;
				rc = -1;
			} else {
				elen = sizeof err;
				if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err,
				    &elen) != 0)
					err = errno;
				errno = err;
				rc = err == 0 ? 0 : -1;
			}
		}
		if (rc == 0) {
			fcntl(fd, F_SETFL, fl);
			break;
		}
		snprintf(why, len, "connect %s:%u: %s", j->host, j->port,
		    strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1)
		return (-1);
	tv.tv_sec = j->timeout_ms / 1000;
	tv.tv_usec = (j->timeout_ms % 1000) * 1000;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	return (fd);
}

static const char *
session_error(LIBSSH2_SESSION *s)
{
	char	*msg = NULL;

	libssh2_session_last_error(s, &msg, NULL, 0);
	return (msg != NULL && *msg != '\0' ? msg : "SSH error");
}

/* The host key against the known_hosts text; 0 when it matches. */
static int
sftp_host_key(struct sftp_ctx *c)
{
	const struct sftp_job	*j = c->job;
	LIBSSH2_KNOWNHOSTS	*kh;
	struct libssh2_knownhost *found;
	const char		*key, *line, *end;
	size_t			 klen;
	int			 type, rc, n = 0;

	if ((key = libssh2_session_hostkey(c->session, &klen, &type)) ==
	    NULL) {
		snprintf(c->why, sizeof c->why, "no host key from %s:%u",
		    j->host, j->port);
		return (-1);
	}
	if ((kh = libssh2_knownhost_init(c->session)) == NULL) {
		snprintf(c->why, sizeof c->why, "knownhost: %s",
		    session_error(c->session));
		return (-1);
	}
	for (line = j->known_hosts; line != NULL && *line != '\0';
	    line = *end != '\0' ? end + 1 : end) {
		end = line + strcspn(line, "\n");
		if (end == line || *line == '#')
			continue;
		if (libssh2_knownhost_readline(kh, line, end - line,
		    LIBSSH2_KNOWNHOST_FILE_OPENSSH) == 0)
			n++;
	}
	if (n == 0) {
		libssh2_knownhost_free(kh);
		snprintf(c->why, sizeof c->why, "knownHostsRef holds no "
		    "known_hosts line libssh2 can read");
		return (-1);
	}
	rc = libssh2_knownhost_checkp(kh, j->host, (int)j->port, key, klen,
	    LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW,
	    &found);
	libssh2_knownhost_free(kh);
	switch (rc) {
	case LIBSSH2_KNOWNHOST_CHECK_MATCH:
		return (0);
	case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
		snprintf(c->why, sizeof c->why, "host key of %s:%u does not "
		    "match knownHostsRef: refused", j->host, j->port);
		return (-1);
	case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND:
		snprintf(c->why, sizeof c->why, "host key of %s:%u is "
		    "unknown (not in knownHostsRef): refused", j->host,
		    j->port);
		return (-1);
	default:
		snprintf(c->why, sizeof c->why, "host key of %s:%u could not "
		    "be checked", j->host, j->port);
		return (-1);
	}
}

static int
sftp_auth(struct sftp_ctx *c)
{
	const struct sftp_job	*j = c->job;
	int			 rc;

	if (j->key != NULL)
		rc = libssh2_userauth_publickey_frommemory(c->session,
		    j->username, strlen(j->username), NULL, 0, j->key,
		    strlen(j->key), j->passphrase);
	else
		rc = libssh2_userauth_password(c->session, j->username,
		    j->password != NULL ? j->password : "");
	if (rc == 0)
		return (0);
	if (rc == LIBSSH2_ERROR_AUTHENTICATION_FAILED ||
	    rc == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED)
		snprintf(c->why, sizeof c->why, "authentication as %s "
		    "refused by %s:%u", j->username, j->host, j->port);
	else
		snprintf(c->why, sizeof c->why, "authentication as %s: %s",
		    j->username, session_error(c->session));
	return (-1);
}

static void *
sftp_open(void *ctx, const char *rel)
{
	struct sftp_ctx		*c = ctx;
	LIBSSH2_SFTP_HANDLE	*h;
	char			*path;
	unsigned long		 err;

	if (*c->job->directory == '\0' && *rel == '\0')
		path = xstrdup(".");
	else if (*rel == '\0')
		path = xstrdup(c->job->directory);
	else if (*c->job->directory == '\0')
		path = xstrdup(rel);
	else
		xasprintf(&path, "%s%s%s", c->job->directory,
		    strcmp(c->job->directory, "/") == 0 ? "" : "/", rel);
	h = libssh2_sftp_opendir(c->sftp, path);
	if (h == NULL) {
		err = libssh2_sftp_last_error(c->sftp);
		if (err == LIBSSH2_FX_NO_SUCH_FILE ||
		    err == LIBSSH2_FX_NO_SUCH_PATH)
			snprintf(c->why, sizeof c->why, "no directory %s on "
			    "%s", path, c->job->host);
		else if (err == LIBSSH2_FX_PERMISSION_DENIED)
			snprintf(c->why, sizeof c->why, "permission denied "
			    "on %s", path);
		else
			snprintf(c->why, sizeof c->why, "%s: %s (SFTP %lu)",
			    path, session_error(c->session), err);
	}
	free(path);
	return (h);
}

static int
sftp_next(void *ctx, void *dir, char **name, int *is_dir, int *is_file,
    int64_t *size, int64_t *mtime)
{
	struct sftp_ctx		*c = ctx;
	LIBSSH2_SFTP_ATTRIBUTES	 a;
	char			 buf[4096];
	int			 n;

	n = libssh2_sftp_readdir_ex(dir, buf, sizeof buf - 1, NULL, 0, &a);
	if (n == 0)
		return (0);
	if (n < 0) {
		snprintf(c->why, sizeof c->why, "%s",
		    session_error(c->session));
		return (-1);
	}
	buf[n] = '\0';
	*name = xstrdup(buf);
	*is_dir = *is_file = 0;
	if (a.flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) {
		*is_dir = LIBSSH2_SFTP_S_ISDIR(a.permissions);
		*is_file = LIBSSH2_SFTP_S_ISREG(a.permissions);
	}
	*size = (a.flags & LIBSSH2_SFTP_ATTR_SIZE) ? (int64_t)a.filesize : 0;
	*mtime = (a.flags & LIBSSH2_SFTP_ATTR_ACMODTIME) ? (int64_t)a.mtime :
	    0;
	return (1);
}

static void
sftp_close(__unused void *ctx, void *dir)
{
	libssh2_sftp_closedir(dir);
}

static const char *
sftp_error(void *ctx)
{
	return (((struct sftp_ctx *)ctx)->why);
}

static const struct files_walk_ops sftp_ops = {
	.open = sftp_open,
	.next = sftp_next,
	.close = sftp_close,
	.error = sftp_error,
};

int
sftp_job_run(void *arg)
{
	const struct sftp_job	*j = arg;
	struct sftp_ctx		 c;
	char			*methods;
	int			 fd, status = 1;

	memset(&c, 0, sizeof c);
	c.job = j;
	if (libssh2_init(0) != 0) {
		dprintf(2, "libssh2_init failed\n");
		return (1);
	}
	if ((fd = sftp_connect(j, c.why, sizeof c.why)) == -1) {
		dprintf(2, "%s\n", c.why);
		return (1);
	}
	if ((c.session = libssh2_session_init()) == NULL) {
		dprintf(2, "libssh2_session_init failed\n");
		close(fd);
		return (1);
	}
	libssh2_session_set_blocking(c.session, 1);
	libssh2_session_set_timeout(c.session, (long)j->timeout_ms);
	/* Ask for a host key of a type knownHostsRef names. */
	if ((methods = files_known_hosts_methods(j->known_hosts)) != NULL) {
		libssh2_session_method_pref(c.session, LIBSSH2_METHOD_HOSTKEY,
		    methods);
		free(methods);
	}
	if (libssh2_session_handshake(c.session, fd) != 0) {
		snprintf(c.why, sizeof c.why, "SSH handshake with %s:%u: %s",
		    j->host, j->port, session_error(c.session));
		goto out;
	}
	if (sftp_host_key(&c) != 0 || sftp_auth(&c) != 0)
		goto out;
	if ((c.sftp = libssh2_sftp_init(c.session)) == NULL) {
		snprintf(c.why, sizeof c.why, "SFTP subsystem: %s",
		    session_error(c.session));
		goto out;
	}
	if (j->probe)
		status = 0;	/* logged in, the channel open: enough */
	else if (files_walk(&sftp_ops, &c, j->filter, j->depth, j->max) == 0)
		status = 0;
	c.why[0] = '\0';	/* files_walk said it */
out:
	if (status != 0 && c.why[0] != '\0')
		dprintf(2, "%s\n", c.why);
	if (c.sftp != NULL)
		libssh2_sftp_shutdown(c.sftp);
	libssh2_session_disconnect(c.session, "done");
	libssh2_session_free(c.session);
	close(fd);
	libssh2_exit();
	return (status);
}
