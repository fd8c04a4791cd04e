/*
 * fake-server.c: the fake artifact server that tests and benchmarks run.
 *
 *	build/fakes/fake-server [--port N] [--log-size N]
 *
 * It listens on 127.0.0.1 (port 0 picks a free one) and prints
 * "listening on 127.0.0.1:PORT" as its first line, so a test can wait for
 * it.  Every request is logged, matched against the fault rules and then
 * offered to each API of the table below in turn; adding an API is one
 * api-<name>.c file and one line here.  Paths under /_fake/ are the control
 * API (faults, request log, reset, and each API's own calls); they are not
 * logged and never damaged.  See docs/fakes.md.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <cjson/cJSON.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakes.h"

static const struct fake_api *const fake_apis[] = {
	&api_dockerhub,	/* before docker: both serve /v2/ */
	&api_docker,
};

struct fake {
	struct event_base	*base;
	struct evhttp		*http;
	int			 port;
	struct faults		*faults;
	struct reqlog		*log;
	void			*states[nitems(fake_apis)];
};

static const struct {
	enum evhttp_cmd_type	 type;
	const char		*name;
} fake_methods[] = {
	{ EVHTTP_REQ_GET, "GET" },
	{ EVHTTP_REQ_HEAD, "HEAD" },
	{ EVHTTP_REQ_POST, "POST" },
	{ EVHTTP_REQ_PUT, "PUT" },
	{ EVHTTP_REQ_DELETE, "DELETE" },
	{ EVHTTP_REQ_PATCH, "PATCH" },
	{ EVHTTP_REQ_OPTIONS, "OPTIONS" },
};

/* The fault engine, for APIs whose behaviour a rule changes. */
struct faults *
fake_faults(const struct fake *fake)
{
	return (fake->faults);
}

/* The port bound, for absolute URLs the APIs hand out. */
int
fake_port(const struct fake *fake)
{
	return (fake->port);
}

/* Sends the reply, logs its status, lets the fault in force shape it. */
void
fake_reply(struct fake_req *fr, int status, struct evbuffer *body)
{
	if (fr->seq != 0)
		reqlog_set_status(fr->fake->log, fr->seq, status);
	faults_send(fr->fake->faults, fr->req, status, body, fr->fault);
}

/* A reply whose body is text. */
void
fake_reply_text(struct fake_req *fr, int status, const char *content_type,
    const char *text)
{
	struct evbuffer	*body;

	body = evbuffer_new();
	evbuffer_add(body, text, strlen(text));
	fake_set_header(fr, "Content-Type", content_type);
	fake_reply(fr, status, body);
}

/* A reply whose body is the JSON tree (not freed). */
void
fake_reply_json(struct fake_req *fr, int status, const cJSON *json)
{
	char	*text;

	text = cJSON_PrintUnformatted(json);
	fake_reply_text(fr, status, "application/json", text);
	cJSON_free(text);
}

/* {"error": msg} with a status. */
static void
fake_reply_error(struct fake_req *fr, int status, const char *msg)
{
	cJSON	*o;

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "error", msg);
	fake_reply_json(fr, status, o);
	cJSON_Delete(o);
}

/* A query parameter, decoded and copied; NULL when absent. */
char *
fake_query_param(const struct fake_req *fr, const char *name)
{
	struct evkeyvalq	 params;
	const char		*v;
	char			*copy = NULL;

	if (*fr->query == '\0')
		return (NULL);
	TAILQ_INIT(&params);
	if (evhttp_parse_query_str(fr->query, &params) == 0 &&
	    (v = evhttp_find_header(&params, name)) != NULL)
		copy = xstrdup(v);
	evhttp_clear_headers(&params);
	return (copy);
}

/* A request header, or NULL. */
const char *
fake_header(const struct fake_req *fr, const char *name)
{
	return (evhttp_find_header(evhttp_request_get_input_headers(fr->req),
	    name));
}

/* Sets a reply header, replacing an earlier value. */
void
fake_set_header(struct fake_req *fr, const char *name, const char *value)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(fr->req);

	evhttp_remove_header(h, name);
	evhttp_add_header(h, name, value);
}

/* The request body parsed as JSON; NULL when empty; -1 when not JSON. */
static int
fake_body_json(struct fake_req *fr, cJSON **out)
{
	struct evbuffer	*in = evhttp_request_get_input_buffer(fr->req);
	size_t		 len = evbuffer_get_length(in);
	const char	*text;

	*out = NULL;
	if (len == 0)
		return (0);
	text = (const char *)evbuffer_pullup(in, -1);
	if ((*out = cJSON_ParseWithLength(text, len)) == NULL)
		return (-1);
	return (0);
}

