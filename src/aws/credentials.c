#include "aws/credentials.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/crypto.h>

#include "aws/transport.h"
#include "config.h"
#include "log.h"
#include "timeutil.h"
#include "xmalloc.h"

#define TOKEN_FILE_MAX	16384

struct creds_provider {
	enum creds_source	 source;
	struct transport	*t;
	char			*url;		/* container endpoint */
	char			*auth_token;	/* AWS_CONTAINER_AUTHORIZATION_TOKEN (wiped) */
	char			*auth_token_file;
	struct aws_credentials	 cached;
	bool			 have;
	int64_t			 next_attempt;	/* no automatic fetch before this */
	creds_fetch_fn		 fetch;
	void			*fetch_ctx;
};

static void __attribute__((format(printf, 3, 4)))
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void
wipe_free(char *s)
{
	if (s != NULL) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

void
aws_credentials_clear(struct aws_credentials *c)
{
	if (c == NULL)
		return;
	wipe_free(c->access_key_id);
	wipe_free(c->secret_access_key);
	wipe_free(c->session_token);
	memset(c, 0, sizeof *c);
}

static void
creds_copy(const struct aws_credentials *from, struct aws_credentials *to)
{
	to->access_key_id = xstrdup(from->access_key_id);
	to->secret_access_key = xstrdup(from->secret_access_key);
	to->session_token = xstrdup(from->session_token);
	to->expiration = from->expiration;
}

/* ------------------------------------------------------------------ pure parts */

static bool
ndigits(const char *s, int n, int *out)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

int
creds_parse_rfc3339(const char *s, int64_t *out)
{
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d, hh, mi, ss, oh = 0, om = 0, sign = 0;
	const char *p;
	struct tm tm;
	bool leap;
	time_t t;

	if (s == NULL || strlen(s) < 20)
		return -1;
	if (!ndigits(s, 4, &y) || s[4] != '-' || !ndigits(s + 5, 2, &mo) || s[7] != '-' ||
	    !ndigits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || !ndigits(s + 11, 2, &hh) ||
	    s[13] != ':' || !ndigits(s + 14, 2, &mi) || s[16] != ':' || !ndigits(s + 17, 2, &ss))
		return -1;
	p = s + 19;
	if (*p == '.') {
		if (!isdigit((unsigned char)p[1]))
			return -1;
		for (p++; isdigit((unsigned char)*p); p++)
			;
	}
	if ((p[0] == 'Z' || p[0] == 'z') && p[1] == '\0')
		sign = 0;
	else if ((p[0] == '+' || p[0] == '-') && ndigits(p + 1, 2, &oh) && p[3] == ':' &&
	    ndigits(p + 4, 2, &om) && p[6] == '\0' && oh <= 23 && om <= 59)
		sign = p[0] == '+' ? 1 : -1;
	else
		return -1;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !leap) || hh > 23 || mi > 59 || ss > 60)
		return -1;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = hh;
	tm.tm_min = mi;
	tm.tm_sec = ss == 60 ? 59 : ss;
	t = timegm(&tm);
	*out = (int64_t)t - sign * (oh * 3600 + om * 60);
	return 0;
}

static bool
has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return true;
	return false;
}

/* A required non-empty string member without control characters (they end up in headers). */
static const char *
member_str(json_object *o, const char *name, char *err, size_t errlen)
{
	json_object *v;
	const char *s;

	if (!json_object_object_get_ex(o, name, &v) || v == NULL) {
		seterr(err, errlen, "%s missing", name);
		return NULL;
	}
	if (!json_object_is_type(v, json_type_string)) {
		seterr(err, errlen, "%s is not a string", name);
		return NULL;
	}
	s = json_object_get_string(v);
	if ((size_t)json_object_get_string_len(v) != strlen(s) || *s == '\0' || has_control(s)) {
		seterr(err, errlen, "%s is empty or holds control characters", name);
		return NULL;
	}
	return s;
}

/* Overwrites a string json-c holds (ours to change: we parsed it) before it is freed. */
static void
wipe_member(json_object *o, const char *name)
{
	json_object *v;

	if (json_object_object_get_ex(o, name, &v) && json_object_is_type(v, json_type_string))
		OPENSSL_cleanse((char *)(uintptr_t)json_object_get_string(v),
		    (size_t)json_object_get_string_len(v));
}

