/*
 * http-tls.c: a connector's or sink's TLS and proxy keys (struct tls_conf,
 * checked by config-tls.c) turned into what the HTTP engine applies to each
 * request (struct http_tls): the PEM files and secrets are read here, when
 * the source or sink starts, and checked to be PEM of the right kind so a
 * wrong file is named now rather than as a handshake failure later.
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "http.h"

/* Read one *Ref; 0 when absent, -1 with *cause. */
static int
http_tls_read(const struct config *conf, const char *key, const char *ref,
    const char *want, char **out, size_t *len, char **cause)
{
	char	*value, *why;

	if (ref == NULL)
		return (0);
	if (secret_or_path_resolve(conf, ref, &value, &why) != 0) {
		fail(cause, "%s: %s", key, why);
		free(why);
		return (-1);
	}
	if (strstr(value, "-----BEGIN ") == NULL ||
	    strstr(value, want) == NULL) {
		explicit_bzero(value, strlen(value));
		free(value);
		return (fail(cause, "%s %s is not PEM holding a %s", key,
		    log_q(ref), want[0] == 'C' ? "certificate" :
		    "private key"));
	}
	*len = strlen(value);
	*out = value;
	return (0);
}

int
http_tls_load(const struct config *conf, const struct tls_conf *tc,
    struct http_tls *out, char **cause)
{
	memset(out, 0, sizeof *out);
	if (tc == NULL)
		return (0);
	if (http_tls_read(conf, "caCertRef", tc->ca_cert_ref,
	    "CERTIFICATE-----", &out->ca, &out->ca_len, cause) != 0 ||
	    http_tls_read(conf, "clientCertRef", tc->client_cert_ref,
	    "CERTIFICATE-----", &out->cert, &out->cert_len, cause) != 0 ||
	    http_tls_read(conf, "clientKeyRef", tc->client_key_ref,
	    "PRIVATE KEY-----", &out->key, &out->key_len, cause) != 0) {
		http_tls_clear(out);
		return (-1);
	}
	out->insecure = tc->insecure;
	if (tc->proxy_url != NULL)
		out->proxy = xstrdup(tc->proxy_url);
	return (0);
}

void
http_tls_clear(struct http_tls *t)
{
	if (t->key != NULL)
		explicit_bzero(t->key, t->key_len);
	free(t->ca);
	free(t->cert);
	free(t->key);
	free(t->proxy);
	memset(t, 0, sizeof *t);
}
