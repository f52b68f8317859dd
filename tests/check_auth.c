/*
 * check_auth: scrypt password hashes (format, verification, malformed stored strings) and
 * signed tokens (round trip, and every way a token can be wrong).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth.h"
#include "encode.h"
#include "testutil.h"
#include "xmalloc.h"

static const unsigned char KEY[] = "0123456789abcdef0123456789abcdef-key";
#define KEYLEN	(sizeof KEY - 1)
static const unsigned char OTHER_KEY[] = "0123456789abcdef0123456789abcdef-kez";

#define NOW_MS	INT64_C(1767225600123)	/* 2026-01-01T00:00:00.123Z */
#define NOW_S	(NOW_MS / 1000)

static bool
is_b64url(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", s[i]) == NULL ||
		    s[i] == '\0')
			return false;
	return true;
}

/* Checks "$scrypt$<params>$<22 b64url>$<43 b64url>". */
static void
assert_hash_shape(const char *h, const char *params)
{
	char prefix[64];
	const char *salt, *hash;

	snprintf(prefix, sizeof prefix, "$scrypt$%s$", params);
	ck_assert_msg(!strncmp(h, prefix, strlen(prefix)), "hash \"%s\" does not start with %s", h, prefix);
	salt = h + strlen(prefix);
	hash = strchr(salt, '$');
	ck_assert_ptr_nonnull(hash);
	ck_assert_int_eq(hash - salt, 22);		/* 16 bytes of salt */
	ck_assert(is_b64url(salt, 22));
	hash++;
	ck_assert_uint_eq(strlen(hash), 43);		/* 32 bytes of hash */
	ck_assert(is_b64url(hash, 43));
	ck_assert_uint_lt(strlen(h), PASSWORD_HASH_MAX);
}

/* Runs first, before anything lowers the cost (tests share nothing in fork mode, but
 * CK_FORK=no would run them in one process). */
START_TEST(test_default_cost)
{
	char h[PASSWORD_HASH_MAX];

	ck_assert_int_eq(password_hash("correct horse", 13, h), 0);
	assert_hash_shape(h, "ln=15,r=8,p=3");
	ck_assert_int_eq(password_verify("correct horse", 13, h), 1);
	ck_assert_int_eq(password_verify("correct horsE", 13, h), 0);
}
END_TEST

START_TEST(test_hash_format_lowered_cost)
{
	char h[PASSWORD_HASH_MAX];

	ck_assert_int_eq(password_hash("pw", 2, h), 0);
	assert_hash_shape(h, "ln=10,r=8,p=1");
}
END_TEST

static const struct {
	const char	*name;
	const char	*pw;
	size_t		 len;		/* 0: strlen */
} hash_pw_cases[] = {
	{ "ASCII", "correct horse battery staple", 0 },
	{ "empty", "", 0 },
	{ "UTF-8", "p\xc3\xa4ssw\xc3\xb6rd \xf0\x9f\x94\x91", 0 },
	{ "with NUL", "ab\0cd", 5 },
	{ "dollar signs", "$scrypt$ln=1$", 0 },
};

START_TEST(test_verify_ok_and_wrong)
{
	const char *pw = hash_pw_cases[_i].pw;
	size_t n = hash_pw_cases[_i].len ? hash_pw_cases[_i].len : strlen(pw);
	char h[PASSWORD_HASH_MAX], other[1100];

	ck_assert_int_eq(password_hash(pw, n, h), 0);
	ck_assert_int_eq(password_verify(pw, n, h), 1);
	/* One byte more, one byte less, one byte changed: all wrong. */
	memcpy(other, pw, n);
	other[n] = 'x';
	ck_assert_int_eq(password_verify(other, n + 1, h), 0);
	if (n > 0) {
		ck_assert_int_eq(password_verify(pw, n - 1, h), 0);
		other[n - 1] ^= 1;
		ck_assert_int_eq(password_verify(other, n, h), 0);
	}
}
END_TEST

