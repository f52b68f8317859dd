/*
 * check_http: request lookups (headers, cookies, query parameters), percent-decoding, body
 * reading limits, and the response builders.
 */
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "testutil.h"
#include "xmalloc.h"

/* --- methods and headers --------------------------------------------------------------- */

static const struct {
	const char		*s;
	enum http_method	 m;
} method_cases[] = {
	{ "GET", HTTP_GET }, { "HEAD", HTTP_HEAD }, { "POST", HTTP_POST }, { "PUT", HTTP_PUT },
	{ "DELETE", HTTP_DELETE }, { "OPTIONS", HTTP_OPTIONS }, { "get", HTTP_OTHER },
	{ "PATCH", HTTP_OTHER }, { "", HTTP_OTHER }, { "GETX", HTTP_OTHER },
};

START_TEST(test_methods)
{
	struct request r;

	req_init(&r);
	req_set_method(&r, "POST");	/* a second call replaces the first */
	req_set_method(&r, method_cases[_i].s);
	ck_assert_int_eq(r.method, method_cases[_i].m);
	ck_assert_str_eq(r.method_str, method_cases[_i].s);
	req_free(&r);
}
END_TEST

START_TEST(test_req_init_free)
{
	struct request r;

	req_init(&r);
	ck_assert_int_eq(r.content_length, -1);
	ck_assert_int_eq(r.method, HTTP_OTHER);
	ck_assert_ptr_null(req_header(&r, "host"));
	req_free(&r);		/* an empty request frees cleanly, twice */
	req_free(&r);
}
END_TEST

START_TEST(test_header_lookup)
{
	struct request r;

	req_init(&r);
	req_add_header(&r, "Content-Type", "application/json");
	req_add_header(&r, "X_FORWARDED_FOR", "10.0.0.1");	/* as FastCGI's HTTP_X_FORWARDED_FOR */
	req_add_header(&r, "HOST", "fs.test");
	req_add_header(&r, "x-dup", "first");
	req_add_header(&r, "X-Dup", "second");
	req_add_header(&r, "x-empty", "");

	ck_assert_str_eq(req_header(&r, "content-type"), "application/json");
	ck_assert_str_eq(req_header(&r, "x-forwarded-for"), "10.0.0.1");
	ck_assert_str_eq(req_header(&r, "host"), "fs.test");
	ck_assert_str_eq(req_header(&r, "x-dup"), "first");
	ck_assert_str_eq(req_header(&r, "x-empty"), "");
	ck_assert_uint_eq(r.nheaders, 6);
	ck_assert_str_eq(r.headers[1].name, "x-forwarded-for");
	/* Lookups take the normalized name: anything else is simply absent. */
	ck_assert_ptr_null(req_header(&r, "Content-Type"));
	ck_assert_ptr_null(req_header(&r, "x_forwarded_for"));
	ck_assert_ptr_null(req_header(&r, "content"));
	ck_assert_ptr_null(req_header(&r, "authorization"));
	req_free(&r);
}
END_TEST

/* --- cookies --------------------------------------------------------------------------- */

