/*
 * sink-slack.c: the Slack sink, a Slack incoming webhook.  The payload is
 * `text` (what notifications show) and `blocks`: a section with the message
 * in mrkdwn and a context line naming the source.  Slack takes at most 3000
 * characters in a section's text and 50 blocks; a long templated text is
 * split over several sections.  Slack answers 200 "ok", a 4xx with the
 * error's name as the body ("invalid_payload", "channel_is_archived"),
 * and 429 with Retry-After when rate limited; chat.c maps those.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "chat.h"
#include "template.h"

#define SLACK_SECTION_MAX	3000	/* characters of a section's text */
#define SLACK_BLOCKS_MAX	50
#define SLACK_TEXT_MAX		40000	/* Slack cuts `text` there */

static const struct cfg_key slack_keys[] = {
	CHAT_COMMON_KEYS,
	{ .name = NULL }
};

static void
slack_section(cJSON *blocks, const char *mrkdwn)
{
	cJSON	*block, *text;

	block = cJSON_CreateObject();
	cJSON_AddStringToObject(block, "type", "section");
	text = cJSON_AddObjectToObject(block, "text");
	cJSON_AddStringToObject(text, "type", "mrkdwn");
	cJSON_AddStringToObject(text, "text", mrkdwn);
	cJSON_AddItemToArray(blocks, block);
}

/* Byte length of the first `chars` characters of s. */
static size_t
slack_prefix(const char *s, size_t chars)
{
	const char	*p;
	size_t		 n = 0;

	for (p = s; *p != '\0'; p++) {
		if (((unsigned char)*p & 0xc0) != 0x80 && n++ == chars)
			break;
	}
	return ((size_t)(p - s));
}

/* A text over sections of at most 3000 characters, cut at a line end. */
static void
slack_sections(cJSON *blocks, const char *text)
{
	const char	*p = text, *nl;
	size_t		 len;
	char		*part;

	while (*p != '\0' && cJSON_GetArraySize(blocks) < SLACK_BLOCKS_MAX) {
		len = slack_prefix(p, SLACK_SECTION_MAX);
		if (p[len] != '\0') {
			/* Prefer a line end in the second half. */
			nl = memrchr(p, '\n', len);
			if (nl != NULL && nl - p >= (ptrdiff_t)len / 2)
				len = (size_t)(nl - p) + 1;
		}
		part = xstrndup(p, len);
		if (strspn(part, " \n") != len)
			slack_section(blocks, part);
		free(part);
		p += len;
	}
}

char *
slack_payload(const cJSON *event, const char *text)
{
	struct chat_msg	 m;
	cJSON		*root, *blocks, *context, *elements, *el;
	char		*s, *t, *out;

	root = cJSON_CreateObject();
	if (text != NULL) {
		s = chat_clean(text, 1);
		t = chat_trunc(s, SLACK_TEXT_MAX);
		cJSON_AddStringToObject(root, "text", t);
		blocks = cJSON_AddArrayToObject(root, "blocks");
		slack_sections(blocks, t);
		free(t);
		free(s);
		goto done;
	}
	chat_msg_build(event, &m);
	s = chat_entities(m.summary);
	cJSON_AddStringToObject(root, "text", s);
	free(s);
	blocks = cJSON_AddArrayToObject(root, "blocks");
	s = chat_markup(&m, chat_entities);
	t = chat_trunc(s, SLACK_SECTION_MAX);
	slack_section(blocks, t);
	free(t);
	free(s);
	if (m.footer != NULL) {
		context = cJSON_CreateObject();
		cJSON_AddStringToObject(context, "type", "context");
		elements = cJSON_AddArrayToObject(context, "elements");
		el = cJSON_CreateObject();
		cJSON_AddStringToObject(el, "type", "mrkdwn");
		s = chat_entities(m.footer);
		cJSON_AddStringToObject(el, "text", s);
		free(s);
		cJSON_AddItemToArray(elements, el);
		cJSON_AddItemToArray(blocks, context);
	}
	chat_msg_clear(&m);
done:
	/* The link is in the message already: no preview card under it. */
	cJSON_AddFalseToObject(root, "unfurl_links");
	cJSON_AddFalseToObject(root, "unfurl_media");
	out = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return (out);
}

static char *
slack_build(const struct chat *c, const cJSON *event, const char *text)
{
	(void)c;
	return (slack_payload(event, text));
}

static const struct chat_service slack_service = {
	.name = "slack",
	.payload = slack_build,
};

static int
slack_check(struct sink_conf *sc, struct cfg_errors *errs)
{
	return (chat_check(sc, &slack_service, errs));
}

static int
slack_init(struct sink *s, char **cause)
{
	return (chat_init(s, &slack_service, cause));
}

const struct sink_entry sink_slack_entry = {
	.name = "Slack",
	.keys = slack_keys,
	.size = sizeof (struct chat_conf),
	.check = slack_check,
	.init = slack_init,
	.deliver = chat_deliver,
	.cancel = chat_cancel,
	.free = chat_free,
};
