/*
 * The S3 client (see s3.h). The retry policy is the DynamoDB client's standard mode: the state
 * of aws/retry.h over the pure rules of dynamodb.h (s3_retry_classify adds S3's own error
 * codes to ddb_retry_classify); signing is aws/sigv4's, except the POST policy
 * signature, which is an HMAC of the policy itself and so needs the signing key directly.
 */
#include "aws/s3.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "aws/credentials.h"
#include "aws/retry.h"
#include "aws/sigv4.h"
#include "config.h"
#include "encode.h"
#include "log.h"
#include "num.h"
#include "timeutil.h"
#include "xmalloc.h"

#define S3_XMLNS	"http://s3.amazonaws.com/doc/2006-03-01/"
#define EMPTY_SHA256	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define MAX_UPLOAD_ID	1024
#define MAX_HEADER_TEXT	2048	/* content type and disposition given to presigning: a
				   255-byte filename percent-encoded, plus its ASCII fallback */

struct s3 {
	struct transport	*t;
	struct creds_provider	*creds;
	char			*region;
	char			*bucket;
	char			*origin;	/* "https://b.s3.eu-west-1.amazonaws.com" */
	char			*prefix;	/* path before "/key": "" or "/bucket" */
	char			*base_url;	/* origin + prefix */
	char			 host_header[272];
	bool			 unsigned_ok;	/* https or loopback: UNSIGNED-PAYLOAD allowed */
	long			 connect_timeout_ms;
	long			 timeout_ms;
	long			 stall_s;
	struct aws_retry	 retry;		/* attempts, quota, clock skew (aws/retry.h) */
};

/* ------------------------------------------------------------------ error tables */

static const char *const not_found_codes[] = {
	"NoSuchKey", "NoSuchUpload", "NoSuchBucket", "NotFound", NULL
};

static const char *const denied_codes[] = {
	"AccessDenied", "AllAccessDisabled", "AccountProblem", "InvalidAccessKeyId",
	"InvalidSecurity", "InvalidToken", "ExpiredToken", "TokenRefreshRequired",
	"SignatureDoesNotMatch", "RequestTimeTooSkewed", "AuthorizationHeaderMalformed",
	"AuthorizationQueryParametersError", "MissingSecurityHeader", "Forbidden", NULL
};

