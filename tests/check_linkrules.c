/*
 * check_linkrules: short codes, custom slugs, target URLs (accepted and refused, each refusal
 * with its own reason), file name cleaning, Content-Disposition, media types and preview bots.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "linkrules.h"
#include "testutil.h"
#include "validate.h"

#define N(a)	(sizeof (a) / sizeof (a)[0])

/* --- URLs ------------------------------------------------------------------------------- */

/* This service's own names as a configuration might spell them. */
static const char *const own_hosts[] = {
	"127.0.0.1", "fs.test", "Short.Example:8443", "[::1]", "xn--bcher-kva.example",
};

struct url_case {
	const char	*url;
	size_t		 len;		/* 0: strlen(url) */
	const char	*why;		/* NULL: accepted */
};

static const struct url_case url_cases[] = {
	/* Accepted: ordinary links. */
	{ "https://example.com", 0, NULL },
	{ "http://example.com/", 0, NULL },
	{ "https://example.com/path/to/page.html", 0, NULL },
	{ "https://example.com/search?q=hello+world&lang=en", 0, NULL },
	{ "https://example.com/page#section-2", 0, NULL },
	{ "https://example.com/a%20b/%E2%9C%93?x=%2F#%41", 0, NULL },
	{ "https://example.com/100%", 0, NULL },
	{ "HTTPS://EXAMPLE.COM/UPPER", 0, NULL },
	{ "HtTp://Example.Com", 0, NULL },
	{ "https://sub.domain.example.co.uk/x", 0, NULL },
	{ "https://example.com:8080/", 0, NULL },
	{ "https://example.com:1/", 0, NULL },
	{ "https://example.com:65535/", 0, NULL },
	{ "https://example.com:0443/", 0, NULL },
	{ "https://example.com?only=query", 0, NULL },
	{ "https://example.com#only-fragment", 0, NULL },
	{ "https://example.com./", 0, NULL },
	{ "https://my_host.example/", 0, NULL },
	{ "http://a.b-c.d/e_f~g", 0, NULL },
	{ "https://example.com/path/with/@at-sign", 0, NULL },
	{ "https://example.com/?next=https://other.example/x", 0, NULL },
	{ "https://example.com/it's/(fine)/[really]/{ok}/|^`<>\"", 0, NULL },
	{ "http://93.184.216.34/", 0, NULL },
	{ "http://8.8.8.8:53/dns", 0, NULL },
	{ "https://127.0.0.2/", 0, NULL },
	{ "https://localhost/", 0, NULL },
	{ "https://[2001:db8::1]/", 0, NULL },
	{ "https://[2001:DB8::1]:8443/path?q#f", 0, NULL },
	{ "https://[::ffff:8.8.8.8]/", 0, NULL },
	{ "https://[::2]/", 0, NULL },
	{ "https://xn--bcher-kva.ch/", 0, NULL },
	{ "https://b\xc3\xbc" "cher.ch/", 0, NULL },
	{ "https://\xe4\xbe\x8b\xe3\x81\x88.\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88/\xe3\x83\x91\xe3\x82\xb9", 0, NULL },
	{ "https://example.com/\xc3\xbcn\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9?q=\xe6\x97\xa5", 0, NULL },
	{ "https://example.com/emoji/\xf0\x9f\x98\x80", 0, NULL },
	/* Accepted: near misses of this service's own names. */
	{ "https://fs.test.evil.example/", 0, NULL },
	{ "https://evil.example/fs.test", 0, NULL },
	{ "https://xfs.test/", 0, NULL },
	{ "https://bucher.example/", 0, NULL },
	{ "https://127.0.0.1.example/", 0, NULL },

	/* Refused: schemes. */
	{ "javascript:alert(1)", 0, "scheme must be http or https" },
	{ "JaVaScRiPt:alert(1)", 0, "scheme must be http or https" },
	{ "data:text/html;base64,PHNjcmlwdD4=", 0, "scheme must be http or https" },
	{ "vbscript:msgbox(1)", 0, "scheme must be http or https" },
	{ "file:///etc/passwd", 0, "scheme must be http or https" },
	{ "ftp://ftp.example.com/file", 0, "scheme must be http or https" },
	{ "mailto:a@example.com", 0, "scheme must be http or https" },
	{ "httpx://example.com", 0, "scheme must be http or https" },
	{ "http+unix://x", 0, "scheme must be http or https" },
	{ "ws://example.com/socket", 0, "scheme must be http or https" },
	/* Refused: not absolute. */
	{ "//evil.example/x", 0, "scheme-relative URL" },
	{ "example.com/path", 0, "not an absolute URL" },
	{ "/relative/path", 0, "not an absolute URL" },
	{ "https", 0, "not an absolute URL" },
	{ "1http://x", 0, "not an absolute URL" },
	{ ":https://x", 0, "not an absolute URL" },
	{ "https:/example.com", 0, "missing // after scheme" },
	{ "https:example.com", 0, "missing // after scheme" },
	{ "https:", 0, "missing // after scheme" },
	{ "https:/", 0, "missing // after scheme" },
	/* Refused: obfuscation by characters. */
	{ "", 0, "empty URL" },
	{ " https://example.com", 0, "space in URL" },
	{ "https://example.com ", 0, "space in URL" },
	{ "https://exa mple.com", 0, "space in URL" },
	{ "java\tscript:alert(1)", 0, "control character in URL" },
	{ "java\nscript:alert(1)", 0, "control character in URL" },
	{ "\thttps://example.com", 0, "control character in URL" },
	{ "https://exa\rmple.com", 0, "control character in URL" },
	{ "https://example.com/\x7f", 0, "control character in URL" },
	{ "https://example.com/\0.evil", 25, "control character in URL" },
	{ "https://example.com/\xc2\x85", 0, "control character in URL" },
	{ "https:\\\\example.com", 0, "backslash in URL" },
	{ "https://example.com\\@evil.example", 0, "backslash in URL" },
	{ "https://example.com/a\\b", 0, "backslash in URL" },
	{ "https://example.com/\xff", 0, "invalid UTF-8 in URL" },
	{ "https://example.com/\xc0\xaf", 0, "invalid UTF-8 in URL" },
	{ "https://example.com/\xed\xa0\x80", 0, "invalid UTF-8 in URL" },
	{ "https://example.com/\xe2\x82", 0, "invalid UTF-8 in URL" },
	{ "https://example.com/\xf4\x90\x80\x80", 0, "invalid UTF-8 in URL" },
	{ "https://example.com/\xc2\xa0", 0, "Unicode whitespace in URL" },
	{ "https://example\xe1\x9a\x80.com/", 0, "Unicode whitespace in URL" },
	{ "https://example.com/\xe2\x80\x80", 0, "Unicode whitespace in URL" },
	{ "https://example.com/\xe2\x80\x8a", 0, "Unicode whitespace in URL" },
	{ "https://example.com/\xe2\x80\xa8", 0, "Unicode whitespace in URL" },
	{ "https://example.com/\xe2\x80\xa9", 0, "Unicode whitespace in URL" },
	{ "https://example.com/\xe2\x80\xaf", 0, "Unicode whitespace in URL" },
	{ "https://example.com/\xe2\x81\x9f", 0, "Unicode whitespace in URL" },
	{ "https://example.com/\xe3\x80\x80", 0, "Unicode whitespace in URL" },
	{ "https://exa\xe2\x80\x8bmple.com/", 0, "invisible or bidi character in URL" },
	{ "https://example.com/\xe2\x80\x8c", 0, "invisible or bidi character in URL" },
	{ "https://example.com/\xe2\x80\x8d", 0, "invisible or bidi character in URL" },
	{ "https://example.com/\xe2\x80\x8e", 0, "invisible or bidi character in URL" },
	{ "https://example.com/\xe2\x80\x8f", 0, "invisible or bidi character in URL" },
	{ "https://example.com/gpj.\xe2\x80\xae" "exe", 0, "invisible or bidi character in URL" },
	{ "https://example.com/\xe2\x80\xaa", 0, "invisible or bidi character in URL" },
	{ "https://example.com/\xe2\x81\xa0", 0, "invisible or bidi character in URL" },
	{ "https://example.com/\xe2\x81\xa6", 0, "invisible or bidi character in URL" },
	{ "https://example.com/\xe2\x81\xaf", 0, "invisible or bidi character in URL" },
	{ "\xef\xbb\xbfhttps://example.com/", 0, "invisible or bidi character in URL" },
	{ "https://example.com/\xc2\xad", 0, "invisible or bidi character in URL" },
	/* Refused: authority. */
	{ "https://", 0, "missing host" },
	{ "https:///path", 0, "missing host" },
	{ "https://:80/", 0, "missing host" },
	{ "https://?q", 0, "missing host" },
	{ "https://#f", 0, "missing host" },
	{ "https://./", 0, "missing host" },
	{ "https://user:pw@example.com/", 0, "userinfo not allowed" },
	{ "https://example.com@evil.example/", 0, "userinfo not allowed" },
	{ "https://@example.com/", 0, "userinfo not allowed" },
	{ "https://ex%61mple.com/", 0, "percent-encoding in host" },
	{ "https://[fe80::1%25eth0]/", 0, "percent-encoding in host" },
	{ "https://exa<mple.com/", 0, "invalid character in host" },
	{ "https://example.com;x/", 0, "invalid character in host" },
	{ "https://exam]ple.com/", 0, "invalid character in host" },
	{ "https://a..b/", 0, "empty label in host" },
	{ "https://../", 0, "empty label in host" },
	{ "https://.example.com/", 0, "empty label in host" },
	{ "https://\xef\xbd\x85xample.com/", 0, "full-width character in host" },
	{ "https://example\xe3\x80\x82" "com/", 0, "full-width character in host" },
	{ "https://[::1/", 0, "invalid IPv6 address" },
	{ "https://[not-ipv6]/", 0, "invalid IPv6 address" },
	{ "https://[::1]x/", 0, "invalid IPv6 address" },
	{ "https://[]/", 0, "invalid IPv6 address" },
	{ "https://[1:2:3:4:5:6:7:8:9]/", 0, "invalid IPv6 address" },
	{ "https://1.2.3.4.5/", 0, "invalid IPv4 address" },
	{ "https://256.0.0.1/", 0, "invalid IPv4 address" },
	{ "https://1.2.3.08/", 0, "invalid IPv4 address" },
	{ "https://4294967296/", 0, "invalid IPv4 address" },
	{ "https://example.123/", 0, "invalid IPv4 address" },
	{ "https://example.com:0/", 0, "invalid port" },
	{ "https://example.com:65536/", 0, "invalid port" },
	{ "https://example.com:99999999999999999999/", 0, "invalid port" },
	{ "https://example.com:http/", 0, "invalid port" },
	{ "https://example.com:/", 0, "invalid port" },
	{ "https://example.com:-1/", 0, "invalid port" },
	{ "https://example.com:+80/", 0, "invalid port" },
	{ "https://example.com:80:80/", 0, "invalid port" },
	{ "https://[::2]:0/", 0, "invalid port" },
	{ "https://[::2]:/", 0, "invalid port" },
	/* Refused: loops back to this service, however the host is spelled. */
	{ "http://127.0.0.1:8080/x", 0, "link to this service" },
	{ "https://127.0.0.1./", 0, "link to this service" },
	{ "http://127.0.0.1", 0, "link to this service" },
	{ "http://127.1/", 0, "link to this service" },
	{ "http://2130706433/", 0, "link to this service" },
	{ "http://0x7f.0.0.1/", 0, "link to this service" },
	{ "http://0177.0.0.1/", 0, "link to this service" },
	{ "http://0x7F000001/", 0, "link to this service" },
	{ "https://FS.TEST/abc", 0, "link to this service" },
	{ "https://fs.test./", 0, "link to this service" },
	{ "https://fs.test:443/", 0, "link to this service" },
	{ "https://short.example/", 0, "link to this service" },
	{ "https://SHORT.EXAMPLE.:9/x", 0, "link to this service" },
	{ "https://[::1]:8080/", 0, "link to this service" },
	{ "https://[0:0:0:0:0:0:0:1]/", 0, "link to this service" },
	{ "https://[::ffff:127.0.0.1]/", 0, "link to this service" },
	{ "https://b\xc3\xbc" "cher.example/", 0, "link to this service" },
	{ "https://XN--BCHER-KVA.example/", 0, "link to this service" },
};

