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
#include "timeutil.h"

enum store_rc {
	STORE_OK = 0,
	STORE_NOT_FOUND,
	STORE_CONFLICT,		/* a condition failed: email or code taken, trial used */
	STORE_UNAVAILABLE,	/* the backend could not answer */
	STORE_GONE,		/* the link exists but expired or reached max_clicks */
	STORE_QUOTA,		/* the owner already has the maximum of active links */
};

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

#define CODE_MAX	65	/* short code or custom slug, plus NUL */
#define BLOB_KEY_MAX	64

/*
 * A link. A URL link has full_url; a file link has file_key (the blob), filename, file_size
 * and content_type. max_clicks 0 means unlimited. Strings are owned by the struct; free with
 * link_free (the struct itself is the caller's).
 */
struct link {
	char	 short_code[CODE_MAX];
	char	*full_url;		/* NULL for file links */
	char	 created_by_user[USER_ID_MAX];
	int64_t	 created_at;
	int64_t	 expires_at;
	int64_t	 max_clicks;
	int64_t	 click_count;
	char	 file_key[BLOB_KEY_MAX];	/* "" for URL links */
	char	*filename;
	uint64_t file_size;
	char	*content_type;
	char	*password_hash;		/* NULL if not protected */
};

/* A page of a user's links, newest first. next_cursor is "" on the last page. */
struct link_page {
	struct link	*links;
	size_t		 n;
	char		 next_cursor[128];
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

	/* Inserts all n links or none: CONFLICT if any code is taken, QUOTA if the owner would
	 * have more than max_active active links at now (a link is active from its creation
	 * until it expires or is deleted, out of clicks or not). */
	enum store_rc (*links_create)(struct store *, const struct link *, size_t n,
		    int64_t max_active, int64_t now);
	/* Reads a link whatever its state (expired ones too). */
	enum store_rc (*link_get)(struct store *, const char *code, struct link *);
	/* One click, atomically: counts it and returns the link if it is live at now;
	 * NOT_FOUND if unknown, GONE if expired or out of clicks (nothing counted). A
	 * password-protected link is counted only when unlocked (the caller checked the
	 * password); otherwise it is returned uncounted with password_hash set. */
	enum store_rc (*link_open)(struct store *, const char *code, int64_t now, bool unlocked,
		    struct link *);
	/* The owner's links that have not expired at now, newest first; cursor "" = first page. */
	enum store_rc (*links_list)(struct store *, const char *user_id, int64_t now,
		    const char *cursor, size_t limit, struct link_page *);
	/* Deletes the owner's link, returning it in out (for its blob); NOT_FOUND if the code is
	 * unknown or someone else's. */
	enum store_rc (*link_delete)(struct store *, const char *code, const char *user_id,
		    struct link *out);
	/* Deletes up to limit links that expired before now, returning them (caller frees the
	 * page). */
	enum store_rc (*links_purge_expired)(struct store *, int64_t now, size_t limit,
		    struct link_page *);
	/* Calls fn(ctx, file_key) for the blob key of every file link, in any state; fn returns
	 * -1 to stop. One pass over the links (purge builds its set of live blobs from it). */
	enum store_rc (*links_each_file_key)(struct store *, int (*fn)(void *ctx, const char *key),
		    void *ctx);
	/* Optional (NULL: nothing to group). Between group_begin and group_end the link_open
	 * calls of several requests share one transaction; group_end commits it, and when it
	 * fails none of them happened (the caller answers them all with an error). */
	enum store_rc (*group_begin)(struct store *);
	enum store_rc (*group_end)(struct store *);
	/* Optional: housekeeping a helper process runs every few hundred ms, off the request
	 * path (SQLite: the WAL checkpoint, see store_sqlite.c). */
	enum store_rc (*checkpoint)(struct store *);
};

/* The handle every caller holds: its backend and that backend's private state. */
struct store {
	const struct store_backend *backend;
};

extern const struct store_backend store_backend_sqlite;
extern const struct store_backend store_backend_dynamodb;

/* Opens the backend cfg selects (USE_DYNAMODB). NULL on failure, logged. */
struct store	*store_open(const struct config *cfg);
void		 store_close(struct store *);	/* NULL is a no-op */
const char	*store_rc_str(enum store_rc);
void		 link_free(struct link *);		/* frees the strings; NULL ok */
void		 link_copy(struct link *dst, const struct link *src);	/* strings of its own */
void		 link_page_free(struct link_page *);	/* frees every link and the array */
/* The listing cursor both backends give out: base64url of "<created_at>|<short_code>" of the
 * last link of a page, opaque to clients. parse: 0, or -1 if s is not one. */
void		 store_cursor_make(const struct link *, char out[128]);
int		 store_cursor_parse(const char *s, char created[RFC3339_LEN], char code[CODE_MAX]);
/* A link is live when it has not expired and has clicks left. */
bool		 link_is_live(const struct link *, int64_t now);

#define store_ping(s)			((s)->backend->ping(s))
#define store_user_create(s, u)		((s)->backend->user_create((s), (u)))
#define store_user_get(s, id, u)	((s)->backend->user_get((s), (id), (u)))
#define store_user_get_by_email(s, e, u) ((s)->backend->user_get_by_email((s), (e), (u)))
#define store_user_start_trial(s, id, a, b) ((s)->backend->user_start_trial((s), (id), (a), (b)))
#define store_user_set_tier(s, id, t, n) ((s)->backend->user_set_tier((s), (id), (t), (n)))
#define store_user_revoke_sessions(s, id, a, n) ((s)->backend->user_revoke_sessions((s), (id), (a), (n)))
#define store_token_revoke(s, j, e)	((s)->backend->token_revoke((s), (j), (e)))
#define store_token_is_revoked(s, j, r)	((s)->backend->token_is_revoked((s), (j), (r)))
#define store_links_create(s, l, n, m, t) ((s)->backend->links_create((s), (l), (n), (m), (t)))
#define store_link_get(s, c, l)		((s)->backend->link_get((s), (c), (l)))
#define store_link_open(s, c, t, u, l)	((s)->backend->link_open((s), (c), (t), (u), (l)))
#define store_links_list(s, u, t, c, n, p) ((s)->backend->links_list((s), (u), (t), (c), (n), (p)))
#define store_link_delete(s, c, u, l)	((s)->backend->link_delete((s), (c), (u), (l)))
#define store_links_purge_expired(s, t, n, p) ((s)->backend->links_purge_expired((s), (t), (n), (p)))
#define store_links_each_file_key(s, f, c) ((s)->backend->links_each_file_key((s), (f), (c)))
#define store_groups(s)		((s)->backend->group_begin != NULL)
#define store_group_begin(s)	((s)->backend->group_begin ? (s)->backend->group_begin(s) : STORE_OK)
#define store_group_end(s)	((s)->backend->group_end ? (s)->backend->group_end(s) : STORE_OK)
#define store_checkpoint(s)	((s)->backend->checkpoint ? (s)->backend->checkpoint(s) : STORE_OK)

#endif
