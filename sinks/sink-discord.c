/*
 * sink-discord.c: the Discord sink, a channel webhook ("Execute Webhook").
 * The payload is `content` (one line, what notifications show) and one
 * embed: title (linked to data.url), the artifact (image, path…) as its
 * description, fields, the source as footer, the pushed time as timestamp.  Mentions are switched off (allowed_mentions),
 * so a tag named "@everyone" pings nobody.  Posted with ?wait=true: Discord
 * answers 200 with the created message only once it exists, instead of 204
 * before.  When rate limited it answers 429 with retry_after (seconds, a
 * float) in a JSON body; chat.c honours it.
 *
 * Limits kept: content 2000 characters; embed title 256, field name 256,
 * field value 1024, footer 2048, at most 25 fields, 6000 in all.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "chat.h"

#define DISCORD_CONTENT_MAX	2000
#define DISCORD_TITLE_MAX	256
#define DISCORD_VALUE_MAX	500	/* of 1024: 10 fields stay under 6000 */
#define DISCORD_USERNAME_MAX	80
#define DISCORD_INLINE_MAX	40	/* shorter values sit side by side */
#define DISCORD_GREEN		0x2eb67d
#define DISCORD_ORANGE		0xe8912d

static const struct cfg_key discord_keys[] = {
	CHAT_COMMON_KEYS,
	{ .name = "username", .type = CFG_STRING,
	  .off = offsetof(struct chat_conf, username) },
	{ .name = NULL }
};

/* Markdown characters as text: "my_app" must not turn italic. */
static char *
discord_escape(const char *s)
{
	struct buf	 b = { 0 };

	for (; *s != '\0'; s++) {
		if (strchr("\\*_~`|>[]", *s) != NULL)
			buf_add(&b, "\\", 1);
		buf_add(&b, s, 1);
	}
	return (buf_take(&b));
}

/* An escaped value, cut to max characters. */
static char *
discord_text(const char *s, size_t max)
{
	char	*e, *out;

	e = discord_escape(s);
	out = chat_trunc(e, max);
	free(e);
	return (out);
}

/* A field's value as markdown: an identifier as code. */
static char *
discord_value(const struct chat_field *f)
{
	char	*s, *v;

	if (!f->code || strchr(f->value, '`') != NULL)
		return (discord_text(f->value, DISCORD_VALUE_MAX));
	/* In a code span nothing is markdown. */
	s = chat_trunc(f->value, DISCORD_VALUE_MAX);
	xasprintf(&v, "`%s`", s);
	free(s);
	return (v);
}

/* The fields from `first` on (the one before is the description). */
static void
discord_fields(cJSON *embed, const struct chat_msg *m, size_t first)
{
	const struct chat_field	*f;
	cJSON			*fields, *field;
	char			*v;
	size_t			 i;

	if (m->nfields <= first)
		return;
	fields = cJSON_AddArrayToObject(embed, "fields");
	for (i = first; i < m->nfields; i++) {
		f = &m->fields[i];
		v = discord_value(f);
		field = cJSON_CreateObject();
		cJSON_AddStringToObject(field, "name", f->name);
		cJSON_AddStringToObject(field, "value", v);
		cJSON_AddBoolToObject(field, "inline",
		    chat_chars(f->value) <= DISCORD_INLINE_MAX && !f->code);
		cJSON_AddItemToArray(fields, field);
		free(v);
	}
}

static cJSON *
discord_embed(const struct chat_msg *m)
{
	cJSON	*embed, *footer;
	char	*s;
	int64_t	 t;
	size_t	 first = 0;

	embed = cJSON_CreateObject();
	s = chat_trunc(m->title, DISCORD_TITLE_MAX);
	cJSON_AddStringToObject(embed, "title", s);
	free(s);
	/* What the artifact is (its image, path, chart…) describes it. */
	if (m->nfields > 0 && m->fields[0].code) {
		s = discord_value(&m->fields[0]);
		cJSON_AddStringToObject(embed, "description", s);
		free(s);
		first = 1;
	}
	if (m->link != NULL)
		cJSON_AddStringToObject(embed, "url", m->link);
	cJSON_AddNumberToObject(embed, "color", m->updated ? DISCORD_ORANGE :
	    DISCORD_GREEN);
	discord_fields(embed, m, first);
	if (m->footer != NULL) {
		footer = cJSON_AddObjectToObject(embed, "footer");
		cJSON_AddStringToObject(footer, "text", m->footer);
	}
	if (m->time != NULL && time_parse_rfc3339(m->time, &t) == 0)
		cJSON_AddStringToObject(embed, "timestamp", m->time);
	return (embed);
}

char *
discord_payload(const cJSON *event, const char *text, const char *username)
{
	struct chat_msg	 m;
	cJSON		*root, *embeds, *mentions;
	char		*s, *t, *out;

	root = cJSON_CreateObject();
	if (text != NULL) {
		s = chat_clean(text, 1);
		t = chat_trunc(s, DISCORD_CONTENT_MAX);
		cJSON_AddStringToObject(root, "content", t);
		free(t);
		free(s);
	} else {
		chat_msg_build(event, &m);
		s = discord_text(m.summary, DISCORD_CONTENT_MAX);
		cJSON_AddStringToObject(root, "content", s);
		free(s);
		embeds = cJSON_AddArrayToObject(root, "embeds");
		cJSON_AddItemToArray(embeds, discord_embed(&m));
		chat_msg_clear(&m);
	}
	if (username != NULL && *username != '\0') {
		s = chat_clean(username, 0);
		t = chat_trunc(s, DISCORD_USERNAME_MAX);
		cJSON_AddStringToObject(root, "username", t);
		free(t);
		free(s);
	}
	mentions = cJSON_AddObjectToObject(root, "allowed_mentions");
	cJSON_AddArrayToObject(mentions, "parse");
	out = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return (out);
}

static char *
discord_build(const struct chat *c, const cJSON *event, const char *text)
{
	return (discord_payload(event, text, c->cc->username));
}

/* ?wait=true: the 200 carries the message, so it was created. */
static char *
discord_url(const struct chat *c, const char *url)
{
	(void)c;
	if (strstr(url, "wait=") != NULL)
		return (xstrdup(url));
	return (chat_url_param(url, "wait=true"));
}

static const struct chat_service discord_service = {
	.name = "discord",
	.payload = discord_build,
	.url = discord_url,
};

static int
discord_check(struct sink_conf *sc, struct cfg_errors *errs)
{
	return (chat_check(sc, &discord_service, errs));
}

static int
discord_init(struct sink *s, char **cause)
{
	return (chat_init(s, &discord_service, cause));
}

const struct sink_entry sink_discord_entry = {
	.name = "Discord",
	.keys = discord_keys,
	.size = sizeof (struct chat_conf),
	.check = discord_check,
	.init = discord_init,
	.deliver = chat_deliver,
	.cancel = chat_cancel,
	.free = chat_free,
};
