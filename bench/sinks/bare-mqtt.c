/*
 * bare-mqtt.c: the bare client of the Mqtt sink benchmark
 * (bench/sinks/mqtt.py).  It publishes the same messages (one CloudEvent
 * JSON line each, read from a file) with libmosquitto and the same
 * confirmation level as the sink: MQTT 5, the given QoS, each message
 * counted when its PUBACK (QoS 1) or PUBCOMP (QoS 2) comes back, at most
 * `window` unacknowledged at once, the Content Type property set.  Prints
 * "MESSAGES SECONDS", from the first publish to the last acknowledgement
 * (connecting and reading the input not included).
 *
 *	bare-mqtt MESSAGES HOST PORT USER PASSWORD_ENV TOPIC QOS WINDOW
 *
 * PASSWORD_ENV names the environment variable holding the password.
 */
#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "bare.h"

static size_t	 acked;
static int	 connected = -1;

static void
on_connect(struct mosquitto *m, void *arg, int rc, int flags,
    const mosquitto_property *props)
{
	(void)m, (void)arg, (void)flags, (void)props;
	connected = rc;
}

static void
on_publish(struct mosquitto *m, void *arg, int mid, int reason,
    const mosquitto_property *props)
{
	(void)m, (void)arg, (void)mid, (void)props;
	if (reason >= 0x80) {
		fprintf(stderr, "bare-mqtt: refused: %s\n",
		    mosquitto_reason_string(reason));
		exit(1);
	}
	acked++;
}

int
main(int argc, char **argv)
{
	struct mosquitto	*m;
	mosquitto_property	*props = NULL;
	char			*data, *p, *line;
	size_t			 sent = 0, window;
	double			 t0;
	int			 qos, rc;

	if (argc != 9 || (window = strtoul(argv[8], NULL, 10)) == 0) {
		fprintf(stderr, "usage: bare-mqtt MESSAGES HOST PORT USER "
		    "PASSWORD_ENV TOPIC QOS WINDOW\n");
		return (2);
	}
	qos = atoi(argv[7]);
	data = p = bare_slurp("bare-mqtt", argv[1]);
	mosquitto_lib_init();
	m = mosquitto_new(NULL, true, NULL);
	mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
	mosquitto_connect_v5_callback_set(m, on_connect);
	mosquitto_publish_v5_callback_set(m, on_publish);
	mosquitto_username_pw_set(m, argv[4], getenv(argv[5]));
	if (mosquitto_connect(m, argv[2], atoi(argv[3]), 30) !=
	    MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "bare-mqtt: cannot connect\n");
		return (1);
	}
	while (connected == -1)
		if (mosquitto_loop(m, 1000, 1) != MOSQ_ERR_SUCCESS)
			return (1);
	if (connected != 0) {
		fprintf(stderr, "bare-mqtt: connect refused\n");
		return (1);
	}
	mosquitto_property_add_string(&props, MQTT_PROP_CONTENT_TYPE,
	    "application/cloudevents+json");
	t0 = bare_now();
	while (*p != '\0' || acked < sent) {
		while (sent - acked < window && (line = bare_line(&p)) != NULL) {
			rc = mosquitto_publish_v5(m, NULL, argv[6],
			    (int)strlen(line), line, qos, false, props);
			if (rc != MOSQ_ERR_SUCCESS) {
				fprintf(stderr, "bare-mqtt: publish: %s\n",
				    mosquitto_strerror(rc));
				return (1);
			}
			sent++;
		}
		if (mosquitto_loop(m, 1000, 1) != MOSQ_ERR_SUCCESS) {
			fprintf(stderr, "bare-mqtt: connection lost\n");
			return (1);
		}
	}
	bare_report(sent, t0);
	mosquitto_property_free_all(&props);
	mosquitto_disconnect(m);
	mosquitto_destroy(m);
	free(data);
	return (0);
}
