/*
 * provider-files.h: private to the files family (providers/files/): the
 * Sftp and Smb connectors (connector-sftp.c, connector-smb.c) and sources
 * (provider-sftp.c, provider-smb.c), which share how a listing runs
 * (provider-files.c: a forked child, child.h, so that the blocking
 * libssh2 and libsmbclient calls never stall the event loop and a hung
 * server is ended by a kill), the walk of a directory tree (files-walk.c),
 * the protocol sides (files-sftp.c, files-smb.c), and the pure parsers
 * (files-parse.c).
 */
#ifndef PROVIDER_FILES_H
#define PROVIDER_FILES_H

#include "watcher.h"
#include "config.h"

#define FILES_DEPTH_MAX	16

/* Indexes into the `choices` of auth.type. */
enum sftp_auth_type { SFTP_AUTH_PASSWORD, SFTP_AUTH_KEY };

/* connector spec: Sftp */
struct sftp_connector {
	char		*url;		/* sftpUrl: sftp://host[:port] */
	int		 auth_type;
	char		*username;
	char		*password_ref;	/* UsernamePassword */
	char		*key_ref;	/* SshKey: sshKeyRef */
	char		*passphrase_ref; /* SshKey: passphraseRef */
	char		*known_hosts_ref; /* a known_hosts line (a secret) */
	int64_t		 timeout_ms;	/* connectTimeout */
};

/* connector spec: Smb */
struct smb_connector {
	char		*url;		/* smbUrl: smb://host[:port]/share */
	char		*domain;
	int		 auth_type;	/* UsernamePassword only */
	char		*username;
	char		*password_ref;
	int64_t		 timeout_ms;
};

/* source spec: Sftp and Smb */
struct files_source {
	char		*connector_ref;
	char		*directory;
	char		*path_regex;	/* artifactPathRegex */
	long long	 depth;		/* recursion: 0 the directory only */
};

/* sftp://host[:port] and smb://host[:port]/share taken apart. */
struct files_url {
	char		*host;
	unsigned	 port;
	char		*share;		/* smb only */
};
int	 files_url_parse(const char *url, const char *scheme, int want_share,
	    struct files_url *, char **cause);
void	 files_url_clear(struct files_url *);

/* What a walk found, one entry per regular file. */
struct files_entry {
	char		*path;		/* relative to the directory */
	int64_t		 size;
	int64_t		 mtime;		/* unix s */
};

/* files-parse.c: pure. */

/*
 * The listing a child prints: {"entries":[{"path","size","mtime"}…],
 * "truncated":bool}.  Into versions: name = path relative to the
 * directory, digest "size:mtime", pushedAt mtime, fields path (the full
 * path, from `directory`) and size.
 */
int	 files_parse_listing(const char *body, size_t len,
	    const char *directory, long long max, struct versions *,
	    char **cause);
/*
 * The host key types named by OpenSSH known_hosts text, as libssh2's
 * method preference ("ssh-ed25519,ecdsa-sha2-nistp256"); NULL when none.
 */
char	*files_known_hosts_methods(const char *text);
/*
 * "/a//b/./" → "/a/b", "a/b/" → "a/b": the directory without empty or "."
 * parts, absolute when it was; ".." refused.
 */
int	 files_directory_clean(const char *dir, char **out, char **cause);

/* files-walk.c: in the child. */
struct files_walk_ops {
	void	*(*open)(void *ctx, const char *rel);	/* NULL: errno-ish */
	/* 1 an entry, 0 the end, -1 an error: name, dir?, size, mtime. */
	int	 (*next)(void *ctx, void *dir, char **name, int *is_dir,
		    int *is_file, int64_t *size, int64_t *mtime);
	void	 (*close)(void *ctx, void *dir);
	/* Why the last open failed, one line. */
	const char *(*error)(void *ctx);
};
struct filter;
/*
 * Walk from the directory (rel ""), down to depth, the files whose
 * relative path passes `filter` (may be NULL); print the listing (JSON) to
 * fd 1.  0, or -1 with the cause on fd 2.
 */