static const struct {
	const char	*header;	/* NULL: no Cookie header */
	const char	*name;
	size_t		 outlen;
	int		 rc;
	const char	*value;
} cookie_cases[] = {
	{ "fs_session=abc", "fs_session", 64, 0, "abc" },
	{ "a=1; fs_session=tok; b=2", "fs_session", 64, 0, "tok" },
	{ "a=1;fs_session=tok;b=2", "fs_session", 64, 0, "tok" },
	{ "a=1;   \tfs_session=tok", "fs_session", 64, 0, "tok" },
	{ "a=1; b=2; c=3", "c", 64, 0, "3" },
	{ "a=1; b=2; c=3", "a", 64, 0, "1" },
	{ "a=1;; b=2", "b", 64, 0, "2" },
	{ "a=", "a", 64, 0, "" },
	{ "a=x=y", "a", 64, 0, "x=y" },
	{ "xfs_session=evil; fs_session=good", "fs_session", 64, 0, "good" },
	{ "fs_session_old=evil; fs_session=good", "fs_session", 64, 0, "good" },
	{ "fs_session=first; fs_session=second", "fs_session", 64, 0, "first" },
	{ "a=1; b=2", "fs_session", 64, -1, NULL },
	{ "fs_session", "fs_session", 64, -1, NULL },
	{ "", "fs_session", 64, -1, NULL },
	{ NULL, "fs_session", 64, -1, NULL },
	{ "fs_session=12345", "fs_session", 6, 0, "12345" },	/* exactly fits with its NUL */
	{ "fs_session=123456", "fs_session", 6, -1, NULL },	/* one byte too long */
	{ "fs_session=123456; b=2", "fs_session", 6, -1, NULL },
};

START_TEST(test_cookies)
{
	struct request r;
	char out[80];
	int rc;

	req_init(&r);
	if (cookie_cases[_i].header != NULL)
		req_add_header(&r, "Cookie", cookie_cases[_i].header);
	memset(out, 'Z', sizeof out);
	rc = req_cookie(&r, cookie_cases[_i].name, out, cookie_cases[_i].outlen);
	ck_assert_msg(rc == cookie_cases[_i].rc, "Cookie: %s / %s: rc %d", cookie_cases[_i].header,
	    cookie_cases[_i].name, rc);
	if (rc == 0)
		ck_assert_str_eq(out, cookie_cases[_i].value);
	/* Never writes past outlen, even when the value does not fit. */
	ck_assert_int_eq(out[cookie_cases[_i].outlen], 'Z');
	req_free(&r);
}
END_TEST

/* --- query parameters ------------------------------------------------------------------ */

static const struct {
	const char	*query;		/* NULL: the request has no query at all */
	const char	*name;
	int		 rc;
	const char	*value;
	size_t		 vlen;		/* 0: strlen(value) */
} query_cases[] = {
	{ "cursor=abc", "cursor", 0, "abc", 0 },
	{ "a=1&cursor=x%2Fy&b=2", "cursor", 0, "x/y", 0 },
	{ "q=hello+world", "q", 0, "hello world", 0 },
	{ "q=a%2Bb", "q", 0, "a+b", 0 },
	{ "q=%E2%82%AC", "q", 0, "\xe2\x82\xac", 0 },
	{ "q=%e2%82%ac", "q", 0, "\xe2\x82\xac", 0 },
	{ "q=a%00b", "q", 0, "a\0b", 3 },
	{ "q=", "q", 0, "", 0 },
	{ "q", "q", 0, "", 0 },
	{ "q=1&q=2", "q", 0, "1", 0 },
	{ "qq=1&q=2", "q", 0, "2", 0 },
	{ "xq=1", "q", -1, NULL, 0 },
	{ "a=1&b=2", "q", -1, NULL, 0 },
	{ "", "q", -1, NULL, 0 },
	{ NULL, "q", -1, NULL, 0 },
	{ "&&q=3&&", "q", 0, "3", 0 },
	{ "q=%", "q", -2, NULL, 0 },
	{ "q=%4", "q", -2, NULL, 0 },
	{ "q=%zz", "q", -2, NULL, 0 },
	{ "q=%4g", "q", -2, NULL, 0 },
	{ "q=ab%&x=1", "q", -2, NULL, 0 },
	{ "x=%zz&q=fine", "q", 0, "fine", 0 },	/* a malformed neighbour does not matter */
	{ "q=a=b", "q", 0, "a=b", 0 },
};

