/*
 * fuzz-docs.c: libFuzzer over the document helpers every provider's parser
 * stands on (json.h, xml.h) and the registry token answer of the fetch
 * engine (fetch.h).  The first byte picks one; the rest is the body a
 * server could send.  Each must answer 0 or -1 with a cause, never crash
 * or leak.
 */
#include <stdint.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "fetch.h"
#include "json.h"
#include "xml.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*body = (const char *)data + 1;
	size_t		 len = size - 1;
	cJSON		*json;
	xmlDoc		*doc;
	char		*cause = NULL, *text, *token;
	double		 d;
	int64_t		 t;

	if (size == 0)
		return (0);
	switch (data[0] % 3) {
	case 0:
		if (json_parse(body, len, &json, &cause) == 0) {
			(void)json_str(json, "a.b");
			(void)json_num(json, "nextToken", &d);
			(void)json_time(json, "created");
			cJSON_Delete(json);
		}
		break;
	case 1:
		if (xml_parse(body, len, &doc, &cause) == 0) {
			text = xml_text(xml_root(doc), "NextContinuationToken");
			free(text);
			(void)xml_next(xml_child(xml_root(doc), "Contents"));
			xml_free(doc);
		}
		break;
	default:
		if (fetch_parse_token(body, len, 1767261600, &token, &t,
		    &cause) == 0)
			free(token);
		break;
	}
	free(cause);
	return (0);
}