static const char *const precondition_codes[] = {
	"PreconditionFailed", "ConditionalRequestConflict", NULL
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
s3_errkind_name(enum s3_errkind k)
{
	switch (k) {
	case S3_OK:			return "ok";
	case S3_ERR_NOT_FOUND:		return "not_found";
	case S3_ERR_ACCESS_DENIED:	return "access_denied";
	case S3_ERR_PRECONDITION:	return "precondition";
	case S3_ERR_THROTTLED:		return "throttled";
	case S3_ERR_UNAVAILABLE:	return "unavailable";
	case S3_ERR_BAD_REQUEST:	return "bad_request";
	case S3_ERR_OTHER:		return "other";
	}
	return "other";
}

enum ddb_retry_class
s3_retry_classify(enum transport_error terr, int status, const char *code)
{
	bool has = code != NULL && *code != '\0';

	if (terr != TRANSPORT_OK)
		return ddb_retry_classify(terr, status, code);
	if (has && strncmp(code, "Throttling", 10) == 0)
		return DDB_RETRY_THROTTLE;
	if (status == 429)
		return DDB_RETRY_THROTTLE;
	if (has && strcmp(code, "InternalError") == 0)
		return DDB_RETRY_TRANSIENT;
	/* A 2xx with an <Error> document (CompleteMultipartUpload) is judged by its code. */
	if (status >= 200 && status < 300)
		return has ? ddb_retry_classify(TRANSPORT_OK, 400, code) : DDB_RETRY_NO;
	return ddb_retry_classify(TRANSPORT_OK, status, code);
}

enum s3_errkind
s3_error_kind(enum transport_error terr, int status, const char *code)
{
	bool has = code != NULL && *code != '\0';
	enum ddb_retry_class cls;

	switch (terr) {
	case TRANSPORT_OK:
		break;
	case TRANSPORT_ERR_CONNECT:
	case TRANSPORT_ERR_TIMEOUT:
	case TRANSPORT_ERR_RESET:
		return S3_ERR_UNAVAILABLE;
	default:
		return S3_ERR_OTHER;
	}
	if (!has && status >= 200 && status < 300)
		return S3_OK;
	if (has) {
		if (in_list(not_found_codes, code))
			return S3_ERR_NOT_FOUND;
		if (in_list(denied_codes, code))
			return S3_ERR_ACCESS_DENIED;
		if (in_list(precondition_codes, code))
			return S3_ERR_PRECONDITION;
		cls = s3_retry_classify(TRANSPORT_OK, status, code);
		if (cls == DDB_RETRY_THROTTLE)
			return S3_ERR_THROTTLED;
		if (cls != DDB_RETRY_NO)
			return S3_ERR_UNAVAILABLE;
		if (strcmp(code, "NotImplemented") == 0)
			return S3_ERR_BAD_REQUEST;
	}
	if (status == 429)
		return S3_ERR_THROTTLED;
	if (status >= 500)
		return S3_ERR_UNAVAILABLE;
	if (status == 404)
		return S3_ERR_NOT_FOUND;
	if (status == 401 || status == 403)
		return S3_ERR_ACCESS_DENIED;
	if (status == 412 || status == 304)
		return S3_ERR_PRECONDITION;
	if (status >= 400)
		return S3_ERR_BAD_REQUEST;
	return S3_ERR_OTHER;
}

/* ------------------------------------------------------------------ keys and encoding */

/* The length of the valid UTF-8 sequence at p (at most n bytes), 0 if it is not one. */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	uint32_t cp;
	size_t len, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

bool
s3_key_valid(const char *key)
{
	const unsigned char *p = (const unsigned char *)key;
	size_t n, i, l, seg;

	if (key == NULL || (n = strlen(key)) == 0 || n > S3_MAX_KEY)
		return false;
	for (i = 0; i < n; i += l) {
		if (p[i] < 0x20 || p[i] == 0x7f)
			return false;
		if ((l = utf8_len(p + i, n - i)) == 0)
			return false;
	}
	/* No "." or ".." segment: curl (like browsers) would collapse it. */
	for (i = 0; i <= n; i = seg + 1) {
		seg = i;
		while (seg < n && key[seg] != '/')
			seg++;
		if ((seg - i == 1 && key[i] == '.') ||
		    (seg - i == 2 && key[i] == '.' && key[i + 1] == '.'))
			return false;
	}
	return true;
}

static bool
unreserved(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

static void
encode(struct buf *out, const char *s, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s;
	char esc[3];

	for (; *p; p++) {
		if ((*p < 0x80 && unreserved(*p)) || (keep_slash && *p == '/')) {
			buf_appendc(out, (char)*p);
			continue;
		}
		esc[0] = '%';
		esc[1] = hex[*p >> 4];
		esc[2] = hex[*p & 15];
		buf_append(out, esc, 3);
	}
}

void
s3_encode_key(struct buf *out, const char *key)
{
	encode(out, key, true);
}

void
s3_encode_query(struct buf *out, const char *s)
{
	encode(out, s, false);
}

static void
object_path(const struct s3 *s, const char *key, struct buf *out)
{
	buf_appends(out, s->prefix);
	buf_appendc(out, '/');
	s3_encode_key(out, key);
}

/* The bucket's own path: "/bucket" path-style, "/" virtual-hosted. */
static const char *
bucket_path(const struct s3 *s)
{
	return s->prefix[0] ? s->prefix : "/";
}

int
s3_object_url(const struct s3 *s, const char *key, struct buf *out)
{
	buf_reset(out);
	if (!s3_key_valid(key))
		return -1;
	buf_appends(out, s->origin);
	object_path(s, key, out);
	return 0;
}

static bool
no_controls(const char *v, size_t max)
{
	size_t n = 0;

	for (; v[n]; n++)
		if ((unsigned char)v[n] < 0x20 || v[n] == 0x7f)
			return false;
	return n <= max;
}

/* ------------------------------------------------------------------ the XML scanner */

struct xml {
	const char	*p;
	const char	*end;
	int		 depth;
	bool		 root_done;
	char		 names[S3_XML_MAX_DEPTH][S3_XML_MAX_NAME + 1];
	const char	*path[S3_XML_MAX_DEPTH];
	bool		 has_child[S3_XML_MAX_DEPTH];
	struct buf	 text;
	s3_xml_fn	 fn;
	void		*ctx;
	const char	*why;
};

static bool
xml_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
name_start(unsigned char c)
{
	return isalpha(c) || c == '_' || c == ':' || c >= 0x80;
}

static bool
name_char(unsigned char c)
{
	return name_start(c) || isdigit(c) || c == '-' || c == '.';
}

/* Reads a name at x->p into out (S3_XML_MAX_NAME + 1 bytes), or NULL to only skip it. */
static int
xml_name(struct xml *x, char *out)
{
	const char *s = x->p;
	size_t n;

	if (s >= x->end || !name_start((unsigned char)*s)) {
		x->why = "expected a name";
		return -1;
	}
	while (s < x->end && name_char((unsigned char)*s))
		s++;
	n = (size_t)(s - x->p);
	if (n > S3_XML_MAX_NAME) {
		x->why = "name too long";
		return -1;
	}
	if (out != NULL) {
		memcpy(out, x->p, n);
		out[n] = '\0';
	}
	x->p = s;
	return 0;
}

static void
put_utf8(struct buf *b, uint32_t cp)
{
	char u[4];

	if (cp < 0x80) {
		u[0] = (char)cp;
		buf_append(b, u, 1);
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		buf_append(b, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		buf_append(b, u, 3);
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		buf_append(b, u, 4);
	}
}

/* Decodes the reference at x->p ('&'); appends it to out unless out is NULL. */
static int
xml_entity(struct xml *x, struct buf *out)
{
	static const struct { const char *name; char c; } named[] = {
		{ "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' }, { "apos", '\'' },
	};
	const char *s = x->p + 1, *semi;
	uint32_t cp = 0;
	size_t n, i;
	int base = 10, digits = 0;

	for (semi = s; semi < x->end && semi - s <= 10 && *semi != ';'; semi++)
		;
	if (semi >= x->end || *semi != ';') {
		x->why = "unterminated or unknown entity reference";
		return -1;
	}
	n = (size_t)(semi - s);
	x->p = semi + 1;
	if (n > 1 && s[0] == '#') {
		s++, n--;
		if (s[0] == 'x') {
			base = 16;
			s++, n--;
		}
		for (i = 0; i < n; i++) {
			int d;

			if (isdigit((unsigned char)s[i]))
				d = s[i] - '0';
			else if (base == 16 && isxdigit((unsigned char)s[i]))
				d = tolower((unsigned char)s[i]) - 'a' + 10;
			else {
				x->why = "bad character reference";
				return -1;
			}
			cp = cp * (uint32_t)base + (uint32_t)d;
			if (cp > 0x10ffff) {
				x->why = "character reference out of range";
				return -1;
			}
			digits++;
		}
		if (digits == 0 || cp == 0 || (cp >= 0xd800 && cp <= 0xdfff)) {
			x->why = "bad character reference";
			return -1;
		}
		if (out != NULL)
			put_utf8(out, cp);
		return 0;
	}
	for (i = 0; i < sizeof named / sizeof named[0]; i++)
		if (strlen(named[i].name) == n && memcmp(named[i].name, s, n) == 0) {
			if (out != NULL)
				buf_appendc(out, named[i].c);
			return 0;
		}
	x->why = "unknown entity reference (only the five predefined ones are taken)";
	return -1;
}

/* Whether the innermost open element collects text (it is still a possible leaf). */
static bool
collecting(const struct xml *x)
{
	return x->depth > 0 && !x->has_child[x->depth - 1];
}

static int
text_limit(struct xml *x)
{
	if (x->text.len > S3_XML_MAX_TEXT) {
		x->why = "character data too long";
		return -1;
	}
	return 0;
}

/* Character data up to the next '<'. */
static int
xml_chardata(struct xml *x)
{
	const char *run;

	while (x->p < x->end && *x->p != '<') {
		if (*x->p == '\0') {
			x->why = "NUL in the document";
			return -1;
		}
		if (x->depth == 0) {
			if (!xml_space(*x->p)) {
				x->why = "text outside the root element";
				return -1;
			}
			x->p++;
			continue;
		}
		if (*x->p == '&') {
			if (xml_entity(x, collecting(x) ? &x->text : NULL) == -1)
				return -1;
			continue;
		}
		run = x->p;
		while (x->p < x->end && *x->p != '<' && *x->p != '&' && *x->p != '\0')
			x->p++;
		if (collecting(x))
			buf_append(&x->text, run, (size_t)(x->p - run));
		if (text_limit(x) == -1)
			return -1;
	}
	return text_limit(x);
}

/* Skips to just after the terminator; -1 if the document ends first. */
static int
skip_past(struct xml *x, const char *term, const char *why)
{
	size_t tl = strlen(term);
	const char *s;

	for (s = x->p; (size_t)(x->end - s) >= tl; s++)
		if (memcmp(s, term, tl) == 0) {
			x->p = s + tl;
			return 0;
		}
	x->why = why;
	return -1;
}

static bool
starts(const struct xml *x, const char *lit)
{
	size_t n = strlen(lit);

	return (size_t)(x->end - x->p) >= n && memcmp(x->p, lit, n) == 0;
}

static int
emit(struct xml *x, enum s3_xml_event ev)
{
	const char *text = NULL;
	size_t len = 0;

	if (ev == S3_XML_LEAF) {
		text = buf_str(&x->text);
		len = x->text.len;
	}
	if (x->fn(x->ctx, ev, x->depth, x->path, text, len) != 0) {
		x->why = "stopped by the caller";
		return -1;
	}
	return 0;
}

static int
xml_close_current(struct xml *x)
{
	if (!x->has_child[x->depth - 1] && emit(x, S3_XML_LEAF) == -1)
		return -1;
	if (emit(x, S3_XML_CLOSE) == -1)
		return -1;
	x->depth--;
	buf_reset(&x->text);
	if (x->depth == 0)
		x->root_done = true;
	return 0;
}

static int
xml_open(struct xml *x)
{
	char *name, *colon, q;
	const char *v;

	x->p++;		/* '<' */
	if (x->root_done) {
		x->why = "a second root element";
		return -1;
	}
	if (x->depth >= S3_XML_MAX_DEPTH) {
		x->why = "elements nested too deeply";
		return -1;
	}
	name = x->names[x->depth];
	if (xml_name(x, name) == -1)
		return -1;
	for (;;) {
		bool ws = false;

		while (x->p < x->end && xml_space(*x->p)) {
			x->p++;
			ws = true;
		}
		if (x->p >= x->end) {
			x->why = "unterminated start tag";
			return -1;
		}
		if (*x->p == '>' || *x->p == '/')
			break;
		/* an attribute: name = "value" (skipped) */
		if (!ws || xml_name(x, NULL) == -1) {
			x->why = "bad attribute";
			return -1;
		}
		while (x->p < x->end && xml_space(*x->p))
			x->p++;
		if (x->p >= x->end || *x->p != '=') {
			x->why = "bad attribute";
			return -1;
		}
		x->p++;
		while (x->p < x->end && xml_space(*x->p))
			x->p++;
		if (x->p >= x->end || (*x->p != '"' && *x->p != '\'')) {
			x->why = "bad attribute";
			return -1;
		}
		q = *x->p++;
		for (v = x->p; v < x->end && *v != q; v++)
			if (*v == '<' || *v == '\0') {
				x->why = "bad attribute value";
				return -1;
			}
		if (v >= x->end) {
			x->why = "unterminated attribute value";
			return -1;
		}
		x->p = v + 1;
	}
	if (x->depth > 0)
		x->has_child[x->depth - 1] = true;
	colon = strrchr(name, ':');
	x->path[x->depth] = colon != NULL && colon[1] != '\0' ? colon + 1 : name;
	x->has_child[x->depth] = false;
	x->depth++;
	buf_reset(&x->text);
	if (emit(x, S3_XML_OPEN) == -1)
		return -1;
	if (*x->p == '/') {
		if (x->end - x->p < 2 || x->p[1] != '>') {
			x->why = "bad empty-element tag";
			return -1;
		}
		x->p += 2;
		return xml_close_current(x);
	}
	x->p++;		/* '>' */
	return 0;
}

static int
xml_close(struct xml *x)
{
	char name[S3_XML_MAX_NAME + 1];

	x->p += 2;	/* "</" */
	if (xml_name(x, name) == -1)
		return -1;
	while (x->p < x->end && xml_space(*x->p))
		x->p++;
	if (x->p >= x->end || *x->p != '>') {
		x->why = "unterminated end tag";
		return -1;
	}
	x->p++;
	if (x->depth == 0 || strcmp(name, x->names[x->depth - 1]) != 0) {
		x->why = "end tag does not match the open element";
		return -1;
	}
	return xml_close_current(x);
}

static int
xml_cdata(struct xml *x)
{
	const char *start;

	if (x->depth == 0) {
		x->why = "CDATA outside the root element";
		return -1;
	}
	x->p += 9;	/* "<![CDATA[" */
	start = x->p;
	if (skip_past(x, "]]>", "unterminated CDATA section") == -1)
		return -1;
	if (memchr(start, '\0', (size_t)(x->p - 3 - start)) != NULL) {
		x->why = "NUL in the document";
		return -1;
	}
	if (collecting(x))
		buf_append(&x->text, start, (size_t)(x->p - 3 - start));
	return text_limit(x);
}

int
s3_xml_scan(const char *doc, size_t len, s3_xml_fn fn, void *ctx, char *err, size_t errlen)
{
	struct xml *x = xcalloc(1, sizeof *x);
	int rc = -1;

	x->p = doc != NULL ? doc : "";
	x->end = x->p + (doc != NULL ? len : 0);
	x->fn = fn;
	x->ctx = ctx;
	if (starts(x, "\xef\xbb\xbf"))		/* a UTF-8 byte order mark */
		x->p += 3;
	while (x->p < x->end) {
		if (*x->p != '<') {
			if (xml_chardata(x) == -1)
				goto done;
		} else if (starts(x, "<?")) {
			if (skip_past(x, "?>", "unterminated processing instruction") == -1)
				goto done;
		} else if (starts(x, "<!--")) {
			if (skip_past(x, "-->", "unterminated comment") == -1)
				goto done;
		} else if (starts(x, "<![CDATA[")) {
			if (xml_cdata(x) == -1)
				goto done;
		} else if (starts(x, "<!")) {
			x->why = "DTDs and declarations are refused";
			goto done;
		} else if (starts(x, "</")) {
			if (xml_close(x) == -1)
				goto done;
		} else if (xml_open(x) == -1)
			goto done;
	}
	if (x->depth > 0)
		x->why = "unterminated element";
	else if (!x->root_done)
		x->why = "no root element";
	else
		rc = 0;
done:
	if (rc == -1 && err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", x->why ? x->why : "malformed XML");
	buf_free(&x->text);
	free(x);
	return rc;
}

/* ------------------------------------------------------------------ S3's documents */

/* The depth-2 leaves named in want[] of a document whose root is root. */
struct leaf_want {
	const char	*name;
	struct buf	*out;
	bool		 found;
};

struct leaves {
	const char		*root;
	struct leaf_want	*want;
	size_t			 nwant;
	bool			 wrong_root;
};

static int
leaves_cb(void *ctx, enum s3_xml_event ev, int depth, const char *const *path, const char *text,
    size_t len)
{
	struct leaves *l = ctx;
	size_t i;

	if (ev == S3_XML_OPEN && depth == 1 && strcmp(path[0], l->root) != 0) {
		l->wrong_root = true;
		return -1;
	}
	if (ev != S3_XML_LEAF || depth != 2)
		return 0;
	for (i = 0; i < l->nwant; i++)
		if (!l->want[i].found && strcmp(path[1], l->want[i].name) == 0) {
			buf_reset(l->want[i].out);
			buf_append(l->want[i].out, text, len);
			l->want[i].found = true;
		}
	return 0;
}

/* 0 when the document is well-formed with that root; -1 otherwise. */
static int
get_leaves(const char *doc, size_t len, const char *root, struct leaf_want *want, size_t n)
{
	struct leaves l = { root, want, n, false };
	char err[96];

	return s3_xml_scan(doc, len, leaves_cb, &l, err, sizeof err);
}

static void
copy_first_line(char *out, size_t outlen, const char *s)
{
	size_t n = strcspn(s, "\r\n");

	if (outlen == 0)
		return;
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, s, n);
	out[n] = '\0';
}

int
s3_error_parse(const char *doc, size_t len, char *code, size_t codelen, char *message,
    size_t msglen, char *request_id, size_t ridlen)
{
	struct buf b[3] = { BUF_INIT, BUF_INIT, BUF_INIT };
	struct leaf_want want[3] = {
		{ "Code", &b[0], false }, { "Message", &b[1], false }, { "RequestId", &b[2], false },
	};
	int rc;

	if (codelen)
		code[0] = '\0';
	if (msglen)
		message[0] = '\0';
	if (ridlen)
		request_id[0] = '\0';
	rc = get_leaves(doc, len, "Error", want, 3);
	if (rc == 0) {
		copy_first_line(code, codelen, buf_str(&b[0]));
		copy_first_line(message, msglen, buf_str(&b[1]));
		copy_first_line(request_id, ridlen, buf_str(&b[2]));
	}
	buf_free(&b[0]);
	buf_free(&b[1]);
	buf_free(&b[2]);
	return rc;
}

/* An ETag as received: at most S3_ETAG_MAX - 1 printable bytes. */
static int
copy_etag(char out[S3_ETAG_MAX], const char *v, size_t n)
{
	size_t i;

	if (n >= S3_ETAG_MAX)
		return -1;
	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return -1;
	memcpy(out, v, n);
	out[n] = '\0';
	return 0;
}

struct list_parse {
	struct s3_list	*out;
	size_t		 cap;
	struct s3_object cur;
	bool		 have_size, have_lm, have_etag, seen_truncated, seen_token;
	struct buf	 token;
	const char	*why;
};

static int
list_fail(struct list_parse *lp, const char *why)
{
	lp->why = why;
	return -1;
}

static int
list_leaf(struct list_parse *lp, int depth, const char *const *path, const char *text, size_t len)
{
	int64_t v;

	if (depth == 2 && strcmp(path[1], "IsTruncated") == 0) {
		if (lp->seen_truncated)
			return list_fail(lp, "IsTruncated twice");
		lp->seen_truncated = true;
		if (strcmp(text, "true") == 0)
			lp->out->truncated = true;
		else if (strcmp(text, "false") != 0)
			return list_fail(lp, "IsTruncated is neither true nor false");
	} else if (depth == 2 && strcmp(path[1], "NextContinuationToken") == 0) {
		if (lp->seen_token)
			return list_fail(lp, "NextContinuationToken twice");
		lp->seen_token = true;
		buf_append(&lp->token, text, len);
	} else if (depth == 3 && strcmp(path[1], "Contents") == 0) {
		if (strcmp(path[2], "Key") == 0) {
			if (lp->cur.key != NULL)
				return list_fail(lp, "Key twice in one Contents");
			if (len == 0 || len > S3_MAX_KEY)
				return list_fail(lp, "Key empty or too long");
			lp->cur.key = xstrndup(text, len);
		} else if (strcmp(path[2], "Size") == 0) {
			if (lp->have_size || num_parse_i64(text, 0, INT64_MAX, &v) == -1)
				return list_fail(lp, "Size repeated or not a number");
			lp->cur.size = (uint64_t)v;
			lp->have_size = true;
		} else if (strcmp(path[2], "LastModified") == 0) {
			if (lp->have_lm || creds_parse_rfc3339(text, &v) == -1)
				return list_fail(lp, "LastModified repeated or not a date-time");
			lp->cur.last_modified = v;
			lp->have_lm = true;
		} else if (strcmp(path[2], "ETag") == 0) {
			if (lp->have_etag || copy_etag(lp->cur.etag, text, len) == -1)
				return list_fail(lp, "ETag repeated or unusable");
			lp->have_etag = true;
		}
	}
	return 0;
}

static int
list_cb(void *ctx, enum s3_xml_event ev, int depth, const char *const *path, const char *text,
    size_t len)
{
	struct list_parse *lp = ctx;
	struct s3_list *l = lp->out;

	switch (ev) {
	case S3_XML_OPEN:
		if (depth == 1 && strcmp(path[0], "ListBucketResult") != 0)
			return list_fail(lp, "the root is not ListBucketResult");
		if (depth == 2 && strcmp(path[1], "Contents") == 0) {
			free(lp->cur.key);
			memset(&lp->cur, 0, sizeof lp->cur);
			lp->have_size = lp->have_lm = lp->have_etag = false;
		}
		return 0;
	case S3_XML_LEAF:
		return list_leaf(lp, depth, path, text, len);
	case S3_XML_CLOSE:
		if (depth != 2 || strcmp(path[1], "Contents") != 0)
			return 0;
		if (lp->cur.key == NULL || !lp->have_size || !lp->have_lm)
			return list_fail(lp, "Contents without Key, Size or LastModified");
		if (l->nobjects == lp->cap) {
			lp->cap = lp->cap ? lp->cap * 2 : 16;
			l->objects = xrealloc(l->objects, lp->cap * sizeof *l->objects);
		}
		l->objects[l->nobjects++] = lp->cur;
		memset(&lp->cur, 0, sizeof lp->cur);
		return 0;
	}
	return 0;
}

void
s3_list_free(struct s3_list *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->nobjects; i++)
		free(l->objects[i].key);
	free(l->objects);
	free(l->next_token);
	memset(l, 0, sizeof *l);
}

int
s3_list_parse(const char *doc, size_t len, const char *token_sent, struct s3_list *out,
    char *err, size_t errlen)
{
	struct list_parse lp;
	char why[96];
	int rc = -1;

	memset(out, 0, sizeof *out);
	memset(&lp, 0, sizeof lp);
	lp.out = out;
	if (s3_xml_scan(doc, len, list_cb, &lp, why, sizeof why) == -1) {
		snprintf(err, errlen, "ListObjectsV2 answer: %s", lp.why ? lp.why : why);
		goto done;
	}
	if (!lp.seen_truncated) {
		snprintf(err, errlen, "ListObjectsV2 answer: no IsTruncated");
		goto done;
	}
	if (out->truncated) {
		if (lp.token.len == 0 || (token_sent != NULL && strcmp(token_sent, lp.token.data) == 0)) {
			snprintf(err, errlen, "ListObjectsV2 answer: truncated without a new "
			    "NextContinuationToken");
			goto done;
		}
		out->next_token = buf_detach(&lp.token);
	}
	rc = 0;
done:
	free(lp.cur.key);
	buf_free(&lp.token);
	if (rc == -1)
		s3_list_free(out);
	return rc;
}

static void
xml_escape(struct buf *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '&')
			buf_appends(out, "&amp;");
		else if (*s == '<')
			buf_appends(out, "&lt;");
		else if (*s == '>')
			buf_appends(out, "&gt;");
		else
			buf_appendc(out, *s);
	}
}

int
s3_complete_xml(struct buf *out, const struct s3_part *parts, size_t nparts)
{
	size_t i;

	if (parts == NULL || nparts == 0 || nparts > S3_MAX_PARTS)
		return -1;
	for (i = 0; i < nparts; i++) {
		if (parts[i].number < 1 || parts[i].number > S3_MAX_PARTS ||
		    (i > 0 && parts[i].number <= parts[i - 1].number))
			return -1;
		if (parts[i].etag == NULL || parts[i].etag[0] == '\0' ||
		    !no_controls(parts[i].etag, S3_ETAG_MAX - 1))
			return -1;
	}
	buf_appends(out, "<CompleteMultipartUpload xmlns=\"" S3_XMLNS "\">");
	for (i = 0; i < nparts; i++) {
		buf_printf(out, "<Part><PartNumber>%d</PartNumber><ETag>", parts[i].number);
		xml_escape(out, parts[i].etag);
		buf_appends(out, "</ETag></Part>");
	}
	buf_appends(out, "</CompleteMultipartUpload>");
	return 0;
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

/* S3's bucket naming rules (the current ones: no upper case, no '_'). */
static bool
valid_bucket(const char *b)
{
	size_t n = strlen(b), i;

	if (n < 3 || n > 63 || !isalnum((unsigned char)b[0]) || !isalnum((unsigned char)b[n - 1]))
		return false;
	for (i = 0; i < n; i++)
		if (!islower((unsigned char)b[i]) && !isdigit((unsigned char)b[i]) && b[i] != '.' &&
		    b[i] != '-')
			return false;
	return strstr(b, "..") == NULL;
}

static bool
ip_literal(const char *host)
{
	size_t i;

	if (strchr(host, ':') != NULL)
		return true;
	for (i = 0; host[i]; i++)
		if (!isdigit((unsigned char)host[i]) && host[i] != '.')
			return false;
	return true;
}

static bool
loopback(const char *host)
{
	return strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0 ||
	    (strncmp(host, "127.", 4) == 0 && ip_literal(host));
}

static void
strip_slashes(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && s[n - 1] == '/')
		s[--n] = '\0';
}

struct s3 *
s3_new(const struct config *cfg, struct transport *t, struct creds_provider *creds,
    const struct s3_options *opts, char *err, size_t errlen)
{
	struct transport_url *u = NULL;
	struct buf origin = BUF_INIT, prefix = BUF_INIT, tmp = BUF_INIT;
	enum s3_addressing addr = opts ? opts->addressing : S3_ADDR_AUTO;
	const char *domain;
	struct s3 *s = NULL;

	if (cfg->aws_region == NULL || !valid_region(cfg->aws_region)) {
		snprintf(err, errlen, "AWS_REGION: required, lower-case letters, digits and '-'");
		return NULL;
	}
	if (cfg->s3_bucket == NULL || !valid_bucket(cfg->s3_bucket)) {
		snprintf(err, errlen, "S3_BUCKET: required, 3 to 63 lower-case letters, digits, '.' "
		    "and '-', starting and ending with a letter or digit");
		return NULL;
	}
	if (t == NULL || creds == NULL) {
		snprintf(err, errlen, "S3 client: no transport or credentials");
		return NULL;
	}
	u = xcalloc(1, sizeof *u);
	if (cfg->s3_endpoint != NULL) {
		if (transport_url_parse(cfg->s3_endpoint, u) == -1 || u->query[0] != '\0') {
			snprintf(err, errlen, "AWS_ENDPOINT_URL_S3: not a usable "
			    "http(s)://host[:port][/path] URL");
			goto fail;
		}
		strip_slashes(u->path);
		if (addr == S3_ADDR_VIRTUAL) {
			if (ip_literal(u->host)) {
				snprintf(err, errlen, "AWS_ENDPOINT_URL_S3: virtual-hosted addressing "
				    "needs a host name, not an IP address");
				goto fail;
			}
			buf_printf(&origin, "%s://%s.%s", u->https ? "https" : "http",
			    cfg->s3_bucket, u->host_header);
			buf_appends(&prefix, u->path);
		} else {
			buf_printf(&origin, "%s://%s", u->https ? "https" : "http", u->host_header);
			buf_printf(&prefix, "%s/%s", u->path, cfg->s3_bucket);
		}
	} else {
		domain = strncmp(cfg->aws_region, "cn-", 3) == 0 ? "amazonaws.com.cn" :
		    "amazonaws.com";
		if (addr == S3_ADDR_PATH ||
		    (addr == S3_ADDR_AUTO && strchr(cfg->s3_bucket, '.') != NULL)) {
			buf_printf(&origin, "https://s3.%s.%s", cfg->aws_region, domain);
			buf_printf(&prefix, "/%s", cfg->s3_bucket);
		} else
			buf_printf(&origin, "https://%s.s3.%s.%s", cfg->s3_bucket, cfg->aws_region,
			    domain);
	}
	buf_printf(&tmp, "%s/", buf_str(&origin));
	if (transport_url_parse(buf_str(&tmp), u) == -1) {
		snprintf(err, errlen, "S3_BUCKET/AWS_ENDPOINT_URL_S3: the bucket's URL is not usable");
		goto fail;
	}
	s = xcalloc(1, sizeof *s);
	s->t = t;
	s->creds = creds;
	s->region = xstrdup(cfg->aws_region);
	s->bucket = xstrdup(cfg->s3_bucket);
	s->prefix = xstrdup(buf_str(&prefix));
	buf_reset(&tmp);
	buf_printf(&tmp, "%s%s", buf_str(&origin), s->prefix);
	s->base_url = buf_detach(&tmp);
	s->origin = buf_detach(&origin);
	snprintf(s->host_header, sizeof s->host_header, "%s", u->host_header);
	s->unsigned_ok = u->https || loopback(u->host);
	s->connect_timeout_ms = opts && opts->connect_timeout_ms > 0 ?
	    opts->connect_timeout_ms : S3_CONNECT_TIMEOUT_MS;
	s->timeout_ms = opts && opts->timeout_ms > 0 ? opts->timeout_ms : S3_TIMEOUT_MS;
	s->stall_s = opts && opts->stall_s > 0 ? opts->stall_s : S3_STALL_S;
	aws_retry_init(&s->retry, opts && opts->max_attempts > 0 ? opts->max_attempts :
	    S3_MAX_ATTEMPTS);
fail:
	buf_free(&origin);
	buf_free(&prefix);
	buf_free(&tmp);
	free(u);
	return s;
}

void
s3_free(struct s3 *s)
{
	if (s == NULL)
		return;
	free(s->region);
	free(s->bucket);
	free(s->origin);
	free(s->prefix);
	free(s->base_url);
	free(s);
}

const char *
s3_base_url(const struct s3 *s)
{
	return s->base_url;
}

int64_t
s3_skew(const struct s3 *s)
{
	return s->retry.skew;
}

int
s3_retry_quota(const struct s3 *s)
{
	return s->retry.quota;
}

void
s3_set_random(struct s3 *s, double (*rnd)(void *), void *ctx)
{
	aws_retry_set_random(&s->retry, rnd, ctx);
}

void
s3_set_sleep(struct s3 *s, void (*sleep_ms)(void *, int64_t), void *ctx)
{
	aws_retry_set_sleep(&s->retry, sleep_ms, ctx);
}

/* ------------------------------------------------------------------ one call */

static void
format_amz_date(int64_t epoch_s, char out[SIGV4_DATE_LEN + 1])
{
	time_t t = (time_t)epoch_s;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, SIGV4_DATE_LEN + 1, "%Y%m%dT%H%M%SZ", &tm);
}

