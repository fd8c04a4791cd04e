/*
 * connector-smb.c: the Smb connector type: an SMB/CIFS share (smbUrl,
 * smb://host[:port]/share), a domain, and a user with a password.  What a
 * listing job takes from it (server, share, user, password) is here, for
 * the Smb source and for its `check --connect` probe: a login and the
 * share's root opened, nothing listed.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "connector.h"
#include "provider-files.h"

static const char *const smb_auth_types[] = { "UsernamePassword", NULL };

#define CONN_OFF(f)	offsetof(struct smb_connector, f)

static const struct cfg_key smb_auth_spec_keys[] = {
	{ .name = "username", .type = CFG_STRING, .off = CONN_OFF(username) },
	{ .name = "passwordRef", .type = CFG_SECRET,
	  .off = CONN_OFF(password_ref) },
	{ .name = NULL }
};

static const struct cfg_key smb_auth_keys[] = {
	{ .name = "type", .type = CFG_ENUM, .off = CONN_OFF(auth_type),
	  .def = "UsernamePassword", .choices = smb_auth_types },
	{ .name = "spec", .type = CFG_OBJECT, .sub = smb_auth_spec_keys },
	{ .name = NULL }
};

static const struct cfg_key smb_connector_keys[] = {
	{ .name = "smbUrl", .type = CFG_STRING, .off = CONN_OFF(url),
	  .flags = CFG_REQUIRED },
	{ .name = "domain", .type = CFG_STRING, .off = CONN_OFF(domain) },
	{ .name = "auth", .type = CFG_OBJECT, .sub = smb_auth_keys,
	  .flags = CFG_REQUIRED },
	{ .name = "connectTimeout", .type = CFG_DURATION,
	  .off = CONN_OFF(timeout_ms), .def = "30s", .min = 1000,
	  .max = 600 * 1000 },
	{ .name = NULL }
};

static int
smb_connector_check(struct connector_conf *cc, struct cfg_errors *errs)
{
	const struct smb_connector	*c = cc->data;
	const struct cfg_node		*n;
	struct files_url		 u;
	char				*cause;
	int				 bad = 0;

	if (c->url != NULL &&
	    files_url_parse(c->url, "smb", 1, &u, &cause) != 0) {
		n = cfg_node_get(cc->spec, "smbUrl");
		cfg_error(errs, n != NULL ? n : cc->node, "smbUrl: %s", cause);
		free(cause);
		bad++;
	} else if (c->url != NULL)
		files_url_clear(&u);
	if (c->username == NULL || c->password_ref == NULL) {
		n = cfg_node_get(cc->spec, "auth");
		cfg_error(errs, n != NULL ? n : cc->node, "auth "
		    "UsernamePassword needs spec.username and "
		    "spec.passwordRef");
		bad++;
	}
	return (bad);
}

static char *
smb_connector_identity(const struct connector_conf *cc)
{
	const struct smb_connector	*c = cc->data;
	struct files_url		 u;
	char				*id, *cause;

	if (c == NULL || c->url == NULL)
		return (NULL);
	if (files_url_parse(c->url, "smb", 1, &u, &cause) != 0) {
		free(cause);
		return (xstrdup(c->url));
	}
	xasprintf(&id, "smb://%s%s%s@%s:%u/%s", c->domain != NULL ?
	    c->domain : "", c->domain != NULL ? ";" : "", c->username != NULL ?
	    c->username : "", u.host, u.port != 0 ? u.port : 445, u.share);
	files_url_clear(&u);
	return (id);
}

int
smb_job_init(struct smb_job *j, const struct smb_connector *c, char **cause)
{
	struct files_url	 u;

	if (files_url_parse(c->url, "smb", 1, &u, cause) != 0)
		return (-1);
	j->host = u.host;
	j->share = u.share;
	j->port = u.port;
	u.host = u.share = NULL;
	files_url_clear(&u);
	j->domain = c->domain;
	j->username = c->username;
	j->timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : 30000;
	return (0);
}

void
smb_job_scrub(struct smb_job *j)
{
	if (j->password != NULL) {
		explicit_bzero(j->password, strlen(j->password));
		free(j->password);
		j->password = NULL;
	}
}

void
smb_job_clear(struct smb_job *j)
{
	smb_job_scrub(j);
	free(j->host);
	free(j->share);
	j->host = j->share = NULL;
}

int
smb_job_secrets(struct smb_job *j, const struct smb_connector *c,
    const struct config *conf, char **cause)
{
	return (secret_resolve_key(conf, "passwordRef", c->password_ref,
	    &j->password, cause));
}

static int
smb_probe_secrets(struct connector *conn, void *job, char **cause)
{
	return (smb_job_secrets(job, conn->conf->data, conn->env->conf,
	    cause));
}

static void
smb_probe_scrub(void *job)
{
	smb_job_scrub(job);
}

static void
smb_probe_release(void *job)
{
	smb_job_clear(job);
	free(job);
}

/* check --connect: a login and the share's root opened. */
static void
smb_connector_probe(struct connector *conn,
    void (*done)(int, const char *, void *), void *arg)
{
	struct files_probe_conf	 pc;
	struct smb_job		*j;
	char			*what = NULL, *cause = NULL;

	memset(&pc, 0, sizeof pc);
	j = xcalloc(1, sizeof *j);
	if (smb_job_init(j, conn->conf->data, &cause) == 0) {
		xasprintf(&what, "smb://%s", j->host);
		j->probe = 1;
		j->directory = "";
		pc.what = what;
		pc.job = j;
		pc.timeout_ms = 4 * j->timeout_ms;
	} else
		pc.error = cause;
	pc.fn = smb_job_run;
	pc.secrets = smb_probe_secrets;
	pc.scrub = smb_probe_scrub;
	pc.release = smb_probe_release;
	files_probe(conn, &pc, done, arg);
	if (pc.job == NULL)
		free(j);
	free(what);
	free(cause);
}

const struct connector_entry connector_smb_entry = {
	.name = "Smb",
	.keys = smb_connector_keys,
	.size = sizeof (struct smb_connector),
	.auth_kinds = smb_auth_types,
	.check = smb_connector_check,
	.identity = smb_connector_identity,
	.probe = smb_connector_probe,
};
