/*
 * The DynamoDB client (see dynamodb.h). Nothing in this file calls an operation itself: the
 * operations are named only at the call sites of the store and the admin program.
 */
#include "aws/dynamodb.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

#include "aws/credentials.h"
#include "aws/retry.h"
#include "aws/sigv4.h"
#include "config.h"
#include "encode.h"
#include "log.h"
#include "num.h"
#include "timeutil.h"
#include "xmalloc.h"

#define MAX_OP_LEN	64
#define JSON_DEPTH	256	/* items nest up to 32 levels, each {"M": {...}} is two */

struct ddb {
	struct transport	*t;
	struct creds_provider	*creds;
	char			*region;
	char			*url;
	struct transport_url	 u;
	long			 connect_timeout_ms;
	long			 timeout_ms;
	struct aws_retry	 retry;		/* attempts, quota, clock skew (aws/retry.h) */
};

/* ------------------------------------------------------------------ error tables */

/* botocore's standard mode: retries/standard.py, _THROTTLED_ERROR_CODES. */
static const char *const throttle_types[] = {
	"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
	"TooManyRequestsException", "ProvisionedThroughputExceededException",
	"TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
	"LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
	"EC2ThrottledException", NULL
};

/* _TRANSIENT_ERROR_CODES, and the 5xx names DynamoDB uses (whatever their status). */
static const char *const transient_types[] = {
	"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete",
	"InternalServerError", "InternalFailure", "ServiceUnavailable", NULL
};

/* Refusals of the request's authentication (signature, credentials, permissions). */
static const char *const auth_types[] = {
	"AccessDeniedException", "AccessDenied", "UnrecognizedClientException",
	"InvalidSignatureException", "IncompleteSignatureException", "SignatureDoesNotMatch",
	"MissingAuthenticationTokenException", "MissingAuthenticationToken",
	"ExpiredTokenException", "ExpiredToken", "InvalidClientTokenId", "InvalidAccessKeyId",
	"InvalidToken", "AuthFailure", "RequestExpired", "RequestTimeTooSkewed",
	"NotAuthorized", "UnauthorizedOperation", NULL
};

/* The ones a new set of credentials may cure. */
static const char *const creds_types[] = {
	"UnrecognizedClientException", "ExpiredTokenException", "ExpiredToken",
	"InvalidClientTokenId", "InvalidAccessKeyId", "InvalidToken", NULL
};

/* Signature refusals that may come from a wrong clock (checked with the Date header). */
static const char *const signature_types[] = {
	"InvalidSignatureException", "SignatureDoesNotMatch", "AuthFailure",
	"RequestExpired", "RequestTimeTooSkewed", NULL
};

