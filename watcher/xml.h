/*
 * xml.h: the XML helpers of the providers whose APIs answer XML (S3,
 * Nexus 2, Bamboo, Azure blobs), on libxml2, in one place.  Parsing never
 * touches the network or the file system (no DTD, no entities), and a body
 * that is not XML gets a clear cause.  Pure.
 */
#ifndef XML_H
#define XML_H

#include "watcher.h"

typedef struct _xmlDoc xmlDoc;
typedef struct _xmlNode xmlNode;

/* Parse len bytes; -1 with *cause. */
int		 xml_parse(const char *body, size_t len, xmlDoc **out,
		    char **cause);
void		 xml_free(xmlDoc *);		/* accepts NULL */
xmlNode		*xml_root(xmlDoc *);
/* The first child element named `name` (namespace ignored), or NULL. */
xmlNode		*xml_child(xmlNode *, const char *name);
/* The next sibling element of the same name, or NULL. */
xmlNode		*xml_next(xmlNode *);
/* The text of child `name` of n, allocated, or NULL when absent. */
char		*xml_text(xmlNode *, const char *name);

#endif
