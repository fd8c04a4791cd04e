/*
 * config-types.c: the message for an unknown `type:` of a source, connector
 * or sink.  It offers the closest type, or else names the types that exist.
 *
 * The provider and sink tables (provider.c, sink.c) can only be asked about
 * one name at a time, so the candidates are the type names of DESIGN §3 (and
 * the sinks of §2/§6), each asked of the table; a type built under another
 * name is still found by its own block, only not listed here.
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "connector.h"
#include "provider.h"
#include "sink.h"

static const char *const source_types[] = {
	"DockerRegistry", "Gcr", "GoogleArtifactRegistry",
	"GoogleCloudStorage", "AzureArtifacts", "Acr", "Ecr", "AmazonS3",
	"AmazonMachineImage", "Nexus3Registry", "Nexus2Registry",
	"ArtifactoryRegistry", "Bamboo", "Jenkins", "GithubPackageRegistry",
	"CustomArtifact", "HelmChart", "Npm", "Sftp", "Smb", NULL
};
static const char *const connector_types[] = {
	"DockerRegistry", "Gcp", "Aws", "Azure", "AzureArtifacts", "Nexus",
	"Artifactory", "Bamboo", "Jenkins", "Github", "HttpHelmRepo",
	"OciHelmRepo", "NpmRegistry", "Sftp", "Smb", NULL
};
static const char *const sink_types[] = {
	"Webhook", "Stdout", "RedisStream", "Nats", "Kafka", "Amqp", "Mqtt",
	"Slack", "Teams", "Discord", "GoogleChat", "Exec", "File", NULL
};

static const char *const *
type_names(enum config_type_kind kind)
{
	switch (kind) {
	case TYPE_SOURCE:
		return (source_types);
	case TYPE_CONNECTOR:
		return (connector_types);
	default:
		return (sink_types);
	}
}

static int
type_exists(enum config_type_kind kind, const char *name)
{
	switch (kind) {
	case TYPE_SOURCE:
		return (provider_find(name) != NULL);
	case TYPE_CONNECTOR:
		return (connector_find(name) != NULL);
	default:
		return (sink_find(name) != NULL);
	}
}

static const char *
kind_name(enum config_type_kind kind)
{
	switch (kind) {
	case TYPE_SOURCE:
		return ("source");
	case TYPE_CONNECTOR:
		return ("connector");
	default:
		return ("sink");
	}
}

void
config_unknown_type(enum config_type_kind kind, const struct cfg_node *type,
    const char *where, struct cfg_errors *errs)
{
	const char *const	*names = type_names(kind);
	struct cfg_suggest	 sg;
	struct buf		 known;
	size_t			 i;

	memset(&known, 0, sizeof known);
	cfg_suggest_init(&sg, type->value);
	for (i = 0; names[i] != NULL; i++) {
		cfg_suggest_try(&sg, names[i]);
		if (type_exists(kind, names[i]))
			buf_printf(&known, "%s%s", known.len ? ", " : "",
			    names[i]);
	}
	if (known.len == 0)
		buf_adds(&known, "none");
	if (cfg_suggest_best(&sg) != NULL) {
		cfg_error(errs, type, "unknown %s type \"%s\" in %s (did you "
		    "mean \"%s\"?)", kind_name(kind), type->value, where,
		    cfg_suggest_best(&sg));
	} else {
		cfg_error(errs, type, "unknown %s type \"%s\" in %s (known "
		    "types: %s)", kind_name(kind), type->value, where,
		    known.data);
	}
	buf_free(&known);
}
