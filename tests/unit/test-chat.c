/*
 * test-chat.c: the chat sinks' pure parts (sinks/chat.h).  The readable
 * message for every kind of event (DESIGN §4), each service's payload for
 * it and for a templated text, the services' size limits, what every kind
 * of answer means (delivered, retried after how long, permanent and why),
 * and the text helpers.  No network: event JSON in, payload JSON out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "../../sinks/chat.h"

#define DIGEST	"sha256:0123456789abcdef0123456789abcdef" \
		"0123456789abcdef0123456789abcdef"
#define OLD	"sha256:fedcba9876543210fedcba9876543210" \
		"fedcba9876543210fedcba9876543210"

static const char container_created[] = "{\"specversion\":\"1.0\","
    "\"id\":\"6f1c\",\"source\":\"/artifact-watcher/sources/nginx\","
    "\"type\":\"artifact.created\",\"subject\":\"library/nginx:1.27.3\","
    "\"time\":\"2026-11-22T10:00:00Z\",\"data\":{\"sourceId\":\"nginx\","
    "\"sourceType\":\"DockerRegistry\",\"connectorRef\":\"dockerhub\","
    "\"kind\":\"container\",\"registry\":\"index.docker.io\","
    "\"repository\":\"library/nginx\",\"version\":\"1.27.3\","
    "\"digest\":\"" DIGEST "\",\"previousDigest\":null,"
    "\"image\":\"index.docker.io/library/nginx:1.27.3\","
    "\"pushedAt\":\"2026-11-22T09:58:12Z\",\"labels\":{},\"metadata\":{},"
    "\"url\":\"https://hub.example/nginx/1.27.3\"}}";

/* As the watcher writes it today: no kind, no url. */
static const char container_updated[] = "{\"specversion\":\"1.0\","
    "\"id\":\"77aa\",\"type\":\"artifact.updated\","
    "\"subject\":\"library/nginx:stable\",\"time\":\"2026-11-22T10:00:00Z\","
    "\"data\":{\"sourceId\":\"nginx\",\"sourceType\":\"DockerRegistry\","
    "\"registry\":\"index.docker.io\",\"repository\":\"library/nginx\","
    "\"version\":\"stable\",\"digest\":\"" DIGEST "\","
    "\"previousDigest\":\"" OLD "\","
    "\"image\":\"index.docker.io/library/nginx:stable\",\"pushedAt\":null,"
    "\"url\":null}}";

static const char file_event[] = "{\"type\":\"artifact.created\","
    "\"subject\":\"s3://releases/app/app-1.2.3.tar.gz\","
    "\"time\":\"2026-11-22T10:00:00Z\",\"data\":{\"sourceId\":\"app\","
    "\"sourceType\":\"AmazonS3\",\"kind\":\"file\",\"bucket\":\"releases\","
    "\"path\":\"app/app-1.2.3.tar.gz\",\"size\":13002342,"
    "\"version\":\"app/app-1.2.3.tar.gz\","
    "\"digest\":\"9b2cf535f27731c974343645a3985328\","
    "\"pushedAt\":\"2026-11-22T09:58:12Z\",\"url\":null}}";

static const char ami_event[] = "{\"type\":\"artifact.created\","
    "\"subject\":\"ami-0abc123 (base-2026.11)\",\"data\":{"
    "\"sourceId\":\"base\",\"sourceType\":\"AmazonMachineImage\","
    "\"kind\":\"machineImage\",\"region\":\"eu-west-1\","
    "\"imageId\":\"ami-0abc123\",\"name\":\"base-2026.11\","
    "\"version\":\"base-2026.11\",\"digest\":\"ami-0abc123\","
    "\"pushedAt\":\"2026-11-21T23:00:00Z\"}}";

static const char build_event[] = "{\"type\":\"artifact.created\","
    "\"subject\":\"folder/job #42\",\"time\":\"2026-11-22T10:00:00Z\","
    "\"data\":{\"sourceId\":\"ci\",\"sourceType\":\"Jenkins\","
    "\"kind\":\"build\",\"server\":\"https://jenkins.example\","
    "\"job\":\"folder/job\",\"buildNumber\":42,\"result\":\"SUCCESS\","
    "\"artifacts\":[{\"name\":\"a.jar\",\"path\":\"target/a.jar\"},"
    "{\"name\":\"b.jar\",\"path\":\"target/b.jar\"}],"
    "\"version\":\"42\",\"digest\":\"SUCCESS\",\"pushedAt\":null,"
    "\"url\":\"https://jenkins.example/job/folder/job/job/42/\"}}";

