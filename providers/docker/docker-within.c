/*
 * docker-within.c: the registry API inside another family's source
 * (Nexus3Registry, ArtifactoryRegistry): one of their formats is docker,
 * listed and resolved by the docker family's code on a struct docker the
 * source owns; their other formats carry every digest in the listing, so
 * a resolve has nothing to ask and answers from the event loop.
 */
#include <string.h>

#include <event2/event.h>

#include "provider-docker.h"
#include "provider.h"

int
docker_within_open(struct provider *p, struct docker_within *w,
    const char *base, const char *registry, const char *repository,
    char **cause)
{
	if (docker_open(p, &w->docker, base, registry, repository, cause) != 0)
		return (-1);
	w->open = 1;
	return (0);
}

static void
docker_within_nothing(__unused evutil_socket_t fd, __unused short what,
    void *arg)
{
	struct docker_within	*w = arg;
	struct provider_result	 r;

	memset(&r, 0, sizeof r);
	w->nothing_done(&r, w->nothing_arg);
}

void
docker_within_resolve(struct provider *p, struct docker_within *w,
    struct version **v, size_t n,
    void (*done)(const struct provider_result *, void *), void *arg)
{
	struct timeval	 now = { 0, 0 };

	if (w->open) {
		docker_resolve_on(p, &w->docker, v, n, done, arg);
		return;
	}
	if (w->nothing == NULL)
		w->nothing = evtimer_new(p->env->base, docker_within_nothing,
		    w);
	w->nothing_done = done;
	w->nothing_arg = arg;
	evtimer_add(w->nothing, &now);
}

void
docker_within_cancel(struct docker_within *w)
{
	if (w->open)
		docker_cancel_on(&w->docker);
	if (w->nothing != NULL)
		evtimer_del(w->nothing);
}

void
docker_within_close(struct docker_within *w)
{
	docker_within_cancel(w);
	if (w->open)
		docker_close(&w->docker);
	w->open = 0;
	if (w->nothing != NULL)
		event_free(w->nothing);
	w->nothing = NULL;
}