START_TEST(test_url_table)
{
	const struct url_case *c = &url_cases[_i];
	size_t len = c->len ? c->len : strlen(c->url);
	const char *why = "untouched";
	int rc = link_check_url(c->url, len, own_hosts, N(own_hosts), &why);

	if (c->why == NULL) {
		ck_assert_msg(rc == 0, "refused %s: %s", c->url, why ? why : "(null)");
		ck_assert_ptr_null(why);
	} else {
		ck_assert_msg(rc == -1, "accepted %s", c->url);
		ck_assert_msg(why != NULL && !strcmp(why, c->why), "%s: why \"%s\", want \"%s\"",
		    c->url, why ? why : "(null)", c->why);
	}
}
END_TEST

/* Every reason in the table is distinct wording, so callers and logs can tell them apart. */
START_TEST(test_url_table_is_large_and_reasons_distinct)
{
	const char *seen[64];
	size_t nseen = 0, i, k, accepted = 0;

	for (i = 0; i < N(url_cases); i++) {
		if (url_cases[i].why == NULL) {
			accepted++;
			continue;
		}
		for (k = 0; k < nseen && strcmp(seen[k], url_cases[i].why); k++)
			;
		if (k == nseen) {
			ck_assert_uint_lt(nseen, N(seen));
			seen[nseen++] = url_cases[i].why;
		}
	}
	ck_assert_uint_ge(N(url_cases), 60);
	ck_assert_uint_ge(accepted, 30);
	ck_assert_uint_ge(nseen, 20);
}
END_TEST

