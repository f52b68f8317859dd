/*
 * check_qr: the SVG drawing of QR codes. The SVG is parsed back into a grid of modules and
 * compared with libqrencode's own symbol for the same data, and checked for what every QR
 * code must have (finder patterns, timing patterns, an empty quiet zone) and for what the
 * SVG must never carry (anything from the input).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>

#include "qr.h"
#include "testutil.h"

#define GRID_MAX	(177 + 2 * QR_QUIET_ZONE)

/* The symbol drawn by an SVG from qr_svg: grid[y][x] is 1 for a dark module. */
struct grid {
	int		size;		/* modules across, quiet zone included */
	unsigned char	m[GRID_MAX][GRID_MAX];
};

/* Parses qr_svg's output back into modules; fails the test on anything unexpected. */
static void
svg_parse(const char *svg, struct grid *g)
{
	const char *p, *end;
	int size, x, y, n, n2, used, i;

	memset(g, 0, sizeof *g);
	ck_assert_msg(sscanf(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
	    "viewBox=\"0 0 %d %d\"", &size, &n) == 2, "unexpected SVG start: %.80s", svg);
	ck_assert_int_eq(size, n);
	ck_assert_int_le(size, GRID_MAX);
	g->size = size;
	p = strstr(svg, " d=\"");
	ck_assert_ptr_nonnull(p);
	p += 4;
	end = strchr(p, '"');
	ck_assert_ptr_nonnull(end);
	while (p < end) {
		used = 0;
		ck_assert_msg(sscanf(p, "M%d %dh%dv1h-%dz%n", &x, &y, &n, &n2, &used) == 4 && used > 0,
		    "bad path command at %.40s", p);
		ck_assert_int_eq(n, n2);
		ck_assert_int_gt(n, 0);
		ck_assert(x >= 0 && y >= 0 && x + n <= size && y < size);
		for (i = 0; i < n; i++) {
			ck_assert_msg(!g->m[y][x + i], "module %d,%d drawn twice", x + i, y);
			g->m[y][x + i] = 1;
		}
		p += used;
	}
	ck_assert_str_eq(end, "\"/></svg>\n");
}

static void
assert_finder(const struct grid *g, int x0, int y0)
{
	int x, y, ring;

	/* 7x7: dark outer ring, light ring, dark 3x3 centre. */
	for (y = 0; y < 7; y++)
		for (x = 0; x < 7; x++) {
			ring = abs(x - 3) > abs(y - 3) ? abs(x - 3) : abs(y - 3);
			ck_assert_msg(g->m[y0 + y][x0 + x] == (ring != 2),
			    "finder at %d,%d wrong at %d,%d", x0, y0, x, y);
		}
}

static void
encode(const char *data, size_t len, struct buf *out, int *width)
{
	buf_reset(out);
	*width = qr_svg(data, len, out);
	ck_assert_int_gt(*width, 0);
}

static const struct {
	size_t	len;
	int	width;		/* level M, 8-bit mode: v1 holds 14 bytes, v2 26, v3 42, v40 2331 */
} size_cases[] = {
	{ 1, 21 }, { 14, 21 }, { 15, 25 }, { 26, 25 }, { 27, 29 }, { 42, 29 }, { 2331, 177 },
};

START_TEST(test_version_by_length)
{
	struct buf out = BUF_INIT;
	char *data = malloc(size_cases[_i].len);
	char view[64];
	int w;

	memset(data, 'a', size_cases[_i].len);
	encode(data, size_cases[_i].len, &out, &w);
	ck_assert_int_eq(w, size_cases[_i].width);
	snprintf(view, sizeof view, "viewBox=\"0 0 %d %d\"", w + 8, w + 8);
	ck_assert_ptr_nonnull(strstr(out.data, view));
	snprintf(view, sizeof view, "width=\"%d\" height=\"%d\"", (w + 8) * QR_MODULE_PX,
	    (w + 8) * QR_MODULE_PX);
	ck_assert_ptr_nonnull(strstr(out.data, view));
	buf_free(&out);
	free(data);
}
END_TEST

static const char *const match_cases[] = {
	"http://127.0.0.1:8080/Ab3dE9xQ",
	"https://fileshare.example.com/my-custom-slug_2026",
	"x",
	"HTTPS://EXAMPLE.COM/ABCDEFGH",		/* alphanumeric-looking, still drawn as bytes */
	"\xc3\xa9t\xc3\xa9 \xe2\x9c\x93",	/* UTF-8 */
};