START_TEST(test_query)
{
	struct request r;
	struct buf out = BUF_INIT;
	size_t vlen;
	int rc;

	req_init(&r);
	if (query_cases[_i].query != NULL)
		r.query = xstrdup(query_cases[_i].query);
	buf_appends(&out, "stale");	/* a found value replaces what out held */
	rc = req_query(&r, query_cases[_i].name, &out);
	ck_assert_msg(rc == query_cases[_i].rc, "?%s / %s: rc %d", query_cases[_i].query,
	    query_cases[_i].name, rc);
	if (rc == 0) {
		vlen = query_cases[_i].vlen ? query_cases[_i].vlen : strlen(query_cases[_i].value);
		ck_assert_uint_eq(out.len, vlen);
		ck_assert_mem_eq(out.data, query_cases[_i].value, vlen);
	}
	buf_free(&out);
	req_free(&r);
}
END_TEST

/* --- percent-decoding ------------------------------------------------------------------ */

static const struct {
	const char	*in;
	bool		 plus;
	int		 rc;
	const char	*out;
	size_t		 outlen;	/* 0: strlen(out) */
} decode_cases[] = {
	{ "", false, 0, "", 0 },	/* regression: see test_query_empty_value_fresh_buffer */
	{ "plain", false, 0, "plain", 0 },
	{ "%41%42c", false, 0, "ABc", 0 },
	{ "%7e%7E", false, 0, "~~", 0 },
	{ "a+b", false, 0, "a+b", 0 },
	{ "a+b", true, 0, "a b", 0 },
	{ "%2B", true, 0, "+", 0 },
	{ "%20", false, 0, " ", 0 },
	{ "%00", false, 0, "\0", 1 },
	{ "%ff%FE", false, 0, "\xff\xfe", 0 },
	{ "%25", false, 0, "%", 0 },
	{ "%2525", false, 0, "%25", 0 },	/* decoded once, not twice */
	{ "%", false, -1, NULL, 0 },
	{ "%4", false, -1, NULL, 0 },
	{ "a%", false, -1, NULL, 0 },
	{ "a%4", false, -1, NULL, 0 },
	{ "%G0", false, -1, NULL, 0 },
	{ "%0G", false, -1, NULL, 0 },
	{ "%-1", false, -1, NULL, 0 },
	{ "% 1", false, -1, NULL, 0 },
	{ "ok%2", false, -1, NULL, 0 },
};

START_TEST(test_url_decode)
{
	struct buf out = BUF_INIT;
	struct tu_garbage g;
	char got[64];
	size_t n, len;
	bool terminated;
	int rc;

	/* Fresh allocations are filled with non-zero bytes, so a missing NUL shows every time. */
	tu_garbage_begin(&g, 64);
	rc = url_decode(decode_cases[_i].in, strlen(decode_cases[_i].in), decode_cases[_i].plus, &out);
	tu_garbage_end(&g);
	len = out.len;
	memcpy(got, out.data ? out.data : "", len < sizeof got ? len : sizeof got);
	terminated = out.data != NULL && out.data[out.len] == '\0';
	buf_free(&out);		/* before asserting: a failed check must not also leak */
	ck_assert_msg(rc == decode_cases[_i].rc, "\"%s\": rc %d", decode_cases[_i].in, rc);
	if (rc == 0) {
		n = decode_cases[_i].outlen ? decode_cases[_i].outlen : strlen(decode_cases[_i].out);
		ck_assert_uint_eq(len, n);
		ck_assert_mem_eq(got, decode_cases[_i].out, n);
		ck_assert_msg(terminated, "\"%s\": output not NUL-terminated", decode_cases[_i].in);
	}
}
END_TEST

/*
 * Regression (src/buf.c, buf_grow, reached from url_decode; fixed): the first allocation of
 * an empty buffer was not NUL-terminated, and url_decode() of zero bytes only calls
 * buf_grow(), so "?q=" decoded into a fresh buffer left out.data pointing at uninitialised
 * bytes with len 0: buf_str() returned garbage and could read past the block.
 */
