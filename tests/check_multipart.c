/*
 * check_multipart: the streaming multipart/form-data parser. Every good body is fed whole,
 * one byte at a time, split in two at every possible point, and in random chunks, and must
 * give the same callbacks and data each time; every bad one must fail with its own error
 * and never crash or read out of bounds (the ASan build checks the latter).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "multipart.h"
#include "testutil.h"

#define N(a)	(sizeof (a) / sizeof (a)[0])

/* --- a recorder: callbacks into a transcript that does not depend on chunking ------------ */

struct rec {
	struct buf	 log;		/* "begin ...", "data=...", "end" lines */
	struct buf	 data;		/* the current part's data so far */
	bool		 in_part;
	size_t		 calls;		/* callbacks of any kind */
	size_t		 delivered;	/* data bytes handed over */
	/* Return -1 from the nth (1-based) callback of a kind; 0: never. */
	size_t		 stop_begin, stop_data, stop_end;
	size_t		 n_begin, n_data, n_end;
};

/* Bytes as text: printable ASCII as is, backslash doubled, everything else \xHH. */
static void
escape(struct buf *out, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\\')
			buf_appends(out, "\\\\");
		else if (c >= 0x20 && c < 0x7f)
			buf_appendc(out, (char)c);
		else
			buf_printf(out, "\\x%02x", c);
	}
}

static int
rec_begin(void *ctx, const struct multipart_part *p)
{
	struct rec *r = ctx;

	r->calls++;
	ck_assert_msg(!r->in_part, "part begins inside a part");
	ck_assert_ptr_nonnull(p->name);
	buf_appends(&r->log, "begin name=");
	escape(&r->log, p->name, strlen(p->name));
	buf_appends(&r->log, " filename=");
	if (p->filename == NULL) {
		ck_assert_uint_eq(p->filename_len, 0);
		buf_appends(&r->log, "(null)");
	} else {
		ck_assert_int_eq(p->filename[p->filename_len], '\0');
		escape(&r->log, p->filename, p->filename_len);
	}
	buf_appends(&r->log, " type=");
	if (p->content_type == NULL)
		buf_appends(&r->log, "(null)");
	else
		escape(&r->log, p->content_type, strlen(p->content_type));
	buf_appendc(&r->log, '\n');
	r->in_part = true;
	buf_reset(&r->data);
	return ++r->n_begin == r->stop_begin ? -1 : 0;
}

static int
rec_data(void *ctx, const char *d, size_t n)
{
	struct rec *r = ctx;

	r->calls++;
	ck_assert_msg(r->in_part, "data outside a part");
	ck_assert_uint_gt(n, 0);
	buf_append(&r->data, d, n);
	r->delivered += n;
	return ++r->n_data == r->stop_data ? -1 : 0;
}

static int
rec_end(void *ctx)
{
	struct rec *r = ctx;

	r->calls++;
	ck_assert_msg(r->in_part, "end outside a part");
	buf_appends(&r->log, "data=");
	escape(&r->log, r->data.data ? r->data.data : "", r->data.len);
	buf_appends(&r->log, "\nend\n");
	r->in_part = false;
	return ++r->n_end == r->stop_end ? -1 : 0;
}

static const struct multipart_callbacks rec_cb = { rec_begin, rec_data, rec_end };

static void
rec_free(struct rec *r)
{
	buf_free(&r->log);
	buf_free(&r->data);
}

/* A small deterministic generator, so a failure can be reproduced. */
static uint64_t
xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Feeds body in the chunks sizes[] gives (cycled; 0 entries skipped); returns the first -1
 * from feed, else finish's result. The transcript goes to r. */
static int
feed_chunks(const char *ct, const char *body, size_t len, const size_t *sizes, size_t nsizes,
    struct rec *r, enum multipart_error *err)
{
	enum multipart_error e = MULTIPART_OK;
	struct multipart *mp = multipart_new(ct, &rec_cb, r, &e);
	size_t pos = 0, k = 0, n;
	int rc = 0;

	ck_assert_msg(mp != NULL, "multipart_new(%s): %d", ct, e);
	while (pos < len) {
		n = sizes[k++ % nsizes];
		if (n > len - pos)
			n = len - pos;
		if (multipart_feed(mp, body + pos, n) == -1) {
			rc = -1;
			break;
		}
		pos += n;
	}
	if (rc == 0)
		rc = multipart_finish(mp);
	*err = multipart_error(mp);
	/* Once failed, always failed. */
	if (rc == -1) {
		ck_assert_int_eq(multipart_feed(mp, "x", 1), -1);
		ck_assert_int_eq(multipart_finish(mp), -1);
		ck_assert_int_eq(multipart_error(mp), *err);
	}
	multipart_free(mp);
	return rc;
}

/*
 * The good-body check: (a) whole, (b) one byte at a time, (c) two chunks split at every
 * point, (d) random chunk sizes: finish succeeds and the transcript is want every time.
 */
