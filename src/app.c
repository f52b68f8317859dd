#include "app.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "timeutil.h"

enum auth_need { AUTH_NONE, AUTH_OPTIONAL, AUTH_REQUIRED };

struct route {
	const char	*path;		/* exact, or with one "{}" segment (see path_match) */
	enum http_method method;
	enum auth_need	 auth;
	uint64_t	 body_limit;	/* 0: no body accepted */
	handler_fn	 fn;
	bool		 public_post;	/* no ambient credentials used: no CSRF check */
};

/* Uploads: the tier's own limit is checked by the handler; this only bounds the request. */
#define UPLOAD_LIMIT	((uint64_t)6 << 30)

static const struct route routes[] = {
	{ "/healthz", HTTP_GET, AUTH_NONE, 0, h_healthz, false },
	{ "/readyz", HTTP_GET, AUTH_NONE, 0, h_readyz, false },
	{ "/api/auth/signup", HTTP_POST, AUTH_NONE, JSON_BODY_LIMIT, h_signup, false },
	{ "/api/auth/login", HTTP_POST, AUTH_NONE, JSON_BODY_LIMIT, h_login, false },
	{ "/api/auth/logout", HTTP_POST, AUTH_OPTIONAL, JSON_BODY_LIMIT, h_logout, false },
	{ "/api/auth/tokens", HTTP_POST, AUTH_REQUIRED, JSON_BODY_LIMIT, h_token_create, false },
	{ "/api/me", HTTP_GET, AUTH_REQUIRED, 0, h_me, false },
	{ "/api/trial/start", HTTP_POST, AUTH_REQUIRED, JSON_BODY_LIMIT, h_trial_start, false },
	{ "/api/links", HTTP_POST, AUTH_REQUIRED, JSON_BODY_LIMIT, h_link_create, false },
	{ "/api/links", HTTP_GET, AUTH_REQUIRED, 0, h_links_list, false },
	{ "/api/links/{}", HTTP_GET, AUTH_REQUIRED, 0, h_link_get, false },
	{ "/api/links/{}", HTTP_DELETE, AUTH_REQUIRED, 0, h_link_delete, false },
	{ "/api/links/{}/qr.svg", HTTP_GET, AUTH_REQUIRED, 0, h_link_qr, false },
	{ "/api/files", HTTP_POST, AUTH_REQUIRED, UPLOAD_LIMIT, h_file_post, false },
	{ "/api/files/{}", HTTP_PUT, AUTH_REQUIRED, UPLOAD_LIMIT, h_file_put, false },
	{ "/api/uploads", HTTP_POST, AUTH_REQUIRED, JSON_BODY_LIMIT, h_upload_create, false },
	{ "/api/uploads/{}/complete", HTTP_POST, AUTH_REQUIRED, JSON_BODY_LIMIT, h_upload_complete, false },
	{ "/{}", HTTP_GET, AUTH_NONE, 0, h_open, false },
	{ "/{}", HTTP_POST, AUTH_NONE, 4096, h_open_unlock, true },
};
#define NROUTES (sizeof routes / sizeof routes[0])

static const char *
method_name(enum http_method m)
{
	static const char *n[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "OTHER" };
	return n[m];
}

/*
 * Does path match pattern? A "{}" segment in pattern matches one non-empty path segment (no
 * '/'); what follows "{}" in pattern (nothing, or a fixed suffix such as "/qr.svg") must end
 * the path exactly. With nothing after "{}", *param points into path; with a suffix, the
 * segment is copied into pbuf (n bytes), and a segment that does not fit does not match.
 */