/* POST /_fake/faults: one rule or an array of them. */
static void
fake_control_faults(struct fake_req *fr, const cJSON *body)
{
	const cJSON	*item;
	struct fault	*f;
	cJSON		*reply, *ids;
	char		*cause;

	reply = cJSON_CreateObject();
	ids = cJSON_AddArrayToObject(reply, "ids");
	if (cJSON_IsArray(body)) {
		cJSON_ArrayForEach(item, body) {
			if ((f = faults_add(fr->fake->faults, item,
			    &cause)) == NULL)
				goto bad;
			cJSON_AddItemToArray(ids,
			    cJSON_CreateNumber((double)f->id));
		}
	} else {
		if ((f = faults_add(fr->fake->faults, body, &cause)) == NULL)
			goto bad;
		cJSON_AddItemToArray(ids, cJSON_CreateNumber((double)f->id));
	}
	fake_reply_json(fr, 201, reply);
	cJSON_Delete(reply);
	return;
bad:
	fake_reply_error(fr, 400, cause);
	free(cause);
	cJSON_Delete(reply);
}

/* GET /_fake/requests[?since=SEQ][&path_prefix=P]. */
static void
fake_control_requests(struct fake_req *fr)
{
	char		*since, *prefix;
	cJSON		*log;

	since = fake_query_param(fr, "since");
	prefix = fake_query_param(fr, "path_prefix");
	log = reqlog_json(fr->fake->log,
	    since != NULL ? strtoull(since, NULL, 10) : 0, prefix);
	fake_reply_json(fr, 200, log);
	cJSON_Delete(log);
	free(since);
	free(prefix);
}

/* Forgets faults, the request log and what the APIs were told. */
static void
fake_reset(struct fake *fake)
{
	size_t	i;

	faults_clear(fake->faults);
	reqlog_clear(fake->log);
	for (i = 0; i < nitems(fake_apis); i++)
		fake_apis[i]->reset(fake->states[i]);
}

/* An API's own control call: /_fake/<api>/<what>. */
static int
fake_control_api(struct fake_req *fr, const char *rest, const cJSON *body)
{
	const char	*slash;
	size_t		 i, len;

	if ((slash = strchr(rest, '/')) == NULL)
		return (-1);
	len = slash - rest;
	for (i = 0; i < nitems(fake_apis); i++) {
		if (strlen(fake_apis[i]->name) != len ||
		    strncmp(fake_apis[i]->name, rest, len) != 0 ||
		    fake_apis[i]->control == NULL)
			continue;
		return (fake_apis[i]->control(fr->fake->states[i], fr,
		    slash + 1, body));
	}
	return (-1);
}

/* The control API under /_fake/. */
static void
fake_control(struct fake_req *fr)
{
	const char	*what = fr->path + strlen("/_fake/");
	int		 get = strcmp(fr->method, "GET") == 0;
	int		 post = strcmp(fr->method, "POST") == 0;
	cJSON		*body, *o;

	if (fake_body_json(fr, &body) != 0) {
		fake_reply_error(fr, 400, "the body is not JSON");
		return;
	}
	if (strcmp(what, "faults") == 0 && post && body != NULL)
		fake_control_faults(fr, body);
	else if (strcmp(what, "faults") == 0 && get) {
		o = faults_json(fr->fake->faults);
		fake_reply_json(fr, 200, o);
		cJSON_Delete(o);
	} else if (strcmp(what, "faults") == 0 &&
	    strcmp(fr->method, "DELETE") == 0) {
		faults_clear(fr->fake->faults);
		fake_reply_text(fr, 200, "application/json", "{}");
	} else if (strcmp(what, "requests") == 0 && get)
		fake_control_requests(fr);
	else if (strcmp(what, "reset") == 0 && post) {
		fake_reset(fr->fake);
		fake_reply_text(fr, 200, "application/json", "{}");
	} else if (fake_control_api(fr, what, body) != 0)
		fake_reply_error(fr, 404, "no such control call");
	cJSON_Delete(body);
}

