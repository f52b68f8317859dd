/*
 * app: turns one struct request into one struct response. Routing (a table of paths,
 * methods, body limits and authentication needs), authentication from the session cookie or
 * a bearer token, the CSRF check, JSON body parsing, and the access-log line all live here;
 * handlers (handlers_*.c) see a struct ctx with validated inputs and the signed-in user.
 */
#ifndef FS_APP_H
#define FS_APP_H
#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "auth.h"
#include "config.h"
#include "http.h"
#include "blob.h"
#include "store.h"

#define SESSION_COOKIE	"fs_session"
#define JSON_BODY_LIMIT	(64 * 1024)

/* What a worker keeps for its whole life. */
struct app {
	const struct config	*cfg;
	struct store		*store;
	struct blob		*blob;
};

struct ctx {
	struct app	*app;
	struct request	*req;
	struct response	*resp;
	int64_t		 now_ms;
	int64_t		 now;		/* seconds */
	bool		 authed;
	bool		 bearer;	/* authenticated by Authorization: Bearer */
	struct user	 user;		/* valid when authed */
	struct token	 token;		/* valid when authed */
	const char	*param;		/* the path's {param} segment, still percent-encoded */
};

typedef void (*handler_fn)(struct ctx *);

/* Handles one request. Never fails: every outcome is a response. */
void	app_handle(struct app *, struct request *, struct response *);
/* Is req a link open (GET or HEAD /{code}), which app_handle_group can answer with others? */
bool	app_groupable(const struct request *);
/* Does the store gain from groups (SQLite: one transaction)? If not (DynamoDB: one call per
 * open whatever happens), each open is answered as soon as it is done. */
bool	app_groups(const struct app *);
/* Handles n groupable requests in one store group (one SQLite transaction): every response is
 * final only once the group has committed; if it cannot, all n are answered 503. */
void	app_handle_group(struct app *, struct request *, struct response *, size_t n);

/* For handlers: reads the body as a JSON object (NULL after answering 400/413 itself). */
json_object *app_json_body(struct ctx *);
/* Member key of a JSON body as text (strings as they are, integers in decimal) into out:
 * 0 if absent or null, 1 if present, -1 if of another type. */
int	app_json_text(json_object *obj, const char *key, struct buf *out);
/* Sends obj as the JSON body with status; takes ownership of obj. */
void	app_send_json(struct ctx *, int status, json_object *obj);
/* Maps a store failure to 503 (unavailable) or 500. */
void	app_store_error(struct ctx *, enum store_rc);
/* Adds the session cookie (or, with token NULL, the header that clears it). */
void	app_set_session_cookie(struct ctx *, const char *token, int64_t max_age);

/* Handlers (one line each here; the statuses they answer are in their files). */
void	h_healthz(struct ctx *);
void	h_readyz(struct ctx *);
void	h_signup(struct ctx *);
void	h_login(struct ctx *);
void	h_logout(struct ctx *);
void	h_token_create(struct ctx *);
void	h_me(struct ctx *);
void	h_trial_start(struct ctx *);
void	h_link_create(struct ctx *);
void	h_file_put(struct ctx *);
void	h_file_post(struct ctx *);
void	h_links_list(struct ctx *);
void	h_link_get(struct ctx *);
void	h_link_delete(struct ctx *);
void	h_link_qr(struct ctx *);
void	h_upload_create(struct ctx *);
void	h_upload_complete(struct ctx *);
void	h_open(struct ctx *);
void	h_open_unlock(struct ctx *);

/* True if code has the shape of a short code or slug (so it may be looked up). */
bool	app_code_ok(const char *code);

#endif
