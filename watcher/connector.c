/*
 * connector.c: the table of connector types, and their instances: one per
 * configured connector, shared by every source naming it, holding the
 * connector's limiter and token cache.  A new connector type is a file in
 * providers/<family>/ and one line here.
 */
#include <stdlib.h>
#include <string.h>

#include "connector.h"
#include "fetch.h"
#include "http.h"
#include "limit.h"

extern const struct connector_entry connector_docker_entry;
extern const struct connector_entry connector_http_helm_repo_entry;
extern const struct connector_entry connector_aws_entry;
extern const struct connector_entry connector_bamboo_entry;
extern const struct connector_entry connector_jenkins_entry;
extern const struct connector_entry connector_sftp_entry;
extern const struct connector_entry connector_smb_entry;
extern const struct connector_entry connector_npm_entry;
extern const struct connector_entry connector_helm_oci_entry;
extern const struct connector_entry connector_github_entry;
extern const struct connector_entry connector_nexus_entry;
extern const struct connector_entry connector_artifactory_entry;
extern const struct connector_entry connector_gcp_entry;
extern const struct connector_entry connector_azure_entry;
extern const struct connector_entry connector_azart_entry;

static const struct connector_entry *const connector_table[] = {
	&connector_docker_entry,
	&connector_http_helm_repo_entry,
	&connector_aws_entry,
	&connector_bamboo_entry,
	&connector_jenkins_entry,
	&connector_sftp_entry,
	&connector_smb_entry,
	&connector_npm_entry,
	&connector_helm_oci_entry,
	&connector_github_entry,
	&connector_nexus_entry,
	&connector_artifactory_entry,
	&connector_gcp_entry,
	&connector_azure_entry,
	&connector_azart_entry,
};

struct connectors {
	struct connector	*head;
};

const struct connector_entry *
connector_find(const char *type)
{
	size_t	 i;

	for (i = 0; i < nitems(connector_table); i++) {
		if (strcmp(connector_table[i]->name, type) == 0)
			return (connector_table[i]);
	}
	return (NULL);
}

void
connector_creds_clear(struct connector_creds *c)
{
	if (c->password != NULL) {
		explicit_bzero(c->password, strlen(c->password));
		free(c->password);
	}
	if (c->header != NULL) {
		explicit_bzero(c->header, strlen(c->header));
		free(c->header);
	}
	free(c->username);
	memset(c, 0, sizeof *c);
}

struct connectors *
connectors_create(void)
{
	return (xcalloc(1, sizeof (struct connectors)));
}

static void
connector_destroy(struct connector *c)
{
	if (c->entry->free != NULL)
		c->entry->free(c);
	if (c->tls != NULL) {
		http_tls_clear(c->tls);
		free(c->tls);
	}
	fetch_tokens_free(c->tokens);
	limits_free(c->own_limits);
	free(c);
}

void
connectors_free(struct connectors *cs)
{
	struct connector	*c, *next;

	if (cs == NULL)
		return;
	for (c = cs->head; c != NULL; c = next) {
		next = c->next;
		connector_destroy(c);
	}
	free(cs);
}

/* The limiter of the connector, shared with every source on it. */
static void
connector_limiter(struct connector *c)
{
	const struct connector_conf	*cc = c->conf;
	struct limits			*ls = c->env->limits;
	struct limit_conf		 lc;

	if (ls == NULL)
		ls = c->own_limits = limits_create(c->env->base, c->env->http,
		    0);
	memset(&lc, 0, sizeof lc);
	lc.rps = cc->rate.rps;
	lc.burst = cc->rate.burst;
	lc.max_concurrency = cc->max_concurrency;
	lc.max_retry_wait_ms = cc->max_retry_wait_ms;
	c->limiter = limits_get(ls, cc->id != NULL ? cc->id : "", &lc);
}

struct connector *
connector_get(struct env *env, const struct connector_conf *cc, char **cause)
{
	struct connectors	*cs = env->connectors;
	struct connector	*c;
	char			*why;

	if (cs != NULL) {
		for (c = cs->head; c != NULL; c = c->next) {
			if (c->conf == cc) {
				c->refs++;
				return (c);
			}
		}
	}
	if (cc->entry == NULL) {
		fail(cause, "connector %s has no known type", log_q(cc->id));
		return (NULL);
	}
	c = xcalloc(1, sizeof *c);
	c->entry = cc->entry;
	c->conf = cc;
	c->env = env;
	c->tls = xcalloc(1, sizeof *c->tls);
	if (http_tls_load(env->conf, &cc->tls, c->tls, &why) != 0) {
		fail(cause, "connector %s: %s", cc->id, why);
		free(why);
		free(c->tls);
		free(c);
		return (NULL);
	}
	c->tokens = fetch_tokens_create();
	connector_limiter(c);
	if (c->entry->init != NULL && c->entry->init(c, cause) != 0) {
		http_tls_clear(c->tls);
		free(c->tls);
		fetch_tokens_free(c->tokens);
		limits_free(c->own_limits);
		free(c);
		return (NULL);
	}
	c->refs = 1;
	if (cs != NULL) {
		c->next = cs->head;
		cs->head = c;
	}
	return (c);
}

void
connector_put(struct connector *c)
{
	struct connectors	*cs;
	struct connector	**pp;

	if (c == NULL || --c->refs > 0)
		return;
	if ((cs = c->env->connectors) != NULL) {
		for (pp = &cs->head; *pp != NULL; pp = &(*pp)->next) {
			if (*pp == c) {
				*pp = c->next;
				break;
			}
		}
	}
	connector_destroy(c);
}
