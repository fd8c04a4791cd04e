/*
 * provider.c: the table of provider types and the making and freeing of
 * provider instances.  A new source type is one file in providers/ and one
 * line here.
 */
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "provider.h"

extern const struct provider_entry provider_docker_entry;

static const struct provider_entry *const provider_table[] = {
	&provider_docker_entry,
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
provider_find_connector(const char *type)
{
	size_t	 i;

	for (i = 0; i < nitems(provider_table); i++) {
		if (strcmp(provider_table[i]->connector, type) == 0)
			return (provider_table[i]);
	}
	return (NULL);
}

struct provider *
provider_create(struct env *env, const struct source_conf *conf, char **cause)
{
	struct provider	*p;
	char		*why;

	p = xcalloc(1, sizeof *p);
	p->entry = conf->entry;
	p->conf = conf;
	p->env = env;
	if (conf->connector != NULL) {
		p->tls = xcalloc(1, sizeof *p->tls);
		if (http_tls_load(env->conf, &conf->connector->tls, p->tls,
		    &why) != 0) {
			fail(cause, "connector %s: %s", conf->connector->id, why);
			free(why);
			provider_free(p);
			return (NULL);
		}
	}
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
	if (p->tls != NULL) {
		http_tls_clear(p->tls);
		free(p->tls);
	}
	free(p);
}