static void
assert_parses(const char *what, const char *ct, const char *body, size_t len, const char *want)
{
	enum multipart_error err;
	struct rec r = { 0 };
	size_t sizes[2], one = 1, rnd[64], split, round, i;
	uint64_t seed = 0x9e3779b97f4a7c15ULL;

	sizes[0] = len ? len : 1;
	ck_assert_msg(feed_chunks(ct, body, len, sizes, 1, &r, &err) == 0, "%s whole: %s", what,
	    multipart_strerror(err));
	ck_assert_msg(!strcmp(buf_str(&r.log), want), "%s whole:\n got: %s\nwant: %s", what,
	    buf_str(&r.log), want);
	rec_free(&r);

	memset(&r, 0, sizeof r);
	ck_assert_msg(feed_chunks(ct, body, len, &one, 1, &r, &err) == 0, "%s bytewise: %s", what,
	    multipart_strerror(err));
	ck_assert_msg(!strcmp(buf_str(&r.log), want), "%s bytewise:\n got: %s\nwant: %s", what,
	    buf_str(&r.log), want);
	rec_free(&r);

	for (split = 0; split <= len; split++) {
		sizes[0] = split;
		sizes[1] = len - split ? len - split : 1;
		memset(&r, 0, sizeof r);
		if (split == 0)
			ck_assert_int_eq(feed_chunks(ct, body, len, sizes + 1, 1, &r, &err), 0);
		else
			ck_assert_msg(feed_chunks(ct, body, len, sizes, 2, &r, &err) == 0,
			    "%s split at %zu: %s", what, split, multipart_strerror(err));
		ck_assert_msg(!strcmp(buf_str(&r.log), want), "%s split at %zu:\n got: %s\nwant: %s",
		    what, split, buf_str(&r.log), want);
		rec_free(&r);
	}

	for (round = 0; round < 50; round++) {
		for (i = 0; i < N(rnd); i++)
			rnd[i] = 1 + xorshift(&seed) % (round % 2 ? 7 : 97);
		memset(&r, 0, sizeof r);
		ck_assert_msg(feed_chunks(ct, body, len, rnd, N(rnd), &r, &err) == 0,
		    "%s random round %zu: %s", what, round, multipart_strerror(err));
		ck_assert_msg(!strcmp(buf_str(&r.log), want), "%s random round %zu:\n got: %s\n"
		    "want: %s", what, round, buf_str(&r.log), want);
		rec_free(&r);
	}
}

/* --- good bodies ------------------------------------------------------------------------ */

#define CT(b)	"multipart/form-data; boundary=" b
#define BODY(s)	s, sizeof(s) - 1

struct good_case {
	const char	*name;
	const char	*ct;
	const char	*body;
	size_t		 len;
	const char	*want;
};

