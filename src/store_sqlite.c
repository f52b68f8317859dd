/*
 * store_sqlite: the SQLite backend. One connection per process, opened once, with every
 * statement prepared at open and kept for the connection's life. WAL, a busy timeout and
 * foreign keys on. The schema is versioned (schema_version) and upgraded in place at open,
 * inside one IMMEDIATE transaction, so several workers starting at once upgrade it once.
 * The connection goes through sqlite_walbuf's VFS: a commit's WAL frames reach the file in
 * one write. Link opens read the links through a cache (linkcache) that is used only inside
 * the opens' write transaction and only while no other connection has committed anything
 * since it was filled (see cache_check).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "buf.h"
#include "encode.h"
#include "linkcache.h"
#include "log.h"
#include "sqlite_walbuf.h"
#include "store.h"
#include "timeutil.h"
#include "xmalloc.h"

/* Each entry upgrades the schema from version i to i+1. Never edit one that has shipped. */
static const char *const migrations[] = {
	/* 0 -> 1: users and revoked tokens */
	"CREATE TABLE users ("
	"  user_id TEXT PRIMARY KEY,"
	"  email TEXT NOT NULL UNIQUE,"
	"  password_hash TEXT NOT NULL,"
	"  user_tier TEXT NOT NULL DEFAULT 'free' CHECK (user_tier IN ('free','trial','premium')),"
	"  trial_used INTEGER NOT NULL DEFAULT 0 CHECK (trial_used IN (0,1)),"
	"  trial_started_at TEXT,"
	"  trial_expires_at TEXT,"
	"  sessions_valid_after INTEGER NOT NULL DEFAULT 0,"
	"  created_at TEXT NOT NULL,"
	"  updated_at TEXT NOT NULL"
	");"
	"CREATE TABLE revoked_tokens ("
	"  jti TEXT PRIMARY KEY,"
	"  expires_at INTEGER NOT NULL"
	");",
	/* 1 -> 2: links (URL and file), the same attributes as the DynamoDB urls table */
	"CREATE TABLE urls ("
	"  short_code TEXT PRIMARY KEY,"
	"  full_url TEXT,"
	"  created_at TEXT NOT NULL,"
	"  expires_at TEXT NOT NULL,"
	"  expires_at_ttl INTEGER NOT NULL,"
	"  created_by_user TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,"
	"  file_key TEXT,"
	"  filename TEXT,"
	"  file_size INTEGER,"
	"  content_type TEXT,"
	"  click_count INTEGER NOT NULL DEFAULT 0,"
	"  max_clicks INTEGER,"
	"  password_hash TEXT,"
	"  delete_token_hash TEXT,"
	"  CHECK ((full_url IS NULL) <> (file_key IS NULL))"
	");"
	"CREATE INDEX urls_by_user ON urls (created_by_user, created_at DESC, short_code DESC);"
	"CREATE INDEX urls_by_expiry ON urls (expires_at_ttl);"
	"CREATE UNIQUE INDEX urls_by_file_key ON urls (file_key) WHERE file_key IS NOT NULL;",
};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

enum stmt_id {
	ST_PING,
	ST_USER_INSERT,
	ST_USER_GET,
	ST_USER_GET_EMAIL,
	ST_USER_TRIAL,
	ST_USER_TIER,
	ST_USER_REVOKE,
	ST_TOKEN_REVOKE,
	ST_TOKEN_CHECK,
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_LINK_COUNT_ACTIVE,
	ST_LINK_INSERT,
	ST_LINK_GET,
	ST_LINK_OPEN,
	ST_LINK_COUNT,
	ST_DATA_VERSION,
	ST_LINK_LIST,
	ST_LINK_DELETE,
	ST_LINK_PURGE,
	ST_FILE_KEYS,
	ST_MAX
};

#define USER_COLS "user_id, email, password_hash, user_tier, trial_used, trial_started_at," \
	" trial_expires_at, sessions_valid_after, created_at, updated_at"

#define LINK_COLS "short_code, full_url, created_by_user, created_at, expires_at_ttl," \
	" max_clicks, click_count, file_key, filename, file_size, content_type, password_hash"
#define LINK_NCOLS 12	/* columns in LINK_COLS (col_link reads 0 .. LINK_NCOLS - 1) */

