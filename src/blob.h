/*
 * blob: where file bodies live. One interface, two backends (a local directory; S3). Handlers
 * see only these functions: they write a blob through a writer (push: chunks in, then commit
 * or abort), delete it, and ask the backend to answer a download (the local backend hands the
 * file to nginx with X-Accel-Redirect; S3 redirects to a presigned URL).
 *
 * A committed blob is durable (written, flushed, in place) before commit returns, so metadata
 * that refers to it can be stored after; an aborted writer leaves nothing behind.
 */
#ifndef FS_BLOB_H
#define FS_BLOB_H
#include <stdint.h>

#include <json-c/json.h>

#include "config.h"
#include "http.h"

enum blob_rc {
	BLOB_OK = 0,
	BLOB_NOT_FOUND,
	BLOB_NOSPACE,		/* the backend is full (HTTP 507) */
	BLOB_IO,		/* the backend failed (HTTP 503) */
	BLOB_UNSUPPORTED,	/* this backend cannot take that shortcut; use a writer */
};

#define BLOB_KEY_LEN	32	/* random hex keys: 128 bits */

struct blob;
struct blob_writer;

struct blob_backend {
	const char *name;
	struct blob *(*open)(const struct config *);	/* NULL on failure (logged) */
	void	(*close)(struct blob *);
	enum blob_rc (*ping)(struct blob *);
	struct blob_writer *(*writer_open)(struct blob *, const char *key);	/* NULL: logged */
	enum blob_rc (*writer_write)(struct blob_writer *, const void *, size_t);
	/* Makes the blob durable and visible; frees the writer whatever the result. */
	enum blob_rc (*writer_commit)(struct blob_writer *);
	/* Discards everything written; frees the writer. NULL ok. */
	void	(*writer_abort)(struct blob_writer *);
	/* Adopts the whole file at path as the blob (the local backend links it: no copy). */
	enum blob_rc (*put_file)(struct blob *, const char *key, const char *path);
	enum blob_rc (*remove)(struct blob *, const char *key);
	/* Answers GET for the blob: sets status and headers on resp (no body). */
	enum blob_rc (*serve)(struct blob *, const char *key, const char *content_disposition,
		    const char *content_type, int64_t now, struct response *);
	/* The size of a stored blob; BLOB_NOT_FOUND if there is none. */
	enum blob_rc (*stat)(struct blob *, const char *key, uint64_t *size);
	/*
	 * A direct upload from the client to the backend, bypassing the workers: *form gets
	 * {"url": ..., "fields": {...}} for an HTML form POST of exactly size bytes to key,
	 * valid for expires seconds from now. BLOB_UNSUPPORTED where clients cannot upload
	 * directly (the local backend).
	 */
	enum blob_rc (*presign_post)(struct blob *, const char *key, uint64_t size,
		    const char *content_type, int64_t now, int64_t expires, json_object **form);
	/* Calls fn(ctx, key) for every blob last written before `before` (epoch seconds), and
	 * removes abandoned partial writes older than that. fn returns -1 to stop. */
	enum blob_rc (*list_older)(struct blob *, int64_t before,
		    int (*fn)(void *ctx, const char *key), void *ctx);
};

struct blob {
	const struct blob_backend *backend;
};

extern const struct blob_backend blob_backend_local;
extern const struct blob_backend blob_backend_s3;

struct blob	*blob_open(const struct config *);	/* the backend BLOB_BACKEND names */
void		 blob_close(struct blob *);		/* NULL ok */
/* A new random key (BLOB_KEY_LEN hex characters) into out[BLOB_KEY_LEN + 1]. */
void		 blob_new_key(char *out);
/* True if key looks like one blob_new_key makes (so it is safe in a path). */
int		 blob_key_valid(const char *key);

#define blob_ping(b)			((b)->backend->ping(b))
#define blob_writer_open(b, k)		((b)->backend->writer_open((b), (k)))
#define blob_writer_write(b, w, p, n)	((b)->backend->writer_write((w), (p), (n)))
#define blob_writer_commit(b, w)	((b)->backend->writer_commit(w))
#define blob_writer_abort(b, w)		((b)->backend->writer_abort(w))
#define blob_put_file(b, k, p)		((b)->backend->put_file((b), (k), (p)))
#define blob_remove(b, k)		((b)->backend->remove((b), (k)))
#define blob_serve(b, k, cd, ct, t, r)	((b)->backend->serve((b), (k), (cd), (ct), (t), (r)))
#define blob_list_older(b, t, f, c)	((b)->backend->list_older((b), (t), (f), (c)))
#define blob_stat(b, k, s)		((b)->backend->stat((b), (k), (s)))
#define blob_presign_post(b, k, s, ct, t, e, f) ((b)->backend->presign_post((b), (k), (s), (ct), (t), (e), (f)))

#endif