/* What a call sends; everything borrowed. */
struct call {
	const char	*func;		/* the caller's __func__, for the log */
	const char	*op;		/* S3's operation name, for the log */
	const char	*method;
	const char	*key;		/* NULL: the bucket itself */
	const char	*query;		/* encoded, without '?'; NULL: none */
	const char	*content_type;
	const void	*mem;		/* a body of ours (XML) */
	size_t		 mem_len;
	const struct s3_body *body;	/* or the caller's */
	bool		 ok_404;	/* DELETE: gone is as good as deleted */
	bool		 error_in_200;	/* CompleteMultipartUpload */
	bool		 quiet_404;	/* HEAD: not found is an expected answer */
};

/* The caller's stream, counted, so a retry knows whether it must rewind. */
struct stream {
	const struct s3_body	*b;
	uint64_t		 consumed;
};

static ssize_t
stream_read(void *ctx, void *dst, size_t n)
{
	struct stream *st = ctx;
	ssize_t r = st->b->read(st->b->ctx, dst, n);

	if (r > 0)
		st->consumed += (uint64_t)r;
	return r;
}

static int
stream_rewind(void *ctx)
{
	struct stream *st = ctx;

	if (st->b->rewind == NULL || st->b->rewind(st->b->ctx) != 0)
		return -1;
	st->consumed = 0;
	return 0;
}

