/*
 * handlers_open: what happens when someone opens a short link. GET /{code} counts one click
 * in the same store operation that reads the link (one statement / one DynamoDB call) and
 * redirects (URL link) or hands the file to the blob backend (file link). HEAD requests and
 * link-preview bots see the same answer without being counted. Protected links ask for
 * their password first (POST /{code}).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "app.h"
#include "blob.h"
#include "linkrules.h"
#include "log.h"
#include "pages.h"

/* The answer for a live link that may be followed: a redirect or the file. */
static void
follow(struct ctx *c, const struct link *l)
{
	struct buf cd = BUF_INIT;
	enum blob_rc rc;

	if (l->file_key[0] == '\0') {
		c->resp->status = 302;
		resp_header(c->resp, "Location", "%s", l->full_url);
		resp_header(c->resp, "Cache-Control", "private, no-store");
		resp_header(c->resp, "Referrer-Policy", "no-referrer");
		return;
	}
	link_content_disposition(l->filename ? l->filename : "download", &cd);
	rc = blob_serve(c->app->blob, l->file_key, cd.data,
	    l->content_type ? l->content_type : "application/octet-stream", c->now, c->resp);
	buf_free(&cd);
	if (rc == BLOB_NOT_FOUND)
		page_gone(c->req, c->resp);
	else if (rc != BLOB_OK)
		resp_error(c->resp, 503, "storage_unavailable", "The file store failed; try again shortly.");
	else
		resp_header(c->resp, "Cache-Control", "private, no-store");
}

/* Looks at a link without counting (HEAD, preview bots). */
static enum store_rc
peek(struct ctx *c, struct link *l)
{
	enum store_rc rc = store_link_get(c->app->store, c->param, l);

	if (rc == STORE_OK && !link_is_live(l, c->now)) {
		link_free(l);
		return STORE_GONE;
	}
	return rc;
}

static bool
answer_rc(struct ctx *c, enum store_rc rc)
{
	if (rc == STORE_NOT_FOUND)
		page_not_found(c->req, c->resp);
	else if (rc == STORE_GONE)
		page_gone(c->req, c->resp);
	else if (rc != STORE_OK)
		app_store_error(c, rc);
	return rc == STORE_OK;
}

/* GET /{code}: 302 to the URL or the file (counted); 200 password form for protected links;
 * 404 unknown; 410 expired or out of clicks; 503 store down. */
void
h_open(struct ctx *c)
{
	bool count = c->req->method == HTTP_GET &&
	    !link_is_preview_bot(req_header(c->req, "user-agent"));
	struct link l;
	enum store_rc rc;

	if (!app_code_ok(c->param)) {
		page_not_found(c->req, c->resp);
		return;
	}
	rc = count ? store_link_open(c->app->store, c->param, c->now, false, &l) : peek(c, &l);
	if (!answer_rc(c, rc))
		return;
	if (l.password_hash != NULL)
		page_password(c->req, c->resp, l.short_code, false);
	else
		follow(c, &l);
	link_free(&l);
}

/* The password from a form post (password=...) or a JSON body ({"password": "..."}). */
static int
read_password(struct ctx *c, struct buf *out)
{
	const char *ct = req_header(c->req, "content-type");
	struct buf body = BUF_INIT;
	struct request fake;
	json_object *obj, *v;
	int rc = -1;

	if (ct != NULL && !strncmp(ct, "application/json", 16)) {
		if ((obj = app_json_body(c)) == NULL)
			return -2;
		if (json_object_object_get_ex(obj, "password", &v) &&
		    json_object_is_type(v, json_type_string)) {
			buf_append(out, json_object_get_string(v), (size_t)json_object_get_string_len(v));
			rc = 0;
		}
		json_object_put(obj);
		return rc;
	}
	if (req_read_body(c->req, 4096, &body) != 0) {
		buf_free(&body);
		return -1;
	}
	/* Parse the form with the query-string decoder: same encoding. */
	req_init(&fake);
	fake.query = body.data ? body.data : (char *)"";
	rc = req_query(&fake, "password", out) == 0 ? 0 : -1;
	if (body.data)
		OPENSSL_cleanse(body.data, body.len);
	buf_free(&body);
	return rc;
}

/* POST /{code} with the link's password: the link is followed and counted; 401 with the form
 * again for a wrong password; 404/410 as for GET. nginx rate-limits these attempts. */
void
h_open_unlock(struct ctx *c)
{
	struct buf pw = BUF_INIT;
	struct link l;
	enum store_rc rc;
	int ok, r;

	if (!app_code_ok(c->param)) {
		page_not_found(c->req, c->resp);
		return;
	}
	if ((r = read_password(c, &pw)) == -2)
		return;		/* malformed JSON: already answered */
	rc = peek(c, &l);
	if (!answer_rc(c, rc))
		goto done;
	if (l.password_hash == NULL) {
		link_free(&l);
		h_open(c);
		goto done;
	}
	ok = r == 0 ? password_verify(pw.data, pw.len, l.password_hash) : 0;
	link_free(&l);
	if (ok != 1) {
		log_info("wrong password for link %s from %s", c->param,
		    c->req->remote_addr ? c->req->remote_addr : "?");
		page_password(c->req, c->resp, c->param, true);
		goto done;
	}
	rc = store_link_open(c->app->store, c->param, c->now, true, &l);
	if (answer_rc(c, rc)) {
		follow(c, &l);
		link_free(&l);
	}
done:
	if (pw.data)
		OPENSSL_cleanse(pw.data, pw.len);
	buf_free(&pw);
}
