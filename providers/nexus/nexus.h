/*
 * nexus.h: private to the nexus family (providers/nexus/): the Nexus
 * connector (connector-nexus.c), the Nexus3Registry and Nexus2Registry
 * sources (provider-nexus.c) and the pure parsers of the search answers
 * (nexus-parse.c), provider-protocols.md §9.  The docker format goes
 * through the docker family's registry API.
 */
#ifndef NEXUS_H
#define NEXUS_H

#include "watcher.h"
#include "config.h"

enum nexus_version { NEXUS_3, NEXUS_2 };
enum nexus_auth { NEXUS_AUTH_PASSWORD, NEXUS_AUTH_ANONYMOUS };
enum nexus_format { NEXUS_DOCKER, NEXUS_MAVEN, NEXUS_NPM, NEXUS_NUGET,
    NEXUS_RAW };
extern const char *const nexus_formats[];

/* connector spec: */
struct nexus_connector {
	char		*url;		/* nexusServerUrl */
	int		 version;	/* 3.x | 2.x */
	int		 auth_type;
	char		*username;
	char		*password_ref;
};

/* source spec: */
struct nexus_source {
	char		*connector_ref;
	char		*repository;
	int		 format;	/* repositoryFormat */
	char		*tag;		/* accepted, ignored */
	/* spec.spec: the format's own */
	char		*artifact_path;	/* docker */
	char		*repository_port;
	char		*repository_url;
	char		*group_id;	/* maven */
	char		*artifact_id;
	char		*extension;
	char		*classifier;
	char		*package_name;	/* npm, nuget */
	char		*group;		/* raw */
};

/* What the search asks for, and how to read its answer. */
struct nexus_query {
	int		 format;
	const char	*repository;
	const char	*extension;	/* maven: the asset that is the artifact */
	const char	*classifier;
};

/* nexus-parse.c */

/* The first search URL (Nexus 3): server + /service/rest/v1/search?… */
char	*nexus3_search_url(const char *server, const struct nexus_source *);
/*
 * A Nexus 3 search page ({"items":[…],"continuationToken":…}) into vs:
 * each component a version (raw: its name, the path), digest "sha256:…"
 * (else "sha1:…") of its main asset, blobCreated or lastModified as push
 * time, fields group/package/format/downloadUrl.  Stops at max: returns 1
 * (vs->truncated when a continuationToken says there is more), 0 to go
 * on, -1 with *cause.
 */
int	 nexus3_parse_search(const cJSON *page, const struct nexus_query *,
	    long long max, struct versions *vs, char **cause);
/* Nexus 2: server + /service/local/lucene/search?g=&a=&repositoryId=… */
char	*nexus2_search_url(const char *server, const struct nexus_source *);
/*
 * A Nexus 2 lucene search answer (JSON: {"data":[…],"tooManyResults":…}),
 * newest version first as listed, each with a redirect download URL.
 * *items: entries on the page (for offset paging).  Same returns.
 */
int	 nexus2_parse_search(const cJSON *page, const char *server,
	    const struct nexus_query *, long long max, struct versions *vs,
	    size_t *items, char **cause);
/* The registry base of a docker repository: repositoryUrl, or the port. */
char	*nexus_docker_base(const char *server, const char *port,
	    const char *url, char **cause);

#endif
