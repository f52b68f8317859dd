#include "aws/transport.h"

#include <ctype.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CURL_DISABLE_TYPECHECK	/* the calls below go through pointers, not curl's macros */
#include <curl/curl.h>
#include <openssl/crypto.h>

#include "log.h"
#include "xmalloc.h"

#if LIBCURL_VERSION_NUM < 0x074a00
#error "libcurl 7.74 or newer is needed"
#endif

#ifdef PACKAGE_VERSION
#define USER_AGENT	"fileshare-plus/" PACKAGE_VERSION
#else
#define USER_AGENT	"fileshare-plus"
#endif

/* Hosts that are never reached through an HTTP proxy from the environment: the container
 * credentials endpoints and loopback (the test stand-ins). */
#define NO_PROXY_HOSTS	"localhost,127.0.0.1,::1,169.254.170.2,169.254.170.23,fd00:ec2::23"

struct transport {
	CURL			*curl;
	char			 errbuf[CURL_ERROR_SIZE];
	struct transport_stats	 stats;
};

/* What the curl callbacks of one call share. */
struct call {
	const struct transport_request	*req;
	struct transport_response	*resp;
	size_t				 sent;		/* request body bytes handed to curl */
	size_t				 max_body;
	size_t				 nhdr_cap;
	bool				 too_large;
	bool				 body_failed;
};

/*
 * libcurl is loaded when the first transport is made, not linked: a worker on SQLite and
 * local files never talks HTTP, and libcurl with the ~30 libraries it brings (TLS, Kerberos,
 * LDAP, SSH, IDN, compression...) was a quarter of an idle worker's resident memory (1.1 of
 * 4.6 MiB, /proc/PID/smaps). Every curl_* call in this file goes through this table.
 */