/* The drawing is libqrencode's symbol, module for module, inside a 4-module quiet zone. */
START_TEST(test_matches_libqrencode)
{
	const char *s = match_cases[_i];
	struct buf out = BUF_INIT;
	struct grid *g = calloc(1, sizeof *g);
	QRcode *ref;
	int w, x, y, q = QR_QUIET_ZONE;

	encode(s, strlen(s), &out, &w);
	svg_parse(out.data, g);
	ref = QRcode_encodeData((int)strlen(s), (const unsigned char *)s, 0, QR_ECLEVEL_M);
	ck_assert_ptr_nonnull(ref);
	ck_assert_int_eq(ref->width, w);
	ck_assert_int_eq(g->size, w + 2 * q);
	for (y = 0; y < g->size; y++)
		for (x = 0; x < g->size; x++) {
			bool in = x >= q && y >= q && x < q + w && y < q + w;
			int want = in ? ref->data[(y - q) * w + (x - q)] & 1 : 0;

			ck_assert_msg(g->m[y][x] == want, "module %d,%d: %d, want %d", x, y, g->m[y][x], want);
		}
	/* And what any QR code has: three finders, and timing patterns between them. */
	assert_finder(g, q, q);
	assert_finder(g, q + w - 7, q);
	assert_finder(g, q, q + w - 7);
	for (x = 8; x < w - 8; x++) {
		ck_assert_int_eq(g->m[q + 6][q + x], x % 2 == 0);
		ck_assert_int_eq(g->m[q + x][q + 6], x % 2 == 0);
	}
	QRcode_free(ref);
	free(g);
	buf_free(&out);
}
END_TEST

START_TEST(test_deterministic)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	int w;

	encode("http://fs.test/abc", 18, &a, &w);
	encode("http://fs.test/abc", 18, &b, &w);
	ck_assert_str_eq(a.data, b.data);
	encode("http://fs.test/abd", 18, &b, &w);
	ck_assert_str_ne(a.data, b.data);
	buf_free(&a);
	buf_free(&b);
}
END_TEST

/* Nothing of the input reaches the SVG: only digits, path letters and fixed markup. */
START_TEST(test_input_never_in_svg)
{
	static const char evil[] = "https://x.test/?q=<script>alert(1)</script>\"'&<svg onload=alert(2)>";
	struct buf out = BUF_INIT;
	int w;

	encode(evil, sizeof evil - 1, &out, &w);
	ck_assert_ptr_null(strstr(out.data, "script"));
	ck_assert_ptr_null(strstr(out.data, "alert"));
	ck_assert_ptr_null(strstr(out.data, "onload"));
	ck_assert_ptr_null(strchr(out.data, '&'));
	ck_assert_ptr_null(strchr(out.data, '\''));
	ck_assert_uint_eq(strspn(strstr(out.data, " d=\"") + 4, "0123456789Mhvz- "),
	    strlen(strstr(out.data, " d=\"") + 4) - strlen("\"/></svg>\n"));
	buf_free(&out);
}
END_TEST

START_TEST(test_binary_data)
{
	static const char bin[] = "a\0b\xff\x01";
	struct buf out = BUF_INIT;
	int w;

	encode(bin, sizeof bin - 1, &out, &w);
	ck_assert_int_eq(w, 21);
	buf_free(&out);
}
END_TEST

/* Negative cases: nothing to encode, or more than version 40-M holds. Output untouched. */
START_TEST(test_refused)
{
	struct buf out = BUF_INIT;
	char *big = malloc(2332);

	buf_appends(&out, "keep");
	ck_assert_int_eq(qr_svg("", 0, &out), -1);
	ck_assert_str_eq(out.data, "keep");
	memset(big, 'a', 2332);
	ck_assert_int_eq(qr_svg(big, 2332, &out), -1);
	ck_assert_str_eq(out.data, "keep");
	ck_assert_int_eq(qr_svg(big, (size_t)1 << 40, &out), -1);
	ck_assert_str_eq(out.data, "keep");
	free(big);
	buf_free(&out);
}
END_TEST

/* Appends: a caller can put the SVG after something already in its buffer. */
START_TEST(test_appends_to_buffer)
{
	struct buf out = BUF_INIT;

	buf_appends(&out, "prefix:");
	ck_assert_int_eq(qr_svg("hello", 5, &out), 21);
	ck_assert_int_eq(strncmp(out.data, "prefix:<svg ", 12), 0);
	buf_free(&out);
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *
qr_suite(void)
{
	Suite *s = suite_create("qr");
	TCase *tc = tcase_create("svg");

	tcase_set_timeout(tc, TU_TIMEOUT);
	tcase_add_loop_test(tc, test_version_by_length, 0, N(size_cases));
	tcase_add_loop_test(tc, test_matches_libqrencode, 0, N(match_cases));
	tcase_add_test(tc, test_deterministic);
	tcase_add_test(tc, test_input_never_in_svg);
	tcase_add_test(tc, test_binary_data);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_appends_to_buffer);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(qr_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