struct outcome {
	struct transport_response resp;
	int		 rc;		/* transport_perform's */
	bool		 no_creds;
	bool		 sign_failed;
	bool		 ok;		/* the answer is a success */
	char		 code[64];
	char		 message[256];
	char		 request_id[80];
};

/* What every attempt of a call shares. */
struct prepared {
	struct buf	 path;
	struct buf	 url;
	enum sigv4_payload payload;
	char		 hash[SIGV4_HEX_LEN + 1];
	struct stream	 stream;
};

static void
attempt(struct s3 *s, const struct call *c, struct prepared *pr, struct outcome *o)
{
	struct aws_credentials creds;
	struct sigv4_header sh[2];
	struct transport_header th[2 + SIGV4_MAX_ADDED];
	struct sigv4_request sreq;
	struct sigv4_params sp;
	struct sigv4_result res;
	struct transport_request treq;
	char date[SIGV4_DATE_LEN + 1];
	int64_t now_s = clock_now_ms() / 1000;
	size_t i, n = 0;
	const char *rid;

	memset(o, 0, sizeof *o);
	memset(&res, 0, sizeof res);
	if (credentials_get(s->creds, now_s, &creds) == -1) {
		o->no_creds = true;
		o->rc = -1;
		snprintf(o->message, sizeof o->message, "no usable AWS credentials");
		return;
	}
	format_amz_date(now_s + s->retry.skew, date);
	sh[n].name = "Host";
	sh[n++].value = s->host_header;
	if (c->content_type != NULL) {
		sh[n].name = "Content-Type";
		sh[n++].value = c->content_type;
	}
	memset(&sreq, 0, sizeof sreq);
	sreq.method = c->method;
	sreq.path = buf_str(&pr->path);
	sreq.query = c->query;
	sreq.headers = sh;
	sreq.nheaders = n;
	sreq.payload = pr->payload;
	sreq.payload_hash = pr->payload == SIGV4_PAYLOAD_PRECOMPUTED ? pr->hash : NULL;
	memset(&sp, 0, sizeof sp);
	sp.region = s->region;
	sp.service = "s3";
	sp.amz_date = date;
	sp.creds.access_key_id = creds.access_key_id;
	sp.creds.secret_access_key = creds.secret_access_key;
	sp.creds.session_token = creds.session_token;
	sp.no_normalize_path = true;
	sp.no_double_encode = true;
	sp.add_content_sha256 = true;
	if (sigv4_sign_headers(&sreq, &sp, &res) == -1) {
		o->sign_failed = true;
		o->rc = -1;
		snprintf(o->message, sizeof o->message, "signing failed: %s",
		    res.error ? res.error : "?");
		goto done;
	}
	for (i = 0; i < n; i++) {
		th[i].name = sh[i].name;
		th[i].value = sh[i].value;
	}
	for (i = 0; i < res.nadded; i++, n++) {
		th[n].name = res.added[i].name;
		th[n].value = res.added[i].value;
	}
	memset(&treq, 0, sizeof treq);
	treq.method = c->method;
	treq.url = buf_str(&pr->url);
	treq.headers = th;
	treq.nheaders = n;
	treq.max_body = S3_MAX_RESPONSE;
	treq.connect_timeout_ms = s->connect_timeout_ms;
	if (c->body != NULL && c->body->read != NULL) {
		treq.read = stream_read;
		treq.rewind = c->body->rewind != NULL ? stream_rewind : NULL;
		treq.read_ctx = &pr->stream;
		treq.body_len = c->body->len;
	} else if (c->body != NULL) {
		treq.body = c->body->data;
		treq.body_len = c->body->len;
	} else if (c->mem != NULL) {
		treq.body = c->mem;
		treq.body_len = c->mem_len;
	}
	if (treq.body_len > 0 || c->body != NULL)
		treq.stall_s = s->stall_s;
	else
		treq.timeout_ms = s->timeout_ms;
	o->rc = transport_perform(s->t, &treq, &o->resp);
	if (o->rc == -1)
		goto done;
	if (o->resp.status >= 200 && o->resp.status < 300) {
		o->ok = true;
		/* CompleteMultipartUpload may fail after its 200 (the parts are assembled while
		 * the connection is kept alive with whitespace). */
		if (c->error_in_200 && s3_error_parse(o->resp.body.data, o->resp.body.len, o->code,
		    sizeof o->code, o->message, sizeof o->message, o->request_id,
		    sizeof o->request_id) == 0)
			o->ok = false;
	} else {
		s3_error_parse(o->resp.body.data, o->resp.body.len, o->code, sizeof o->code,
		    o->message, sizeof o->message, o->request_id, sizeof o->request_id);
		if (o->resp.status == 404 && c->ok_404)
			o->ok = true;
	}
	if ((rid = transport_response_header(&o->resp, "x-amz-request-id")) != NULL)
		snprintf(o->request_id, sizeof o->request_id, "%s", rid);
done:
	sigv4_result_free(&res);
	aws_credentials_clear(&creds);
}

