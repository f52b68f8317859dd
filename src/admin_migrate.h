/*
 * admin_migrate: what the admin_migrate*.c files share (private to them; fileshare-admin's
 * subcommands themselves are declared in admin.h).
 *
 *   admin_migrate.c         migrate (SQLite -> DynamoDB), export (DynamoDB -> SQLite), dump:
 *                           option parsing, the plan, the checkpoint, the verification report
 *   admin_migrate_rec.c     the record every direction goes through and its canonical line
 *                           (THE canonical dump format), SQLite rows <-> records, DynamoDB
 *                           items <-> records, the "which side is newer" rule
 *   admin_migrate_ddb.c     the DynamoDB side: BatchGetItem / BatchWriteItem with their
 *                           Unprocessed* resent with backoff, segment scans
 *   admin_migrate_pool.c    forked workers (each with its own transport) fed over pipes, and
 *                           the progress display
 *   admin_migrate_blobs.c   migrate-blobs (local blob directory -> S3)
 *
 * THE CANONICAL DUMP. One line per record, the lines sorted bytewise, each ended by "\n"; its
 * checksum is the SHA-256 of those bytes. A line is a tag and the record's fields in the fixed
 * order of mschemas[] below, separated by one TAB:
 *
 *   U  user_id email password_hash user_tier trial_used trial_started_at trial_expires_at
 *      sessions_valid_after created_at updated_at
 *   L  short_code created_by_user created_at expires_at expires_at_ttl full_url file_key
 *      filename file_size content_type click_count max_clicks password_hash delete_token_hash
 *   T  jti expires_at                                  (a revoked token)
 *
 * Values are normalised by type: a time is "YYYY-MM-DDTHH:MM:SSZ" (UTC; other offsets, a space
 * for the T, fractions of a second are accepted and normalised), an integer is decimal without
 * leading zeros or "+", a boolean is 0 or 1; a value that does not parse as its type is kept
 * as it is. A field that is absent (SQL NULL, no attribute, DynamoDB NULL) is \N, unless its
 * SQLite column is NOT NULL with a default (user_tier free, trial_used 0, sessions_valid_after
 * 0, click_count 0): then the default. Bytes are written as they are except \ -> \\, TAB -> \t,
 * LF -> \n, CR -> \r and the other bytes below 0x20 and 0x7f -> \xHH (lower-case hex), so no
 * line holds a byte below 0x20 and the TAB after the key sorts the lines by (tag, key).
 * Which lines a dump holds: every account; every link, except those expired at the dump's
 * "now" unless expired ones are included; every revoked token not expired at "now". Email
 * claims, quota items and other bookkeeping items of the users table are not records (the
 * verification checks them separately).
 */
#ifndef FS_ADMIN_MIGRATE_H
#define FS_ADMIN_MIGRATE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <json-c/json.h>
#include <sqlite3.h>

#include "buf.h"

struct config;

enum mf_type { MF_STR, MF_TIME, MF_INT, MF_BOOL };

struct mfield {
	const char	*name;		/* SQLite column and DynamoDB attribute */
	enum mf_type	 type;
	const char	*dflt;		/* the value of an absent field, or NULL (\N) */
};

enum mkind { MK_USER, MK_LINK, MK_TOKEN, MK_COUNT };

struct mschema {
	char		 tag;		/* 'U', 'L', 'T' */
	const char	*label;		/* "users", "links", "tokens" (reports) */
	const char	*sql_table;	/* "users", "urls", "revoked_tokens" */
	size_t		 nf;
	const struct mfield *f;		/* f[0] is the key */
};

extern const struct mschema mschemas[MK_COUNT];

#define MREC_MAXF	16
#define LF_CREATED_AT	2	/* indexes of the link fields the code looks at */
#define LF_EXPIRES_TTL	4
#define LF_OWNER	1
#define LF_CLICKS	10
#define UF_EMAIL	1
#define UF_CREATED_AT	8
#define UF_UPDATED_AT	9
#define TF_EXPIRES	1

/* A record: normalised field values, owned, NULL = absent (\N). Zero it before first use. */
struct mrec {
	enum mkind	 kind;
	char		*f[MREC_MAXF];
};

