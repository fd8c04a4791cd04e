/*
 * sink-webhook.c: the Webhook sink of DESIGN §6.  Each event is POSTed as a
 * structured-mode CloudEvent, signed with HMAC-SHA256 when a secret is set;
 * the answer decides between delivered, retry later and dead-letter.
 */
#include <stddef.h>
#include <string.h>

#include "sink.h"

struct webhook_conf {
	char			*url;
	char			*secret_ref;
	struct cfg_strmap	 headers;
	int64_t			 timeout_ms;
};

static const struct cfg_key webhook_keys[] = {
	{ .name = "url", .type = CFG_STRING,
	  .off = offsetof(struct webhook_conf, url), .flags = CFG_REQUIRED },
	{ .name = "secretRef", .type = CFG_SECRET,
	  .off = offsetof(struct webhook_conf, secret_ref) },
	{ .name = "headers", .type = CFG_STRMAP,
	  .off = offsetof(struct webhook_conf, headers) },
	{ .name = "timeout", .type = CFG_DURATION,
	  .off = offsetof(struct webhook_conf, timeout_ms), .def = "10s" },
	{ .name = NULL }
};

/* The url must be http or https; the key table has already required it. */
static int
webhook_check(struct sink_conf *sc, struct cfg_errors *errs)
{
	const struct webhook_conf	*wc = sc->data;

	if (wc->url == NULL)
		return (0);
	if (strncmp(wc->url, "http://", 7) != 0 &&
	    strncmp(wc->url, "https://", 8) != 0) {
		cfg_error(errs, cfg_node_get(sc->spec, "url"),
		    "url: must start with http:// or https://");
		return (1);
	}
	return (0);
}

const struct sink_entry sink_webhook_entry = {
	.name = "Webhook",
	.keys = webhook_keys,
	.size = sizeof (struct webhook_conf),
	.check = webhook_check,
};
