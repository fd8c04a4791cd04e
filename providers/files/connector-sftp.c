/*
 * connector-sftp.c: the Sftp connector type: an SFTP server (sftpUrl,
 * sftp://host[:port]), a user with a password or an SSH key, and the
 * server's host key as an OpenSSH known_hosts line (knownHostsRef, a
 * secret reference), checked on every connection: no key is trusted on
 * first use.
 */
#include <stddef.h>
#include <stdlib.h>

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

const struct connector_entry connector_sftp_entry = {
	.name = "Sftp",
	.keys = sftp_connector_keys,
	.size = sizeof (struct sftp_connector),
	.auth_kinds = sftp_auth_types,
	.check = sftp_connector_check,
	.identity = sftp_connector_identity,
};
