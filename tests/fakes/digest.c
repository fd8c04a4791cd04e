/*
 * digest.c: the hashes, encodings and clocks the fake APIs need: sha256
 * digests of the bodies they serve (registries name content by them),
 * FNV-1a for ETags and hash tables, base64 for Basic credentials and
 * HTTP-dates for Retry-After.
 */
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fakes.h"

/* "sha256:<64 hex>" of the bytes. */
void
sha256_digest(const void *data, size_t len, char out[SHA256_DIGEST_LEN])
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 md[SHA256_DIGEST_LENGTH];
	size_t			 i;

	SHA256(data, len, md);
	memcpy(out, "sha256:", 7);
	for (i = 0; i < sizeof md; i++) {
		out[7 + 2 * i] = hex[md[i] >> 4];
		out[8 + 2 * i] = hex[md[i] & 0xf];
	}
	out[7 + 2 * sizeof md] = '\0';
}

/* 64-bit FNV-1a: cheap and good enough for tables and ETags. */
uint64_t
fnv1a64(const void *data, size_t len)
{
	const unsigned char	*p = data;
	uint64_t		 h = 0xcbf29ce484222325ULL;
	size_t			 i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return (h);
}

/* Decodes standard base64; NULL when the input is not base64. */
char *
base64_decode(const char *in)
{
	size_t	 len = strlen(in);
	char	*out;
	int	 n;

	if (len % 4 != 0)
		return (NULL);
	out = xmalloc(len / 4 * 3 + 1);
	n = EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)in,
	    (int)len);
	if (n < 0) {
		free(out);
		return (NULL);
	}
	/* EVP_DecodeBlock counts the padding as output bytes. */
	while (len > 0 && in[len - 1] == '=') {
		n--;
		len--;
	}
	out[n] = '\0';
	return (out);
}

/* The IMF-fixdate form of an HTTP-date. */
void
http_date(int64_t unix_s, char *out, size_t len)
{
	time_t		t = (time_t)unix_s;
	struct tm	tm;

	gmtime_r(&t, &tm);
	strftime(out, len, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* Wall-clock milliseconds. */
int64_t
clock_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}
