/*
 * testutil: shared helpers for the Check programs (see testutil.h). This is the one test file
 * allowed to read the environment (FS_TEST_STORE, TMPDIR); everything else goes through
 * config_parse()'s getter.
 */
#include "testutil.h"
#include "admin.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "auth.h"
#include "buf.h"
#include "timeutil.h"
#include "xmalloc.h"

/* --- fake clock ------------------------------------------------------------------------ */

static int64_t fake_ms;

static int64_t
fake_clock(void)
{
	return fake_ms;
}

void
tu_clock_install(int64_t now_ms)
{
	fake_ms = now_ms;
	clock_now_ms = fake_clock;
}

void
tu_clock_set(int64_t now_ms)
{
	fake_ms = now_ms;
}

void
tu_clock_advance(int64_t ms)
{
	fake_ms += ms;
}

int64_t
tu_clock_ms(void)
{
	return fake_ms;
}

/* --- temporary directory --------------------------------------------------------------- */

static char tmpdir[PATH_MAX];
static pid_t tmpdir_owner;	/* processes forked by a test must not remove it */
static bool cleanup_registered;

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path) == -1 && errno != ENOENT)
		fprintf(stderr, "testutil: cannot remove %s: %s\n", path, strerror(errno));
	return 0;
}

/* A failed assertion ends the test's process without its teardown: remove the directory anyway. */
static void
cleanup_at_exit(void)
{
	if (tmpdir[0] != '\0' && tmpdir_owner == getpid())
		tu_tmpdir_remove();
}

const char *
tu_tmpdir_make(void)
{
	const char *base = getenv("TMPDIR");

	if (tmpdir[0] != '\0')
		tu_tmpdir_remove();
	snprintf(tmpdir, sizeof tmpdir, "%s/fs-check-XXXXXX", base && *base ? base : "/tmp");
	if (mkdtemp(tmpdir) == NULL)
		ck_abort_msg("mkdtemp(%s): %s", tmpdir, strerror(errno));
	tmpdir_owner = getpid();
	if (!cleanup_registered) {
		atexit(cleanup_at_exit);
		cleanup_registered = true;
	}
	return tmpdir;
}

void
tu_tmpdir_remove(void)
{
	if (tmpdir[0] == '\0')
		return;
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	tmpdir[0] = '\0';
}

const char *
tu_tmpdir(void)
{
	ck_assert_msg(tmpdir[0] != '\0', "no temporary directory: call tu_setup first");
	return tmpdir;
}

const char *
tu_path(const char *name)
{
	static char path[2 * PATH_MAX];
	int n = snprintf(path, sizeof path, "%s/%s", tu_tmpdir(), name);

	ck_assert_msg(n > 0 && (size_t)n < sizeof path, "path too long: %s", name);
	return path;
}

void
tu_setup(void)
{
	tu_clock_install(TU_EPOCH_S * 1000);
	auth_set_scrypt_cost(10, 8, 1);
	tu_tmpdir_make();
}

void
tu_teardown(void)
{
	tu_tmpdir_remove();
}

/* --- configurations -------------------------------------------------------------------- */

void
tu_vars_add(struct tu_vars *v, const char *name, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	buf_printf(&b, "%s=", name);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	v->v = xrealloc(v->v, (v->n + 1) * sizeof *v->v);
	v->v[v->n++] = buf_detach(&b);
}

void
tu_vars_addv(struct tu_vars *v, const char *const *lines)
{
	for (; lines != NULL && *lines != NULL; lines++) {
		v->v = xrealloc(v->v, (v->n + 1) * sizeof *v->v);
		v->v[v->n++] = xstrdup(*lines);
	}
}

void
tu_vars_free(struct tu_vars *v)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		free(v->v[i]);
	free(v->v);
	v->v = NULL;
	v->n = 0;
}

const char *
tu_vars_get(const char *name, void *ctx)
{
	const struct tu_vars *v = ctx;
	size_t i, nl = strlen(name);

	for (i = v->n; i-- > 0;)
		if (!strncmp(v->v[i], name, nl) && v->v[i][nl] == '=')
			return v->v[i] + nl + 1;
	return NULL;
}

int
tu_config(struct config *cfg, const char *const *lines, char *err, size_t errlen)
{
	struct tu_vars v = { NULL, 0 };
	int rc;

	tu_vars_addv(&v, lines);
	rc = config_parse(cfg, tu_vars_get, &v, err, errlen);
	tu_vars_free(&v);
	return rc;
}

/* --- store backends -------------------------------------------------------------------- */

static void
sqlite_vars(struct tu_vars *v)
{
	tu_vars_add(v, "SQLITE_PATH", "%s", tu_path("store.db"));
}

/*
 * DynamoDB: the endpoint, region and credentials come from this process's environment (the
 * runner started the SigV4-verifying proxy in front of dynalite); every test gets tables of
 * its own, named after its temporary directory.
 */
