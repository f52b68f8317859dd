/*
 * handlers_links: creating links (shortened URLs and uploaded files), listing, reading and
 * deleting the caller's own links. Tier limits are enforced here, from the caller's effective
 * tier; the blob and store backends are whatever the app was given.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "app.h"
#include "linkops.h"
#include "blob.h"
#include "linkrules.h"
#include "log.h"
#include "multipart.h"
#include "num.h"
#include "trial.h"
#include "views.h"
#include "xmalloc.h"

#define CREATE_ATTEMPTS		5	/* new random codes tried when one is taken */
#define MIN_LIFETIME_S		60
#define MAX_CLICKS_LIMIT	1000000000
#define LINK_PASSWORD_MAX	1024
#define MAX_FILES_PER_UPLOAD	20
#define FIELD_MAX		1024
#define LIST_DEFAULT		20
#define LIST_MAX		100

const struct tier_limits *
links_limits(struct ctx *c)
{
	return &c->app->cfg->limits[user_effective_tier(&c->user, c->now)];
}

static void
premium_required(struct ctx *c, const char *what)
{
	resp_error(c->resp, 403, "premium_required",
	    "%s is a premium feature. Start your free 30-day premium trial (or upgrade) to use it.",
	    what);
}

int
link_opts_parse(struct ctx *c, const char *expires_in, const char *max_clicks, const char *password,
    size_t pwlen, struct link_opts *o)
{
	const struct tier_limits *lim = links_limits(c);
	int64_t v;

	memset(o, 0, sizeof *o);
	o->expires_at = c->now + lim->default_lifetime_s;
	if (expires_in != NULL) {
		if (num_parse_i64(expires_in, 1, INT64_MAX / 4, &v) == -1 || v < MIN_LIFETIME_S) {
			resp_error(c->resp, 400, "invalid_expiry",
			    "expires_in must be a whole number of seconds, at least %d.", MIN_LIFETIME_S);
			return -1;
		}
		if (v > lim->max_lifetime_s) {
			if (!lim->custom_slugs)
				resp_error(c->resp, 403, "premium_required",
				    "Links on the free tier last at most %lld days. Start your free "
				    "premium trial for links that last up to %lld days.",
				    (long long)(lim->max_lifetime_s / 86400),
				    (long long)(c->app->cfg->limits[TIER_PREMIUM].max_lifetime_s / 86400));
			else
				resp_error(c->resp, 400, "invalid_expiry",
				    "Links last at most %lld days (expires_in %lld seconds).",
				    (long long)(lim->max_lifetime_s / 86400), (long long)lim->max_lifetime_s);
			return -1;
		}
		o->expires_at = c->now + v;
	}
	if (max_clicks != NULL &&
	    num_parse_i64(max_clicks, 1, MAX_CLICKS_LIMIT, &o->max_clicks) == -1) {
		resp_error(c->resp, 400, "invalid_max_clicks",
		    "max_clicks must be a whole number from 1 to %d.", MAX_CLICKS_LIMIT);
		return -1;
	}
	if (password != NULL) {
		if (!lim->custom_slugs) {
			premium_required(c, "A password-protected link");
			return -1;
		}
		if (pwlen == 0 || pwlen > LINK_PASSWORD_MAX || memchr(password, '\0', pwlen) != NULL) {
			resp_error(c->resp, 400, "invalid_password",
			    "A link password must be 1 to %d bytes.", LINK_PASSWORD_MAX);
			return -1;
		}
		if (password_hash(password, pwlen, o->password_hash) == -1) {
			resp_error(c->resp, 500, "internal", "Could not protect the link; try again.");
			return -1;
		}
		o->has_password = true;
	}
	return 0;
}

void
link_init(struct ctx *c, struct link *l, const struct link_opts *o)
{
	memset(l, 0, sizeof *l);
	snprintf(l->created_by_user, sizeof l->created_by_user, "%s", c->user.user_id);
	l->created_at = c->now;
	l->expires_at = o->expires_at;
	l->max_clicks = o->max_clicks;
	l->password_hash = o->has_password ? (char *)o->password_hash : NULL;
}