int
creds_parse_response(const char *body, size_t len, int64_t now, struct aws_credentials *out,
    char *err, size_t errlen)
{
	json_tokener *tok;
	json_object *o = NULL;
	const char *ak, *sk, *tk, *exp;
	int64_t when;
	size_t used;
	int rc = -1;

	memset(out, 0, sizeof *out);
	if (body == NULL || len == 0) {
		seterr(err, errlen, "empty response");
		return -1;
	}
	tok = json_tokener_new();
	o = json_tokener_parse_ex(tok, body, (int)(len > INT32_MAX ? INT32_MAX : len));
	used = (size_t)json_tokener_get_parse_end(tok);
	if (o == NULL || json_tokener_get_error(tok) != json_tokener_success) {
		seterr(err, errlen, "response is not JSON");
		goto done;
	}
	while (used < len && isspace((unsigned char)body[used]))
		used++;
	if (used != len) {
		seterr(err, errlen, "trailing data after the JSON object");
		goto done;
	}
	if (!json_object_is_type(o, json_type_object)) {
		seterr(err, errlen, "response is not a JSON object");
		goto done;
	}
	if ((ak = member_str(o, "AccessKeyId", err, errlen)) == NULL ||
	    (sk = member_str(o, "SecretAccessKey", err, errlen)) == NULL ||
	    (tk = member_str(o, "Token", err, errlen)) == NULL ||
	    (exp = member_str(o, "Expiration", err, errlen)) == NULL)
		goto done;
	if (creds_parse_rfc3339(exp, &when) == -1) {
		seterr(err, errlen, "Expiration is not an RFC 3339 date-time");
		goto done;
	}
	if (when <= now) {
		seterr(err, errlen, "the credentials expired %lld s ago", (long long)(now - when));
		goto done;
	}
	out->access_key_id = xstrdup(ak);
	out->secret_access_key = xstrdup(sk);
	out->session_token = xstrdup(tk);
	out->expiration = when;
	rc = 0;
done:
	if (o != NULL) {
		wipe_member(o, "SecretAccessKey");
		wipe_member(o, "Token");
		json_object_put(o);
	}
	json_tokener_free(tok);
	return rc;
}

int
creds_check_full_uri(const char *uri, char *err, size_t errlen)
{
	struct transport_url u;
	unsigned char a4[4], a6[16];
	static const unsigned char loop6[16] = { [15] = 1 };
	static const unsigned char eks6[16] = { 0xfd, 0x00, 0x0e, 0xc2, [15] = 0x23 };

	if (transport_url_parse(uri, &u) == -1) {
		seterr(err, errlen, "not an http(s)://host[:port]/path URL");
		return -1;
	}
	if (strcasecmp(u.host, "localhost") == 0)
		return 0;
	if (inet_pton(AF_INET, u.host, a4) == 1) {
		if (a4[0] == 127 || (a4[0] == 169 && a4[1] == 254))
			return 0;
	} else if (inet_pton(AF_INET6, u.host, a6) == 1) {
		if (memcmp(a6, loop6, 16) == 0 || memcmp(a6, eks6, 16) == 0 ||
		    (a6[0] == 0xfe && (a6[1] & 0xc0) == 0x80))
			return 0;
	}
	seterr(err, errlen, "host \"%.64s\" is not loopback or link-local (127.0.0.0/8, ::1, "
	    "localhost, 169.254.0.0/16, fe80::/10, fd00:ec2::23)", u.host);
	return -1;
}

/* ------------------------------------------------------------------ fetching */

/* The token file's contents, trailing whitespace dropped (caller wipes and frees). */
static char *
read_token_file(const char *path, char *err, size_t errlen)
{
	char *data = xmalloc(TOKEN_FILE_MAX + 1);
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		seterr(err, errlen, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: cannot open: %s",
		    strerror(errno));
		free(data);
		return NULL;
	}
	while (len < TOKEN_FILE_MAX + 1 &&
	    (n = read(fd, data + len, TOKEN_FILE_MAX + 1 - len)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			seterr(err, errlen, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: cannot read: %s",
			    strerror(errno));
			goto fail;
		}
		len += (size_t)n;
	}
	if (len > TOKEN_FILE_MAX) {
		seterr(err, errlen, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: larger than %d bytes",
		    TOKEN_FILE_MAX);
		goto fail;
	}
	while (len > 0 && isspace((unsigned char)data[len - 1]))
		len--;
	data[len] = '\0';
	if (len == 0 || strlen(data) != len || has_control(data)) {
		seterr(err, errlen, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: empty, or holds "
		    "control characters");
		goto fail;
	}
	close(fd);
	return data;
fail:
	close(fd);
	OPENSSL_cleanse(data, TOKEN_FILE_MAX + 1);
	free(data);
	return NULL;
}

static bool
retryable_fetch(const struct transport_response *r, int rc)
{
	if (rc == -1)
		return r->error == TRANSPORT_ERR_CONNECT || r->error == TRANSPORT_ERR_TIMEOUT ||
		    r->error == TRANSPORT_ERR_RESET;
	return r->status >= 500;
}

