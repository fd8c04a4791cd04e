/*
 * provider-smb.c: the Smb source type: the files of a directory (and its
 * subdirectories down to `depth`) on the share of an Smb connector, listed
 * through libsmbclient in a child process (provider-files.c, files-smb.c):
 * libcurl's SMB cannot list a directory, and libsmbclient blocks.
 */
#include <stdlib.h>
#include <string.h>

#include "child.h"
#include "connector.h"
#include "provider.h"
#include "provider-files.h"

static void
smb_scrub(struct provider *p)
{
	struct files	*f = p->data;
	struct smb_job	*j = f->job;

	if (j->password != NULL) {
		explicit_bzero(j->password, strlen(j->password));
		free(j->password);
		j->password = NULL;
	}
}

static int
smb_prepare(struct provider *p, struct child_conf *cc, long long max,
    char **cause)
{
	const struct smb_connector	*c = p->conf->connector->data;
	struct files			*f = p->data;
	struct smb_job			*j = f->job;
	char				*why;

	j->filter = f->filter;
	j->max = max;
	if (secret_resolve(p->env->conf, c->password_ref, &j->password,
	    &why) != 0) {
		fail(cause, "passwordRef %s: %s", c->password_ref, why);
		free(why);
		return (-1);
	}
	cc->fn = smb_job_run;
	cc->fn_arg = j;
	cc->timeout_ms = 4 * j->timeout_ms;
	return (0);
}

static int
smb_init(struct provider *p, char **cause)
{
	const struct smb_connector	*c = p->conf->connector->data;
	const struct files_source	*src = p->conf->data;
	struct files_url		 u;
	struct files			*f;
	struct smb_job			*j;

	if (files_url_parse(c->url, "smb", 1, &u, cause) != 0)
		return (-1);
	f = xcalloc(1, sizeof *f);
	j = xcalloc(1, sizeof *j);
	f->scheme = "smb";
	f->host = xstrdup(u.host);
	f->share = xstrdup(u.share);
	f->prepare = smb_prepare;
	f->scrub = smb_scrub;
	f->job = j;
	j->host = u.host;
	j->share = u.share;
	j->port = u.port;
	u.host = u.share = NULL;
	files_url_clear(&u);
	j->domain = c->domain;
	j->username = c->username;
	j->timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : 30000;
	j->depth = src->depth;
	if (files_init(p, f, cause) != 0) {
		free(j->host);
		free(j->share);
		free(j);
		free(f->host);
		free(f->share);
		free(f);
		return (-1);
	}
	j->directory = f->directory;
	return (0);
}

static void
smb_free(struct provider *p)
{
	struct files	*f = p->data;
	struct smb_job	*j;

	if (f != NULL) {
		j = f->job;
		free(j->host);
		free(j->share);
	}
	files_free(p);
}

const struct provider_entry provider_smb_entry = {
	.name = "Smb",
	.connector = "Smb",
	.kind = KIND_FILE,
	.source_keys = files_source_keys,
	.source_size = sizeof (struct files_source),
	.check = files_check,
	.identity = files_identity,
	.init = smb_init,
	.list = files_list,
	.cancel = files_cancel,
	.free = smb_free,
};
