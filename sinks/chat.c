/*
 * chat.c: what the four chat sinks share (chat.h): the readable message of
 * an event of any kind, the sink callbacks around the service's payload
 * builder, and the meaning of the service's answer.
 *
 * The webhook URL is a secret (it carries the token), so it is read at
 * init from `secrets:` and only its host is ever logged; a body quoted in a
 * reason has the URL's path cut out.  Redirects are never followed: a chat
 * service answers a valid URL directly, and after a 301/302 libcurl would
 * repeat the POST as a GET, so a 3xx is a permanent failure naming the
 * origin it pointed to.
 */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "chat.h"
#include "template.h"

#define CHAT_SNIPPET_MAX	160	/* characters of a body in a reason */
#define CHAT_MAX_BODY		(64 * 1024)
#define CHAT_ARTIFACTS_SHOWN	5
#define CHAT_ELLIPSIS		"\xe2\x80\xa6"	/* U+2026 */

/* -------------------------------------------------------------- text */

/*
 * The length of the UTF-8 character at s (1 to 4) and its code point, or 0
 * when the bytes there are not one (bad, overlong, surrogate, too large).
 */
static size_t
chat_utf8(const unsigned char *s, uint32_t *cp)
{
	size_t		 n, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return (1);
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, *cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, *cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, *cp = s[0] & 0x07;
	else
		return (0);
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return (0);
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && *cp < 0x800) || (n == 4 && *cp < 0x10000) ||
	    *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return (0);
	return (n);
}

char *
chat_clean(const char *s, int keep_newlines)
{
	const unsigned char	*p = (const unsigned char *)s;
	struct buf		 b = { 0 };
	uint32_t		 cp;
	size_t			 n;

	if (s == NULL)
		return (NULL);
	while (*p != '\0') {
		if ((n = chat_utf8(p, &cp)) == 0) {
			buf_add(&b, "?", 1);
			p++;
			continue;
		}
		if (cp == '\n' && keep_newlines)
			buf_add(&b, "\n", 1);
		else if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
			buf_add(&b, " ", 1);
		else
			buf_add(&b, p, n);
		p += n;
	}
	return (buf_take(&b));
}

char *
chat_entities(const char *s)
{
	struct buf	 b = { 0 };

	for (; *s != '\0'; s++) {
		if (*s == '&')
			buf_adds(&b, "&amp;");
		else if (*s == '<')
			buf_adds(&b, "&lt;");
		else if (*s == '>')
			buf_adds(&b, "&gt;");
		else
			buf_add(&b, s, 1);
	}
	return (buf_take(&b));
}

size_t
chat_chars(const char *s)
{
	size_t	 n = 0;

	for (; *s != '\0'; s++) {
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	}
	return (n);
}

char *
chat_trunc(const char *s, size_t max)
{
	const char	*p;
	char		*out;
	size_t		 n = 0;

	if (s == NULL)
		return (NULL);
	if (chat_chars(s) <= max)
		return (xstrdup(s));
	if (max == 0)
		return (xstrdup(""));
	/* Keep max - 1 characters and add the ellipsis. */
	for (p = s; *p != '\0'; p++) {
		if (((unsigned char)*p & 0xc0) != 0x80 && n++ == max - 1)
			break;
	}
	xasprintf(&out, "%.*s" CHAT_ELLIPSIS, (int)(p - s), s);
	return (out);
}

char *
chat_short_digest(const char *d)
{
	const char	*colon;
	char		*out;

	if (d == NULL || *d == '\0')
		return (NULL);
	if ((colon = strchr(d, ':')) != NULL && colon != d &&
	    colon - d < 16 && strlen(colon + 1) > 12) {
		xasprintf(&out, "%.*s:%.12s", (int)(colon - d), d, colon + 1);
		return (out);
	}
	return (chat_trunc(d, 17));
}