static const char *const stmt_sql[ST_MAX] = {
	[ST_PING] = "SELECT 1",
	[ST_USER_INSERT] = "INSERT INTO users (" USER_COLS ") VALUES (?,?,?,?,?,?,?,?,?,?)",
	[ST_USER_GET] = "SELECT " USER_COLS " FROM users WHERE user_id = ?",
	[ST_USER_GET_EMAIL] = "SELECT " USER_COLS " FROM users WHERE email = ?",
	[ST_USER_TRIAL] = "UPDATE users SET user_tier = 'trial', trial_used = 1,"
	    " trial_started_at = ?2, trial_expires_at = ?3, updated_at = ?2"
	    " WHERE user_id = ?1 AND trial_used = 0 AND user_tier <> 'premium'",
	[ST_USER_TIER] = "UPDATE users SET user_tier = ?2, updated_at = ?3 WHERE user_id = ?1",
	[ST_USER_REVOKE] = "UPDATE users SET sessions_valid_after = max(sessions_valid_after, ?2),"
	    " updated_at = ?3 WHERE user_id = ?1",
	[ST_TOKEN_REVOKE] = "INSERT OR IGNORE INTO revoked_tokens (jti, expires_at) VALUES (?, ?)",
	[ST_TOKEN_CHECK] = "SELECT 1 FROM revoked_tokens WHERE jti = ?",
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_LINK_COUNT_ACTIVE] = "SELECT count(*) FROM urls WHERE created_by_user = ?1"
	    " AND expires_at_ttl > ?2",
	[ST_LINK_INSERT] = "INSERT INTO urls (short_code, full_url, created_at, expires_at,"
	    " expires_at_ttl, created_by_user, file_key, filename, file_size, content_type,"
	    " click_count, max_clicks, password_hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
	[ST_LINK_GET] = "SELECT " LINK_COLS " FROM urls WHERE short_code = ?",
	/* A redirect reads the link (from the cache, or this) and its rowid; ST_LINK_COUNT then
	 * counts the click by rowid, in the same write transaction, if the link is live (and
	 * unlocked, for password-protected ones). (Not UPDATE ... RETURNING: SQLite runs that
	 * through an ephemeral table, a third of a redirect's instructions in callgrind; not
	 * UPDATE then SELECT: two searches of the short_code index instead of one.) */
	[ST_LINK_OPEN] = "SELECT " LINK_COLS ", rowid FROM urls WHERE short_code = ?1",
	[ST_LINK_COUNT] = "UPDATE urls SET click_count = click_count + 1 WHERE rowid = ?1",
	/* Changes when another connection commits (this connection's own commits do not). */
	[ST_DATA_VERSION] = "PRAGMA data_version",
	[ST_LINK_LIST] = "SELECT " LINK_COLS " FROM urls WHERE created_by_user = ?1"
	    " AND expires_at_ttl > ?2 AND (?3 IS NULL OR created_at < ?3"
	    " OR (created_at = ?3 AND short_code < ?4))"
	    " ORDER BY created_at DESC, short_code DESC LIMIT ?5",
	[ST_LINK_DELETE] = "DELETE FROM urls WHERE short_code = ?1 AND created_by_user = ?2"
	    " RETURNING " LINK_COLS,
	[ST_LINK_PURGE] = "DELETE FROM urls WHERE short_code IN (SELECT short_code FROM urls"
	    " WHERE expires_at_ttl <= ?1 LIMIT ?2) RETURNING " LINK_COLS,
	[ST_FILE_KEYS] = "SELECT file_key FROM urls WHERE file_key IS NOT NULL",
};

struct store_sqlite {
	struct store	 base;
	sqlite3		*db;
	sqlite3_stmt	*st[ST_MAX];
	int64_t		 busy_started;	/* busy_wait's first attempt, monotonic_us() */
	int64_t		 last_checkpoint_us;	/* wal_hook's last checkpoint */
	int		 wlock_fd;	/* <db>-wlock, see opens_lock(); -1 if it cannot be had */
	struct linkcache *cache;	/* links read by opens, see cache_check() */
	int64_t		 data_version;	/* ST_DATA_VERSION when the cache was last checked */
	bool		 cache_ok;	/* the cache may be used in the current transaction */
	bool		 external_checkpoint;	/* a checkpointer process runs (see wal_hook) */
};

/*
 * Link opens from several workers queue on a blocking flock() of <db>-wlock before their
 * write transaction: the kernel wakes the next one the moment the lock is free, where
 * SQLite's busy handler would poll with sleeps (bench/run: p99 of 15 ms with two workers,
 * and CPU burnt in the retries). Other writes are rare and use the busy handler alone.
 */
static void
opens_lock(struct store_sqlite *s)
{
	while (s->wlock_fd != -1 && flock(s->wlock_fd, LOCK_EX) == -1 && errno == EINTR)
		;
}

static void
opens_unlock(struct store_sqlite *s)
{
	if (s->wlock_fd != -1)
		flock(s->wlock_fd, LOCK_UN);
}

static enum store_rc step_done(struct store_sqlite *, enum stmt_id);

/*
 * The link cache is valid in a write transaction if no other connection has committed since
 * it was last checked: PRAGMA data_version, read under the write lock (nobody can commit
 * until this transaction ends). Otherwise it starts over. The cache holds links with their
 * click counts; those change only through this connection's opens, which update the cache
 * as they update the row (a rollback clears it, see opens_end), and every other change to
 * urls through this connection clears it too (links_create, link_delete, purge).
 */
static void
cache_check(struct store_sqlite *s)
{
	sqlite3_stmt *st = s->st[ST_DATA_VERSION];
	int64_t v;

	s->cache_ok = false;
	if (sqlite3_step(st) == SQLITE_ROW) {
		v = sqlite3_column_int64(st, 0);
		if (v != s->data_version)
			linkcache_clear(s->cache);
		s->data_version = v;
		s->cache_ok = true;
	} else
		linkcache_clear(s->cache);
	sqlite3_reset(st);
}