static const struct good_case good_cases[] = {
	{ "one file part", CT("AaB03x"), BODY(
	    "--AaB03x\r\n"
	    "Content-Disposition: form-data; name=\"file\"; filename=\"hello.txt\"\r\n"
	    "Content-Type: text/plain\r\n"
	    "\r\n"
	    "Hello, world!\r\n"
	    "--AaB03x--\r\n"),
	    "begin name=file filename=hello.txt type=text/plain\ndata=Hello, world!\nend\n" },

	{ "several files and fields, quoted boundary",
	    "multipart/form-data; boundary=\"----WebKitFormBoundary7MA4YWxkTrZu0gW\"", BODY(
	    "------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n"
	    "Content-Disposition: form-data; name=\"title\"\r\n"
	    "\r\n"
	    "My upload\r\n"
	    "------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n"
	    "Content-Disposition: form-data; name=\"a\"; filename=\"a.bin\"\r\n"
	    "Content-Type: application/octet-stream\r\n"
	    "\r\n"
	    "AAAA\r\nAAAA\r\n"
	    "------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n"
	    "Content-Disposition: form-data; name=\"b\"; filename=\"b.txt\"\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "\r\n"
	    "line one\nline two\n\r\n"
	    "------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n"
	    "Content-Disposition: form-data; name=\"note\"\r\n"
	    "\r\n"
	    "h\xc3\xa9llo\r\n"
	    "------WebKitFormBoundary7MA4YWxkTrZu0gW--\r\n"),
	    "begin name=title filename=(null) type=(null)\ndata=My upload\nend\n"
	    "begin name=a filename=a.bin type=application/octet-stream\n"
	    "data=AAAA\\x0d\\x0aAAAA\nend\n"
	    "begin name=b filename=b.txt type=text/plain; charset=utf-8\n"
	    "data=line one\\x0aline two\\x0a\nend\n"
	    "begin name=note filename=(null) type=(null)\ndata=h\\xc3\\xa9llo\nend\n" },

	{ "quoted boundary with space and specials", "multipart/form-data; boundary=\"a b:c=d?e\"",
	    BODY(
	    "--a b:c=d?e\r\n"
	    "Content-Disposition: form-data; name=x\r\n"
	    "\r\n"
	    "1\r\n"
	    "--a b:c=d?e--"),
	    "begin name=x filename=(null) type=(null)\ndata=1\nend\n" },

	{ "parameters around the boundary, any case",
	    "Multipart/Form-Data ; charset=utf-8 ; BOUNDARY=xyz ;", BODY(
	    "--xyz\r\n"
	    "content-disposition: FORM-DATA; NAME=\"n\"; FileName=\"F.TXT\"\r\n"
	    "CONTENT-TYPE: text/csv\r\n"
	    "\r\n"
	    "a,b\r\n"
	    "--xyz--\r\n"),
	    "begin name=n filename=F.TXT type=text/csv\ndata=a,b\nend\n" },

	{ "filename* wins over filename", CT("b"), BODY(
	    "--b\r\n"
	    "Content-Disposition: form-data; name=\"f\"; filename=\"fallback.txt\"; "
	    "filename*=UTF-8''r%C3%A9sum%C3%A9.txt\r\n"
	    "\r\n"
	    "x\r\n"
	    "--b\r\n"
	    "Content-Disposition: form-data; filename*=utf-8'en'%E2%82%AC%20rates.txt; "
	    "name=\"g\"; filename=\"rates.txt\"\r\n"
	    "\r\n"
	    "y\r\n"
	    "--b\r\n"
	    "Content-Disposition: form-data; name=\"h\"; filename*=ISO-8859-1''%A3%20rates.txt\r\n"
	    "\r\n"
	    "z\r\n"
	    "--b--\r\n"),
	    "begin name=f filename=r\\xc3\\xa9sum\\xc3\\xa9.txt type=(null)\ndata=x\nend\n"
	    "begin name=g filename=\\xe2\\x82\\xac rates.txt type=(null)\ndata=y\nend\n"
	    "begin name=h filename=\\xc2\\xa3 rates.txt type=(null)\ndata=z\nend\n" },

	{ "quoted strings with escapes, raw UTF-8 and NUL via filename*", CT("b"), BODY(
	    "--b\r\n"
	    "Content-Disposition: form-data; name=\"q\\\"x\\\\y\"; filename=\"a\\\"b\\\\c.txt\"\r\n"
	    "\r\n"
	    "\r\n"
	    "--b\r\n"
	    "Content-Disposition: form-data; name=\"u\"; filename=\"\xe6\x97\xa5\xe6\x9c\xac.txt\"\r\n"
	    "\r\n"
	    "\r\n"
	    "--b\r\n"
	    "Content-Disposition: form-data; name=\"z\"; filename*=UTF-8''a%00b.exe\r\n"
	    "\r\n"
	    "\r\n"
	    "--b--\r\n"),
	    "begin name=q\"x\\\\y filename=a\"b\\\\c.txt type=(null)\ndata=\nend\n"
	    "begin name=u filename=\\xe6\\x97\\xa5\\xe6\\x9c\\xac.txt type=(null)\ndata=\nend\n"
	    "begin name=z filename=a\\x00b.exe type=(null)\ndata=\nend\n" },

	{ "empty parts: no data, empty filename, no headers at all", CT("b"), BODY(
	    "--b\r\n"
	    "Content-Disposition: form-data; name=\"file\"; filename=\"\"\r\n"
	    "Content-Type: application/octet-stream\r\n"
	    "\r\n"
	    "\r\n"
	    "--b\r\n"
	    "\r\n"
	    "\r\n"
	    "--b\r\n"
	    "Content-Disposition: form-data; name=\"\"\r\n"
	    "Content-Type:\r\n"
	    "\r\n"
	    "\r\n"
	    "--b--"),
	    "begin name=file filename= type=application/octet-stream\ndata=\nend\n"
	    "begin name= filename=(null) type=(null)\ndata=\nend\n"
	    "begin name= filename=(null) type=(null)\ndata=\nend\n" },

	{ "data holding CRLF-- and prefixes of the boundary", CT("XyZ123"), BODY(
	    "--XyZ123\r\n"
	    "Content-Disposition: form-data; name=\"d\"\r\n"
	    "\r\n"
	    "a\r\n--XyZ12 no\r\n--Xy\r\n--\r\n-\r\n\r\r\n--XyZ12\r\n-XyZ123\n--XyZ123 --XyZ123\r\r\n"
	    "--XyZ123\r\n"
	    "Content-Disposition: form-data; name=\"e\"\r\n"
	    "\r\n"
	    "\r\n--XyZ12\r\n"
	    "--XyZ123--\r\n"),
	    "begin name=d filename=(null) type=(null)\n"
	    "data=a\\x0d\\x0a--XyZ12 no\\x0d\\x0a--Xy\\x0d\\x0a--\\x0d\\x0a-\\x0d\\x0a\\x0d\\x0d"
	    "\\x0a--XyZ12\\x0d\\x0a-XyZ123\\x0a--XyZ123 --XyZ123\\x0d\nend\n"
	    "begin name=e filename=(null) type=(null)\ndata=\\x0d\\x0a--XyZ12\nend\n" },

	{ "preamble and epilogue", CT("b"), BODY(
	    "This is the preamble.  It is to be ignored.\r\n"
	    "-- b\r\n-b\r\nnot at a line start: x--b\r\n"
	    "\r\n"
	    "--b\r\n"
	    "Content-Disposition: form-data; name=\"p\"\r\n"
	    "\r\n"
	    "data\r\n"
	    "--b--\r\n"
	    "This is the epilogue. --b\r\nContent-Disposition: bogus\r\n\r\n\0\xff garbage"),
	    "begin name=p filename=(null) type=(null)\ndata=data\nend\n" },

	{ "transport padding after delimiters", CT("b"), BODY(
	    "\r\n--b \t \r\n"
	    "Content-Disposition: form-data; name=\"p\"\r\n"
	    "\r\n"
	    "1\r\n"
	    "--b\t\r\n"
	    "Content-Disposition: form-data; name=\"q\"\r\n"
	    "\r\n"
	    "2\r\n"
	    "--b-- \r\n"),
	    "begin name=p filename=(null) type=(null)\ndata=1\nend\n"
	    "begin name=q filename=(null) type=(null)\ndata=2\nend\n" },

	{ "other headers ignored, header whitespace trimmed", CT("b"), BODY(
	    "--b\r\n"
	    "X-Whatever: ignored; name=\"no\"\r\n"
	    "Content-Disposition:form-data;name=\"k\" ;  filename = \"v.txt\"  ; size=3\r\n"
	    "Content-Transfer-Encoding: binary\r\n"
	    "Content-Type: \t image/png \t\r\n"
	    "\r\n"
	    "PNG\r\n"
	    "--b--\r\n"),
	    "begin name=k filename=v.txt type=image/png\ndata=PNG\nend\n" },

	{ "no parts at all", CT("b"), BODY("--b--\r\n"), "" },
	{ "no parts after a preamble", CT("b"), BODY("preamble\r\n--b--"), "" },
};

START_TEST(test_good_body)
{
	const struct good_case *c = &good_cases[_i];

	assert_parses(c->name, c->ct, c->body, c->len, c->want);
}
END_TEST

