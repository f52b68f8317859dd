/*
 * fuzz_ddb: what DynamoDB answers, read by the JSON-protocol client (src/aws/dynamodb.c:
 * status and __type classification, x-amz-crc32, skew detection from Date, retries,
 * CancellationReasons) and by the DynamoDB store (src/store_dynamodb.c: the item readers for
 * users and links, quota maps, query pages with LastEvaluatedKey, cursors, scans).
 *
 * No network: the target is linked with -Wl,--wrap=transport_perform, so every HTTP call the
 * client makes is answered here from the fuzzer's input, and store_dynamodb.c is compiled
 * into this file so its static item readers can be called directly too. Retry sleeps are
 * switched off through the client's test hook.
 *
 * Input: a mode byte. Mode 0: a JSON document read as an item by every attribute reader and
 * by the user and link readers. Mode 1: a store operation (the next byte), its argument (a
 * line: code, email, user id or cursor), then the answers, each [status byte][flags byte]
 * [u16 length][body] (flags: a correct or a wrong x-amz-crc32, a far Date, a request id; a
 * status byte of 0 is a transport failure). Mode 2: the pure helpers (HTTP dates, skew,
 * retry classes, reason codes, cursors).
 * Checks, beyond no crash or leak: every store call returns a defined code, and what it
 * fills is NUL-terminated within its arrays; a page never holds more than asked; a link's
 * strings are either NULL or C strings.
 */
#include "store_dynamodb.c"

#include "fuzz.h"
#include "fuzzcfg.h"

#include "aws/transport.h"

/* ------------------------------------------------------------------ the fake service */

static struct fuzz_in answers;
static unsigned calls;

int __wrap_transport_perform(struct transport *, const struct transport_request *,
    struct transport_response *);

static void
resp_add_header(struct transport_response *r, const char *name, const char *value)
{
	r->headers = realloc(r->headers, (r->nheaders + 1) * sizeof *r->headers);
	if (r->headers == NULL)
		abort();
	r->headers[r->nheaders].name = strdup(name);
	r->headers[r->nheaders].value = strdup(value);
	r->nheaders++;
}

int
__wrap_transport_perform(struct transport *t, const struct transport_request *rq,
    struct transport_response *r)
{
	static const int statuses[] = { 200, 200, 200, 200, 200, 200, 400, 400, 400, 500, 503, 413,
	    403, 302, 204, 0 };
	uint8_t sb, flags;
	size_t len;
	char crc[16];

	(void)t;
	FUZZ_CHECK(rq != NULL && rq->url != NULL && rq->method != NULL);
	memset(r, 0, sizeof *r);
	calls++;
	if (answers.n == 0 || calls > 64) {	/* out of answers: the service is unreachable */
		r->error = TRANSPORT_ERR_CONNECT;
		snprintf(r->message, sizeof r->message, "Failed to connect (fuzz)");
		return -1;
	}
	sb = fuzz_byte(&answers);
	flags = fuzz_byte(&answers);
	len = fuzz_u16(&answers);
	if (len > answers.n)
		len = answers.n;
	if (statuses[sb % 16] == 0) {
		r->error = (flags & 1) ? TRANSPORT_ERR_TIMEOUT : TRANSPORT_ERR_RESET;
		snprintf(r->message, sizeof r->message, "Connection reset (fuzz)");
		answers.p += len;
		answers.n -= len;
		return -1;
	}
	r->status = statuses[sb % 16];
	buf_append(&r->body, answers.p, len);
	buf_grow(&r->body, 0);
	answers.p += len;
	answers.n -= len;
	if (flags & 1) {
		snprintf(crc, sizeof crc, "%u", (unsigned)ddb_crc32(r->body.data, r->body.len));
		resp_add_header(r, "x-amz-crc32", crc);
	} else if (flags & 2)
		resp_add_header(r, "x-amz-crc32", (flags & 4) ? "12345" : "not-a-number");
	if (flags & 8)
		resp_add_header(r, "Date", (flags & 16) ? "Thu, 01 Jan 2026 00:20:00 GMT" :
		    "Sun, 06 Nov 1994 08:49:37 GMT");
	if (flags & 32)
		resp_add_header(r, "x-amzn-RequestId", "FUZZREQUESTID0123456789ABCDEFGHIJKLMNOPQRSTUVWX");
	return 0;
}

static void
no_sleep(void *ctx, int64_t ms)
{
	(void)ctx;
	(void)ms;
}

static double
half(void *ctx)
{
	(void)ctx;
	return 0.5;
}

/* ------------------------------------------------------------------ checks */

static void
check_user(const struct user *u)
{
	FUZZ_CHECK(memchr(u->user_id, '\0', sizeof u->user_id) != NULL);
	FUZZ_CHECK(memchr(u->email, '\0', sizeof u->email) != NULL);
	FUZZ_CHECK(memchr(u->password_hash, '\0', sizeof u->password_hash) != NULL);
	FUZZ_CHECK(u->tier == TIER_FREE || u->tier == TIER_TRIAL || u->tier == TIER_PREMIUM);
}

