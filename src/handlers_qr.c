/*
 * handlers_qr: the QR code of one of the caller's short links, as SVG, so the UI can show it
 * next to the link and people can print or scan it. The code encodes the link's short URL
 * (PUBLIC_BASE_URL/code), exactly what GET /api/links/{code} reports as short_url.
 */
#include <string.h>

#include "app.h"
#include "qr.h"

/*
 * GET /api/links/{code}/qr.svg: 200 image/svg+xml; 404 not_found for unknown codes and other
 * people's alike (the same answer as GET /api/links/{code}); 503 if the store is down.
 */
void
h_link_qr(struct ctx *c)
{
	struct buf url = BUF_INIT, svg = BUF_INIT;
	struct link l;
	enum store_rc rc;

	if (!app_code_ok(c->param)) {
		resp_error(c->resp, 404, "not_found", "You have no link with this code.");
		return;
	}
	rc = store_link_get(c->app->store, c->param, &l);
	if (rc == STORE_NOT_FOUND || (rc == STORE_OK && strcmp(l.created_by_user, c->user.user_id))) {
		if (rc == STORE_OK)
			link_free(&l);
		resp_error(c->resp, 404, "not_found", "You have no link with this code.");
		return;
	}
	if (rc != STORE_OK) {
		app_store_error(c, rc);
		return;
	}
	buf_printf(&url, "%s/%s", c->app->cfg->public_base_url, l.short_code);
	link_free(&l);
	if (qr_svg(url.data, url.len, &svg) == -1) {
		/* Only a base URL of thousands of characters could get here. */
		resp_error(c->resp, 500, "internal", "This link's address is too long for a QR code.");
		goto done;
	}
	c->resp->status = 200;
	resp_header(c->resp, "Content-Type", "image/svg+xml");
	/* The picture of a code never changes, but it is only for its owner. */
	resp_header(c->resp, "Cache-Control", "private, max-age=86400");
	resp_header(c->resp, "Content-Security-Policy", "default-src 'none'; sandbox");
	buf_reset(&c->resp->body);
	buf_append(&c->resp->body, svg.data, svg.len);
done:
	buf_free(&url);
	buf_free(&svg);
}