/* Every byte value, and the look-alikes of a delimiter, in a file part's data. */
START_TEST(test_binary_data)
{
	static const char tail[] = "\r\n\r\n\n--bnd\r\r\n-\r\n--bn\0\r\n--bn-\r\n--bn";
	struct buf data = BUF_INIT, body = BUF_INIT, want = BUF_INIT;
	int i;

	for (i = 0; i < 256; i++)
		buf_appendc(&data, (char)i);
	buf_append(&data, tail, sizeof tail - 1);
	for (i = 255; i >= 0; i--)
		buf_appendc(&data, (char)i);
	buf_appendc(&data, '\r');	/* a CR right before the delimiter */

	buf_appends(&body, "--bnd\r\nContent-Disposition: form-data; name=\"bin\"; "
	    "filename=\"blob.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n");
	buf_append(&body, data.data, data.len);
	buf_appends(&body, "\r\n--bnd--\r\n");

	buf_appends(&want, "begin name=bin filename=blob.bin type=application/octet-stream\ndata=");
	escape(&want, data.data, data.len);
	buf_appends(&want, "\nend\n");

	assert_parses("binary", CT("bnd"), body.data, body.len, want.data);
	buf_free(&data);
	buf_free(&body);
	buf_free(&want);
}
END_TEST

/* The boundary's longest form (70 characters) works like any other. */
START_TEST(test_longest_boundary)
{
	char b[MULTIPART_BOUNDARY_MAX + 1], ct[128];
	struct buf body = BUF_INIT, want = BUF_INIT;

	memset(b, 'x', MULTIPART_BOUNDARY_MAX);
	b[MULTIPART_BOUNDARY_MAX] = '\0';
	b[10] = '-';
	snprintf(ct, sizeof ct, "multipart/form-data; boundary=%s", b);
	buf_printf(&body, "--%s\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n"
	    "\r\n--%.69s\r\n--%s--", b, b, b);
	/* The data is CRLF "--" and all but the last character of the boundary. */
	buf_printf(&want, "begin name=a filename=(null) type=(null)\ndata=\\x0d\\x0a--%.69s\nend\n",
	    b);
	assert_parses("longest boundary", ct, body.data, body.len, want.data);
	buf_free(&body);
	buf_free(&want);
}
END_TEST

/*
 * Streaming: data is handed over as soon as it cannot be part of a delimiter, so at most
 * the delimiter's length is ever held back, however large the part.
 */
START_TEST(test_streams_without_holding_data)
{
	static const char head[] = "--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\n";
	enum multipart_error e;
	struct rec r = { 0 };
	struct multipart *mp = multipart_new(CT("b"), &rec_cb, &r, &e);
	char chunk[4096];
	size_t i, total = 0;

	ck_assert_ptr_nonnull(mp);
	ck_assert_int_eq(multipart_feed(mp, head, sizeof head - 1), 0);
	for (i = 0; i < sizeof chunk; i++)
		chunk[i] = (char)('a' + i % 26);
	for (i = 0; i < 256; i++) {
		ck_assert_int_eq(multipart_feed(mp, chunk, sizeof chunk), 0);
		total += sizeof chunk;
		ck_assert_uint_eq(r.delivered, total);	/* no CR: nothing held back */
	}
	/* A possible delimiter start is held back, and only that. */
	ck_assert_int_eq(multipart_feed(mp, "xy\r\n-", 5), 0);
	ck_assert_uint_eq(r.delivered, total + 2);
	ck_assert_int_eq(multipart_feed(mp, "-", 1), 0);
	ck_assert_uint_eq(r.delivered, total + 2);
	/* Not a delimiter after all: released. */
	ck_assert_int_eq(multipart_feed(mp, "z", 1), 0);
	ck_assert_uint_eq(r.delivered, total + 7);
	ck_assert_int_eq(multipart_feed(mp, "\r\n--b--", 7), 0);
	ck_assert_uint_eq(r.delivered, total + 7);
	ck_assert_int_eq(multipart_finish(mp), 0);
	ck_assert_uint_eq(r.data.len, total + 7);
	ck_assert_int_eq(memcmp(r.data.data + total, "xy\r\n--z", 7), 0);
	multipart_free(mp);
	rec_free(&r);
}
END_TEST

/* NULL callbacks (or none) are allowed: the body is still checked. */
START_TEST(test_null_callbacks)
{
	static const struct multipart_callbacks none = { NULL, NULL, NULL };
	static const char body[] = "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--b--";
	enum multipart_error e;
	struct multipart *mp;

	mp = multipart_new(CT("b"), &none, NULL, &e);
	ck_assert_ptr_nonnull(mp);
	ck_assert_int_eq(e, MULTIPART_OK);
	ck_assert_int_eq(multipart_feed(mp, body, sizeof body - 1), 0);
	ck_assert_int_eq(multipart_finish(mp), 0);
	multipart_free(mp);

	mp = multipart_new(CT("b"), NULL, NULL, NULL);
	ck_assert_ptr_nonnull(mp);
	ck_assert_int_eq(multipart_feed(mp, body, 10), 0);
	ck_assert_int_eq(multipart_feed(mp, NULL, 0), 0);
	ck_assert_int_eq(multipart_finish(mp), -1);
	ck_assert_int_eq(multipart_error(mp), MULTIPART_ETRUNCATED);
	multipart_free(mp);
	multipart_free(NULL);
}
END_TEST

/* --- bad Content-Types ------------------------------------------------------------------ */

