/*
 * store_dynamodb: the DynamoDB backend, the same behaviour as store_sqlite over the tables in
 * aws/ddb_schema.h, through the JSON-protocol client (aws/dynamodb.h). The items:
 *
 *   users table, key user_id:
 *     "<uuid>"            the account (email, password_hash, user_tier, trial_*, ...)
 *     "email#<address>"   the claim on an address: written in the same TransactWriteItems as
 *                         the account, conditional on attribute_not_exists, so an address can
 *                         never belong to two accounts (a GSI cannot enforce uniqueness); also
 *                         how login finds an account with a strongly consistent read
 *     "quota#<uuid>"      the owner's links and their expiry times (map "links") and a version
 *                         number: link creation updates it in the same transaction as the new
 *                         links, conditional on the version it read, so the active-link quota is
 *                         exact however many workers create links at once
 *     "token#<jti>"       a revoked session or API token, until expires_at_ttl
 *   urls table, key short_code: one item per link, expires_at_ttl (TTL) on every item. TTL
 *   deletes items days late, so every read treats an item past expires_at_ttl as gone.
 *
 * Opening a link is one UpdateItem (ADD click_count, conditional on existing, not expired and
 * under max_clicks, ReturnValues ALL_NEW; on a failed condition the old item comes back with
 * the error, so even a refusal costs one call).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "aws/ddb_schema.h"
#include "aws/dynamodb.h"
#include "aws/session.h"
#include "encode.h"
#include "log.h"
#include "store.h"
#include "timeutil.h"
#include "xmalloc.h"

#define EMAIL_PREFIX	"email#"
#define QUOTA_PREFIX	"quota#"
#define TOKEN_PREFIX	"token#"
#define QUOTA_ATTEMPTS	10
#define PRUNE_MAX	50	/* expired entries dropped from a quota map per write */

struct store_ddb {
	struct store	 base;
	struct ddb	*ddb;
	char		*users;
	char		*urls;
};

#define S(base) ((struct store_ddb *)(base))

/* ------------------------------------------------------------------ request building */

static json_object *
req_new(const char *table)
{
	json_object *r = json_object_new_object();

	json_object_object_add(r, "TableName", json_object_new_string(table));
	return r;
}

/* {"<keyattr>": {"S": value}} */
static json_object *
key_of(const char *attr, const char *value)
{
	json_object *k = json_object_new_object();

	ddb_item_set_s(k, attr, value);
	return k;
}

/* Adds ExpressionAttributeNames from NULL-terminated "#placeholder", "name" pairs. */
static void
names(json_object *req, ...)
{
	json_object *n = json_object_new_object();
	const char *ph, *name;
	va_list ap;

	va_start(ap, req);
	while ((ph = va_arg(ap, const char *)) != NULL) {
		name = va_arg(ap, const char *);
		json_object_object_add(n, ph, json_object_new_string(name));
	}
	va_end(ap);
	json_object_object_add(req, "ExpressionAttributeNames", n);
}

/* Adds ExpressionAttributeValues from NULL-terminated ":placeholder", json_object* pairs. */
static void
values(json_object *req, ...)
{
	json_object *v = json_object_new_object(), *av;
	const char *ph;
	va_list ap;

	va_start(ap, req);
	while ((ph = va_arg(ap, const char *)) != NULL) {
		av = va_arg(ap, json_object *);
		json_object_object_add(v, ph, av);
	}
	va_end(ap);
	json_object_object_add(req, "ExpressionAttributeValues", v);
}

static void
set_str(json_object *req, const char *key, const char *value)
{
	json_object_object_add(req, key, json_object_new_string(value));
}

static enum store_rc
unavailable(const char *what, const struct ddb_error *e)
{
	log_errorx("dynamodb %s: %s (%s)", what, ddb_errkind_name(e->kind), e->type[0] ? e->type : "-");
	return STORE_UNAVAILABLE;
}

/* Reads one item with a strongly consistent GetItem. NOT_FOUND if absent; *item owned. */
static enum store_rc
get_item(struct store_ddb *s, const char *table, const char *keyattr, const char *key,
    const char *projection, json_object **item)
{
	json_object *req = req_new(table), *resp = NULL, *it;
	struct ddb_error e;
	enum store_rc rc;

	*item = NULL;
	json_object_object_add(req, "Key", key_of(keyattr, key));
	json_object_object_add(req, "ConsistentRead", json_object_new_boolean(1));
	if (projection != NULL)
		set_str(req, "ProjectionExpression", projection);
	if (ddb_op(s->ddb, "GetItem", req, &resp, &e) == -1)
		rc = unavailable("GetItem", &e);
	else if (json_object_object_get_ex(resp, "Item", &it) && json_object_is_type(it, json_type_object)) {
		*item = json_object_get(it);
		rc = STORE_OK;
	} else
		rc = STORE_NOT_FOUND;
	json_object_put(req);
	json_object_put(resp);
	return rc;
}

/* ------------------------------------------------------------------ users */

static void
set_time(json_object *item, const char *name, int64_t t)
{
	char ts[RFC3339_LEN];

	if (t == 0)
		return;
	time_format(t, ts);
	ddb_item_set_s(item, name, ts);
}

