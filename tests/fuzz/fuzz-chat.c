/*
 * fuzz-chat.c: libFuzzer over the chat sinks' payload builders.  Any event
 * JSON (or, when the input is not JSON, an event whose fields hold the raw
 * bytes) gives, for each service, one JSON object within that service's
 * limits; the same bytes as a templated text too.  Never a crash or a leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../../sinks/chat.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Characters of a string member at a path of object keys, or 0. */
static size_t
fuzz_chars(const cJSON *j, const char *a, const char *b, const char *c)
{
	const char	*s;
	size_t		 n = 0;

	j = cJSON_GetObjectItemCaseSensitive(j, a);
	if (b != NULL)
		j = cJSON_GetObjectItemCaseSensitive(j, b);
	if (c != NULL)
		j = cJSON_GetObjectItemCaseSensitive(j, c);
	if (!cJSON_IsString(j))
		return (0);
	for (s = j->valuestring; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return (n);
}

/* The payload must be a JSON object; it is handed back parsed. */
static cJSON *
fuzz_object(char *text)
{
	cJSON	*j;

	if (text == NULL)
		abort();
	j = cJSON_Parse(text);
	free(text);
	if (!cJSON_IsObject(j))
		abort();
	return (j);
}

static void
fuzz_limits(const cJSON *event, const char *text)
{
	const cJSON	*b, *f;
	cJSON		*j;
	size_t		 total;

	j = fuzz_object(slack_payload(event, text));
	cJSON_ArrayForEach(b, cJSON_GetObjectItem(j, "blocks")) {
		if (fuzz_chars(b, "text", "text", NULL) > 3000)
			abort();
	}
	if (cJSON_GetArraySize(cJSON_GetObjectItem(j, "blocks")) > 50)
		abort();
	cJSON_Delete(j);

	j = fuzz_object(discord_payload(event, text, "u"));
	if (fuzz_chars(j, "content", NULL, NULL) > 2000)
		abort();
	b = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "embeds"), 0);
	if (b != NULL) {
		total = fuzz_chars(b, "title", NULL, NULL) +
		    fuzz_chars(b, "footer", "text", NULL) +
		    fuzz_chars(b, "description", NULL, NULL);
		if (fuzz_chars(b, "title", NULL, NULL) > 256)
			abort();
		cJSON_ArrayForEach(f, cJSON_GetObjectItem(b, "fields")) {
			if (fuzz_chars(f, "value", NULL, NULL) > 1024)
				abort();
			total += fuzz_chars(f, "name", NULL, NULL) +
			    fuzz_chars(f, "value", NULL, NULL);
		}
		if (total > 6000)
			abort();
	}
	cJSON_Delete(j);

	cJSON_Delete(fuzz_object(teams_payload(event, text)));
	j = fuzz_object(googlechat_payload(event, text, text, 1));
	if (fuzz_chars(j, "text", NULL, NULL) > 4096)
		abort();
	cJSON_Delete(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON	*event, *d;
	char	*text;

	text = malloc(size + 1);
	if (text == NULL)
		return (0);
	memcpy(text, data, size);
	text[size] = '\0';
	if ((event = cJSON_Parse(text)) == NULL) {
		/* Not JSON: the bytes as the values of every common field. */
		event = cJSON_CreateObject();
		cJSON_AddStringToObject(event, "type", "artifact.updated");
		cJSON_AddStringToObject(event, "subject", text);
		d = cJSON_AddObjectToObject(event, "data");
		cJSON_AddStringToObject(d, "sourceId", text);
		cJSON_AddStringToObject(d, "version", text);
		cJSON_AddStringToObject(d, "image", text);
		cJSON_AddStringToObject(d, "digest", text);
		cJSON_AddStringToObject(d, "previousDigest", text);
		cJSON_AddStringToObject(d, "pushedAt", text);
		cJSON_AddStringToObject(d, "url", text);
	}
	fuzz_limits(event, NULL);
	fuzz_limits(event, text);
	cJSON_Delete(event);
	free(text);
	return (0);
}