static const char *const bad_types[] = {
	"multipart/form-data",
	"multipart/form-data;",
	"multipart/form-data; boundary",
	"multipart/form-data; boundary=",
	"multipart/form-data; boundary=\"\"",
	"multipart/form-data; boundary=\"abc",
	"multipart/form-data; boundary=\"abc \"",
	"multipart/form-data; boundary=abc!",
	"multipart/form-data; boundary=abc; boundary=def",
	"multipart/form-data; boundary=ab\001c",
	"multipart/form-data boundary=abc",
	"multipart/form-data; =abc",
	"multipart/form-dataX; boundary=abc",
	"multipart/mixed; boundary=abc",
	"text/plain; boundary=abc",
	"application/x-www-form-urlencoded",
	"",
	/* 71 characters: one more than RFC 2046 allows. */
	"multipart/form-data; boundary="
	    "12345678901234567890123456789012345678901234567890123456789012345678901",
	"multipart/form-data; boundary=\""
	    "12345678901234567890123456789012345678901234567890123456789012345678901\"",
};

START_TEST(test_bad_content_type)
{
	enum multipart_error e = MULTIPART_OK;

	ck_assert_msg(multipart_new(bad_types[_i], &rec_cb, NULL, &e) == NULL, "accepted %s",
	    bad_types[_i]);
	ck_assert_int_eq(e, MULTIPART_EBOUNDARY);
}
END_TEST

START_TEST(test_content_type_edges)
{
	enum multipart_error e = MULTIPART_OK;
	struct multipart *mp;

	ck_assert_ptr_null(multipart_new(NULL, &rec_cb, NULL, &e));
	ck_assert_int_eq(e, MULTIPART_EBOUNDARY);
	ck_assert_ptr_null(multipart_new(NULL, &rec_cb, NULL, NULL));	/* err may be NULL */
	/* 70 characters: the most RFC 2046 allows. */
	mp = multipart_new("multipart/form-data; boundary="
	    "1234567890123456789012345678901234567890123456789012345678901234567890", &rec_cb,
	    NULL, &e);
	ck_assert_ptr_nonnull(mp);
	ck_assert_int_eq(e, MULTIPART_OK);
	multipart_free(mp);
}
END_TEST

/* --- bad bodies ------------------------------------------------------------------------- */

struct bad_case {
	const char		*name;
	const char		*body;
	size_t			 len;
	enum multipart_error	 err;
};

#define HDR	"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n"

