/*
 * check_buf: the growable buffer and its JSON string escaping, and the RFC 3339 time parser.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "timeutil.h"
#include "testutil.h"

START_TEST(test_empty_buffer)
{
	struct buf b = BUF_INIT;

	ck_assert_str_eq(buf_str(&b), "");
	ck_assert_uint_eq(b.len, 0);
	buf_reset(&b);		/* resetting a never-used buffer is fine */
	ck_assert_ptr_null(b.data);
	buf_free(&b);		/* and so is freeing it, twice */
	buf_free(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.cap, 0);
}
END_TEST

START_TEST(test_append_zero_bytes_allocates)
{
	struct buf b = BUF_INIT;

	/* "data is never NULL after any append", even an empty one. */
	buf_append(&b, NULL, 0);
	ck_assert_ptr_nonnull(b.data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_int_eq(b.data[0], '\0');
	buf_free(&b);
}
END_TEST

/*
 * Regression (src/buf.c, buf_grow, fixed): growing a never-used buffer allocated data without
 * writing its terminating NUL, so the buffer was not "always NUL-terminated": buf_str()
 * returned uninitialised bytes (and could read past the block) until something was appended.
 */
START_TEST(test_grow_empty_is_terminated)
{
	struct buf b = BUF_INIT;
	struct tu_garbage g;
	bool allocated, roomy, empty, terminated;

	tu_garbage_begin(&g, 64);	/* fresh allocations hold non-zero bytes */
	buf_grow(&b, 10);
	tu_garbage_end(&g);
	allocated = b.data != NULL;
	roomy = b.cap >= 11;
	empty = b.len == 0;
	terminated = allocated && b.data[0] == '\0';
	buf_free(&b);		/* before asserting: a failed check must not also leak */
	ck_assert(allocated);
	ck_assert(roomy);	/* room for 10 bytes and the NUL */
	ck_assert(empty);
	ck_assert_msg(terminated, "buf_grow left an empty buffer unterminated");
}
END_TEST

START_TEST(test_grow_keeps_content)
{
	struct buf b = BUF_INIT;
	size_t cap;

	buf_appends(&b, "abc");
	buf_grow(&b, 10000);
	cap = b.cap;
	ck_assert_uint_ge(cap, 10004);
	ck_assert_str_eq(buf_str(&b), "abc");
	buf_grow(&b, 10);	/* already room: nothing moves */
	ck_assert_uint_eq(b.cap, cap);
	buf_free(&b);
}
END_TEST

START_TEST(test_appends)
{
	struct buf b = BUF_INIT;

	buf_appends(&b, "hello");
	buf_appendc(&b, ',');
	buf_appendc(&b, ' ');
	buf_append(&b, "world!!!", 5);
	ck_assert_str_eq(buf_str(&b), "hello, world");
	ck_assert_uint_eq(b.len, 12);
	ck_assert_uint_gt(b.cap, b.len);
	ck_assert_int_eq(b.data[b.len], '\0');
	buf_free(&b);
}
END_TEST

START_TEST(test_append_grows_across_many_sizes)
{
	struct buf b = BUF_INIT;
	char expect[5000];
	size_t i;

	for (i = 0; i < sizeof expect - 1; i++) {
		expect[i] = (char)('a' + i % 26);
		buf_appendc(&b, expect[i]);
		ck_assert_uint_eq(b.len, i + 1);
		ck_assert_uint_gt(b.cap, b.len);
		ck_assert_int_eq(b.data[b.len], '\0');
	}
	expect[i] = '\0';
	ck_assert_str_eq(b.data, expect);
	buf_free(&b);
}
END_TEST

START_TEST(test_printf_growth)
{
	struct buf b = BUF_INIT, big = BUF_INIT;
	char *long_arg = malloc(10001);
	int i;

	buf_printf(&b, "%d-%s", 42, "x");
	ck_assert_str_eq(buf_str(&b), "42-x");
	for (i = 0; i < 100; i++)
		buf_printf(&b, "[%03d]", i);
	ck_assert_uint_eq(b.len, 4 + 100 * 5);
	ck_assert(!strncmp(b.data + 4, "[000][001]", 10));
	ck_assert_str_eq(b.data + b.len - 5, "[099]");
	ck_assert_int_eq(b.data[b.len], '\0');

	/* One printf far larger than the initial capacity. */
	memset(long_arg, 'z', 10000);
	long_arg[10000] = '\0';
	buf_appends(&big, "<");
	buf_printf(&big, "%s>", long_arg);
	ck_assert_uint_eq(big.len, 10002);
	ck_assert_int_eq(big.data[0], '<');
	ck_assert_int_eq(big.data[10000], 'z');
	ck_assert_int_eq(big.data[10001], '>');
	ck_assert_int_eq(big.data[10002], '\0');

	/* An empty printf leaves the content alone. */
	buf_printf(&big, "%s", "");
	ck_assert_uint_eq(big.len, 10002);
	free(long_arg);
	buf_free(&b);
	buf_free(&big);
}
END_TEST

START_TEST(test_binary_with_nuls)
{
	static const char bin[] = { 'a', '\0', 'b', '\0', '\0', 'c', (char)0xff };
	struct buf b = BUF_INIT;

	buf_append(&b, bin, sizeof bin);
	buf_append(&b, bin, sizeof bin);
	ck_assert_uint_eq(b.len, 2 * sizeof bin);
	ck_assert_mem_eq(b.data, bin, sizeof bin);
	ck_assert_mem_eq(b.data + sizeof bin, bin, sizeof bin);
	ck_assert_int_eq(b.data[b.len], '\0');
	buf_free(&b);
}
END_TEST

START_TEST(test_detach)
{
	struct buf b = BUF_INIT;
	char *s;

	/* Detaching a never-used buffer still hands back a string the caller frees. */
	s = buf_detach(&b);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "");
	free(s);

	buf_appends(&b, "owned");
	s = buf_detach(&b);
	ck_assert_str_eq(s, "owned");
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_eq(b.cap, 0);
	ck_assert_str_eq(buf_str(&b), "");

	/* The buffer is reusable and independent of the detached bytes. */
	buf_appends(&b, "again");
	ck_assert_str_eq(buf_str(&b), "again");
	ck_assert_str_eq(s, "owned");
	free(s);
	buf_free(&b);
}
END_TEST

