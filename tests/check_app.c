/*
 * check_app: the router and the account handlers, driven through app_handle() with requests
 * built in memory over a fresh SQLite store and a fake clock. No server involved.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "auth.h"
#include "qr.h"
#include "store.h"
#include "testutil.h"
#include "timeutil.h"
#include "trial.h"

#define ORIGIN		"Origin: " TU_BASE_URL
#define JSON_CT		"Content-Type: application/json"
#define PASSWORD	"correct horse battery"
#define HDR_MAX		(TOKEN_MAX + 64)

static struct tu_app ta;

static void
setup(void)
{
	tu_setup();
	tu_app_open(&ta, NULL);
}

static void
teardown(void)
{
	tu_app_close(&ta);
	tu_teardown();
}

/* Replaces the app by one configured with extra (same temporary directory, new store file). */
static void
reopen_app(const char *const *extra)
{
	tu_app_close(&ta);
	tu_app_open(&ta, extra);
}

static void
run(const struct tu_request *t, struct tu_result *r)
{
	tu_handle(&ta.app, t, r);
}

static void
cookie_header(char out[HDR_MAX], const char *tok)
{
	snprintf(out, HDR_MAX, "Cookie: " SESSION_COOKIE "=%s", tok);
}

static void
bearer_header(char out[HDR_MAX], const char *tok)
{
	snprintf(out, HDR_MAX, "Authorization: Bearer %s", tok);
}

static void
creds_body(char *out, size_t n, const char *email, const char *pw)
{
	snprintf(out, n, "{\"email\":\"%s\",\"password\":\"%s\"}", email, pw);
}

static void
signup(const char *email, const char *pw, struct tu_result *r)
{
	char body[2048];

	creds_body(body, sizeof body, email, pw);
	run(&(struct tu_request){ .method = "POST", .target = "/api/auth/signup",
	    .headers = { ORIGIN, JSON_CT }, .body = body }, r);
}

static void
login(const char *email, const char *pw, struct tu_result *r)
{
	char body[2048];

	creds_body(body, sizeof body, email, pw);
	run(&(struct tu_request){ .method = "POST", .target = "/api/auth/login",
	    .headers = { ORIGIN, JSON_CT }, .body = body }, r);
}

/* Signs up and returns the session token. */
static void
signup_ok(const char *email, char tok[TOKEN_MAX])
{
	struct tu_result r;

	signup(email, PASSWORD, &r);
	ck_assert_msg(r.resp.status == 201, "signup %s: %d %s", email, r.resp.status, buf_str(&r.resp.body));
	ck_assert_int_eq(tu_session_cookie(&r.resp, tok, TOKEN_MAX), 0);
	tu_result_free(&r);
}

static void
login_ok(const char *email, char tok[TOKEN_MAX])
{
	struct tu_result r;

	login(email, PASSWORD, &r);
	ck_assert_msg(r.resp.status == 200, "login %s: %d %s", email, r.resp.status, buf_str(&r.resp.body));
	ck_assert_int_eq(tu_session_cookie(&r.resp, tok, TOKEN_MAX), 0);
	tu_result_free(&r);
}

static void
me_cookie(const char *tok, struct tu_result *r)
{
	char ck[HDR_MAX];

	cookie_header(ck, tok);
	run(&(struct tu_request){ .method = "GET", .target = "/api/me", .headers = { ck } }, r);
}

static void
me_bearer(const char *tok, struct tu_result *r)
{
	char b[HDR_MAX];

	bearer_header(b, tok);
	run(&(struct tu_request){ .method = "GET", .target = "/api/me", .headers = { b } }, r);
}

static int
me_status_cookie(const char *tok)
{
	struct tu_result r;
	int st;

	me_cookie(tok, &r);
	st = r.resp.status;
	tu_result_free(&r);
	return st;
}

static int
me_status_bearer(const char *tok)
{
	struct tu_result r;
	int st;

	me_bearer(tok, &r);
	st = r.resp.status;
	tu_result_free(&r);
	return st;
}

/* A state-changing request signed in by cookie, from our own pages. */
static void
post_cookie(const char *target, const char *tok, const char *body, struct tu_result *r)
{
	char ck[HDR_MAX];

	cookie_header(ck, tok);
	run(&(struct tu_request){ .method = "POST", .target = target,
	    .headers = { ck, ORIGIN, JSON_CT }, .body = body }, r);
}

static void
post_bearer(const char *target, const char *tok, const char *body, struct tu_result *r)
{
	char b[HDR_MAX];

	bearer_header(b, tok);
	run(&(struct tu_request){ .method = "POST", .target = target,
	    .headers = { b, JSON_CT }, .body = body }, r);
}

/* Creates an API token with a session cookie. */
static void
api_token_ok(const char *session, char tok[TOKEN_MAX])
{
	struct tu_result r;
	const char *t;

	post_cookie("/api/auth/tokens", session, NULL, &r);
	ck_assert_msg(r.resp.status == 201, "tokens: %d %s", r.resp.status, buf_str(&r.resp.body));
	t = tu_json_str(r.json, "token");
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_lt(strlen(t), TOKEN_MAX);
	strcpy(tok, t);
	tu_result_free(&r);
}

static int64_t
jint(json_object *o, const char *path)
{
	json_object *v = tu_json_get(o, path);

	ck_assert_msg(v != NULL && json_object_is_type(v, json_type_int), "%s is not an integer", path);
	return json_object_get_int64(v);
}

static bool
jbool(json_object *o, const char *path)
{
	json_object *v = tu_json_get(o, path);

	ck_assert_msg(v != NULL && json_object_is_type(v, json_type_boolean), "%s is not a boolean", path);
	return json_object_get_boolean(v);
}

static bool
json_is_null(json_object *o, const char *path)
{
	json_object *parent;
	const char *dot = strrchr(path, '.');
	char ppath[128];
	json_object *v;

	/* Present and null, not merely absent. */
	if (dot == NULL)
		parent = o;
	else {
		snprintf(ppath, sizeof ppath, "%.*s", (int)(dot - path), path);
		parent = tu_json_get(o, ppath);
	}
	return parent != NULL && json_object_object_get_ex(parent, dot ? dot + 1 : path, &v) && v == NULL;
}

/* --- routing --------------------------------------------------------------------------- */

static const struct {
	const char	*method;
	const char	*target;
	int		 status;
	const char	*code;
	const char	*allow;		/* the Allow header of a 405 */
} route_cases[] = {
	{ "GET", "/nope", 404, "not_found", NULL },
	{ "GET", "/", 404, "not_found", NULL },
	{ "GET", "/api", 404, "not_found", NULL },
	{ "GET", "/api/me/extra", 404, "not_found", NULL },
	{ "GET", "/healthz/", 404, "not_found", NULL },
	{ "GET", "/HEALTHZ", 404, "not_found", NULL },
	{ "POST", "/api/unknown", 404, "not_found", NULL },
	{ "GET", "/api/me?x=1", 401, "unauthorized", NULL },	/* the query is not part of the path */
	{ "POST", "/api/me", 405, "method_not_allowed", "GET, HEAD" },
	{ "DELETE", "/healthz", 405, "method_not_allowed", "GET, HEAD" },
	{ "PUT", "/readyz", 405, "method_not_allowed", "GET, HEAD" },
	{ "GET", "/api/auth/signup", 405, "method_not_allowed", "POST" },
	{ "HEAD", "/api/auth/login", 405, "method_not_allowed", "POST" },
	{ "PUT", "/api/trial/start", 405, "method_not_allowed", "POST" },
	{ "OPTIONS", "/api/auth/tokens", 405, "method_not_allowed", "POST" },
	{ "BREW", "/healthz", 405, "method_not_allowed", "GET, HEAD" },
	{ "GET", "healthz", 400, "bad_request", NULL },
	{ "GET", "", 400, "bad_request", NULL },
	/* A "{}" segment followed by a fixed suffix ("/api/links/{}/qr.svg"). */
	{ "GET", "/api/links/abc/qr.svg", 401, "unauthorized", NULL },
	{ "HEAD", "/api/links/abc/qr.svg", 401, "unauthorized", NULL },
	{ "POST", "/api/links/abc/qr.svg", 405, "method_not_allowed", "GET, HEAD" },
	{ "GET", "/api/links/qr.svg", 401, "unauthorized", NULL },	/* the code "qr.svg" */
	{ "GET", "/api/links//qr.svg", 400, "bad_request", NULL },	/* "//": nginx merges it */
	{ "GET", "/api/links/", 404, "not_found", NULL },		/* empty segment */
	{ "GET", "/api/links/./qr.svg", 400, "bad_request", NULL },	/* nginx resolves "." */
	{ "PUT", "/api/files/..%2Fx", 400, "bad_request", NULL },	/* and decodes "%2F" */
	{ "GET", "/api/links/a/b/qr.svg", 404, "not_found", NULL },	/* two segments */
	{ "GET", "/api/links/abc/qr.svgz", 404, "not_found", NULL },
	{ "GET", "/api/links/abc/qr.sv", 404, "not_found", NULL },
	{ "GET", "/api/links/abc/qr.svg/", 404, "not_found", NULL },
	{ "GET", "/api/links/abc/QR.SVG", 404, "not_found", NULL },
	{ "GET", "/api/links/abcqr.svg/qr.svg/qr.svg", 404, "not_found", NULL },
	{ "GET", "/api/linksabc/qr.svg", 404, "not_found", NULL },
};