static const struct bad_case bad_cases[] = {
	/* Truncated: multipart_finish fails. */
	{ "empty body", BODY(""), MULTIPART_ETRUNCATED },
	{ "only a preamble", BODY("hello world\r\n"), MULTIPART_ETRUNCATED },
	{ "garbage", BODY("\0\xff\r\n\r\n--\r\n--c\r\n"), MULTIPART_ETRUNCATED },
	{ "inside the first delimiter", BODY("--"), MULTIPART_ETRUNCATED },
	{ "after the first delimiter", BODY("--b"), MULTIPART_ETRUNCATED },
	{ "inside headers", BODY("--b\r\nContent-Disposition: form-da"), MULTIPART_ETRUNCATED },
	{ "headers not ended", BODY("--b\r\nContent-Type: text/plain\r\n"), MULTIPART_ETRUNCATED },
	{ "inside data", BODY(HDR "some data"), MULTIPART_ETRUNCATED },
	{ "data then a partial delimiter", BODY(HDR "x\r\n--"), MULTIPART_ETRUNCATED },
	{ "no closing delimiter", BODY(HDR "x\r\n--b\r\n"), MULTIPART_ETRUNCATED },
	{ "closing delimiter missing a dash", BODY(HDR "x\r\n--b-"), MULTIPART_ETRUNCATED },
	{ "wrong boundary", BODY("--c\r\n\r\nx\r\n--c--\r\n"), MULTIPART_ETRUNCATED },
	/* Bad delimiter lines. */
	{ "text after the boundary", BODY("--bX\r\n"), MULTIPART_ESYNTAX },
	{ "text after padding", BODY("--b \tX\r\n"), MULTIPART_ESYNTAX },
	{ "bare CR after boundary", BODY("--b\rX"), MULTIPART_ESYNTAX },
	{ "bare LF after boundary", BODY("--b\n\r\n"), MULTIPART_ESYNTAX },
	{ "single dash then text", BODY(HDR "x\r\n--b-x"), MULTIPART_ESYNTAX },
	{ "padding then dashes", BODY(HDR "x\r\n--b --"), MULTIPART_ESYNTAX },
	{ "longer boundary in data", BODY(HDR "x\r\n--bb\r\n"), MULTIPART_ESYNTAX },
	/* Bad headers. */
	{ "header without colon", BODY("--b\r\nContent-Disposition form-data\r\n\r\n"),
	    MULTIPART_ESYNTAX },
	{ "empty header name", BODY("--b\r\n: x\r\n\r\n"), MULTIPART_ESYNTAX },
	{ "space before colon", BODY("--b\r\nContent-Type : text/plain\r\n\r\n"),
	    MULTIPART_ESYNTAX },
	{ "folded header", BODY("--b\r\nContent-Disposition: form-data;\r\n name=\"a\"\r\n\r\n"),
	    MULTIPART_ESYNTAX },
	{ "bare LF in headers", BODY("--b\r\nX: a\nContent-Type: b\r\n\r\n"), MULTIPART_ESYNTAX },
	{ "bare CR in headers", BODY("--b\r\nX: a\rb\r\n\r\n"), MULTIPART_ESYNTAX },
	{ "NUL in headers", BODY("--b\r\nX: a\0b\r\n\r\n"), MULTIPART_ESYNTAX },
	{ "two Content-Types", BODY("--b\r\nContent-Type: a/b\r\ncontent-type: c/d\r\n\r\n"),
	    MULTIPART_ESYNTAX },
	/* Malformed Content-Disposition. */
	{ "not form-data", BODY("--b\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\n"),
	    MULTIPART_ESYNTAX },
	{ "empty disposition", BODY("--b\r\nContent-Disposition:\r\n\r\n"), MULTIPART_ESYNTAX },
	{ "unterminated quote",
	    BODY("--b\r\nContent-Disposition: form-data; name=\"a\r\n\r\n"), MULTIPART_ESYNTAX },
	{ "escape at the end",
	    BODY("--b\r\nContent-Disposition: form-data; name=\"a\\\r\n\r\n"), MULTIPART_ESYNTAX },
	{ "parameter without value", BODY("--b\r\nContent-Disposition: form-data; name\r\n\r\n"),
	    MULTIPART_ESYNTAX },
	{ "empty value", BODY("--b\r\nContent-Disposition: form-data; name=\r\n\r\n"),
	    MULTIPART_ESYNTAX },
	{ "missing semicolon",
	    BODY("--b\r\nContent-Disposition: form-data name=\"a\"\r\n\r\n"), MULTIPART_ESYNTAX },
	{ "text after a quoted value",
	    BODY("--b\r\nContent-Disposition: form-data; name=\"a\"x\r\n\r\n"), MULTIPART_ESYNTAX },
	{ "unquoted value with a space",
	    BODY("--b\r\nContent-Disposition: form-data; filename=a b.txt\r\n\r\n"),
	    MULTIPART_ESYNTAX },
	{ "parameter without name", BODY("--b\r\nContent-Disposition: form-data; =x\r\n\r\n"),
	    MULTIPART_ESYNTAX },
	{ "name twice", BODY("--b\r\nContent-Disposition: form-data; name=\"a\"; NAME=\"b\"\r\n\r\n"),
	    MULTIPART_ESYNTAX },
	{ "filename twice",
	    BODY("--b\r\nContent-Disposition: form-data; filename=a; filename=b\r\n\r\n"),
	    MULTIPART_ESYNTAX },
	{ "filename* twice", BODY("--b\r\nContent-Disposition: form-data; filename*=UTF-8''a; "
	    "filename*=UTF-8''b\r\n\r\n"), MULTIPART_ESYNTAX },
	{ "bad percent escape in filename*",
	    BODY("--b\r\nContent-Disposition: form-data; filename*=UTF-8''%zz\r\n\r\n"),
	    MULTIPART_ESYNTAX },
	{ "truncated percent escape in filename*",
	    BODY("--b\r\nContent-Disposition: form-data; filename*=UTF-8''a%4\r\n\r\n"),
	    MULTIPART_ESYNTAX },
	{ "unsupported charset in filename*",
	    BODY("--b\r\nContent-Disposition: form-data; filename*=koi8-r''x\r\n\r\n"),
	    MULTIPART_ESYNTAX },
	{ "filename* without charset",
	    BODY("--b\r\nContent-Disposition: form-data; filename*=x.txt\r\n\r\n"),
	    MULTIPART_ESYNTAX },
	{ "filename* with one quote",
	    BODY("--b\r\nContent-Disposition: form-data; filename*=UTF-8'x.txt\r\n\r\n"),
	    MULTIPART_ESYNTAX },
	{ "two Content-Dispositions", BODY("--b\r\nContent-Disposition: form-data; name=a\r\n"
	    "Content-Disposition: form-data; name=b\r\n\r\n"), MULTIPART_ESYNTAX },
	/* A malformed second part after a good first one. */
	{ "bad second part", BODY(HDR "x\r\n--b\r\nContent-Disposition: inline\r\n\r\n"),
	    MULTIPART_ESYNTAX },
};

/*
 * Each bad body fails with its own error whether fed whole, byte by byte, or split in two
 * anywhere (the recorder asserts that begin and end stay paired on the way).
 */
START_TEST(test_bad_body)
{
	const struct bad_case *c = &bad_cases[_i];
	size_t sizes[2], one = 1, split;
	enum multipart_error err;
	struct rec r;

	for (split = 0; split <= c->len + 1; split++) {
		memset(&r, 0, sizeof r);
		if (split == c->len + 1) {
			ck_assert_int_eq(feed_chunks(CT("b"), c->body, c->len, &one, 1, &r, &err), -1);
		} else {
			sizes[0] = split ? split : 1;
			sizes[1] = c->len - split ? c->len - split : 1;
			ck_assert_int_eq(feed_chunks(CT("b"), c->body, c->len, sizes, 2, &r, &err), -1);
		}
		ck_assert_msg(err == c->err, "%s (split %zu): got %s, want %s", c->name, split,
		    multipart_strerror(err), multipart_strerror(c->err));
		rec_free(&r);
	}
}
END_TEST

/* Truncation is noticed by multipart_finish only: every feed before it succeeds. */
START_TEST(test_truncated_feeds_succeed)
{
	static const char body[] = HDR "partial";
	enum multipart_error e;
	struct rec r = { 0 };
	struct multipart *mp = multipart_new(CT("b"), &rec_cb, &r, &e);

	ck_assert_int_eq(multipart_feed(mp, body, sizeof body - 1), 0);
	ck_assert_int_eq(multipart_error(mp), MULTIPART_OK);
	ck_assert_int_eq(multipart_finish(mp), -1);
	ck_assert_int_eq(multipart_error(mp), MULTIPART_ETRUNCATED);
	ck_assert(r.in_part);	/* the receiver sees no end for a part that never ended */
	multipart_free(mp);
	rec_free(&r);
}
END_TEST