START_TEST(test_url_length_limit)
{
	struct buf b = BUF_INIT;
	const char *why = NULL;

	buf_appends(&b, "https://example.com/");
	while (b.len < URL_MAX_LEN)
		buf_appendc(&b, 'a');
	ck_assert_uint_eq(b.len, URL_MAX_LEN);
	ck_assert_int_eq(link_check_url(b.data, b.len, NULL, 0, &why), 0);
	buf_appendc(&b, 'a');
	ck_assert_int_eq(link_check_url(b.data, b.len, NULL, 0, &why), -1);
	ck_assert_str_eq(why, "URL too long");
	buf_free(&b);
}
END_TEST

/* The length given is what counts: bytes past it are never read, a NUL within it refuses. */
START_TEST(test_url_explicit_length)
{
	const char *why = NULL;
	const char s[] = "https://example.com/ok\0javascript:";

	ck_assert_int_eq(link_check_url(s, 22, NULL, 0, &why), 0);
	ck_assert_int_eq(link_check_url(s, sizeof s - 1, NULL, 0, &why), -1);
	ck_assert_str_eq(why, "control character in URL");
	ck_assert_int_eq(link_check_url(NULL, 0, NULL, 0, &why), -1);
	ck_assert_str_eq(why, "empty URL");
	/* why may be NULL. */
	ck_assert_int_eq(link_check_url("https://example.com/", 20, NULL, 0, NULL), 0);
	ck_assert_int_eq(link_check_url("javascript:x", 12, NULL, 0, NULL), -1);
}
END_TEST

/* Without own hosts nothing is a loop; NULL entries in the list are skipped. */
START_TEST(test_url_own_hosts_optional)
{
	const char *hosts[] = { NULL, "fs.test" };
	const char *why = NULL;

	ck_assert_int_eq(link_check_url("http://127.0.0.1:8080/x", 23, NULL, 0, &why), 0);
	ck_assert_int_eq(link_check_url("https://fs.test/x", 17, hosts, 2, &why), -1);
	ck_assert_str_eq(why, "link to this service");
	ck_assert_int_eq(link_check_url("https://fs.test/x", 17, hosts, 1, &why), 0);
}
END_TEST

