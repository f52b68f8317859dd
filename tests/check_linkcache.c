/*
 * check_linkcache: the link cache on its own: copies in and out, replacement, clearing, and
 * its bound (it starts over once it holds LINKCACHE_MAX links).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "linkcache.h"

static void
make(struct link *l, const char *code, const char *url)
{
	memset(l, 0, sizeof *l);
	snprintf(l->short_code, sizeof l->short_code, "%s", code);
	l->full_url = url != NULL ? strdup(url) : NULL;
	l->expires_at = 1900000000000;
	l->max_clicks = 5;
	l->click_count = 2;
}

START_TEST(test_put_get_copies)
{
	struct linkcache *c = linkcache_new();
	struct link l, *e, out;
	int64_t rowid = 0;

	ck_assert_ptr_null(linkcache_get(c, "abc", &rowid));
	make(&l, "abc", "https://example.com/a");
	l.password_hash = strdup("$scrypt$x");
	e = linkcache_put(c, &l, 42);
	ck_assert_ptr_nonnull(e);
	link_free(&l);			/* the cache kept copies of the strings */
	ck_assert_ptr_eq(linkcache_get(c, "abc", &rowid), e);
	ck_assert_int_eq(rowid, 42);
	ck_assert_str_eq(e->full_url, "https://example.com/a");
	ck_assert_str_eq(e->password_hash, "$scrypt$x");
	ck_assert_ptr_null(e->filename);
	ck_assert_int_eq(e->click_count, 2);
	e->click_count++;		/* counters change in place */
	link_copy(&out, linkcache_get(c, "abc", &rowid));
	ck_assert_int_eq(out.click_count, 3);
	ck_assert_ptr_ne(out.full_url, e->full_url);
	ck_assert_str_eq(out.full_url, e->full_url);
	link_free(&out);
	ck_assert_ptr_null(linkcache_get(c, "abd", &rowid));
	ck_assert_ptr_null(linkcache_get(c, "ab", &rowid));
	ck_assert_uint_eq(linkcache_count(c), 1);
	linkcache_free(c);
}
END_TEST

START_TEST(test_replace_and_clear)
{
	struct linkcache *c = linkcache_new();
	struct link l, *e;
	int64_t rowid = 0;

	make(&l, "x", "https://example.com/1");
	linkcache_put(c, &l, 1);
	link_free(&l);
	make(&l, "x", "https://example.com/2");
	linkcache_put(c, &l, 2);
	link_free(&l);
	ck_assert_uint_eq(linkcache_count(c), 1);
	e = linkcache_get(c, "x", &rowid);
	ck_assert_str_eq(e->full_url, "https://example.com/2");
	ck_assert_int_eq(rowid, 2);
	linkcache_clear(c);
	ck_assert_uint_eq(linkcache_count(c), 0);
	ck_assert_ptr_null(linkcache_get(c, "x", &rowid));
	make(&l, "x", NULL);
	snprintf(l.file_key, sizeof l.file_key, "k1");
	l.filename = strdup("report.pdf");
	l.content_type = strdup("application/pdf");
	linkcache_put(c, &l, 7);
	link_free(&l);
	e = linkcache_get(c, "x", &rowid);
	ck_assert_ptr_null(e->full_url);
	ck_assert_str_eq(e->file_key, "k1");
	ck_assert_str_eq(e->filename, "report.pdf");
	ck_assert_str_eq(e->content_type, "application/pdf");
	linkcache_clear(NULL);
	linkcache_free(c);
	linkcache_free(NULL);
}
END_TEST

/* Past LINKCACHE_MAX links (short URLs), or past the memory it keeps for copies (16 MiB of
 * links with 2 KiB URLs, fewer than LINKCACHE_MAX), the cache starts over: it never holds
 * more, and what it holds after that is right. */
static const size_t url_lens[] = { 40, 2100 };

START_TEST(test_bound)
{
	struct linkcache *c = linkcache_new();
	char code[CODE_MAX], url[2101];
	struct link l, *e;
	int64_t rowid = 0;
	size_t most = 0;
	int i;

	memset(url, 'u', url_lens[_i]);
	url[url_lens[_i]] = '\0';
	memcpy(url, "https://", 8);
	for (i = 0; i < LINKCACHE_MAX + 10; i++) {
		snprintf(code, sizeof code, "c%d", i);
		make(&l, code, url);
		ck_assert_ptr_nonnull(linkcache_put(c, &l, i));
		link_free(&l);
		ck_assert_uint_le(linkcache_count(c), LINKCACHE_MAX);
		if (linkcache_count(c) > most)
			most = linkcache_count(c);
	}
	if (_i == 0)
		ck_assert_uint_eq(most, LINKCACHE_MAX);
	else
		ck_assert_uint_lt(most, LINKCACHE_MAX / 2);
	ck_assert_uint_lt(linkcache_count(c), most);
	e = linkcache_get(c, code, &rowid);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(rowid, LINKCACHE_MAX + 9);
	ck_assert_str_eq(e->full_url, url);
	ck_assert_ptr_null(linkcache_get(c, "c0", &rowid));
	linkcache_free(c);
}
END_TEST

static Suite *
linkcache_suite(void)
{
	Suite *s = suite_create("linkcache");
	TCase *tc = tcase_create("cache");

	tcase_add_test(tc, test_put_get_copies);
	tcase_add_test(tc, test_replace_and_clear);
	tcase_add_loop_test(tc, test_bound, 0, (int)(sizeof url_lens / sizeof url_lens[0]));
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(linkcache_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
