/*
 * sigv4: AWS Signature Version 4. The steps follow AWS's description (canonical request,
 * string to sign, derived signing key, signature); where the SDKs differ in details the
 * choice made here is the one stated in sigv4.h and checked in tests/sigv4/.
 */
#include "aws/sigv4.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "buf.h"
#include "encode.h"
#include "xmalloc.h"

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* One canonical header: lower-cased name, canonical value, original position (stable sort). */
struct canon_header {
	char	*name;
	char	*value;
	size_t	 index;
};

/* One query parameter, both halves already in canonical (encoded) form. */
struct canon_param {
	struct buf	key;
	struct buf	value;
};

/*
 * Query parameters that carry a signature. A request that already has one is either already
 * presigned or confused; signing it again would produce something no service accepts.
 */
static const char *const auth_params[] = {
	"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
	"X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token",
};

/* Headers the signer adds itself: the caller must not pass them. */
static const char *const owned_headers[] = {
	"authorization", "x-amz-date", "x-amz-security-token",
};

/*
 * Headers never signed: HTTP clients and proxies add or rewrite them (curl's Expect:
 * 100-continue, User-Agent, tracing). botocore and @smithy/signature-v4 both skip these.
 */
static const char *const unsigned_headers[] = {
	"expect", "user-agent", "x-amzn-trace-id",
};

static int
is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '_' || c == '.' || c == '~';
}

static int
is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int
hex_val(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return c - 'A' + 10;
}

/* RFC 7230 tchar: what a method or a header name may consist of. */
static int
is_tchar(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int
is_token(const char *s)
{
	if (s == NULL || *s == '\0')
		return 0;
	for (; *s; s++)
		if (!is_tchar((unsigned char)*s))
			return 0;
	return 1;
}

/* Non-empty printable ASCII without space and without any byte of except. */
static int
is_plain(const char *s, const char *except)
{
	if (s == NULL || *s == '\0')
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f || strchr(except, *s))
			return 0;
	return 1;
}

/* No control characters (CR and LF would let a value smuggle in another header). */
static int
no_controls(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return 0;
	return 1;
}

static int
is_lower_hex64(const char *s)
{
	size_t i;

	if (s == NULL || strlen(s) != SIGV4_HEX_LEN)
		return 0;
	for (i = 0; i < SIGV4_HEX_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* YYYYMMDDTHHMMSSZ naming a real UTC second (leap years counted, no leap seconds). */
static int
valid_amz_date(const char *s)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d, h, mi, se, dim;
	size_t i;

	if (s == NULL || strlen(s) != SIGV4_DATE_LEN || s[8] != 'T' || s[15] != 'Z')
		return 0;
	for (i = 0; i < 15; i++)
		if (i != 8 && (s[i] < '0' || s[i] > '9'))
			return 0;
#define D2(p) (((p)[0] - '0') * 10 + ((p)[1] - '0'))
	y = D2(s) * 100 + D2(s + 2);
	mo = D2(s + 4);
	d = D2(s + 6);
	h = D2(s + 9);
	mi = D2(s + 11);
	se = D2(s + 13);
#undef D2
	if (mo < 1 || mo > 12 || h > 23 || mi > 59 || se > 59)
		return 0;
	dim = mdays[mo - 1];
	if (mo == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		dim = 29;
	return d >= 1 && d <= dim;
}

/* Appends s/n with every byte outside the unreserved set (and '/' if keep_slash) as %XX. */
static void
uri_encode(struct buf *out, const unsigned char *s, size_t n, int keep_slash)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (is_unreserved(s[i]) || (keep_slash && s[i] == '/'))
			buf_appendc(out, (char)s[i]);
		else
			buf_printf(out, "%%%02X", s[i]);
	}
}

/*
 * The S3 path, used as sent: legal URI path characters (RFC 3986 pchar and '/') and existing
 * escapes pass through; only what could not have been on the wire is encoded.
 */
static void
uri_encode_wire_path(struct buf *out, const unsigned char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && is_hex(s[i + 1]) && is_hex(s[i + 2]))
			buf_appendc(out, '%');
		else if (is_unreserved(s[i]) || (s[i] != '\0' && strchr("/!$&'()*+,;=:@", s[i])))
			buf_appendc(out, (char)s[i]);
		else
			buf_printf(out, "%%%02X", s[i]);
	}
}

