/*
 * auth: password hashing (OpenSSL scrypt, self-describing strings so the cost can be raised
 * later) and signed session/API tokens (HMAC-SHA256, verified in constant time).
 * Pure functions over their arguments: no store, no clock (times are passed in).
 */
#ifndef FS_AUTH_H
#define FS_AUTH_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define PASSWORD_MIN_LEN	10
#define PASSWORD_MAX_LEN	1024
#define PASSWORD_HASH_MAX	192	/* bytes, including the NUL */
#define TOKEN_MAX		256
#define SESSION_TTL_S		(14 * 24 * 3600)
#define API_TOKEN_TTL_S		(90 * 24 * 3600)

/* scrypt cost: log2(N), r, p. The defaults are 15, 8, 3; tests may lower them. */
void	auth_set_scrypt_cost(unsigned ln, unsigned r, unsigned p);

/* Hashes pw into out ("$scrypt$ln=15,r=8,p=3$salt$hash"). 0 or -1 (KDF failure, logged). */
int	password_hash(const char *pw, size_t pwlen, char out[PASSWORD_HASH_MAX]);
/* 1 if pw matches stored, 0 if not, -1 if stored is malformed or the KDF failed. */
int	password_verify(const char *pw, size_t pwlen, const char *stored);
/* Burns the same time as a verification, for logins with an unknown email. */
void	password_verify_dummy(const char *pw, size_t pwlen);

enum token_kind { TOKEN_SESSION = 's', TOKEN_API = 'a' };

struct token {
	char	 kind;		/* enum token_kind */
	char	 user_id[64];
	int64_t	 iat_ms;	/* issue time, milliseconds since the epoch */
	int64_t	 exp;		/* expiry, seconds since the epoch */
	char	 jti[32];	/* random id, for revoking this one token */
};

/* Signs a new token for user_id into out. jti is generated here. 0 or -1. */
int	token_issue(const unsigned char *key, size_t keylen, enum token_kind kind,
	    const char *user_id, int64_t now_ms, int64_t ttl_s, struct token *tok,
	    char out[TOKEN_MAX]);
/* 0 if s carries a valid signature and has not expired at now_s; -1 otherwise. */
int	token_verify(const unsigned char *key, size_t keylen, const char *s, int64_t now_s,
	    struct token *tok);

/*
 * Sealed envelopes: a payload (any bytes, e.g. JSON) made tamper-evident with HMAC-SHA256
 * under a purpose label, so a sealed upload ticket can never pass as a session token. The
 * result is base64url(payload) "." base64url(mac), URL-safe. The payload is readable by the
 * holder: put nothing secret in it.
 */
/* Appends the envelope to out; -1 if the HMAC fails. */
int	auth_seal(const unsigned char *key, size_t keylen, const char *purpose,
	    const void *payload, size_t len, struct buf *out);
/* Verifies s and appends its payload to out. 0, or -1 if malformed or not genuine. */
int	auth_unseal(const unsigned char *key, size_t keylen, const char *purpose, const char *s,
	    struct buf *out);

#endif
