/*
 * github.h: private to the github family (providers/github/): the Github
 * connector (connector-github.c), the GithubPackageRegistry source
 * (provider-github-packages.c) and the pure parser of the packages API's
 * version pages (github-parse.c), provider-protocols.md §12.
 */
#ifndef GITHUB_H
#define GITHUB_H

#include "watcher.h"
#include "config.h"

/* connector spec: */
struct github_connector {
	char		*url;		/* url: the repository or account */
	char		*api_url;	/* apiUrl: default from url */
	char		*username;	/* authentication…username */
	char		*token_ref;	/* authentication…tokenRef */
	char		*api_token_ref;	/* apiAccess.spec.tokenRef */
	int		 auth_type;	/* authentication.spec.type */
};

/* source spec: */
struct github_source {
	char		*connector_ref;
	char		*org;		/* "" or absent: the token's user */
	char		*package_name;
	int		 package_type;	/* index into github_package_types */
	char		*version;	/* accepted, ignored (warned) */
	char		*version_regex;	/* as tagRegex */
};

extern const char *const github_package_types[];
enum { GITHUB_CONTAINER, GITHUB_DOCKER, GITHUB_NPM, GITHUB_MAVEN,
    GITHUB_NUGET, GITHUB_RUBYGEMS };

/* connector-github.c: the API root of the connector, allocated. */
char	*github_connector_api(const struct github_connector *);

/* github-parse.c */

/*
 * The API root of a connector url: "https://api.github.com" for github.com
 * (and for none), else "https://HOST/api/v3" (GitHub Enterprise Server).
 */
char	*github_api_root(const char *url);
/*
 * The first page of a package's versions: /orgs/ORG/… or, with no org,
 * /user/…; the name's '/' as %2F.  Allocated.
 */
char	*github_versions_url(const char *api, const char *org,
	    const char *type, const char *name);
/*
 * One page (a JSON array of versions, newest first) into vs, up to max:
 * containers give one version per tag (metadata.container.tags) with the
 * version's name (the manifest digest) as its digest; untagged ones are
 * left out.  Other types give one version per entry.  Returns 1 when the
 * cap is full (vs->truncated when there was more), 0, or -1 with *cause.
 */
int	 github_parse_versions(const cJSON *page, int container,
	    long long max, struct versions *vs, char **cause);

#endif
