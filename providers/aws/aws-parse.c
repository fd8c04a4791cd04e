/*
 * aws-parse.c: pure parsers of the AWS answers the Aws connector and its
 * providers read: ECR DescribeImages (JSON 1.1), S3 ListObjectsV2 and EC2
 * DescribeImages (XML), STS and IMDS credentials, ECR's authorization
 * token, and every service's error envelope.  Bytes in, versions or values
 * out, so each is tested from recorded answers and fuzzed without a network.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <libxml/tree.h>

#include "aws.h"
#include "json.h"
#include "xml.h"

void
aws_creds_clear(struct aws_creds *c)
{
	if (c->secret_key != NULL)
		explicit_bzero(c->secret_key, strlen(c->secret_key));
	if (c->session_token != NULL)
		explicit_bzero(c->session_token, strlen(c->session_token));
	free(c->access_key);
	free(c->secret_key);
	free(c->session_token);
	memset(c, 0, sizeof *c);
}

/* "com.amazonaws.ecr#ThrottlingException" -> "ThrottlingException" */
static char *
error_code(const char *type)
{
	const char	*hash = strrchr(type, '#');
	const char	*colon;

	if (hash != NULL)
		type = hash + 1;
	/* Some answers append ":http://…" to __type. */
	if ((colon = strchr(type, ':')) != NULL)
		return (xstrndup(type, (size_t)(colon - type)));
	return (xstrdup(type));
}

/* The first Error element anywhere under n (S3, EC2 and STS nest it). */
static xmlNode *
find_error(xmlNode *n)
{
	xmlNode	*e;

	if (n == NULL)
		return (NULL);
	if (strcmp((const char *)n->name, "Error") == 0)
		return (n);
	if ((e = xml_child(n, "Error")) != NULL)
		return (e);
	if ((e = xml_child(n, "Errors")) != NULL)
		return (xml_child(e, "Error"));
	return (NULL);
}

int
aws_parse_error(const char *body, size_t len, char **code, char **message)
{
	cJSON		*j;
	xmlDoc		*doc;
	xmlNode		*e;
	const char	*t, *m;

	*code = *message = NULL;
	if (len == 0)
		return (-1);
	if (body[0] == '{' && json_parse(body, len, &j, NULL) == 0) {
		t = json_str(j, "__type");
		if (t == NULL)
			t = json_str(j, "code");
		m = json_str(j, "message");
		if (m == NULL)
			m = json_str(j, "Message");
		if (t != NULL)
			*code = error_code(t);
		if (m != NULL)
			*message = xstrdup(m);
		cJSON_Delete(j);
		goto out;
	}
	if (body[0] != '<' || xml_parse(body, len, &doc, NULL) != 0)
		return (-1);
	if ((e = find_error(xml_root(doc))) != NULL) {
		*code = xml_text(e, "Code");
		*message = xml_text(e, "Message");
	}
	xml_free(doc);
out:
	if (*code != NULL)
		return (0);
	free(*message);
	*message = NULL;
	return (-1);
}

int
aws_parse_ecr_images(const cJSON *doc, struct versions *out, char **cause)
{
	const cJSON	*list, *img, *tags, *tag;
	const char	*digest;
	struct version	*v;
	double		 pushed, size;

	list = json_get(doc, "imageDetails");
	if (!cJSON_IsArray(list))
		return (fail(cause, "no imageDetails array"));
	cJSON_ArrayForEach(img, list) {
		digest = json_str(img, "imageDigest");
		tags = json_get(img, "imageTags");
		/* Untagged images (platform manifests, leftovers) are none. */
		if (digest == NULL || !cJSON_IsArray(tags))
			continue;
		if (json_num(img, "imagePushedAt", &pushed) != 0)
			pushed = 0;
		if (json_num(img, "imageSizeInBytes", &size) != 0)
			size = -1;
		cJSON_ArrayForEach(tag, tags) {
			if (!cJSON_IsString(tag) || *tag->valuestring == '\0')
				continue;
			v = versions_add(out, tag->valuestring);
			v->digest = xstrdup(digest);
			v->pushed_at = (int64_t)pushed;
			v->size = (int64_t)size;
		}
	}
	return (0);
}

int
aws_parse_s3_objects(xmlDoc *doc, struct versions *out, char **cause)
{
	xmlNode		*root = xml_root(doc), *c;
	char		*key, *etag, *mod, *size;
	struct version	*v;
	size_t		 n;

	if (root == NULL || strcmp((const char *)root->name,
	    "ListBucketResult") != 0)
		return (fail(cause, "not a ListBucketResult"));
	for (c = xml_child(root, "Contents"); c != NULL; c = xml_next(c)) {
		if ((key = xml_text(c, "Key")) == NULL || *key == '\0') {
			free(key);
			continue;
		}
		etag = xml_text(c, "ETag");
		mod = xml_text(c, "LastModified");
		size = xml_text(c, "Size");
		v = versions_add(out, key);
		if (etag != NULL) {
			/* ETags are quoted: keep the opaque value inside. */
			n = strlen(etag);
			if (n >= 2 && etag[0] == '"' && etag[n - 1] == '"')
				v->digest = xstrndup(etag + 1, n - 2);
			else if (n > 0)
				v->digest = xstrdup(etag);
		}
		if (mod != NULL && time_parse_rfc3339(mod, &v->pushed_at) != 0)
			v->pushed_at = 0;
		v->size = size != NULL ? strtoll(size, NULL, 10) : -1;
		version_set(v, "path", key);
		version_set_number(v, "size", (double)v->size);
		version_set_meta(v, "filePath", key);
		free(key);
		free(etag);
		free(mod);
		free(size);
	}
	return (0);
}