int
links_store(struct ctx *c, struct link *links, size_t n, bool custom)
{
	const struct tier_limits *lim = links_limits(c);
	enum store_rc rc = STORE_CONFLICT;
	size_t i;
	int attempt;

	for (attempt = 0; attempt < CREATE_ATTEMPTS && rc == STORE_CONFLICT; attempt++) {
		if (!custom)
			for (i = 0; i < n; i++)
				link_new_code(links[i].short_code,
				    links[i].file_key[0] ? CODE_LEN_FILE : CODE_LEN_URL);
		rc = store_links_create(c->app->store, links, n, lim->max_active_links, c->now);
		if (rc == STORE_CONFLICT && custom)
			break;
		if (rc == STORE_CONFLICT)
			log_warnx("short code collision (attempt %d); drawing new codes", attempt + 1);
	}
	switch (rc) {
	case STORE_OK:
		return 0;
	case STORE_CONFLICT:
		if (custom)
			resp_error(c->resp, 409, "slug_taken",
			    "The custom link \"%s\" is already taken; choose another.", links[0].short_code);
		else
			resp_error(c->resp, 503, "code_space_busy", "Could not find a free short code; try again.");
		return -1;
	case STORE_QUOTA:
		resp_error(c->resp, 429, "link_quota_reached",
		    "This account already has %lld active links, the most its tier allows. Delete "
		    "some links%s.", (long long)lim->max_active_links,
		    lim->custom_slugs ? "" : ", or start your free premium trial for up to 10,000");
		return -1;
	default:
		app_store_error(c, rc);
		return -1;
	}
}

/* POST /api/links {url, slug?, expires_in?, max_clicks?, password?}: 201 with the link;
 * 400 invalid_url/invalid_slug/invalid_expiry/invalid_max_clicks/invalid_json; 403
 * premium_required; 409 slug_taken; 429 link_quota_reached; 503 store down. */
void
h_link_create(struct ctx *c)
{
	json_object *body = app_json_body(c);
	struct buf url = BUF_INIT, slug = BUF_INIT, exp = BUF_INIT, clicks = BUF_INIT, pw = BUF_INIT;
	const char *own[2], *why = NULL, *host;
	struct link_opts o;
	struct link l;
	int has_url, has_slug, has_exp, has_clicks, has_pw, rs;
	char hostbuf[256];

	if (body == NULL)
		return;
	has_url = app_json_text(body, "url", &url);
	has_slug = app_json_text(body, "slug", &slug);
	has_exp = app_json_text(body, "expires_in", &exp);
	has_clicks = app_json_text(body, "max_clicks", &clicks);
	has_pw = app_json_text(body, "password", &pw);
	if (has_url != 1 || has_slug < 0 || has_exp < 0 || has_clicks < 0 || has_pw < 0) {
		resp_error(c->resp, 400, has_url != 1 ? "invalid_url" : "bad_request", has_url != 1 ?
		    "Send the address to shorten as url, a string starting with http:// or https://." :
		    "slug and password must be strings; expires_in and max_clicks whole numbers.");
		goto done;
	}
	/* This service's own names: the public one and the one this request came in on. */
	own[0] = strstr(c->app->cfg->public_base_url, "://") + 3;
	host = req_header(c->req, "host");
	snprintf(hostbuf, sizeof hostbuf, "%s", host ? host : own[0]);
	own[1] = hostbuf;
	if (link_check_url(url.data, url.len, own, 2, &why) == -1) {
		resp_error(c->resp, 400, "invalid_url", "That address cannot be shortened: %s.", why);
		goto done;
	}
	if (has_slug) {
		if (!links_limits(c)->custom_slugs) {
			premium_required(c, "A custom short link");
			goto done;
		}
		rs = link_check_slug(slug.data, slug.len);
		if (rs != 0) {
			resp_error(c->resp, 400, "invalid_slug", rs == -2 ?
			    "That custom link is reserved by the site; choose another." :
			    "A custom link is 4 to 64 letters, digits, '-' or '_'.");
			goto done;
		}
	}
	if (link_opts_parse(c, has_exp ? exp.data : NULL, has_clicks ? clicks.data : NULL,
	    has_pw ? pw.data : NULL, pw.len, &o) == -1)
		goto done;
	link_init(c, &l, &o);
	l.full_url = url.data;
	if (has_slug)
		snprintf(l.short_code, sizeof l.short_code, "%s", slug.data);
	if (links_store(c, &l, 1, has_slug) == 0) {
		log_info("link %s created by %s", l.short_code, c->user.user_id);
		app_send_json(c, 201, view_link(c->app->cfg, &l, c->now));
	}
done:
	OPENSSL_cleanse(pw.data ? pw.data : (char *)"", pw.len);
	OPENSSL_cleanse(o.password_hash, sizeof o.password_hash);
	buf_free(&url);
	buf_free(&slug);
	buf_free(&exp);
	buf_free(&clicks);
	buf_free(&pw);
	json_object_put(body);
}

