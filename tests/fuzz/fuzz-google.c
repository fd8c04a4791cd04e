/*
 * fuzz-google.c: libFuzzer over the Google family's pure parsers.  Every
 * input goes to every parser (no selector byte, so each parser sees each
 * seed): the service-account key, the error bodies, the token answer, GCS
 * objects.list, Artifact Registry dockerImages.list and
 * packages.versions.list, and gcr.io's tags/list.  Each must answer 0 or
 * -1, never crash or leak.
 */
#include <stdint.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "google.h"
#include "fetch.h"
#include "json.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*body = (const char *)data;
	struct versions	 vs = { 0 };
	struct gcp_key	 k;
	char		*cause = NULL, *code, *msg, *token;
	cJSON		*j;
	int64_t		 t;

	if (gcp_parse_key(body, size, &k, &cause) == 0) {
		free(gcp_grant_claims(&k, GCP_SCOPE, 1767261600));
		gcp_key_clear(&k);
	}
	free(cause);
	cause = NULL;
	if (gcp_parse_error(body, size, &code, &msg) == 0) {
		free(code);
		free(msg);
	}
	if (fetch_parse_token(body, size, 1767261600, &token, &t,
	    &cause) == 0)
		free(token);
	free(cause);
	cause = NULL;
	if (json_parse(body, size, &j, &cause) == 0) {
		gcp_parse_gcs_objects(j, &vs, &cause);
		free(cause);
		cause = NULL;
		gcp_parse_ar_images(j, "team/app", &vs, &cause);
		free(cause);
		cause = NULL;
		gcp_parse_ar_versions(j, &vs, &cause);
		free(cause);
		cause = NULL;
		gcp_parse_gcr_tags(j, &vs, &cause);
		cJSON_Delete(j);
	}
	free(cause);
	versions_free(&vs);
	return (0);
}