/* The write transaction of link opens (one open alone, or a group): the lock, then BEGIN. */
static enum store_rc
opens_begin(struct store_sqlite *s)
{
	enum store_rc rc;

	opens_lock(s);
	if ((rc = step_done(s, ST_BEGIN)) != STORE_OK)
		opens_unlock(s);
	else
		cache_check(s);
	return rc;
}

/* Commits it (rolling back if that fails) or rolls it back, and releases the lock.
 * STORE_UNAVAILABLE if a failed statement inside had already rolled it back. */
static enum store_rc
opens_end(struct store_sqlite *s, bool commit)
{
	enum store_rc rc = STORE_UNAVAILABLE;

	if (!sqlite3_get_autocommit(s->db)) {
		rc = commit ? step_done(s, ST_COMMIT) : STORE_OK;
		if ((!commit || rc != STORE_OK) && !sqlite3_get_autocommit(s->db))
			step_done(s, ST_ROLLBACK);
	}
	if (rc != STORE_OK || !commit)
		linkcache_clear(s->cache);	/* its click counts may be ahead of the rows' */
	s->cache_ok = false;
	opens_unlock(s);
	return rc;
}

static enum store_rc
fail(struct store_sqlite *s, const char *what)
{
	log_errorx("sqlite %s: %s", what, sqlite3_errmsg(s->db));
	return STORE_UNAVAILABLE;
}

static int
exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		/* Lock contention at open is retried by setup(); anything else is worth a line. */
		if ((sqlite3_errcode(db) & 0xff) == SQLITE_BUSY || (sqlite3_errcode(db) & 0xff) == SQLITE_LOCKED)
			log_debug("sqlite: %s", err ? err : sqlite3_errmsg(db));
		else
			log_errorx("sqlite: %s", err ? err : sqlite3_errmsg(db));
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

static int
schema_upgrade(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int version = 0, i;
	char sql[96];

	if (exec(db, "BEGIN IMMEDIATE") == -1)
		return -1;
	if (exec(db, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)") == -1)
		goto fail;
	if (sqlite3_prepare_v2(db, "SELECT max(version) FROM schema_version", -1, &st, NULL) != SQLITE_OK)
		goto fail;
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version > SCHEMA_VERSION) {
		log_errorx("database schema version %d is newer than this program (%d)", version,
		    SCHEMA_VERSION);
		goto fail;
	}
	for (i = version; i < SCHEMA_VERSION; i++) {
		if (exec(db, migrations[i]) == -1)
			goto fail;
		snprintf(sql, sizeof sql, "INSERT INTO schema_version (version) VALUES (%d)", i + 1);
		if (exec(db, sql) == -1)
			goto fail;
		log_info("database schema upgraded to version %d", i + 1);
	}
	return exec(db, "COMMIT");
fail:
	exec(db, "ROLLBACK");
	return -1;
}

/*
 * Page cache of each connection, in KiB when negative: up to 8 MiB instead of SQLite's 2, so
 * the links a worker opens again are found in memory, not read back with pread() (bench:
 * 0.6 reads per redirect on 10,000 links with the default). Only what is used is allocated.
 */
#define SQLITE_CACHE_SIZE	"-8192"

/*
 * Switching to WAL and upgrading the schema take locks that SQLite refuses at once (no busy
 * handler) when several workers open a new file together, so retry for a few seconds.
 */
static int
setup(sqlite3 *db)
{
	int attempt;

	for (attempt = 0; attempt < 100; attempt++) {
		if (exec(db, "PRAGMA journal_mode=WAL") == 0 &&
		    exec(db, "PRAGMA synchronous=NORMAL") == 0 &&
		    exec(db, "PRAGMA foreign_keys=ON") == 0 &&
		    exec(db, "PRAGMA cache_size=" SQLITE_CACHE_SIZE) == 0 &&
		    schema_upgrade(db) == 0)
			return 0;
		if ((sqlite3_errcode(db) & 0xff) != SQLITE_BUSY &&
		    (sqlite3_errcode(db) & 0xff) != SQLITE_LOCKED)
			return -1;
		sqlite3_sleep(20 + attempt * 5);
	}
	return -1;
}

/*
 * Waiting for another worker's write lock. SQLite's own busy timeout sleeps 1, 2, 5, 10 ...
 * milliseconds between attempts, while a redirect holds the lock for some 20-50 microseconds:
 * with two workers clicking at once, most of a worker's time went to those sleeps (bench/run:
 * 5,300 redirects/s with the workers 80% idle). This handler retries after 20 microseconds,
 * doubling up to 1 ms, and gives up after the same 5 seconds as before.
 */
#define BUSY_TIMEOUT_US	(5 * 1000000LL)