START_TEST(test_routes)
{
	struct tu_result r;
	char v[128];

	bool bodyless = !strcmp(route_cases[_i].method, "GET") || !strcmp(route_cases[_i].method, "HEAD");

	run(&(struct tu_request){ .method = route_cases[_i].method, .target = route_cases[_i].target,
	    .body = bodyless ? NULL : "{\"some\":\"body\"}" }, &r);
	tu_assert_error(&r, route_cases[_i].status, route_cases[_i].code);
	ck_assert_str_eq(tu_resp_header(&r.resp, "Content-Type", v, sizeof v), "application/json; charset=utf-8");
	if (route_cases[_i].allow != NULL)
		ck_assert_str_eq(tu_resp_header(&r.resp, "Allow", v, sizeof v), route_cases[_i].allow);
	else
		ck_assert_ptr_null(tu_resp_header(&r.resp, "Allow", v, sizeof v));
	ck_assert_int_eq(tu_resp_header_count(&r.resp, "Set-Cookie"), 0);
	ck_assert(r.drained);	/* a refused request's body is read and dropped */
	tu_result_free(&r);
}
END_TEST

START_TEST(test_healthz_readyz)
{
	struct tu_result r;

	run(&(struct tu_request){ .method = "GET", .target = "/healthz" }, &r);
	ck_assert_int_eq(r.resp.status, 200);
	ck_assert_str_eq(tu_json_str(r.json, "status"), "ok");
	ck_assert(!r.resp.head);
	tu_result_free(&r);

	run(&(struct tu_request){ .method = "GET", .target = "/readyz" }, &r);
	ck_assert_int_eq(r.resp.status, 200);
	ck_assert_str_eq(tu_json_str(r.json, "status"), "ready");
	ck_assert_str_eq(tu_json_str(r.json, "store"), tu_backend_selected()->name);
	tu_result_free(&r);
}
END_TEST

START_TEST(test_head_on_get_route)
{
	struct tu_result r;
	char v[128];

	run(&(struct tu_request){ .method = "HEAD", .target = "/healthz" }, &r);
	ck_assert_int_eq(r.resp.status, 200);
	ck_assert(r.resp.head);		/* the adapter sends headers only */
	ck_assert_str_eq(tu_resp_header(&r.resp, "Content-Type", v, sizeof v), "application/json; charset=utf-8");
	tu_result_free(&r);

	/* HEAD keeps the route's rules: /api/me still needs a session. */
	run(&(struct tu_request){ .method = "HEAD", .target = "/api/me" }, &r);
	ck_assert_int_eq(r.resp.status, 401);
	ck_assert(r.resp.head);
	tu_result_free(&r);
}
END_TEST

/* --- bodies ---------------------------------------------------------------------------- */

static char *
padded_json(size_t total)
{
	static const char head[] = "{\"email\":\"not-an-email\",\"password\":\"x\"";
	char *s = malloc(total + 1);

	ck_assert_uint_ge(total, sizeof head);
	memcpy(s, head, sizeof head - 1);
	memset(s + sizeof head - 1, ' ', total - sizeof head);
	s[total - 1] = '}';
	s[total] = '\0';
	return s;
}

static const struct {
	const char	*name;
	size_t		 len;
	bool		 with_cl;
	int		 status;
	const char	*code;
} limit_cases[] = {
	{ "exactly the limit, Content-Length", JSON_BODY_LIMIT, true, 400, "invalid_email" },
	{ "exactly the limit, no Content-Length", JSON_BODY_LIMIT, false, 400, "invalid_email" },
	{ "one over, Content-Length", JSON_BODY_LIMIT + 1, true, 413, "body_too_large" },
	{ "one over, no Content-Length", JSON_BODY_LIMIT + 1, false, 413, "body_too_large" },
	{ "far over, no Content-Length", 10 * JSON_BODY_LIMIT, false, 413, "body_too_large" },
};

START_TEST(test_body_limits)
{
	char *body = padded_json(limit_cases[_i].len);
	struct tu_result r;

	run(&(struct tu_request){ .method = "POST", .target = "/api/auth/signup",
	    .headers = { ORIGIN, JSON_CT }, .body = body, .no_content_length = !limit_cases[_i].with_cl,
	    .chunk = 4096 }, &r);
	tu_assert_error(&r, limit_cases[_i].status, limit_cases[_i].code);
	ck_assert_msg(r.drained, "%s: body not drained", limit_cases[_i].name);
	tu_result_free(&r);
	free(body);
}
END_TEST

START_TEST(test_body_on_bodyless_route)
{
	char tok[TOKEN_MAX];
	struct tu_result r;
	char ck[HDR_MAX];

	signup_ok("body@example.com", tok);
	cookie_header(ck, tok);
	run(&(struct tu_request){ .method = "GET", .target = "/api/me", .headers = { ck },
	    .body = "{}" }, &r);
	tu_assert_error(&r, 413, "body_too_large");
	ck_assert(r.drained);
	tu_result_free(&r);
}
END_TEST

static const struct {
	const char	*name;
	const char	*body;
} bad_json_cases[] = {
	{ "unterminated object", "{" },
	{ "array", "[]" },
	{ "string", "\"x\"" },
	{ "number", "123" },
	{ "null", "null" },
	{ "boolean", "true" },
	{ "object then garbage", "{} trailing" },
	{ "two objects", "{}{}" },
	{ "missing value", "{\"email\":}" },
	{ "unquoted garbage", "email=a@example.com&password=x" },
	{ "raw invalid byte", "\xff" },
};

START_TEST(test_invalid_json)
{
	struct tu_result r;

	run(&(struct tu_request){ .method = "POST", .target = "/api/auth/signup",
	    .headers = { ORIGIN, JSON_CT }, .body = bad_json_cases[_i].body }, &r);
	ck_assert_msg(r.resp.status == 400, "%s: %d", bad_json_cases[_i].name, r.resp.status);
	tu_assert_error(&r, 400, "invalid_json");
	tu_result_free(&r);
}
END_TEST

/* Nesting deeper than the parser allows is refused; shallower nesting is fine. */
START_TEST(test_json_depth)
{
	struct buf body = BUF_INIT;
	struct tu_result r;
	int i, depth;

	for (depth = 10; depth <= 40; depth += 30) {
		buf_reset(&body);
		buf_appends(&body, "{\"x\":");
		for (i = 1; i < depth; i++)
			buf_appends(&body, "{\"a\":");
		buf_appends(&body, "1");
		for (i = 0; i < depth; i++)
			buf_appendc(&body, '}');
		run(&(struct tu_request){ .method = "POST", .target = "/api/auth/signup",
		    .headers = { ORIGIN, JSON_CT }, .body = body.data }, &r);
		/* Parsed, so the handler answers about the missing email instead. */
		tu_assert_error(&r, 400, depth == 10 ? "invalid_email" : "invalid_json");
		tu_result_free(&r);
	}
	buf_free(&body);
}
END_TEST

/* A trailing newline (curl --data-binary @file) is whitespace, not garbage. */
START_TEST(test_json_trailing_whitespace_ok)
{
	struct tu_result r;

	run(&(struct tu_request){ .method = "POST", .target = "/api/auth/signup",
	    .headers = { ORIGIN, JSON_CT },
	    .body = "{\"email\":\"ws@example.com\",\"password\":\"" PASSWORD "\"}\n" }, &r);
	ck_assert_int_eq(r.resp.status, 201);
	tu_result_free(&r);
}
END_TEST

/*
 * json-c (as configured by app_json_body) does not validate UTF-8 inside strings, so invalid
 * bytes reach the handlers; they must still be refused there, by the validators.
 */