/* The tagSet of an image as an object, or NULL when it has none. */
static cJSON *
ec2_tags(xmlNode *item)
{
	xmlNode	*set = xml_child(item, "tagSet"), *t;
	cJSON	*tags = NULL;
	char	*k, *val;

	for (t = set != NULL ? xml_child(set, "item") : NULL; t != NULL;
	    t = xml_next(t)) {
		k = xml_text(t, "key");
		val = xml_text(t, "value");
		if (k != NULL) {
			if (tags == NULL)
				tags = cJSON_CreateObject();
			cJSON_DeleteItemFromObjectCaseSensitive(tags, k);
			cJSON_AddStringToObject(tags, k, val != NULL ? val : "");
		}
		free(k);
		free(val);
	}
	return (tags);
}

int
aws_parse_ec2_images(xmlDoc *doc, struct versions *out, char **next,
    char **cause)
{
	xmlNode		*root = xml_root(doc), *set, *item;
	char		*id, *name, *state, *created, *owner;
	struct version	*v;
	cJSON		*tags;

	*next = NULL;
	if (root == NULL || strcmp((const char *)root->name,
	    "DescribeImagesResponse") != 0)
		return (fail(cause, "not a DescribeImagesResponse"));
	set = xml_child(root, "imagesSet");
	for (item = set != NULL ? xml_child(set, "item") : NULL;
	    item != NULL; item = xml_next(item)) {
		id = xml_text(item, "imageId");
		name = xml_text(item, "name");
		state = xml_text(item, "imageState");
		created = xml_text(item, "creationDate");
		owner = xml_text(item, "imageOwnerId");
		/* Only images that can be launched are versions. */
		if (id != NULL && name != NULL && *name != '\0' &&
		    state != NULL && strcmp(state, "available") == 0) {
			v = versions_add(out, name);
			v->digest = xstrdup(id);
			if (created == NULL ||
			    time_parse_rfc3339(created, &v->pushed_at) != 0)
				v->pushed_at = 0;
			version_set(v, "imageId", id);
			version_set(v, "name", name);
			if ((tags = ec2_tags(item)) != NULL) {
				if (v->fields == NULL)
					v->fields = cJSON_CreateObject();
				cJSON_AddItemToObject(v->fields, "tags", tags);
			}
			version_set_meta(v, "ami", id);
			if (owner != NULL)
				version_set_meta(v, "ownerId", owner);
		}
		free(id);
		free(name);
		free(state);
		free(created);
		free(owner);
	}
	*next = xml_text(root, "nextToken");
	if (*next != NULL && **next == '\0') {
		free(*next);
		*next = NULL;
	}
	return (0);
}

int
aws_parse_sts_credentials(const char *body, size_t len,
    struct aws_creds *out, char **cause)
{
	xmlDoc		*doc;
	xmlNode		*root, *result, *c;
	char		*exp;

	memset(out, 0, sizeof *out);
	if (xml_parse(body, len, &doc, cause) != 0)
		return (-1);
	root = xml_root(doc);
	/* AssumeRoleResult or AssumeRoleWithWebIdentityResult. */
	result = root != NULL ? xml_child(root, "AssumeRoleResult") : NULL;
	if (result == NULL && root != NULL)
		result = xml_child(root, "AssumeRoleWithWebIdentityResult");
	c = result != NULL ? xml_child(result, "Credentials") : NULL;
	if (c == NULL) {
		xml_free(doc);
		return (fail(cause, "no Credentials in the STS answer"));
	}
	out->access_key = xml_text(c, "AccessKeyId");
	out->secret_key = xml_text(c, "SecretAccessKey");
	out->session_token = xml_text(c, "SessionToken");
	exp = xml_text(c, "Expiration");
	if (exp == NULL || time_parse_rfc3339(exp, &out->expires_s) != 0)
		out->expires_s = 0;
	free(exp);
	xml_free(doc);
	if (out->access_key == NULL || out->secret_key == NULL) {
		aws_creds_clear(out);
		return (fail(cause, "STS credentials without a key"));
	}
	return (0);
}

int
aws_parse_imds_credentials(const char *body, size_t len,
    struct aws_creds *out, char **cause)
{
	cJSON		*j;
	const char	*akid, *secret, *token, *code;