void
file_too_large(struct ctx *c)
{
	const struct tier_limits *lim = links_limits(c);

	resp_error(c->resp, 413, "file_too_large",
	    "Files can be at most %llu MiB on this account's tier%s.",
	    (unsigned long long)(lim->max_file_bytes >> 20),
	    lim->custom_slugs ? "" : "; start your free premium trial to upload up to 5 GiB");
}

void
blob_error(struct ctx *c, enum blob_rc rc)
{
	if (rc == BLOB_NOSPACE)
		resp_error(c->resp, 507, "storage_full",
		    "The file store is full; the upload was not kept. Try again later.");
	else
		resp_error(c->resp, 503, "storage_unavailable",
		    "The file store failed; the upload was not kept. Try again shortly.");
}

/* Copies the body into a new blob through a writer, enforcing max. -1 after answering. */
static int
stream_body(struct ctx *c, const char *key, uint64_t max, uint64_t *size)
{
	struct blob *b = c->app->blob;
	struct blob_writer *w = blob_writer_open(b, key);
	char chunk[65536];
	enum blob_rc rc;
	ssize_t n;

	*size = 0;
	if (w == NULL) {
		blob_error(c, BLOB_IO);
		return -1;
	}
	while ((n = c->req->body.read(c->req->body.ctx, chunk, sizeof chunk)) > 0) {
		*size += (uint64_t)n;
		if (*size > max) {
			blob_writer_abort(b, w);
			req_drain_body(c->req);
			file_too_large(c);
			return -1;
		}
		if ((rc = blob_writer_write(b, w, chunk, (size_t)n)) != BLOB_OK) {
			blob_writer_abort(b, w);
			req_drain_body(c->req);
			blob_error(c, rc);
			return -1;
		}
	}
	c->req->body_consumed = true;
	if (n < 0) {
		blob_writer_abort(b, w);
		resp_error(c->resp, 400, "upload_incomplete", "The upload ended early; nothing was kept.");
		return -1;
	}
	if ((rc = blob_writer_commit(b, w)) != BLOB_OK) {
		blob_error(c, rc);
		return -1;
	}
	return 0;
}

/* PUT /api/files/{filename} with the raw body (curl -T): 201 with the file's link; 400 bad
 * options; 403 premium_required; 413 file_too_large; 429 link_quota_reached; 503/507. */
void
h_file_put(struct ctx *c)
{
	const struct tier_limits *lim = links_limits(c);
	struct buf name = BUF_INIT, clean = BUF_INIT, ctype = BUF_INIT, exp = BUF_INIT,
	    clicks = BUF_INIT;
	const char *pw = req_header(c->req, "x-link-password");
	char key[BLOB_KEY_LEN + 1];
	struct link_opts o;
	struct link l;
	uint64_t size = 0;
	enum blob_rc rc;
	uint64_t declared = 0;
	struct stat st;
	int he, hc;

	memset(&o, 0, sizeof o);
	if (url_decode(c->param, strlen(c->param), false, &name) == -1) {
		resp_error(c->resp, 400, "invalid_filename", "The file name in the address is malformed.");
		goto done;
	}
	link_clean_filename(name.data, name.len, &clean);
	/* nginx buffered the body already: its file (or Content-Length) gives the exact size. */
	if (c->req->body_file != NULL && stat(c->req->body_file, &st) == 0)
		declared = (uint64_t)st.st_size;
	else if (c->req->content_length >= 0)
		declared = (uint64_t)c->req->content_length;
	if (declared > lim->max_file_bytes) {
		file_too_large(c);
		goto done;
	}
	he = req_query(c->req, "expires_in", &exp);
	hc = req_query(c->req, "max_clicks", &clicks);
	if (he == -2 || hc == -2) {
		resp_error(c->resp, 400, "bad_request", "The query string is malformed.");
		goto done;
	}
	if (link_opts_parse(c, he == 0 ? exp.data : NULL, hc == 0 ? clicks.data : NULL, pw,
	    pw ? strlen(pw) : 0, &o) == -1)
		goto done;
	blob_new_key(key);
	rc = BLOB_UNSUPPORTED;
	if (c->req->body_file != NULL) {
		rc = blob_put_file(c->app->blob, key, c->req->body_file);
		if (rc != BLOB_OK && rc != BLOB_UNSUPPORTED) {
			blob_error(c, rc);
			goto done;
		}
		size = declared;
	}
	if (rc == BLOB_UNSUPPORTED && stream_body(c, key, lim->max_file_bytes, &size) == -1)
		goto done;
	link_content_type(req_header(c->req, "content-type"), clean.data, &ctype);
	link_init(c, &l, &o);
	snprintf(l.file_key, sizeof l.file_key, "%s", key);
	l.filename = clean.data;
	l.file_size = size;
	l.content_type = ctype.data;
	if (links_store(c, &l, 1, false) == -1) {
		blob_remove(c->app->blob, key);
		goto done;
	}
	log_info("file link %s (%llu bytes) created by %s", l.short_code, (unsigned long long)size,
	    c->user.user_id);
	app_send_json(c, 201, view_link(c->app->cfg, &l, c->now));
done:
	OPENSSL_cleanse(o.password_hash, sizeof o.password_hash);
	buf_free(&name);
	buf_free(&clean);
	buf_free(&ctype);
	buf_free(&exp);
	buf_free(&clicks);
}

