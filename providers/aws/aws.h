/*
 * aws.h: private to the Aws family (providers/aws/): the Aws connector
 * (one connector serves Ecr, AmazonS3 and AmazonMachineImage), its
 * credentials, and the pure parsers of ECR, S3, EC2, STS and IMDS answers
 * (aws-parse.c).  SigV4 is in aws-sigv4.h.
 */
#ifndef AWS_H
#define AWS_H

#include "watcher.h"
#include "provider.h"

typedef struct _xmlDoc xmlDoc;
struct connector;
struct provider;
struct fetch;
struct fetch_page;

/* The services an Aws connector reaches. */
enum aws_service { AWS_S3, AWS_ECR, AWS_EC2, AWS_STS, AWS_IMDS,
    AWS_NSERVICES };

/* A key: long-lived (no token, expires_s 0) or temporary. */
struct aws_creds {
	char		*access_key;
	char		*secret_key;	/* secret: zeroed by aws_creds_clear */
	char		*session_token;	/* secret; NULL for long-lived keys */
	int64_t		 expires_s;	/* unix s, 0: does not expire */
};
void	 aws_creds_clear(struct aws_creds *);

/*
 * aws-call.c: one list() of an AWS source.  The provider fills the first
 * fields and its callbacks; first() sends the first request with
 * aws_call_send(), page() parses a 2xx answer into vs and sends the next
 * page or returns FETCH_STOP; reset() forgets the provider's paging state
 * when the listing starts over (an expired key); end() runs just before
 * `done`, so the provider can forget the call.
 */
struct aws_call {
	struct provider		*p;
	struct fetcher		*fetcher;
	enum aws_service	 service_id;
	const char		*region;
	unsigned		 flags;		/* FETCH_JSON or FETCH_XML */
	size_t			 max_body;	/* 0: the engine's */
	provider_done_cb	 done;
	void			*arg;
	struct versions		*vs;
	long long		 max;
	void	(*first)(struct aws_call *);
	int	(*page)(struct aws_call *, struct fetch *, struct fetch_page *);
	void	(*reset)(struct aws_call *);
	void	(*end)(struct aws_call *);
	void			*data;		/* the provider's */
	/* Error codes that mean "nothing there": an empty listing. */
	const char *const	*empty_codes;
	/* aws-call.c's own. */
	struct fetch		*fetch;
	struct aws_creds	 creds;
	const char		*method;
	unsigned		 requests;
	int			 expired;
	int			 retried;
	int			 cancelled;
};
void	 aws_call_start(struct aws_call *);
/*
 * The instance data of every AWS source starts with a struct aws_src: its
 * fetcher, the call in flight and the listing's next-page token.
 */
struct aws_src {
	struct fetcher		*fetcher;
	struct aws_call		*call;
	char			*next;
	const char *const	*empty_codes;	/* for its calls */
};
void	 aws_src_init(struct aws_src *, struct provider *);
/*
 * A list() call of the source: versions up to req->max, first() and
 * page() the provider's; started at once.
 */
void	 aws_src_list(struct provider *, enum aws_service,
	    const char *region, unsigned flags, size_t max_body,
	    const struct list_request *, provider_done_cb, void *arg,
	    void (*first)(struct aws_call *),
	    int (*page)(struct aws_call *, struct fetch *, struct fetch_page *));
/* A call of the source, not started (resolve() sets its own parts). */
struct aws_call	*aws_src_call(struct provider *, enum aws_service,
	    const char *region, unsigned flags, size_t max_body,
	    provider_done_cb, void *arg);
void	 aws_src_end(struct aws_call *);	/* the default end() */
void	 aws_src_cancel(struct aws_src *);	/* accepts NULL */
void	 aws_src_free(struct aws_src *);	/* cancels; the fetcher too */
void	 aws_call_send(struct aws_call *, const char *method, const char *url,
	    const char *const *headers, const char *body, size_t body_len);
void	 aws_call_cancel(struct aws_call *);
void	 aws_call_clear(struct aws_call *);	/* its versions and key */

/* connector-aws.c: the connector's spec (the config loader fills it). */
enum aws_cred_type { AWS_CRED_MANUAL, AWS_CRED_INHERIT, AWS_CRED_IRSA };
enum aws_addressing { AWS_S3_AUTO, AWS_S3_PATH, AWS_S3_VIRTUAL };
struct aws_connector {
	int		 cred_type;	/* credential.type */
	char		*access_key;	/* credential.spec.accessKey */
	char		*access_key_ref; /* …accessKeyRef (a secret) */
	char		*secret_key_ref;
	char		*session_token_ref;
	char		*region;	/* credential.region: STS's */
	char		*role_arn;	/* crossAccountAccess */
	char		*external_id;
	char		*ep[AWS_NSERVICES]; /* endpoints.s3, .ecr… */
	int		 s3_addressing;	/* enum aws_addressing */
};
/* The connector instance's own. */
struct aws_conn {
	struct aws_auth	*auth;
};
/*
 * The base URL of a service (no trailing slash): endpoints.<svc>, else
 * AWS_ENDPOINT_URL_<SVC>, else AWS_ENDPOINT_URL, else AWS's for region.
 */
char	*aws_endpoint(const struct connector *, enum aws_service,
	    const char *region);