/*
 * Loop detection for IDN own names goes through punycode (RFC 3492); these are samples from
 * section 7.1 of the RFC, written as own hosts in their ACE form and linked in UTF-8.
 */
static const struct {
	const char	*ace;
	const char	*utf8;
} puny_cases[] = {
	{ "xn--ihqwcrb4cv8a8dqg056pqjye",
	    "\xe4\xbb\x96\xe4\xbb\xac\xe4\xb8\xba\xe4\xbb\x80\xe4\xb9\x88\xe4\xb8\x8d"
	    "\xe8\xaf\xb4\xe4\xb8\xad\xe6\x96\x87" },
	{ "xn--ihqwctvzc91f659drss3x8bo0yb",
	    "\xe4\xbb\x96\xe5\x80\x91\xe7\x88\xb2\xe4\xbb\x80\xe9\xba\xbd\xe4\xb8\x8d"
	    "\xe8\xaa\xaa\xe4\xb8\xad\xe6\x96\x87" },
	{ "xn--b1abfaaepdrnnbgefbadotcwatmq2g4l",
	    "\xd0\xbf\xd0\xbe\xd1\x87\xd0\xb5\xd0\xbc\xd1\x83\xd0\xb6\xd0\xb5\xd0\xbe\xd0\xbd"
	    "\xd0\xb8\xd0\xbd\xd0\xb5\xd0\xb3\xd0\xbe\xd0\xb2\xd0\xbe\xd1\x80\xd1\x8f\xd1\x82"
	    "\xd0\xbf\xd0\xbe\xd1\x80\xd1\x83\xd1\x81\xd1\x81\xd0\xba\xd0\xb8" },
	{ "xn--PorqunopuedensimplementehablarenEspaol-fmd56a",
	    "Porqu\xc3\xa9nopuedensimplementehablarenEspa\xc3\xb1ol" },
	{ "xn--3B-ww4c5e180e575a65lsy2b",
	    "3\xe5\xb9\xb4" "B\xe7\xb5\x84\xe9\x87\x91\xe5\x85\xab\xe5\x85\x88\xe7\x94\x9f" },
	{ "xn--bcher-kva", "b\xc3\xbc" "cher" },
	{ "xn--mnchen-3ya", "m\xc3\xbc" "nchen" },
};

START_TEST(test_url_loop_through_punycode)
{
	char own[128], url[256], other[128];
	const char *hosts[1] = { own };
	const char *why = NULL;

	snprintf(own, sizeof own, "%s.test", puny_cases[_i].ace);
	snprintf(url, sizeof url, "https://%s.test/x", puny_cases[_i].utf8);
	ck_assert_int_eq(link_check_url(url, strlen(url), hosts, 1, &why), -1);
	ck_assert_str_eq(why, "link to this service");
	/* The ACE form itself, in another case, is a loop too. */
	snprintf(url, sizeof url, "https://%s.TEST/x", puny_cases[_i].ace);
	ck_assert_int_eq(link_check_url(url, strlen(url), hosts, 1, &why), -1);
	/* And another name is not. */
	snprintf(other, sizeof other, "https://%s.other/x", puny_cases[_i].utf8);
	ck_assert_msg(link_check_url(other, strlen(other), hosts, 1, &why) == 0, "%s: %s",
	    other, why);
}
END_TEST

/* --- slugs ------------------------------------------------------------------------------ */

static const struct {
	const char	*slug;
	size_t		 len;	/* 0: strlen */
	int		 want;
} slug_cases[] = {
	{ "abc", 0, -1 },					/* length 3 */
	{ "abcd", 0, 0 },					/* length 4 */
	{ "aBcD0123456789012345678901234567890123456789012345678901234567_-", 0, 0 },	/* 64 */
	{ "aBcD0123456789012345678901234567890123456789012345678901234567_-x", 0, -1 },	/* 65 */
	{ "", 0, -1 },
	{ "My-Slug_01", 0, 0 },
	{ "-_-_", 0, 0 },
	{ "2024", 0, 0 },
	{ "ab cd", 0, -1 },
	{ "ab/cd", 0, -1 },
	{ "ab.cd", 0, -1 },
	{ "ab+cd", 0, -1 },
	{ "abc%41", 0, -1 },
	{ "abc?x", 0, -1 },
	{ "ab#cd", 0, -1 },
	{ "abc\xc3\xa9", 0, -1 },
	{ "ab\0cd", 5, -1 },
	{ "abcd\n", 0, -1 },
	{ "../etc", 0, -1 },
	{ "static", 0, -2 },
	{ "STATIC", 0, -2 },
	{ "Static", 0, -2 },
	{ "healthz", 0, -2 },
	{ "HealthZ", 0, -2 },
	{ "readyz", 0, -2 },
	{ "_errors", 0, -2 },
	{ "_BLOBS", 0, -2 },
	{ "admin", 0, -2 },
	{ "Login", 0, -2 },
	{ "logout", 0, -2 },
	{ "SignUp", 0, -2 },
	{ "dashboard", 0, -2 },
	{ "assets", 0, -2 },
	{ "help", 0, -2 },
	{ "ABOUT", 0, -2 },
	{ "terms", 0, -2 },
	{ "privacy", 0, -2 },
	{ "api", 0, -1 },	/* reserved too, but too short first */
	{ "www", 0, -1 },
	{ "app", 0, -1 },
	{ "apis", 0, 0 },	/* reserved names are whole words */
	{ "statics", 0, 0 },
	{ "xadmin", 0, 0 },
};

