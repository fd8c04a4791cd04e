/*
 * fuzz-files.c: libFuzzer over the files family's pure parts: the listing
 * a child prints, known_hosts text, sftp:// and smb:// URLs, directories.
 * The first byte picks; the rest is the input.  Each answers 0 or -1 with
 * a cause, never crashes or leaks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "provider-files.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct versions		 vs = { 0 };
	struct files_url	 u;
	const char		*body = (const char *)data + 1;
	size_t			 len = size - 1;
	char			*s, *out, *cause = NULL;

	if (size == 0)
		return (0);
	s = xstrndup(body, len);
	switch (data[0] % 4) {
	case 0:
		if (files_parse_listing(body, len, "/srv", 100, &vs,
		    &cause) == 0)
			versions_free(&vs);
		break;
	case 1:
		free(files_known_hosts_methods(s));
		break;
	case 2:
		if (files_url_parse(s, "smb", 1, &u, &cause) == 0)
			files_url_clear(&u);
		free(cause);
		cause = NULL;
		if (files_url_parse(s, "sftp", 0, &u, &cause) == 0)
			files_url_clear(&u);
		break;
	default:
		if (files_directory_clean(s, &out, &cause) == 0) {
			if (strstr(out, "..") != NULL && (strcmp(out, "..") == 0 ||
			    strstr(out, "/../") != NULL ||
			    strncmp(out, "../", 3) == 0))
				abort();	/* a .. part got through */
			free(out);
		}
		break;
	}
	free(cause);
	free(s);
	return (0);
}
