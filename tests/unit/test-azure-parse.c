/*
 * test-azure-parse.c: the pure parsers of the Azure family against recorded
 * answers of the shapes Azure documents (tests/fixtures/azure/): Azure AD,
 * IMDS and ACR token answers and their expiry, the error envelopes of Azure
 * AD, ACR and Azure DevOps (one line, no trace ids), ACR's tag listing with
 * the cap, a feed's packages and versions, the 203 sign-in page, the feeds
 * host of an organization URL, and the client assertion of a certificate
 * (its x5t, its claims, its signature verified with the public key).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "watcher.h"
#include "unit.h"
#include "json.h"
#include "jwt.h"
#include "azure/azure.h"

#define FIX "tests/fixtures/azure/"

#define fixture(name, len)	ut_fixture(FIX, name, len)
#define fixture_json(name)	ut_fixture_json(FIX, name)

Test(azure_parse, aad_token_expires_in)
{
	size_t	 len;
	char	*body = fixture("aad-token.json", &len), *t, *cause = NULL;
	int64_t	 exp;

	cr_assert_eq(az_parse_token(body, len, "access_token", 1000, &t, &exp,
	    &cause), 0, "%s", cause);
	cr_assert_eq(exp, 1000 + 3599);
	cr_assert(strncmp(t, "eyJ0eXAi", 8) == 0);
	free(t);
	free(body);
}

Test(azure_parse, imds_token_string_expiry)
{
	size_t	 len;
	char	*body = fixture("imds-token.json", &len), *t, *cause = NULL;
	int64_t	 exp;

	cr_assert_eq(az_parse_token(body, len, "access_token", 1000, &t, &exp,
	    &cause), 0, "%s", cause);
	cr_assert_eq(exp, 1000 + 86399);
	free(t);
	free(body);
}

Test(azure_parse, acr_refresh_token_exp_from_jwt)
{
	size_t	 len;
	char	*body = fixture("acr-exchange.json", &len), *t, *cause = NULL;
	int64_t	 exp;

	cr_assert_eq(az_parse_token(body, len, "refresh_token", 1000, &t, &exp,
	    &cause), 0, "%s", cause);
	cr_assert_eq(exp, 1767261600);
	cr_assert_eq(az_jwt_exp(t), 1767261600);
	free(t);
	/* Asked for the wrong field: a clear error. */
	cr_assert_eq(az_parse_token(body, len, "access_token", 1000, &t, &exp,
	    &cause), -1);
	cr_assert_str_eq(cause, "the answer has no access_token");
	free(cause);
	free(body);
}

Test(azure_parse, token_garbage_and_defaults)
{
	char	*t, *cause = NULL;
	int64_t	 exp;

	cr_assert_eq(az_parse_token("<html>", 6, "access_token", 1, &t, &exp,
	    &cause), -1);
	free(cause);
	cause = NULL;
	cr_assert_eq(az_parse_token("{\"access_token\":\"opaque\"}", 25,
	    "access_token", 1000, &t, &exp, &cause), 0);
	cr_assert_eq(exp, 1000 + 600);
	free(t);
	cr_assert_eq(az_jwt_exp("no.dots"), 0);
	cr_assert_eq(az_jwt_exp("a.!!!.c"), 0);
	cr_assert_eq(az_jwt_exp(NULL), 0);
}

Test(azure_parse, errors_one_line)
{
	size_t	 len;
	char	*body, *msg;

	body = fixture("aad-error.json", &len);
	msg = az_parse_error(body, len);
	cr_assert_not_null(msg);
	cr_assert(strncmp(msg, "invalid_client: AADSTS7000215: Invalid client "
	    "secret provided.", 59) == 0, "%s", msg);
	cr_assert_null(strstr(msg, "Trace ID"));
	cr_assert_null(strpbrk(msg, "\r\n"));
	free(msg);
	free(body);
	body = fixture("acr-error.json", &len);
	msg = az_parse_error(body, len);
	cr_assert_str_eq(msg, "NAME_UNKNOWN: repository name not known to "
	    "registry");
	free(msg);
	free(body);
	body = fixture("devops-error.json", &len);
	msg = az_parse_error(body, len);
	cr_assert_str_eq(msg, "FeedIdNotFoundException: VS800032: Feed with id "
	    "'nope' doesn't exist.");
	free(msg);
	free(body);
	cr_assert_null(az_parse_error("oops", 4));
	cr_assert_null(az_parse_error("{}", 2));
}

