/*
 * sigv4: AWS Signature Version 4 (AWS4-HMAC-SHA256) as pure functions over OpenSSL: no clock,
 * no network, no environment. The caller passes the request as it will go on the wire, the
 * credentials and the time; the module returns what to add to the request (headers, or the
 * query string of a presigned URL) and keeps every intermediate so tests can assert it.
 *
 * Two callers in mind:
 *  - the DynamoDB client: POST / with a JSON body, sigv4_sign_headers() with the defaults
 *    (payload hashed from the body, path normalised and double-encoded);
 *  - the S3 client: PUT/GET/DELETE with no_normalize_path, no_double_encode and
 *    add_content_sha256 set, and payload SIGV4_PAYLOAD_UNSIGNED or a streamed body's
 *    SIGV4_PAYLOAD_PRECOMPUTED hash; presigned GET URLs with sigv4_presign() (the same path
 *    flags, payload SIGV4_PAYLOAD_UNSIGNED, response-content-disposition in the query).
 *
 * Ownership: every pointer in the inputs is borrowed for the duration of the call. The result
 * owns its strings; the caller frees them with sigv4_result_free(), after success and after
 * failure alike (a zeroed struct sigv4_result is valid to free). The signing key and the
 * "AWS4"+secret buffer are wiped with OPENSSL_cleanse before the call returns. The result holds
 * no key material, but it does hold the session token (in the added header or the presigned
 * query): do not log it.
 *
 * Canonicalisation (what the references agree on; see tests/sigv4/ for the cross-checks):
 *  - path: unless no_normalize_path, "." and empty segments are dropped and ".." pops one;
 *    unless no_double_encode, every byte but A-Za-z0-9-_.~ and '/' is percent-encoded, so an
 *    escape already on the wire ("%20") is encoded again ("%2520"). With no_double_encode (S3)
 *    the path is used as sent; only bytes that cannot appear in a URI path (space, controls,
 *    non-ASCII, "<>\"\\^`{|}", a '%' not starting an escape) are percent-encoded.
 *  - query: split on '&' (empty pieces ignored), each piece on its first '=' (a key without
 *    '=' has the empty value), percent-decoded ('+' is a literal plus), re-encoded with the
 *    RFC 3986 unreserved set and sorted by encoded key, then encoded value.
 *  - headers: names compared case-insensitively and lower-cased; values trimmed of and with
 *    inner runs of space, tab, CR and LF collapsed to one space; repeated names joined with
 *    ',' in the order given. Expect, User-Agent and X-Amzn-Trace-Id are never signed (proxies
 *    and HTTP clients change them); Host is required.
 */
#ifndef FS_AWS_SIGV4_H
#define FS_AWS_SIGV4_H
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define SIGV4_ALGORITHM		"AWS4-HMAC-SHA256"
#define SIGV4_UNSIGNED_PAYLOAD	"UNSIGNED-PAYLOAD"
#define SIGV4_DATE_LEN		16		/* YYYYMMDDTHHMMSSZ */
#define SIGV4_HEX_LEN		64		/* a SHA-256 in hex */
#define SIGV4_MAX_EXPIRES	604800L		/* presigned URLs live at most 7 days */
#define SIGV4_MAX_ADDED		4		/* token, date, content-sha256, authorization */

/* A header as the caller will send it: name in any case, value untrimmed. */
struct sigv4_header {
	const char	*name;
	const char	*value;
};

enum sigv4_payload {
	SIGV4_PAYLOAD_BODY = 0,		/* SHA-256 of body/body_len (body may be NULL if len 0) */
	SIGV4_PAYLOAD_UNSIGNED,		/* the literal UNSIGNED-PAYLOAD (S3 only) */
	SIGV4_PAYLOAD_PRECOMPUTED,	/* payload_hash: 64 lower-case hex digits */
};

struct sigv4_request {
	const char		*method;	/* "GET", "PUT", ... */
	const char		*path;		/* as sent, starting with '/', no '?' */
	const char		*query;		/* raw, without '?'; NULL or "" for none */
	const struct sigv4_header *headers;	/* must include Host */
	size_t			 nheaders;
	const void		*body;
	size_t			 body_len;
	enum sigv4_payload	 payload;
	const char		*payload_hash;	/* only for SIGV4_PAYLOAD_PRECOMPUTED */
};

struct sigv4_credentials {
	const char	*access_key_id;
	const char	*secret_access_key;
	const char	*session_token;		/* NULL or "" for long-term keys */
};

/*
 * How to sign. A zeroed struct plus region, service, date and credentials is the generic
 * (DynamoDB) signer; the flags switch on the per-service differences.
 */
struct sigv4_params {
	const char		*region;	/* "eu-west-1" */
	const char		*service;	/* "dynamodb", "s3" */
	const char		*amz_date;	/* the request time, YYYYMMDDTHHMMSSZ (UTC) */
	struct sigv4_credentials creds;
	bool	no_normalize_path;	/* S3: keep "." / ".." / "//" segments as sent */
	bool	no_double_encode;	/* S3: do not encode the (already encoded) path again */
	bool	add_content_sha256;	/* S3: send and sign x-amz-content-sha256 (headers only) */
	bool	session_token_unsigned;	/* add the token after signing (aws-c-auth's
					   omit_session_token; a few services want it) */
};

/* A header the caller must add to the request, in this order, before sending it. */
struct sigv4_added_header {
	const char	*name;		/* static */
	char		*value;		/* owned by the result */
};

struct sigv4_result {
	struct buf	canonical_request;
	struct buf	string_to_sign;
	struct buf	signed_headers;		/* "host;x-amz-date" */
	struct buf	credential_scope;	/* "20150830/us-east-1/service/aws4_request" */
	struct buf	authorization;		/* headers: the Authorization value; else empty */
	struct buf	presigned_query;	/* presign: the whole query for the URL (no '?'):
						   the raw query, then X-Amz-Algorithm, -Credential,
						   -Date, -SignedHeaders, -Expires, [-Security-Token,]
						   -Signature; else empty */
	char		payload_hash[SIGV4_HEX_LEN + 1];	/* hex, or UNSIGNED-PAYLOAD */
	char		signature[SIGV4_HEX_LEN + 1];
	struct sigv4_added_header added[SIGV4_MAX_ADDED];
	size_t		nadded;			/* headers: 2 to 4; presign: 0 */
	const char	*error;			/* static text when a call returned -1, else NULL */
};

/*
 * Signs in the Authorization header. res need not be initialised (it is overwritten).
 * Returns 0, or -1 with res->error set (bad input; or OpenSSL failing, which is not expected).
 */
int	sigv4_sign_headers(const struct sigv4_request *, const struct sigv4_params *,
	    struct sigv4_result *res);
/*
 * Presigns: the signature goes in the query string (res->presigned_query), valid for
 * expires seconds (1..SIGV4_MAX_EXPIRES). Nothing is added to the headers; the session token
 * goes in the query as X-Amz-Security-Token (signed unless session_token_unsigned).
 * add_content_sha256 is refused here. Returns 0 or -1 as sigv4_sign_headers().
 */
int	sigv4_presign(const struct sigv4_request *, const struct sigv4_params *, long expires,
	    struct sigv4_result *res);
/* Frees what the result owns and zeroes it; NULL and a zeroed struct are no-ops. */
void	sigv4_result_free(struct sigv4_result *);
/* out = lower-case hex SHA-256 of p/n (65 bytes with the NUL). 0, or -1 if OpenSSL fails. */
int	sigv4_sha256_hex(const void *p, size_t n, char out[SIGV4_HEX_LEN + 1]);

#endif