static const struct {
	const char	*body;
	const char	*code;
} bad_utf8_cases[] = {
	/* The JSON parser is strict: invalid UTF-8 anywhere makes the body malformed. */
	{ "{\"email\":\"\xff@example.com\",\"password\":\"" PASSWORD "\"}", "invalid_json" },
	{ "{\"email\":\"a@ex\xc3\x28mple.com\",\"password\":\"" PASSWORD "\"}", "invalid_json" },
	{ "{\"email\":\"utf@example.com\",\"password\":\"abcdefghij\xff\"}", "invalid_json" },
	/* json-c lets an encoded surrogate through; the password validator refuses it. */
	{ "{\"email\":\"utf@example.com\",\"password\":\"abcdefghij\xed\xa0\x80\"}", "weak_password" },
};

START_TEST(test_invalid_utf8_in_strings)
{
	struct tu_result r;
	struct user u;

	run(&(struct tu_request){ .method = "POST", .target = "/api/auth/signup",
	    .headers = { ORIGIN, JSON_CT }, .body = bad_utf8_cases[_i].body }, &r);
	tu_assert_error(&r, 400, bad_utf8_cases[_i].code);
	ck_assert_int_eq(tu_resp_header_count(&r.resp, "Set-Cookie"), 0);
	ck_assert_int_eq(store_user_get_by_email(ta.app.store, "utf@example.com", &u), STORE_NOT_FOUND);
	tu_result_free(&r);
}
END_TEST

/* --- sign-up --------------------------------------------------------------------------- */

/* Does the Set-Cookie value v carry exactly this attribute? */
static bool
cookie_attr(const char *v, const char *attr)
{
	const char *p = strchr(v, ';'), *end;
	size_t n = strlen(attr);

	while (p != NULL) {
		p++;
		while (*p == ' ')
			p++;
		end = strchr(p, ';');
		if ((size_t)((end ? end : p + strlen(p)) - p) == n && !strncmp(p, attr, n))
			return true;
		p = end;
	}
	return false;
}

static void
assert_session_cookie(const struct response *resp, bool secure)
{
	char v[HDR_MAX], tok[TOKEN_MAX];
	struct token t;

	ck_assert_int_eq(tu_resp_header_count(resp, "Set-Cookie"), 1);
	ck_assert_ptr_nonnull(tu_resp_header(resp, "Set-Cookie", v, sizeof v));
	ck_assert_msg(!strncmp(v, SESSION_COOKIE "=fs1.", strlen(SESSION_COOKIE "=fs1.")), "%s", v);
	ck_assert_msg(cookie_attr(v, "HttpOnly"), "no HttpOnly: %s", v);
	ck_assert_msg(cookie_attr(v, "SameSite=Lax"), "no SameSite=Lax: %s", v);
	ck_assert_msg(cookie_attr(v, "Path=/"), "no Path=/: %s", v);
	ck_assert_msg(cookie_attr(v, "Max-Age=1209600"), "no 14-day Max-Age: %s", v);
	ck_assert_msg(cookie_attr(v, "Secure") == secure, "Secure %s with %s: %s",
	    secure ? "missing" : "present", secure ? "https" : "http", v);
	/* The cookie is a session token for this server's secret. */
	ck_assert_int_eq(tu_session_cookie(resp, tok, sizeof tok), 0);
	ck_assert_int_eq(token_verify(ta.cfg.session_secret, ta.cfg.session_secret_len, tok,
	    clock_now_ms() / 1000, &t), 0);
	ck_assert_int_eq(t.kind, TOKEN_SESSION);
	ck_assert_int_eq(t.exp, clock_now_ms() / 1000 + SESSION_TTL_S);
}

static void
assert_uuid4(const char *id)
{
	size_t i;

	ck_assert_ptr_nonnull(id);
	ck_assert_uint_eq(strlen(id), 36);
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			ck_assert_int_eq(id[i], '-');
		else
			ck_assert(strchr("0123456789abcdef", id[i]) != NULL);
	}
	ck_assert_int_eq(id[14], '4');
	ck_assert(strchr("89ab", id[19]) != NULL);
}

START_TEST(test_signup)
{
	struct tu_result r;
	struct user u;
	char v[128];

	signup("New.User@Example.COM", PASSWORD, &r);
	ck_assert_int_eq(r.resp.status, 201);
	ck_assert_ptr_nonnull(r.json);
	assert_session_cookie(&r.resp, false);
	ck_assert_str_eq(tu_resp_header(&r.resp, "Cache-Control", v, sizeof v), "no-store");
	ck_assert_str_eq(tu_json_str(r.json, "email"), "new.user@example.com");
	assert_uuid4(tu_json_str(r.json, "user_id"));
	ck_assert_str_eq(tu_json_str(r.json, "tier"), "free");
	ck_assert_str_eq(tu_json_str(r.json, "created_at"), "2026-01-01T00:00:00Z");
	ck_assert_int_eq(jint(r.json, "limits.max_file_bytes"), 100 << 20);
	ck_assert(!jbool(r.json, "limits.custom_slugs"));
	ck_assert(!jbool(r.json, "trial.used"));
	ck_assert(!jbool(r.json, "trial.active"));
	ck_assert(jbool(r.json, "trial.can_start"));
	ck_assert_int_eq(jint(r.json, "trial.days_left"), 0);
	ck_assert(json_is_null(r.json, "trial.started_at"));
	ck_assert(json_is_null(r.json, "trial.expires_at"));
	/* Nothing secret in the answer: no password, no hash. */
	ck_assert_ptr_null(tu_json_get(r.json, "password"));
	ck_assert_ptr_null(tu_json_get(r.json, "password_hash"));
	ck_assert_ptr_null(strstr(buf_str(&r.resp.body), PASSWORD));
	ck_assert_ptr_null(strstr(buf_str(&r.resp.body), "scrypt"));

	/* Stored lower-cased, with a hash (not the password) that verifies. */
	ck_assert_int_eq(store_user_get_by_email(ta.app.store, "new.user@example.com", &u), STORE_OK);
	ck_assert_str_eq(u.user_id, tu_json_str(r.json, "user_id"));
	ck_assert_ptr_null(strstr(u.password_hash, PASSWORD));
	ck_assert_int_eq(password_verify(PASSWORD, strlen(PASSWORD), u.password_hash), 1);
	ck_assert_int_eq(u.tier, TIER_FREE);
	tu_result_free(&r);
}
END_TEST

START_TEST(test_signup_https_secure_cookie)
{
	static const char *const https[] = { "PUBLIC_BASE_URL=https://fs.test", NULL };
	struct tu_result r;

	reopen_app(https);
	run(&(struct tu_request){ .method = "POST", .target = "/api/auth/signup",
	    .headers = { "Origin: https://fs.test", JSON_CT },
	    .body = "{\"email\":\"secure@example.com\",\"password\":\"" PASSWORD "\"}" }, &r);
	ck_assert_int_eq(r.resp.status, 201);
	assert_session_cookie(&r.resp, true);
	tu_result_free(&r);
}
END_TEST

START_TEST(test_signup_ten_character_password)
{
	struct tu_result r;

	signup("ten@example.com", "0123456789", &r);
	ck_assert_int_eq(r.resp.status, 201);
	tu_result_free(&r);
	signup("nine@example.com", "012345678", &r);
	tu_assert_error(&r, 400, "weak_password");
	tu_result_free(&r);
}
END_TEST

static const struct {
	const char	*name;
	const char	*body;
	const char	*code;
} bad_signup_cases[] = {
	{ "malformed email", "{\"email\":\"not-an-email\",\"password\":\"" PASSWORD "\"}", "invalid_email" },
	{ "email without TLD", "{\"email\":\"bad@example\",\"password\":\"" PASSWORD "\"}", "invalid_email" },
	{ "email missing", "{\"password\":\"" PASSWORD "\"}", "invalid_email" },
	{ "email not a string", "{\"email\":42,\"password\":\"" PASSWORD "\"}", "invalid_email" },
	{ "email null", "{\"email\":null,\"password\":\"" PASSWORD "\"}", "invalid_email" },
	{ "email with NUL", "{\"email\":\"bad\\u0000@example.com\",\"password\":\"" PASSWORD "\"}", "invalid_email" },
	{ "empty body", "", "invalid_email" },
	{ "empty object", "{}", "invalid_email" },
	{ "short password", "{\"email\":\"bad@example.com\",\"password\":\"short\"}", "weak_password" },
	{ "nine characters", "{\"email\":\"bad@example.com\",\"password\":\"123456789\"}", "weak_password" },
	{ "nine multibyte characters", "{\"email\":\"bad@example.com\",\"password\":"
	    "\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}", "weak_password" },
	{ "password missing", "{\"email\":\"bad@example.com\"}", "weak_password" },
	{ "password not a string", "{\"email\":\"bad@example.com\",\"password\":1234567890}", "weak_password" },
	{ "password with NUL", "{\"email\":\"bad@example.com\",\"password\":\"abcde\\u0000fghij\"}", "weak_password" },
};