char *
chat_human_time(const char *rfc3339)
{
	struct tm	 tm;
	time_t		 t;
	int64_t		 secs;
	char		 out[40];

	if (rfc3339 == NULL)
		return (NULL);
	if (time_parse_rfc3339(rfc3339, &secs) != 0)
		return (chat_trunc(rfc3339, 40));
	t = (time_t)secs;
	gmtime_r(&t, &tm);
	strftime(out, sizeof out, "%Y-%m-%d %H:%M:%S UTC", &tm);
	return (xstrdup(out));
}

/* ----------------------------------------------------------- message */

#define CHAT_DOT	" \xc2\xb7 "	/* " · " */
#define CHAT_LINK_MAX	2000

/* A non-empty string member, or NULL. */
static const char *
chat_str(const cJSON *obj, const char *key)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (cJSON_IsString(v) && v->valuestring[0] != '\0')
		return (v->valuestring);
	return (NULL);
}

/* A string or number member as text (allocated), or NULL. */
static char *
chat_member_text(const cJSON *obj, const char *key)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char		*out;

	if (cJSON_IsString(v) && v->valuestring[0] != '\0')
		return (xstrdup(v->valuestring));
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
		return (NULL);
	if (v->valuedouble == floor(v->valuedouble) &&
	    fabs(v->valuedouble) < 1e15)
		xasprintf(&out, "%lld", (long long)v->valuedouble);
	else
		xasprintf(&out, "%g", v->valuedouble);
	return (out);
}

/* A value as the model keeps it: clean, one line, cut to max. */
static char *
chat_value(const char *s, size_t max)
{
	char	*clean, *out;

	if (s == NULL)
		return (NULL);
	clean = chat_clean(s, 0);
	out = chat_trunc(clean, max);
	free(clean);
	return (out);
}

static void
chat_field(struct chat_msg *m, const char *name, const char *value, int code)
{
	struct chat_field	*f;

	if (value == NULL || *value == '\0' || m->nfields == CHAT_MAX_FIELDS)
		return;
	f = &m->fields[m->nfields++];
	f->name = name;
	f->value = chat_value(value, CHAT_VALUE_MAX);
	f->code = code;
}

/* The same for a value made here, which the field takes over. */
static void
chat_field_own(struct chat_msg *m, const char *name, char *value, int code)
{
	chat_field(m, name, value, code);
	free(value);
}

/* "library/nginx" -> "nginx". */
static const char *
chat_basename(const char *s)
{
	const char	*slash = strrchr(s, '/');

	return (slash != NULL && slash[1] != '\0' ? slash + 1 : s);
}

/* The kind of the event: data.kind, or container when it has an image. */
static const char *
chat_kind(const cJSON *data)
{
	const char	*kind = chat_str(data, "kind");

	if (kind != NULL)
		return (kind);
	if (chat_str(data, "image") != NULL)
		return ("container");
	return ("");
}

/* A size in bytes as people read it: "812 bytes", "12.4 MiB". */
static char *
chat_size(const cJSON *data)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(data, "size");
	double		 n;
	size_t		 u;
	char		*out;

	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
	    v->valuedouble < 0)
		return (chat_member_text(data, "size"));
	n = v->valuedouble;
	if (n < 1024) {
		xasprintf(&out, "%.0f bytes", n);
		return (out);
	}
	for (u = 0, n /= 1024; n >= 1024 && u + 1 < nitems(units); u++)
		n /= 1024;
	xasprintf(&out, "%.1f %s", n, units[u]);
	return (out);
}

/* The names of a build's artifacts, the first few of them. */
static char *
chat_artifacts(const cJSON *data)
{
	const cJSON	*list = cJSON_GetObjectItemCaseSensitive(data,
			    "artifacts"), *a;
	const char	*name;
	struct buf	 b = { 0 };
	int		 n = 0, total;

	if (!cJSON_IsArray(list) || (total = cJSON_GetArraySize(list)) == 0)
		return (NULL);
	cJSON_ArrayForEach(a, list) {
		if (n == CHAT_ARTIFACTS_SHOWN)
			break;
		if ((name = chat_str(a, "name")) == NULL &&
		    (name = chat_str(a, "path")) == NULL)
			continue;
		buf_printf(&b, "%s%s", n++ == 0 ? "" : ", ", name);
	}
	if (n == 0) {
		buf_free(&b);
		return (NULL);
	}
	if (total > n)
		buf_printf(&b, " and %d more", total - n);
	return (buf_take(&b));
}