START_TEST(test_different_salts)
{
	char a[PASSWORD_HASH_MAX], b[PASSWORD_HASH_MAX];

	ck_assert_int_eq(password_hash("same password", 13, a), 0);
	ck_assert_int_eq(password_hash("same password", 13, b), 0);
	ck_assert_str_ne(a, b);
	/* Not only the hash: the salts themselves differ. */
	ck_assert(strncmp(a, b, strlen("$scrypt$ln=10,r=8,p=1$") + 22) != 0);
	ck_assert_int_eq(password_verify("same password", 13, a), 1);
	ck_assert_int_eq(password_verify("same password", 13, b), 1);
}
END_TEST

START_TEST(test_verify_with_other_cost)
{
	char h[PASSWORD_HASH_MAX];

	/* A stored hash carries its own cost: raising the cost later keeps old hashes valid. */
	auth_set_scrypt_cost(11, 4, 2);
	ck_assert_int_eq(password_hash("old password", 12, h), 0);
	assert_hash_shape(h, "ln=11,r=4,p=2");
	auth_set_scrypt_cost(10, 8, 1);
	ck_assert_int_eq(password_verify("old password", 12, h), 1);
	ck_assert_int_eq(password_verify("new password", 12, h), 0);
}
END_TEST

/* A well-formed hash of "password" to mutate: salt and hash fields from a real run are not
 * needed, only their lengths and alphabet. */
#define SALT22	"AAAAAAAAAAAAAAAAAAAAAA"
#define HASH43	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

static const struct {
	const char	*name;
	const char	*stored;
} malformed_cases[] = {
	{ "empty", "" },
	{ "plain text", "password" },
	{ "prefix only", "$scrypt$" },
	{ "other algorithm", "$argon2id$v=19$m=65536,t=3,p=4$" SALT22 "$" HASH43 },
	{ "bcrypt", "$2b$12$abcdefghijklmnopqrstuuJ0ZnL7fCkXbZ5G4i3mTXyx7YwOMh7Ve" },
	{ "no params", "$scrypt$" SALT22 "$" HASH43 },
	{ "missing hash", "$scrypt$ln=10,r=8,p=1$" SALT22 },
	{ "missing hash after $", "$scrypt$ln=10,r=8,p=1$" SALT22 "$" },
	{ "extra field", "$scrypt$ln=10,r=8,p=1$" SALT22 "$" HASH43 "$extra" },
	/*
	 * Regression (src/auth.c, parse_hash, fixed): fields were split with strtok_r, which skips
	 * empty fields, so a doubled or trailing '$' went undetected and the string was accepted.
	 */
	{ "empty field (doubled $)", "$scrypt$$ln=10,r=8,p=1$" SALT22 "$" HASH43 },
	{ "trailing $", "$scrypt$ln=10,r=8,p=1$" SALT22 "$" HASH43 "$" },
	{ "ln=0", "$scrypt$ln=0,r=8,p=1$" SALT22 "$" HASH43 },
	{ "ln=31", "$scrypt$ln=31,r=8,p=1$" SALT22 "$" HASH43 },
	{ "ln not a number", "$scrypt$ln=ten,r=8,p=1$" SALT22 "$" HASH43 },
	{ "ln negative", "$scrypt$ln=-1,r=8,p=1$" SALT22 "$" HASH43 },
	{ "r=0", "$scrypt$ln=10,r=0,p=1$" SALT22 "$" HASH43 },
	{ "r=65", "$scrypt$ln=10,r=65,p=1$" SALT22 "$" HASH43 },
	{ "p=0", "$scrypt$ln=10,r=8,p=0$" SALT22 "$" HASH43 },
	{ "params out of order", "$scrypt$ln=10,p=1,r=8$" SALT22 "$" HASH43 },
	{ "params missing p", "$scrypt$ln=10,r=8$" SALT22 "$" HASH43 },
	{ "params trailing garbage", "$scrypt$ln=10,r=8,p=1x$" SALT22 "$" HASH43 },
	{ "params extra", "$scrypt$ln=10,r=8,p=1,q=2$" SALT22 "$" HASH43 },
	{ "N= instead of ln=", "$scrypt$N=1024,r=8,p=1$" SALT22 "$" HASH43 },
	{ "salt too short (6 bytes)", "$scrypt$ln=10,r=8,p=1$AAAAAAAA$" HASH43 },
	{ "salt not base64url", "$scrypt$ln=10,r=8,p=1$AAAAAAAAAAAAAAAAAAAA+/$" HASH43 },
	{ "salt with padding", "$scrypt$ln=10,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$" HASH43 },
	{ "hash 31 bytes", "$scrypt$ln=10,r=8,p=1$" SALT22 "$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" },
	{ "hash 33 bytes", "$scrypt$ln=10,r=8,p=1$" SALT22 "$" HASH43 "AA" },
	{ "hash not base64url", "$scrypt$ln=10,r=8,p=1$" SALT22 "$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA." },
	{ "hash non-canonical last character", "$scrypt$ln=10,r=8,p=1$" SALT22 "$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB" },
	{ "upper-case prefix", "$SCRYPT$ln=10,r=8,p=1$" SALT22 "$" HASH43 },
	{ "too long", "$scrypt$ln=10,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA$" HASH43 },
};

