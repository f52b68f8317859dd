/*
 * fuzz_linkrules: the pure rules about what clients send for links (src/linkrules.c): target
 * URL validation (with this service's own hosts for the loop check), custom slugs, file name
 * cleaning, the Content-Disposition built from a name, the media type sent for a file, and
 * the preview-bot check of a User-Agent.
 *
 * Input: a selector byte, then the string under test (a second line is the file name for
 * link_content_type).
 * Checks, beyond no crash or leak:
 *  - an accepted URL is http(s)://, at most URL_MAX_LEN bytes, valid UTF-8, with no control
 *    character, space, backslash or userinfo; every refusal says why;
 *  - an accepted slug is 4-64 of [A-Za-z0-9_-];
 *  - a cleaned file name is 1-255 bytes of valid UTF-8 with no '/', '\\' or control byte, no
 *    leading or trailing dot or space, and cleaning it again changes nothing;
 *  - a Content-Disposition is printable ASCII (never CR/LF) and its filename* decodes back to
 *    exactly the name it was made from;
 *  - a media type is one lower-case type/subtype token pair.
 */
#include <ctype.h>

#include "fuzz.h"

#include "buf.h"
#include "linkrules.h"

static const char *const own_hosts[] = { "fs.test", "127.0.0.1", "[::1]", "short.example." };

static bool
url_char_ok(unsigned char c)
{
	return c >= 0x20 && c != 0x7f && c != ' ' && c != '\\';
}

static void
check_url(const char *s, size_t n)
{
	const char *why = "unset", *auth, *end;
	size_t i;
	int rc = link_check_url(s, n, own_hosts, sizeof own_hosts / sizeof own_hosts[0], &why);

	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc == -1) {
		FUZZ_CHECK(why != NULL && *why != '\0');
		return;
	}
	FUZZ_CHECK(why == NULL);
	FUZZ_CHECK(n <= URL_MAX_LEN);
	FUZZ_CHECK(fuzz_utf8_ok(s, n));
	for (i = 0; i < n; i++)
		FUZZ_CHECK((unsigned char)s[i] >= 0x80 || url_char_ok((unsigned char)s[i]));
	FUZZ_CHECK(!strncasecmp(s, "http://", 7) || !strncasecmp(s, "https://", 8));
	FUZZ_CHECK(memchr(s, '\0', n) == NULL);
	auth = strstr(s, "//") + 2;
	for (end = auth; end < s + n && *end != '/' && *end != '?' && *end != '#'; end++)
		FUZZ_CHECK(*end != '@');
	FUZZ_CHECK(end > auth);
	/* NULL and zero own hosts are fine too, and never refuse more. */
	FUZZ_CHECK(link_check_url(s, n, NULL, 0, NULL) == 0);
}

static void
check_slug(const char *s, size_t n)
{
	size_t i;
	int rc = link_check_slug(s, n);

	FUZZ_CHECK(rc == 0 || rc == -1 || rc == -2);
	if (rc != 0)
		return;
	FUZZ_CHECK(n >= SLUG_MIN_LEN && n <= SLUG_MAX_LEN);
	for (i = 0; i < n; i++)
		FUZZ_CHECK(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '-');
}

static int
hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static void
check_disposition(const char *name)
{
	struct buf cd = BUF_INIT, dec = BUF_INIT;
	const char *ext, *p, *want = *name ? name : "download";
	size_t i;

	link_content_disposition(name, &cd);
	FUZZ_CHECK(!strncmp(buf_str(&cd), "attachment; filename=\"", 22));
	for (i = 0; i < cd.len; i++)
		FUZZ_CHECK(cd.data[i] >= 0x20 && cd.data[i] < 0x7f);
	ext = strstr(buf_str(&cd), "\"; filename*=UTF-8''");
	FUZZ_CHECK(ext != NULL);
	/* The last occurrence is the real one: the quoted part escapes '"' as \". */
	while ((p = strstr(ext + 1, "\"; filename*=UTF-8''")) != NULL)
		ext = p;
	for (p = ext + 20; *p; p++) {
		if (*p == '%') {
			FUZZ_CHECK(hexval(p[1]) >= 0 && hexval(p[2]) >= 0);
			buf_appendc(&dec, (char)(hexval(p[1]) << 4 | hexval(p[2])));
			p += 2;
		} else {
			FUZZ_CHECK(*p != '"' && *p != ';' && *p != ' ' && *p != '\'');
			buf_appendc(&dec, *p);
		}
	}
	FUZZ_CHECK(!strcmp(buf_str(&dec), want));
	buf_free(&cd);
	buf_free(&dec);
}