/*
 * The title and the fields that depend on the kind (DESIGN §4): what the
 * artifact is called and where it is.  `verb` is "is out" or "was
 * re-pointed".
 */
static char *
chat_kind_fields(struct chat_msg *m, const cJSON *ev, const cJSON *data,
    const char *version, const char *verb)
{
	const char	*kind = chat_kind(data), *name, *subject, *s;
	char		*title, *number, *result;

	subject = chat_str(ev, "subject");
	if (strcmp(kind, "container") == 0) {
		s = chat_str(data, "repository");
		name = s != NULL ? chat_basename(s) : NULL;
		chat_field(m, "Image", chat_str(data, "image"), 1);
	} else if (strcmp(kind, "chart") == 0) {
		name = chat_str(data, "chart");
		chat_field(m, "Chart", subject, 1);
		chat_field(m, "App version", chat_str(data, "appVersion"), 0);
		chat_field(m, "Repository", chat_str(data, "repository"), 0);
	} else if (strcmp(kind, "package") == 0) {
		name = chat_str(data, "package");
		chat_field(m, "Package", subject, 1);
		chat_field(m, "Format", chat_str(data, "format"), 0);
		chat_field(m, "Feed", chat_str(data, "repository"), 0);
	} else if (strcmp(kind, "build") == 0) {
		if ((name = chat_str(data, "job")) == NULL)
			name = chat_str(data, "sourceId");
		if ((number = chat_member_text(data, "buildNumber")) == NULL)
			number = xstrdup(version);
		result = chat_member_text(data, "result");
		xasprintf(&title, "%s #%s %s%s%s", name != NULL ? name : "",
		    number, m->updated ? "changed" : "finished",
		    result != NULL ? ": " : "", result != NULL ? result : "");
		chat_field(m, "Job", name, 1);
		chat_field_own(m, "Build", number, 0);
		chat_field_own(m, "Result", result, 0);
		chat_field(m, "Server", chat_str(data, "server"), 0);
		chat_field_own(m, "Artifacts", chat_artifacts(data), 0);
		return (title);
	} else if (strcmp(kind, "file") == 0) {
		if ((s = chat_str(data, "path")) == NULL)
			s = version;
		chat_field(m, "Path", subject != NULL ? subject : s, 1);
		chat_field_own(m, "Size", chat_size(data), 0);
		xasprintf(&title, "%s %s", chat_basename(s), verb);
		return (title);
	} else if (strcmp(kind, "machineImage") == 0) {
		if ((name = chat_str(data, "name")) == NULL)
			name = version;
		chat_field(m, "Image ID", chat_str(data, "imageId"), 1);
		chat_field(m, "Region", chat_str(data, "region"), 0);
		if (strcmp(name, version) != 0)
			chat_field(m, "Version", version, 0);
		xasprintf(&title, "%s %s", name, verb);
		return (title);
	} else {
		name = NULL;
		chat_field(m, "Version", version, 0);
	}
	if (name == NULL && (name = chat_str(data, "sourceId")) == NULL)
		name = "artifact";
	xasprintf(&title, "%s %s %s", name, version, verb);
	return (title);
}

/* "nginx 1.27.3 is out: index…:1.27.3 (sha256:…, was sha256:…)". */
static char *
chat_summary(const struct chat_msg *m, const char *digest,
    const char *previous)
{
	struct buf	 b = { 0 };
	char		*s;

	buf_adds(&b, m->title);
	if (m->nfields > 0 && m->fields[0].code)
		buf_printf(&b, ": %s", m->fields[0].value);
	if (digest != NULL)
		buf_printf(&b, " (%s%s%s)", digest, previous != NULL ?
		    ", was " : "", previous != NULL ? previous : "");
	s = buf_take(&b);
	return (s);
}

