/*
 * purge: removes links past their expiry together with their blobs, and blobs that no link
 * refers to (orphans: left by a crash between writing a blob and its row, or by a failed
 * delete) once they are older than PURGE_ORPHAN_AGE_S. Used by `fileshare-admin purge` and
 * run periodically by the worker pool's supervisor.
 */
#ifndef FS_PURGE_H
#define FS_PURGE_H
#include <stdint.h>

#include "blob.h"
#include "config.h"
#include "store.h"

#define PURGE_ORPHAN_AGE_S	3600
#define PURGE_BATCH		500

struct purge_stats {
	uint64_t	expired_links;
	uint64_t	blobs_deleted;
	uint64_t	orphans_deleted;
	uint64_t	errors;
};

/* One full pass at time now. 0, or -1 if the store or blob store failed (logged). */
int	purge_run(struct store *, struct blob *, int64_t now, struct purge_stats *);
/* Opens the configured store and blob store, runs one pass as of now, closes them. */
int	purge_once(const struct config *, int64_t now, struct purge_stats *);

#endif
