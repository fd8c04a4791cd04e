/*
 * azure-parse.c: the pure parsers of the Azure family (azure.h): token
 * answers of Azure AD, the instance metadata service and ACR's oauth2
 * endpoints; the error envelopes of all three and of Azure DevOps; ACR's
 * tag listing (/acr/v1/<repo>/_tags, newest first, digests and times in
 * it); the packages and versions of an Azure Artifacts feed; and the client
 * assertion a certificate credential signs (jwt.c) with the thumbprint of
 * its certificate.  Bytes or a parsed document in, values out.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "azure.h"
#include "json.h"
#include "jwt.h"

#define AZ_DEFAULT_LIFE_S	600	/* an answer that says nothing */

/* A number, or a string holding one (IMDS sends "3599"). */
static int
num_or_string(const cJSON *o, const char *key, int64_t *out)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, key);
	char		*end;
	long long	 n;

	if (cJSON_IsNumber(v) && v->valuedouble >= 0 &&
	    v->valuedouble < 1e15) {
		*out = (int64_t)v->valuedouble;
		return (0);
	}
	if (!cJSON_IsString(v) || *v->valuestring == '\0')
		return (-1);
	n = strtoll(v->valuestring, &end, 10);
	if (*end != '\0' || n < 0)
		return (-1);
	*out = n;
	return (0);
}

int64_t
az_jwt_exp(const char *jwt)
{
	const char	*a, *b;
	char		*t;
	unsigned char	*raw;
	size_t		 n, i;
	int		 len;
	int64_t		 exp = 0;
	cJSON		*claims;

	if (jwt == NULL || (a = strchr(jwt, '.')) == NULL ||
	    (b = strchr(a + 1, '.')) == NULL)
		return (0);
	n = (size_t)(b - a - 1);
	if (n == 0 || n > 64 * 1024)
		return (0);
	t = xcalloc(1, n + 4);
	for (i = 0; i < n; i++) {
		char	c = a[1 + i];

		t[i] = c == '-' ? '+' : c == '_' ? '/' : c;
	}
	while (i % 4 != 0)
		t[i++] = '=';
	raw = xcalloc(1, i);
	len = EVP_DecodeBlock(raw, (unsigned char *)t, (int)i);
	free(t);
	if (len > 0) {
		/* Trailing NULs of the padding do not matter to cJSON. */
		claims = cJSON_ParseWithLength((char *)raw, (size_t)len);
		if (claims != NULL)
			num_or_string(claims, "exp", &exp);
		cJSON_Delete(claims);
	}
	free(raw);
	return (exp);
}

int
az_parse_token(const char *body, size_t len, const char *field, int64_t now_s,
    char **token, int64_t *expires_s, char **cause)
{
	cJSON		*doc;
	const char	*t;
	int64_t		 n;

	*token = NULL;
	*expires_s = 0;
	if (json_parse_object(body, len, &doc, cause) != 0)
		return (-1);
	if ((t = json_str(doc, field)) == NULL || *t == '\0') {
		cJSON_Delete(doc);
		return (fail(cause, "the answer has no %s", field));
	}
	if (strpbrk(t, "\r\n") != NULL) {
		cJSON_Delete(doc);
		return (fail(cause, "the %s holds a line break", field));
	}
	if (num_or_string(doc, "expires_in", &n) == 0 && n > 0)
		*expires_s = now_s + n;
	else if (num_or_string(doc, "expires_on", &n) == 0 && n > now_s)
		*expires_s = n;
	else if ((n = az_jwt_exp(t)) > 0)
		*expires_s = n;
	else
		*expires_s = now_s + AZ_DEFAULT_LIFE_S;
	*token = xstrdup(t);
	cJSON_Delete(doc);
	return (0);
}

/* Control characters out, and at most the first line of a long text. */
static char *
one_line(const char *a, const char *b)
{
	char	*s, *p;
	size_t	 n;

	if (a != NULL && b != NULL)
		xasprintf(&s, "%s: %s", a, b);
	else
		s = xstrdup(a != NULL ? a : b);
	/* Azure AD appends "\r\nTrace ID: …": the first line says it. */
	if ((n = strcspn(s, "\r\n")) > 0)
		s[n] = '\0';
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	if (strlen(s) > 300)
		strcpy(s + 297, "...");
	return (s);
}