/* Runs of spaces made one, and none at either end. */
static char *
chat_squeeze(const char *s)
{
	struct buf	 b = { 0 };

	for (; *s != '\0'; s++) {
		if (*s == ' ' && (b.len == 0 || s[1] == ' ' || s[1] == '\0'))
			continue;
		buf_add(&b, s, 1);
	}
	return (buf_take(&b));
}

void
chat_msg_build(const cJSON *ev, struct chat_msg *m)
{
	const cJSON	*data;
	const char	*version, *type, *s;
	char		*title, *digest = NULL, *previous = NULL, *t;

	memset(m, 0, sizeof *m);
	data = cJSON_GetObjectItemCaseSensitive(ev, "data");
	if ((version = chat_str(data, "version")) == NULL)
		version = "";
	type = chat_str(ev, "type");
	m->updated = type != NULL && strcmp(type, "artifact.updated") == 0;

	title = chat_kind_fields(m, ev, data, version,
	    m->updated ? "was re-pointed" : "is out");
	t = chat_value(title, CHAT_TITLE_MAX);
	free(title);
	/* "nginx  is out" when there is no version: one space. */
	m->title = chat_squeeze(t);
	free(t);

	if (strcmp(chat_kind(data), "build") != 0) {
		digest = chat_short_digest(chat_str(data, "digest"));
		chat_field(m, "Digest", digest, 1);
	}
	if (m->updated) {
		previous = chat_short_digest(chat_str(data, "previousDigest"));
		chat_field(m, "Previous digest", previous, 1);
	}
	if ((s = chat_str(data, "pushedAt")) != NULL) {
		chat_field_own(m, "Pushed", chat_human_time(s), 0);
		m->time = chat_value(s, 40);
	} else if ((s = chat_str(ev, "time")) != NULL) {
		chat_field_own(m, "Detected", chat_human_time(s), 0);
		m->time = chat_value(s, 40);
	}

	s = chat_str(data, "url");
	if (s != NULL && (strncmp(s, "https://", 8) == 0 ||
	    strncmp(s, "http://", 7) == 0) && strlen(s) <= CHAT_LINK_MAX &&
	    strpbrk(s, " \t\r\n") == NULL)
		m->link = chat_clean(s, 0);

	if ((s = chat_str(data, "sourceId")) != NULL) {
		type = chat_str(data, "sourceType");
		xasprintf(&t, "%s%s%s", s, type != NULL ? CHAT_DOT : "",
		    type != NULL ? type : "");
		m->footer = chat_value(t, CHAT_TITLE_MAX);
		free(t);
	}
	t = chat_summary(m, digest, previous);
	m->summary = chat_value(t, 2 * CHAT_VALUE_MAX);
	free(t);
	free(digest);
	free(previous);
}

void
chat_msg_clear(struct chat_msg *m)
{
	size_t	 i;

	free(m->title);
	free(m->summary);
	free(m->link);
	free(m->time);
	free(m->footer);
	for (i = 0; i < m->nfields; i++)
		free(m->fields[i].value);
	memset(m, 0, sizeof *m);
}

/* ------------------------------------------------------------ config */

/* A message template: text, or a JSON object that is the whole payload. */
static int
chat_check_template(struct sink_conf *sc, struct cfg_errors *errs)
{
	const struct chat_conf	*cc = sc->data;
	const struct cfg_node	*node;
	struct template		*t;
	cJSON			*skeleton;
	char			*what, *text;
	int			 n = 0;

	if (cc->template == NULL)
		return (0);
	node = cfg_node_get(sc->spec, "template");
	xasprintf(&what, "spec.template of sink \"%s\"", sc->id);
	if ((t = template_from_node(node, TEMPLATE_AUTO, what, errs)) == NULL)
		n++;
	else if (template_mode(t) == TEMPLATE_JSON) {
		text = template_render(t, NULL);
		skeleton = cJSON_Parse(text);
		if (!cJSON_IsObject(skeleton)) {
			cfg_error(errs, node, "%s: a JSON template must be an "
			    "object: the whole payload of the service", what);
			n++;
		}
		cJSON_Delete(skeleton);
		free(text);
	}
	template_free(t);
	free(what);
	return (n);
}

