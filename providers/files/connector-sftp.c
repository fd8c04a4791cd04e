/*
 * connector-sftp.c: the Sftp connector type: an SFTP server (sftpUrl,
 * sftp://host[:port]), a user with a password or an SSH key, and the
 * server's host key as an OpenSSH known_hosts line (knownHostsRef, a
 * secret reference), checked on every connection: no key is trusted on
 * first use.  What a listing job takes from it (server, user, secrets) is
 * here, for the Sftp source and for its `check --connect` probe: the host
 * key checked, a login, the SFTP channel opened, nothing listed.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "connector.h"
#include "provider-files.h"

static const char *const sftp_auth_types[] = {
	"UsernamePassword", "SshKey", NULL
};

#define CONN_OFF(f)	offsetof(struct sftp_connector, f)

static const struct cfg_key sftp_auth_spec_keys[] = {
	{ .name = "username", .type = CFG_STRING, .off = CONN_OFF(username) },
	{ .name = "passwordRef", .type = CFG_SECRET,
	  .off = CONN_OFF(password_ref) },
	{ .name = "sshKeyRef", .type = CFG_SECRET, .off = CONN_OFF(key_ref) },
	{ .name = "passphraseRef", .type = CFG_SECRET,
	  .off = CONN_OFF(passphrase_ref) },
	{ .name = NULL }
};

static const struct cfg_key sftp_auth_keys[] = {
	{ .name = "type", .type = CFG_ENUM, .off = CONN_OFF(auth_type),
	  .def = "UsernamePassword", .choices = sftp_auth_types },
	{ .name = "spec", .type = CFG_OBJECT, .sub = sftp_auth_spec_keys },
	{ .name = NULL }
};

static const struct cfg_key sftp_connector_keys[] = {
	{ .name = "sftpUrl", .type = CFG_STRING, .off = CONN_OFF(url),
	  .flags = CFG_REQUIRED },
	{ .name = "auth", .type = CFG_OBJECT, .sub = sftp_auth_keys,
	  .flags = CFG_REQUIRED },
	{ .name = "knownHostsRef", .type = CFG_SECRET,
	  .off = CONN_OFF(known_hosts_ref), .flags = CFG_REQUIRED },
	{ .name = "connectTimeout", .type = CFG_DURATION,
	  .off = CONN_OFF(timeout_ms), .def = "30s", .min = 1000,
	  .max = 600 * 1000 },
	{ .name = NULL }
};

static int
sftp_connector_check(struct connector_conf *cc, struct cfg_errors *errs)
{
	const struct sftp_connector	*c = cc->data;
	const struct cfg_node		*n;
	struct files_url		 u;
	char				*cause;
	int				 bad = 0;

	if (c->url != NULL &&
	    files_url_parse(c->url, "sftp", 0, &u, &cause) != 0) {
		n = cfg_node_get(cc->spec, "sftpUrl");
		cfg_error(errs, n != NULL ? n : cc->node, "sftpUrl: %s",
		    cause);
		free(cause);
		bad++;
	} else if (c->url != NULL)
		files_url_clear(&u);
	n = cfg_node_get(cc->spec, "auth");
	if (c->username == NULL) {
		cfg_error(errs, n != NULL ? n : cc->node, "auth needs "
		    "spec.username");
		bad++;
	}
	if (c->auth_type == SFTP_AUTH_PASSWORD && c->password_ref == NULL) {
		cfg_error(errs, n != NULL ? n : cc->node, "auth "
		    "UsernamePassword needs spec.passwordRef");
		bad++;
	}
	if (c->auth_type == SFTP_AUTH_KEY && c->key_ref == NULL) {
		cfg_error(errs, n != NULL ? n : cc->node, "auth SshKey needs "
		    "spec.sshKeyRef");
		bad++;
	}
	return (bad);
}

/* sftp://host:port and the user: what the listing sees. */
static char *
sftp_connector_identity(const struct connector_conf *cc)
{
	const struct sftp_connector	*c = cc->data;
	struct files_url		 u;
	char				*id, *cause;

	if (c == NULL || c->url == NULL)
		return (NULL);
	if (files_url_parse(c->url, "sftp", 0, &u, &cause) != 0) {
		free(cause);
		return (xstrdup(c->url));
	}
	xasprintf(&id, "sftp://%s@%s:%u", c->username != NULL ? c->username :
	    "", u.host, u.port != 0 ? u.port : 22);
	files_url_clear(&u);
	return (id);
}

