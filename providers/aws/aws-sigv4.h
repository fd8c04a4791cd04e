/*
 * aws-sigv4.h: AWS Signature Version 4, in C with OpenSSL, for the Aws
 * connector's services (ECR, S3, EC2, STS).  Pure: a request's parts and a
 * key in, the canonical request, string to sign and Authorization header
 * out, so that it is tested against the AWS test suite without a network.
 */
#ifndef AWS_SIGV4_H
#define AWS_SIGV4_H

#include "watcher.h"

/* The hash of an empty payload, which every GET signs. */
#define AWS_EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct aws_header {
	const char	*name;		/* any case: it is lowered */
	const char	*value;		/* trimmed, inner blanks squeezed */
};

struct aws_sign_in {
	const char		*method;
	/*
	 * The path and query as they go on the wire (already percent-encoded
	 * where needed; query without '?', NULL or "" for none).  Outside S3
	 * the path is normalised (RFC 3986 dot segments, empty segments) and
	 * encoded once more, as AWS requires; S3 takes it as it is.
	 */
	const char		*path;
	const char		*query;
	/* Every header to sign, host and x-amz-date included; duplicates
	 * are joined with ',' in order. */
	const struct aws_header	*headers;
	size_t			 nheaders;
	const void		*body;
	size_t			 body_len;
	/* NULL: the hex SHA-256 of body; else e.g. "UNSIGNED-PAYLOAD". */
	const char		*payload_hash;
	int			 s3;
	const char		*region;
	const char		*service;
	const char		*amz_date;	/* "20150830T123600Z" */
	const char		*access_key;
	const char		*secret_key;
};

struct aws_signature {
	char	*creq;		/* the canonical request */
	char	*sts;		/* the string to sign */
	char	*signed_headers;
	char	*authorization;	/* the Authorization header's value */
};

/* Fills sig (free with aws_signature_clear); -1 and *cause if malformed. */
int	 aws_sigv4(const struct aws_sign_in *, struct aws_signature *,
	    char **cause);
void	 aws_signature_clear(struct aws_signature *);
/* "YYYYMMDDTHHMMSSZ" of unix seconds, into out[17]. */
void	 aws_amz_date(int64_t unix_s, char out[17]);
/* Appends s percent-encoded by AWS's rules (unreserved kept; '/' kept
 * when keep_slash). */
void	 aws_uri_encode(struct buf *, const char *s, size_t len,
	    int keep_slash);
/* Lower-case hex SHA-256 of data into out[65]. */
void	 aws_sha256_hex(const void *data, size_t len, char out[65]);

#endif
