/*
 * aws-creds.c: where the Aws connector's key comes from, and keeping it
 * fresh.  ManualConfig is a key from secrets:.  InheritFromDelegate takes
 * the host's ambient credentials in the order the AWS SDKs use: the
 * environment (AWS_ACCESS_KEY_ID…), the shared credentials and config files
 * with AWS_PROFILE, a web identity token file exchanged at STS
 * (AssumeRoleWithWebIdentity: EKS service accounts), then the instance
 * metadata service (IMDSv2: a session token, then the role's credentials).
 * crossAccountAccess then exchanges that key at STS (AssumeRole, with the
 * external id) for the other account's.
 *
 * Temporary credentials are refreshed in the background ahead of their
 * expiry (AWS_REFRESH_AHEAD_S, or halfway through a shorter life), so a poll
 * never waits for STS or IMDS unless the key expired anyway; callers that
 * ask while a fetch is under way wait for it (aws_auth_get's queue).  A
 * request answered "expired" calls aws_auth_expired(): one refresh at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>

#include "aws.h"
#include "aws-sigv4.h"
#include "http.h"
#include "token-cache.h"

#define AWS_REFRESH_AHEAD_S	300	/* refresh 5 min before expiry */
#define AWS_RETRY_S		10	/* after a failed refresh */
#define AWS_IMDS_DEFAULT	"http://169.254.169.254"
#define AWS_FILE_MAX		(64 * 1024)

enum aws_step {
	STEP_NONE,
	STEP_WEB_IDENTITY,	/* STS AssumeRoleWithWebIdentity */
	STEP_IMDS_TOKEN,	/* PUT /latest/api/token */
	STEP_IMDS_ROLE,		/* GET …/security-credentials/ */
	STEP_IMDS_CREDS,	/* GET …/security-credentials/ROLE */
	STEP_ASSUME,		/* STS AssumeRole (cross account) */
};

struct aws_auth {
	struct env		*env;
	struct aws_auth_conf	 conf;		/* copied */
	struct aws_creds	 base;		/* from the chain */
	struct aws_creds	 creds;		/* what requests are signed with */
	int			 have;		/* creds is usable */
	char			*error;		/* the last refresh's failure */
	enum aws_step		 step;
	struct http_req		*req;
	char			*imds_token;
	char			*imds_role;
	struct token_cache	 cache;		/* waiters, the next refresh */
};

static void	 aws_auth_refresh(void *);
static void	 aws_auth_step_done(const struct http_response *, void *);

static char *
dup_or_null(const char *s)
{
	return (s != NULL ? xstrdup(s) : NULL);
}

static void
conf_copy(struct aws_auth_conf *to, const struct aws_auth_conf *from)
{
	to->inherit = from->inherit;
	to->access_key = dup_or_null(from->access_key);
	to->secret_key = dup_or_null(from->secret_key);
	to->session_token = dup_or_null(from->session_token);
	to->role_arn = dup_or_null(from->role_arn);
	to->external_id = dup_or_null(from->external_id);
	to->region = dup_or_null(from->region != NULL ? from->region :
	    "us-east-1");
	to->sts_url = dup_or_null(from->sts_url);
	to->imds_url = dup_or_null(from->imds_url);
}

static void
conf_clear(struct aws_auth_conf *c)
{
	aws_replace(&c->access_key, NULL);
	aws_replace(&c->secret_key, NULL);
	aws_replace(&c->session_token, NULL);
	free(c->role_arn);
	free(c->external_id);
	free(c->region);
	free(c->sts_url);
	free(c->imds_url);
	memset(c, 0, sizeof *c);
}

static void
creds_copy(struct aws_creds *to, const struct aws_creds *from)
{
	aws_creds_clear(to);
	to->access_key = dup_or_null(from->access_key);
	to->secret_key = dup_or_null(from->secret_key);
	to->session_token = dup_or_null(from->session_token);
	to->expires_s = from->expires_s;
}

