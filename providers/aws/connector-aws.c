/*
 * connector-aws.c: the Aws connector type, in Harness's shape: a key
 * (credential ManualConfig: accessKey or accessKeyRef, secretKeyRef, an
 * optional sessionTokenRef) or the host's ambient credentials
 * (InheritFromDelegate), an optional crossAccountAccess role, and the
 * region STS is asked in.  One connector serves Ecr, AmazonS3 and
 * AmazonMachineImage: each signs its own requests with the key this
 * connector keeps fresh (aws-creds.c), for its service and its source's
 * region.  spec.endpoints (s3, ecr, ec2, sts, imds) and the SDKs'
 * AWS_ENDPOINT_URL(_SERVICE) variables point a service elsewhere: tests,
 * S3-compatible stores, private endpoints.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws.h"
#include "connector.h"
#include "http.h"

#define CONN_OFF(f)	offsetof(struct aws_connector, f)

static const char *const aws_cred_types[] = {
	"ManualConfig", "InheritFromDelegate", "Irsa", NULL
};
static const char *const aws_addressing[] = {
	"auto", "path", "virtual", NULL
};

static const struct cfg_key aws_cred_spec_keys[] = {
	{ .name = "accessKey", .type = CFG_STRING,
	  .off = CONN_OFF(access_key) },
	{ .name = "accessKeyRef", .type = CFG_SECRET,
	  .off = CONN_OFF(access_key_ref) },
	{ .name = "secretKeyRef", .type = CFG_SECRET,
	  .off = CONN_OFF(secret_key_ref) },
	{ .name = "sessionTokenRef", .type = CFG_SECRET,
	  .off = CONN_OFF(session_token_ref) },
	{ .name = NULL }
};

static const struct cfg_key aws_cross_keys[] = {
	{ .name = "crossAccountRoleArn", .type = CFG_STRING,
	  .off = CONN_OFF(role_arn) },
	{ .name = "externalId", .type = CFG_STRING,
	  .off = CONN_OFF(external_id) },
	{ .name = NULL }
};

static const struct cfg_key aws_cred_keys[] = {
	{ .name = "type", .type = CFG_ENUM, .off = CONN_OFF(cred_type),
	  .flags = CFG_REQUIRED, .choices = aws_cred_types },
	{ .name = "spec", .type = CFG_OBJECT, .sub = aws_cred_spec_keys },
	{ .name = "region", .type = CFG_STRING, .off = CONN_OFF(region) },
	{ .name = "crossAccountAccess", .type = CFG_OBJECT,
	  .sub = aws_cross_keys },
	{ .name = NULL }
};

static const struct cfg_key aws_endpoint_keys[] = {
	{ .name = "s3", .type = CFG_STRING, .off = CONN_OFF(ep[AWS_S3]) },
	{ .name = "ecr", .type = CFG_STRING, .off = CONN_OFF(ep[AWS_ECR]) },
	{ .name = "ec2", .type = CFG_STRING, .off = CONN_OFF(ep[AWS_EC2]) },
	{ .name = "sts", .type = CFG_STRING, .off = CONN_OFF(ep[AWS_STS]) },
	{ .name = "imds", .type = CFG_STRING, .off = CONN_OFF(ep[AWS_IMDS]) },
	{ .name = NULL }
};

static const struct cfg_key aws_connector_keys[] = {
	{ .name = "credential", .type = CFG_OBJECT, .flags = CFG_REQUIRED,
	  .sub = aws_cred_keys },
	{ .name = "endpoints", .type = CFG_OBJECT, .sub = aws_endpoint_keys },
	{ .name = "s3Addressing", .type = CFG_ENUM,
	  .off = CONN_OFF(s3_addressing), .def = "auto",
	  .choices = aws_addressing },
	{ .name = "executeOnDelegate", .type = CFG_IGNORE },
	{ .name = "delegateSelectors", .type = CFG_IGNORE },
	{ .name = NULL }
};

/* Service names as the SDKs spell them in AWS_ENDPOINT_URL_<NAME>. */
static const char *const aws_service_env[] = {
	[AWS_S3] = "S3", [AWS_ECR] = "ECR", [AWS_EC2] = "EC2",
	[AWS_STS] = "STS", [AWS_IMDS] = NULL,
};
static const char *const aws_service_key[] = {
	[AWS_S3] = "s3", [AWS_ECR] = "ecr", [AWS_EC2] = "ec2",
	[AWS_STS] = "sts", [AWS_IMDS] = "imds",
};

