/*
 * sink-googlechat.c: the GoogleChat sink, a Google Chat space's incoming
 * webhook.  The payload is `text` in Chat's markup (*bold*, `code`,
 * <url|text> links), or with `card: true` a short text plus one cardsV2
 * card: a header, one decoratedText widget per field and an Open button.
 * Card text is HTML-formatted, so it is escaped there.
 *
 * `threadKey` (a template, e.g. <+event.data.sourceId>) puts related
 * messages in one thread: the body gets thread.threadKey and the URL
 * messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD.  Google answers
 * 429 RESOURCE_EXHAUSTED without a wait when the space's quota is used up;
 * the dispatcher's backoff then decides.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "chat.h"
#include "template.h"

#define GCHAT_TEXT_MAX		4096
#define GCHAT_THREAD_KEY_MAX	200
#define GCHAT_REPLY_OPTION \
	"messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"

static const struct cfg_key googlechat_keys[] = {
	CHAT_COMMON_KEYS,
	{ .name = "threadKey", .type = CFG_STRING,
	  .off = offsetof(struct chat_conf, thread_key) },
	{ .name = "card", .type = CFG_BOOL,
	  .off = offsetof(struct chat_conf, card), .def = "false" },
	{ .name = NULL }
};

static void
googlechat_widget(cJSON *widgets, const struct chat_field *f)
{
	cJSON	*widget, *dt;
	char	*s;

	widget = cJSON_CreateObject();
	dt = cJSON_AddObjectToObject(widget, "decoratedText");
	cJSON_AddStringToObject(dt, "topLabel", f->name);
	s = chat_entities(f->value);
	cJSON_AddStringToObject(dt, "text", s);
	free(s);
	cJSON_AddTrueToObject(dt, "wrapText");
	cJSON_AddItemToArray(widgets, widget);
}

static cJSON *
googlechat_card(const struct chat_msg *m)
{
	cJSON	*cards, *item, *card, *header, *sections, *section, *widgets;
	cJSON	*widget, *buttons, *button, *on_click, *link;
	size_t	 i;

	cards = cJSON_CreateArray();
	item = cJSON_CreateObject();
	cJSON_AddStringToObject(item, "cardId", "artifact");
	card = cJSON_AddObjectToObject(item, "card");
	header = cJSON_AddObjectToObject(card, "header");
	cJSON_AddStringToObject(header, "title", m->title);
	if (m->footer != NULL)
		cJSON_AddStringToObject(header, "subtitle", m->footer);
	sections = cJSON_AddArrayToObject(card, "sections");
	section = cJSON_CreateObject();
	widgets = cJSON_AddArrayToObject(section, "widgets");
	for (i = 0; i < m->nfields; i++)
		googlechat_widget(widgets, &m->fields[i]);
	if (m->link != NULL) {
		widget = cJSON_CreateObject();
		buttons = cJSON_AddArrayToObject(cJSON_AddObjectToObject(widget,
		    "buttonList"), "buttons");
		button = cJSON_CreateObject();
		cJSON_AddStringToObject(button, "text", "Open");
		on_click = cJSON_AddObjectToObject(button, "onClick");
		link = cJSON_AddObjectToObject(on_click, "openLink");
		cJSON_AddStringToObject(link, "url", m->link);
		cJSON_AddItemToArray(buttons, button);
		cJSON_AddItemToArray(widgets, widget);
	}
	if (cJSON_GetArraySize(widgets) > 0)
		cJSON_AddItemToArray(sections, section);
	else
		cJSON_Delete(section);
	cJSON_AddItemToArray(cards, item);
	return (cards);
}

char *
googlechat_payload(const cJSON *event, const char *text,
    const char *thread_key, int card)
{
	struct chat_msg	 m;
	cJSON		*root, *thread, *cards = NULL;
	char		*s, *t, *out;

	if (text != NULL)
		s = chat_clean(text, 1);
	else {
		chat_msg_build(event, &m);
		if (card) {
			s = xstrdup(m.title);
			cards = googlechat_card(&m);
		} else
			s = chat_markup(&m, NULL);
		chat_msg_clear(&m);
	}
	root = cJSON_CreateObject();
	t = chat_trunc(s, GCHAT_TEXT_MAX);
	cJSON_AddStringToObject(root, "text", t);
	if (cards != NULL)
		cJSON_AddItemToObject(root, "cardsV2", cards);
	free(t);
	free(s);
	if (thread_key != NULL && *thread_key != '\0') {
		s = chat_clean(thread_key, 0);
		t = chat_trunc(s, GCHAT_THREAD_KEY_MAX);
		thread = cJSON_AddObjectToObject(root, "thread");
		cJSON_AddStringToObject(thread, "threadKey", t);
		free(t);
		free(s);
	}
	out = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return (out);
}

static char *
googlechat_build(const struct chat *c, const cJSON *event, const char *text)
{
	char	*key = NULL, *out;

	if (c->thread != NULL)
		key = template_render(c->thread, event);
	out = googlechat_payload(event, text, key, c->cc->card);
	free(key);
	return (out);
}

/* A thread key only threads with the reply option in the URL. */
static char *
googlechat_url(const struct chat *c, const char *url)
{
	if (c->cc->thread_key == NULL ||
	    strstr(url, "messageReplyOption=") != NULL)
		return (xstrdup(url));
	return (chat_url_param(url, GCHAT_REPLY_OPTION));
}

static const struct chat_service googlechat_service = {
	.name = "googlechat",
	.payload = googlechat_build,
	.url = googlechat_url,
};

static int
googlechat_check(struct sink_conf *sc, struct cfg_errors *errs)
{
	return (chat_check(sc, &googlechat_service, errs));
}

static int
googlechat_init(struct sink *s, char **cause)
{
	return (chat_init(s, &googlechat_service, cause));
}

const struct sink_entry sink_googlechat_entry = {
	.name = "GoogleChat",
	.keys = googlechat_keys,
	.size = sizeof (struct chat_conf),
	.check = googlechat_check,
	.init = googlechat_init,
	.deliver = chat_deliver,
	.cancel = chat_cancel,
	.free = chat_free,
};
