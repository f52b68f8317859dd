/*
 * blob_s3: blobs as objects in one S3 bucket, under the same keys as the local backend (the
 * 32-hex-character blob key is the object key). File bodies never pass through a worker's
 * memory whole: an upload nginx buffered to a file is streamed from that file (one PUT up to
 * SINGLE_PUT_MAX, else a multipart upload in FILE_PART bytes parts read straight from the
 * file), a multipart/form-data part is cut into WRITER_PART buffers as it arrives; every
 * multipart upload that fails is aborted, and an object is only reported stored once HEAD
 * confirms its size. Downloads are 302s to presigned GET URLs (PRESIGN_GET_S), so S3 serves
 * the bytes and Range requests; browsers can upload directly with a presigned POST form.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aws/s3.h"
#include "aws/session.h"
#include "blob.h"
#include "log.h"
#include "xmalloc.h"

#define SINGLE_PUT_MAX	(16ULL << 20)
#define FILE_PART	(16ULL << 20)	/* parts streamed from a file: 320 for the 5 GiB limit */
#define WRITER_PART	(8ULL << 20)	/* parts buffered from a stream: the one buffer held */
#define PRESIGN_GET_S	300L
#define PING_KEY	"fileshare-readiness-probe"

struct blob_s3 {
	struct blob	 base;
	struct s3	*s3;
};

#define B(base) ((struct blob_s3 *)(base))

static enum blob_rc
s3_rc(const struct s3_error *e)
{
	switch (e->kind) {
	case S3_OK: return BLOB_OK;
	case S3_ERR_NOT_FOUND: return BLOB_NOT_FOUND;
	default: return BLOB_IO;
	}
}

static void bs3_close(struct blob *);

static struct blob *
bs3_open(const struct config *cfg)
{
	struct aws_session *sess = aws_session_get(cfg);
	struct blob_s3 *b;
	char err[512];

	if (sess == NULL)
		return NULL;
	b = xcalloc(1, sizeof *b);
	b->base.backend = &blob_backend_s3;
	if ((b->s3 = s3_new(cfg, sess->transport, sess->creds, NULL, err, sizeof err)) == NULL) {
		log_errorx("S3: %s", err);
		bs3_close(&b->base);
		return NULL;
	}
	return &b->base;
}

static void
bs3_close(struct blob *base)
{
	s3_free(B(base)->s3);
	free(base);
}

/* Reachable and authorised: a HEAD of a key that is not there answers 404. */
static enum blob_rc
bs3_ping(struct blob *base)
{
	struct s3_head h;
	struct s3_error e;

	if (s3_head_object(B(base)->s3, PING_KEY, &h, &e) == 0 || e.kind == S3_ERR_NOT_FOUND)
		return BLOB_OK;
	return BLOB_IO;
}

/* The size S3 reports for key must be the size written. */
static enum blob_rc
confirm(struct blob_s3 *b, const char *key, uint64_t want)
{
	struct s3_head h;
	struct s3_error e;

	if (s3_head_object(b->s3, key, &h, &e) == -1)
		return BLOB_IO;
	if (h.size != want) {
		log_errorx("S3 object %s is %llu bytes, not %llu", key, (unsigned long long)h.size,
		    (unsigned long long)want);
		return BLOB_IO;
	}
	return BLOB_OK;
}

/* ------------------------------------------------------------------ multipart bookkeeping */

struct mpu {
	char		*upload_id;
	char		(*etags)[S3_ETAG_MAX];
	size_t		 n, cap;
};

static int
mpu_part(struct blob_s3 *b, const char *key, struct mpu *m, const struct s3_body *body,
    const char *content_type)
{
	struct s3_error e;

	if (m->upload_id == NULL && s3_multipart_create(b->s3, key, content_type, &m->upload_id, &e) == -1)
		return -1;
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 16;
		m->etags = xrealloc(m->etags, m->cap * sizeof *m->etags);
	}
	if (s3_multipart_upload_part(b->s3, key, m->upload_id, (int)m->n + 1, body, m->etags[m->n],
	    &e) == -1)
		return -1;
	m->n++;
	return 0;
}

static int
mpu_complete(struct blob_s3 *b, const char *key, struct mpu *m)
{
	struct s3_part *parts = xcalloc(m->n, sizeof *parts);
	struct s3_error e;
	size_t i;
	int rc;

	for (i = 0; i < m->n; i++) {
		parts[i].number = (int)i + 1;
		parts[i].etag = m->etags[i];
	}
	rc = s3_multipart_complete(b->s3, key, m->upload_id, parts, m->n, NULL, &e);
	free(parts);
	return rc;
}

/* Gives up on a multipart upload: nothing may be left behind billing storage. */
static void
mpu_abort(struct blob_s3 *b, const char *key, struct mpu *m)
{
	struct s3_error e;

	if (m->upload_id != NULL && s3_multipart_abort(b->s3, key, m->upload_id, &e) == -1)
		log_errorx("abort of the multipart upload of %s failed; the bucket's lifecycle rule "
		    "removes its parts", key);
}