Test(azure_parse, signin_page_is_html)
{
	size_t	 len;
	char	*body = fixture("devops-signin.html", &len);

	cr_assert(az_is_html(NULL, body, len));
	cr_assert(az_is_html("text/html; charset=utf-8", "x", 1));
	cr_assert(!az_is_html("application/json", "{\"a\":1}", 7));
	free(body);
}

Test(azure_parse, acr_tags_newest_first_with_cap)
{
	cJSON		*doc = fixture_json("acr-tags.json");
	struct versions	 vs = { 0 };
	char		*cause = NULL;
	int		 more;

	cr_assert_eq(az_parse_acr_tags(doc, &vs, 100, &more, &cause), 0);
	cr_assert_eq(vs.n, 3);
	cr_assert_eq(more, 0);
	cr_assert_str_eq(vs.v[0].name, "1.2.3");
	cr_assert_str_eq(vs.v[0].digest, "sha256:9f1c3c3b0e4f2f6a6b2f4f44d5e0"
	    "c3c37c7a6e0a3f1b1f3b0c5b9b7e6d9a1c2e");
	cr_assert_eq(vs.v[0].pushed_at, 1767348000);	/* lastUpdateTime */
	versions_free(&vs);
	memset(&vs, 0, sizeof vs);
	cr_assert_eq(az_parse_acr_tags(doc, &vs, 2, &more, &cause), 0);
	cr_assert_eq(vs.n, 2);
	cr_assert_eq(more, 1);
	versions_free(&vs);
	cJSON_Delete(doc);
	doc = cJSON_Parse("{\"tags\":[{\"digest\":\"sha256:00\"}]}");
	memset(&vs, 0, sizeof vs);
	cr_assert_eq(az_parse_acr_tags(doc, &vs, 10, &more, &cause), -1);
	cr_assert_str_eq(cause, "a tag without a name");
	free(cause);
	versions_free(&vs);
	cJSON_Delete(doc);
	doc = cJSON_Parse("{\"registry\":\"r\"}");
	cr_assert_eq(az_parse_acr_tags(doc, &vs, 10, &more, &cause), -1);
	free(cause);
	cJSON_Delete(doc);
}

Test(azure_parse, feed_package_exact_match)
{
	cJSON	*doc = fixture_json("feed-packages.json");
	char	*id, *cause = NULL;

	/* packageNameQuery is a contains match: the exact name is picked. */
	cr_assert_eq(az_parse_feed_package(doc, "COM.acme:app", &id, &cause),
	    1);
	cr_assert_str_eq(id, "7a8b3c2e-0000-4a5b-9c1d-123456789abc");
	free(id);
	cr_assert_eq(az_parse_feed_package(doc, "com.acme:none", &id, &cause),
	    0);
	cJSON_Delete(doc);
	doc = cJSON_Parse("{\"count\":0}");
	cr_assert_eq(az_parse_feed_package(doc, "x", &id, &cause), -1);
	free(cause);
	cJSON_Delete(doc);
}

Test(azure_parse, feed_versions_newest_first_without_deleted)
{
	cJSON		*doc = fixture_json("feed-versions.json");
	struct versions	 vs = { 0 };
	char		*cause = NULL;

	cr_assert_eq(az_parse_feed_versions(doc, &vs, &cause), 0);
	cr_assert_eq(vs.n, 3);
	cr_assert_str_eq(vs.v[0].name, "1.2.0");
	cr_assert_str_eq(vs.v[1].name, "1.1.0");
	cr_assert_str_eq(vs.v[2].name, "1.0.0");
	cr_assert_eq(vs.v[2].pushed_at, 1767261600);
	cr_assert_str_eq(json_str(vs.v[0].metadata, "isLatest"), "true");
	cr_assert_str_eq(json_str(vs.v[1].metadata, "isLatest"), "false");
	versions_free(&vs);
	cJSON_Delete(doc);
}

Test(azure_parse, feeds_base_of_organization_urls)
{
	char	*s;

	s = azart_feeds_base("https://dev.azure.com/garvit-test");
	cr_assert_str_eq(s, "https://feeds.dev.azure.com/garvit-test");
	free(s);
	s = azart_feeds_base("https://dev.azure.com/org/project/_packaging?"
	    "_a=feed");
	cr_assert_str_eq(s, "https://feeds.dev.azure.com/org");
	free(s);
	s = azart_feeds_base("https://acme.visualstudio.com/");
	cr_assert_str_eq(s, "https://acme.feeds.visualstudio.com");
	free(s);
	s = azart_feeds_base("http://tfs.local:8080/tfs/DefaultCollection/");
	cr_assert_str_eq(s, "http://tfs.local:8080/tfs/DefaultCollection");
	free(s);
	cr_assert_null(azart_feeds_base("not a url"));
}

