/*
 * helm-oci.h: Helm charts in OCI registries (provider-protocols.md §13.2):
 * the OciHelmRepo connector and the HelmChart source on it (helm-oci.c),
 * and the pure parsers of a chart's manifest and config blob
 * (helm-oci-parse.c).  The registry API itself is the docker family's
 * (providers/docker/docker-list.c).  Independent of the HTTP Helm
 * repository files beside it.
 */
#ifndef HELM_OCI_H
#define HELM_OCI_H

#include "watcher.h"
#include "config.h"

#define HELM_OCI_CONFIG	"application/vnd.cncf.helm.config.v1+json"
#define HELM_OCI_CHART	"application/vnd.cncf.helm.chart.content.v1.tar+gzip"
#define HELM_OCI_LEGACY	"application/tar+gzip"

enum helm_oci_auth { HELM_OCI_ANONYMOUS, HELM_OCI_PASSWORD };

/* connector spec: */
struct helm_oci_connector {
	char		*url;		/* helmRepoUrl: oci://host/namespace */
	int		 auth_type;
	char		*username;
	char		*password_ref;
};

/* source spec: */
struct helm_oci_source {
	char		*connector_ref;
	char		*chart_name;
	char		*chart_version;	/* accepted, ignored (warned) */
};

/* What a helmRepoUrl names: where the API is, and the namespace. */
struct helm_oci_url {
	char		*base;		/* "https://host[:port]" */
	char		*registry;	/* "host[:port]" */
	char		*namespace;	/* "charts/stable", or "" */
};
/*
 * oci://host[:port]/namespace (https), or http(s)://host[:port]/namespace
 * (a registry on plain http says so).  0, or -1 with *cause.
 */
int	 helm_oci_url_parse(const char *, struct helm_oci_url *, char **cause);
void	 helm_oci_url_clear(struct helm_oci_url *);

/* A chart's manifest: its config media type is Helm's. */
struct helm_oci_manifest {
	int		 chart;		/* config media type is Helm's */
	char		*config_digest;
	char		*chart_digest;	/* the chart layer's, or NULL */
};
int	 helm_oci_parse_manifest(const char *body, size_t len,
	    struct helm_oci_manifest *, char **cause);
void	 helm_oci_manifest_clear(struct helm_oci_manifest *);
/* The config blob (Chart.yaml as JSON): name, version, appVersion. */
int	 helm_oci_parse_config(const char *body, size_t len, char **name,
	    char **version, char **app_version, char **cause);
/* Chart version <-> OCI tag ('+' is '_' in a tag). Allocated. */
char	*helm_oci_version_of(const char *tag);
char	*helm_oci_tag_of(const char *version);

#endif