/* Appends the percent-decoded s/n to out ('+' stays a plus; a stray '%' stays itself). */
static void
uri_decode(struct buf *out, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && is_hex((unsigned char)s[i + 1]) &&
		    is_hex((unsigned char)s[i + 2])) {
			buf_appendc(out, (char)(hex_val((unsigned char)s[i + 1]) * 16 +
			    hex_val((unsigned char)s[i + 2])));
			i += 2;
		} else
			buf_appendc(out, s[i]);
	}
}

/*
 * Removes empty and "." segments and resolves ".." (never above the root), keeping a trailing
 * slash when something is left: what botocore, smithy and aws-c-auth all do.
 */
static void
normalize_path(struct buf *out, const char *path)
{
	size_t n = strlen(path), nseg = 0, i, start, len;
	size_t *segs = xcalloc(n / 2 + 2, sizeof *segs * 2);

	for (i = 0; i <= n; ) {
		start = i;
		while (i < n && path[i] != '/')
			i++;
		len = i - start;
		if (len == 0 || (len == 1 && path[start] == '.'))
			;
		else if (len == 2 && path[start] == '.' && path[start + 1] == '.') {
			if (nseg > 0)
				nseg--;
		} else {
			segs[2 * nseg] = start;
			segs[2 * nseg + 1] = len;
			nseg++;
		}
		i++;
	}
	buf_appendc(out, '/');
	for (i = 0; i < nseg; i++) {
		if (i > 0)
			buf_appendc(out, '/');
		buf_append(out, path + segs[2 * i], segs[2 * i + 1]);
	}
	if (nseg > 0 && n > 0 && path[n - 1] == '/')
		buf_appendc(out, '/');
	free(segs);
}

static void
canonical_path(struct buf *out, const char *path, const struct sigv4_params *p)
{
	struct buf norm = BUF_INIT;

	if (p->no_normalize_path)
		buf_appends(&norm, path);
	else
		normalize_path(&norm, path);
	if (p->no_double_encode)
		uri_encode_wire_path(out, (const unsigned char *)norm.data, norm.len);
	else
		uri_encode(out, (const unsigned char *)norm.data, norm.len, 1);
	buf_free(&norm);
}

static int
param_cmp(const void *a, const void *b)
{
	const struct canon_param *x = a, *y = b;
	int c = strcmp(buf_str(&x->key), buf_str(&y->key));

	return c ? c : strcmp(buf_str(&x->value), buf_str(&y->value));
}

static int
header_cmp(const void *a, const void *b)
{
	const struct canon_header *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Appends an already-decoded parameter to the list, encoding both halves. */
static void
param_add(struct canon_param **v, size_t *n, size_t *cap, const char *k, size_t klen,
    const char *val, size_t vlen)
{
	struct canon_param *cp;

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*v = xrealloc(*v, *cap * sizeof **v);
	}
	cp = &(*v)[(*n)++];
	memset(cp, 0, sizeof *cp);
	uri_encode(&cp->key, (const unsigned char *)k, klen, 0);
	uri_encode(&cp->value, (const unsigned char *)val, vlen, 0);
	buf_append(&cp->key, "", 0);	/* never NULL data, even when empty */
	buf_append(&cp->value, "", 0);
}

/* Lowers s in place (ASCII only: header names are tokens). */
static void
lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Trims s and collapses inner runs of space, tab, CR and LF to one space. */
static void
trimall(struct buf *out, const char *s)
{
	int pending = 0;

	while (is_ws(*s))
		s++;
	for (; *s; s++) {
		if (is_ws(*s)) {
			pending = 1;
			continue;
		}
		if (pending)
			buf_appendc(out, ' ');
		pending = 0;
		buf_appendc(out, *s);
	}
	buf_append(out, "", 0);
}

static int
in_list(const char *s, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcasecmp(s, list[i]))
			return 1;
	return 0;
}

