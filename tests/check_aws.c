/*
 * check_aws: the pure parts of the AWS layer (src/aws/transport.c, credentials.c, dynamodb.c),
 * table-driven, failure cases named bad_*:
 *  - retry classification and the final error kinds; backoff bounds with an injected random
 *    source; the retry loop itself against a closed loopback port (sleeps recorded, quota);
 *  - clock skew from Date headers; HTTP date and URL parsing; CRC32;
 *  - the container credentials: JSON parsing (good and malformed), RFC 3339, FULL_URI host
 *    restriction, refresh timing with a fake fetch (the 5-minute window, failures keeping
 *    unexpired credentials, expired ones failing, the retry gaps, forced refresh, the token
 *    and the token file re-read at each refresh), environment keys;
 *  - the DynamoDB attribute-value helpers; endpoints; operation names.
 * The same code against real servers: tests/aws/test_client.py (tests/suites/40-aws-client.sh).
 */
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <json-c/json.h>

#include "aws/credentials.h"
#include "aws/dynamodb.h"
#include "aws/retry.h"
#include "aws/transport.h"
#include "buf.h"
#include "config.h"
#include "testutil.h"
#include "timeutil.h"
#include "xmalloc.h"

#define NOW	TU_EPOCH_S	/* 2026-01-01T00:00:00Z, a Thursday */
#define N_ELEMS(a)	(sizeof (a) / sizeof (a)[0])

/* ---------------------------------------------------------------- retry classification */

static const struct retry_case {
	enum transport_error	 terr;
	int			 status;
	const char		*type;
	enum ddb_retry_class	 retry;
	enum ddb_errkind	 kind;
} retry_cases[] = {
	{ TRANSPORT_OK, 200, NULL, DDB_RETRY_NO, DDB_OK },
	{ TRANSPORT_OK, 400, "ConditionalCheckFailedException", DDB_RETRY_NO, DDB_ERR_CONDITIONAL },
	{ TRANSPORT_OK, 400, "TransactionCanceledException", DDB_RETRY_NO, DDB_ERR_TXN_CANCELED },
	{ TRANSPORT_OK, 400, "ValidationException", DDB_RETRY_NO, DDB_ERR_VALIDATION },
	{ TRANSPORT_OK, 400, "SerializationException", DDB_RETRY_NO, DDB_ERR_VALIDATION },
	{ TRANSPORT_OK, 400, "ResourceNotFoundException", DDB_RETRY_NO, DDB_ERR_NOT_FOUND },
	{ TRANSPORT_OK, 400, "ProvisionedThroughputExceededException", DDB_RETRY_THROTTLE, DDB_ERR_THROTTLED },
	{ TRANSPORT_OK, 400, "ThrottlingException", DDB_RETRY_THROTTLE, DDB_ERR_THROTTLED },
	{ TRANSPORT_OK, 400, "RequestLimitExceeded", DDB_RETRY_THROTTLE, DDB_ERR_THROTTLED },
	{ TRANSPORT_OK, 400, "TransactionInProgressException", DDB_RETRY_THROTTLE, DDB_ERR_THROTTLED },
	{ TRANSPORT_OK, 400, "LimitExceededException", DDB_RETRY_THROTTLE, DDB_ERR_THROTTLED },
	{ TRANSPORT_OK, 400, "PriorRequestNotComplete", DDB_RETRY_THROTTLE, DDB_ERR_THROTTLED },
	{ TRANSPORT_OK, 400, "RequestTimeout", DDB_RETRY_TRANSIENT, DDB_ERR_UNAVAILABLE },
	{ TRANSPORT_OK, 500, "InternalServerError", DDB_RETRY_TRANSIENT, DDB_ERR_UNAVAILABLE },
	{ TRANSPORT_OK, 503, "ServiceUnavailable", DDB_RETRY_TRANSIENT, DDB_ERR_UNAVAILABLE },
	{ TRANSPORT_OK, 500, NULL, DDB_RETRY_TRANSIENT, DDB_ERR_UNAVAILABLE },
	{ TRANSPORT_OK, 502, "", DDB_RETRY_TRANSIENT, DDB_ERR_UNAVAILABLE },
	{ TRANSPORT_OK, 504, NULL, DDB_RETRY_TRANSIENT, DDB_ERR_UNAVAILABLE },
	{ TRANSPORT_OK, 501, NULL, DDB_RETRY_NO, DDB_ERR_UNAVAILABLE },	/* not in the SDKs' list */
	{ TRANSPORT_ERR_TIMEOUT, 0, NULL, DDB_RETRY_TIMEOUT, DDB_ERR_UNAVAILABLE },
	{ TRANSPORT_ERR_CONNECT, 0, NULL, DDB_RETRY_TRANSIENT, DDB_ERR_UNAVAILABLE },
	{ TRANSPORT_ERR_RESET, 0, NULL, DDB_RETRY_TRANSIENT, DDB_ERR_UNAVAILABLE },
	{ TRANSPORT_ERR_RESET, 200, NULL, DDB_RETRY_TRANSIENT, DDB_ERR_UNAVAILABLE },	/* cut short */
	{ TRANSPORT_ERR_TOO_LARGE, 200, NULL, DDB_RETRY_NO, DDB_ERR_OTHER },
	{ TRANSPORT_ERR_BODY, 0, NULL, DDB_RETRY_NO, DDB_ERR_OTHER },
	{ TRANSPORT_ERR_OTHER, 0, NULL, DDB_RETRY_NO, DDB_ERR_OTHER },
	{ TRANSPORT_OK, 400, "UnrecognizedClientException", DDB_RETRY_NO, DDB_ERR_AUTH },
	{ TRANSPORT_OK, 403, "InvalidSignatureException", DDB_RETRY_NO, DDB_ERR_AUTH },
	{ TRANSPORT_OK, 400, "InvalidSignatureException", DDB_RETRY_NO, DDB_ERR_AUTH },
	{ TRANSPORT_OK, 400, "AccessDeniedException", DDB_RETRY_NO, DDB_ERR_AUTH },
	{ TRANSPORT_OK, 400, "MissingAuthenticationTokenException", DDB_RETRY_NO, DDB_ERR_AUTH },
	{ TRANSPORT_OK, 400, "IncompleteSignatureException", DDB_RETRY_NO, DDB_ERR_AUTH },
	{ TRANSPORT_OK, 400, "ExpiredTokenException", DDB_RETRY_NO, DDB_ERR_AUTH },
	{ TRANSPORT_OK, 403, NULL, DDB_RETRY_NO, DDB_ERR_AUTH },
	{ TRANSPORT_OK, 400, "ResourceInUseException", DDB_RETRY_NO, DDB_ERR_OTHER },
	{ TRANSPORT_OK, 400, "ItemCollectionSizeLimitExceededException", DDB_RETRY_NO, DDB_ERR_OTHER },
	{ TRANSPORT_OK, 400, "TransactionConflictException", DDB_RETRY_NO, DDB_ERR_OTHER },
	{ TRANSPORT_OK, 400, "IdempotentParameterMismatchException", DDB_RETRY_NO, DDB_ERR_OTHER },
	{ TRANSPORT_OK, 400, "UnknownOperationException", DDB_RETRY_NO, DDB_ERR_OTHER },
	{ TRANSPORT_OK, 413, NULL, DDB_RETRY_NO, DDB_ERR_OTHER },
	{ TRANSPORT_OK, 400, NULL, DDB_RETRY_NO, DDB_ERR_OTHER },
};

START_TEST(test_retry_classify)
{
	const struct retry_case *c = &retry_cases[_i];

	ck_assert_msg(ddb_retry_classify(c->terr, c->status, c->type) == c->retry,
	    "case %d (%s %d %s): retry class %d", _i, transport_error_name(c->terr), c->status,
	    c->type ? c->type : "-", ddb_retry_classify(c->terr, c->status, c->type));
	ck_assert_msg(ddb_error_kind(c->terr, c->status, c->type) == c->kind,
	    "case %d (%s %d %s): kind %s", _i, transport_error_name(c->terr), c->status,
	    c->type ? c->type : "-", ddb_errkind_name(ddb_error_kind(c->terr, c->status, c->type)));
}
END_TEST

START_TEST(test_creds_refused_names)
{
	ck_assert(ddb_creds_refused("UnrecognizedClientException"));
	ck_assert(ddb_creds_refused("ExpiredTokenException"));
	ck_assert(!ddb_creds_refused("InvalidSignatureException"));
	ck_assert(!ddb_creds_refused("AccessDeniedException"));	/* a policy, not the keys */
	ck_assert(!ddb_creds_refused(""));
	ck_assert(!ddb_creds_refused(NULL));
}
END_TEST