static int
busy_wait(void *ctx, int attempt)
{
	int64_t *started = ctx;
	struct timespec ts;
	int64_t now = monotonic_us(), us;

	if (attempt == 0)
		*started = now;
	else if (now - *started >= BUSY_TIMEOUT_US)
		return 0;
	us = attempt < 6 ? 20LL << attempt : 1000;
	ts.tv_sec = 0;
	ts.tv_nsec = (long)(us * 1000);
	nanosleep(&ts, NULL);
	return 1;
}

/*
 * Checkpoints. SQLite's automatic checkpoint runs inside the commit that crosses 1,000 WAL
 * frames, so the requests of that commit wait for it (two fdatasync()s and the copy): with
 * link opens grouped, bench/run measured p99 at 35 ms against 4 ms with no checkpoints at
 * all. Under the supervisor, a checkpointer process does them instead (sqlite_checkpoint,
 * every CHECKPOINT_EVERY_MS) and workers only step in if the WAL grows past
 * CHECKPOINT_FALLBACK_FRAMES (the checkpointer is dead or far behind). A worker without a
 * supervisor (spawn-fcgi) checkpoints itself at CHECKPOINT_FRAMES, at most once per
 * CHECKPOINT_GAP_US. Durability is unchanged: a commit is in the WAL (synchronous=NORMAL)
 * before it is acknowledged, whenever the checkpoint comes.
 */
#define CHECKPOINT_FRAMES		8000
#define CHECKPOINT_FALLBACK_FRAMES	80000
#define CHECKPOINT_GAP_US		100000
#define CHECKPOINT_RESTART_FRAMES	16000	/* the checkpointer's second step, see below */
#define CATCHUP_PASSES			4	/* passes without the lock before it, at most */
#define CATCHUP_SHORT_US		2000	/* ... stopping after one this short */

static int
wal_hook(void *ctx, sqlite3 *db, const char *name, int frames)
{
	struct store_sqlite *s = ctx;
	int64_t now;

	if (frames < (s->external_checkpoint ? CHECKPOINT_FALLBACK_FRAMES : CHECKPOINT_FRAMES))
		return SQLITE_OK;
	now = monotonic_us();
	if (now - s->last_checkpoint_us < CHECKPOINT_GAP_US)
		return SQLITE_OK;
	s->last_checkpoint_us = now;
	(void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	return SQLITE_OK;
}

/*
 * Writes what the WAL and the database file hold in the page cache to the disk, through
 * SQLite's own file objects, so that the syncs of the pass under the opens lock find
 * little left to write (1.5-3.7 ms each, measured, when the pages of the passes before were
 * still dirty).
 */
static void
presync(struct store_sqlite *s)
{
	static const int ops[] = { SQLITE_FCNTL_JOURNAL_POINTER, SQLITE_FCNTL_FILE_POINTER };
	sqlite3_file *f;
	size_t i;

	for (i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		f = NULL;
		if (sqlite3_file_control(s->db, "main", ops[i], &f) == SQLITE_OK && f != NULL &&
		    f->pMethods != NULL)
			(void)f->pMethods->xSync(f, SQLITE_SYNC_NORMAL);
	}
}

/*
 * The checkpointer's pass, in two steps. The first copies the WAL into the database while
 * the workers go on writing. It cannot catch up with them: it copies the frames there were
 * when it began ("done == log" says only that), and SQLite starts the WAL over only when a
 * write transaction begins with every frame copied. So once the WAL holds
 * CHECKPOINT_RESTART_FRAMES (64 MiB of 4 KiB pages) the second step closes in: passes
 * without any lock, each copying (and syncing) what was written during the one before, until
 * one is short; then it holds link opens back (the flock they queue on) for a last pass over
 * the frames of those few milliseconds, and the next open starts the WAL over. Measured under
 * full load: opens held 1-3 ms about twice a second (10-40 ms when the catch-up began right
 * after the first step, with its unsynced pages: p99 6-8 ms against 4.5-4.8 ms now). The WAL
 * stays bounded and is rewritten in place, not grown (growing it had ext4 zero every new
 * block: perf showed 18% of the link worker's time there when the WAL grew to the workers'
 * 80,000-frame fallback).
 */
static enum store_rc
sqlite_checkpoint(struct store *base)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	int rc, log = 0, done = 0, passes = 2;	/* the first, and the one under the lock */
	int64_t t;

	rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
	if (rc == SQLITE_OK && log >= CHECKPOINT_RESTART_FRAMES) {
		/* Again without the lock, each pass copying what the workers wrote during the
		 * one before and then syncing it, until a pass is short: the catch-up under the
		 * lock is left with the frames of its last milliseconds. */
		while (passes < 2 + CATCHUP_PASSES && rc == SQLITE_OK) {
			passes++;
			t = monotonic_us();
			rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log,
			    &done);
			presync(s);
			if (monotonic_us() - t < CATCHUP_SHORT_US)
				break;
		}
		opens_lock(s);
		t = monotonic_us();
		rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
		opens_unlock(s);
		log_debug("checkpoint: WAL of %d frames all copied after %d passes; link opens"
		    " held %lld us", log, passes, (long long)(monotonic_us() - t));
	}
	if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
		return fail(s, "checkpoint");
	return STORE_OK;
}