/* A small file (a token, a credentials file), or NULL with errno. */
static char *
read_small(const char *path, size_t *len)
{
	struct buf	 b = { 0 };
	char		 chunk[4096];
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (NULL);
	while ((n = read(fd, chunk, sizeof chunk)) > 0) {
		buf_add(&b, chunk, (size_t)n);
		if (b.len > AWS_FILE_MAX)
			break;
	}
	close(fd);
	if (n < 0 || b.len > AWS_FILE_MAX) {
		buf_free(&b);
		errno = n < 0 ? errno : EFBIG;
		return (NULL);
	}
	*len = b.len;
	return (buf_take(&b));
}

/* Everyone waiting gets the outcome, then the next refresh is planned. */
static void
aws_auth_settle(struct aws_auth *a, const char *cause)
{
	struct token_waiter	*list = token_cache_take(&a->cache);
	token_fn		 fn;
	void			*arg;

	a->step = STEP_NONE;
	free(a->error);
	a->error = cause != NULL ? xstrdup(cause) : NULL;
	if (cause != NULL) {
		log_warn("aws credentials failed", "cause=%s", log_q(cause));
		token_cache_retry(&a->cache, AWS_RETRY_S);
	} else if (a->creds.expires_s > 0)
		/* Ahead of expiry, or halfway through a short life. */
		token_cache_plan(&a->cache, a->creds.expires_s,
		    AWS_REFRESH_AHEAD_S);
	while (token_cache_pop(&list, &fn, &arg))
		((aws_auth_cb)fn)(cause == NULL ? &a->creds : NULL, cause, arg);
}

/* The chain's key is in a->base: use it, or exchange it (cross account). */
static void aws_auth_assume(struct aws_auth *);

static void
aws_auth_have_base(struct aws_auth *a)
{
	if (a->conf.role_arn != NULL) {
		aws_auth_assume(a);
		return;
	}
	creds_copy(&a->creds, &a->base);
	a->have = 1;
	aws_auth_settle(a, NULL);
}

static int
aws_auth_submit(struct aws_auth *a, enum aws_step step,
    const struct http_request *req)
{
	a->step = step;
	a->req = http_submit(a->env->http, req, aws_auth_step_done, a);
	return (0);
}

/* STS's URL: the configured endpoint, else the regional one. */
static char *
sts_url(const struct aws_auth *a)
{
	char	*u;

	if (a->conf.sts_url != NULL)
		return (xstrdup(a->conf.sts_url));
	xasprintf(&u, "https://sts.%s.amazonaws.com/", a->conf.region);
	return (u);
}

static void
form_add(struct buf *b, const char *k, const char *v)
{
	char	*e = url_escape(v);

	buf_printf(b, "%s%s=%s", b->len > 0 ? "&" : "", k, e);
	free(e);
}

/* STS AssumeRole, signed with the base key. */
static void
aws_auth_assume(struct aws_auth *a)
{
	struct buf		 body = { 0 };
	struct http_request	 req = { 0 };
	struct aws_request	 ar = { 0 };
	const char		*ctype[] = { "Content-Type: application/"
	    "x-www-form-urlencoded; charset=utf-8", NULL };
	char			*url = sts_url(a), **lines, *cause;

	form_add(&body, "Action", "AssumeRole");
	form_add(&body, "Version", "2011-06-15");
	form_add(&body, "RoleArn", a->conf.role_arn);
	form_add(&body, "RoleSessionName", "artifact-watcher");
	if (a->conf.external_id != NULL)
		form_add(&body, "ExternalId", a->conf.external_id);
	ar.method = "POST";
	ar.url = url;
	ar.headers = ctype;
	ar.body = body.data;
	ar.body_len = body.len;
	ar.region = a->conf.region;
	ar.service = "sts";
	ar.now_s = now_ms() / 1000;
	if (aws_sign_request(&ar, &a->base, &lines, &cause) != 0) {
		aws_auth_settle(a, cause);
		free(cause);
	} else {
		req.method = "POST";
		req.url = url;
		req.headers = (const char *const *)lines;
		req.body = body.data;
		req.body_len = body.len;
		req.max_body = 1024 * 1024;
		aws_auth_submit(a, STEP_ASSUME, &req);
		aws_lines_free(lines);
	}
	buf_free(&body);
	free(url);
}