static const char package_event[] = "{\"type\":\"artifact.created\","
    "\"subject\":\"org.example:lib@2.0.1\",\"data\":{\"sourceId\":\"lib\","
    "\"sourceType\":\"Nexus3Registry\",\"kind\":\"package\","
    "\"repository\":\"maven-releases\",\"package\":\"lib\","
    "\"group\":\"org.example\",\"format\":\"maven2\",\"version\":\"2.0.1\","
    "\"digest\":\"sha1:a9993e364706816aba3e25717850c26c9cd0d89d\"}}";

static const char chart_event[] = "{\"type\":\"artifact.created\","
    "\"subject\":\"mychart@1.4.0\",\"data\":{\"sourceId\":\"charts\","
    "\"sourceType\":\"HelmChart\",\"kind\":\"chart\",\"chart\":\"mychart\","
    "\"appVersion\":\"2.3\",\"repository\":\"https://charts.example\","
    "\"version\":\"1.4.0\",\"digest\":\"" DIGEST "\"}}";

static const char custom_event[] = "{\"type\":\"artifact.created\","
    "\"subject\":\"tool@7\",\"data\":{\"sourceId\":\"tool\","
    "\"sourceType\":\"CustomArtifact\",\"kind\":\"custom\","
    "\"version\":\"7\",\"metadata\":{\"a\":\"b\"}}}";

static cJSON	*event;
static cJSON	*payload;

static void
teardown(void)
{
	cJSON_Delete(event);
	cJSON_Delete(payload);
	event = payload = NULL;
}

static const cJSON *
ev(const char *json)
{
	cJSON_Delete(event);
	event = cJSON_Parse(json);
	cr_assert_not_null(event, "test event is not JSON: %s", json);
	return (event);
}

/* Parse what a builder made; it must be one JSON object. */
static const cJSON *
parsed(char *text)
{
	cr_assert_not_null(text);
	cJSON_Delete(payload);
	payload = cJSON_Parse(text);
	cr_assert(cJSON_IsObject(payload), "payload is not a JSON object: %s",
	    text);
	free(text);
	return (payload);
}

/* A member by path "a.b.0.c", or NULL. */
static const cJSON *
at(const cJSON *j, const char *path)
{
	char	*copy = xstrdup(path), *part, *save = NULL;

	for (part = strtok_r(copy, ".", &save); part != NULL && j != NULL;
	    part = strtok_r(NULL, ".", &save)) {
		if (cJSON_IsArray(j))
			j = cJSON_GetArrayItem(j, atoi(part));
		else
			j = cJSON_GetObjectItemCaseSensitive(j, part);
	}
	free(copy);
	return (j);
}

static const char *
str(const cJSON *j, const char *path)
{
	const cJSON	*v = at(j, path);

	cr_assert(cJSON_IsString(v), "%s is not a string", path);
	return (v->valuestring);
}

/* Code points, counted here rather than with the code under test. */
static size_t
chars(const char *s)
{
	size_t	 n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return (n);
}

/* The value of the message's field `name`, or NULL. */
static const char *
field(const struct chat_msg *m, const char *name)
{
	size_t	 i;

	for (i = 0; i < m->nfields; i++) {
		if (strcmp(m->fields[i].name, name) == 0)
			return (m->fields[i].value);
	}
	return (NULL);
}

/*
 * Build the message of `json` and check its title and fields: `want` is
 * name, value pairs ending with NULL, a NULL value meaning no such field.
 * The message is left in *m for more checks; the caller clears it.
 */
static void
check_msg(struct chat_msg *m, const char *json, const char *title,
    const char *const *want)
{
	chat_msg_build(ev(json), m);
	cr_assert_str_eq(m->title, title);
	for (; want[0] != NULL; want += 2) {
		if (want[1] == NULL)
			cr_assert_null(field(m, want[0]), "no %s", want[0]);
		else
			cr_assert_str_eq(field(m, want[0]), want[1], "%s",
			    want[0]);
	}
}

/* ------------------------------------------------------------ message */

TestSuite(message, .fini = teardown);

