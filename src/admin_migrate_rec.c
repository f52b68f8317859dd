/*
 * admin_migrate_rec: the one record type that every data move goes through (SQLite row ->
 * record -> DynamoDB item, DynamoDB item -> record -> SQLite row), its canonical line (the
 * dump format defined in admin_migrate.h), and the rule that says which side of a pair is
 * newer. Both directions and the verification use these functions and nothing else, so the
 * dump of one side can be compared with the dump of the other byte for byte.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <sqlite3.h>

#include "admin_migrate.h"
#include "aws/ddb_schema.h"
#include "aws/dynamodb.h"
#include "timeutil.h"
#include "xmalloc.h"

static const struct mfield user_fields[] = {
	{ "user_id", MF_STR, NULL },
	{ "email", MF_STR, NULL },
	{ "password_hash", MF_STR, NULL },
	{ "user_tier", MF_STR, "free" },
	{ "trial_used", MF_BOOL, "0" },
	{ "trial_started_at", MF_TIME, NULL },
	{ "trial_expires_at", MF_TIME, NULL },
	{ "sessions_valid_after", MF_INT, "0" },
	{ "created_at", MF_TIME, NULL },
	{ "updated_at", MF_TIME, NULL },
};

static const struct mfield link_fields[] = {
	{ "short_code", MF_STR, NULL },
	{ "created_by_user", MF_STR, NULL },
	{ "created_at", MF_TIME, NULL },
	{ "expires_at", MF_TIME, NULL },
	{ "expires_at_ttl", MF_INT, NULL },
	{ "full_url", MF_STR, NULL },
	{ "file_key", MF_STR, NULL },
	{ "filename", MF_STR, NULL },
	{ "file_size", MF_INT, NULL },
	{ "content_type", MF_STR, NULL },
	{ "click_count", MF_INT, "0" },
	{ "max_clicks", MF_INT, NULL },
	{ "password_hash", MF_STR, NULL },
	{ "delete_token_hash", MF_STR, NULL },
};

/* In SQLite: revoked_tokens (jti, expires_at); in DynamoDB: "token#<jti>", expires_at_ttl. */
static const struct mfield token_fields[] = {
	{ "jti", MF_STR, NULL },
	{ "expires_at", MF_INT, NULL },
};

#define NF(a) (sizeof (a) / sizeof (a)[0])

const struct mschema mschemas[MK_COUNT] = {
	[MK_USER] = { 'U', "users", "users", NF(user_fields), user_fields },
	[MK_LINK] = { 'L', "links", "urls", NF(link_fields), link_fields },
	[MK_TOKEN] = { 'T', "tokens", "revoked_tokens", NF(token_fields), token_fields },
};

/* ------------------------------------------------------------------ normalising */

static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int
digits(const char *s, int n, int *out)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/*
 * Accepts YYYY-MM-DD[T|t| ]HH:MM:SS[.fraction][Z|z|+HH:MM|-HH:MM|+HHMM|-HHMM|nothing = UTC]
 * and writes the instant as the store writes times. The fraction is dropped (the store keeps
 * seconds).
 */
int
mtime_norm(const char *s, char out[32], int64_t *epoch)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	const char *p;
	int64_t t;

	if (strlen(s) < 19 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
	    s[7] != '-' || digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
	    digits(s + 17, 2, &sec))
		return -1;
	p = s + 19;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		if (digits(p + 1, 2, &oh))
			return -1;
		p += 3;
		if (*p == ':')
			p++;
		if (digits(p, 2, &om))
			return -1;
		p += 2;
	}
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 ||
	    sec > 59 || oh > 23 || om > 59)
		return -1;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return -1;
	t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec;
	t -= sign * (oh * 3600 + om * 60);
	if (t < 0 || t > 253402300799LL)	/* 0000..9999 after the offset */
		return -1;
	time_format(t, out);
	if (epoch != NULL)
		*epoch = t;
	return 0;
}

/* A decimal integer (optional sign, digits, optional ".000") in int64 range. */
static int
int_parse(const char *s, int64_t *out)
{
	const char *p = s;
	char *end;
	long long v;

	if (*p == '+' || *p == '-')
		p++;
	if (!isdigit((unsigned char)*p))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno == ERANGE)
		return -1;
	if (*end == '.') {
		end++;
		while (*end == '0')
			end++;
	}
	if (*end != '\0')
		return -1;
	*out = v;
	return 0;
}