START_TEST(test_verify_malformed)
{
	ck_assert_msg(password_verify("password", 8, malformed_cases[_i].stored) == -1,
	    "%s: \"%s\" was not refused as malformed", malformed_cases[_i].name, malformed_cases[_i].stored);
}
END_TEST

START_TEST(test_verify_dummy)
{
	/* Only that it runs and touches nothing: it has no result. */
	password_verify_dummy("whatever", 8);
	password_verify_dummy("", 0);
}
END_TEST

/* --- tokens ---------------------------------------------------------------------------- */

static void
issue(enum token_kind kind, const char *user, int64_t ttl, struct token *t, char out[TOKEN_MAX])
{
	ck_assert_int_eq(token_issue(KEY, KEYLEN, kind, user, NOW_MS, ttl, t, out), 0);
}

START_TEST(test_token_round_trip)
{
	static const enum token_kind kinds[] = { TOKEN_SESSION, TOKEN_API };
	char tok[TOKEN_MAX];
	struct token issued, got;
	size_t k;

	for (k = 0; k < 2; k++) {
		issue(kinds[k], "0b8e7a6c-1d2f-4a3b-9c8d-7e6f5a4b3c2d", 3600, &issued, tok);
		ck_assert(!strncmp(tok, "fs1.", 4));
		ck_assert_uint_lt(strlen(tok), TOKEN_MAX);
		ck_assert_int_eq(issued.kind, (char)kinds[k]);
		ck_assert_str_eq(issued.user_id, "0b8e7a6c-1d2f-4a3b-9c8d-7e6f5a4b3c2d");
		ck_assert_int_eq(issued.iat_ms, NOW_MS);
		ck_assert_int_eq(issued.exp, NOW_S + 3600);
		ck_assert_uint_eq(strlen(issued.jti), 22);	/* 16 random bytes */

		memset(&got, 0x55, sizeof got);
		ck_assert_int_eq(token_verify(KEY, KEYLEN, tok, NOW_S, &got), 0);
		ck_assert_int_eq(got.kind, (char)kinds[k]);
		ck_assert_str_eq(got.user_id, issued.user_id);
		ck_assert_int_eq(got.iat_ms, issued.iat_ms);
		ck_assert_int_eq(got.exp, issued.exp);
		ck_assert_str_eq(got.jti, issued.jti);
	}
}
END_TEST

START_TEST(test_token_ttls)
{
	char tok[TOKEN_MAX];
	struct token t, got;

	issue(TOKEN_SESSION, "u", SESSION_TTL_S, &t, tok);
	ck_assert_int_eq(t.exp, NOW_S + 14 * 86400);
	ck_assert_int_eq(token_verify(KEY, KEYLEN, tok, NOW_S + SESSION_TTL_S - 1, &got), 0);
	issue(TOKEN_API, "u", API_TOKEN_TTL_S, &t, tok);
	ck_assert_int_eq(t.exp, NOW_S + 90 * 86400);
	ck_assert_int_eq(token_verify(KEY, KEYLEN, tok, NOW_S + API_TOKEN_TTL_S - 1, &got), 0);
}
END_TEST