static int64_t
get_time(json_object *item, const char *name)
{
	const char *v = ddb_item_s(item, name);
	int64_t t = 0;

	if (v != NULL && time_parse(v, &t) == -1)
		log_warnx("unparseable time \"%s\" in %s", v, name);
	return t;
}

static void
copy_s(json_object *item, const char *name, char *out, size_t outlen)
{
	const char *v = ddb_item_s(item, name);

	snprintf(out, outlen, "%s", v ? v : "");
}

static enum tier
tier_of(const char *s)
{
	if (s != NULL && !strcmp(s, "premium"))
		return TIER_PREMIUM;
	if (s != NULL && !strcmp(s, "trial"))
		return TIER_TRIAL;
	return TIER_FREE;
}

static json_object *
user_item(const struct user *u)
{
	json_object *it = json_object_new_object();

	ddb_item_set_s(it, DDB_USERS_HASH_KEY, u->user_id);
	ddb_item_set_s(it, DDB_USERS_EMAIL_ATTR, u->email);
	ddb_item_set_s(it, "password_hash", u->password_hash);
	ddb_item_set_s(it, "user_tier", tier_name(u->tier));
	ddb_item_set_bool(it, "trial_used", u->trial_used);
	set_time(it, "trial_started_at", u->trial_started_at);
	set_time(it, "trial_expires_at", u->trial_expires_at);
	ddb_item_set_n(it, "sessions_valid_after", u->sessions_valid_after_ms);
	set_time(it, "created_at", u->created_at);
	set_time(it, "updated_at", u->updated_at);
	return it;
}

static void
item_user(json_object *it, struct user *u)
{
	int64_t v = 0;

	memset(u, 0, sizeof *u);
	copy_s(it, DDB_USERS_HASH_KEY, u->user_id, sizeof u->user_id);
	copy_s(it, DDB_USERS_EMAIL_ATTR, u->email, sizeof u->email);
	copy_s(it, "password_hash", u->password_hash, sizeof u->password_hash);
	u->tier = tier_of(ddb_item_s(it, "user_tier"));
	(void)ddb_item_bool(it, "trial_used", &u->trial_used);
	u->trial_started_at = get_time(it, "trial_started_at");
	u->trial_expires_at = get_time(it, "trial_expires_at");
	if (ddb_item_n(it, "sessions_valid_after", &v) == 0)
		u->sessions_valid_after_ms = v;
	u->created_at = get_time(it, "created_at");
	u->updated_at = get_time(it, "updated_at");
}

/* Account ids are UUIDs; the prefixed items are never accounts. */
static bool
is_account_id(const char *id)
{
	return strchr(id, '#') == NULL && *id != '\0';
}

static char *
prefixed(const char *prefix, const char *rest)
{
	char *k = xmalloc(strlen(prefix) + strlen(rest) + 1);

	strcpy(k, prefix);
	strcat(k, rest);
	return k;
}

static enum store_rc
ddb_ping(struct store *base)
{
	json_object *item;
	enum store_rc rc = get_item(S(base), S(base)->users, DDB_USERS_HASH_KEY, "ping#", NULL, &item);

	json_object_put(item);
	return rc == STORE_NOT_FOUND || rc == STORE_OK ? STORE_OK : rc;
}

static json_object *
put_action(const char *table, json_object *item, const char *keyattr)
{
	json_object *a = json_object_new_object(), *put = req_new(table);

	json_object_object_add(put, "Item", item);
	set_str(put, "ConditionExpression", "attribute_not_exists(#k)");
	names(put, "#k", keyattr, NULL);
	json_object_object_add(a, "Put", put);
	return a;
}

static enum store_rc ddb_user_get(struct store *, const char *, struct user *);

static enum store_rc
ddb_user_create(struct store *base, const struct user *u)
{
	struct store_ddb *s = S(base);
	json_object *req = json_object_new_object(), *items = json_object_new_array(), *claim,
	    *resp = NULL, *it;
	char *ckey = prefixed(EMAIL_PREFIX, u->email), token[33];
	unsigned char rnd[16];
	struct ddb_error e;
	enum store_rc rc;
	const char *owner;

	claim = json_object_new_object();
	ddb_item_set_s(claim, DDB_USERS_HASH_KEY, ckey);
	ddb_item_set_s(claim, "claimed_by", u->user_id);
	set_time(claim, "created_at", u->created_at);
	json_object_array_add(items, put_action(s->users, user_item(u), DDB_USERS_HASH_KEY));
	json_object_array_add(items, put_action(s->users, claim, DDB_USERS_HASH_KEY));
	json_object_object_add(req, "TransactItems", items);
	/* Idempotent for ten minutes: a retry after a lost answer is not a second sign-up. The
	 * token is this call's own (ddb_op resends the same request object). */
	random_bytes(rnd, sizeof rnd);
	hex_encode(rnd, sizeof rnd, token);
	set_str(req, "ClientRequestToken", token);
	if (ddb_op(s->ddb, "TransactWriteItems", req, &resp, &e) == 0)
		rc = STORE_OK;
	else if (e.kind == DDB_ERR_TXN_CANCELED) {
		/* A write that succeeded before a timeout can fail its own condition when retried:
		 * the claim then names this very account. */
		rc = STORE_CONFLICT;
		if (get_item(s, s->users, DDB_USERS_HASH_KEY, ckey, NULL, &it) == STORE_OK) {
			owner = ddb_item_s(it, "claimed_by");
			if (owner != NULL && !strcmp(owner, u->user_id))
				rc = STORE_OK;
			json_object_put(it);
		}
	} else
		rc = unavailable("TransactWriteItems", &e);
	free(ckey);
	json_object_put(req);
	json_object_put(resp);
	return rc;
}

