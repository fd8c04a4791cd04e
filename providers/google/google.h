/*
 * google.h: private to the Google family (providers/google/): the Gcp
 * connector (one connector serves Gcr, GoogleArtifactRegistry and
 * GoogleCloudStorage), its access token (gcp-auth.c), one listing call on
 * the fetch engine with that token (gcp-call.c), and the pure parsers of
 * the key file, token, error and listing answers (gcp-parse.c).
 */
#ifndef GOOGLE_H
#define GOOGLE_H

#include "watcher.h"
#include "provider.h"

struct connector;
struct provider;
struct fetch;
struct fetch_page;
struct fetcher;
struct env;

/* The services a Gcp connector reaches (spec.endpoints keys). */
enum gcp_service { GCP_STORAGE, GCP_AR, GCP_METADATA, GCP_NSERVICES };

/* The read-only scope every grant asks for. */
#define GCP_SCOPE	"https://www.googleapis.com/auth/cloud-platform.read-only"
#define GCP_TOKEN_URI	"https://oauth2.googleapis.com/token"

/* connector-gcp.c: the connector's spec (the config loader fills it). */
enum gcp_cred_type { GCP_CRED_MANUAL, GCP_CRED_INHERIT };
struct gcp_connector {
	int		 cred_type;	/* credential.type */
	char		*secret_key_ref; /* credential.spec.secretKeyRef */
	char		*ep[GCP_NSERVICES];
};
struct gcp_auth;
struct gcp_conn {
	struct gcp_auth	*auth;
};
/*
 * The base URL of a service, no trailing '/': endpoints.<svc>; for storage
 * STORAGE_EMULATOR_HOST (a host:port means http://); for metadata
 * GCE_METADATA_HOST; else Google's.
 */
char	*gcp_endpoint(const struct connector *, enum gcp_service);

/* A service-account key file (gcp_parse_key). */
struct gcp_key {
	char		*client_email;
	char		*private_key;	/* secret: zeroed by gcp_key_clear */
	char		*private_key_id;
	char		*token_uri;	/* GCP_TOKEN_URI when absent */
};
void	 gcp_key_clear(struct gcp_key *);

/* gcp-auth.c: the connector's access token, kept fresh. */
struct gcp_auth_conf {
	const char	*key_json;	/* a key file's text, or NULL */
	size_t		 key_len;
	const char	*key_name;	/* where it came from, for causes */
	/* The key could not be had: every get fails with this. */
	const char	*key_error;
	const char	*metadata_url;	/* no key: the metadata server */
	const char	*scope;
};
typedef void (*gcp_auth_cb)(const char *token, const char *cause,
	    void *arg);
/*
 * A key that cannot be read or parsed is not fatal: every get fails with
 * why (never the key's text), so only the sources on it fail.
 */
struct gcp_auth	*gcp_auth_create(struct env *, const struct gcp_auth_conf *);
void		 gcp_auth_free(struct gcp_auth *);	/* accepts NULL */
/*
 * The token: at once when it is good for another minute, else after a
 * grant (done then runs from the event loop).  token is valid during the
 * callback only.
 */
void		 gcp_auth_get(struct gcp_auth *, gcp_auth_cb, void *arg);
void		 gcp_auth_cancel(struct gcp_auth *, void *arg);
/* Google refused `token` (401): the next get makes a new grant. */
void		 gcp_auth_expired(struct gcp_auth *, const char *token);
/* The cached token if it is still good, else NULL (synchronous). */
const char	*gcp_auth_token(const struct gcp_auth *);
/* How many grants were made (tests, the metrics). */
unsigned	 gcp_auth_grants(const struct gcp_auth *);