/* A header block of exactly MULTIPART_HEADERS_MAX bytes (blank line included) is fine; one
 * byte more is EHEADERS, as is one endless header line. */
START_TEST(test_headers_limit)
{
	static const char start[] = "--b\r\nX-Pad: ";
	static const char end[] = "\r\n\r\nx\r\n--b--";
	struct buf body = BUF_INIT;
	enum multipart_error err;
	size_t one = 1, whole, pad = MULTIPART_HEADERS_MAX - strlen("X-Pad: ") - 4;
	struct rec r = { 0 };

	buf_appends(&body, start);
	while (pad-- > 0)
		buf_appendc(&body, 'p');
	buf_appends(&body, end);
	whole = body.len;
	ck_assert_int_eq(feed_chunks(CT("b"), body.data, body.len, &whole, 1, &r, &err), 0);
	ck_assert_str_eq(r.log.data, "begin name= filename=(null) type=(null)\ndata=x\nend\n");
	rec_free(&r);

	buf_reset(&body);
	buf_appends(&body, start);
	buf_appendc(&body, 'p');
	for (pad = MULTIPART_HEADERS_MAX - strlen("X-Pad: ") - 4; pad-- > 0;)
		buf_appendc(&body, 'p');
	buf_appends(&body, end);
	memset(&r, 0, sizeof r);
	ck_assert_int_eq(feed_chunks(CT("b"), body.data, body.len, &whole, 1, &r, &err), -1);
	ck_assert_int_eq(err, MULTIPART_EHEADERS);
	ck_assert_uint_eq(r.calls, 0);
	rec_free(&r);
	memset(&r, 0, sizeof r);
	ck_assert_int_eq(feed_chunks(CT("b"), body.data, body.len, &one, 1, &r, &err), -1);
	ck_assert_int_eq(err, MULTIPART_EHEADERS);
	rec_free(&r);

	/* Many small headers add up the same way. */
	buf_reset(&body);
	buf_appends(&body, "--b\r\n");
	while (body.len < 3 * MULTIPART_HEADERS_MAX)
		buf_appends(&body, "X-A: b\r\n");
	buf_appends(&body, end + 2);
	memset(&r, 0, sizeof r);
	whole = body.len;
	ck_assert_int_eq(feed_chunks(CT("b"), body.data, body.len, &whole, 1, &r, &err), -1);
	ck_assert_int_eq(err, MULTIPART_EHEADERS);
	rec_free(&r);
	buf_free(&body);
}
END_TEST

static struct buf
parts_body(size_t nparts)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < nparts; i++)
		buf_printf(&b, "--b\r\nContent-Disposition: form-data; name=\"f%zu\"\r\n\r\n%zu\r\n",
		    i, i);
	buf_appends(&b, "--b--\r\n");
	return b;
}

START_TEST(test_too_many_parts)
{
	struct buf body = parts_body(MULTIPART_MAX_PARTS);
	enum multipart_error err;
	struct rec r = { 0 };
	size_t whole = body.len, chunks[] = { 1, 3, 17, 1000 };

	ck_assert_int_eq(feed_chunks(CT("b"), body.data, body.len, &whole, 1, &r, &err), 0);
	ck_assert_uint_eq(r.n_begin, MULTIPART_MAX_PARTS);
	ck_assert_uint_eq(r.n_end, MULTIPART_MAX_PARTS);
	rec_free(&r);
	buf_free(&body);

	body = parts_body(MULTIPART_MAX_PARTS + 1);
	memset(&r, 0, sizeof r);
	whole = body.len;
	ck_assert_int_eq(feed_chunks(CT("b"), body.data, body.len, &whole, 1, &r, &err), -1);
	ck_assert_int_eq(err, MULTIPART_ETOOMANY);
	ck_assert_uint_eq(r.n_begin, MULTIPART_MAX_PARTS);
	rec_free(&r);
	memset(&r, 0, sizeof r);
	ck_assert_int_eq(feed_chunks(CT("b"), body.data, body.len, chunks, N(chunks), &r, &err),
	    -1);
	ck_assert_int_eq(err, MULTIPART_ETOOMANY);
	ck_assert_uint_eq(r.n_begin, MULTIPART_MAX_PARTS);
	rec_free(&r);
	buf_free(&body);
}
END_TEST

/* --- callbacks that stop ---------------------------------------------------------------- */

static const char two_parts[] =
    "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n0123456789\r\n"
    "--b\r\nContent-Disposition: form-data; name=\"c\"\r\n\r\nabcdef\r\n--b--\r\n";

static const struct {
	const char	*name;
	size_t		 stop_begin, stop_data, stop_end;
	size_t		 calls;		/* callbacks made in all, the stopping one included */
} stop_cases[] = {
	{ "first begin", 1, 0, 0, 1 },
	{ "second begin", 2, 0, 0, 4 },
	{ "first data", 0, 1, 0, 2 },
	{ "first end", 0, 0, 1, 3 },
	{ "last end", 0, 0, 2, 6 },
};

START_TEST(test_callback_stops)
{
	enum multipart_error err;
	struct rec r = { 0 };
	size_t whole = sizeof two_parts - 1, one = 1;

	r.stop_begin = stop_cases[_i].stop_begin;
	r.stop_data = stop_cases[_i].stop_data;
	r.stop_end = stop_cases[_i].stop_end;
	ck_assert_int_eq(feed_chunks(CT("b"), two_parts, whole, &whole, 1, &r, &err), -1);
	ck_assert_int_eq(err, MULTIPART_ECALLBACK);
	ck_assert_msg(r.calls == stop_cases[_i].calls, "%s: %zu calls", stop_cases[_i].name,
	    r.calls);
	rec_free(&r);

	/* Byte by byte, data comes in more calls, but nothing follows the stopping one. */
	memset(&r, 0, sizeof r);
	r.stop_begin = stop_cases[_i].stop_begin;
	r.stop_data = stop_cases[_i].stop_data;
	r.stop_end = stop_cases[_i].stop_end;
	ck_assert_int_eq(feed_chunks(CT("b"), two_parts, whole, &one, 1, &r, &err), -1);
	ck_assert_int_eq(err, MULTIPART_ECALLBACK);
	if (r.stop_data != 0)
		ck_assert_uint_eq(r.calls, 2);
	rec_free(&r);
}
END_TEST