START_TEST(test_query_empty_value_fresh_buffer)
{
	struct request r;
	struct buf out = BUF_INIT;
	struct tu_garbage g;
	bool terminated;
	size_t len;
	int rc;

	req_init(&r);
	r.query = xstrdup("a=1&q=&b=2");
	tu_garbage_begin(&g, 64);
	rc = req_query(&r, "q", &out);
	tu_garbage_end(&g);
	len = out.len;
	terminated = out.data == NULL || out.data[0] == '\0';
	buf_free(&out);
	req_free(&r);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(len, 0);
	ck_assert_msg(terminated, "empty value not NUL-terminated: buf_str() would return garbage");
}
END_TEST

START_TEST(test_url_decode_respects_length)
{
	struct buf out = BUF_INIT;

	/* Only n bytes are read: an escape cut by n is malformed, bytes after n are ignored. */
	ck_assert_int_eq(url_decode("ab%41", 3, false, &out), -1);
	buf_reset(&out);
	ck_assert_int_eq(url_decode("abcdef", 2, false, &out), 0);
	ck_assert_str_eq(buf_str(&out), "ab");
	buf_free(&out);
}
END_TEST

static const struct {
	const char	*path;
	bool		 canonical;
} path_cases[] = {
	{ "/", true },
	{ "/abc", true },
	{ "/api/links/Abc123/qr.svg", true },
	{ "/api/links/", true },		/* a trailing '/' is kept by nginx too */
	{ "/.well-known", true },
	{ "/a.b/c..d/...", true },		/* dots inside a name, and "..." */
	{ "/a%41b", true },			/* decoded by nginx, but no separator appears */
	{ "/a%2", true },
	{ "/a%", true },
	{ "/a%2Fb", true },			/* one more segment, none resolved away */
	{ "/api/files/a%2fb.txt", true },
	{ "/x%2e%2e", true },			/* "x.." is a name */
	{ "/%2E%2E%2E", true },			/* so is "..." */
	{ "/%252e%252e/x", true },		/* decoded once: "%2e%2e" */
	{ "/a%2F", true },			/* trailing '/' */
	{ "/%2E", false },
	{ "/%2e%2E/x", false },
	{ "/api/files/..%2F..%2Fetc%2Fpasswd", false },
	{ "/api/files/%2Fetc", false },		/* "//" once decoded */
	{ "/a%2F.%2Fb", false },
	{ "/a%2F%2Fb", false },
	{ "//", false },
	{ "//abc", false },
	{ "/api//me", false },
	{ "/.", false },
	{ "/..", false },
	{ "/./abc", false },
	{ "/a/./b", false },
	{ "/a/../b", false },
	{ "/a/..", false },
	{ "/a/.", false },
};

START_TEST(test_path_canonical)
{
	ck_assert_msg(path_canonical(path_cases[_i].path) == path_cases[_i].canonical, "\"%s\"",
	    path_cases[_i].path);
}
END_TEST

/* --- request bodies -------------------------------------------------------------------- */

static char *
filled(size_t n)
{
	char *p = malloc(n + 1);
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (char)('A' + i % 23);
	p[n] = '\0';
	return p;
}

static const struct {
	const char	*name;
	size_t		 len;		/* body length */
	size_t		 limit;
	bool		 with_cl;	/* send Content-Length */
	size_t		 chunk;		/* bytes per read() */
	int		 rc;
} body_cases[] = {
	{ "empty", 0, 100, true, 0, 0 },
	{ "under", 99, 100, true, 0, 0 },
	{ "exact", 100, 100, true, 0, 0 },
	{ "over by Content-Length", 101, 100, true, 0, -2 },
	{ "under, no Content-Length", 99, 100, false, 0, 0 },
	{ "exact, no Content-Length", 100, 100, false, 7, 0 },
	{ "over, no Content-Length", 101, 100, false, 0, -2 },
	{ "over, no Content-Length, small reads", 1000, 100, false, 3, -2 },
	{ "far over, no Content-Length", 200000, 65536, false, 0, -2 },
	{ "large exact, many reads", 65536, 65536, false, 1000, 0 },
	{ "large, Content-Length", 200000, 300000, true, 0, 0 },
	{ "zero limit, empty", 0, 0, false, 0, 0 },
	{ "zero limit, one byte", 1, 0, false, 0, -2 },
};