/* AssumeRoleWithWebIdentity: unsigned, the token is the proof. */
static int
aws_auth_web_identity(struct aws_auth *a, const char *token_file,
    const char *role_arn)
{
	struct buf		 body = { 0 };
	struct http_request	 req = { 0 };
	const char		*hdrs[] = { "Content-Type: application/"
	    "x-www-form-urlencoded; charset=utf-8", NULL };
	const char		*name = getenv("AWS_ROLE_SESSION_NAME");
	char			*token, *url;
	size_t			 len;

	if ((token = read_small(token_file, &len)) == NULL) {
		char	*cause;

		xasprintf(&cause, "web identity token file %s: %s",
		    token_file, strerror(errno));
		aws_auth_settle(a, cause);
		free(cause);
		return (-1);
	}
	while (len > 0 && (token[len - 1] == '\n' || token[len - 1] == '\r'))
		token[--len] = '\0';
	form_add(&body, "Action", "AssumeRoleWithWebIdentity");
	form_add(&body, "Version", "2011-06-15");
	form_add(&body, "RoleArn", role_arn);
	form_add(&body, "RoleSessionName", name != NULL && *name != '\0' ?
	    name : "artifact-watcher");
	form_add(&body, "WebIdentityToken", token);
	explicit_bzero(token, len);
	free(token);
	url = sts_url(a);
	req.method = "POST";
	req.url = url;
	req.headers = hdrs;
	req.body = body.data;
	req.body_len = body.len;
	req.max_body = 1024 * 1024;
	aws_auth_submit(a, STEP_WEB_IDENTITY, &req);
	explicit_bzero(body.data, body.len);
	buf_free(&body);
	free(url);
	return (0);
}

static void
aws_auth_imds(struct aws_auth *a, enum aws_step step)
{
	struct http_request	 req = { 0 };
	const char		*base = a->conf.imds_url != NULL ?
	    a->conf.imds_url : AWS_IMDS_DEFAULT;
	const char		*hdrs[2] = { NULL, NULL };
	char			*url, *h = NULL;
	size_t			 n = strlen(base);

	while (n > 0 && base[n - 1] == '/')
		n--;
	req.timeout_ms = 2000;		/* a host without IMDS: fail fast */
	req.connect_timeout_ms = 1000;
	req.max_body = 64 * 1024;
	if (step == STEP_IMDS_TOKEN) {
		xasprintf(&url, "%.*s/latest/api/token", (int)n, base);
		req.method = "PUT";
		hdrs[0] = "X-aws-ec2-metadata-token-ttl-seconds: 21600";
	} else {
		xasprintf(&url, "%.*s/latest/meta-data/iam/security-"
		    "credentials/%s", (int)n, base, step == STEP_IMDS_CREDS ?
		    a->imds_role : "");
		xasprintf(&h, "X-aws-ec2-metadata-token: %s", a->imds_token);
		hdrs[0] = h;
	}
	req.url = url;
	req.headers = hdrs;
	aws_auth_submit(a, step, &req);
	free(url);
	free(h);
}

/*
 * Profile AWS_PROFILE (else default) of a shared file: $env_name, else
 * ~/rel.  0 with *p filled, -1 when there is no such file or profile.
 */
static int
aws_shared_profile(const char *env_name, const char *rel, int config_file,
    struct aws_profile *p)
{
	const char	*profile = getenv("AWS_PROFILE");
	const char	*home = getenv("HOME"), *f;
	char		*path, *text;
	size_t		 len;
	int		 r;

	memset(p, 0, sizeof *p);
	if ((f = getenv(env_name)) != NULL && *f != '\0')
		path = xstrdup(f);
	else if (home != NULL && *home != '\0')
		xasprintf(&path, "%s/%s", home, rel);
	else
		return (-1);
	text = read_small(path, &len);
	free(path);
	if (text == NULL)
		return (-1);
	r = aws_parse_profile(text, len, profile != NULL && *profile != '\0' ?
	    profile : "default", config_file, p);
	explicit_bzero(text, len);
	free(text);
	return (r);
}