Test(message, container_created)
{
	static const char *const want[] = {
		"Image", "index.docker.io/library/nginx:1.27.3",
		"Digest", "sha256:0123456789ab",
		"Pushed", "2026-11-22 09:58:12 UTC",
		"Previous digest", NULL, NULL
	};
	struct chat_msg	 m;

	check_msg(&m, container_created, "nginx 1.27.3 is out", want);
	cr_assert_str_eq(m.link, "https://hub.example/nginx/1.27.3");
	cr_assert_str_eq(m.time, "2026-11-22T09:58:12Z");
	cr_assert_str_eq(m.footer, "nginx \xc2\xb7 DockerRegistry");
	cr_assert_str_eq(m.summary, "nginx 1.27.3 is out: "
	    "index.docker.io/library/nginx:1.27.3 (sha256:0123456789ab)");
	cr_assert_eq(m.updated, 0);
	cr_assert(m.fields[0].code, "the image is shown as code");
	chat_msg_clear(&m);
}

Test(message, container_updated_says_what_it_was)
{
	static const char *const want[] = {
		"Digest", "sha256:0123456789ab",
		"Previous digest", "sha256:fedcba987654",
		/* No pushedAt: the time it was detected instead. */
		"Pushed", NULL,
		"Detected", "2026-11-22 10:00:00 UTC", NULL
	};
	struct chat_msg	 m;

	check_msg(&m, container_updated, "nginx stable was re-pointed", want);
	cr_assert_null(m.link);
	cr_assert_eq(m.updated, 1);
	cr_assert_str_eq(m.summary, "nginx stable was re-pointed: "
	    "index.docker.io/library/nginx:stable (sha256:0123456789ab, was "
	    "sha256:fedcba987654)");
	chat_msg_clear(&m);
}

Test(message, file)
{
	static const char *const want[] = {
		"Path", "s3://releases/app/app-1.2.3.tar.gz",
		"Size", "12.4 MiB",
		"Digest", "9b2cf535f27731c9\xe2\x80\xa6",
		"Image", NULL, NULL
	};
	struct chat_msg	 m;

	check_msg(&m, file_event, "app-1.2.3.tar.gz is out", want);
	chat_msg_clear(&m);
}

Test(message, machine_image)
{
	static const char *const want[] = {
		"Image ID", "ami-0abc123",
		"Region", "eu-west-1",
		"Version", NULL,		/* the version is the name */
		"Pushed", "2026-11-21 23:00:00 UTC", NULL
	};
	struct chat_msg	 m;

	check_msg(&m, ami_event, "base-2026.11 is out", want);
	chat_msg_clear(&m);
}

Test(message, build)
{
	static const char *const want[] = {
		"Job", "folder/job",
		"Build", "42",
		"Result", "SUCCESS",
		"Server", "https://jenkins.example",
		"Artifacts", "a.jar, b.jar",
		"Digest", NULL,		/* a build's digest is its result */
		NULL
	};
	struct chat_msg	 m;

	check_msg(&m, build_event, "folder/job #42 finished: SUCCESS", want);
	cr_assert_str_eq(m.link,
	    "https://jenkins.example/job/folder/job/job/42/");
	chat_msg_clear(&m);
}

Test(message, package)
{
	static const char *const want[] = {
		"Package", "org.example:lib@2.0.1",
		"Format", "maven2",
		"Feed", "maven-releases",
		"Digest", "sha1:a9993e364706", NULL
	};
	struct chat_msg	 m;

	check_msg(&m, package_event, "lib 2.0.1 is out", want);
	chat_msg_clear(&m);
}

Test(message, chart)
{
	static const char *const want[] = {
		"Chart", "mychart@1.4.0",
		"App version", "2.3",
		"Repository", "https://charts.example", NULL
	};
	struct chat_msg	 m;

	check_msg(&m, chart_event, "mychart 1.4.0 is out", want);
	chat_msg_clear(&m);
}

Test(message, custom_and_bare)
{
	struct chat_msg	 m;

	chat_msg_build(ev(custom_event), &m);
	cr_assert_str_eq(m.title, "tool 7 is out");
	cr_assert_str_eq(field(&m, "Version"), "7");
	chat_msg_clear(&m);

	/* Whatever arrives, there is a message. */
	chat_msg_build(NULL, &m);
	cr_assert_str_eq(m.title, "artifact is out");
	cr_assert_eq(m.nfields, 0);
	chat_msg_clear(&m);
	chat_msg_build(ev("{\"data\":[1,2]}"), &m);
	cr_assert_str_eq(m.title, "artifact is out");
	chat_msg_clear(&m);
}