START_TEST(test_read_body)
{
	struct tu_request t = { .method = "POST", .target = "/x" };
	struct request req;
	struct tu_body body;
	struct buf out = BUF_INIT;
	char *data = filled(body_cases[_i].len);
	int rc;

	t.body = data;
	t.body_len = body_cases[_i].len;
	t.no_content_length = !body_cases[_i].with_cl;
	t.chunk = body_cases[_i].chunk;
	tu_request_build(&req, &body, &t);
	ck_assert_uint_eq(body.len, body_cases[_i].len);
	ck_assert_int_eq(req.content_length, body_cases[_i].with_cl ? (int64_t)body_cases[_i].len : -1);
	rc = req_read_body(&req, body_cases[_i].limit, &out);
	ck_assert_msg(rc == body_cases[_i].rc, "%s: rc %d", body_cases[_i].name, rc);
	/* Whatever the outcome, the body has been consumed entirely (drained when too large). */
	ck_assert_msg(body.pos == body.len, "%s: %zu of %zu bytes read", body_cases[_i].name,
	    body.pos, body.len);
	ck_assert(req.body_consumed);
	if (rc == 0) {
		ck_assert_uint_eq(out.len, body_cases[_i].len);
		if (out.len)
			ck_assert_mem_eq(out.data, data, out.len);
	} else
		ck_assert_uint_le(out.len, body_cases[_i].limit);	/* never held more */
	/* After a successful read, a second one finds nothing more. */
	if (rc == 0) {
		buf_reset(&out);
		ck_assert_int_eq(req_read_body(&req, body_cases[_i].limit, &out), 0);
		ck_assert_uint_eq(out.len, 0);
	}
	buf_free(&out);
	req_free(&req);
	free(data);
}
END_TEST

START_TEST(test_read_body_over_by_content_length_reads_nothing_into_out)
{
	struct tu_request t = { .method = "POST", .target = "/x", .body = "0123456789" };
	struct request req;
	struct tu_body body;
	struct buf out = BUF_INIT;

	tu_request_build(&req, &body, &t);
	ck_assert_int_eq(req.content_length, 10);
	ck_assert_int_eq(req_read_body(&req, 9, &out), -2);
	ck_assert_uint_eq(out.len, 0);
	ck_assert_uint_eq(body.pos, 10);
	buf_free(&out);
	req_free(&req);
}
END_TEST

START_TEST(test_read_body_error)
{
	struct tu_request t = { .method = "POST", .target = "/x", .body = "abc" };
	struct request req;
	struct tu_body body;
	struct buf out = BUF_INIT;

	tu_request_build(&req, &body, &t);
	body.fail = true;
	ck_assert_int_eq(req_read_body(&req, 100, &out), -1);
	buf_free(&out);
	req_free(&req);
}
END_TEST

START_TEST(test_read_body_without_reader)
{
	struct request req;
	struct buf out = BUF_INIT;

	req_init(&req);
	ck_assert_int_eq(req_read_body(&req, 100, &out), 0);
	ck_assert_uint_eq(out.len, 0);
	req_drain_body(&req);	/* nothing to drain: a no-op */
	buf_free(&out);
	req_free(&req);
}
END_TEST

START_TEST(test_drain_body)
{
	char *data = filled(50000);
	struct tu_request t = { .method = "POST", .target = "/x", .body = data, .chunk = 100 };
	struct request req;
	struct tu_body body;
	size_t reads;

	tu_request_build(&req, &body, &t);
	req_drain_body(&req);
	ck_assert_uint_eq(body.pos, 50000);
	ck_assert(req.body_consumed);
	reads = body.reads;
	req_drain_body(&req);	/* already drained: no more reads */
	ck_assert_uint_eq(body.reads, reads);
	req_free(&req);
	free(data);
}
END_TEST

