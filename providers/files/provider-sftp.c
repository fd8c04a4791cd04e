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
wipe(char **s)
{
	if (*s != NULL) {
		explicit_bzero(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

static void
sftp_scrub(struct provider *p)
{
	struct files	*f = p->data;
	struct sftp_job	*j = f->job;

	wipe(&j->password);
	wipe(&j->key);
	wipe(&j->passphrase);
	wipe(&j->known_hosts);
}

static int
resolve(struct provider *p, const char *what, const char *ref, char **out,
    char **cause)
{
	char	*why;

	if (ref == NULL)
		return (0);
	if (secret_resolve(p->env->conf, ref, out, &why) != 0) {
		fail(cause, "%s %s: %s", what, ref, why);
		free(why);
		return (-1);
	}
	return (0);
}

static int
sftp_prepare(struct provider *p, struct child_conf *cc, long long max,
    char **cause)
{
	const struct sftp_connector	*c = p->conf->connector->data;
	struct files			*f = p->data;
	struct sftp_job			*j = f->job;

	j->filter = f->filter;
	j->max = max;
	if (resolve(p, "knownHostsRef", c->known_hosts_ref, &j->known_hosts,
	    cause) != 0 ||
	    (c->auth_type == SFTP_AUTH_PASSWORD && resolve(p, "passwordRef",
	    c->password_ref, &j->password, cause) != 0) ||
	    (c->auth_type == SFTP_AUTH_KEY && (resolve(p, "sshKeyRef",
	    c->key_ref, &j->key, cause) != 0 || resolve(p, "passphraseRef",
	    c->passphrase_ref, &j->passphrase, cause) != 0))) {
		sftp_scrub(p);
		return (-1);
	}
	cc->fn = sftp_job_run;
	cc->fn_arg = j;
	/* Connect, handshake, auth, then the walk: a few timeouts' worth. */
	cc->timeout_ms = 4 * j->timeout_ms;
	return (0);
}

static int
sftp_init(struct provider *p, char **cause)
{
	const struct sftp_connector	*c = p->conf->connector->data;
	const struct files_source	*src = p->conf->data;
	struct files_url		 u;
	struct files			*f;
	struct sftp_job			*j;

	if (files_url_parse(c->url, "sftp", 0, &u, cause) != 0)
		return (-1);
	f = xcalloc(1, sizeof *f);
	j = xcalloc(1, sizeof *j);
	f->scheme = "sftp";
	f->host = xstrdup(u.host);
	f->prepare = sftp_prepare;
	f->scrub = sftp_scrub;
	f->job = j;
	j->host = u.host;
	j->port = u.port != 0 ? u.port : 22;
	u.host = NULL;
	files_url_clear(&u);
	j->username = c->username;
	j->timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : 30000;
	j->depth = src->depth;
	if (files_init(p, f, cause) != 0) {
		free(j->host);
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
		free(((struct sftp_job *)f->job)->host);
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