START_TEST(test_token_unique)
{
	char a[TOKEN_MAX], b[TOKEN_MAX];
	struct token ta, tb;

	issue(TOKEN_SESSION, "user-1", 3600, &ta, a);
	issue(TOKEN_SESSION, "user-1", 3600, &tb, b);
	ck_assert_str_ne(a, b);
	ck_assert_str_ne(ta.jti, tb.jti);
}
END_TEST

START_TEST(test_token_expiry)
{
	char tok[TOKEN_MAX];
	struct token t, got;

	issue(TOKEN_SESSION, "user-1", 60, &t, tok);
	ck_assert_int_eq(token_verify(KEY, KEYLEN, tok, t.exp - 1, &got), 0);
	ck_assert_int_eq(token_verify(KEY, KEYLEN, tok, t.exp, &got), -1);	/* at exp */
	ck_assert_int_eq(token_verify(KEY, KEYLEN, tok, t.exp + 1, &got), -1);
	ck_assert_int_eq(token_verify(KEY, KEYLEN, tok, t.exp + 86400 * 365, &got), -1);
	/* Already expired when issued. */
	issue(TOKEN_SESSION, "user-1", 0, &t, tok);
	ck_assert_int_eq(token_verify(KEY, KEYLEN, tok, NOW_S, &got), -1);
}
END_TEST

START_TEST(test_token_wrong_key)
{
	char tok[TOKEN_MAX];
	struct token t, got;

	issue(TOKEN_SESSION, "user-1", 3600, &t, tok);
	ck_assert_int_eq(token_verify(OTHER_KEY, KEYLEN, tok, NOW_S, &got), -1);
	ck_assert_int_eq(token_verify(KEY, KEYLEN - 1, tok, NOW_S, &got), -1);
	ck_assert_int_eq(token_verify(KEY, KEYLEN, tok, NOW_S, &got), 0);
}
END_TEST

/* Every single-character change, anywhere (prefix, payload, dot, signature), is refused. */
START_TEST(test_token_tampered_anywhere)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
	char tok[TOKEN_MAX], bad[TOKEN_MAX];
	struct token t, got;
	size_t i, j, len, tried = 0;

	issue(TOKEN_SESSION, "user-1", 3600, &t, tok);
	len = strlen(tok);
	for (i = 0; i < len; i++) {
		/* A spread of replacements per position, shifted so every character gets used. */
		for (j = i % 7; j < sizeof alphabet - 1; j += 7) {
			if (alphabet[j] == tok[i])
				continue;
			memcpy(bad, tok, len + 1);
			bad[i] = alphabet[j];
			ck_assert_msg(token_verify(KEY, KEYLEN, bad, NOW_S, &got) == -1,
			    "position %zu changed to '%c' still verifies", i, alphabet[j]);
			tried++;
		}
	}
	ck_assert_uint_gt(tried, len * 5);
}
END_TEST

/* Replacing the payload of one token with another's, keeping the signature. */
START_TEST(test_token_spliced)
{
	char a[TOKEN_MAX], b[TOKEN_MAX], spliced[2 * TOKEN_MAX];
	struct token ta, tb, got;
	const char *dota, *dotb;

	issue(TOKEN_SESSION, "victim", 3600, &ta, a);
	issue(TOKEN_API, "attacker", 3600, &tb, b);
	dota = strchr(a + 4, '.');
	dotb = strchr(b + 4, '.');
	snprintf(spliced, sizeof spliced, "%.*s%s", (int)(dota - a), a, dotb);
	ck_assert_int_eq(token_verify(KEY, KEYLEN, spliced, NOW_S, &got), -1);
	snprintf(spliced, sizeof spliced, "%.*s%s", (int)(dotb - b), b, dota);
	ck_assert_int_eq(token_verify(KEY, KEYLEN, spliced, NOW_S, &got), -1);
}
END_TEST

