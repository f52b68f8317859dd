/*
 * fuzz_multipart: the streaming multipart/form-data parser (src/multipart.c), fed the same
 * body three ways: whole, split in two at a point the fuzzer chooses, and one byte at a time.
 *
 * Input: a flags byte (bit 0: the Content-Type is the next line, else a fixed boundary;
 * bits 1-3: stop the parse from the callback at the n-th part start, 0 = never), two bytes
 * for the split point, then the body.
 * Checks: no crash or leak; the three feedings produce the same transcript (each part's
 * name, filename, content type and data, and where parts end) and the same outcome and
 * error; strings handed to callbacks are NUL-terminated at their stated length.
 */
#include "fuzz.h"

#include "buf.h"
#include "multipart.h"

#define FIXED_CT "multipart/form-data; boundary=----fuzzBoundary7MA4YWxkTrZu0gW"

struct transcript {
	struct buf	 t;
	unsigned	 begins;
	unsigned	 stop_at;	/* 0: never stop */
	bool		 open;
};

static void
put_str(struct buf *b, const char *tag, const char *s, size_t n)
{
	char len[32];

	snprintf(len, sizeof len, "%s%zu:", tag, n);
	buf_appends(b, len);
	if (n)
		buf_append(b, s, n);
}

static int
on_begin(void *ctx, const struct multipart_part *p)
{
	struct transcript *tr = ctx;

	FUZZ_CHECK(!tr->open);
	FUZZ_CHECK(p->name != NULL);
	tr->open = true;
	put_str(&tr->t, "B", p->name, strlen(p->name));
	if (p->filename != NULL) {
		FUZZ_CHECK(p->filename[p->filename_len] == '\0');
		put_str(&tr->t, "F", p->filename, p->filename_len);
	} else
		buf_appends(&tr->t, "F-");
	if (p->content_type != NULL)
		put_str(&tr->t, "T", p->content_type, strlen(p->content_type));
	else
		buf_appends(&tr->t, "T-");
	buf_appends(&tr->t, "D");
	if (tr->stop_at != 0 && ++tr->begins == tr->stop_at)
		return -1;
	return 0;
}

static int
on_data(void *ctx, const char *data, size_t len)
{
	struct transcript *tr = ctx;

	FUZZ_CHECK(tr->open);
	FUZZ_CHECK(len > 0);
	buf_append(&tr->t, data, len);
	return 0;
}

static int
on_end(void *ctx)
{
	struct transcript *tr = ctx;

	FUZZ_CHECK(tr->open);
	tr->open = false;
	buf_appends(&tr->t, "|E|");
	return 0;
}

static const struct multipart_callbacks cbs = { on_begin, on_data, on_end };

/* Parses body cut into pieces at the offsets in cuts (ascending, ncuts of them); the
 * transcript gets the outcome appended. */
static void
run(const char *ct, const char *body, size_t len, const size_t *cuts, size_t ncuts,
    unsigned stop_at, struct transcript *tr)
{
	enum multipart_error err;
	struct multipart *mp;
	size_t at = 0, i, end;
	int rc = 0;
	char tail[64];

	memset(tr, 0, sizeof *tr);
	tr->stop_at = stop_at;
	mp = multipart_new(ct, &cbs, tr, &err);
	if (mp == NULL) {
		FUZZ_CHECK(err == MULTIPART_EBOUNDARY);
		buf_appends(&tr->t, "no-boundary");
		return;
	}
	for (i = 0; i <= ncuts && rc == 0; i++) {
		end = i < ncuts ? cuts[i] : len;
		rc = multipart_feed(mp, body + at, end - at);
		at = end;
	}
	if (rc == 0)
		rc = multipart_finish(mp);
	else	/* once failed, always failed */
		FUZZ_CHECK(multipart_feed(mp, "x", 1) == -1 && multipart_finish(mp) == -1);
	FUZZ_CHECK(rc == 0 || multipart_error(mp) != MULTIPART_OK);
	FUZZ_CHECK(multipart_strerror(multipart_error(mp)) != NULL);
	snprintf(tail, sizeof tail, "#rc=%d err=%d", rc, (int)multipart_error(mp));
	buf_appends(&tr->t, tail);
	multipart_free(mp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t flags = fuzz_byte(&in);
	char *ct = (flags & 1) ? fuzz_line_dup(&in) : strdup(FIXED_CT);
	unsigned stop_at = (flags >> 1) & 7;
	size_t split = fuzz_u16(&in), len, i, *cuts;
	char *body = fuzz_rest_dup(&in, &len);
	struct transcript whole, two, bytes;

	if (ct == NULL)
		abort();
	run(ct, body, len, NULL, 0, stop_at, &whole);
	split = len ? split % (len + 1) : 0;
	run(ct, body, len, &split, 1, stop_at, &two);
	cuts = malloc((len ? len : 1) * sizeof *cuts);
	if (cuts == NULL)
		abort();
	for (i = 0; i + 1 < len; i++)
		cuts[i] = i + 1;
	run(ct, body, len, cuts, len ? len - 1 : 0, stop_at, &bytes);

	FUZZ_CHECK(whole.t.len == two.t.len && !memcmp(buf_str(&whole.t), buf_str(&two.t), whole.t.len));
	FUZZ_CHECK(whole.t.len == bytes.t.len && !memcmp(buf_str(&whole.t), buf_str(&bytes.t), whole.t.len));

	buf_free(&whole.t);
	buf_free(&two.t);
	buf_free(&bytes.t);
	free(cuts);
	free(body);
	free(ct);
	return 0;
}
