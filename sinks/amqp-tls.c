/*
 * amqp-tls.c: the TLS relay of the Amqp sink (amqp-tls.h).  Two
 * bufferevents: `tls` on the broker's TCP socket (OpenSSL, connecting),
 * `plain` on our end of a socket pair whose other end librabbitmq reads and
 * writes.  What arrives on one is moved to the other's output; the first
 * error or end of either side is reported once, with OpenSSL's reason (a
 * certificate that does not verify says why).
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "amqp-tls.h"
#include "http.h"
#include "watcher.h"

struct amqp_tls {
	struct bufferevent	*tls;
	struct bufferevent	*plain;
	SSL			*ssl;
	int			 failed;
	amqp_tls_fail_cb	 cb;
	void			*arg;
};

/* Every certificate of a PEM bundle into the context's trust store. */
static int
amqp_tls_cas(SSL_CTX *ctx, const char *pem, size_t len)
{
	BIO	*bio = BIO_new_mem_buf(pem, (int)len);
	X509	*x;
	int	 n = 0;

	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), x) == 1)
			n++;
		X509_free(x);
	}
	ERR_clear_error();	/* the end of the bundle */
	BIO_free(bio);
	return (n > 0 ? 0 : -1);
}

/* The client certificate (then its chain) and key. */
static int
amqp_tls_client(SSL_CTX *ctx, const struct http_tls *t)
{
	BIO		*bio;
	X509		*x;
	EVP_PKEY	*key;
	int		 rc = -1, first = 1;

	bio = BIO_new_mem_buf(t->cert, (int)t->cert_len);
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (first ? SSL_CTX_use_certificate(ctx, x) != 1 :
		    SSL_CTX_add1_chain_cert(ctx, x) != 1) {
			X509_free(x);
			goto out;
		}
		X509_free(x);
		first = 0;
	}
	ERR_clear_error();
	BIO_free(bio);
	bio = BIO_new_mem_buf(t->key, (int)t->key_len);
	if (first || (key = PEM_read_bio_PrivateKey(bio, NULL, NULL,
	    NULL)) == NULL)
		goto out;
	if (SSL_CTX_use_PrivateKey(ctx, key) == 1 &&
	    SSL_CTX_check_private_key(ctx) == 1)
		rc = 0;
	EVP_PKEY_free(key);
out:
	BIO_free(bio);
	return (rc);
}

void *
amqp_tls_ctx(const struct http_tls *t, char **cause)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		goto fail;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (t->ca != NULL) {
		if (amqp_tls_cas(ctx, t->ca, t->ca_len) != 0) {
			SSL_CTX_free(ctx);
			fail(cause, "caCertRef holds no certificate OpenSSL "
			    "reads");
			return (NULL);
		}
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1)
		goto fail;
	if (t->cert != NULL && (t->key == NULL ||
	    amqp_tls_client(ctx, t) != 0)) {
		SSL_CTX_free(ctx);
		fail(cause, "clientCertRef and clientKeyRef are not a "
		    "certificate and its private key");
		return (NULL);
	}
	SSL_CTX_set_verify(ctx, t->insecure ? SSL_VERIFY_NONE :
	    SSL_VERIFY_PEER, NULL);
	return (ctx);
fail:
	SSL_CTX_free(ctx);
	fail(cause, "cannot set up TLS: %s", ERR_reason_error_string(
	    ERR_get_error()));
	return (NULL);
}

void
amqp_tls_ctx_free(void *ctx)
{
	SSL_CTX_free(ctx);
}

static void
amqp_tls_fail(struct amqp_tls *t, const char *why)
{
	if (t->failed)
		return;
	t->failed = 1;
	bufferevent_disable(t->tls, EV_READ | EV_WRITE);
	bufferevent_disable(t->plain, EV_READ | EV_WRITE);
	t->cb(why, t->arg);	/* may free t */
}

