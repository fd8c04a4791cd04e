/*
 * files-smb.c: the SMB side of a listing, run in the listing child
 * (provider-files.c) with libsmbclient, whose calls block: the child's
 * kill bounds them, and libsmbclient's own timeout too.  Credentials come
 * through the auth callback, never in the URL.  A probe (check --connect)
 * opens the share's root and lists nothing.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libsmbclient.h>

#include "provider-files.h"

struct smb_ctx {
	const struct smb_job	*job;
	SMBCCTX			*ctx;
	char			*base;	/* smb://host[:port]/share[/dir] */
	char			 why[512];
};

static void
smb_auth(SMBCCTX *ctx, __unused const char *srv, __unused const char *shr,
    char *wg, int wglen, char *un, int unlen, char *pw, int pwlen)
{
	const struct smb_ctx	*c = smbc_getOptionUserData(ctx);
	const struct smb_job	*j = c->job;

	if (j->domain != NULL)
		snprintf(wg, wglen, "%s", j->domain);
	snprintf(un, unlen, "%s", j->username != NULL ? j->username : "");
	snprintf(pw, pwlen, "%s", j->password != NULL ? j->password : "");
}

static const char *
smb_strerror(int err, const struct smb_job *j)
{
	static char	 buf[256];

	switch (err) {
	case EACCES:
	case EPERM:
		snprintf(buf, sizeof buf, "access denied (credentials of %s "
		    "refused, or no right to the share)", j->username != NULL ?
		    j->username : "guest");
		return (buf);
	case ENOENT:
		return ("no such share or directory");
	case ENODEV:
		return ("no such share");
	case ETIMEDOUT:
		return ("timed out");
	case ECONNREFUSED:
		return ("connection refused");
	default:
		return (strerror(err));
	}
}

static void *
smb_open(void *ctx, const char *rel)
{
	struct smb_ctx	*c = ctx;
	SMBCFILE	*d;
	char		*url;

	if (*rel == '\0')
		url = xstrdup(c->base);
	else
		xasprintf(&url, "%s/%s", c->base, rel);
	errno = 0;
	d = smbc_getFunctionOpendir(c->ctx)(c->ctx, url);
	if (d == NULL)
		snprintf(c->why, sizeof c->why, "%s", smb_strerror(errno,
		    c->job));
	free(url);
	return (d);
}

static int
smb_next(void *ctx, void *dir, char **name, int *is_dir, int *is_file,
    int64_t *size, int64_t *mtime)
{
	struct smb_ctx			*c = ctx;
	const struct libsmb_file_info	*fi;
	struct stat			 st;

	memset(&st, 0, sizeof st);
	errno = 0;
	fi = smbc_getFunctionReaddirPlus2(c->ctx)(c->ctx, dir, &st);
	if (fi == NULL) {
		if (errno != 0 && errno != ENOENT) {
			snprintf(c->why, sizeof c->why, "%s",
			    smb_strerror(errno, c->job));
			return (-1);
		}
		return (0);
	}
	*name = xstrdup(fi->name != NULL ? fi->name : "");
	*is_dir = S_ISDIR(st.st_mode);
	*is_file = S_ISREG(st.st_mode);
	*size = (int64_t)st.st_size;
	*mtime = (int64_t)st.st_mtime;
	return (1);
}

static void
smb_close(void *ctx, void *dir)
{
	struct smb_ctx	*c = ctx;

	smbc_getFunctionClosedir(c->ctx)(c->ctx, dir);
}

static const char *
smb_error(void *ctx)
{
	return (((struct smb_ctx *)ctx)->why);
}

static const struct files_walk_ops smb_ops = {
	.open = smb_open,
	.next = smb_next,
	.close = smb_close,
	.error = smb_error,
};

/* check --connect: the share's root opens (a login, the share there). */
static int
smb_probe(struct smb_ctx *c)
{
	void	*d;

	if ((d = smb_open(c, "")) == NULL) {
		dprintf(2, "%s\n", c->why);
		return (1);
	}
	smb_close(c, d);
	return (0);
}

int
smb_job_run(void *arg)
{
	const struct smb_job	*j = arg;
	struct smb_ctx		 c;
	int			 status = 1;

	memset(&c, 0, sizeof c);
	c.job = j;
	if ((c.ctx = smbc_new_context()) == NULL) {
		dprintf(2, "smbc_new_context: %s\n", strerror(errno));
		return (1);
	}
	smbc_setOptionUserData(c.ctx, &c);
	smbc_setFunctionAuthDataWithContext(c.ctx, smb_auth);
	smbc_setTimeout(c.ctx, (int)j->timeout_ms);
	if (j->port != 0)
		smbc_setPort(c.ctx, (uint16_t)j->port);
	smbc_setOptionNoAutoAnonymousLogin(c.ctx, 1);
	smbc_setDebug(c.ctx, 0);
	if (smbc_init_context(c.ctx) == NULL) {
		dprintf(2, "smbc_init_context: %s\n", strerror(errno));
		smbc_free_context(c.ctx, 1);
		return (1);
	}
	if (j->directory[strspn(j->directory, "/")] != '\0')
		xasprintf(&c.base, "smb://%s/%s/%s", j->host, j->share,
		    j->directory + strspn(j->directory, "/"));
	else
		xasprintf(&c.base, "smb://%s/%s", j->host, j->share);
	if (j->probe)
		status = smb_probe(&c);
	else if (files_walk(&smb_ops, &c, j->filter, j->depth, j->max) == 0)
		status = 0;
	free(c.base);
	smbc_free_context(c.ctx, 1);
	return (status);
}
