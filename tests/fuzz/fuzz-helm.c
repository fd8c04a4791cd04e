/*
 * fuzz-helm.c: libFuzzer over the HelmChart provider's index.yaml parser.
 * The input is the body a chart repository could send, whole (so the
 * recorded files seed it as they are); its length picks the chart asked for,
 * mostly "mychart", which the seeds hold, sometimes one they do not.
 * The parser must answer 0 with versions that pass their own grammar, or -1
 * with a cause; never crash, hang or leak.  Sorting runs on every success.
 */
#include <stdint.h>
#include <stdlib.h>

#include "helm/helm.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const charts[] = { "mychart", "mychart", "other",
	    "x" };
	struct helm_index	 idx;
	char			*cause = NULL;
	size_t			 i;

	if (helm_parse_index((const char *)data, size, charts[size % 4], &idx,
	    &cause) == 0) {
		for (i = 0; i < idx.n; i++) {
			if (!helm_version_valid(idx.v[i].version))
				abort();
		}
		helm_index_sort(&idx);
		helm_index_clear(&idx);
	} else if (cause == NULL)
		abort();
	free(cause);
	return (0);
}