static struct {
	void		*lib;
	CURLcode	(*global_init)(long);
	void		(*global_cleanup)(void);
	CURL		*(*easy_init)(void);
	CURLcode	(*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode	(*easy_perform)(CURL *);
	CURLcode	(*easy_getinfo)(CURL *, CURLINFO, ...);
	void		(*easy_reset)(CURL *);
	void		(*easy_cleanup)(CURL *);
	const char	*(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void		(*slist_free_all)(struct curl_slist *);
} lc;

#undef curl_easy_setopt		/* curl.h's argument-count checks */
#undef curl_easy_getinfo
#define curl_global_init	(*lc.global_init)
#define curl_global_cleanup	(*lc.global_cleanup)
#define curl_easy_init		(*lc.easy_init)
#define curl_easy_setopt	(*lc.easy_setopt)
#define curl_easy_perform	(*lc.easy_perform)
#define curl_easy_getinfo	(*lc.easy_getinfo)
#define curl_easy_reset		(*lc.easy_reset)
#define curl_easy_cleanup	(*lc.easy_cleanup)
#define curl_easy_strerror	(*lc.easy_strerror)
#define curl_slist_append	(*lc.slist_append)
#define curl_slist_free_all	(*lc.slist_free_all)

#define LIBCURL_SONAME	"libcurl.so.4"

static bool
bind_sym(void *fnp, const char *name)
{
	void *sym = dlsym(lc.lib, name);

	if (sym == NULL) {
		log_errorx("%s has no %s", LIBCURL_SONAME, name);
		return false;
	}
	memcpy(fnp, &sym, sizeof sym);	/* object to function pointer, without a cast warning */
	return true;
}

/* Loads libcurl once per process (kept until exit). 0, or -1 logged. */
static int
load_libcurl(void)
{
	if (lc.lib != NULL)
		return 0;
	if ((lc.lib = dlopen(LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		log_errorx("cannot load %s (Debian package libcurl4): %s", LIBCURL_SONAME, dlerror());
		return -1;
	}
	if (bind_sym(&lc.global_init, "curl_global_init") &&
	    bind_sym(&lc.global_cleanup, "curl_global_cleanup") &&
	    bind_sym(&lc.easy_init, "curl_easy_init") &&
	    bind_sym(&lc.easy_setopt, "curl_easy_setopt") &&
	    bind_sym(&lc.easy_perform, "curl_easy_perform") &&
	    bind_sym(&lc.easy_getinfo, "curl_easy_getinfo") &&
	    bind_sym(&lc.easy_reset, "curl_easy_reset") &&
	    bind_sym(&lc.easy_cleanup, "curl_easy_cleanup") &&
	    bind_sym(&lc.easy_strerror, "curl_easy_strerror") &&
	    bind_sym(&lc.slist_append, "curl_slist_append") &&
	    bind_sym(&lc.slist_free_all, "curl_slist_free_all"))
		return 0;
	dlclose(lc.lib);
	lc.lib = NULL;
	return -1;
}

/* curl_global_init is not thread-safe and must happen once; workers are single-threaded
 * processes, so a counter is enough. The last transport freed cleans up (LeakSanitizer). */
static int global_refs;

struct transport *
transport_new(void)
{
	struct transport *t;
	CURLcode rc;

	if (global_refs == 0) {
		if (load_libcurl() == -1)
			return NULL;
		rc = curl_global_init(CURL_GLOBAL_DEFAULT);
		if (rc != CURLE_OK) {
			log_errorx("curl_global_init: %s", curl_easy_strerror(rc));
			return NULL;
		}
	}
	global_refs++;
	t = xcalloc(1, sizeof *t);
	t->curl = curl_easy_init();
	if (t->curl == NULL) {
		log_errorx("curl_easy_init failed");
		transport_free(t);
		return NULL;
	}
	return t;
}

void
transport_free(struct transport *t)
{
	if (t == NULL)
		return;
	if (t->curl != NULL)
		curl_easy_cleanup(t->curl);
	free(t);
	if (--global_refs == 0)
		curl_global_cleanup();
}

void
transport_stats(const struct transport *t, struct transport_stats *out)
{
	*out = t->stats;
}

const char *
transport_error_name(enum transport_error e)
{
	switch (e) {
	case TRANSPORT_OK:		return "ok";
	case TRANSPORT_ERR_CONNECT:	return "connect";
	case TRANSPORT_ERR_TIMEOUT:	return "timeout";
	case TRANSPORT_ERR_RESET:	return "reset";
	case TRANSPORT_ERR_TOO_LARGE:	return "too_large";
	case TRANSPORT_ERR_BODY:	return "body";
	case TRANSPORT_ERR_OTHER:	return "other";
	}
	return "other";
}

void
transport_response_free(struct transport_response *resp)
{
	size_t i;

	if (resp == NULL)
		return;
	buf_free(&resp->body);
	for (i = 0; i < resp->nheaders; i++) {
		free(resp->headers[i].name);
		free(resp->headers[i].value);
	}
	free(resp->headers);
	memset(resp, 0, sizeof *resp);
}

const char *
transport_response_header(const struct transport_response *resp, const char *name)
{
	size_t i;

	for (i = 0; i < resp->nheaders; i++)
		if (strcasecmp(resp->headers[i].name, name) == 0)
			return resp->headers[i].value;
	return NULL;
}

/* ------------------------------------------------------------------ curl callbacks */

static size_t
read_cb(char *dst, size_t size, size_t nitems, void *ud)
{
	struct call *c = ud;
	size_t n = size * nitems, left = c->req->body_len - c->sent;
	ssize_t r;

	if (n > left)
		n = left;
	if (n == 0)
		return 0;
	if (c->req->read != NULL) {
		r = c->req->read(c->req->read_ctx, dst, n);
		if (r <= 0 || (size_t)r > n) {
			c->body_failed = true;
			return CURL_READFUNC_ABORT;
		}
		n = (size_t)r;
	} else
		memcpy(dst, (const char *)c->req->body + c->sent, n);
	c->sent += n;
	return n;
}

/* curl rewinds the body when it resends a request on a new connection. */
static int
seek_cb(void *ud, curl_off_t offset, int origin)
{
	struct call *c = ud;

	if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > c->req->body_len)
		return CURL_SEEKFUNC_CANTSEEK;
	if (c->req->read == NULL) {
		c->sent = (size_t)offset;
		return CURL_SEEKFUNC_OK;
	}
	if (offset != 0 || c->req->rewind == NULL)
		return CURL_SEEKFUNC_CANTSEEK;
	if (c->req->rewind(c->req->read_ctx) != 0) {
		c->body_failed = true;
		return CURL_SEEKFUNC_FAIL;
	}
	c->sent = 0;
	return CURL_SEEKFUNC_OK;
}

static size_t
write_cb(char *data, size_t size, size_t nitems, void *ud)
{
	struct call *c = ud;
	size_t n = size * nitems;

	if (c->req->write != NULL) {
		if (c->req->write(c->req->write_ctx, data, n) != 0) {
			c->body_failed = true;
			return 0;
		}
		return n;
	}
	if (n > c->max_body - c->resp->body.len) {
		c->too_large = true;
		return 0;
	}
	buf_append(&c->resp->body, data, n);
	return n;
}

static void
clear_headers(struct transport_response *resp)
{
	size_t i;

	for (i = 0; i < resp->nheaders; i++) {
		free(resp->headers[i].name);
		free(resp->headers[i].value);
	}
	resp->nheaders = 0;
}

/*
 * One header line (with its CRLF) at a time, for every response curl reads: a status line
 * starts a new response (after a 100 Continue, say), so only the final one's headers remain.
 */
static size_t
header_cb(char *line, size_t size, size_t nitems, void *ud)
{
	struct call *c = ud;
	struct transport_response *resp = c->resp;
	size_t n = size * nitems, len = n, nlen;
	const char *colon, *v, *end;

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
		clear_headers(resp);
		return n;
	}
	colon = memchr(line, ':', len);
	if (len == 0 || colon == NULL || colon == line || line[0] == ' ' || line[0] == '\t')
		return n;	/* blank line, garbage, or an obsolete folded continuation */
	if (resp->nheaders >= TRANSPORT_MAX_HEADERS)
		return n;
	nlen = (size_t)(colon - line);
	v = colon + 1;
	end = line + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (resp->nheaders == c->nhdr_cap) {
		c->nhdr_cap = c->nhdr_cap ? c->nhdr_cap * 2 : 16;
		resp->headers = xrealloc(resp->headers, c->nhdr_cap * sizeof resp->headers[0]);
	}
	resp->headers[resp->nheaders].name = xstrndup(line, nlen);
	resp->headers[resp->nheaders].value = xstrndup(v, (size_t)(end - v));
	resp->nheaders++;
	return n;
}

/* ------------------------------------------------------------------ the call */

static enum transport_error
classify(CURLcode rc, const struct call *c)
{
	if (c->too_large)
		return TRANSPORT_ERR_TOO_LARGE;
	if (c->body_failed)
		return TRANSPORT_ERR_BODY;
	switch (rc) {
	case CURLE_OK:
		return TRANSPORT_OK;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SSL_CONNECT_ERROR:
		return TRANSPORT_ERR_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		return TRANSPORT_ERR_TIMEOUT;
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_SEND_FAIL_REWIND:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return TRANSPORT_ERR_RESET;
	case CURLE_READ_ERROR:
	case CURLE_WRITE_ERROR:
	case CURLE_ABORTED_BY_CALLBACK:
		return TRANSPORT_ERR_BODY;
	default:
		return TRANSPORT_ERR_OTHER;
	}
}

static bool
bad_header_text(const char *s, bool name)
{
	const unsigned char *p;

	if (s == NULL || (name && *s == '\0'))
		return true;
	for (p = (const unsigned char *)s; *p; p++)
		if (*p == '\r' || *p == '\n' || (name && (*p <= ' ' || *p == ':' || *p >= 0x7f)))
			return true;
	return false;
}

static int
fail_early(struct transport_response *resp, const char *msg)
{
	resp->error = TRANSPORT_ERR_OTHER;
	snprintf(resp->message, sizeof resp->message, "%s", msg);
	return -1;
}

/* Header list entries hold signatures and session tokens: wipe them before freeing. */
static void
free_header_list(struct curl_slist *list)
{
	struct curl_slist *l;

	for (l = list; l != NULL; l = l->next)
		OPENSSL_cleanse(l->data, strlen(l->data));
	curl_slist_free_all(list);
}

static struct curl_slist *
build_header_list(const struct transport_request *req, bool *ok)
{
	struct curl_slist *list = NULL, *next;
	struct buf line = BUF_INIT;
	size_t i;

	*ok = true;
	for (i = 0; i < req->nheaders && *ok; i++) {
		buf_reset(&line);
		/* "Name;" is curl's way to send a header with an empty value. */
		if (req->headers[i].value[0] == '\0')
			buf_printf(&line, "%s;", req->headers[i].name);
		else
			buf_printf(&line, "%s: %s", req->headers[i].name, req->headers[i].value);
		next = curl_slist_append(list, buf_str(&line));
		if (next == NULL)
			*ok = false;
		else
			list = next;
	}
	/* No "Expect: 100-continue" round trip: AWS answers at once, and S3 uploads are
	 * signed and sized up front. */
	if (*ok && (next = curl_slist_append(list, "Expect:")) != NULL)
		list = next;
	else
		*ok = false;
	if (line.data != NULL)
		OPENSSL_cleanse(line.data, line.cap);
	buf_free(&line);
	return list;
}

int
transport_perform(struct transport *t, const struct transport_request *req,
    struct transport_response *resp)
{
	struct curl_slist *hdrs = NULL;
	struct call c;
	CURL *h = t->curl;
	CURLcode rc;
	long status = 0, connects = 0, timeout;
	curl_off_t total_us = 0;
	bool with_body, ok;
	size_t i;

	memset(resp, 0, sizeof *resp);
	t->stats.calls++;
	if (req->method == NULL || req->url == NULL || bad_header_text(req->method, true) ||
	    (strncmp(req->url, "http://", 7) != 0 && strncmp(req->url, "https://", 8) != 0) ||
	    (req->body != NULL && req->read != NULL) || (req->rewind != NULL && req->read == NULL)) {
		t->stats.failures++;
		return fail_early(resp, "bad request (method, URL or body)");
	}
	for (i = 0; i < req->nheaders; i++)
		if (bad_header_text(req->headers[i].name, true) ||
		    bad_header_text(req->headers[i].value, false)) {
			t->stats.failures++;
			return fail_early(resp, "bad request header (empty name, or CR/LF)");
		}
	with_body = req->body_len > 0 || req->read != NULL ||
	    strcmp(req->method, "PUT") == 0 || strcmp(req->method, "POST") == 0;
	if (req->body_len > 0 && req->body == NULL && req->read == NULL) {
		t->stats.failures++;
		return fail_early(resp, "bad request (body_len without a body)");
	}
	if (with_body && (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0)) {
		t->stats.failures++;
		return fail_early(resp, "bad request (a body on GET or HEAD)");
	}

	memset(&c, 0, sizeof c);
	c.req = req;
	c.resp = resp;
	c.max_body = req->max_body ? req->max_body : TRANSPORT_MAX_BODY;

	/* Back to the defaults: the connection cache, DNS cache and TLS sessions survive
	 * curl_easy_reset(), nothing of the previous call's options does. */
	curl_easy_reset(h);
	t->errbuf[0] = '\0';
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, t->errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_URL, req->url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(h, CURLOPT_NOPROXY, NO_PROXY_HOSTS);
	curl_easy_setopt(h, CURLOPT_USERAGENT, USER_AGENT);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 15L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
	    req->connect_timeout_ms > 0 ? req->connect_timeout_ms : TRANSPORT_CONNECT_TIMEOUT_MS);
	timeout = req->timeout_ms > 0 ? req->timeout_ms : req->stall_s > 0 ? 0 : TRANSPORT_TIMEOUT_MS;
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout);
	if (req->stall_s > 0) {
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, req->stall_s);
	}
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &c);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &c);

	if (strcmp(req->method, "HEAD") == 0)
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	else if (strcmp(req->method, "GET") == 0)
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	else if (with_body) {
		/* Every body goes through the read callback with its length known, so curl
		 * sends Content-Length (never chunked), adds no Content-Type of its own (it
		 * would for CURLOPT_POSTFIELDS), and can rewind it to resend. */
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_len);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(h, CURLOPT_READDATA, &c);
		curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, seek_cb);
		curl_easy_setopt(h, CURLOPT_SEEKDATA, &c);
		if (strcmp(req->method, "PUT") != 0)
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
	} else
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);

	hdrs = build_header_list(req, &ok);
	if (!ok) {
		free_header_list(hdrs);
		t->stats.failures++;
		return fail_early(resp, "out of memory building the header list");
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);

	rc = curl_easy_perform(h);

	curl_easy_setopt(h, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
	free_header_list(hdrs);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
	curl_easy_getinfo(h, CURLINFO_TOTAL_TIME_T, &total_us);
	resp->status = (int)status;
	resp->reused = connects == 0 && status != 0;
	resp->elapsed_ms = (long)(total_us / 1000);
	if (connects > 0)
		t->stats.connections += (uint64_t)connects;
	resp->error = classify(rc, &c);
	if (resp->error == TRANSPORT_OK)
		return 0;
	t->stats.failures++;
	if (resp->error == TRANSPORT_ERR_TOO_LARGE)
		snprintf(resp->message, sizeof resp->message,
		    "response body larger than %zu bytes", c.max_body);
	else if (c.body_failed)
		snprintf(resp->message, sizeof resp->message, "body callback failed (%.200s)",
		    t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc));
	else
		snprintf(resp->message, sizeof resp->message, "%s",
		    t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc));
	return -1;
}

