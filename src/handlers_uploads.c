/*
 * handlers_uploads: direct uploads from the client to the blob backend (S3's presigned POST),
 * so large files never pass through nginx or a worker. The server picks the key and the size
 * and seals them, with the link's options, into an upload ticket (HMAC under the session
 * secret): no state is kept between the two calls. An upload never completed leaves an object
 * no link names, which purge removes once it is an hour old.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "app.h"
#include "linkops.h"
#include "linkrules.h"
#include "log.h"
#include "num.h"
#include "views.h"

#define TICKET_PURPOSE	"upload"
#define POST_TTL_S	900		/* the presigned form */
#define TICKET_TTL_S	3600		/* completing it */

/* POST /api/uploads {filename, size, content_type?, expires_in?, max_clicks?, password?}:
 * 201 {upload_id, url, fields, expires_at}; 400 bad input; 403 premium_required; 413
 * file_too_large; 501 direct_upload_unavailable (local blobs). */
void
h_upload_create(struct ctx *c)
{
	const struct config *cfg = c->app->cfg;
	json_object *body = app_json_body(c), *ticket = NULL, *form = NULL, *res;
	struct buf name = BUF_INIT, clean = BUF_INIT, size = BUF_INIT, ctype = BUF_INIT,
	    type = BUF_INIT, exp = BUF_INIT, clicks = BUF_INIT, pw = BUF_INIT, sealed = BUF_INIT;
	char key[BLOB_KEY_LEN + 1];
	struct link_opts o;
	const char *js;
	size_t jslen;
	int64_t bytes;
	int hn, hs, ht, he, hc, hp;
	enum blob_rc rc;

	memset(&o, 0, sizeof o);
	if (body == NULL)
		return;
	hn = app_json_text(body, "filename", &name);
	hs = app_json_text(body, "size", &size);
	ht = app_json_text(body, "content_type", &type);
	he = app_json_text(body, "expires_in", &exp);
	hc = app_json_text(body, "max_clicks", &clicks);
	hp = app_json_text(body, "password", &pw);
	if (hn != 1 || hs != 1 || ht < 0 || he < 0 || hc < 0 || hp < 0 ||
	    num_parse_i64(size.data, 0, INT64_MAX, &bytes) == -1) {
		resp_error(c->resp, 400, "bad_request",
		    "Send filename (a string) and size (whole bytes); optionally content_type, "
		    "expires_in, max_clicks, password.");
		goto done;
	}
	if ((uint64_t)bytes > links_limits(c)->max_file_bytes) {
		file_too_large(c);
		goto done;
	}
	if (link_opts_parse(c, he ? exp.data : NULL, hc ? clicks.data : NULL, hp ? pw.data : NULL,
	    pw.len, &o) == -1)
		goto done;
	link_clean_filename(name.data, name.len, &clean);
	link_content_type(ht ? type.data : NULL, clean.data, &ctype);
	blob_new_key(key);
	rc = blob_presign_post(c->app->blob, key, (uint64_t)bytes, ctype.data, c->now, POST_TTL_S, &form);
	if (rc == BLOB_UNSUPPORTED) {
		resp_error(c->resp, 501, "direct_upload_unavailable",
		    "This server keeps files itself: upload with PUT /api/files/{filename} instead.");
		goto done;
	}
	if (rc != BLOB_OK) {
		blob_error(c, rc);
		goto done;
	}
	ticket = json_object_new_object();
	json_object_object_add(ticket, "u", json_object_new_string(c->user.user_id));
	json_object_object_add(ticket, "k", json_object_new_string(key));
	json_object_object_add(ticket, "f", json_object_new_string(clean.data));
	json_object_object_add(ticket, "t", json_object_new_string(ctype.data));
	json_object_object_add(ticket, "s", json_object_new_int64(bytes));
	json_object_object_add(ticket, "x", json_object_new_int64(o.expires_at));
	json_object_object_add(ticket, "m", json_object_new_int64(o.max_clicks));
	if (o.has_password)
		json_object_object_add(ticket, "p", json_object_new_string(o.password_hash));
	json_object_object_add(ticket, "e", json_object_new_int64(c->now + TICKET_TTL_S));
	js = json_object_to_json_string_length(ticket, JSON_C_TO_STRING_PLAIN, &jslen);
	if (auth_seal(cfg->session_secret, cfg->session_secret_len, TICKET_PURPOSE, js, jslen,
	    &sealed) == -1) {
		resp_error(c->resp, 500, "internal", "Could not prepare the upload.");
		goto done;
	}
	res = json_object_new_object();
	json_object_object_add(res, "upload_id", json_object_new_string(sealed.data));
	json_object_object_add(res, "url", json_object_get(json_object_object_get(form, "url")));
	json_object_object_add(res, "fields", json_object_get(json_object_object_get(form, "fields")));
	json_object_object_add(res, "expires_at", view_time(c->now + POST_TTL_S));
	json_object_object_add(res, "max_bytes", json_object_new_int64(bytes));
	app_send_json(c, 201, res);
done:
	if (pw.data)
		OPENSSL_cleanse(pw.data, pw.len);
	OPENSSL_cleanse(o.password_hash, sizeof o.password_hash);
	json_object_put(body);
	json_object_put(ticket);
	json_object_put(form);
	buf_free(&name);
	buf_free(&clean);
	buf_free(&size);
	buf_free(&ctype);
	buf_free(&type);
	buf_free(&exp);
	buf_free(&clicks);
	buf_free(&pw);
	buf_free(&sealed);
}

