/*
 * s3: a client for one S3 bucket (cfg->s3_bucket in cfg->aws_region), on the process's
 * transport and credentials provider (aws/session.h). It is what the S3 blob backend builds on:
 * single PUTs and multipart uploads from a streamed body, HEAD, DELETE, ListObjectsV2 paging,
 * presigned GET URLs for downloads, and presigned POST forms for browser uploads.
 *
 * ADDRESSING. Without AWS_ENDPOINT_URL_S3 requests go to the virtual-hosted endpoint
 * https://<bucket>.s3.<region>.amazonaws.com/<key> (".amazonaws.com.cn" for cn- regions), except
 * for bucket names with a '.' (they break the wildcard TLS certificate), which go path-style to
 * https://s3.<region>.amazonaws.com/<bucket>/<key>, as the SDKs do. With the endpoint set (local
 * servers) requests are path-style: <endpoint>/<bucket>/<key>. s3_options.addressing can force
 * either style. Keys are percent-encoded per segment with S3's rules: every byte but
 * A-Z a-z 0-9 - _ . ~ becomes %XX (so ' ' is %20, '+' is %2B, '%' is %25, UTF-8 bytes one by
 * one), '/' is kept. That encoded path is what is sent and what is signed (SigV4 with S3's
 * no_normalize_path, no_double_encode and x-amz-content-sha256).
 *
 * KEYS this client accepts (s3_key_valid): 1 to 1024 bytes of valid UTF-8, no control
 * characters (U+0000-U+001F, U+007F: XML 1.0 cannot carry most of them in a listing), and no
 * "." or ".." segment (HTTP clients collapse them, so the request would reach another key).
 * Anything else is refused before sending (S3_ERR_BAD_REQUEST).
 *
 * PAYLOAD HASH. A body in memory is hashed (SHA-256) once per call and signed with that hash.
 * A streamed body cannot be hashed before it is sent, so it is signed with the SHA-256 the
 * caller computed (s3_body.sha256: the caller read its source once already, e.g. while writing
 * the temporary file), or else with UNSIGNED-PAYLOAD, which this client only sends over https
 * (where TLS protects the bytes) or to a loopback endpoint (127.0.0.0/8, ::1, localhost); to
 * any other plain-http endpoint a streamed body without its hash is refused
 * (S3_ERR_BAD_REQUEST). aws-chunked (STREAMING-*) signing is not implemented.
 *
 * RETRIES: the standard mode of the DynamoDB client (dynamodb.h), with its pure helpers: at
 * most S3_MAX_ATTEMPTS attempts for throttling (503 SlowDown, 429, codes "Throttling*" and
 * botocore's list), 5xx, InternalError and RequestTimeout, timeouts, connection failures and
 * resets; full-jitter backoff (ddb_backoff_ms) and a retry quota per handle; every attempt is
 * signed anew (fresh date, current credentials). Outside that count, once each per call: after
 * a refusal that shows a skewed clock (403 RequestTimeTooSkewed, or a 403 whose Date is far
 * from ours; ddb_skew_detect) the skew is taken from the Date header and applied to every later
 * signature of the handle, presigned URLs and POST policies included; after refused container
 * credentials (InvalidAccessKeyId, ExpiredToken, ...) they are refreshed and the call is signed
 * again. A streamed body is sent again only if it can be: when no byte of it was read yet, or
 * when the caller gave a rewind hook (which must start the body over, or fail). Without one,
 * a failed attempt that consumed the body is final. A body in memory is always resent.
 * CompleteMultipartUpload can fail after a 200 (an <Error> document in the body): that is a
 * failure, retried when its code is (InternalError, SlowDown).
 *
 * ERRORS: each failed call fills struct s3_error (the kind, S3's <Code>, the first line of its
 * <Message>, x-amz-request-id, the HTTP status, the attempts) and is logged once, with the
 * operation, the key, the code and the request id (a HEAD that finds nothing at debug level,
 * other failures at warn). A HEAD error has no body, hence no code: it is judged by its status
 * alone (a throttled HEAD, 503 without SlowDown, is retried like any 503 and ends as
 * S3_ERR_UNAVAILABLE). Headers, presigned URLs' signatures and POST policy signatures are
 * never logged, and neither is the security token (which presigned URLs and POST forms carry).
 *
 * XML: the answers are read by a small scanner (s3_xml_scan), not an XML library. It takes
 * UTF-8 documents with elements, attributes (skipped), character data, CDATA sections,
 * comments, processing instructions and the XML declaration, decodes &amp; &lt; &gt; &quot;
 * &apos; and numeric character references, and refuses: DTDs (<!DOCTYPE ...>, so no entity
 * definitions and no expansion), other entity references, NUL (raw or &#0;), surrogates,
 * mismatched or unterminated elements, text or a second element outside the root, element
 * names over S3_XML_MAX_NAME bytes, nesting deeper than S3_XML_MAX_DEPTH, and any character
 * data over S3_XML_MAX_TEXT bytes. Namespaces are not processed: names are compared without
 * their prefix. It is enough for S3's answers and nothing more.
 *
 * IAM: s3_put_object, the multipart calls and presigned POST forms need s3:PutObject;
 * s3_multipart_abort s3:AbortMultipartUpload; s3_head_object and presigned GET URLs
 * s3:GetObject; s3_delete_object s3:DeleteObject; s3_list_objects s3:ListBucket (on the bucket).
 *
 * Ownership: struct s3 borrows the transport and the credentials provider, which must outlive
 * it. Inputs are borrowed for the duration of a call. Outputs say who frees them.
 */
