/*
 * connector-gcp.c: the Gcp connector type, in Harness's shape: a
 * service-account key (credential ManualConfig, spec.secretKeyRef names a
 * secret holding the key file's JSON) or the host's own identity
 * (InheritFromDelegate: the key file GOOGLE_APPLICATION_CREDENTIALS names,
 * else the metadata server).  One connector serves Gcr,
 * GoogleArtifactRegistry and GoogleCloudStorage with one access token of
 * the read-only scope (gcp-auth.c).  spec.endpoints (storage,
 * artifactregistry, metadata) point a service elsewhere: tests, private
 * endpoints; STORAGE_EMULATOR_HOST points GCS at an emulator, as Google's
 * client libraries do.
 *
 * Registries (Gcr) take the token as the password of the user
 * oauth2accesstoken: credentials() gives the fresh cached token, which the
 * Gcr source makes sure of before its requests.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "google.h"
#include "connector.h"
#include "http.h"

#define CONN_OFF(f)	offsetof(struct gcp_connector, f)
#define GCP_KEY_MAX	(64 * 1024)

static const char *const gcp_cred_types[] = {
	"ManualConfig", "InheritFromDelegate", NULL
};

static const struct cfg_key gcp_cred_spec_keys[] = {
	{ .name = "secretKeyRef", .type = CFG_SECRET,
	  .off = CONN_OFF(secret_key_ref) },
	{ .name = NULL }
};

static const struct cfg_key gcp_cred_keys[] = {
	{ .name = "type", .type = CFG_ENUM, .off = CONN_OFF(cred_type),
	  .flags = CFG_REQUIRED, .choices = gcp_cred_types },
	{ .name = "spec", .type = CFG_OBJECT, .sub = gcp_cred_spec_keys },
	{ .name = NULL }
};

static const struct cfg_key gcp_endpoint_keys[] = {
	{ .name = "storage", .type = CFG_STRING,
	  .off = CONN_OFF(ep[GCP_STORAGE]) },
	{ .name = "artifactregistry", .type = CFG_STRING,
	  .off = CONN_OFF(ep[GCP_AR]) },
	{ .name = "metadata", .type = CFG_STRING,
	  .off = CONN_OFF(ep[GCP_METADATA]) },
	{ .name = NULL }
};

static const struct cfg_key gcp_connector_keys[] = {
	{ .name = "credential", .type = CFG_OBJECT, .flags = CFG_REQUIRED,
	  .sub = gcp_cred_keys },
	{ .name = "endpoints", .type = CFG_OBJECT, .sub = gcp_endpoint_keys },
	{ .name = "executeOnDelegate", .type = CFG_IGNORE },
	{ .name = "delegateSelectors", .type = CFG_IGNORE },
	{ .name = NULL }
};

static const char *const gcp_service_key[] = {
	[GCP_STORAGE] = "storage", [GCP_AR] = "artifactregistry",
	[GCP_METADATA] = "metadata",
};

static const struct cfg_node *
spec_node(const struct connector_conf *cc, const char *a, const char *b)
{
	const struct cfg_node	*at = cc->spec != NULL ? cc->spec : cc->node;
	const struct cfg_node	*n = cfg_node_get(at, a);

	if (n != NULL && b != NULL)
		n = cfg_node_get(n, b) != NULL ? cfg_node_get(n, b) : n;
	return (n != NULL ? n : at);
}

static int
http_url(const char *u)
{
	return (u != NULL && (strncmp(u, "http://", 7) == 0 ||
	    strncmp(u, "https://", 8) == 0));
}

static int
gcp_connector_check(struct connector_conf *cc, struct cfg_errors *errs)
{
	const struct gcp_connector	*c = cc->data;
	int				 n = 0;
	size_t				 i;

	if (c->cred_type == GCP_CRED_MANUAL && c->secret_key_ref == NULL) {
		cfg_error(errs, spec_node(cc, "credential", "spec"),
		    "credential ManualConfig needs spec.secretKeyRef (a "
		    "secret holding the service-account key file)");
		n++;
	} else if (c->cred_type == GCP_CRED_INHERIT &&
	    c->secret_key_ref != NULL) {
		cfg_error(errs, spec_node(cc, "credential", "spec"),
		    "credential InheritFromDelegate takes the host's "
		    "identity: remove spec.secretKeyRef");
		n++;
	}
	for (i = 0; i < GCP_NSERVICES; i++) {
		if (c->ep[i] != NULL && !http_url(c->ep[i])) {
			cfg_error(errs, spec_node(cc, "endpoints",
			    gcp_service_key[i]), "endpoints.%s must start "
			    "with http:// or https://", gcp_service_key[i]);
			n++;
		}
	}
	return (n);
}

/* What it reaches: Google's APIs, or the endpoints set instead. */
static char *
gcp_connector_identity(const struct connector_conf *cc)
{
	const struct gcp_connector	*c = cc->data;
	struct buf			 b = { 0 };
	size_t				 i;

	if (c == NULL)
		return (NULL);
	buf_adds(&b, "gcp");
	for (i = 0; i < GCP_NSERVICES; i++)
		if (c->ep[i] != NULL && i != GCP_METADATA)
			buf_printf(&b, " %s=%s", gcp_service_key[i], c->ep[i]);
	return (buf_take(&b));
}

static char *
trimmed(const char *v)
{
	size_t	 n = strlen(v);

	while (n > 0 && v[n - 1] == '/')
		n--;
	return (xstrndup(v, n));
}

static const char *
env_set(const char *name)
{
	const char	*v = getenv(name);

	return (v != NULL && *v != '\0' ? v : NULL);
}