static void
dynamodb_vars(struct tu_vars *v)
{
	const char *names[] = { "AWS_ENDPOINT_URL_DYNAMODB", "AWS_REGION", "AWS_ACCESS_KEY_ID",
	    "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN" };
	const char *dir = tu_tmpdir(), *base = strrchr(dir, '/');
	size_t i;

	tu_vars_add(v, "USE_DYNAMODB", "true");
	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (getenv(names[i]) != NULL)
			tu_vars_add(v, names[i], "%s", getenv(names[i]));
	base = base ? base + 1 : dir;
	tu_vars_add(v, "DYNAMODB_USERS_TABLE_NAME", "ut-%s-users", base);
	tu_vars_add(v, "DYNAMODB_URLS_TABLE_NAME", "ut-%s-urls", base);
}

static void
dynamodb_prepare(const struct config *cfg)
{
	char *argv[] = { (char *)"create-tables", NULL };
	int out = dup(STDOUT_FILENO), null = open("/dev/null", O_WRONLY);

	/* Quietly: create-tables reports on stdout. */
	fflush(stdout);
	dup2(null, STDOUT_FILENO);
	ck_assert_msg(admin_create_tables(cfg, 1, argv) == 0, "create-tables failed");
	fflush(stdout);
	dup2(out, STDOUT_FILENO);
	close(out);
	close(null);
}

/* One entry per backend; FS_TEST_STORE picks one (default sqlite). */
static const struct tu_backend backends[] = {
	{ "sqlite", sqlite_vars, NULL },
	{ "dynamodb", dynamodb_vars, dynamodb_prepare },
};

const struct tu_backend *
tu_backend_selected(void)
{
	const char *name = getenv("FS_TEST_STORE");
	size_t i;

	if (name == NULL || *name == '\0')
		name = "sqlite";
	for (i = 0; i < sizeof backends / sizeof backends[0]; i++)
		if (!strcmp(backends[i].name, name))
			return &backends[i];
	fprintf(stderr, "FS_TEST_STORE=%s: no such store backend in the tests (known:", name);
	for (i = 0; i < sizeof backends / sizeof backends[0]; i++)
		fprintf(stderr, " %s", backends[i].name);
	fprintf(stderr, ")\n");
	return NULL;
}

void
tu_store_config(struct config *cfg, const char *const *extra)
{
	const struct tu_backend *b = tu_backend_selected();
	struct tu_vars v = { NULL, 0 };
	char err[512];
	int rc;

	ck_assert_ptr_nonnull(b);
	tu_vars_add(&v, "DATA_DIR", "%s", tu_tmpdir());
	tu_vars_add(&v, "SESSION_SECRET", "%s", TU_SECRET);
	tu_vars_add(&v, "PUBLIC_BASE_URL", "%s", TU_BASE_URL);
	b->vars(&v);
	tu_vars_addv(&v, extra);
	rc = config_parse(cfg, tu_vars_get, &v, err, sizeof err);
	tu_vars_free(&v);
	ck_assert_msg(rc == 0, "config_parse: %s", err);
	if (b->prepare != NULL)
		b->prepare(cfg);
}

void
tu_app_open(struct tu_app *ta, const char *const *extra)
{
	memset(ta, 0, sizeof *ta);
	tu_store_config(&ta->cfg, extra);
	ta->app.cfg = &ta->cfg;
	ta->app.store = store_open(&ta->cfg);
	ck_assert_msg(ta->app.store != NULL, "store_open failed");
	ta->app.blob = blob_open(&ta->cfg);
	ck_assert_msg(ta->app.blob != NULL, "blob_open failed");
}

void
tu_app_close(struct tu_app *ta)
{
	store_close(ta->app.store);
	ta->app.store = NULL;
	blob_close(ta->app.blob);
	ta->app.blob = NULL;
	config_free(&ta->cfg);
}

/* --- requests -------------------------------------------------------------------------- */

ssize_t
tu_body_read(void *ctx, void *buf, size_t n)
{
	struct tu_body *b = ctx;

	b->reads++;
	if (b->fail)
		return -1;
	if (n > b->len - b->pos)
		n = b->len - b->pos;
	if (b->chunk != 0 && n > b->chunk)
		n = b->chunk;
	memcpy(buf, b->data + b->pos, n);
	b->pos += n;
	return (ssize_t)n;
}

void
tu_request_build(struct request *req, struct tu_body *body, const struct tu_request *t)
{
	const char *q;
	size_t i;

	req_init(req);
	req_set_method(req, t->method);
	q = strchr(t->target, '?');
	req->path = q ? xstrndup(t->target, (size_t)(q - t->target)) : xstrdup(t->target);
	req->query = xstrdup(q ? q + 1 : "");
	req->remote_addr = xstrdup("127.0.0.1");
	for (i = 0; i < TU_MAX_HEADERS && t->headers[i] != NULL; i++) {
		const char *colon = strchr(t->headers[i], ':'), *v;
		char *name;

		ck_assert_msg(colon != NULL, "header without a colon: %s", t->headers[i]);
		name = xstrndup(t->headers[i], (size_t)(colon - t->headers[i]));
		for (v = colon + 1; *v == ' '; v++)
			;
		req_add_header(req, name, v);
		free(name);
	}
	memset(body, 0, sizeof *body);
	body->data = t->body ? t->body : "";
	body->len = t->body ? (t->body_len ? t->body_len : strlen(t->body)) : 0;
	body->chunk = t->chunk;
	if (t->body != NULL && !t->no_content_length)
		req->content_length = (int64_t)body->len;
	/* The FastCGI adapter always gives a reader, even for a request without a body. */
	req->body.read = tu_body_read;
	req->body.ctx = body;
}