int
chat_check(struct sink_conf *sc, const struct chat_service *svc,
    struct cfg_errors *errs)
{
	const struct chat_conf	*cc = sc->data;
	struct template		*t;
	char			*what;
	int			 n = 0;

	(void)svc;
	xasprintf(&what, "sink \"%s\"", sc->id);
	n += config_tls_check(&cc->tls, sc->spec, what, errs);
	free(what);
	n += chat_check_template(sc, errs);
	if (cc->thread_key != NULL) {
		xasprintf(&what, "spec.threadKey of sink \"%s\"", sc->id);
		t = template_from_node(cfg_node_get(sc->spec, "threadKey"),
		    TEMPLATE_HEADER, what, errs);
		n += t == NULL;
		template_free(t);
		free(what);
	}
	return (n);
}

/* ------------------------------------------------------------- sink */

/* The path and query of a URL ("/services/T/B/x?y"), or NULL. */
static char *
chat_url_path(const char *url)
{
	const char	*p;

	if ((p = strstr(url, "://")) == NULL)
		return (NULL);
	if ((p = strpbrk(p + 3, "/?#")) == NULL || strlen(p) < 2)
		return (NULL);
	return (xstrdup(p));
}

/* The secret URL, trimmed, if it is an http(s) URL with a host. */
static int
chat_init_url(struct chat *c, const struct config *conf, char **cause)
{
	char	*value, *why, *host, *start, *end;

	if (secret_resolve(conf, c->cc->url_ref, &value, &why) != 0) {
		fail(cause, "%s %s: urlRef %s: %s", c->svc->name, c->id,
		    c->cc->url_ref, why);
		free(why);
		return (-1);
	}
	for (start = value; isspace((unsigned char)*start); start++)
		;
	end = start + strlen(start);
	while (end > start && isspace((unsigned char)end[-1]))
		end--;
	c->url = xstrndup(start, (size_t)(end - start));
	explicit_bzero(value, strlen(value));
	free(value);
	host = url_host(c->url);
	if (host == NULL || (strncmp(c->url, "https://", 8) != 0 &&
	    strncmp(c->url, "http://", 7) != 0) ||
	    strpbrk(c->url, " \t\r\n") != NULL) {
		/* Never quote it: it is a secret. */
		fail(cause, "%s %s: the secret %s is not an http:// or "
		    "https:// URL", c->svc->name, c->id, c->cc->url_ref);
		free(host);
		return (-1);
	}
	c->path = chat_url_path(c->url);
	if (c->svc->url != NULL) {
		value = c->svc->url(c, c->url);
		free(c->url);
		c->url = value;
	}
	log_info("chat sink ready", "sink=%s type=%s host=%s", log_q(c->id),
	    c->svc->name, log_q(host));
	free(host);
	return (0);
}

int
chat_init(struct sink *s, const struct chat_service *svc, char **cause)
{
	struct chat	*c;
	char		*why;
	size_t		 off;

	c = xcalloc(1, sizeof *c);
	c->svc = svc;
	c->cc = s->conf->data;
	c->id = s->conf->id;
	s->data = c;
	if (c->cc->template != NULL) {
		c->text = template_compile(c->cc->template, TEMPLATE_AUTO,
		    &off, &why);
		if (c->text == NULL)
			goto bad;
		c->whole = template_mode(c->text) == TEMPLATE_JSON;
	}
	if (c->cc->thread_key != NULL) {
		c->thread = template_compile(c->cc->thread_key,
		    TEMPLATE_HEADER, &off, &why);
		if (c->thread == NULL)
			goto bad;
	}
	if (http_tls_load(s->env->conf, &c->cc->tls, &c->tls, &why) != 0) {
		fail(cause, "%s %s: %s", svc->name, c->id, why);
		free(why);
		return (-1);
	}
	return (chat_init_url(c, s->env->conf, cause));
bad:
	fail(cause, "%s %s: template at offset %zu: %s", svc->name, c->id,
	    off, why);
	free(why);
	return (-1);
}