static enum store_rc
ddb_user_get(struct store *base, const char *user_id, struct user *u)
{
	json_object *it;
	enum store_rc rc;

	if (!is_account_id(user_id))
		return STORE_NOT_FOUND;
	rc = get_item(S(base), S(base)->users, DDB_USERS_HASH_KEY, user_id, NULL, &it);
	if (rc == STORE_OK) {
		item_user(it, u);
		json_object_put(it);
	}
	return rc;
}

/* Through the email claim, read consistently, never the eventually consistent GSI. */
static enum store_rc
ddb_user_get_by_email(struct store *base, const char *email, struct user *u)
{
	char *ckey = prefixed(EMAIL_PREFIX, email);
	json_object *it;
	enum store_rc rc;
	char owner[USER_ID_MAX];

	rc = get_item(S(base), S(base)->users, DDB_USERS_HASH_KEY, ckey, NULL, &it);
	free(ckey);
	if (rc != STORE_OK)
		return rc;
	copy_s(it, "claimed_by", owner, sizeof owner);
	json_object_put(it);
	return ddb_user_get(base, owner, u);
}

/* An UpdateItem on one account; conditional failures come back as CONFLICT. */
static enum store_rc
update_user(struct store_ddb *s, json_object *req, const char *user_id, const char *what)
{
	json_object *resp = NULL;
	struct ddb_error e;
	enum store_rc rc;

	json_object_object_add(req, "Key", key_of(DDB_USERS_HASH_KEY, user_id));
	if (ddb_op(s->ddb, "UpdateItem", req, &resp, &e) == 0)
		rc = STORE_OK;
	else if (e.kind == DDB_ERR_CONDITIONAL)
		rc = STORE_CONFLICT;
	else
		rc = unavailable(what, &e);
	json_object_put(req);
	json_object_put(resp);
	return rc;
}

static json_object *
av_time(int64_t t)
{
	char ts[RFC3339_LEN];

	time_format(t, ts);
	return ddb_av_s(ts);
}

static enum store_rc
ddb_user_start_trial(struct store *base, const char *user_id, int64_t started, int64_t expires)
{
	struct store_ddb *s = S(base);
	json_object *req = req_new(s->users), *it;
	unsigned char rnd[16];
	char mark[33];
	const char *seen;
	enum store_rc rc;

	if (!is_account_id(user_id)) {
		json_object_put(req);
		return STORE_CONFLICT;
	}
	/* One conditional update: exactly one of any number of concurrent starts succeeds. It
	 * leaves a mark of its own, so that a retry of a start that did happen (its answer lost)
	 * can tell "this was me" from "someone else was first". */
	random_bytes(rnd, sizeof rnd);
	hex_encode(rnd, sizeof rnd, mark);
	set_str(req, "UpdateExpression",
	    "SET #t = :trial, #tu = :yes, #ts = :s, #te = :e, #up = :s, #mk = :mark");
	set_str(req, "ConditionExpression", "attribute_exists(#k) AND #tu = :no AND #t <> :premium");
	names(req, "#k", DDB_USERS_HASH_KEY, "#t", "user_tier", "#tu", "trial_used",
	    "#ts", "trial_started_at", "#te", "trial_expires_at", "#up", "updated_at",
	    "#mk", "trial_start_id", NULL);
	values(req, ":trial", ddb_av_s("trial"), ":yes", ddb_av_bool(true), ":no", ddb_av_bool(false),
	    ":premium", ddb_av_s("premium"), ":s", av_time(started), ":e", av_time(expires),
	    ":mark", ddb_av_s(mark), NULL);
	rc = update_user(s, req, user_id, "start trial");
	if (rc == STORE_CONFLICT &&
	    get_item(s, s->users, DDB_USERS_HASH_KEY, user_id, NULL, &it) == STORE_OK) {
		seen = ddb_item_s(it, "trial_start_id");
		if (seen != NULL && !strcmp(seen, mark))
			rc = STORE_OK;
		json_object_put(it);
	}
	return rc;
}

static enum store_rc
ddb_user_set_tier(struct store *base, const char *user_id, enum tier t, int64_t now)
{
	struct store_ddb *s = S(base);
	json_object *req = req_new(s->users);
	enum store_rc rc;

	if (!is_account_id(user_id)) {
		json_object_put(req);
		return STORE_NOT_FOUND;
	}
	set_str(req, "UpdateExpression", "SET #t = :t, #up = :now");
	set_str(req, "ConditionExpression", "attribute_exists(#k)");
	names(req, "#k", DDB_USERS_HASH_KEY, "#t", "user_tier", "#up", "updated_at", NULL);
	values(req, ":t", ddb_av_s(tier_name(t)), ":now", av_time(now), NULL);
	rc = update_user(s, req, user_id, "set tier");
	return rc == STORE_CONFLICT ? STORE_NOT_FOUND : rc;
}

