/*
 * azure.h: private to the Azure family (providers/azure/): the Azure
 * connector (a service principal or a managed identity, for Acr), its
 * tokens (azure-token.c: an Azure AD token, then per registry an ACR
 * refresh token and per repository an ACR access token, each cached until
 * shortly before it expires and refreshed in the background), the
 * AzureArtifacts connector (a personal access token), and the pure parsers
 * of their answers (azure-parse.c).
 */
#ifndef AZURE_H
#define AZURE_H

#include "watcher.h"
#include "provider.h"

struct connector;

/* connector-azure.c: the Azure connector's spec. */
enum az_cred_type { AZ_CRED_MANUAL, AZ_CRED_INHERIT };
enum az_auth_type { AZ_AUTH_SECRET, AZ_AUTH_CERT, AZ_AUTH_PASSWORD };
enum az_msi_type { AZ_MSI_SYSTEM, AZ_MSI_USER };
enum az_env { AZ_ENV_PUBLIC, AZ_ENV_USGOV, AZ_ENV_CHINA };
struct azure_connector {
	int		 cred_type;	/* credential.type */
	char		*application_id; /* credential.spec.applicationId */
	char		*tenant_id;
	char		*auth_name;	/* credential.spec.auth.type */
	int		 auth_type;	/* its index (check) */
	char		*secret_ref;	/* …auth.spec.secretRef */
	char		*certificate_ref; /* …auth.spec.certificateRef */
	char		*username;	/* …auth.spec.username (admin user) */
	char		*password_ref;	/* …auth.spec.passwordRef */
	int		 msi_type;	/* InheritFromDelegate: auth.type */
	char		*client_id;	/* …auth.spec.clientId */
	int		 environment;	/* azureEnvironmentType */
	char		*ep_login;	/* endpoints.login */
	char		*ep_imds;	/* endpoints.imds */
	char		*ep_acr;	/* endpoints.acr: every registry's URL */
};

/* The hosts of an Azure cloud (azureEnvironmentType). */
struct az_cloud {
	const char	*login;		/* https://login.microsoftonline.com */
	const char	*management;	/* the ARM audience, with "/" */
	const char	*acr_suffix;	/* "azurecr.io" */
};
const struct az_cloud *az_cloud(int environment);

/* azure-token.c: tokens fetched, cached and kept fresh. */
enum az_token_kind {
	AZ_TOKEN_AAD_SECRET,	/* client credentials, client secret */
	AZ_TOKEN_AAD_CERT,	/* client credentials, client assertion */
	AZ_TOKEN_IMDS,		/* managed identity */
	AZ_TOKEN_ACR_REFRESH,	/* POST /oauth2/exchange */
	AZ_TOKEN_ACR_ACCESS,	/* POST /oauth2/token, one scope */
};
struct az_auth_conf {
	enum az_token_kind kind;	/* of the Azure AD token */
	const char	*login;		/* base URL, no trailing "/" */
	const char	*imds;		/* base URL, no trailing "/" */
	const char	*resource;	/* the ARM audience, with "/" */
	const char	*tenant;
	const char	*client_id;	/* application or user-assigned id */
	const char	*secret;	/* client secret, or the PEM */
};
struct az_auth;
struct az_token;
typedef void (*az_token_cb)(const char *token, const char *cause,
	    void *arg);
struct az_auth	*az_auth_create(struct connector *,
		    const struct az_auth_conf *);
void		 az_auth_free(struct az_auth *);	/* accepts NULL */
/* The Azure AD token (the chain's root). */
struct az_token	*az_auth_aad(struct az_auth *);
/*
 * The ACR access token of a registry (base URL, service name) for scope,
 * made on first use; its refresh token is the registry's, shared.
 */
struct az_token	*az_auth_acr(struct az_auth *, const char *base,
		    const char *service, const char *scope);
/*
 * The token: at once when it is good for a while more, else after a
 * refresh (from the event loop then).  token is valid during the call.
 */
