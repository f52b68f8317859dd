#include "purge.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "timeutil.h"
#include "xmalloc.h"

/* The blob keys that links refer to: a sorted array, built in one pass over the links. */
struct keyset {
	char	(*keys)[BLOB_KEY_LEN + 1];
	size_t	 n, cap;
};

struct orphan_ctx {
	struct blob		*blob;
	struct keyset		*live;
	struct purge_stats	*st;
};

static int
collect_key(void *arg, const char *key)
{
	struct keyset *ks = arg;

	if (!blob_key_valid(key))
		return 0;
	if (ks->n == ks->cap) {
		ks->cap = ks->cap ? ks->cap * 2 : 1024;
		ks->keys = xrealloc(ks->keys, ks->cap * sizeof *ks->keys);
	}
	memcpy(ks->keys[ks->n++], key, BLOB_KEY_LEN + 1);
	return 0;
}

static int
keycmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int
check_orphan(void *arg, const char *key)
{
	struct orphan_ctx *o = arg;

	/* (No search in an empty set: bsearch and qsort must not be handed NULL.) */
	if (o->live->n > 0 &&
	    bsearch(key, o->live->keys, o->live->n, sizeof *o->live->keys, keycmp) != NULL)
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
	struct keyset live = { NULL, 0, 0 };
	struct orphan_ctx o = { b, &live, st };
	struct link_page page;
	enum blob_rc brc;
	size_t i;
	int rc = -1;

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
	/* Orphans: blobs older than an hour that no link names. The set of named keys is taken
	 * first, so a blob written after it is too young to be a candidate. */
	if (store_links_each_file_key(s, collect_key, &live) != STORE_OK)
		goto done;
	if (live.n > 0)
		qsort(live.keys, live.n, sizeof *live.keys, keycmp);
	if (blob_list_older(b, now - PURGE_ORPHAN_AGE_S, check_orphan, &o) != BLOB_OK)
		goto done;
	log_info("purge: %llu expired links, %llu of their blobs, %llu orphan blobs removed, %llu errors",
	    (unsigned long long)st->expired_links, (unsigned long long)st->blobs_deleted,
	    (unsigned long long)st->orphans_deleted, (unsigned long long)st->errors);
	rc = 0;
done:
	free(live.keys);
	return rc;
}

int
purge_once(const struct config *cfg, int64_t now, struct purge_stats *st)
{
	struct store *s = store_open(cfg);
	struct blob *b = s ? blob_open(cfg) : NULL;
	int rc = -1;

	if (s != NULL && b != NULL)
		rc = purge_run(s, b, now, st);
	blob_close(b);
	store_close(s);
	return rc;
}