START_TEST(test_signup_rejected)
{
	struct tu_result r;
	struct user u;

	run(&(struct tu_request){ .method = "POST", .target = "/api/auth/signup",
	    .headers = { ORIGIN, JSON_CT }, .body = bad_signup_cases[_i].body }, &r);
	ck_assert_msg(r.resp.status == 400, "%s: %d", bad_signup_cases[_i].name, r.resp.status);
	tu_assert_error(&r, 400, bad_signup_cases[_i].code);
	ck_assert_int_eq(tu_resp_header_count(&r.resp, "Set-Cookie"), 0);
	ck_assert_int_eq(store_user_get_by_email(ta.app.store, "bad@example.com", &u), STORE_NOT_FOUND);
	tu_result_free(&r);
}
END_TEST

START_TEST(test_signup_password_too_long)
{
	char pw[PASSWORD_MAX_LEN + 2], body[PASSWORD_MAX_LEN + 128];
	struct tu_result r;

	memset(pw, 'p', PASSWORD_MAX_LEN + 1);
	pw[PASSWORD_MAX_LEN + 1] = '\0';
	creds_body(body, sizeof body, "long@example.com", pw);
	run(&(struct tu_request){ .method = "POST", .target = "/api/auth/signup",
	    .headers = { ORIGIN, JSON_CT }, .body = body }, &r);
	tu_assert_error(&r, 400, "weak_password");
	tu_result_free(&r);

	pw[PASSWORD_MAX_LEN] = '\0';	/* exactly the maximum */
	signup("long@example.com", pw, &r);
	ck_assert_int_eq(r.resp.status, 201);
	tu_result_free(&r);
}
END_TEST

START_TEST(test_signup_duplicate_email)
{
	char tok[TOKEN_MAX];
	struct tu_result r;
	struct user before, after;

	signup_ok("dup@example.com", tok);
	ck_assert_int_eq(store_user_get_by_email(ta.app.store, "dup@example.com", &before), STORE_OK);
	signup("dup@example.com", "another password", &r);
	tu_assert_error(&r, 409, "email_taken");
	ck_assert_int_eq(tu_resp_header_count(&r.resp, "Set-Cookie"), 0);
	tu_result_free(&r);
	/* Addresses are compared case-insensitively. */
	signup("DUP@Example.com", "another password", &r);
	tu_assert_error(&r, 409, "email_taken");
	tu_result_free(&r);
	/* The first account is untouched: same id, same password. */
	ck_assert_int_eq(store_user_get_by_email(ta.app.store, "dup@example.com", &after), STORE_OK);
	ck_assert_str_eq(after.user_id, before.user_id);
	ck_assert_str_eq(after.password_hash, before.password_hash);
}
END_TEST

/* --- sign-in --------------------------------------------------------------------------- */

START_TEST(test_login)
{
	char tok[TOKEN_MAX], tok2[TOKEN_MAX];
	struct tu_result r;

	signup_ok("login@example.com", tok);
	login("login@example.com", PASSWORD, &r);
	ck_assert_int_eq(r.resp.status, 200);
	assert_session_cookie(&r.resp, false);
	ck_assert_str_eq(tu_json_str(r.json, "email"), "login@example.com");
	ck_assert_int_eq(tu_session_cookie(&r.resp, tok2, sizeof tok2), 0);
	ck_assert_str_ne(tok2, tok);	/* a new session, not the old one */
	tu_result_free(&r);
	ck_assert_int_eq(me_status_cookie(tok2), 200);

	/* The address may be typed in any case. */
	login("LOGIN@example.COM", PASSWORD, &r);
	ck_assert_int_eq(r.resp.status, 200);
	tu_result_free(&r);
}
END_TEST

/* A wrong password, an unknown address and a malformed one are indistinguishable. */
START_TEST(test_login_failures_look_alike)
{
	static const struct { const char *email, *pw; } cases[] = {
		{ "known@example.com", "wrong password!" },
		{ "known@example.com", "correct horse batterY" },
		{ "known@example.com", "" },
		{ "unknown@example.com", PASSWORD },
		{ "not-an-email", PASSWORD },
		{ "known@example.co", PASSWORD },
	};
	char tok[TOKEN_MAX], first[512] = "";
	struct tu_result r;
	size_t i;

	signup_ok("known@example.com", tok);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		login(cases[i].email, cases[i].pw, &r);
		tu_assert_error(&r, 401, "invalid_credentials");
		ck_assert_int_eq(tu_resp_header_count(&r.resp, "Set-Cookie"), 0);
		if (i == 0)
			snprintf(first, sizeof first, "%s", buf_str(&r.resp.body));
		else
			ck_assert_str_eq(buf_str(&r.resp.body), first);
		tu_result_free(&r);
	}
}
END_TEST

START_TEST(test_login_bad_request)
{
	static const char *const bodies[] = {
		"{\"email\":\"a@example.com\"}",
		"{\"password\":\"" PASSWORD "\"}",
		"{\"email\":1,\"password\":\"" PASSWORD "\"}",
		"{}",
	};
	struct tu_result r;
	size_t i;

	for (i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
		run(&(struct tu_request){ .method = "POST", .target = "/api/auth/login",
		    .headers = { ORIGIN, JSON_CT }, .body = bodies[i] }, &r);
		tu_assert_error(&r, 400, "bad_request");
		tu_result_free(&r);
	}
	run(&(struct tu_request){ .method = "POST", .target = "/api/auth/login",
	    .headers = { ORIGIN, JSON_CT }, .body = "[1]" }, &r);
	tu_assert_error(&r, 400, "invalid_json");
	tu_result_free(&r);
}
END_TEST

/* --- who am I -------------------------------------------------------------------------- */

START_TEST(test_me_with_cookie_and_bearer)
{
	char session[TOKEN_MAX], api[TOKEN_MAX];
	struct tu_result r;
	char v[128];

	signup_ok("me@example.com", session);
	me_cookie(session, &r);
	ck_assert_int_eq(r.resp.status, 200);
	ck_assert_str_eq(tu_json_str(r.json, "email"), "me@example.com");
	ck_assert_str_eq(tu_json_str(r.json, "tier"), "free");
	ck_assert_str_eq(tu_resp_header(&r.resp, "Cache-Control", v, sizeof v), "no-store");
	tu_result_free(&r);

	api_token_ok(session, api);
	ck_assert(!strncmp(api, "fs1.", 4));
	me_bearer(api, &r);
	ck_assert_int_eq(r.resp.status, 200);
	ck_assert_str_eq(tu_json_str(r.json, "email"), "me@example.com");
	tu_result_free(&r);

	/* The session token works as a bearer token too, and the scheme is case-insensitive. */
	ck_assert_int_eq(me_status_bearer(session), 200);
	{
		char b[HDR_MAX];
		snprintf(b, sizeof b, "Authorization: bearer %s", api);
		run(&(struct tu_request){ .method = "GET", .target = "/api/me", .headers = { b } }, &r);
		ck_assert_int_eq(r.resp.status, 200);
		tu_result_free(&r);
	}
}
END_TEST

START_TEST(test_api_token_create)
{
	char session[TOKEN_MAX];
	struct tu_result r;
	struct token t;

	signup_ok("tokens@example.com", session);
	post_cookie("/api/auth/tokens", session, NULL, &r);
	ck_assert_int_eq(r.resp.status, 201);
	ck_assert_ptr_nonnull(tu_json_str(r.json, "token"));
	ck_assert_str_eq(tu_json_str(r.json, "expires_at"), "2026-04-01T00:00:00Z");	/* +90 days */
	ck_assert_int_eq(token_verify(ta.cfg.session_secret, ta.cfg.session_secret_len,
	    tu_json_str(r.json, "token"), TU_EPOCH_S, &t), 0);
	ck_assert_int_eq(t.kind, TOKEN_API);
	ck_assert_int_eq(tu_resp_header_count(&r.resp, "Set-Cookie"), 0);
	tu_result_free(&r);

	/* Not signed in: no token. */
	run(&(struct tu_request){ .method = "POST", .target = "/api/auth/tokens",
	    .headers = { ORIGIN, JSON_CT } }, &r);
	tu_assert_error(&r, 401, "unauthorized");
	tu_result_free(&r);
}
END_TEST

