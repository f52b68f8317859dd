/*
 * sqlite_walbuf: SQLite writes a WAL frame as two pwrite() calls, its 24-byte header and then
 * its page, so a link worker's group of N opens cost 2N system calls before its commit (perf:
 * pwrite was the link worker's largest system call, about a ninth of its time). This VFS
 * wraps the default one and keeps a WAL file's consecutive writes in a buffer, which goes to
 * the file in one write:
 *
 *   - as soon as the page of a commit frame (a frame header whose "database size" field is not
 *     zero) is appended: the commit's xWrite returns only once every frame of the transaction
 *     is in the file, and returns that write's error if it failed, exactly where SQLite
 *     checks it. SQLite publishes the commit in the wal-index only after that (walFrames
 *     writes every frame, then the index), so no reader anywhere sees a frame not yet written;
 *   - before anything that could observe or depend on the file: a read, sync, truncate, size,
 *     file control or close of the WAL file, and any wal-index lock, barrier or unmap on the
 *     database (a rollback after a cache spill releases the write lock with frames still
 *     pending; they are written before the lock goes, so the next writer's frames are never
 *     overwritten by stale ones);
 *   - when a write does not follow the pending bytes, or would overflow the buffer.
 *
 * Everything else is SQLite's own VFS, untouched. What a crash leaves is what it leaves
 * without this: frames of an unfinished transaction are not valid WAL content either way.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "sqlite_walbuf.h"

#define WALBUF_NAME	"fileshare-walbuf"
#define WALBUF_FIRST	(64 * 1024)	/* first buffer size; it doubles up to WALBUF_MAX */
#define WALBUF_MAX	(1024 * 1024)
#define FRAME_HDR	24		/* a WAL frame header's size (the WAL header is 32) */
#define WRITE_MAX	(124 * 1024)	/* bytes per write passed down: see write_down() */

/* What both kinds of wrapped file begin with: the real file follows the wrapper. */
struct wrapped {
	sqlite3_file	 base;
	sqlite3_file	*real;
};

struct walfile {
	struct wrapped	 w;
	char		*buf;
	size_t		 len, cap;
	sqlite3_int64	 off;		/* file offset of buf[0] */
	bool		 commit;	/* the last frame header written was a commit frame's */
	struct walfile	*next, *prev;	/* every open WAL file of this process */
};

#define HDR_SIZE	((sizeof(struct walfile) + 15) & ~(size_t)15)
#define REAL(f)		(((struct wrapped *)(f))->real)

static sqlite3_vfs walbuf_vfs;
static sqlite3_vfs *base_vfs;
static struct walfile *wal_files;
static struct walbuf_stats stats;

/*
 * Writes n bytes at off through SQLite's own VFS, in pieces it takes whole: the unix VFS
 * writes at most 128 KiB - 1 bytes per call (it masks the length to 17 bits, and reports
 * "disk full" for the rest).
 */
static int
write_down(struct walfile *f, const char *data, size_t n, sqlite3_int64 off)
{
	size_t k;
	int rc;

	for (; n > 0; n -= k, data += k, off += (sqlite3_int64)k) {
		k = n < WRITE_MAX ? n : WRITE_MAX;
		stats.flushes++;
		stats.bytes += k;
		if ((rc = REAL(f)->pMethods->xWrite(REAL(f), data, (int)k, off)) != SQLITE_OK)
			return rc;
	}
	return SQLITE_OK;
}

static int
flush(struct walfile *f)
{
	int rc;

	if (f->len == 0)
		return SQLITE_OK;
	rc = write_down(f, f->buf, f->len, f->off);
	f->len = 0;		/* written or failed: never written again later */
	return rc;
}

static int
flush_all(void)
{
	struct walfile *f;
	int rc = SQLITE_OK, r;

	for (f = wal_files; f != NULL; f = f->next)
		if ((r = flush(f)) != SQLITE_OK && rc == SQLITE_OK)
			rc = r;
	return rc;
}

/* ------------------------------------------------------------------ the WAL file */

