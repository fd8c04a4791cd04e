/*
 * provider-docker.c: the DockerRegistry provider type: its config keys and
 * the entry the provider table points at.  It lists the tags of one
 * repository of a Docker Registry v2 / OCI distribution registry (Docker
 * Hub, distribution, GHCR, Quay, ...), as provider-protocols.md §1 tells.
 */
#include <stddef.h>

#include "provider.h"
#include "provider-docker.h"

static const char *const docker_kinds[] = { "DockerHub", "Other", NULL };
static const char *const docker_auth_types[] = {
	"Anonymous", "UsernamePassword", NULL
};

#define CONN_OFF(f)	offsetof(struct docker_connector, f)
#define SRC_OFF(f)	offsetof(struct docker_source, f)

static const struct cfg_key docker_auth_spec_keys[] = {
	{ .name = "username", .type = CFG_STRING, .off = CONN_OFF(username) },
	{ .name = "passwordRef", .type = CFG_SECRET,
	  .off = CONN_OFF(password_ref) },
	{ .name = NULL }
};

static const struct cfg_key docker_auth_keys[] = {
	{ .name = "type", .type = CFG_ENUM, .off = CONN_OFF(auth_type),
	  .def = "Anonymous", .choices = docker_auth_types },
	{ .name = "spec", .type = CFG_OBJECT, .sub = docker_auth_spec_keys },
	{ .name = NULL }
};

static const struct cfg_key docker_connector_keys[] = {
	{ .name = "dockerRegistryUrl", .type = CFG_STRING, .off = CONN_OFF(url),
	  .flags = CFG_REQUIRED },
	{ .name = "providerType", .type = CFG_ENUM, .off = CONN_OFF(kind),
	  .def = "Other", .choices = docker_kinds },
	{ .name = "auth", .type = CFG_OBJECT, .sub = docker_auth_keys },
	{ .name = "executeOnDelegate", .type = CFG_IGNORE },
	{ .name = "delegateSelectors", .type = CFG_IGNORE },
	{ .name = NULL }
};

static const struct cfg_key docker_source_keys[] = {
	/* Checked and resolved by the loader; listed so it is a known key. */
	{ .name = "connectorRef", .type = CFG_STRING,
	  .off = SRC_OFF(connector_ref) },
	{ .name = "imagePath", .type = CFG_STRING, .off = SRC_OFF(image_path),
	  .flags = CFG_REQUIRED },
	{ .name = "tag", .type = CFG_STRING, .off = SRC_OFF(tag) },
	{ .name = "tagRegex", .type = CFG_STRING, .off = SRC_OFF(tag_regex) },
	{ .name = "tagRegexExclude", .type = CFG_STRING,
	  .off = SRC_OFF(tag_regex_exclude) },
	{ .name = "digest", .type = CFG_STRING, .off = SRC_OFF(digest) },
	{ .name = NULL }
};

const struct provider_entry provider_docker_entry = {
	.name = "DockerRegistry",
	.connector = "DockerRegistry",
	.connector_keys = docker_connector_keys,
	.connector_size = sizeof (struct docker_connector),
	.source_keys = docker_source_keys,
	.source_size = sizeof (struct docker_source),
};