START_TEST(test_reason_codes)
{
	ck_assert_int_eq(ddb_reason_from_code(NULL), DDB_REASON_NONE);
	ck_assert_int_eq(ddb_reason_from_code("None"), DDB_REASON_NONE);
	ck_assert_int_eq(ddb_reason_from_code("ConditionalCheckFailed"), DDB_REASON_CONDITIONAL);
	ck_assert_int_eq(ddb_reason_from_code("TransactionConflict"), DDB_REASON_CONFLICT);
	ck_assert_int_eq(ddb_reason_from_code("ThrottlingError"), DDB_REASON_THROTTLED);
	ck_assert_int_eq(ddb_reason_from_code("ProvisionedThroughputExceeded"), DDB_REASON_THROTTLED);
	ck_assert_int_eq(ddb_reason_from_code("ValidationError"), DDB_REASON_VALIDATION);
	ck_assert_int_eq(ddb_reason_from_code("ItemCollectionSizeLimitExceeded"), DDB_REASON_OTHER);
}
END_TEST

/* ---------------------------------------------------------------- backoff */

static const struct backoff_case {
	int	failed;
	double	r;
	int64_t	ms;
} backoff_cases[] = {
	{ 1, 0.0, 0 }, { 1, 0.5, 500 }, { 2, 0.5, 1000 }, { 3, 0.5, 2000 },
	{ 3, 0.999, 3996 }, { 5, 0.999, 15984 }, { 6, 0.999, 20000 }, { 6, 0.5, 16000 },
	{ 7, 0.5, 20000 }, { 40, 0.5, 20000 },
	/* bad_ inputs are clamped, never negative or huge */
	{ 0, 0.5, 500 }, { -3, 0.5, 500 }, { 1, -1.0, 0 }, { 1, 1.5, 1000 }, { 2, NAN, 0 },
};

START_TEST(test_backoff_table)
{
	const struct backoff_case *c = &backoff_cases[_i];

	ck_assert_int_eq(ddb_backoff_ms(c->failed, c->r), c->ms);
}
END_TEST

/* A small deterministic generator standing in for the random source. */
static uint64_t lcg_state;

static double
lcg(void *ctx)
{
	(void)ctx;
	lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (double)(lcg_state >> 11) / 9007199254740992.0;
}

START_TEST(test_backoff_full_jitter_bounds)
{
	int failed, i;

	lcg_state = 42;
	for (failed = 1; failed <= 8; failed++) {
		int64_t bound = INT64_C(1000) << (failed - 1), max = 0, min = INT64_MAX;
		double sum = 0;

		if (bound > DDB_BACKOFF_CAP_MS)
			bound = DDB_BACKOFF_CAP_MS;
		for (i = 0; i < 4000; i++) {
			int64_t d = ddb_backoff_ms(failed, lcg(NULL));
			ck_assert_int_ge(d, 0);
			ck_assert_int_le(d, bound);
			max = d > max ? d : max;
			min = d < min ? d : min;
			sum += (double)d;
		}
		/* full jitter: spread over the whole [0, bound) (capped: [0, cap] with a mass at
		 * the cap), not a fixed delay */
		ck_assert_int_lt(min, bound / 20 + 1);
		ck_assert_int_gt(max, bound - bound / 20 - 1);
		if ((INT64_C(1000) << (failed - 1)) <= DDB_BACKOFF_CAP_MS) {
			ck_assert_msg(sum / 4000 > 0.45 * (double)bound && sum / 4000 < 0.55 * (double)bound,
			    "mean %f for bound %lld", sum / 4000, (long long)bound);
		}
	}
}
END_TEST

/* ---------------------------------------------------------------- HTTP dates and skew */

static const struct date_case {
	const char	*s;
	int		 ok;
	int64_t		 t;
} date_cases[] = {
	{ "Thu, 01 Jan 2026 00:00:00 GMT", 1, NOW },
	{ "Sun, 06 Nov 1994 08:49:37 GMT", 1, 784111777 },
	{ "Sunday, 06-Nov-94 08:49:37 GMT", 1, 784111777 },
	{ "Sun Nov  6 08:49:37 1994", 1, 784111777 },
	{ "Tue, 29 Feb 2028 23:59:59 GMT", 1, INT64_C(1835481599) },
	{ "Thu, 01 Jan 2026 00:10:00 GMT", 1, NOW + 600 },
	/* bad_ */
	{ "Thu, 01 Jan 2026 00:00:00 UTC", 0, 0 },
	{ "Thu, 32 Jan 2026 00:00:00 GMT", 0, 0 },
	{ "Thu, 29 Feb 2025 00:00:00 GMT", 0, 0 },
	{ "Thu, 01 Jan 2026 24:00:00 GMT", 0, 0 },
	{ "Thu, 01 Foo 2026 00:00:00 GMT", 0, 0 },
	{ "Thu, 1 Jan 2026 00:00:00 GMT", 0, 0 },
	{ "2026-01-01T00:00:00Z", 0, 0 },
	{ "", 0, 0 },
	{ NULL, 0, 0 },
};

START_TEST(test_http_date)
{
	const struct date_case *c = &date_cases[_i];
	int64_t t = -1;
	int rc = transport_parse_http_date(c->s, &t);

	ck_assert_msg((rc == 0) == c->ok, "case %d (%s): rc %d", _i, c->s ? c->s : "NULL", rc);
	if (c->ok)
		ck_assert_int_eq(t, c->t);
}
END_TEST

#define D_PLUS_600	"Thu, 01 Jan 2026 00:10:00 GMT"
#define D_MINUS_600	"Wed, 31 Dec 2025 23:50:00 GMT"
#define D_PLUS_100	"Thu, 01 Jan 2026 00:01:40 GMT"
#define D_PLUS_1	"Thu, 01 Jan 2026 00:00:01 GMT"
#define D_NOW		"Thu, 01 Jan 2026 00:00:00 GMT"
#define EXPIRED_MSG	"Signature expired: 20251231T235000Z is now earlier than 20260101T000500Z " \
			"(20260101T001000Z - 5 min.)"
#define NOT_YET_MSG	"Signature not yet current: 20260101T001000Z is still later than " \
			"20260101T000500Z (20260101T000000Z + 5 min.)"

static const struct skew_case {
	int		 status;
	const char	*type;
	const char	*message;
	const char	*date;
	int64_t		 current;
	bool		 detected;
	int64_t		 skew;
} skew_cases[] = {
	{ 400, "InvalidSignatureException", EXPIRED_MSG, D_PLUS_600, 0, true, 600 },
	{ 403, "InvalidSignatureException", EXPIRED_MSG, D_PLUS_600, 0, true, 600 },
	{ 403, "InvalidSignatureException", NOT_YET_MSG, D_MINUS_600, 0, true, -600 },
	/* the skew in use is replaced, not added to */
	{ 400, "InvalidSignatureException", EXPIRED_MSG, D_PLUS_600, 300, true, 600 },
	{ 400, "InvalidSignatureException", EXPIRED_MSG, D_NOW, 600, true, 0 },
	/* a refusal that does not say why, with a Date far from ours */
	{ 403, NULL, NULL, D_PLUS_600, 0, true, 600 },
	{ 403, "InvalidSignatureException", "The request signature we calculated does not match",
	  D_MINUS_600, 0, true, -600 },
	{ 403, "RequestTimeTooSkewed", "The difference between the request time and the current "
	  "time is too large.", D_PLUS_600, 0, true, 600 },
	/* bad_: not a skew, or nothing to correct with */
	{ 400, "InvalidSignatureException", EXPIRED_MSG, NULL, 0, false, 0 },
	{ 400, "InvalidSignatureException", EXPIRED_MSG, "yesterday", 0, false, 0 },
	{ 400, "InvalidSignatureException", EXPIRED_MSG, D_NOW, 0, false, 0 },
	{ 400, "InvalidSignatureException", EXPIRED_MSG, D_PLUS_1, 0, false, 0 },
	{ 400, "InvalidSignatureException", EXPIRED_MSG, D_PLUS_600, 600, false, 0 },
	{ 403, NULL, NULL, D_PLUS_100, 0, false, 0 },
	{ 400, "ValidationException", "Signature expired", D_PLUS_600, 0, false, 0 },
	{ 400, "ValidationException", "bad", D_PLUS_600, 0, false, 0 },
	{ 500, "InternalServerError", NULL, D_PLUS_600, 0, false, 0 },
	{ 400, "UnrecognizedClientException", "The security token included in the request is "
	  "invalid.", D_PLUS_100, 0, false, 0 },
};

START_TEST(test_skew_detect)
{
	const struct skew_case *c = &skew_cases[_i];
	int64_t skew = 12345;
	bool got = ddb_skew_detect(c->status, c->type, c->message, c->date, NOW, c->current, &skew);

	ck_assert_msg(got == c->detected, "case %d: detected %d", _i, got);
	if (c->detected)
		ck_assert_int_eq(skew, c->skew);
	else
		ck_assert_int_eq(skew, 12345);	/* untouched */
}
END_TEST