static void sqlite_close(struct store *);

static struct store *
sqlite_open(const struct config *cfg)
{
	static bool configured;
	struct store_sqlite *s = xcalloc(1, sizeof *s);
	struct buf lockpath = BUF_INIT;
	int i;

	s->base.backend = &store_backend_sqlite;
	s->external_checkpoint = cfg->sqlite_checkpointer;
	s->cache = linkcache_new();
	s->data_version = -1;
	buf_appends(&lockpath, cfg->sqlite_path);
	buf_appends(&lockpath, "-wlock");
	if ((s->wlock_fd = open(lockpath.data, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
		log_warnx("cannot open %s (%s): link opens will wait on SQLite's busy handler only",
		    lockpath.data, strerror(errno));
	buf_free(&lockpath);
	if (!configured) {
		/* Each process is single-threaded and holds one connection: no mutexes and no
		 * allocation statistics (callgrind: ~4,000 instructions per redirect went to
		 * pthread_mutex_lock/unlock). SQLite refuses this, harmlessly, once initialised. */
		(void)sqlite3_config(SQLITE_CONFIG_SINGLETHREAD);
		(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
		configured = true;
	}
	if (sqlite3_open_v2(cfg->sqlite_path, &s->db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	    sqlite_walbuf_vfs()) != SQLITE_OK) {
		log_errorx("cannot open %s: %s", cfg->sqlite_path,
		    s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_handler(s->db, busy_wait, &s->busy_started);
	sqlite3_extended_result_codes(s->db, 1);
	if (setup(s->db) == -1) {
		log_errorx("cannot set up %s: %s", cfg->sqlite_path, sqlite3_errmsg(s->db));
		goto fail;
	}
	sqlite3_wal_hook(s->db, wal_hook, s);	/* replaces the automatic checkpoint */
	for (i = 0; i < ST_MAX; i++)
		if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
		    NULL) != SQLITE_OK) {
			fail(s, stmt_sql[i]);
			goto fail;
		}
	return &s->base;
fail:
	sqlite_close(&s->base);
	return NULL;
}

static void
sqlite_close(struct store *base)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	int i;

	for (i = 0; i < ST_MAX; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->db);
	if (s->wlock_fd != -1)
		close(s->wlock_fd);
	linkcache_free(s->cache);
	free(s);
}

/* Resets a statement for reuse; the bindings of the last use are cleared too. */
static sqlite3_stmt *
stmt(struct store_sqlite *s, enum stmt_id id)
{
	sqlite3_stmt *st = s->st[id];

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

static void
bind_time(sqlite3_stmt *st, int col, int64_t t)
{
	char ts[RFC3339_LEN];

	if (t == 0) {
		sqlite3_bind_null(st, col);
		return;
	}
	time_format(t, ts);
	sqlite3_bind_text(st, col, ts, -1, SQLITE_TRANSIENT);
}

static int64_t
col_time(sqlite3_stmt *st, int col)
{
	int64_t t = 0;
	const char *s = (const char *)sqlite3_column_text(st, col);

	if (s != NULL && time_parse(s, &t) == -1)
		log_warnx("unparseable time \"%s\" in column %d", s, col);
	return t;
}

static enum tier
tier_parse(const char *s)
{
	if (s != NULL && !strcmp(s, "premium"))
		return TIER_PREMIUM;
	if (s != NULL && !strcmp(s, "trial"))
		return TIER_TRIAL;
	return TIER_FREE;
}

/* The column into out, cut to outlen - 1 bytes (no snprintf: three per link read). */
static void
col_copy(sqlite3_stmt *st, int col, char *out, size_t outlen)
{
	const char *v = (const char *)sqlite3_column_text(st, col);
	size_t n = v != NULL ? (size_t)sqlite3_column_bytes(st, col) : 0;

	if (n >= outlen)
		n = outlen - 1;
	if (n > 0)
		memcpy(out, v, n);
	out[n] = '\0';
}

static enum store_rc
read_user(struct store_sqlite *s, sqlite3_stmt *st, struct user *u)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_DONE)
		return STORE_NOT_FOUND;
	if (rc != SQLITE_ROW)
		return fail(s, "select user");
	memset(u, 0, sizeof *u);
	col_copy(st, 0, u->user_id, sizeof u->user_id);
	col_copy(st, 1, u->email, sizeof u->email);
	col_copy(st, 2, u->password_hash, sizeof u->password_hash);
	u->tier = tier_parse((const char *)sqlite3_column_text(st, 3));
	u->trial_used = sqlite3_column_int(st, 4) != 0;
	u->trial_started_at = col_time(st, 5);
	u->trial_expires_at = col_time(st, 6);
	u->sessions_valid_after_ms = sqlite3_column_int64(st, 7);
	u->created_at = col_time(st, 8);
	u->updated_at = col_time(st, 9);
	sqlite3_reset(st);
	return STORE_OK;
}

static enum store_rc
sqlite_ping(struct store *base)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	sqlite3_stmt *st = stmt(s, ST_PING);

	if (sqlite3_step(st) != SQLITE_ROW)
		return fail(s, "ping");
	sqlite3_reset(st);
	return STORE_OK;
}

static enum store_rc
sqlite_user_create(struct store *base, const struct user *u)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	sqlite3_stmt *st = stmt(s, ST_USER_INSERT);
	int rc;

	sqlite3_bind_text(st, 1, u->user_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, u->email, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, u->password_hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, tier_name(u->tier), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, u->trial_used);
	bind_time(st, 6, u->trial_started_at);
	bind_time(st, 7, u->trial_expires_at);
	sqlite3_bind_int64(st, 8, u->sessions_valid_after_ms);
	bind_time(st, 9, u->created_at);
	bind_time(st, 10, u->updated_at);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return STORE_OK;
	if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		return STORE_CONFLICT;
	return fail(s, "insert user");
}

