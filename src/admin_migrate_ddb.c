/*
 * admin_migrate_ddb: the DynamoDB side of the data moves, used in the workers only (each has
 * its own transport and credentials). Bulk reads are BatchGetItem (100 keys a call, strongly
 * consistent), bulk writes BatchWriteItem (25 puts a call); what the service leaves in
 * UnprocessedKeys / UnprocessedItems is resent, alone, after a capped exponential backoff with
 * full jitter, as AWS asks. Calls that fail as throttled or unavailable after ddb_op's own
 * retries are tried again the same way; only after MDDB_ROUNDS rounds is an item given up
 * (and reported by its key, never dropped silently). Operator-only operations: this file is
 * an admin_*.c file, outside the task role's IAM policy check.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "admin_migrate.h"
#include "aws/credentials.h"
#include "aws/ddb_schema.h"
#include "aws/dynamodb.h"
#include "aws/transport.h"
#include "encode.h"
#include "log.h"
#include "xmalloc.h"

#define MDDB_ROUNDS		12	/* resend rounds before an item is given up */
#define MDDB_BACKOFF_BASE_MS	50
#define MDDB_BACKOFF_CAP_MS	5000
#define MDDB_GET_MAX		100	/* BatchGetItem's limit */
#define MDDB_PUT_MAX		25	/* BatchWriteItem's limit */

struct mddb {
	struct transport	*t;
	struct creds_provider	*creds;
	struct ddb		*d;
	struct mddb_stats	 st;
};

struct mddb *
mddb_open(const struct config *cfg, char *err, size_t errlen)
{
	struct mddb *m = xcalloc(1, sizeof *m);

	if ((m->t = transport_new()) == NULL) {
		snprintf(err, errlen, "cannot create the HTTP transport");
		goto fail;
	}
	if ((m->creds = creds_provider_new(cfg, m->t, err, errlen)) == NULL)
		goto fail;
	if ((m->d = ddb_new(cfg, m->t, m->creds, NULL, err, errlen)) == NULL)
		goto fail;
	return m;
fail:
	mddb_close(m);
	return NULL;
}

void
mddb_close(struct mddb *m)
{
	if (m == NULL)
		return;
	ddb_free(m->d);
	creds_provider_free(m->creds);
	transport_free(m->t);
	free(m);
}

void
mddb_stats(const struct mddb *m, struct mddb_stats *out)
{
	*out = m->st;
}

/* Sleeps before resend round (1-based): uniform in [0, min(cap, base * 2^round)). */
static void
backoff(int round)
{
	int64_t cap = MDDB_BACKOFF_BASE_MS;
	uint32_t r;
	int i;

	for (i = 0; i < round && cap < MDDB_BACKOFF_CAP_MS; i++)
		cap *= 2;
	if (cap > MDDB_BACKOFF_CAP_MS)
		cap = MDDB_BACKOFF_CAP_MS;
	random_bytes(&r, sizeof r);
	msleep_ms((int64_t)(r % (uint32_t)cap));
}

static bool
retryable(const struct ddb_error *e)
{
	return e->kind == DDB_ERR_THROTTLED || e->kind == DDB_ERR_UNAVAILABLE;
}

/* The hash key value of an item of either table. */
static const char *
item_key(json_object *it)
{
	const char *k = ddb_item_s(it, DDB_USERS_HASH_KEY);

	return k != NULL ? k : ddb_item_s(it, DDB_URLS_HASH_KEY);
}

static json_object *
table_entry(json_object *resp, const char *field, const char *table)
{
	json_object *m, *t;

	if (resp != NULL && json_object_object_get_ex(resp, field, &m) &&
	    json_object_object_get_ex(m, table, &t))
		return t;
	return NULL;
}

