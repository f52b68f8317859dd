/*
 * fuzz_api: the whole HTTP API in process. app_handle() (src/app.c) answers requests built
 * from the fuzzer's bytes, against a real SQLite store and local blob directory in a
 * temporary directory, with two signed-in users and a few links of theirs already there, so
 * the fuzzed bodies reach the handlers behind authentication and the CSRF check: the JSON of
 * sign-up, login, link creation and upload tickets, multipart and raw uploads (streamed, or
 * as the file nginx buffered), query strings, hostile paths and codes, link passwords.
 *
 * Input: a route byte, a credentials/headers byte, a code byte, then lines: the path segment
 * or query, one header value (Content-Type, X-Link-Password, User-Agent or Accept, by route),
 * and the body (the rest).
 * Checks, beyond no crash or leak (libFuzzer runs LeakSanitizer after each input): the answer
 * is a real status and never 500; every header line is "Name: value" with no CR, LF or NUL
 * inside; a JSON answer parses, and every 4xx/5xx JSON answer has the error shape
 * {"error":{"code","message"}}; the request body is always read to its end; a file served
 * through nginx names an internal /_blobs/ path made of a valid key.
 * Every FUZZ_API_RESET inputs the store and blobs are thrown away and made again, so long runs
 * stay fast and deterministic enough.
 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "fuzz.h"
#include "fuzzcfg.h"

#include "app.h"
#include "auth.h"
#include "blob.h"
#include "buf.h"
#include "http.h"
#include "log.h"
#include "store.h"

#define FUZZ_API_RESET	2000
#define BOUNDARY	"----fuzzBoundary7MA4YWxkTrZu0gW"

static char tmpdir[64];
static struct config cfg;
static struct app app;
static unsigned long inputs;

/* The fixtures: cookies and a bearer token of two users, and codes of A's and B's links. */
static char cookie_a[TOKEN_MAX], cookie_b[TOKEN_MAX], bearer_a[TOKEN_MAX];
static char codes[4][CODE_MAX];

struct mem_body {
	const char	*p;
	size_t		 len, pos, chunk;
};

static ssize_t
mem_read(void *ctx, void *buf, size_t n)
{
	struct mem_body *b = ctx;

	if (n > b->len - b->pos)
		n = b->len - b->pos;
	if (b->chunk && n > b->chunk)
		n = b->chunk;
	memcpy(buf, b->p + b->pos, n);
	b->pos += n;
	return (ssize_t)n;
}

struct call {
	const char	*method;
	const char	*target;	/* path[?query] */
	const char	*headers[8][2];
	size_t		 nheaders;
	const char	*body;
	size_t		 len;
	size_t		 chunk;
	bool		 body_file;	/* as nginx hands uploads over */
	bool		 no_length;
};

static void
add_header(struct call *c, const char *name, const char *value)
{
	if (c->nheaders < 8 && value != NULL) {
		c->headers[c->nheaders][0] = name;
		c->headers[c->nheaders][1] = value;
		c->nheaders++;
	}
}

/* The checks every answer must pass. */
static void
check_response(const struct response *r)
{
	const char *h = buf_str(&r->headers), *eol, *colon, *ct = NULL;
	json_object *o, *e, *v;
	struct json_tokener *tok;
	size_t n;

	FUZZ_CHECK(r->status >= 200 && r->status <= 599);
	FUZZ_CHECK(r->status != 500);
	while (*h) {
		eol = strstr(h, "\r\n");
		FUZZ_CHECK(eol != NULL);
		n = (size_t)(eol - h);
		FUZZ_CHECK(!fuzz_has_crlf_nul(h, n));
		colon = memchr(h, ':', n);
		FUZZ_CHECK(colon != NULL && colon > h && colon[1] == ' ');
		if (!strncasecmp(h, "Content-Type: ", 14))
			ct = h + 14;
		if (!strncasecmp(h, "X-Accel-Redirect: ", 18)) {
			char key[BLOB_KEY_LEN + 1];

			FUZZ_CHECK(n == 18 + 8 + 3 + BLOB_KEY_LEN && !strncmp(h + 18, "/_blobs/", 8));
			memcpy(key, h + 18 + 11, BLOB_KEY_LEN);
			key[BLOB_KEY_LEN] = '\0';
			FUZZ_CHECK(blob_key_valid(key) && !strncmp(h + 26, key, 2));
		}
		h = eol + 2;
	}
	FUZZ_CHECK(r->headers.len == 0 || (h - r->headers.data == (long)r->headers.len));
	if (ct == NULL || strncmp(ct, "application/json", 16) || r->body.len == 0)
		return;
	tok = json_tokener_new();
	o = json_tokener_parse_ex(tok, r->body.data, (int)r->body.len);
	FUZZ_CHECK(o != NULL && json_tokener_get_error(tok) == json_tokener_success &&
	    (size_t)json_tokener_get_parse_end(tok) == r->body.len);
	FUZZ_CHECK(json_object_is_type(o, json_type_object));
	if (r->status >= 400) {
		FUZZ_CHECK(json_object_object_get_ex(o, "error", &e));
		FUZZ_CHECK(json_object_object_get_ex(e, "code", &v) && json_object_is_type(v, json_type_string));
		FUZZ_CHECK(json_object_object_get_ex(e, "message", &v) && json_object_is_type(v, json_type_string));
	}
	json_object_put(o);
	json_tokener_free(tok);
}