START_TEST(test_slug)
{
	size_t len = slug_cases[_i].len ? slug_cases[_i].len : strlen(slug_cases[_i].slug);

	ck_assert_msg(link_check_slug(slug_cases[_i].slug, len) == slug_cases[_i].want,
	    "slug \"%s\": want %d", slug_cases[_i].slug, slug_cases[_i].want);
}
END_TEST

START_TEST(test_slug_edges)
{
	ck_assert_int_eq(link_check_slug(NULL, 0), -1);
	ck_assert_int_eq(link_check_slug(NULL, 8), -1);
	/* Only len bytes are looked at. */
	ck_assert_int_eq(link_check_slug("abcd/../..", 4), 0);
	ck_assert_int_eq(link_check_slug("staticXYZ", 6), -2);
}
END_TEST

/* --- codes ------------------------------------------------------------------------------ */

static const char base62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

START_TEST(test_code_shape)
{
	static const size_t lens[] = { 0, 1, CODE_LEN_URL, CODE_LEN_FILE, 64 };
	char out[80];
	size_t i, k;

	for (i = 0; i < N(lens); i++) {
		memset(out, '#', sizeof out);
		link_new_code(out, lens[i]);
		ck_assert_uint_eq(strlen(out), lens[i]);
		ck_assert_int_eq(out[lens[i] + 1], '#');	/* nothing written past len+1 */
		for (k = 0; k < lens[i]; k++)
			ck_assert_ptr_nonnull(strchr(base62, out[k]));
	}
}
END_TEST

static int
cmp_code(const void *a, const void *b)
{
	return memcmp(a, b, CODE_LEN_URL + 1);
}

/*
 * 10,000 codes: no duplicates (a collision among 10^4 draws from 62^8 has probability ~2e-7),
 * every character used, and a chi-square statistic over the 62 characters (61 degrees of
 * freedom: mean 61, sd 11) under 200, which a uniform generator exceeds with probability far
 * below 1e-15 while a modulo-biased or broken one lands in the thousands.
 */
START_TEST(test_code_distribution)
{
	enum { NCODES = 10000 };
	char (*codes)[CODE_LEN_URL + 1] = calloc(NCODES, sizeof *codes);
	unsigned long count[62] = { 0 };
	double expect = (double)NCODES * CODE_LEN_URL / 62, chi2 = 0, d;
	size_t i, k;

	ck_assert_ptr_nonnull(codes);
	for (i = 0; i < NCODES; i++) {
		link_new_code(codes[i], CODE_LEN_URL);
		ck_assert_uint_eq(strlen(codes[i]), CODE_LEN_URL);
		for (k = 0; k < CODE_LEN_URL; k++) {
			const char *p = strchr(base62, codes[i][k]);

			ck_assert_ptr_nonnull(p);
			count[p - base62]++;
		}
	}
	qsort(codes, NCODES, sizeof *codes, cmp_code);
	for (i = 1; i < NCODES; i++)
		ck_assert_msg(strcmp(codes[i - 1], codes[i]) != 0, "duplicate code %s", codes[i]);
	for (k = 0; k < 62; k++) {
		ck_assert_msg(count[k] > 0, "character %c never drawn", base62[k]);
		d = (double)count[k] - expect;
		chi2 += d * d / expect;
	}
	ck_assert_msg(chi2 < 200, "chi-square %.1f over 61 degrees of freedom", chi2);
	free(codes);
}
END_TEST

/* --- file names ------------------------------------------------------------------------- */

static const struct {
	const char	*name;
	const char	*in;
	size_t		 len;	/* 0: strlen */
	const char	*want;
} filename_cases[] = {
	{ "unix traversal", "../../etc/passwd", 0, "passwd" },
	{ "windows path", "C:\\Users\\x\\evil.exe", 0, "evil.exe" },
	{ "mixed separators", "a/b\\c/d.txt", 0, "d.txt" },
	{ "quote and semicolon kept", "a\"b;c.txt", 0, "a\"b;c.txt" },
	{ "RTL override dropped", "invoice\xe2\x80\xae" "fdp.exe", 0, "invoicefdp.exe" },
	{ "other bidi controls dropped", "\xe2\x80\xaa" "a\xe2\x81\xa6" "b\xe2\x80\x8f.txt", 0,
	    "ab.txt" },
	{ "zero width dropped", "zero\xe2\x80\x8bwidth\xe2\x80\x8d.txt", 0, "zerowidth.txt" },
	{ "BOM dropped", "\xef\xbb\xbf" "bom.txt", 0, "bom.txt" },
	{ "soft hyphen dropped", "soft\xc2\xadhyphen", 0, "softhyphen" },
	{ "invalid bytes", "bad\xff\xfename.txt", 0, "bad__name.txt" },
	{ "overlong", "\xc0\xaf" "x", 0, "__x" },
	{ "surrogate", "a\xed\xa0\x80" "b", 0, "a___b" },
	{ "truncated sequence at end", "abc\xe2\x82", 0, "abc__" },
	{ "NUL inside dropped", "a\0b.txt", 7, "ab.txt" },
	{ "C0 and DEL dropped", "report\x01\x1f\t\n\r\x7f.pdf", 0, "report.pdf" },
	{ "C1 dropped", "x\xc2\x85y\xc2\x9f", 0, "xy" },
	{ "three dots", "...", 0, "download" },
	{ "dot", ".", 0, "download" },
	{ "dot dot", "..", 0, "download" },
	{ "empty", "", 0, "download" },
	{ "only spaces", "   ", 0, "download" },
	{ "only invisible", "\xe2\x80\x8b\xe2\x80\xae", 0, "download" },
	{ "dotfile", ".bashrc", 0, "bashrc" },
	{ "leading dots and spaces", " . .hidden.txt", 0, "hidden.txt" },
	{ "trailing dots and spaces", "name.txt. . ", 0, "name.txt" },
	{ "trailing slash", "dir/", 0, "download" },
	{ "slash", "/", 0, "download" },
	{ "backslash", "\\", 0, "download" },
	{ "windows dir", "..\\..\\windows\\system32\\", 0, "download" },
	{ "unicode kept", "r\xc3\xa9sum\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac.pdf", 0,
	    "r\xc3\xa9sum\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac.pdf" },
	{ "emoji kept", "\xf0\x9f\x98\x80.png", 0, "\xf0\x9f\x98\x80.png" },
	{ "no-break space becomes space", "my\xc2\xa0" "file.txt", 0, "my file.txt" },
	{ "leading unicode space trimmed", "\xe3\x80\x80nbsp.txt", 0, "nbsp.txt" },
	{ "inner spaces kept", "a  b.txt", 0, "a  b.txt" },
	{ "ordinary", "photo.JPG", 0, "photo.JPG" },
	{ "double extension", "archive.tar.gz", 0, "archive.tar.gz" },
};