static void
check_link(const struct link *l)
{
	FUZZ_CHECK(memchr(l->short_code, '\0', sizeof l->short_code) != NULL);
	FUZZ_CHECK(memchr(l->created_by_user, '\0', sizeof l->created_by_user) != NULL);
	FUZZ_CHECK(memchr(l->file_key, '\0', sizeof l->file_key) != NULL);
	FUZZ_CHECK(l->full_url == NULL || strlen(l->full_url) < 1u << 24);
	FUZZ_CHECK(l->filename == NULL || strlen(l->filename) < 1u << 24);
	FUZZ_CHECK(l->content_type == NULL || strlen(l->content_type) < 1u << 24);
	FUZZ_CHECK(l->password_hash == NULL || strlen(l->password_hash) < 1u << 24);
}

static bool
rc_ok(enum store_rc rc)
{
	return rc == STORE_OK || rc == STORE_NOT_FOUND || rc == STORE_CONFLICT ||
	    rc == STORE_UNAVAILABLE || rc == STORE_GONE || rc == STORE_QUOTA;
}

static int
count_key(void *ctx, const char *key)
{
	FUZZ_CHECK(key != NULL);
	return ++*(int *)ctx > 1000 ? -1 : 0;
}

/* ------------------------------------------------------------------ modes */

static json_object *
parse(const uint8_t *p, size_t n)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *o = json_tokener_parse_ex(tok, (const char *)p, (int)n);

	json_tokener_free(tok);
	return o;
}

static void
items(const uint8_t *p, size_t n)
{
	static const char *const attrs[] = { "short_code", "full_url", "created_at", "expires_at",
	    "expires_at_ttl", "created_by_user", "file_key", "filename", "file_size", "content_type",
	    "click_count", "max_clicks", "password_hash", "user_id", "email", "user_tier",
	    "trial_used", "trial_started_at", "trial_expires_at", "sessions_valid_after", "x" };
	json_object *o = parse(p, n);
	struct user u;
	struct link l;
	int64_t v;
	bool b;
	size_t i;

	if (o == NULL)
		return;
	for (i = 0; i < sizeof attrs / sizeof attrs[0]; i++) {
		const char *s = ddb_item_s(o, attrs[i]);

		FUZZ_CHECK(s == NULL || strlen(s) < n + 1);
		(void)ddb_item_n(o, attrs[i], &v);
		(void)ddb_item_bool(o, attrs[i], &b);
		(void)ddb_item_is_null(o, attrs[i]);
		(void)ddb_item_has(o, attrs[i]);
	}
	if (json_object_is_type(o, json_type_object)) {
		item_user(o, &u);
		check_user(&u);
		item_link(o, &l);
		check_link(&l);
		link_free(&l);
	}
	json_object_put(o);
}

static void
helpers(const uint8_t *p, size_t n)
{
	char *s = fuzz_strndup(p, n), *nl = strchr(s, '\n');
	const char *msg = nl ? nl + 1 : "";
	json_object *key = NULL;
	int64_t t, skew;

	if (nl)
		*nl = '\0';
	(void)transport_parse_http_date(s, &t);
	(void)ddb_skew_detect(n % 2 ? 403 : 400, s, msg, msg, INT64_C(1767225600), 0, &skew);
	(void)ddb_skew_detect(400, "InvalidSignatureException", s, s, INT64_C(1767225600), 5, &skew);
	(void)ddb_retry_classify((enum transport_error)(n % 7), (int)(n * 37 % 600), s);
	(void)ddb_error_kind((enum transport_error)(n % 7), (int)(n * 37 % 600), s);
	(void)ddb_creds_refused(s);
	(void)ddb_reason_from_code(s);
	if (cursor_key(s, "user-1", &key) == 0) {
		FUZZ_CHECK(ddb_item_s(key, DDB_URLS_HASH_KEY) != NULL);
		json_object_put(key);
	}
	free(s);
}

static struct config cfg;
static struct store *st;