static void
chat_done(const struct http_response *r, void *arg)
{
	struct chat	*c = arg;
	sink_done_cb	 done = c->done;
	void		*done_arg = c->arg;
	enum delivery	 d;
	int64_t		 retry_after_ms;
	char		*cause = NULL, *who;

	c->req = NULL;
	c->done = NULL;
	c->arg = NULL;
	xasprintf(&who, "%s %s", c->svc->name, c->id);
	d = chat_verdict(r, who, c->path, &retry_after_ms, &cause);
	free(who);
	/* The callback may deliver the next event or free the sink. */
	done(d, retry_after_ms, cause, done_arg);
	free(cause);
}

void
chat_deliver(struct sink *s, const struct outbox_entry *e,
    sink_done_cb done, void *arg)
{
	struct chat		*c = s->data;
	struct http_request	 req = { 0 };
	const char		*headers[3];
	char			*body, *text = NULL, *idem;
	cJSON			*event;

	if ((event = cJSON_Parse(e->json)) == NULL)
		log_warn("chat event is not JSON; the message is bare",
		    "sink=%s event=%s", log_q(c->id), log_q(e->id));
	if (c->text != NULL)
		text = template_render(c->text, event);
	if (c->whole) {
		body = text;
		text = NULL;
	} else
		body = c->svc->payload(c, event, text);
	free(text);
	cJSON_Delete(event);

	xasprintf(&idem, "Idempotency-Key: %s", e->id);
	headers[0] = "Content-Type: application/json; charset=utf-8";
	headers[1] = idem;
	headers[2] = NULL;
	req.method = "POST";
	req.url = c->url;
	req.headers = headers;
	req.body = body;
	req.body_len = strlen(body);
	req.timeout_ms = (long)c->cc->timeout_ms;
	req.max_body = CHAT_MAX_BODY;
	req.no_redirects = 1;
	req.tls = &c->tls;

	c->done = done;
	c->arg = arg;
	c->req = http_submit(s->env->http, &req, chat_done, c);
	free(idem);
	free(body);
}

void
chat_cancel(struct sink *s)
{
	struct chat	*c = s->data;

	if (c == NULL || c->req == NULL)
		return;
	http_cancel(c->req);
	c->req = NULL;
	c->done = NULL;
	c->arg = NULL;
}

void
chat_free(struct sink *s)
{
	struct chat	*c = s->data;

	if (c == NULL)
		return;
	if (c->url != NULL) {
		explicit_bzero(c->url, strlen(c->url));
		free(c->url);
	}
	free(c->path);
	template_free(c->text);
	template_free(c->thread);
	http_tls_clear(&c->tls);
	free(c);
	s->data = NULL;
}

/* ----------------------------------------------------------- answers */

int
chat_body_retry_after(const char *body, size_t len, int64_t *ms)
{
	const cJSON	*v;
	cJSON		*json;
	int		 rc = -1;

	if (body == NULL || len == 0)
		return (-1);
	if ((json = cJSON_ParseWithLength(body, len)) == NULL)
		return (-1);
	v = cJSON_GetObjectItemCaseSensitive(json, "retry_after");
	if (cJSON_IsNumber(v) && isfinite(v->valuedouble) &&
	    v->valuedouble >= 0 && v->valuedouble < 1e9) {
		*ms = (int64_t)ceil(v->valuedouble * 1000);
		rc = 0;
	}
	cJSON_Delete(json);
	return (rc);
}

/* The start of a body for a reason: one clean line, the secret cut out. */
static char *
chat_snippet(const struct buf *body, const char *secret)
{
	struct buf	 b = { 0 };
	const char	*p, *hit;
	char		*clean, *out;
	size_t		 slen = secret != NULL ? strlen(secret) : 0;

	if (body->data == NULL)
		return (xstrdup(""));
	/* Only the first bytes matter; the rest may be a whole page. */
	p = body->data;
	while (slen > 1 && (hit = strstr(p, secret)) != NULL) {
		buf_add(&b, p, (size_t)(hit - p));
		buf_adds(&b, CHAT_ELLIPSIS);
		p = hit + slen;
	}
	buf_adds(&b, p);
	clean = chat_clean(b.data != NULL ? b.data : "", 0);
	buf_free(&b);
	out = chat_squeeze(clean);
	free(clean);
	clean = chat_trunc(out, CHAT_SNIPPET_MAX);
	free(out);
	return (clean);
}

