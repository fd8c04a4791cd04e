/*
 * connector-azure.c: the Azure connector type, in Harness's shape: a
 * service principal (credential ManualConfig: applicationId, tenantId and
 * auth Secret with a client secret or Certificate with a PEM certificate
 * and its key), the host's managed identity (InheritFromDelegate: system or
 * user assigned, through the instance metadata service), or a registry's
 * admin user (auth UsernamePassword).  azureEnvironmentType picks the
 * cloud's login, management and registry hosts; spec.endpoints (login,
 * imds, acr) points them elsewhere: tests, private endpoints.  The tokens
 * live on the instance (azure-token.c), shared by every source on it.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "azure.h"
#include "connector.h"
#include "http.h"

#define CONN_OFF(f)	offsetof(struct azure_connector, f)

static const char *const az_cred_types[] = {
	"ManualConfig", "InheritFromDelegate", NULL
};
static const char *const az_auth_types[] = {
	"Secret", "Certificate", "UsernamePassword", NULL
};
static const char *const az_msi_types[] = {
	"SystemAssignedManagedIdentity", "UserAssignedManagedIdentity", NULL
};
static const char *const az_envs[] = {
	"AZURE", "AZURE_US_GOVERNMENT", "AZURE_CHINA", NULL
};

static const struct az_cloud az_clouds[] = {
	[AZ_ENV_PUBLIC] = { "https://login.microsoftonline.com",
	    "https://management.azure.com/", "azurecr.io" },
	[AZ_ENV_USGOV] = { "https://login.microsoftonline.us",
	    "https://management.usgovcloudapi.net/", "azurecr.us" },
	[AZ_ENV_CHINA] = { "https://login.chinacloudapi.cn",
	    "https://management.chinacloudapi.cn/", "azurecr.cn" },
};

static const struct cfg_key az_auth_spec_keys[] = {
	{ .name = "secretRef", .type = CFG_SECRET,
	  .off = CONN_OFF(secret_ref) },
	{ .name = "certificateRef", .type = CFG_SECRET,
	  .off = CONN_OFF(certificate_ref) },
	{ .name = "username", .type = CFG_STRING, .off = CONN_OFF(username) },
	{ .name = "passwordRef", .type = CFG_SECRET,
	  .off = CONN_OFF(password_ref) },
	{ .name = "clientId", .type = CFG_STRING, .off = CONN_OFF(client_id) },
	{ .name = NULL }
};

/* ManualConfig's auth.type and InheritFromDelegate's share the key. */
static const struct cfg_key az_manual_auth_keys[] = {
	{ .name = "type", .type = CFG_STRING, .off = CONN_OFF(auth_name) },
	{ .name = "spec", .type = CFG_OBJECT, .sub = az_auth_spec_keys },
	{ .name = NULL }
};

static const struct cfg_key az_cred_spec_keys[] = {
	{ .name = "applicationId", .type = CFG_STRING,
	  .off = CONN_OFF(application_id) },
	{ .name = "tenantId", .type = CFG_STRING, .off = CONN_OFF(tenant_id) },
	{ .name = "auth", .type = CFG_OBJECT, .sub = az_manual_auth_keys },
	{ .name = NULL }
};

static const struct cfg_key az_cred_keys[] = {
	{ .name = "type", .type = CFG_ENUM, .off = CONN_OFF(cred_type),
	  .flags = CFG_REQUIRED, .choices = az_cred_types },
	{ .name = "spec", .type = CFG_OBJECT, .sub = az_cred_spec_keys },
	{ .name = NULL }
};

static const struct cfg_key az_endpoint_keys[] = {
	{ .name = "login", .type = CFG_STRING, .off = CONN_OFF(ep_login) },
	{ .name = "imds", .type = CFG_STRING, .off = CONN_OFF(ep_imds) },
	{ .name = "acr", .type = CFG_STRING, .off = CONN_OFF(ep_acr) },
	{ .name = NULL }
};

static const struct cfg_key az_connector_keys[] = {
	{ .name = "credential", .type = CFG_OBJECT, .flags = CFG_REQUIRED,
	  .sub = az_cred_keys },
	{ .name = "azureEnvironmentType", .type = CFG_ENUM,
	  .off = CONN_OFF(environment), .def = "AZURE", .choices = az_envs },
	{ .name = "endpoints", .type = CFG_OBJECT, .sub = az_endpoint_keys },
	{ .name = "executeOnDelegate", .type = CFG_IGNORE },
	{ .name = "delegateSelectors", .type = CFG_IGNORE },
	{ .name = NULL }
};

const struct az_cloud *
az_cloud(int environment)
{
	if (environment < 0 || environment > AZ_ENV_CHINA)
		environment = AZ_ENV_PUBLIC;
	return (&az_clouds[environment]);
}