START_TEST(test_reset_keeps_capacity)
{
	struct buf b = BUF_INIT;
	size_t cap;

	buf_appends(&b, "some content that is here");
	cap = b.cap;
	buf_reset(&b);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_eq(b.cap, cap);
	ck_assert_str_eq(buf_str(&b), "");
	buf_appends(&b, "new");
	ck_assert_str_eq(buf_str(&b), "new");
	buf_free(&b);
}
END_TEST

/* --- JSON string escaping -------------------------------------------------------------- */

static const struct {
	const char	*name;
	const char	*in;
	size_t		 inlen;		/* 0: strlen(in) */
	const char	*out;
} json_cases[] = {
	{ "plain ASCII", "hello world", 0, "hello world" },
	{ "empty", "", 0, "" },
	{ "double quote", "say \"hi\"", 0, "say \\\"hi\\\"" },
	{ "backslash", "a\\b", 0, "a\\\\b" },
	{ "slash is left alone", "a/b", 0, "a/b" },
	{ "newline, CR, tab", "a\nb\rc\td", 0, "a\\nb\\rc\\td" },
	{ "control 0x01", "\x01", 0, "\\u0001" },
	{ "backspace and form feed", "\b\f", 0, "\\u0008\\u000c" },
	{ "control 0x1f", "\x1f", 0, "\\u001f" },
	{ "DEL", "\x7f", 0, "\\u007f" },
	{ "NUL inside", "a\0b", 3, "a\\u0000b" },
	{ "less than", "<", 0, "\\u003c" },
	{ "greater than", ">", 0, "\\u003e" },
	{ "ampersand", "&", 0, "\\u0026" },
	{ "script close tag", "</script>", 0, "\\u003c/script\\u003e" },
	{ "U+2028 line separator", "a\xe2\x80\xa8" "b", 0, "a\\u2028b" },
	{ "U+2029 paragraph separator", "\xe2\x80\xa9", 0, "\\u2029" },
	{ "two-byte UTF-8 kept", "caf\xc3\xa9", 0, "caf\xc3\xa9" },
	{ "three-byte UTF-8 kept", "\xe2\x82\xac", 0, "\xe2\x82\xac" },
	{ "U+2027 is not escaped", "\xe2\x80\xa7", 0, "\xe2\x80\xa7" },
	{ "four-byte UTF-8 kept", "\xf0\x9f\x98\x80", 0, "\xf0\x9f\x98\x80" },
	{ "U+10FFFF kept", "\xf4\x8f\xbf\xbf", 0, "\xf4\x8f\xbf\xbf" },
	{ "invalid byte 0xff", "a\xff" "b", 0, "a\\ufffdb" },
	{ "lone continuation byte", "\x80", 0, "\\ufffd" },
	{ "truncated two-byte at end", "a\xc3", 0, "a\\ufffd" },
	{ "truncated three-byte then ASCII", "\xe2\x82(", 0, "\\ufffd\\ufffd(" },
	{ "overlong slash", "\xc0\xaf", 0, "\\ufffd\\ufffd" },
	{ "overlong three-byte", "\xe0\x80\xaf", 0, "\\ufffd\\ufffd\\ufffd" },
	{ "UTF-16 surrogate", "\xed\xa0\x80", 0, "\\ufffd\\ufffd\\ufffd" },
	{ "above U+10FFFF", "\xf4\x90\x80\x80", 0, "\\ufffd\\ufffd\\ufffd\\ufffd" },
	{ "invalid lead 0xf5", "\xf5\x80\x80\x80", 0, "\\ufffd\\ufffd\\ufffd\\ufffd" },
	{ "invalid then valid", "\xff\xc3\xa9", 0, "\\ufffd\xc3\xa9" },
};