enum delivery
chat_verdict(const struct http_response *r, const char *who,
    const char *secret, int64_t *retry_after_ms, char **cause)
{
	const char	*value;
	char		*origin, *snippet;
	int64_t		 secs, ms;

	*retry_after_ms = -1;
	if (r->error != 0) {
		xasprintf(cause, "%s: %s", who, r->cause != NULL ? r->cause :
		    "transport error");
		return (DELIVERY_RETRY);
	}
	if (r->status >= 200 && r->status <= 299)
		return (DELIVERY_OK);
	if (r->status >= 300 && r->status <= 399) {
		value = http_header(r, "Location");
		origin = value != NULL ? url_origin(value) : NULL;
		xasprintf(cause, "%s: HTTP %ld, a redirect%s%s (not followed); "
		    "use the final address in the secret", who, r->status,
		    origin != NULL ? " to " : "", origin != NULL ? origin :
		    "");
		free(origin);
		return (DELIVERY_PERMANENT);
	}
	snippet = chat_snippet(&r->body, secret);
	xasprintf(cause, "%s: HTTP %ld%s%s", who, r->status,
	    *snippet != '\0' ? ": " : "", snippet);
	free(snippet);
	if (r->status != 408 && r->status != 429 &&
	    (r->status < 500 || r->status > 599))
		return (DELIVERY_PERMANENT);
	/* Discord's body has the exact wait; Slack's header has seconds. */
	if (chat_body_retry_after(r->body.data, r->body.len, &ms) == 0)
		*retry_after_ms = ms;
	else if ((value = http_header(r, "Retry-After")) != NULL &&
	    retry_after_parse(value, now_ms() / 1000, &secs) == 0 &&
	    secs >= 0)
		*retry_after_ms = secs > INT64_MAX / 1000 ? INT64_MAX :
		    secs * 1000;
	return (DELIVERY_RETRY);
}

char *
chat_url_param(const char *url, const char *param)
{
	const char	*hash;
	char		*out;
	size_t		 len;
	char		 sep;

	/* A fragment never reaches the server; keep it last. */
	hash = strchr(url, '#');
	len = hash != NULL ? (size_t)(hash - url) : strlen(url);
	if (memchr(url, '?', len) == NULL)
		sep = '?';
	else if (url[len - 1] == '?' || url[len - 1] == '&')
		sep = '\0';
	else
		sep = '&';
	xasprintf(&out, "%.*s%s%s%s", (int)len, url, sep != '\0' ?
	    (sep == '?' ? "?" : "&") : "", param, hash != NULL ? hash : "");
	return (out);
}

/* ------------------------------------------------------------ markup */

static char *
chat_no_escape(const char *s)
{
	return (xstrdup(s));
}

char *
chat_markup(const struct chat_msg *m, char *(*escape)(const char *))
{
	const struct chat_field	*f;
	struct buf		 b = { 0 };
	char			*s;
	size_t			 i;

	if (escape == NULL)
		escape = chat_no_escape;
	s = escape(m->title);
	/* A link's text ends at '|' and the link at '>': none may be in it. */
	if (m->link != NULL && strpbrk(m->link, "|<>") == NULL)
		buf_printf(&b, "*<%s|%s>*", m->link, s);
	else
		buf_printf(&b, "*%s*", s);
	free(s);
	for (i = 0; i < m->nfields; i++) {
		f = &m->fields[i];
		s = escape(f->value);
		if (f->code && strchr(f->value, '`') == NULL)
			buf_printf(&b, "\n*%s:* `%s`", f->name, s);
		else
			buf_printf(&b, "\n*%s:* %s", f->name, s);
		free(s);
	}
	return (buf_take(&b));
}
