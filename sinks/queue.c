/*
 * queue.c: the helpers every queue sink shares (queue.h): content modes,
 * the CloudEvents attributes of binary mode, the binary-mode body,
 * destination templates and broker URL checks.  Pure: no I/O.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "config.h"
#include "queue.h"
#include "sink.h"
#include "store.h"
#include "template.h"

const char *const queue_mode_choices[] = { "structured", "binary", NULL };

/* The attributes CloudEvents 1.0 defines, in the order they are walked. */
static const char *const queue_known_attrs[] = {
	"specversion", "id", "source", "type", "subject", "time",
	"datacontenttype", "dataschema",
};

void
queue_event_wrap(const struct outbox_entry *e, struct queue_event *ev)
{
	memset(ev, 0, sizeof *ev);
	ev->id = e->id;
	ev->json = e->json;
	ev->json_len = strlen(e->json);
}

void
queue_event_parse(const struct outbox_entry *e, struct queue_event *ev)
{
	queue_event_wrap(e, ev);
	ev->event = cJSON_Parse(e->json);
	if (ev->event != NULL && !cJSON_IsObject(ev->event)) {
		cJSON_Delete(ev->event);
		ev->event = NULL;
	}
}

void
queue_event_free(struct queue_event *ev)
{
	cJSON_Delete(ev->event);
	memset(ev, 0, sizeof *ev);
}

/* An attribute value as a string (allocated), or NULL to skip it. */
static char *
queue_attr_text(const cJSON *v)
{
	char	*s;

	if (cJSON_IsString(v))
		return (xstrdup(v->valuestring));
	if (cJSON_IsBool(v))
		return (xstrdup(cJSON_IsTrue(v) ? "true" : "false"));
	if (cJSON_IsNumber(v)) {
		/* CloudEvents integers; a fraction is printed as JSON has it. */
		if (v->valuedouble == (double)(long long)v->valuedouble)
			xasprintf(&s, "%lld", (long long)v->valuedouble);
		else
			xasprintf(&s, "%.17g", v->valuedouble);
		return (s);
	}
	return (NULL);
}

static int
queue_is_known(const char *name)
{
	size_t	 i;

	for (i = 0; i < nitems(queue_known_attrs); i++) {
		if (strcmp(queue_known_attrs[i], name) == 0)
			return (1);
	}
	return (strcmp(name, "data") == 0 || strcmp(name, "data_base64") == 0);
}

size_t
queue_attrs(const struct queue_event *ev, queue_attr_cb cb, void *arg)
{
	const cJSON	*v;
	char		*text;
	size_t		 i, n = 0;

	for (i = 0; i < nitems(queue_known_attrs); i++) {
		if (strcmp(queue_known_attrs[i], "id") == 0) {
			cb("id", ev->id, arg);
			n++;
			continue;
		}
		if (ev->event == NULL)
			continue;
		v = cJSON_GetObjectItemCaseSensitive(ev->event,
		    queue_known_attrs[i]);
		if ((text = queue_attr_text(v)) == NULL)
			continue;
		cb(queue_known_attrs[i], text, arg);
		free(text);
		n++;
	}
	if (ev->event == NULL)
		return (n);
	cJSON_ArrayForEach(v, ev->event) {
		if (v->string == NULL || queue_is_known(v->string))
			continue;
		if ((text = queue_attr_text(v)) == NULL)
			continue;
		cb(v->string, text, arg);
		free(text);
		n++;
	}
	return (n);
}

struct queue_find {
	const char	*name;
	char		*value;
};

static void
queue_find_cb(const char *name, const char *value, void *arg)
{
	struct queue_find	*f = arg;

	if (f->value == NULL && strcmp(name, f->name) == 0)
		f->value = xstrdup(value);
}

char *
queue_attr(const struct queue_event *ev, const char *name)
{
	struct queue_find	 f = { name, NULL };

	queue_attrs(ev, queue_find_cb, &f);
	return (f.value);
}

/* data_base64 decoded; NULL when it is not base64. */
static char *
queue_base64(const char *in, size_t *len)
{
	size_t		 n = strlen(in), pad = 0;
	unsigned char	*out;
	int		 got;

	if (n % 4 != 0)
		return (NULL);
	out = xmalloc(n / 4 * 3 + 1);
	if ((got = EVP_DecodeBlock(out, (const unsigned char *)in,
	    (int)n)) < 0) {
		free(out);
		return (NULL);
	}
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	while (pad < 2 && n > pad && in[n - 1 - pad] == '=')
		pad++;
	*len = (size_t)got - pad;
	out[*len] = '\0';
	return ((char *)out);
}

