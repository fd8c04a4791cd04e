/*
 * files-walk.c: the walk of a directory tree on a file server, in the
 * listing child (provider-files.c): breadth first from the source's
 * directory down to its depth, regular files whose relative path passes
 * artifactPathRegex, at most max of them, printed to fd 1 as the JSON
 * files_parse_listing() reads.  The protocol is behind files_walk_ops.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "order.h"
#include "provider-files.h"

#define WALK_DIRS_MAX	10000	/* directories visited at most */

static int
passes(const struct filter *f, const char *path)
{
	char	*key = NULL, *why = NULL;
	int	 rc;

	if (f == NULL)
		return (1);
	rc = filter_match(f, path, &key, &why);
	free(key);
	free(why);
	return (rc == 1);
}

static int
write_all(int fd, const char *s, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = write(fd, s, len)) <= 0)
			return (-1);
		s += n;
		len -= (size_t)n;
	}
	return (0);
}

int
files_walk(const struct files_walk_ops *ops, void *ctx,
    const struct filter *filter, long long depth, long long max)
{
	cJSON		*doc, *list, *o;
	char		**queue, *rel, *name, *path, *text;
	int		*level;
	size_t		 head = 0, tail = 0, qsize = 64;
	long long	 found = 0;
	int64_t		 size, mtime;
	int		 is_dir, is_file, rc, truncated = 0, status = 0;
	void		*dir;

	doc = cJSON_CreateObject();
	list = cJSON_AddArrayToObject(doc, "entries");
	queue = xcalloc(qsize, sizeof *queue);
	level = xcalloc(qsize, sizeof *level);
	queue[tail] = xstrdup("");
	level[tail++] = 0;
	while (head < tail && !truncated) {
		rel = queue[head];
		if ((dir = ops->open(ctx, rel)) == NULL) {
			dprintf(2, "cannot list %s%s: %s\n", head == 0 ?
			    "the directory" : "directory ", rel,
			    ops->error(ctx));
			status = -1;
			break;
		}
		while ((rc = ops->next(ctx, dir, &name, &is_dir, &is_file,
		    &size, &mtime)) == 1) {
			if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
				free(name);
				continue;
			}
			if (*rel != '\0')
				xasprintf(&path, "%s/%s", rel, name);
			else
				path = xstrdup(name);
			free(name);
			if (is_dir) {
				if (level[head] < depth &&
				    tail < WALK_DIRS_MAX) {
					if (tail == qsize) {
						qsize *= 2;
						queue = xreallocarray(queue,
						    qsize, sizeof *queue);
						level = xreallocarray(level,
						    qsize, sizeof *level);
					}
					queue[tail] = path;
					level[tail++] = level[head] + 1;
				} else
					free(path);
				continue;
			}
			if (!is_file || !passes(filter, path)) {
				free(path);
				continue;
			}
			if (found >= max) {
				truncated = 1;
				free(path);
				break;
			}
			o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "path", path);
			cJSON_AddNumberToObject(o, "size", (double)size);
			cJSON_AddNumberToObject(o, "mtime", (double)mtime);
			cJSON_AddItemToArray(list, o);
			found++;
			free(path);
		}
		ops->close(ctx, dir);
		if (rc == -1) {
			dprintf(2, "listing %s: %s\n", *rel != '\0' ? rel :
			    "the directory", ops->error(ctx));
			status = -1;
			break;
		}
		head++;
	}
	while (tail > 0)
		free(queue[--tail]);
	free(queue);
	free(level);
	if (status == 0) {
		cJSON_AddBoolToObject(doc, "truncated", truncated);
		text = cJSON_PrintUnformatted(doc);
		if (write_all(1, text, strlen(text)) != 0)
			status = -1;
		free(text);
	}
	cJSON_Delete(doc);
	return (status);
}