/* Runs one request through app_handle; out (optional) gets the response (caller frees). */
static int
run(const struct call *c, struct response *out)
{
	struct request req;
	struct response resp;
	struct mem_body mb = { c->body ? c->body : "", c->body ? c->len : 0, 0, c->chunk };
	const char *q = strchr(c->target, '?');
	char path[128] = "";
	size_t i;
	int status, fd;

	req_init(&req);
	req_set_method(&req, c->method);
	req.path = q ? strndup(c->target, (size_t)(q - c->target)) : strdup(c->target);
	req.query = strdup(q ? q + 1 : "");
	req.remote_addr = strdup("203.0.113.7");
	req_add_header(&req, "host", "fs.test");
	for (i = 0; i < c->nheaders; i++)
		req_add_header(&req, c->headers[i][0], c->headers[i][1]);
	if (c->body != NULL && !c->no_length)
		req.content_length = (int64_t)c->len;
	req.body.read = mem_read;
	req.body.ctx = &mb;
	if (c->body_file) {
		snprintf(path, sizeof path, "%s/body-upload", tmpdir);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		FUZZ_CHECK(fd != -1);
		FUZZ_CHECK(mb.len == 0 || write(fd, mb.p, mb.len) == (ssize_t)mb.len);
		close(fd);
		req_set_body_file(&req, path);
	}
	resp_init(&resp);
	app_handle(&app, &req, &resp);
	check_response(&resp);
	/* Always read to its end (app.c answers a path without its leading '/', which nginx
	 * never sends, before reading anything: libfcgi discards the rest then). */
	if (!c->body_file && c->target[0] == '/')
		FUZZ_CHECK(mb.pos == mb.len);
	req_free(&req);
	if (path[0])
		unlink(path);
	status = resp.status;
	if (out != NULL)
		*out = resp;
	else
		resp_free(&resp);
	return status;
}

/* The session cookie a response sets, into out. */
static void
take_cookie(const struct response *r, char *out, size_t outlen)
{
	const char *p = strstr(buf_str(&r->headers), "Set-Cookie: " SESSION_COOKIE "="), *end;

	FUZZ_CHECK(p != NULL);
	p += strlen("Set-Cookie: " SESSION_COOKIE "=");
	end = strchr(p, ';');
	FUZZ_CHECK(end != NULL && (size_t)(end - p) < outlen);
	memcpy(out, p, (size_t)(end - p));
	out[end - p] = '\0';
}

/* A string member of a JSON response body, into out. */
static void
take_json(const struct response *r, const char *name, char *out, size_t outlen)
{
	json_object *o = json_tokener_parse(buf_str(&r->body)), *v;

	FUZZ_CHECK(o != NULL && json_object_object_get_ex(o, name, &v));
	snprintf(out, outlen, "%s", json_object_get_string(v));
	json_object_put(o);
}

