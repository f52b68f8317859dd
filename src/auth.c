#include "auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "encode.h"
#include "log.h"
#include "num.h"

#define SALT_LEN	16
#define HASH_LEN	32

static unsigned cost_ln = 15, cost_r = 8, cost_p = 3;
static EVP_KDF *scrypt_kdf;	/* fetched once per process, kept for its life */

void
auth_set_scrypt_cost(unsigned ln, unsigned r, unsigned p)
{
	cost_ln = ln;
	cost_r = r;
	cost_p = p;
}

static int
scrypt(const char *pw, size_t pwlen, const unsigned char *salt, size_t saltlen, unsigned ln,
    unsigned r, unsigned p, unsigned char *out, size_t outlen)
{
	EVP_KDF_CTX *kctx;
	OSSL_PARAM params[7];
	uint64_t n = (uint64_t)1 << ln, maxmem = 128ULL * r * n * (p + 1) + (16 << 20);
	uint32_t r32 = r, p32 = p;
	int rc;

	if (scrypt_kdf == NULL && (scrypt_kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL)) == NULL) {
		log_errorx("EVP_KDF_fetch(SCRYPT) failed");
		return -1;
	}
	if ((kctx = EVP_KDF_CTX_new(scrypt_kdf)) == NULL)
		return -1;
	params[0] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)pw, pwlen);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, saltlen);
	params[2] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n);
	params[3] = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r32);
	params[4] = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p32);
	params[5] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem);
	params[6] = OSSL_PARAM_construct_end();
	rc = EVP_KDF_derive(kctx, out, outlen, params) == 1 ? 0 : -1;
	EVP_KDF_CTX_free(kctx);
	if (rc == -1)
		log_errorx("scrypt derivation failed (ln=%u r=%u p=%u)", ln, r, p);
	return rc;
}

int
password_hash(const char *pw, size_t pwlen, char out[PASSWORD_HASH_MAX])
{
	unsigned char salt[SALT_LEN], hash[HASH_LEN];
	char s64[32], h64[48];

	random_bytes(salt, sizeof salt);
	if (scrypt(pw, pwlen, salt, sizeof salt, cost_ln, cost_r, cost_p, hash, sizeof hash) == -1)
		return -1;
	b64url_encode(salt, sizeof salt, s64);
	b64url_encode(hash, sizeof hash, h64);
	snprintf(out, PASSWORD_HASH_MAX, "$scrypt$ln=%u,r=%u,p=%u$%s$%s", cost_ln, cost_r, cost_p,
	    s64, h64);
	OPENSSL_cleanse(hash, sizeof hash);
	return 0;
}

/* Splits "$scrypt$ln=X,r=Y,p=Z$salt$hash"; -1 on anything unexpected. */
static int
parse_hash(const char *stored, unsigned *ln, unsigned *r, unsigned *p, unsigned char *salt,
    size_t *saltlen, unsigned char *hash)
{
	char copy[PASSWORD_HASH_MAX], *f[5], *s;
	int64_t v[3];
	long n;
	int i;

	if (strlen(stored) >= sizeof copy || strncmp(stored, "$scrypt$", 8))
		return -1;
	strcpy(copy, stored + 1);
	/* Exactly four '$'-separated fields, none empty ("scrypt", params, salt, hash). */
	for (i = 0, s = copy; i < 4; i++) {
		f[i] = s;
		s = strchr(s, '$');
		if (i < 3) {
			if (s == NULL)
				return -1;
			*s++ = '\0';
		} else if (s != NULL)
			return -1;
		if (*f[i] == '\0')
			return -1;
	}
	if (strncmp(f[1], "ln=", 3))
		return -1;
	{
		char *a = f[1] + 3, *b = strstr(a, ",r="), *c;
		if (b == NULL || (c = strstr(b + 3, ",p=")) == NULL)
			return -1;
		*b = '\0';
		*c = '\0';
		if (num_parse_i64(a, 1, 30, &v[0]) || num_parse_i64(b + 3, 1, 64, &v[1]) ||
		    num_parse_i64(c + 3, 1, 64, &v[2]))
			return -1;
	}
	*ln = (unsigned)v[0];
	*r = (unsigned)v[1];
	*p = (unsigned)v[2];
	if ((n = b64url_decode(f[2], strlen(f[2]), salt, 64)) < 8)
		return -1;
	*saltlen = (size_t)n;
	if (b64url_decode(f[3], strlen(f[3]), hash, HASH_LEN) != HASH_LEN)
		return -1;
	return 0;
}

int
password_verify(const char *pw, size_t pwlen, const char *stored)
{
	unsigned char salt[64], want[HASH_LEN], got[HASH_LEN];
	unsigned ln, r, p;
	size_t saltlen;
	int rc;

	if (parse_hash(stored, &ln, &r, &p, salt, &saltlen, want) == -1) {
		log_errorx("stored password hash is malformed");
		return -1;
	}
	if (scrypt(pw, pwlen, salt, saltlen, ln, r, p, got, sizeof got) == -1)
		return -1;
	rc = CRYPTO_memcmp(want, got, HASH_LEN) == 0;
	OPENSSL_cleanse(got, sizeof got);
	return rc;
}

void
password_verify_dummy(const char *pw, size_t pwlen)
{
	unsigned char salt[SALT_LEN] = { 0 }, got[HASH_LEN];

	(void)scrypt(pw, pwlen, salt, sizeof salt, cost_ln, cost_r, cost_p, got, sizeof got);
	OPENSSL_cleanse(got, sizeof got);
}

#define TOKEN_PREFIX "fs1."

