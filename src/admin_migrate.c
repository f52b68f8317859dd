/*
 * admin_migrate: moving the metadata between the two stores, both ways, and proving that
 * nothing was lost.
 *
 *   fileshare-admin migrate --from sqlite:PATH --to dynamodb   SQLite -> DynamoDB
 *   fileshare-admin export --from dynamodb --to sqlite:PATH    DynamoDB -> SQLite (rollback)
 *   fileshare-admin dump --from sqlite:PATH|dynamodb           the canonical dump, for checks
 *
 * Every record goes through struct mrec (admin_migrate_rec.c); the verification at the end of
 * migrate and export compares the canonical dumps of both sides (admin_migrate.h defines the
 * format) key by key and by checksum. The exit status is 0 only when nothing was lost: no item
 * that could not be written, no conflict, no record missing or different on the target except
 * those the target holds in a newer version (kept, and reported).
 *
 * migrate is idempotent (each chunk reads what DynamoDB holds first, with BatchGetItem, and
 * writes only what is new or older there) and resumable: a checkpoint file, rewritten
 * atomically whenever the contiguous prefix of finished chunks grows, says which phase and key
 * a new run starts after. The parent process reads SQLite and hands chunks to forked workers
 * (admin_migrate_pool.c), which talk to DynamoDB (admin_migrate_ddb.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <sqlite3.h>

#include "admin.h"
#include "admin_migrate.h"
#include "aws/ddb_schema.h"
#include "aws/dynamodb.h"
#include "log.h"
#include "num.h"
#include "store.h"
#include "timeutil.h"
#include "xmalloc.h"

#define DEFAULT_WORKERS		4
#define DEFAULT_SEGMENTS	4
#define DEFAULT_CHUNK		500
#define EXAMPLES_MAX		20	/* keys listed per kind of problem in the report */
#define EXPORT_TXN		1000	/* SQLite rows per transaction */

/* ------------------------------------------------------------------ options */

struct mopts {
	const char	*from, *to, *checkpoint;
	bool		 include_expired, dry_run, no_verify;
	int64_t		 workers, segments, chunk, now, progress_ms;
};

static int
usage_err(const char *cmd, const char *msg)
{
	fprintf(stderr, "fileshare-admin %s: %s\n", cmd, msg);
	if (!strcmp(cmd, "migrate"))
		fprintf(stderr, "usage: fileshare-admin migrate --from sqlite:PATH --to dynamodb "
		    "[--checkpoint FILE] [--include-expired] [--dry-run] [--no-verify] "
		    "[--parallel N] [--segments N] [--chunk N] [--progress-interval MS]\n");
	else if (!strcmp(cmd, "export"))
		fprintf(stderr, "usage: fileshare-admin export --from dynamodb --to sqlite:PATH "
		    "[--include-expired] [--dry-run] [--no-verify] [--segments N] "
		    "[--progress-interval MS]\n");
	else
		fprintf(stderr, "usage: fileshare-admin dump --from sqlite:PATH|dynamodb "
		    "[--include-expired] [--segments N] [--now EPOCH]\n");
	return 2;
}

/* Parses the options every data command shares; -1 after a message on a bad one. */
static int
parse_opts(const char *cmd, int argc, char **argv, struct mopts *o)
{
	static const struct {
		const char *name;
		int64_t min, max;
		size_t off;
	} nums[] = {
		{ "--parallel", 1, 64, offsetof(struct mopts, workers) },
		{ "--segments", 1, 64, offsetof(struct mopts, segments) },
		{ "--chunk", 1, 100000, offsetof(struct mopts, chunk) },
		{ "--now", 1, 253402300799LL, offsetof(struct mopts, now) },
		{ "--progress-interval", 10, 3600000, offsetof(struct mopts, progress_ms) },
	};
	char msg[256];
	size_t j;
	int i;

	memset(o, 0, sizeof *o);
	o->workers = DEFAULT_WORKERS;
	o->segments = DEFAULT_SEGMENTS;
	o->chunk = DEFAULT_CHUNK;
	o->progress_ms = 1000;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL, *eq = strchr(a, '=');
		char name[64];

		snprintf(name, sizeof name, "%.*s", eq ? (int)(eq - a) : (int)strlen(a), a);
		if (!strcmp(name, "--include-expired") && !eq) {
			o->include_expired = true;
			continue;
		}
		if (!strcmp(name, "--dry-run") && !eq) {
			o->dry_run = true;
			continue;
		}
		if (!strcmp(name, "--no-verify") && !eq) {
			o->no_verify = true;
			continue;
		}
		if (eq)
			v = eq + 1;
		else if (i + 1 < argc)
			v = argv[++i];
		else {
			snprintf(msg, sizeof msg, "%s needs a value", name);
			return usage_err(cmd, msg), -1;
		}
		if (!strcmp(name, "--from"))
			o->from = v;
		else if (!strcmp(name, "--to"))
			o->to = v;
		else if (!strcmp(name, "--checkpoint"))
			o->checkpoint = v;
		else {
			for (j = 0; j < sizeof nums / sizeof nums[0]; j++)
				if (!strcmp(name, nums[j].name))
					break;
			if (j == sizeof nums / sizeof nums[0]) {
				snprintf(msg, sizeof msg, "unknown option %s", name);
				return usage_err(cmd, msg), -1;
			}
			if (num_parse_i64(v, nums[j].min, nums[j].max,
			    (int64_t *)(void *)((char *)o + nums[j].off)) == -1) {
				snprintf(msg, sizeof msg, "%s: \"%s\" is not a number in [%" PRId64
				    ", %" PRId64 "]", name, v, nums[j].min, nums[j].max);
				return usage_err(cmd, msg), -1;
			}
		}
	}
	if (o->now == 0)
		o->now = clock_now_ms() / 1000;
	return 0;
}

/* ------------------------------------------------------------------ sorted line sets */

struct lines {
	char	**v;
	size_t	 n, cap;
};

static void
lines_push(struct lines *l, char *owned)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1024;
		l->v = xrealloc(l->v, l->cap * sizeof *l->v);
	}
	l->v[l->n++] = owned;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
lines_sort(struct lines *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof *l->v, cmp_str);
}

static void
lines_free(struct lines *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}

/* SHA-256 over the sorted lines, each followed by "\n": the dump's checksum. */
static void
lines_checksum(const struct lines *l, char out[65])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	size_t k;

	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	for (k = 0; k < l->n; k++) {
		EVP_DigestUpdate(c, l->v[k], strlen(l->v[k]));
		EVP_DigestUpdate(c, "\n", 1);
	}
	EVP_DigestFinal_ex(c, md, &mdlen);
	EVP_MD_CTX_free(c);
	for (i = 0; i < mdlen && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	out[64] = '\0';
}

/* The end of a line's "tag TAB key" prefix (its second TAB, or its end). */
static const char *
key_end(const char *s)
{
	const char *t = strchr(s, '\t');

	if (t != NULL && (t = strchr(t + 1, '\t')) != NULL)
		return t;
	return s + strlen(s);
}

/* Orders lines by (tag, key); consistent with strcmp of whole lines (no byte < TAB in keys). */
static int
key_cmp(const char *a, const char *b)
{
	size_t la = (size_t)(key_end(a) - a), lb = (size_t)(key_end(b) - b);
	int c = memcmp(a, b, la < lb ? la : lb);

	return c ? c : (la > lb) - (la < lb);
}