START_TEST(test_clean_filename)
{
	size_t len = filename_cases[_i].len ? filename_cases[_i].len : strlen(filename_cases[_i].in);
	struct buf b = BUF_INIT;

	link_clean_filename(filename_cases[_i].in, len, &b);
	ck_assert_msg(!strcmp(buf_str(&b), filename_cases[_i].want), "%s: got \"%s\", want \"%s\"",
	    filename_cases[_i].name, buf_str(&b), filename_cases[_i].want);
	ck_assert_uint_eq(b.len, strlen(filename_cases[_i].want));
	buf_free(&b);
}
END_TEST

/* It appends, like every buf function; and a NULL name is an empty one. */
START_TEST(test_clean_filename_appends)
{
	struct buf b = BUF_INIT;

	buf_appends(&b, "prefix:");
	link_clean_filename("../../etc/passwd", 16, &b);
	ck_assert_str_eq(b.data, "prefix:passwd");
	buf_reset(&b);
	buf_appends(&b, "p/");
	link_clean_filename("...", 3, &b);
	ck_assert_str_eq(b.data, "p/download");
	buf_reset(&b);
	link_clean_filename(NULL, 0, &b);
	ck_assert_str_eq(b.data, "download");
	buf_free(&b);
}
END_TEST

static struct buf
repeat(const char *unit, size_t times, const char *suffix)
{
	struct buf b = BUF_INIT;

	while (times-- > 0)
		buf_appends(&b, unit);
	buf_appends(&b, suffix);
	return b;
}

static void
assert_clean_long(const char *unit, size_t times, const char *suffix, const char *want_end,
    size_t want_len)
{
	struct buf in = repeat(unit, times, suffix), out = BUF_INIT;

	link_clean_filename(in.data, in.len, &out);
	ck_assert_uint_le(out.len, FILENAME_MAX_BYTES);
	ck_assert_msg(utf8_length(out.data, out.len) >= 0, "not UTF-8 after truncation");
	if (want_end != NULL) {
		ck_assert_uint_ge(out.len, strlen(want_end));
		ck_assert_str_eq(out.data + out.len - strlen(want_end), want_end);
	}
	if (want_len != 0)
		ck_assert_uint_eq(out.len, want_len);
	buf_free(&in);
	buf_free(&out);
}

START_TEST(test_clean_filename_long)
{
	/* 300 bytes of ASCII with an extension: cut to 255, extension kept. */
	assert_clean_long("a", 296, ".pdf", ".pdf", 255);
	/* Two-byte characters: the cut may not split one, so 254 bytes. */
	assert_clean_long("\xc3\xa9", 150, ".txt", ".txt", 254);
	/* Three- and four-byte characters without an extension. */
	assert_clean_long("\xe2\x82\xac", 100, "", "\xe2\x82\xac", 255);
	assert_clean_long("\xf0\x9f\x98\x80", 100, "", "\xf0\x9f\x98\x80", 252);
	/* An "extension" too long to be one is not kept: plain cut. */
	assert_clean_long("a", 300, ".thisisnotreallyanextension", "a", 255);
	/* Exactly 255 bytes stays as it is, 256 is cut. */
	assert_clean_long("b", 251, ".txt", ".txt", 255);
	assert_clean_long("b", 252, ".txt", ".txt", 255);
	/* Leading spaces go first, and with them the dot: what is left is short. */
	assert_clean_long(" ", 300, ".txt", "txt", 3);
}
END_TEST

START_TEST(test_clean_filename_cut_lands_on_spaces)
{
	struct buf in = repeat(" ", 300, "b.txt"), out = BUF_INIT;

	in.data[0] = 'a';
	link_clean_filename(in.data, in.len, &out);
	ck_assert_str_eq(out.data, "a.txt");
	buf_free(&in);
	buf_free(&out);
}
END_TEST

/* --- Content-Disposition ----------------------------------------------------------------- */