START_TEST(test_token_truncated)
{
	char tok[TOKEN_MAX], cut[TOKEN_MAX];
	struct token t, got;
	size_t n, len;

	issue(TOKEN_API, "user-1", 3600, &t, tok);
	len = strlen(tok);
	for (n = 0; n < len; n++) {
		memcpy(cut, tok, n);
		cut[n] = '\0';
		ck_assert_msg(token_verify(KEY, KEYLEN, cut, NOW_S, &got) == -1,
		    "a token cut to %zu of %zu characters verifies", n, len);
	}
}
END_TEST

START_TEST(test_token_extended)
{
	char tok[TOKEN_MAX], longer[TOKEN_MAX + 16];
	struct token t, got;
	static const char *const suffixes[] = { "A", "AA", "AAAA", ".", ".x", "=", " ", "\n" };
	size_t i;

	issue(TOKEN_SESSION, "user-1", 3600, &t, tok);
	for (i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		snprintf(longer, sizeof longer, "%s%s", tok, suffixes[i]);
		ck_assert_msg(token_verify(KEY, KEYLEN, longer, NOW_S, &got) == -1,
		    "token + \"%s\" verifies", suffixes[i]);
	}
}
END_TEST

START_TEST(test_token_wrong_prefix)
{
	static const char *const prefixes[] = { "fs2.", "FS1.", "fs1-", "fs0.", "xx1." };
	char tok[TOKEN_MAX], bad[TOKEN_MAX + 8];
	struct token t, got;
	size_t i;

	issue(TOKEN_SESSION, "user-1", 3600, &t, tok);
	for (i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
		memcpy(bad, tok, strlen(tok) + 1);
		memcpy(bad, prefixes[i], 4);
		ck_assert_msg(token_verify(KEY, KEYLEN, bad, NOW_S, &got) == -1, "prefix %s accepted",
		    prefixes[i]);
	}
	/* No prefix at all. */
	ck_assert_int_eq(token_verify(KEY, KEYLEN, tok + 4, NOW_S, &got), -1);
	/* A doubled prefix. */
	snprintf(bad, sizeof bad, "fs1.%s", tok);
	ck_assert_int_eq(token_verify(KEY, KEYLEN, bad, NOW_S, &got), -1);
}
END_TEST

static const char *const garbage_cases[] = {
	"",
	"fs1.",
	"fs1..",
	"fs1...",
	"fs1.abc",
	"fs1.abc.def",
	"fs1.abc.",
	"fs1..AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	"Bearer fs1.abc.def",
	"null",
	"fs1.\xff\xfe.\x80",
	"fs1.%%%%.%%%%",
	"fs1.AAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
};

START_TEST(test_token_garbage)
{
	struct token got;

	ck_assert_msg(token_verify(KEY, KEYLEN, garbage_cases[_i], NOW_S, &got) == -1,
	    "\"%s\" verifies", garbage_cases[_i]);
}
END_TEST

START_TEST(test_token_too_long)
{
	char s[1024];

	memset(s, 'A', sizeof s - 1);
	s[sizeof s - 1] = '\0';
	memcpy(s, "fs1.", 4);
	s[600] = '.';
	ck_assert_int_eq(token_verify(KEY, KEYLEN, s, NOW_S, &(struct token){ 0 }), -1);
}
END_TEST

/* Signs an arbitrary payload exactly as token_issue does, to test what verify makes of
 * correctly signed but malformed contents. */
static void
forge(const char *payload, char out[TOKEN_MAX * 2])
{
	unsigned char mac[32];
	unsigned int mlen = 0;
	size_t n;

	memcpy(out, "fs1.", 4);
	n = 4 + b64url_encode((const unsigned char *)payload, strlen(payload), out + 4);
	ck_assert_ptr_nonnull(HMAC(EVP_sha256(), KEY, (int)KEYLEN, (unsigned char *)out, n, mac, &mlen));
	ck_assert_uint_eq(mlen, 32);
	out[n++] = '.';
	b64url_encode(mac, sizeof mac, out + n);
}