#ifndef FS_AWS_S3_H
#define FS_AWS_S3_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "aws/dynamodb.h"	/* enum ddb_retry_class: the shared standard retry mode */
#include "aws/transport.h"
#include "buf.h"

struct config;
struct creds_provider;
struct s3;

#define S3_MAX_ATTEMPTS		3
#define S3_CONNECT_TIMEOUT_MS	3000L
#define S3_TIMEOUT_MS		15000L		/* a call without a request body */
#define S3_STALL_S		30L		/* a call with a body: under 1 byte/s this long */
#define S3_MAX_RESPONSE		(16 * 1024 * 1024)	/* a ListObjectsV2 page is a few MB */
#define S3_MAX_KEY		1024
#define S3_MAX_PUT		(UINT64_C(5) << 30)	/* one PutObject or one part: 5 GiB */
#define S3_MIN_PART		(5 * 1024 * 1024)	/* every part but the last (S3 enforces) */
#define S3_MAX_PARTS		10000
#define S3_MAX_LIST_KEYS	1000
#define S3_ETAG_MAX		128
#define S3_POST_MAX_FIELDS	10
#define S3_XML_MAX_DEPTH	16
#define S3_XML_MAX_NAME		64
#define S3_XML_MAX_TEXT		(64 * 1024)

enum s3_errkind {
	S3_OK = 0,
	S3_ERR_NOT_FOUND,	/* 404: NoSuchKey, NoSuchUpload, NoSuchBucket */
	S3_ERR_ACCESS_DENIED,	/* 401/403, AccessDenied, SignatureDoesNotMatch, InvalidAccessKeyId,
				   InvalidToken, ExpiredToken, RequestTimeTooSkewed, no credentials */
	S3_ERR_PRECONDITION,	/* 412 PreconditionFailed, 409 ConditionalRequestConflict */
	S3_ERR_THROTTLED,	/* still throttled after the retries (or out of retry quota) */
	S3_ERR_UNAVAILABLE,	/* connection failure, timeout, reset or 5xx after the retries */
	S3_ERR_BAD_REQUEST,	/* other 4xx (InvalidArgument, EntityTooLarge, InvalidPart,
				   MalformedXML, XAmzContentSHA256Mismatch, ...), NotImplemented,
				   and input refused before sending */
	S3_ERR_OTHER,		/* an answer that cannot be read, a body callback failure, 3xx */
};

struct s3_error {
	enum s3_errkind	 kind;
	int		 status;		/* last HTTP status; 0 if none arrived */
	enum transport_error transport;		/* last transport failure, if that was it */
	char		 code[64];		/* S3's <Code>, "" if none (HEAD has no body) */
	char		 message[256];		/* first line of <Message>, curl's, or ours */
	char		 request_id[80];	/* x-amz-request-id (or <RequestId>) */
	int		 attempts;		/* requests sent */
};