static const struct cfg_node *
node_at(const struct cfg_node *n, const char *path)
{
	char		*copy = xstrdup(path), *part, *rest = copy;
	const struct cfg_node	*at = n;

	while (at != NULL && (part = strsep(&rest, ".")) != NULL)
		at = cfg_node_get(at, part);
	free(copy);
	return (at);
}

static int
http_url(const char *u)
{
	return (u != NULL && (strncmp(u, "http://", 7) == 0 ||
	    strncmp(u, "https://", 8) == 0));
}

/* "us-east-1", "eu-central-2", "us-gov-west-1", "cn-north-1". */
int
aws_region_valid(const char *r)
{
	size_t	 n = strlen(r), i;

	if (n < 4 || n > 32 || !islower((unsigned char)r[0]))
		return (0);
	for (i = 0; i < n; i++)
		if (!islower((unsigned char)r[i]) &&
		    !isdigit((unsigned char)r[i]) && r[i] != '-')
			return (0);
	return (isdigit((unsigned char)r[n - 1]) && strchr(r, '-') != NULL);
}

static int
aws_connector_check(struct connector_conf *cc, struct cfg_errors *errs)
{
	const struct aws_connector	*c = cc->data;
	const struct cfg_node		*at = cc->spec != NULL ? cc->spec :
	    cc->node;
	int				 n = 0;
	size_t				 i;

	if (c->cred_type == AWS_CRED_MANUAL) {
		if ((c->access_key == NULL) == (c->access_key_ref == NULL)) {
			cfg_error(errs, node_at(at, "credential.spec") != NULL ?
			    node_at(at, "credential.spec") : at, "credential "
			    "ManualConfig needs spec.accessKey or "
			    "spec.accessKeyRef (one of them)");
			n++;
		}
		if (c->secret_key_ref == NULL) {
			cfg_error(errs, node_at(at, "credential.spec") != NULL ?
			    node_at(at, "credential.spec") : at, "credential "
			    "ManualConfig needs spec.secretKeyRef");
			n++;
		}
	} else if (c->access_key != NULL || c->access_key_ref != NULL ||
	    c->secret_key_ref != NULL) {
		cfg_error(errs, node_at(at, "credential.spec"), "credential "
		    "%s takes the host's credentials: remove the keys of "
		    "spec", aws_cred_types[c->cred_type]);
		n++;
	}
	if (c->region != NULL && !aws_region_valid(c->region)) {
		cfg_error(errs, node_at(at, "credential.region"), "region %s "
		    "is not an AWS region name", log_q(c->region));
		n++;
	}
	if (c->external_id != NULL && c->role_arn == NULL) {
		cfg_error(errs, node_at(at, "credential.crossAccountAccess"),
		    "crossAccountAccess.externalId needs crossAccountRoleArn");
		n++;
	}
	if (c->role_arn != NULL && strncmp(c->role_arn, "arn:", 4) != 0) {
		cfg_error(errs, node_at(at, "credential.crossAccountAccess."
		    "crossAccountRoleArn"), "crossAccountRoleArn %s is not an "
		    "ARN", log_q(c->role_arn));
		n++;
	}
	for (i = 0; i < AWS_NSERVICES; i++) {
		if (c->ep[i] != NULL && !http_url(c->ep[i])) {
			char	*path;

			xasprintf(&path, "endpoints.%s", aws_service_key[i]);
			cfg_error(errs, node_at(at, path), "endpoints.%s must "
			    "start with http:// or https://",
			    aws_service_key[i]);
			free(path);
			n++;
		}
	}
	return (n);
}

/* The account it reaches: another account's role, or the endpoints. */
static char *
aws_connector_identity(const struct connector_conf *cc)
{
	const struct aws_connector	*c = cc->data;
	struct buf			 b = { 0 };
	size_t				 i;

	if (c == NULL)
		return (NULL);
	buf_adds(&b, "aws");
	if (c->role_arn != NULL)
		buf_printf(&b, " role=%s", c->role_arn);
	for (i = 0; i < AWS_NSERVICES; i++)
		if (c->ep[i] != NULL && i != AWS_STS && i != AWS_IMDS)
			buf_printf(&b, " %s=%s", aws_service_key[i], c->ep[i]);
	return (buf_take(&b));
}

