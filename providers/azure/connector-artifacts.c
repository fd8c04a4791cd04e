/*
 * connector-artifacts.c: the AzureArtifacts connector type: an Azure DevOps
 * organization (azureArtifactsUrl, https://dev.azure.com/ORG) and a
 * personal access token (auth.spec.type PersonalAccessToken,
 * auth.spec.spec.tokenRef), sent as Basic with an empty user name on every
 * request of its sources.  The feeds API lives on feeds.dev.azure.com (or
 * ORG.feeds.visualstudio.com); an Azure DevOps Server collection URL (or a
 * test's) serves it itself.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "azure.h"
#include "connector.h"
#include "fetch.h"
#include "http.h"

#define CONN_OFF(f)	offsetof(struct azart_connector, f)

static const char *const azart_auth_types[] = { "PersonalAccessToken", NULL };

static const struct cfg_key azart_token_keys[] = {
	{ .name = "tokenRef", .type = CFG_SECRET, .off = CONN_OFF(token_ref),
	  .flags = CFG_REQUIRED },
	{ .name = NULL }
};

static const struct cfg_key azart_auth_spec_keys[] = {
	{ .name = "type", .type = CFG_ENUM, .off = CONN_OFF(auth_type),
	  .def = "PersonalAccessToken", .choices = azart_auth_types },
	{ .name = "spec", .type = CFG_OBJECT, .flags = CFG_REQUIRED,
	  .sub = azart_token_keys },
	{ .name = NULL }
};

static const struct cfg_key azart_auth_keys[] = {
	{ .name = "spec", .type = CFG_OBJECT, .flags = CFG_REQUIRED,
	  .sub = azart_auth_spec_keys },
	{ .name = NULL }
};

static const struct cfg_key azart_connector_keys[] = {
	{ .name = "azureArtifactsUrl", .type = CFG_STRING, .off = CONN_OFF(url),
	  .flags = CFG_REQUIRED },
	{ .name = "auth", .type = CFG_OBJECT, .flags = CFG_REQUIRED,
	  .sub = azart_auth_keys },
	{ .name = "executeOnDelegate", .type = CFG_IGNORE },
	{ .name = "delegateSelectors", .type = CFG_IGNORE },
	{ .name = NULL }
};

char *
azart_feeds_base(const char *url)
{
	char		*host, *out, *p;
	const char	*path;
	size_t		 n;

	if ((host = url_host(url)) == NULL)
		return (NULL);
	path = strstr(url, "://") + 3;
	path += strcspn(path, "/");
	while (*path == '/')
		path++;
	n = strcspn(path, "/?#");
	if (strcasecmp(host, "dev.azure.com") == 0 && n > 0)
		xasprintf(&out, "https://feeds.dev.azure.com/%.*s", (int)n,
		    path);
	else if (strlen(host) > 17 && strcasecmp(host + strlen(host) - 17,
	    ".visualstudio.com") == 0 && strstr(host, ".feeds.") == NULL)
		xasprintf(&out, "https://%.*s.feeds.visualstudio.com",
		    (int)(strlen(host) - 17), host);
	else {
		out = xstrndup(url, strcspn(url, "?#"));
		n = strlen(out);
		while (n > 0 && out[n - 1] == '/')
			out[--n] = '\0';
	}
	free(host);
	for (p = out; *p != '\0'; p++)
		if (*p == ' ')
			*p = '+';
	return (out);
}

static int
azart_connector_check(struct connector_conf *cc, struct cfg_errors *errs)
{
	const struct azart_connector	*c = cc->data;
	const struct cfg_node		*at = cc->spec != NULL ? cc->spec :
	    cc->node;
	char				*host;

	if (c->url == NULL)
		return (0);
	if ((strncmp(c->url, "http://", 7) != 0 &&
	    strncmp(c->url, "https://", 8) != 0) ||
	    (host = url_host(c->url)) == NULL) {
		cfg_error(errs, cfg_node_get(at, "azureArtifactsUrl"),
		    "azureArtifactsUrl must be an http:// or https:// URL "
		    "(https://dev.azure.com/ORGANIZATION)");
		return (1);
	}
	free(host);
	return (0);
}

static char *
azart_connector_identity(const struct connector_conf *cc)
{
	const struct azart_connector	*c = cc->data;

	if (c == NULL || c->url == NULL)
		return (NULL);
	return (azart_feeds_base(c->url));
}

/* Basic with an empty user name and the token as the password. */
static int
azart_connector_credentials(struct connector *conn,
    struct connector_creds *cr, char **cause)
{
	const struct azart_connector	*c = conn->conf->data;
	char				*pat;

	if (secret_resolve_key(conn->env->conf, "tokenRef", c->token_ref, &pat,
	    cause) != 0)
		return (-1);
	cr->header = fetch_basic_header("", pat);
	explicit_bzero(pat, strlen(pat));
	free(pat);
	return (0);
}

const struct connector_entry connector_azart_entry = {
	.name = "AzureArtifacts",
	.keys = azart_connector_keys,
	.size = sizeof (struct azart_connector),
	.auth_kinds = azart_auth_types,
	.check = azart_connector_check,
	.identity = azart_connector_identity,
	.credentials = azart_connector_credentials,
};