/* Move what one side read to the other side's output. */
static void
amqp_tls_to_plain(struct bufferevent *bev, void *arg)
{
	struct amqp_tls	*t = arg;

	evbuffer_add_buffer(bufferevent_get_output(t->plain),
	    bufferevent_get_input(bev));
}

static void
amqp_tls_to_broker(struct bufferevent *bev, void *arg)
{
	struct amqp_tls	*t = arg;

	evbuffer_add_buffer(bufferevent_get_output(t->tls),
	    bufferevent_get_input(bev));
}

static void
amqp_tls_event(struct bufferevent *bev, short what, void *arg)
{
	struct amqp_tls	*t = arg;
	unsigned long	 err;
	long		 verify;
	char		*why, reason[256];

	if (!(what & (BEV_EVENT_ERROR | BEV_EVENT_EOF)))
		return;		/* connected: the handshake is done */
	if (bev == t->plain) {
		amqp_tls_fail(t, "the local relay closed");
		return;
	}
	verify = SSL_get_verify_result(t->ssl);
	err = bufferevent_get_openssl_error(bev);
	if (verify != X509_V_OK)
		xasprintf(&why, "TLS: the broker's certificate does not "
		    "verify: %s", X509_verify_cert_error_string(verify));
	else if (err != 0) {
		ERR_error_string_n(err, reason, sizeof reason);
		xasprintf(&why, "TLS: %s", reason);
	} else if (what & BEV_EVENT_EOF)
		why = xstrdup("the broker closed the TLS connection");
	else
		why = xstrdup("TLS connection failed");
	amqp_tls_fail(t, why);
	free(why);
}

struct amqp_tls *
amqp_tls_start(struct event_base *base, void *ctx, int tcp_fd,
    const char *host, int *plain_fd, amqp_tls_fail_cb cb, void *arg,
    char **cause)
{
	struct amqp_tls		*t;
	struct in6_addr		 a6;
	struct in_addr		 a4;
	X509_VERIFY_PARAM	*param;
	int			 sv[2], ip;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) == -1) {
		close(tcp_fd);
		fail(cause, "socketpair: %s", strerror(errno));
		return (NULL);
	}
	t = xcalloc(1, sizeof *t);
	t->cb = cb;
	t->arg = arg;
	if ((t->ssl = SSL_new(ctx)) == NULL)
		fatalx("SSL_new failed");
	ip = inet_pton(AF_INET, host, &a4) == 1 ||
	    inet_pton(AF_INET6, host, &a6) == 1;
	param = SSL_get0_param(t->ssl);
	if (ip)
		X509_VERIFY_PARAM_set1_ip_asc(param, host);
	else {
		SSL_set_tlsext_host_name(t->ssl, host);
		X509_VERIFY_PARAM_set1_host(param, host, 0);
	}
	/* The bufferevent owns ssl and the TCP socket from here. */
	t->tls = bufferevent_openssl_socket_new(base, tcp_fd, t->ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	t->plain = bufferevent_socket_new(base, sv[1], BEV_OPT_CLOSE_ON_FREE);
	if (t->tls == NULL || t->plain == NULL)
		fatalx("bufferevent_socket_new failed");
	bufferevent_openssl_set_allow_dirty_shutdown(t->tls, 1);
	bufferevent_setcb(t->tls, amqp_tls_to_plain, NULL, amqp_tls_event, t);
	bufferevent_setcb(t->plain, amqp_tls_to_broker, NULL, amqp_tls_event,
	    t);
	bufferevent_enable(t->tls, EV_READ | EV_WRITE);
	bufferevent_enable(t->plain, EV_READ | EV_WRITE);
	*plain_fd = sv[0];
	return (t);
}

void
amqp_tls_free(struct amqp_tls *t)
{
	if (t == NULL)
		return;
	bufferevent_free(t->plain);
	bufferevent_free(t->tls);	/* and SSL_free, close */
	free(t);
}