enum s3_addressing {
	S3_ADDR_AUTO = 0,	/* path-style with an endpoint, virtual-hosted on AWS */
	S3_ADDR_PATH,		/* <endpoint or https://s3.<region>.amazonaws.com>/<bucket>/<key> */
	S3_ADDR_VIRTUAL,	/* the bucket prefixed to the endpoint's host name */
};

struct s3_options {
	long	connect_timeout_ms;	/* 0: S3_CONNECT_TIMEOUT_MS */
	long	timeout_ms;		/* per attempt without a body; 0: S3_TIMEOUT_MS */
	long	stall_s;		/* per attempt with a body; 0: S3_STALL_S */
	int	max_attempts;		/* 0: S3_MAX_ATTEMPTS */
	enum s3_addressing addressing;
};

/*
 * A request body: in memory (data, len), or streamed (read, len bytes; see transport.h for the
 * read contract) with an optional rewind. sha256: NULL, or the lower-case hex SHA-256 of the
 * whole body (required for a stream to a plain-http, non-loopback endpoint).
 */
struct s3_body {
	const void		*data;
	size_t			 len;
	transport_read_fn	 read;
	transport_rewind_fn	 rewind;
	void			*ctx;
	const char		*sha256;
};

/*
 * A client for cfg->s3_bucket in cfg->aws_region, at cfg->s3_endpoint or AWS's endpoint. t and
 * creds are borrowed. opts may be NULL. NULL with one line in err on a bad setting.
 */
struct s3 *s3_new(const struct config *cfg, struct transport *t, struct creds_provider *creds,
	    const struct s3_options *opts, char *err, size_t errlen);
void	s3_free(struct s3 *);		/* NULL is a no-op */

/* The bucket's base URL: "https://b.s3.eu-west-1.amazonaws.com" or "http://127.0.0.1:9000/b". */
const char *s3_base_url(const struct s3 *);
/* The clock correction in use (seconds added to our clock when signing); 0 at first. */
int64_t	s3_skew(const struct s3 *);
int	s3_retry_quota(const struct s3 *);
/* Test hooks: the backoff's random source ([0,1)), and the sleep (milliseconds). */
void	s3_set_random(struct s3 *, double (*rnd)(void *ctx), void *ctx);
void	s3_set_sleep(struct s3 *, void (*sleep_ms)(void *ctx, int64_t ms), void *ctx);

/*
 * Every call below returns 0 or -1. err need not be initialised: it is filled on failure and
 * zeroed (kind S3_OK, attempts and request_id set) on success. etag outputs are the ETag
 * header or element as S3 sends it, quotes included ("\"9b2cf5...\""), or "" if none.
 */

/* PutObject: one signed PUT of body (at most S3_MAX_PUT bytes). content_type may be NULL. */
int	s3_put_object(struct s3 *, const char *key, const struct s3_body *body,
	    const char *content_type, char etag[S3_ETAG_MAX], struct s3_error *err);

struct s3_head {
	uint64_t	size;
	int64_t		last_modified;		/* epoch seconds; 0 if absent */
	char		etag[S3_ETAG_MAX];
	char		content_type[128];	/* "" if absent (or too long) */
};

/*
 * HeadObject. A missing key is -1 with S3_ERR_NOT_FOUND (logged at debug only) -- but only if
 * the role may s3:ListBucket on the bucket: without it S3 answers 403 (S3_ERR_ACCESS_DENIED)
 * for keys that do not exist, so as not to reveal which do.
 */
int	s3_head_object(struct s3 *, const char *key, struct s3_head *out, struct s3_error *err);
/* DeleteObject. A key that is not there is success too (S3 answers 204 anyway). */
int	s3_delete_object(struct s3 *, const char *key, struct s3_error *err);