Test(message, hostile_values_are_cleaned_and_cut)
{
	struct chat_msg	 m;
	char		*long_image, *json;
	size_t		 i;

	long_image = xmalloc(5001);
	memset(long_image, 'x', 5000);
	long_image[5000] = '\0';
	xasprintf(&json, "{\"data\":{\"sourceId\":\"a\\u0007b\","
	    "\"version\":\"1\\n2\",\"image\":\"%s\",\"digest\":\"\\u0085\","
	    "\"url\":\"javascript:alert(1)\"}}", long_image);
	chat_msg_build(ev(json), &m);
	cr_assert_str_eq(m.title, "a b 1 2 is out");
	cr_assert_eq(chars(field(&m, "Image")), CHAT_VALUE_MAX);
	cr_assert_null(m.link, "only http(s) links");
	for (i = 0; i < m.nfields; i++)
		cr_assert_null(strpbrk(m.fields[i].value, "\n\r\a"));
	chat_msg_clear(&m);
	free(json);
	free(long_image);
}

/* -------------------------------------------------------------- Slack */

TestSuite(slack, .fini = teardown);

Test(slack, default_message_text_and_blocks)
{
	const cJSON	*p;
	const char	*section;

	p = parsed(slack_payload(ev(container_created), NULL));
	cr_assert_str_eq(str(p, "text"), "nginx 1.27.3 is out: "
	    "index.docker.io/library/nginx:1.27.3 (sha256:0123456789ab)");
	cr_assert_str_eq(str(p, "blocks.0.type"), "section");
	cr_assert_str_eq(str(p, "blocks.0.text.type"), "mrkdwn");
	section = str(p, "blocks.0.text.text");
	cr_assert_str_eq(section,
	    "*<https://hub.example/nginx/1.27.3|nginx 1.27.3 is out>*\n"
	    "*Image:* `index.docker.io/library/nginx:1.27.3`\n"
	    "*Digest:* `sha256:0123456789ab`\n"
	    "*Pushed:* 2026-11-22 09:58:12 UTC");
	cr_assert_str_eq(str(p, "blocks.1.type"), "context");
	cr_assert_str_eq(str(p, "blocks.1.elements.0.type"), "mrkdwn");
	cr_assert_str_eq(str(p, "blocks.1.elements.0.text"),
	    "nginx \xc2\xb7 DockerRegistry");
	cr_assert(cJSON_IsFalse(at(p, "unfurl_links")));
}

Test(slack, escapes_mrkdwn_control_characters)
{
	const cJSON	*p;

	p = parsed(slack_payload(ev("{\"data\":{\"sourceId\":\"s\","
	    "\"version\":\"<!channel> & co\"}}"), NULL));
	cr_assert_str_eq(str(p, "text"), "s &lt;!channel&gt; &amp; co is out");
	cr_assert_not_null(strstr(str(p, "blocks.0.text.text"),
	    "&lt;!channel&gt;"));
}

Test(slack, templated_text_split_into_sections)
{
	const cJSON	*p, *b;
	struct buf	 t = { 0 };
	int		 i, n = 0;

	for (i = 0; i < 200; i++)
		buf_printf(&t, "line %03d %s\n", i, "0123456789012345678901234"
		    "567890123456789");
	p = parsed(slack_payload(ev(container_created), t.data));
	cr_assert_str_eq(str(p, "text"), t.data);
	cJSON_ArrayForEach(b, at(p, "blocks")) {
		cr_assert_str_eq(str(b, "type"), "section");
		cr_assert_leq(chars(str(b, "text.text")), 3000);
		n++;
	}
	cr_assert_geq(n, 3, "10 KB of text is more than one section");
	cr_assert_leq(n, 50);
	buf_free(&t);
}

/* -------------------------------------------------------------- Teams */

TestSuite(teams, .fini = teardown);