static enum store_rc
ddb_user_revoke_sessions(struct store *base, const char *user_id, int64_t after_ms, int64_t now)
{
	struct store_ddb *s = S(base);
	json_object *req = req_new(s->users);
	enum store_rc rc;
	struct user u;

	if (!is_account_id(user_id)) {
		json_object_put(req);
		return STORE_NOT_FOUND;
	}
	/* Only ever moves forward, like SQLite's max(). */
	set_str(req, "UpdateExpression", "SET #v = :v, #up = :now");
	set_str(req, "ConditionExpression", "attribute_exists(#k) AND (attribute_not_exists(#v) OR #v < :v)");
	names(req, "#k", DDB_USERS_HASH_KEY, "#v", "sessions_valid_after", "#up", "updated_at", NULL);
	values(req, ":v", ddb_av_n(after_ms), ":now", av_time(now), NULL);
	rc = update_user(s, req, user_id, "revoke sessions");
	if (rc == STORE_CONFLICT)	/* missing, or already later */
		rc = ddb_user_get(base, user_id, &u);
	return rc;
}

static enum store_rc
ddb_token_revoke(struct store *base, const char *jti, int64_t expires)
{
	struct store_ddb *s = S(base);
	json_object *req = req_new(s->users), *item = json_object_new_object(), *resp = NULL;
	char *key = prefixed(TOKEN_PREFIX, jti);
	struct ddb_error e;
	enum store_rc rc = STORE_OK;

	ddb_item_set_s(item, DDB_USERS_HASH_KEY, key);
	ddb_item_set_n(item, DDB_URLS_TTL_ATTR, expires);
	json_object_object_add(req, "Item", item);
	if (ddb_op(s->ddb, "PutItem", req, &resp, &e) == -1)
		rc = unavailable("revoke token", &e);
	free(key);
	json_object_put(req);
	json_object_put(resp);
	return rc;
}

static enum store_rc
ddb_token_is_revoked(struct store *base, const char *jti, bool *revoked)
{
	char *key = prefixed(TOKEN_PREFIX, jti);
	json_object *it;
	enum store_rc rc;

	rc = get_item(S(base), S(base)->users, DDB_USERS_HASH_KEY, key, DDB_USERS_HASH_KEY, &it);
	free(key);
	json_object_put(it);
	if (rc == STORE_UNAVAILABLE)
		return rc;
	*revoked = rc == STORE_OK;
	return STORE_OK;
}

/* ------------------------------------------------------------------ links */

static json_object *
link_item(const struct link *l)
{
	json_object *it = json_object_new_object();
	char ts[RFC3339_LEN];

	ddb_item_set_s(it, DDB_URLS_HASH_KEY, l->short_code);
	if (l->full_url != NULL && l->file_key[0] == '\0')
		ddb_item_set_s(it, "full_url", l->full_url);
	set_time(it, DDB_URLS_USER_INDEX_SORT, l->created_at);
	time_format(l->expires_at, ts);
	ddb_item_set_s(it, "expires_at", ts);
	ddb_item_set_n(it, DDB_URLS_TTL_ATTR, l->expires_at);
	ddb_item_set_s(it, DDB_URLS_USER_ATTR, l->created_by_user);
	if (l->file_key[0]) {
		ddb_item_set_s(it, "file_key", l->file_key);
		ddb_item_set_s(it, "filename", l->filename ? l->filename : "download");
		ddb_item_set_n(it, "file_size", (int64_t)l->file_size);
		ddb_item_set_s(it, "content_type", l->content_type ? l->content_type :
		    "application/octet-stream");
	}
	ddb_item_set_n(it, "click_count", l->click_count);
	if (l->max_clicks > 0)
		ddb_item_set_n(it, "max_clicks", l->max_clicks);
	if (l->password_hash != NULL)
		ddb_item_set_s(it, "password_hash", l->password_hash);
	return it;
}

static void
item_link(json_object *it, struct link *l)
{
	int64_t v;

	memset(l, 0, sizeof *l);
	copy_s(it, DDB_URLS_HASH_KEY, l->short_code, sizeof l->short_code);
	l->full_url = xstrdup(ddb_item_s(it, "full_url"));
	copy_s(it, DDB_URLS_USER_ATTR, l->created_by_user, sizeof l->created_by_user);
	l->created_at = get_time(it, DDB_URLS_USER_INDEX_SORT);
	if (ddb_item_n(it, DDB_URLS_TTL_ATTR, &v) == 0)
		l->expires_at = v;
	if (ddb_item_n(it, "max_clicks", &v) == 0)
		l->max_clicks = v;
	if (ddb_item_n(it, "click_count", &v) == 0)
		l->click_count = v;
	copy_s(it, "file_key", l->file_key, sizeof l->file_key);
	l->filename = xstrdup(ddb_item_s(it, "filename"));
	if (ddb_item_n(it, "file_size", &v) == 0)
		l->file_size = (uint64_t)v;
	l->content_type = xstrdup(ddb_item_s(it, "content_type"));
	l->password_hash = xstrdup(ddb_item_s(it, "password_hash"));
}