/* ---------------------------------------------------------------- a call's retry state */

static double
half(void *ctx)
{
	(void)ctx;
	return 0.5;
}

START_TEST(test_call_retry_budget_and_quota)
{
	struct aws_retry r;
	struct aws_call c;

	aws_retry_init(&r, 3);
	aws_retry_set_random(&r, half, NULL);
	ck_assert_int_eq(r.quota, DDB_QUOTA_INITIAL);
	ck_assert_int_eq(r.skew, 0);
	aws_call_begin(&c, &r);
	/* the class decides, then the budget: attempts 1 and 2 may be retried, the 3rd not */
	ck_assert(!aws_call_may_retry(&c, DDB_RETRY_NO, 1));
	ck_assert(aws_call_may_retry(&c, DDB_RETRY_THROTTLE, 1));
	ck_assert(aws_call_may_retry(&c, DDB_RETRY_TRANSIENT, 2));
	ck_assert(!aws_call_may_retry(&c, DDB_RETRY_TRANSIENT, 3));
	/* each retry takes its cost from the client's quota and backs off as ddb_backoff_ms says */
	ck_assert_int_eq(aws_call_backoff(&c, DDB_RETRY_THROTTLE), ddb_backoff_ms(1, 0.5));
	ck_assert_int_eq(r.quota, DDB_QUOTA_INITIAL - DDB_QUOTA_RETRY_COST);
	ck_assert_int_eq(aws_call_backoff(&c, DDB_RETRY_TIMEOUT), ddb_backoff_ms(2, 0.5));
	ck_assert_int_eq(r.quota, DDB_QUOTA_INITIAL - DDB_QUOTA_RETRY_COST - DDB_QUOTA_TIMEOUT_COST);
	/* success gives back what the last retry took */
	aws_call_succeeded(&c);
	ck_assert_int_eq(r.quota, DDB_QUOTA_INITIAL - DDB_QUOTA_RETRY_COST);
	/* a call without retries gives back DDB_QUOTA_SUCCESS, never above the initial quota */
	aws_call_begin(&c, &r);
	aws_call_succeeded(&c);
	ck_assert_int_eq(r.quota, DDB_QUOTA_INITIAL - DDB_QUOTA_RETRY_COST + DDB_QUOTA_SUCCESS);
	r.quota = DDB_QUOTA_INITIAL;
	aws_call_succeeded(&c);
	ck_assert_int_eq(r.quota, DDB_QUOTA_INITIAL);
	/* a quota that cannot pay: no retry, nothing taken */
	aws_call_begin(&c, &r);
	r.quota = DDB_QUOTA_TIMEOUT_COST - 1;
	ck_assert_int_eq(aws_call_backoff(&c, DDB_RETRY_TIMEOUT), -1);
	ck_assert_int_eq(r.quota, DDB_QUOTA_TIMEOUT_COST - 1);
	ck_assert_int_eq(c.retries, 0);
	ck_assert_int_eq(aws_call_backoff(&c, DDB_RETRY_THROTTLE), ddb_backoff_ms(1, 0.5));
	ck_assert_int_eq(r.quota, DDB_QUOTA_TIMEOUT_COST - 1 - DDB_QUOTA_RETRY_COST);
}
END_TEST

START_TEST(test_call_retry_skew_fix_once)
{
	struct aws_retry r;
	struct aws_call c;
	int64_t skew = 0;

	aws_retry_init(&r, 2);
	aws_call_begin(&c, &r);
	/* not a skew: nothing changes */
	ck_assert(!aws_call_fix_skew(&c, 500, "InternalServerError", NULL, D_PLUS_600, NOW, &skew));
	ck_assert_int_eq(r.skew, 0);
	ck_assert_int_eq(c.budget, 2);
	/* a skew: the client signs with it from now on, and the call gets an attempt back */
	ck_assert(aws_call_fix_skew(&c, 400, "InvalidSignatureException", EXPIRED_MSG, D_PLUS_600,
	    NOW, &skew));
	ck_assert_int_eq(skew, 600);
	ck_assert_int_eq(r.skew, 600);
	ck_assert_int_eq(c.budget, 3);
	ck_assert(aws_call_may_retry(&c, DDB_RETRY_TRANSIENT, 2));
	/* once per call, even if the service says so again */
	ck_assert(!aws_call_fix_skew(&c, 403, "InvalidSignatureException", NOT_YET_MSG, D_MINUS_600,
	    NOW, &skew));
	ck_assert_int_eq(r.skew, 600);
	ck_assert_int_eq(c.budget, 3);
	/* the next call may correct it again; the skew is the client's */
	aws_call_begin(&c, &r);
	ck_assert_int_eq(c.budget, 2);
	ck_assert(aws_call_fix_skew(&c, 403, "InvalidSignatureException", NOT_YET_MSG, D_MINUS_600,
	    NOW, &skew));
	ck_assert_int_eq(r.skew, -600);
}
END_TEST

START_TEST(test_crc32)
{
	ck_assert_uint_eq(ddb_crc32("123456789", 9), 0xCBF43926U);
	ck_assert_uint_eq(ddb_crc32("", 0), 0);
	ck_assert_uint_eq(ddb_crc32("{}", 2), 2745614147U);	/* what DynamoDB sends for {} */
}
END_TEST

/* ---------------------------------------------------------------- URLs */

static const struct url_case {
	const char	*url;
	int		 ok;
	const char	*host, *host_header, *path, *query;
	int		 port;
} url_cases[] = {
	{ "http://127.0.0.1:8000/", 1, "127.0.0.1", "127.0.0.1:8000", "/", "", 8000 },
	{ "http://127.0.0.1:8000", 1, "127.0.0.1", "127.0.0.1:8000", "/", "", 8000 },
	{ "https://dynamodb.eu-west-1.amazonaws.com/", 1, "dynamodb.eu-west-1.amazonaws.com",
	  "dynamodb.eu-west-1.amazonaws.com", "/", "", 443 },
	{ "https://h.example:443/a/b?x=1&y", 1, "h.example", "h.example", "/a/b", "x=1&y", 443 },
	{ "http://h.example:80/a", 1, "h.example", "h.example", "/a", "", 80 },
	{ "http://h.example:443/a", 1, "h.example", "h.example:443", "/a", "", 443 },
	{ "http://[::1]:9000/creds", 1, "::1", "[::1]:9000", "/creds", "", 9000 },
	{ "http://[fd00:ec2::23]/v1/credentials", 1, "fd00:ec2::23", "[fd00:ec2::23]",
	  "/v1/credentials", "", 80 },
	{ "http://169.254.170.2/v2/credentials/1f2e?", 1, "169.254.170.2", "169.254.170.2",
	  "/v2/credentials/1f2e", "", 80 },
	/* bad_ */
	{ "ftp://h/x", 0, NULL, NULL, NULL, NULL, 0 },
	{ "http://", 0, NULL, NULL, NULL, NULL, 0 },
	{ "http:///path", 0, NULL, NULL, NULL, NULL, 0 },
	{ "http://user@h/x", 0, NULL, NULL, NULL, NULL, 0 },
	{ "http://h:0/", 0, NULL, NULL, NULL, NULL, 0 },
	{ "http://h:65536/", 0, NULL, NULL, NULL, NULL, 0 },
	{ "http://h:12a/", 0, NULL, NULL, NULL, NULL, 0 },
	{ "http://h:/", 0, NULL, NULL, NULL, NULL, 0 },
	{ "http://h/x#frag", 0, NULL, NULL, NULL, NULL, 0 },
	{ "http://h/a b", 0, NULL, NULL, NULL, NULL, 0 },
	{ "http://[::1/x", 0, NULL, NULL, NULL, NULL, 0 },
	{ "http://[]/x", 0, NULL, NULL, NULL, NULL, 0 },
	{ "http://h%2f/x", 0, NULL, NULL, NULL, NULL, 0 },
	{ NULL, 0, NULL, NULL, NULL, NULL, 0 },
};

START_TEST(test_url_parse)
{
	const struct url_case *c = &url_cases[_i];
	struct transport_url u;
	int rc = transport_url_parse(c->url, &u);

	ck_assert_msg((rc == 0) == c->ok, "case %d (%s): rc %d", _i, c->url ? c->url : "NULL", rc);
	if (!c->ok)
		return;
	ck_assert_str_eq(u.host, c->host);
	ck_assert_str_eq(u.host_header, c->host_header);
	ck_assert_str_eq(u.path, c->path);
	ck_assert_str_eq(u.query, c->query);
	ck_assert_int_eq(u.port, c->port);
}
END_TEST

/* ---------------------------------------------------------------- transport without a server */