/*
 * gcp-call.c: one list() of a Google API source: the token, then a fetch
 * batch of JSON pages with "Authorization: Bearer" and nextPageToken
 * paging.  page() parses one 2xx page into c->vs; it returns FETCH_NEXT,
 * FETCH_STOP or FETCH_FAILED (after fetch_fail).  Google's errors become
 * one line with the server's message; 429, RESOURCE_EXHAUSTED and 503
 * pause the connector; a 401 gets a new token and the listing starts over,
 * once.  `empty404`: a 404 is an empty listing (no such package yet).
 */
struct gcp_call;
typedef int (*gcp_page_cb)(struct gcp_call *, struct fetch *,
	    struct fetch_page *);
struct gcp_call {
	struct provider		*p;
	struct fetcher		*fetcher;
	char			*url;		/* the first page */
	gcp_page_cb		 page;
	provider_done_cb	 done;
	void			*arg;
	struct versions		*vs;
	long long		 max;
	int			 empty404;
	/* gcp-call.c's own. */
	char			*token;
	unsigned		 requests;
	int			 expired;
	int			 retried;
	int			 cancelled;
	struct gcp_call		**slot;		/* the provider's pointer */
};
void	 gcp_call_list(struct provider *, struct fetcher *,
	    struct gcp_call **slot, const char *url,
	    const struct list_request *, int empty404, gcp_page_cb,
	    provider_done_cb, void *arg);
void	 gcp_call_cancel(struct gcp_call **slot);	/* NULL *slot ok */
/* Trim c->vs to c->max; 1 (and truncated set) when the cap was hit. */
int	 gcp_call_capped(struct gcp_call *);
/*
 * Keep the versions of c->vs from `from` on that keep() says 1 for (it may
 * add to them); the others are cleared.
 */
void	 gcp_call_filter(struct gcp_call *, size_t from,
	    int (*keep)(struct gcp_call *, struct version *));

/*
 * A GoogleCloudStorage or GoogleArtifactRegistry source (the first member
 * of its p->data): its fetcher, its first page's URL and the listing in
 * flight.  list, cancel and free are the same for both: the entries name
 * gcp_src_list, gcp_src_cancel and gcp_src_free.
 */
struct gcp_src {
	struct fetcher	*fetcher;
	struct gcp_call	*call;
	char		*url;		/* the first page's */
	gcp_page_cb	 page;
};
/* Fill s for p: a fetcher of p's; url is taken. */
void	 gcp_src_open(struct provider *, struct gcp_src *, char *url,
	    gcp_page_cb);
void	 gcp_src_list(struct provider *, const struct list_request *,
	    provider_done_cb, void *);
void	 gcp_src_cancel(struct provider *);
void	 gcp_src_free(struct provider *);	/* frees p->data too */

/* gcp-parse.c: pure parsers. */
int	 gcp_parse_key(const char *body, size_t len, struct gcp_key *,
	    char **cause);
/*
 * A Google error body: {"error":{"code","message","status"}} (APIs) or
 * {"error":"invalid_grant","error_description":…} (OAuth).  0 with *status
 * (e.g. "RESOURCE_EXHAUSTED", "invalid_grant"; maybe NULL) and *message.
 */
int	 gcp_parse_error(const char *body, size_t len, char **status,
	    char **message);
/* (A token answer is fetch_parse_token's: access_token, expires_in.) */
/* The claims of a grant (JSON text), from the key and now. */
char	*gcp_grant_claims(const struct gcp_key *, const char *scope,
	    int64_t now_s);
/* GCS objects.list: name, md5Hash (or crc32c), updated, size, generation. */
int	 gcp_parse_gcs_objects(const cJSON *, struct versions *, char **cause);
/* AR dockerImages.list: one version per tag of images of `package`. */
int	 gcp_parse_ar_images(const cJSON *, const char *package,
	    struct versions *, char **cause);
/* AR packages.versions.list: one version per version id. */
int	 gcp_parse_ar_versions(const cJSON *, struct versions *,
	    char **cause);
/* gcr.io tags/list with its manifest map: one version per tag. */
int	 gcp_parse_gcr_tags(const cJSON *, struct versions *, char **cause);

#endif
