/*
 * store-lmdb-env.c: the LMDB store's directory: where it is by default, the
 * lock that keeps a second watcher out, opening the environment and its
 * named databases, write transactions that grow the map when it fills, and
 * error messages that name the path and say what to do.
 *
 * Durability is LMDB's default (every commit is synced), so a commit the
 * caller saw succeed survives a crash or power cut.  The writer lock keeps a
 * second watcher out; history and replay open shared, without it.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store-lmdb.h"

#define LMDB_APP_DIR		"artifact-watcher"
#define LMDB_ROOT_DIR		"/var/lib/" LMDB_APP_DIR
#define LMDB_LOCK_FILE		"writer.lock"
#define LMDB_MAP_INITIAL	((size_t)1 << 30)	/* 1 GiB */
#define LMDB_MAP_LIMIT		((size_t)1 << 40)	/* 1 TiB */
#define LMDB_MAP_ENV		"ARTIFACT_WATCHER_LMDB_MAPSIZE"
#define LMDB_FORMAT		"1"
#define LMDB_RETRIES		48

/*
 * The directory used when the config names none: systemd's StateDirectory=,
 * else /var/lib for root, else the user's XDG state directory.
 */
int
lmdb_default_path(char **path, char **cause)
{
	const char	*v;

	if ((v = getenv("STATE_DIRECTORY")) != NULL && *v != '\0') {
		/* Several directories are separated by colons: the first. */
		*path = xstrndup(v, strcspn(v, ":"));
		return (0);
	}
	if (geteuid() == 0) {
		*path = xstrdup(LMDB_ROOT_DIR);
		return (0);
	}
	if ((v = getenv("XDG_STATE_HOME")) != NULL && *v == '/') {
		xasprintf(path, "%s/%s", v, LMDB_APP_DIR);
		return (0);
	}
	if ((v = getenv("HOME")) != NULL && *v == '/') {
		xasprintf(path, "%s/.local/state/%s", v, LMDB_APP_DIR);
		return (0);
	}
	return (fail(cause, "no state directory: set store.path in the "
	    "config, or STATE_DIRECTORY, XDG_STATE_HOME or HOME"));
}

/* mkdir -p, private to the user. */
static int
lmdb_mkdirs(const char *path, char **cause)
{
	char		*copy, *p, c;
	struct stat	 sb;

	copy = xstrdup(path);
	for (p = copy + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		c = *p;
		*p = '\0';
		if (mkdir(copy, 0700) != 0 && errno != EEXIST) {
			fail(cause, "cannot create state directory %s: %s",
			    copy, strerror(errno));
			free(copy);
			return (-1);
		}
		*p = c;
		if (c == '\0')
			break;
	}
	free(copy);
	if (stat(path, &sb) != 0)
		return (fail(cause, "cannot use state directory %s: %s", path,
		    strerror(errno)));
	if (!S_ISDIR(sb.st_mode))
		return (fail(cause, "state path %s is not a directory", path));
	return (0);
}

/* Take the writer lock next to the environment, or say who holds it. */
static int
lmdb_lock(struct lmdb_store *s, char **cause)
{
	char	*file, pid[32];
	ssize_t	 n;

	xasprintf(&file, "%s/%s", s->path, LMDB_LOCK_FILE);
	s->lock_fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lock_fd == -1) {
		fail(cause, "cannot open %s: %s; the watcher needs read and "
		    "write access to its state directory", file,
		    strerror(errno));
		free(file);
		return (-1);
	}
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK) {
			fail(cause, "cannot lock %s: %s", file,
			    strerror(errno));
			free(file);
			return (-1);
		}
		n = pread(s->lock_fd, pid, sizeof pid - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		fail(cause, "state directory %s is in use by another "
		    "artifact-watcher (pid %s, lock %s): stop it first, or "
		    "give this one its own store path", s->path,
		    *pid != '\0' ? pid : "unknown", file);
		free(file);
		return (-1);
	}
	free(file);
	n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(s->lock_fd, 0) != 0 ||
	    pwrite(s->lock_fd, pid, n, 0) != n)
		return (fail(cause, "cannot write %s/%s: %s", s->path,
		    LMDB_LOCK_FILE, strerror(errno)));
	return (0);
}

/* The first map size: 1 GiB, or the environment override (tests, bench). */
static int
lmdb_initial_map(size_t *size, char **cause)
{
	const char		*v;
	char			*end;
	unsigned long long	 n;

	*size = LMDB_MAP_INITIAL;
	if ((v = getenv(LMDB_MAP_ENV)) == NULL || *v == '\0')
		return (0);
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < 4096 || n > LMDB_MAP_LIMIT)
		return (fail(cause, "%s=%s: want a size in bytes between 4096 "
		    "and %zu", LMDB_MAP_ENV, v, LMDB_MAP_LIMIT));
	*size = n;
	return (0);
}