static void
log_failure(const struct call *c, const struct s3_error *err)
{
	enum log_level lvl = LOG_WARN;

	if (err->kind == S3_ERR_NOT_FOUND && c->quiet_404)
		lvl = LOG_DEBUG;
	log_msg(lvl, c->func, "S3 %s %.200s failed (%s) after %d attempt%s: HTTP %d, %s: %s "
	    "(request id %s)", c->op, c->key ? c->key : "(bucket)", s3_errkind_name(err->kind),
	    err->attempts, err->attempts == 1 ? "" : "s", err->status,
	    err->code[0] ? err->code :
	    err->transport != TRANSPORT_OK ? transport_error_name(err->transport) : "-",
	    err->message[0] ? err->message : "-", err->request_id[0] ? err->request_id : "-");
}

/* A call refused before anything is sent. */
static int
refuse(const struct call *c, struct s3_error *err, const char *why)
{
	memset(err, 0, sizeof *err);
	err->kind = S3_ERR_BAD_REQUEST;
	snprintf(err->message, sizeof err->message, "%s", why);
	log_failure(c, err);
	return -1;
}

/* A call whose answer cannot be used (after a 2xx): logged once, as the other failures. */
static int
unusable(const struct call *c, struct s3_error *err, const char *why)
{
	err->kind = S3_ERR_OTHER;
	snprintf(err->message, sizeof err->message, "%s", why);
	log_failure(c, err);
	return -1;
}

static bool
lower_hex64(const char *h)
{
	size_t i;

	for (i = 0; i < SIGV4_HEX_LEN; i++)
		if (!isdigit((unsigned char)h[i]) && !(h[i] >= 'a' && h[i] <= 'f'))
			return false;
	return h[i] == '\0';
}