Test(teams, adaptive_card)
{
	const cJSON	*p, *card;

	p = parsed(teams_payload(ev(container_created), NULL));
	cr_assert_str_eq(str(p, "type"), "message");
	cr_assert_eq(cJSON_GetArraySize(at(p, "attachments")), 1);
	cr_assert_str_eq(str(p, "attachments.0.contentType"),
	    "application/vnd.microsoft.card.adaptive");
	card = at(p, "attachments.0.content");
	cr_assert_str_eq(str(card, "type"), "AdaptiveCard");
	cr_assert_str_eq(str(card, "version"), "1.4");
	cr_assert_str_eq(str(card, "body.0.type"), "TextBlock");
	cr_assert_str_eq(str(card, "body.0.text"), "nginx 1.27.3 is out");
	cr_assert_str_eq(str(card, "body.1.type"), "FactSet");
	cr_assert_str_eq(str(card, "body.1.facts.0.title"), "Image");
	cr_assert_str_eq(str(card, "body.1.facts.0.value"),
	    "index.docker.io/library/nginx:1.27.3");
	cr_assert_str_eq(str(card, "body.1.facts.1.title"), "Digest");
	cr_assert_str_eq(str(card, "actions.0.type"), "Action.OpenUrl");
	cr_assert_str_eq(str(card, "actions.0.url"),
	    "https://hub.example/nginx/1.27.3");
}

Test(teams, updated_and_templated)
{
	const cJSON	*p, *card;

	p = parsed(teams_payload(ev(container_updated), NULL));
	card = at(p, "attachments.0.content");
	cr_assert_str_eq(str(card, "body.0.text"),
	    "nginx stable was re-pointed");
	cr_assert_str_eq(str(card, "body.1.facts.2.title"), "Previous digest");
	cr_assert_null(at(card, "actions"), "no link, no button");

	p = parsed(teams_payload(ev(container_created), "Deploy **now**"));
	card = at(p, "attachments.0.content");
	cr_assert_eq(cJSON_GetArraySize(at(card, "body")), 1);
	cr_assert_str_eq(str(card, "body.0.text"), "Deploy **now**");
}

/* ------------------------------------------------------------ Discord */

TestSuite(discord, .fini = teardown);

Test(discord, content_and_one_embed)
{
	const cJSON	*p, *embed;

	p = parsed(discord_payload(ev(container_created), NULL, "watcher"));
	cr_assert_str_eq(str(p, "content"), "nginx 1.27.3 is out: "
	    "index.docker.io/library/nginx:1.27.3 (sha256:0123456789ab)");
	cr_assert_str_eq(str(p, "username"), "watcher");
	cr_assert_eq(cJSON_GetArraySize(at(p, "allowed_mentions.parse")), 0);
	cr_assert_eq(cJSON_GetArraySize(at(p, "embeds")), 1);
	embed = at(p, "embeds.0");
	cr_assert_str_eq(str(embed, "title"), "nginx 1.27.3 is out");
	cr_assert_str_eq(str(embed, "url"), "https://hub.example/nginx/1.27.3");
	cr_assert_str_eq(str(embed, "timestamp"), "2026-11-22T09:58:12Z");
	cr_assert_str_eq(str(embed, "footer.text"),
	    "nginx \xc2\xb7 DockerRegistry");
	cr_assert_str_eq(str(embed, "description"),
	    "`index.docker.io/library/nginx:1.27.3`");
	cr_assert_str_eq(str(embed, "fields.0.name"), "Digest");
	cr_assert_str_eq(str(embed, "fields.0.value"), "`sha256:0123456789ab`");
	cr_assert(cJSON_IsBool(at(embed, "fields.0.inline")));
	cr_assert_str_eq(str(embed, "fields.1.name"), "Pushed");
	cr_assert(cJSON_IsNumber(at(embed, "color")));
}

Test(discord, markdown_escaped_and_no_url_without_link)
{
	const cJSON	*p;

	p = parsed(discord_payload(ev("{\"data\":{\"sourceId\":\"my_app\","
	    "\"version\":\"*1*\"}}"), NULL, NULL));
	cr_assert_str_eq(str(p, "content"), "my\\_app \\*1\\* is out");
	cr_assert_null(at(p, "embeds.0.url"));
	cr_assert_null(at(p, "username"));
}