/* A loopback port nothing listens on (bound, then closed). */
static int
closed_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	ck_assert_int_ge(fd, 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

START_TEST(test_transport_connect_refused)
{
	struct transport *t = transport_new();
	struct transport_request req;
	struct transport_response resp;
	struct transport_stats st;
	char url[64];

	ck_assert_ptr_nonnull(t);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/", closed_port());
	memset(&req, 0, sizeof req);
	req.method = "GET";
	req.url = url;
	ck_assert_int_eq(transport_perform(t, &req, &resp), -1);
	ck_assert_int_eq(resp.error, TRANSPORT_ERR_CONNECT);
	ck_assert_int_eq(resp.status, 0);
	ck_assert_msg(resp.message[0] != '\0', "no message");
	transport_response_free(&resp);
	transport_stats(t, &st);
	ck_assert_uint_eq(st.calls, 1);
	ck_assert_uint_eq(st.failures, 1);
	transport_free(t);
}
END_TEST

static const struct transport_header crlf_header[] = { { "X-Test", "a\r\nInjected: yes" } };
static const struct transport_header bad_name[] = { { "Bad Name", "v" } };
static const struct transport_header empty_name[] = { { "", "v" } };
static const char some_body[] = "body";

static ssize_t
never_read(void *ctx, void *buf, size_t n)
{
	(void)ctx;
	(void)buf;
	(void)n;
	return -1;
}

static const struct bad_request_case {
	const char			*method;
	const char			*url;
	const struct transport_header	*headers;
	const void			*body;
	size_t				 body_len;
	transport_read_fn		 read;
} bad_requests[] = {
	{ NULL, "http://127.0.0.1:1/", NULL, NULL, 0, NULL },
	{ "GET", NULL, NULL, NULL, 0, NULL },
	{ "GET", "file:///etc/passwd", NULL, NULL, 0, NULL },
	{ "GET", "gopher://127.0.0.1/", NULL, NULL, 0, NULL },
	{ "G ET", "http://127.0.0.1:1/", NULL, NULL, 0, NULL },
	{ "GET", "http://127.0.0.1:1/", crlf_header, NULL, 0, NULL },
	{ "GET", "http://127.0.0.1:1/", bad_name, NULL, 0, NULL },
	{ "GET", "http://127.0.0.1:1/", empty_name, NULL, 0, NULL },
	{ "GET", "http://127.0.0.1:1/", NULL, some_body, 4, NULL },
	{ "PUT", "http://127.0.0.1:1/", NULL, some_body, 4, never_read },
	{ "PUT", "http://127.0.0.1:1/", NULL, NULL, 4, NULL },
};

START_TEST(test_transport_bad_request)
{
	const struct bad_request_case *c = &bad_requests[_i];
	struct transport *t = transport_new();
	struct transport_request req;
	struct transport_response resp;
	struct transport_stats st;

	memset(&req, 0, sizeof req);
	req.method = c->method;
	req.url = c->url;
	req.headers = c->headers;
	req.nheaders = c->headers ? 1 : 0;
	req.body = c->body;
	req.body_len = c->body_len;
	req.read = c->read;
	ck_assert_int_eq(transport_perform(t, &req, &resp), -1);
	ck_assert_int_eq(resp.error, TRANSPORT_ERR_OTHER);
	ck_assert_int_eq(resp.status, 0);
	transport_response_free(&resp);
	transport_stats(t, &st);
	ck_assert_uint_eq(st.connections, 0);	/* nothing was sent */
	transport_free(t);
}
END_TEST

START_TEST(test_transport_free_null)
{
	struct transport_response resp;

	transport_free(NULL);
	transport_response_free(NULL);
	memset(&resp, 0, sizeof resp);
	transport_response_free(&resp);
	ck_assert_ptr_null(transport_response_header(&resp, "Date"));
}
END_TEST

/* ---------------------------------------------------------------- credentials: parsing */

#define GOOD_JSON(exp) "{\"RoleArn\":\"arn:aws:iam::123456789012:role/app\"," \
	"\"AccessKeyId\":\"ASIAEXAMPLE\",\"SecretAccessKey\":\"c2VjcmV0\"," \
	"\"Token\":\"dG9rZW4=\",\"Expiration\":\"" exp "\"}"

static const struct creds_json_case {
	const char	*body;
	int		 ok;
	int64_t		 expiration;
	const char	*why;		/* a piece of the error */
} creds_json_cases[] = {
	{ GOOD_JSON("2026-01-01T06:00:00Z"), 1, NOW + 6 * 3600, NULL },
	{ GOOD_JSON("2026-01-01T06:00:00.123Z"), 1, NOW + 6 * 3600, NULL },
	{ GOOD_JSON("2026-01-01T07:00:00+01:00"), 1, NOW + 6 * 3600, NULL },
	{ GOOD_JSON("2026-01-01t06:00:00z"), 1, NOW + 6 * 3600, NULL },
	{ "  " GOOD_JSON("2026-01-01T00:00:01Z") "\n", 1, NOW + 1, NULL },
	/* bad_ */
	{ "", 0, 0, "empty" },
	{ "not json", 0, 0, "not JSON" },
	{ "[]", 0, 0, "not a JSON object" },
	{ GOOD_JSON("2026-01-01T06:00:00Z") "x", 0, 0, "trailing" },
	{ GOOD_JSON("2026-01-01T06:00:00Z") "{}", 0, 0, "trailing" },
	{ "{\"SecretAccessKey\":\"s\",\"Token\":\"t\",\"Expiration\":\"2026-01-01T06:00:00Z\"}",
	  0, 0, "AccessKeyId missing" },
	{ "{\"AccessKeyId\":\"a\",\"Token\":\"t\",\"Expiration\":\"2026-01-01T06:00:00Z\"}",
	  0, 0, "SecretAccessKey missing" },
	{ "{\"AccessKeyId\":\"a\",\"SecretAccessKey\":\"s\",\"Expiration\":\"2026-01-01T06:00:00Z\"}",
	  0, 0, "Token missing" },
	{ "{\"AccessKeyId\":\"a\",\"SecretAccessKey\":\"s\",\"Token\":\"t\"}", 0, 0,
	  "Expiration missing" },
	{ "{\"AccessKeyId\":12,\"SecretAccessKey\":\"s\",\"Token\":\"t\","
	  "\"Expiration\":\"2026-01-01T06:00:00Z\"}", 0, 0, "AccessKeyId is not a string" },
	{ "{\"AccessKeyId\":null,\"SecretAccessKey\":\"s\",\"Token\":\"t\","
	  "\"Expiration\":\"2026-01-01T06:00:00Z\"}", 0, 0, "AccessKeyId" },
	{ "{\"AccessKeyId\":\"\",\"SecretAccessKey\":\"s\",\"Token\":\"t\","
	  "\"Expiration\":\"2026-01-01T06:00:00Z\"}", 0, 0, "AccessKeyId is empty" },
	{ "{\"AccessKeyId\":\"a\",\"SecretAccessKey\":\"s\",\"Token\":\"t\\r\\nX-Evil: 1\","
	  "\"Expiration\":\"2026-01-01T06:00:00Z\"}", 0, 0, "Token is empty or holds control" },
	{ "{\"AccessKeyId\":\"a\",\"SecretAccessKey\":\"s\\u0000x\",\"Token\":\"t\","
	  "\"Expiration\":\"2026-01-01T06:00:00Z\"}", 0, 0, "SecretAccessKey" },
	{ "{\"AccessKeyId\":\"a\",\"SecretAccessKey\":\"s\",\"Token\":\"t\","
	  "\"Expiration\":1767247200}", 0, 0, "Expiration is not a string" },
	{ GOOD_JSON("2026-01-01 06:00:00Z"), 0, 0, "RFC 3339" },
	{ GOOD_JSON("2026-01-01T06:00:00"), 0, 0, "RFC 3339" },
	{ GOOD_JSON("2026-13-01T06:00:00Z"), 0, 0, "RFC 3339" },
	{ GOOD_JSON("2026-02-29T06:00:00Z"), 0, 0, "RFC 3339" },
	{ GOOD_JSON("2026-01-01T25:00:00Z"), 0, 0, "RFC 3339" },
	{ GOOD_JSON("2026-01-01T06:00:00.Z"), 0, 0, "RFC 3339" },
	{ GOOD_JSON("2026-01-01T06:00:00+1:00"), 0, 0, "RFC 3339" },
	{ GOOD_JSON("tomorrow"), 0, 0, "RFC 3339" },
	{ GOOD_JSON("2026-01-01T00:00:00Z"), 0, 0, "expired" },	/* == now */
	{ GOOD_JSON("2025-12-31T23:00:00Z"), 0, 0, "expired" },
};

START_TEST(test_creds_parse)
{
	const struct creds_json_case *c = &creds_json_cases[_i];
	struct aws_credentials cr;
	char err[256] = "";
	int rc = creds_parse_response(c->body, strlen(c->body), NOW, &cr, err, sizeof err);

	ck_assert_msg((rc == 0) == c->ok, "case %d: rc %d (%s)", _i, rc, err);
	if (c->ok) {
		ck_assert_str_eq(cr.access_key_id, "ASIAEXAMPLE");
		ck_assert_str_eq(cr.secret_access_key, "c2VjcmV0");
		ck_assert_str_eq(cr.session_token, "dG9rZW4=");
		ck_assert_int_eq(cr.expiration, c->expiration);
	} else {
		ck_assert_ptr_null(cr.access_key_id);
		ck_assert_msg(strstr(err, c->why) != NULL, "case %d: error \"%s\" lacks \"%s\"",
		    _i, err, c->why);
		/* the reason never quotes a secret */
		ck_assert_ptr_null(strstr(err, "c2VjcmV0"));
		ck_assert_ptr_null(strstr(err, "dG9rZW4"));
	}
	aws_credentials_clear(&cr);
	ck_assert_ptr_null(cr.secret_access_key);
}
END_TEST

START_TEST(test_credentials_clear_null)
{
	struct aws_credentials c;

	aws_credentials_clear(NULL);
	memset(&c, 0, sizeof c);
	aws_credentials_clear(&c);
	c.access_key_id = xstrdup("a");
	c.secret_access_key = xstrdup("s");
	c.expiration = 5;
	aws_credentials_clear(&c);
	ck_assert_ptr_null(c.access_key_id);
	ck_assert_int_eq(c.expiration, 0);
}
END_TEST

/* ---------------------------------------------------------------- FULL_URI hosts */

static const struct full_uri_case {
	const char	*uri;
	int		 ok;
} full_uri_cases[] = {
	{ "http://127.0.0.1:8080/creds", 1 },
	{ "http://127.9.9.9/x", 1 },
	{ "http://localhost/x", 1 },
	{ "http://LocalHost:1/x", 1 },
	{ "http://[::1]:80/x", 1 },
	{ "http://169.254.170.2/v2/credentials/abc", 1 },
	{ "http://169.254.170.23/v1/credentials", 1 },
	{ "http://[fd00:ec2::23]/v1/credentials", 1 },
	{ "http://[fe80::1]/x", 1 },
	{ "http://169.254.1.1/x", 1 },
	{ "https://127.0.0.1/x", 1 },
	/* bad_: refused at start-up */
	{ "http://example.com/creds", 0 },
	{ "https://sts.amazonaws.com/creds", 0 },	/* the SDKs allow any https; we do not */
	{ "http://10.0.0.1/creds", 0 },
	{ "http://192.168.1.1/creds", 0 },
	{ "http://169.255.0.1/creds", 0 },
	{ "http://128.0.0.1/creds", 0 },
	{ "http://[::2]/creds", 0 },
	{ "http://[fd00:ec2::24]/creds", 0 },
	{ "http://[fec0::1]/creds", 0 },
	{ "http://127.1/creds", 0 },		/* not a dotted quad: a name to resolve */
	{ "http://127.0.0.1.nip.io/creds", 0 },
	{ "http://localhost.example/creds", 0 },
	{ "http://user@127.0.0.1/creds", 0 },
	{ "ftp://127.0.0.1/creds", 0 },
	{ "127.0.0.1/creds", 0 },
	{ "", 0 },
};

START_TEST(test_full_uri_hosts)
{
	const struct full_uri_case *c = &full_uri_cases[_i];
	char err[256] = "";
	int rc = creds_check_full_uri(c->uri, err, sizeof err);

	ck_assert_msg((rc == 0) == c->ok, "case %d (%s): rc %d %s", _i, c->uri, rc, err);
	if (!c->ok)
		ck_assert_msg(err[0] != '\0', "case %d: no reason", _i);
}
END_TEST

/* ---------------------------------------------------------------- credentials: the provider */

struct fake_endpoint {
	int	 calls;
	bool	 fail;
	char	 body[1024];
	char	 url[256];
	char	 auth[256];
	bool	 had_auth;
};

static int
fake_fetch(void *ctx, const char *url, const char *authorization, struct buf *body,
    char *err, size_t errlen)
{
	struct fake_endpoint *f = ctx;

	f->calls++;
	snprintf(f->url, sizeof f->url, "%s", url);
	f->had_auth = authorization != NULL;
	snprintf(f->auth, sizeof f->auth, "%s", authorization ? authorization : "");
	if (f->fail) {
		snprintf(err, errlen, "HTTP 500");
		return -1;
	}
	buf_appends(body, f->body);
	return 0;
}

static void
serve(struct fake_endpoint *f, const char *ak, int64_t expiration)
{
	char when[RFC3339_LEN];

	time_format(expiration, when);
	snprintf(f->body, sizeof f->body, "{\"AccessKeyId\":\"%s\",\"SecretAccessKey\":\"sk-%s\","
	    "\"Token\":\"tok-%s\",\"Expiration\":\"%s\"}", ak, ak, ak, when);
}

/* A provider over lines (NULL-terminated NAME=VALUE); its config and transport are kept for
 * the test and released by provider_done(). */
static struct config prov_cfg;
static struct transport *prov_t;

static struct creds_provider *
provider(const char *const *lines, struct fake_endpoint *f, char *err, size_t errlen)
{
	struct creds_provider *cp;
	struct transport *t;
	char cerr[256];
	const char *all[16];
	size_t n = 0;

	all[n++] = "SESSION_SECRET=" TU_SECRET;
	while (*lines != NULL && n < N_ELEMS(all) - 1)
		all[n++] = *lines++;
	all[n] = NULL;
	ck_assert_msg(tu_config(&prov_cfg, all, cerr, sizeof cerr) == 0, "config: %s", cerr);
	prov_t = t = transport_new();
	cp = creds_provider_new(&prov_cfg, t, err, errlen);
	if (cp != NULL && f != NULL)
		creds_provider_set_fetch(cp, fake_fetch, f);
	return cp;
}

static void
provider_done(struct creds_provider *cp)
{
	creds_provider_free(cp);
	transport_free(prov_t);
	prov_t = NULL;
	config_free(&prov_cfg);
}

static const char *const full_uri_lines[] = {
	"AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:9/creds",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN=Bearer-abc", NULL
};

/* get at now, expecting rc and (if 0) this access key */
#define GET(cp, now, want_rc, want_ak) do {						\
	struct aws_credentials c_;							\
	int rc_ = credentials_get((cp), (now), &c_);					\
	ck_assert_int_eq(rc_, (want_rc));						\
	if (rc_ == 0)									\
		ck_assert_str_eq(c_.access_key_id, (want_ak));				\
	else										\
		ck_assert_ptr_null(c_.access_key_id);					\
	aws_credentials_clear(&c_);							\
} while (0)

