/*
 * store: the metadata interface both backends implement (SQLite file, DynamoDB). Handlers see
 * only these functions and structs, never a backend. A backend is a struct of function
 * pointers (struct store_backend) exported by its file; store_open() alone picks one.
 *
 * Every function returns enum store_rc. STORE_CONFLICT means a condition the caller asked for
 * did not hold (email taken, trial already used); STORE_UNAVAILABLE means the backend could not
 * answer (logged where the detail is known) and maps to HTTP 503.
 */
#ifndef FS_STORE_H
#define FS_STORE_H
#include <stdbool.h>
#include <stdint.h>

#include "config.h"

enum store_rc { STORE_OK = 0, STORE_NOT_FOUND, STORE_CONFLICT, STORE_UNAVAILABLE };

#define USER_ID_MAX	40
#define EMAIL_MAX	255	/* RFC 5321 path limit 254 + NUL */

struct user {
	char	 user_id[USER_ID_MAX];
	char	 email[EMAIL_MAX];
	char	 password_hash[192];
	enum tier tier;			/* stored tier; see trial.h for the effective one */
	bool	 trial_used;
	int64_t	 trial_started_at;	/* epoch seconds, 0 if never */
	int64_t	 trial_expires_at;
	int64_t	 sessions_valid_after_ms;	/* tokens issued at or before this are void */
	int64_t	 created_at;
	int64_t	 updated_at;
};

struct store;

struct store_backend {
	const char *name;
	struct store *(*open)(const struct config *);	/* NULL on failure (logged) */
	void	(*close)(struct store *);
	enum store_rc (*ping)(struct store *);
	enum store_rc (*user_create)(struct store *, const struct user *);
	enum store_rc (*user_get)(struct store *, const char *user_id, struct user *);
	enum store_rc (*user_get_by_email)(struct store *, const char *email, struct user *);
	enum store_rc (*user_start_trial)(struct store *, const char *user_id, int64_t started,
		    int64_t expires);
	enum store_rc (*user_set_tier)(struct store *, const char *user_id, enum tier, int64_t now);
	enum store_rc (*user_revoke_sessions)(struct store *, const char *user_id, int64_t after_ms,
		    int64_t now);
	enum store_rc (*token_revoke)(struct store *, const char *jti, int64_t expires);
	enum store_rc (*token_is_revoked)(struct store *, const char *jti, bool *revoked);
};

/* The handle every caller holds: its backend and that backend's private state. */
struct store {
	const struct store_backend *backend;
};

extern const struct store_backend store_backend_sqlite;

/* Opens the backend cfg selects (USE_DYNAMODB). NULL on failure, logged. */
struct store	*store_open(const struct config *cfg);
void		 store_close(struct store *);	/* NULL is a no-op */
const char	*store_rc_str(enum store_rc);

#define store_ping(s)			((s)->backend->ping(s))
#define store_user_create(s, u)		((s)->backend->user_create((s), (u)))
#define store_user_get(s, id, u)	((s)->backend->user_get((s), (id), (u)))
#define store_user_get_by_email(s, e, u) ((s)->backend->user_get_by_email((s), (e), (u)))
#define store_user_start_trial(s, id, a, b) ((s)->backend->user_start_trial((s), (id), (a), (b)))
#define store_user_set_tier(s, id, t, n) ((s)->backend->user_set_tier((s), (id), (t), (n)))
#define store_user_revoke_sessions(s, id, a, n) ((s)->backend->user_revoke_sessions((s), (id), (a), (n)))
#define store_token_revoke(s, j, e)	((s)->backend->token_revoke((s), (j), (e)))
#define store_token_is_revoked(s, j, r)	((s)->backend->token_is_revoked((s), (j), (r)))

#endif