static int
wal_write(sqlite3_file *p, const void *data, int amt, sqlite3_int64 off)
{
	struct walfile *f = (struct walfile *)p;
	size_t n = (size_t)amt, cap;
	char *nb;
	int rc;

	stats.writes++;
	/* A frame header: bytes 4-7 hold the database size in pages on a commit frame, 0
	 * otherwise. The write after a commit frame's header is its page, the transaction's
	 * last write (or its first part, if SQLite split it at a sync point); until the next
	 * frame header every write goes straight to the file. */
	if (n == FRAME_HDR) {
		const unsigned char *h = data;

		f->commit = (h[4] | h[5] | h[6] | h[7]) != 0;
	}
	if (f->len > 0 && (off != f->off + (sqlite3_int64)f->len || f->len + n > WALBUF_MAX))
		if ((rc = flush(f)) != SQLITE_OK)
			return rc;
	if (f->len + n > f->cap) {
		for (cap = f->cap ? f->cap : WALBUF_FIRST; cap < f->len + n && cap < WALBUF_MAX; cap *= 2)
			;
		if (f->len + n > cap || (nb = realloc(f->buf, cap)) == NULL) {
			/* Larger than the buffer can be (or no memory): straight through, after
			 * what is pending. */
			if ((rc = flush(f)) != SQLITE_OK)
				return rc;
			return write_down(f, data, n, off);
		}
		f->buf = nb;
		f->cap = cap;
	}
	if (f->len == 0)
		f->off = off;
	memcpy(f->buf + f->len, data, n);
	f->len += n;
	return n != FRAME_HDR && f->commit ? flush(f) : SQLITE_OK;
}

static int
wal_close(sqlite3_file *p)
{
	struct walfile *f = (struct walfile *)p;
	int rc = flush(f), r;

	if (f->prev != NULL)
		f->prev->next = f->next;
	else
		wal_files = f->next;
	if (f->next != NULL)
		f->next->prev = f->prev;
	free(f->buf);
	r = REAL(f)->pMethods->xClose(REAL(f));
	return rc != SQLITE_OK ? rc : r;
}

/* The methods that flush first, then are SQLite's own. */
#define FLUSH_FIRST(f) do { int rc_ = flush((struct walfile *)(f)); if (rc_ != SQLITE_OK) return rc_; } while (0)

static int
wal_read(sqlite3_file *p, void *data, int amt, sqlite3_int64 off)
{
	FLUSH_FIRST(p);
	return REAL(p)->pMethods->xRead(REAL(p), data, amt, off);
}

static int
wal_truncate(sqlite3_file *p, sqlite3_int64 size)
{
	FLUSH_FIRST(p);
	return REAL(p)->pMethods->xTruncate(REAL(p), size);
}

static int
wal_sync(sqlite3_file *p, int flags)
{
	FLUSH_FIRST(p);
	return REAL(p)->pMethods->xSync(REAL(p), flags);
}

static int
wal_file_size(sqlite3_file *p, sqlite3_int64 *size)
{
	FLUSH_FIRST(p);
	return REAL(p)->pMethods->xFileSize(REAL(p), size);
}

static int
wal_file_control(sqlite3_file *p, int op, void *arg)
{
	FLUSH_FIRST(p);
	return REAL(p)->pMethods->xFileControl(REAL(p), op, arg);
}

/* ------------------------------------------------------------------ pass-through */

static int
fwd_close(sqlite3_file *p)
{
	return REAL(p)->pMethods->xClose(REAL(p));
}

static int
fwd_read(sqlite3_file *p, void *data, int amt, sqlite3_int64 off)
{
	return REAL(p)->pMethods->xRead(REAL(p), data, amt, off);
}

static int
fwd_write(sqlite3_file *p, const void *data, int amt, sqlite3_int64 off)
{
	return REAL(p)->pMethods->xWrite(REAL(p), data, amt, off);
}

static int
fwd_truncate(sqlite3_file *p, sqlite3_int64 size)
{
	return REAL(p)->pMethods->xTruncate(REAL(p), size);
}

static int
fwd_sync(sqlite3_file *p, int flags)
{
	return REAL(p)->pMethods->xSync(REAL(p), flags);
}

static int
fwd_file_size(sqlite3_file *p, sqlite3_int64 *size)
{
	return REAL(p)->pMethods->xFileSize(REAL(p), size);
}