START_TEST(test_provider_refresh_window)
{
	struct fake_endpoint f = { 0 };
	char err[256];
	struct creds_provider *cp = provider(full_uri_lines, &f, err, sizeof err);
	int64_t exp = NOW + 3600;

	ck_assert_ptr_nonnull(cp);
	ck_assert_int_eq(creds_provider_source(cp), CREDS_SOURCE_CONTAINER);
	ck_assert(!credentials_usable(cp, NOW));
	ck_assert_int_eq(f.calls, 0);		/* nothing fetched before it is needed */
	serve(&f, "AK1", exp);
	GET(cp, NOW, 0, "AK1");
	ck_assert_int_eq(f.calls, 1);
	ck_assert_str_eq(f.url, "http://127.0.0.1:9/creds");
	ck_assert(f.had_auth);
	ck_assert_str_eq(f.auth, "Bearer-abc");
	ck_assert(credentials_usable(cp, NOW));

	/* cached until 5 minutes before Expiration */
	serve(&f, "AK2", exp + 3600);
	GET(cp, NOW + 1, 0, "AK1");
	GET(cp, exp - CREDS_REFRESH_BEFORE_S - 1, 0, "AK1");
	ck_assert_int_eq(f.calls, 1);
	/* then refreshed */
	GET(cp, exp - CREDS_REFRESH_BEFORE_S, 0, "AK2");
	ck_assert_int_eq(f.calls, 2);
	GET(cp, exp, 0, "AK2");
	ck_assert_int_eq(f.calls, 2);
	provider_done(cp);
}
END_TEST

/* Credentials that come with little time left are refreshed as soon as they enter the window,
 * and ones already inside it are not fetched again on every call. */