/* The owner's quota item: the version read and the number of links live at now. */
static enum store_rc
quota_read(struct store_ddb *s, const char *qkey, int64_t now, int64_t *version, int64_t *active,
    json_object **map)
{
	json_object *it, *m, *links;
	enum store_rc rc;
	int64_t exp;

	*version = 0;
	*active = 0;
	*map = NULL;
	rc = get_item(s, s->users, DDB_USERS_HASH_KEY, qkey, NULL, &it);
	if (rc == STORE_NOT_FOUND)
		return STORE_OK;
	if (rc != STORE_OK)
		return rc;
	(void)ddb_item_n(it, "version", version);
	if (json_object_object_get_ex(it, "links", &m) && json_object_object_get_ex(m, "M", &links) &&
	    json_object_is_type(links, json_type_object)) {
		json_object_object_foreach(links, code, av) {
			json_object *n;
			(void)code;
			if (json_object_object_get_ex(av, "N", &n) &&
			    (exp = strtoll(json_object_get_string(n), NULL, 10)) > now)
				(*active)++;
		}
		*map = json_object_get(links);
	}
	json_object_put(it);
	return STORE_OK;
}

/* The Update action on the quota item: bump the version (conditional on the one read), add
 * the new links' expiry times, and drop a few entries that have expired. */
static json_object *
quota_action(struct store_ddb *s, const char *qkey, int64_t version, json_object *map,
    const struct link *links, size_t n, int64_t now)
{
	json_object *a = json_object_new_object(), *up = req_new(s->users), *nm, *vals, *newmap;
	struct buf expr = BUF_INIT, rm = BUF_INIT;
	char ph[32];
	size_t i, pruned = 0;

	nm = json_object_new_object();
	vals = json_object_new_object();
	json_object_object_add(nm, "#v", json_object_new_string("version"));
	json_object_object_add(nm, "#m", json_object_new_string("links"));
	json_object_object_add(vals, ":v1", ddb_av_n(version + 1));
	buf_appends(&expr, "SET #v = :v1");
	if (map == NULL) {
		/* No map yet: write it whole. */
		newmap = json_object_new_object();
		for (i = 0; i < n; i++)
			json_object_object_add(newmap, links[i].short_code, ddb_av_n(links[i].expires_at));
		json_object *mv = json_object_new_object();
		json_object_object_add(mv, "M", newmap);
		json_object_object_add(vals, ":m", mv);
		buf_appends(&expr, ", #m = :m");
	} else {
		for (i = 0; i < n; i++) {
			snprintf(ph, sizeof ph, "#c%zu", i);
			json_object_object_add(nm, ph, json_object_new_string(links[i].short_code));
			buf_printf(&expr, ", #m.%s = :e%zu", ph, i);
			snprintf(ph, sizeof ph, ":e%zu", i);
			json_object_object_add(vals, ph, ddb_av_n(links[i].expires_at));
		}
		json_object_object_foreach(map, code, av) {
			json_object *num;
			bool reused = false;
			if (pruned == PRUNE_MAX)
				break;
			if (!json_object_object_get_ex(av, "N", &num) ||
			    strtoll(json_object_get_string(num), NULL, 10) > now)
				continue;
			for (i = 0; i < n; i++)
				reused = reused || !strcmp(code, links[i].short_code);
			if (reused)
				continue;	/* the same path cannot be set and removed at once */
			snprintf(ph, sizeof ph, "#x%zu", pruned++);
			json_object_object_add(nm, ph, json_object_new_string(code));
			buf_printf(&rm, "%s#m.%s", rm.len ? ", " : " REMOVE ", ph);
		}
		buf_append(&expr, rm.data ? rm.data : "", rm.len);
	}
	if (version == 0)
		set_str(up, "ConditionExpression", "attribute_not_exists(#v)");
	else {
		set_str(up, "ConditionExpression", "#v = :v0");
		json_object_object_add(vals, ":v0", ddb_av_n(version));
	}
	json_object_object_add(up, "Key", key_of(DDB_USERS_HASH_KEY, qkey));
	set_str(up, "UpdateExpression", expr.data);
	json_object_object_add(up, "ExpressionAttributeNames", nm);
	json_object_object_add(up, "ExpressionAttributeValues", vals);
	json_object_object_add(a, "Update", up);
	buf_free(&expr);
	buf_free(&rm);
	return a;
}

