#include "http.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xmalloc.h"

void
req_init(struct request *r)
{
	memset(r, 0, sizeof *r);
	r->content_length = -1;
	r->method = HTTP_OTHER;
	r->body_fd = -1;
}

void
req_free(struct request *r)
{
	size_t i;

	for (i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->headers);
	free(r->method_str);
	free(r->path);
	free(r->query);
	free(r->remote_addr);
	free(r->body_file);
	if (r->body_fd != -1)
		close(r->body_fd);
	req_init(r);
}

void
req_set_method(struct request *r, const char *m)
{
	static const struct { const char *s; enum http_method m; } t[] = {
		{ "GET", HTTP_GET }, { "HEAD", HTTP_HEAD }, { "POST", HTTP_POST },
		{ "PUT", HTTP_PUT }, { "DELETE", HTTP_DELETE }, { "OPTIONS", HTTP_OPTIONS },
	};
	size_t i;

	free(r->method_str);
	r->method_str = xstrdup(m);
	r->method = HTTP_OTHER;
	for (i = 0; i < sizeof t / sizeof t[0]; i++)
		if (!strcmp(m, t[i].s))
			r->method = t[i].m;
}

void
req_add_header(struct request *r, const char *name, const char *value)
{
	struct http_header *h;
	char *p;

	r->headers = xrealloc(r->headers, (r->nheaders + 1) * sizeof *r->headers);
	h = &r->headers[r->nheaders++];
	h->name = xstrdup(name);
	for (p = h->name; *p; p++)
		*p = *p == '_' ? '-' : (char)tolower((unsigned char)*p);
	h->value = xstrdup(value);
}

const char *
req_header(const struct request *r, const char *lname)
{
	size_t i;

	for (i = 0; i < r->nheaders; i++)
		if (!strcmp(r->headers[i].name, lname))
			return r->headers[i].value;
	return NULL;
}