START_TEST(test_me_unauthorized)
{
	char session[TOKEN_MAX], bad[TOKEN_MAX], other[TOKEN_MAX];
	struct tu_result r;
	struct token t;
	struct user u;
	size_t n;

	signup_ok("victim@example.com", session);
	ck_assert_int_eq(store_user_get_by_email(ta.app.store, "victim@example.com", &u), STORE_OK);

	run(&(struct tu_request){ .method = "GET", .target = "/api/me" }, &r);
	tu_assert_error(&r, 401, "unauthorized");
	tu_result_free(&r);

	/* Tampered: one character of the payload, one of the signature. */
	strcpy(bad, session);
	bad[10] = bad[10] == 'A' ? 'B' : 'A';
	me_cookie(bad, &r);
	tu_assert_error(&r, 401, "unauthorized");
	tu_result_free(&r);
	strcpy(bad, session);
	n = strlen(bad);
	bad[n - 5] = bad[n - 5] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(me_status_cookie(bad), 401);
	/* Truncated, empty, garbage, and a bearer that is not a token. */
	strcpy(bad, session);
	bad[n - 1] = '\0';
	ck_assert_int_eq(me_status_cookie(bad), 401);
	ck_assert_int_eq(me_status_cookie(""), 401);
	ck_assert_int_eq(me_status_cookie("garbage"), 401);
	ck_assert_int_eq(me_status_bearer("garbage"), 401);
	ck_assert_int_eq(me_status_bearer(""), 401);

	/* Signed with another key: a token minted elsewhere is worthless here. */
	ck_assert_int_eq(token_issue((const unsigned char *)"another-secret-another-secret-00", 32,
	    TOKEN_SESSION, u.user_id, clock_now_ms(), 3600, &t, other), 0);
	ck_assert_int_eq(me_status_cookie(other), 401);

	/* Validly signed, but for a user who does not exist. */
	ck_assert_int_eq(token_issue(ta.cfg.session_secret, ta.cfg.session_secret_len, TOKEN_SESSION,
	    "00000000-0000-4000-8000-000000000000", clock_now_ms(), 3600, &t, other), 0);
	ck_assert_int_eq(me_status_cookie(other), 401);

	ck_assert_int_eq(me_status_cookie(session), 200);	/* the real one still works */
}
END_TEST

START_TEST(test_session_expiry)
{
	char session[TOKEN_MAX], api[TOKEN_MAX];

	signup_ok("expiry@example.com", session);
	api_token_ok(session, api);
	tu_clock_advance((SESSION_TTL_S - 1) * 1000);
	ck_assert_int_eq(me_status_cookie(session), 200);
	tu_clock_advance(1000);
	ck_assert_int_eq(me_status_cookie(session), 401);	/* 14 days */
	ck_assert_int_eq(me_status_bearer(api), 200);
	tu_clock_set((TU_EPOCH_S + API_TOKEN_TTL_S) * 1000);
	ck_assert_int_eq(me_status_bearer(api), 401);		/* 90 days */
}
END_TEST

/* --- CSRF ------------------------------------------------------------------------------ */

enum cred { BY_COOKIE, BY_BEARER };

static const struct {
	const char	*name;
	enum cred	 cred;
	const char	*h1, *h2;
	int		 status;
} csrf_cases[] = {
	{ "cookie, no Origin", BY_COOKIE, NULL, NULL, 403 },
	{ "cookie, foreign Origin", BY_COOKIE, "Origin: https://evil.example", NULL, 403 },
	{ "cookie, Origin null", BY_COOKIE, "Origin: null", NULL, 403 },
	{ "cookie, Origin with our host as a prefix", BY_COOKIE, "Origin: http://fs.test.evil.example", NULL, 403 },
	{ "cookie, Origin with our host as a suffix", BY_COOKIE, "Origin: http://evilfs.test", NULL, 403 },
	{ "cookie, Origin not matching Host", BY_COOKIE, "Origin: http://evil.example", "Host: fs.test", 403 },
	{ "cookie, Sec-Fetch-Site cross-site", BY_COOKIE, "Sec-Fetch-Site: cross-site", NULL, 403 },
	{ "cookie, Sec-Fetch-Site same-site", BY_COOKIE, "Sec-Fetch-Site: same-site", NULL, 403 },
	{ "cookie, foreign Origin wins over Sec-Fetch-Site", BY_COOKIE, "Origin: https://evil.example",
	    "Sec-Fetch-Site: same-origin", 403 },
	{ "cookie, matching Origin", BY_COOKIE, ORIGIN, NULL, 201 },
	{ "cookie, matching Origin in another case", BY_COOKIE, "Origin: HTTP://FS.TEST", NULL, 201 },
	{ "cookie, Origin matching Host", BY_COOKIE, "Origin: http://alt.test:8080", "Host: alt.test:8080", 201 },
	{ "cookie, Sec-Fetch-Site same-origin", BY_COOKIE, "Sec-Fetch-Site: same-origin", NULL, 201 },
	{ "bearer, no Origin", BY_BEARER, NULL, NULL, 201 },
	{ "bearer, foreign Origin", BY_BEARER, "Origin: https://evil.example", NULL, 201 },
};

START_TEST(test_csrf)
{
	char session[TOKEN_MAX], cred[HDR_MAX];
	struct tu_result r;

	signup_ok("csrf@example.com", session);
	if (csrf_cases[_i].cred == BY_COOKIE)
		cookie_header(cred, session);
	else
		bearer_header(cred, session);
	run(&(struct tu_request){ .method = "POST", .target = "/api/auth/tokens",
	    .headers = { cred, csrf_cases[_i].h1, csrf_cases[_i].h1 ? csrf_cases[_i].h2 : NULL } }, &r);
	ck_assert_msg(r.resp.status == csrf_cases[_i].status, "%s: %d %s", csrf_cases[_i].name,
	    r.resp.status, buf_str(&r.resp.body));
	if (csrf_cases[_i].status == 403) {
		tu_assert_error(&r, 403, "csrf");
		ck_assert_ptr_null(tu_json_str(r.json, "token"));
	}
	tu_result_free(&r);
}
END_TEST

/* Sign-up and sign-in are state-changing too (login CSRF). */
START_TEST(test_csrf_on_signup)
{
	struct tu_result r;
	struct user u;

	run(&(struct tu_request){ .method = "POST", .target = "/api/auth/signup", .headers = { JSON_CT },
	    .body = "{\"email\":\"x@example.com\",\"password\":\"" PASSWORD "\"}" }, &r);
	tu_assert_error(&r, 403, "csrf");
	ck_assert_int_eq(tu_resp_header_count(&r.resp, "Set-Cookie"), 0);
	tu_result_free(&r);
	ck_assert_int_eq(store_user_get_by_email(ta.app.store, "x@example.com", &u), STORE_NOT_FOUND);
}
END_TEST

/* --- sign-out -------------------------------------------------------------------------- */

static void
assert_cookie_cleared(const struct response *resp)
{
	char v[HDR_MAX], tok[TOKEN_MAX];

	ck_assert_int_eq(tu_session_cookie(resp, tok, sizeof tok), 0);
	ck_assert_str_eq(tok, "");
	ck_assert_ptr_nonnull(tu_resp_header(resp, "Set-Cookie", v, sizeof v));
	ck_assert_msg(cookie_attr(v, "Max-Age=0"), "%s", v);
	ck_assert_msg(cookie_attr(v, "Path=/"), "%s", v);
}

START_TEST(test_logout_this_session_only)
{
	char a[TOKEN_MAX], b[TOKEN_MAX], api[TOKEN_MAX];
	struct tu_result r;

	signup_ok("out@example.com", a);
	login_ok("out@example.com", b);
	api_token_ok(b, api);
	post_cookie("/api/auth/logout", a, NULL, &r);
	ck_assert_int_eq(r.resp.status, 200);
	assert_cookie_cleared(&r.resp);
	tu_result_free(&r);

	ck_assert_int_eq(me_status_cookie(a), 401);	/* revoked server-side, not just forgotten */
	ck_assert_int_eq(me_status_bearer(a), 401);
	ck_assert_int_eq(me_status_cookie(b), 200);
	ck_assert_int_eq(me_status_bearer(api), 200);
}
END_TEST

START_TEST(test_logout_needs_csrf)
{
	char a[TOKEN_MAX], ck[HDR_MAX];
	struct tu_result r;

	signup_ok("outcsrf@example.com", a);
	cookie_header(ck, a);
	run(&(struct tu_request){ .method = "POST", .target = "/api/auth/logout",
	    .headers = { ck, "Origin: https://evil.example" } }, &r);
	tu_assert_error(&r, 403, "csrf");
	tu_result_free(&r);
	ck_assert_int_eq(me_status_cookie(a), 200);
}
END_TEST