static void
mpu_free(struct mpu *m)
{
	free(m->upload_id);
	free(m->etags);
	memset(m, 0, sizeof *m);
}

/* ------------------------------------------------------------------ writer (a stream) */

struct blob_writer {
	struct blob_s3	*b;
	char		 key[BLOB_KEY_LEN + 1];
	char		*buf;		/* WRITER_PART bytes, allocated on first write */
	size_t		 fill;
	uint64_t	 total;
	struct mpu	 mpu;
	int		 failed;
};

static struct blob_writer *
bs3_writer_open(struct blob *base, const char *key)
{
	struct blob_writer *w;

	if (!blob_key_valid(key))
		return NULL;
	w = xcalloc(1, sizeof *w);
	w->b = B(base);
	snprintf(w->key, sizeof w->key, "%s", key);
	return w;
}

static enum blob_rc
flush_part(struct blob_writer *w)
{
	struct s3_body body = { w->buf, w->fill, NULL, NULL, NULL, NULL };

	if (mpu_part(w->b, w->key, &w->mpu, &body, NULL) == -1) {
		w->failed = 1;
		return BLOB_IO;
	}
	w->fill = 0;
	return BLOB_OK;
}

static enum blob_rc
bs3_writer_write(struct blob_writer *w, const void *p, size_t n)
{
	const char *c = p;
	size_t k;

	if (w->failed)
		return BLOB_IO;
	if (w->buf == NULL)
		w->buf = xmalloc(WRITER_PART);
	while (n > 0) {
		k = WRITER_PART - w->fill < n ? WRITER_PART - w->fill : n;
		memcpy(w->buf + w->fill, c, k);
		w->fill += k;
		w->total += k;
		c += k;
		n -= k;
		if (w->fill == WRITER_PART && flush_part(w) != BLOB_OK)
			return BLOB_IO;
	}
	return BLOB_OK;
}

static void
writer_free(struct blob_writer *w)
{
	mpu_free(&w->mpu);
	free(w->buf);
	free(w);
}

static void
bs3_writer_abort(struct blob_writer *w)
{
	if (w == NULL)
		return;
	mpu_abort(w->b, w->key, &w->mpu);
	writer_free(w);
}

static enum blob_rc
bs3_writer_commit(struct blob_writer *w)
{
	struct s3_body body = { w->buf ? w->buf : "", w->fill, NULL, NULL, NULL, NULL };
	struct s3_error e;
	char etag[S3_ETAG_MAX];
	enum blob_rc rc = BLOB_IO;

	if (w->failed)
		goto fail;
	if (w->mpu.upload_id == NULL) {
		if (s3_put_object(w->b->s3, w->key, &body, NULL, etag, &e) == -1)
			goto fail;
	} else if ((w->fill > 0 && flush_part(w) != BLOB_OK) || mpu_complete(w->b, w->key, &w->mpu) == -1)
		goto fail;
	if ((rc = confirm(w->b, w->key, w->total)) != BLOB_OK) {
		s3_delete_object(w->b->s3, w->key, &e);
		goto fail;
	}
	writer_free(w);
	return BLOB_OK;
fail:
	bs3_writer_abort(w);
	return rc == BLOB_OK ? BLOB_IO : rc;
}

/* ------------------------------------------------------------------ a file nginx wrote */

/* A byte range of an open file as a rewindable request body. */
struct range {
	int		 fd;
	uint64_t	 start, len, off;
};

static ssize_t
range_read(void *ctx, void *buf, size_t n)
{
	struct range *r = ctx;
	ssize_t k;

	if (r->off >= r->len)
		return 0;
	if (n > r->len - r->off)
		n = (size_t)(r->len - r->off);
	do
		k = pread(r->fd, buf, n, (off_t)(r->start + r->off));
	while (k == -1 && errno == EINTR);
	if (k <= 0)
		return -1;	/* the file shrank or failed: the call fails, never sends short */
	r->off += (uint64_t)k;
	return k;
}

static int
range_rewind(void *ctx)
{
	((struct range *)ctx)->off = 0;
	return 0;
}