int
mddb_get(struct mddb *m, const char *table, const char *keyattr, char *const *keys, size_t n,
    json_object **out, char *err, size_t errlen)
{
	json_object *pending, *req, *ri, *tb, *resp, *items, *un, *uk, *it;
	struct ddb_error e;
	size_t i, j;
	int round;

	*out = json_object_new_object();
	for (i = 0; i < n; i += MDDB_GET_MAX) {
		pending = json_object_new_array();
		for (j = i; j < n && j < i + MDDB_GET_MAX; j++) {
			json_object *k = json_object_new_object();
			ddb_item_set_s(k, keyattr, keys[j]);
			json_object_array_add(pending, k);
		}
		for (round = 0; json_object_array_length(pending) > 0; ) {
			req = json_object_new_object();
			ri = json_object_new_object();
			tb = json_object_new_object();
			json_object_object_add(tb, "Keys", json_object_get(pending));
			json_object_object_add(tb, "ConsistentRead", json_object_new_boolean(1));
			json_object_object_add(ri, table, tb);
			json_object_object_add(req, "RequestItems", ri);
			resp = NULL;
			m->st.batch_get_calls++;
			if (ddb_op(m->d, "BatchGetItem", req, &resp, &e) == -1) {
				json_object_put(req);
				if (retryable(&e) && ++round < MDDB_ROUNDS) {
					m->st.throttled_retries++;
					backoff(round);
					continue;
				}
				snprintf(err, errlen, "BatchGetItem %s: %s %s %s", table,
				    ddb_errkind_name(e.kind), e.type, e.message);
				json_object_put(pending);
				json_object_put(*out);
				*out = NULL;
				return -1;
			}
			json_object_put(req);
			if ((items = table_entry(resp, "Responses", table)) != NULL)
				for (j = 0; j < json_object_array_length(items); j++) {
					it = json_object_array_get_idx(items, j);
					if (ddb_item_s(it, keyattr) != NULL)
						json_object_object_add(*out, ddb_item_s(it, keyattr),
						    json_object_get(it));
				}
			json_object_put(pending);
			pending = json_object_new_array();
			if ((un = table_entry(resp, "UnprocessedKeys", table)) != NULL &&
			    json_object_object_get_ex(un, "Keys", &uk))
				for (j = 0; j < json_object_array_length(uk); j++)
					json_object_array_add(pending,
					    json_object_get(json_object_array_get_idx(uk, j)));
			json_object_put(resp);
			if (json_object_array_length(pending) > 0) {
				m->st.unprocessed_resent += (long)json_object_array_length(pending);
				if (++round >= MDDB_ROUNDS) {
					snprintf(err, errlen, "BatchGetItem %s: keys still unprocessed "
					    "after %d rounds", table, round);
					json_object_put(pending);
					json_object_put(*out);
					*out = NULL;
					return -1;
				}
				backoff(round);
			}
		}
		json_object_put(pending);
	}
	return 0;
}

/* The fallback after a batch is refused as invalid: item by item, to name the culprit. */
static void
put_one_by_one(struct mddb *m, const char *table, json_object **items, const size_t *idx,
    size_t n, bool *failed, const char **why)
{
	json_object *req, *resp;
	struct ddb_error e;
	size_t i;
	int round;

	for (i = 0; i < n; i++) {
		for (round = 0; ; round++) {
			req = json_object_new_object();
			json_object_object_add(req, "TableName", json_object_new_string(table));
			json_object_object_add(req, "Item", json_object_get(items[idx[i]]));
			resp = NULL;
			m->st.put_calls++;
			if (ddb_op(m->d, "PutItem", req, &resp, &e) == 0) {
				json_object_put(req);
				json_object_put(resp);
				break;
			}
			json_object_put(req);
			json_object_put(resp);
			if (!retryable(&e) || round + 1 >= MDDB_ROUNDS) {
				failed[idx[i]] = true;
				why[idx[i]] = e.kind == DDB_ERR_VALIDATION ? "refused as invalid" :
				    ddb_errkind_name(e.kind);
				log_warnx("PutItem %s %s: %s %s", table, item_key(items[idx[i]]) ?
				    item_key(items[idx[i]]) : "?", e.type, e.message);
				break;
			}
			backoff(round + 1);
		}
	}
}

size_t
mddb_put(struct mddb *m, const char *table, json_object **items, size_t n, bool *failed,
    const char **why)
{
	size_t i, j, k, np, nnext, written = 0, pending[MDDB_PUT_MAX], next[MDDB_PUT_MAX];
	json_object *req, *ri, *arr, *pr, *resp, *un, *u, *uit;
	struct ddb_error e;
	const char *key;
	int round;

	for (i = 0; i < n; i++) {
		failed[i] = false;
		why[i] = NULL;
	}
	for (i = 0; i < n; i += MDDB_PUT_MAX) {
		np = 0;
		for (j = i; j < n && j < i + MDDB_PUT_MAX; j++)
			pending[np++] = j;
		for (round = 0; np > 0; ) {
			req = json_object_new_object();
			ri = json_object_new_object();
			arr = json_object_new_array();
			for (j = 0; j < np; j++) {
				json_object *put = json_object_new_object();
				pr = json_object_new_object();
				json_object_object_add(put, "Item", json_object_get(items[pending[j]]));
				json_object_object_add(pr, "PutRequest", put);
				json_object_array_add(arr, pr);
			}
			json_object_object_add(ri, table, arr);
			json_object_object_add(req, "RequestItems", ri);
			resp = NULL;
			m->st.batch_write_calls++;
			if (ddb_op(m->d, "BatchWriteItem", req, &resp, &e) == -1) {
				json_object_put(req);
				json_object_put(resp);
				if (e.kind == DDB_ERR_VALIDATION) {
					put_one_by_one(m, table, items, pending, np, failed, why);
					break;
				}
				if (retryable(&e) && ++round < MDDB_ROUNDS) {
					m->st.throttled_retries++;
					backoff(round);
					continue;
				}
				for (j = 0; j < np; j++) {
					failed[pending[j]] = true;
					why[pending[j]] = ddb_errkind_name(e.kind);
				}
				log_warnx("BatchWriteItem %s: %s %s %s; %zu items not written", table,
				    ddb_errkind_name(e.kind), e.type, e.message, np);
				break;
			}
			json_object_put(req);
			/* What came back unprocessed, matched to our items by key. */
			nnext = 0;
			if ((un = table_entry(resp, "UnprocessedItems", table)) != NULL)
				for (j = 0; j < json_object_array_length(un); j++) {
					u = json_object_array_get_idx(un, j);
					if (!json_object_object_get_ex(u, "PutRequest", &pr) ||
					    !json_object_object_get_ex(pr, "Item", &uit) ||
					    (key = item_key(uit)) == NULL)
						continue;
					for (k = 0; k < np; k++)
						if (item_key(items[pending[k]]) != NULL &&
						    !strcmp(item_key(items[pending[k]]), key) &&
						    nnext < MDDB_PUT_MAX) {
							next[nnext++] = pending[k];
							break;
						}
				}
			json_object_put(resp);
			if (nnext == 0)
				break;
			m->st.unprocessed_resent += (long)nnext;
			memcpy(pending, next, nnext * sizeof next[0]);
			np = nnext;
			if (++round >= MDDB_ROUNDS) {
				for (j = 0; j < np; j++) {
					failed[pending[j]] = true;
					why[pending[j]] = "still unprocessed after the resends";
				}
				break;
			}
			backoff(round);
		}
	}
	for (i = 0; i < n; i++) {
		if (!failed[i])
			written++;
		json_object_put(items[i]);
		items[i] = NULL;
	}
	return written;
}