char *
az_parse_error(const char *body, size_t len)
{
	cJSON		*doc;
	const cJSON	*e;
	const char	*a, *b;
	char		*out = NULL, *cause = NULL;

	if (body == NULL || json_parse_object(body, len, &doc, &cause) != 0) {
		free(cause);
		return (NULL);
	}
	if ((e = cJSON_GetArrayItem(json_get(doc, "errors"), 0)) != NULL) {
		a = json_str(e, "code");
		b = json_str(e, "message");
	} else if ((e = json_get(doc, "error")) != NULL && cJSON_IsObject(e)) {
		/* ARM: {"error":{"code","message"}} */
		a = json_str(e, "code");
		b = json_str(e, "message");
	} else if ((a = json_str(doc, "error")) != NULL) {
		b = json_str(doc, "error_description");
	} else {
		a = json_str(doc, "typeKey");
		b = json_str(doc, "message");
	}
	if (a != NULL && *a == '\0')
		a = NULL;
	if (b != NULL && *b == '\0')
		b = NULL;
	if (a != NULL || b != NULL)
		out = one_line(a, b);
	cJSON_Delete(doc);
	return (out);
}

int
az_is_html(const char *content_type, const char *body, size_t len)
{
	size_t	 i = 0;

	if (content_type != NULL && strncasecmp(content_type, "text/html",
	    9) == 0)
		return (1);
	while (i < len && isspace((unsigned char)body[i]))
		i++;
	return (len - i >= 5 && (strncasecmp(body + i, "<html", 5) == 0 ||
	    strncasecmp(body + i, "<!doc", 5) == 0));
}

int
az_parse_acr_tags(const cJSON *doc, struct versions *vs, long long max,
    int *more, char **cause)
{
	const cJSON	*tags, *t;
	const char	*name, *digest;
	struct version	*v;
	int64_t		 at;

	*more = 0;
	if (!cJSON_IsObject(doc))
		return (fail(cause, "the tag listing is not an object"));
	tags = cJSON_GetObjectItemCaseSensitive(doc, "tags");
	if (tags == NULL)
		return (fail(cause, "the tag listing has no tags"));
	if (cJSON_IsNull(tags))
		return (0);
	if (!cJSON_IsArray(tags))
		return (fail(cause, "tags is not an array"));
	cJSON_ArrayForEach(t, tags) {
		if ((name = json_str(t, "name")) == NULL || *name == '\0')
			return (fail(cause, "a tag without a name"));
		if ((long long)vs->n >= max) {
			*more = 1;
			break;
		}
		v = versions_add(vs, name);
		if ((digest = json_str(t, "digest")) != NULL &&
		    strncmp(digest, "sha", 3) == 0 && strchr(digest, ':'))
			v->digest = xstrdup(digest);
		if ((at = json_time(t, "lastUpdateTime")) == 0)
			at = json_time(t, "createdTime");
		v->pushed_at = at;
		if (json_str(t, "createdTime") != NULL)
			version_set_meta(v, "createdTime",
			    json_str(t, "createdTime"));
	}
	return (0);
}

int
az_parse_feed_package(const cJSON *doc, const char *name, char **id,
    char **cause)
{
	const cJSON	*value, *p;
	const char	*n, *nn, *pid;

	*id = NULL;
	value = json_get(doc, "value");
	if (!cJSON_IsArray(value))
		return (fail(cause, "the package listing has no value array"));
	cJSON_ArrayForEach(p, value) {
		n = json_str(p, "name");
		nn = json_str(p, "normalizedName");
		if ((n == NULL || strcasecmp(n, name) != 0) &&
		    (nn == NULL || strcasecmp(nn, name) != 0))
			continue;
		if ((pid = json_str(p, "id")) == NULL || *pid == '\0' ||
		    strpbrk(pid, "/?#&% ") != NULL)
			return (fail(cause, "package %s has no usable id",
			    log_q(name)));
		*id = xstrdup(pid);
		return (1);
	}
	return (0);
}