static enum store_rc
ddb_links_create(struct store *base, const struct link *links, size_t n, int64_t max_active,
    int64_t now)
{
	struct store_ddb *s = S(base);
	char *qkey, token[33];
	unsigned char rnd[16];
	json_object *req, *items, *map, *resp;
	struct ddb_error e;
	enum store_rc rc = STORE_UNAVAILABLE;
	int64_t version, active;
	size_t i;
	int attempt;

	if (n == 0)
		return STORE_OK;
	if (n > 99)
		return STORE_UNAVAILABLE;	/* one transaction holds at most 100 actions */
	qkey = prefixed(QUOTA_PREFIX, links[0].created_by_user);
	for (attempt = 0; attempt < QUOTA_ATTEMPTS; attempt++) {
		if ((rc = quota_read(s, qkey, now, &version, &active, &map)) != STORE_OK)
			break;
		if (active + (int64_t)n > max_active) {
			json_object_put(map);
			rc = STORE_QUOTA;
			break;
		}
		req = json_object_new_object();
		items = json_object_new_array();
		json_object_array_add(items, quota_action(s, qkey, version, map, links, n, now));
		for (i = 0; i < n; i++)
			json_object_array_add(items, put_action(s->urls, link_item(&links[i]),
			    DDB_URLS_HASH_KEY));
		json_object_object_add(req, "TransactItems", items);
		/* Idempotent: a retry of a transaction that was applied (its answer lost) succeeds
		 * instead of failing on its own writes. */
		random_bytes(rnd, sizeof rnd);
		hex_encode(rnd, sizeof rnd, token);
		set_str(req, "ClientRequestToken", token);
		resp = NULL;
		if (ddb_op(s->ddb, "TransactWriteItems", req, &resp, &e) == 0)
			rc = STORE_OK;
		else if (e.kind == DDB_ERR_TXN_CANCELED) {
			rc = STORE_CONFLICT;	/* a code is taken... */
			if (e.nreasons > 0 && e.reasons[0] != DDB_REASON_NONE)
				rc = STORE_UNAVAILABLE;	/* ...unless the quota item moved: again */
			for (i = 1; i < e.nreasons; i++)
				if (e.reasons[i] == DDB_REASON_CONDITIONAL)
					rc = STORE_CONFLICT;
		} else
			rc = unavailable("create links", &e);
		json_object_put(map);
		json_object_put(req);
		json_object_put(resp);
		if (rc != STORE_UNAVAILABLE || e.kind != DDB_ERR_TXN_CANCELED)
			break;
		log_debug("link quota of %s changed meanwhile; retrying", links[0].created_by_user);
	}
	free(qkey);
	return rc;
}

static enum store_rc
ddb_link_get(struct store *base, const char *code, struct link *l)
{
	json_object *it;
	enum store_rc rc = get_item(S(base), S(base)->urls, DDB_URLS_HASH_KEY, code, NULL, &it);

	if (rc == STORE_OK) {
		item_link(it, l);
		json_object_put(it);
	}
	return rc;
}

static enum store_rc
ddb_link_open(struct store *base, const char *code, int64_t now, bool unlocked, struct link *l)
{
	struct store_ddb *s = S(base);
	json_object *req = req_new(s->urls), *resp = NULL, *it;
	struct ddb_error e;
	enum store_rc rc;

	json_object_object_add(req, "Key", key_of(DDB_URLS_HASH_KEY, code));
	set_str(req, "UpdateExpression", "ADD #c :one");
	set_str(req, "ConditionExpression", unlocked ?
	    "attribute_exists(#k) AND #e > :now AND (attribute_not_exists(#m) OR #c < #m)" :
	    "attribute_exists(#k) AND #e > :now AND (attribute_not_exists(#m) OR #c < #m)"
	    " AND attribute_not_exists(#p)");
	if (unlocked)
		names(req, "#k", DDB_URLS_HASH_KEY, "#c", "click_count", "#e", DDB_URLS_TTL_ATTR,
		    "#m", "max_clicks", NULL);
	else
		names(req, "#k", DDB_URLS_HASH_KEY, "#c", "click_count", "#e", DDB_URLS_TTL_ATTR,
		    "#m", "max_clicks", "#p", "password_hash", NULL);
	values(req, ":one", ddb_av_n(1), ":now", ddb_av_n(now), NULL);
	set_str(req, "ReturnValues", "ALL_NEW");
	set_str(req, "ReturnValuesOnConditionCheckFailure", "ALL_OLD");
	if (ddb_op(s->ddb, "UpdateItem", req, &resp, &e) == 0) {
		if (json_object_object_get_ex(resp, "Attributes", &it)) {
			item_link(it, l);
			rc = STORE_OK;
		} else
			rc = unavailable("open link (no attributes)", &e);
	} else if (e.kind == DDB_ERR_CONDITIONAL) {
		/* Not counted. The old item came back with the refusal (ReturnValuesOnCondition-
		 * CheckFailure): no item means no such link, and still one call in all. */
		if (resp != NULL && json_object_object_get_ex(resp, "Item", &it)) {
			item_link(it, l);
			rc = STORE_OK;
		} else
			rc = STORE_NOT_FOUND;
		if (rc == STORE_OK && !link_is_live(l, now)) {
			link_free(l);
			rc = STORE_GONE;
		}
	} else
		rc = unavailable("open link", &e);
	json_object_put(req);
	json_object_put(resp);
	return rc;
}

/* The listing cursor (store.h) as the ExclusiveStartKey of the user-index Query. */
static int
cursor_key(const char *cursor, const char *user_id, json_object **key)
{
	char created[RFC3339_LEN], code[CODE_MAX];

	if (store_cursor_parse(cursor, created, code) == -1)
		return -1;
	*key = json_object_new_object();
	ddb_item_set_s(*key, DDB_URLS_HASH_KEY, code);
	ddb_item_set_s(*key, DDB_URLS_USER_ATTR, user_id);
	ddb_item_set_s(*key, DDB_URLS_USER_INDEX_SORT, created);
	return 0;
}

static void
page_add(struct link_page *p, size_t cap, json_object *it)
{
	if (p->n < cap)
		item_link(it, &p->links[p->n++]);
}

