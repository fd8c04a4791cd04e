/*
 * retention.h: keeping history only as long as `retention` (store block)
 * says: the running watcher trims the store once at start and then hourly.
 */
#ifndef RETENTION_H
#define RETENTION_H

#include "watcher.h"

struct retention;

/*
 * Trim env->store now (from the loop) and every `every_ms` (0: hourly),
 * dropping delivered events committed more than env->conf->store's
 * retention ago; the retention is read at each trim, so a reload applies.
 * env must outlive the retention.
 */
struct retention	*retention_start(struct env *, int64_t every_ms);
/* Stops; a trim in flight finishes in the store unseen.  Accepts NULL. */
void			 retention_free(struct retention *);
/* Trims finished (ok or not), for tests and status. */
unsigned		 retention_runs(const struct retention *);

#endif