/* Open the named databases and check (or write) the layout version. */
static int
lmdb_open_dbs(struct lmdb_store *s, char **cause)
{
	static const char *const names[] = {
	    "versions", "markers", "outbox", "pending", "dead", "meta" };
	MDB_dbi		*dbis[] = { &s->versions, &s->markers, &s->outbox,
			    &s->pending, &s->dead, &s->meta };
	MDB_txn		*txn;
	MDB_val		 k, v;
	size_t		 i;
	int		 rc;

	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
		return (lmdb_fail(s, rc, "open", cause));
	for (i = 0; i < nitems(names); i++) {
		rc = mdb_dbi_open(txn, names[i], MDB_CREATE, dbis[i]);
		if (rc != 0)
			goto fail;
	}
	k.mv_data = (void *)"format";
	k.mv_size = strlen("format");
	rc = mdb_get(txn, s->meta, &k, &v);
	if (rc == MDB_NOTFOUND) {
		v.mv_data = (void *)LMDB_FORMAT;
		v.mv_size = strlen(LMDB_FORMAT);
		if ((rc = mdb_put(txn, s->meta, &k, &v, 0)) != 0)
			goto fail;
		log_info("state directory created", "path=%s",
		    log_q(s->path));
	} else if (rc != 0)
		goto fail;
	else if (v.mv_size != strlen(LMDB_FORMAT) ||
	    memcmp(v.mv_data, LMDB_FORMAT, v.mv_size) != 0) {
		mdb_txn_abort(txn);
		return (fail(cause, "state in %s has layout %.*s, this "
		    "artifact-watcher reads layout %s: run the version that "
		    "wrote it", s->path, (int)v.mv_size,
		    (const char *)v.mv_data, LMDB_FORMAT));
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		return (lmdb_fail(s, rc, "open", cause));
	return (0);

fail:
	mdb_txn_abort(txn);
	return (lmdb_fail(s, rc, "open", cause));
}

/*
 * A shared open (history, replay beside a running watcher) takes no writer
 * lock and creates nothing: LMDB itself serialises the few writes it makes
 * with the watcher's, across processes.
 */
static int
lmdb_shared_dir(const char *path, char **cause)
{
	struct stat	 sb;

	if (stat(path, &sb) != 0) {
		if (errno == ENOENT)
			return (fail(cause, "no state in %s: no watcher has "
			    "run with this store yet (or store.path names "
			    "another directory)", path));
		return (fail(cause, "cannot use state directory %s: %s", path,
		    strerror(errno)));
	}
	if (!S_ISDIR(sb.st_mode))
		return (fail(cause, "state path %s is not a directory", path));
	return (0);
}

int
lmdb_env_open(struct lmdb_store *s, const char *path, int shared,
    char **cause)
{
	MDB_envinfo	 info;
	size_t		 map;
	int		 rc;

	s->lock_fd = -1;
	s->path = xstrdup(path);
	if (lmdb_initial_map(&map, cause) != 0)
		return (-1);
	if (shared && lmdb_shared_dir(s->path, cause) != 0)
		return (-1);
	if (!shared && (lmdb_mkdirs(s->path, cause) != 0 ||
	    lmdb_lock(s, cause) != 0))
		return (-1);
	if ((rc = mdb_env_create(&s->env)) != 0)
		return (lmdb_fail(s, rc, "open", cause));
	if ((rc = mdb_env_set_maxdbs(s->env, 8)) != 0 ||
	    (rc = mdb_env_set_mapsize(s->env, map)) != 0 ||
	    (rc = mdb_env_open(s->env, s->path, 0, 0600)) != 0)
		return (lmdb_fail(s, rc, "open", cause));
	/* LMDB keeps a larger size if the data file is already bigger. */
	mdb_env_info(s->env, &info);
	s->map_size = info.me_mapsize;
	return (lmdb_open_dbs(s, cause));
}

void
lmdb_env_close(struct lmdb_store *s)
{
	if (s->env != NULL)
		mdb_env_close(s->env);
	s->env = NULL;
	if (s->lock_fd != -1)
		close(s->lock_fd);	/* releases the writer lock */
	s->lock_fd = -1;
	free(s->path);
	s->path = NULL;
}

/* Double the map, unless that passes the limit or the system refuses. */
static int
lmdb_grow(struct lmdb_store *s, char **cause)
{
	size_t	 want;
	int	 rc;

	if (s->map_size > LMDB_MAP_LIMIT / 2)
		return (fail(cause, "state in %s is full: the map is %zu MiB, "
		    "the largest this watcher uses; trim history (shorter "
		    "retention) or move old state aside", s->path,
		    s->map_size >> 20));
	want = s->map_size * 2;
	if ((rc = mdb_env_set_mapsize(s->env, want)) != 0)
		return (fail(cause, "state in %s is full and its map cannot "
		    "grow from %zu to %zu bytes (%s): free memory or address "
		    "space, or set %s; nothing of this change was written",
		    s->path, s->map_size, want, mdb_strerror(rc),
		    LMDB_MAP_ENV));
	log_info("state map grown", "path=%s bytes=%zu", log_q(s->path),
	    want);
	s->map_size = want;
	return (0);
}

/* Another process grew the map: adopt its size. */
static int
lmdb_adopt_map(struct lmdb_store *s)
{
	MDB_envinfo	 info;

	if (mdb_env_set_mapsize(s->env, 0) != 0)
		return (-1);
	mdb_env_info(s->env, &info);
	s->map_size = info.me_mapsize;
	return (0);
}

int
lmdb_read_begin(struct lmdb_store *s, MDB_txn **txn, char **cause)
{
	int	 rc;

	rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, txn);
	if (rc == MDB_MAP_RESIZED && lmdb_adopt_map(s) == 0)
		rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, txn);
	if (rc != 0)
		return (lmdb_fail(s, rc, "read", cause));
	return (0);
}