static bool
path_match(const char *pattern, const char *path, char *pbuf, size_t n, const char **param)
{
	const char *rest = path, *suffix = pattern;
	size_t rlen, slen, seg;

	*param = NULL;
	/* One pass up to the first "{}" or difference: most routes differ from a path within
	 * a few bytes (the route table is scanned for every request). */
	while (*suffix != '\0' && *suffix == *rest && !(suffix[0] == '{' && suffix[1] == '}')) {
		suffix++;
		rest++;
	}
	if (!(suffix[0] == '{' && suffix[1] == '}'))
		return *suffix == '\0' && *rest == '\0';
	suffix += 2;
	rlen = strlen(rest);
	slen = strlen(suffix);
	if (rlen <= slen || strcmp(rest + rlen - slen, suffix))
		return false;
	seg = rlen - slen;
	if (memchr(rest, '/', seg) != NULL)
		return false;
	if (slen == 0) {
		*param = rest;
		return true;
	}
	if (seg >= n)
		return false;
	memcpy(pbuf, rest, seg);
	pbuf[seg] = '\0';
	*param = pbuf;
	return true;
}

/*
 * CSRF: a state-changing request authenticated by cookie must come from our own pages:
 * its Origin is PUBLIC_BASE_URL or the Host it was sent to, or (no Origin) the browser says
 * Sec-Fetch-Site: same-origin. Bearer requests carry no ambient credentials and are exempt.
 * The Host form must also have PUBLIC_BASE_URL's scheme: http://host is another origin than
 * https://host, one a network attacker can serve pages from, and browsers that do not count
 * the scheme in SameSite would still send the cookie from there.
 */
static bool
csrf_ok(struct ctx *c)
{
	const char *origin = req_header(c->req, "origin"), *host, *sfs, *o;
	const char *base = c->app->cfg->public_base_url, *b = strstr(base, "://");

	if (origin != NULL) {
		if (!strcasecmp(origin, base))
			return true;
		host = req_header(c->req, "host");
		o = strstr(origin, "://");
		return host != NULL && o != NULL && b != NULL && o - origin == b - base &&
		    !strncasecmp(origin, base, (size_t)(o - origin)) && !strcasecmp(o + 3, host);
	}
	sfs = req_header(c->req, "sec-fetch-site");
	return sfs != NULL && !strcmp(sfs, "same-origin");
}

/* Resolves the caller from a bearer token or the session cookie. 0 ok, -1 none/invalid, -2 store down. */
static int
authenticate(struct ctx *c)
{
	const struct config *cfg = c->app->cfg;
	const char *authz = req_header(c->req, "authorization");
	char tok[TOKEN_MAX];
	enum store_rc rc;
	bool revoked;

	if (authz != NULL && !strncasecmp(authz, "Bearer ", 7)) {
		snprintf(tok, sizeof tok, "%s", authz + 7);
		c->bearer = true;
	} else if (req_cookie(c->req, SESSION_COOKIE, tok, sizeof tok) == -1)
		return -1;
	if (token_verify(cfg->session_secret, cfg->session_secret_len, tok, c->now, &c->token) == -1)
		return -1;
	rc = store_user_get(c->app->store, c->token.user_id, &c->user);
	if (rc == STORE_NOT_FOUND)
		return -1;
	if (rc != STORE_OK)
		return -2;
	if (c->token.iat_ms <= c->user.sessions_valid_after_ms)
		return -1;
	if (store_token_is_revoked(c->app->store, c->token.jti, &revoked) != STORE_OK)
		return -2;
	if (revoked)
		return -1;
	c->authed = true;
	return 0;
}

/*
 * The index of the first route whose pattern matches path (NROUTES if none): that pattern
 * owns the path (the table lists specific paths before "/{}").
 */
static size_t
first_route(const char *path, char *pbuf, size_t n)
{
	const char *param;
	size_t i;

	for (i = 0; i < NROUTES; i++) {
		/* Patterns differ from a path at its second byte more often than not ("/api/..."
		 * against a short code): skip those without the call. */
		if (routes[i].path[1] != '{' && routes[i].path[1] != path[1])
			continue;
		if (path_match(routes[i].path, path, pbuf, n, &param))
			break;
	}
	return i;
}