static enum blob_rc
bs3_put_file(struct blob *base, const char *key, const char *path)
{
	struct blob_s3 *b = B(base);
	struct range r;
	struct s3_body body;
	struct s3_error e;
	struct stat st;
	struct mpu m;
	char etag[S3_ETAG_MAX];
	enum blob_rc rc = BLOB_IO;
	uint64_t size, off;
	int fd;

	if (!blob_key_valid(key))
		return BLOB_IO;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 || fstat(fd, &st) == -1) {
		log_errorx("cannot read the uploaded body: %s", strerror(errno));
		if (fd != -1)
			close(fd);
		return BLOB_IO;
	}
	size = (uint64_t)st.st_size;
	memset(&m, 0, sizeof m);
	memset(&body, 0, sizeof body);
	body.read = range_read;
	body.rewind = range_rewind;
	body.ctx = &r;
	if (size <= SINGLE_PUT_MAX) {
		r = (struct range){ fd, 0, size, 0 };
		body.len = (size_t)size;
		if (s3_put_object(b->s3, key, &body, NULL, etag, &e) == -1)
			goto done;
	} else {
		for (off = 0; off < size; off += FILE_PART) {
			r = (struct range){ fd, off, size - off < FILE_PART ? size - off : FILE_PART, 0 };
			body.len = (size_t)r.len;
			if (mpu_part(b, key, &m, &body, NULL) == -1)
				goto abort;
		}
		if (mpu_complete(b, key, &m) == -1)
			goto abort;
	}
	if ((rc = confirm(b, key, size)) != BLOB_OK)
		s3_delete_object(b->s3, key, &e);
	goto done;
abort:
	mpu_abort(b, key, &m);
done:
	mpu_free(&m);
	close(fd);
	return rc;
}

/* ------------------------------------------------------------------ the rest */

static enum blob_rc
bs3_remove(struct blob *base, const char *key)
{
	struct s3_error e;

	if (!blob_key_valid(key))
		return BLOB_NOT_FOUND;
	return s3_delete_object(B(base)->s3, key, &e) == 0 ? BLOB_OK : s3_rc(&e);
}

static enum blob_rc
bs3_serve(struct blob *base, const char *key, const char *content_disposition,
    const char *content_type, int64_t now, struct response *resp)
{
	char *url = NULL;

	if (!blob_key_valid(key))
		return BLOB_NOT_FOUND;
	if (s3_presign_get(B(base)->s3, key, PRESIGN_GET_S, content_disposition, content_type, now,
	    &url) == -1)
		return BLOB_IO;
	resp->status = 302;
	resp_header(resp, "Location", "%s", url);
	resp_header(resp, "Referrer-Policy", "no-referrer");
	free(url);
	return BLOB_OK;
}

static enum blob_rc
bs3_stat(struct blob *base, const char *key, uint64_t *size)
{
	struct s3_head h;
	struct s3_error e;

	if (!blob_key_valid(key))
		return BLOB_NOT_FOUND;
	if (s3_head_object(B(base)->s3, key, &h, &e) == -1)
		return s3_rc(&e);
	*size = h.size;
	return BLOB_OK;
}

static enum blob_rc
bs3_presign_post(struct blob *base, const char *key, uint64_t size, const char *content_type,
    int64_t now, int64_t expires, json_object **form)
{
	struct s3_post_params p = { key, size, size, content_type, (long)expires };
	struct s3_post_form f;
	json_object *fields;
	size_t i;

	*form = NULL;
	memset(&f, 0, sizeof f);
	if (s3_presign_post(B(base)->s3, &p, now, &f) == -1)
		return BLOB_IO;
	*form = json_object_new_object();
	fields = json_object_new_object();
	json_object_object_add(*form, "url", json_object_new_string(f.url));
	for (i = 0; i < f.nfields; i++)
		json_object_object_add(fields, f.fields[i].name, json_object_new_string(f.fields[i].value));
	json_object_object_add(*form, "fields", fields);
	s3_post_form_free(&f);
	return BLOB_OK;
}

static enum blob_rc
bs3_list_older(struct blob *base, int64_t before, int (*fn)(void *, const char *), void *ctx)
{
	struct s3_list page;
	struct s3_error e;
	char *token = NULL;
	size_t i;
	int stop = 0;

	do {
		if (s3_list_objects(B(base)->s3, NULL, token, 0, &page, &e) == -1) {
			s3_list_free(&page);
			free(token);
			return BLOB_IO;
		}
		for (i = 0; i < page.nobjects && !stop; i++)
			if (blob_key_valid(page.objects[i].key) && page.objects[i].last_modified < before)
				stop = fn(ctx, page.objects[i].key) == -1;
		free(token);
		token = page.truncated && page.next_token ? xstrdup(page.next_token) : NULL;
		s3_list_free(&page);
	} while (token != NULL && !stop);
	free(token);
	return BLOB_OK;
}

const struct blob_backend blob_backend_s3 = {
	.name = "s3",
	.open = bs3_open,
	.close = bs3_close,
	.ping = bs3_ping,
	.writer_open = bs3_writer_open,
	.writer_write = bs3_writer_write,
	.writer_commit = bs3_writer_commit,
	.writer_abort = bs3_writer_abort,
	.put_file = bs3_put_file,
	.remove = bs3_remove,
	.serve = bs3_serve,
	.list_older = bs3_list_older,
	.stat = bs3_stat,
	.presign_post = bs3_presign_post,
};
