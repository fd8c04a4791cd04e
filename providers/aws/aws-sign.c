/*
 * aws-sign.c: a request ready to send to AWS.  Takes the URL and the
 * headers a caller sends, signs them with SigV4 (aws-sigv4.c) and gives
 * back every header line to send: the caller's, x-amz-date,
 * x-amz-content-sha256 (S3), x-amz-security-token (temporary keys) and
 * Authorization.  Host is signed as libcurl will send it (the URL's
 * authority, without a default port) and left to libcurl.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws.h"
#include "aws-sigv4.h"

/* "host[:port]" as libcurl sends it; NULL when url is not http(s). */
char *
aws_host_header(const char *url)
{
	const char	*p, *end, *at;
	size_t		 n;
	int		 https;

	if (strncasecmp(url, "https://", 8) == 0) {
		https = 1;
		p = url + 8;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		https = 0;
		p = url + 7;
	} else
		return (NULL);
	end = p + strcspn(p, "/?#");
	if ((at = memchr(p, '@', (size_t)(end - p))) != NULL)
		p = at + 1;
	n = (size_t)(end - p);
	if (n == 0)
		return (NULL);
	if (https && n > 4 && strncmp(end - 4, ":443", 4) == 0)
		n -= 4;
	else if (!https && n > 3 && strncmp(end - 3, ":80", 3) == 0)
		n -= 3;
	return (xstrndup(p, n));
}

void
aws_lines_free(char **lines)
{
	size_t	 i;

	if (lines == NULL)
		return;
	for (i = 0; lines[i] != NULL; i++) {
		explicit_bzero(lines[i], strlen(lines[i]));
		free(lines[i]);
	}
	free(lines);
}

int
aws_sign_request(const struct aws_request *r, const struct aws_creds *c,
    char ***out, char **cause)
{
	struct aws_header	*h;
	struct aws_sign_in	 in = { 0 };
	struct aws_signature	 sig;
	char			 date[17], sha[65], *host, *path, *query = NULL;
	char			**lines, *colon;
	const char		*p;
	size_t			 n = 0, nin, i, nl = 0;

	*out = NULL;
	if ((host = aws_host_header(r->url)) == NULL)
		return (fail(cause, "not an http(s) URL: %s", r->url));
	if (c == NULL || c->access_key == NULL || c->secret_key == NULL) {
		free(host);
		return (fail(cause, "no AWS credentials"));
	}
	p = strstr(r->url, "://") + 3;
	p += strcspn(p, "/?#");
	path = xstrndup(p, strcspn(p, "?#"));
	if (*path == '\0') {
		free(path);
		path = xstrdup("/");
	}
	if (p[strcspn(p, "?#")] == '?') {
		p += strcspn(p, "?#") + 1;
		query = xstrndup(p, strcspn(p, "#"));
	}
	for (nin = 0; r->headers != NULL && r->headers[nin] != NULL; nin++)
		;
	h = xcalloc(nin + 4, sizeof *h);
	lines = xcalloc(nin + 5, sizeof *lines);
	for (i = 0; i < nin; i++) {
		lines[nl] = xstrdup(r->headers[i]);
		if ((colon = strchr(lines[nl], ':')) == NULL) {
			aws_lines_free(lines);
			free(h);
			free(host);
			free(path);
			free(query);
			return (fail(cause, "header without a colon"));
		}
		*colon = '\0';
		h[n].name = lines[nl];
		h[n].value = colon + 1;
		n++;
		nl++;
	}
	aws_amz_date(r->now_s, date);
	h[n++] = (struct aws_header){ "host", host };
	h[n++] = (struct aws_header){ "x-amz-date", date };
	if (r->s3) {
		aws_sha256_hex(r->body != NULL ? r->body : "", r->body_len,
		    sha);
		h[n++] = (struct aws_header){ "x-amz-content-sha256", sha };
	}
	if (c->session_token != NULL)
		h[n++] = (struct aws_header){ "x-amz-security-token",
		    c->session_token };
	in.method = r->method != NULL ? r->method : "GET";
	in.path = path;
	in.query = query;
	in.headers = h;
	in.nheaders = n;
	in.body = r->body;
	in.body_len = r->body_len;
	in.s3 = r->s3;
	in.region = r->region;
	in.service = r->service;
	in.amz_date = date;
	in.access_key = c->access_key;
	in.secret_key = c->secret_key;
	if (aws_sigv4(&in, &sig, cause) != 0) {
		aws_lines_free(lines);
		free(h);
		free(host);
		free(path);
		free(query);
		return (-1);
	}
	/* The caller's lines back as they were, then ours. */
	for (i = 0; i < nl; i++)
		lines[i][strlen(lines[i])] = ':';
	for (i = nin + 1; i < n; i++)
		xasprintf(&lines[nl++], "%s: %s", h[i].name, h[i].value);
	xasprintf(&lines[nl++], "Authorization: %s", sig.authorization);
	lines[nl] = NULL;
	aws_signature_clear(&sig);
	free(h);
	free(host);
	free(path);
	free(query);
	*out = lines;
	return (0);
}
