/*
 * xml.c: XML helpers for the providers whose APIs answer XML (xml.h), on
 * libxml2.  The parse reads the bytes only: no network, no DTD loading, no
 * entity substitution, and huge documents refused by libxml2's own limits.
 */
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "xml.h"

int
xml_parse(const char *body, size_t len, xmlDoc **out, char **cause)
{
	const xmlError	*e;

	*out = NULL;
	if (body == NULL || len == 0)
		return (fail(cause, "an empty body"));
	if (len > INT32_MAX)
		return (fail(cause, "an XML body too large"));
	*out = xmlReadMemory(body, (int)len, NULL, NULL, XML_PARSE_NONET |
	    XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (*out == NULL || xmlDocGetRootElement(*out) == NULL) {
		e = xmlGetLastError();
		xml_free(*out);
		*out = NULL;
		if (e == NULL || e->message == NULL)
			return (fail(cause, "not XML"));
		return (fail(cause, "not XML: %.*s",
		    (int)strcspn(e->message, "\n"), e->message));
	}
	return (0);
}

void
xml_free(xmlDoc *doc)
{
	if (doc != NULL)
		xmlFreeDoc(doc);
}

xmlNode *
xml_root(xmlDoc *doc)
{
	return (doc == NULL ? NULL : xmlDocGetRootElement(doc));
}

static xmlNode *
xml_from(xmlNode *n, const char *name)
{
	for (; n != NULL; n = n->next) {
		if (n->type == XML_ELEMENT_NODE &&
		    strcmp((const char *)n->name, name) == 0)
			return (n);
	}
	return (NULL);
}

xmlNode *
xml_child(xmlNode *n, const char *name)
{
	return (n == NULL ? NULL : xml_from(n->children, name));
}

xmlNode *
xml_next(xmlNode *n)
{
	return (n == NULL ? NULL : xml_from(n->next, (const char *)n->name));
}

char *
xml_text(xmlNode *n, const char *name)
{
	xmlNode	*c = xml_child(n, name);
	xmlChar	*t;
	char	*s;

	if (c == NULL)
		return (NULL);
	t = xmlNodeGetContent(c);
	s = xstrdup(t != NULL ? (const char *)t : "");
	xmlFree(t);
	return (s);
}