static bool
in_list(const char *const *list, const char *s)
{
	if (s == NULL || *s == '\0')
		return false;
	for (; *list != NULL; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

const char *
ddb_errkind_name(enum ddb_errkind k)
{
	switch (k) {
	case DDB_OK:			return "ok";
	case DDB_ERR_CONDITIONAL:	return "conditional";
	case DDB_ERR_TXN_CANCELED:	return "transaction_canceled";
	case DDB_ERR_VALIDATION:	return "validation";
	case DDB_ERR_NOT_FOUND:		return "not_found";
	case DDB_ERR_THROTTLED:		return "throttled";
	case DDB_ERR_UNAVAILABLE:	return "unavailable";
	case DDB_ERR_AUTH:		return "auth";
	case DDB_ERR_OTHER:		return "other";
	}
	return "other";
}

enum ddb_retry_class
ddb_retry_classify(enum transport_error terr, int status, const char *type)
{
	switch (terr) {
	case TRANSPORT_OK:
		break;
	case TRANSPORT_ERR_TIMEOUT:
		return DDB_RETRY_TIMEOUT;
	case TRANSPORT_ERR_CONNECT:
	case TRANSPORT_ERR_RESET:
		return DDB_RETRY_TRANSIENT;
	default:
		return DDB_RETRY_NO;
	}
	if (status >= 200 && status < 300)
		return DDB_RETRY_NO;
	if (in_list(throttle_types, type))
		return DDB_RETRY_THROTTLE;
	if (in_list(transient_types, type))
		return DDB_RETRY_TRANSIENT;
	if (status == 500 || status == 502 || status == 503 || status == 504)
		return DDB_RETRY_TRANSIENT;
	return DDB_RETRY_NO;
}

enum ddb_errkind
ddb_error_kind(enum transport_error terr, int status, const char *type)
{
	switch (terr) {
	case TRANSPORT_OK:
		break;
	case TRANSPORT_ERR_CONNECT:
	case TRANSPORT_ERR_TIMEOUT:
	case TRANSPORT_ERR_RESET:
		return DDB_ERR_UNAVAILABLE;
	default:
		return DDB_ERR_OTHER;
	}
	if (status >= 200 && status < 300)
		return DDB_OK;
	if (type != NULL && *type != '\0') {
		if (strcmp(type, "ConditionalCheckFailedException") == 0)
			return DDB_ERR_CONDITIONAL;
		if (strcmp(type, "TransactionCanceledException") == 0)
			return DDB_ERR_TXN_CANCELED;
		if (strcmp(type, "ValidationException") == 0 ||
		    strcmp(type, "SerializationException") == 0)
			return DDB_ERR_VALIDATION;
		if (strcmp(type, "ResourceNotFoundException") == 0)
			return DDB_ERR_NOT_FOUND;
		if (in_list(throttle_types, type))
			return DDB_ERR_THROTTLED;
		if (in_list(auth_types, type))
			return DDB_ERR_AUTH;
		if (in_list(transient_types, type))
			return DDB_ERR_UNAVAILABLE;
	}
	if (status >= 500)
		return DDB_ERR_UNAVAILABLE;
	if (status == 401 || status == 403)
		return DDB_ERR_AUTH;
	return DDB_ERR_OTHER;
}

bool
ddb_creds_refused(const char *type)
{
	return in_list(creds_types, type);
}

int64_t
ddb_backoff_ms(int failed, double r)
{
	double v;

	if (failed < 1)
		failed = 1;
	if (failed > 31)
		failed = 31;
	if (!(r >= 0.0))	/* also NaN */
		r = 0.0;
	if (r >= 1.0)
		r = 1.0;
	v = r * (double)DDB_BACKOFF_BASE_MS * (double)(INT64_C(1) << (failed - 1));
	if (v > (double)DDB_BACKOFF_CAP_MS)
		v = DDB_BACKOFF_CAP_MS;
	return (int64_t)v;
}

bool
ddb_skew_detect(int status, const char *type, const char *message, const char *date,
    int64_t now_s, int64_t current, int64_t *skew)
{
	int64_t server, fresh, off;
	bool says, far;

	if (date == NULL || transport_parse_http_date(date, &server) == -1)
		return false;
	says = message != NULL && in_list(signature_types, type) &&
	    (strstr(message, "Signature expired") != NULL ||
	     strstr(message, "Signature not yet current") != NULL ||
	     strcmp(type, "RequestTimeTooSkewed") == 0 || strcmp(type, "RequestExpired") == 0);
	off = server - (now_s + current);
	far = (off > DDB_SKEW_LIMIT_S || off < -DDB_SKEW_LIMIT_S) &&
	    (status == 403 || in_list(signature_types, type));
	if (!says && !far)
		return false;
	fresh = server - now_s;
	if (fresh - current <= 1 && fresh - current >= -1)
		return false;
	*skew = fresh;
	return true;
}

uint32_t
ddb_crc32(const void *p, size_t n)
{
	static uint32_t table[256];
	static bool ready;
	const unsigned char *s = p;
	uint32_t c;
	size_t i;
	int k;

	if (!ready) {
		for (i = 0; i < 256; i++) {
			c = (uint32_t)i;
			for (k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320U ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
		ready = true;
	}
	c = 0xffffffffU;
	for (i = 0; i < n; i++)
		c = table[(c ^ s[i]) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffU;
}

enum ddb_reason
ddb_reason_from_code(const char *code)
{
	if (code == NULL || strcmp(code, "None") == 0)
		return DDB_REASON_NONE;
	if (strcmp(code, "ConditionalCheckFailed") == 0)
		return DDB_REASON_CONDITIONAL;
	if (strcmp(code, "TransactionConflict") == 0)
		return DDB_REASON_CONFLICT;
	if (strcmp(code, "ProvisionedThroughputExceeded") == 0 ||
	    strcmp(code, "ThrottlingError") == 0)
		return DDB_REASON_THROTTLED;
	if (strcmp(code, "ValidationError") == 0)
		return DDB_REASON_VALIDATION;
	return DDB_REASON_OTHER;
}

/* ------------------------------------------------------------------ the handle */

static bool
valid_region(const char *r)
{
	size_t n = 0;

	for (; r[n]; n++)
		if (!islower((unsigned char)r[n]) && !isdigit((unsigned char)r[n]) && r[n] != '-')
			return false;
	return n > 0 && n <= 32;
}

struct ddb *
ddb_new(const struct config *cfg, struct transport *t, struct creds_provider *creds,
    const struct ddb_options *opts, char *err, size_t errlen)
{
	struct ddb *d;
	struct buf url = BUF_INIT;

	if (cfg->aws_region == NULL || !valid_region(cfg->aws_region)) {
		snprintf(err, errlen, "AWS_REGION: required, lower-case letters, digits and '-'");
		return NULL;
	}
	if (t == NULL || creds == NULL) {
		snprintf(err, errlen, "DynamoDB client: no transport or credentials");
		return NULL;
	}
	if (cfg->dynamodb_endpoint != NULL)
		buf_printf(&url, "%s/", cfg->dynamodb_endpoint);
	else
		buf_printf(&url, "https://dynamodb.%s.amazonaws.com%s/", cfg->aws_region,
		    strncmp(cfg->aws_region, "cn-", 3) == 0 ? ".cn" : "");
	d = xcalloc(1, sizeof *d);
	d->url = buf_detach(&url);
	if (transport_url_parse(d->url, &d->u) == -1 || d->u.query[0] != '\0') {
		snprintf(err, errlen, "AWS_ENDPOINT_URL_DYNAMODB: not a usable http(s)://host[:port] URL");
		ddb_free(d);
		return NULL;
	}
	d->t = t;
	d->creds = creds;
	d->region = xstrdup(cfg->aws_region);
	d->connect_timeout_ms = opts && opts->connect_timeout_ms > 0 ?
	    opts->connect_timeout_ms : DDB_CONNECT_TIMEOUT_MS;
	d->timeout_ms = opts && opts->timeout_ms > 0 ? opts->timeout_ms : DDB_TIMEOUT_MS;
	aws_retry_init(&d->retry, opts && opts->max_attempts > 0 ? opts->max_attempts :
	    DDB_MAX_ATTEMPTS);
	return d;
}

void
ddb_free(struct ddb *d)
{
	if (d == NULL)
		return;
	free(d->region);
	free(d->url);
	free(d);
}

const char *
ddb_endpoint(const struct ddb *d)
{
	return d->url;
}

int64_t
ddb_skew(const struct ddb *d)
{
	return d->retry.skew;
}

int
ddb_retry_quota(const struct ddb *d)
{
	return d->retry.quota;
}

void
ddb_set_random(struct ddb *d, double (*rnd)(void *), void *ctx)
{
	aws_retry_set_random(&d->retry, rnd, ctx);
}

void
ddb_set_sleep(struct ddb *d, void (*sleep_ms)(void *, int64_t), void *ctx)
{
	aws_retry_set_sleep(&d->retry, sleep_ms, ctx);
}

/* ------------------------------------------------------------------ one call */

/* What one attempt came back with. */
struct outcome {
	struct transport_response resp;
	int		 rc;		/* transport_perform's */
	bool		 no_creds;
	bool		 sign_failed;
	bool		 crc_mismatch;
	json_object	*body;		/* the parsed answer, success or error */
	char		 type[96];
	char		 message[256];
};

static void
outcome_free(struct outcome *o)
{
	transport_response_free(&o->resp);
	json_object_put(o->body);
	memset(o, 0, sizeof *o);
}

static json_object *
parse_json(const char *s, size_t len)
{
	json_tokener *tok;
	json_object *o;
	size_t end;

	if (len == 0 || len > INT32_MAX)
		return NULL;
	tok = json_tokener_new_ex(JSON_DEPTH);
	if (tok == NULL)
		return NULL;
	o = json_tokener_parse_ex(tok, s, (int)len);
	end = (size_t)json_tokener_get_parse_end(tok);
	if (o != NULL && json_tokener_get_error(tok) == json_tokener_success) {
		while (end < len && isspace((unsigned char)s[end]))
			end++;
		if (end != len || !json_object_is_type(o, json_type_object)) {
			json_object_put(o);
			o = NULL;
		}
	} else {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/* The first line of a message, at most outlen-1 bytes: AWS's signature errors go on with the
 * canonical request, which holds the security token. */
static void
first_line(const char *msg, char *out, size_t outlen)
{
	size_t n = strcspn(msg, "\r\n");

	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, msg, n);
	out[n] = '\0';
}

/* __type (the part after '#') and message (either case) of an error answer. */
static void
error_fields(struct outcome *o)
{
	json_object *v;
	const char *s, *hash;

	if (o->body == NULL)
		return;
	if (json_object_object_get_ex(o->body, "__type", &v) && json_object_is_type(v, json_type_string)) {
		s = json_object_get_string(v);
		hash = strrchr(s, '#');
		snprintf(o->type, sizeof o->type, "%s", hash ? hash + 1 : s);
	}
	if ((json_object_object_get_ex(o->body, "message", &v) ||
	     json_object_object_get_ex(o->body, "Message", &v)) &&
	    json_object_is_type(v, json_type_string))
		first_line(json_object_get_string(v), o->message, sizeof o->message);
}

/* The x-amz-crc32 check botocore does for DynamoDB; a mismatch is retried. */
static bool
crc_ok(const struct transport_response *r)
{
	const char *h = transport_response_header(r, "x-amz-crc32");
	int64_t want;

	if (h == NULL)
		return true;
	if (num_parse_i64(h, 0, UINT32_MAX, &want) == -1)
		return false;
	return ddb_crc32(r->body.data, r->body.len) == (uint32_t)want;
}

static void
amz_date(int64_t epoch_s, char out[SIGV4_DATE_LEN + 1])
{
	time_t t = (time_t)epoch_s;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, SIGV4_DATE_LEN + 1, "%Y%m%dT%H%M%SZ", &tm);
}

/* Signs (with a fresh date and the current credentials) and sends one attempt. */
static void
attempt(struct ddb *d, const char *op, const char *body, size_t len, struct outcome *o)
{
	struct aws_credentials creds;
	struct sigv4_header sh[3];
	struct transport_header th[3 + SIGV4_MAX_ADDED];
	struct sigv4_request sreq;
	struct sigv4_params sp;
	struct sigv4_result res;
	struct transport_request treq;
	char target[sizeof DDB_TARGET_PREFIX + MAX_OP_LEN], date[SIGV4_DATE_LEN + 1];
	int64_t now_s = clock_now_ms() / 1000;
	size_t i, n;

	memset(o, 0, sizeof *o);
	memset(&res, 0, sizeof res);
	if (credentials_get(d->creds, now_s, &creds) == -1) {
		o->no_creds = true;
		o->rc = -1;
		snprintf(o->message, sizeof o->message, "no usable AWS credentials");
		return;
	}
	snprintf(target, sizeof target, DDB_TARGET_PREFIX "%s", op);
	amz_date(now_s + d->retry.skew, date);
	sh[0].name = "Host";
	sh[0].value = d->u.host_header;
	sh[1].name = "Content-Type";
	sh[1].value = DDB_CONTENT_TYPE;
	sh[2].name = "X-Amz-Target";
	sh[2].value = target;
	memset(&sreq, 0, sizeof sreq);
	sreq.method = "POST";
	sreq.path = d->u.path;
	sreq.headers = sh;
	sreq.nheaders = 3;
	sreq.body = body;
	sreq.body_len = len;
	sreq.payload = SIGV4_PAYLOAD_BODY;
	memset(&sp, 0, sizeof sp);
	sp.region = d->region;
	sp.service = "dynamodb";
	sp.amz_date = date;
	sp.creds.access_key_id = creds.access_key_id;
	sp.creds.secret_access_key = creds.secret_access_key;
	sp.creds.session_token = creds.session_token;
	if (sigv4_sign_headers(&sreq, &sp, &res) == -1) {
		o->sign_failed = true;
		o->rc = -1;
		snprintf(o->message, sizeof o->message, "signing failed: %s",
		    res.error ? res.error : "?");
		goto done;
	}
	for (i = 0; i < 3; i++) {
		th[i].name = sh[i].name;
		th[i].value = sh[i].value;
	}
	for (n = 3, i = 0; i < res.nadded; i++, n++) {
		th[n].name = res.added[i].name;
		th[n].value = res.added[i].value;
	}
	memset(&treq, 0, sizeof treq);
	treq.method = "POST";
	treq.url = d->url;
	treq.headers = th;
	treq.nheaders = n;
	treq.body = body;
	treq.body_len = len;
	treq.max_body = DDB_MAX_RESPONSE;
	treq.connect_timeout_ms = d->connect_timeout_ms;
	treq.timeout_ms = d->timeout_ms;
	o->rc = transport_perform(d->t, &treq, &o->resp);
	if (o->rc == 0) {
		o->crc_mismatch = !crc_ok(&o->resp);
		if (!o->crc_mismatch)
			o->body = parse_json(o->resp.body.data, o->resp.body.len);
		if (o->resp.status < 200 || o->resp.status >= 300)
			error_fields(o);
	}
done:
	sigv4_result_free(&res);
	aws_credentials_clear(&creds);
}

static bool
valid_op(const char *op)
{
	size_t n;

	if (op == NULL)
		return false;
	for (n = 0; op[n]; n++)
		if (!isalpha((unsigned char)op[n]))
			return false;
	return n > 0 && n <= MAX_OP_LEN;
}

static void
fill_reasons(struct ddb_error *err, json_object *body)
{
	json_object *arr, *r, *code;
	size_t i, n;

	if (body == NULL || !json_object_object_get_ex(body, "CancellationReasons", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return;
	n = json_object_array_length(arr);
	for (i = 0; i < n && i < DDB_MAX_REASONS; i++) {
		r = json_object_array_get_idx(arr, i);
		code = NULL;
		if (r != NULL && json_object_is_type(r, json_type_object))
			json_object_object_get_ex(r, "Code", &code);
		err->reasons[i] = ddb_reason_from_code(code && json_object_is_type(code,
		    json_type_string) ? json_object_get_string(code) : NULL);
	}
	err->nreasons = i;
}

static void
log_failure(const char *op, const struct ddb_error *err)
{
	enum log_level lvl = LOG_WARN;

	if (err->kind == DDB_ERR_CONDITIONAL)
		lvl = LOG_DEBUG;
	else if (err->kind == DDB_ERR_TXN_CANCELED)
		lvl = LOG_INFO;
	log_msg(lvl, "ddb_op", "DynamoDB %s failed (%s) after %d attempt%s: HTTP %d, %s: %s "
	    "(request id %s)", op, ddb_errkind_name(err->kind), err->attempts,
	    err->attempts == 1 ? "" : "s", err->status,
	    err->type[0] ? err->type :
	    err->transport != TRANSPORT_OK ? transport_error_name(err->transport) : "-",
	    err->message[0] ? err->message : "-", err->request_id[0] ? err->request_id : "-");
}

int
(ddb_op)(struct ddb *d, const char *op, json_object *request, json_object **response,
    struct ddb_error *err)
{
	struct outcome o;
	json_object *empty = NULL;
	const char *body, *rid;
	size_t len;
	enum ddb_retry_class cls;
	struct aws_call call;
	int64_t skew, delay, now_s;

	memset(err, 0, sizeof *err);
	*response = NULL;
	if (!valid_op(op)) {
		err->kind = DDB_ERR_VALIDATION;
		snprintf(err->message, sizeof err->message, "bad operation name");
		log_errorx("DynamoDB: bad operation name");
		return -1;
	}
	if (request == NULL)
		request = empty = json_object_new_object();
	body = json_object_to_json_string_length(request,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);

	aws_call_begin(&call, &d->retry);
	for (;;) {
		attempt(d, op, body, len, &o);
		err->attempts++;
		err->status = o.resp.status;
		err->transport = o.rc == -1 ? o.resp.error : TRANSPORT_OK;
		rid = transport_response_header(&o.resp, "x-amzn-RequestId");
		snprintf(err->request_id, sizeof err->request_id, "%s", rid ? rid : "");
		snprintf(err->type, sizeof err->type, "%s", o.type);
		if (o.rc == -1 && o.message[0] == '\0')
			first_line(o.resp.message, o.message, sizeof o.message);
		snprintf(err->message, sizeof err->message, "%s", o.message);

		if (o.no_creds || o.sign_failed) {
			err->kind = o.no_creds ? DDB_ERR_AUTH : DDB_ERR_OTHER;
			break;
		}
		if (o.rc == 0 && !o.crc_mismatch && o.resp.status >= 200 && o.resp.status < 300) {
			if (o.body == NULL) {
				err->kind = DDB_ERR_OTHER;
				snprintf(err->message, sizeof err->message, "answer is not a JSON object");
				break;
			}
			aws_call_succeeded(&call);
			*response = o.body;
			o.body = NULL;
			outcome_free(&o);
			json_object_put(empty);
			memset(err->type, 0, sizeof err->type);
			err->kind = DDB_OK;
			err->message[0] = '\0';
			return 0;
		}
		now_s = clock_now_ms() / 1000;
		if (o.rc == 0 && aws_call_fix_skew(&call, o.resp.status, o.type, o.message,
		    transport_response_header(&o.resp, "Date"), now_s, &skew)) {
			log_warnx("DynamoDB %s: clock skew: the service's Date is %+lld s from our "
			    "clock; signing with the correction from now on (request id %s)", op,
			    (long long)skew, err->request_id[0] ? err->request_id : "-");
			outcome_free(&o);
			continue;
		}
		if (o.rc == 0 && aws_call_fix_creds(&call, o.type, d->creds, now_s)) {
			log_info("DynamoDB %s: %s; retrying with refreshed credentials", op, o.type);
			outcome_free(&o);
			continue;
		}
		cls = o.crc_mismatch ? DDB_RETRY_TRANSIENT :
		    ddb_retry_classify(err->transport, o.resp.status, o.type);
		if (o.crc_mismatch)
			snprintf(err->message, sizeof err->message, "x-amz-crc32 does not match the body");
		if (!aws_call_may_retry(&call, cls, err->attempts))
			break;
		if ((delay = aws_call_backoff(&call, cls)) < 0) {
			log_debug("DynamoDB %s: retry quota exhausted", op);
			break;
		}
		log_debug("DynamoDB %s: attempt %d failed (HTTP %d, %s); retrying in %lld ms", op,
		    err->attempts, o.resp.status, o.type[0] ? o.type : transport_error_name(err->transport),
		    (long long)delay);
		outcome_free(&o);
		aws_retry_sleep(&d->retry, delay);
	}
	if (err->kind == DDB_OK)
		err->kind = o.crc_mismatch ? DDB_ERR_UNAVAILABLE :
		    ddb_error_kind(err->transport, o.resp.status, o.type);
	if (err->kind == DDB_OK)	/* a 2xx that was not JSON */
		err->kind = DDB_ERR_OTHER;
	if (err->kind == DDB_ERR_TXN_CANCELED)
		fill_reasons(err, o.body);
	/* Only these error bodies are handed out: others may quote the canonical request. */
	if (err->kind == DDB_ERR_CONDITIONAL || err->kind == DDB_ERR_TXN_CANCELED) {
		*response = o.body;
		o.body = NULL;
	}
	log_failure(op, err);
	outcome_free(&o);
	json_object_put(empty);
	return -1;
}

/* ------------------------------------------------------------------ attribute values */

static json_object *
av(const char *type, json_object *v)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, type, v);
	return o;
}

json_object *
ddb_av_s(const char *s)
{
	return av("S", json_object_new_string(s));
}

json_object *
ddb_av_n(int64_t n)
{
	char tmp[24];

	snprintf(tmp, sizeof tmp, "%lld", (long long)n);
	return av("N", json_object_new_string(tmp));
}

json_object *
ddb_av_bool(bool b)
{
	return av("BOOL", json_object_new_boolean(b));
}

json_object *
ddb_av_null(void)
{
	return av("NULL", json_object_new_boolean(1));
}

void
ddb_item_set(json_object *item, const char *name, json_object *v)
{
	json_object_object_add(item, name, v);
}

void
ddb_item_set_s(json_object *item, const char *name, const char *s)
{
	ddb_item_set(item, name, ddb_av_s(s));
}

void
ddb_item_set_n(json_object *item, const char *name, int64_t n)
{
	ddb_item_set(item, name, ddb_av_n(n));
}

void
ddb_item_set_bool(json_object *item, const char *name, bool b)
{
	ddb_item_set(item, name, ddb_av_bool(b));
}

void
ddb_item_set_null(json_object *item, const char *name)
{
	ddb_item_set(item, name, ddb_av_null());
}

/* item[name][type], only if item[name] is an object with exactly that one member. */
static json_object *
av_get(json_object *item, const char *name, const char *type, enum json_type jt)
{
	json_object *a, *v;

	if (item == NULL || !json_object_is_type(item, json_type_object) ||
	    !json_object_object_get_ex(item, name, &a) || a == NULL ||
	    !json_object_is_type(a, json_type_object) || json_object_object_length(a) != 1 ||
	    !json_object_object_get_ex(a, type, &v) || v == NULL || !json_object_is_type(v, jt))
		return NULL;
	return v;
}

const char *
ddb_item_s(json_object *item, const char *name)
{
	json_object *v = av_get(item, name, "S", json_type_string);

	return v ? json_object_get_string(v) : NULL;
}

int
ddb_item_n(json_object *item, const char *name, int64_t *out)
{
	json_object *v = av_get(item, name, "N", json_type_string);

	if (v == NULL)
		return -1;
	return num_parse_i64(json_object_get_string(v), INT64_MIN, INT64_MAX, out);
}

int
ddb_item_bool(json_object *item, const char *name, bool *out)
{
	json_object *v = av_get(item, name, "BOOL", json_type_boolean);

	if (v == NULL)
		return -1;
	*out = json_object_get_boolean(v);
	return 0;
}

bool
ddb_item_is_null(json_object *item, const char *name)
{
	json_object *v = av_get(item, name, "NULL", json_type_boolean);

	return v != NULL && json_object_get_boolean(v);
}

bool
ddb_item_has(json_object *item, const char *name)
{
	json_object *a;

	return item != NULL && json_object_is_type(item, json_type_object) &&
	    json_object_object_get_ex(item, name, &a);
}