static char *
normalise(enum mf_type type, const char *raw)
{
	char tbuf[32], nbuf[24];
	int64_t v;

	switch (type) {
	case MF_TIME:
		if (mtime_norm(raw, tbuf, NULL) == 0)
			return xstrdup(tbuf);
		break;
	case MF_INT:
		if (int_parse(raw, &v) == 0) {
			snprintf(nbuf, sizeof nbuf, "%" PRId64, v);
			return xstrdup(nbuf);
		}
		break;
	case MF_BOOL:
		if (!strcmp(raw, "true") || !strcmp(raw, "TRUE"))
			return xstrdup("1");
		if (!strcmp(raw, "false") || !strcmp(raw, "FALSE"))
			return xstrdup("0");
		if (int_parse(raw, &v) == 0)
			return xstrdup(v != 0 ? "1" : "0");
		break;
	case MF_STR:
		break;
	}
	return xstrdup(raw);
}

void
mrec_clear(struct mrec *r)
{
	size_t i;

	for (i = 0; i < MREC_MAXF; i++) {
		free(r->f[i]);
		r->f[i] = NULL;
	}
}

void
mrec_set(struct mrec *r, size_t i, const char *raw)
{
	const struct mfield *f = &mschemas[r->kind].f[i];

	free(r->f[i]);
	if (raw == NULL)
		r->f[i] = f->dflt ? xstrdup(f->dflt) : NULL;
	else
		r->f[i] = normalise(f->type, raw);
}

void
mrec_set_i64(struct mrec *r, size_t i, int64_t v)
{
	char nbuf[24];

	snprintf(nbuf, sizeof nbuf, "%" PRId64, v);
	mrec_set(r, i, nbuf);
}

int64_t
mrec_i64(const struct mrec *r, size_t i, int64_t def)
{
	int64_t v;

	if (r->f[i] == NULL || int_parse(r->f[i], &v) == -1)
		return def;
	return v;
}

/* ------------------------------------------------------------------ escaping, lines */

void
mesc_append(struct buf *b, const char *s)
{
	const unsigned char *p;
	char hex[5];

	if (s == NULL) {
		buf_appends(b, "\\N");
		return;
	}
	for (p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '\\': buf_appends(b, "\\\\"); break;
		case '\t': buf_appends(b, "\\t"); break;
		case '\n': buf_appends(b, "\\n"); break;
		case '\r': buf_appends(b, "\\r"); break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				snprintf(hex, sizeof hex, "\\x%02x", *p);
				buf_appends(b, hex);
			} else
				buf_appendc(b, (char)*p);
		}
	}
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *
munesc(char *s)
{
	char *r = s, *w = s;

	if (!strcmp(s, "\\N"))
		return NULL;
	while (*r) {
		if (*r != '\\') {
			*w++ = *r++;
			continue;
		}
		switch (r[1]) {
		case '\\': *w++ = '\\'; r += 2; break;
		case 't': *w++ = '\t'; r += 2; break;
		case 'n': *w++ = '\n'; r += 2; break;
		case 'r': *w++ = '\r'; r += 2; break;
		case 'x':
			if (hexval(r[2]) >= 0 && hexval(r[3]) >= 0 && (hexval(r[2]) | hexval(r[3]))) {
				*w++ = (char)(hexval(r[2]) * 16 + hexval(r[3]));
				r += 4;
				break;
			}
			/* FALLTHROUGH */
		default:
			*w++ = *r++;	/* not one of ours: kept as it is */
		}
	}
	*w = '\0';
	return s;
}

size_t
msplit(char *line, char **fields, size_t max)
{
	size_t n = 0;
	char *p = line, *tab;

	while (n < max) {
		fields[n++] = p;
		if ((tab = strchr(p, '\t')) == NULL)
			break;
		*tab = '\0';
		p = tab + 1;
	}
	return n;
}

void
mrec_line(const struct mrec *r, struct buf *out)
{
	const struct mschema *sc = &mschemas[r->kind];
	size_t i;

	buf_appendc(out, sc->tag);
	for (i = 0; i < sc->nf; i++) {
		buf_appendc(out, '\t');
		mesc_append(out, r->f[i]);
	}
}

int
mrec_parse(const char *line, struct mrec *r)
{
	char *copy = xstrdup(line), *fields[MREC_MAXF + 2], *v;
	size_t n, i;
	int k;

	mrec_clear(r);
	n = msplit(copy, fields, MREC_MAXF + 2);
	for (k = 0; k < MK_COUNT; k++)
		if (strlen(fields[0]) == 1 && fields[0][0] == mschemas[k].tag)
			break;
	if (k == MK_COUNT || n != mschemas[k].nf + 1) {
		free(copy);
		return -1;
	}
	r->kind = (enum mkind)k;
	for (i = 0; i < mschemas[k].nf; i++) {
		v = munesc(fields[i + 1]);
		r->f[i] = v ? xstrdup(v) : NULL;
	}
	free(copy);
	return r->f[0] == NULL ? -1 : 0;
}