/* A key from the environment or a profile: 1 found, 0 not, -1 failed. */
static int
aws_auth_local(struct aws_auth *a)
{
	const char		*akid = getenv("AWS_ACCESS_KEY_ID");
	const char		*token = getenv("AWS_SESSION_TOKEN");
	const char		*secret = getenv("AWS_SECRET_ACCESS_KEY");
	struct aws_profile	 p;
	int			 found;

	if (akid != NULL && *akid != '\0' && secret != NULL &&
	    *secret != '\0') {
		aws_creds_clear(&a->base);
		a->base.access_key = xstrdup(akid);
		a->base.secret_key = xstrdup(secret);
		a->base.session_token = token != NULL && *token != '\0' ?
		    xstrdup(token) : NULL;
		return (1);
	}
	if (aws_shared_profile("AWS_SHARED_CREDENTIALS_FILE",
	    ".aws/credentials", 0, &p) != 0) {
		aws_profile_clear(&p);
		return (0);
	}
	found = p.creds.access_key != NULL && p.creds.secret_key != NULL;
	if (found) {
		aws_creds_clear(&a->base);
		a->base = p.creds;
		memset(&p.creds, 0, sizeof p.creds);
	}
	aws_profile_clear(&p);
	return (found);
}

/* The web identity of the environment or the config profile. */
static int
aws_auth_web_config(struct aws_auth *a)
{
	const char		*file = getenv("AWS_WEB_IDENTITY_TOKEN_FILE");
	const char		*arn = getenv("AWS_ROLE_ARN");
	struct aws_profile	 p;
	int			 r = 0;

	if (file != NULL && *file != '\0' && arn != NULL && *arn != '\0')
		return (aws_auth_web_identity(a, file, arn) == 0 ? 1 : -1);
	if (aws_shared_profile("AWS_CONFIG_FILE", ".aws/config", 1, &p) == 0 &&
	    p.role_arn != NULL && p.web_identity_token_file != NULL)
		r = aws_auth_web_identity(a, p.web_identity_token_file,
		    p.role_arn) == 0 ? 1 : -1;
	aws_profile_clear(&p);
	return (r);
}

/* Start the chain (or the manual key) anew. */
static void
aws_auth_refresh(void *arg)
{
	struct aws_auth	*a = arg;
	const char	*off = getenv("AWS_EC2_METADATA_DISABLED");

	if (a->step != STEP_NONE)
		return;			/* already under way */
	token_cache_stop(&a->cache);
	if (!a->conf.inherit) {
		aws_creds_clear(&a->base);
		a->base.access_key = xstrdup(a->conf.access_key);
		a->base.secret_key = xstrdup(a->conf.secret_key);
		a->base.session_token = dup_or_null(a->conf.session_token);
		aws_auth_have_base(a);
		return;
	}
	switch (aws_auth_local(a)) {
	case 1:
		aws_auth_have_base(a);
		return;
	case -1:
		return;
	}
	switch (aws_auth_web_config(a)) {
	case 1:
	case -1:
		return;			/* under way, or settled */
	}
	if (off != NULL && strcasecmp(off, "true") == 0) {
		aws_auth_settle(a, "no AWS credentials: none in the "
		    "environment, the shared files or a web identity, and "
		    "AWS_EC2_METADATA_DISABLED is set");
		return;
	}
	aws_auth_imds(a, STEP_IMDS_TOKEN);
}

/* One line of an answer for a cause, without control characters. */
static char *
answer_cause(const char *what, const struct http_response *r)
{
	char	*code = NULL, *message = NULL, *out;

	if (r->error != 0)
		xasprintf(&out, "%s: %s", what, r->cause);
	else if (aws_parse_error(r->body.data != NULL ? r->body.data : "",
	    r->body.len, &code, &message) == 0)
		xasprintf(&out, "%s: HTTP %ld %s: %s", what, r->status, code,
		    message != NULL ? message : "");
	else
		xasprintf(&out, "%s: HTTP %ld", what, r->status);
	free(code);
	free(message);
	for (char *c = out; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20)
			*c = ' ';
	return (out);
}

