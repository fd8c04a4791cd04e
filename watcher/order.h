/*
 * order.h: ordering versions (DESIGN §2 "ordering by semver, number, name or
 * push time") and the tag filter (PCRE2 include/exclude, the default noise
 * filter for signature and attestation tags, a named group `key` that
 * extracts a sort key).  Pure: strings in, decisions out.
 */
#ifndef ORDER_H
#define ORDER_H

#include "watcher.h"

enum order_kind {
	ORDER_NONE,		/* as the source lists them */
	ORDER_SEMVER,
	ORDER_NUMERIC,
	ORDER_ALPHABETICAL,
	ORDER_PUSHED,
};

/* A parsed semantic version; identifiers point into the parsed string. */
struct semver {
	uint64_t	 major, minor, patch;
	const char	*pre;		/* after '-', up to '+' or end; NULL */
	size_t		 prelen;
};
/*
 * Parse "1.2.3", "v1.2.3", "1.2.3-rc.1+build.5"; "1.2" and "1" are read as
 * 1.2.0 and 1.0.0 (tags often drop zeros).  Returns -1 if not a version.
 */
int	 semver_parse(const char *, struct semver *);
/* <0, 0, >0 by SemVer 2.0 precedence (build metadata ignored). */
int	 semver_cmp(const struct semver *, const struct semver *);

struct filter;
struct filter_conf {
	const char	*include;	/* tagRegex, NULL: all */
	const char	*exclude;	/* tagRegexExclude, NULL: none */
	int		 keep_noise;	/* keep sha256-….sig/.att/.sbom */
	enum order_kind	 order;
	int		 prereleases;	/* semver: keep pre-releases */
};
/* Compile; NULL with *cause naming the bad pattern and offset. */
struct filter	*filter_create(const struct filter_conf *, char **cause);
void		 filter_free(struct filter *);	/* accepts NULL */
/*
 * The literal start every match of an include pattern shares ("" when
 * there is none, e.g. an alternation): what a listing API can take as its
 * prefix (S3's and GCS's `prefix`).  Allocated.
 */
char		*filter_literal_prefix(const char *re);
/*
 * Does `name` pass?  1 yes (and *key, allocated, is the sort key: the
 * named group `key` when the include pattern has one, else NULL), 0 no,
 * -1 the pattern hit PCRE2's match limits on this name (*cause set).
 */
int		 filter_match(const struct filter *, const char *name,
		    char **key, char **cause);

/*
 * Sort versions oldest first by `order`, using keys[i] (may be NULL) as the
 * sort key of versions->v[i] where given.  Versions the order cannot place
 * (a non-version tag under semver, a non-number under numeric) are dropped
 * and counted in *dropped.  keys are freed.
 */
void	 order_sort(struct versions *, char **keys, enum order_kind,
	    size_t *dropped);
int	 order_parse(const char *, enum order_kind *);

#endif