void		 az_token_get(struct az_token *, az_token_cb, void *arg);
/* Forget the waits of arg (its caller is going away). */
void		 az_token_cancel(struct az_token *, void *arg);
/* The server refused it (a 401): fetch it anew next time. */
void		 az_token_refused(struct az_token *, const char *token);
/* Tokens fetched so far (tests, docs). */
unsigned	 az_token_fetches(const struct az_token *);

/* azure-parse.c: pure parsers. */
/*
 * A token answer: `field` ("access_token", "refresh_token") and its
 * expiry: expires_in (a number or a string), else expires_on (unix s),
 * else the JWT's exp claim, else now + 10 minutes.
 */
int	 az_parse_token(const char *body, size_t len, const char *field,
	    int64_t now_s, char **token, int64_t *expires_s, char **cause);
/* The exp claim of a JWT, or 0. */
int64_t	 az_jwt_exp(const char *jwt);
/*
 * The message of an error answer, one line, or NULL: Azure AD's
 * {"error","error_description"}, the registry's {"errors":[{"code",
 * "message"}]}, Azure DevOps' {"message","typeKey"}.
 */
char	*az_parse_error(const char *body, size_t len);
/* A 2xx that is an HTML page (Azure DevOps' 203 sign-in page). */
int	 az_is_html(const char *content_type, const char *body, size_t len);
/*
 * ACR's /acr/v1/<repo>/_tags page: tags newest first, each with digest
 * and lastUpdateTime.  Adds at most max - vs->n; *more when the page had
 * more than fit.
 */
int	 az_parse_acr_tags(const cJSON *, struct versions *, long long max,
	    int *more, char **cause);
/*
 * Azure DevOps' packages of a feed: the id of the package named `name`
 * (case-insensitive, name or normalizedName).  1 found, 0 not there, -1
 * not a listing.
 */
int	 az_parse_feed_package(const cJSON *, const char *name, char **id,
	    char **cause);
/*
 * Its versions: name, publishDate, isLatest; deleted ones left out;
 * newest first.
 */
int	 az_parse_feed_versions(const cJSON *, struct versions *,
	    char **cause);
/*
 * The client assertion of a certificate credential: an RS256 JWT with the
 * certificate's SHA-1 thumbprint (x5t), iss = sub = client_id, aud the
 * token URL, valid 10 minutes from now_s.  pem holds the certificate and
 * its private key.
 */
int	 az_client_assertion(const char *pem, const char *client_id,
	    const char *aud, int64_t now_s, const char *jti, char **jwt,
	    char **cause);
/* The x5t of the first certificate of pem (base64url SHA-1 of its DER). */
int	 az_cert_x5t(const char *pem, char **x5t, char **cause);

/* connector-azure.c */
struct azure_conn {
	struct az_auth	*auth;		/* NULL: the admin user */
};
/* "https://<registry>.<suffix>" or endpoints.acr; *service: the host. */
char	*az_registry_url(const struct connector *, const char *registry,
	    char **service);

/* provider-acr.c: an Acr source's instance (provider->data). */
struct acr_call;
struct acr_resolve;
struct acr_src {
	char			*base;		/* the registry's URL */
	char			*service;	/* myreg.azurecr.io */
	char			*scope;		/* of its access token */
	const char		*repository;	/* the source's */
	struct fetcher		*fetcher;
	struct az_token		*token;		/* NULL: the admin user */
	struct acr_call		*call;		/* list() in flight */
	struct acr_resolve	*resolving;	/* resolve() in flight */
};
/* acr-labels.c: resolve(): digests and labels from the v2 API. */
void	 acr_resolve(struct provider *, struct version **, size_t,
	    provider_done_cb, void *);
void	 acr_resolve_free(struct acr_resolve *);	/* accepts NULL */

/* connector-artifacts.c: the AzureArtifacts connector's spec. */
struct azart_connector {
	char		*url;		/* azureArtifactsUrl */
	int		 auth_type;	/* auth.spec.type */
	char		*token_ref;	/* auth.spec.spec.tokenRef */
};
/* The feeds API's base for an organization URL, allocated. */
char	*azart_feeds_base(const char *url);

#endif