static const struct {
	const char	*name;
	const char	*payload;
	int		 rc;
} forged_cases[] = {
	{ "well-formed (control)", "s.user-1.1767225600123.1767229200.AAAAAAAAAAAAAAAAAAAAAA", 0 },
	{ "api kind (control)", "a.user-1.1767225600123.1767229200.AAAAAAAAAAAAAAAAAAAAAA", 0 },
	{ "unknown kind", "x.user-1.1767225600123.1767229200.AAAAAAAAAAAAAAAAAAAAAA", -1 },
	{ "two-letter kind", "ss.user-1.1767225600123.1767229200.AAAAAAAAAAAAAAAAAAAAAA", -1 },
	{ "four fields", "s.user-1.1767225600123.1767229200", -1 },
	{ "empty", "", -1 },
	{ "iat not a number", "s.user-1.yesterday.1767229200.AAAAAAAAAAAAAAAAAAAAAA", -1 },
	{ "exp not a number", "s.user-1.1767225600123.tomorrow.AAAAAAAAAAAAAAAAAAAAAA", -1 },
	{ "negative exp", "s.user-1.1767225600123.-1.AAAAAAAAAAAAAAAAAAAAAA", -1 },
	{ "expired", "s.user-1.1767225600123.1767225600.AAAAAAAAAAAAAAAAAAAAAA", -1 },
	{ "exp with sign", "s.user-1.1767225600123.+1767229200.AAAAAAAAAAAAAAAAAAAAAA", -1 },
	{ "user id too long", "s.0123456789012345678901234567890123456789012345678901234567890123"
	    ".1767225600123.1767229200.AAAAAAAAAAAAAAAAAAAAAA", -1 },
	{ "jti too long", "s.user-1.1767225600123.1767229200.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", -1 },
};

START_TEST(test_token_forged_payloads)
{
	char tok[TOKEN_MAX * 2];
	struct token got;

	forge(forged_cases[_i].payload, tok);
	ck_assert_msg(token_verify(KEY, KEYLEN, tok, NOW_S, &got) == forged_cases[_i].rc,
	    "%s: wrong result", forged_cases[_i].name);
	if (forged_cases[_i].rc == 0)
		ck_assert_str_eq(got.user_id, "user-1");
}
END_TEST

