/*
 * check_validate: email addresses, passwords and UTF-8 lengths, valid and invalid alike.
 */
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "store.h"
#include "testutil.h"
#include "validate.h"

/* --- email ----------------------------------------------------------------------------- */

static const struct {
	const char	*name;
	const char	*in;
	const char	*out;		/* the normal form; NULL: must be rejected */
} email_cases[] = {
	{ "simple", "user@example.com", "user@example.com" },
	{ "lower-cased", "User.Name@Example.COM", "user.name@example.com" },
	{ "plus tag", "user+tag@example.com", "user+tag@example.com" },
	{ "dots in local part", "first.middle.last@example.com", "first.middle.last@example.com" },
	{ "subdomains", "a@mail.eu.example.co.uk", "a@mail.eu.example.co.uk" },
	{ "hyphen inside label", "a@ex-ample.com", "a@ex-ample.com" },
	{ "digits in domain", "a@123example.com", "a@123example.com" },
	{ "atext specials", "o'brien_x!#$%&*/=?^`{|}~-@example.com", "o'brien_x!#$%&*/=?^`{|}~-@example.com" },
	{ "IDN punycode label", "user@xn--bcher-kva.example", "user@xn--bcher-kva.example" },
	/*
	 * Regression (src/validate.c, validate_email, the final TLD loop; fixed): an IDN top-level
	 * domain in punycode (xn--p1ai is .рф, xn--fiqs8s is .中国) was rejected because every
	 * TLD character had to be a letter. Such addresses are real and are accepted.
	 */
	{ "IDN punycode TLD", "user@example.xn--p1ai", "user@example.xn--p1ai" },
	{ "one-letter local part", "a@example.io", "a@example.io" },

	{ "missing TLD", "user@example", NULL },
	{ "one-letter TLD", "user@example.c", NULL },
	{ "numeric TLD", "user@example.123", NULL },
	{ "IPv4 literal", "user@192.168.0.1", NULL },
	{ "bracketed IP literal", "user@[192.168.0.1]", NULL },
	{ "double dot in local part", "us..er@example.com", NULL },
	{ "double dot in domain", "user@example..com", NULL },
	{ "leading dot in local part", ".user@example.com", NULL },
	{ "trailing dot in local part", "user.@example.com", NULL },
	{ "leading dot in domain", "user@.example.com", NULL },
	{ "trailing dot in domain", "user@example.com.", NULL },
	{ "space in local part", "us er@example.com", NULL },
	{ "space in domain", "user@exa mple.com", NULL },
	{ "leading space", " user@example.com", NULL },
	{ "trailing space", "user@example.com ", NULL },
	{ "two @", "a@b@example.com", NULL },
	{ "no @", "user.example.com", NULL },
	{ "empty local part", "@example.com", NULL },
	{ "empty domain", "user@", NULL },
	{ "only @", "@", NULL },
	{ "empty", "", NULL },
	{ "trailing hyphen in label", "user@example-.com", NULL },
	{ "leading hyphen in label", "user@-example.com", NULL },
	{ "trailing hyphen at the end", "user@example.com-", NULL },
	{ "underscore in domain", "user@ex_ample.com", NULL },
	{ "quoted local part", "\"john doe\"@example.com", NULL },
	{ "angle brackets", "<user@example.com>", NULL },
	{ "display name", "User <user@example.com>", NULL },
	{ "newline", "user@example.com\n", NULL },
	{ "CRLF injection", "user@example.com\r\nBcc: x@example.com", NULL },
	{ "non-ASCII domain (not punycode)", "user@b\xc3\xbc" "cher.example", NULL },
	{ "invalid UTF-8", "\xff@example.com", NULL },
};

START_TEST(test_email)
{
	const char *in = email_cases[_i].in;
	char out[EMAIL_MAX];
	int rc;

	memset(out, 0, sizeof out);
	rc = validate_email(in, strlen(in), out, sizeof out);
	if (email_cases[_i].out != NULL) {
		ck_assert_msg(rc == 0, "%s: \"%s\" rejected", email_cases[_i].name, in);
		ck_assert_str_eq(out, email_cases[_i].out);
	} else
		ck_assert_msg(rc == -1, "%s: \"%s\" accepted", email_cases[_i].name, in);
}
END_TEST

/* Builds local@label1.label2...tld of the given sizes into out. */
static void
make_email(char *out, size_t local, const size_t *labels, size_t nlabels)
{
	size_t i, j, o = 0;

	for (i = 0; i < local; i++)
		out[o++] = 'l';
	out[o++] = '@';
	for (i = 0; i < nlabels; i++) {
		if (i > 0)
			out[o++] = '.';
		for (j = 0; j < labels[i]; j++)
			out[o++] = (char)('a' + i);
	}
	out[o] = '\0';
}