static void
dispatch(struct ctx *c)
{
	struct request *req = c->req;
	const struct route *r, *match = NULL;
	enum http_method m = req->method == HTTP_HEAD ? HTTP_GET : req->method;
	char allow[64] = "", pbuf[2048];	/* pbuf: a {} segment (upload tickets are long) */
	const char *param, *owner = NULL;
	size_t i;
	int a;

	/* Only routes with the owning pattern (see first_route) compete on the method. */
	for (i = first_route(req->path, pbuf, sizeof pbuf); i < NROUTES; i++) {
		if (!path_match(routes[i].path, req->path, pbuf, sizeof pbuf, &param) || (owner != NULL &&
		    strcmp(routes[i].path, owner)))
			continue;
		owner = routes[i].path;
		if (routes[i].method == m) {
			match = &routes[i];
			c->param = param;
			break;
		}
		if (allow[0])
			strcat(allow, ", ");
		strcat(allow, method_name(routes[i].method));
		if (routes[i].method == HTTP_GET)
			strcat(allow, ", HEAD");
	}
	if (match == NULL) {
		req_drain_body(req);
		if (allow[0]) {
			resp_error(c->resp, 405, "method_not_allowed", "%s is not allowed on %s",
			    req->method_str ? req->method_str : "?", req->path);
			resp_header(c->resp, "Allow", "%s", allow);
		} else
			resp_error(c->resp, 404, "not_found", "There is nothing at this address.");
		return;
	}
	r = match;
	if (req->content_length > 0 && (uint64_t)req->content_length > r->body_limit) {
		req_drain_body(req);
		resp_error(c->resp, 413, "body_too_large",
		    "The request body is larger than this endpoint accepts (%llu bytes).",
		    (unsigned long long)r->body_limit);
		return;
	}
	if (r->auth != AUTH_NONE) {
		a = authenticate(c);
		if (a == -2) {
			req_drain_body(req);
			app_store_error(c, STORE_UNAVAILABLE);
			return;
		}
		if (a == -1 && r->auth == AUTH_REQUIRED) {
			req_drain_body(req);
			resp_error(c->resp, 401, "unauthorized", "Sign in first (session expired or missing).");
			return;
		}
	}
	if (r->method != HTTP_GET && !r->public_post && !c->bearer && !csrf_ok(c)) {
		req_drain_body(req);
		resp_error(c->resp, 403, "csrf",
		    "Cross-site request refused: send an Origin header matching this site, or use an API token.");
		return;
	}
	r->fn(c);
	req_drain_body(req);
}

static void
run(struct app *app, struct request *req, struct response *resp, struct ctx *c)
{
	const char *bad = NULL;

	memset(c, 0, sizeof *c);
	c->app = app;
	c->req = req;
	c->resp = resp;
	c->now_ms = clock_now_ms();
	c->now = c->now_ms / 1000;
	resp->head = req->method == HTTP_HEAD;
	if (req->path == NULL || req->path[0] != '/')
		bad = "The request path is malformed.";
	else if (!path_canonical(req->path))
		bad = "The request path must not have a '.', '..' or empty segment, also when "
		    "written with %2E or %2F.";
	if (bad == NULL) {
		dispatch(c);
		return;
	}
	req_drain_body(req);
	resp_error(resp, 400, "bad_request", "%s", bad);
}

static void
log_done(const struct request *req, const struct response *resp, int64_t usec,
    const char *user_id)
{
	log_access(req->method_str ? req->method_str : "?", req->path ? req->path : "",
	    resp->status, (long)usec, user_id);
	if (resp->error_code != NULL && resp->status >= 500)
		log_warnx("%s %s answered %d %s", method_name(req->method), req->path ? req->path : "",
		    resp->status, resp->error_code);
}

void
app_handle(struct app *app, struct request *req, struct response *resp)
{
	struct ctx c;
	int64_t t0 = monotonic_us();

	run(app, req, resp, &c);
	log_done(req, resp, monotonic_us() - t0, c.authed ? c.user.user_id : NULL);
}

bool
app_groupable(const struct request *req)
{
	char pbuf[2048];
	size_t i;

	if ((req->method != HTTP_GET && req->method != HTTP_HEAD) || req->path == NULL ||
	    req->path[0] != '/')
		return false;
	i = first_route(req->path, pbuf, sizeof pbuf);
	return i < NROUTES && routes[i].fn == h_open;
}