char *
gcp_endpoint(const struct connector *conn, enum gcp_service svc)
{
	const struct gcp_connector	*c = conn->conf->data;
	const char			*v;
	char				*u;

	if (c->ep[svc] != NULL)
		return (trimmed(c->ep[svc]));
	switch (svc) {
	case GCP_STORAGE:
		if ((v = env_set("STORAGE_EMULATOR_HOST")) == NULL)
			return (xstrdup("https://storage.googleapis.com"));
		if (http_url(v))
			return (trimmed(v));
		xasprintf(&u, "http://%s", v);
		return (u);
	case GCP_AR:
		return (xstrdup("https://artifactregistry.googleapis.com"));
	default:
		if ((v = env_set("GCE_METADATA_HOST")) != NULL) {
			xasprintf(&u, "http://%s", v);
			return (u);
		}
		return (xstrdup("http://metadata.google.internal"));
	}
}

/* A key file (GOOGLE_APPLICATION_CREDENTIALS), at most GCP_KEY_MAX. */
static char *
read_key_file(const char *path, size_t *len, char **cause)
{
	struct buf	 b = { 0 };
	char		 chunk[4096];
	ssize_t		 n = 0;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		fail(cause, "GOOGLE_APPLICATION_CREDENTIALS %s: %s",
		    log_q(path), strerror(errno));
		return (NULL);
	}
	while (b.len <= GCP_KEY_MAX && (n = read(fd, chunk, sizeof chunk)) > 0)
		buf_add(&b, chunk, (size_t)n);
	close(fd);
	explicit_bzero(chunk, sizeof chunk);
	if (n < 0 || b.len > GCP_KEY_MAX) {
		if (b.data != NULL)
			explicit_bzero(b.data, b.len);
		buf_free(&b);
		fail(cause, "GOOGLE_APPLICATION_CREDENTIALS %s: %s",
		    log_q(path), n < 0 ? "cannot be read" : "too large");
		return (NULL);
	}
	*len = b.len;
	buf_add(&b, "", 1);
	return (buf_take(&b));
}

static int
gcp_connector_init(struct connector *conn, char **cause __unused)
{
	const struct gcp_connector	*c = conn->conf->data;
	struct gcp_auth_conf		 ac;
	struct gcp_conn			*g;
	char				*key = NULL, *why = NULL, *err = NULL;
	char				*meta;
	const char			*file;
	size_t				 len = 0;

	memset(&ac, 0, sizeof ac);
	if (c->cred_type == GCP_CRED_MANUAL) {
		ac.key_name = c->secret_key_ref;
		if (secret_resolve(conn->env->conf, c->secret_key_ref, &key,
		    &why) != 0) {
			xasprintf(&err, "secretKeyRef %s: %s",
			    c->secret_key_ref, why);
			free(why);
		} else
			len = strlen(key);
	} else if ((file = env_set("GOOGLE_APPLICATION_CREDENTIALS")) !=
	    NULL) {
		ac.key_name = "GOOGLE_APPLICATION_CREDENTIALS";
		key = read_key_file(file, &len, &err);
	}
	/* Not fatal: the sources on this connector fail with err. */
	meta = gcp_endpoint(conn, GCP_METADATA);
	ac.key_json = key;
	ac.key_len = len;
	ac.key_error = err;
	ac.metadata_url = meta;
	ac.scope = GCP_SCOPE;
	g = xcalloc(1, sizeof *g);
	g->auth = gcp_auth_create(conn->env, &ac);
	if (key != NULL) {
		explicit_bzero(key, len);
		free(key);
	}
	free(err);
	free(meta);
	conn->data = g;
	return (0);
}

static void
gcp_connector_free(struct connector *conn)
{
	struct gcp_conn	*g = conn->data;

	if (g == NULL)
		return;
	gcp_auth_free(g->auth);
	free(g);
	conn->data = NULL;
}

/* Registries: user oauth2accesstoken, the fresh token as the password. */
static int
gcp_connector_credentials(struct connector *conn, struct connector_creds *cr,
    char **cause)
{
	struct gcp_conn	*g = conn->data;
	const char	*token;

	if (g == NULL || (token = gcp_auth_token(g->auth)) == NULL)
		return (fail(cause, "no Google access token yet"));
	cr->username = xstrdup("oauth2accesstoken");
	cr->password = xstrdup(token);
	return (0);
}

struct gcp_probe {
	void	(*done)(int, const char *, void *);
	void	*arg;
};

static void
gcp_probe_got(const char *token, const char *cause, void *arg)
{
	struct gcp_probe	*pr = arg;

	pr->done(token != NULL, token != NULL ? NULL : cause, pr->arg);
	free(pr);
}

/* check --connect: a token can be had. */
static void
gcp_connector_probe(struct connector *conn, void (*done)(int, const char *,
    void *), void *arg)
{
	struct gcp_conn		*g = conn->data;
	struct gcp_probe	*pr = xcalloc(1, sizeof *pr);

	pr->done = done;
	pr->arg = arg;
	gcp_auth_get(g->auth, gcp_probe_got, pr);
}

const struct connector_entry connector_gcp_entry = {
	.name = "Gcp",
	.keys = gcp_connector_keys,
	.size = sizeof (struct gcp_connector),
	.auth_kinds = gcp_cred_types,
	.check = gcp_connector_check,
	.identity = gcp_connector_identity,
	.credentials = gcp_connector_credentials,
	.init = gcp_connector_init,
	.free = gcp_connector_free,
	.probe = gcp_connector_probe,
};