static const struct {
	const char	*in;
	const char	*want;
} cd_cases[] = {
	{ "report.pdf", "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf" },
	{ "a\"b;c.txt", "attachment; filename=\"a\\\"b;c.txt\"; filename*=UTF-8''a%22b%3Bc.txt" },
	{ "back\\slash.txt",
	    "attachment; filename=\"back\\\\slash.txt\"; filename*=UTF-8''back%5Cslash.txt" },
	{ "r\xc3\xa9sum\xc3\xa9.pdf",
	    "attachment; filename=\"r_sum_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf" },
	{ "my file (1).txt",
	    "attachment; filename=\"my file (1).txt\"; filename*=UTF-8''my%20file%20%281%29.txt" },
	{ "\xe6\x97\xa5\xe6\x9c\xac.txt",
	    "attachment; filename=\"__.txt\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.txt" },
	{ "\xf0\x9f\x98\x80", "attachment; filename=\"_\"; filename*=UTF-8''%F0%9F%98%80" },
	{ "!#$&+-.^_`|~AZaz09",
	    "attachment; filename=\"!#$&+-.^_`|~AZaz09\"; filename*=UTF-8''!#$&+-.^_`|~AZaz09" },
	{ "100%.txt", "attachment; filename=\"100%.txt\"; filename*=UTF-8''100%25.txt" },
	{ "=?*',/:<>@[]{}", "attachment; filename=\"=?*',/:<>@[]{}\"; "
	    "filename*=UTF-8''%3D%3F%2A%27%2C%2F%3A%3C%3E%40%5B%5D%7B%7D" },
	/* Not cleaned first: still no CR or LF can reach the header. */
	{ "a\r\nb", "attachment; filename=\"a__b\"; filename*=UTF-8''a%0D%0Ab" },
	{ "\xff.txt", "attachment; filename=\"_.txt\"; filename*=UTF-8''%FF.txt" },
	{ "", "attachment; filename=\"download\"; filename*=UTF-8''download" },
};

START_TEST(test_content_disposition)
{
	struct buf b = BUF_INIT;
	size_t i;

	link_content_disposition(cd_cases[_i].in, &b);
	ck_assert_str_eq(b.data, cd_cases[_i].want);
	for (i = 0; i < b.len; i++)
		ck_assert_msg((unsigned char)b.data[i] >= 0x20 && (unsigned char)b.data[i] < 0x7f,
		    "byte 0x%02x in header value", (unsigned char)b.data[i]);
	buf_free(&b);
}
END_TEST

START_TEST(test_content_disposition_null_and_append)
{
	struct buf b = BUF_INIT;

	buf_appends(&b, "X: ");
	link_content_disposition(NULL, &b);
	ck_assert_str_eq(b.data, "X: attachment; filename=\"download\"; filename*=UTF-8''download");
	buf_free(&b);
}
END_TEST

/* --- media types ------------------------------------------------------------------------ */

static const struct {
	const char	*client;
	const char	*filename;
	const char	*want;
} type_cases[] = {
	/* The client's, when it is a plain type/subtype. */
	{ "image/png", "x.bin", "image/png" },
	{ "Text/HTML; charset=UTF-8", NULL, "text/html" },
	{ "  application/pdf  ", "a.txt", "application/pdf" },
	{ "text/plain;charset=utf-8", NULL, "text/plain" },
	{ "application/vnd.openxmlformats-officedocument.wordprocessingml.document", NULL,
	    "application/vnd.openxmlformats-officedocument.wordprocessingml.document" },
	{ "application/octet-stream", "a.png", "application/octet-stream" },
	/* Otherwise guessed from the extension. */
	{ "", "a.pdf", "application/pdf" },
	{ "image", "a.png", "image/png" },
	{ "image/", "a.png", "image/png" },
	{ "/png", "a.png", "image/png" },
	{ "image/png/x", "a.txt", "text/plain" },
	{ "image png", "a.txt", "text/plain" },
	{ "text/html\r\nX-Evil: 1", "a.txt", "text/plain" },
	{ "text/html x", "a.txt", "text/plain" },
	{ "t\xc3\xa9xt/plain", "a.txt", "text/plain" },
	{ "text/(plain)", "a.txt", "text/plain" },
	{ NULL, "a.txt", "text/plain" },
	{ NULL, "A.TXT", "text/plain" },
	{ NULL, "page.html", "text/html" },
	{ NULL, "page.htm", "text/html" },
	{ NULL, "style.css", "text/css" },
	{ NULL, "app.js", "text/javascript" },
	{ NULL, "data.json", "application/json" },
	{ NULL, "table.csv", "text/csv" },
	{ NULL, "doc.pdf", "application/pdf" },
	{ NULL, "p.png", "image/png" },
	{ NULL, "p.jpg", "image/jpeg" },
	{ NULL, "p.jpeg", "image/jpeg" },
	{ NULL, "P.JPG", "image/jpeg" },
	{ NULL, "p.gif", "image/gif" },
	{ NULL, "p.webp", "image/webp" },
	{ NULL, "p.svg", "image/svg+xml" },
	{ NULL, "s.mp3", "audio/mpeg" },
	{ NULL, "v.mp4", "video/mp4" },
	{ NULL, "v.webm", "video/webm" },
	{ NULL, "a.zip", "application/zip" },
	{ NULL, "archive.tar.gz", "application/gzip" },
	{ NULL, "a.tar", "application/x-tar" },
	{ NULL, "w.doc", "application/msword" },
	{ NULL, "w.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document" },
	{ NULL, "x.xls", "application/vnd.ms-excel" },
	{ NULL, "x.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" },
	{ NULL, "p.ppt", "application/vnd.ms-powerpoint" },
	{ NULL, "p.pptx",
	    "application/vnd.openxmlformats-officedocument.presentationml.presentation" },
	/* Else application/octet-stream. */
	{ NULL, "x.qqq", "application/octet-stream" },
	{ NULL, "README", "application/octet-stream" },
	{ NULL, ".png", "application/octet-stream" },
	{ NULL, "a.", "application/octet-stream" },
	{ NULL, "a.png.exe", "application/octet-stream" },
	{ NULL, "", "application/octet-stream" },
	{ NULL, NULL, "application/octet-stream" },
	{ "garbage", NULL, "application/octet-stream" },
};