Test(discord, limits_hold_for_huge_values)
{
	const cJSON	*p, *embed, *f;
	struct buf	 t = { 0 };
	char		*json;
	size_t		 total;
	int		 i;

	for (i = 0; i < 3000; i++)
		buf_adds(&t, "_*");
	xasprintf(&json, "{\"type\":\"artifact.updated\",\"data\":{"
	    "\"sourceId\":\"%s\",\"sourceType\":\"%s\",\"version\":\"%s\","
	    "\"image\":\"%s\",\"digest\":\"%s\",\"previousDigest\":\"%s\","
	    "\"pushedAt\":\"%s\"}}", t.data, t.data, t.data, t.data, t.data,
	    t.data, t.data);
	p = parsed(discord_payload(ev(json), NULL, NULL));
	cr_assert_leq(chars(str(p, "content")), 2000);
	embed = at(p, "embeds.0");
	total = chars(str(embed, "title")) + chars(str(embed, "footer.text")) +
	    chars(str(embed, "description"));
	cr_assert_leq(chars(str(embed, "description")), 4096);
	cr_assert_leq(chars(str(embed, "title")), 256);
	cr_assert_leq(cJSON_GetArraySize(at(embed, "fields")), 25);
	cJSON_ArrayForEach(f, at(embed, "fields")) {
		cr_assert_leq(chars(str(f, "name")), 256);
		cr_assert_leq(chars(str(f, "value")), 1024);
		total += chars(str(f, "name")) + chars(str(f, "value"));
	}
	cr_assert_leq(total, 6000);
	/* A templated text longer than 2000 characters is cut. */
	p = parsed(discord_payload(ev(container_created), t.data, NULL));
	cr_assert_eq(chars(str(p, "content")), 2000);
	cr_assert_null(at(p, "embeds"));
	free(json);
	buf_free(&t);
}

/* --------------------------------------------------------- GoogleChat */

TestSuite(googlechat, .fini = teardown);

Test(googlechat, text_by_default)
{
	const cJSON	*p;

	p = parsed(googlechat_payload(ev(container_created), NULL, NULL, 0));
	cr_assert_str_eq(str(p, "text"),
	    "*<https://hub.example/nginx/1.27.3|nginx 1.27.3 is out>*\n"
	    "*Image:* `index.docker.io/library/nginx:1.27.3`\n"
	    "*Digest:* `sha256:0123456789ab`\n"
	    "*Pushed:* 2026-11-22 09:58:12 UTC");
	cr_assert_null(at(p, "cardsV2"));
	cr_assert_null(at(p, "thread"));
}

Test(googlechat, card_and_thread)
{
	const cJSON	*p, *card;

	p = parsed(googlechat_payload(ev(chart_event), NULL, "charts", 1));
	cr_assert_str_eq(str(p, "text"), "mychart 1.4.0 is out");
	cr_assert_str_eq(str(p, "thread.threadKey"), "charts");
	cr_assert_str_eq(str(p, "cardsV2.0.cardId"), "artifact");
	card = at(p, "cardsV2.0.card");
	cr_assert_str_eq(str(card, "header.title"), "mychart 1.4.0 is out");
	cr_assert_str_eq(str(card, "header.subtitle"),
	    "charts \xc2\xb7 HelmChart");
	cr_assert_str_eq(str(card,
	    "sections.0.widgets.0.decoratedText.topLabel"), "Chart");
	cr_assert_str_eq(str(card, "sections.0.widgets.0.decoratedText.text"),
	    "mychart@1.4.0");

	/* Card text is HTML: markup in a value stays text. */
	p = parsed(googlechat_payload(ev("{\"data\":{\"kind\":\"custom\","
	    "\"sourceId\":\"s\",\"version\":\"<b>1</b>\","
	    "\"url\":\"https://x.example/\"}}"), NULL, NULL, 1));
	card = at(p, "cardsV2.0.card");
	cr_assert_str_eq(str(card, "sections.0.widgets.0.decoratedText.text"),
	    "&lt;b&gt;1&lt;/b&gt;");
	cr_assert_str_eq(str(card,
	    "sections.0.widgets.1.buttonList.buttons.0.onClick.openLink.url"),
	    "https://x.example/");
}

Test(googlechat, templated_text_cut_at_4096)
{
	const cJSON	*p;
	char		*t;

	t = xmalloc(9001);
	memset(t, 'y', 9000);
	t[9000] = '\0';
	p = parsed(googlechat_payload(ev(container_created), t, "", 1));
	cr_assert_eq(chars(str(p, "text")), 4096);
	cr_assert_null(at(p, "cardsV2"), "a templated text is the message");
	cr_assert_null(at(p, "thread"), "an empty key threads nothing");
	free(t);
}