static void
check_filename(const char *s, size_t n)
{
	struct buf out = BUF_INIT, again = BUF_INIT, prefixed = BUF_INIT;
	size_t i;

	link_clean_filename(s, n, &out);
	FUZZ_CHECK(out.len >= 1 && out.len <= FILENAME_MAX_BYTES);
	FUZZ_CHECK(strlen(out.data) == out.len);
	FUZZ_CHECK(fuzz_utf8_ok(out.data, out.len));
	for (i = 0; i < out.len; i++) {
		unsigned char c = (unsigned char)out.data[i];

		FUZZ_CHECK(c != '/' && c != '\\' && c >= 0x20 && c != 0x7f);
	}
	FUZZ_CHECK(out.data[0] != '.' && out.data[0] != ' ');
	FUZZ_CHECK(out.data[out.len - 1] != '.' && out.data[out.len - 1] != ' ');
	/* Idempotent. */
	link_clean_filename(out.data, out.len, &again);
	FUZZ_CHECK(again.len == out.len && !memcmp(again.data, out.data, out.len));
	/* Appends after what the buffer holds, leaving that alone. */
	buf_appends(&prefixed, "keep/");
	link_clean_filename(s, n, &prefixed);
	FUZZ_CHECK(prefixed.len == out.len + 5 && !memcmp(prefixed.data, "keep/", 5) &&
	    !memcmp(prefixed.data + 5, out.data, out.len));
	check_disposition(out.data);
	buf_free(&out);
	buf_free(&again);
	buf_free(&prefixed);
}

static void
check_content_type(const char *ct, const char *filename)
{
	struct buf out = BUF_INIT;
	const char *slash;
	size_t i;

	link_content_type(ct, filename, &out);
	slash = strchr(buf_str(&out), '/');
	FUZZ_CHECK(slash != NULL && slash != out.data && slash[1] != '\0');
	FUZZ_CHECK(strchr(slash + 1, '/') == NULL);
	for (i = 0; i < out.len; i++)
		FUZZ_CHECK(out.data[i] > 0x20 && out.data[i] < 0x7f && out.data[i] != ';' &&
		    !isupper((unsigned char)out.data[i]));
	buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t sel = fuzz_byte(&in);
	char *a, *b;
	size_t n;

	switch (sel % 6) {
	case 0:	/* raw bytes, NUL and all (a terminated copy, for the checks' own reading) */
		a = fuzz_rest_dup(&in, &n);
		check_url(a, n);
		free(a);
		break;
	case 1:
		check_slug((const char *)in.p, in.n);
		break;
	case 2:
		check_filename((const char *)in.p, in.n);
		break;
	case 3:	/* a raw, uncleaned name straight into the header */
		a = fuzz_rest_dup(&in, &n);
		check_disposition(a);
		free(a);
		break;
	case 4:
		a = fuzz_line_dup(&in);
		b = fuzz_rest_dup(&in, &n);
		check_content_type(sel & 8 ? NULL : a, sel & 16 ? NULL : b);
		free(a);
		free(b);
		break;
	case 5:
		a = fuzz_rest_dup(&in, &n);
		(void)link_is_preview_bot(a);
		free(a);
		break;
	}
	return 0;
}