static int
fwd_lock(sqlite3_file *p, int lock)
{
	return REAL(p)->pMethods->xLock(REAL(p), lock);
}

static int
fwd_unlock(sqlite3_file *p, int lock)
{
	return REAL(p)->pMethods->xUnlock(REAL(p), lock);
}

static int
fwd_check_reserved(sqlite3_file *p, int *out)
{
	return REAL(p)->pMethods->xCheckReservedLock(REAL(p), out);
}

static int
fwd_file_control(sqlite3_file *p, int op, void *arg)
{
	return REAL(p)->pMethods->xFileControl(REAL(p), op, arg);
}

static int
fwd_sector_size(sqlite3_file *p)
{
	return REAL(p)->pMethods->xSectorSize(REAL(p));
}

static int
fwd_device(sqlite3_file *p)
{
	return REAL(p)->pMethods->xDeviceCharacteristics(REAL(p));
}

static int
fwd_shm_map(sqlite3_file *p, int region, int size, int extend, void volatile **out)
{
	return REAL(p)->pMethods->xShmMap(REAL(p), region, size, extend, out);
}

static int
fwd_fetch(sqlite3_file *p, sqlite3_int64 off, int amt, void **out)
{
	return REAL(p)->pMethods->xFetch(REAL(p), off, amt, out);
}

static int
fwd_unfetch(sqlite3_file *p, sqlite3_int64 off, void *ptr)
{
	return REAL(p)->pMethods->xUnfetch(REAL(p), off, ptr);
}

/* The database's wal-index: pending frames reach the WAL before any lock changes hands. */
static int
db_shm_lock(sqlite3_file *p, int offset, int n, int flags)
{
	int rc = flush_all();

	if (rc != SQLITE_OK && (flags & SQLITE_SHM_LOCK))
		return rc;	/* an unlock goes ahead whatever happened */
	return REAL(p)->pMethods->xShmLock(REAL(p), offset, n, flags);
}

static void
db_shm_barrier(sqlite3_file *p)
{
	(void)flush_all();	/* nothing is pending here: every commit flushed in its xWrite */
	REAL(p)->pMethods->xShmBarrier(REAL(p));
}

static int
db_shm_unmap(sqlite3_file *p, int delete_flag)
{
	(void)flush_all();
	return REAL(p)->pMethods->xShmUnmap(REAL(p), delete_flag);
}

/* A database file: SQLite's own methods, but for the wal-index ones. */
static const sqlite3_io_methods db_methods = {
	.iVersion = 3,
	.xClose = fwd_close,
	.xRead = fwd_read,
	.xWrite = fwd_write,
	.xTruncate = fwd_truncate,
	.xSync = fwd_sync,
	.xFileSize = fwd_file_size,
	.xLock = fwd_lock,
	.xUnlock = fwd_unlock,
	.xCheckReservedLock = fwd_check_reserved,
	.xFileControl = fwd_file_control,
	.xSectorSize = fwd_sector_size,
	.xDeviceCharacteristics = fwd_device,
	.xShmMap = fwd_shm_map,
	.xShmLock = db_shm_lock,
	.xShmBarrier = db_shm_barrier,
	.xShmUnmap = db_shm_unmap,
	.xFetch = fwd_fetch,
	.xUnfetch = fwd_unfetch,
};

/* A WAL file: the database's methods, but for those that buffer or flush (set up once). */
static sqlite3_io_methods wal_methods;

/* ------------------------------------------------------------------ the VFS */

static int
vfs_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *p, int flags, int *out_flags)
{
	struct walfile *f = (struct walfile *)p;
	bool wal = (flags & SQLITE_OPEN_WAL) != 0, db = (flags & SQLITE_OPEN_MAIN_DB) != 0;
	sqlite3_file *real;
	int rc;

	(void)vfs;
	if (!wal && !db)	/* journals, temporary files: SQLite's own, in place */
		return base_vfs->xOpen(base_vfs, name, p, flags, out_flags);
	real = (sqlite3_file *)((char *)p + HDR_SIZE);
	memset(f, 0, sizeof *f);
	f->w.real = real;
	real->pMethods = NULL;
	rc = base_vfs->xOpen(base_vfs, name, real, flags, out_flags);
	if (rc != SQLITE_OK || real->pMethods == NULL || real->pMethods->iVersion < 3) {
		if (real->pMethods != NULL)
			real->pMethods->xClose(real);
		p->pMethods = NULL;
		return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
	}
	if (wal) {
		f->next = wal_files;
		if (wal_files != NULL)
			wal_files->prev = f;
		wal_files = f;
		p->pMethods = &wal_methods;
	} else
		p->pMethods = &db_methods;
	return SQLITE_OK;
}