START_TEST(test_logout_everywhere)
{
	char a[TOKEN_MAX], b[TOKEN_MAX], api[TOKEN_MAX], c[TOKEN_MAX], api2[TOKEN_MAX], other[TOKEN_MAX];
	struct tu_result r;

	signup_ok("all@example.com", a);
	signup_ok("bystander@example.com", other);
	tu_clock_advance(1000);
	login_ok("all@example.com", b);
	api_token_ok(b, api);
	tu_clock_advance(1000);

	post_cookie("/api/auth/logout", a, "{\"everywhere\":true}", &r);
	ck_assert_int_eq(r.resp.status, 200);
	assert_cookie_cleared(&r.resp);
	tu_result_free(&r);
	ck_assert_int_eq(me_status_cookie(a), 401);
	ck_assert_int_eq(me_status_cookie(b), 401);
	ck_assert_int_eq(me_status_bearer(api), 401);
	ck_assert_int_eq(me_status_cookie(other), 200);	/* other accounts are untouched */

	/* Anything issued afterwards works. */
	tu_clock_advance(1);
	login_ok("all@example.com", c);
	ck_assert_int_eq(me_status_cookie(c), 200);
	api_token_ok(c, api2);
	ck_assert_int_eq(me_status_bearer(api2), 200);
	ck_assert_int_eq(me_status_cookie(b), 401);	/* and the old ones stay dead */
	ck_assert_int_eq(me_status_bearer(api), 401);
}
END_TEST

START_TEST(test_logout_everywhere_by_bearer)
{
	char a[TOKEN_MAX], api[TOKEN_MAX];
	struct tu_result r;

	signup_ok("allb@example.com", a);
	api_token_ok(a, api);
	tu_clock_advance(1000);
	post_bearer("/api/auth/logout", api, "{\"everywhere\":true}", &r);
	ck_assert_int_eq(r.resp.status, 200);
	tu_result_free(&r);
	ck_assert_int_eq(me_status_cookie(a), 401);
	ck_assert_int_eq(me_status_bearer(api), 401);
}
END_TEST

START_TEST(test_logout_edge_cases)
{
	char a[TOKEN_MAX];
	struct tu_result r;

	/* Not signed in: still 200, and the cookie is cleared. */
	run(&(struct tu_request){ .method = "POST", .target = "/api/auth/logout",
	    .headers = { ORIGIN } }, &r);
	ck_assert_int_eq(r.resp.status, 200);
	assert_cookie_cleared(&r.resp);
	tu_result_free(&r);

	/* everywhere must be a boolean; nothing is revoked otherwise. */
	signup_ok("edge@example.com", a);
	post_cookie("/api/auth/logout", a, "{\"everywhere\":\"yes\"}", &r);
	tu_assert_error(&r, 400, "bad_request");
	tu_result_free(&r);
	ck_assert_int_eq(me_status_cookie(a), 200);

	/* everywhere:false is an ordinary logout. */
	post_cookie("/api/auth/logout", a, "{\"everywhere\":false}", &r);
	ck_assert_int_eq(r.resp.status, 200);
	tu_result_free(&r);
	ck_assert_int_eq(me_status_cookie(a), 401);
}
END_TEST

/* --- the trial ------------------------------------------------------------------------- */

START_TEST(test_trial_start_once)
{
	char session[TOKEN_MAX];
	struct tu_result r;

	signup_ok("trial@example.com", session);
	post_cookie("/api/trial/start", session, NULL, &r);
	ck_assert_int_eq(r.resp.status, 200);
	ck_assert_str_eq(tu_json_str(r.json, "tier"), "trial");
	ck_assert(jbool(r.json, "trial.used"));
	ck_assert(jbool(r.json, "trial.active"));
	ck_assert(!jbool(r.json, "trial.can_start"));
	ck_assert_int_eq(jint(r.json, "trial.days_left"), 30);
	ck_assert_str_eq(tu_json_str(r.json, "trial.started_at"), "2026-01-01T00:00:00Z");
	ck_assert_str_eq(tu_json_str(r.json, "trial.expires_at"), "2026-01-31T00:00:00Z");
	ck_assert(jbool(r.json, "limits.custom_slugs"));	/* premium limits */
	ck_assert_int_eq(jint(r.json, "limits.max_file_bytes"), INT64_C(5) << 30);
	tu_result_free(&r);

	me_cookie(session, &r);
	ck_assert_str_eq(tu_json_str(r.json, "tier"), "trial");
	tu_result_free(&r);

	tu_clock_advance(60 * 1000);
	post_cookie("/api/trial/start", session, NULL, &r);
	tu_assert_error(&r, 409, "trial_already_used");
	tu_result_free(&r);
	/* The refused second start moved nothing. */
	me_cookie(session, &r);
	ck_assert_str_eq(tu_json_str(r.json, "trial.started_at"), "2026-01-01T00:00:00Z");
	tu_result_free(&r);
}
END_TEST

START_TEST(test_trial_expiry)
{
	char session[TOKEN_MAX], api[TOKEN_MAX];
	struct tu_result r;

	signup_ok("expire@example.com", session);
	api_token_ok(session, api);	/* lives 90 days; the session only 14 */
	post_bearer("/api/trial/start", api, NULL, &r);
	ck_assert_int_eq(r.resp.status, 200);
	tu_result_free(&r);

	/* The last second of the trial. */
	tu_clock_set((TU_EPOCH_S + TRIAL_SECONDS - 1) * 1000);
	me_bearer(api, &r);
	ck_assert_int_eq(r.resp.status, 200);
	ck_assert_str_eq(tu_json_str(r.json, "tier"), "trial");
	ck_assert_int_eq(jint(r.json, "trial.days_left"), 1);
	tu_result_free(&r);

	/* 30 days after the start: free again, for good. */
	tu_clock_advance(1000);
	me_bearer(api, &r);
	ck_assert_int_eq(r.resp.status, 200);
	ck_assert_str_eq(tu_json_str(r.json, "tier"), "free");
	ck_assert_str_eq(tu_json_str(r.json, "stored_tier"), "trial");
	ck_assert(jbool(r.json, "trial.used"));
	ck_assert(!jbool(r.json, "trial.active"));
	ck_assert(!jbool(r.json, "trial.can_start"));
	ck_assert_int_eq(jint(r.json, "trial.days_left"), 0);
	ck_assert(!jbool(r.json, "limits.custom_slugs"));
	ck_assert_int_eq(jint(r.json, "limits.max_file_bytes"), 100 << 20);
	tu_result_free(&r);

	post_bearer("/api/trial/start", api, NULL, &r);
	tu_assert_error(&r, 409, "trial_already_used");
	tu_result_free(&r);

	tu_clock_advance(40 * TU_DAY * 1000);
	post_bearer("/api/trial/start", api, NULL, &r);
	tu_assert_error(&r, 409, "trial_already_used");
	tu_result_free(&r);
}
END_TEST

START_TEST(test_trial_premium_refused)
{
	char session[TOKEN_MAX];
	struct tu_result r;
	struct user u;

	signup_ok("premium@example.com", session);
	ck_assert_int_eq(store_user_get_by_email(ta.app.store, "premium@example.com", &u), STORE_OK);
	ck_assert_int_eq(store_user_set_tier(ta.app.store, u.user_id, TIER_PREMIUM, TU_EPOCH_S), STORE_OK);
	me_cookie(session, &r);
	ck_assert_str_eq(tu_json_str(r.json, "tier"), "premium");
	ck_assert(!jbool(r.json, "trial.can_start"));
	tu_result_free(&r);
	post_cookie("/api/trial/start", session, NULL, &r);
	tu_assert_error(&r, 409, "already_premium");
	tu_result_free(&r);
	ck_assert_int_eq(store_user_get(ta.app.store, u.user_id, &u), STORE_OK);
	ck_assert(!u.trial_used);
}
END_TEST

START_TEST(test_trial_needs_sign_in)
{
	struct tu_result r;

	run(&(struct tu_request){ .method = "POST", .target = "/api/trial/start",
	    .headers = { ORIGIN } }, &r);
	tu_assert_error(&r, 401, "unauthorized");
	tu_result_free(&r);
}
END_TEST

/* --- QR codes (a route whose {} segment is followed by a suffix) ----------------------- */

static void
get_cookie(const char *method, const char *target, const char *tok, struct tu_result *r)
{
	char ck[HDR_MAX];

	cookie_header(ck, tok);
	run(&(struct tu_request){ .method = method, .target = target, .headers = { ck } }, r);
}