START_TEST(test_provider_short_lived_credentials)
{
	struct fake_endpoint f = { 0 };
	char err[256];
	struct creds_provider *cp = provider(full_uri_lines, &f, err, sizeof err);

	ck_assert_ptr_nonnull(cp);
	serve(&f, "AK1", NOW + CREDS_REFRESH_BEFORE_S + 3);
	GET(cp, NOW, 0, "AK1");
	GET(cp, NOW + 2, 0, "AK1");
	ck_assert_int_eq(f.calls, 1);
	serve(&f, "AK2", NOW + CREDS_REFRESH_BEFORE_S + 60);	/* already inside at NOW + 3 + 60 */
	GET(cp, NOW + 3, 0, "AK2");
	ck_assert_int_eq(f.calls, 2);
	GET(cp, NOW + 70, 0, "AK2");
	ck_assert_int_eq(f.calls, 3);
	GET(cp, NOW + 70 + CREDS_RETRY_AFTER_S - 1, 0, "AK2");
	ck_assert_int_eq(f.calls, 3);
	GET(cp, NOW + 70 + CREDS_RETRY_AFTER_S, 0, "AK2");
	ck_assert_int_eq(f.calls, 4);
	provider_done(cp);
}
END_TEST

START_TEST(test_provider_failed_refresh_keeps_unexpired)
{
	struct fake_endpoint f = { 0 };
	char err[256];
	struct creds_provider *cp = provider(full_uri_lines, &f, err, sizeof err);
	int64_t exp = NOW + 3600, t0 = exp - 200;

	ck_assert_ptr_nonnull(cp);
	serve(&f, "AK1", exp);
	GET(cp, NOW, 0, "AK1");
	f.fail = true;
	/* in the window, the endpoint failing: the cached (unexpired) ones are used */
	GET(cp, t0, 0, "AK1");
	ck_assert_int_eq(f.calls, 2);
	/* no new attempt for CREDS_RETRY_AFTER_S */
	GET(cp, t0 + CREDS_RETRY_AFTER_S - 1, 0, "AK1");
	ck_assert_int_eq(f.calls, 2);
	GET(cp, t0 + CREDS_RETRY_AFTER_S, 0, "AK1");
	ck_assert_int_eq(f.calls, 3);
	/* a forced refresh ignores the gap; failing, it keeps the cache */
	ck_assert_int_eq(credentials_refresh(cp, t0 + CREDS_RETRY_AFTER_S + 1), -1);
	ck_assert_int_eq(f.calls, 4);
	ck_assert(credentials_usable(cp, exp - 1));
	GET(cp, exp - 1, 0, "AK1");
	/* the endpoint is back */
	f.fail = false;
	serve(&f, "AK3", exp + 7200);
	ck_assert_int_eq(credentials_refresh(cp, exp - 1), 0);
	GET(cp, exp - 1, 0, "AK3");
	provider_done(cp);
}
END_TEST

START_TEST(test_provider_expired_and_failing_is_an_error)
{
	struct fake_endpoint f = { 0 };
	char err[256];
	struct creds_provider *cp = provider(full_uri_lines, &f, err, sizeof err);
	int64_t exp = NOW + 3600;
	int calls;

	ck_assert_ptr_nonnull(cp);
	serve(&f, "AK1", exp);
	GET(cp, NOW, 0, "AK1");
	f.fail = true;
	GET(cp, exp, -1, NULL);			/* expired, refresh failed */
	ck_assert(!credentials_usable(cp, exp));
	calls = f.calls;
	GET(cp, exp, -1, NULL);			/* within the short gap: no new fetch */
	ck_assert_int_eq(f.calls, calls);
	GET(cp, exp + CREDS_RETRY_AFTER_EXPIRED_S, -1, NULL);
	ck_assert_int_eq(f.calls, calls + 1);
	/* the endpoint answering expired credentials is a failure too */
	f.fail = false;
	serve(&f, "AK2", exp);
	GET(cp, exp + 10, -1, NULL);
	/* and the first fetch failing leaves nothing */
	provider_done(cp);
	memset(&f, 0, sizeof f);
	f.fail = true;
	cp = provider(full_uri_lines, &f, err, sizeof err);
	GET(cp, NOW, -1, NULL);
	ck_assert_int_eq(f.calls, 1);
	provider_done(cp);
}
END_TEST

START_TEST(test_provider_malformed_answer_is_a_failed_refresh)
{
	struct fake_endpoint f = { 0 };
	char err[256];
	struct creds_provider *cp = provider(full_uri_lines, &f, err, sizeof err);
	int64_t exp = NOW + 3600;

	serve(&f, "AK1", exp);
	GET(cp, NOW, 0, "AK1");
	snprintf(f.body, sizeof f.body, "{\"AccessKeyId\":\"AK2\",\"SecretAccessKey\":\"s\","
	    "\"Token\":\"t\",\"Expiration\":\"soon\"}");
	GET(cp, exp - 60, 0, "AK1");	/* kept */
	ck_assert_int_eq(f.calls, 2);
	GET(cp, exp, -1, NULL);
	provider_done(cp);
}
END_TEST