void	mrec_clear(struct mrec *);		/* frees the values; the struct may be reused */
/* Sets field i from a raw value (NULL: absent), normalising it by the field's type. */
void	mrec_set(struct mrec *, size_t i, const char *raw);
void	mrec_set_i64(struct mrec *, size_t i, int64_t v);
/* The canonical line (no "\n") appended to out. */
void	mrec_line(const struct mrec *, struct buf *out);
/* Parses a canonical line; 0, or -1 if it is not one. r is cleared first. */
int	mrec_parse(const char *line, struct mrec *r);
/* Field i as an integer; def if absent or not an integer. */
int64_t	mrec_i64(const struct mrec *, size_t i, int64_t def);
/* The time normaliser itself: 0 and "YYYY-MM-DDTHH:MM:SSZ" in out, or -1. */
int	mtime_norm(const char *s, char out[32], int64_t *epoch);
/* Whether the record belongs in a dump made at now (see above). */
bool	mrec_in_dump(const struct mrec *, int64_t now, bool include_expired);

/* What to do with a source record given what the target holds (NULL: nothing). */
enum mdecision {
	MD_NEW,		/* absent: write it */
	MD_SAME,	/* identical: nothing to do */
	MD_UPDATE,	/* differs and the target is not newer: overwrite */
	MD_KEEP,	/* the target is newer (users: later updated_at; links: later created_at,
			   or the same and more clicks; tokens: later expiry): keep, report */
};
enum mdecision mrec_decide(const struct mrec *src, const struct mrec *target);
const char *mdecision_name(enum mdecision);

/* ---- SQLite */

/* SELECT of every field of kind k from its table, ordered by key, keys > ?1 (bind NULL or ""
 * for all). NULL with a message in err if the file lacks the table or a column. */
sqlite3_stmt *msql_select(sqlite3 *db, enum mkind k, char *err, size_t errlen);
/* Fills r from the current row of a msql_select statement. */
void	msql_row(sqlite3_stmt *st, enum mkind k, struct mrec *r);
/* Binds r's fields as ?1..?n of a statement whose columns are the schema's, in order. */
void	msql_bind(sqlite3_stmt *st, const struct mrec *r);

/* ---- DynamoDB items */

/* The DynamoDB item of a record (new object), in the layout store_dynamodb writes. */
json_object *mrec_item(const struct mrec *);
/* The key (new object) of a record's item: {"user_id": ...} or {"short_code": ...}. */
json_object *mrec_item_key(const struct mrec *);
/* The item's key value as a string ("token#<jti>", the uuid, the code) (caller frees). */
char	*mrec_item_keystr(const struct mrec *);

enum mitem_class {
	MI_RECORD,	/* an account, a link or a revoked token: *r filled */
	MI_CLAIM,	/* "email#<address>": claim_email, claimed_by */
	MI_QUOTA,	/* "quota#<uuid>" */
	MI_OTHER,	/* anything else (not exported) */
};
/* Classifies an item of table (MK_USER: the users table, MK_LINK: the urls table). */
enum mitem_class mitem_classify(json_object *item, bool users_table, struct mrec *r);

#define EMAIL_CLAIM_PREFIX	"email#"
#define QUOTA_PREFIX		"quota#"
#define TOKEN_PREFIX		"token#"

/* ---- escaping, shared by the protocol between the parent and its workers */
void	mesc_append(struct buf *, const char *s);	/* escaped as in the dump; NULL -> \N */
/* Unescapes one field in place; returns it, or NULL for \N. */
char	*munesc(char *s);
/* Splits a line at TABs in place into at most max fields; returns how many. */
size_t	msplit(char *line, char **fields, size_t max);

/* ---- workers (admin_migrate_pool.c) */

/*
 * A pool of forked workers. Each worker reads tasks from a pipe (text, one task ends with a
 * line "E") and answers on another (lines; a task's answer ends with a line starting "R").
 * The worker function runs in the child: it gets the task's lines (the text before the "E"
 * line, writable) and writes its answer with fprintf(out, ...), the last line "R...". fini runs
 * in the child when its task pipe closes, before exit(). The parent hands tasks to idle workers and calls
 * on_line for every answer line. Workers die with the parent (PR_SET_PDEATHSIG) and when their
 * task pipe closes.
 */