static const struct cfg_node *
node_at(const struct cfg_node *n, const char *path)
{
	char			*copy = xstrdup(path), *part, *rest = copy;
	const struct cfg_node	*at = n, *last = n;

	while (at != NULL && (part = strsep(&rest, ".")) != NULL) {
		at = cfg_node_get(at, part);
		if (at != NULL)
			last = at;
	}
	free(copy);
	return (last);
}

static int
http_url(const char *u)
{
	return (u != NULL && (strncmp(u, "http://", 7) == 0 ||
	    strncmp(u, "https://", 8) == 0));
}

/* Index of value in choices, -1 when not one, -2 when absent. */
static int
choice(const char *value, const char *const *choices)
{
	int	 i;

	if (value == NULL)
		return (-2);
	for (i = 0; choices[i] != NULL; i++)
		if (strcmp(choices[i], value) == 0)
			return (i);
	return (-1);
}

static int
az_connector_check(struct connector_conf *cc, struct cfg_errors *errs)
{
	struct azure_connector	*c = cc->data;
	const struct cfg_node	*at = cc->spec != NULL ? cc->spec : cc->node;
	const char		*v;
	int			 n = 0, k;

	if (c->cred_type == AZ_CRED_MANUAL) {
		k = choice(v = c->auth_name, az_auth_types);
		if (k < 0) {
			cfg_error(errs, node_at(at, "credential.spec.auth"),
			    k == -2 ? "credential ManualConfig needs spec.auth."
			    "type: Secret, Certificate or UsernamePassword" :
			    "auth.type %s: not Secret, Certificate or "
			    "UsernamePassword", log_q(v));
			return (n + 1);
		}
		c->auth_type = k;
		if (k != AZ_AUTH_PASSWORD && (c->application_id == NULL ||
		    c->tenant_id == NULL)) {
			cfg_error(errs, node_at(at, "credential.spec"),
			    "credential ManualConfig needs spec.applicationId "
			    "and spec.tenantId");
			n++;
		}
		if (k == AZ_AUTH_SECRET && c->secret_ref == NULL) {
			cfg_error(errs, node_at(at, "credential.spec.auth"),
			    "auth Secret needs spec.secretRef");
			n++;
		}
		if (k == AZ_AUTH_CERT && c->certificate_ref == NULL) {
			cfg_error(errs, node_at(at, "credential.spec.auth"),
			    "auth Certificate needs spec.certificateRef");
			n++;
		}
		if (k == AZ_AUTH_PASSWORD && (c->username == NULL ||
		    c->password_ref == NULL)) {
			cfg_error(errs, node_at(at, "credential.spec.auth"),
			    "auth UsernamePassword needs spec.username and "
			    "spec.passwordRef");
			n++;
		}
	} else {
		k = choice(v = c->auth_name, az_msi_types);
		if (k == -1) {
			cfg_error(errs, node_at(at, "credential.spec.auth"),
			    "auth.type %s: not SystemAssignedManagedIdentity "
			    "or UserAssignedManagedIdentity", log_q(v));
			return (n + 1);
		}
		c->msi_type = k == -2 ? AZ_MSI_SYSTEM : k;
		if (c->msi_type == AZ_MSI_USER && c->client_id == NULL) {
			cfg_error(errs, node_at(at, "credential.spec.auth"),
			    "UserAssignedManagedIdentity needs spec.clientId");
			n++;
		}
		if (c->secret_ref != NULL || c->certificate_ref != NULL ||
		    c->application_id != NULL) {
			cfg_error(errs, node_at(at, "credential.spec"),
			    "credential InheritFromDelegate takes the host's "
			    "managed identity: remove applicationId and the "
			    "secrets");
			n++;
		}
	}
	if (c->ep_login != NULL && !http_url(c->ep_login)) {
		cfg_error(errs, node_at(at, "endpoints.login"), "endpoints."
		    "login must start with http:// or https://");
		n++;
	}
	if (c->ep_imds != NULL && !http_url(c->ep_imds)) {
		cfg_error(errs, node_at(at, "endpoints.imds"), "endpoints.imds "
		    "must start with http:// or https://");
		n++;
	}
	if (c->ep_acr != NULL && !http_url(c->ep_acr)) {
		cfg_error(errs, node_at(at, "endpoints.acr"), "endpoints.acr "
		    "must start with http:// or https://");
		n++;
	}
	return (n);
}

/* The tenant and identity it acts as, and the cloud. */
static char *
az_connector_identity(const struct connector_conf *cc)
{
	const struct azure_connector	*c = cc->data;
	struct buf			 b = { 0 };

	if (c == NULL)
		return (NULL);
	buf_printf(&b, "azure %s", az_envs[c->environment]);
	if (c->ep_acr != NULL)
		buf_printf(&b, " acr=%s", c->ep_acr);
	return (buf_take(&b));
}

static char *
trimmed(const char *u)
{
	size_t	 n = strlen(u);

	while (n > 0 && u[n - 1] == '/')
		n--;
	return (xstrndup(u, n));
}