/* A certificate and its key in one PEM, as a certificateRef holds. */
static char *
cert_pem(EVP_PKEY **keyp, X509 **certp)
{
	EVP_PKEY	*key = EVP_RSA_gen(2048);
	X509		*x = X509_new();
	BIO		*b = BIO_new(BIO_s_mem());
	char		*data, *out;
	long		 n;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)"t", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	cr_assert(X509_sign(x, key, EVP_sha256()) > 0);
	cr_assert(PEM_write_bio_X509(b, x));
	cr_assert(PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL));
	n = BIO_get_mem_data(b, &data);
	out = xstrndup(data, (size_t)n);
	BIO_free(b);
	*keyp = key;
	*certp = x;
	return (out);
}

static cJSON *
jwt_part(const char *s, size_t n)
{
	char		*t = xcalloc(1, n + 4);
	unsigned char	*raw = xcalloc(1, n + 4);
	size_t		 i;
	int		 len;
	cJSON		*o;

	for (i = 0; i < n; i++)
		t[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
	while (i % 4 != 0)
		t[i++] = '=';
	len = EVP_DecodeBlock(raw, (unsigned char *)t, (int)i);
	cr_assert_gt(len, 0);
	o = cJSON_ParseWithLength((char *)raw, (size_t)len);
	free(t);
	free(raw);
	return (o);
}

Test(azure_parse, client_assertion_verifies)
{
	EVP_PKEY	*key;
	X509		*x;
	char		*pem = cert_pem(&key, &x), *jwt, *cause = NULL, *x5t;
	char		*want, *d1, *d2, *sig64;
	unsigned char	 md[EVP_MAX_MD_SIZE], sig[1024];
	unsigned int	 mdlen;
	EVP_MD_CTX	*ctx;
	cJSON		*h, *c;
	size_t		 i, n;
	int		 siglen;

	cr_assert_eq(az_client_assertion(pem, "app-id", "https://login/t/"
	    "oauth2/v2.0/token", 1000, "jti-1", &jwt, &cause), 0, "%s",
	    cause);
	cr_assert(X509_digest(x, EVP_sha1(), md, &mdlen));
	want = b64url(md, mdlen);
	cr_assert_eq(az_cert_x5t(pem, &x5t, &cause), 0);
	cr_assert_str_eq(x5t, want);
	d1 = strchr(jwt, '.');
	d2 = strchr(d1 + 1, '.');
	h = jwt_part(jwt, (size_t)(d1 - jwt));
	c = jwt_part(d1 + 1, (size_t)(d2 - d1 - 1));
	cr_assert_str_eq(json_str(h, "alg"), "RS256");
	cr_assert_str_eq(json_str(h, "x5t"), want);
	cr_assert_str_eq(json_str(c, "iss"), "app-id");
	cr_assert_str_eq(json_str(c, "sub"), "app-id");
	cr_assert_str_eq(json_str(c, "aud"), "https://login/t/oauth2/v2.0/"
	    "token");
	cr_assert_str_eq(json_str(c, "jti"), "jti-1");
	cr_assert_eq(cJSON_GetObjectItem(c, "exp")->valuedouble, 1600);
	/* The signature verifies with the certificate's public key. */
	n = strlen(d2 + 1);
	sig64 = xcalloc(1, n + 4);
	for (i = 0; i < n; i++)
		sig64[i] = d2[1 + i] == '-' ? '+' : d2[1 + i] == '_' ? '/' :
		    d2[1 + i];
	while (i % 4 != 0)
		sig64[i++] = '=';
	siglen = EVP_DecodeBlock(sig, (unsigned char *)sig64, (int)i);
	siglen -= n % 4 == 2 ? 2 : n % 4 == 3 ? 1 : 0;
	ctx = EVP_MD_CTX_new();
	cr_assert(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL,
	    X509_get0_pubkey(x)) == 1);
	cr_assert(EVP_DigestVerify(ctx, sig, (size_t)siglen,
	    (unsigned char *)jwt, (size_t)(d2 - jwt)) == 1);
	EVP_MD_CTX_free(ctx);
	free(jwt);
	/* Without a certificate: a clear error, no key in it. */
	cr_assert_eq(az_client_assertion("-----BEGIN NOTHING-----", "a", "b",
	    1, "j", &jwt, &cause), -1);
	cr_assert_str_eq(cause, "no PEM certificate in it");
	free(cause);
	cJSON_Delete(h);
	cJSON_Delete(c);
	free(sig64);
	free(want);
	free(x5t);
	free(pem);
	X509_free(x);
	EVP_PKEY_free(key);
}
