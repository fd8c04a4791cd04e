/*
 * sink.c: the table of sink types and the making and freeing of sink
 * instances.  A new sink type is one file in sinks/ and one line here.
 */
#include <stdlib.h>
#include <string.h>

#include "sink.h"

extern const struct sink_entry sink_webhook_entry;
extern const struct sink_entry sink_stdout_entry;
extern const struct sink_entry sink_slack_entry;
extern const struct sink_entry sink_teams_entry;
extern const struct sink_entry sink_discord_entry;
extern const struct sink_entry sink_googlechat_entry;
extern const struct sink_entry sink_exec_entry;
extern const struct sink_entry sink_amqp_entry;
extern const struct sink_entry sink_mqtt_entry;
extern const struct sink_entry sink_redisstream_entry;
extern const struct sink_entry sink_nats_entry;
extern const struct sink_entry sink_kafka_entry;
extern const struct sink_entry sink_file_entry;

static const struct sink_entry *const sink_table[] = {
	&sink_webhook_entry,
	&sink_stdout_entry,
	&sink_slack_entry,
	&sink_teams_entry,
	&sink_discord_entry,
	&sink_googlechat_entry,
	&sink_exec_entry,
	&sink_amqp_entry,
	&sink_mqtt_entry,
	&sink_redisstream_entry,
	&sink_nats_entry,
	&sink_kafka_entry,
	&sink_file_entry,
};

const struct sink_entry *
sink_find(const char *type)
{
	size_t	 i;

	for (i = 0; i < nitems(sink_table); i++) {
		if (strcmp(sink_table[i]->name, type) == 0)
			return (sink_table[i]);
	}
	return (NULL);
}

struct sink *
sink_create(struct env *env, const struct sink_conf *conf, char **cause)
{
	struct sink	*s;

	s = xcalloc(1, sizeof *s);
	s->entry = conf->entry;
	s->conf = conf;
	s->env = env;
	if (s->entry->init != NULL && s->entry->init(s, cause) != 0) {
		sink_free(s);
		return (NULL);
	}
	return (s);
}

void
sink_free(struct sink *s)
{
	if (s == NULL)
		return;
	if (s->entry->cancel != NULL)
		s->entry->cancel(s);
	if (s->entry->free != NULL)
		s->entry->free(s);
	free(s);
}