/* Path, URL and payload hash of a call. NULL when fine, else why it is refused. */
static const char *
prepare(struct s3 *s, const struct call *c, struct prepared *pr)
{
	const struct s3_body *b = c->body;

	if (c->key != NULL && !s3_key_valid(c->key))
		return "key not accepted (empty, over 1024 bytes, not UTF-8, control "
		    "characters, or a \".\"/\"..\" segment)";
	if (c->content_type != NULL && !no_controls(c->content_type, MAX_HEADER_TEXT))
		return "content type with control characters or too long";
	if (c->key != NULL)
		object_path(s, c->key, &pr->path);
	else
		buf_appends(&pr->path, bucket_path(s));
	buf_printf(&pr->url, "%s%s", s->origin, buf_str(&pr->path));
	if (c->query != NULL && *c->query)
		buf_printf(&pr->url, "?%s", c->query);
	pr->payload = SIGV4_PAYLOAD_PRECOMPUTED;
	if (b != NULL) {
		pr->stream.b = b;
		if ((b->data != NULL && b->read != NULL) ||
		    (b->data == NULL && b->read == NULL && b->len > 0) ||
		    (b->rewind != NULL && b->read == NULL))
			return "a body is either in memory or streamed";
		if ((uint64_t)b->len > S3_MAX_PUT)
			return "body over 5 GiB";
		if (b->sha256 != NULL) {
			if (!lower_hex64(b->sha256))
				return "body SHA-256 is not 64 lower-case hex digits";
			memcpy(pr->hash, b->sha256, SIGV4_HEX_LEN + 1);
		} else if (b->read == NULL) {
			if (sigv4_sha256_hex(b->data, b->len, pr->hash) == -1)
				return "cannot hash the body";
		} else if (s->unsigned_ok)
			pr->payload = SIGV4_PAYLOAD_UNSIGNED;
		else
			return "a streamed body to a plain-http endpoint needs its SHA-256";
	} else if (c->mem != NULL) {
		if (sigv4_sha256_hex(c->mem, c->mem_len, pr->hash) == -1)
			return "cannot hash the body";
	} else
		memcpy(pr->hash, EMPTY_SHA256, sizeof pr->hash);
	return NULL;
}

/*
 * Runs the call with the retries of s3.h. On success (0) *resp holds the final answer (free it
 * with transport_response_free); on failure (-1, logged) *resp is empty.
 */
static int
run(struct s3 *s, const struct call *c, struct transport_response *resp, struct s3_error *err)
{
	struct prepared pr;
	struct outcome o;
	enum ddb_retry_class cls;
	const char *why;
	struct aws_call call;
	int rc = -1;
	int64_t skew, delay, now_s;

	memset(err, 0, sizeof *err);
	memset(resp, 0, sizeof *resp);
	memset(&pr, 0, sizeof pr);
	if ((why = prepare(s, c, &pr)) != NULL) {
		buf_free(&pr.path);
		buf_free(&pr.url);
		return refuse(c, err, why);
	}
	aws_call_begin(&call, &s->retry);
	for (;;) {
		delay = -1;	/* no backoff before the next attempt */
		attempt(s, c, &pr, &o);
		err->attempts++;
		err->status = o.resp.status;
		err->transport = o.rc == -1 ? o.resp.error : TRANSPORT_OK;
		snprintf(err->code, sizeof err->code, "%s", o.code);
		snprintf(err->request_id, sizeof err->request_id, "%s", o.request_id);
		if (o.rc == -1 && o.message[0] == '\0')
			copy_first_line(o.message, sizeof o.message, o.resp.message);
		snprintf(err->message, sizeof err->message, "%s", o.message);

		if (o.no_creds || o.sign_failed) {
			err->kind = o.no_creds ? S3_ERR_ACCESS_DENIED : S3_ERR_OTHER;
			break;
		}
		if (o.rc == 0 && o.ok) {
			aws_call_succeeded(&call);
			*resp = o.resp;
			memset(&o.resp, 0, sizeof o.resp);
			err->kind = S3_OK;
			err->code[0] = '\0';
			err->message[0] = '\0';
			rc = 0;
			goto done;
		}
		now_s = clock_now_ms() / 1000;
		if (o.rc == 0 && aws_call_fix_skew(&call, o.resp.status, o.code, o.message,
		    transport_response_header(&o.resp, "Date"), now_s, &skew)) {
			log_msg(LOG_WARN, c->func, "S3 %s: clock skew: the service's Date is %+lld s "
			    "from our clock; signing with the correction from now on (request id %s)", c->op,
			    (long long)skew, o.request_id[0] ? o.request_id : "-");
		} else if (o.rc == 0 && aws_call_fix_creds(&call, o.code, s->creds, now_s)) {
			log_msg(LOG_INFO, c->func, "S3 %s: %s; retrying with refreshed credentials",
			    c->op, o.code);
		} else {
			cls = s3_retry_classify(err->transport, o.resp.status, o.code);
			if (!aws_call_may_retry(&call, cls, err->attempts))
				break;
			if (pr.stream.consumed > 0 && c->body->rewind == NULL) {
				log_msg(LOG_DEBUG, c->func, "S3 %s: not retried: the body was "
				    "consumed and cannot be rewound", c->op);
				break;
			}
			if ((delay = aws_call_backoff(&call, cls)) < 0) {
				log_msg(LOG_DEBUG, c->func, "S3 %s: retry quota exhausted", c->op);
				break;
			}
			log_msg(LOG_DEBUG, c->func, "S3 %s: attempt %d failed (HTTP %d, %s); retrying "
			    "in %lld ms", c->op,
			    err->attempts, o.resp.status,
			    o.code[0] ? o.code : transport_error_name(err->transport),
			    (long long)delay);
		}
		/* The body is sent again only if it can be: untouched, or rewound. */
		if (pr.stream.consumed > 0) {
			if (c->body->rewind == NULL) {
				log_msg(LOG_DEBUG, c->func, "S3 %s: not retried: the body was "
				    "consumed and cannot be rewound", c->op);
				break;
			}
			if (stream_rewind(&pr.stream) == -1) {
				snprintf(err->message, sizeof err->message, "%.200s (and the body "
				    "could not be rewound)", o.message);
				break;
			}
		}
		if (delay >= 0)
			aws_retry_sleep(&s->retry, delay);
		transport_response_free(&o.resp);
	}
	if (err->kind == S3_OK)
		err->kind = s3_error_kind(err->transport, o.resp.status, o.code);
	if (err->kind == S3_OK)		/* cannot happen: a 2xx without a code succeeded */
		err->kind = S3_ERR_OTHER;
	log_failure(c, err);
done:
	transport_response_free(&o.resp);
	buf_free(&pr.path);
	buf_free(&pr.url);
	return rc;
}

static int
etag_out(const struct transport_response *r, char etag[S3_ETAG_MAX])
{
	const char *v = transport_response_header(r, "ETag");

	if (etag == NULL)
		return 0;
	etag[0] = '\0';
	if (v == NULL)
		return 0;
	return copy_etag(etag, v, strlen(v));
}

/* ------------------------------------------------------------------ operations */

int
s3_put_object(struct s3 *s, const char *key, const struct s3_body *body,
    const char *content_type, char etag[S3_ETAG_MAX], struct s3_error *err)
{
	struct transport_response r;
	struct call c = { .func = __func__, .op = "PutObject", .method = "PUT", .key = key,
	    .content_type = content_type, .body = body };
	int rc;

	if (etag != NULL)
		etag[0] = '\0';
	if (body == NULL)
		return refuse(&c, err, "no body");
	if (run(s, &c, &r, err) == -1)
		return -1;
	rc = etag_out(&r, etag) == 0 ? 0 : unusable(&c, err, "unusable ETag in the answer");
	transport_response_free(&r);
	return rc;
}

int
s3_head_object(struct s3 *s, const char *key, struct s3_head *out, struct s3_error *err)
{
	struct transport_response r;
	struct call c = { .func = __func__, .op = "HeadObject", .method = "HEAD", .key = key,
	    .quiet_404 = true };
	const char *v;
	int64_t n;
	int rc = 0;

	memset(out, 0, sizeof *out);
	if (run(s, &c, &r, err) == -1)
		return -1;
	v = transport_response_header(&r, "Content-Length");
	if (v == NULL || num_parse_i64(v, 0, INT64_MAX, &n) == -1)
		rc = unusable(&c, err, "no usable Content-Length in the answer");
	else
		out->size = (uint64_t)n;
	if (rc == 0 && etag_out(&r, out->etag) == -1)
		rc = unusable(&c, err, "unusable ETag in the answer");
	if ((v = transport_response_header(&r, "Content-Type")) != NULL &&
	    strlen(v) < sizeof out->content_type)
		snprintf(out->content_type, sizeof out->content_type, "%s", v);
	if ((v = transport_response_header(&r, "Last-Modified")) != NULL &&
	    transport_parse_http_date(v, &n) == 0)
		out->last_modified = n;
	transport_response_free(&r);
	return rc;
}