static enum store_rc
ddb_links_list(struct store *base, const char *user_id, int64_t now, const char *cursor,
    size_t limit, struct link_page *page)
{
	struct store_ddb *s = S(base);
	json_object *start = NULL, *req, *resp, *items, *lek;
	struct ddb_error e;
	enum store_rc rc = STORE_OK;
	size_t i, want = limit + 1;

	memset(page, 0, sizeof *page);
	if (cursor != NULL && *cursor != '\0' && cursor_key(cursor, user_id, &start) == -1)
		return STORE_CONFLICT;
	page->links = xcalloc(want, sizeof *page->links);
	/* Pages of the index may be empty after the filter: keep going until the page is full
	 * or the index is exhausted, never stopping early. */
	do {
		req = req_new(s->urls);
		set_str(req, "IndexName", DDB_URLS_USER_INDEX);
		set_str(req, "KeyConditionExpression", "#u = :u");
		set_str(req, "FilterExpression", "#e > :now");
		names(req, "#u", DDB_URLS_USER_ATTR, "#e", DDB_URLS_TTL_ATTR, NULL);
		values(req, ":u", ddb_av_s(user_id), ":now", ddb_av_n(now), NULL);
		json_object_object_add(req, "ScanIndexForward", json_object_new_boolean(0));
		json_object_object_add(req, "Limit", json_object_new_int64((int64_t)(want - page->n)));
		if (start != NULL)
			json_object_object_add(req, "ExclusiveStartKey", start);
		start = NULL;
		resp = NULL;
		if (ddb_op(s->ddb, "Query", req, &resp, &e) == -1)
			rc = unavailable("list links", &e);
		else {
			/* A malformed answer must not abort the worker (json-c asserts on arrays). */
			if (json_object_object_get_ex(resp, "Items", &items) &&
			    json_object_is_type(items, json_type_array))
				for (i = 0; i < json_object_array_length(items); i++)
					page_add(page, want, json_object_array_get_idx(items, i));
			if (json_object_object_get_ex(resp, "LastEvaluatedKey", &lek))
				start = json_object_get(lek);
		}
		json_object_put(req);
		json_object_put(resp);
	} while (rc == STORE_OK && start != NULL && page->n < want);
	json_object_put(start);
	if (rc != STORE_OK) {
		link_page_free(page);
		return rc;
	}
	if (page->n > limit) {
		link_free(&page->links[limit]);
		page->n = limit;
		store_cursor_make(&page->links[limit - 1], page->next_cursor);
	}
	return STORE_OK;
}

/* Drops code from the owner's quota map (best effort: a leftover entry only counts until the
 * link would have expired). */
static void
quota_forget(struct store_ddb *s, const char *user_id, const char *code)
{
	char *qkey = prefixed(QUOTA_PREFIX, user_id);
	json_object *req = req_new(s->users), *resp = NULL;
	struct ddb_error e;

	json_object_object_add(req, "Key", key_of(DDB_USERS_HASH_KEY, qkey));
	set_str(req, "UpdateExpression", "REMOVE #m.#c");
	set_str(req, "ConditionExpression", "attribute_exists(#m.#c)");
	names(req, "#m", "links", "#c", code, NULL);
	if (ddb_op(s->ddb, "UpdateItem", req, &resp, &e) == -1 && e.kind != DDB_ERR_CONDITIONAL)
		log_warnx("quota entry of %s left behind (%s)", code, ddb_errkind_name(e.kind));
	free(qkey);
	json_object_put(req);
	json_object_put(resp);
}

static enum store_rc
ddb_link_delete(struct store *base, const char *code, const char *user_id, struct link *out)
{
	struct store_ddb *s = S(base);
	json_object *req = req_new(s->urls), *resp = NULL, *it;
	struct ddb_error e;
	enum store_rc rc;

	json_object_object_add(req, "Key", key_of(DDB_URLS_HASH_KEY, code));
	set_str(req, "ConditionExpression", "#u = :u");
	names(req, "#u", DDB_URLS_USER_ATTR, NULL);
	values(req, ":u", ddb_av_s(user_id), NULL);
	set_str(req, "ReturnValues", "ALL_OLD");
	if (ddb_op(s->ddb, "DeleteItem", req, &resp, &e) == 0 &&
	    json_object_object_get_ex(resp, "Attributes", &it)) {
		item_link(it, out);
		rc = STORE_OK;
	} else if (e.kind == DDB_ERR_CONDITIONAL)
		rc = STORE_NOT_FOUND;	/* unknown, or someone else's: the same answer */
	else
		rc = unavailable("delete link", &e);
	json_object_put(req);
	json_object_put(resp);
	if (rc == STORE_OK)
		quota_forget(s, user_id, code);
	return rc;
}

/* One Scan page of the urls table. req holds the filter, names and values; it is consumed.
 * *start is the page to start from (consumed) and then the next one, or NULL at the end. */
static int
scan_page(struct store_ddb *s, json_object *req, json_object **start, json_object **items_out,
    json_object **resp_out)
{
	json_object *lek;
	struct ddb_error e;
	int rc;

	if (*start != NULL)
		json_object_object_add(req, "ExclusiveStartKey", *start);
	*start = NULL;
	*resp_out = NULL;
	rc = ddb_op(s->ddb, "Scan", req, resp_out, &e);
	json_object_put(req);
	if (rc == -1) {
		unavailable("scan", &e);
		json_object_put(*resp_out);	/* a conditional-type error hands its body out */
		*resp_out = NULL;
		return -1;
	}
	if (!json_object_object_get_ex(*resp_out, "Items", items_out) ||
	    !json_object_is_type(*items_out, json_type_array))
		*items_out = NULL;
	if (json_object_object_get_ex(*resp_out, "LastEvaluatedKey", &lek))
		*start = json_object_get(lek);
	return 0;
}