/* After a callback stops the parser, later feeds fail at once and call nothing. */
START_TEST(test_no_callbacks_after_stop)
{
	enum multipart_error e;
	struct rec r = { 0 };
	struct multipart *mp;
	size_t calls;

	r.stop_data = 1;
	mp = multipart_new(CT("b"), &rec_cb, &r, &e);
	ck_assert_int_eq(multipart_feed(mp, two_parts, 60), -1);
	calls = r.calls;
	ck_assert_int_eq(multipart_feed(mp, two_parts + 60, sizeof two_parts - 61), -1);
	ck_assert_int_eq(multipart_finish(mp), -1);
	ck_assert_uint_eq(r.calls, calls);
	ck_assert_int_eq(multipart_error(mp), MULTIPART_ECALLBACK);
	multipart_free(mp);
	rec_free(&r);
}
END_TEST

/* --- garbage ---------------------------------------------------------------------------- */

/*
 * Random bodies built from pieces that matter to the parser (delimiters, CRLFs, header
 * fragments, quotes, random bytes), fed in random chunks: the parser must always end in a
 * defined state, OK or one of its errors, with begin/end correctly paired (the recorder
 * asserts it), and ASan must stay quiet.
 */
START_TEST(test_garbage)
{
	static const char *const pieces[] = {
		"--b", "\r\n", "\r", "\n", "--", "-", " ", "\t", "Content-Disposition: ",
		"form-data", "; name=", "\"", "\\", "filename*=UTF-8''%41", "filename=",
		"Content-Type: a/b", ":", ";", "x", "\0", "\xff", "\r\n\r\n", "--b--",
	};
	uint64_t seed = 0x2545f4914f6cdd1dULL;
	struct buf body = BUF_INIT;
	enum multipart_error err;
	size_t round, i, n, sizes[16];
	struct rec r;
	int rc;

	for (round = 0; round < 3000; round++) {
		buf_reset(&body);
		n = xorshift(&seed) % 60;
		for (i = 0; i < n; i++) {
			if (xorshift(&seed) % 4 == 0)
				buf_appendc(&body, (char)xorshift(&seed));
			else {
				const char *p = pieces[xorshift(&seed) % N(pieces)];

				buf_append(&body, p, *p ? strlen(p) : 1);
			}
		}
		for (i = 0; i < N(sizes); i++)
			sizes[i] = 1 + xorshift(&seed) % 9;
		memset(&r, 0, sizeof r);
		rc = feed_chunks(CT("b"), buf_str(&body), body.len, sizes, N(sizes), &r, &err);
		ck_assert(rc == 0 ? err == MULTIPART_OK : err != MULTIPART_OK);
		ck_assert(err != MULTIPART_ECALLBACK && err != MULTIPART_EBOUNDARY);
		rec_free(&r);
	}
	buf_free(&body);
}
END_TEST

START_TEST(test_strerror)
{
	static const enum multipart_error all[] = {
		MULTIPART_OK, MULTIPART_EBOUNDARY, MULTIPART_ESYNTAX, MULTIPART_EHEADERS,
		MULTIPART_ETOOMANY, MULTIPART_ETRUNCATED, MULTIPART_ECALLBACK,
	};
	size_t i, k;

	for (i = 0; i < N(all); i++) {
		ck_assert_ptr_nonnull(multipart_strerror(all[i]));
		ck_assert_uint_gt(strlen(multipart_strerror(all[i])), 0);
		for (k = 0; k < i; k++)
			ck_assert_str_ne(multipart_strerror(all[i]), multipart_strerror(all[k]));
	}
	ck_assert_ptr_nonnull(multipart_strerror((enum multipart_error)99));
}
END_TEST

static Suite *
multipart_suite(void)
{
	Suite *s = suite_create("multipart");
	TCase *tc;

	tc = tcase_create("good");
	tcase_set_timeout(tc, TU_TIMEOUT);
	tcase_add_loop_test(tc, test_good_body, 0, N(good_cases));
	tcase_add_test(tc, test_binary_data);
	tcase_add_test(tc, test_longest_boundary);
	tcase_add_test(tc, test_streams_without_holding_data);
	tcase_add_test(tc, test_null_callbacks);
	suite_add_tcase(s, tc);

	tc = tcase_create("bad");
	tcase_set_timeout(tc, TU_TIMEOUT);
	tcase_add_loop_test(tc, test_bad_content_type, 0, N(bad_types));
	tcase_add_test(tc, test_content_type_edges);
	tcase_add_loop_test(tc, test_bad_body, 0, N(bad_cases));
	tcase_add_test(tc, test_truncated_feeds_succeed);
	tcase_add_test(tc, test_headers_limit);
	tcase_add_test(tc, test_too_many_parts);
	tcase_add_loop_test(tc, test_callback_stops, 0, N(stop_cases));
	tcase_add_test(tc, test_no_callbacks_after_stop);
	tcase_add_test(tc, test_garbage);
	tcase_add_test(tc, test_strerror);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(multipart_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
