/*
 * test-jwt.c: RS256 tokens (watcher/jwt.c).  A key made here signs; the
 * public half verifies the signature over the first two parts, and the
 * parts decode to the header and claims given.  Base64url never pads and
 * uses - and _.  A key that is not RSA, or not PEM, is a clear error.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "watcher.h"
#include "jwt.h"

static char *
pem_of(EVP_PKEY *key)
{
	BIO	*b = BIO_new(BIO_s_mem());
	char	*data, *out;
	long	 n;

	cr_assert(PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL));
	n = BIO_get_mem_data(b, &data);
	out = xstrndup(data, (size_t)n);
	BIO_free(b);
	return (out);
}

/* Standard base64 of a base64url part, padded, for EVP_DecodeBlock. */
static size_t
unb64url(const char *s, size_t n, unsigned char *out)
{
	char	*t = xcalloc(1, n + 4);
	size_t	 i, len;
	int	 r;

	for (i = 0; i < n; i++)
		t[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
	while (i % 4 != 0)
		t[i++] = '=';
	r = EVP_DecodeBlock(out, (unsigned char *)t, (int)i);
	cr_assert_geq(r, 0);
	len = (size_t)r - (n % 4 == 2 ? 2 : n % 4 == 3 ? 1 : 0);
	free(t);
	return (len);
}

Test(jwt, rs256_verifies_with_the_public_half)
{
	EVP_PKEY	*key = EVP_RSA_gen(2048);
	EVP_MD_CTX	*ctx;
	char		*pem, *jwt = NULL, *cause = NULL, *dot1, *dot2;
	unsigned char	 part[1024];
	size_t		 n;
	const char	*header = "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}";
	const char	*claims = "{\"iss\":\"svc@p.iam.gserviceaccount.com\","
	    "\"scope\":\"s\",\"aud\":\"a\",\"iat\":1,\"exp\":3601}";

	cr_assert_not_null(key);
	pem = pem_of(key);
	cr_assert_eq(jwt_rs256(header, claims, pem, &jwt, &cause), 0, "%s",
	    cause);
	cr_assert_null(strchr(jwt, '='));
	cr_assert_null(strchr(jwt, '+'));
	cr_assert_null(strchr(jwt, '/'));
	dot1 = strchr(jwt, '.');
	dot2 = strchr(dot1 + 1, '.');
	cr_assert(dot1 != NULL && dot2 != NULL && strchr(dot2 + 1, '.') == NULL);
	n = unb64url(jwt, (size_t)(dot1 - jwt), part);
	cr_assert(n == strlen(header) && memcmp(part, header, n) == 0);
	n = unb64url(dot1 + 1, (size_t)(dot2 - dot1 - 1), part);
	cr_assert(n == strlen(claims) && memcmp(part, claims, n) == 0);
	n = unb64url(dot2 + 1, strlen(dot2 + 1), part);
	cr_assert_eq(n, 256, "a 2048-bit signature");
	ctx = EVP_MD_CTX_new();
	cr_assert_eq(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key),
	    1);
	cr_assert_eq(EVP_DigestVerify(ctx, part, n, (unsigned char *)jwt,
	    (size_t)(dot2 - jwt)), 1, "the signature holds");
	/* One flipped character of the claims: it no longer does. */
	dot1[1] ^= 1;
	cr_assert_neq(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key),
	    0);
	cr_assert_neq(EVP_DigestVerify(ctx, part, n, (unsigned char *)jwt,
	    (size_t)(dot2 - jwt)), 1);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	free(pem);
	free(jwt);
}

Test(jwt, bad_keys_are_clear_errors)
{
	EVP_PKEY	*ec = EVP_EC_gen("P-256");
	char		*pem = pem_of(ec), *jwt, *cause = NULL;

	cr_assert_eq(jwt_rs256("{}", "{}", "not a key", &jwt, &cause), -1);
	cr_assert_str_eq(cause, "the private key is not a PEM key");
	free(cause);
	cr_assert_eq(jwt_rs256("{}", "{}", pem, &jwt, &cause), -1);
	cr_assert_str_eq(cause, "the private key is not an RSA key");
	free(cause);
	cr_assert_null(jwt);
	EVP_PKEY_free(ec);
	free(pem);
}

Test(jwt, b64url_has_no_padding_and_url_letters)
{
	char	*s = b64url("\xfb\xff\xfe", 3);

	cr_assert_str_eq(s, "-__-");
	free(s);
	s = b64url("a", 1);
	cr_assert_str_eq(s, "YQ");
	free(s);
}