static int
newest_first(const void *a, const void *b)
{
	const struct version	*x = a, *y = b;

	if (x->pushed_at != y->pushed_at)
		return (x->pushed_at > y->pushed_at ? -1 : 1);
	return (strcmp(y->name, x->name));
}

int
az_parse_feed_versions(const cJSON *doc, struct versions *vs, char **cause)
{
	const cJSON	*value, *p, *b;
	const char	*name, *id;
	struct version	*v;

	value = json_get(doc, "value");
	if (!cJSON_IsArray(value))
		return (fail(cause, "the version listing has no value array"));
	cJSON_ArrayForEach(p, value) {
		if ((name = json_str(p, "version")) == NULL || *name == '\0')
			name = json_str(p, "normalizedVersion");
		if (name == NULL || *name == '\0')
			return (fail(cause, "a version without a name"));
		if (cJSON_IsTrue(cJSON_GetObjectItem(p, "isDeleted")) ||
		    json_str(p, "deletedDate") != NULL)
			continue;
		v = versions_add(vs, name);
		v->pushed_at = json_time(p, "publishDate");
		b = cJSON_GetObjectItem(p, "isLatest");
		if (cJSON_IsBool(b))
			version_set_meta(v, "isLatest", cJSON_IsTrue(b) ?
			    "true" : "false");
		if ((id = json_str(p, "id")) != NULL)
			version_set_meta(v, "versionId", id);
		if ((id = json_str(p, "publishDate")) != NULL)
			version_set_meta(v, "publishDate", id);
	}
	if (vs->n > 1)
		qsort(vs->v, vs->n, sizeof *vs->v, newest_first);
	return (0);
}

/* The first certificate of pem, or NULL. */
static X509 *
pem_cert(const char *pem)
{
	BIO	*bio;
	X509	*x;

	if ((bio = BIO_new_mem_buf(pem, -1)) == NULL)
		fatalx("BIO_new_mem_buf failed");
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	return (x);
}

int
az_cert_x5t(const char *pem, char **x5t, char **cause)
{
	X509		*x;
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 n;

	*x5t = NULL;
	if ((x = pem_cert(pem)) == NULL)
		return (fail(cause, "no PEM certificate in it"));
	if (X509_digest(x, EVP_sha1(), md, &n) != 1) {
		X509_free(x);
		return (fail(cause, "cannot hash the certificate"));
	}
	X509_free(x);
	*x5t = b64url(md, n);
	return (0);
}

int
az_client_assertion(const char *pem, const char *client_id, const char *aud,
    int64_t now_s, const char *jti, char **jwt, char **cause)
{
	cJSON	*h, *c;
	char	*x5t, *hs, *cs, *why;
	int	 r;

	*jwt = NULL;
	if (az_cert_x5t(pem, &x5t, cause) != 0)
		return (-1);
	h = cJSON_CreateObject();
	cJSON_AddStringToObject(h, "alg", "RS256");
	cJSON_AddStringToObject(h, "typ", "JWT");
	cJSON_AddStringToObject(h, "x5t", x5t);
	free(x5t);
	c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "aud", aud);
	cJSON_AddStringToObject(c, "iss", client_id);
	cJSON_AddStringToObject(c, "sub", client_id);
	cJSON_AddStringToObject(c, "jti", jti);
	cJSON_AddNumberToObject(c, "nbf", (double)now_s);
	cJSON_AddNumberToObject(c, "iat", (double)now_s);
	cJSON_AddNumberToObject(c, "exp", (double)(now_s + 600));
	hs = cJSON_PrintUnformatted(h);
	cs = cJSON_PrintUnformatted(c);
	cJSON_Delete(h);
	cJSON_Delete(c);
	r = jwt_rs256(hs, cs, pem, jwt, &why);
	free(hs);
	free(cs);
	if (r != 0) {
		fail(cause, "%s", why);
		free(why);
	}
	return (r);
}
