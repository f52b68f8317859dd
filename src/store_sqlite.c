/*
 * store_sqlite: the SQLite backend. One connection per process, opened once, with every
 * statement prepared at open and kept for the connection's life. WAL, a busy timeout and
 * foreign keys on. The schema is versioned (schema_version) and upgraded in place at open,
 * inside one IMMEDIATE transaction, so several workers starting at once upgrade it once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "log.h"
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
	ST_MAX
};

#define USER_COLS "user_id, email, password_hash, user_tier, trial_used, trial_started_at," \
	" trial_expires_at, sessions_valid_after, created_at, updated_at"

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
};

struct store_sqlite {
	struct store	 base;
	sqlite3		*db;
	sqlite3_stmt	*st[ST_MAX];
};

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
		    schema_upgrade(db) == 0)
			return 0;
		if ((sqlite3_errcode(db) & 0xff) != SQLITE_BUSY &&
		    (sqlite3_errcode(db) & 0xff) != SQLITE_LOCKED)
			return -1;
		sqlite3_sleep(20 + attempt * 5);
	}
	return -1;
}

static void sqlite_close(struct store *);

static struct store *
sqlite_open(const struct config *cfg)
{
	struct store_sqlite *s = xcalloc(1, sizeof *s);
	int i;

	s->base.backend = &store_backend_sqlite;
	if (sqlite3_open_v2(cfg->sqlite_path, &s->db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		log_errorx("cannot open %s: %s", cfg->sqlite_path,
		    s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 5000);
	sqlite3_extended_result_codes(s->db, 1);
	if (setup(s->db) == -1) {
		log_errorx("cannot set up %s: %s", cfg->sqlite_path, sqlite3_errmsg(s->db));
		goto fail;
	}
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

static void
col_copy(sqlite3_stmt *st, int col, char *out, size_t outlen)
{
	const char *v = (const char *)sqlite3_column_text(st, col);

	snprintf(out, outlen, "%s", v ? v : "");
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
};