char *
az_registry_url(const struct connector *conn, const char *registry,
    char **service)
{
	const struct azure_connector	*c = conn->conf->data;
	char				*url;

	/* "myreg" is myreg.azurecr.io; a name with a dot is the host. */
	if (strchr(registry, '.') != NULL)
		*service = xstrdup(registry);
	else
		xasprintf(service, "%s.%s", registry,
		    az_cloud(c->environment)->acr_suffix);
	if (c->ep_acr != NULL)
		return (trimmed(c->ep_acr));
	xasprintf(&url, "https://%s", *service);
	return (url);
}

static int
az_connector_init(struct connector *conn, char **cause)
{
	const struct azure_connector	*c = conn->conf->data;
	const struct az_cloud		*cloud = az_cloud(c->environment);
	struct azure_conn		*a;
	struct az_auth_conf		 ac;
	char				*secret = NULL, *login, *imds, *x5t;

	a = xcalloc(1, sizeof *a);
	conn->data = a;
	if (c->cred_type == AZ_CRED_MANUAL && c->auth_type == AZ_AUTH_PASSWORD)
		return (0);	/* the admin user: credentials() */
	memset(&ac, 0, sizeof ac);
	if (c->cred_type == AZ_CRED_INHERIT) {
		ac.kind = AZ_TOKEN_IMDS;
		ac.client_id = c->msi_type == AZ_MSI_USER ? c->client_id : NULL;
	} else if (c->auth_type == AZ_AUTH_SECRET) {
		ac.kind = AZ_TOKEN_AAD_SECRET;
		if (secret_resolve_key(conn->env->conf, "secretRef",
		    c->secret_ref, &secret, cause) != 0)
			return (-1);
	} else {
		ac.kind = AZ_TOKEN_AAD_CERT;
		if (secret_resolve_key(conn->env->conf, "certificateRef",
		    c->certificate_ref, &secret, cause) != 0)
			return (-1);
		/* A bad PEM is a config error, told now. */
		if (az_cert_x5t(secret, &x5t, cause) != 0) {
			explicit_bzero(secret, strlen(secret));
			free(secret);
			return (-1);
		}
		free(x5t);
	}
	if (ac.kind != AZ_TOKEN_IMDS) {
		ac.client_id = c->application_id;
		ac.tenant = c->tenant_id;
	}
	login = trimmed(c->ep_login != NULL ? c->ep_login : cloud->login);
	imds = trimmed(c->ep_imds != NULL ? c->ep_imds :
	    "http://169.254.169.254");
	ac.login = login;
	ac.imds = imds;
	ac.resource = cloud->management;
	ac.secret = secret;
	a->auth = az_auth_create(conn, &ac);
	free(login);
	free(imds);
	if (secret != NULL) {
		explicit_bzero(secret, strlen(secret));
		free(secret);
	}
	return (0);
}

static void
az_connector_free(struct connector *conn)
{
	struct azure_conn	*a = conn->data;

	if (a == NULL)
		return;
	az_auth_free(a->auth);
	free(a);
	conn->data = NULL;
}

/* The admin user: Basic at the registry's token endpoint. */
static int
az_connector_credentials(struct connector *conn, struct connector_creds *cr,
    char **cause)
{
	const struct azure_connector	*c = conn->conf->data;

	if (c->cred_type != AZ_CRED_MANUAL || c->auth_type != AZ_AUTH_PASSWORD)
		return (0);
	if (secret_resolve_key(conn->env->conf, "passwordRef",
	    c->password_ref, &cr->password, cause) != 0)
		return (-1);
	cr->username = xstrdup(c->username);
	return (0);
}

struct az_probe {
	void	(*done)(int, const char *, void *);
	void	*arg;
};

static void
az_probe_got(const char *token, const char *cause, void *arg)
{
	struct az_probe	*pr = arg;

	pr->done(token != NULL, token != NULL ? NULL : cause, pr->arg);
	free(pr);
}

/* check --connect: an Azure AD token can be had. */
static void
az_connector_probe(struct connector *conn, void (*done)(int, const char *,
    void *), void *arg)
{
	struct azure_conn	*a = conn->data;
	struct az_probe		*pr;

	if (a->auth == NULL) {
		done(0, "the admin user belongs to one registry: an Acr source "
		    "on this connector checks it",
		    arg);
		return;
	}
	pr = xcalloc(1, sizeof *pr);
	pr->done = done;
	pr->arg = arg;
	az_token_get(az_auth_aad(a->auth), az_probe_got, pr);
}

const struct connector_entry connector_azure_entry = {
	.name = "Azure",
	.keys = az_connector_keys,
	.size = sizeof (struct azure_connector),
	.auth_kinds = az_cred_types,
	.check = az_connector_check,
	.identity = az_connector_identity,
	.credentials = az_connector_credentials,
	.init = az_connector_init,
	.free = az_connector_free,
	.probe = az_connector_probe,
};