/*
 * Multipart upload: create, upload parts 1..S3_MAX_PARTS (each but the last at least
 * S3_MIN_PART bytes), complete with the parts' ETags in ascending part order; or abort, which
 * every caller must do when it gives up (S3 keeps, and bills, the parts of an upload that is
 * neither completed nor aborted). Abort of an upload that is gone is success.
 */
int	s3_multipart_create(struct s3 *, const char *key, const char *content_type,
	    char **upload_id /* caller frees */, struct s3_error *err);
int	s3_multipart_upload_part(struct s3 *, const char *key, const char *upload_id,
	    int part_number, const struct s3_body *body, char etag[S3_ETAG_MAX],
	    struct s3_error *err);

struct s3_part {
	int		 number;
	const char	*etag;
};

int	s3_multipart_complete(struct s3 *, const char *key, const char *upload_id,
	    const struct s3_part *parts, size_t nparts, char etag[S3_ETAG_MAX] /* or NULL */,
	    struct s3_error *err);
int	s3_multipart_abort(struct s3 *, const char *key, const char *upload_id,
	    struct s3_error *err);

/* One object of a listing. */
struct s3_object {
	char		*key;
	uint64_t	 size;
	int64_t		 last_modified;		/* epoch seconds */
	char		 etag[S3_ETAG_MAX];	/* "" if absent */
};

/* One page of ListObjectsV2. Free with s3_list_free(); a zeroed struct is empty. */
struct s3_list {
	struct s3_object *objects;
	size_t		  nobjects;
	bool		  truncated;
	char		 *next_token;		/* when truncated: pass it as token for the next page */
};

/*
 * ListObjectsV2: the keys starting with prefix (NULL or "": all), in S3's (UTF-8 binary) order,
 * at most max_keys (1..S3_MAX_LIST_KEYS; 0: 1000) per page, from the page token names (NULL:
 * the first). out need not be initialised; free it with s3_list_free() after success and
 * failure alike.
 */
int	s3_list_objects(struct s3 *, const char *prefix, const char *token, int max_keys,
	    struct s3_list *out, struct s3_error *err);
void	s3_list_free(struct s3_list *);

/*
 * A presigned GET URL for key, valid expires_s seconds (1..604800) from now (epoch seconds, our
 * clock: the handle's skew is added), with response-content-disposition and
 * response-content-type when not NULL (S3 sends them as the response's headers). *url: caller
 * frees; it is a bearer credential until it expires (and holds the session token): never log
 * it. 0, or -1 (logged) without usable credentials or on bad input.
 */
int	s3_presign_get(struct s3 *, const char *key, long expires_s,
	    const char *content_disposition, const char *content_type, int64_t now,
	    char **url);

/* What a browser upload may send. */
struct s3_post_params {
	const char	*key;			/* the exact key (no ${filename}) */
	uint64_t	 min_size;		/* content-length-range, bytes */
	uint64_t	 max_size;
	const char	*content_type;		/* NULL: the form sends none */
	long		 expires_s;		/* 1..604800 */
};

struct s3_post_field {
	char	*name;
	char	*value;
};

/*
 * A presigned POST form: the browser sends multipart/form-data to url with these fields in
 * this order, then the file as the last part (named "file"). S3 answers 204. Free with
 * s3_post_form_free(); a zeroed struct is empty.
 */
struct s3_post_form {
	char			*url;
	struct s3_post_field	 fields[S3_POST_MAX_FIELDS];
	size_t			 nfields;
};

/*
 * Builds the form: a policy (expiration now + skew + expires_s; conditions bucket, key,
 * content-length-range, Content-Type when given, x-amz-algorithm, x-amz-credential, x-amz-date,
 * and x-amz-security-token with temporary credentials), base64-encoded, and its signature
 * (hex HMAC-SHA256 of the base64 policy with the SigV4 signing key of the date, region, "s3").
 * Fields: key, [Content-Type,] x-amz-algorithm, x-amz-credential, x-amz-date,
 * [x-amz-security-token,] policy, x-amz-signature. 0, or -1 (logged).
 */
int	s3_presign_post(struct s3 *, const struct s3_post_params *, int64_t now,
	    struct s3_post_form *out);
void	s3_post_form_free(struct s3_post_form *);

