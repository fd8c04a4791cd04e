/*
 * files-parse.c: the pure parts of the files family: the listing a child
 * prints (files-walk.c) into versions, the host key types a known_hosts
 * text names, the directory of a source cleaned, and sftp:// and smb://
 * URLs taken apart.  Bytes in, values out.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json.h"
#include "provider-files.h"

void
files_url_clear(struct files_url *u)
{
	free(u->host);
	free(u->share);
	memset(u, 0, sizeof *u);
}

int
files_url_parse(const char *url, const char *scheme, int want_share,
    struct files_url *u, char **cause)
{
	const char	*p, *host, *end, *colon;
	size_t		 slen = strlen(scheme);
	char		*e;
	long		 port;

	memset(u, 0, sizeof *u);
	if (url == NULL || strncasecmp(url, scheme, slen) != 0 ||
	    strncmp(url + slen, "://", 3) != 0)
		return (fail(cause, "%s is not a %s:// URL", url != NULL ?
		    url : "(none)", scheme));
	host = url + slen + 3;
	if (strchr(host, '@') != NULL)
		return (fail(cause, "%s:// URL must not hold a user or a "
		    "password: use auth", scheme));
	end = host + strcspn(host, "/");
	if (*host == '[') {
		if ((p = memchr(host, ']', end - host)) == NULL)
			return (fail(cause, "%s: bad IPv6 address", url));
		u->host = xstrndup(host + 1, p - host - 1);
		colon = p[1] == ':' ? p + 1 : NULL;
	} else {
		colon = memchr(host, ':', end - host);
		u->host = xstrndup(host, (colon != NULL ? colon : end) - host);
	}
	if (*u->host == '\0') {
		files_url_clear(u);
		return (fail(cause, "%s has no host", url));
	}
	u->port = 0;
	if (colon != NULL) {
		port = strtol(colon + 1, &e, 10);
		if (e != end || port < 1 || port > 65535) {
			files_url_clear(u);
			return (fail(cause, "%s: bad port", url));
		}
		u->port = (unsigned)port;
	}
	p = *end == '/' ? end + 1 : end;
	if (want_share) {
		end = p + strcspn(p, "/");
		if (end == p) {
			files_url_clear(u);
			return (fail(cause, "%s names no share (%s://host/"
			    "share)", url, scheme));
		}
		u->share = xstrndup(p, end - p);
		p = *end == '/' ? end + 1 : end;
	}
	if (*p != '\0') {
		files_url_clear(u);
		return (fail(cause, "%s: the path goes in the source's "
		    "directory, not in the URL", url));
	}
	return (0);
}

int
files_directory_clean(const char *dir, char **out, char **cause)
{
	struct buf	 b = { 0 };
	const char	*p, *end;
	size_t		 n;

	*out = NULL;
	if (dir == NULL)
		dir = "";
	/* An absolute directory stays one; else it is below the login's. */
	if (*dir == '/')
		buf_add(&b, "/", 1);
	for (p = dir; *p != '\0'; p = end) {
		while (*p == '/' || *p == '\\')
			p++;
		if (*p == '\0')
			break;
		end = p + strcspn(p, "/\\");
		n = end - p;
		if (n == 1 && *p == '.')
			continue;
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			buf_free(&b);
			return (fail(cause, "directory %s: \"..\" is not "
			    "allowed", dir));
		}
		if (b.len > 0 && b.data[b.len - 1] != '/')
			buf_add(&b, "/", 1);
		buf_add(&b, p, n);
	}
	*out = b.data != NULL ? buf_take(&b) : xstrdup("");
	return (0);
}

char *
files_known_hosts_methods(const char *text)
{
	static const char *const types[][2] = {
		{ "ssh-ed25519", "ssh-ed25519" },
		{ "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256" },
		{ "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384" },
		{ "ecdsa-sha2-nistp521", "ecdsa-sha2-nistp521" },
		{ "ssh-rsa", "rsa-sha2-512,rsa-sha2-256,ssh-rsa" },
	};
	struct buf	 b = { 0 };
	const char	*line, *end, *p, *w;
	size_t		 i, n, wl;
	int		 seen[nitems(types)] = { 0 };

	if (text == NULL)
		return (NULL);
	for (line = text; *line != '\0'; line = *end ? end + 1 : end) {
		end = line + strcspn(line, "\n");
		/* host[s] [marker] keytype key [comment]: any word counts. */
		for (p = line; p < end; p = w + wl) {
			while (p < end && isspace((unsigned char)*p))
				p++;
			w = p;
			wl = 0;
			while (w + wl < end &&
			    !isspace((unsigned char)w[wl]))
				wl++;
			if (wl == 0)
				break;
			if (w == line && *w == '#')
				break;
			for (i = 0; i < nitems(types); i++) {
				n = strlen(types[i][0]);
				if (wl == n && strncmp(w, types[i][0], n) == 0 &&
				    !seen[i]) {
					seen[i] = 1;
					if (b.len > 0)
						buf_add(&b, ",", 1);
					buf_adds(&b, types[i][1]);
				}
			}
		}
	}
	return (b.data != NULL ? buf_take(&b) : NULL);
}

int
files_parse_listing(const char *body, size_t len, const char *directory,
    long long max, struct versions *vs, char **cause)
{
	cJSON		*doc;
	const cJSON	*list, *e;
	const char	*path;
	struct version	*v;
	double		 size, mtime;
	char		*full, digest[64];

	if (json_parse_object(body, len, &doc, cause) != 0)
		return (-1);
	if (!cJSON_IsArray(list = json_get(doc, "entries"))) {
		cJSON_Delete(doc);
		return (fail(cause, "listing without entries"));
	}
	cJSON_ArrayForEach(e, list) {
		if ((path = json_str(e, "path")) == NULL || *path == '\0' ||
		    json_num(e, "size", &size) != 0 || size < 0 ||
		    size > 9e18 || json_num(e, "mtime", &mtime) != 0 ||
		    mtime < 0 || mtime > 9e15)
			continue;
		if ((long long)vs->n >= max) {
			vs->truncated = 1;
			break;
		}
		v = versions_add(vs, path);
		snprintf(digest, sizeof digest, "%lld:%lld", (long long)size,
		    (long long)mtime);
		v->digest = xstrdup(digest);
		v->pushed_at = (int64_t)mtime;
		v->size = (int64_t)size;
		if (directory != NULL && *directory != '\0')
			xasprintf(&full, "%s%s%s", directory,
			    directory[strlen(directory) - 1] == '/' ? "" : "/",
			    path);
		else
			full = xstrdup(path);
		version_set(v, "path", full);
		free(full);
		version_set_number(v, "size", size);
	}
	if (cJSON_IsTrue(json_get(doc, "truncated")))
		vs->truncated = 1;
	cJSON_Delete(doc);
	return (0);
}