/* The default fetch: GET through the transport, a few quick attempts. */
static int
transport_fetch(void *ctx, const char *url, const char *authorization, struct buf *body,
    char *err, size_t errlen)
{
	struct transport *t = ctx;
	struct transport_header h[2];
	struct transport_request req;
	struct transport_response resp;
	json_object *o, *code;
	int attempt, rc;

	memset(&req, 0, sizeof req);
	h[0].name = "Accept";
	h[0].value = "application/json";
	h[1].name = "Authorization";
	h[1].value = authorization;
	req.method = "GET";
	req.url = url;
	req.headers = h;
	req.nheaders = authorization ? 2 : 1;
	req.max_body = CREDS_MAX_RESPONSE;
	req.connect_timeout_ms = CREDS_FETCH_TIMEOUT_MS;
	req.timeout_ms = CREDS_FETCH_TIMEOUT_MS;
	for (attempt = 1;; attempt++) {
		rc = transport_perform(t, &req, &resp);
		if (rc == 0 && resp.status == 200) {
			buf_append(body, resp.body.data, resp.body.len);
			OPENSSL_cleanse(resp.body.data, resp.body.len);
			transport_response_free(&resp);
			return 0;
		}
		if (attempt >= CREDS_FETCH_ATTEMPTS || !retryable_fetch(&resp, rc))
			break;
		if (resp.body.len > 0)
			OPENSSL_cleanse(resp.body.data, resp.body.len);
		transport_response_free(&resp);
	}
	if (rc == -1)
		seterr(err, errlen, "%s (%s) after %d attempts", resp.message,
		    transport_error_name(resp.error), attempt);
	else {
		/* The endpoint's errors look like {"code": "...", "message": "..."}. */
		o = resp.body.len ? json_tokener_parse(buf_str(&resp.body)) : NULL;
		if (o != NULL && json_object_is_type(o, json_type_object) &&
		    json_object_object_get_ex(o, "code", &code) &&
		    json_object_is_type(code, json_type_string))
			seterr(err, errlen, "HTTP %d (%.64s)", resp.status, json_object_get_string(code));
		else
			seterr(err, errlen, "HTTP %d", resp.status);
		json_object_put(o);
	}
	if (resp.body.len > 0)
		OPENSSL_cleanse(resp.body.data, resp.body.len);
	transport_response_free(&resp);
	return -1;
}

/* ------------------------------------------------------------------ the provider */

struct creds_provider *
creds_provider_new(const struct config *cfg, struct transport *t, char *err, size_t errlen)
{
	const struct aws_env_creds *e = &cfg->aws;
	struct creds_provider *cp;
	char why[256];

	cp = xcalloc(1, sizeof *cp);
	if (e->access_key_id != NULL && e->secret_access_key != NULL) {
		if (has_control(e->access_key_id) || has_control(e->secret_access_key) ||
		    (e->session_token && has_control(e->session_token))) {
			seterr(err, errlen, "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY or "
			    "AWS_SESSION_TOKEN: holds control characters");
			goto fail;
		}
		cp->source = CREDS_SOURCE_ENV;
		cp->cached.access_key_id = xstrdup(e->access_key_id);
		cp->cached.secret_access_key = xstrdup(e->secret_access_key);
		if (e->session_token != NULL && *e->session_token != '\0')
			cp->cached.session_token = xstrdup(e->session_token);
		cp->have = true;
		return cp;
	}
	cp->source = CREDS_SOURCE_CONTAINER;
	if (e->container_relative_uri != NULL) {
		struct transport_url u;
		struct buf url = BUF_INIT;

		buf_printf(&url, "http://%s%s", CREDS_ECS_HOST, e->container_relative_uri);
		cp->url = buf_detach(&url);
		if (e->container_relative_uri[0] != '/' || transport_url_parse(cp->url, &u) == -1) {
			seterr(err, errlen, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: must be a path "
			    "starting with /");
			goto fail;
		}
	} else if (e->container_full_uri != NULL) {
		if (creds_check_full_uri(e->container_full_uri, why, sizeof why) == -1) {
			seterr(err, errlen, "AWS_CONTAINER_CREDENTIALS_FULL_URI: %s", why);
			goto fail;
		}
		cp->url = xstrdup(e->container_full_uri);
	} else {
		seterr(err, errlen, "AWS credentials: none configured (set AWS_ACCESS_KEY_ID and "
		    "AWS_SECRET_ACCESS_KEY, or AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or "
		    "AWS_CONTAINER_CREDENTIALS_FULL_URI)");
		goto fail;
	}
	if (e->container_auth_token_file != NULL)
		cp->auth_token_file = xstrdup(e->container_auth_token_file);
	else if (e->container_auth_token != NULL) {
		if (has_control(e->container_auth_token)) {
			seterr(err, errlen, "AWS_CONTAINER_AUTHORIZATION_TOKEN: holds control characters");
			goto fail;
		}
		cp->auth_token = xstrdup(e->container_auth_token);
	}
	if (t == NULL) {
		seterr(err, errlen, "AWS credentials: the container endpoint needs a transport");
		goto fail;
	}
	cp->t = t;
	cp->fetch = transport_fetch;
	cp->fetch_ctx = t;
	return cp;
fail:
	creds_provider_free(cp);
	return NULL;
}