int
sftp_job_init(struct sftp_job *j, const struct sftp_connector *c,
    char **cause)
{
	struct files_url	 u;

	if (files_url_parse(c->url, "sftp", 0, &u, cause) != 0)
		return (-1);
	j->host = u.host;
	j->port = u.port != 0 ? u.port : 22;
	u.host = NULL;
	files_url_clear(&u);
	j->username = c->username;
	j->timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : 30000;
	return (0);
}

void
sftp_job_clear(struct sftp_job *j)
{
	sftp_job_scrub(j);
	free(j->host);
	j->host = NULL;
}

static void
wipe(char **s)
{
	if (*s != NULL) {
		explicit_bzero(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

void
sftp_job_scrub(struct sftp_job *j)
{
	wipe(&j->password);
	wipe(&j->key);
	wipe(&j->passphrase);
	wipe(&j->known_hosts);
}

static int
resolve(const struct config *conf, const char *what, const char *ref,
    char **out, char **cause)
{
	if (ref == NULL)
		return (0);
	return (secret_resolve_key(conf, what, ref, out, cause));
}

int
sftp_job_secrets(struct sftp_job *j, const struct sftp_connector *c,
    const struct config *conf, char **cause)
{
	if (resolve(conf, "knownHostsRef", c->known_hosts_ref, &j->known_hosts,
	    cause) != 0 ||
	    (c->auth_type == SFTP_AUTH_PASSWORD && resolve(conf, "passwordRef",
	    c->password_ref, &j->password, cause) != 0) ||
	    (c->auth_type == SFTP_AUTH_KEY && (resolve(conf, "sshKeyRef",
	    c->key_ref, &j->key, cause) != 0 || resolve(conf, "passphraseRef",
	    c->passphrase_ref, &j->passphrase, cause) != 0))) {
		sftp_job_scrub(j);
		return (-1);
	}
	return (0);
}

static int
sftp_probe_secrets(struct connector *conn, void *job, char **cause)
{
	return (sftp_job_secrets(job, conn->conf->data, conn->env->conf,
	    cause));
}

static void
sftp_probe_scrub(void *job)
{
	sftp_job_scrub(job);
}

static void
sftp_probe_release(void *job)
{
	sftp_job_clear(job);
	free(job);
}

/* check --connect: the host key, a login, the SFTP channel. */
static void
sftp_connector_probe(struct connector *conn,
    void (*done)(int, const char *, void *), void *arg)
{
	struct files_probe_conf	 pc;
	struct sftp_job		*j;
	char			*what = NULL, *cause = NULL;

	memset(&pc, 0, sizeof pc);
	j = xcalloc(1, sizeof *j);
	if (sftp_job_init(j, conn->conf->data, &cause) == 0) {
		xasprintf(&what, "sftp://%s:%u", j->host, j->port);
		j->probe = 1;
		pc.what = what;
		pc.job = j;
		pc.timeout_ms = 4 * j->timeout_ms;
	} else
		pc.error = cause;
	pc.fn = sftp_job_run;
	pc.secrets = sftp_probe_secrets;
	pc.scrub = sftp_probe_scrub;
	pc.release = sftp_probe_release;
	files_probe(conn, &pc, done, arg);
	if (pc.job == NULL)
		free(j);
	free(what);
	free(cause);
}

const struct connector_entry connector_sftp_entry = {
	.name = "Sftp",
	.keys = sftp_connector_keys,
	.size = sizeof (struct sftp_connector),
	.auth_kinds = sftp_auth_types,
	.check = sftp_connector_check,
	.identity = sftp_connector_identity,
	.probe = sftp_connector_probe,
};