START_TEST(test_provider_token_file_reread)
{
	struct fake_endpoint f = { 0 };
	char err[256], line[512];
	const char *lines[4];
	struct creds_provider *cp;
	FILE *fp;

	tu_tmpdir_make();
	snprintf(line, sizeof line, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=%s", tu_path("token"));
	lines[0] = "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://169.254.170.23/v1/credentials";
	lines[1] = "AWS_CONTAINER_AUTHORIZATION_TOKEN=ignored-when-a-file-is-set";
	lines[2] = line;
	lines[3] = NULL;
	cp = provider(lines, &f, err, sizeof err);
	ck_assert_ptr_nonnull(cp);
	fp = fopen(tu_path("token"), "w");
	fputs("token-one\n", fp);
	fclose(fp);
	serve(&f, "AK1", NOW + 3600);
	GET(cp, NOW, 0, "AK1");
	ck_assert_str_eq(f.auth, "token-one");
	/* rotated by the agent: read again at the next refresh */
	fp = fopen(tu_path("token"), "w");
	fputs("token-two", fp);
	fclose(fp);
	ck_assert_int_eq(credentials_refresh(cp, NOW + 1), 0);
	ck_assert_str_eq(f.auth, "token-two");
	/* gone: the refresh fails before asking the endpoint */
	unlink(tu_path("token"));
	ck_assert_int_eq(credentials_refresh(cp, NOW + 2), -1);
	ck_assert_int_eq(f.calls, 2);
	/* bad_: empty, or a CR/LF inside */
	fp = fopen(tu_path("token"), "w");
	fputs("\n\n", fp);
	fclose(fp);
	ck_assert_int_eq(credentials_refresh(cp, NOW + 3), -1);
	fp = fopen(tu_path("token"), "w");
	fputs("a\r\nX-Evil: 1", fp);
	fclose(fp);
	ck_assert_int_eq(credentials_refresh(cp, NOW + 4), -1);
	ck_assert_int_eq(f.calls, 2);
	GET(cp, NOW + 5, 0, "AK1");	/* still the cached ones */
	provider_done(cp);
	tu_tmpdir_remove();
}
END_TEST

START_TEST(test_provider_relative_uri_and_no_token)
{
	static const char *const lines[] = {
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/7f1d-uuid",
		/* RELATIVE wins over FULL, as in the SDKs */
		"AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:1/other", NULL
	};
	struct fake_endpoint f = { 0 };
	char err[256];
	struct creds_provider *cp = provider(lines, &f, err, sizeof err);

	ck_assert_ptr_nonnull(cp);
	ck_assert_str_eq(creds_provider_url(cp), "http://169.254.170.2/v2/credentials/7f1d-uuid");
	serve(&f, "AK1", NOW + 3600);
	GET(cp, NOW, 0, "AK1");
	ck_assert(!f.had_auth);
	provider_done(cp);
}
END_TEST

START_TEST(test_provider_env_keys)
{
	static const char *const lines[] = {
		"AWS_ACCESS_KEY_ID=AKIDENV", "AWS_SECRET_ACCESS_KEY=secret-env",
		"AWS_SESSION_TOKEN=token-env",
		/* environment keys come first in the chain */
		"AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:1/creds", NULL
	};
	struct fake_endpoint f = { 0 };
	struct aws_credentials c;
	char err[256];
	struct creds_provider *cp = provider(lines, &f, err, sizeof err);

	ck_assert_ptr_nonnull(cp);
	ck_assert_int_eq(creds_provider_source(cp), CREDS_SOURCE_ENV);
	ck_assert_ptr_null(creds_provider_url(cp));
	ck_assert_int_eq(credentials_get(cp, NOW + 100 * TU_DAY, &c), 0);
	ck_assert_str_eq(c.access_key_id, "AKIDENV");
	ck_assert_str_eq(c.secret_access_key, "secret-env");
	ck_assert_str_eq(c.session_token, "token-env");
	ck_assert_int_eq(c.expiration, 0);
	aws_credentials_clear(&c);
	ck_assert_int_eq(credentials_refresh(cp, NOW), -1);	/* nothing to refresh */
	ck_assert(credentials_usable(cp, NOW));
	ck_assert_int_eq(f.calls, 0);
	provider_done(cp);
	creds_provider_free(NULL);
}
END_TEST

static const struct provider_bad_case {
	const char	*lines[3];
	const char	*why;
} provider_bad_cases[] = {
	{ { NULL }, "AWS_ACCESS_KEY_ID" },
	{ { "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://example.com/creds", NULL },
	  "AWS_CONTAINER_CREDENTIALS_FULL_URI: host \"example.com\"" },
	{ { "AWS_CONTAINER_CREDENTIALS_FULL_URI=https://10.1.2.3/creds", NULL },
	  "AWS_CONTAINER_CREDENTIALS_FULL_URI: host" },
	{ { "AWS_CONTAINER_CREDENTIALS_FULL_URI=not a url", NULL },
	  "AWS_CONTAINER_CREDENTIALS_FULL_URI: not an http(s)" },
	{ { "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=v2/credentials/x", NULL },
	  "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI" },
	{ { "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/a b", NULL },
	  "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI" },
	{ { "AWS_CONTAINER_AUTHORIZATION_TOKEN=only-a-token", NULL }, "AWS_ACCESS_KEY_ID" },
};

START_TEST(test_provider_bad_config)
{
	const struct provider_bad_case *c = &provider_bad_cases[_i];
	char err[256] = "";
	struct creds_provider *cp = provider(c->lines, NULL, err, sizeof err);

	ck_assert_ptr_null(cp);
	ck_assert_msg(strstr(err, c->why) != NULL, "case %d: \"%s\" lacks \"%s\"", _i, err, c->why);
	provider_done(NULL);
}
END_TEST

/* ---------------------------------------------------------------- the DynamoDB handle */

static struct ddb *
make_ddb(const char *const *extra, struct creds_provider **cpp, struct transport **tp,
    char *err, size_t errlen)
{
	const char *all[12];
	char cerr[256];
	size_t n = 0;

	all[n++] = "SESSION_SECRET=" TU_SECRET;
	all[n++] = "AWS_ACCESS_KEY_ID=AKIDEXAMPLE";
	all[n++] = "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
	while (extra && *extra && n < N_ELEMS(all) - 1)
		all[n++] = *extra++;
	all[n] = NULL;
	ck_assert_msg(tu_config(&prov_cfg, all, cerr, sizeof cerr) == 0, "config: %s", cerr);
	*tp = transport_new();
	*cpp = creds_provider_new(&prov_cfg, *tp, cerr, sizeof cerr);
	ck_assert_ptr_nonnull(*cpp);
	return ddb_new(&prov_cfg, *tp, *cpp, NULL, err, errlen);
}

static const struct endpoint_case {
	const char	*lines[3];
	const char	*url;		/* NULL: refused */
} endpoint_cases[] = {
	{ { "AWS_REGION=eu-west-1", NULL }, "https://dynamodb.eu-west-1.amazonaws.com/" },
	{ { "AWS_REGION=cn-north-1", NULL }, "https://dynamodb.cn-north-1.amazonaws.com.cn/" },
	{ { "AWS_REGION=us-east-1", "AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000/", NULL },
	  "http://127.0.0.1:8000/" },
	{ { "AWS_REGION=us-east-1", "AWS_ENDPOINT_URL_DYNAMODB=http://[::1]:8000/base", NULL },
	  "http://[::1]:8000/base/" },
	/* bad_ */
	{ { NULL }, NULL },
	{ { "AWS_REGION=EU_WEST_1", NULL }, NULL },
	{ { "AWS_REGION=eu-west-1/x", NULL }, NULL },
	{ { "AWS_REGION=us-east-1", "AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:99999", NULL }, NULL },
};

START_TEST(test_ddb_endpoints)
{
	const struct endpoint_case *c = &endpoint_cases[_i];
	struct creds_provider *cp;
	struct transport *t;
	char err[256] = "";
	struct ddb *d = make_ddb(c->lines, &cp, &t, err, sizeof err);

	if (c->url == NULL) {
		ck_assert_ptr_null(d);
		ck_assert_msg(strstr(err, "AWS_") != NULL, "case %d: %s", _i, err);
	} else {
		ck_assert_msg(d != NULL, "case %d: %s", _i, err);
		ck_assert_str_eq(ddb_endpoint(d), c->url);
		ck_assert_int_eq(ddb_skew(d), 0);
		ck_assert_int_eq(ddb_retry_quota(d), DDB_QUOTA_INITIAL);
	}
	ddb_free(d);
	creds_provider_free(cp);
	transport_free(t);
	config_free(&prov_cfg);
}
END_TEST

struct sleeps {
	int	n;
	int64_t	ms[8];
};

static void
record_sleep(void *ctx, int64_t ms)
{
	struct sleeps *s = ctx;

	if (s->n < 8)
		s->ms[s->n] = ms;
	s->n++;
}

static double
fixed_random(void *ctx)
{
	return *(double *)ctx;
}

/* The retry loop against a port that refuses connections: 3 attempts, two backoffs drawn
 * from the injected random source, quota spent, one "unavailable" error. */
START_TEST(test_ddb_retries_unreachable)
{
	char line[128], err[256];
	const char *lines[3];
	struct creds_provider *cp;
	struct transport *t;
	struct transport_stats st;
	struct sleeps s = { 0 };
	struct ddb_error e;
	json_object *req, *resp = (json_object *)&e;	/* not NULL: must be overwritten */
	double r = 0.25;
	struct ddb *d;

	snprintf(line, sizeof line, "AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:%d", closed_port());
	lines[0] = "AWS_REGION=us-east-1";
	lines[1] = line;
	lines[2] = NULL;
	d = make_ddb(lines, &cp, &t, err, sizeof err);
	ck_assert_ptr_nonnull(d);
	ddb_set_random(d, fixed_random, &r);
	ddb_set_sleep(d, record_sleep, &s);
	req = json_object_new_object();
	json_object_object_add(req, "TableName", json_object_new_string("t"));
	ck_assert_int_eq(ddb_op(d, "GetItem", req, &resp, &e), -1);
	ck_assert_ptr_null(resp);
	ck_assert_int_eq(e.kind, DDB_ERR_UNAVAILABLE);
	ck_assert_int_eq(e.transport, TRANSPORT_ERR_CONNECT);
	ck_assert_int_eq(e.attempts, DDB_MAX_ATTEMPTS);
	ck_assert_int_eq(s.n, 2);
	ck_assert_int_eq(s.ms[0], ddb_backoff_ms(1, r));	/* 250 */
	ck_assert_int_eq(s.ms[1], ddb_backoff_ms(2, r));	/* 500 */
	ck_assert_int_eq(ddb_retry_quota(d), DDB_QUOTA_INITIAL - 2 * DDB_QUOTA_RETRY_COST);
	transport_stats(t, &st);
	ck_assert_uint_eq(st.calls, 3);
	json_object_put(req);
	ddb_free(d);
	creds_provider_free(cp);
	transport_free(t);
	config_free(&prov_cfg);
}
END_TEST

START_TEST(test_ddb_retry_quota_runs_out)
{
	char line[128], err[256];
	const char *lines[3];
	struct creds_provider *cp;
	struct transport *t;
	struct sleeps s = { 0 };
	struct ddb_error e;
	json_object *resp;
	double r = 0.0;
	struct ddb *d;
	int i;

	snprintf(line, sizeof line, "AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:%d", closed_port());
	lines[0] = "AWS_REGION=us-east-1";
	lines[1] = line;
	lines[2] = NULL;
	d = make_ddb(lines, &cp, &t, err, sizeof err);
	ddb_set_random(d, fixed_random, &r);
	ddb_set_sleep(d, record_sleep, &s);
	for (i = 0; i < DDB_QUOTA_INITIAL / (2 * DDB_QUOTA_RETRY_COST); i++)
		ck_assert_int_eq(ddb_op(d, "GetItem", NULL, &resp, &e), -1);
	ck_assert_int_eq(ddb_retry_quota(d), 0);
	/* no quota left: one attempt, no retry */
	ck_assert_int_eq(ddb_op(d, "GetItem", NULL, &resp, &e), -1);
	ck_assert_int_eq(e.attempts, 1);
	ck_assert_int_eq(e.kind, DDB_ERR_UNAVAILABLE);
	ddb_free(d);
	creds_provider_free(cp);
	transport_free(t);
	config_free(&prov_cfg);
}
END_TEST

START_TEST(test_ddb_bad_operation_names)
{
	static const char *const lines[] = { "AWS_REGION=us-east-1",
	    "AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:1", NULL };
	struct creds_provider *cp;
	struct transport *t;
	struct transport_stats st;
	struct ddb_error e;
	json_object *resp;
	char err[256];
	struct ddb *d = make_ddb(lines, &cp, &t, err, sizeof err);

	ck_assert_int_eq(ddb_op(d, "", NULL, &resp, &e), -1);
	ck_assert_int_eq(e.kind, DDB_ERR_VALIDATION);
	ck_assert_int_eq(ddb_op(d, "Put-Item", NULL, &resp, &e), -1);
	ck_assert_int_eq(ddb_op(d, "PutItem\r\nX: y", NULL, &resp, &e), -1);
	ck_assert_int_eq(ddb_op(d, "DynamoDB_20120810.PutItem", NULL, &resp, &e), -1);
	ck_assert_int_eq(e.attempts, 0);
	transport_stats(t, &st);
	ck_assert_uint_eq(st.calls, 0);
	ddb_free(d);
	ddb_free(NULL);
	creds_provider_free(cp);
	transport_free(t);
	config_free(&prov_cfg);
}
END_TEST

/* No usable credentials: an auth error before anything is sent. */
START_TEST(test_ddb_without_credentials)
{
	const char *all[] = { "SESSION_SECRET=" TU_SECRET, "AWS_REGION=us-east-1",
	    "AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:1",
	    "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:1/creds", NULL };
	struct fake_endpoint f = { .fail = true };
	struct creds_provider *cp;
	struct transport *t;
	struct transport_stats st;
	struct ddb_error e;
	json_object *resp;
	char err[256];
	struct ddb *d;

	ck_assert_int_eq(tu_config(&prov_cfg, all, err, sizeof err), 0);
	t = transport_new();
	cp = creds_provider_new(&prov_cfg, t, err, sizeof err);
	creds_provider_set_fetch(cp, fake_fetch, &f);
	d = ddb_new(&prov_cfg, t, cp, NULL, err, sizeof err);
	ck_assert_int_eq(ddb_op(d, "GetItem", NULL, &resp, &e), -1);
	ck_assert_int_eq(e.kind, DDB_ERR_AUTH);
	ck_assert_int_eq(e.attempts, 1);
	ck_assert_int_eq(f.calls, 1);
	transport_stats(t, &st);
	ck_assert_uint_eq(st.calls, 0);
	ddb_free(d);
	creds_provider_free(cp);
	transport_free(t);
	config_free(&prov_cfg);
}
END_TEST

/* ---------------------------------------------------------------- attribute values */

START_TEST(test_av_builders)
{
	json_object *item = json_object_new_object();

	ddb_item_set_s(item, "user_id", "u-1");
	ddb_item_set_n(item, "n", -42);
	ddb_item_set_n(item, "big", INT64_MAX);
	ddb_item_set_bool(item, "trial_used", true);
	ddb_item_set_null(item, "gone");
	ddb_item_set(item, "s2", ddb_av_s("a\"b/\xc3\xa9"));
	ck_assert_str_eq(json_object_to_json_string_ext(item, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE),
	    "{\"user_id\":{\"S\":\"u-1\"},\"n\":{\"N\":\"-42\"},\"big\":{\"N\":\"9223372036854775807\"},"
	    "\"trial_used\":{\"BOOL\":true},\"gone\":{\"NULL\":true},\"s2\":{\"S\":\"a\\\"b/\xc3\xa9\"}}");
	ddb_item_set_s(item, "user_id", "u-2");		/* replaces */
	ck_assert_str_eq(ddb_item_s(item, "user_id"), "u-2");
	json_object_put(item);
}
END_TEST

START_TEST(test_av_readers)
{
	const char *text = "{\"s\":{\"S\":\"x\"},\"n\":{\"N\":\"-17\"},\"f\":{\"N\":\"1.5\"},"
	    "\"e\":{\"N\":\"1e3\"},\"huge\":{\"N\":\"9223372036854775808\"},\"b\":{\"BOOL\":false},"
	    "\"z\":{\"NULL\":true},\"two\":{\"S\":\"x\",\"N\":\"1\"},\"ns\":{\"N\":17},"
	    "\"bs\":{\"BOOL\":\"true\"},\"flat\":\"x\",\"l\":{\"L\":[]}}";
	json_object *item = json_tokener_parse(text);
	int64_t n = 99;
	bool b = true;

	ck_assert_ptr_nonnull(item);
	ck_assert_str_eq(ddb_item_s(item, "s"), "x");
	ck_assert_int_eq(ddb_item_n(item, "n", &n), 0);
	ck_assert_int_eq(n, -17);
	ck_assert_int_eq(ddb_item_bool(item, "b", &b), 0);
	ck_assert(!b);
	ck_assert(ddb_item_is_null(item, "z"));
	ck_assert(ddb_item_has(item, "l"));
	/* bad_: absent, another type, not an integer, out of range, malformed values */
	n = 99;
	ck_assert_ptr_null(ddb_item_s(item, "missing"));
	ck_assert_ptr_null(ddb_item_s(item, "n"));
	ck_assert_ptr_null(ddb_item_s(item, "two"));
	ck_assert_ptr_null(ddb_item_s(item, "flat"));
	ck_assert_int_eq(ddb_item_n(item, "s", &n), -1);
	ck_assert_int_eq(ddb_item_n(item, "f", &n), -1);
	ck_assert_int_eq(ddb_item_n(item, "e", &n), -1);
	ck_assert_int_eq(ddb_item_n(item, "huge", &n), -1);
	ck_assert_int_eq(ddb_item_n(item, "ns", &n), -1);
	ck_assert_int_eq(ddb_item_n(item, "missing", &n), -1);
	ck_assert_int_eq(n, 99);
	ck_assert_int_eq(ddb_item_bool(item, "bs", &b), -1);
	ck_assert_int_eq(ddb_item_bool(item, "s", &b), -1);
	ck_assert(!ddb_item_is_null(item, "s"));
	ck_assert(!ddb_item_is_null(item, "missing"));
	ck_assert(!ddb_item_has(item, "missing"));
	ck_assert_ptr_null(ddb_item_s(NULL, "s"));
	ck_assert(!ddb_item_has(NULL, "s"));
	json_object_put(item);
}
END_TEST

static Suite *
aws_suite(void)
{
	Suite *s = suite_create("aws");
	TCase *tc;

	tc = tcase_create("retry");
	tcase_add_loop_test(tc, test_retry_classify, 0, N_ELEMS(retry_cases));
	tcase_add_test(tc, test_creds_refused_names);
	tcase_add_test(tc, test_reason_codes);
	tcase_add_loop_test(tc, test_backoff_table, 0, N_ELEMS(backoff_cases));
	tcase_add_test(tc, test_backoff_full_jitter_bounds);
	tcase_add_test(tc, test_call_retry_budget_and_quota);
	tcase_add_test(tc, test_call_retry_skew_fix_once);
	suite_add_tcase(s, tc);

	tc = tcase_create("skew");
	tcase_add_loop_test(tc, test_http_date, 0, N_ELEMS(date_cases));
	tcase_add_loop_test(tc, test_skew_detect, 0, N_ELEMS(skew_cases));
	tcase_add_test(tc, test_crc32);
	suite_add_tcase(s, tc);

	tc = tcase_create("transport");
	tcase_set_timeout(tc, TU_TIMEOUT);
	tcase_add_loop_test(tc, test_url_parse, 0, N_ELEMS(url_cases));
	tcase_add_test(tc, test_transport_connect_refused);
	tcase_add_loop_test(tc, test_transport_bad_request, 0, N_ELEMS(bad_requests));
	tcase_add_test(tc, test_transport_free_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("credentials");
	tcase_set_timeout(tc, TU_TIMEOUT);
	tcase_add_loop_test(tc, test_creds_parse, 0, N_ELEMS(creds_json_cases));
	tcase_add_test(tc, test_credentials_clear_null);
	tcase_add_loop_test(tc, test_full_uri_hosts, 0, N_ELEMS(full_uri_cases));
	tcase_add_test(tc, test_provider_refresh_window);
	tcase_add_test(tc, test_provider_short_lived_credentials);
	tcase_add_test(tc, test_provider_failed_refresh_keeps_unexpired);
	tcase_add_test(tc, test_provider_expired_and_failing_is_an_error);
	tcase_add_test(tc, test_provider_malformed_answer_is_a_failed_refresh);
	tcase_add_test(tc, test_provider_token_file_reread);
	tcase_add_test(tc, test_provider_relative_uri_and_no_token);
	tcase_add_test(tc, test_provider_env_keys);
	tcase_add_loop_test(tc, test_provider_bad_config, 0, N_ELEMS(provider_bad_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("dynamodb");
	tcase_set_timeout(tc, TU_TIMEOUT);
	tcase_add_loop_test(tc, test_ddb_endpoints, 0, N_ELEMS(endpoint_cases));
	tcase_add_test(tc, test_ddb_retries_unreachable);
	tcase_add_test(tc, test_ddb_retry_quota_runs_out);
	tcase_add_test(tc, test_ddb_bad_operation_names);
	tcase_add_test(tc, test_ddb_without_credentials);
	tcase_add_test(tc, test_av_builders);
	tcase_add_test(tc, test_av_readers);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(aws_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