/*
 * Run fn in one write transaction and commit it: all or nothing.  When the
 * map fills, the transaction is dropped, the map doubled and fn run again
 * from the start.  fn returns 0 to commit, LMDB_UNCHANGED to drop the
 * transaction without error, LMDB_REFUSED (with *cause set) to drop it with
 * an error, or an LMDB or errno code.
 */
int
lmdb_write(struct lmdb_store *s, lmdb_write_fn fn, void *arg, char **cause)
{
	MDB_txn	*txn;
	int	 attempt, rc;

	for (attempt = 0; attempt < LMDB_RETRIES; attempt++) {
		rc = mdb_txn_begin(s->env, NULL, 0, &txn);
		if (rc == MDB_MAP_RESIZED && lmdb_adopt_map(s) == 0)
			continue;
		if (rc != 0)
			return (lmdb_fail(s, rc, "write", cause));
		rc = fn(s, txn, arg, cause);
		if (rc == LMDB_UNCHANGED || rc == LMDB_REFUSED) {
			mdb_txn_abort(txn);
			return (rc == LMDB_UNCHANGED ? 0 : -1);
		}
		if (rc == 0)
			rc = mdb_txn_commit(txn);
		else
			mdb_txn_abort(txn);
		if (rc == 0)
			return (0);
		if (rc != MDB_MAP_FULL)
			return (lmdb_fail(s, rc, "write", cause));
		if (lmdb_grow(s, cause) != 0)
			return (-1);
	}
	return (fail(cause, "state in %s is full: the map grew %d times and "
	    "this change still does not fit; nothing of it was written",
	    s->path, LMDB_RETRIES));
}

/*
 * LMDB reports a write cut short by a full disk as EIO: tell the two apart
 * by the space left.
 */
static int
lmdb_disk_full(const char *path)
{
	struct statvfs	 sv;

	return (statvfs(path, &sv) == 0 && sv.f_bavail == 0);
}

/* A clear cause for an LMDB or system error: the path and what to do. */
int
lmdb_fail(struct lmdb_store *s, int rc, const char *doing, char **cause)
{
	if (rc == EIO && lmdb_disk_full(s->path))
		rc = ENOSPC;
	switch (rc) {
	case MDB_INVALID:
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_VERSION_MISMATCH:
	case MDB_INCOMPATIBLE:
	case MDB_BAD_TXN:
		return (fail(cause, "state in %s is damaged or not an LMDB "
		    "store (%s): restore the directory from a backup, or move "
		    "it aside to start afresh (sources re-baseline and "
		    "undelivered events are lost)", s->path,
		    mdb_strerror(rc)));
	case MDB_MAP_FULL:
		return (fail(cause, "state in %s is full at %zu MiB: set %s "
		    "to a larger size; nothing of this change was written",
		    s->path, s->map_size >> 20, LMDB_MAP_ENV));
	case ENOSPC:
	case EDQUOT:
		return (fail(cause, "cannot %s state in %s: %s; free disk "
		    "space and the watcher goes on (nothing of this change "
		    "was written)", doing, s->path, strerror(rc)));
	case EIO:
		return (fail(cause, "cannot %s state in %s: the disk reported "
		    "an I/O error; check the disk and the system log (nothing "
		    "of this change was written)", doing, s->path));
	case EACCES:
	case EPERM:
	case EROFS:
		return (fail(cause, "cannot %s state in %s: %s; the watcher "
		    "needs read and write access to the directory and its "
		    "files", doing, s->path, strerror(rc)));
	default:
		return (fail(cause, "cannot %s state in %s: %s", doing,
		    s->path, mdb_strerror(rc)));
	}
}
