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

	smb_job_scrub(f->job);
}

static int
smb_prepare(struct provider *p, struct child_conf *cc, long long max,
    char **cause)
{
	struct files	*f = p->data;
	struct smb_job	*j = f->job;

	j->filter = f->filter;
	j->max = max;
	if (smb_job_secrets(j, p->conf->connector->data, p->env->conf,
	    cause) != 0)
		return (-1);
	cc->fn = smb_job_run;
	cc->fn_arg = j;
	cc->timeout_ms = 4 * j->timeout_ms;
	return (0);
}

static int
smb_init(struct provider *p, char **cause)
{
	const struct files_source	*src = p->conf->data;
	struct files			*f;
	struct smb_job			*j;

	j = xcalloc(1, sizeof *j);
	if (smb_job_init(j, p->conf->connector->data, cause) != 0) {
		free(j);
		return (-1);
	}
	f = xcalloc(1, sizeof *f);
	f->scheme = "smb";
	f->host = xstrdup(j->host);
	f->share = xstrdup(j->share);
	f->prepare = smb_prepare;
	f->scrub = smb_scrub;
	f->job = j;
	j->depth = src->depth;
	if (files_init(p, f, cause) != 0) {
		smb_job_clear(j);
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

	if (f != NULL)
		smb_job_clear(f->job);
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
