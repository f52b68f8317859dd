/*
 * transport: HTTP(S) requests to AWS and to the container credentials endpoint. This is the only
 * module that calls libcurl. One struct transport per worker process, made once and kept for the
 * process's life: it owns one curl easy handle that every call reuses, so connections (and TLS
 * sessions and DNS answers) are kept alive and reused between calls. Not thread-safe: one
 * caller at a time, as a worker handles one request at a time.
 *
 * A call sends one request and reads one response; it never retries (retrying is the caller's
 * business, since only it knows what is safe to repeat) and never follows redirects. One
 * exception is curl's own: when a kept-alive connection turns out to be dead before any byte of
 * the answer arrived, curl resends the request once on a new connection (rewinding the body),
 * so a server may see a request twice for one call. HTTP/1.1 only; loopback and the container
 * credentials addresses never go through a proxy from the environment. Bodies go
 * either from memory or through a read callback with a known length, so an S3 upload of many
 * GiB is never held in memory; the response body goes into a struct buf bounded by the
 * caller's maximum, or to a write callback.
 *
 * Secrets: request headers (Authorization, X-Amz-Security-Token) are never logged, never put
 * in an error message, and curl's verbose mode is never switched on. This module logs nothing
 * at all: it returns a classified failure with curl's message, and the caller logs it once with
 * what it knows (the operation, the request id).
 *
 * Ownership: everything in a struct transport_request is borrowed for the duration of the call.
 * A struct transport_response owns its body and headers; transport_perform() overwrites it (it
 * need not be initialised) and the caller frees it with transport_response_free() after success
 * and failure alike.
 */
#ifndef FS_AWS_TRANSPORT_H
#define FS_AWS_TRANSPORT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"

#define TRANSPORT_CONNECT_TIMEOUT_MS	3000L		/* when the request says 0 */
#define TRANSPORT_TIMEOUT_MS		30000L		/* when the request says 0 (and no stall_s) */
#define TRANSPORT_MAX_BODY		(1024 * 1024)	/* response body limit when max_body is 0 */
#define TRANSPORT_MAX_HEADERS		128		/* response headers kept (the rest dropped) */
#define TRANSPORT_MESSAGE_LEN		256		/* curl's CURL_ERROR_SIZE */

struct transport;

struct transport_header {
	const char	*name;
	const char	*value;
};

/*
 * A streamed request body: read() copies up to n bytes into buf and returns how many (at least
 * 1 until body_len bytes have been given), or -1 on failure; returning 0 before the end is a
 * failure too. rewind() (optional) starts the body again: curl needs it when it resends a
 * request on a fresh connection after finding a kept-alive one closed by the server; without
 * it such a call fails with TRANSPORT_ERR_RESET, and the caller may retry with a new stream.
 */
typedef ssize_t	(*transport_read_fn)(void *ctx, void *buf, size_t n);
typedef int	(*transport_rewind_fn)(void *ctx);
/* A streamed response body: takes all n bytes and returns 0, or -1 to abort the call. */
typedef int	(*transport_write_fn)(void *ctx, const void *data, size_t n);

struct transport_request {
	const char	*method;	/* GET, HEAD, PUT, POST, DELETE (others are sent as given) */
	const char	*url;		/* http:// or https:// only, already percent-encoded */
	const struct transport_header *headers;	/* sent as given; Host may be among them */
	size_t		 nheaders;
	/* The body: in memory (body, body_len), or streamed (read != NULL, body_len bytes).
	 * With neither, PUT and POST send Content-Length: 0 and other methods no body. */
	const void	*body;
	size_t		 body_len;
	transport_read_fn	 read;
	transport_rewind_fn	 rewind;
	void		*read_ctx;
	/* The response body: to write() if set, else into the response's buf, at most
	 * max_body bytes (0: TRANSPORT_MAX_BODY); more is TRANSPORT_ERR_TOO_LARGE. */
	transport_write_fn	 write;
	void		*write_ctx;
	size_t		 max_body;
	long		 connect_timeout_ms;	/* 0: TRANSPORT_CONNECT_TIMEOUT_MS */
	long		 timeout_ms;		/* whole call; 0: TRANSPORT_TIMEOUT_MS, or none if
						   stall_s is set (long uploads) */
	long		 stall_s;		/* > 0: fail (TIMEOUT) when under 1 byte/s for that
						   long, in either direction */
};