const char *s3_errkind_name(enum s3_errkind);	/* "not_found", "throttled", ... */

/* ------------------------------------------------------------------ pure parts, for tests */

/* Whether this client takes key (see KEYS above). */
bool	s3_key_valid(const char *key);
/* Appends key percent-encoded as described above ('/' kept). */
void	s3_encode_key(struct buf *out, const char *key);
/* Appends s encoded for a query string: RFC 3986 unreserved bytes kept, '/' encoded too. */
void	s3_encode_query(struct buf *out, const char *s);
/* The object's URL (no query) into out (reset first). -1 if the key is not valid. */
int	s3_object_url(const struct s3 *, const char *key, struct buf *out);

/* How an attempt's outcome is retried (ddb_retry_classify plus 429, "Throttling*" and
 * InternalError); code is S3's <Code> ("" or NULL if none). */
enum ddb_retry_class s3_retry_classify(enum transport_error terr, int status, const char *code);
/* The kind of a final failure (a 2xx with a code is the 200-with-<Error> case). */
enum s3_errkind s3_error_kind(enum transport_error terr, int status, const char *code);

/* An <Error> document's Code, Message (first line) and RequestId. 0 if the document's root is
 * Error (the fields it lacks are ""), -1 otherwise (not XML, another root, malformed). */
int	s3_error_parse(const char *doc, size_t len, char *code, size_t codelen,
	    char *message, size_t msglen, char *request_id, size_t ridlen);

enum s3_xml_event {
	S3_XML_OPEN,	/* an element starts (text NULL) */
	S3_XML_LEAF,	/* an element without child elements ends: its decoded text */
	S3_XML_CLOSE,	/* an element ends (text NULL; after LEAF for a leaf) */
};

/*
 * The scanner's callback: path[0..depth-1] are the names (without prefix) from the root to
 * the element concerned (depth 1: the root). Returns 0 to go on, -1 to stop (the scan then
 * returns -1 with err "stopped by the caller").
 */
typedef int (*s3_xml_fn)(void *ctx, enum s3_xml_event ev, int depth, const char *const *path,
	    const char *text, size_t len);

/* Scans doc (see XML above). 0 when the whole document was well-formed and every callback
 * returned 0; -1 with a reason in err otherwise (callbacks may have run before that). */
int	s3_xml_scan(const char *doc, size_t len, s3_xml_fn fn, void *ctx, char *err,
	    size_t errlen);

/*
 * Parses a ListObjectsV2 answer into out (need not be initialised; s3_list_free it after
 * success and failure alike). token_sent: the continuation token of the request (NULL: none);
 * an answer that is truncated without a new token, or hands back the same one, is refused
 * (the caller would loop forever). Each Contents needs Key, Size and LastModified. 0, or -1
 * with a reason in err.
 */
int	s3_list_parse(const char *doc, size_t len, const char *token_sent, struct s3_list *out,
	    char *err, size_t errlen);

/* The CompleteMultipartUpload body for parts (ascending, unique numbers 1..S3_MAX_PARTS, ETags
 * of at most S3_ETAG_MAX - 1 bytes); appended to out. -1 (nothing appended) on bad parts. */
int	s3_complete_xml(struct buf *out, const struct s3_part *parts, size_t nparts);

/*
 * The POST policy document (JSON, appended to out): expiration is ISO 8601 with milliseconds
 * ("2026-01-01T00:15:00.000Z"), credential "AKID/20260101/us-east-1/s3/aws4_request",
 * amz_date "20260101T000000Z", content_type and token NULL when absent. -1 on bad input.
 */
int	s3_post_policy(struct buf *out, const char *expiration, const char *bucket,
	    const char *key, uint64_t min_size, uint64_t max_size, const char *content_type,
	    const char *credential, const char *amz_date, const char *token);
/* The POST signature: hex HMAC-SHA256(kSigning(secret, date8, region, "s3"), policy_b64).
 * Keys are wiped before returning. 0, or -1 (bad input, or OpenSSL failing). */
int	s3_post_signature(const char *secret, const char *date8, const char *region,
	    const char *policy_b64, char out[65]);

#endif
