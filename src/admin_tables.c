/*
 * admin_tables: `fileshare-admin create-tables` makes the two DynamoDB tables (keys, GSIs,
 * TTL) on any endpoint: for local use, tests, and a first deployment without Terraform. It is
 * idempotent: tables that exist are checked, not recreated. Operator-only: the task role is
 * not granted these operations.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "admin.h"
#include "aws/ddb_schema.h"
#include "aws/dynamodb.h"
#include "aws/session.h"
#include "log.h"

static json_object *
attr_def(const char *name)
{
	json_object *a = json_object_new_object();

	json_object_object_add(a, "AttributeName", json_object_new_string(name));
	json_object_object_add(a, "AttributeType", json_object_new_string("S"));
	return a;
}

static json_object *
key_schema(const char *hash, const char *range)
{
	json_object *ks = json_object_new_array(), *k;

	k = json_object_new_object();
	json_object_object_add(k, "AttributeName", json_object_new_string(hash));
	json_object_object_add(k, "KeyType", json_object_new_string("HASH"));
	json_object_array_add(ks, k);
	if (range != NULL) {
		k = json_object_new_object();
		json_object_object_add(k, "AttributeName", json_object_new_string(range));
		json_object_object_add(k, "KeyType", json_object_new_string("RANGE"));
		json_object_array_add(ks, k);
	}
	return ks;
}

/* The CreateTable input: a hash key, one GSI (hash [+ range]), on-demand billing. */
static json_object *
table_spec(const char *table, const char *key, const char *index, const char *ihash,
    const char *irange)
{
	json_object *req = json_object_new_object(), *defs = json_object_new_array(),
	    *gsis = json_object_new_array(), *g = json_object_new_object(),
	    *proj = json_object_new_object(), *sse = json_object_new_object();

	json_object_object_add(req, "TableName", json_object_new_string(table));
	json_object_array_add(defs, attr_def(key));
	json_object_array_add(defs, attr_def(ihash));
	if (irange != NULL)
		json_object_array_add(defs, attr_def(irange));
	json_object_object_add(req, "AttributeDefinitions", defs);
	json_object_object_add(req, "KeySchema", key_schema(key, NULL));
	json_object_object_add(g, "IndexName", json_object_new_string(index));
	json_object_object_add(g, "KeySchema", key_schema(ihash, irange));
	json_object_object_add(proj, "ProjectionType", json_object_new_string("ALL"));
	json_object_object_add(g, "Projection", proj);
	json_object_array_add(gsis, g);
	json_object_object_add(req, "GlobalSecondaryIndexes", gsis);
	json_object_object_add(req, "BillingMode", json_object_new_string("PAY_PER_REQUEST"));
	json_object_object_add(sse, "Enabled", json_object_new_boolean(1));
	json_object_object_add(req, "SSESpecification", sse);
	return req;
}

static int
wait_active(struct ddb *d, const char *table)
{
	json_object *req, *resp, *t, *st;
	struct ddb_error e;
	int i, ok = 0;

	for (i = 0; i < 600 && !ok; i++) {
		req = json_object_new_object();
		json_object_object_add(req, "TableName", json_object_new_string(table));
		resp = NULL;
		if (ddb_op(d, "DescribeTable", req, &resp, &e) == 0 &&
		    json_object_object_get_ex(resp, "Table", &t) &&
		    json_object_object_get_ex(t, "TableStatus", &st) &&
		    !strcmp(json_object_get_string(st), "ACTIVE"))
			ok = 1;
		json_object_put(req);
		json_object_put(resp);
		if (!ok)
			usleep(100 * 1000);
	}
	return ok ? 0 : -1;
}

static int
create_one(struct ddb *d, json_object *spec, const char *table)
{
	json_object *resp = NULL, *req;
	struct ddb_error e;
	int rc = 0;

	if (ddb_op(d, "CreateTable", spec, &resp, &e) == -1) {
		if (strcmp(e.type, "ResourceInUseException")) {
			fprintf(stderr, "fileshare-admin: CreateTable %s: %s %s\n", table, e.type, e.message);
			rc = -1;
		} else
			printf("table %s exists\n", table);
	} else
		printf("table %s created\n", table);
	json_object_put(resp);
	if (rc == 0 && wait_active(d, table) == -1) {
		fprintf(stderr, "fileshare-admin: table %s did not become ACTIVE\n", table);
		return -1;
	}
	/* Expired links (and revoked tokens) are removed by DynamoDB's TTL, days late. */
	req = json_object_new_object();
	json_object_object_add(req, "TableName", json_object_new_string(table));
	{
		json_object *ttl = json_object_new_object();
		json_object_object_add(ttl, "Enabled", json_object_new_boolean(1));
		json_object_object_add(ttl, "AttributeName", json_object_new_string(DDB_URLS_TTL_ATTR));
		json_object_object_add(req, "TimeToLiveSpecification", ttl);
	}
	resp = NULL;
	if (rc == 0 && ddb_op(d, "UpdateTimeToLive", req, &resp, &e) == -1 &&
	    strstr(e.message, "already enabled") == NULL) {
		fprintf(stderr, "fileshare-admin: UpdateTimeToLive %s: %s %s\n", table, e.type, e.message);
		rc = -1;
	}
	json_object_put(req);
	json_object_put(resp);
	return rc;
}

/* create-tables: 0 when both tables exist and are ACTIVE with TTL on; 1 otherwise. */
int
admin_create_tables(const struct config *cfg, int argc, char **argv)
{
	struct aws_session *sess;
	struct ddb *d;
	json_object *users, *urls;
	char err[512];
	int rc;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: fileshare-admin create-tables\n");
		return 2;
	}
	if (cfg->aws_region == NULL) {
		fprintf(stderr, "fileshare-admin: AWS_REGION is required for create-tables\n");
		return 1;
	}
	if ((sess = aws_session_get(cfg)) == NULL)
		return 1;
	if ((d = ddb_new(cfg, sess->transport, sess->creds, NULL, err, sizeof err)) == NULL) {
		fprintf(stderr, "fileshare-admin: %s\n", err);
		aws_session_release();
		return 1;
	}
	users = table_spec(cfg->users_table, DDB_USERS_HASH_KEY, DDB_USERS_EMAIL_INDEX,
	    DDB_USERS_EMAIL_ATTR, NULL);
	urls = table_spec(cfg->urls_table, DDB_URLS_HASH_KEY, DDB_URLS_USER_INDEX, DDB_URLS_USER_ATTR,
	    DDB_URLS_USER_INDEX_SORT);
	rc = create_one(d, users, cfg->users_table) == 0 && create_one(d, urls, cfg->urls_table) == 0;
	json_object_put(users);
	json_object_put(urls);
	ddb_free(d);
	aws_session_release();
	return rc ? 0 : 1;
}
