/*
 * linkcache: the links one process has read, by short code, for a store backend that can
 * tell when another process changed the data (store_sqlite: PRAGMA data_version under its
 * write lock). The owner decides when the cache is valid and clears it otherwise; the cache
 * itself only holds copies. Bounded: once it holds LINKCACHE_MAX links it starts over.
 */
#ifndef FS_LINKCACHE_H
#define FS_LINKCACHE_H
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define LINKCACHE_MAX	16384

struct linkcache;

struct linkcache *linkcache_new(void);		/* allocates its table on the first put */
void	 linkcache_free(struct linkcache *);	/* NULL ok */
void	 linkcache_clear(struct linkcache *);	/* NULL ok */
size_t	 linkcache_count(const struct linkcache *);
/* The cached link for code and its row id, or NULL. The entry stays the cache's: it is valid
 * until the next put or clear, and the caller may change its counters in place. */
struct link *linkcache_get(struct linkcache *, const char *code, int64_t *rowid);
/* Stores a copy of l (not one of the cache's own entries: storing may start the cache over)
 * with its row id, replacing the entry of the same code; returns the entry (as
 * linkcache_get), or NULL if it could not be stored. */
struct link *linkcache_put(struct linkcache *, const struct link *l, int64_t rowid);

#endif
