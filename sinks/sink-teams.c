/*
 * sink-teams.c: the Teams sink, for a Microsoft Teams Workflows webhook
 * ("When a Teams webhook request is received", which posts the Adaptive
 * Cards of a message's attachments; the old Office 365 connectors are
 * retired).  The payload is a message with one Adaptive Card 1.4
 * attachment: the title, a FactSet of the fields, the source in small
 * print and an Open button for the link.  A templated text is one
 * TextBlock.  Workflows answers 202 Accepted; chat.c maps the rest.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "chat.h"

#define TEAMS_TEXT_MAX	20000	/* the card is limited to about 28 KB */

static const struct cfg_key teams_keys[] = {
	CHAT_COMMON_KEYS,
	{ .name = NULL }
};

static cJSON *
teams_text_block(cJSON *body, const char *text)
{
	cJSON	*block;

	block = cJSON_CreateObject();
	cJSON_AddStringToObject(block, "type", "TextBlock");
	cJSON_AddStringToObject(block, "text", text);
	cJSON_AddTrueToObject(block, "wrap");
	cJSON_AddItemToArray(body, block);
	return (block);
}

/* The card's body and actions for the default message. */
static void
teams_card(cJSON *card, const struct chat_msg *m)
{
	cJSON	*body, *block, *facts, *fact, *actions, *action;
	size_t	 i;

	body = cJSON_AddArrayToObject(card, "body");
	block = teams_text_block(body, m->title);
	cJSON_AddStringToObject(block, "size", "Medium");
	cJSON_AddStringToObject(block, "weight", "Bolder");
	if (m->nfields > 0) {
		block = cJSON_CreateObject();
		cJSON_AddStringToObject(block, "type", "FactSet");
		facts = cJSON_AddArrayToObject(block, "facts");
		for (i = 0; i < m->nfields; i++) {
			fact = cJSON_CreateObject();
			cJSON_AddStringToObject(fact, "title",
			    m->fields[i].name);
			cJSON_AddStringToObject(fact, "value",
			    m->fields[i].value);
			cJSON_AddItemToArray(facts, fact);
		}
		cJSON_AddItemToArray(body, block);
	}
	if (m->footer != NULL) {
		block = teams_text_block(body, m->footer);
		cJSON_AddStringToObject(block, "size", "Small");
		cJSON_AddTrueToObject(block, "isSubtle");
	}
	if (m->link != NULL) {
		actions = cJSON_AddArrayToObject(card, "actions");
		action = cJSON_CreateObject();
		cJSON_AddStringToObject(action, "type", "Action.OpenUrl");
		cJSON_AddStringToObject(action, "title", "Open");
		cJSON_AddStringToObject(action, "url", m->link);
		cJSON_AddItemToArray(actions, action);
	}
}

char *
teams_payload(const cJSON *event, const char *text)
{
	struct chat_msg	 m;
	cJSON		*root, *attachments, *attachment, *card, *body;
	char		*s, *t, *out;

	root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "type", "message");
	attachments = cJSON_AddArrayToObject(root, "attachments");
	attachment = cJSON_CreateObject();
	cJSON_AddStringToObject(attachment, "contentType",
	    "application/vnd.microsoft.card.adaptive");
	cJSON_AddNullToObject(attachment, "contentUrl");
	card = cJSON_AddObjectToObject(attachment, "content");
	cJSON_AddStringToObject(card, "$schema",
	    "http://adaptivecards.io/schemas/adaptive-card.json");
	cJSON_AddStringToObject(card, "type", "AdaptiveCard");
	cJSON_AddStringToObject(card, "version", "1.4");
	if (text != NULL) {
		s = chat_clean(text, 1);
		t = chat_trunc(s, TEAMS_TEXT_MAX);
		body = cJSON_AddArrayToObject(card, "body");
		teams_text_block(body, t);
		free(t);
		free(s);
	} else {
		chat_msg_build(event, &m);
		teams_card(card, &m);
		chat_msg_clear(&m);
	}
	cJSON_AddItemToObject(card, "msteams", cJSON_CreateObject());
	cJSON_AddStringToObject(cJSON_GetObjectItem(card, "msteams"),
	    "width", "Full");
	cJSON_AddItemToArray(attachments, attachment);
	out = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return (out);
}

static char *
teams_build(const struct chat *c, const cJSON *event, const char *text)
{
	(void)c;
	return (teams_payload(event, text));
}

static const struct chat_service teams_service = {
	.name = "teams",
	.payload = teams_build,
};

static int
teams_check(struct sink_conf *sc, struct cfg_errors *errs)
{
	return (chat_check(sc, &teams_service, errs));
}

static int
teams_init(struct sink *s, char **cause)
{
	return (chat_init(s, &teams_service, cause));
}

const struct sink_entry sink_teams_entry = {
	.name = "Teams",
	.keys = teams_keys,
	.size = sizeof (struct chat_conf),
	.check = teams_check,
	.init = teams_init,
	.deliver = chat_deliver,
	.cancel = chat_cancel,
	.free = chat_free,
};
