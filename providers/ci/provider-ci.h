/*
 * provider-ci.h: private to the CI family (providers/ci/): the Bamboo and
 * Jenkins connectors (connector-bamboo.c, connector-jenkins.c) and sources
 * (provider-bamboo.c, provider-jenkins.c), their spec structs, and the pure
 * parsers of the servers' answers (ci-parse.c).  provider-protocols.md §11.
 */
#ifndef PROVIDER_CI_H
#define PROVIDER_CI_H

#include "watcher.h"
#include "config.h"

/* Indexes into the `choices` of auth.type. */
enum ci_auth_type { CI_AUTH_ANONYMOUS, CI_AUTH_PASSWORD, CI_AUTH_BEARER };

/* connector spec: (Bamboo: bambooUrl; Jenkins: jenkinsUrl) */
struct ci_connector {
	char		*url;
	int		 auth_type;	/* auth.type */
	char		*username;	/* auth.spec.username */
	char		*password_ref;	/* auth.spec.passwordRef (a secret) */
	char		*token_ref;	/* auth.spec.tokenRef: Bearer */
};

/* source spec: Bamboo */
struct bamboo_source {
	char		*connector_ref;
	char		*plan_key;	/* planKey: PROJ-PLAN */
	const struct cfg_node *artifact_paths;	/* a string or a list */
	struct cfg_strlist states;	/* buildStates: Successful */
};

/* source spec: Jenkins */
struct jenkins_source {
	char		*connector_ref;
	char		*job_name;	/* jobName: team/app/main */
	char		*artifact_path;	/* artifactPath: a regex */
	struct cfg_strlist results;	/* buildResults: SUCCESS */
};

/* One artifact of a build. */
struct ci_artifact {
	char		*name;
	char		*path;		/* relative path (Jenkins), or NULL */
	char		*url;		/* where to fetch it, or NULL */
	int64_t		 size;		/* -1 when unknown */
};

/* One build as a listing gives it. */
struct ci_build {
	long long	 number;
	char		*key;		/* Bamboo: buildResultKey */
	char		*state;		/* Successful, SUCCESS, … or NULL */
	int		 finished;	/* not queued, not running */
	int64_t		 completed_at;	/* unix s, 0 when unknown */
	char		*url;		/* its page */
	struct ci_artifact *artifacts;
	size_t		 nartifacts;
};
void	 ci_builds_free(struct ci_build *, size_t);

/* ci-parse.c: pure parsers, bytes (or a parsed page) in, builds out. */

/*
 * A Bamboo result listing page (JSON): results.result[]; *size is
 * results.size (the total), -1 when absent.
 */
int	 bamboo_parse_results(const cJSON *, struct ci_build **, size_t *,
	    long long *size, char **cause);
int	 bamboo_parse_results_bytes(const char *body, size_t len,
	    struct ci_build **, size_t *, long long *size, char **cause);
/* A Jenkins job's api/json?tree=builds[…]: builds[], newest first. */
int	 jenkins_parse_builds(const cJSON *, struct ci_build **, size_t *,
	    char **cause);
int	 jenkins_parse_builds_bytes(const char *body, size_t len,
	    struct ci_build **, size_t *, char **cause);
/* "team/app/main" → "/job/team/job/app/job/main" (each part escaped). */
char	*jenkins_job_path(const char *job_name, char **cause);
/* Bamboo plan keys: PROJ-PLAN (letters, digits, '-', '_'). */
int	 bamboo_plan_key_valid(const char *);

/* connector-ci.c: shared by both connectors. */
struct connector;
struct connector_creds;
/* auth: (type Anonymous | UsernamePassword | Bearer, spec). */
extern const char *const ci_auth_types[];
extern const struct cfg_key ci_auth_keys[];
int	 ci_connector_credentials(struct connector *,
	    struct connector_creds *, char **cause);
char	*ci_connector_identity(const struct connector_conf *);
int	 ci_connector_check(struct connector_conf *, struct cfg_errors *,
	    const char *url_key);
/* check --connect: GET <url><path> with the connector's auth. */
void	 ci_connector_probe(struct connector *, const char *path,
	    void (*done)(int ok, const char *cause, void *), void *arg);

/* ci-list.c: what both sources share. */
struct version;
struct versions;
struct filter;
struct provider;
struct provider_result;
struct list_request;
struct fetch;
struct fetcher;

/* A listing in flight. */
struct ci_call {
	struct provider		*p;
	void			(*done)(const struct provider_result *, void *);
	void			*arg;
	struct versions		*vs;
	long long		 max;		/* maxTags */
	long long		 start;		/* Bamboo: start-index of the page */
	long long		 pages;		/* Bamboo: pages read */
	long long		 last;		/* Bamboo: the oldest build so far */
	long long		 asked;		/* Jenkins: builds in the range */
};

/* p->data of both sources. */
struct ci_source {
	char			*base;		/* the server, no trailing / */
	char			*job;		/* planKey, jobName */
	char			*job_path;	/* Jenkins: /job/a/job/b */
	struct cfg_strlist	 names;		/* Bamboo: artifactPaths */
	struct filter		*artifacts;	/* Jenkins: artifactPath */
	struct fetcher		*fetcher;
	struct ci_call		*call;
};
/* The instance (p->data) on the connector's server; fields server, job. */
struct ci_source *ci_source_new(struct provider *, const char *job);
/*
 * A listing: the call (d->call) and its batch, whose end hands the
 * versions to `done`.
 */
struct ci_call	*ci_call_new(struct provider *, const struct list_request *,
		    void (*)(const struct provider_result *, void *), void *);
struct fetch	*ci_call_fetch(struct ci_call *);
void		 ci_cancel(struct provider *);
void		 ci_free(struct provider *);

void	 ci_version_fill(struct version *, const struct ci_build *,
	    const char *digest, const struct filter *artifacts_filter,
	    const struct cfg_strlist *artifact_names);
int	 ci_state_accepted(const struct cfg_strlist *, const char *def,
	    const char *state);

#endif