START_TEST(test_qr_own_link_only)
{
	char alice[TOKEN_MAX], bob[TOKEN_MAX], code[CODE_MAX], target[512], v[128];
	struct tu_result r, other;
	struct buf want = BUF_INIT, url = BUF_INIT;

	signup_ok("alice@example.com", alice);
	signup_ok("bob@example.com", bob);
	post_cookie("/api/links", alice, "{\"url\":\"https://example.com/some/long/path\"}", &r);
	ck_assert_msg(r.resp.status == 201, "create: %d %s", r.resp.status, buf_str(&r.resp.body));
	ck_assert_uint_lt(strlen(tu_json_str(r.json, "short_code")), sizeof code);
	strcpy(code, tu_json_str(r.json, "short_code"));
	tu_result_free(&r);

	/* The owner gets the SVG of the short URL: the segment before the suffix is the code. */
	snprintf(target, sizeof target, "/api/links/%s/qr.svg", code);
	get_cookie("GET", target, alice, &r);
	ck_assert_msg(r.resp.status == 200, "qr: %d %s", r.resp.status, buf_str(&r.resp.body));
	ck_assert_str_eq(tu_resp_header(&r.resp, "Content-Type", v, sizeof v), "image/svg+xml");
	ck_assert_ptr_nonnull(tu_resp_header(&r.resp, "Cache-Control", v, sizeof v));
	ck_assert_ptr_nonnull(strstr(v, "private"));
	buf_printf(&url, "%s/%s", TU_BASE_URL, code);
	ck_assert_int_gt(qr_svg(url.data, url.len, &want), 0);
	ck_assert_uint_eq(r.resp.body.len, want.len);
	ck_assert_int_eq(memcmp(r.resp.body.data, want.data, want.len), 0);
	tu_result_free(&r);

	get_cookie("HEAD", target, alice, &r);
	ck_assert_int_eq(r.resp.status, 200);
	ck_assert(r.resp.head);
	tu_result_free(&r);

	/* Someone else's code and an unknown one: the very answer GET /api/links/{code} gives. */
	get_cookie("GET", target, bob, &r);
	snprintf(target, sizeof target, "/api/links/%s", code);
	get_cookie("GET", target, bob, &other);
	tu_assert_error(&r, 404, "not_found");
	tu_assert_error(&other, 404, "not_found");
	ck_assert_str_eq(buf_str(&r.resp.body), buf_str(&other.resp.body));
	tu_result_free(&r);
	tu_result_free(&other);

	get_cookie("GET", "/api/links/Unknown1/qr.svg", alice, &r);
	get_cookie("GET", "/api/links/Unknown1", alice, &other);
	tu_assert_error(&r, 404, "not_found");
	ck_assert_str_eq(buf_str(&r.resp.body), buf_str(&other.resp.body));
	tu_result_free(&r);
	tu_result_free(&other);

	/* Not a code at all (an encoded slash): unknown, never looked up. A dot segment, which
	 * nginx resolves: refused before routing. */
	get_cookie("GET", "/api/links/a%2Fb/qr.svg", alice, &r);
	tu_assert_error(&r, 404, "not_found");
	tu_result_free(&r);
	get_cookie("GET", "/api/links/../qr.svg", alice, &r);
	tu_assert_error(&r, 400, "bad_request");
	tu_result_free(&r);

	/* Signed out: 401, as for every /api/links route. */
	run(&(struct tu_request){ .method = "GET", .target = "/api/links/Unknown1/qr.svg" }, &r);
	tu_assert_error(&r, 401, "unauthorized");
	tu_result_free(&r);
	buf_free(&want);
	buf_free(&url);
}
END_TEST

/* A segment longer than the router's buffer for it, before a suffix: no route (404, even
 * signed out), never a truncated segment handed to the handler. */
START_TEST(test_suffix_route_long_segment)
{
	enum { LEN = 16384 };
	char *target = malloc(LEN);
	struct tu_result r;

	ck_assert_ptr_nonnull(target);
	memset(target, 'a', LEN);
	memcpy(target, "/api/links/", 11);
	strcpy(target + LEN - 8, "/qr.svg");
	run(&(struct tu_request){ .method = "GET", .target = target }, &r);
	tu_assert_error(&r, 404, "not_found");
	tu_result_free(&r);
	free(target);
}
END_TEST

/* --- link opens answered as a group (the worker's batches; app_handle_group) ------------ */

static void
create_link(const char *tok, const char *body, char code[CODE_MAX])
{
	char ck[HDR_MAX];
	struct tu_result r;

	cookie_header(ck, tok);
	run(&(struct tu_request){ .method = "POST", .target = "/api/links",
	    .headers = { ORIGIN, JSON_CT, ck }, .body = body }, &r);
	ck_assert_msg(r.resp.status == 201, "create link: %d %s", r.resp.status, buf_str(&r.resp.body));
	snprintf(code, CODE_MAX, "%s", tu_json_str(r.json, "short_code"));
	tu_result_free(&r);
}

static int64_t
clicks_of(const char *code)
{
	struct link l;
	int64_t n;

	ck_assert_int_eq(store_link_get(ta.app.store, code, &l), STORE_OK);
	n = l.click_count;
	link_free(&l);
	return n;
}

/* Answers the requests "METHOD /path" as one group; statuses into st. */
static void
open_group(const char *const *lines, size_t n, int *st, char (*codes)[32])
{
	struct request reqs[8];
	struct response resps[8];
	struct tu_body bodies[8];
	char target[CODE_MAX + 8], method[8];
	size_t i;

	ck_assert_uint_le(n, 8);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(sscanf(lines[i], "%7s %72s", method, target), 2);
		tu_request_build(&reqs[i], &bodies[i], &(struct tu_request){ .method = method,
		    .target = target });
		ck_assert_msg(app_groupable(&reqs[i]), "%s is not groupable", lines[i]);
		resp_init(&resps[i]);
	}
	app_handle_group(&ta.app, reqs, resps, n);
	for (i = 0; i < n; i++) {
		st[i] = resps[i].status;
		snprintf(codes[i], sizeof codes[i], "%s", resps[i].error_code ? resps[i].error_code : "");
		resp_free(&resps[i]);
		req_free(&reqs[i]);
	}
}

static const struct {
	const char	*method, *target;
	bool		 groupable;
} groupable_cases[] = {
	{ "GET", "/abcdEFGH", true },
	{ "HEAD", "/abcdEFGH", true },
	{ "GET", "/my-custom_slug", true },
	{ "POST", "/abcdEFGH", false },		/* a password form: scrypt, never in a group */
	{ "DELETE", "/abcdEFGH", false },
	{ "GET", "/healthz", false },
	{ "GET", "/readyz", false },
	{ "GET", "/api/links", false },
	{ "GET", "/api/me", false },
	{ "GET", "/a/b", false },
	{ "GET", "/", false },
};

START_TEST(test_groupable)
{
	struct request req;
	struct tu_body body;

	tu_request_build(&req, &body, &(struct tu_request){ .method = groupable_cases[_i].method,
	    .target = groupable_cases[_i].target });
	ck_assert_msg(app_groupable(&req) == groupable_cases[_i].groupable, "%s %s",
	    groupable_cases[_i].method, groupable_cases[_i].target);
	req_free(&req);
}
END_TEST

START_TEST(test_group_counts_each_open)
{
	char tok[TOKEN_MAX], a[CODE_MAX], b[CODE_MAX], lines[7][CODE_MAX + 8], errs[7][32];
	const char *l[7];
	int st[7], i;

	signup_ok("group@example.com", tok);
	create_link(tok, "{\"url\":\"https://example.com/a\"}", a);
	create_link(tok, "{\"url\":\"https://example.com/b\",\"max_clicks\":2}", b);
	snprintf(lines[0], sizeof lines[0], "GET /%s", a);
	snprintf(lines[1], sizeof lines[1], "GET /%s", b);
	snprintf(lines[2], sizeof lines[2], "GET /%s", a);
	snprintf(lines[3], sizeof lines[3], "GET /%s", b);
	snprintf(lines[4], sizeof lines[4], "GET /%s", b);		/* third open of a 2-click link */
	snprintf(lines[5], sizeof lines[5], "GET /zzzzzzzz");	/* unknown */
	snprintf(lines[6], sizeof lines[6], "HEAD /%s", a);		/* answered, not counted */
	for (i = 0; i < 7; i++)
		l[i] = lines[i];
	open_group(l, 7, st, errs);
	ck_assert_int_eq(st[0], 302);
	ck_assert_int_eq(st[1], 302);
	ck_assert_int_eq(st[2], 302);
	ck_assert_int_eq(st[3], 302);
	ck_assert_int_eq(st[4], 410);
	ck_assert_int_eq(st[5], 404);
	ck_assert_int_eq(st[6], 302);
	ck_assert_int_eq(clicks_of(a), 2);
	ck_assert_int_eq(clicks_of(b), 2);
}
END_TEST