char *
aws_endpoint(const struct connector *conn, enum aws_service svc,
    const char *region)
{
	const struct aws_connector	*c = conn->conf->data;
	const char			*v = c->ep[svc], *name;
	char				*env, *u;
	size_t				 n;

	if (v == NULL && (name = aws_service_env[svc]) != NULL) {
		xasprintf(&env, "AWS_ENDPOINT_URL_%s", name);
		v = getenv(env);
		free(env);
		if (v == NULL || *v == '\0')
			v = getenv("AWS_ENDPOINT_URL");
		if (v != NULL && *v == '\0')
			v = NULL;
	}
	if (v == NULL && svc == AWS_IMDS) {
		v = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
		if (v != NULL && *v == '\0')
			v = NULL;
	}
	if (v != NULL) {
		n = strlen(v);
		while (n > 0 && v[n - 1] == '/')
			n--;
		return (xstrndup(v, n));
	}
	switch (svc) {
	case AWS_ECR:
		xasprintf(&u, "https://api.ecr.%s.amazonaws.com", region);
		break;
	case AWS_EC2:
		xasprintf(&u, "https://ec2.%s.amazonaws.com", region);
		break;
	case AWS_S3:
		xasprintf(&u, "https://s3.%s.amazonaws.com", region);
		break;
	case AWS_STS:
		xasprintf(&u, "https://sts.%s.amazonaws.com", region);
		break;
	default:
		u = xstrdup("http://169.254.169.254");
		break;
	}
	return (u);
}

int
aws_endpoint_overridden(const struct connector *conn, enum aws_service svc)
{
	const struct aws_connector	*c = conn->conf->data;
	char				*env;
	const char			*v;

	if (c->ep[svc] != NULL)
		return (1);
	xasprintf(&env, "AWS_ENDPOINT_URL_%s", aws_service_env[svc]);
	v = getenv(env);
	free(env);
	if (v == NULL || *v == '\0')
		v = getenv("AWS_ENDPOINT_URL");
	return (v != NULL && *v != '\0');
}

static int
aws_connector_init(struct connector *conn, char **cause)
{
	const struct aws_connector	*c = conn->conf->data;
	struct aws_auth_conf		 ac;
	const struct config		*conf = conn->env->conf;
	struct aws_conn			*a;
	int				 r = 0;

	memset(&ac, 0, sizeof ac);
	ac.inherit = c->cred_type != AWS_CRED_MANUAL;
	if (!ac.inherit) {
		if (c->access_key != NULL)
			ac.access_key = xstrdup(c->access_key);
		else
			r = secret_resolve_key(conf, "accessKeyRef",
			    c->access_key_ref, &ac.access_key, cause);
		if (r == 0)
			r = secret_resolve_key(conf, "secretKeyRef",
			    c->secret_key_ref, &ac.secret_key, cause);
		if (r == 0 && c->session_token_ref != NULL)
			r = secret_resolve_key(conf, "sessionTokenRef",
			    c->session_token_ref, &ac.session_token, cause);
	}
	ac.role_arn = c->role_arn;
	ac.external_id = c->external_id;
	ac.region = c->region != NULL ? c->region : "us-east-1";
	if (r == 0) {
		char	*sts = aws_endpoint(conn, AWS_STS, ac.region);

		xasprintf(&ac.sts_url, "%s/", sts);
		free(sts);
		ac.imds_url = aws_endpoint(conn, AWS_IMDS, ac.region);
		a = xcalloc(1, sizeof *a);
		a->auth = aws_auth_create(conn->env, &ac);
		conn->data = a;
		free(ac.sts_url);
		free(ac.imds_url);
	}
	aws_replace(&ac.access_key, NULL);
	aws_replace(&ac.secret_key, NULL);
	aws_replace(&ac.session_token, NULL);
	return (r);
}

static void
aws_connector_free(struct connector *conn)
{
	struct aws_conn	*a = conn->data;

	if (a == NULL)
		return;
	aws_auth_free(a->auth);
	free(a);
	conn->data = NULL;
}

struct aws_probe {
	void	(*done)(int, const char *, void *);
	void	*arg;
};

static void
aws_probe_got(const struct aws_creds *creds, const char *cause, void *arg)
{
	struct aws_probe	*pr = arg;

	pr->done(creds != NULL, creds != NULL ? NULL : cause, pr->arg);
	free(pr);
}

/* check --connect: the key can be had (STS, IMDS or the files). */
static void
aws_connector_probe(struct connector *conn, void (*done)(int, const char *,
    void *), void *arg)
{
	struct aws_conn		*a = conn->data;
	struct aws_probe	*pr = xcalloc(1, sizeof *pr);

	pr->done = done;
	pr->arg = arg;
	aws_auth_get(a->auth, aws_probe_got, pr);
}

const struct connector_entry connector_aws_entry = {
	.name = "Aws",
	.keys = aws_connector_keys,
	.size = sizeof (struct aws_connector),
	.auth_kinds = aws_cred_types,
	.check = aws_connector_check,
	.identity = aws_connector_identity,
	.init = aws_connector_init,
	.free = aws_connector_free,
	.probe = aws_connector_probe,
};