	memset(out, 0, sizeof *out);
	if (json_parse(body, len, &j, cause) != 0)
		return (-1);
	code = json_str(j, "Code");
	akid = json_str(j, "AccessKeyId");
	secret = json_str(j, "SecretAccessKey");
	token = json_str(j, "Token");
	if ((code != NULL && strcmp(code, "Success") != 0) || akid == NULL ||
	    secret == NULL) {
		fail(cause, "instance metadata answered no credentials%s%s",
		    code != NULL ? ": " : "", code != NULL ? code : "");
		cJSON_Delete(j);
		return (-1);
	}
	out->access_key = xstrdup(akid);
	out->secret_key = xstrdup(secret);
	out->session_token = token != NULL ? xstrdup(token) : NULL;
	out->expires_s = json_time(j, "Expiration");
	cJSON_Delete(j);
	return (0);
}

int
aws_parse_ecr_token(const char *body, size_t len, char **token,
    int64_t *expires_s, char **endpoint, char **cause)
{
	cJSON		*j;
	const cJSON	*data;
	const char	*t, *ep;
	double		 exp;

	*token = NULL;
	*endpoint = NULL;
	if (json_parse(body, len, &j, cause) != 0)
		return (-1);
	data = cJSON_GetArrayItem(json_get(j, "authorizationData"), 0);
	t = json_str(data, "authorizationToken");
	if (t == NULL || *t == '\0') {
		cJSON_Delete(j);
		return (fail(cause, "no authorizationToken in the ECR answer"));
	}
	*token = xstrdup(t);
	*expires_s = json_num(data, "expiresAt", &exp) == 0 ?
	    (int64_t)exp : 0;
	if ((ep = json_str(data, "proxyEndpoint")) != NULL)
		*endpoint = xstrdup(ep);
	cJSON_Delete(j);
	return (0);
}

/* One "key = value" line of an INI section; 1 when it was one. */
static int
ini_pair(const char *line, size_t len, char **key, char **value)
{
	const char	*eq = memchr(line, '=', len), *k0, *k1, *v0, *v1;

	if (eq == NULL)
		return (0);
	for (k0 = line; k0 < eq && (*k0 == ' ' || *k0 == '\t'); k0++)
		;
	for (k1 = eq; k1 > k0 && (k1[-1] == ' ' || k1[-1] == '\t'); k1--)
		;
	for (v0 = eq + 1; v0 < line + len && (*v0 == ' ' || *v0 == '\t');
	    v0++)
		;
	for (v1 = line + len; v1 > v0 && (v1[-1] == ' ' || v1[-1] == '\t' ||
	    v1[-1] == '\r'); v1--)
		;
	*key = xstrndup(k0, (size_t)(k1 - k0));
	*value = xstrndup(v0, (size_t)(v1 - v0));
	return (1);
}

/*
 * The shared credentials file (~/.aws/credentials: [NAME]) or config file
 * (~/.aws/config: [profile NAME], [default]): the keys of one profile.
 */
int
aws_parse_profile(const char *text, size_t len, const char *profile,
    int config_file, struct aws_profile *out)
{
	const char	*p = text, *end = text + len, *nl;
	char		*key, *value, *want;
	int		 in = 0, found = 0;
	size_t		 n;

	memset(out, 0, sizeof *out);
	if (config_file && strcmp(profile, "default") != 0)
		xasprintf(&want, "profile %s", profile);
	else
		want = xstrdup(profile);
	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		while (n > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			n--;
		}
		if (n == 0 || *p == '#' || *p == ';')
			continue;
		if (*p == '[') {
			const char *close = memchr(p, ']', n);

			in = close != NULL &&
			    (size_t)(close - p - 1) == strlen(want) &&
			    strncmp(p + 1, want, strlen(want)) == 0;
			found |= in;
			continue;
		}
		if (!in || !ini_pair(p, n, &key, &value))
			continue;
		if (strcmp(key, "aws_access_key_id") == 0)
			aws_replace(&out->creds.access_key, value);
		else if (strcmp(key, "aws_secret_access_key") == 0)
			aws_replace(&out->creds.secret_key, value);
		else if (strcmp(key, "aws_session_token") == 0)
			aws_replace(&out->creds.session_token, value);
		else if (strcmp(key, "region") == 0)
			aws_replace(&out->region, value);
		else if (strcmp(key, "role_arn") == 0)
			aws_replace(&out->role_arn, value);
		else if (strcmp(key, "web_identity_token_file") == 0)
			aws_replace(&out->web_identity_token_file, value);
		else {
			explicit_bzero(value, strlen(value));
			free(value);
		}
		free(key);
	}
	free(want);
	return (found ? 0 : -1);
}

void
aws_replace(char **slot, char *value)
{
	if (*slot != NULL)
		explicit_bzero(*slot, strlen(*slot));
	free(*slot);
	*slot = value;
}

void
aws_profile_clear(struct aws_profile *p)
{
	aws_creds_clear(&p->creds);
	free(p->region);
	free(p->role_arn);
	free(p->web_identity_token_file);
	memset(p, 0, sizeof *p);
}