int
s3_delete_object(struct s3 *s, const char *key, struct s3_error *err)
{
	struct transport_response r;
	struct call c = { .func = __func__, .op = "DeleteObject", .method = "DELETE", .key = key,
	    .ok_404 = true };

	if (run(s, &c, &r, err) == -1)
		return -1;
	transport_response_free(&r);
	return 0;
}

static bool
valid_upload_id(const char *id)
{
	return id != NULL && id[0] != '\0' && no_controls(id, MAX_UPLOAD_ID);
}

int
s3_multipart_create(struct s3 *s, const char *key, const char *content_type, char **upload_id,
    struct s3_error *err)
{
	struct transport_response r;
	struct call c = { .func = __func__, .op = "CreateMultipartUpload", .method = "POST",
	    .key = key, .query = "uploads", .content_type = content_type };
	struct buf id = BUF_INIT;
	struct leaf_want want = { "UploadId", &id, false };
	int rc = 0;

	*upload_id = NULL;
	if (run(s, &c, &r, err) == -1)
		return -1;
	if (get_leaves(r.body.data, r.body.len, "InitiateMultipartUploadResult", &want, 1) == -1 ||
	    !want.found || !valid_upload_id(buf_str(&id)))
		rc = unusable(&c, err, "no usable UploadId in the answer");
	else
		*upload_id = buf_detach(&id);
	buf_free(&id);
	transport_response_free(&r);
	return rc;
}

static void
upload_query(struct buf *q, int part_number, const char *upload_id)
{
	if (part_number > 0)
		buf_printf(q, "partNumber=%d&", part_number);
	buf_appends(q, "uploadId=");
	s3_encode_query(q, upload_id);
}

int
s3_multipart_upload_part(struct s3 *s, const char *key, const char *upload_id, int part_number,
    const struct s3_body *body, char etag[S3_ETAG_MAX], struct s3_error *err)
{
	struct transport_response r;
	struct buf q = BUF_INIT;
	struct call c = { .func = __func__, .op = "UploadPart", .method = "PUT", .key = key,
	    .body = body };
	int rc = -1;

	etag[0] = '\0';
	if (!valid_upload_id(upload_id) || part_number < 1 || part_number > S3_MAX_PARTS ||
	    body == NULL)
		return refuse(&c, err, "bad upload id, part number or body");
	upload_query(&q, part_number, upload_id);
	c.query = buf_str(&q);
	if (run(s, &c, &r, err) == 0) {
		if (etag_out(&r, etag) == -1 || etag[0] == '\0')
			rc = unusable(&c, err, "no usable ETag in the answer");
		else
			rc = 0;
		transport_response_free(&r);
	}
	buf_free(&q);
	return rc;
}

int
s3_multipart_complete(struct s3 *s, const char *key, const char *upload_id,
    const struct s3_part *parts, size_t nparts, char etag[S3_ETAG_MAX], struct s3_error *err)
{
	struct transport_response r;
	struct buf q = BUF_INIT, xml = BUF_INIT, tag = BUF_INIT;
	struct leaf_want want = { "ETag", &tag, false };
	struct call c = { .func = __func__, .op = "CompleteMultipartUpload", .method = "POST",
	    .key = key, .content_type = "application/xml", .error_in_200 = true };
	int rc = -1;

	if (etag != NULL)
		etag[0] = '\0';
	if (!valid_upload_id(upload_id) || s3_complete_xml(&xml, parts, nparts) == -1)
		return refuse(&c, err, "bad upload id or part list");
	upload_query(&q, 0, upload_id);
	c.query = buf_str(&q);
	c.mem = xml.data;
	c.mem_len = xml.len;
	if (run(s, &c, &r, err) == 0) {
		if (get_leaves(r.body.data, r.body.len, "CompleteMultipartUploadResult", &want,
		    1) == -1)
			rc = unusable(&c, err, "the answer is not a CompleteMultipartUploadResult");
		else if (etag != NULL && want.found && copy_etag(etag, tag.data, tag.len) == -1)
			rc = unusable(&c, err, "unusable ETag in the answer");
		else
			rc = 0;
		transport_response_free(&r);
	}
	buf_free(&tag);
	buf_free(&xml);
	buf_free(&q);
	return rc;
}

int
s3_multipart_abort(struct s3 *s, const char *key, const char *upload_id, struct s3_error *err)
{
	struct transport_response r;
	struct buf q = BUF_INIT;
	struct call c = { .func = __func__, .op = "AbortMultipartUpload", .method = "DELETE",
	    .key = key, .ok_404 = true };
	int rc;

	if (!valid_upload_id(upload_id))
		return refuse(&c, err, "bad upload id");
	upload_query(&q, 0, upload_id);
	c.query = buf_str(&q);
	rc = run(s, &c, &r, err);
	if (rc == 0)
		transport_response_free(&r);
	buf_free(&q);
	return rc;
}

int
s3_list_objects(struct s3 *s, const char *prefix, const char *token, int max_keys,
    struct s3_list *out, struct s3_error *err)
{
	struct transport_response r;
	struct buf q = BUF_INIT;
	struct call c = { .func = __func__, .op = "ListObjectsV2", .method = "GET" };
	char why[160];
	int rc = -1;

	memset(out, 0, sizeof *out);
	if (max_keys < 0 || max_keys > S3_MAX_LIST_KEYS ||
	    (prefix != NULL && *prefix && !no_controls(prefix, S3_MAX_KEY)) ||
	    (token != NULL && (*token == '\0' || !no_controls(token, 4096))))
		return refuse(&c, err, "bad prefix, token or max-keys");
	/* In the order S3 sorts them for signing; any order would do on the wire. */
	if (token != NULL) {
		buf_appends(&q, "continuation-token=");
		s3_encode_query(&q, token);
		buf_appendc(&q, '&');
	}
	buf_printf(&q, "list-type=2&max-keys=%d", max_keys ? max_keys : S3_MAX_LIST_KEYS);
	if (prefix != NULL && *prefix) {
		buf_appends(&q, "&prefix=");
		s3_encode_query(&q, prefix);
	}
	c.query = buf_str(&q);
	if (run(s, &c, &r, err) == 0) {
		if (s3_list_parse(r.body.data, r.body.len, token, out, why, sizeof why) == -1)
			rc = unusable(&c, err, why);
		else
			rc = 0;
		transport_response_free(&r);
	}
	buf_free(&q);
	return rc;
}

/* ------------------------------------------------------------------ presigned GET */

int
s3_presign_get(struct s3 *s, const char *key, long expires_s, const char *content_disposition,
    const char *content_type, int64_t now, char **url)
{
	struct aws_credentials creds;
	struct sigv4_header sh;
	struct sigv4_request sreq;
	struct sigv4_params sp;
	struct sigv4_result res;
	struct buf path = BUF_INIT, q = BUF_INIT, u = BUF_INIT;
	char date[SIGV4_DATE_LEN + 1];
	int rc = -1;

	*url = NULL;
	memset(&res, 0, sizeof res);
	memset(&creds, 0, sizeof creds);
	if (!s3_key_valid(key) || expires_s < 1 || expires_s > SIGV4_MAX_EXPIRES ||
	    (content_disposition != NULL && !no_controls(content_disposition, MAX_HEADER_TEXT)) ||
	    (content_type != NULL && !no_controls(content_type, MAX_HEADER_TEXT))) {
		log_warnx("S3 presigned GET: bad key, expiry, disposition or content type");
		return -1;
	}
	if (credentials_get(s->creds, now, &creds) == -1) {
		log_warnx("S3 presigned GET: no usable AWS credentials");
		return -1;
	}
	object_path(s, key, &path);
	if (content_disposition != NULL) {
		buf_appends(&q, "response-content-disposition=");
		s3_encode_query(&q, content_disposition);
	}
	if (content_type != NULL) {
		buf_appends(&q, q.len ? "&response-content-type=" : "response-content-type=");
		s3_encode_query(&q, content_type);
	}
	format_amz_date(now + s->retry.skew, date);
	sh.name = "Host";
	sh.value = s->host_header;
	memset(&sreq, 0, sizeof sreq);
	sreq.method = "GET";
	sreq.path = buf_str(&path);
	sreq.query = buf_str(&q);
	sreq.headers = &sh;
	sreq.nheaders = 1;
	sreq.payload = SIGV4_PAYLOAD_UNSIGNED;
	memset(&sp, 0, sizeof sp);
	sp.region = s->region;
	sp.service = "s3";
	sp.amz_date = date;
	sp.creds.access_key_id = creds.access_key_id;
	sp.creds.secret_access_key = creds.secret_access_key;
	sp.creds.session_token = creds.session_token;
	sp.no_normalize_path = true;
	sp.no_double_encode = true;
	if (sigv4_presign(&sreq, &sp, expires_s, &res) == -1) {
		log_warnx("S3 presigned GET: signing failed: %s", res.error ? res.error : "?");
		goto done;
	}
	buf_printf(&u, "%s%s?%s", s->origin, buf_str(&path), buf_str(&res.presigned_query));
	*url = buf_detach(&u);
	rc = 0;
done:
	sigv4_result_free(&res);
	aws_credentials_clear(&creds);
	buf_free(&path);
	buf_free(&q);
	buf_free(&u);
	return rc;
}