/* Every request: log, fault, API, or 404. */
static void
fake_request(struct evhttp_request *req, void *arg)
{
	struct fake		*fake = arg;
	struct fake_req		 fr;
	const char		*uri;
	char			*copy, *q;
	size_t			 i;
	int			 status;
	enum evhttp_cmd_type	 type;

	if ((uri = evhttp_request_get_uri(req)) == NULL) {
		/* libevent gave up on a request; it wants a reply. */
		faults_forget(fake->faults, req);
		evhttp_send_error(req, 400, NULL);
		return;
	}
	memset(&fr, 0, sizeof fr);
	fr.fake = fake;
	fr.req = req;
	fr.method = "?";
	type = evhttp_request_get_command(req);
	for (i = 0; i < nitems(fake_methods); i++) {
		if (fake_methods[i].type == type)
			fr.method = fake_methods[i].name;
	}
	copy = xstrdup(uri);
	if ((q = strchr(copy, '?')) != NULL)
		*q++ = '\0';
	fr.path = copy;
	fr.query = q != NULL ? q : "";

	if (strncmp(fr.path, "/_fake/", 7) == 0) {
		fake_control(&fr);
		free(copy);
		return;
	}
	fr.seq = reqlog_add(fake->log, req, fr.method, fr.path, fr.query);
	fr.fault = faults_match(fake->faults, fr.method, fr.path);
	if ((status = faults_answer(fake->faults, req, fr.fault)) != 0) {
		reqlog_set_status(fake->log, fr.seq, status);
		free(copy);
		return;
	}
	for (i = 0; i < nitems(fake_apis); i++) {
		if (fake_apis[i]->handle(fake->states[i], &fr) == 0)
			break;
	}
	if (i == nitems(fake_apis))
		fake_reply_text(&fr, 404, "application/json",
		    "{\"errors\":[{\"code\":\"NOT_FOUND\","
		    "\"message\":\"no such endpoint\"}]}");
	free(copy);
}

/* SIGTERM or SIGINT: stop the loop. */
static void
fake_stop(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopexit(arg, NULL);
}

/* Says how to run the fake, and exits. */
static void
usage(void)
{
	fprintf(stderr, "usage: fake-server [--port N] [--log-size N]\n");
	exit(2);
}

/* Binds 127.0.0.1:port and returns the port bound. */
static int
fake_listen(struct fake *fake, int port)
{
	struct evhttp_bound_socket	*bound;
	struct sockaddr_in		 sin;
	socklen_t			 len = sizeof sin;
	evutil_socket_t			 fd;

	bound = evhttp_bind_socket_with_handle(fake->http, "127.0.0.1",
	    (ev_uint16_t)port);
	if (bound == NULL)
		fatalx("cannot listen on 127.0.0.1:%d", port);
	fd = evhttp_bound_socket_get_fd(bound);
	if (getsockname(fd, (struct sockaddr *)&sin, &len) != 0)
		fatalx("getsockname failed");
	return (ntohs(sin.sin_port));
}

int
main(int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "log-size", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 }
	};
	struct fake			 fake;
	struct event			*term, *intr;
	long				 port = 0, log_size = 100000;
	size_t				 i;
	int				 c;
	char				*end;

	while ((c = getopt_long(argc, argv, "p:l:", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			port = strtol(optarg, &end, 10);
			if (*end != '\0' || port < 0 || port > 65535)
				usage();
			break;
		case 'l':
			log_size = strtol(optarg, &end, 10);
			if (*end != '\0' || log_size < 0)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	signal(SIGPIPE, SIG_IGN);

	memset(&fake, 0, sizeof fake);
	if ((fake.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	fake.http = evhttp_new(fake.base);
	evhttp_set_allowed_methods(fake.http, EVHTTP_REQ_GET |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
	    EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH | EVHTTP_REQ_OPTIONS);
	evhttp_set_gencb(fake.http, fake_request, &fake);
	fake.port = fake_listen(&fake, (int)port);
	fake.faults = faults_new(fake.base);
	fake.log = reqlog_new((size_t)log_size);
	for (i = 0; i < nitems(fake_apis); i++)
		fake.states[i] = fake_apis[i]->create(&fake);

	term = evsignal_new(fake.base, SIGTERM, fake_stop, fake.base);
	intr = evsignal_new(fake.base, SIGINT, fake_stop, fake.base);
	evsignal_add(term, NULL);
	evsignal_add(intr, NULL);
	printf("listening on 127.0.0.1:%d\n", fake.port);
	fflush(stdout);
	event_base_dispatch(fake.base);

	event_free(term);
	event_free(intr);
	evhttp_free(fake.http);
	faults_free(fake.faults);
	for (i = 0; i < nitems(fake_apis); i++)
		fake_apis[i]->free(fake.states[i]);
	reqlog_free(fake.log);
	event_base_free(fake.base);
	return (0);
}