int
sigv4_sha256_hex(const void *p, size_t n, char out[SIGV4_HEX_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(p ? p : "", n, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		return -1;
	hex_encode(md, 32, out);
	return 0;
}

/* out = HMAC-SHA256(key, data); 0 or -1. */
static int
hmac256(const void *key, size_t keylen, const void *data, size_t n, unsigned char out[32])
{
	unsigned int outlen = 0;

	if (keylen > INT_MAX)
		return -1;
	if (HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)data, n, out,
	    &outlen) == NULL || outlen != 32)
		return -1;
	return 0;
}

/*
 * signature = hex(HMAC(kSigning, string_to_sign)), kSigning derived from "AWS4"+secret through
 * the date, region, service and "aws4_request". Every key is wiped before returning.
 */
static int
compute_signature(const struct sigv4_params *p, const struct buf *sts, char out[65])
{
	size_t slen = strlen(p->creds.secret_access_key);
	unsigned char k1[32], k2[32], sig[32];
	char *ksecret = xmalloc(slen + 4);
	int rc = -1;

	memcpy(ksecret, "AWS4", 4);
	memcpy(ksecret + 4, p->creds.secret_access_key, slen);
	if (hmac256(ksecret, slen + 4, p->amz_date, 8, k1) == -1 ||		/* kDate */
	    hmac256(k1, 32, p->region, strlen(p->region), k2) == -1 ||		/* kRegion */
	    hmac256(k2, 32, p->service, strlen(p->service), k1) == -1 ||	/* kService */
	    hmac256(k1, 32, "aws4_request", 12, k2) == -1 ||			/* kSigning */
	    hmac256(k2, 32, sts->data, sts->len, sig) == -1)
		goto fail;
	hex_encode(sig, 32, out);
	rc = 0;
fail:
	OPENSSL_cleanse(ksecret, slen + 4);
	OPENSSL_cleanse(k1, sizeof k1);
	OPENSSL_cleanse(k2, sizeof k2);
	OPENSSL_cleanse(sig, sizeof sig);
	free(ksecret);
	return rc;
}

static void
add_header(struct sigv4_result *res, const char *name, const char *value)
{
	/* The count is fixed by construction (token, date, content hash, authorization). */
	if (res->nadded >= SIGV4_MAX_ADDED)
		abort();
	res->added[res->nadded].name = name;
	res->added[res->nadded].value = xstrdup(value);
	res->nadded++;
}

static int
validate(const struct sigv4_request *rq, const struct sigv4_params *p, long expires,
    const char **err)
{
	size_t i;

	if (rq == NULL || p == NULL)
		*err = "no request or no parameters";
	else if (!is_token(rq->method))
		*err = "method is not an HTTP token";
	else if (rq->path == NULL || rq->path[0] != '/' || !no_controls(rq->path) ||
	    strpbrk(rq->path, "?#") != NULL)
		*err = "path must start with '/' and hold no '?', '#' or control characters";
	else if (rq->query != NULL && (!no_controls(rq->query) || strchr(rq->query, '#')))
		*err = "query holds '#' or control characters";
	else if (rq->nheaders > 0 && rq->headers == NULL)
		*err = "headers missing";
	else if (rq->body == NULL && rq->body_len > 0)
		*err = "body missing";
	else if (rq->payload != SIGV4_PAYLOAD_BODY && rq->payload != SIGV4_PAYLOAD_UNSIGNED &&
	    rq->payload != SIGV4_PAYLOAD_PRECOMPUTED)
		*err = "unknown payload kind";
	else if (rq->payload == SIGV4_PAYLOAD_PRECOMPUTED && !is_lower_hex64(rq->payload_hash))
		*err = "payload hash is not 64 lower-case hex digits";
	else if (!is_plain(p->region, "/"))
		*err = "region is empty or not printable ASCII";
	else if (!is_plain(p->service, "/"))
		*err = "service is empty or not printable ASCII";
	else if (!valid_amz_date(p->amz_date))
		*err = "date is not a valid YYYYMMDDTHHMMSSZ";
	else if (!is_plain(p->creds.access_key_id, "/,"))
		*err = "access key id is empty or not printable ASCII";
	else if (p->creds.secret_access_key == NULL || p->creds.secret_access_key[0] == '\0')
		*err = "secret access key is empty";
	else if (p->creds.session_token != NULL && !no_controls(p->creds.session_token))
		*err = "session token holds control characters";
	else if (expires != 0 && (expires < 1 || expires > SIGV4_MAX_EXPIRES))
		*err = "expiry must be 1 to 604800 seconds";
	else if (expires != 0 && p->add_content_sha256)
		*err = "x-amz-content-sha256 cannot be added to a presigned request";
	else
		*err = NULL;
	if (*err != NULL)
		return -1;
	for (i = 0; i < rq->nheaders; i++) {
		if (!is_token(rq->headers[i].name))
			*err = "header name is not an HTTP token";
		else if (rq->headers[i].value == NULL)
			*err = "header value missing";
		else if (in_list(rq->headers[i].name, owned_headers,
		    sizeof owned_headers / sizeof owned_headers[0]))
			*err = "Authorization, X-Amz-Date and X-Amz-Security-Token are the signer's";
		else if (!strcasecmp(rq->headers[i].name, "x-amz-content-sha256") &&
		    p->add_content_sha256)
			*err = "x-amz-content-sha256 given while add_content_sha256 is set";
		if (*err != NULL)
			return -1;
	}
	return 0;
}

