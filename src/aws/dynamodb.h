/*
 * dynamodb: the DynamoDB JSON-protocol client. One call is POST / to the regional endpoint
 * (https://dynamodb.<region>.amazonaws.com, or AWS_ENDPOINT_URL_DYNAMODB) with
 * X-Amz-Target: DynamoDB_20120810.<Op>, Content-Type: application/x-amz-json-1.0, the request
 * serialised from a json-c object, SigV4-signed (service "dynamodb") with the credentials of the
 * provider, a new signature (and date) for every attempt; the answer is parsed into a json-c
 * object.
 *
 * THE NAMING CONTRACT. Every DynamoDB call in the code base is a ddb_op() call whose second
 * argument is the operation's name as a string literal at the call site: the Terraform tests
 * derive the task role's IAM actions from those literals (regex ddb_op\([^,]+,\s*"([A-Za-z]+)"
 * over src/). The macro below refuses anything but a literal at compile time. Do not wrap
 * ddb_op() in a helper that takes the operation as a parameter, and do not write "ddb_op(x,"
 * followed by a quoted name in comments of src/ files for operations the code does not call.
 *
 * Retries (the SDKs' "standard" mode, as botocore implements it): at most DDB_MAX_ATTEMPTS
 * attempts in all, for throttling errors, 5xx, the transient error names, timeouts, connection
 * failures and resets, and answers whose x-amz-crc32 does not match; before attempt n+1 a sleep
 * of random[0,1) * 2^(n-1) s, capped at 20 s (full jitter), and a retry quota shared by all
 * calls of the handle (500 units; a retry costs 5, after a timeout 10; a success gives back 1,
 * or what its retries took). Never retried: ConditionalCheckFailedException,
 * TransactionCanceledException, validation and other client errors.
 *
 * Two more attempts may be added, once each per call and outside that count: after
 * InvalidSignatureException "Signature expired" / "Signature not yet current" (or any
 * signature/authentication refusal whose Date header is more than DDB_SKEW_LIMIT_S from our
 * clock), the clock skew is computed from the response's Date header, applied to every later
 * signature of the handle, and the call is signed again; after the service refuses the
 * credentials themselves (UnrecognizedClientException, ExpiredTokenException, ...) and they
 * came from the container endpoint, they are refreshed at once and the call is signed again.
 *
 * A caution for writers of conditional writes: a timeout or reset may come after the service
 * applied the write, so a retried conditional PutItem can fail its own condition. Callers that
 * care read the item back (the retry is still right for everything else).
 *
 * Logging: each failed call is logged once (warn; conditional failures at debug, cancelled
 * transactions at info) with the operation, the attempts, the HTTP status, the __type, the
 * first line of the message and x-amzn-RequestId. Request and response bodies (they hold
 * password hashes) and headers (Authorization, security token) are never logged.
 *
 * Ownership: struct ddb borrows the transport and the credentials provider, which must outlive
 * it. Requests are borrowed. *response is always set: NULL or an object the caller releases
 * with json_object_put(): the answer on success; on DDB_ERR_CONDITIONAL and DDB_ERR_TXN_CANCELED
 * the error body (for the Item of ReturnValuesOnConditionCheckFailure, or
 * CancellationReasons[i].Item); NULL on other failures (their bodies may quote the canonical
 * request, security token included).
 */
#ifndef FS_AWS_DYNAMODB_H
#define FS_AWS_DYNAMODB_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "aws/transport.h"

struct config;
struct creds_provider;
struct ddb;

#define DDB_TARGET_PREFIX	"DynamoDB_20120810."
#define DDB_CONTENT_TYPE	"application/x-amz-json-1.0"
#define DDB_MAX_ATTEMPTS	3
#define DDB_BACKOFF_BASE_MS	1000	/* botocore's standard mode: random * 2^(n-1) seconds */
#define DDB_BACKOFF_CAP_MS	20000
#define DDB_QUOTA_INITIAL	500
#define DDB_QUOTA_RETRY_COST	5
#define DDB_QUOTA_TIMEOUT_COST	10
#define DDB_QUOTA_SUCCESS	1
#define DDB_SKEW_LIMIT_S	240	/* a Date further than this from ours is a skewed clock */
#define DDB_CONNECT_TIMEOUT_MS	2000L
#define DDB_TIMEOUT_MS		10000L
#define DDB_MAX_RESPONSE	(32 * 1024 * 1024)	/* BatchGetItem answers reach 16 MB */
#define DDB_MAX_REASONS		100	/* TransactWriteItems' limit on actions */