bool
mrec_in_dump(const struct mrec *r, int64_t now, bool include_expired)
{
	switch (r->kind) {
	case MK_LINK:
		return include_expired || r->f[LF_EXPIRES_TTL] == NULL ||
		    mrec_i64(r, LF_EXPIRES_TTL, INT64_MAX) > now;
	case MK_TOKEN:
		return r->f[TF_EXPIRES] == NULL || mrec_i64(r, TF_EXPIRES, INT64_MAX) > now;
	default:
		return true;
	}
}

/* ------------------------------------------------------------------ which side is newer */

static int
strcmp_null(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a != NULL) - (b != NULL);
	return strcmp(a, b);
}

enum mdecision
mrec_decide(const struct mrec *src, const struct mrec *tgt)
{
	size_t i, nf = mschemas[src->kind].nf;
	bool same = true;
	int c;

	if (tgt == NULL)
		return MD_NEW;
	for (i = 0; i < nf && same; i++)
		same = strcmp_null(src->f[i], tgt->f[i]) == 0;
	if (same)
		return MD_SAME;
	switch (src->kind) {
	case MK_USER:
		/* Normalised RFC 3339 UTC strings sort as the instants do. */
		return strcmp_null(tgt->f[UF_UPDATED_AT], src->f[UF_UPDATED_AT]) > 0 ?
		    MD_KEEP : MD_UPDATE;
	case MK_LINK:
		/* A later created_at is another, later link under the same code; the same link
		 * with more clicks has been opened since. */
		c = strcmp_null(tgt->f[LF_CREATED_AT], src->f[LF_CREATED_AT]);
		if (c > 0 || (c == 0 && mrec_i64(tgt, LF_CLICKS, 0) > mrec_i64(src, LF_CLICKS, 0)))
			return MD_KEEP;
		return MD_UPDATE;
	case MK_TOKEN:
		return mrec_i64(tgt, TF_EXPIRES, 0) > mrec_i64(src, TF_EXPIRES, 0) ? MD_KEEP :
		    MD_UPDATE;
	default:
		return MD_UPDATE;
	}
}

const char *
mdecision_name(enum mdecision d)
{
	static const char *const names[] = { "new", "same", "update", "keep" };

	return names[d];
}

/* ------------------------------------------------------------------ SQLite */