static void
scenario(const uint8_t *p, size_t n)
{
	struct fuzz_in in = { p, n };
	uint8_t op = fuzz_byte(&in);
	char *arg = fuzz_line_dup(&in), *email;
	struct user u;
	struct link l, links[2];
	struct link_page page;
	bool revoked;
	enum store_rc rc = STORE_OK;
	int keys = 0;

	/* A fresh client each time: no retry quota or clock skew carried over. */
	st = store_open(&cfg);
	FUZZ_CHECK(st != NULL && st->backend == &store_backend_dynamodb);
	ddb_set_sleep(S(st)->ddb, no_sleep, NULL);
	ddb_set_random(S(st)->ddb, half, NULL);
	answers = in;
	calls = 0;
	switch (op % 17) {
	case 0:
		rc = store_user_get(st, arg, &u);
		if (rc == STORE_OK)
			check_user(&u);
		break;
	case 1:
		rc = store_user_get_by_email(st, arg, &u);
		if (rc == STORE_OK)
			check_user(&u);
		break;
	case 2:
		memset(&u, 0, sizeof u);
		snprintf(u.user_id, sizeof u.user_id, "%s", arg);
		email = fuzz_strndup(arg, strlen(arg));
		snprintf(u.email, sizeof u.email, "%s", email);
		free(email);
		snprintf(u.password_hash, sizeof u.password_hash, "$scrypt$ln=1,r=1,p=1$c2FsdA$aGFzaA");
		u.created_at = u.updated_at = INT64_C(1767225600);
		rc = store_user_create(st, &u);
		break;
	case 3:
		rc = store_user_start_trial(st, arg, INT64_C(1767225600), INT64_C(1769817600));
		break;
	case 4:
		rc = store_user_set_tier(st, arg, (enum tier)(op / 17 % 3), INT64_C(1767225600));
		break;
	case 5:
		rc = store_user_revoke_sessions(st, arg, INT64_C(1767225600000), INT64_C(1767225600));
		break;
	case 6:
		rc = store_token_revoke(st, arg, INT64_C(1768435200));
		break;
	case 7:
		rc = store_token_is_revoked(st, arg, &revoked);
		break;
	case 8: case 9:
		memset(links, 0, sizeof links);
		snprintf(links[0].short_code, sizeof links[0].short_code, "%.8s", arg[0] ? arg : "Ab3dE9xQ");
		snprintf(links[0].created_by_user, sizeof links[0].created_by_user, "user-1");
		links[0].full_url = (char *)"https://example.com/";
		links[0].created_at = INT64_C(1767225600);
		links[0].expires_at = INT64_C(1767830400);
		links[1] = links[0];
		snprintf(links[1].short_code, sizeof links[1].short_code, "Zz9yX8wV");
		snprintf(links[1].file_key, sizeof links[1].file_key, "0123456789abcdef0123456789abcdef");
		links[1].full_url = NULL;
		links[1].filename = (char *)"a.txt";
		links[1].content_type = (char *)"text/plain";
		rc = store_links_create(st, links, op % 17 == 8 ? 1 : 2, 5, INT64_C(1767225600));
		break;
	case 10:
		rc = store_link_get(st, arg, &l);
		if (rc == STORE_OK) {
			check_link(&l);
			link_free(&l);
		}
		break;
	case 11:
		rc = store_link_open(st, arg, INT64_C(1767225600), op & 0x80, &l);
		if (rc == STORE_OK || rc == STORE_GONE) {
			check_link(&l);
			link_free(&l);
		}
		break;
	case 12:
		rc = store_links_list(st, "user-1", INT64_C(1767225600), arg, 1 + op / 17 % 4, &page);
		if (rc == STORE_OK) {
			size_t i;

			FUZZ_CHECK(page.n <= 1 + (size_t)(op / 17 % 4));
			FUZZ_CHECK(memchr(page.next_cursor, '\0', sizeof page.next_cursor) != NULL);
			for (i = 0; i < page.n; i++)
				check_link(&page.links[i]);
			link_page_free(&page);
		}
		break;
	case 13:
		rc = store_link_delete(st, arg, "user-1", &l);
		if (rc == STORE_OK) {
			check_link(&l);
			link_free(&l);
		}
		break;
	case 14:
		rc = store_links_purge_expired(st, INT64_C(1767225600), 1 + op / 17 % 4, &page);
		if (rc == STORE_OK) {
			size_t i;

			FUZZ_CHECK(page.n <= 1 + (size_t)(op / 17 % 4));
			for (i = 0; i < page.n; i++)
				check_link(&page.links[i]);
			link_page_free(&page);
		}
		break;
	case 15:
		rc = store_links_each_file_key(st, count_key, &keys);
		break;
	case 16:
		rc = store_ping(st);
		break;
	}
	FUZZ_CHECK(rc_ok(rc));
	store_close(st);
	free(arg);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const vars[] = {
		"DATA_DIR=/nonexistent", "SESSION_SECRET=" FUZZ_SECRET, "USE_DYNAMODB=true",
		"AWS_REGION=us-east-1", "AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:9",
		"AWS_ACCESS_KEY_ID=AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
		"DYNAMODB_USERS_TABLE_NAME=fuzz-users", "DYNAMODB_URLS_TABLE_NAME=fuzz-urls",
		"LOG_LEVEL=debug", NULL,
	};

	(void)argc;
	(void)argv;
	fuzzcfg_parse(&cfg, vars);
	log_set_level(LOG_DEBUG);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t mode = fuzz_byte(&in);

	switch (mode % 3) {
	case 0:
		items(in.p, in.n);
		break;
	case 1:
		scenario(in.p, in.n);
		break;
	case 2:
		helpers(in.p, in.n);
		break;
	}
	return 0;
}