char *
queue_data(const struct queue_event *ev, size_t *len)
{
	const cJSON	*data;
	char		*s;

	*len = 0;
	if (ev->event == NULL)
		return (xstrdup(""));
	data = cJSON_GetObjectItemCaseSensitive(ev->event, "data");
	if (data == NULL) {
		data = cJSON_GetObjectItemCaseSensitive(ev->event,
		    "data_base64");
		if (cJSON_IsString(data) &&
		    (s = queue_base64(data->valuestring, len)) != NULL)
			return (s);
		return (xstrdup(""));
	}
	if (cJSON_IsString(data))
		s = xstrdup(data->valuestring);
	else if ((s = cJSON_PrintUnformatted(data)) != NULL) {
		/* cJSON allocates with malloc: hand over an xmalloc copy. */
		char	*copy = xstrdup(s);

		cJSON_free(s);
		s = copy;
	} else
		s = xstrdup("");
	*len = strlen(s);
	return (s);
}

struct queue_dest {
	char		*text;		/* fixed */
	struct template	*t;		/* or a template */
};

int
queue_dest_check(const struct sink_conf *sc, const char *key,
    struct cfg_errors *errs)
{
	const struct cfg_node	*n;
	struct template		*t;
	char			*what;

	if ((n = cfg_node_get(sc->spec, key)) == NULL)
		return (0);
	xasprintf(&what, "spec.%s of sink \"%s\"", key, sc->id);
	t = template_from_node(n, TEMPLATE_HEADER, what, errs);
	free(what);
	if (t == NULL)
		return (1);
	template_free(t);
	if (n->kind == CFG_SCALAR && n->value[0] == '\0') {
		cfg_error(errs, n, "spec.%s of sink \"%s\" is empty", key,
		    sc->id);
		return (1);
	}
	return (0);
}

struct queue_dest *
queue_dest_compile(const char *text, char **cause)
{
	struct queue_dest	*d;
	size_t			 off;
	char			*why;

	d = xcalloc(1, sizeof *d);
	if (strstr(text, "<+") == NULL) {
		d->text = xstrdup(text);
		return (d);
	}
	if ((d->t = template_compile(text, TEMPLATE_HEADER, &off,
	    &why)) == NULL) {
		fail(cause, "at offset %zu: %s", off, why);
		free(why);
		free(d);
		return (NULL);
	}
	return (d);
}

void
queue_dest_free(struct queue_dest *d)
{
	if (d == NULL)
		return;
	free(d->text);
	template_free(d->t);
	free(d);
}

int
queue_dest_fixed(const struct queue_dest *d)
{
	return (d->t == NULL);
}

char *
queue_dest_render(const struct queue_dest *d, const struct queue_event *ev)
{
	if (d->t == NULL)
		return (xstrdup(d->text));
	return (template_render(d->t, ev->event));
}

/* One URL's userinfo holds a ':' (a password)? */
static int
queue_url_password1(const char *p, size_t len)
{
	const char	*s, *at;
	size_t		 auth;

	if ((s = memmem(p, len, "://", 3)) != NULL) {
		len -= (size_t)(s + 3 - p);
		p = s + 3;
	}
	for (auth = 0; auth < len && strchr("/?#", p[auth]) == NULL; auth++)
		;
	if ((at = memchr(p, '@', auth)) == NULL)
		return (0);
	return (memchr(p, ':', (size_t)(at - p)) != NULL);
}

/* Any of the URLs in a list (nats://a:4222,nats://b:4222) has one? */
static int
queue_url_password(const char *url)
{
	size_t	 len;

	for (;;) {
		len = strcspn(url, ",");
		if (queue_url_password1(url, len))
			return (1);
		if (url[len] == '\0')
			return (0);
		url += len + 1;
	}
}

int
queue_url_check(const struct sink_conf *sc, const char *key, const char *url,
    const char *const *schemes, struct cfg_errors *errs)
{
	const struct cfg_node	*n;
	struct buf		 list = { 0 };
	size_t			 i;
	int			 ok = 0;

	if (url == NULL)
		return (0);
	n = cfg_node_get(sc->spec, key);
	for (i = 0; schemes[i] != NULL; i++) {
		if (strncmp(url, schemes[i], strlen(schemes[i])) == 0)
			ok = 1;
		buf_printf(&list, "%s%s", i == 0 ? "" : " or ", schemes[i]);
	}
	if (!ok) {
		cfg_error(errs, n, "spec.%s of sink \"%s\" must start with %s",
		    key, sc->id, list.data);
		buf_free(&list);
		return (1);
	}
	buf_free(&list);
	if (queue_url_password(url)) {
		cfg_error(errs, n, "spec.%s of sink \"%s\" holds a password; "
		    "name a secret with the sink's …Ref key instead", key,
		    sc->id);
		return (1);
	}
	return (0);
}
