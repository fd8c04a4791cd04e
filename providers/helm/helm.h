/*
 * helm.h: private to the HelmChart provider (providers/helm/).  A Helm HTTP
 * chart repository publishes one index.yaml listing every chart and version;
 * helm-parse.c is its pure parser (bytes in, the versions of one chart out),
 * connector-http-helm-repo.c the HttpHelmRepo connector type and
 * provider-helm-chart.c the HelmChart provider (its keys and its listing).
 */
#ifndef HELM_H
#define HELM_H

#include "watcher.h"

/* An index.yaml larger than this fails the poll (they run to tens of MB). */
#define HELM_MAX_INDEX		(64 * 1024 * 1024)

/* Indexes into the `choices` of auth.type. */
enum helm_auth_type { HELM_AUTH_ANONYMOUS, HELM_AUTH_PASSWORD };

/* connector spec: (HttpHelmRepo) */
struct helm_connector {
	char		*url;		/* helmRepoUrl */
	int		 auth_type;	/* auth.type */
	char		*username;	/* auth.spec.username */
	char		*password_ref;	/* auth.spec.passwordRef (a secret) */
};

/* source spec: (HelmChart) */
struct helm_source {
	char		*connector_ref;	/* resolved by the loader */
	char		*chart_name;	/* chartName */
	char		*chart_version;	/* accepted, ignored (warned) */
};

/* One version of the chart, as entries.<chart>[i] gives it. */
struct helm_entry {
	char		*version;	/* "0.2.0", checked grammar */
	char		*app_version;	/* appVersion, NULL when absent */
	char		*digest;	/* "sha256:<hex>", NULL when absent */
	int64_t		 created_s;	/* created (unix s), 0 when unknown */
	char		*url;		/* urls[0] as written (maybe relative) */
	int		 deprecated;
};

/* What one index.yaml says about one chart. */
struct helm_index {
	struct helm_entry *v;
	size_t		 n;
	int		 found;		/* entries has the chart's key */
	size_t		 skipped;	/* entries dropped for a bad field */
	char		*skip_cause;	/* why the first one was */
};

/*
 * Parse an index.yaml (YAML or JSON) for the versions of `chart`.  The
 * document must be a map with apiVersion; `entries` a map of lists.  An
 * entry with a bad version or digest is dropped (counted in skipped, the
 * first reason kept), a repeated version keeps its first entry; a bad
 * `created` reads as unknown.  -1 and *cause when the file is not an index.
 */
int	 helm_parse_index(const char *body, size_t len, const char *chart,
	    struct helm_index *, char **cause);
void	 helm_index_clear(struct helm_index *);
/* Newest first: SemVer precedence, non-versions last by name. */
void	 helm_index_sort(struct helm_index *);
/* A chart version: [0-9A-Za-z.+_-], 1 to 128 bytes. */
int	 helm_version_valid(const char *);
/* A chart name as it may appear in chartName: [A-Za-z0-9._-], ≤ 250. */
int	 helm_chart_valid(const char *);
/*
 * The URL of a chart archive: `url` when absolute (http:// or https://),
 * else resolved against the directory of the repository URL `repo`.
 */
char	*helm_chart_url(const char *repo, const char *url);
/* <repo>/index.yaml, with or without the trailing slash on repo. */
char	*helm_index_url(const char *repo);

#endif
