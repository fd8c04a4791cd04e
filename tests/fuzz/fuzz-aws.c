/*
 * fuzz-aws.c: libFuzzer over the Aws family's pure parsers.  Every input
 * goes to every parser (no selector byte, so each parser sees each seed):
 * ECR's DescribeImages and token, S3's and EC2's listings, STS and IMDS
 * credentials, the error envelopes, the shared credentials and config
 * files, and the AMI filter query.  Each must answer 0 or -1, never crash
 * or leak.
 */
#include <stdint.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "aws.h"
#include "order.h"
#include "json.h"
#include "xml.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char		*body = (const char *)data;
	struct versions		 vs = { 0 };
	struct aws_creds	 c;
	struct aws_profile	 p;
	char			*cause = NULL, *code, *msg, *next, *s;
	cJSON			*j;
	xmlDoc			*doc;
	int64_t			 t;

	if (json_parse(body, size, &j, &cause) == 0) {
		aws_parse_ecr_images(j, &vs, &cause);
		cJSON_Delete(j);
	}
	free(cause);
	cause = NULL;
	if (xml_parse(body, size, &doc, &cause) == 0) {
		aws_parse_s3_objects(doc, &vs, &cause);
		free(cause);
		cause = NULL;
		if (aws_parse_ec2_images(doc, &vs, &next, &cause) == 0)
			free(next);
		xml_free(doc);
	}
	free(cause);
	cause = NULL;
	versions_free(&vs);
	if (aws_parse_sts_credentials(body, size, &c, &cause) == 0)
		aws_creds_clear(&c);
	free(cause);
	cause = NULL;
	if (aws_parse_imds_credentials(body, size, &c, &cause) == 0)
		aws_creds_clear(&c);
	free(cause);
	cause = NULL;
	if (aws_parse_ecr_token(body, size, &s, &t, &next, &cause) == 0) {
		free(s);
		free(next);
	}
	free(cause);
	if (aws_parse_error(body, size, &code, &msg) == 0) {
		free(code);
		free(msg);
	}
	aws_parse_profile(body, size, "default", 0, &p);
	aws_profile_clear(&p);
	aws_parse_profile(body, size, "ci", 1, &p);
	aws_profile_clear(&p);
	s = xstrndup(body, size);
	free(filter_literal_prefix(s));
	free(s);
	return (0);
}