/* State of one multipart upload: files committed so far and the option fields. */
struct upload {
	struct ctx		*c;
	uint64_t		 max;
	struct blob_writer	*w;
	uint64_t		 size;
	size_t			 n;
	struct {
		char		 key[BLOB_KEY_LEN + 1];
		struct buf	 filename;
		struct buf	 ctype;
		uint64_t	 size;
	} files[MAX_FILES_PER_UPLOAD];
	struct buf		*field;		/* the option field being read, or NULL */
	struct buf		 expires_in, max_clicks, password;
	bool			 has_expires_in, has_max_clicks, has_password;
	bool			 answered;	/* an error response is already set */
};

static int
up_fail(struct upload *u, int status, const char *code, const char *msg)
{
	if (!u->answered)
		resp_error(u->c->resp, status, code, "%s", msg);
	u->answered = true;
	return -1;
}

static int
up_begin(void *ctx, const struct multipart_part *p)
{
	struct upload *u = ctx;
	struct buf *fn;

	u->field = NULL;
	if (p->filename != NULL && !strcmp(p->name, "file")) {
		if (u->n == MAX_FILES_PER_UPLOAD)
			return up_fail(u, 400, "too_many_files", "Send at most 20 files at once.");
		blob_new_key(u->files[u->n].key);
		if ((u->w = blob_writer_open(u->c->app->blob, u->files[u->n].key)) == NULL)
			return up_fail(u, 503, "storage_unavailable",
			    "The file store failed; nothing was kept. Try again shortly.");
		fn = &u->files[u->n].filename;
		buf_reset(fn);
		link_clean_filename(p->filename, p->filename_len, fn);
		buf_reset(&u->files[u->n].ctype);
		link_content_type(p->content_type, fn->data, &u->files[u->n].ctype);
		u->size = 0;
		return 0;
	}
	if (p->filename != NULL)
		return 0;	/* a file under another name: ignored */
	if (!strcmp(p->name, "expires_in")) {
		u->field = &u->expires_in;
		u->has_expires_in = true;
	} else if (!strcmp(p->name, "max_clicks")) {
		u->field = &u->max_clicks;
		u->has_max_clicks = true;
	} else if (!strcmp(p->name, "password")) {
		u->field = &u->password;
		u->has_password = true;
	}
	if (u->field != NULL)
		buf_reset(u->field);
	return 0;
}

static int
up_data(void *ctx, const char *data, size_t len)
{
	struct upload *u = ctx;
	enum blob_rc rc;

	if (u->w != NULL) {
		u->size += len;
		if (u->size > u->max) {
			file_too_large(u->c);
			u->answered = true;
			return -1;
		}
		if ((rc = blob_writer_write(u->c->app->blob, u->w, data, len)) != BLOB_OK) {
			blob_error(u->c, rc);
			u->answered = true;
			return -1;
		}
	} else if (u->field != NULL) {
		if (u->field->len + len > FIELD_MAX)
			return up_fail(u, 400, "bad_request", "A form field is longer than 1024 bytes.");
		buf_append(u->field, data, len);
	}
	return 0;
}