static enum store_rc
sqlite_user_get(struct store *base, const char *user_id, struct user *u)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	sqlite3_stmt *st = stmt(s, ST_USER_GET);

	sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
	return read_user(s, st, u);
}

static enum store_rc
sqlite_user_get_by_email(struct store *base, const char *email, struct user *u)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	sqlite3_stmt *st = stmt(s, ST_USER_GET_EMAIL);

	sqlite3_bind_text(st, 1, email, -1, SQLITE_STATIC);
	return read_user(s, st, u);
}

/* Runs an UPDATE that was bound by the caller; CONFLICT if it matched no row. */
static enum store_rc
update_one(struct store_sqlite *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return fail(s, what);
	return sqlite3_changes(s->db) == 1 ? STORE_OK : STORE_CONFLICT;
}

static enum store_rc
sqlite_user_start_trial(struct store *base, const char *user_id, int64_t started, int64_t expires)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	sqlite3_stmt *st = stmt(s, ST_USER_TRIAL);

	sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
	bind_time(st, 2, started);
	bind_time(st, 3, expires);
	return update_one(s, st, "start trial");
}

static enum store_rc
sqlite_user_set_tier(struct store *base, const char *user_id, enum tier t, int64_t now)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	sqlite3_stmt *st = stmt(s, ST_USER_TIER);
	enum store_rc rc;

	sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, tier_name(t), -1, SQLITE_STATIC);
	bind_time(st, 3, now);
	rc = update_one(s, st, "set tier");
	return rc == STORE_CONFLICT ? STORE_NOT_FOUND : rc;
}

static enum store_rc
sqlite_user_revoke_sessions(struct store *base, const char *user_id, int64_t after_ms, int64_t now)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	sqlite3_stmt *st = stmt(s, ST_USER_REVOKE);
	enum store_rc rc;

	sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, after_ms);
	bind_time(st, 3, now);
	rc = update_one(s, st, "revoke sessions");
	return rc == STORE_CONFLICT ? STORE_NOT_FOUND : rc;
}

static enum store_rc
sqlite_token_revoke(struct store *base, const char *jti, int64_t expires)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	sqlite3_stmt *st = stmt(s, ST_TOKEN_REVOKE);
	int rc;

	sqlite3_bind_text(st, 1, jti, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, expires);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? STORE_OK : fail(s, "revoke token");
}

static enum store_rc
sqlite_token_is_revoked(struct store *base, const char *jti, bool *revoked)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	sqlite3_stmt *st = stmt(s, ST_TOKEN_CHECK);
	int rc;

	sqlite3_bind_text(st, 1, jti, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail(s, "check token");
	*revoked = rc == SQLITE_ROW;
	return STORE_OK;
}

static char *
col_dup(sqlite3_stmt *st, int col)
{
	const char *v = (const char *)sqlite3_column_text(st, col);

	return v ? xstrdup(v) : NULL;
}

/* Fills l from a row selected with LINK_COLS. */
static void
col_link(sqlite3_stmt *st, struct link *l)
{
	memset(l, 0, sizeof *l);
	col_copy(st, 0, l->short_code, sizeof l->short_code);
	l->full_url = col_dup(st, 1);
	col_copy(st, 2, l->created_by_user, sizeof l->created_by_user);
	l->created_at = col_time(st, 3);
	l->expires_at = sqlite3_column_int64(st, 4);
	l->max_clicks = sqlite3_column_int64(st, 5);
	l->click_count = sqlite3_column_int64(st, 6);
	col_copy(st, 7, l->file_key, sizeof l->file_key);
	l->filename = col_dup(st, 8);
	l->file_size = (uint64_t)sqlite3_column_int64(st, 9);
	l->content_type = col_dup(st, 10);
	l->password_hash = col_dup(st, 11);
}

static enum store_rc
step_done(struct store_sqlite *s, enum stmt_id id)
{
	sqlite3_stmt *st = stmt(s, id);
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? STORE_OK : fail(s, stmt_sql[id]);
}

static void
bind_text_or_null(sqlite3_stmt *st, int col, const char *v)
{
	if (v == NULL || *v == '\0')
		sqlite3_bind_null(st, col);
	else
		sqlite3_bind_text(st, col, v, -1, SQLITE_STATIC);
}