/*
 * The canonical headers, sorted and merged (repeated names joined with ','), plus the ones the
 * signer adds. Fills res->signed_headers and appends "name:value\n" lines to cr.
 */
static int
canonical_headers(const struct sigv4_request *rq, const struct sigv4_params *p, long expires,
    struct sigv4_result *res, struct buf *cr, const char **err)
{
	struct canon_header *h;
	size_t n = 0, i, j, cap = rq->nheaders + 3;
	int have_host = 0, rc = -1;
	const char *token = p->creds.session_token;

	h = xcalloc(cap, sizeof *h);
	for (i = 0; i < rq->nheaders; i++) {
		struct buf v = BUF_INIT;

		if (in_list(rq->headers[i].name, unsigned_headers,
		    sizeof unsigned_headers / sizeof unsigned_headers[0]))
			continue;
		trimall(&v, rq->headers[i].value);
		h[n].name = xstrdup(rq->headers[i].name);
		lower(h[n].name);
		h[n].value = buf_detach(&v);
		h[n].index = n;
		if (!strcmp(h[n].name, "host") && h[n].value[0] != '\0')
			have_host = 1;
		if (!strcmp(h[n].name, "x-amz-content-sha256") &&
		    strcmp(h[n].value, res->payload_hash)) {
			n++;
			*err = "x-amz-content-sha256 header differs from the payload hash";
			goto fail;
		}
		n++;
	}
	if (!have_host) {
		*err = "no Host header (or an empty one)";
		goto fail;
	}
	if (expires == 0) {
		h[n].name = xstrdup("x-amz-date");
		h[n].value = xstrdup(p->amz_date);
		h[n].index = n;
		n++;
		if (token != NULL && *token != '\0' && !p->session_token_unsigned) {
			h[n].name = xstrdup("x-amz-security-token");
			h[n].value = xstrdup(token);
			h[n].index = n;
			n++;
		}
		if (p->add_content_sha256) {
			h[n].name = xstrdup("x-amz-content-sha256");
			h[n].value = xstrdup(res->payload_hash);
			h[n].index = n;
			n++;
		}
	}
	qsort(h, n, sizeof *h, header_cmp);
	for (i = 0; i < n; i = j) {
		if (i > 0)
			buf_appendc(&res->signed_headers, ';');
		buf_appends(&res->signed_headers, h[i].name);
		buf_printf(cr, "%s:%s", h[i].name, h[i].value);
		for (j = i + 1; j < n && !strcmp(h[j].name, h[i].name); j++)
			buf_printf(cr, ",%s", h[j].value);
		buf_appendc(cr, '\n');
	}
	rc = 0;
fail:
	for (i = 0; i < n; i++) {
		free(h[i].name);
		free(h[i].value);
	}
	free(h);
	return rc;
}

/*
 * The canonical query string: the request's parameters (decoded, re-encoded) plus, when
 * presigning, the X-Amz-* authentication parameters; sorted by key, then value.
 */
static int
canonical_query(const struct sigv4_request *rq, const struct sigv4_params *p, long expires,
    struct sigv4_result *res, struct buf *cr, const char **err)
{
	struct canon_param *v = NULL;
	size_t n = 0, cap = 0, i;
	const char *q = rq->query ? rq->query : "", *end, *eq;
	struct buf k = BUF_INIT, val = BUF_INIT, cred = BUF_INIT;
	char exp[24];
	int rc = -1;