enum transport_error {
	TRANSPORT_OK = 0,
	TRANSPORT_ERR_CONNECT,		/* DNS, TCP connect or TLS handshake failed */
	TRANSPORT_ERR_TIMEOUT,		/* connect or total timeout, or stalled */
	TRANSPORT_ERR_RESET,		/* connection reset, closed early, or an empty reply */
	TRANSPORT_ERR_TOO_LARGE,	/* the response body went over max_body */
	TRANSPORT_ERR_BODY,		/* a read/write/rewind callback failed or came up short */
	TRANSPORT_ERR_OTHER,		/* bad URL, TLS certificate, protocol error, ... */
};

struct transport_response_header {
	char	*name;			/* as received */
	char	*value;			/* trimmed */
};

struct transport_response {
	int		 status;	/* HTTP status of the final response; 0 if none */
	struct buf	 body;		/* unless the request had a write callback */
	struct transport_response_header *headers;	/* of the final response, in order */
	size_t		 nheaders;
	enum transport_error error;
	char		 message[TRANSPORT_MESSAGE_LEN];	/* curl's (or ours) when error != OK */
	bool		 reused;	/* the call went over an already open connection */
	long		 elapsed_ms;
};

struct transport_stats {
	uint64_t	calls;		/* transport_perform() calls */
	uint64_t	connections;	/* new connections opened (TCP connects) */
	uint64_t	failures;	/* calls that ended with error != TRANSPORT_OK */
};

/* A transport with its curl handle (curl_global_init happens on the first one). NULL (after a
 * log line) if libcurl cannot make a handle. Free with transport_free(); NULL is a no-op. */
struct transport *transport_new(void);
void	transport_free(struct transport *);

/*
 * Sends the request and reads the response. Returns 0 when an HTTP response arrived (whatever
 * its status: 4xx/5xx are the caller's to interpret), -1 with resp->error and resp->message set
 * otherwise (then resp->status is what was received, if anything). A bad request (NULL method
 * or URL, a header name or value with CR/LF, a body both in memory and streamed) is -1 with
 * TRANSPORT_ERR_OTHER, without sending anything.
 */
int	transport_perform(struct transport *, const struct transport_request *,
	    struct transport_response *resp);
void	transport_response_free(struct transport_response *);
/* The first response header called name (any case), or NULL. */
const char *transport_response_header(const struct transport_response *, const char *name);
void	transport_stats(const struct transport *, struct transport_stats *out);

/* Static, short names for logs and tests: "ok", "connect", "timeout", "reset", ... */
const char *transport_error_name(enum transport_error);

/*
 * Parses an HTTP date (RFC 9110's IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", and the
 * obsolete RFC 850 and asctime forms a server may still send) to epoch seconds. 0 or -1.
 */
int	transport_parse_http_date(const char *s, int64_t *out);

/*
 * Splits an http(s) URL into its parts: host_header gets the authority as the Host header
 * carries it (the default port for the scheme dropped, IPv6 brackets kept), host the bare host
 * (no brackets), path the path ("/" if none) without query. Returns 0, or -1 if the URL is not
 * http(s)://host[:port][/path][?query] with a sane port. Each output is NUL-terminated; -1 also
 * if one does not fit.
 */
struct transport_url {
	bool	https;
	int	port;
	char	host[256];
	char	host_header[272];
	char	path[2048];
	char	query[2048];
};

int	transport_url_parse(const char *url, struct transport_url *out);

#endif