static enum store_rc
insert_link(struct store_sqlite *s, const struct link *l)
{
	sqlite3_stmt *st = stmt(s, ST_LINK_INSERT);
	char ts[RFC3339_LEN];
	int rc;

	sqlite3_bind_text(st, 1, l->short_code, -1, SQLITE_STATIC);
	bind_text_or_null(st, 2, l->full_url);
	bind_time(st, 3, l->created_at);
	time_format(l->expires_at, ts);
	sqlite3_bind_text(st, 4, ts, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, l->expires_at);
	sqlite3_bind_text(st, 6, l->created_by_user, -1, SQLITE_STATIC);
	bind_text_or_null(st, 7, l->file_key);
	bind_text_or_null(st, 8, l->file_key[0] ? l->filename : NULL);
	if (l->file_key[0])
		sqlite3_bind_int64(st, 9, (int64_t)l->file_size);
	bind_text_or_null(st, 10, l->file_key[0] ? l->content_type : NULL);
	sqlite3_bind_int64(st, 11, l->click_count);
	if (l->max_clicks > 0)
		sqlite3_bind_int64(st, 12, l->max_clicks);
	bind_text_or_null(st, 13, l->password_hash);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return STORE_OK;
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
		return STORE_CONFLICT;
	return fail(s, "insert link");
}

static enum store_rc
sqlite_links_create(struct store *base, const struct link *links, size_t n, int64_t max_active,
    int64_t now)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	sqlite3_stmt *st;
	enum store_rc rc;
	int64_t active;
	size_t i;

	linkcache_clear(s->cache);	/* see cache_check() */
	if (n == 0)
		return STORE_OK;
	if ((rc = step_done(s, ST_BEGIN)) != STORE_OK)
		return rc;
	/* Counting and inserting inside one IMMEDIATE transaction makes the quota exact even
	 * when the same account creates links from several workers at once. */
	st = stmt(s, ST_LINK_COUNT_ACTIVE);
	sqlite3_bind_text(st, 1, links[0].created_by_user, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = fail(s, "count links");
		goto rollback;
	}
	active = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (active + (int64_t)n > max_active) {
		rc = STORE_QUOTA;
		goto rollback;
	}
	for (i = 0; i < n; i++)
		if ((rc = insert_link(s, &links[i])) != STORE_OK)
			goto rollback;
	if ((rc = step_done(s, ST_COMMIT)) == STORE_OK)
		return STORE_OK;
rollback:
	step_done(s, ST_ROLLBACK);
	return rc;
}

static enum store_rc
one_link(struct store_sqlite *s, sqlite3_stmt *st, struct link *l, const char *what)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW) {
		col_link(st, l);
		/* Drain so an UPDATE/DELETE ... RETURNING completes before the reset. */
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? STORE_OK : (link_free(l), fail(s, what));
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? STORE_NOT_FOUND : fail(s, what);
}

static enum store_rc
sqlite_link_get(struct store *base, const char *code, struct link *l)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	sqlite3_stmt *st = stmt(s, ST_LINK_GET);

	sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
	return one_link(s, st, l, "get link");
}

/* Reads the link to open into l (and its rowid): from the cache when it may be used,
 * otherwise from the table, filling the cache. *cached: the cache's entry, or NULL. */
static enum store_rc
open_read(struct store_sqlite *s, const char *code, struct link *l, int64_t *rowid,
    struct link **cached)
{
	sqlite3_stmt *st;
	int src;

	*cached = NULL;
	if (s->cache_ok && (*cached = linkcache_get(s->cache, code, rowid)) != NULL) {
		link_copy(l, *cached);
		return STORE_OK;
	}
	st = stmt(s, ST_LINK_OPEN);
	sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
	if ((src = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		/* NOT_FOUND: unknown code (nothing was counted) */
		return src == SQLITE_DONE ? STORE_NOT_FOUND : fail(s, "open link");
	}
	col_link(st, l);
	*rowid = sqlite3_column_int64(st, LINK_NCOLS);
	sqlite3_reset(st);
	if (s->cache_ok)
		*cached = linkcache_put(s->cache, l, *rowid);
	return STORE_OK;
}

static enum store_rc
sqlite_link_open(struct store *base, const char *code, int64_t now, bool unlocked, struct link *l)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	sqlite3_stmt *st;
	/* Inside a group the caller's transaction covers the count and the read; alone, one of
	 * our own does, so the row read is the one that was counted. */
	bool own = sqlite3_get_autocommit(s->db) != 0;
	enum store_rc rc;
	int64_t rowid;
	struct link *cached;
	int src;

