/*
 * aws-sigv4.c: AWS Signature Version 4 (header form), written to AWS's
 * published rules and checked against every case of AWS's SigV4 test suite
 * (tests/unit/test-aws-sigv4.c).  The steps: a canonical request (method,
 * normalised and encoded path, sorted query, lower-cased sorted headers, the
 * payload's hash), a string to sign naming the date and scope, and an
 * HMAC-SHA256 chain that derives the signing key from the secret, the date,
 * the region and the service.  S3 differs in two ways: its path is neither
 * normalised nor encoded a second time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "aws-sigv4.h"

struct pair {
	char	*key;
	char	*value;
};

static void
hmac(const void *key, size_t key_len, const char *msg, unsigned char out[32])
{
	unsigned int	 len = 32;

	if (HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)msg,
	    strlen(msg), out, &len) == NULL || len != 32)
		fatalx("HMAC-SHA256 failed");
}

static void
hex(const unsigned char *in, size_t len, char *out)
{
	static const char	 digits[] = "0123456789abcdef";
	size_t			 i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

void
aws_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char	 md[SHA256_DIGEST_LENGTH];

	SHA256(data, len, md);
	hex(md, sizeof md, out);
}

void
aws_amz_date(int64_t unix_s, char out[17])
{
	time_t		 t = (time_t)unix_s;
	struct tm	 tm;

	gmtime_r(&t, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

static int
unreserved(unsigned char c)
{
	return ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	    c == '~');
}

void
aws_uri_encode(struct buf *b, const char *s, size_t len, int keep_slash)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		unsigned char	 c = (unsigned char)s[i];

		if (unreserved(c) || (keep_slash && c == '/'))
			buf_add(b, &s[i], 1);
		else
			buf_printf(b, "%%%02X", c);
	}
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/* A query component, percent-decoded, then encoded by AWS's rules. */
static char *
query_part(const char *s, size_t len)
{
	struct buf	 raw = { 0 }, out = { 0 };
	size_t		 i;

	for (i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 &&
		    hexval(s[i + 2]) >= 0) {
			char	 c = (char)(hexval(s[i + 1]) * 16 +
			    hexval(s[i + 2]));

			buf_add(&raw, &c, 1);
			i += 2;
		} else
			buf_add(&raw, &s[i], 1);
	}
	aws_uri_encode(&out, raw.data != NULL ? raw.data : "", raw.len, 0);
	buf_free(&raw);
	return (buf_take(&out));
}

static int
pair_cmp(const void *a, const void *b)
{
	const struct pair	*x = a, *y = b;
	int			 c;

	if ((c = strcmp(x->key, y->key)) != 0)
		return (c);
	return (strcmp(x->value, y->value));
}

static void
canonical_query(struct buf *b, const char *query)
{
	struct pair	*pairs = NULL;
	size_t		 n = 0, i;
	const char	*p = query, *end, *eq;

	while (p != NULL && *p != '\0') {
		end = strchr(p, '&');
		if (end == NULL)
			end = p + strlen(p);
		if (end > p) {
			eq = memchr(p, '=', (size_t)(end - p));
			pairs = xreallocarray(pairs, n + 1, sizeof *pairs);
			if (eq == NULL) {
				pairs[n].key = query_part(p, (size_t)(end - p));
				pairs[n].value = xstrdup("");
			} else {
				pairs[n].key = query_part(p, (size_t)(eq - p));
				pairs[n].value = query_part(eq + 1,
				    (size_t)(end - eq - 1));
			}
			n++;
		}
		p = *end == '&' ? end + 1 : NULL;
	}
	if (n > 0)
		qsort(pairs, n, sizeof *pairs, pair_cmp);
	for (i = 0; i < n; i++) {
		buf_printf(b, "%s%s=%s", i > 0 ? "&" : "", pairs[i].key,
		    pairs[i].value);
		free(pairs[i].key);
		free(pairs[i].value);
	}
	free(pairs);
}

/*
 * Outside S3: drop empty and "." segments, let ".." remove the one before,
 * keep a trailing slash, then encode the result once more ('%' too).
 */
static void
canonical_path(struct buf *b, const char *path, int s3)
{
	char		**seg = NULL;
	size_t		 n = 0, i, len;
	const char	*p, *end;
	struct buf	 norm = { 0 };

	if (path == NULL || *path == '\0')
		path = "/";
	if (s3) {
		buf_adds(b, path);
		return;
	}
	for (p = path; *p != '\0'; p = *end == '/' ? end + 1 : end) {
		end = strchr(p, '/');
		if (end == NULL)
			end = p + strlen(p);
		len = (size_t)(end - p);
		if (len == 0 || (len == 1 && p[0] == '.'))
			continue;
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			if (n > 0)
				free(seg[--n]);
			continue;
		}
		seg = xreallocarray(seg, n + 1, sizeof *seg);
		seg[n++] = xstrndup(p, len);
	}
	buf_adds(&norm, "/");
	for (i = 0; i < n; i++) {
		buf_printf(&norm, "%s%s", i > 0 ? "/" : "", seg[i]);
		free(seg[i]);
	}
	free(seg);
	len = strlen(path);
	if (n > 0 && path[len - 1] == '/')
		buf_adds(&norm, "/");
	aws_uri_encode(b, norm.data, norm.len, 1);
	buf_free(&norm);
}