	while (*q) {
		end = strchr(q, '&');
		if (end == NULL)
			end = q + strlen(q);
		if (end > q) {
			eq = memchr(q, '=', (size_t)(end - q));
			buf_reset(&k);
			buf_reset(&val);
			uri_decode(&k, q, (size_t)((eq ? eq : end) - q));
			if (eq)
				uri_decode(&val, eq + 1, (size_t)(end - eq - 1));
			buf_append(&k, "", 0);
			buf_append(&val, "", 0);
			if (strlen(k.data) == k.len && in_list(k.data, auth_params,
			    sizeof auth_params / sizeof auth_params[0])) {
				*err = "query already holds an X-Amz-* signing parameter";
				goto fail;
			}
			param_add(&v, &n, &cap, k.data, k.len, val.data, val.len);
		}
		q = *end ? end + 1 : end;
	}
	if (expires != 0) {
		buf_printf(&cred, "%s/%s", p->creds.access_key_id, buf_str(&res->credential_scope));
		snprintf(exp, sizeof exp, "%ld", expires);
		param_add(&v, &n, &cap, "X-Amz-Algorithm", 15, SIGV4_ALGORITHM,
		    strlen(SIGV4_ALGORITHM));
		param_add(&v, &n, &cap, "X-Amz-Credential", 16, cred.data, cred.len);
		param_add(&v, &n, &cap, "X-Amz-Date", 10, p->amz_date, SIGV4_DATE_LEN);
		param_add(&v, &n, &cap, "X-Amz-Expires", 13, exp, strlen(exp));
		param_add(&v, &n, &cap, "X-Amz-SignedHeaders", 19, res->signed_headers.data,
		    res->signed_headers.len);
		if (p->creds.session_token && *p->creds.session_token &&
		    !p->session_token_unsigned)
			param_add(&v, &n, &cap, "X-Amz-Security-Token", 20, p->creds.session_token,
			    strlen(p->creds.session_token));
	}
	if (n > 0)
		qsort(v, n, sizeof *v, param_cmp);
	for (i = 0; i < n; i++)
		buf_printf(cr, "%s%s=%s", i ? "&" : "", v[i].key.data, v[i].value.data);
	buf_appendc(cr, '\n');
	rc = 0;
fail:
	for (i = 0; i < n; i++) {
		buf_free(&v[i].key);
		buf_free(&v[i].value);
	}
	free(v);
	buf_free(&k);
	buf_free(&val);
	buf_free(&cred);
	return rc;
}

/* The presigned URL's query: the raw query as sent, then the authentication parameters. */
static void
presigned_query(const struct sigv4_request *rq, const struct sigv4_params *p, long expires,
    struct sigv4_result *res)
{
	struct buf *o = &res->presigned_query;
	const char *q = rq->query ? rq->query : "", *tok = p->creds.session_token;
	struct buf cred = BUF_INIT;

	buf_appends(o, q);
	if (*q && q[strlen(q) - 1] != '&')
		buf_appendc(o, '&');
	buf_printf(&cred, "%s/%s", p->creds.access_key_id, buf_str(&res->credential_scope));
	buf_appends(o, "X-Amz-Algorithm=" SIGV4_ALGORITHM "&X-Amz-Credential=");
	uri_encode(o, (const unsigned char *)cred.data, cred.len, 0);
	buf_printf(o, "&X-Amz-Date=%s&X-Amz-SignedHeaders=", p->amz_date);
	uri_encode(o, (const unsigned char *)res->signed_headers.data, res->signed_headers.len, 0);
	buf_printf(o, "&X-Amz-Expires=%ld", expires);
	if (tok != NULL && *tok != '\0') {
		buf_appends(o, "&X-Amz-Security-Token=");
		uri_encode(o, (const unsigned char *)tok, strlen(tok), 0);
	}
	buf_printf(o, "&X-Amz-Signature=%s", res->signature);
	buf_free(&cred);
}