/* Finds the line whose first fields equal prefix (ending at a TAB); NULL if none. */
static const char *
lines_find(const struct lines *l, const char *prefix)
{
	size_t lo = 0, hi = l->n, plen = strlen(prefix);
	int c;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		c = strncmp(l->v[mid], prefix, plen);
		if (c == 0)
			return l->v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ------------------------------------------------------------------ reports */

enum { C_NEW, C_UPDATE, C_SAME, C_KEEP, C_CONFLICT, C_FAILED, C_SKIPPED, NC };
static const char *const count_names[NC] = {
	"new", "updated", "unchanged", "kept-newer", "conflicts", "failed", "skipped",
};

struct examples {
	long	 n;
	char	*v[EXAMPLES_MAX];
};

static void
example_add(struct examples *e, const char *what)
{
	if (e->n < EXAMPLES_MAX)
		e->v[e->n] = xstrdup(what);
	e->n++;
}

static void
examples_print(FILE *f, const char *title, const struct examples *e)
{
	long i;

	if (e->n == 0)
		return;
	fprintf(f, "%s (%ld):\n", title, e->n);
	for (i = 0; i < e->n && i < EXAMPLES_MAX; i++)
		fprintf(f, "  %s\n", e->v[i]);
	if (e->n > EXAMPLES_MAX)
		fprintf(f, "  ... and %ld more\n", e->n - EXAMPLES_MAX);
}

static void
examples_free(struct examples *e)
{
	long i;

	for (i = 0; i < e->n && i < EXAMPLES_MAX; i++)
		free(e->v[i]);
	memset(e, 0, sizeof *e);
}

/* What the key-by-key comparison of two dumps found, per record kind. */
struct vkind {
	long	src, tgt, same, keep, missing, differ, extra;
};

struct verify {
	struct vkind	 k[MK_COUNT];
	long		 claims_checked, claims_bad, quota_checked, quota_bad;
	struct examples	 missing, differ, claims, quota;
	char		 sum_src[65], sum_tgt[65];
	bool		 identical;
};

static enum mkind
kind_of_line(const char *line)
{
	int k;

	for (k = 0; k < MK_COUNT; k++)
		if (line[0] == mschemas[k].tag)
			return (enum mkind)k;
	return MK_COUNT;
}

/* A short "users 1234" label for a line's record, for the report. */
static char *
line_label(const char *line)
{
	enum mkind k = kind_of_line(line);
	const char *start = strchr(line, '\t'), *end = key_end(line);
	char *s;

	if (k == MK_COUNT || start == NULL)
		return xstrdup(line);
	start++;
	s = xmalloc(strlen(mschemas[k].label) + (size_t)(end - start) + 2);
	sprintf(s, "%s %.*s", mschemas[k].label, (int)(end - start), start);
	return s;
}

/*
 * Compares the dump of the source with the dump of the target (both sorted). A record of the
 * source is fine when the target has the same line, or a newer version (mrec_decide says KEEP);
 * missing or older-and-different is a loss. Records only on the target are counted as extra.
 */
static void
verify_dumps(struct lines *src, struct lines *tgt, struct verify *v)
{
	struct mrec a = { 0 }, b = { 0 };
	size_t i = 0, j = 0;
	enum mkind k;
	char *label;
	int c;

	lines_sort(src);
	lines_sort(tgt);
	lines_checksum(src, v->sum_src);
	lines_checksum(tgt, v->sum_tgt);
	v->identical = !strcmp(v->sum_src, v->sum_tgt) && src->n == tgt->n;
	for (i = 0; i < src->n; i++)
		if ((k = kind_of_line(src->v[i])) != MK_COUNT)
			v->k[k].src++;
	for (j = 0; j < tgt->n; j++)
		if ((k = kind_of_line(tgt->v[j])) != MK_COUNT)
			v->k[k].tgt++;
	i = j = 0;
	while (i < src->n || j < tgt->n) {
		if (i == src->n)
			c = 1;
		else if (j == tgt->n)
			c = -1;
		else
			c = key_cmp(src->v[i], tgt->v[j]);
		if (c > 0) {
			if ((k = kind_of_line(tgt->v[j])) != MK_COUNT)
				v->k[k].extra++;
			j++;
			continue;
		}
		k = kind_of_line(src->v[i]);
		if (k == MK_COUNT) {
			i++;
			continue;
		}
		if (c < 0) {
			v->k[k].missing++;
			label = line_label(src->v[i]);
			example_add(&v->missing, label);
			free(label);
			i++;
			continue;
		}
		if (!strcmp(src->v[i], tgt->v[j]))
			v->k[k].same++;
		else if (mrec_parse(src->v[i], &a) == 0 && mrec_parse(tgt->v[j], &b) == 0 &&
		    mrec_decide(&a, &b) == MD_KEEP)
			v->k[k].keep++;
		else {
			v->k[k].differ++;
			label = line_label(src->v[i]);
			example_add(&v->differ, label);
			free(label);
		}
		i++;
		j++;
	}
	mrec_clear(&a);
	mrec_clear(&b);
}

static bool
verify_ok(const struct verify *v)
{
	int k;

	for (k = 0; k < MK_COUNT; k++)
		if (v->k[k].missing || v->k[k].differ)
			return false;
	return v->claims_bad == 0 && v->quota_bad == 0;
}

static void
verify_print(FILE *f, const struct verify *v, const char *src_name, const char *tgt_name,
    int64_t now, bool include_expired)
{
	int k;

	fprintf(f, "verification (canonical dumps at %" PRId64 ", expired links %s):\n", now,
	    include_expired ? "included" : "left out");
	for (k = 0; k < MK_COUNT; k++)
		fprintf(f, "  %-7s %s %ld, %s %ld: identical %ld, kept newer %ld, missing %ld, "
		    "different %ld; only in %s %ld\n", mschemas[k].label, src_name, v->k[k].src,
		    tgt_name, v->k[k].tgt, v->k[k].same, v->k[k].keep, v->k[k].missing,
		    v->k[k].differ, tgt_name, v->k[k].extra);
	if (v->claims_checked)
		fprintf(f, "  email claims: %ld checked, %ld missing or naming another account\n",
		    v->claims_checked, v->claims_bad);
	if (v->quota_checked)
		fprintf(f, "  quota entries: %ld live links checked, %ld missing from their "
		    "owner's quota item\n", v->quota_checked, v->quota_bad);
	fprintf(f, "  checksum %-8s sha256:%s\n", src_name, v->sum_src);
	fprintf(f, "  checksum %-8s sha256:%s\n", tgt_name, v->sum_tgt);
	examples_print(f, "  missing on the target", &v->missing);
	examples_print(f, "  different on the target (and not newer)", &v->differ);
	examples_print(f, "  accounts without a valid email claim", &v->claims);
	examples_print(f, "  links missing from the quota items", &v->quota);
	if (!verify_ok(v))
		fprintf(f, "result: FAILED, data would be lost\n");
	else if (v->identical)
		fprintf(f, "result: OK, the dumps are identical\n");
	else
		fprintf(f, "result: OK, nothing lost (the dumps differ only by records the target "
		    "holds in a newer version or holds alone)\n");
}

static void
verify_free(struct verify *v)
{
	examples_free(&v->missing);
	examples_free(&v->differ);
	examples_free(&v->claims);
	examples_free(&v->quota);
}

/* ------------------------------------------------------------------ SQLite dumps */

static sqlite3 *
sqlite_open_ro(const char *path, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	struct stat sb;

	if (stat(path, &sb) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 10000);
	return db;
}

/* Every record of the file that belongs in a dump at now, as canonical lines (unsorted). */
static int
sqlite_dump(sqlite3 *db, int64_t now, bool include_expired, struct lines *out, char *err,
    size_t errlen)
{
	struct buf line = BUF_INIT;
	struct mrec r = { 0 };
	sqlite3_stmt *st;
	int k, rc = 0;

	/* One read transaction: the three tables as of one moment. */
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	for (k = 0; k < MK_COUNT && rc == 0; k++) {
		if ((st = msql_select(db, (enum mkind)k, err, errlen)) == NULL) {
			rc = -1;
			break;
		}
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			msql_row(st, (enum mkind)k, &r);
			if (!mrec_in_dump(&r, now, include_expired))
				continue;
			buf_reset(&line);
			mrec_line(&r, &line);
			lines_push(out, xstrdup(line.data));
		}
		if (rc != SQLITE_DONE) {
			snprintf(err, errlen, "reading %s: %s", mschemas[k].sql_table,
			    sqlite3_errmsg(db));
			rc = -1;
		} else
			rc = 0;
		sqlite3_finalize(st);
	}
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	mrec_clear(&r);
	buf_free(&line);
	return rc;
}

/* ------------------------------------------------------------------ the workers' side */

struct wctx {
	const struct config	*cfg;
	bool			 dry_run;
	struct mddb		*m;
	struct mddb_stats	 last;	/* counters at the end of the previous task */
};

static void
wfini(void *vctx)
{
	struct wctx *w = vctx;

	mddb_close(w->m);
	w->m = NULL;
}

/* The counters this task added, as the tail of its R line. */
static void
stats_tail(struct wctx *w, FILE *out)
{
	struct mddb_stats s;

	mddb_stats(w->m, &s);
	fprintf(out, "\t%ld\t%ld\t%ld\t%ld\t%ld\t%ld", s.batch_write_calls - w->last.batch_write_calls,
	    s.batch_get_calls - w->last.batch_get_calls, s.scan_calls - w->last.scan_calls,
	    s.put_calls - w->last.put_calls, s.unprocessed_resent - w->last.unprocessed_resent,
	    s.throttled_retries - w->last.throttled_retries);
	w->last = s;
}

static void
out_key(FILE *out, char tag, enum mkind k, const char *key, const char *why)
{
	struct buf b = BUF_INIT;

	buf_appendc(&b, tag);
	buf_appendc(&b, '\t');
	buf_appends(&b, mschemas[k].label);
	buf_appendc(&b, '\t');
	mesc_append(&b, key);
	if (why != NULL) {
		buf_appendc(&b, '\t');
		mesc_append(&b, why);
	}
	fprintf(out, "%s\n", b.data);
	buf_free(&b);
}

struct qentry {
	char	*user, *code;
	int64_t	 exp;
};

/* What one put of a write task stands for, to account for it once it is written or not. */
struct wput {
	size_t	 rec;		/* index of the record */
	int	 what;		/* 0 the record itself, 1 its email claim, 2 its quota item */
};

static char *
prefixed(const char *prefix, const char *rest)
{
	char *k = xmalloc(strlen(prefix) + strlen(rest) + 1);

	strcpy(k, prefix);
	strcat(k, rest);
	return k;
}

/* The quota item of user with the entries of its live links, merged into existing (NULL if
 * none); *changed says whether anything had to be added. */
static json_object *
quota_item(const char *user, const struct qentry *q, size_t nq, json_object *existing,
    int64_t *version, bool *changed)
{
	json_object *it = json_object_new_object(), *map = json_object_new_object(), *mv, *m, *links,
	    *e;
	char *key = prefixed(QUOTA_PREFIX, user);
	int64_t v = 0, have;
	size_t i;

	*changed = existing == NULL;
	if (existing != NULL) {
		(void)ddb_item_n(existing, "version", &v);
		if (json_object_object_get_ex(existing, "links", &m) &&
		    json_object_object_get_ex(m, "M", &links) &&
		    json_object_is_type(links, json_type_object)) {
			json_object_object_foreach(links, code, av)
				json_object_object_add(map, code, json_object_get(av));
		}
	}
	for (i = 0; i < nq; i++) {
		if (json_object_object_get_ex(map, q[i].code, &e) &&
		    ddb_item_n(map, q[i].code, &have) == 0 && have == q[i].exp)
			continue;
		json_object_object_add(map, q[i].code, ddb_av_n(q[i].exp));
		*changed = true;
	}
	*version = v;
	ddb_item_set_s(it, DDB_USERS_HASH_KEY, key);
	ddb_item_set_n(it, "version", v + 1);
	mv = json_object_new_object();
	json_object_object_add(mv, "M", map);
	json_object_object_add(it, "links", mv);
	free(key);
	return it;
}