static int
mac(const unsigned char *key, size_t keylen, const char *msg, size_t len, unsigned char out[32])
{
	unsigned int olen = 0;

	if (HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, len, out, &olen) == NULL ||
	    olen != 32)
		return -1;
	return 0;
}

int
token_issue(const unsigned char *key, size_t keylen, enum token_kind kind, const char *user_id,
    int64_t now_ms, int64_t ttl_s, struct token *tok, char out[TOKEN_MAX])
{
	unsigned char jti_raw[16], sig[32];
	char payload[160], *p;
	size_t n;
	int len;

	if (strlen(user_id) >= sizeof tok->user_id || strchr(user_id, '.') != NULL)
		return -1;
	memset(tok, 0, sizeof *tok);
	tok->kind = (char)kind;
	snprintf(tok->user_id, sizeof tok->user_id, "%s", user_id);
	tok->iat_ms = now_ms;
	tok->exp = now_ms / 1000 + ttl_s;
	random_bytes(jti_raw, sizeof jti_raw);
	b64url_encode(jti_raw, sizeof jti_raw, tok->jti);
	len = snprintf(payload, sizeof payload, "%c.%s.%lld.%lld.%s", tok->kind, tok->user_id,
	    (long long)tok->iat_ms, (long long)tok->exp, tok->jti);
	if (len < 0 || (size_t)len >= sizeof payload)
		return -1;
	/* TOKEN_PREFIX + b64(payload) + "." + b64(mac) fits: 4 + 214 + 1 + 43 < 256 */
	p = out;
	memcpy(p, TOKEN_PREFIX, 4);
	p += 4;
	n = b64url_encode((unsigned char *)payload, (size_t)len, p);
	p += n;
	if (mac(key, keylen, out, (size_t)(p - out), sig) == -1)
		return -1;
	*p++ = '.';
	b64url_encode(sig, sizeof sig, p);
	return 0;
}

int
token_verify(const unsigned char *key, size_t keylen, const char *s, int64_t now_s,
    struct token *tok)
{
	unsigned char want[32], got[32];
	char payload[200], *f[5], *save = NULL, *q;
	const char *dot;
	int64_t iat, exp;
	long n;
	int i;

	if (strlen(s) >= TOKEN_MAX || strncmp(s, TOKEN_PREFIX, 4) ||
	    (dot = strchr(s + 4, '.')) == NULL)
		return -1;
	if (b64url_decode(dot + 1, strlen(dot + 1), got, sizeof got) != 32)
		return -1;
	if (mac(key, keylen, s, (size_t)(dot - s), want) == -1)
		return -1;
	if (CRYPTO_memcmp(want, got, 32) != 0)
		return -1;
	n = b64url_decode(s + 4, (size_t)(dot - s - 4), (unsigned char *)payload, sizeof payload - 1);
	if (n < 0)
		return -1;
	payload[n] = '\0';
	for (i = 0, q = payload; i < 5; i++, q = NULL)
		if ((f[i] = strtok_r(q, ".", &save)) == NULL)
			return -1;
	if (strlen(f[0]) != 1 || (f[0][0] != TOKEN_SESSION && f[0][0] != TOKEN_API) ||
	    strlen(f[1]) >= sizeof tok->user_id || strlen(f[4]) >= sizeof tok->jti ||
	    num_parse_i64(f[2], 0, INT64_MAX, &iat) || num_parse_i64(f[3], 0, INT64_MAX, &exp))
		return -1;
	if (exp <= now_s)
		return -1;
	memset(tok, 0, sizeof *tok);
	tok->kind = f[0][0];
	strcpy(tok->user_id, f[1]);
	tok->iat_ms = iat;
	tok->exp = exp;
	strcpy(tok->jti, f[4]);
	return 0;
}

/* The MAC of an envelope covers the purpose and the encoded payload. */
static int
seal_mac(const unsigned char *key, size_t keylen, const char *purpose, const char *enc,
    size_t enclen, unsigned char out[32])
{
	struct buf msg = BUF_INIT;
	int rc;

	buf_printf(&msg, "fs-seal-v1|%s|", purpose);
	buf_append(&msg, enc, enclen);
	rc = mac(key, keylen, msg.data, msg.len, out);
	buf_free(&msg);
	return rc;
}

int
auth_seal(const unsigned char *key, size_t keylen, const char *purpose, const void *payload,
    size_t len, struct buf *out)
{
	unsigned char sig[32];
	size_t start = out->len, n;
	char tail[48];

	buf_grow(out, len / 3 * 4 + 8);
	n = b64url_encode(payload, len, out->data + out->len);
	out->len += n;
	if (seal_mac(key, keylen, purpose, out->data + start, n, sig) == -1) {
		out->len = start;
		out->data[start] = '\0';
		return -1;
	}
	tail[0] = '.';
	b64url_encode(sig, sizeof sig, tail + 1);
	buf_appends(out, tail);
	return 0;
}

int
auth_unseal(const unsigned char *key, size_t keylen, const char *purpose, const char *s,
    struct buf *out)
{
	unsigned char want[32], got[32];
	const char *dot = strrchr(s, '.');
	size_t enclen;
	long n;

	if (dot == NULL || b64url_decode(dot + 1, strlen(dot + 1), got, sizeof got) != 32)
		return -1;
	enclen = (size_t)(dot - s);
	if (seal_mac(key, keylen, purpose, s, enclen, want) == -1 ||
	    CRYPTO_memcmp(want, got, sizeof want) != 0)
		return -1;
	buf_grow(out, enclen);
	n = b64url_decode(s, enclen, (unsigned char *)out->data + out->len, enclen);
	if (n < 0)
		return -1;
	out->len += (size_t)n;
	out->data[out->len] = '\0';
	return 0;
}