static const struct {
	const char	*name;
	size_t		 local;
	size_t		 labels[4];
	size_t		 nlabels;
	size_t		 total;
	bool		 ok;
} length_cases[] = {
	/* 64 + 1 + 63 + 1 + 63 + 1 + 61 = 254 */
	{ "254 bytes", 64, { 63, 63, 61 }, 3, 254, true },
	{ "255 bytes", 64, { 63, 63, 62 }, 3, 255, false },
	{ "local part 64 bytes", 64, { 7, 3 }, 2, 76, true },
	{ "local part 65 bytes", 65, { 7, 3 }, 2, 77, false },
	{ "label 63 bytes", 4, { 63, 3 }, 2, 72, true },
	{ "label 64 bytes", 4, { 64, 3 }, 2, 73, false },
	{ "TLD 63 bytes", 4, { 7, 63 }, 2, 76, true },
	{ "TLD 64 bytes", 4, { 7, 64 }, 2, 77, false },
};

START_TEST(test_email_lengths)
{
	char in[512], out[EMAIL_MAX];
	int rc;

	make_email(in, length_cases[_i].local, length_cases[_i].labels, length_cases[_i].nlabels);
	ck_assert_uint_eq(strlen(in), length_cases[_i].total);
	rc = validate_email(in, strlen(in), out, sizeof out);
	ck_assert_msg(rc == (length_cases[_i].ok ? 0 : -1), "%s: rc %d", length_cases[_i].name, rc);
	if (rc == 0)
		ck_assert_str_eq(out, in);
}
END_TEST

START_TEST(test_email_bytes_not_string)
{
	char out[EMAIL_MAX];

	/* The length is what counts: a NUL inside is rejected, bytes after len ignored. */
	ck_assert_int_eq(validate_email("user\0@example.com", 17, out, sizeof out), -1);
	ck_assert_int_eq(validate_email("user@example.com\0", 17, out, sizeof out), -1);
	ck_assert_int_eq(validate_email("user@example.comXYZ", 16, out, sizeof out), 0);
	ck_assert_str_eq(out, "user@example.com");
	ck_assert_int_eq(validate_email("user@example.com", 10, out, sizeof out), -1); /* user@examp */
}
END_TEST

START_TEST(test_email_output_too_small)
{
	char out[32];

	memset(out, 'Z', sizeof out);
	/* 16 bytes need 17 with the NUL. */
	ck_assert_int_eq(validate_email("user@example.com", 16, out, 16), -1);
	ck_assert_int_eq(out[16], 'Z');
	ck_assert_int_eq(validate_email("user@example.com", 16, out, 17), 0);
	ck_assert_str_eq(out, "user@example.com");
}
END_TEST

/* --- passwords ------------------------------------------------------------------------- */

static char *
repeat(const char *unit, size_t times)
{
	size_t ul = strlen(unit), i;
	char *s = malloc(ul * times + 1);

	for (i = 0; i < times; i++)
		memcpy(s + i * ul, unit, ul);
	s[ul * times] = '\0';
	return s;
}

static const struct {
	const char	*name;
	const char	*unit;		/* repeated times times */
	size_t		 times;
	bool		 ok;
} password_cases[] = {
	{ "9 ASCII characters", "a", 9, false },
	{ "10 ASCII characters", "a", 10, true },
	{ "empty", "a", 0, false },
	{ "9 two-byte characters (18 bytes)", "\xc3\xa9", 9, false },
	{ "10 two-byte characters", "\xc3\xa9", 10, true },
	{ "9 three-byte characters (27 bytes)", "\xe6\x97\xa5", 9, false },
	{ "10 three-byte characters", "\xe6\x97\xa5", 10, true },
	{ "9 emoji (36 bytes)", "\xf0\x9f\x94\x91", 9, false },
	{ "10 emoji", "\xf0\x9f\x94\x91", 10, true },
	{ "1024 bytes", "a", 1024, true },
	{ "1025 bytes", "a", 1025, false },
	{ "1024 bytes of two-byte characters", "\xc3\xa9", 512, true },
	{ "1026 bytes of two-byte characters", "\xc3\xa9", 513, false },
	{ "spaces count", " ", 10, true },
};

START_TEST(test_password)
{
	char *pw = repeat(password_cases[_i].unit, password_cases[_i].times);
	int rc = validate_password(pw, strlen(pw));

	free(pw);
	ck_assert_msg(rc == (password_cases[_i].ok ? 0 : -1), "%s: rc %d", password_cases[_i].name, rc);
}
END_TEST