struct mpool;
typedef int	(*mpool_task_fn)(void *ctx, char *task, size_t len, FILE *out);
typedef void	(*mpool_fini_fn)(void *ctx);
/* Next task for an idle worker into task (ending with "E\n"), and an id: 1, or 0 when none is
 * left (for now or for good). */
typedef int	(*mpool_feed_fn)(void *ctx, struct buf *task, long *id);
/* One answer line of task id (without "\n"). */
typedef void	(*mpool_line_fn)(void *ctx, long id, char *line);

struct mpool *mpool_start(int n, mpool_task_fn fn, mpool_fini_fn fini, void *child_ctx);
/* Runs until feed has nothing more and every worker is idle. -1 if a worker died or could
 * not be written to (its task's id in *lost_id). tick is called about every 100 ms. */
int	mpool_run(struct mpool *, mpool_feed_fn feed, mpool_line_fn on_line, void (*tick)(void *),
	    void *ctx, long *lost_id);
void	mpool_stop(struct mpool *);	/* closes the pipes, waits for the workers; NULL ok */

/* Progress on stderr: a bar on a terminal, plain lines (at most one a second) otherwise. */
struct mprogress {
	const char	*what;		/* "migrate", "export", ... */
	const char	*phase;
	int64_t		 total, done;
	int64_t		 phase_started_us, last_us;
	int64_t		 phase_done0;
	int64_t		 interval_us;	/* between plain lines: 1 s unless set */
	bool		 tty, drawn;
};
void	mprogress_init(struct mprogress *, const char *what);
void	mprogress_phase(struct mprogress *, const char *phase, int64_t total);
void	mprogress_update(struct mprogress *, int64_t done, bool force);
void	mprogress_end(struct mprogress *);	/* ends the phase: final line */

/* ---- DynamoDB side (admin_migrate_ddb.c): in workers only */
struct mddb;
struct mddb *mddb_open(const struct config *cfg, char *err, size_t errlen);
void	mddb_close(struct mddb *);
/*
 * Reads the items of keys[0..n) (any number) of table with BatchGetItem (100 a call,
 * consistent, UnprocessedKeys resent with backoff). On success *out is an object mapping each
 * key found to its item. keyattr is the table's hash key. 0 / -1 with err.
 */
int	mddb_get(struct mddb *, const char *table, const char *keyattr, char *const *keys,
	    size_t n, json_object **out, char *err, size_t errlen);
/*
 * Writes items[0..n) (puts, taken over) with BatchWriteItem, 25 a call, UnprocessedItems
 * resent with capped exponential backoff and full jitter. failed[i] tells which could not be
 * written in the end (with the reason in why[i], static strings). Returns the number written.
 */
size_t	mddb_put(struct mddb *, const char *table, json_object **items, size_t n, bool *failed,
	    const char **why);
/* Conditional PutItem of a quota item: version must still be expect (0: absent). 0 written,
 * 1 the condition failed, -1 another failure. item is borrowed. */
int	mddb_put_quota(struct mddb *, const char *table, json_object *item, int64_t expect);
/* Scans segment seg of total of table to the end, calling fn for each item; -1 with err. */
int	mddb_scan(struct mddb *, const char *table, int seg, int total,
	    int (*fn)(void *ctx, json_object *item), void *ctx, char *err, size_t errlen);
/* Counters of this worker: calls and resends, for the report. */
struct mddb_stats {
	long	batch_get_calls, batch_write_calls, scan_calls, put_calls;
	long	unprocessed_resent, throttled_retries;
};
void	mddb_stats(const struct mddb *, struct mddb_stats *);

/* ---- helpers */
/* "sqlite:PATH" -> PATH (a pointer into arg), or NULL. */
const char *msqlite_arg(const char *arg);
/* Writes data to path atomically: a temporary file beside it, fsync, rename, fsync of the
 * directory. 0 / -1 (errno). */
int	mfile_write_atomic(const char *path, const void *data, size_t len);
void	msleep_ms(int64_t ms);
void	msha256_hex(const void *p, size_t n, char out[65]);

#endif