	if (own && (rc = opens_begin(s)) != STORE_OK)
		return rc;
	if ((rc = open_read(s, code, l, &rowid, &cached)) != STORE_OK)
		goto undo;
	if (!link_is_live(l, now)) {
		link_free(l);
		rc = STORE_GONE;
		goto undo;
	}
	/* A protected link is counted once unlocked; before, the caller asks for the password
	 * (l->password_hash is set). */
	if (l->password_hash == NULL || unlocked) {
		st = stmt(s, ST_LINK_COUNT);
		sqlite3_bind_int64(st, 1, rowid);
		src = sqlite3_step(st);
		sqlite3_reset(st);
		if (src != SQLITE_DONE || sqlite3_changes(s->db) != 1) {
			link_free(l);
			linkcache_clear(s->cache);
			s->cache_ok = false;
			rc = fail(s, "count a click");
			goto undo;
		}
		l->click_count++;
		if (cached != NULL)
			cached->click_count = l->click_count;
	}
	if (own && (rc = opens_end(s, true)) != STORE_OK)
		link_free(l);
	return rc;
undo:
	/* Nothing of this open was written; a group's other opens stay. */
	if (own)
		opens_end(s, false);
	return rc;
}

/*
 * Groups: the worker answers the link opens that arrived together inside one IMMEDIATE
 * transaction, so they cost one lock, one WAL append and one commit instead of one each.
 * Each open is still acknowledged only after the commit that counts it.
 */
static enum store_rc
sqlite_group_begin(struct store *base)
{
	return opens_begin((struct store_sqlite *)base);
}

static enum store_rc
sqlite_group_end(struct store *base)
{
	return opens_end((struct store_sqlite *)base, true);
}

/* Collects up to limit rows of a LINK_COLS statement into page. */
static enum store_rc
collect(struct store_sqlite *s, sqlite3_stmt *st, size_t limit, struct link_page *page,
    bool *more, const char *what)
{
	int rc;

	page->links = xcalloc(limit + 1, sizeof *page->links);
	page->n = 0;
	*more = false;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (page->n == limit) {
			*more = true;
			continue;	/* keep stepping: RETURNING statements finish on DONE */
		}
		col_link(st, &page->links[page->n++]);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		link_page_free(page);
		return fail(s, what);
	}
	return STORE_OK;
}

static enum store_rc
sqlite_links_list(struct store *base, const char *user_id, int64_t now, const char *cursor,
    size_t limit, struct link_page *page)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	sqlite3_stmt *st = stmt(s, ST_LINK_LIST);
	char created[RFC3339_LEN], code[CODE_MAX];
	enum store_rc rc;
	bool more;

	memset(page, 0, sizeof *page);
	sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	if (cursor != NULL && *cursor != '\0') {
		if (store_cursor_parse(cursor, created, code) == -1)
			return STORE_CONFLICT;	/* the caller answers 400 bad cursor */
		sqlite3_bind_text(st, 3, created, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 4, code, -1, SQLITE_TRANSIENT);
	}
	sqlite3_bind_int64(st, 5, (int64_t)limit + 1);
	if ((rc = collect(s, st, limit, page, &more, "list links")) != STORE_OK)
		return rc;
	if (more && page->n > 0)
		store_cursor_make(&page->links[page->n - 1], page->next_cursor);
	return STORE_OK;
}

static enum store_rc
sqlite_link_delete(struct store *base, const char *code, const char *user_id, struct link *out)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	sqlite3_stmt *st = stmt(s, ST_LINK_DELETE);

	linkcache_clear(s->cache);	/* see cache_check() */
	sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, user_id, -1, SQLITE_STATIC);
	return one_link(s, st, out, "delete link");
}

static enum store_rc
sqlite_links_purge_expired(struct store *base, int64_t now, size_t limit, struct link_page *page)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	sqlite3_stmt *st = stmt(s, ST_LINK_PURGE);
	bool more;

	linkcache_clear(s->cache);	/* see cache_check() */
	memset(page, 0, sizeof *page);
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, (int64_t)limit);
	return collect(s, st, limit, page, &more, "purge links");
}

static enum store_rc
sqlite_links_each_file_key(struct store *base, int (*fn)(void *, const char *), void *ctx)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	sqlite3_stmt *st = stmt(s, ST_FILE_KEYS);
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (fn(ctx, (const char *)sqlite3_column_text(st, 0)) == -1) {
			rc = SQLITE_DONE;
			break;
		}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? STORE_OK : fail(s, "file keys");
}

const struct store_backend store_backend_sqlite = {
	.name = "sqlite",
	.open = sqlite_open,
	.close = sqlite_close,
	.ping = sqlite_ping,
	.user_create = sqlite_user_create,
	.user_get = sqlite_user_get,
	.user_get_by_email = sqlite_user_get_by_email,
	.user_start_trial = sqlite_user_start_trial,
	.user_set_tier = sqlite_user_set_tier,
	.user_revoke_sessions = sqlite_user_revoke_sessions,
	.token_revoke = sqlite_token_revoke,
	.token_is_revoked = sqlite_token_is_revoked,
	.links_create = sqlite_links_create,
	.link_get = sqlite_link_get,
	.link_open = sqlite_link_open,
	.links_list = sqlite_links_list,
	.link_delete = sqlite_link_delete,
	.links_purge_expired = sqlite_links_purge_expired,
	.links_each_file_key = sqlite_links_each_file_key,
	.group_begin = sqlite_group_begin,
	.group_end = sqlite_group_end,
	.checkpoint = sqlite_checkpoint,
};
