#include "pages.h"

#include <string.h>

void
html_escape(struct buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': buf_appends(b, "&amp;"); break;
		case '<': buf_appends(b, "&lt;"); break;
		case '>': buf_appends(b, "&gt;"); break;
		case '"': buf_appends(b, "&quot;"); break;
		case '\'': buf_appends(b, "&#39;"); break;
		default: buf_appendc(b, *s);
		}
	}
}

bool
wants_json(const struct request *req)
{
	const char *a = req_header(req, "accept");

	/* Browsers always name text/html when they navigate; everyone else gets JSON. */
	return a == NULL || strstr(a, "text/html") == NULL;
}

static void
page(struct response *resp, int status, const char *title, const char *body_html)
{
	struct buf b = BUF_INIT;

	buf_reset(&resp->headers);
	resp->status = status;
	buf_appends(&b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	    "<meta name=\"robots\" content=\"noindex\"><title>");
	html_escape(&b, title);
	buf_appends(&b, " - FileShare Plus</title><link rel=\"stylesheet\" href=\"/static/style.css\">"
	    "</head><body class=\"visitor\"><main class=\"card visitor-card\">"
	    "<p class=\"brand\"><a href=\"/\">FileShare Plus</a></p>");
	buf_appends(&b, body_html);
	buf_appends(&b, "</main></body></html>\n");
	resp_header(resp, "Content-Type", "text/html; charset=utf-8");
	resp_header(resp, "Cache-Control", "private, no-store");
	/* form-action also governs where the form's answer redirects: the password form's
	 * answer is a redirect to the link's target, anywhere on the web. */
	resp_header(resp, "Content-Security-Policy", "default-src 'none'; style-src 'self'; "
	    "img-src 'self'; form-action 'self' http: https:; frame-ancestors 'none'; base-uri 'none'");
	resp_header(resp, "Referrer-Policy", "no-referrer");
	buf_reset(&resp->body);
	buf_append(&resp->body, b.data, b.len);
	buf_free(&b);
}

void
page_not_found(const struct request *req, struct response *resp)
{
	if (wants_json(req)) {
		resp_error(resp, 404, "not_found", "There is no link at this address.");
		return;
	}
	page(resp, 404, "Link not found", "<h1>Link not found</h1><p>There is no link at this "
	    "address. Check that you copied all of it.</p>");
	resp->error_code = "not_found";
}

void
page_gone(const struct request *req, struct response *resp)
{
	if (wants_json(req)) {
		resp_error(resp, 410, "link_expired",
		    "This link has expired or reached its maximum number of opens.");
		return;
	}
	page(resp, 410, "Link expired", "<h1>This link has expired</h1><p>It reached its expiry "
	    "date or its maximum number of opens. Ask the person who shared it for a new one.</p>");
	resp->error_code = "link_expired";
}

void
page_password(const struct request *req, struct response *resp, const char *code, bool wrong)
{
	struct buf b = BUF_INIT;

	if (wants_json(req)) {
		if (wrong)
			resp_error(resp, 401, "wrong_password", "The password for this link is wrong.");
		else
			resp_error(resp, 401, "password_required",
			    "This link is protected: POST its password as {\"password\": \"...\"}.");
		return;
	}
	buf_appends(&b, "<h1>This link is protected</h1>");
	if (wrong)
		buf_appends(&b, "<p class=\"error\" role=\"alert\">Wrong password. Try again.</p>");
	buf_appends(&b, "<form method=\"post\" action=\"/");
	html_escape(&b, code);
	buf_appends(&b, "\"><label for=\"password\">Password</label>"
	    "<input id=\"password\" name=\"password\" type=\"password\" required autofocus "
	    "autocomplete=\"off\"><button type=\"submit\">Open link</button></form>");
	page(resp, wrong ? 401 : 200, "Password required", b.data);
	if (wrong)
		resp->error_code = "wrong_password";
	buf_free(&b);
}