/*
 * One chunk of records of one kind (and, for users, the quota entries of their live links):
 * read what DynamoDB holds, decide record by record, write what must be written. Answers K
 * (kept newer), X (conflict) and F (failed) lines, then
 * R new updated unchanged kept conflicts failed claims quota-new quota-merged + counters.
 */
static int
wtask_write(struct wctx *w, enum mkind kind, char *task, FILE *out)
{
	const char *table = kind == MK_LINK ? w->cfg->urls_table : w->cfg->users_table;
	const char *keyattr = kind == MK_LINK ? DDB_URLS_HASH_KEY : DDB_USERS_HASH_KEY;
	struct mrec *recs = NULL, cur = { 0 };
	struct qentry *qs = NULL;
	size_t nrec = 0, caprec = 0, nq = 0, capq = 0, nkeys = 0, nput = 0, i, j, q0;
	char **keys = NULL, *line, *save = NULL, *f[5], err[512];
	json_object *existing = NULL, **puts = NULL, *it;
	struct wput *pw = NULL;
	long c[NC] = { 0 }, claims = 0, quota_new = 0, quota_merged = 0;
	enum mdecision *dec = NULL;
	bool *failed = NULL, *conflict = NULL, changed;
	const char **why = NULL;
	int rc = 0;

	for (line = strtok_r(task, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == 'Q') {
			if (msplit(line, f, 5) != 4)
				continue;
			if (nq == capq) {
				capq = capq ? capq * 2 : 256;
				qs = xrealloc(qs, capq * sizeof *qs);
			}
			qs[nq].user = xstrdup(munesc(f[1]) ? f[1] : "");
			qs[nq].code = xstrdup(munesc(f[2]) ? f[2] : "");
			qs[nq].exp = strtoll(f[3], NULL, 10);
			nq++;
			continue;
		}
		if (nrec == caprec) {
			caprec = caprec ? caprec * 2 : 256;
			recs = xrealloc(recs, caprec * sizeof *recs);
		}
		memset(&recs[nrec], 0, sizeof recs[nrec]);
		if (mrec_parse(line, &recs[nrec]) == 0 && recs[nrec].kind == kind)
			nrec++;
		else
			mrec_clear(&recs[nrec]);
	}
	if (w->m == NULL && (w->m = mddb_open(w->cfg, err, sizeof err)) == NULL) {
		fprintf(out, "A\tDynamoDB: %s\n", err);
		goto answer;
	}
	/* The keys to read: each record's item, and for accounts their claim and quota items
	 * (quota entries come sorted by user, as the users do). */
	keys = xcalloc(nrec * 3 + 1, sizeof *keys);
	for (i = 0; i < nrec; i++) {
		keys[nkeys++] = mrec_item_keystr(&recs[i]);
		if (kind == MK_USER) {
			if (recs[i].f[UF_EMAIL] != NULL)
				keys[nkeys++] = prefixed(EMAIL_CLAIM_PREFIX, recs[i].f[UF_EMAIL]);
			keys[nkeys++] = prefixed(QUOTA_PREFIX, recs[i].f[0]);
		}
	}
	if (mddb_get(w->m, table, keyattr, keys, nkeys, &existing, err, sizeof err) == -1) {
		fprintf(out, "A\t%s\n", err);
		goto answer;
	}
	puts = xcalloc(nrec * 3 + 1, sizeof *puts);
	pw = xcalloc(nrec * 3 + 1, sizeof *pw);
	dec = xcalloc(nrec + 1, sizeof *dec);
	conflict = xcalloc(nrec + 1, sizeof *conflict);
	failed = xcalloc(nrec + 1, sizeof *failed);
	for (i = 0, q0 = 0; i < nrec; i++) {
		struct mrec *r = &recs[i];
		char *k = mrec_item_keystr(r);
		const char *owner;
		int64_t version;
		size_t qn;

		it = NULL;
		json_object_object_get_ex(existing, k, &it);
		free(k);
		if (it != NULL && mitem_classify(it, kind != MK_LINK, &cur) == MI_RECORD &&
		    cur.kind == kind)
			dec[i] = mrec_decide(r, &cur);
		else
			dec[i] = mrec_decide(r, NULL);
		if (kind == MK_USER && r->f[UF_EMAIL] != NULL) {
			k = prefixed(EMAIL_CLAIM_PREFIX, r->f[UF_EMAIL]);
			it = NULL;
			json_object_object_get_ex(existing, k, &it);
			owner = it ? ddb_item_s(it, "claimed_by") : NULL;
			if (owner != NULL && strcmp(owner, r->f[0])) {
				/* The address belongs to another account there: writing this one
				 * would make it unreachable, or steal the address. */
				conflict[i] = true;
				out_key(out, 'X', kind, r->f[0], "its email address is claimed by "
				    "another account in DynamoDB");
			} else if (owner == NULL && dec[i] != MD_KEEP) {
				json_object *claim = json_object_new_object();

				ddb_item_set_s(claim, DDB_USERS_HASH_KEY, k);
				ddb_item_set_s(claim, "claimed_by", r->f[0]);
				if (r->f[UF_CREATED_AT] != NULL)
					ddb_item_set_s(claim, "created_at", r->f[UF_CREATED_AT]);
				puts[nput] = claim;
				pw[nput].rec = i;
				pw[nput++].what = 1;
			}
			free(k);
		}
		if (conflict[i])
			continue;
		if (dec[i] == MD_NEW || dec[i] == MD_UPDATE) {
			puts[nput] = mrec_item(r);
			pw[nput].rec = i;
			pw[nput++].what = 0;
		} else if (dec[i] == MD_KEEP)
			out_key(out, 'K', kind, r->f[0], NULL);
		if (kind != MK_USER)
			continue;
		/* The quota item: the entries of this user's live links. */
		while (q0 < nq && strcmp(qs[q0].user, r->f[0]) < 0)
			q0++;
		for (qn = 0; q0 + qn < nq && !strcmp(qs[q0 + qn].user, r->f[0]); qn++)
			;
		if (qn == 0)
			continue;
		k = prefixed(QUOTA_PREFIX, r->f[0]);
		it = NULL;
		json_object_object_get_ex(existing, k, &it);
		free(k);
		{
			json_object *qi = quota_item(r->f[0], &qs[q0], qn, it, &version, &changed);
			int tries, qrc = 0;

			if (!changed) {
				json_object_put(qi);
				continue;
			}
			if (it == NULL) {	/* the usual case: written with the batch */
				puts[nput] = qi;
				pw[nput].rec = i;
				pw[nput++].what = 2;
				continue;
			}
			/* An existing quota item the app may be updating: merge, conditional on
			 * its version, read again if it moved. */
			for (tries = 0; !w->dry_run && tries < 5; tries++) {
				json_object *again = NULL;
				char *qk;

				if ((qrc = mddb_put_quota(w->m, table, qi, version)) != 1)
					break;
				json_object_put(qi);
				qi = NULL;
				qk = prefixed(QUOTA_PREFIX, r->f[0]);
				if (mddb_get(w->m, table, keyattr, &qk, 1, &again, err,
				    sizeof err) == -1) {
					free(qk);
					qrc = -1;
					break;
				}
				it = NULL;
				json_object_object_get_ex(again, qk, &it);
				qi = quota_item(r->f[0], &qs[q0], qn, it, &version, &changed);
				json_object_put(again);
				free(qk);
				if (!changed) {
					qrc = 0;
					break;
				}
			}
			json_object_put(qi);
			if (qrc == 0)
				quota_merged++;
			else {
				out_key(out, 'F', kind, r->f[0], "its quota item could not be updated");
				failed[i] = true;
			}
		}
	}
	/* Write (or, in a dry run, only count). */
	why = xcalloc(nput + 1, sizeof *why);
	{
		bool *pfailed = xcalloc(nput + 1, sizeof *pfailed);
		bool *rfailed = xcalloc(nrec + 1, sizeof *rfailed);

		if (!w->dry_run)
			mddb_put(w->m, table, puts, nput, pfailed, why);
		else
			for (j = 0; j < nput; j++) {
				json_object_put(puts[j]);
				puts[j] = NULL;
			}
		for (j = 0; j < nput; j++) {
			if (pfailed[j]) {
				if (!rfailed[pw[j].rec] && !failed[pw[j].rec])
					out_key(out, 'F', kind, recs[pw[j].rec].f[0], why[j]);
				rfailed[pw[j].rec] = true;
			} else if (pw[j].what == 1)
				claims++;
			else if (pw[j].what == 2)
				quota_new++;
		}
		for (i = 0; i < nrec; i++) {
			if (conflict[i])
				c[C_CONFLICT]++;
			else if (rfailed[i] || failed[i])
				c[C_FAILED]++;
			else
				c[dec[i] == MD_NEW ? C_NEW : dec[i] == MD_UPDATE ? C_UPDATE :
				    dec[i] == MD_SAME ? C_SAME : C_KEEP]++;
		}
		free(pfailed);
		free(rfailed);
	}
answer:
	fprintf(out, "R\t%ld\t%ld\t%ld\t%ld\t%ld\t%ld\t%ld\t%ld\t%ld", c[C_NEW], c[C_UPDATE],
	    c[C_SAME], c[C_KEEP], c[C_CONFLICT], c[C_FAILED], claims, quota_new, quota_merged);
	if (w->m != NULL)
		stats_tail(w, out);
	fputc('\n', out);
	for (i = 0; i < nrec; i++)
		mrec_clear(&recs[i]);
	for (i = 0; i < nq; i++) {
		free(qs[i].user);
		free(qs[i].code);
	}
	for (i = 0; i < nkeys; i++)
		free(keys[i]);
	mrec_clear(&cur);
	json_object_put(existing);
	free(recs);
	free(qs);
	free(keys);
	free(puts);
	free(pw);
	free(dec);
	free(conflict);
	free(failed);
	free(why);
	return rc;
}