/* ------------------------------------------------------------------ presigned POST */

static void
json_pair(struct buf *out, const char *name, const char *value)
{
	buf_appends(out, ",{\"");
	buf_append_json_str(out, name, strlen(name));
	buf_appends(out, "\":\"");
	buf_append_json_str(out, value, strlen(value));
	buf_appends(out, "\"}");
}

int
s3_post_policy(struct buf *out, const char *expiration, const char *bucket, const char *key,
    uint64_t min_size, uint64_t max_size, const char *content_type, const char *credential,
    const char *amz_date, const char *token)
{
	if (expiration == NULL || bucket == NULL || !s3_key_valid(key) || min_size > max_size ||
	    credential == NULL || amz_date == NULL ||
	    (content_type != NULL && !no_controls(content_type, MAX_HEADER_TEXT)))
		return -1;
	buf_appends(out, "{\"expiration\":\"");
	buf_append_json_str(out, expiration, strlen(expiration));
	buf_appends(out, "\",\"conditions\":[{\"bucket\":\"");
	buf_append_json_str(out, bucket, strlen(bucket));
	buf_appends(out, "\"}");
	json_pair(out, "key", key);
	buf_printf(out, ",[\"content-length-range\",%llu,%llu]", (unsigned long long)min_size,
	    (unsigned long long)max_size);
	if (content_type != NULL)
		json_pair(out, "Content-Type", content_type);
	json_pair(out, "x-amz-algorithm", SIGV4_ALGORITHM);
	json_pair(out, "x-amz-credential", credential);
	json_pair(out, "x-amz-date", amz_date);
	if (token != NULL && *token)
		json_pair(out, "x-amz-security-token", token);
	buf_appends(out, "]}");
	return 0;
}

static int
hmac256(const void *key, size_t keylen, const void *data, size_t n, unsigned char out[32])
{
	unsigned int outlen = 0;

	if (keylen > INT_MAX)
		return -1;
	if (HMAC(EVP_sha256(), key, (int)keylen, data, n, out, &outlen) == NULL || outlen != 32)
		return -1;
	return 0;
}

int
s3_post_signature(const char *secret, const char *date8, const char *region,
    const char *policy_b64, char out[65])
{
	unsigned char k1[32], k2[32];
	size_t slen, i;
	char *ksecret;
	int rc = -1;

	out[0] = '\0';
	if (secret == NULL || *secret == '\0' || date8 == NULL || strlen(date8) != 8 ||
	    region == NULL || *region == '\0' || policy_b64 == NULL || *policy_b64 == '\0')
		return -1;
	for (i = 0; i < 8; i++)
		if (!isdigit((unsigned char)date8[i]))
			return -1;
	slen = strlen(secret);
	ksecret = xmalloc(slen + 4);
	memcpy(ksecret, "AWS4", 4);
	memcpy(ksecret + 4, secret, slen);
	if (hmac256(ksecret, slen + 4, date8, 8, k1) == -1 ||			/* kDate */
	    hmac256(k1, 32, region, strlen(region), k2) == -1 ||		/* kRegion */
	    hmac256(k2, 32, "s3", 2, k1) == -1 ||				/* kService */
	    hmac256(k1, 32, "aws4_request", 12, k2) == -1 ||			/* kSigning */
	    hmac256(k2, 32, policy_b64, strlen(policy_b64), k1) == -1)
		goto done;
	hex_encode(k1, 32, out);
	rc = 0;
done:
	OPENSSL_cleanse(ksecret, slen + 4);
	OPENSSL_cleanse(k1, sizeof k1);
	OPENSSL_cleanse(k2, sizeof k2);
	free(ksecret);
	return rc;
}

static void
add_field(struct s3_post_form *f, const char *name, const char *value)
{
	if (f->nfields >= S3_POST_MAX_FIELDS)	/* fixed by construction */
		abort();
	f->fields[f->nfields].name = xstrdup(name);
	f->fields[f->nfields].value = xstrdup(value);
	f->nfields++;
}

void
s3_post_form_free(struct s3_post_form *f)
{
	size_t i;

	if (f == NULL)
		return;
	free(f->url);
	for (i = 0; i < f->nfields && i < S3_POST_MAX_FIELDS; i++) {
		free(f->fields[i].name);
		if (f->fields[i].value != NULL) {
			OPENSSL_cleanse(f->fields[i].value, strlen(f->fields[i].value));
			free(f->fields[i].value);
		}
	}
	memset(f, 0, sizeof *f);
}

int
s3_presign_post(struct s3 *s, const struct s3_post_params *p, int64_t now,
    struct s3_post_form *out)
{
	struct aws_credentials creds;
	struct buf policy = BUF_INIT, cred = BUF_INIT, url = BUF_INIT;
	char date[SIGV4_DATE_LEN + 1], date8[9], expiration[32], sig[65], *b64 = NULL;
	time_t exp_t;
	struct tm tm;
	int rc = -1;

	memset(out, 0, sizeof *out);
	memset(&creds, 0, sizeof creds);
	if (p == NULL || !s3_key_valid(p->key) || p->min_size > p->max_size ||
	    p->max_size > S3_MAX_PUT || p->expires_s < 1 || p->expires_s > SIGV4_MAX_EXPIRES ||
	    (p->content_type != NULL && !no_controls(p->content_type, MAX_HEADER_TEXT))) {
		log_warnx("S3 presigned POST: bad key, size range, expiry or content type");
		return -1;
	}
	if (credentials_get(s->creds, now, &creds) == -1) {
		log_warnx("S3 presigned POST: no usable AWS credentials");
		return -1;
	}
	format_amz_date(now + s->retry.skew, date);
	memcpy(date8, date, 8);
	date8[8] = '\0';
	exp_t = (time_t)(now + s->retry.skew + p->expires_s);
	gmtime_r(&exp_t, &tm);
	strftime(expiration, sizeof expiration, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
	buf_printf(&cred, "%s/%s/%s/s3/aws4_request", creds.access_key_id, date8, s->region);
	if (s3_post_policy(&policy, expiration, s->bucket, p->key, p->min_size, p->max_size,
	    p->content_type, buf_str(&cred), date, creds.session_token) == -1) {
		log_warnx("S3 presigned POST: cannot build the policy");
		goto done;
	}
	b64 = xmalloc(4 * ((policy.len + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)policy.data, (int)policy.len);
	if (s3_post_signature(creds.secret_access_key, date8, s->region, b64, sig) == -1) {
		log_warnx("S3 presigned POST: signing failed");
		goto done;
	}
	buf_printf(&url, "%s%s", s->origin, bucket_path(s));
	out->url = buf_detach(&url);
	add_field(out, "key", p->key);
	if (p->content_type != NULL)
		add_field(out, "Content-Type", p->content_type);
	add_field(out, "x-amz-algorithm", SIGV4_ALGORITHM);
	add_field(out, "x-amz-credential", buf_str(&cred));
	add_field(out, "x-amz-date", date);
	if (creds.session_token != NULL && *creds.session_token)
		add_field(out, "x-amz-security-token", creds.session_token);
	add_field(out, "policy", b64);
	add_field(out, "x-amz-signature", sig);
	rc = 0;
done:
	if (policy.data != NULL)
		OPENSSL_cleanse(policy.data, policy.len);
	buf_free(&policy);
	buf_free(&cred);
	buf_free(&url);
	free(b64);
	OPENSSL_cleanse(sig, sizeof sig);
	aws_credentials_clear(&creds);
	if (rc == -1)
		s3_post_form_free(out);
	return rc;
}