static enum store_rc
ddb_links_purge_expired(struct store *base, int64_t now, size_t limit, struct link_page *page)
{
	struct store_ddb *s = S(base);
	json_object *start = NULL, *items, *resp, *req, *dresp, *it, *key;
	struct ddb_error e;
	enum store_rc rc = STORE_OK;
	size_t i;

	memset(page, 0, sizeof *page);
	page->links = xcalloc(limit ? limit : 1, sizeof *page->links);
	do {
		req = req_new(s->urls);
		set_str(req, "FilterExpression", "#e <= :now");
		names(req, "#e", DDB_URLS_TTL_ATTR, NULL);
		values(req, ":now", ddb_av_n(now), NULL);
		if (scan_page(s, req, &start, &items, &resp) == -1) {
			rc = STORE_UNAVAILABLE;
			break;
		}
		for (i = 0; items != NULL && i < json_object_array_length(items) && page->n < limit; i++) {
			it = json_object_array_get_idx(items, i);
			req = req_new(s->urls);
			key = key_of(DDB_URLS_HASH_KEY, ddb_item_s(it, DDB_URLS_HASH_KEY) ?
			    ddb_item_s(it, DDB_URLS_HASH_KEY) : "");
			json_object_object_add(req, "Key", key);
			set_str(req, "ConditionExpression", "#e <= :now");
			names(req, "#e", DDB_URLS_TTL_ATTR, NULL);
			values(req, ":now", ddb_av_n(now), NULL);
			set_str(req, "ReturnValues", "ALL_OLD");
			dresp = NULL;
			if (ddb_op(s->ddb, "DeleteItem", req, &dresp, &e) == 0 &&
			    json_object_object_get_ex(dresp, "Attributes", &it))
				item_link(it, &page->links[page->n++]);
			else if (e.kind != DDB_ERR_CONDITIONAL && e.kind != DDB_OK)
				rc = unavailable("purge link", &e);
			json_object_put(req);
			json_object_put(dresp);
		}
		json_object_put(resp);
	} while (rc == STORE_OK && start != NULL && page->n < limit);
	json_object_put(start);
	if (rc != STORE_OK && page->n == 0) {
		link_page_free(page);
		return rc;
	}
	return STORE_OK;
}

static enum store_rc
ddb_links_each_file_key(struct store *base, int (*fn)(void *, const char *), void *ctx)
{
	struct store_ddb *s = S(base);
	json_object *start = NULL, *items, *resp, *req;
	const char *k;
	size_t i;
	int stop = 0;

	do {
		req = req_new(s->urls);
		set_str(req, "FilterExpression", "attribute_exists(#f)");
		set_str(req, "ProjectionExpression", "#f");
		names(req, "#f", "file_key", NULL);
		if (scan_page(s, req, &start, &items, &resp) == -1)
			return STORE_UNAVAILABLE;
		for (i = 0; items != NULL && !stop && i < json_object_array_length(items); i++)
			if ((k = ddb_item_s(json_object_array_get_idx(items, i), "file_key")) != NULL)
				stop = fn(ctx, k) == -1;
		json_object_put(resp);
	} while (!stop && start != NULL);
	json_object_put(start);
	return STORE_OK;
}

/* ------------------------------------------------------------------ open/close */

static void
ddb_close(struct store *base)
{
	struct store_ddb *s = S(base);

	ddb_free(s->ddb);
	free(s->users);
	free(s->urls);
	free(s);
}

static struct store *
ddb_open(const struct config *cfg)
{
	struct aws_session *sess = aws_session_get(cfg);
	struct store_ddb *s;
	char err[512];

	if (sess == NULL)
		return NULL;
	s = xcalloc(1, sizeof *s);
	s->base.backend = &store_backend_dynamodb;
	s->users = xstrdup(cfg->users_table);
	s->urls = xstrdup(cfg->urls_table);
	if ((s->ddb = ddb_new(cfg, sess->transport, sess->creds, NULL, err, sizeof err)) == NULL) {
		log_errorx("DynamoDB: %s", err);
		ddb_close(&s->base);
		return NULL;
	}
	return &s->base;
}

const struct store_backend store_backend_dynamodb = {
	.name = "dynamodb",
	.open = ddb_open,
	.close = ddb_close,
	.ping = ddb_ping,
	.user_create = ddb_user_create,
	.user_get = ddb_user_get,
	.user_get_by_email = ddb_user_get_by_email,
	.user_start_trial = ddb_user_start_trial,
	.user_set_tier = ddb_user_set_tier,
	.user_revoke_sessions = ddb_user_revoke_sessions,
	.token_revoke = ddb_token_revoke,
	.token_is_revoked = ddb_token_is_revoked,
	.links_create = ddb_links_create,
	.link_get = ddb_link_get,
	.link_open = ddb_link_open,
	.links_list = ddb_links_list,
	.link_delete = ddb_link_delete,
	.links_purge_expired = ddb_links_purge_expired,
	.links_each_file_key = ddb_links_each_file_key,
};
