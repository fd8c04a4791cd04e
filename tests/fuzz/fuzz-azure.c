/*
 * fuzz-azure.c: libFuzzer over the Azure family's pure parsers.  Every
 * input goes to every parser (no selector byte, so each parser sees each
 * seed): the token answers (access and refresh tokens, their expiry, the
 * JWT exp claim), the error envelopes, the sign-in page test, ACR's tag
 * listing, a feed's packages and versions, the feeds host of a URL and the
 * certificate thumbprint.  Each must answer 0 or -1, never crash or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "azure.h"
#include "json.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*body = (const char *)data;
	struct versions	 vs = { 0 };
	char		*cause = NULL, *s, *t;
	int64_t		 exp;
	int		 more;
	cJSON		*j;

	if (az_parse_token(body, size, "access_token", 1000, &t, &exp,
	    &cause) == 0)
		free(t);
	free(cause);
	cause = NULL;
	if (az_parse_token(body, size, "refresh_token", 1000, &t, &exp,
	    &cause) == 0)
		free(t);
	free(cause);
	cause = NULL;
	free(az_parse_error(body, size));
	az_is_html(NULL, body, size);
	if (json_parse(body, size, &j, &cause) == 0) {
		az_parse_acr_tags(j, &vs, 1000, &more, &cause);
		free(cause);
		cause = NULL;
		versions_free(&vs);
		memset(&vs, 0, sizeof vs);
		if (az_parse_feed_package(j, "com.acme:app", &t, &cause) == 1)
			free(t);
		free(cause);
		cause = NULL;
		az_parse_feed_versions(j, &vs, &cause);
		versions_free(&vs);
		cJSON_Delete(j);
	}
	free(cause);
	cause = NULL;
	s = xstrndup(body, size);
	az_jwt_exp(s);
	free(azart_feeds_base(s));
	if (az_cert_x5t(s, &t, &cause) == 0)
		free(t);
	free(cause);
	free(s);
	return (0);
}
