/*
 * jwt.c: RS256 JSON Web Tokens with OpenSSL (jwt.h).  The grant a service
 * signs with its own key to get an access token: base64url of the header
 * and of the claims, joined by a dot, signed with RSASSA-PKCS1-v1_5 over
 * SHA-256, the signature appended base64url-encoded.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "http.h"
#include "jwt.h"

char *
b64url(const void *data, size_t len)
{
	char	*s = base64_encode(data, len), *p;
	size_t	 n;

	for (p = s; *p != '\0'; p++) {
		if (*p == '+')
			*p = '-';
		else if (*p == '/')
			*p = '_';
	}
	n = strlen(s);
	while (n > 0 && s[n - 1] == '=')
		s[--n] = '\0';
	return (s);
}

int
jwt_rs256(const char *header_json, const char *claims_json,
    const char *key_pem, char **jwt, char **cause)
{
	BIO		*bio;
	EVP_PKEY	*key;
	EVP_MD_CTX	*ctx = NULL;
	unsigned char	*sig = NULL;
	size_t		 siglen = 0;
	char		*h, *c, *input, *s;
	int		 ok = 0;

	*jwt = NULL;
	if ((bio = BIO_new_mem_buf(key_pem, -1)) == NULL)
		fatalx("BIO_new_mem_buf failed");
	key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (key == NULL)
		return (fail(cause, "the private key is not a PEM key"));
	if (EVP_PKEY_base_id(key) != EVP_PKEY_RSA) {
		EVP_PKEY_free(key);
		return (fail(cause, "the private key is not an RSA key"));
	}
	h = b64url(header_json, strlen(header_json));
	c = b64url(claims_json, strlen(claims_json));
	xasprintf(&input, "%s.%s", h, c);
	free(h);
	free(c);
	if ((ctx = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
	    EVP_DigestSign(ctx, NULL, &siglen, (unsigned char *)input,
	    strlen(input)) == 1) {
		sig = xmalloc(siglen);
		ok = EVP_DigestSign(ctx, sig, &siglen, (unsigned char *)input,
		    strlen(input)) == 1;
	}
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	if (!ok) {
		free(sig);
		free(input);
		return (fail(cause, "RS256 signing failed"));
	}
	s = b64url(sig, siglen);
	xasprintf(jwt, "%s.%s", input, s);
	free(s);
	free(sig);
	free(input);
	return (0);
}