START_TEST(test_json_escape)
{
	struct buf b = BUF_INIT;
	size_t n = json_cases[_i].inlen ? json_cases[_i].inlen : strlen(json_cases[_i].in);

	buf_appends(&b, "[");	/* appends to what is there, never replaces it */
	buf_append_json_str(&b, json_cases[_i].in, n);
	ck_assert_msg(b.len >= 1 && !strcmp(b.data + 1, json_cases[_i].out),
	    "%s: got \"%s\", want \"%s\"", json_cases[_i].name, b.data + 1, json_cases[_i].out);
	buf_free(&b);
}
END_TEST

/* Whatever the input, the output inside quotes is valid JSON that json-c reads back; for valid
 * UTF-8 input it reads back as exactly the input. */
START_TEST(test_json_escape_round_trip)
{
	const char *in = json_cases[_i].in;
	size_t n = json_cases[_i].inlen ? json_cases[_i].inlen : strlen(in);
	struct buf b = BUF_INIT;
	struct json_tokener *tok = json_tokener_new();
	json_object *o;
	bool invalid = strstr(json_cases[_i].out, "\\ufffd") != NULL;

	buf_appendc(&b, '"');
	buf_append_json_str(&b, in, n);
	buf_appendc(&b, '"');
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, b.data, (int)b.len);
	ck_assert_msg(o != NULL && json_object_is_type(o, json_type_string),
	    "%s: not a JSON string: %s", json_cases[_i].name, b.data);
	if (!invalid) {
		ck_assert_int_eq(json_object_get_string_len(o), (int)n);
		ck_assert_mem_eq(json_object_get_string(o), in, n);
	}
	json_object_put(o);
	json_tokener_free(tok);
	buf_free(&b);
}
END_TEST