sqlite3_stmt *
msql_select(sqlite3 *db, enum mkind k, char *err, size_t errlen)
{
	const struct mschema *sc = &mschemas[k];
	struct buf sql = BUF_INIT;
	sqlite3_stmt *st = NULL;
	size_t i;

	buf_appends(&sql, "SELECT ");
	for (i = 0; i < sc->nf; i++)
		buf_printf(&sql, "%s%s", i ? ", " : "", sc->f[i].name);
	buf_printf(&sql, " FROM %s WHERE (?1 IS NULL OR %s > ?1) ORDER BY %s", sc->sql_table,
	    sc->f[0].name, sc->f[0].name);
	if (sqlite3_prepare_v2(db, sql.data, -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s (is this a FileShare Plus database of the current "
		    "schema? open it once with this release's fileshare-admin or fileshare-fcgi)",
		    sc->sql_table, sqlite3_errmsg(db));
		st = NULL;
	}
	buf_free(&sql);
	return st;
}

void
msql_row(sqlite3_stmt *st, enum mkind k, struct mrec *r)
{
	const struct mschema *sc = &mschemas[k];
	char nbuf[64];
	double d;
	size_t i;
	int c = 0;

	mrec_clear(r);
	r->kind = k;
	for (i = 0; i < sc->nf; i++, c++) {
		switch (sqlite3_column_type(st, c)) {
		case SQLITE_NULL:
			mrec_set(r, i, NULL);
			break;
		case SQLITE_INTEGER:
			mrec_set_i64(r, i, sqlite3_column_int64(st, c));
			break;
		case SQLITE_FLOAT:
			d = sqlite3_column_double(st, c);
			if (d == (double)(int64_t)d)
				mrec_set_i64(r, i, (int64_t)d);
			else {
				snprintf(nbuf, sizeof nbuf, "%.17g", d);
				mrec_set(r, i, nbuf);
			}
			break;
		default:
			mrec_set(r, i, (const char *)sqlite3_column_text(st, c));
		}
	}
}

void
msql_bind(sqlite3_stmt *st, const struct mrec *r)
{
	const struct mschema *sc = &mschemas[r->kind];
	int64_t v;
	size_t i;

	for (i = 0; i < sc->nf; i++) {
		if (r->f[i] == NULL)
			sqlite3_bind_null(st, (int)i + 1);
		else if ((sc->f[i].type == MF_INT || sc->f[i].type == MF_BOOL) &&
		    int_parse(r->f[i], &v) == 0)
			sqlite3_bind_int64(st, (int)i + 1, v);
		else
			sqlite3_bind_text(st, (int)i + 1, r->f[i], -1, SQLITE_TRANSIENT);
	}
}

/* ------------------------------------------------------------------ DynamoDB items */

char *
mrec_item_keystr(const struct mrec *r)
{
	char *k;

	if (r->kind != MK_TOKEN)
		return xstrdup(r->f[0]);
	k = xmalloc(strlen(TOKEN_PREFIX) + strlen(r->f[0]) + 1);
	strcpy(k, TOKEN_PREFIX);
	strcat(k, r->f[0]);
	return k;
}

json_object *
mrec_item_key(const struct mrec *r)
{
	json_object *key = json_object_new_object();
	char *k = mrec_item_keystr(r);

	ddb_item_set_s(key, r->kind == MK_LINK ? DDB_URLS_HASH_KEY : DDB_USERS_HASH_KEY, k);
	free(k);
	return key;
}

json_object *
mrec_item(const struct mrec *r)
{
	const struct mschema *sc = &mschemas[r->kind];
	json_object *it = mrec_item_key(r);
	int64_t v;
	size_t i;

	for (i = 1; i < sc->nf; i++) {
		const char *name = sc->f[i].name;

		if (r->f[i] == NULL)
			continue;
		if (r->kind == MK_TOKEN)
			name = DDB_URLS_TTL_ATTR;	/* the token's expiry is its TTL */
		switch (sc->f[i].type) {
		case MF_INT:
			if (int_parse(r->f[i], &v) == 0) {
				ddb_item_set_n(it, name, v);
				continue;
			}
			break;
		case MF_BOOL:
			if (!strcmp(r->f[i], "0") || !strcmp(r->f[i], "1")) {
				ddb_item_set_bool(it, name, r->f[i][0] == '1');
				continue;
			}
			break;
		default:
			break;
		}
		ddb_item_set_s(it, name, r->f[i]);
	}
	return it;
}

/* An attribute value as the raw text a record field starts from; NULL if absent. */
static const char *
av_text(json_object *item, const char *name, char nbuf[8])
{
	json_object *av, *v;

	if (!json_object_object_get_ex(item, name, &av) || !json_object_is_type(av, json_type_object))
		return NULL;
	if (json_object_object_get_ex(av, "S", &v) || json_object_object_get_ex(av, "N", &v))
		return json_object_get_string(v);
	if (json_object_object_get_ex(av, "BOOL", &v)) {
		strcpy(nbuf, json_object_get_boolean(v) ? "1" : "0");
		return nbuf;
	}
	if (json_object_object_get_ex(av, "NULL", &v))
		return NULL;
	/* Sets, maps, lists, binaries: nothing the store writes; kept as their JSON. */
	return json_object_to_json_string_ext(av, JSON_C_TO_STRING_PLAIN);
}

enum mitem_class
mitem_classify(json_object *item, bool users_table, struct mrec *r)
{
	const struct mschema *sc;
	const char *key;
	char nbuf[8];
	size_t i;

	mrec_clear(r);
	if (!users_table) {
		if (ddb_item_s(item, DDB_URLS_HASH_KEY) == NULL)
			return MI_OTHER;
		r->kind = MK_LINK;
	} else {
		if ((key = ddb_item_s(item, DDB_USERS_HASH_KEY)) == NULL || *key == '\0')
			return MI_OTHER;
		if (!strncmp(key, EMAIL_CLAIM_PREFIX, strlen(EMAIL_CLAIM_PREFIX)))
			return MI_CLAIM;
		if (!strncmp(key, QUOTA_PREFIX, strlen(QUOTA_PREFIX)))
			return MI_QUOTA;
		if (!strncmp(key, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) &&
		    key[strlen(TOKEN_PREFIX)] != '\0') {
			r->kind = MK_TOKEN;
			mrec_set(r, 0, key + strlen(TOKEN_PREFIX));
			mrec_set(r, TF_EXPIRES, av_text(item, DDB_URLS_TTL_ATTR, nbuf));
			return MI_RECORD;
		}
		if (strchr(key, '#') != NULL)
			return MI_OTHER;
		r->kind = MK_USER;
	}
	sc = &mschemas[r->kind];
	for (i = 0; i < sc->nf; i++)
		mrec_set(r, i, av_text(item, sc->f[i].name, nbuf));
	return MI_RECORD;
}
