/*
 * fuzz-helm-oci.c: libFuzzer over the pure parts of Helm charts in OCI
 * registries: every input is a manifest, a chart config blob, a
 * helmRepoUrl, and a version and tag to respell.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "helm-oci.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct helm_oci_manifest m;
	struct helm_oci_url	 u;
	const char		*body = (const char *)data;
	char			*cause = NULL, *name, *version, *app, *s;

	if (helm_oci_parse_manifest(body, size, &m, &cause) == 0)
		helm_oci_manifest_clear(&m);
	else if (cause == NULL)
		abort();
	free(cause);
	cause = NULL;
	if (helm_oci_parse_config(body, size, &name, &version, &app,
	    &cause) == 0) {
		free(name);
		free(version);
		free(app);
	} else
		free(cause);
	s = strndup(body, size);
	cause = NULL;
	if (helm_oci_url_parse(s, &u, &cause) == 0)
		helm_oci_url_clear(&u);
	else
		free(cause);
	free(helm_oci_version_of(s));
	free(helm_oci_tag_of(s));
	free(s);
	return (0);
}