START_TEST(test_token_issue_refuses_bad_user_ids)
{
	char tok[TOKEN_MAX], id[80];
	struct token t;

	ck_assert_int_eq(token_issue(KEY, KEYLEN, TOKEN_SESSION, "a.b", NOW_MS, 60, &t, tok), -1);
	memset(id, 'u', 64);
	id[64] = '\0';
	ck_assert_int_eq(token_issue(KEY, KEYLEN, TOKEN_SESSION, id, NOW_MS, 60, &t, tok), -1);
	id[63] = '\0';		/* 63 characters fit */
	ck_assert_int_eq(token_issue(KEY, KEYLEN, TOKEN_SESSION, id, NOW_MS, 60, &t, tok), 0);
	ck_assert_int_eq(token_verify(KEY, KEYLEN, tok, NOW_S, &t), 0);
	ck_assert_str_eq(t.user_id, id);
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void
cheap_kdf(void)
{
	auth_set_scrypt_cost(10, 8, 1);
}

/* Sealed envelopes: round trip with binary payloads, and refusal of every alteration. */
START_TEST(test_seal_round_trip)
{
	static const unsigned char k[] = "seal-key-0123456789abcdef0123456789";
	const char payload[] = "{\"u\":\"x\"}\0binary\xff";
	struct buf sealed = BUF_INIT, out = BUF_INIT;

	ck_assert_int_eq(auth_seal(k, sizeof k - 1, "upload", payload, sizeof payload, &sealed), 0);
	ck_assert_ptr_null(strpbrk(sealed.data, "/+=?#&"));	/* URL-safe */
	ck_assert_int_eq(auth_unseal(k, sizeof k - 1, "upload", sealed.data, &out), 0);
	ck_assert_uint_eq(out.len, sizeof payload);
	ck_assert_mem_eq(out.data, payload, sizeof payload);
	buf_free(&out);
	/* another purpose or key does not open it */
	ck_assert_int_eq(auth_unseal(k, sizeof k - 1, "session", sealed.data, &out), -1);
	ck_assert_int_eq(auth_unseal(k, sizeof k - 2, "upload", sealed.data, &out), -1);
	buf_free(&out);
	buf_free(&sealed);
}
END_TEST

START_TEST(test_seal_tampered)
{
	static const unsigned char k[] = "seal-key-0123456789abcdef0123456789";
	struct buf sealed = BUF_INIT, out = BUF_INIT;
	char *copy;
	size_t i;

	ck_assert_int_eq(auth_seal(k, sizeof k - 1, "upload", "payload bytes", 13, &sealed), 0);
	copy = xstrdup(sealed.data);
	for (i = 0; i < sealed.len; i++) {
		copy[i] = copy[i] == 'A' ? 'B' : 'A';
		buf_reset(&out);
		ck_assert_msg(auth_unseal(k, sizeof k - 1, "upload", copy, &out) == -1,
		    "a change at %zu was accepted", i);
		copy[i] = sealed.data[i];
	}
	for (i = 0; i < sealed.len; i++) {
		copy[i] = '\0';	/* every truncation */
		buf_reset(&out);
		ck_assert_int_eq(auth_unseal(k, sizeof k - 1, "upload", copy, &out), -1);
		copy[i] = sealed.data[i];
	}
	ck_assert_int_eq(auth_unseal(k, sizeof k - 1, "upload", "", &out), -1);
	ck_assert_int_eq(auth_unseal(k, sizeof k - 1, "upload", ".", &out), -1);
	free(copy);
	buf_free(&out);
	buf_free(&sealed);
}
END_TEST

static Suite *
auth_suite(void)
{
	Suite *s = suite_create("auth");
	TCase *tc;

	/* First: nothing may have lowered the cost yet. */
	tc = tcase_create("default_cost");
	tcase_set_timeout(tc, TU_TIMEOUT);
	tcase_add_test(tc, test_default_cost);
	suite_add_tcase(s, tc);

	tc = tcase_create("password");
	tcase_add_checked_fixture(tc, cheap_kdf, NULL);
	tcase_set_timeout(tc, TU_TIMEOUT);
	tcase_add_test(tc, test_hash_format_lowered_cost);
	tcase_add_loop_test(tc, test_verify_ok_and_wrong, 0, N(hash_pw_cases));
	tcase_add_test(tc, test_different_salts);
	tcase_add_test(tc, test_verify_with_other_cost);
	tcase_add_loop_test(tc, test_verify_malformed, 0, N(malformed_cases));
	tcase_add_test(tc, test_verify_dummy);
	suite_add_tcase(s, tc);

	tc = tcase_create("token");
	tcase_add_test(tc, test_token_round_trip);
	tcase_add_test(tc, test_token_ttls);
	tcase_add_test(tc, test_token_unique);
	tcase_add_test(tc, test_token_expiry);
	tcase_add_test(tc, test_token_wrong_key);
	tcase_add_test(tc, test_token_tampered_anywhere);
	tcase_add_test(tc, test_token_spliced);
	tcase_add_test(tc, test_token_truncated);
	tcase_add_test(tc, test_token_extended);
	tcase_add_test(tc, test_token_wrong_prefix);
	tcase_add_loop_test(tc, test_token_garbage, 0, N(garbage_cases));
	tcase_add_test(tc, test_token_too_long);
	tcase_add_loop_test(tc, test_token_forged_payloads, 0, N(forged_cases));
	tcase_add_test(tc, test_token_issue_refuses_bad_user_ids);
	suite_add_tcase(s, tc);

	tc = tcase_create("seal");
	tcase_add_test(tc, test_seal_round_trip);
	tcase_add_test(tc, test_seal_tampered);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(auth_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