/* GET /code alone (not in a group): the status, and the Location into loc ("" if none). */
static int
open_one(const char *code, char loc[256])
{
	char target[CODE_MAX + 2];
	struct tu_result r;
	int st;

	snprintf(target, sizeof target, "/%s", code);
	run(&(struct tu_request){ .method = "GET", .target = target }, &r);
	st = r.resp.status;
	if (tu_resp_header(&r.resp, "Location", loc, 256) == NULL)
		loc[0] = '\0';
	tu_result_free(&r);
	return st;
}

/*
 * Another process's changes to a link are seen by the next open here, although this
 * worker's store may keep the links it opened (store_sqlite's link cache): a link deleted
 * there is 404 here, the same code created again with another URL redirects there, and
 * clicks counted by both add up against max_clicks, alone and in a group.
 */
START_TEST(test_opens_see_other_connections)
{
	char tok[TOKEN_MAX], a[CODE_MAX], loc[256], line[CODE_MAX + 8], errs[2][32];
	const char *lines[2] = { line, line };
	struct store *other = store_open(&ta.cfg);
	struct link old, l;
	int st[2];

	ck_assert_ptr_nonnull(other);
	signup_ok("othercon@example.com", tok);
	create_link(tok, "{\"url\":\"https://example.com/first\"}", a);
	ck_assert_int_eq(open_one(a, loc), 302);
	ck_assert_str_eq(loc, "https://example.com/first");
	snprintf(line, sizeof line, "GET /%s", a);
	open_group(lines, 1, st, errs);
	ck_assert_int_eq(st[0], 302);
	ck_assert_int_eq(clicks_of(a), 2);

	ck_assert_int_eq(store_link_get(ta.app.store, a, &l), STORE_OK);
	ck_assert_int_eq(store_link_delete(other, a, l.created_by_user, &old), STORE_OK);
	link_free(&l);
	ck_assert_int_eq(open_one(a, loc), 404);
	open_group(lines, 1, st, errs);
	ck_assert_int_eq(st[0], 404);

	free(old.full_url);
	old.full_url = strdup("https://example.com/second");
	old.click_count = 0;
	old.max_clicks = 3;
	ck_assert_int_eq(store_links_create(other, &old, 1, 1000, clock_now_ms() / 1000), STORE_OK);
	ck_assert_int_eq(open_one(a, loc), 302);
	ck_assert_str_eq(loc, "https://example.com/second");
	ck_assert_int_eq(store_link_open(other, a, clock_now_ms() / 1000, false, &l), STORE_OK);
	ck_assert_int_eq(l.click_count, 2);
	link_free(&l);
	open_group(lines, 2, st, errs);		/* the third click, then one too many */
	ck_assert_int_eq(st[0], 302);
	ck_assert_int_eq(st[1], 410);
	ck_assert_int_eq(store_link_open(other, a, clock_now_ms() / 1000, false, &l), STORE_GONE);
	ck_assert_int_eq(open_one(a, loc), 410);
	ck_assert_int_eq(clicks_of(a), 3);
	link_free(&old);
	store_close(other);
}
END_TEST

/*
 * Fault injection (a fake, on purpose): SQLite cannot be made to fail one BEGIN or COMMIT on
 * demand here, so the store's backend is swapped for a copy whose group_begin or group_end
 * reports failure. Every open of the group must then be answered 503, none as a redirect: a
 * redirect is only sent for a click that was stored.
 */
static struct store_backend failing_backend;

static enum store_rc
failing_group_op(struct store *s)
{
	(void)s;
	return STORE_UNAVAILABLE;
}

/* Opens a new link n times in one group with the backend's begin (or end) failing; returns the
 * link's clicks afterwards. */
static int64_t
open_group_failing(const char *email, bool at_begin, int n)
{
	const struct store_backend *real = ta.app.store->backend;
	char tok[TOKEN_MAX], a[CODE_MAX], lines[3][CODE_MAX + 8], errs[3][32];
	const char *l[3];
	int st[3], i;

	ck_assert_int_le(n, 3);
	signup_ok(email, tok);
	create_link(tok, "{\"url\":\"https://example.com/a\"}", a);
	failing_backend = *real;
	if (at_begin)
		failing_backend.group_begin = failing_group_op;
	else
		failing_backend.group_end = failing_group_op;
	ta.app.store->backend = &failing_backend;
	for (i = 0; i < n; i++) {
		snprintf(lines[i], sizeof lines[i], i == 1 ? "GET /zzzzzzzz" : "GET /%s", a);
		l[i] = lines[i];
	}
	open_group(l, (size_t)n, st, errs);
	/* The fake end left the group open: close it (SQLite: commit), as the real end would. */
	if (!at_begin && real->group_end != NULL)
		ck_assert_int_eq(real->group_end(ta.app.store), STORE_OK);
	ta.app.store->backend = real;
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(st[i], 503);
		ck_assert_str_eq(errs[i], "store_unavailable");
	}
	return clicks_of(a);
}

/* The store stays busy past its timeout at the group's start: every open is answered 503 at
 * once (none waits the timeout again on its own), and nothing is counted. */
START_TEST(test_group_begin_failure_answers_all_503)
{
	ck_assert_int_eq(open_group_failing("groupbusy@example.com", true, 3), 0);
}
END_TEST

START_TEST(test_group_commit_failure_answers_all_503)
{
	open_group_failing("groupfail@example.com", false, 3);
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static TCase *
tcase(const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, TU_TIMEOUT);
	return tc;
}

static Suite *
app_suite(void)
{
	Suite *s = suite_create("app");
	TCase *tc;

	tc = tcase("routing");
	tcase_add_loop_test(tc, test_routes, 0, N(route_cases));
	tcase_add_test(tc, test_healthz_readyz);
	tcase_add_test(tc, test_head_on_get_route);
	suite_add_tcase(s, tc);

	tc = tcase("bodies");
	tcase_add_loop_test(tc, test_body_limits, 0, N(limit_cases));
	tcase_add_test(tc, test_body_on_bodyless_route);
	tcase_add_loop_test(tc, test_invalid_json, 0, N(bad_json_cases));
	tcase_add_test(tc, test_json_depth);
	tcase_add_test(tc, test_json_trailing_whitespace_ok);
	tcase_add_loop_test(tc, test_invalid_utf8_in_strings, 0, N(bad_utf8_cases));
	suite_add_tcase(s, tc);

	tc = tcase("signup");
	tcase_add_test(tc, test_signup);
	tcase_add_test(tc, test_signup_https_secure_cookie);
	tcase_add_test(tc, test_signup_ten_character_password);
	tcase_add_loop_test(tc, test_signup_rejected, 0, N(bad_signup_cases));
	tcase_add_test(tc, test_signup_password_too_long);
	tcase_add_test(tc, test_signup_duplicate_email);
	suite_add_tcase(s, tc);

	tc = tcase("login");
	tcase_add_test(tc, test_login);
	tcase_add_test(tc, test_login_failures_look_alike);
	tcase_add_test(tc, test_login_bad_request);
	suite_add_tcase(s, tc);

	tc = tcase("me");
	tcase_add_test(tc, test_me_with_cookie_and_bearer);
	tcase_add_test(tc, test_api_token_create);
	tcase_add_test(tc, test_me_unauthorized);
	tcase_add_test(tc, test_session_expiry);
	suite_add_tcase(s, tc);

	tc = tcase("csrf");
	tcase_add_loop_test(tc, test_csrf, 0, N(csrf_cases));
	tcase_add_test(tc, test_csrf_on_signup);
	suite_add_tcase(s, tc);

	tc = tcase("logout");
	tcase_add_test(tc, test_logout_this_session_only);
	tcase_add_test(tc, test_logout_needs_csrf);
	tcase_add_test(tc, test_logout_everywhere);
	tcase_add_test(tc, test_logout_everywhere_by_bearer);
	tcase_add_test(tc, test_logout_edge_cases);
	suite_add_tcase(s, tc);

	tc = tcase("trial");
	tcase_add_test(tc, test_trial_start_once);
	tcase_add_test(tc, test_trial_expiry);
	tcase_add_test(tc, test_trial_premium_refused);
	tcase_add_test(tc, test_trial_needs_sign_in);
	suite_add_tcase(s, tc);

	tc = tcase("groups");
	tcase_add_loop_test(tc, test_groupable, 0, N(groupable_cases));
	tcase_add_test(tc, test_group_counts_each_open);
	tcase_add_test(tc, test_opens_see_other_connections);
	tcase_add_test(tc, test_group_commit_failure_answers_all_503);
	tcase_add_test(tc, test_group_begin_failure_answers_all_503);
	suite_add_tcase(s, tc);

	tc = tcase("qr");
	tcase_add_test(tc, test_qr_own_link_only);
	tcase_add_test(tc, test_suffix_route_long_segment);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(app_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