static const char *
step_name(enum aws_step step)
{
	switch (step) {
	case STEP_ASSUME:
		return ("sts AssumeRole");
	case STEP_WEB_IDENTITY:
		return ("sts AssumeRoleWithWebIdentity");
	default:
		return ("instance metadata");
	}
}

static void
aws_auth_step_done(const struct http_response *r, void *arg)
{
	struct aws_auth		*a = arg;
	enum aws_step		 step = a->step;
	const char		*body = r->body.data != NULL ? r->body.data : "";
	char			*cause = NULL;
	struct aws_creds	 c;
	size_t			 n;

	a->req = NULL;
	a->step = STEP_NONE;
	if (r->error != 0 || r->status != 200) {
		cause = answer_cause(step_name(step), r);
		aws_auth_settle(a, cause);
		free(cause);
		return;
	}
	switch (step) {
	case STEP_IMDS_TOKEN:
		free(a->imds_token);
		a->imds_token = xstrndup(body, r->body.len);
		aws_auth_imds(a, STEP_IMDS_ROLE);
		return;
	case STEP_IMDS_ROLE:
		free(a->imds_role);
		n = strcspn(body, "\r\n");
		a->imds_role = xstrndup(body, n);
		if (n == 0) {
			aws_auth_settle(a, "instance metadata: the instance "
			    "has no IAM role");
			return;
		}
		aws_auth_imds(a, STEP_IMDS_CREDS);
		return;
	case STEP_IMDS_CREDS:
	case STEP_WEB_IDENTITY:
	case STEP_ASSUME:
		if ((step == STEP_IMDS_CREDS ? aws_parse_imds_credentials :
		    aws_parse_sts_credentials)(body, r->body.len, &c,
		    &cause) != 0)
			break;
		if (step != STEP_ASSUME) {
			aws_creds_clear(&a->base);
			a->base = c;
			aws_auth_have_base(a);
			return;
		}
		aws_creds_clear(&a->creds);
		a->creds = c;
		a->have = 1;
		aws_auth_settle(a, NULL);
		return;
	case STEP_NONE:
		break;
	}
	{
		char	*why;

		xasprintf(&why, "%s: %s", step_name(step),
		    cause != NULL ? cause : "unexpected answer");
		aws_auth_settle(a, why);
		free(why);
	}
	free(cause);
}

struct aws_auth *
aws_auth_create(struct env *env, const struct aws_auth_conf *conf)
{
	struct aws_auth	*a = xcalloc(1, sizeof *a);

	a->env = env;
	conf_copy(&a->conf, conf);
	token_cache_init(&a->cache, env->base, aws_auth_refresh, a);
	return (a);
}

void
aws_auth_get(struct aws_auth *a, aws_auth_cb done, void *arg)
{
	/* Usable for at least another minute: no waiting at all. */
	if (a->have && token_cache_fresh(0, a->creds.expires_s, 60,
	    now_ms() / 1000)) {
		done(&a->creds, NULL, arg);
		return;
	}
	token_cache_wait(&a->cache, (token_fn)done, arg);
	aws_auth_refresh(a);
}

void
aws_auth_cancel(struct aws_auth *a, void *arg)
{
	token_cache_cancel(&a->cache, arg);
}

void
aws_auth_expired(struct aws_auth *a)
{
	a->have = 0;
	aws_auth_refresh(a);
}

const char *
aws_auth_error(const struct aws_auth *a)
{
	return (a->error);
}

void
aws_auth_free(struct aws_auth *a)
{
	if (a == NULL)
		return;
	http_cancel(a->req);
	token_cache_clear(&a->cache);
	aws_creds_clear(&a->base);
	aws_creds_clear(&a->creds);
	conf_clear(&a->conf);
	free(a->error);
	free(a->imds_token);
	free(a->imds_role);
	free(a);
}