static int
vfs_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	(void)vfs;
	return base_vfs->xDelete(base_vfs, name, sync_dir);
}

static int
vfs_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	(void)vfs;
	return base_vfs->xAccess(base_vfs, name, flags, out);
}

static int
vfs_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	(void)vfs;
	return base_vfs->xFullPathname(base_vfs, name, n, out);
}

static void *
vfs_dl_open(sqlite3_vfs *vfs, const char *name)
{
	(void)vfs;
	return base_vfs->xDlOpen(base_vfs, name);
}

static void
vfs_dl_error(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	base_vfs->xDlError(base_vfs, n, out);
}

static void (*vfs_dl_sym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
	(void)vfs;
	return base_vfs->xDlSym(base_vfs, h, sym);
}

static void
vfs_dl_close(sqlite3_vfs *vfs, void *h)
{
	(void)vfs;
	base_vfs->xDlClose(base_vfs, h);
}

static int
vfs_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return base_vfs->xRandomness(base_vfs, n, out);
}

static int
vfs_sleep(sqlite3_vfs *vfs, int us)
{
	(void)vfs;
	return base_vfs->xSleep(base_vfs, us);
}

static int
vfs_current_time(sqlite3_vfs *vfs, double *out)
{
	(void)vfs;
	return base_vfs->xCurrentTime(base_vfs, out);
}

static int
vfs_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return base_vfs->xGetLastError(base_vfs, n, out);
}

static int
vfs_current_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	(void)vfs;
	return base_vfs->xCurrentTimeInt64(base_vfs, out);
}

const char *
sqlite_walbuf_vfs(void)
{
	static bool tried, ok;

	if (tried)
		return ok ? WALBUF_NAME : NULL;
	tried = true;
	if ((base_vfs = sqlite3_vfs_find(NULL)) == NULL || base_vfs->iVersion < 2 ||
	    base_vfs->xCurrentTimeInt64 == NULL)
		return NULL;
	wal_methods = db_methods;
	wal_methods.xClose = wal_close;
	wal_methods.xRead = wal_read;
	wal_methods.xWrite = wal_write;
	wal_methods.xTruncate = wal_truncate;
	wal_methods.xSync = wal_sync;
	wal_methods.xFileSize = wal_file_size;
	wal_methods.xFileControl = wal_file_control;
	walbuf_vfs.iVersion = 2;
	walbuf_vfs.szOsFile = (int)HDR_SIZE + base_vfs->szOsFile;
	walbuf_vfs.mxPathname = base_vfs->mxPathname;
	walbuf_vfs.zName = WALBUF_NAME;
	walbuf_vfs.xOpen = vfs_open;
	walbuf_vfs.xDelete = vfs_delete;
	walbuf_vfs.xAccess = vfs_access;
	walbuf_vfs.xFullPathname = vfs_full_pathname;
	if (base_vfs->xDlOpen != NULL) {	/* extension loading, never used here: forwarded */
		walbuf_vfs.xDlOpen = vfs_dl_open;
		walbuf_vfs.xDlError = vfs_dl_error;
		walbuf_vfs.xDlSym = vfs_dl_sym;
		walbuf_vfs.xDlClose = vfs_dl_close;
	}
	walbuf_vfs.xRandomness = vfs_randomness;
	walbuf_vfs.xSleep = vfs_sleep;
	walbuf_vfs.xCurrentTime = vfs_current_time;
	walbuf_vfs.xGetLastError = vfs_last_error;
	walbuf_vfs.xCurrentTimeInt64 = vfs_current_time64;
	ok = sqlite3_vfs_register(&walbuf_vfs, 0) == SQLITE_OK;
	return ok ? WALBUF_NAME : NULL;
}

void
sqlite_walbuf_stats(struct walbuf_stats *out)
{
	*out = stats;
}