/* The service's endpoint was set (config or environment). */
int	 aws_endpoint_overridden(const struct connector *, enum aws_service);
int	 aws_region_valid(const char *);
/* provider-ecr.c and ecr-labels.c: an Ecr source. */
struct ecr_source {
	char		*connector_ref;
	char		*region;
	char		*image_path;
	char		*registry_id;
	char		*tag;
	char		*digest;	/* accepted, ignored */
};
struct ecr {
	struct aws_src	 src;		/* first */
	char		*url;		/* the ECR API endpoint, with "/" */
	char		*token;		/* registry: "Basic …" header line */
	char		*registry_url;	/* its proxyEndpoint */
	int64_t		 token_expires;
};
/* ecr-labels.c: resolve(): labels of the versions from the registry. */
void	 ecr_resolve(struct provider *, struct version **, size_t,
	    provider_done_cb, void *);

/* provider-ami.c: EC2's name of a Harness AMI filter name. */
const char *aws_ami_filter_name(const char *);
/* The Owner.N and Filter.N part of a DescribeImages query ("&…"). */
struct cfg_node;
struct cfg_strlist;
char	*aws_ami_query(const struct cfg_node *tags,
	    const struct cfg_node *filters, const struct cfg_strlist *owners,
	    const char *version);


/* One profile of ~/.aws/credentials or ~/.aws/config. */
struct aws_profile {
	struct aws_creds creds;
	char		*region;
	char		*role_arn;
	char		*web_identity_token_file;
};
/* -1 when the file has no such profile.  config_file: [profile NAME]. */
int	 aws_parse_profile(const char *text, size_t len, const char *profile,
	    int config_file, struct aws_profile *);
void	 aws_profile_clear(struct aws_profile *);
/* Free *slot (zeroed first) and put value there. */
void	 aws_replace(char **slot, char *value);

/* aws-sign.c: a request to send, signed. */
struct aws_request {
	const char		*method;	/* NULL: GET */
	const char		*url;
	const char *const	*headers;	/* "Name: value", NULL-ended */
	const char		*body;
	size_t			 body_len;
	int			 s3;		/* S3's signing rules */
	const char		*region;
	const char		*service;	/* "s3", "ecr", "ec2", "sts" */
	int64_t			 now_s;
};
/*
 * *lines: every header line to send (the caller's, x-amz-date,
 * x-amz-content-sha256 for S3, x-amz-security-token, Authorization),
 * NULL-ended; free with aws_lines_free().  Host is signed as libcurl sends
 * it and not among them.
 */
int	 aws_sign_request(const struct aws_request *, const struct aws_creds *,
	    char ***lines, char **cause);
void	 aws_lines_free(char **);
/* "host[:port]" of an http(s) URL as libcurl sends it, or NULL. */
char	*aws_host_header(const char *url);

/* aws-creds.c: the connector's key, from its source, kept fresh. */
struct aws_auth_conf {
	int		 inherit;	/* InheritFromDelegate: the host's */
	char		*access_key;	/* ManualConfig, resolved */
	char		*secret_key;
	char		*session_token;
	char		*role_arn;	/* crossAccountAccess: AssumeRole */
	char		*external_id;
	char		*region;	/* STS's; NULL: us-east-1 */
	char		*sts_url;	/* NULL: https://sts.REGION.amazonaws.com/ */
	char		*imds_url;	/* NULL: http://169.254.169.254 */
};
struct aws_auth;
typedef void (*aws_auth_cb)(const struct aws_creds *, const char *cause,
	    void *arg);
struct aws_auth	*aws_auth_create(struct env *, const struct aws_auth_conf *);
void		 aws_auth_free(struct aws_auth *);	/* accepts NULL */
/*
 * The key to sign with: at once when it is good for another minute, else
 * after a refresh (done runs from the event loop then).  creds is valid
 * during the callback only.
 */
void		 aws_auth_get(struct aws_auth *, aws_auth_cb, void *arg);
/* Forget the waits of arg (its caller is going away). */
void		 aws_auth_cancel(struct aws_auth *, void *arg);
/* AWS said the key expired: fetch a new one at once. */
void		 aws_auth_expired(struct aws_auth *);
/* Why the last refresh failed, or NULL. */
const char	*aws_auth_error(const struct aws_auth *);

/*
 * Any AWS error body: JSON {"__type": "ns#Code", "message"} (ECR) or XML
 * <Error><Code>…<Message>… (S3, nested under Errors in EC2, under
 * ErrorResponse in STS).  0 with *code (and *message, maybe NULL) set.
 */
int	 aws_parse_error(const char *body, size_t len, char **code,
	    char **message);
/* ECR DescribeImages: one version per tag (untagged images are none). */
int	 aws_parse_ecr_images(const cJSON *, struct versions *, char **cause);
/*
 * ECR GetAuthorizationToken: base64 "AWS:password", its expiry and the
 * registry's URL (*endpoint, NULL when the answer has none).
 */
int	 aws_parse_ecr_token(const char *body, size_t len, char **token,
	    int64_t *expires_s, char **endpoint, char **cause);
/* S3 ListObjectsV2: key, ETag (unquoted), LastModified, Size. */
int	 aws_parse_s3_objects(xmlDoc *, struct versions *, char **cause);
/* EC2 DescribeImages: available images by name; *next: NextToken. */
int	 aws_parse_ec2_images(xmlDoc *, struct versions *, char **next,
	    char **cause);
/* STS AssumeRole(WithWebIdentity) and IMDS role credentials. */
int	 aws_parse_sts_credentials(const char *body, size_t len,
	    struct aws_creds *, char **cause);
int	 aws_parse_imds_credentials(const char *body, size_t len,
	    struct aws_creds *, char **cause);

#endif