bool
app_groups(const struct app *app)
{
	return store_groups(app->store);
}

void
app_handle_group(struct app *app, struct request *reqs, struct response *resps, size_t n)
{
	struct ctx c;
	int64_t t0 = monotonic_us(), t1;
	bool failed = store_group_begin(app->store) != STORE_OK;
	size_t i;

	memset(&c, 0, sizeof c);
	c.app = app;
	/* No group (the store stayed busy past its timeout): each open would wait as long
	 * again, so all are answered 503 at once, as each would have been. */
	if (!failed) {
		for (i = 0; i < n; i++)
			run(app, &reqs[i], &resps[i], &c);
		failed = store_group_end(app->store) != STORE_OK;
	}
	if (failed) {
		/* Nothing of the group was stored: no open may be answered as if counted. */
		for (i = 0; i < n; i++) {
			resp_reset(&resps[i]);
			resps[i].head = reqs[i].method == HTTP_HEAD;
			c.resp = &resps[i];
			app_store_error(&c, STORE_UNAVAILABLE);
		}
	}
	t1 = monotonic_us();
	/* Link opens are anonymous: no user in their lines. Each waited for the whole group. */
	for (i = 0; i < n; i++)
		log_done(&reqs[i], &resps[i], t1 - t0, NULL);
}

json_object *
app_json_body(struct ctx *c)
{
	struct buf body = BUF_INIT;
	struct json_tokener *tok;
	json_object *obj = NULL;
	int rc;

	rc = req_read_body(c->req, JSON_BODY_LIMIT, &body);
	if (rc == -2) {
		resp_error(c->resp, 413, "body_too_large", "The JSON body is larger than %d bytes.",
		    JSON_BODY_LIMIT);
		goto done;
	}
	if (rc == -1) {
		resp_error(c->resp, 400, "bad_request", "The request body could not be read.");
		goto done;
	}
	if (body.len == 0) {
		obj = json_object_new_object();
		goto done;
	}
	tok = json_tokener_new_ex(32);
	/* Strict: no single quotes, trailing commas, NaN or invalid UTF-8 in strings. */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, body.data, (int)body.len);
	if (obj == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != body.len || !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		obj = NULL;
		resp_error(c->resp, 400, "invalid_json", "The request body must be one JSON object.");
	}
	json_tokener_free(tok);
done:
	buf_free(&body);
	return obj;
}

int
app_json_text(json_object *obj, const char *key, struct buf *out)
{
	json_object *v;

	buf_reset(out);
	if (!json_object_object_get_ex(obj, key, &v) || v == NULL)
		return 0;
	if (json_object_is_type(v, json_type_string))
		buf_append(out, json_object_get_string(v), (size_t)json_object_get_string_len(v));
	else if (json_object_is_type(v, json_type_int))
		buf_printf(out, "%lld", (long long)json_object_get_int64(v));
	else
		return -1;
	return 1;
}

void
app_send_json(struct ctx *c, int status, json_object *obj)
{
	size_t len;
	const char *s = json_object_to_json_string_length(obj,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);

	resp_json(c->resp, status, s, len);
	resp_header(c->resp, "Cache-Control", "no-store");
	json_object_put(obj);
}

void
app_store_error(struct ctx *c, enum store_rc rc)
{
	(void)rc;
	resp_error(c->resp, 503, "store_unavailable",
	    "The service cannot reach its database right now; try again shortly.");
}

void
app_set_session_cookie(struct ctx *c, const char *token, int64_t max_age)
{
	resp_header(c->resp, "Set-Cookie", "%s=%s; Path=/; Max-Age=%lld; HttpOnly; SameSite=Lax%s",
	    SESSION_COOKIE, token ? token : "", token ? (long long)max_age : 0LL,
	    c->app->cfg->secure_cookies ? "; Secure" : "");
}
