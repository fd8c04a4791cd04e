/*
 * connector-smb.c: the Smb connector type: an SMB/CIFS share (smbUrl,
 * smb://host[:port]/share), a domain, and a user with a password.
 */
#include <stddef.h>
#include <stdlib.h>

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

const struct connector_entry connector_smb_entry = {
	.name = "Smb",
	.keys = smb_connector_keys,
	.size = sizeof (struct smb_connector),
	.auth_kinds = smb_auth_types,
	.check = smb_connector_check,
	.identity = smb_connector_identity,
};