/* ------------------------------------------------------------ answers */

struct answer {
	struct http_response	 r;
	struct http_header	 h[2];
};

static const struct http_response *
answer(struct answer *a, long status, const char *body, const char *name,
    const char *value)
{
	memset(a, 0, sizeof *a);
	a->r.status = status;
	a->r.url = "https://hooks.example/services/T1/B2/SECRETTOKEN";
	if (body != NULL)
		buf_adds(&a->r.body, body);
	if (name != NULL) {
		a->h[0].name = (char *)name;
		a->h[0].value = (char *)value;
		a->r.headers = a->h;
		a->r.nheaders = 1;
	}
	return (&a->r);
}

static enum delivery
verdict(const struct http_response *r, int64_t *ms, char **cause)
{
	*cause = NULL;
	return (chat_verdict(r, "slack ci", "/services/T1/B2/SECRETTOKEN", ms,
	    cause));
}

TestSuite(answers);

Test(answers, success)
{
	struct answer	 a;
	int64_t		 ms;
	char		*cause;
	long		 ok[] = { 200, 202, 204 };
	size_t		 i;

	for (i = 0; i < nitems(ok); i++) {
		cr_assert_eq(verdict(answer(&a, ok[i], "ok", NULL, NULL), &ms,
		    &cause), DELIVERY_OK);
		cr_assert_eq(ms, -1);
		cr_assert_null(cause);
		buf_free(&a.r.body);
	}
}

Test(answers, rate_limited_by_header_or_body)
{
	struct answer	 a;
	int64_t		 ms;
	char		*cause;

	/* Slack: the header, whole seconds. */
	cr_assert_eq(verdict(answer(&a, 429, "rate_limited", "Retry-After",
	    "7"), &ms, &cause), DELIVERY_RETRY);
	cr_assert_eq(ms, 7000);
	cr_assert_str_eq(cause, "slack ci: HTTP 429: rate_limited");
	free(cause);
	buf_free(&a.r.body);

	/* Discord: the body's float wins over the rounded header. */
	cr_assert_eq(verdict(answer(&a, 429, "{\"message\":\"You are being "
	    "rate limited.\",\"retry_after\":1.2345,\"global\":false}",
	    "Retry-After", "2"), &ms, &cause), DELIVERY_RETRY);
	cr_assert_eq(ms, 1235);
	free(cause);
	buf_free(&a.r.body);

	/* Google: no wait given, the dispatcher's backoff decides. */
	cr_assert_eq(verdict(answer(&a, 429, "{\"error\":{\"code\":429,"
	    "\"status\":\"RESOURCE_EXHAUSTED\"}}", NULL, NULL), &ms, &cause),
	    DELIVERY_RETRY);
	cr_assert_eq(ms, -1);
	free(cause);
	buf_free(&a.r.body);
}

Test(answers, server_errors_and_timeouts_retry)
{
	struct answer	 a;
	int64_t		 ms;
	char		*cause;

	cr_assert_eq(verdict(answer(&a, 503, "<html>down</html>",
	    "Retry-After", "30"), &ms, &cause), DELIVERY_RETRY);
	cr_assert_eq(ms, 30000);
	free(cause);
	buf_free(&a.r.body);
	cr_assert_eq(verdict(answer(&a, 408, NULL, NULL, NULL), &ms, &cause),
	    DELIVERY_RETRY);
	cr_assert_str_eq(cause, "slack ci: HTTP 408");
	free(cause);

	answer(&a, 0, NULL, NULL, NULL);
	a.r.error = 7;
	a.r.cause = "Failed to connect to hooks.example port 443";
	cr_assert_eq(verdict(&a.r, &ms, &cause), DELIVERY_RETRY);
	cr_assert_str_eq(cause, "slack ci: Failed to connect to hooks.example "
	    "port 443");
	free(cause);
}