static void
fixture_call(const char *method, const char *target, const char *cookie, const char *body,
    int want, const char *take, char *out, size_t outlen)
{
	struct call c = { .method = method, .target = target, .body = body,
	    .len = body ? strlen(body) : 0 };
	struct response r;
	char hdr[TOKEN_MAX + 16];

	if (cookie != NULL) {
		snprintf(hdr, sizeof hdr, SESSION_COOKIE "=%s", cookie);
		add_header(&c, "cookie", hdr);
	}
	add_header(&c, "origin", FUZZ_BASE_URL);
	add_header(&c, "content-type", "application/json");
	FUZZ_CHECK(run(&c, &r) == want);
	if (take != NULL && !strcmp(take, "cookie"))
		take_cookie(&r, out, outlen);
	else if (take != NULL)
		take_json(&r, take, out, outlen);
	resp_free(&r);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
close_app(void)
{
	store_close(app.store);
	blob_close(app.blob);
	app.store = NULL;
	app.blob = NULL;
	if (tmpdir[0])
		nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh store and blob directory with the fixtures in them. */
static void
open_app(void)
{
	static const char *const vars[] = {
		"SESSION_SECRET=" FUZZ_SECRET, "PUBLIC_BASE_URL=" FUZZ_BASE_URL,
		"FREE_MAX_FILE_SIZE=64K", "PREMIUM_MAX_FILE_SIZE=256K", "FREE_MAX_LINKS=200",
		"PREMIUM_MAX_LINKS=400", "PURGE_INTERVAL=0", "LOG_LEVEL=debug", NULL, NULL,
	};
	const char *v[sizeof vars / sizeof vars[0]];
	char datadir[96];

	/* On tmpfs when there is one: the store and the blobs fsync on every write. */
	FUZZ_CHECK(mkdtemp(strcpy(tmpdir, access("/dev/shm", W_OK) == 0 ? "/dev/shm/fuzz-api-XXXXXX" :
	    "/tmp/fuzz-api-XXXXXX")) != NULL);
	memcpy(v, vars, sizeof vars);
	snprintf(datadir, sizeof datadir, "DATA_DIR=%s", tmpdir);
	v[sizeof vars / sizeof vars[0] - 2] = datadir;
	config_free(&cfg);
	memset(&cfg, 0, sizeof cfg);
	fuzzcfg_parse(&cfg, v);
	app.cfg = &cfg;
	FUZZ_CHECK((app.store = store_open(&cfg)) != NULL);
	FUZZ_CHECK((app.blob = blob_open(&cfg)) != NULL);

	fixture_call("POST", "/api/auth/signup", NULL,
	    "{\"email\":\"alice@example.com\",\"password\":\"correct horse battery staple\"}", 201,
	    "cookie", cookie_a, sizeof cookie_a);
	fixture_call("POST", "/api/auth/signup", NULL,
	    "{\"email\":\"bob@example.com\",\"password\":\"correct horse battery staple\"}", 201,
	    "cookie", cookie_b, sizeof cookie_b);
	fixture_call("POST", "/api/auth/tokens", cookie_a, "{}", 201, "token", bearer_a, sizeof bearer_a);
	fixture_call("POST", "/api/trial/start", cookie_a, "{}", 200, NULL, NULL, 0);
	fixture_call("POST", "/api/links", cookie_a, "{\"url\":\"https://example.com/a\"}", 201,
	    "short_code", codes[0], sizeof codes[0]);
	fixture_call("POST", "/api/links", cookie_a,
	    "{\"url\":\"https://example.com/pw\",\"password\":\"open sesame\",\"max_clicks\":1000000}",
	    201, "short_code", codes[1], sizeof codes[1]);
	fixture_call("PUT", "/api/files/hello.txt", cookie_a, "hello, world\n", 201, "short_code",
	    codes[2], sizeof codes[2]);
	fixture_call("POST", "/api/links", cookie_b, "{\"url\":\"https://example.org/b\"}", 201,
	    "short_code", codes[3], sizeof codes[3]);
}

static void
at_exit(void)
{
	close_app();
	config_free(&cfg);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	auth_set_scrypt_cost(1, 1, 1);	/* the KDF is not what is fuzzed here */
	open_app();
	atexit(at_exit);
	return 0;
}

enum route {
	R_SIGNUP, R_LOGIN, R_LOGOUT, R_TOKENS, R_ME, R_TRIAL, R_LINK_CREATE, R_LINKS_LIST,
	R_LINK_GET, R_LINK_DELETE, R_LINK_QR, R_FILES_POST, R_FILES_PUT, R_UPLOADS, R_UPLOAD_DONE,
	R_OPEN, R_UNLOCK, R_OPEN_HEAD, R_RAW, R_READYZ, R_COUNT
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t route = fuzz_byte(&in) % R_COUNT, cred = fuzz_byte(&in), which = fuzz_byte(&in);
	char *param = fuzz_line_dup(&in), *hval = fuzz_line_dup(&in), *body;
	char target[4096], cookie[TOKEN_MAX + 64], bearer[TOKEN_MAX + 16], *method_line = NULL;
	const char *code;
	struct call c;
	size_t blen;

	if (++inputs % FUZZ_API_RESET == 0) {
		close_app();
		open_app();
	}
	body = fuzz_rest_dup(&in, &blen);
	memset(&c, 0, sizeof c);
	c.body = body;
	c.len = blen;
	c.chunk = (cred & 0x80) ? 1 + (which >> 4) : 0;
	c.no_length = (cred & 0x40) != 0;
	code = (which & 7) < 4 ? codes[which & 7] : param;

	/* Who asks: nobody, A by cookie or token, B, or a forged/garbage cookie. */
	switch (cred & 7) {
	case 1: case 5:
		snprintf(cookie, sizeof cookie, SESSION_COOKIE "=%s", cookie_a);
		add_header(&c, "cookie", cookie);
		break;
	case 2:
		snprintf(bearer, sizeof bearer, "Bearer %s", bearer_a);
		add_header(&c, "authorization", bearer);
		break;
	case 3:
		snprintf(cookie, sizeof cookie, SESSION_COOKIE "=%s", cookie_b);
		add_header(&c, "cookie", cookie);
		break;
	case 4:
		snprintf(cookie, sizeof cookie, "%s", hval);
		add_header(&c, "cookie", cookie);
		break;
	}
	if (cred & 0x08)
		add_header(&c, "origin", (cred & 0x10) ? "https://evil.example" : FUZZ_BASE_URL);
	else if (cred & 0x10)
		add_header(&c, "sec-fetch-site", (cred & 0x20) ? "cross-site" : "same-origin");

	switch ((enum route)route) {
	case R_SIGNUP: case R_LOGIN: case R_LOGOUT: case R_TOKENS: case R_TRIAL: case R_LINK_CREATE:
	case R_UPLOADS:
		c.method = "POST";
		c.target = route == R_SIGNUP ? "/api/auth/signup" : route == R_LOGIN ? "/api/auth/login" :
		    route == R_LOGOUT ? "/api/auth/logout" : route == R_TOKENS ? "/api/auth/tokens" :
		    route == R_TRIAL ? "/api/trial/start" : route == R_UPLOADS ? "/api/uploads" : "/api/links";
		add_header(&c, "content-type", (cred & 0x20) ? hval : "application/json");
		/* Logging out would void the fixtures' sessions: only other sessions do that. */
		if (route == R_LOGOUT && (cred & 7) != 4) {
			c.nheaders = 0;
			add_header(&c, "content-type", "application/json");
		}
		break;
	case R_ME:
		c.method = "GET";
		c.target = "/api/me";
		c.body = NULL;
		break;
	case R_LINKS_LIST:
		snprintf(target, sizeof target, "/api/links?%s", param);
		c.method = "GET";
		c.target = target;
		c.body = NULL;
		break;
	case R_LINK_GET: case R_LINK_DELETE: case R_LINK_QR:
		snprintf(target, sizeof target, "/api/links/%s%s", code, route == R_LINK_QR ? "/qr.svg" : "");
		c.method = route == R_LINK_DELETE ? "DELETE" : "GET";
		c.target = target;
		c.body = NULL;
		/* Deleting a fixture would starve later inputs until the next reset. */
		if (route == R_LINK_DELETE && (which & 7) < 4)
			c.method = "GET";
		break;
	case R_FILES_POST:
		c.method = "POST";
		c.target = (which & 8) ? "/api/files?expires_in=3600&max_clicks=3" : "/api/files";
		add_header(&c, "content-type", (cred & 0x20) ? hval :
		    "multipart/form-data; boundary=" BOUNDARY);
		c.body_file = (which & 0x10) != 0;
		break;
	case R_FILES_PUT:
		snprintf(target, sizeof target, "/api/files/%s", param);
		c.method = "PUT";
		c.target = target;
		add_header(&c, "x-link-password", (cred & 0x20) ? hval : NULL);
		c.body_file = (which & 0x10) != 0;
		break;
	case R_UPLOAD_DONE:
		snprintf(target, sizeof target, "/api/uploads/%s/complete", param);
		c.method = "POST";
		c.target = target;
		add_header(&c, "content-type", "application/json");
		break;
	case R_OPEN: case R_OPEN_HEAD:
		snprintf(target, sizeof target, "/%s", code);
		c.method = route == R_OPEN ? "GET" : "HEAD";
		c.target = target;
		c.body = NULL;
		add_header(&c, (cred & 0x20) ? "user-agent" : "accept", hval);
		break;
	case R_UNLOCK:
		snprintf(target, sizeof target, "/%s", code);
		c.method = "POST";
		c.target = target;
		add_header(&c, "content-type", (cred & 0x20) ? hval : "application/x-www-form-urlencoded");
		add_header(&c, "accept", "text/html");
		break;
	case R_RAW:	/* any method and target at all */
		method_line = hval;
		c.method = method_line;
		snprintf(target, sizeof target, "%s", param);
		c.target = target;
		break;
	case R_READYZ:
		c.method = "GET";
		c.target = "/readyz";
		c.body = NULL;
		break;
	case R_COUNT:
		break;
	}
	if (c.body == NULL)
		c.len = 0;
	(void)run(&c, NULL);
	free(param);
	free(hval);
	free(body);
	return 0;
}