struct scanctx {
	FILE	*out;
	bool	 users_table, include_expired;
	int64_t	 now;
	long	 records, expired, claims, quota, other;
	struct mrec r;
	struct buf line;
};

/* One scanned item: a record line, a claim line (C email owner), quota lines (Q user code
 * expiry), or nothing. */
static int
scan_item(void *vctx, json_object *item)
{
	struct scanctx *s = vctx;
	json_object *m, *links;
	const char *key;

	buf_reset(&s->line);
	switch (mitem_classify(item, s->users_table, &s->r)) {
	case MI_RECORD:
		if (!mrec_in_dump(&s->r, s->now, s->include_expired)) {
			s->expired++;
			return 0;
		}
		mrec_line(&s->r, &s->line);
		s->records++;
		break;
	case MI_CLAIM:
		key = ddb_item_s(item, DDB_USERS_HASH_KEY);
		buf_appends(&s->line, "C\t");
		mesc_append(&s->line, key + strlen(EMAIL_CLAIM_PREFIX));
		buf_appendc(&s->line, '\t');
		mesc_append(&s->line, ddb_item_s(item, "claimed_by"));
		s->claims++;
		break;
	case MI_QUOTA:
		key = ddb_item_s(item, DDB_USERS_HASH_KEY) + strlen(QUOTA_PREFIX);
		s->quota++;
		if (json_object_object_get_ex(item, "links", &m) &&
		    json_object_object_get_ex(m, "M", &links) &&
		    json_object_is_type(links, json_type_object)) {
			json_object_object_foreach(links, code, av) {
				int64_t exp = 0;

				(void)av;
				if (ddb_item_n(links, code, &exp) == -1)
					continue;
				buf_appends(&s->line, "Q\t");
				mesc_append(&s->line, key);
				buf_appendc(&s->line, '\t');
				mesc_append(&s->line, code);
				buf_printf(&s->line, "\t%" PRId64 "\n", exp);
			}
		}
		if (s->line.len > 0) {
			s->line.data[--s->line.len] = '\0';	/* the last "\n" is added below */
			break;
		}
		return 0;
	default:
		s->other++;
		return 0;
	}
	return fprintf(s->out, "%s\n", s->line.data) < 0 ? -1 : 0;
}

/* S users|urls SEGMENT TOTAL NOW INCLUDE_EXPIRED: streams the segment's lines, then R. */
static int
wtask_scan(struct wctx *w, char *task, FILE *out)
{
	struct scanctx s = { 0 };
	char *f[7], err[512];
	int64_t seg, total;
	int rc = 0;

	if (msplit(strtok(task, "\n"), f, 7) != 6 || num_parse_i64(f[2], 0, 63, &seg) ||
	    num_parse_i64(f[3], 1, 64, &total) || num_parse_i64(f[4], 0, INT64_MAX, &s.now)) {
		fprintf(out, "A\tbad scan task\nR\n");
		return 0;
	}
	s.users_table = !strcmp(f[1], "users");
	s.include_expired = f[5][0] == '1';
	s.out = out;
	if (w->m == NULL && (w->m = mddb_open(w->cfg, err, sizeof err)) == NULL)
		fprintf(out, "A\tDynamoDB: %s\n", err);
	else if (mddb_scan(w->m, s.users_table ? w->cfg->users_table : w->cfg->urls_table,
	    (int)seg, (int)total, scan_item, &s, err, sizeof err) == -1)
		fprintf(out, "A\t%s\n", err);
	fprintf(out, "R\t%ld\t%ld\t%ld\t%ld\t%ld", s.records, s.expired, s.claims, s.quota, s.other);
	if (w->m != NULL)
		stats_tail(w, out);
	fputc('\n', out);
	mrec_clear(&s.r);
	buf_free(&s.line);
	return rc;
}

static int
wtask(void *vctx, char *task, size_t len, FILE *out)
{
	struct wctx *w = vctx;
	int k;

	(void)len;
	if (task[0] == 'S')
		return wtask_scan(w, task, out);
	if (task[0] == 'W') {
		for (k = 0; k < MK_COUNT; k++)
			if (task[2] == mschemas[k].tag)
				return wtask_write(w, (enum mkind)k, task + strcspn(task, "\n"), out);
	}
	fprintf(out, "A\tunknown task\nR\n");
	return 0;
}

/* ------------------------------------------------------------------ scanning DynamoDB */

struct scanrun {
	int		 segments, next;
	int64_t		 now;
	bool		 include_expired, users_table, keep_aux;
	struct lines	*recs, *claims, *quota;
	long		 records, expired, nclaims, nquota, other, calls, resent, throttled;
	long		 expired_tokens, expired_links;	/* (totals only) */
	char		 fatal[512];
	struct mprogress *pr;
};

static int
scan_feed(void *vctx, struct buf *task, long *id)
{
	struct scanrun *s = vctx;

	if (s->next == s->segments)
		return 0;
	*id = s->next;
	buf_printf(task, "S\t%s\t%d\t%d\t%" PRId64 "\t%d\nE\n", s->users_table ? "users" : "urls",
	    s->next, s->segments, s->now, s->include_expired ? 1 : 0);
	s->next++;
	return 1;
}

static void
scan_line(void *vctx, long id, char *line)
{
	struct scanrun *s = vctx;
	char *f[16];
	size_t n;

	(void)id;
	switch (line[0]) {
	case 'U': case 'L': case 'T':
		lines_push(s->recs, xstrdup(line));
		s->pr->done++;
		break;
	case 'C':
		if (s->keep_aux)
			lines_push(s->claims, xstrdup(line + 2));
		break;
	case 'Q':
		if (s->keep_aux)
			lines_push(s->quota, xstrdup(line + 2));
		break;
	case 'A':
		if (s->fatal[0] == '\0')
			snprintf(s->fatal, sizeof s->fatal, "%s", line + 2);
		break;
	case 'R':
		n = msplit(line, f, 16);
		if (n >= 6) {
			s->records += strtol(f[1], NULL, 10);
			s->expired += strtol(f[2], NULL, 10);
			s->nclaims += strtol(f[3], NULL, 10);
			s->nquota += strtol(f[4], NULL, 10);
			s->other += strtol(f[5], NULL, 10);
		}
		if (n >= 12) {
			s->calls += strtol(f[8], NULL, 10);
			s->resent += strtol(f[10], NULL, 10);
			s->throttled += strtol(f[11], NULL, 10);
		}
		break;
	}
}

static void
scan_tick(void *vctx)
{
	struct scanrun *s = vctx;

	mprogress_update(s->pr, s->pr->done, false);
}

/*
 * Scans both tables with segments parallel Scans each, the records that belong in a dump at
 * now into recs (claims and quota entries too when claims != NULL). 0 / -1 with err.
 */
static int
ddb_dump(struct mpool *pool, int segments, int64_t now, bool include_expired, struct lines *recs,
    struct lines *claims, struct lines *quota, struct mprogress *pr, struct scanrun *tot,
    char *err, size_t errlen)
{
	struct scanrun s;
	long lost;
	int t;

	memset(tot, 0, sizeof *tot);
	for (t = 0; t < 2; t++) {
		memset(&s, 0, sizeof s);
		s.segments = segments;
		s.now = now;
		s.include_expired = include_expired;
		s.users_table = t == 0;
		s.keep_aux = claims != NULL;
		s.recs = recs;
		s.claims = claims;
		s.quota = quota;
		s.pr = pr;
		mprogress_phase(pr, t == 0 ? "scan users table" : "scan urls table", 0);
		if (mpool_run(pool, scan_feed, scan_line, scan_tick, &s, &lost) == -1) {
			snprintf(err, errlen, "a scan worker died (segment %ld)", lost);
			return -1;
		}
		pr->total = pr->done;
		mprogress_end(pr);
		if (s.fatal[0]) {
			snprintf(err, errlen, "%s", s.fatal);
			return -1;
		}
		tot->records += s.records;
		tot->expired += s.expired;
		if (t == 0)
			tot->expired_tokens = s.expired;
		else
			tot->expired_links = s.expired;
		tot->nclaims += s.nclaims;
		tot->nquota += s.nquota;
		tot->other += s.other;
		tot->calls += s.calls;
		tot->resent += s.resent;
		tot->throttled += s.throttled;
	}
	return 0;
}

