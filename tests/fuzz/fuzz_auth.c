/*
 * fuzz_auth: session/API token verification and sealed envelopes (src/auth.c).
 *
 * A MAC check stops random bytes at the door, so the target also signs what the fuzzer
 * writes, with the right key, to reach the parsing behind the MAC: a fuzzed payload becomes
 * "fs1." b64url(payload) "." b64url(HMAC) for token_verify, and auth_seal wraps fuzzed bytes
 * for auth_unseal.
 *
 * Input: a selector byte, then the string (token, envelope or payload).
 * Checks, beyond no crash or leak:
 *  - a raw string never verifies (no signature is guessable) and never unseals;
 *  - a genuinely signed payload verifies only with a well-formed result (kind 's' or 'a',
 *    user id and jti NUL-terminated within their arrays, expiry in the future), and a token
 *    issued for any user id verifies back to the same fields;
 *  - changing any one character of a valid token or envelope makes it fail;
 *  - an envelope unseals to exactly the sealed bytes, and never under another purpose.
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "fuzz.h"

#include "auth.h"
#include "buf.h"
#include "encode.h"

static const unsigned char key[] = "fuzz-session-secret-0123456789abcdefghijkl";
#define KEYLEN (sizeof key - 1)
#define NOW	INT64_C(1767225600)

/* Flips one character of s (at pos % len) to another base64url character. */
static void
mutate(char *s, size_t len, size_t pos)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
	char c;
	size_t i = pos % len;

	c = s[i];
	s[i] = alphabet[(strchr(alphabet, c) ? (size_t)(strchr(alphabet, c) - alphabet) + 1 + pos % 7 : pos) % (sizeof alphabet - 1)];
	if (s[i] == c)
		s[i] = c == 'A' ? 'B' : 'A';
}

static void
check_token_fields(const struct token *t)
{
	FUZZ_CHECK(t->kind == TOKEN_SESSION || t->kind == TOKEN_API);
	FUZZ_CHECK(memchr(t->user_id, '\0', sizeof t->user_id) != NULL);
	FUZZ_CHECK(memchr(t->jti, '\0', sizeof t->jti) != NULL);
	FUZZ_CHECK(t->exp > NOW);
}

/* "fs1." b64url(payload) "." b64url(mac) into out; false if it would not fit. */
static bool
sign_payload(const uint8_t *p, size_t n, char *out, size_t outlen)
{
	unsigned char sig[32];
	unsigned int slen = 0;
	size_t k;

	if (4 + (n + 2) / 3 * 4 + 1 + 44 + 1 > outlen)
		return false;
	memcpy(out, "fs1.", 4);
	k = 4 + b64url_encode(p, n, out + 4);
	FUZZ_CHECK(HMAC(EVP_sha256(), key, (int)KEYLEN, (unsigned char *)out, k, sig, &slen) != NULL);
	out[k++] = '.';
	b64url_encode(sig, sizeof sig, out + k);
	return true;
}

static void
tokens(uint8_t sel, const uint8_t *p, size_t n)
{
	char *raw = fuzz_strndup(p, n), tok_s[1024], uid[128];
	struct token tok, back;

	/* Raw: never genuine. */
	FUZZ_CHECK(token_verify(key, KEYLEN, raw, NOW, &tok) == -1);
	/* Signed with the right key: the payload parser behind the MAC. */
	if (sign_payload(p, n, tok_s, sizeof tok_s) && token_verify(key, KEYLEN, tok_s, NOW, &tok) == 0) {
		check_token_fields(&tok);
		FUZZ_CHECK(strlen(tok_s) < TOKEN_MAX);
		mutate(tok_s, strlen(tok_s), sel);
		FUZZ_CHECK(token_verify(key, KEYLEN, tok_s, NOW, &back) == -1);
	}
	/* Issue and verify a token for a fuzzed user id. */
	snprintf(uid, sizeof uid, "%s", raw);
	/* (token_issue also signs an empty user id, which no token_verify accepts: harmless,
	 * since account ids are UUIDs, but not a round trip.) */
	if (uid[0] != '\0' && token_issue(key, KEYLEN, sel & 1 ? TOKEN_API : TOKEN_SESSION, uid, NOW * 1000,
	    SESSION_TTL_S, &tok, tok_s) == 0) {
		FUZZ_CHECK(token_verify(key, KEYLEN, tok_s, NOW, &back) == 0);
		check_token_fields(&back);
		FUZZ_CHECK(!strcmp(back.user_id, uid) && !strcmp(back.jti, tok.jti));
		FUZZ_CHECK(back.kind == tok.kind && back.exp == tok.exp && back.iat_ms == tok.iat_ms);
		FUZZ_CHECK(token_verify(key, KEYLEN, tok_s, tok.exp, &back) == -1);	/* expired */
		FUZZ_CHECK(token_verify(key, KEYLEN - 1, tok_s, NOW, &back) == -1);	/* other key */
		mutate(tok_s, strlen(tok_s), (size_t)sel * 31 + n);
		FUZZ_CHECK(token_verify(key, KEYLEN, tok_s, NOW, &back) == -1);
	}
	free(raw);
}

static void
envelopes(uint8_t sel, const uint8_t *p, size_t n)
{
	char *raw = fuzz_strndup(p, n);
	struct buf out = BUF_INIT, env = BUF_INIT;
	char *copy;

	FUZZ_CHECK(auth_unseal(key, KEYLEN, "upload", raw, &out) == -1);
	buf_reset(&out);
	buf_appends(&env, "x");	/* appends after what is there */
	FUZZ_CHECK(auth_seal(key, KEYLEN, "upload", p, n, &env) == 0);
	FUZZ_CHECK(env.data[0] == 'x');
	FUZZ_CHECK(strlen(env.data) == env.len);
	FUZZ_CHECK(auth_unseal(key, KEYLEN, "upload", env.data + 1, &out) == 0);
	FUZZ_CHECK(out.len == n && (n == 0 || !memcmp(out.data, p, n)));
	buf_reset(&out);
	FUZZ_CHECK(auth_unseal(key, KEYLEN, "session", env.data + 1, &out) == -1);
	copy = strdup(env.data + 1);
	mutate(copy, strlen(copy), (size_t)sel * 131 + n);
	buf_reset(&out);
	FUZZ_CHECK(auth_unseal(key, KEYLEN, "upload", copy, &out) == -1);
	free(copy);
	buf_free(&out);
	buf_free(&env);
	free(raw);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t sel = fuzz_byte(&in);

	if (sel & 0x80)
		envelopes(sel, in.p, in.n);
	else
		tokens(sel, in.p, in.n);
	return 0;
}