/* Trimmed, with each run of blanks squeezed into one space. */
static void
header_value(struct buf *b, const char *v)
{
	int	 blank = 0;

	while (*v == ' ' || *v == '\t')
		v++;
	for (; *v != '\0'; v++) {
		if (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r') {
			blank = 1;
			continue;
		}
		if (blank)
			buf_adds(b, " ");
		blank = 0;
		buf_add(b, v, 1);
	}
}

static int
header_cmp(const void *a, const void *b)
{
	const struct pair	*x = a, *y = b;

	return (strcmp(x->key, y->key));
}

/*
 * Canonical headers and the signed-header list.  Names are lowered; a name
 * given several times keeps its values in order, joined with ','.
 */
static int
canonical_headers(struct buf *b, struct buf *signed_hdrs,
    const struct aws_header *h, size_t n, char **cause)
{
	struct pair	*sorted;
	size_t		 i, j;
	char		*c;

	sorted = xcalloc(n == 0 ? 1 : n, sizeof *sorted);
	for (i = 0; i < n; i++) {
		if (h[i].name == NULL || *h[i].name == '\0' ||
		    h[i].value == NULL) {
			free(sorted);
			return (fail(cause, "sigv4: header %zu has no name or "
			    "value", i));
		}
		sorted[i].key = xstrdup(h[i].name);
		for (c = sorted[i].key; *c != '\0'; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		sorted[i].value = (char *)h[i].value;	/* borrowed */
	}
	/* A stable sort keeps repeated names in their given order. */
	for (i = 1; i < n; i++) {
		struct pair	 t = sorted[i];

		for (j = i; j > 0 && header_cmp(&sorted[j - 1], &t) > 0; j--)
			sorted[j] = sorted[j - 1];
		sorted[j] = t;
	}
	for (i = 0; i < n; i++) {
		if (i > 0 && strcmp(sorted[i - 1].key, sorted[i].key) == 0)
			buf_adds(b, ",");
		else {
			if (i > 0)
				buf_adds(b, "\n");
			buf_printf(b, "%s:", sorted[i].key);
			buf_printf(signed_hdrs, "%s%s",
			    signed_hdrs->len > 0 ? ";" : "", sorted[i].key);
		}
		header_value(b, sorted[i].value);
	}
	if (n > 0)
		buf_adds(b, "\n");
	for (i = 0; i < n; i++)
		free(sorted[i].key);
	free(sorted);
	return (0);
}

int
aws_sigv4(const struct aws_sign_in *in, struct aws_signature *sig,
    char **cause)
{
	struct buf	 creq = { 0 }, sts = { 0 }, sh = { 0 }, auth = { 0 };
	char		 hash[65], date[9], key[256], sigx[65];
	unsigned char	 k[32], k2[32];

	memset(sig, 0, sizeof *sig);
	if (in->amz_date == NULL || strlen(in->amz_date) != 16)
		return (fail(cause, "sigv4: x-amz-date is not YYYYMMDDTHHMMSSZ"));
	if (in->secret_key == NULL || in->access_key == NULL ||
	    in->region == NULL || in->service == NULL || in->method == NULL)
		return (fail(cause, "sigv4: missing key, region or service"));
	if (snprintf(key, sizeof key, "AWS4%s", in->secret_key) >=
	    (int)sizeof key)
		return (fail(cause, "sigv4: secret key too long"));

	buf_printf(&creq, "%s\n", in->method);
	canonical_path(&creq, in->path, in->s3);
	buf_adds(&creq, "\n");
	canonical_query(&creq, in->query);
	buf_adds(&creq, "\n");
	if (canonical_headers(&creq, &sh, in->headers, in->nheaders,
	    cause) != 0) {
		buf_free(&creq);
		buf_free(&sh);
		explicit_bzero(key, sizeof key);
		return (-1);
	}
	buf_printf(&creq, "\n%s\n", sh.data != NULL ? sh.data : "");
	if (in->payload_hash != NULL)
		buf_adds(&creq, in->payload_hash);
	else {
		aws_sha256_hex(in->body != NULL ? in->body : "", in->body_len,
		    hash);
		buf_adds(&creq, hash);
	}

	memcpy(date, in->amz_date, 8);
	date[8] = '\0';
	aws_sha256_hex(creq.data, creq.len, hash);
	buf_printf(&sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s",
	    in->amz_date, date, in->region, in->service, hash);

	hmac(key, strlen(key), date, k);
	hmac(k, sizeof k, in->region, k2);
	hmac(k2, sizeof k2, in->service, k);
	hmac(k, sizeof k, "aws4_request", k2);
	hmac(k2, sizeof k2, sts.data, k);
	hex(k, sizeof k, sigx);
	explicit_bzero(key, sizeof key);
	explicit_bzero(k2, sizeof k2);

	buf_printf(&auth, "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, "
	    "SignedHeaders=%s, Signature=%s", in->access_key, date, in->region,
	    in->service, sh.data != NULL ? sh.data : "", sigx);
	sig->creq = buf_take(&creq);
	sig->sts = buf_take(&sts);
	sig->signed_headers = buf_take(&sh);
	sig->authorization = buf_take(&auth);
	return (0);
}

void
aws_signature_clear(struct aws_signature *sig)
{
	free(sig->creq);
	free(sig->sts);
	free(sig->signed_headers);
	free(sig->authorization);
	memset(sig, 0, sizeof *sig);
}