static int
up_end(void *ctx)
{
	struct upload *u = ctx;
	enum blob_rc rc;

	if (u->w != NULL) {
		rc = blob_writer_commit(u->c->app->blob, u->w);
		u->w = NULL;
		if (rc != BLOB_OK) {
			blob_error(u->c, rc);
			u->answered = true;
			return -1;
		}
		u->files[u->n].size = u->size;
		u->n++;
	}
	u->field = NULL;
	return 0;
}

/* POST /api/files (multipart/form-data: file parts, optional expires_in, max_clicks,
 * password): 201 {links: [...]}, one link per file, all or none; errors as for PUT, plus
 * 400 no_file / too_many_files / bad_multipart. */
void
h_file_post(struct ctx *c)
{
	static const struct multipart_callbacks cb = { up_begin, up_data, up_end };
	struct upload *u = xcalloc(1, sizeof *u);
	struct multipart *mp;
	enum multipart_error merr;
	struct link_opts o;
	struct link *links = NULL;
	json_object *arr, *res;
	char chunk[65536];
	ssize_t n;
	size_t i;
	int ok = 0;

	memset(&o, 0, sizeof o);
	u->c = c;
	u->max = links_limits(c)->max_file_bytes;
	mp = multipart_new(req_header(c->req, "content-type"), &cb, u, &merr);
	if (mp == NULL) {
		up_fail(u, 400, "bad_multipart", "Send the files as multipart/form-data.");
		goto done;
	}
	while ((n = c->req->body.read(c->req->body.ctx, chunk, sizeof chunk)) > 0)
		if (multipart_feed(mp, chunk, (size_t)n) == -1)
			break;
	if (n > 0)
		req_drain_body(c->req);
	c->req->body_consumed = true;
	if (n < 0) {
		up_fail(u, 400, "upload_incomplete", "The upload ended early; nothing was kept.");
		goto done;
	}
	if (multipart_error(mp) != MULTIPART_OK || multipart_finish(mp) == -1) {
		up_fail(u, 400, "bad_multipart", multipart_strerror(multipart_error(mp)));
		goto done;
	}
	if (u->n == 0) {
		up_fail(u, 400, "no_file", "Send at least one part named \"file\" with a filename.");
		goto done;
	}
	if (link_opts_parse(c, u->has_expires_in ? buf_str(&u->expires_in) : NULL,
	    u->has_max_clicks ? buf_str(&u->max_clicks) : NULL,
	    u->has_password ? buf_str(&u->password) : NULL, u->password.len, &o) == -1) {
		u->answered = true;
		goto done;
	}
	links = xcalloc(u->n, sizeof *links);
	for (i = 0; i < u->n; i++) {
		link_init(c, &links[i], &o);
		snprintf(links[i].file_key, sizeof links[i].file_key, "%s", u->files[i].key);
		links[i].filename = u->files[i].filename.data;
		links[i].file_size = u->files[i].size;
		links[i].content_type = u->files[i].ctype.data;
	}
	if (links_store(c, links, u->n, false) == -1) {
		u->answered = true;
		goto done;
	}
	res = json_object_new_object();
	arr = json_object_new_array();
	for (i = 0; i < u->n; i++)
		json_object_array_add(arr, view_link(c->app->cfg, &links[i], c->now));
	json_object_object_add(res, "links", arr);
	log_info("%zu file links created by %s", u->n, c->user.user_id);
	app_send_json(c, 201, res);
	ok = 1;
done:
	if (u->w != NULL)
		blob_writer_abort(c->app->blob, u->w);
	for (i = 0; i < u->n; i++) {
		if (!ok)
			blob_remove(c->app->blob, u->files[i].key);
	}
	for (i = 0; i < MAX_FILES_PER_UPLOAD; i++) {
		buf_free(&u->files[i].filename);
		buf_free(&u->files[i].ctype);
	}
	if (u->password.data)
		OPENSSL_cleanse(u->password.data, u->password.len);
	buf_free(&u->expires_in);
	buf_free(&u->max_clicks);
	buf_free(&u->password);
	OPENSSL_cleanse(o.password_hash, sizeof o.password_hash);
	multipart_free(mp);
	free(links);
	free(u);
}