static json_object *
parse_json(const struct buf *b)
{
	struct json_tokener *tok;
	json_object *o;

	if (b->len == 0)
		return NULL;
	tok = json_tokener_new();
	o = json_tokener_parse_ex(tok, b->data, (int)b->len);
	if (o != NULL && (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != b->len)) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

void
tu_handle(struct app *app, const struct tu_request *t, struct tu_result *res)
{
	struct request req;
	struct tu_body body;

	memset(res, 0, sizeof *res);
	tu_request_build(&req, &body, t);
	resp_init(&res->resp);
	app_handle(app, &req, &res->resp);
	res->drained = body.pos == body.len;
	res->json = parse_json(&res->resp.body);
	req_free(&req);
}

void
tu_result_free(struct tu_result *res)
{
	resp_free(&res->resp);
	json_object_put(res->json);
	res->json = NULL;
}

/* --- responses ------------------------------------------------------------------------- */

/* The value (not NUL-terminated, *vlen bytes) of the nth header called name, or NULL. */
static const char *
header_at(const struct response *r, const char *name, int nth, size_t *vlen)
{
	const char *p = buf_str(&r->headers), *eol, *colon;
	size_t nl = strlen(name);

	for (; *p; p = eol + 2) {
		eol = strstr(p, "\r\n");
		if (eol == NULL)
			break;
		colon = memchr(p, ':', (size_t)(eol - p));
		if (colon != NULL && (size_t)(colon - p) == nl && !strncasecmp(p, name, nl) &&
		    nth-- == 0) {
			colon++;
			while (*colon == ' ')
				colon++;
			*vlen = (size_t)(eol - colon);
			return colon;
		}
	}
	return NULL;
}

const char *
tu_resp_header(const struct response *r, const char *name, char *out, size_t outlen)
{
	size_t n;
	const char *v = header_at(r, name, 0, &n);

	if (v == NULL)
		return NULL;
	ck_assert_msg(n < outlen, "header %s is too long for the test's buffer", name);
	memcpy(out, v, n);
	out[n] = '\0';
	return out;
}

int
tu_resp_header_count(const struct response *r, const char *name)
{
	size_t n;
	int i = 0;

	while (header_at(r, name, i, &n) != NULL)
		i++;
	return i;
}

int
tu_session_cookie(const struct response *r, char *out, size_t outlen)
{
	const char *v, *end;
	size_t n, pl = strlen(SESSION_COOKIE "=");
	int i;

	for (i = 0; (v = header_at(r, "Set-Cookie", i, &n)) != NULL; i++) {
		if (n < pl || strncmp(v, SESSION_COOKIE "=", pl))
			continue;
		v += pl;
		n -= pl;
		end = memchr(v, ';', n);
		if (end != NULL)
			n = (size_t)(end - v);
		ck_assert_msg(n < outlen, "session cookie is too long for the test's buffer");
		memcpy(out, v, n);
		out[n] = '\0';
		return 0;
	}
	return -1;
}

json_object *
tu_json_get(json_object *o, const char *path)
{
	char key[128];
	const char *dot;
	size_t n;

	while (o != NULL && *path) {
		dot = strchr(path, '.');
		n = dot ? (size_t)(dot - path) : strlen(path);
		ck_assert_msg(n < sizeof key, "JSON path segment too long");
		memcpy(key, path, n);
		key[n] = '\0';
		if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &o))
			return NULL;
		path += n + (dot ? 1 : 0);
	}
	return o;
}

const char *
tu_json_str(json_object *o, const char *path)
{
	json_object *v = tu_json_get(o, path);

	return v != NULL && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

void
tu_garbage_begin(struct tu_garbage *g, size_t size)
{
	size_t i;

	mallopt(M_PERTURB, 0x55);
	for (i = 0; i < sizeof g->held / sizeof g->held[0]; i++)
		g->held[i] = xmalloc(size);
}

void
tu_garbage_end(struct tu_garbage *g)
{
	size_t i;

	for (i = 0; i < sizeof g->held / sizeof g->held[0]; i++) {
		free(g->held[i]);
		g->held[i] = NULL;
	}
}

char *
tu_read_file(const char *path, size_t *len)
{
	struct buf b = BUF_INIT;
	char chunk[4096];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	while ((n = read(fd, chunk, sizeof chunk)) > 0)
		buf_append(&b, chunk, (size_t)n);
	close(fd);
	if (n < 0) {
		buf_free(&b);
		return NULL;
	}
	if (len != NULL)
		*len = b.len;
	return buf_detach(&b);
}
