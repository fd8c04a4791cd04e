/*
 * config-tls.c: the checks across the TLS and proxy keys (struct tls_conf)
 * that every connector has at its top level and the Webhook sink in its
 * spec.  The keys themselves come from CFG_TLS_KEYS (config.h); the files
 * and secrets they name are read when the source or sink starts
 * (http_tls_load() in watcher/http-tls.c), so a rotated certificate is
 * picked up by a reload.
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"

/* A *Ref: a path (holds "/") or the name of a secret that exists. */
static int
tls_ref_check(const char *ref, const struct cfg_node *map, const char *key,
    const char *what, struct cfg_errors *errs)
{
	const struct config	*conf = errs->conf;
	size_t			 i;

	if (ref == NULL || strchr(ref, '/') != NULL)
		return (0);
	if (*ref == '\0' || !config_id_valid(ref)) {
		cfg_error(errs, cfg_node_get(map, key), "%s of %s must name a "
		    "secret, or be a path holding a \"/\" (./ca.pem)", key,
		    what);
		return (1);
	}
	if (conf == NULL)
		return (0);
	for (i = 0; i < conf->nsecrets; i++) {
		if (strcmp(conf->secrets[i].name, ref) == 0)
			return (0);
	}
	cfg_error(errs, cfg_node_get(map, key), "%s of %s: secret \"%s\" is "
	    "not defined under secrets: (a path must hold a \"/\", e.g. "
	    "./%s)", key, what, ref, ref);
	return (1);
}

/* Why a proxyUrl is refused, or NULL. */
static const char *
tls_proxy_problem(const char *url)
{
	static const char *const schemes[] = {
		"http://", "https://", "socks5://", "socks5h://", "socks4://",
		"socks4a://",
	};
	const char	*host, *end;
	size_t		 i;

	for (i = 0; i < nitems(schemes); i++) {
		if (strncmp(url, schemes[i], strlen(schemes[i])) == 0)
			break;
	}
	if (i == nitems(schemes))
		return ("must start with http://, https://, socks5://, "
		    "socks5h://, socks4:// or socks4a://");
	host = url + strlen(schemes[i]);
	end = host + strcspn(host, "/?#");
	if (memchr(host, '@', (size_t)(end - host)) != NULL)
		return ("must not hold credentials");
	if (end == host || *host == ':')
		return ("has no host");
	if (strpbrk(url, " \t\r\n") != NULL)
		return ("holds white space");
	return (NULL);
}

int
config_tls_check(const struct tls_conf *t, const struct cfg_node *map,
    const char *what, struct cfg_errors *errs)
{
	const char	*problem;
	int		 n = 0;

	n += tls_ref_check(t->ca_cert_ref, map, "caCertRef", what, errs);
	n += tls_ref_check(t->client_cert_ref, map, "clientCertRef", what,
	    errs);
	n += tls_ref_check(t->client_key_ref, map, "clientKeyRef", what, errs);
	if ((t->client_key_ref == NULL) != (t->client_cert_ref == NULL)) {
		cfg_error(errs, cfg_node_get(map, t->client_key_ref != NULL ?
		    "clientKeyRef" : "clientCertRef"), "%s of %s needs %s: "
		    "a client certificate and its key go together",
		    t->client_key_ref != NULL ? "clientKeyRef" : "clientCertRef",
		    what, t->client_key_ref != NULL ? "clientCertRef" :
		    "clientKeyRef");
		n++;
	}
	if (t->proxy_url != NULL &&
	    (problem = tls_proxy_problem(t->proxy_url)) != NULL) {
		cfg_error(errs, cfg_node_get(map, "proxyUrl"), "proxyUrl of %s "
		    "%s", what, problem);
		n++;
	}
	if (n == 0 && t->insecure)
		log_warn("insecureSkipVerify: TLS certificates are not "
		    "checked; anyone on the network path can read and change "
		    "what is sent and received, credentials too", "what=%s",
		    log_q(what));
	return (n);
}
