/*
 * bare-amqp.c: the bare client of the Amqp sink benchmark
 * (bench/sinks/amqp.py).  It publishes the same messages (one CloudEvent
 * JSON line each, read from a file) with librabbitmq and the same
 * confirmation level as the sink: persistent, mandatory, message_id set,
 * the channel in confirm mode, at most `window` messages unconfirmed at
 * once.  Prints "MESSAGES SECONDS", from the first publish to the last
 * confirm (connecting and reading the input not included).
 *
 *	bare-amqp MESSAGES HOST PORT USER PASSWORD_ENV EXCHANGE KEY WINDOW
 *
 * PASSWORD_ENV names the environment variable holding the password.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

static char *
slurp(const char *path, size_t *len)
{
	FILE	*f = fopen(path, "r");
	char	*data = NULL;
	size_t	 size = 0, n;

	if (f == NULL)
		return (NULL);
	*len = 0;
	for (;;) {
		if (*len + 1 >= size) {
			size = size != 0 ? size * 2 : 1 << 20;
			if ((data = realloc(data, size)) == NULL)
				return (NULL);
		}
		if ((n = fread(data + *len, 1, size - *len - 1, f)) == 0)
			break;
		*len += n;
	}
	data[*len] = '\0';
	fclose(f);
	return (data);
}

static void
die_rpc(amqp_rpc_reply_t r, const char *what)
{
	if (r.reply_type == AMQP_RESPONSE_NORMAL)
		return;
	fprintf(stderr, "bare-amqp: %s failed (%d)\n", what, r.reply_type);
	exit(1);
}

/* The id of a CloudEvent line (its first "id" member). */
static amqp_bytes_t
event_id(const char *line, char *buf, size_t size)
{
	const char	*p = strstr(line, "\"id\":\""), *end;
	size_t		 n = 0;

	if (p != NULL && (end = strchr(p + 6, '"')) != NULL) {
		n = (size_t)(end - p - 6);
		if (n >= size)
			n = size - 1;
		memcpy(buf, p + 6, n);
	}
	buf[n] = '\0';
	return (amqp_cstring_bytes(buf));
}

int
main(int argc, char **argv)
{
	amqp_connection_state_t	 c;
	amqp_socket_t		*s;
	amqp_basic_properties_t	 p;
	amqp_frame_t		 f;
	amqp_bytes_t		 body;
	const amqp_basic_ack_t	*ack;
	char			*data, *line, *nl, id[128];
	size_t			 len, sent = 0, acked = 0, window;
	double			 t0, t1;

	if (argc != 9 || (window = strtoul(argv[8], NULL, 10)) == 0) {
		fprintf(stderr, "usage: bare-amqp MESSAGES HOST PORT USER "
		    "PASSWORD_ENV EXCHANGE KEY WINDOW\n");
		return (2);
	}
	if ((data = slurp(argv[1], &len)) == NULL) {
		fprintf(stderr, "bare-amqp: %s: %s\n", argv[1],
		    strerror(errno));
		return (1);
	}
	c = amqp_new_connection();
	if ((s = amqp_tcp_socket_new(c)) == NULL ||
	    amqp_socket_open(s, argv[2], atoi(argv[3])) != AMQP_STATUS_OK) {
		fprintf(stderr, "bare-amqp: cannot connect\n");
		return (1);
	}
	die_rpc(amqp_login(c, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN,
	    argv[4], getenv(argv[5]) != NULL ? getenv(argv[5]) : ""), "login");
	amqp_channel_open(c, 1);
	die_rpc(amqp_get_rpc_reply(c), "channel.open");
	amqp_confirm_select(c, 1);
	die_rpc(amqp_get_rpc_reply(c), "confirm.select");

	memset(&p, 0, sizeof p);
	p._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG |
	    AMQP_BASIC_CONTENT_TYPE_FLAG;
	p.delivery_mode = AMQP_DELIVERY_PERSISTENT;
	p.content_type = amqp_cstring_bytes("application/cloudevents+json");
	t0 = now();
	line = data;
	while (*line != '\0' || acked < sent) {
		while (*line != '\0' && sent - acked < window) {
			if ((nl = strchr(line, '\n')) != NULL)
				*nl = '\0';
			p.message_id = event_id(line, id, sizeof id);
			body = amqp_cstring_bytes(line);
			if (amqp_basic_publish(c, 1, amqp_cstring_bytes(argv[6]),
			    amqp_cstring_bytes(argv[7]), 1, 0, &p, body) !=
			    AMQP_STATUS_OK) {
				fprintf(stderr, "bare-amqp: publish failed\n");
				return (1);
			}
			sent++;
			line = nl != NULL ? nl + 1 : line + strlen(line);
		}
		if (amqp_simple_wait_frame(c, &f) != AMQP_STATUS_OK) {
			fprintf(stderr, "bare-amqp: connection lost\n");
			return (1);
		}
		if (f.frame_type != AMQP_FRAME_METHOD)
			continue;
		if (f.payload.method.id == AMQP_BASIC_ACK_METHOD) {
			ack = f.payload.method.decoded;
			acked = ack->multiple ? ack->delivery_tag :
			    acked + 1;
		} else if (f.payload.method.id == AMQP_BASIC_NACK_METHOD ||
		    f.payload.method.id == AMQP_BASIC_RETURN_METHOD) {
			fprintf(stderr, "bare-amqp: nack or return\n");
			return (1);
		}
		amqp_maybe_release_buffers(c);
	}
	t1 = now();
	printf("%zu %.6f\n", sent, t1 - t0);
	amqp_channel_close(c, 1, AMQP_REPLY_SUCCESS);
	amqp_connection_close(c, AMQP_REPLY_SUCCESS);
	amqp_destroy_connection(c);
	free(data);
	return (0);
}
