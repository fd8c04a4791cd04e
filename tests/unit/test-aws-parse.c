/*
 * test-aws-parse.c: the pure parsers of the Aws family against recorded
 * answers of the shapes AWS documents (tests/fixtures/aws/): ECR
 * DescribeImages, S3 ListObjectsV2, EC2 DescribeImages, STS and IMDS
 * credentials, ECR's token, every service's error envelope, and the shared
 * credentials and config files.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "watcher.h"
#include "unit.h"
#include "json.h"
#include "xml.h"
#include "aws/aws.h"

#define FIX "tests/fixtures/aws/"

#define fixture(name, len)	ut_fixture(FIX, name, len)

static const char *
field(const struct version *v, const char *name)
{
	const cJSON	*f = cJSON_GetObjectItemCaseSensitive(v->fields, name);

	return (cJSON_IsString(f) ? f->valuestring : NULL);
}

Test(aws_parse, ecr_images_one_version_per_tag_untagged_skipped)
{
	size_t		 len;
	char		*body = fixture("ecr-describe-images.json", &len);
	char		*cause = NULL;
	cJSON		*doc;
	struct versions	 vs = { 0 };

	cr_assert_eq(json_parse(body, len, &doc, &cause), 0, "%s", cause);
	cr_assert_eq(aws_parse_ecr_images(doc, &vs, &cause), 0, "%s", cause);
	cr_assert_eq(vs.n, 3, "1.2.3 and latest share a digest; 1.2.2");
	cr_assert_str_eq(vs.v[0].name, "1.2.3");
	cr_assert_str_eq(vs.v[1].name, "latest");
	cr_assert_str_eq(vs.v[0].digest, vs.v[1].digest);
	cr_assert_eq(vs.v[0].pushed_at, 1704103200);
	cr_assert_eq(vs.v[0].size, 29364201);
	cr_assert_str_eq(vs.v[2].name, "1.2.2");
	cr_assert_str_eq(vs.v[2].digest, "sha256:2222222222222222222222222222"
	    "222222222222222222222222222222222222");
	versions_free(&vs);
	cJSON_Delete(doc);
	free(body);
}

Test(aws_parse, ecr_images_without_the_array_is_an_error)
{
	cJSON	*doc = cJSON_Parse("{\"images\":[]}");
	char	*cause = NULL;
	struct versions vs = { 0 };

	cr_assert_eq(aws_parse_ecr_images(doc, &vs, &cause), -1);
	cr_assert_not_null(strstr(cause, "imageDetails"));
	free(cause);
	cJSON_Delete(doc);
}

Test(aws_parse, s3_objects_keys_etags_times_sizes)
{
	size_t		 len;
	char		*body = fixture("s3-list-objects-v2.xml", &len);
	char		*cause = NULL;
	xmlDoc		*doc;
	struct versions	 vs = { 0 };
	const cJSON	*m;

	cr_assert_eq(xml_parse(body, len, &doc, &cause), 0, "%s", cause);
	cr_assert_eq(aws_parse_s3_objects(doc, &vs, &cause), 0, "%s", cause);
	cr_assert_eq(vs.n, 2);
	cr_assert_str_eq(vs.v[0].name, "releases/app-1.2.3.tgz");
	cr_assert_str_eq(vs.v[0].digest, "d41d8cd98f00b204e9800998ecf8427e");
	cr_assert_eq(vs.v[0].pushed_at, 1704103200);
	cr_assert_eq(vs.v[0].size, 1048576);
	cr_assert_str_eq(field(&vs.v[0], "path"), "releases/app-1.2.3.tgz");
	m = cJSON_GetObjectItemCaseSensitive(vs.v[0].metadata, "filePath");
	cr_assert_str_eq(m->valuestring, "releases/app-1.2.3.tgz");
	cr_assert_str_eq(vs.v[1].digest, "9b2cf535f27731c974343645a3985328-3",
	    "a multipart ETag is kept whole, unquoted");
	versions_free(&vs);
	xml_free(doc);
	free(body);
}

Test(aws_parse, ec2_images_available_only_with_tags)
{
	size_t		 len;
	char		*body = fixture("ec2-describe-images.xml", &len);
	char		*cause = NULL, *next = NULL;
	xmlDoc		*doc;
	struct versions	 vs = { 0 };
	const cJSON	*tags;

	cr_assert_eq(xml_parse(body, len, &doc, &cause), 0, "%s", cause);
	cr_assert_eq(aws_parse_ec2_images(doc, &vs, &next, &cause), 0, "%s",
	    cause);
	cr_assert_eq(vs.n, 1, "the pending image is not a version");
	cr_assert_str_eq(vs.v[0].name, "my-ami-2024-01-01");
	cr_assert_str_eq(vs.v[0].digest, "ami-0abcdef1234567890");
	cr_assert_eq(vs.v[0].pushed_at, 1704103200);
	cr_assert_str_eq(field(&vs.v[0], "imageId"), "ami-0abcdef1234567890");
	tags = cJSON_GetObjectItemCaseSensitive(vs.v[0].fields, "tags");
	cr_assert_str_eq(cJSON_GetObjectItem(tags, "Version")->valuestring,
	    "1.2.3");
	cr_assert_str_eq(next, "eyJ2IjoiMiIsImMiOi");
	free(next);
	versions_free(&vs);
	xml_free(doc);
	free(body);
}

Test(aws_parse, sts_and_imds_credentials)
{
	size_t		 len;
	char		*body = fixture("sts-assume-role.xml", &len);
	char		*cause = NULL;
	struct aws_creds c;

	cr_assert_eq(aws_parse_sts_credentials(body, len, &c, &cause), 0,
	    "%s", cause);
	cr_assert_str_eq(c.access_key, "ASIAJEXAMPLEXEG2JICEA");
	cr_assert_str_eq(c.secret_key, "9drTJvcXLB89EXAMPLELB8923FB892xMFI");
	cr_assert_not_null(c.session_token);
	cr_assert_eq(c.expires_s, 1573306481);
	aws_creds_clear(&c);
	free(body);

	body = fixture("imds-credentials.json", &len);
	cr_assert_eq(aws_parse_imds_credentials(body, len, &c, &cause), 0,
	    "%s", cause);
	cr_assert_str_eq(c.access_key, "ASIAIMDSEXAMPLE");
	cr_assert_str_eq(c.session_token, "imds-token");
	cr_assert_eq(c.expires_s, 1704124800);
	aws_creds_clear(&c);
	free(body);

	body = fixture("sts-error.xml", &len);
	cr_assert_eq(aws_parse_sts_credentials(body, len, &c, &cause), -1);
	free(cause);
	free(body);
}

Test(aws_parse, every_error_envelope)
{
	static const struct {
		const char	*file, *code, *message;
	} cases[] = {
		{ "ecr-error.json", "RepositoryNotFoundException",
		    "The repository with name 'x' does not exist" },
		{ "s3-error.xml", "NoSuchBucket",
		    "The specified bucket does not exist" },
		{ "ec2-error.xml", "RequestLimitExceeded",
		    "Request limit exceeded." },
		{ "sts-error.xml", "AccessDenied", "User is not authorized" },
	};
	size_t	 i, len;
	char	*body, *code, *message;

	for (i = 0; i < nitems(cases); i++) {
		body = fixture(cases[i].file, &len);
		cr_assert_eq(aws_parse_error(body, len, &code, &message), 0,
		    "%s", cases[i].file);
		cr_assert_str_eq(code, cases[i].code);
		cr_assert(strncmp(message, cases[i].message,
		    strlen(cases[i].message)) == 0, "%s", message);
		free(code);
		free(message);
		free(body);
	}
	cr_assert_eq(aws_parse_error("<html>", 6, &code, &message), -1);
	cr_assert_eq(aws_parse_error("", 0, &code, &message), -1);
}

Test(aws_parse, ecr_authorization_token)
{
	const char	*body = "{\"authorizationData\":[{\"authorizationToken\":"
	    "\"QVdTOnBhc3M=\",\"expiresAt\":1704146400.0,\"proxyEndpoint\":"
	    "\"https://1.dkr.ecr.us-east-1.amazonaws.com\"}]}";
	char		*token = NULL, *cause = NULL, *ep = NULL;
	int64_t		 exp;

	cr_assert_eq(aws_parse_ecr_token(body, strlen(body), &token, &exp,
	    &ep, &cause), 0, "%s", cause);
	cr_assert_str_eq(token, "QVdTOnBhc3M=");
	cr_assert_eq(exp, 1704146400);
	cr_assert_str_eq(ep, "https://1.dkr.ecr.us-east-1.amazonaws.com");
	free(token);
	free(ep);
	cr_assert_eq(aws_parse_ecr_token("{}", 2, &token, &exp, &ep, &cause),
	    -1);
	free(cause);
}

Test(aws_parse, shared_credentials_and_config_profiles)
{
	const char	*creds = "[default]\naws_access_key_id = AKDEF\n"
	    "aws_secret_access_key=SDEF\n\n# comment\n[ci]\n"
	    "aws_access_key_id=AKCI\r\naws_secret_access_key = S CI \r\n"
	    "aws_session_token=TOK\n";
	const char	*config = "[default]\nregion = eu-west-1\n"
	    "[profile ci]\nregion=us-east-2\nrole_arn = arn:aws:iam::1:role/r\n"
	    "web_identity_token_file=/var/run/token\n";
	struct aws_profile p;

	cr_assert_eq(aws_parse_profile(creds, strlen(creds), "ci", 0, &p), 0);
	cr_assert_str_eq(p.creds.access_key, "AKCI");
	cr_assert_str_eq(p.creds.secret_key, "S CI");
	cr_assert_str_eq(p.creds.session_token, "TOK");
	aws_profile_clear(&p);
	cr_assert_eq(aws_parse_profile(creds, strlen(creds), "default", 0,
	    &p), 0);
	cr_assert_str_eq(p.creds.access_key, "AKDEF");
	cr_assert_null(p.creds.session_token);
	aws_profile_clear(&p);
	cr_assert_eq(aws_parse_profile(creds, strlen(creds), "nope", 0, &p),
	    -1);
	aws_profile_clear(&p);
	cr_assert_eq(aws_parse_profile(config, strlen(config), "ci", 1, &p),
	    0);
	cr_assert_str_eq(p.region, "us-east-2");
	cr_assert_str_eq(p.role_arn, "arn:aws:iam::1:role/r");
	cr_assert_str_eq(p.web_identity_token_file, "/var/run/token");
	aws_profile_clear(&p);
	cr_assert_eq(aws_parse_profile(config, strlen(config), "default", 1,
	    &p), 0);
	cr_assert_str_eq(p.region, "eu-west-1");
	aws_profile_clear(&p);
}
