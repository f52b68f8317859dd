#include "purge.h"

#include <string.h>

#include "log.h"
#include "timeutil.h"

struct orphan_ctx {
	struct store		*store;
	struct blob		*blob;
	struct purge_stats	*st;
	int			 failed;
};

static int
check_orphan(void *arg, const char *key)
{
	struct orphan_ctx *o = arg;
	bool referenced;

	if (store_blob_referenced(o->store, key, &referenced) != STORE_OK) {
		o->failed = 1;
		return -1;
	}
	if (referenced)
		return 0;
	if (blob_remove(o->blob, key) == BLOB_OK) {
		o->st->orphans_deleted++;
		log_info("removed orphan blob %s", key);
	} else
		o->st->errors++;
	return 0;
}

int
purge_run(struct store *s, struct blob *b, int64_t now, struct purge_stats *st)
{
	struct orphan_ctx o = { s, b, st, 0 };
	struct link_page page;
	enum blob_rc brc;
	size_t i;

	memset(st, 0, sizeof *st);
	/* Rows go first, then their blobs: a crash in between leaves an orphan blob, which the
	 * next pass removes, never a live row without its file. */
	do {
		if (store_links_purge_expired(s, now, PURGE_BATCH, &page) != STORE_OK)
			return -1;
		for (i = 0; i < page.n; i++) {
			st->expired_links++;
			if (!page.links[i].file_key[0])
				continue;
			brc = blob_remove(b, page.links[i].file_key);
			if (brc == BLOB_OK)
				st->blobs_deleted++;
			else if (brc != BLOB_NOT_FOUND)
				st->errors++;
		}
		i = page.n;
		link_page_free(&page);
	} while (i == PURGE_BATCH);
	if (blob_list_older(b, now - PURGE_ORPHAN_AGE_S, check_orphan, &o) != BLOB_OK || o.failed)
		return -1;
	log_info("purge: %llu expired links, %llu of their blobs, %llu orphan blobs removed, %llu errors",
	    (unsigned long long)st->expired_links, (unsigned long long)st->blobs_deleted,
	    (unsigned long long)st->orphans_deleted, (unsigned long long)st->errors);
	return 0;
}

int
purge_once(const struct config *cfg, struct purge_stats *st)
{
	struct store *s = store_open(cfg);
	struct blob *b = s ? blob_open(cfg) : NULL;
	int rc = -1;

	if (s != NULL && b != NULL)
		rc = purge_run(s, b, clock_now_ms() / 1000, st);
	blob_close(b);
	store_close(s);
	return rc;
}