/* --- responses ------------------------------------------------------------------------- */

START_TEST(test_resp_init_reset)
{
	struct response r;

	resp_init(&r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.body.len, 0);
	ck_assert_uint_eq(r.headers.len, 0);
	ck_assert(!r.head);
	r.head = true;
	resp_error(&r, 404, "not_found", "x");
	resp_reset(&r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.body.len, 0);
	ck_assert_uint_eq(r.headers.len, 0);
	ck_assert_ptr_null(r.error_code);
	ck_assert(r.head);	/* the request's HEAD-ness outlives a reset */
	resp_free(&r);
	resp_free(&r);
}
END_TEST

static const struct {
	int		 status;
	const char	*code;
	const char	*message;
} error_cases[] = {
	{ 400, "bad_request", "plain message" },
	{ 404, "not_found", "There is nothing at this address." },
	{ 413, "body_too_large", "quotes \" and \\ backslashes" },
	{ 409, "email_taken", "new\nline, tab\t, and </script><b>&amp;" },
	{ 503, "store_unavailable", "" },
	{ 400, "bad_request", "invalid \xff UTF-8 \xc3" },
};

START_TEST(test_resp_error_shape)
{
	struct response r;
	json_object *o, *err;
	char v[128];
	bool invalid = strchr(error_cases[_i].message, '\xff') != NULL;

	resp_init(&r);
	resp_header(&r, "X-Before", "dropped");
	buf_appends(&r.body, "partial body that must go");
	resp_error(&r, error_cases[_i].status, error_cases[_i].code, "%s", error_cases[_i].message);
	ck_assert_int_eq(r.status, error_cases[_i].status);
	ck_assert_str_eq(r.error_code, error_cases[_i].code);

	/* Parse strictly: valid JSON, valid UTF-8, nothing after the object. */
	{
		struct json_tokener *tok = json_tokener_new();
		json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
		o = json_tokener_parse_ex(tok, r.body.data, (int)r.body.len);
		ck_assert_msg(o != NULL && json_tokener_get_parse_end(tok) == r.body.len,
		    "not one JSON value: %s", r.body.data);
		json_tokener_free(tok);
	}
	ck_assert(json_object_is_type(o, json_type_object));
	ck_assert_int_eq(json_object_object_length(o), 1);
	ck_assert(json_object_object_get_ex(o, "error", &err));
	ck_assert_int_eq(json_object_object_length(err), 2);
	ck_assert_str_eq(tu_json_str(o, "error.code"), error_cases[_i].code);
	if (!invalid)
		ck_assert_str_eq(tu_json_str(o, "error.message"), error_cases[_i].message);
	else
		ck_assert_ptr_nonnull(strstr(tu_json_str(o, "error.message"), "\xef\xbf\xbd"));
	json_object_put(o);

	/* Headers: JSON content type, not cached, and nothing left from before. */
	ck_assert_str_eq(tu_resp_header(&r, "Content-Type", v, sizeof v), "application/json; charset=utf-8");
	ck_assert_str_eq(tu_resp_header(&r, "Cache-Control", v, sizeof v), "no-store");
	ck_assert_ptr_null(tu_resp_header(&r, "X-Before", v, sizeof v));
	ck_assert_int_eq(tu_resp_header_count(&r, "Content-Type"), 1);
	resp_free(&r);
}
END_TEST

START_TEST(test_resp_json)
{
	struct response r;
	char v[128];

	resp_init(&r);
	resp_json(&r, 201, "{\"a\":1}", 7);
	ck_assert_int_eq(r.status, 201);
	ck_assert_str_eq(buf_str(&r.body), "{\"a\":1}");
	ck_assert_str_eq(tu_resp_header(&r, "Content-Type", v, sizeof v), "application/json; charset=utf-8");
	resp_free(&r);
}
END_TEST