enum ddb_errkind {
	DDB_OK = 0,
	DDB_ERR_CONDITIONAL,	/* ConditionalCheckFailedException (never retried) */
	DDB_ERR_TXN_CANCELED,	/* TransactionCanceledException: see reasons[] */
	DDB_ERR_VALIDATION,	/* ValidationException, SerializationException, bad request */
	DDB_ERR_NOT_FOUND,	/* ResourceNotFoundException (no such table or index) */
	DDB_ERR_THROTTLED,	/* still throttled after the retries (or out of retry quota) */
	DDB_ERR_UNAVAILABLE,	/* transport failure or 5xx after the retries */
	DDB_ERR_AUTH,		/* credentials refused, bad signature, access denied, no credentials */
	DDB_ERR_OTHER,		/* any other __type (ResourceInUseException, ...); see type */
};

/* One entry of TransactionCanceledException's CancellationReasons, in action order. */
enum ddb_reason {
	DDB_REASON_NONE = 0,		/* "None": this action was fine */
	DDB_REASON_CONDITIONAL,		/* "ConditionalCheckFailed" */
	DDB_REASON_CONFLICT,		/* "TransactionConflict" */
	DDB_REASON_THROTTLED,		/* "ProvisionedThroughputExceeded", "ThrottlingError" */
	DDB_REASON_VALIDATION,		/* "ValidationError" */
	DDB_REASON_OTHER,		/* "ItemCollectionSizeLimitExceeded", ... */
};

struct ddb_error {
	enum ddb_errkind kind;
	int		 status;		/* last HTTP status; 0 if none arrived */
	enum transport_error transport;		/* last transport failure, if that was it */
	char		 type[96];		/* __type after '#', "" if none */
	char		 message[256];		/* first line of the message (or curl's) */
	char		 request_id[80];	/* x-amzn-RequestId of the last answer */
	int		 attempts;		/* requests sent */
	size_t		 nreasons;		/* DDB_ERR_TXN_CANCELED: CancellationReasons */
	enum ddb_reason	 reasons[DDB_MAX_REASONS];
};

struct ddb_options {
	long	connect_timeout_ms;	/* 0: DDB_CONNECT_TIMEOUT_MS */
	long	timeout_ms;		/* per attempt; 0: DDB_TIMEOUT_MS */
	int	max_attempts;		/* 0: DDB_MAX_ATTEMPTS */
};

/*
 * A client for cfg->aws_region (required) at cfg->dynamodb_endpoint or the regional endpoint.
 * t and creds are borrowed. opts may be NULL. NULL with one line in err on a bad setting.
 */
struct ddb *ddb_new(const struct config *cfg, struct transport *t, struct creds_provider *creds,
	    const struct ddb_options *opts, char *err, size_t errlen);
void	ddb_free(struct ddb *);		/* NULL is a no-op */

/*
 * One DynamoDB operation (see the contract above). request: the operation's input (borrowed;
 * NULL sends {}). err need not be initialised; it is filled on failure and zeroed (kind
 * DDB_OK, attempts set) on success. Returns 0 or -1.
 */
int	(ddb_op)(struct ddb *, const char *op, json_object *request, json_object **response,
	    struct ddb_error *err);
/* Pasting "" to op only compiles when op is a string literal. */
#define ddb_op(d, op, request, response, err) (ddb_op)((d), "" op "", (request), (response), (err))

/* Where calls go: "http://127.0.0.1:8000/" or "https://dynamodb.eu-west-1.amazonaws.com/". */
const char *ddb_endpoint(const struct ddb *);
/* The clock correction in use (seconds to add to our clock when signing); 0 at first. */
int64_t	ddb_skew(const struct ddb *);
int	ddb_retry_quota(const struct ddb *);
/* Test hooks: the random source of the backoff ([0,1)), and the sleep (milliseconds). */
void	ddb_set_random(struct ddb *, double (*rnd)(void *ctx), void *ctx);
void	ddb_set_sleep(struct ddb *, void (*sleep_ms)(void *ctx, int64_t ms), void *ctx);