/* time_parse against time_format and timegm(): every day of 1965-2405 at a moving time. */
START_TEST(test_time_round_trip)
{
	char s[RFC3339_LEN];
	int64_t t, got;

	for (t = -157766400; t < 13569465600LL; t += 86400 + 3607) {
		time_format(t, s);
		got = 0;
		ck_assert_int_eq(time_parse(s, &got), 0);
		ck_assert_int_eq(got, t);
	}
	ck_assert_int_eq(time_parse("1970-01-01T00:00:00Z", &got), 0);
	ck_assert_int_eq(got, 0);
	ck_assert_int_eq(time_parse("2000-02-29T12:00:00Z", &got), 0);
	ck_assert_int_eq(got, 951825600);
	ck_assert_int_eq(time_parse("2100-03-01T00:00:00Z", &got), 0);
	ck_assert_int_eq(got, 4107542400LL);
}
END_TEST

/* Out-of-month days roll over and second 60 is taken, as strptime() + timegm() do. */
START_TEST(test_time_rolls_over_like_timegm)
{
	static const char *cases[] = {
		"2026-02-31T00:00:00Z", "2025-02-29T23:59:60Z", "2026-04-31T12:30:00Z",
		"2024-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
	};
	size_t i;
	int64_t got;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct tm tm;

		memset(&tm, 0, sizeof tm);
		ck_assert_ptr_nonnull(strptime(cases[i], "%Y-%m-%dT%H:%M:%SZ", &tm));
		ck_assert_int_eq(time_parse(cases[i], &got), 0);
		ck_assert_msg(got == (int64_t)timegm(&tm), "%s: %lld", cases[i], (long long)got);
	}
}
END_TEST

START_TEST(test_time_rejects)
{
	static const char *bad[] = {
		"", "2026-01-01", "2026-01-01T00:00:00", "2026-01-01T00:00:00ZZ",
		"2026-01-01 00:00:00Z", "2026/01/01T00:00:00Z", "2026-01-01T00-00:00Z",
		"2026-01-01T00:00:00z", "2026-00-01T00:00:00Z", "2026-13-01T00:00:00Z",
		"2026-01-00T00:00:00Z", "2026-01-32T00:00:00Z", "2026-01-01T24:00:00Z",
		"2026-01-01T00:60:00Z", "2026-01-01T00:00:61Z", "20x6-01-01T00:00:00Z",
		"2026-+1-01T00:00:00Z", "2026-01- 1T00:00:00Z", "-026-01-01T00:00:00Z",
	};
	size_t i;
	int64_t got = 42;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(time_parse(bad[i], &got) == -1, "accepted \"%s\"", bad[i]);
	ck_assert_int_eq(time_parse(NULL, &got), -1);
	ck_assert_int_eq(got, 42);
}
END_TEST

static Suite *
buf_suite(void)
{
	Suite *s = suite_create("buf");
	TCase *tc;
	int n = (int)(sizeof json_cases / sizeof json_cases[0]);

	tc = tcase_create("buffer");
	tcase_add_test(tc, test_empty_buffer);
	tcase_add_test(tc, test_append_zero_bytes_allocates);
	tcase_add_test(tc, test_grow_empty_is_terminated);
	tcase_add_test(tc, test_grow_keeps_content);
	tcase_add_test(tc, test_appends);
	tcase_add_test(tc, test_append_grows_across_many_sizes);
	tcase_add_test(tc, test_printf_growth);
	tcase_add_test(tc, test_binary_with_nuls);
	tcase_add_test(tc, test_detach);
	tcase_add_test(tc, test_reset_keeps_capacity);
	suite_add_tcase(s, tc);

	tc = tcase_create("time");
	tcase_add_test(tc, test_time_round_trip);
	tcase_add_test(tc, test_time_rolls_over_like_timegm);
	tcase_add_test(tc, test_time_rejects);
	suite_add_tcase(s, tc);

	tc = tcase_create("json");
	tcase_add_loop_test(tc, test_json_escape, 0, n);
	tcase_add_loop_test(tc, test_json_escape_round_trip, 0, n);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(buf_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