/* Both entry points: expires == 0 signs the headers, otherwise presigns. */
static int
sign(const struct sigv4_request *rq, const struct sigv4_params *p, long expires,
    struct sigv4_result *res)
{
	struct buf *cr = &res->canonical_request, *sts = &res->string_to_sign;
	char crhash[SIGV4_HEX_LEN + 1];
	const char *err = NULL, *tok;

	memset(res, 0, sizeof *res);
	if (validate(rq, p, expires, &err) == -1)
		goto fail;
	tok = p->creds.session_token;
	switch (rq->payload) {
	case SIGV4_PAYLOAD_BODY:
		if (sigv4_sha256_hex(rq->body, rq->body_len, res->payload_hash) == -1) {
			err = "SHA-256 failed";
			goto fail;
		}
		break;
	case SIGV4_PAYLOAD_UNSIGNED:
		snprintf(res->payload_hash, sizeof res->payload_hash, "%s",
		    SIGV4_UNSIGNED_PAYLOAD);
		break;
	case SIGV4_PAYLOAD_PRECOMPUTED:
		snprintf(res->payload_hash, sizeof res->payload_hash, "%s", rq->payload_hash);
		break;
	}
	buf_printf(&res->credential_scope, "%.8s/%s/%s/aws4_request", p->amz_date, p->region,
	    p->service);

	/* Canonical request: method, path, query, headers, signed header list, payload hash. */
	buf_printf(cr, "%s\n", rq->method);
	canonical_path(cr, rq->path, p);
	buf_appendc(cr, '\n');
	{
		/* Headers first (the presign query needs the signed header list), then splice. */
		struct buf hdrs = BUF_INIT;

		if (canonical_headers(rq, p, expires, res, &hdrs, &err) == -1 ||
		    canonical_query(rq, p, expires, res, cr, &err) == -1) {
			buf_free(&hdrs);
			goto fail;
		}
		buf_append(cr, hdrs.data, hdrs.len);
		buf_free(&hdrs);
	}
	buf_printf(cr, "\n%s\n%s", res->signed_headers.data, res->payload_hash);

	/* String to sign: algorithm, time, scope, hash of the canonical request. */
	if (sigv4_sha256_hex(cr->data, cr->len, crhash) == -1) {
		err = "SHA-256 failed";
		goto fail;
	}
	buf_printf(sts, SIGV4_ALGORITHM "\n%s\n%s\n%s", p->amz_date,
	    res->credential_scope.data, crhash);
	if (compute_signature(p, sts, res->signature) == -1) {
		err = "HMAC-SHA256 failed";
		goto fail;
	}

	if (expires != 0) {
		presigned_query(rq, p, expires, res);
		return 0;
	}
	buf_printf(&res->authorization, SIGV4_ALGORITHM " Credential=%s/%s, SignedHeaders=%s, "
	    "Signature=%s", p->creds.access_key_id, res->credential_scope.data,
	    res->signed_headers.data, res->signature);
	/* The order aws-c-auth's test suite shows in its signed requests. */
	if (tok != NULL && *tok != '\0')
		add_header(res, "X-Amz-Security-Token", tok);
	add_header(res, "X-Amz-Date", p->amz_date);
	if (p->add_content_sha256)
		add_header(res, "x-amz-content-sha256", res->payload_hash);
	add_header(res, "Authorization", res->authorization.data);
	return 0;
fail:
	res->error = err ? err : "signing failed";
	return -1;
}

int
sigv4_sign_headers(const struct sigv4_request *rq, const struct sigv4_params *p,
    struct sigv4_result *res)
{
	return sign(rq, p, 0, res);
}

int
sigv4_presign(const struct sigv4_request *rq, const struct sigv4_params *p, long expires,
    struct sigv4_result *res)
{
	if (expires == 0)	/* 0 means "headers" inside; here it is just out of range */
		expires = -1;
	return sign(rq, p, expires, res);
}

void
sigv4_result_free(struct sigv4_result *res)
{
	size_t i;

	if (res == NULL)
		return;
	buf_free(&res->canonical_request);
	buf_free(&res->string_to_sign);
	buf_free(&res->signed_headers);
	buf_free(&res->credential_scope);
	buf_free(&res->authorization);
	buf_free(&res->presigned_query);
	for (i = 0; i < res->nadded && i < SIGV4_MAX_ADDED; i++)
		free(res->added[i].value);
	memset(res, 0, sizeof *res);
}
