/*
 * bare-redisstream.c: the bare client of the RedisStream sink benchmark
 * (bench/sinks/redisstream.py).  It appends the same messages (one
 * CloudEvent JSON line each, read from a file) with hiredis and the same
 * confirmation level as the sink: one `XADD STREAM MAXLEN ~ MAXLEN * id ID
 * event JSON` per message, each counted when Redis answers it, pipelined
 * on one connection with at most `window` unanswered (refilled with one
 * write each time answers come in).  Prints "MESSAGES
 * SECONDS", from the first XADD to the last answer.
 *
 *	bare-redisstream MESSAGES HOST PORT STREAM MAXLEN WINDOW
 */
#include <hiredis/hiredis.h>

#include "bare.h"

static void
check(redisContext *c, redisReply *r)
{
	if (r == NULL) {
		fprintf(stderr, "bare-redisstream: %s\n", c->errstr);
		exit(1);
	}
	if (r->type == REDIS_REPLY_ERROR) {
		fprintf(stderr, "bare-redisstream: XADD: %s\n", r->str);
		exit(1);
	}
	freeReplyObject(r);
}

/*
 * Send what is pending and wait for one answer, then take the answers
 * already read without waiting: the window refills in one write, as an
 * event loop would.  Returns the answers taken.
 */
static size_t
answers(redisContext *c, size_t max)
{
	void	*r = NULL;
	size_t	 n = 1;

	if (redisGetReply(c, &r) != REDIS_OK)
		r = NULL;
	check(c, r);
	while (n < max && redisReaderGetReply(c->reader, &r) == REDIS_OK &&
	    r != NULL) {
		check(c, r);
		n++;
	}
	return (n);
}

int
main(int argc, char **argv)
{
	redisContext	*c;
	const char	*av[10];
	size_t		 lens[10], sent = 0, acked = 0, window;
	char		*data, *p, *line, id[128];
	double		 t0;
	int		 i;

	if (argc != 7 || (window = strtoul(argv[6], NULL, 10)) == 0) {
		fprintf(stderr, "usage: bare-redisstream MESSAGES HOST PORT "
		    "STREAM MAXLEN WINDOW\n");
		return (2);
	}
	data = p = bare_slurp("bare-redisstream", argv[1]);
	if ((c = redisConnect(argv[2], atoi(argv[3]))) == NULL || c->err) {
		fprintf(stderr, "bare-redisstream: cannot connect\n");
		return (1);
	}
	av[0] = "XADD";
	av[1] = argv[4];
	av[2] = "MAXLEN";
	av[3] = "~";
	av[4] = argv[5];
	av[5] = "*";
	av[6] = "id";
	av[8] = "event";
	t0 = bare_now();
	while (*p != '\0' || acked < sent) {
		while (sent - acked < window && (line = bare_line(&p)) != NULL) {
			av[7] = bare_member(line, "id", id, sizeof id);
			av[9] = line;
			for (i = 0; i < 10; i++)
				lens[i] = strlen(av[i]);
			redisAppendCommandArgv(c, 10, av, lens);
			sent++;
		}
		acked += answers(c, sent - acked);
	}
	bare_report(sent, t0);
	redisFree(c);
	free(data);
	return (0);
}