/* The short code of an upload's link, derived from its key: completing twice finds it taken. */
static void
code_for(const char *key, char out[CODE_LEN_FILE + 1])
{
	static const char alpha[] =
	    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	unsigned char h[SHA256_DIGEST_LENGTH], round[SHA256_DIGEST_LENGTH + 1];
	size_t o = 0, i;
	unsigned char n = 0;

	SHA256((const unsigned char *)key, strlen(key), h);
	while (o < CODE_LEN_FILE) {
		for (i = 0; i < sizeof h && o < CODE_LEN_FILE; i++)
			if (h[i] < 248)
				out[o++] = alpha[h[i] % 62];
		memcpy(round, h, sizeof h);
		round[sizeof h] = n++;
		SHA256(round, sizeof round, h);
	}
	out[o] = '\0';
}

static const char *
ticket_s(json_object *t, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(t, k, &v) && json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : NULL;
}

static int64_t
ticket_n(json_object *t, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(t, k, &v) ? json_object_get_int64(v) : 0;
}

/* POST /api/uploads/{id}/complete: 201 with the file's link once the object is there with
 * the declared size; 404 for an unknown or someone else's ticket; 409 upload_missing /
 * upload_size_mismatch / upload_already_completed; 410 upload_expired; 429 link quota. */
void
h_upload_complete(struct ctx *c)
{
	const struct config *cfg = c->app->cfg;
	struct buf payload = BUF_INIT;
	json_object *t = NULL;
	const char *user, *key;
	struct link_opts o;
	struct link l, old;
	uint64_t size = 0;
	enum blob_rc rc;

	memset(&o, 0, sizeof o);
	if (auth_unseal(cfg->session_secret, cfg->session_secret_len, TICKET_PURPOSE, c->param,
	    &payload) == -1 || (t = json_tokener_parse(payload.data)) == NULL ||
	    (user = ticket_s(t, "u")) == NULL || strcmp(user, c->user.user_id) ||
	    (key = ticket_s(t, "k")) == NULL || !blob_key_valid(key)) {
		resp_error(c->resp, 404, "not_found", "There is no such upload.");
		goto done;
	}
	if (c->now >= ticket_n(t, "e")) {
		resp_error(c->resp, 410, "upload_expired", "This upload ticket has expired; start again.");
		goto done;
	}
	rc = blob_stat(c->app->blob, key, &size);
	if (rc == BLOB_NOT_FOUND) {
		resp_error(c->resp, 409, "upload_missing",
		    "The file has not arrived yet: POST it to the form's URL first.");
		goto done;
	}
	if (rc != BLOB_OK) {
		blob_error(c, rc);
		goto done;
	}
	if (size != (uint64_t)ticket_n(t, "s")) {
		blob_remove(c->app->blob, key);
		resp_error(c->resp, 409, "upload_size_mismatch",
		    "The uploaded file is %llu bytes, not the %lld declared; it was discarded.",
		    (unsigned long long)size, (long long)ticket_n(t, "s"));
		goto done;
	}
	o.expires_at = ticket_n(t, "x");
	o.max_clicks = ticket_n(t, "m");
	if (ticket_s(t, "p") != NULL) {
		snprintf(o.password_hash, sizeof o.password_hash, "%s", ticket_s(t, "p"));
		o.has_password = true;
	}
	link_init(c, &l, &o);
	code_for(key, l.short_code);
	if (store_link_get(c->app->store, l.short_code, &old) == STORE_OK) {
		link_free(&old);
		resp_error(c->resp, 409, "upload_already_completed", "This upload already has its link.");
		goto done;
	}
	snprintf(l.file_key, sizeof l.file_key, "%s", key);
	l.filename = (char *)ticket_s(t, "f");
	l.content_type = (char *)ticket_s(t, "t");
	l.file_size = size;
	if (links_store(c, &l, 1, true) == -1)
		goto done;	/* the object stays: purge removes it if no link ever names it */
	log_info("direct upload %s (%llu bytes) completed by %s", l.short_code,
	    (unsigned long long)size, c->user.user_id);
	app_send_json(c, 201, view_link(cfg, &l, c->now));
done:
	OPENSSL_cleanse(o.password_hash, sizeof o.password_hash);
	json_object_put(t);
	buf_free(&payload);
}
