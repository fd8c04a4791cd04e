/*
 * provider.c: the table of provider types, the making and freeing of
 * provider instances, and what the core derives from a source's type: its
 * fingerprint (what it watches) and the name of its kind.  A new source
 * type is a file in providers/<family>/ and one line here.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "connector.h"
#include "order.h"
#include "provider.h"

extern const struct provider_entry provider_docker_entry;
extern const struct provider_entry provider_helm_chart_entry;
extern const struct provider_entry provider_ecr_entry;
extern const struct provider_entry provider_s3_entry;
extern const struct provider_entry provider_ami_entry;
extern const struct provider_entry provider_bamboo_entry;
extern const struct provider_entry provider_jenkins_entry;
extern const struct provider_entry provider_custom_entry;
extern const struct provider_entry provider_sftp_entry;
extern const struct provider_entry provider_smb_entry;
extern const struct provider_entry provider_npm_entry;
extern const struct provider_entry provider_helm_oci_entry;
extern const struct provider_entry provider_github_packages_entry;
extern const struct provider_entry provider_nexus3_entry;
extern const struct provider_entry provider_nexus2_entry;
extern const struct provider_entry provider_artifactory_entry;
extern const struct provider_entry provider_gcr_entry;
extern const struct provider_entry provider_gar_entry;
extern const struct provider_entry provider_gcs_entry;
extern const struct provider_entry provider_acr_entry;
extern const struct provider_entry provider_azart_entry;

static const struct provider_entry *const provider_table[] = {
	&provider_docker_entry,
	&provider_helm_chart_entry,
	&provider_ecr_entry,
	&provider_s3_entry,
	&provider_ami_entry,
	&provider_bamboo_entry,
	&provider_jenkins_entry,
	&provider_custom_entry,
	&provider_sftp_entry,
	&provider_smb_entry,
	&provider_npm_entry,
	&provider_helm_oci_entry,
	&provider_github_packages_entry,
	&provider_nexus3_entry,
	&provider_nexus2_entry,
	&provider_artifactory_entry,
	&provider_gcr_entry,
	&provider_gar_entry,
	&provider_gcs_entry,
	&provider_acr_entry,
	&provider_azart_entry,
};

const struct provider_entry *
provider_find(const char *type)
{
	size_t	 i;

	for (i = 0; i < nitems(provider_table); i++) {
		if (strcmp(provider_table[i]->name, type) == 0)
			return (provider_table[i]);
	}
	return (NULL);
}

const struct provider_entry *
provider_find_for(const char *type, const char *connector_type)
{
	size_t	 i;

	for (i = 0; i < nitems(provider_table); i++) {
		if (strcmp(provider_table[i]->name, type) == 0 &&
		    provider_table[i]->connector != NULL &&
		    strcmp(provider_table[i]->connector, connector_type) == 0)
			return (provider_table[i]);
	}
	return (NULL);
}

struct provider *
provider_create(struct env *env, const struct source_conf *conf, char **cause)
{
	struct provider	*p;

	p = xcalloc(1, sizeof *p);
	p->entry = conf->entry;
	p->kind = conf->entry->kind;
	p->conf = conf;
	p->env = env;
	if (conf->connector != NULL &&
	    (p->connector = connector_get(env, conf->connector, cause)) ==
	    NULL) {
		free(p);
		return (NULL);
	}
	if (p->connector != NULL)
		p->tls = p->connector->tls;
	if (p->entry->init != NULL && p->entry->init(p, cause) != 0) {
		provider_free(p);
		return (NULL);
	}
	return (p);
}

void
provider_free(struct provider *p)
{
	if (p == NULL)
		return;
	if (p->entry->cancel != NULL)
		p->entry->cancel(p);
	if (p->entry->free != NULL)
		p->entry->free(p);
	cJSON_Delete(p->fields);
	connector_put(p->connector);
	free(p);
}

char *
provider_fingerprint(const struct source_conf *sc)
{
	const struct connector_conf	*cc = sc->connector;
	EVP_MD_CTX			*ctx;
	unsigned char			 md[EVP_MAX_MD_SIZE];
	unsigned int			 mdlen, i;
	char				*parts[3], *out;

	parts[0] = xstrdup(sc->type != NULL ? sc->type : "");
	parts[1] = cc != NULL && cc->entry != NULL &&
	    cc->entry->identity != NULL ? cc->entry->identity(cc) : NULL;
	parts[2] = sc->entry != NULL && sc->entry->identity != NULL ?
	    sc->entry->identity(sc) : NULL;
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		fatalx("SHA-256 failed");
	for (i = 0; i < nitems(parts); i++) {
		/* Each part with its NUL, so that no two lists hash alike. */
		if (EVP_DigestUpdate(ctx, parts[i] != NULL ? parts[i] : "",
		    parts[i] != NULL ? strlen(parts[i]) + 1 : 1) != 1)
			fatalx("SHA-256 failed");
		free(parts[i]);
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1)
		fatalx("SHA-256 failed");
	EVP_MD_CTX_free(ctx);
	out = xmalloc(17);
	for (i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return (out);
}

const char *
artifact_kind_name(enum artifact_kind k)
{
	static const char *const names[] = {
		"container", "file", "machineImage", "build", "package",
		"chart", "custom"
	};

	if ((size_t)k >= nitems(names))
		return ("custom");
	return (names[k]);
}

int
provider_check_versions(struct source_conf *conf, struct cfg_errors *errs,
    const char *version, const char *version_regex, int bad)
{
	const struct cfg_node	*at = cfg_node_get(conf->spec, "versionRegex");
	struct filter_conf	 fc;
	struct filter		*f;
	char			*cause;

	if (version != NULL && version_regex != NULL) {
		cfg_error(errs, at, "version and versionRegex: give one of "
		    "them");
		bad++;
	}
	if (version_regex != NULL && conf->tag_regex != NULL) {
		cfg_error(errs, at, "versionRegex and tagRegex both filter "
		    "names: give one");
		bad++;
	}
	if (version_regex == NULL || bad > 0)
		return (bad);
	memset(&fc, 0, sizeof fc);
	fc.include = version_regex;
	if ((f = filter_create(&fc, &cause)) == NULL) {
		cfg_error(errs, at, "versionRegex: %s", cause);
		free(cause);
		return (bad + 1);
	}
	filter_free(f);
	conf->tag_regex = xstrdup(version_regex);
	return (bad);
}