Test(answers, client_errors_are_permanent_with_the_body)
{
	struct answer	 a;
	int64_t		 ms;
	char		*cause;

	cr_assert_eq(verdict(answer(&a, 404, "channel_not_found", NULL, NULL),
	    &ms, &cause), DELIVERY_PERMANENT);
	cr_assert_str_eq(cause, "slack ci: HTTP 404: channel_not_found");
	free(cause);
	buf_free(&a.r.body);

	/* An echo of the URL loses its secret path; long bodies are cut. */
	cr_assert_eq(verdict(answer(&a, 400, "{\"error\": \"bad\",\n\"url\": "
	    "\"https://hooks.example/services/T1/B2/SECRETTOKEN\", \"pad\": "
	    "\"0123456789012345678901234567890123456789012345678901234567890"
	    "12345678901234567890123456789012345678901234567890123456789\"}",
	    NULL, NULL), &ms, &cause), DELIVERY_PERMANENT);
	cr_assert_null(strstr(cause, "SECRETTOKEN"), "%s", cause);
	cr_assert_null(strchr(cause, '\n'));
	cr_assert(strncmp(cause, "slack ci: HTTP 400: {\"error\": \"bad\", "
	    "\"url\": \"https://hooks.example\xe2\x80\xa6\"", 57) == 0,
	    "%s", cause);
	cr_assert_leq(chars(cause), strlen("slack ci: HTTP 400: ") + 160);
	free(cause);
	buf_free(&a.r.body);
}

Test(answers, redirects_are_permanent_and_name_only_the_origin)
{
	struct answer	 a;
	int64_t		 ms;
	char		*cause;

	cr_assert_eq(verdict(answer(&a, 301, NULL, "Location",
	    "https://new.example/services/T1/B2/SECRETTOKEN"), &ms, &cause),
	    DELIVERY_PERMANENT);
	cr_assert_str_eq(cause, "slack ci: HTTP 301, a redirect to "
	    "https://new.example (not followed); use the final address in the "
	    "secret");
	free(cause);
	cr_assert_eq(verdict(answer(&a, 307, NULL, NULL, NULL), &ms, &cause),
	    DELIVERY_PERMANENT);
	free(cause);
}

Test(answers, body_retry_after)
{
	int64_t	 ms;

	cr_assert_eq(chat_body_retry_after("{\"retry_after\":0.5}", 19, &ms),
	    0);
	cr_assert_eq(ms, 500);
	cr_assert_eq(chat_body_retry_after("{\"retry_after\":3}", 17, &ms), 0);
	cr_assert_eq(ms, 3000);
	cr_assert_eq(chat_body_retry_after("{\"retry_after\":-1}", 18, &ms),
	    -1);
	cr_assert_eq(chat_body_retry_after("{\"retry_after\":\"3\"}", 19,
	    &ms), -1);
	cr_assert_eq(chat_body_retry_after("rate_limited", 12, &ms), -1);
	cr_assert_eq(chat_body_retry_after(NULL, 0, &ms), -1);
}

/* --------------------------------------------------------------- text */

Test(text, clean_trunc_and_digests)
{
	char	*s;

	s = chat_clean("a\tb\nc\x01\xff\xc3\xa9\xed\xa0\x80", 1);
	cr_assert_str_eq(s, "a b\nc ?\xc3\xa9???");
	free(s);
	s = chat_trunc("h\xc3\xa9llo w\xc3\xb6rld", 5);
	cr_assert_str_eq(s, "h\xc3\xa9ll\xe2\x80\xa6");
	free(s);
	s = chat_trunc("short", 5);
	cr_assert_str_eq(s, "short");
	free(s);
	s = chat_short_digest(DIGEST);
	cr_assert_str_eq(s, "sha256:0123456789ab");
	free(s);
	s = chat_short_digest("sha256:abc");
	cr_assert_str_eq(s, "sha256:abc");
	free(s);
	cr_assert_null(chat_short_digest(NULL));
	s = chat_human_time("not a time");
	cr_assert_str_eq(s, "not a time");
	free(s);
}

Test(text, url_params)
{
	char	*s;

	s = chat_url_param("https://d.example/api/webhooks/1/t", "wait=true");
	cr_assert_str_eq(s, "https://d.example/api/webhooks/1/t?wait=true");
	free(s);
	s = chat_url_param("https://c.example/v1/spaces/A/messages?key=k&"
	    "token=t", "messageReplyOption=X");
	cr_assert_str_eq(s, "https://c.example/v1/spaces/A/messages?key=k&"
	    "token=t&messageReplyOption=X");
	free(s);
	s = chat_url_param("https://x.example/p?#frag", "a=b");
	cr_assert_str_eq(s, "https://x.example/p?a=b#frag");
	free(s);
}
