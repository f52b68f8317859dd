/*
 * handlers_account: sign-up, sign-in, sign-out, API tokens, the account view and the trial.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "app.h"
#include "encode.h"
#include "log.h"
#include "timeutil.h"
#include "trial.h"
#include "validate.h"
#include "views.h"

/* Reads the string member key of obj; NULL if absent or not a string. */
static const char *
str_member(json_object *obj, const char *key, size_t *len)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	*len = (size_t)json_object_get_string_len(v);
	return json_object_get_string(v);
}

/* Issues a session token for u and sets the cookie. -1 after answering 500. */
static int
start_session(struct ctx *c, const struct user *u)
{
	const struct config *cfg = c->app->cfg;
	char tok[TOKEN_MAX];
	struct token t;

	if (token_issue(cfg->session_secret, cfg->session_secret_len, TOKEN_SESSION, u->user_id,
	    c->now_ms, SESSION_TTL_S, &t, tok) == -1) {
		resp_error(c->resp, 500, "internal", "Could not create a session.");
		return -1;
	}
	app_set_session_cookie(c, tok, SESSION_TTL_S);
	OPENSSL_cleanse(tok, sizeof tok);
	return 0;
}

static void
new_user_id(char out[USER_ID_MAX])
{
	unsigned char r[16];
	char h[33];

	random_bytes(r, sizeof r);
	r[6] = (r[6] & 0x0f) | 0x40;	/* UUID version 4 */
	r[8] = (r[8] & 0x3f) | 0x80;	/* RFC 4122 variant */
	hex_encode(r, sizeof r, h);
	snprintf(out, USER_ID_MAX, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

/* POST /api/auth/signup {email, password}: 201 signed in; 400 invalid_email/weak_password/
 * invalid_json; 409 email_taken; 503 store down. */
void
h_signup(struct ctx *c)
{
	json_object *body = app_json_body(c);
	const char *email, *pw;
	size_t elen, pwlen;
	struct user u;
	enum store_rc rc;

	if (body == NULL)
		return;
	memset(&u, 0, sizeof u);
	email = str_member(body, "email", &elen);
	pw = str_member(body, "password", &pwlen);
	if (email == NULL || validate_email(email, elen, u.email, sizeof u.email) == -1) {
		resp_error(c->resp, 400, "invalid_email", "Enter a valid email address, like name@example.com.");
		goto done;
	}
	if (pw == NULL || validate_password(pw, pwlen) == -1) {
		resp_error(c->resp, 400, "weak_password",
		    "Choose a password of at least %d characters (and at most %d bytes).",
		    PASSWORD_MIN_LEN, PASSWORD_MAX_LEN);
		goto done;
	}
	new_user_id(u.user_id);
	if (password_hash(pw, pwlen, u.password_hash) == -1) {
		resp_error(c->resp, 500, "internal", "Could not secure the password; try again.");
		goto done;
	}
	u.tier = TIER_FREE;
	u.created_at = u.updated_at = c->now;
	rc = store_user_create(c->app->store, &u);
	if (rc == STORE_CONFLICT) {
		resp_error(c->resp, 409, "email_taken",
		    "An account with this email already exists; sign in instead.");
		goto done;
	}
	if (rc != STORE_OK) {
		app_store_error(c, rc);
		goto done;
	}
	log_info("new account %s", u.user_id);
	if (start_session(c, &u) == 0)
		app_send_json(c, 201, view_account(c->app->cfg, &u, c->now));
done:
	OPENSSL_cleanse(u.password_hash, sizeof u.password_hash);
	json_object_put(body);
}

/* POST /api/auth/login {email, password}: 200 signed in; 401 invalid_credentials for a wrong
 * email or a wrong password alike (same time spent); 400 invalid_json; 503 store down. */
void
h_login(struct ctx *c)
{
	json_object *body = app_json_body(c);
	const char *email, *pw;
	char lower[EMAIL_MAX];
	size_t elen, pwlen;
	struct user u;
	enum store_rc rc;
	int ok = 0;

	if (body == NULL)
		return;
	email = str_member(body, "email", &elen);
	pw = str_member(body, "password", &pwlen);
	if (email == NULL || pw == NULL || pwlen > PASSWORD_MAX_LEN) {
		resp_error(c->resp, 400, "bad_request", "Send email and password.");
		goto done;
	}
	rc = validate_email(email, elen, lower, sizeof lower) == -1 ? STORE_NOT_FOUND :
	    store_user_get_by_email(c->app->store, lower, &u);
	if (rc == STORE_OK)
		ok = password_verify(pw, pwlen, u.password_hash);
	else if (rc == STORE_NOT_FOUND)
		password_verify_dummy(pw, pwlen);
	else {
		app_store_error(c, rc);
		goto done;
	}
	if (ok == 1) {
		if (start_session(c, &u) == 0)
			app_send_json(c, 200, view_account(c->app->cfg, &u, c->now));
	} else
		resp_error(c->resp, 401, "invalid_credentials", "Wrong email or password.");
done:
	json_object_put(body);
}

/* POST /api/auth/logout [{everywhere: true}]: 200 and the cookie cleared; this token is
 * revoked server-side, or with everywhere every session and API token of the account. */
void
h_logout(struct ctx *c)
{
	json_object *body = app_json_body(c), *v;
	bool everywhere = false;
	enum store_rc rc = STORE_OK;

	if (body == NULL)
		return;
	if (json_object_object_get_ex(body, "everywhere", &v)) {
		if (!json_object_is_type(v, json_type_boolean)) {
			resp_error(c->resp, 400, "bad_request", "everywhere must be true or false.");
			goto done;
		}
		everywhere = json_object_get_boolean(v);
	}
	if (c->authed) {
		if (everywhere)
			rc = store_user_revoke_sessions(c->app->store, c->user.user_id, c->now_ms, c->now);
		else
			rc = store_token_revoke(c->app->store, c->token.jti, c->token.exp);
		if (rc != STORE_OK) {
			app_store_error(c, rc);
			goto done;
		}
	}
	app_set_session_cookie(c, NULL, 0);
	app_send_json(c, 200, json_object_new_object());
done:
	json_object_put(body);
}

/* POST /api/auth/tokens: 201 {token, expires_at}; the token is shown this once. */
void
h_token_create(struct ctx *c)
{
	const struct config *cfg = c->app->cfg;
	json_object *body = app_json_body(c), *o;
	char tok[TOKEN_MAX];
	struct token t;

	if (body == NULL)
		return;
	json_object_put(body);
	if (token_issue(cfg->session_secret, cfg->session_secret_len, TOKEN_API, c->user.user_id,
	    c->now_ms, API_TOKEN_TTL_S, &t, tok) == -1) {
		resp_error(c->resp, 500, "internal", "Could not create a token.");
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "token", json_object_new_string(tok));
	json_object_object_add(o, "expires_at", view_time(t.exp));
	OPENSSL_cleanse(tok, sizeof tok);
	app_send_json(c, 201, o);
}

/* GET /api/me: 200 with the account view. */
void
h_me(struct ctx *c)
{
	app_send_json(c, 200, view_account(c->app->cfg, &c->user, c->now));
}

/* POST /api/trial/start: 200 with the account view when the trial starts now; 409
 * trial_already_used if it ever started; 409 already_premium for paying accounts. */
void
h_trial_start(struct ctx *c)
{
	json_object *body = app_json_body(c);
	enum store_rc rc;

	if (body == NULL)
		return;
	json_object_put(body);
	if (c->user.tier == TIER_PREMIUM) {
		resp_error(c->resp, 409, "already_premium", "This account is already premium.");
		return;
	}
	rc = store_user_start_trial(c->app->store, c->user.user_id, c->now, c->now + TRIAL_SECONDS);
	if (rc == STORE_CONFLICT) {
		resp_error(c->resp, 409, "trial_already_used",
		    "The free premium trial can be started once per account, and this one has used it.");
		return;
	}
	if (rc != STORE_OK) {
		app_store_error(c, rc);
		return;
	}
	rc = store_user_get(c->app->store, c->user.user_id, &c->user);
	if (rc != STORE_OK) {
		app_store_error(c, rc);
		return;
	}
	log_info("trial started for %s", c->user.user_id);
	app_send_json(c, 200, view_account(c->app->cfg, &c->user, c->now));
}