static const struct {
	const char	*name;
	const char	*pw;
	size_t		 len;
} bad_password_cases[] = {
	{ "invalid byte 0xff", "abcdefghij\xff", 11 },
	{ "lone continuation", "abcdefghij\x80", 11 },
	{ "truncated sequence at the end", "abcdefghij\xe2\x82", 12 },
	{ "overlong encoding", "abcdefghij\xc0\xaf", 12 },
	{ "surrogate", "abcdefghij\xed\xa0\x80", 13 },
	{ "above U+10FFFF", "abcdefghij\xf4\x90\x80\x80", 14 },
	{ "NUL inside", "abcde\0fghijk", 12 },
	{ "NUL at the end", "abcdefghijk\0", 12 },
	{ "Latin-1, not UTF-8", "\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9", 12 },
};

START_TEST(test_password_invalid_bytes)
{
	ck_assert_msg(validate_password(bad_password_cases[_i].pw, bad_password_cases[_i].len) == -1,
	    "%s: accepted", bad_password_cases[_i].name);
}
END_TEST

/* --- utf8_length ----------------------------------------------------------------------- */

static const struct {
	const char	*s;
	size_t		 len;		/* 0: strlen(s) */
	long		 want;
} utf8_cases[] = {
	{ "", 0, 0 },
	{ "abc", 0, 3 },
	{ "a\0b", 3, 3 },
	{ "\xc3\xa9", 0, 1 },
	{ "\xe2\x82\xac", 0, 1 },
	{ "\xf0\x9f\x98\x80", 0, 1 },
	{ "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z", 0, 5 },
	{ "\xc2\x80", 0, 1 },			/* U+0080, the smallest two-byte */
	{ "\xdf\xbf", 0, 1 },			/* U+07FF */
	{ "\xe0\xa0\x80", 0, 1 },		/* U+0800, the smallest three-byte */
	{ "\xef\xbf\xbf", 0, 1 },		/* U+FFFF */
	{ "\xed\x9f\xbf", 0, 1 },		/* U+D7FF, just below the surrogates */
	{ "\xee\x80\x80", 0, 1 },		/* U+E000, just above */
	{ "\xf0\x90\x80\x80", 0, 1 },		/* U+10000 */
	{ "\xf4\x8f\xbf\xbf", 0, 1 },		/* U+10FFFF */
	{ "\x80", 0, -1 },
	{ "\xbf", 0, -1 },
	{ "\xc0\x80", 0, -1 },			/* overlong NUL */
	{ "\xc1\xbf", 0, -1 },
	{ "\xe0\x80\x80", 0, -1 },
	{ "\xe0\x9f\xbf", 0, -1 },		/* overlong U+07FF */
	{ "\xf0\x80\x80\x80", 0, -1 },
	{ "\xf0\x8f\xbf\xbf", 0, -1 },		/* overlong U+FFFF */
	{ "\xf4\x90\x80\x80", 0, -1 },		/* U+110000 */
	{ "\xf5\x80\x80\x80", 0, -1 },
	{ "\xff", 0, -1 },
	{ "\xed\xa0\x80", 0, -1 },		/* U+D800 */
	{ "\xed\xbf\xbf", 0, -1 },		/* U+DFFF */
	{ "\xc3", 0, -1 },
	{ "\xe2\x82", 0, -1 },
	{ "\xf0\x9f\x98", 0, -1 },
	{ "\xc3(", 0, -1 },
	{ "\xe2(\xac", 0, -1 },
	{ "ok\xc3\xa9", 3, -1 },		/* cut in the middle by len */
	{ "ok\xc3\xa9", 4, 3 },
};

START_TEST(test_utf8_length)
{
	size_t n = utf8_cases[_i].len ? utf8_cases[_i].len : strlen(utf8_cases[_i].s);

	ck_assert_int_eq(utf8_length(utf8_cases[_i].s, n), utf8_cases[_i].want);
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *
validate_suite(void)
{
	Suite *s = suite_create("validate");
	TCase *tc;

	tc = tcase_create("email");
	tcase_add_loop_test(tc, test_email, 0, N(email_cases));
	tcase_add_loop_test(tc, test_email_lengths, 0, N(length_cases));
	tcase_add_test(tc, test_email_bytes_not_string);
	tcase_add_test(tc, test_email_output_too_small);
	suite_add_tcase(s, tc);

	tc = tcase_create("password");
	tcase_add_loop_test(tc, test_password, 0, N(password_cases));
	tcase_add_loop_test(tc, test_password_invalid_bytes, 0, N(bad_password_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("utf8");
	tcase_add_loop_test(tc, test_utf8_length, 0, N(utf8_cases));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(validate_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