START_TEST(test_content_type)
{
	struct buf b = BUF_INIT;

	link_content_type(type_cases[_i].client, type_cases[_i].filename, &b);
	ck_assert_msg(!strcmp(buf_str(&b), type_cases[_i].want), "(%s, %s): got %s, want %s",
	    type_cases[_i].client ? type_cases[_i].client : "NULL",
	    type_cases[_i].filename ? type_cases[_i].filename : "NULL", buf_str(&b),
	    type_cases[_i].want);
	buf_free(&b);
}
END_TEST

/* A type/subtype longer than RFC 6838 allows (127 each) is not taken from the client. */
START_TEST(test_content_type_overlong)
{
	struct buf t = repeat("a", 128, "/plain"), b = BUF_INIT;

	link_content_type(t.data, "x.txt", &b);
	ck_assert_str_eq(b.data, "text/plain");
	buf_free(&t);
	buf_reset(&b);
	t = repeat("a", 127, "/plain");
	link_content_type(t.data, "x.txt", &b);
	ck_assert_str_eq(b.data, t.data);
	buf_free(&t);
	buf_free(&b);
}
END_TEST

/* --- preview bots ----------------------------------------------------------------------- */

static const struct {
	const char	*ua;
	bool		 bot;
} bot_cases[] = {
	{ "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", true },
	{ "Slackbot 1.0 (+https://api.slack.com/robots)", true },
	{ "Twitterbot/1.0", true },
	{ "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", true },
	{ "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)", true },
	{ "WhatsApp/2.23.20.0 A", true },
	{ "TelegramBot (like TwitterBot)", true },
	{ "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
	    true },
	{ "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5 "
	    "skype-url-preview@microsoft.com", true },
	{ "SLACKBOT-LINKEXPANDING 1.0", true },
	{ "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
	    "Chrome/120.0.0.0 Safari/537.36", false },
	{ "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0", false },
	{ "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
	    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1", false },
	{ "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
	    "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0", false },
	{ "curl/8.5.0", false },
	{ "Wget/1.21.4", false },
	{ "", false },
	/* A name inside a longer word is not the bot. */
	{ "NotTwitterbot/1.0", false },
	{ "Slackbotty/2.0", false },
};

START_TEST(test_preview_bot)
{
	ck_assert_msg(link_is_preview_bot(bot_cases[_i].ua) == bot_cases[_i].bot, "\"%s\"",
	    bot_cases[_i].ua);
}
END_TEST

START_TEST(test_preview_bot_null)
{
	ck_assert(!link_is_preview_bot(NULL));
}
END_TEST

static Suite *
linkrules_suite(void)
{
	Suite *s = suite_create("linkrules");
	TCase *tc;

	tc = tcase_create("url");
	tcase_add_loop_test(tc, test_url_table, 0, N(url_cases));
	tcase_add_test(tc, test_url_table_is_large_and_reasons_distinct);
	tcase_add_test(tc, test_url_length_limit);
	tcase_add_test(tc, test_url_explicit_length);
	tcase_add_test(tc, test_url_own_hosts_optional);
	tcase_add_loop_test(tc, test_url_loop_through_punycode, 0, N(puny_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("slug");
	tcase_add_loop_test(tc, test_slug, 0, N(slug_cases));
	tcase_add_test(tc, test_slug_edges);
	suite_add_tcase(s, tc);

	tc = tcase_create("code");
	tcase_set_timeout(tc, TU_TIMEOUT);
	tcase_add_test(tc, test_code_shape);
	tcase_add_test(tc, test_code_distribution);
	suite_add_tcase(s, tc);

	tc = tcase_create("filename");
	tcase_add_loop_test(tc, test_clean_filename, 0, N(filename_cases));
	tcase_add_test(tc, test_clean_filename_appends);
	tcase_add_test(tc, test_clean_filename_long);
	tcase_add_test(tc, test_clean_filename_cut_lands_on_spaces);
	tcase_add_loop_test(tc, test_content_disposition, 0, N(cd_cases));
	tcase_add_test(tc, test_content_disposition_null_and_append);
	suite_add_tcase(s, tc);

	tc = tcase_create("content_type");
	tcase_add_loop_test(tc, test_content_type, 0, N(type_cases));
	tcase_add_test(tc, test_content_type_overlong);
	suite_add_tcase(s, tc);

	tc = tcase_create("preview_bot");
	tcase_add_loop_test(tc, test_preview_bot, 0, N(bot_cases));
	tcase_add_test(tc, test_preview_bot_null);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(linkrules_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
