/*
 * amqp-tls.h: TLS for the Amqp sink's amqps:// URLs.  librabbitmq's own SSL
 * socket cannot run on the event loop (its open resolves the name, connects
 * and shakes hands itself, polling until its deadline; see sink-amqp.c), so
 * librabbitmq gets one end of a local socket pair, as it gets a plain TCP
 * socket for amqp://, and libevent's OpenSSL bufferevent relays between
 * the other end and the broker: the handshake, the reads and the writes
 * all happen on the loop, none of them waits.
 */
#ifndef AMQP_TLS_H
#define AMQP_TLS_H

#include <event2/event.h>

struct http_tls;
struct amqp_tls;

/* The relay failed or the broker closed; `why` says how.  Runs once. */
typedef void (*amqp_tls_fail_cb)(const char *why, void *arg);

/*
 * The client context from the sink's TLS keys (PEMs already read):
 * caCertRef (else the system's CAs), clientCertRef/clientKeyRef,
 * insecureSkipVerify.  NULL with *cause on a bad PEM or key.
 */
void		*amqp_tls_ctx(const struct http_tls *, char **cause);
void		 amqp_tls_ctx_free(void *);

/*
 * Start TLS over the connected, non-blocking `tcp_fd` (taken over) to
 * `host` (its name or address is what the certificate must match, unless
 * insecureSkipVerify), and return the relay; *plain_fd is the socket that
 * speaks plain AMQP through it (the caller's to close).  NULL with *cause.
 */
struct amqp_tls	*amqp_tls_start(struct event_base *, void *ctx, int tcp_fd,
		    const char *host, int *plain_fd, amqp_tls_fail_cb,
		    void *arg, char **cause);
/* Stop relaying and close the TLS connection.  Accepts NULL. */
void		 amqp_tls_free(struct amqp_tls *);

#endif
