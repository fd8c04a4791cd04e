/*
 * artifactory.h: private to the artifactory family (providers/artifactory/):
 * the Artifactory connector (connector-artifactory.c), the
 * ArtifactoryRegistry source (provider-artifactory.c) and the pure parts
 * of AQL (artifactory-aql.c): the query and its answer,
 * provider-protocols.md §10.  Docker repositories go through the docker
 * family's registry API under /api/docker/<repo>.
 */
#ifndef ARTIFACTORY_H
#define ARTIFACTORY_H

#include "watcher.h"
#include "config.h"

enum art_auth { ART_AUTH_PASSWORD, ART_AUTH_ANONYMOUS, ART_AUTH_TOKEN };
enum art_format { ART_DOCKER, ART_GENERIC, ART_MAVEN, ART_NPM, ART_NUGET,
    ART_PYPI, ART_HELM, ART_OTHER };
extern const char *const art_formats[];

struct art_connector {
	char		*url;		/* artifactoryServerUrl (…/artifactory) */
	int		 auth_type;
	char		*username;
	char		*password_ref;
	char		*token_ref;	/* auth Token: a Bearer access token */
};

struct art_source {
	char		*connector_ref;
	char		*repository;
	int		 format;
	char		*artifact_path;		/* docker image; package path */
	char		*repository_url;	/* docker: the registry's name */
	char		*artifact_directory;	/* generic */
	char		*artifact_path_filter;	/* generic: name glob */
	char		*artifact_filter;	/* accepted (Harness) */
	char		*tag;
	char		*digest;
};

/* What an AQL listing looks for. */
struct art_query {
	const char	*repository;
	const char	*directory;	/* path prefix, "" for the root */
	const char	*name_glob;	/* "*" when none */
	int		 package;	/* versions are the last directory */
	long long	 limit;		/* asked for: the cap + 1 */
};

/*
 * The AQL text: items.find with repo, path $match under the directory,
 * name $match, type file; include repo, path, name, created, size,
 * sha256, actual_sha1; sort $desc created; limit.  NULL with *cause when
 * a value cannot be quoted safely (a quote, a backslash, a control byte).
 */
char	*art_aql_query(const struct art_query *, char **cause);
/*
 * The answer ({"results":[…],"range":{…}}) into vs, newest first, at most
 * max: generic files named by their path under the directory (kind file
 * fields host, path, size), package files by their version directory
 * (once each).  Digest "sha256:…" (else "sha1:…").  *trimmed: the server
 * said it cut the results (range.notification).  0, or -1 with *cause.
 */
int	 art_aql_parse(const cJSON *answer, const struct art_query *,
	    const char *server, long long max, struct versions *vs,
	    int *trimmed, char **cause);

#endif