/* ------------------------------------------------------------------ pure helpers */

static const char *const month_names[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
month_index(const char *s)
{
	int i;

	for (i = 0; i < 12; i++)
		if (strncmp(s, month_names[i], 3) == 0)
			return i + 1;
	return 0;
}

static bool
digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static int
num(const char *s, size_t n)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static int
finish_date(int y, int mon, int d, int hh, int mm, int ss, int64_t *out)
{
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	if (mon < 1 || mon > 12 || d < 1 || d > mdays[mon - 1] || (mon == 2 && d == 29 && !leap) ||
	    hh > 23 || mm > 59 || ss > 60 || y < 1970)
		return -1;
	if (ss == 60)
		ss = 59;
	*out = days_from_civil(y, mon, d) * 86400 + hh * 3600 + mm * 60 + ss;
	return 0;
}

/* "HH:MM:SS" */
static bool
parse_clock(const char *s, int *hh, int *mm, int *ss)
{
	if (!digits(s, 2) || s[2] != ':' || !digits(s + 3, 2) || s[5] != ':' || !digits(s + 6, 2))
		return false;
	*hh = num(s, 2);
	*mm = num(s + 3, 2);
	*ss = num(s + 6, 2);
	return true;
}

int
transport_parse_http_date(const char *s, int64_t *out)
{
	const char *comma, *p;
	int d, mon, y, hh, mm, ss;
	size_t len;

	if (s == NULL)
		return -1;
	len = strlen(s);
	comma = strchr(s, ',');
	if (comma != NULL && comma - s == 3 && len == 29) {
		/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
		p = s + 5;
		if (s[4] != ' ' || !digits(p, 2) || p[2] != ' ' || (mon = month_index(p + 3)) == 0 ||
		    p[6] != ' ' || !digits(p + 7, 4) || p[11] != ' ' ||
		    !parse_clock(p + 12, &hh, &mm, &ss) || strcmp(p + 20, " GMT") != 0)
			return -1;
		d = num(p, 2);
		y = num(p + 7, 4);
		return finish_date(y, mon, d, hh, mm, ss, out);
	}
	if (comma != NULL) {
		/* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" (two-digit year: 70-99 are 19xx) */
		p = comma + 1;
		if (strlen(p) != 23 || p[0] != ' ' || !digits(p + 1, 2) || p[3] != '-' ||
		    (mon = month_index(p + 4)) == 0 || p[7] != '-' || !digits(p + 8, 2) ||
		    p[10] != ' ' || !parse_clock(p + 11, &hh, &mm, &ss) || strcmp(p + 19, " GMT") != 0)
			return -1;
		d = num(p + 1, 2);
		y = num(p + 8, 2);
		y += y >= 70 ? 1900 : 2000;
		return finish_date(y, mon, d, hh, mm, ss, out);
	}
	/* asctime: "Sun Nov  6 08:49:37 1994" */
	if (len != 24 || s[3] != ' ' || (mon = month_index(s + 4)) == 0 || s[7] != ' ' ||
	    !(s[8] == ' ' || isdigit((unsigned char)s[8])) || !isdigit((unsigned char)s[9]) ||
	    s[10] != ' ' || !parse_clock(s + 11, &hh, &mm, &ss) || s[19] != ' ' || !digits(s + 20, 4))
		return -1;
	d = (s[8] == ' ' ? 0 : s[8] - '0') * 10 + (s[9] - '0');
	y = num(s + 20, 4);
	return finish_date(y, mon, d, hh, mm, ss, out);
}

static bool
host_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '-' || ch == '.' || ch == '_';
}