const char *ddb_errkind_name(enum ddb_errkind);	/* "conditional", "throttled", ... */

/* ------------------------------------------------------------------ pure parts, for tests */

enum ddb_retry_class {
	DDB_RETRY_NO = 0,
	DDB_RETRY_THROTTLE,	/* a throttling error name */
	DDB_RETRY_TRANSIENT,	/* 5xx, transient error names, transport failures */
	DDB_RETRY_TIMEOUT,	/* a transient timeout (costs more retry quota) */
};

/* How an attempt's outcome is retried: terr (TRANSPORT_OK when an answer arrived), the HTTP
 * status and the __type after '#' ("" or NULL if none). Success (2xx) is DDB_RETRY_NO. */
enum ddb_retry_class ddb_retry_classify(enum transport_error terr, int status, const char *type);
/* The kind of a final failure: what ddb_op reports after its attempts. */
enum ddb_errkind ddb_error_kind(enum transport_error terr, int status, const char *type);
/* The sleep before attempt failed+1, in ms: min(r * DDB_BACKOFF_BASE_MS * 2^(failed-1), cap),
 * for failed >= 1 and r in [0,1) (clamped). */
int64_t	ddb_backoff_ms(int failed, double r);
/*
 * Whether an error answer shows a skewed clock, and the skew to use then: the server's Date
 * minus our own clock (now_s, uncorrected). type is the __type after '#', message its message,
 * date the Date header (NULL if absent), current the skew in use. Returns true and *skew when
 * the error says the signature expired or is not yet current, or when an auth-type refusal
 * comes with a Date more than DDB_SKEW_LIMIT_S away from now_s + current; false otherwise (or
 * without a usable Date, or if the new skew is within 1 s of the current one).
 */
bool	ddb_skew_detect(int status, const char *type, const char *message, const char *date,
	    int64_t now_s, int64_t current, int64_t *skew);
/* Whether __type names refused credentials that a refresh may cure. */
bool	ddb_creds_refused(const char *type);
/* CRC32 (IEEE, zlib's) of the bytes, to check x-amz-crc32. */
uint32_t ddb_crc32(const void *p, size_t n);
/* CancellationReasons' Code to the enum. NULL or "None" is DDB_REASON_NONE. */
enum ddb_reason ddb_reason_from_code(const char *code);

/* ------------------------------------------------------------------ attribute values */

/*
 * Building and reading DynamoDB-JSON attribute values. Builders return a new object the caller
 * owns (or hands to json_object_object_add, which takes it over). Readers take an item (a JSON
 * object of attribute name -> attribute value) and never fail loudly: a missing attribute or
 * one of another type is NULL / -1 / false.
 */
json_object *ddb_av_s(const char *s);			/* {"S": s} (s not NULL) */
json_object *ddb_av_n(int64_t n);			/* {"N": "123"} */
json_object *ddb_av_bool(bool b);			/* {"BOOL": b} */
json_object *ddb_av_null(void);				/* {"NULL": true} */
/* item[name] = av (takes av over; replaces an existing one). */
void	ddb_item_set(json_object *item, const char *name, json_object *av);
void	ddb_item_set_s(json_object *item, const char *name, const char *s);
void	ddb_item_set_n(json_object *item, const char *name, int64_t n);
void	ddb_item_set_bool(json_object *item, const char *name, bool b);
void	ddb_item_set_null(json_object *item, const char *name);

/* The string of item[name]'s "S", or NULL. Valid while the item lives. */
const char *ddb_item_s(json_object *item, const char *name);
/* item[name]'s "N" as an integer in [INT64_MIN, INT64_MAX] (no fraction, no exponent). 0 / -1. */
int	ddb_item_n(json_object *item, const char *name, int64_t *out);
/* item[name]'s "BOOL". 0 / -1. */
int	ddb_item_bool(json_object *item, const char *name, bool *out);
/* Whether item[name] is {"NULL": true}. */
bool	ddb_item_is_null(json_object *item, const char *name);
/* Whether the item has the attribute at all (whatever its type). */
bool	ddb_item_has(json_object *item, const char *name);

#endif
