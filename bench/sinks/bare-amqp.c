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
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>

#include "bare.h"

static void
die_rpc(amqp_rpc_reply_t r, const char *what)
{
	if (r.reply_type == AMQP_RESPONSE_NORMAL)
		return;
	fprintf(stderr, "bare-amqp: %s failed (%d)\n", what, r.reply_type);
	exit(1);
}

int
main(int argc, char **argv)
{
	amqp_connection_state_t	 c;
	amqp_socket_t		*s;
	amqp_basic_properties_t	 pr;
	amqp_frame_t		 f;
	amqp_bytes_t		 body;
	const amqp_basic_ack_t	*ack;
	char			*data, *p, *line, id[128];
	size_t			 sent = 0, acked = 0, window;
	double			 t0;

	if (argc != 9 || (window = strtoul(argv[8], NULL, 10)) == 0) {
		fprintf(stderr, "usage: bare-amqp MESSAGES HOST PORT USER "
		    "PASSWORD_ENV EXCHANGE KEY WINDOW\n");
		return (2);
	}
	data = p = bare_slurp("bare-amqp", argv[1]);
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

	memset(&pr, 0, sizeof pr);
	pr._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG |
	    AMQP_BASIC_CONTENT_TYPE_FLAG;
	pr.delivery_mode = AMQP_DELIVERY_PERSISTENT;
	pr.content_type = amqp_cstring_bytes("application/cloudevents+json");
	t0 = bare_now();
	while (*p != '\0' || acked < sent) {
		while (sent - acked < window && (line = bare_line(&p)) != NULL) {
			pr.message_id = amqp_cstring_bytes(bare_member(line,
			    "id", id, sizeof id));
			body = amqp_cstring_bytes(line);
			if (amqp_basic_publish(c, 1, amqp_cstring_bytes(argv[6]),
			    amqp_cstring_bytes(argv[7]), 1, 0, &pr, body) !=
			    AMQP_STATUS_OK) {
				fprintf(stderr, "bare-amqp: publish failed\n");
				return (1);
			}
			sent++;
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
	bare_report(sent, t0);
	amqp_channel_close(c, 1, AMQP_REPLY_SUCCESS);
	amqp_connection_close(c, AMQP_REPLY_SUCCESS);
	amqp_destroy_connection(c);
	free(data);
	return (0);
}