static int
need_region(const char *cmd, const struct config *cfg)
{
	if (cfg->aws_region == NULL) {
		fprintf(stderr, "fileshare-admin %s: AWS_REGION is required to reach DynamoDB\n", cmd);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ migrate */

struct chunk {
	char	*last_key;
	long	 nrec;
	long	 c[NC];
	long	 claims, quota_new, quota_merged;
	bool	 done, clean;
};

struct mig {
	const struct config	*cfg;
	struct mopts		*o;
	const char		*src;
	char			 src_real[PATH_MAX];
	char			*ckpt;
	sqlite3			*db;
	/* the phase running */
	enum mkind		 kind;
	sqlite3_stmt		*cur, *qst;
	bool			 cur_end;
	struct chunk		*chunks;
	size_t			 nchunks, wm;	/* chunks[0..wm) are done, clean, and counted */
	/* counts */
	long			 committed[MK_COUNT][NC];	/* up to the checkpoint */
	long			 claims, quota_new, quota_merged;	/* committed */
	long			 calls_bw, calls_bg, calls_put, resent, throttled;
	long			 extra[MK_COUNT][NC];	/* done past a watermark that stopped */
	bool			 stuck;		/* a phase left something behind: the checkpoint
						   stays where it is */
	int			 ck_phase;	/* the checkpoint's phase (MK_*; MK_COUNT: done) */
	char			*ck_after;	/* and key */
	struct examples		 kept, conflicts, failed;
	char			 fatal[512];
	struct mprogress	 pr;
};

static const enum mkind phase_order[MK_COUNT] = { MK_USER, MK_TOKEN, MK_LINK };

static int
phase_index(enum mkind k)
{
	int i;

	for (i = 0; i < MK_COUNT; i++)
		if (phase_order[i] == k)
			return i;
	return MK_COUNT;
}

static void
ckpt_counts_json(json_object *o, const char *name, const long c[NC])
{
	json_object *a = json_object_new_array();
	int i;

	for (i = 0; i < NC; i++)
		json_object_array_add(a, json_object_new_int64(c[i]));
	json_object_object_add(o, name, a);
}

/* Writes the checkpoint: where a new run starts, and what the finished part counted. */
static int
ckpt_write(struct mig *g, int phase_idx, const char *after)
{
	json_object *o = json_object_new_object(), *counts = json_object_new_object();
	const char *s;
	int k, rc;

	json_object_object_add(o, "format", json_object_new_int(1));
	json_object_object_add(o, "source", json_object_new_string(g->src_real));
	json_object_object_add(o, "users_table", json_object_new_string(g->cfg->users_table));
	json_object_object_add(o, "urls_table", json_object_new_string(g->cfg->urls_table));
	json_object_object_add(o, "endpoint", json_object_new_string(g->cfg->dynamodb_endpoint ?
	    g->cfg->dynamodb_endpoint : ""));
	json_object_object_add(o, "include_expired", json_object_new_boolean(g->o->include_expired));
	json_object_object_add(o, "phase", json_object_new_string(phase_idx < MK_COUNT ?
	    mschemas[phase_order[phase_idx]].label : "done"));
	json_object_object_add(o, "after", after ? json_object_new_string(after) : NULL);
	for (k = 0; k < MK_COUNT; k++)
		ckpt_counts_json(counts, mschemas[k].label, g->committed[k]);
	json_object_object_add(o, "counts", counts);
	json_object_object_add(o, "claims_written", json_object_new_int64(g->claims));
	json_object_object_add(o, "quota_written", json_object_new_int64(g->quota_new));
	json_object_object_add(o, "quota_merged", json_object_new_int64(g->quota_merged));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);
	rc = mfile_write_atomic(g->ckpt, s, strlen(s));
	if (rc == -1)
		log_errorx("cannot write the checkpoint %s: %s", g->ckpt, strerror(errno));
	json_object_put(o);
	return rc;
}

static const char *
jstr(json_object *o, const char *name)
{
	json_object *v;

	if (json_object_object_get_ex(o, name, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

/* Loads the checkpoint if there is one: 0 (none, or loaded), -1 if it belongs elsewhere. */
static int
ckpt_load(struct mig *g)
{
	json_object *o, *v, *counts, *a;
	const char *phase;
	int k, i;

	g->ck_phase = 0;
	if (access(g->ckpt, F_OK) == -1)
		return 0;
	if ((o = json_object_from_file(g->ckpt)) == NULL) {
		fprintf(stderr, "fileshare-admin migrate: the checkpoint %s cannot be read; remove "
		    "it to start from the beginning (safe: migrate is idempotent)\n", g->ckpt);
		return -1;
	}
	if (jstr(o, "source") == NULL || strcmp(jstr(o, "source"), g->src_real) ||
	    jstr(o, "users_table") == NULL || strcmp(jstr(o, "users_table"), g->cfg->users_table) ||
	    jstr(o, "urls_table") == NULL || strcmp(jstr(o, "urls_table"), g->cfg->urls_table) ||
	    !json_object_object_get_ex(o, "include_expired", &v) ||
	    json_object_get_boolean(v) != g->o->include_expired) {
		fprintf(stderr, "fileshare-admin migrate: the checkpoint %s is of another migration "
		    "(source, tables or --include-expired differ); remove it or give --checkpoint\n",
		    g->ckpt);
		json_object_put(o);
		return -1;
	}
	phase = jstr(o, "phase");
	g->ck_phase = MK_COUNT;
	for (i = 0; i < MK_COUNT; i++)
		if (phase != NULL && !strcmp(phase, mschemas[phase_order[i]].label))
			g->ck_phase = i;
	g->ck_after = jstr(o, "after") ? xstrdup(jstr(o, "after")) : NULL;
	if (json_object_object_get_ex(o, "counts", &counts))
		for (k = 0; k < MK_COUNT; k++)
			if (json_object_object_get_ex(counts, mschemas[k].label, &a) &&
			    json_object_is_type(a, json_type_array))
				for (i = 0; i < NC && i < (int)json_object_array_length(a); i++)
					g->committed[k][i] = (long)json_object_get_int64(
					    json_object_array_get_idx(a, i));
	if (json_object_object_get_ex(o, "claims_written", &v))
		g->claims = (long)json_object_get_int64(v);
	if (json_object_object_get_ex(o, "quota_written", &v))
		g->quota_new = (long)json_object_get_int64(v);
	if (json_object_object_get_ex(o, "quota_merged", &v))
		g->quota_merged = (long)json_object_get_int64(v);
	fprintf(stderr, "migrate: resuming from the checkpoint %s (phase %s, after %s)\n", g->ckpt,
	    phase ? phase : "?", g->ck_after ? g->ck_after : "the start");
	json_object_put(o);
	return 0;
}

/* Hands the next chunk of the phase to a worker: W TAG, the records' lines (and, for users,
 * Q lines for their live links), E. */
static int
mig_feed(void *vctx, struct buf *task, long *id)
{
	struct mig *g = vctx;
	struct mrec r = { 0 };
	struct buf line = BUF_INIT;
	struct chunk *c;
	char *first = NULL, *last = NULL;
	long n = 0;
	int rc;

	if (g->cur_end || g->fatal[0])
		return 0;
	buf_printf(task, "W\t%c\n", mschemas[g->kind].tag);
	while (n < g->o->chunk) {
		if ((rc = sqlite3_step(g->cur)) != SQLITE_ROW) {
			if (rc != SQLITE_DONE)
				snprintf(g->fatal, sizeof g->fatal, "reading %s: %s",
				    mschemas[g->kind].sql_table, sqlite3_errmsg(g->db));
			g->cur_end = true;
			break;
		}
		msql_row(g->cur, g->kind, &r);
		if (!mrec_in_dump(&r, g->o->now, g->o->include_expired))
			continue;	/* counted by skipped_sql, the same on every run */
		buf_reset(&line);
		mrec_line(&r, &line);
		buf_append(task, line.data, line.len);
		buf_appendc(task, '\n');
		free(last);
		last = xstrdup(r.f[0]);
		if (first == NULL)
			first = xstrdup(r.f[0]);
		n++;
	}
	if (n > 0 && g->kind == MK_USER) {
		sqlite3_reset(g->qst);
		sqlite3_bind_text(g->qst, 1, first, -1, SQLITE_STATIC);
		sqlite3_bind_text(g->qst, 2, last, -1, SQLITE_STATIC);
		sqlite3_bind_int64(g->qst, 3, g->o->now);
		while (sqlite3_step(g->qst) == SQLITE_ROW) {
			buf_appends(task, "Q\t");
			mesc_append(task, (const char *)sqlite3_column_text(g->qst, 0));
			buf_appendc(task, '\t');
			mesc_append(task, (const char *)sqlite3_column_text(g->qst, 1));
			buf_printf(task, "\t%lld\n", (long long)sqlite3_column_int64(g->qst, 2));
		}
		sqlite3_reset(g->qst);
	}
	buf_appends(task, "E\n");
	mrec_clear(&r);
	buf_free(&line);
	free(first);
	if (n == 0) {
		free(last);
		return 0;
	}
	g->chunks = xrealloc(g->chunks, (g->nchunks + 1) * sizeof *g->chunks);
	c = &g->chunks[g->nchunks];
	memset(c, 0, sizeof *c);
	c->last_key = last;
	c->nrec = n;
	*id = (long)g->nchunks++;
	return 1;
}

/* Moves the watermark over the chunks that are done and clean, and saves it. */
static void
mig_advance(struct mig *g)
{
	size_t before = g->wm;
	struct chunk *c;
	int i;

	while (g->wm < g->nchunks && g->chunks[g->wm].done && g->chunks[g->wm].clean) {
		c = &g->chunks[g->wm];
		for (i = 0; i < NC; i++)
			g->committed[g->kind][i] += c->c[i];
		g->claims += c->claims;
		g->quota_new += c->quota_new;
		g->quota_merged += c->quota_merged;
		g->wm++;
	}
	if (g->wm > before && !g->o->dry_run && !g->stuck)
		ckpt_write(g, phase_index(g->kind), g->chunks[g->wm - 1].last_key);
}

static void
mig_line(void *vctx, long id, char *line)
{
	struct mig *g = vctx;
	struct chunk *c = &g->chunks[id];
	char *f[20], label[600];
	size_t n;
	int i;

	switch (line[0]) {
	case 'K': case 'X': case 'F':
		n = msplit(line, f, 20);
		if (n < 3)
			break;
		snprintf(label, sizeof label, "%s %s%s%s", f[1], f[2], n > 3 ? ": " : "",
		    n > 3 ? munesc(f[3]) ? f[3] : "" : "");
		example_add(line[0] == 'K' ? &g->kept : line[0] == 'X' ? &g->conflicts : &g->failed,
		    label);
		break;
	case 'A':
		if (g->fatal[0] == '\0')
			snprintf(g->fatal, sizeof g->fatal, "%s", line + 2);
		break;
	case 'R':
		n = msplit(line, f, 20);
		for (i = 0; i < NC - 1 && (size_t)i + 1 < n; i++)
			c->c[i] = strtol(f[i + 1], NULL, 10);
		if (n >= 10) {
			c->claims = strtol(f[7], NULL, 10);
			c->quota_new = strtol(f[8], NULL, 10);
			c->quota_merged = strtol(f[9], NULL, 10);
		}
		if (n >= 16) {
			g->calls_bw += strtol(f[10], NULL, 10);
			g->calls_bg += strtol(f[11], NULL, 10);
			g->calls_put += strtol(f[13], NULL, 10);
			g->resent += strtol(f[14], NULL, 10);
			g->throttled += strtol(f[15], NULL, 10);
		}
		c->done = true;
		c->clean = n >= 10 && c->c[C_CONFLICT] == 0 && c->c[C_FAILED] == 0 && g->fatal[0] == '\0';
		g->pr.done += c->nrec;
		mig_advance(g);
		break;
	}
}

/* The report's counts: what earlier runs and this one did. */
static void
mig_totals(const struct mig *g, long out[MK_COUNT][NC])
{
	int k, j;

	for (k = 0; k < MK_COUNT; k++)
		for (j = 0; j < NC; j++)
			out[k][j] = g->committed[k][j] + g->extra[k][j];
}

static void
counts_print(FILE *f, long c[MK_COUNT][NC])
{
	int k, i;

	fprintf(f, "%-8s", "");
	for (i = 0; i < NC; i++)
		fprintf(f, " %11s", count_names[i]);
	fputc('\n', f);
	for (k = 0; k < MK_COUNT; k++) {
		fprintf(f, "%-8s", mschemas[phase_order[k]].label);
		for (i = 0; i < NC; i++)
			fprintf(f, " %11ld", c[phase_order[k]][i]);
		fputc('\n', f);
	}
}

/* The claims and quota checks of a migration's verification, over the dumps' lines. */
static void
verify_aux(struct lines *src, struct lines *tgt, struct lines *claims, struct lines *quota,
    int64_t now, struct verify *v)
{
	struct mrec r = { 0 };
	struct buf key = BUF_INIT;
	const char *hit, *tl;
	size_t i;

	lines_sort(claims);
	lines_sort(quota);
	for (i = 0; i < src->n; i++) {
		enum mkind k = kind_of_line(src->v[i]);

		if (k != MK_USER && k != MK_LINK)
			continue;
		/* The target's version of the record (it may be newer). */
		buf_reset(&key);
		buf_append(&key, src->v[i], (size_t)(key_end(src->v[i]) - src->v[i]));
		buf_appendc(&key, '\t');
		if ((tl = lines_find(tgt, key.data)) == NULL || mrec_parse(tl, &r) == -1)
			continue;	/* already counted missing */
		buf_reset(&key);
		if (k == MK_USER) {
			v->claims_checked++;
			mesc_append(&key, r.f[UF_EMAIL]);
			buf_appendc(&key, '\t');
			hit = lines_find(claims, key.data);
			buf_reset(&key);
			mesc_append(&key, r.f[0]);
			if (hit == NULL || strcmp(strchr(hit, '\t') + 1, key.data)) {
				char *label = line_label(tl);

				v->claims_bad++;
				example_add(&v->claims, label);
				free(label);
			}
		} else if (mrec_i64(&r, LF_EXPIRES_TTL, 0) > now) {
			v->quota_checked++;
			mesc_append(&key, r.f[LF_OWNER]);
			buf_appendc(&key, '\t');
			mesc_append(&key, r.f[0]);
			buf_appendc(&key, '\t');
			if ((hit = lines_find(quota, key.data)) == NULL ||
			    strtoll(hit + key.len, NULL, 10) != mrec_i64(&r, LF_EXPIRES_TTL, 0)) {
				char *label = line_label(tl);

				v->quota_bad++;
				example_add(&v->quota, label);
				free(label);
			}
		}
	}
	mrec_clear(&r);
	buf_free(&key);
}

static const char *const quota_sql = "SELECT created_by_user, short_code, expires_at_ttl FROM urls"
    " WHERE created_by_user >= ?1 AND created_by_user <= ?2 AND expires_at_ttl > ?3"
    " ORDER BY created_by_user, short_code";

/* Rows a run leaves out: expired tokens always, expired links without --include-expired. */
static const char *const skipped_sql[MK_COUNT] = {
	[MK_USER] = "SELECT 0",
	[MK_TOKEN] = "SELECT count(*) FROM revoked_tokens WHERE ?1 IS NULL AND expires_at <= ?2",
	[MK_LINK] = "SELECT count(*) FROM urls WHERE ?1 IS NULL AND NOT ?3 AND expires_at_ttl <= ?2",
};

static void
mig_tick(void *vctx)
{
	struct mig *g = vctx;

	mprogress_update(&g->pr, g->pr.done, false);
}

static int64_t
count_rows(sqlite3 *db, const char *sql, const char *after, int64_t now, bool include_expired)
{
	sqlite3_stmt *st = NULL;
	int64_t n = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (after != NULL)
			sqlite3_bind_text(st, 1, after, -1, SQLITE_STATIC);
		if (sqlite3_bind_parameter_count(st) >= 2)
			sqlite3_bind_int64(st, 2, now);
		if (sqlite3_bind_parameter_count(st) >= 3)
			sqlite3_bind_int(st, 3, include_expired);
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return n;
}

static const char *const count_sql[MK_COUNT] = {
	[MK_USER] = "SELECT count(*) FROM users WHERE (?1 IS NULL OR user_id > ?1)",
	[MK_TOKEN] = "SELECT count(*) FROM revoked_tokens WHERE (?1 IS NULL OR jti > ?1)"
	    " AND expires_at > ?2",
	[MK_LINK] = "SELECT count(*) FROM urls WHERE (?1 IS NULL OR short_code > ?1)"
	    " AND (?3 OR expires_at_ttl > ?2)",
};

int
admin_migrate(const struct config *cfg, int argc, char **argv)
{
	struct mopts o;
	struct mig g;
	struct wctx w = { 0 };
	struct mpool *pool = NULL;
	struct lines src = { 0 }, tgt = { 0 }, claims = { 0 }, quota = { 0 };
	struct verify v;
	struct scanrun scantot;
	long totals[MK_COUNT][NC], lost;
	char err[1024];
	bool loss = false, verified = false;
	int rc = 1, pi, k;
	size_t i;

	memset(&g, 0, sizeof g);
	memset(&v, 0, sizeof v);
	if (parse_opts("migrate", argc, argv, &o) == -1)
		return 2;
	if ((g.src = msqlite_arg(o.from)) == NULL)
		return usage_err("migrate", "--from must be sqlite:PATH");
	if (o.to == NULL || strcmp(o.to, "dynamodb"))
		return usage_err("migrate", "--to must be dynamodb");
	if (need_region("migrate", cfg) == -1)
		return 1;
	g.cfg = cfg;
	g.o = &o;
	if (realpath(g.src, g.src_real) == NULL) {
		fprintf(stderr, "fileshare-admin migrate: %s: %s\n", g.src, strerror(errno));
		return 1;
	}
	if (o.checkpoint != NULL)
		g.ckpt = xstrdup(o.checkpoint);
	else {
		g.ckpt = xmalloc(strlen(g.src_real) + 32);
		sprintf(g.ckpt, "%s.migrate-checkpoint", g.src_real);
	}
	if (!o.dry_run && ckpt_load(&g) == -1)
		goto out;
	mprogress_init(&g.pr, "migrate");
	g.pr.interval_us = o.progress_ms * 1000;
	/* Workers first, so they inherit no SQLite connection. */
	w.cfg = cfg;
	w.dry_run = o.dry_run;
	if ((pool = mpool_start((int)o.workers, wtask, wfini, &w)) == NULL)
		goto out;
	if ((g.db = sqlite_open_ro(g.src, err, sizeof err)) == NULL) {
		fprintf(stderr, "fileshare-admin migrate: %s\n", err);
		goto out;
	}
	if (sqlite3_prepare_v2(g.db, quota_sql, -1, &g.qst, NULL) != SQLITE_OK) {
		fprintf(stderr, "fileshare-admin migrate: %s: %s\n", g.src, sqlite3_errmsg(g.db));
		goto out;
	}
	fprintf(stderr, "migrate: %s -> DynamoDB tables %s, %s%s (%d workers)\n", g.src_real,
	    cfg->users_table, cfg->urls_table, o.dry_run ? ", dry run: nothing is written" : "",
	    (int)o.workers);
	for (pi = 0; pi < MK_COUNT && !g.fatal[0]; pi++) {
		const char *after = pi == g.ck_phase ? g.ck_after : NULL;

		if (pi < g.ck_phase)
			continue;	/* finished by an earlier run */
		g.kind = phase_order[pi];
		for (i = 0; i < g.nchunks; i++)
			free(g.chunks[i].last_key);
		free(g.chunks);
		g.chunks = NULL;
		g.nchunks = g.wm = 0;
		g.cur_end = false;
		if ((g.cur = msql_select(g.db, g.kind, err, sizeof err)) == NULL) {
			fprintf(stderr, "fileshare-admin migrate: %s\n", err);
			goto out;
		}
		if (after != NULL)
			sqlite3_bind_text(g.cur, 1, after, -1, SQLITE_TRANSIENT);
		mprogress_phase(&g.pr, mschemas[g.kind].label, count_rows(g.db, count_sql[g.kind],
		    after, o.now, o.include_expired));
		if (mpool_run(pool, mig_feed, mig_line, mig_tick, &g, &lost) == -1)
			snprintf(g.fatal, sizeof g.fatal, "a worker died in the middle of a chunk of %s",
			    mschemas[g.kind].label);
		mprogress_end(&g.pr);
		sqlite3_finalize(g.cur);
		g.cur = NULL;
		/* Chunks done past a watermark that stopped (something in it was not written)
		 * count in the report but not in the checkpoint, which stays at that chunk. */
		for (i = g.wm; i < g.nchunks; i++)
			if (g.chunks[i].done)
				for (k = 0; k < NC; k++)
					g.extra[g.kind][k] += g.chunks[i].c[k];
		if (g.wm < g.nchunks)
			g.stuck = true;
		else if (!g.fatal[0] && !g.stuck && !o.dry_run)
			ckpt_write(&g, pi + 1, NULL);	/* the next run starts with the next phase */
	}
	for (k = 0; k < MK_COUNT; k++)
		g.extra[k][C_SKIPPED] = count_rows(g.db, skipped_sql[k], NULL, o.now,
		    o.include_expired);
	mig_totals(&g, totals);
	printf("migrate %s -> DynamoDB (%s, %s)%s\n", g.src_real, cfg->users_table, cfg->urls_table,
	    o.dry_run ? " -- DRY RUN, nothing written; the counts say what a run would do" : "");
	counts_print(stdout, totals);
	printf("email claims written: %ld; quota items written: %ld, merged: %ld\n", g.claims,
	    g.quota_new, g.quota_merged);
	printf("DynamoDB calls: BatchGetItem %ld, BatchWriteItem %ld, PutItem %ld; unprocessed "
	    "items resent %ld; calls retried after throttling %ld\n", g.calls_bg, g.calls_bw,
	    g.calls_put, g.resent, g.throttled);
	examples_print(stdout, "kept (newer in DynamoDB)", &g.kept);
	examples_print(stdout, "conflicts (not written)", &g.conflicts);
	examples_print(stdout, "failed (not written)", &g.failed);
	for (k = 0; k < MK_COUNT; k++)
		if (totals[k][C_CONFLICT] || totals[k][C_FAILED])
			loss = true;
	if (g.fatal[0]) {
		printf("result: STOPPED: %s\n", g.fatal);
		fprintf(stderr, "fileshare-admin migrate: %s\n", g.fatal);
		if (strstr(g.fatal, "ResourceNotFoundException") != NULL)
			fprintf(stderr, "fileshare-admin migrate: do the tables exist? (Terraform, or "
			    "fileshare-admin create-tables)\n");
		goto out;
	}
	if (o.dry_run) {
		rc = loss ? 1 : 0;
		printf("result: dry run %s\n", loss ? "found conflicts" : "found nothing in the way");
		goto out;
	}
	if (!o.no_verify) {
		if (sqlite_dump(g.db, o.now, o.include_expired, &src, err, sizeof err) == -1 ||
		    ddb_dump(pool, (int)o.segments, o.now, o.include_expired, &tgt, &claims, &quota,
		    &g.pr, &scantot, err, sizeof err) == -1) {
			fprintf(stderr, "fileshare-admin migrate: verification: %s\n", err);
			printf("result: NOT VERIFIED: %s\n", err);
			goto out;
		}
		verify_dumps(&src, &tgt, &v);
		verify_aux(&src, &tgt, &claims, &quota, o.now, &v);
		verify_print(stdout, &v, "sqlite", "dynamodb", o.now, o.include_expired);
		verified = true;
		if (!verify_ok(&v))
			loss = true;
	} else
		printf("verification skipped (--no-verify)\n");
	if (!loss) {
		rc = 0;
		if (unlink(g.ckpt) == -1 && errno != ENOENT)
			log_warnx("cannot remove %s: %s", g.ckpt, strerror(errno));
	} else if (verified && !verify_ok(&v)) {
		/* What was lost is not behind the watermark: the next run must be a full pass. */
		(void)unlink(g.ckpt);
		printf("the checkpoint was removed: the next run is a full pass\n");
	}
	if (loss)
		printf("result: FAILED: some data is not in DynamoDB (see above); fix and run "
		    "again\n");
out:
	mpool_stop(pool);
	if (g.cur)
		sqlite3_finalize(g.cur);
	sqlite3_finalize(g.qst);
	sqlite3_close(g.db);
	for (i = 0; i < g.nchunks; i++)
		free(g.chunks[i].last_key);
	free(g.chunks);
	free(g.ckpt);
	free(g.ck_after);
	examples_free(&g.kept);
	examples_free(&g.conflicts);
	examples_free(&g.failed);
	lines_free(&src);
	lines_free(&tgt);
	lines_free(&claims);
	lines_free(&quota);
	verify_free(&v);
	fflush(stdout);
	return rc;
}

/* ------------------------------------------------------------------ export */

static const char *
sqlite_errname(int ext)
{
	switch (ext) {
	case SQLITE_CONSTRAINT_UNIQUE:
		return "its email address belongs to another account in the SQLite file";
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		return "its owner is not an account";
	case SQLITE_CONSTRAINT_NOTNULL:
		return "a required field is missing";
	case SQLITE_CONSTRAINT_CHECK:
		return "it fails a CHECK of the schema";
	default:
		return "SQLite refused it";
	}
}

struct xwrite {
	sqlite3		*db;
	sqlite3_stmt	*get[MK_COUNT], *ins[MK_COUNT], *upd[MK_COUNT];
};

static void
xwrite_close(struct xwrite *x)
{
	int k;

	for (k = 0; k < MK_COUNT; k++) {
		sqlite3_finalize(x->get[k]);
		sqlite3_finalize(x->ins[k]);
		sqlite3_finalize(x->upd[k]);
	}
	sqlite3_close(x->db);
	memset(x, 0, sizeof *x);
}

/* The statements of the export: read one row by key, insert one, overwrite one. */
static int
xwrite_prepare(struct xwrite *x, char *err, size_t errlen)
{
	struct buf sql = BUF_INIT;
	size_t i;
	int k;

	for (k = 0; k < MK_COUNT; k++) {
		const struct mschema *sc = &mschemas[k];

		buf_reset(&sql);
		buf_appends(&sql, "SELECT ");
		for (i = 0; i < sc->nf; i++)
			buf_printf(&sql, "%s%s", i ? ", " : "", sc->f[i].name);
		buf_printf(&sql, " FROM %s WHERE %s = ?1", sc->sql_table, sc->f[0].name);
		if (sqlite3_prepare_v2(x->db, sql.data, -1, &x->get[k], NULL) != SQLITE_OK)
			goto fail;
		buf_reset(&sql);
		buf_printf(&sql, "INSERT INTO %s (", sc->sql_table);
		for (i = 0; i < sc->nf; i++)
			buf_printf(&sql, "%s%s", i ? ", " : "", sc->f[i].name);
		buf_appends(&sql, ") VALUES (");
		for (i = 0; i < sc->nf; i++)
			buf_printf(&sql, "%s?%zu", i ? ", " : "", i + 1);
		buf_appends(&sql, ")");
		if (sqlite3_prepare_v2(x->db, sql.data, -1, &x->ins[k], NULL) != SQLITE_OK)
			goto fail;
		/* An UPDATE, not INSERT OR REPLACE: a replaced account would take its links
		 * with it (ON DELETE CASCADE). */
		buf_reset(&sql);
		buf_printf(&sql, "UPDATE %s SET ", sc->sql_table);
		for (i = 1; i < sc->nf; i++)
			buf_printf(&sql, "%s%s = ?%zu", i > 1 ? ", " : "", sc->f[i].name, i + 1);
		buf_printf(&sql, " WHERE %s = ?1", sc->f[0].name);
		if (sqlite3_prepare_v2(x->db, sql.data, -1, &x->upd[k], NULL) != SQLITE_OK)
			goto fail;
	}
	buf_free(&sql);
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", sql.data, sqlite3_errmsg(x->db));
	buf_free(&sql);
	return -1;
}

struct xrun {
	struct xwrite	 x;
	bool		 dry_run, have_target;
	long		 c[MK_COUNT][NC];
	struct examples	 kept, conflicts, failed;
};

/* One record into the SQLite file, by the same rule as migrate. */
static void
export_one(struct xrun *xr, const struct mrec *r)
{
	struct mrec cur = { 0 };
	enum mdecision d = MD_NEW;
	sqlite3_stmt *st;
	char label[600];
	int rc;

	if (xr->have_target) {
		st = xr->x.get[r->kind];
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, r->f[0], -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			msql_row(st, r->kind, &cur);
			d = mrec_decide(r, &cur);
		}
		sqlite3_reset(st);
	}
	snprintf(label, sizeof label, "%s %s", mschemas[r->kind].label, r->f[0]);
	if (d == MD_SAME || d == MD_KEEP) {
		xr->c[r->kind][d == MD_SAME ? C_SAME : C_KEEP]++;
		if (d == MD_KEEP)
			example_add(&xr->kept, label);
		mrec_clear(&cur);
		return;
	}
	mrec_clear(&cur);
	if (xr->dry_run) {
		xr->c[r->kind][d == MD_NEW ? C_NEW : C_UPDATE]++;
		return;
	}
	st = d == MD_NEW ? xr->x.ins[r->kind] : xr->x.upd[r->kind];
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	msql_bind(st, r);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE) {
		xr->c[r->kind][d == MD_NEW ? C_NEW : C_UPDATE]++;
		return;
	}
	rc = sqlite3_extended_errcode(xr->x.db);
	snprintf(label + strlen(label), sizeof label - strlen(label), ": %s", sqlite_errname(rc));
	if (rc == SQLITE_CONSTRAINT_UNIQUE) {
		xr->c[r->kind][C_CONFLICT]++;
		example_add(&xr->conflicts, label);
	} else {
		xr->c[r->kind][C_FAILED]++;
		example_add(&xr->failed, label);
	}
}

/* Writes the scanned records into the file: accounts, then tokens, then links (their owners
 * must be there first), one transaction per EXPORT_TXN rows. */
static int
export_write(struct xrun *xr, struct lines *recs, struct mprogress *pr)
{
	struct mrec r = { 0 };
	size_t i, intx = 0;
	int pi;

	mprogress_phase(pr, "write", (int64_t)recs->n);
	pr->done = 0;
	for (pi = 0; pi < MK_COUNT; pi++)
		for (i = 0; i < recs->n; i++) {
			if (kind_of_line(recs->v[i]) != phase_order[pi])
				continue;
			if (mrec_parse(recs->v[i], &r) == -1)
				continue;
			if (!xr->dry_run && intx == 0 &&
			    sqlite3_exec(xr->x.db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
				return -1;
			export_one(xr, &r);
			pr->done++;
			if (!xr->dry_run && ++intx == EXPORT_TXN) {
				if (sqlite3_exec(xr->x.db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
					return -1;
				intx = 0;
				mprogress_update(pr, pr->done, false);
			}
		}
	mrec_clear(&r);
	if (!xr->dry_run && intx > 0 &&
	    sqlite3_exec(xr->x.db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		return -1;
	mprogress_end(pr);
	return 0;
}

int
admin_export(const struct config *cfg, int argc, char **argv)
{
	struct mopts o;
	struct wctx w = { 0 };
	struct mpool *pool = NULL;
	struct lines recs = { 0 }, back = { 0 };
	struct xrun xr;
	struct verify v;
	struct scanrun tot;
	struct mprogress pr;
	struct config tcfg;
	struct store *st;
	const char *path;
	long totals[MK_COUNT][NC];
	char err[1024];
	bool loss = false;
	int rc = 1, k;

	memset(&xr, 0, sizeof xr);
	memset(&v, 0, sizeof v);
	if (parse_opts("export", argc, argv, &o) == -1)
		return 2;
	if (o.from == NULL || strcmp(o.from, "dynamodb"))
		return usage_err("export", "--from must be dynamodb");
	if ((path = msqlite_arg(o.to)) == NULL)
		return usage_err("export", "--to must be sqlite:PATH");
	if (need_region("export", cfg) == -1)
		return 1;
	xr.dry_run = o.dry_run;
	mprogress_init(&pr, "export");
	pr.interval_us = o.progress_ms * 1000;
	w.cfg = cfg;
	if ((pool = mpool_start((int)o.segments, wtask, wfini, &w)) == NULL)
		goto out;
	fprintf(stderr, "export: DynamoDB tables %s, %s -> %s%s (%d parallel scan segments)\n",
	    cfg->users_table, cfg->urls_table, path, o.dry_run ? ", dry run: nothing is written" :
	    "", (int)o.segments);
	if (ddb_dump(pool, (int)o.segments, o.now, o.include_expired, &recs, NULL, NULL, &pr, &tot,
	    err, sizeof err) == -1) {
		fprintf(stderr, "fileshare-admin export: %s\n", err);
		printf("result: STOPPED: %s\n", err);
		goto out;
	}
	mpool_stop(pool);
	pool = NULL;
	/* The file: made or upgraded by the store's own code, so its schema and version are
	 * the ones fileshare-fcgi expects; then written with our statements. */
	xr.have_target = access(path, F_OK) == 0;
	if (!o.dry_run) {
		tcfg = *cfg;
		tcfg.use_dynamodb = false;
		tcfg.sqlite_path = (char *)path;
		if ((st = store_open(&tcfg)) == NULL) {
			fprintf(stderr, "fileshare-admin export: cannot open or create %s\n", path);
			goto out;
		}
		store_close(st);
		xr.have_target = true;
	}
	if (xr.have_target) {
		if (sqlite3_open_v2(path, &xr.x.db, o.dry_run ? SQLITE_OPEN_READONLY :
		    SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
			fprintf(stderr, "fileshare-admin export: %s: %s\n", path,
			    xr.x.db ? sqlite3_errmsg(xr.x.db) : "out of memory");
			goto out;
		}
		sqlite3_busy_timeout(xr.x.db, 10000);
		sqlite3_extended_result_codes(xr.x.db, 1);
		sqlite3_exec(xr.x.db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL);
		if (xwrite_prepare(&xr.x, err, sizeof err) == -1) {
			fprintf(stderr, "fileshare-admin export: %s\n", err);
			goto out;
		}
	}
	if (export_write(&xr, &recs, &pr) == -1) {
		fprintf(stderr, "fileshare-admin export: writing %s: %s\n", path,
		    sqlite3_errmsg(xr.x.db));
		goto out;
	}
	memcpy(totals, xr.c, sizeof totals);
	totals[MK_TOKEN][C_SKIPPED] = tot.expired_tokens;
	totals[MK_LINK][C_SKIPPED] = tot.expired_links;
	printf("export DynamoDB (%s, %s) -> %s%s\n", cfg->users_table, cfg->urls_table, path,
	    o.dry_run ? " -- DRY RUN, nothing written; the counts say what a run would do" : "");
	counts_print(stdout, totals);
	printf("not exported: %ld email claims, %ld quota items, %ld other items (DynamoDB "
	    "bookkeeping); skipped: %ld expired links or tokens\n", tot.nclaims, tot.nquota,
	    tot.other, tot.expired);
	printf("DynamoDB calls: Scan %ld (%d segments per table); calls retried after throttling "
	    "%ld\n", tot.calls, (int)o.segments, tot.throttled);
	examples_print(stdout, "kept (newer in the SQLite file)", &xr.kept);
	examples_print(stdout, "conflicts (not written)", &xr.conflicts);
	examples_print(stdout, "failed (not written)", &xr.failed);
	for (k = 0; k < MK_COUNT; k++)
		if (totals[k][C_CONFLICT] || totals[k][C_FAILED])
			loss = true;
	if (o.dry_run) {
		printf("result: dry run %s\n", loss ? "found conflicts" : "found nothing in the way");
		rc = loss ? 1 : 0;
		goto out;
	}
	if (!o.no_verify) {
		if (sqlite_dump(xr.x.db, o.now, o.include_expired, &back, err, sizeof err) == -1) {
			fprintf(stderr, "fileshare-admin export: verification: %s\n", err);
			goto out;
		}
		verify_dumps(&recs, &back, &v);
		verify_print(stdout, &v, "dynamodb", "sqlite", o.now, o.include_expired);
		if (!verify_ok(&v))
			loss = true;
	}
	if (loss)
		printf("result: FAILED: some data is not in %s (see above)\n", path);
	rc = loss ? 1 : 0;
out:
	mpool_stop(pool);
	xwrite_close(&xr.x);
	examples_free(&xr.kept);
	examples_free(&xr.conflicts);
	examples_free(&xr.failed);
	lines_free(&recs);
	lines_free(&back);
	verify_free(&v);
	fflush(stdout);
	return rc;
}

/* ------------------------------------------------------------------ dump */

int
admin_dump(const struct config *cfg, int argc, char **argv)
{
	struct mopts o;
	struct wctx w = { 0 };
	struct mpool *pool = NULL;
	struct lines recs = { 0 };
	struct scanrun tot;
	struct mprogress pr;
	long per[MK_COUNT] = { 0 };
	char err[1024], sum[65];
	const char *path;
	sqlite3 *db;
	size_t i;
	int rc = 1;

	if (parse_opts("dump", argc, argv, &o) == -1)
		return 2;
	mprogress_init(&pr, "dump");
	if (o.from != NULL && !strcmp(o.from, "dynamodb")) {
		if (need_region("dump", cfg) == -1)
			return 1;
		w.cfg = cfg;
		if ((pool = mpool_start((int)o.segments, wtask, wfini, &w)) == NULL)
			return 1;
		if (ddb_dump(pool, (int)o.segments, o.now, o.include_expired, &recs, NULL, NULL, &pr,
		    &tot, err, sizeof err) == -1) {
			fprintf(stderr, "fileshare-admin dump: %s\n", err);
			goto out;
		}
	} else if ((path = msqlite_arg(o.from)) != NULL) {
		if ((db = sqlite_open_ro(path, err, sizeof err)) == NULL) {
			fprintf(stderr, "fileshare-admin dump: %s\n", err);
			return 1;
		}
		rc = sqlite_dump(db, o.now, o.include_expired, &recs, err, sizeof err);
		sqlite3_close(db);
		if (rc == -1) {
			fprintf(stderr, "fileshare-admin dump: %s\n", err);
			rc = 1;
			goto out;
		}
	} else
		return usage_err("dump", "--from must be sqlite:PATH or dynamodb");
	lines_sort(&recs);
	for (i = 0; i < recs.n; i++) {
		enum mkind k = kind_of_line(recs.v[i]);

		if (k != MK_COUNT)
			per[k]++;
		fputs(recs.v[i], stdout);
		fputc('\n', stdout);
	}
	lines_checksum(&recs, sum);
	fprintf(stderr, "dump: %ld users, %ld links, %ld tokens at %" PRId64 " (expired links %s); "
	    "sha256:%s\n", per[MK_USER], per[MK_LINK], per[MK_TOKEN], o.now,
	    o.include_expired ? "included" : "left out", sum);
	rc = fflush(stdout) == EOF ? 1 : 0;
out:
	mpool_stop(pool);
	lines_free(&recs);
	return rc;
}