void
creds_provider_free(struct creds_provider *cp)
{
	if (cp == NULL)
		return;
	aws_credentials_clear(&cp->cached);
	wipe_free(cp->auth_token);
	free(cp->auth_token_file);
	free(cp->url);
	free(cp);
}

enum creds_source
creds_provider_source(const struct creds_provider *cp)
{
	return cp->source;
}

const char *
creds_provider_url(const struct creds_provider *cp)
{
	return cp->url;
}

void
creds_provider_set_fetch(struct creds_provider *cp, creds_fetch_fn fn, void *ctx)
{
	cp->fetch = fn;
	cp->fetch_ctx = ctx;
}

bool
credentials_usable(const struct creds_provider *cp, int64_t now)
{
	if (cp->source == CREDS_SOURCE_ENV)
		return true;
	return cp->have && now < cp->cached.expiration;
}

/* One fetch-and-parse; the cache changes only on success. */
static int
fetch_new(struct creds_provider *cp, int64_t now, char *err, size_t errlen)
{
	struct aws_credentials fresh;
	struct buf body = BUF_INIT;
	char *token = NULL;
	const char *auth = NULL;
	int rc = -1;

	if (cp->auth_token_file != NULL) {
		if ((token = read_token_file(cp->auth_token_file, err, errlen)) == NULL)
			goto done;
		auth = token;
	} else
		auth = cp->auth_token;
	if (cp->fetch(cp->fetch_ctx, cp->url, auth, &body, err, errlen) == -1)
		goto done;
	if (creds_parse_response(body.data, body.len, now, &fresh, err, errlen) == -1)
		goto done;
	aws_credentials_clear(&cp->cached);
	cp->cached = fresh;
	cp->have = true;
	rc = 0;
done:
	if (body.data != NULL)
		OPENSSL_cleanse(body.data, body.cap);
	buf_free(&body);
	wipe_free(token);
	/* The gap applies after a failure, and after a success that brought credentials already
	 * inside the refresh window; otherwise the window itself says when to fetch next. */
	if (rc == 0)
		cp->next_attempt = now >= cp->cached.expiration - CREDS_REFRESH_BEFORE_S ?
		    now + CREDS_RETRY_AFTER_S : 0;
	else
		cp->next_attempt = now + (credentials_usable(cp, now) ?
		    CREDS_RETRY_AFTER_S : CREDS_RETRY_AFTER_EXPIRED_S);
	return rc;
}

int
credentials_get(struct creds_provider *cp, int64_t now, struct aws_credentials *out)
{
	char err[256];
	bool usable, due;

	memset(out, 0, sizeof *out);
	if (cp->source == CREDS_SOURCE_ENV) {
		creds_copy(&cp->cached, out);
		return 0;
	}
	usable = credentials_usable(cp, now);
	due = !cp->have || now >= cp->cached.expiration - CREDS_REFRESH_BEFORE_S;
	if (due && now >= cp->next_attempt) {
		if (fetch_new(cp, now, err, sizeof err) == 0) {
			char when[RFC3339_LEN];
			time_format(cp->cached.expiration, when);
			log_info("container credentials fetched, valid until %s", when);
		} else if (usable) {
			log_warnx("container credentials refresh failed: %s; still using the cached "
			    "ones (they expire in %lld s)", err,
			    (long long)(cp->cached.expiration - now));
		} else {
			log_errorx("no usable AWS credentials: container endpoint: %s", err);
			return -1;
		}
	} else if (!usable) {
		log_errorx("no usable AWS credentials: the cached ones expired and the last "
		    "refresh failed (next attempt in %lld s)", (long long)(cp->next_attempt - now));
		return -1;
	}
	creds_copy(&cp->cached, out);
	return 0;
}

int
credentials_refresh(struct creds_provider *cp, int64_t now)
{
	char err[256];

	if (cp->source == CREDS_SOURCE_ENV)
		return -1;
	if (fetch_new(cp, now, err, sizeof err) == -1) {
		log_warnx("container credentials refresh failed: %s", err);
		return -1;
	}
	log_info("container credentials refreshed on demand");
	return 0;
}