/* A code from the path: only what a code or slug can be, else treat as unknown. */
static bool
code_ok(const char *code)
{
	size_t n = strlen(code);

	return n > 0 && n < CODE_MAX && strspn(code,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == n;
}

static void
not_yours(struct ctx *c)
{
	/* Unknown and someone else's answer alike, so codes cannot be probed. */
	resp_error(c->resp, 404, "not_found", "You have no link with this code.");
}

/* GET /api/links?cursor=&limit=: 200 {links, next_cursor}; 400 invalid_limit/invalid_cursor. */
void
h_links_list(struct ctx *c)
{
	struct buf cur = BUF_INIT, lim = BUF_INIT;
	struct link_page page;
	json_object *res, *arr;
	enum store_rc rc;
	int64_t limit = LIST_DEFAULT;
	size_t i;
	int q;

	q = req_query(c->req, "limit", &lim);
	if (q == -2 || (q == 0 && num_parse_i64(lim.data, 1, LIST_MAX, &limit) == -1)) {
		resp_error(c->resp, 400, "invalid_limit", "limit must be a whole number from 1 to %d.",
		    LIST_MAX);
		goto done;
	}
	if (req_query(c->req, "cursor", &cur) == -2) {
		resp_error(c->resp, 400, "invalid_cursor", "The cursor is malformed.");
		goto done;
	}
	rc = store_links_list(c->app->store, c->user.user_id, c->now, buf_str(&cur), (size_t)limit,
	    &page);
	if (rc == STORE_CONFLICT) {
		resp_error(c->resp, 400, "invalid_cursor",
		    "The cursor is not one this API gave out; start again without it.");
		goto done;
	}
	if (rc != STORE_OK) {
		app_store_error(c, rc);
		goto done;
	}
	res = json_object_new_object();
	arr = json_object_new_array();
	for (i = 0; i < page.n; i++)
		json_object_array_add(arr, view_link(c->app->cfg, &page.links[i], c->now));
	json_object_object_add(res, "links", arr);
	json_object_object_add(res, "next_cursor", page.next_cursor[0] ?
	    json_object_new_string(page.next_cursor) : NULL);
	link_page_free(&page);
	app_send_json(c, 200, res);
done:
	buf_free(&cur);
	buf_free(&lim);
}

/* GET /api/links/{code}: 200 with the caller's link; 404 if unknown or not the caller's. */
void
h_link_get(struct ctx *c)
{
	struct link l;
	enum store_rc rc;

	if (!code_ok(c->param)) {
		not_yours(c);
		return;
	}
	rc = store_link_get(c->app->store, c->param, &l);
	if (rc == STORE_NOT_FOUND || (rc == STORE_OK && strcmp(l.created_by_user, c->user.user_id))) {
		if (rc == STORE_OK)
			link_free(&l);
		not_yours(c);
		return;
	}
	if (rc != STORE_OK) {
		app_store_error(c, rc);
		return;
	}
	app_send_json(c, 200, view_link(c->app->cfg, &l, c->now));
	link_free(&l);
}

/* DELETE /api/links/{code}: 204, the link and its file gone; 404 if unknown or not the
 * caller's. */
void
h_link_delete(struct ctx *c)
{
	struct link l;
	enum store_rc rc;

	if (!code_ok(c->param)) {
		not_yours(c);
		return;
	}
	rc = store_link_delete(c->app->store, c->param, c->user.user_id, &l);
	if (rc == STORE_NOT_FOUND) {
		not_yours(c);
		return;
	}
	if (rc != STORE_OK) {
		app_store_error(c, rc);
		return;
	}
	/* The row is gone first: a blob left behind by a failure here is an orphan that purge
	 * removes, never a link to a missing file. */
	if (l.file_key[0] && blob_remove(c->app->blob, l.file_key) == BLOB_IO)
		log_warnx("blob of deleted link %s left for purge", l.short_code);
	log_info("link %s deleted by %s", l.short_code, c->user.user_id);
	link_free(&l);
	c->resp->status = 204;
	resp_header(c->resp, "Cache-Control", "no-store");
}

bool
app_code_ok(const char *code)
{
	return code_ok(code);
}