int
mddb_put_quota(struct mddb *m, const char *table, json_object *item, int64_t expect)
{
	json_object *req = json_object_new_object(), *names = json_object_new_object(),
	    *vals, *resp = NULL;
	struct ddb_error e;
	int rc, round;

	json_object_object_add(req, "TableName", json_object_new_string(table));
	json_object_object_add(req, "Item", json_object_get(item));
	if (expect == 0) {
		json_object_object_add(req, "ConditionExpression",
		    json_object_new_string("attribute_not_exists(#k)"));
		json_object_object_add(names, "#k", json_object_new_string(DDB_USERS_HASH_KEY));
	} else {
		json_object_object_add(req, "ConditionExpression", json_object_new_string("#v = :v"));
		json_object_object_add(names, "#v", json_object_new_string("version"));
		vals = json_object_new_object();
		json_object_object_add(vals, ":v", ddb_av_n(expect));
		json_object_object_add(req, "ExpressionAttributeValues", vals);
	}
	json_object_object_add(req, "ExpressionAttributeNames", names);
	for (round = 0; ; round++) {
		m->st.put_calls++;
		rc = ddb_op(m->d, "PutItem", req, &resp, &e);
		json_object_put(resp);
		resp = NULL;
		if (rc == 0 || !retryable(&e) || round + 1 >= MDDB_ROUNDS)
			break;
		backoff(round + 1);
	}
	json_object_put(req);
	if (rc == 0)
		return 0;
	if (e.kind == DDB_ERR_CONDITIONAL)
		return 1;
	log_warnx("PutItem %s: %s %s %s", table, ddb_errkind_name(e.kind), e.type, e.message);
	return -1;
}

int
mddb_scan(struct mddb *m, const char *table, int seg, int total,
    int (*fn)(void *ctx, json_object *item), void *ctx, char *err, size_t errlen)
{
	json_object *start = NULL, *req, *resp, *items, *lek;
	struct ddb_error e;
	size_t i;
	int round = 0;

	for (;;) {
		req = json_object_new_object();
		json_object_object_add(req, "TableName", json_object_new_string(table));
		if (total > 1) {
			json_object_object_add(req, "Segment", json_object_new_int(seg));
			json_object_object_add(req, "TotalSegments", json_object_new_int(total));
		}
		json_object_object_add(req, "ConsistentRead", json_object_new_boolean(1));
		if (start != NULL)
			json_object_object_add(req, "ExclusiveStartKey", json_object_get(start));
		resp = NULL;
		m->st.scan_calls++;
		if (ddb_op(m->d, "Scan", req, &resp, &e) == -1) {
			json_object_put(req);
			if (retryable(&e) && ++round < MDDB_ROUNDS) {
				m->st.throttled_retries++;
				backoff(round);
				continue;
			}
			snprintf(err, errlen, "Scan %s segment %d/%d: %s %s %s", table, seg, total,
			    ddb_errkind_name(e.kind), e.type, e.message);
			json_object_put(start);
			return -1;
		}
		json_object_put(req);
		round = 0;
		if (json_object_object_get_ex(resp, "Items", &items))
			for (i = 0; i < json_object_array_length(items); i++)
				if (fn(ctx, json_object_array_get_idx(items, i)) == -1) {
					snprintf(err, errlen, "Scan %s: stopped by its reader", table);
					json_object_put(resp);
					json_object_put(start);
					return -1;
				}
		json_object_put(start);
		start = NULL;
		if (json_object_object_get_ex(resp, "LastEvaluatedKey", &lek))
			start = json_object_get(lek);
		json_object_put(resp);
		if (start == NULL)
			return 0;	/* the last page */
	}
}
