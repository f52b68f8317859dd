/*
 * http: the plain request and response structs that routing and handlers see, plus the
 * decoding helpers for what arrives in them (headers, cookies, query strings, bodies).
 * Nothing here knows about FastCGI: the adapter in fcgi/ fills a struct request and turns a
 * struct response into bytes.
 */
#ifndef FS_HTTP_H
#define FS_HTTP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"

enum http_method { HTTP_GET, HTTP_HEAD, HTTP_POST, HTTP_PUT, HTTP_DELETE, HTTP_OPTIONS, HTTP_OTHER };

struct http_header {
	char	*name;		/* lower-case, '-' separated */
	char	*value;
};

/* Reads up to n body bytes; returns bytes read, 0 at the end, -1 on error. */
struct body_reader {
	ssize_t	(*read)(void *ctx, void *buf, size_t n);
	void	*ctx;
};

struct request {
	enum http_method method;
	char		*method_str;
	char		*path;		/* raw (still percent-encoded) path, no query */
	char		*query;		/* raw query string without '?', "" if none */
	struct http_header *headers;
	size_t		 nheaders;
	int64_t		 content_length;	/* -1 when absent */
	char		*remote_addr;
	struct body_reader body;
	bool		 body_consumed;
	char		*body_file;	/* the whole body is this file (nginx wrote it), or NULL */
	int		 body_fd;	/* open on body_file once reading starts, else -1 */
};

struct response {
	int		 status;
	struct buf	 headers;	/* "Name: value\r\n" lines, without Status and Content-Length */
	struct buf	 body;
	const char	*error_code;	/* set by resp_error, for the access log (static string) */
	bool		 head;		/* HEAD: send headers only */
};

/* Request construction and lookup (the adapter and the tests build requests). */
void	 req_init(struct request *);
void	 req_free(struct request *);
void	 req_set_method(struct request *, const char *);
void	 req_add_header(struct request *, const char *name, const char *value);
const char *req_header(const struct request *, const char *lname);	/* NULL if absent */
/* The value of cookie name, copied into out (NUL-terminated); -1 if absent or too long. */
int	 req_cookie(const struct request *, const char *name, char *out, size_t outlen);
/* The decoded value of query parameter name into out; -1 if absent; -2 if malformed. */
int	 req_query(const struct request *, const char *name, struct buf *out);

/*
 * Reads the whole body, up to limit bytes, into out. Returns 0, -1 on a read error, -2 if the
 * body is larger than limit (the rest is then drained in small chunks, never held).
 */
int	 req_read_body(struct request *, size_t limit, struct buf *out);
/* Reads and discards what remains of the body. */
void	 req_drain_body(struct request *);

/* The body is the file nginx buffered it to: reads come from there (opened on first read). */
void	 req_set_body_file(struct request *, const char *path);

/* Is a raw request path (REQUEST_URI before '?') one that nginx matches its locations on
 * with the same segments? Not when, decoded as nginx does (%2F is '/', %2E '.'), it has a
 * "." or ".." segment (nginx resolves them) or an empty one inside ("//", merged): the app
 * must not answer a request nginx placed under another location's limits. */
bool	 path_canonical(const char *path);

/* Percent-decoding: -1 on a malformed escape; plus_is_space for form/query encoding. */
int	 url_decode(const char *s, size_t n, bool plus_is_space, struct buf *out);

void	 resp_init(struct response *);
void	 resp_free(struct response *);
void	 resp_reset(struct response *);
void	 resp_header(struct response *, const char *name, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Sets status and a JSON body (json is a complete serialized object). */
void	 resp_json(struct response *, int status, const char *json, size_t len);
/* The error shape from DESIGN.md; code must be a static string. */
void	 resp_error(struct response *, int status, const char *code, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
const char *http_reason(int status);

#endif