static const struct {
	const char	*value;
	const char	*line;
} header_cases[] = {
	{ "plain", "X-Test: plain\r\n" },
	{ "a\r\nSet-Cookie: evil=1", "X-Test: a  Set-Cookie: evil=1\r\n" },
	{ "a\nb", "X-Test: a b\r\n" },
	{ "a\rb", "X-Test: a b\r\n" },
	{ "\r\n\r\n<html>", "X-Test:     <html>\r\n" },
	{ "", "X-Test: \r\n" },
};

START_TEST(test_resp_header_strips_crlf)
{
	struct response r;

	resp_init(&r);
	resp_header(&r, "X-Test", "%s", header_cases[_i].value);
	ck_assert_str_eq(buf_str(&r.headers), header_cases[_i].line);
	resp_header(&r, "X-Second", "%d", 2);	/* appended, not replacing */
	ck_assert_int_eq(tu_resp_header_count(&r, "X-Test"), 1);
	ck_assert_int_eq(tu_resp_header_count(&r, "X-Second"), 1);
	resp_free(&r);
}
END_TEST

/* Literal values and a lone "%s" skip printf; anything else is formatted. */
START_TEST(test_resp_header_formats)
{
	struct response r;

	resp_init(&r);
	resp_header(&r, "A", "private, no-store");
	resp_header(&r, "B", "%s", "https://example.com/?q=100%25");
	resp_header(&r, "C", "%s-%d", "x", 5);
	resp_header(&r, "D", "100%%");
	resp_header(&r, "E", "literal\r\nX-Evil: 1");
	ck_assert_str_eq(buf_str(&r.headers), "A: private, no-store\r\n"
	    "B: https://example.com/?q=100%25\r\nC: x-5\r\nD: 100%\r\n"
	    "E: literal  X-Evil: 1\r\n");
	resp_free(&r);
}
END_TEST

START_TEST(test_http_reason)
{
	ck_assert_str_eq(http_reason(200), "OK");
	ck_assert_str_eq(http_reason(404), "Not Found");
	ck_assert_str_eq(http_reason(405), "Method Not Allowed");
	ck_assert_str_eq(http_reason(413), "Content Too Large");
	ck_assert_str_eq(http_reason(503), "Service Unavailable");
	ck_assert_str_eq(http_reason(999), "Unknown");
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *
http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc;

	tc = tcase_create("request");
	tcase_add_loop_test(tc, test_methods, 0, N(method_cases));
	tcase_add_test(tc, test_req_init_free);
	tcase_add_test(tc, test_header_lookup);
	tcase_add_loop_test(tc, test_cookies, 0, N(cookie_cases));
	tcase_add_loop_test(tc, test_query, 0, N(query_cases));
	tcase_add_loop_test(tc, test_url_decode, 0, N(decode_cases));
	tcase_add_test(tc, test_url_decode_respects_length);
	tcase_add_test(tc, test_query_empty_value_fresh_buffer);
	tcase_add_loop_test(tc, test_path_canonical, 0, N(path_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("body");
	tcase_add_loop_test(tc, test_read_body, 0, N(body_cases));
	tcase_add_test(tc, test_read_body_over_by_content_length_reads_nothing_into_out);
	tcase_add_test(tc, test_read_body_error);
	tcase_add_test(tc, test_read_body_without_reader);
	tcase_add_test(tc, test_drain_body);
	suite_add_tcase(s, tc);

	tc = tcase_create("response");
	tcase_add_test(tc, test_resp_init_reset);
	tcase_add_loop_test(tc, test_resp_error_shape, 0, N(error_cases));
	tcase_add_test(tc, test_resp_json);
	tcase_add_test(tc, test_resp_header_formats);
	tcase_add_loop_test(tc, test_resp_header_strips_crlf, 0, N(header_cases));
	tcase_add_test(tc, test_http_reason);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(http_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
