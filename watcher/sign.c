/*
 * sign.c: the webhook signature of DESIGN §6.  The receiver recomputes
 * HMAC-SHA256(secret, "<timestamp>.<body>") and compares; the timestamp
 * inside the signed text lets it refuse replays of an old delivery.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sink.h"

void
sign_hmac_sha256(const void *key, size_t key_len, const void *msg,
    size_t msg_len, unsigned char out[32])
{
	unsigned int	 len = 32;

	if (key_len > INT32_MAX)
		fatalx("HMAC key too long");
	if (HMAC(EVP_sha256(), key, (int)key_len, msg, msg_len, out,
	    &len) == NULL || len != 32)
		fatalx("HMAC-SHA256 failed");
}

char *
sign_body(const char *secret, size_t secret_len, int64_t ts,
    const char *body, size_t body_len)
{
	struct buf	 text = { 0 };
	unsigned char	 mac[32];
	char		*out;
	size_t		 i;

	buf_printf(&text, "%" PRId64 ".", ts);
	buf_add(&text, body, body_len);
	sign_hmac_sha256(secret, secret_len, text.data, text.len, mac);
	buf_free(&text);

	out = xmalloc(sizeof "sha256=" - 1 + 2 * sizeof mac + 1);
	memcpy(out, "sha256=", 7);
	for (i = 0; i < sizeof mac; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", mac[i]);
	return (out);
}
