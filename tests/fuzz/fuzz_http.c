/*
 * fuzz_http: the decoders of what arrives in a request (src/http.c): query strings
 * (req_query over url_decode with '+' as space), percent-decoding itself, and the Cookie
 * header (req_cookie).
 *
 * Input: one flags byte, a line with the parameter/cookie name to look up, a byte with the
 * output size for the cookie, then the query string / Cookie header value (the rest).
 * Checks: no crash or leak; a decoded value is never longer than its encoding; what
 * url_decode returns survives a re-encode/decode round trip unchanged; a cookie value fits
 * its buffer and never spans a ';'.
 */
#include "fuzz.h"

#include "buf.h"
#include "http.h"

static void
percent_encode_all(const char *s, size_t n, struct buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		buf_appendc(out, '%');
		buf_appendc(out, hex[(unsigned char)s[i] >> 4]);
		buf_appendc(out, hex[(unsigned char)s[i] & 15]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t flags = fuzz_byte(&in);
	char *name = fuzz_line_dup(&in);
	size_t outlen = (size_t)fuzz_byte(&in) % 300 + 1, vlen;
	char *value = fuzz_rest_dup(&in, &vlen);
	struct buf out = BUF_INIT, enc = BUF_INIT, again = BUF_INIT;
	struct request req;
	char *cookie = malloc(outlen);
	int rc;

	if (cookie == NULL)
		abort();
	req_init(&req);
	req_set_method(&req, (flags & 1) ? "GET" : "POST");
	req.query = strdup(value);
	req.path = strdup("/");
	req_add_header(&req, (flags & 2) ? "COOKIE" : "Cookie", value);	/* the adapter strips HTTP_ */

	/* Query strings. */
	rc = req_query(&req, name, &out);
	FUZZ_CHECK(rc == 0 || rc == -1 || rc == -2);
	if (rc == 0)
		FUZZ_CHECK(out.len <= strlen(value));

	/* Percent-decoding, with both conventions, and the round trip. */
	buf_reset(&out);
	rc = url_decode(value, vlen, (flags & 4) != 0, &out);
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc == 0) {
		FUZZ_CHECK(out.len <= vlen);
		percent_encode_all(out.data ? out.data : "", out.len, &enc);
		FUZZ_CHECK(url_decode(enc.data ? enc.data : "", enc.len, true, &again) == 0);
		FUZZ_CHECK(again.len == out.len && (out.len == 0 || !memcmp(again.data, out.data, out.len)));
	}

	/* Cookies: header names arrive in any case and are normalised to "cookie". */
	FUZZ_CHECK(req_header(&req, "cookie") != NULL);
	rc = req_cookie(&req, name, cookie, outlen);
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc == 0) {
		FUZZ_CHECK(strlen(cookie) < outlen);
		FUZZ_CHECK(strchr(cookie, ';') == NULL);
	}
	rc = req_cookie(&req, "fs_session", cookie, outlen);
	if (rc == 0)
		FUZZ_CHECK(strlen(cookie) < outlen && strchr(cookie, ';') == NULL);

	req_free(&req);
	buf_free(&out);
	buf_free(&enc);
	buf_free(&again);
	free(cookie);
	free(name);
	free(value);
	return 0;
}
