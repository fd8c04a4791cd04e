/*
 * provider-sftp.c: the Sftp source type: the files of a directory (and
 * its subdirectories down to `depth`) on the server of an Sftp connector,
 * listed over SFTP in a child process (provider-files.c, files-sftp.c).
 */
#include <stdlib.h>
#include <string.h>

#include "child.h"
#include "connector.h"
#include "provider.h"
#include "provider-files.h"

static void
sftp_scrub(struct provider *p)
{
	struct files	*f = p->data;

	sftp_job_scrub(f->job);
}

static int
sftp_prepare(struct provider *p, struct child_conf *cc, long long max,
    char **cause)
{
	struct files	*f = p->data;
	struct sftp_job	*j = f->job;

	j->filter = f->filter;
	j->max = max;
	if (sftp_job_secrets(j, p->conf->connector->data, p->env->conf,
	    cause) != 0)
		return (-1);
	cc->fn = sftp_job_run;
	cc->fn_arg = j;
	/* Connect, handshake, auth, then the walk: a few timeouts' worth. */
	cc->timeout_ms = 4 * j->timeout_ms;
	return (0);
}

static int
sftp_init(struct provider *p, char **cause)
{
	const struct files_source	*src = p->conf->data;
	struct files			*f;
	struct sftp_job			*j;

	j = xcalloc(1, sizeof *j);
	if (sftp_job_init(j, p->conf->connector->data, cause) != 0) {
		free(j);
		return (-1);
	}
	f = xcalloc(1, sizeof *f);
	f->scheme = "sftp";
	f->host = xstrdup(j->host);
	f->prepare = sftp_prepare;
	f->scrub = sftp_scrub;
	f->job = j;
	j->depth = src->depth;
	if (files_init(p, f, cause) != 0) {
		sftp_job_clear(j);
		free(j);
		free(f->host);
		free(f);
		return (-1);
	}
	j->directory = f->directory;
	return (0);
}

static void
sftp_free(struct provider *p)
{
	struct files	*f = p->data;

	if (f != NULL)
		sftp_job_clear(f->job);
	files_free(p);
}

const struct provider_entry provider_sftp_entry = {
	.name = "Sftp",
	.connector = "Sftp",
	.kind = KIND_FILE,
	.source_keys = files_source_keys,
	.source_size = sizeof (struct files_source),
	.check = files_check,
	.identity = files_identity,
	.init = sftp_init,
	.list = files_list,
	.cancel = files_cancel,
	.free = sftp_free,
};