int
req_cookie(const struct request *r, const char *name, char *out, size_t outlen)
{
	const char *c = req_header(r, "cookie"), *p, *v, *end;
	size_t nl = strlen(name);

	if (c == NULL)
		return -1;
	for (p = c; *p; p = *end ? end + 1 : end) {
		while (*p == ' ' || *p == '\t')
			p++;
		end = strchr(p, ';');
		if (end == NULL)
			end = p + strlen(p);
		if ((size_t)(end - p) > nl && !strncmp(p, name, nl) && p[nl] == '=') {
			v = p + nl + 1;
			if ((size_t)(end - v) >= outlen)
				return -1;
			memcpy(out, v, (size_t)(end - v));
			out[end - v] = '\0';
			return 0;
		}
	}
	return -1;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The byte nginx sees at p once it has decoded the path: '/' and '.' also from %2F and %2E
 * (the two that change a path's segments); *adv is how many raw bytes that is. */
static char
path_byte(const char *p, int *adv)
{
	char c = p[0] == '%' && p[1] == '2' ? (char)(p[2] | 0x20) : '\0';	/* lower case */

	*adv = c == 'f' || c == 'e' ? 3 : 1;
	return c == 'f' ? '/' : c == 'e' ? '.' : p[0];
}

bool
path_canonical(const char *path)
{
	size_t len = 0, dots = 0;	/* the current segment's bytes, and how many are dots */
	bool first = true;		/* before the leading '/' */
	int adv;
	char c;

	for (;; path += adv) {
		c = path_byte(path, &adv);
		if (c != '/' && c != '\0') {
			len++;
			dots += c == '.';
			continue;
		}
		/* The end of a segment: "." and ".." are resolved by nginx, an empty one inside
		 * the path ("//") merged; a trailing '/' is kept. */
		if (!first && ((len == 0 && c == '/') || (len == dots && (len == 1 || len == 2))))
			return false;
		if (c == '\0')
			return true;
		first = false;
		len = dots = 0;
	}
}

int
url_decode(const char *s, size_t n, bool plus_is_space, struct buf *out)
{
	size_t i;
	int hi, lo;

	buf_grow(out, n);
	for (i = 0; i < n; i++) {
		if (s[i] == '%') {
			if (i + 2 >= n || (hi = hexval((unsigned char)s[i + 1])) < 0 ||
			    (lo = hexval((unsigned char)s[i + 2])) < 0)
				return -1;
			buf_appendc(out, (char)(hi << 4 | lo));
			i += 2;
		} else if (s[i] == '+' && plus_is_space)
			buf_appendc(out, ' ');
		else
			buf_appendc(out, s[i]);
	}
	return 0;
}

int
req_query(const struct request *r, const char *name, struct buf *out)
{
	const char *p = r->query, *amp, *eq;
	size_t nl = strlen(name);

	if (p == NULL)
		return -1;
	for (; *p; p = *amp ? amp + 1 : amp) {
		amp = strchr(p, '&');
		if (amp == NULL)
			amp = p + strlen(p);
		eq = memchr(p, '=', (size_t)(amp - p));
		if (eq == NULL)
			eq = amp;
		if ((size_t)(eq - p) == nl && !strncmp(p, name, nl)) {
			buf_reset(out);
			if (eq == amp)
				return 0;
			return url_decode(eq + 1, (size_t)(amp - eq - 1), true, out) == 0 ? 0 : -2;
		}
	}
	return -1;
}

int
req_read_body(struct request *r, size_t limit, struct buf *out)
{
	char chunk[16384];
	ssize_t n;

	if (r->content_length >= 0 && (uint64_t)r->content_length > limit) {
		req_drain_body(r);
		return -2;
	}
	if (r->body.read == NULL || r->body_consumed)
		return 0;
	for (;;) {
		n = r->body.read(r->body.ctx, chunk, sizeof chunk);
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		if (out->len + (size_t)n > limit) {
			req_drain_body(r);
			return -2;
		}
		buf_append(out, chunk, (size_t)n);
	}
	r->body_consumed = true;
	return 0;
}

static ssize_t
file_read(void *ctx, void *buf, size_t n)
{
	struct request *r = ctx;
	ssize_t k;

	if (r->body_fd == -1 &&
	    (r->body_fd = open(r->body_file, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	do
		k = read(r->body_fd, buf, n);
	while (k == -1 && errno == EINTR);
	return k;
}

void
req_set_body_file(struct request *r, const char *path)
{
	free(r->body_file);
	r->body_file = xstrdup(path);
	r->body.read = file_read;
	r->body.ctx = r;
}

void
req_drain_body(struct request *r)
{
	char chunk[16384];

	if (r->body.read == NULL || r->body_consumed || r->body_file != NULL)
		return;
	while (r->body.read(r->body.ctx, chunk, sizeof chunk) > 0)
		;
	r->body_consumed = true;
}

void
resp_init(struct response *r)
{
	memset(r, 0, sizeof *r);
	r->status = 200;
}

void
resp_free(struct response *r)
{
	buf_free(&r->headers);
	buf_free(&r->body);
}

void
resp_reset(struct response *r)
{
	bool head = r->head;

	buf_reset(&r->headers);
	buf_reset(&r->body);
	r->status = 200;
	r->error_code = NULL;
	r->head = head;
}

void
resp_header(struct response *r, const char *name, const char *fmt, ...)
{
	va_list ap;
	size_t start;

	buf_appends(&r->headers, name);
	buf_appends(&r->headers, ": ");
	start = r->headers.len;
	va_start(ap, fmt);
	/* A literal value or a lone "%s" (most headers) is appended without printf. */
	if (strchr(fmt, '%') == NULL)
		buf_appends(&r->headers, fmt);
	else if (!strcmp(fmt, "%s"))
		buf_appends(&r->headers, va_arg(ap, const char *));
	else
		buf_vprintf(&r->headers, fmt, ap);
	va_end(ap);
	/* Header values never carry CR or LF: response splitting is impossible by construction.
	 * (strpbrk first: the value is NUL-terminated, and almost never has one.) */
	if (strpbrk(r->headers.data + start, "\r\n") != NULL)
		for (; start < r->headers.len; start++)
			if (r->headers.data[start] == '\r' || r->headers.data[start] == '\n')
				r->headers.data[start] = ' ';
	buf_appends(&r->headers, "\r\n");
}

void
resp_json(struct response *r, int status, const char *json, size_t len)
{
	r->status = status;
	resp_header(r, "Content-Type", "application/json; charset=utf-8");
	buf_reset(&r->body);
	buf_append(&r->body, json, len);
}

void
resp_error(struct response *r, int status, const char *code, const char *fmt, ...)
{
	struct buf msg = BUF_INIT, body = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	buf_reset(&r->headers);
	buf_appends(&body, "{\"error\":{\"code\":\"");
	buf_append_json_str(&body, code, strlen(code));
	buf_appends(&body, "\",\"message\":\"");
	buf_append_json_str(&body, msg.data, msg.len);
	buf_appends(&body, "\"}}");
	resp_json(r, status, body.data, body.len);
	resp_header(r, "Cache-Control", "no-store");
	r->error_code = code;
	buf_free(&msg);
	buf_free(&body);
}

const char *
http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	case 507: return "Insufficient Storage";
	default: return "Unknown";
	}
}