int
transport_url_parse(const char *url, struct transport_url *out)
{
	const char *p, *auth_end, *host_end, *q;
	size_t hlen, plen;
	long port;
	char *end;

	memset(out, 0, sizeof *out);
	if (url == NULL)
		return -1;
	if (strncmp(url, "https://", 8) == 0) {
		out->https = true;
		p = url + 8;
	} else if (strncmp(url, "http://", 7) == 0)
		p = url + 7;
	else
		return -1;
	auth_end = p + strcspn(p, "/?#");
	if (*auth_end == '#' || strchr(p, '#') != NULL || memchr(p, '@', (size_t)(auth_end - p)))
		return -1;
	if (*p == '[') {
		host_end = memchr(p, ']', (size_t)(auth_end - p));
		if (host_end == NULL || host_end == p + 1)
			return -1;
		for (q = p + 1; q < host_end; q++)
			if (!isxdigit((unsigned char)*q) && *q != ':' && *q != '.')
				return -1;
		hlen = (size_t)(host_end - p - 1);
		if (hlen >= sizeof out->host)
			return -1;
		memcpy(out->host, p + 1, hlen);
		q = host_end + 1;
	} else {
		host_end = p;
		while (host_end < auth_end && *host_end != ':')
			host_end++;
		if (host_end == p)
			return -1;
		for (q = p; q < host_end; q++)
			if (!host_char(*q))
				return -1;
		hlen = (size_t)(host_end - p);
		if (hlen >= sizeof out->host)
			return -1;
		memcpy(out->host, p, hlen);
		q = host_end;
	}
	out->port = out->https ? 443 : 80;
	if (q < auth_end) {
		if (*q != ':' || q + 1 == auth_end || !digits(q + 1, (size_t)(auth_end - q - 1)) ||
		    auth_end - q - 1 > 5)
			return -1;
		port = strtol(q + 1, &end, 10);
		if (end != auth_end || port < 1 || port > 65535)
			return -1;
		out->port = (int)port;
	}
	if ((out->https && out->port == 443) || (!out->https && out->port == 80))
		hlen = (size_t)(q - p);		/* drop the default port */
	else
		hlen = (size_t)(auth_end - p);
	if (hlen >= sizeof out->host_header)
		return -1;
	memcpy(out->host_header, p, hlen);
	out->host_header[hlen] = '\0';
	if (*auth_end == '\0') {
		strcpy(out->path, "/");
		return 0;
	}
	q = strchr(auth_end, '?');
	plen = q ? (size_t)(q - auth_end) : strlen(auth_end);
	if (plen == 0) {
		strcpy(out->path, "/");
	} else {
		if (plen >= sizeof out->path)
			return -1;
		memcpy(out->path, auth_end, plen);
	}
	if (q != NULL) {
		if (strlen(q + 1) >= sizeof out->query)
			return -1;
		strcpy(out->query, q + 1);
	}
	for (p = url; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return -1;
	return 0;
}