int	 files_walk(const struct files_walk_ops *, void *ctx,
	    const struct filter *, long long depth, long long max);

/* files-sftp.c and files-smb.c: the child's side, an exit status. */
struct sftp_job {
	char		*host;
	unsigned	 port;
	char		*username;
	char		*password;	/* or NULL */
	char		*key;		/* private key text, or NULL */
	char		*passphrase;	/* or NULL */
	char		*known_hosts;	/* known_hosts text */
	char		*directory;	/* absolute or relative to home */
	int64_t		 timeout_ms;
	const struct filter *filter;
	long long	 depth, max;
	int		 probe;		/* log in, open the SFTP channel only */
};
int	 sftp_job_run(void *sftp_job);

struct smb_job {
	char		*host;
	unsigned	 port;
	char		*share;
	char		*domain;
	char		*username;
	char		*password;
	char		*directory;
	int64_t		 timeout_ms;
	const struct filter *filter;
	long long	 depth, max;
	int		 probe;		/* log in, open the share only */
};
int	 smb_job_run(void *smb_job);

/*
 * connector-sftp.c and connector-smb.c: a job from the connector (its
 * server, user and timeout; *_job_clear frees them), its secrets resolved
 * for one run (*_job_secrets, -1 with *cause naming the reference) and
 * wiped (*_job_scrub) once the child has its copy.
 */
struct config;
int	 sftp_job_init(struct sftp_job *, const struct sftp_connector *,
	    char **cause);
int	 sftp_job_secrets(struct sftp_job *, const struct sftp_connector *,
	    const struct config *, char **cause);
void	 sftp_job_scrub(struct sftp_job *);
void	 sftp_job_clear(struct sftp_job *);
int	 smb_job_init(struct smb_job *, const struct smb_connector *,
	    char **cause);
int	 smb_job_secrets(struct smb_job *, const struct smb_connector *,
	    const struct config *, char **cause);
void	 smb_job_scrub(struct smb_job *);
void	 smb_job_clear(struct smb_job *);

/* provider-files.c: what both source types share. */
struct provider;
struct list_request;
struct provider_result;
struct child_conf;
struct files;
struct files {
	const char		*scheme;	/* "sftp", "smb" */
	char			*host;		/* for the event */
	char			*share;		/* smb */
	char			*directory;	/* cleaned */
	struct filter		*filter;	/* artifactPathRegex */
	/* Fill the child's job (with the secrets) for a listing. */
	int			(*prepare)(struct provider *, struct child_conf *,
				    long long max, char **cause);
	void			(*scrub)(struct provider *);
	void			*job;
	struct files_call	*call;
};
int	 files_check(struct source_conf *, struct cfg_errors *);
char	*files_identity(const struct source_conf *);
int	 files_init(struct provider *, struct files *, char **cause);
void	 files_list(struct provider *, const struct list_request *,
	    void (*)(const struct provider_result *, void *), void *);
void	 files_cancel(struct provider *);
void	 files_free(struct provider *);
extern const struct cfg_key files_source_keys[];

/*
 * files-probe.c: check --connect of an Sftp or Smb connector: fn(job) in
 * a child (it logs in and lists nothing; `secrets` resolves what it needs
 * just before), then done(ok, cause) once from the loop.  scrub() wipes
 * the secrets once the child has its copy, release() frees the job.
 */
struct connector;
struct files_probe_conf {
	const char	*what;		/* "sftp://host:port", for the cause */
	int		(*fn)(void *job);
	void		*job;		/* NULL: it could not be made, */
	const char	*error;		/* and why (reported from the loop) */
	int64_t		 timeout_ms;
	int		(*secrets)(struct connector *, void *job, char **cause);
	void		(*scrub)(void *job);
	void		(*release)(void *job);
};
void	 files_probe(struct connector *, const struct files_probe_conf *,
	    void (*done)(int ok, const char *cause, void *), void *arg);

#endif
