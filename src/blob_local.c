/*
 * blob_local: blobs as files under BLOB_DIR, sharded by the key's first two characters
 * (BLOB_DIR/ab/abcdef...). Writes go to BLOB_DIR/.tmp first, are fsynced, then renamed into
 * place and the directory fsynced, so a committed blob survives a crash and a partial one is
 * never visible. Downloads are handed to nginx (X-Accel-Redirect to the internal /_blobs/
 * location), which serves Range requests and sendfile()s the bytes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blob.h"
#include "log.h"
#include "xmalloc.h"

#define TMP_DIR ".tmp"

struct blob_local {
	struct blob	 base;
	char		*dir;
	int		 dirfd;		/* kept open: no path walks on the request path */
	int		 tmpfd;
};

struct blob_writer {
	struct blob_local *b;
	int		 fd;
	char		 key[BLOB_KEY_LEN + 1];
	char		 tmpname[BLOB_KEY_LEN + 32];
	int		 failed;	/* errno of the first failed write, 0 if none */
};

static enum blob_rc
errno_rc(int e)
{
	return e == ENOSPC || e == EDQUOT ? BLOB_NOSPACE : BLOB_IO;
}

static void local_close(struct blob *);

static struct blob *
local_open(const struct config *cfg)
{
	struct blob_local *b = xcalloc(1, sizeof *b);

	b->base.backend = &blob_backend_local;
	b->dir = xstrdup(cfg->blob_dir);
	b->dirfd = b->tmpfd = -1;
	if (mkdir(b->dir, 0750) == -1 && errno != EEXIST) {
		log_errorx("cannot create BLOB_DIR %s: %s", b->dir, strerror(errno));
		goto fail;
	}
	if ((b->dirfd = open(b->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		log_errorx("cannot open BLOB_DIR %s: %s", b->dir, strerror(errno));
		goto fail;
	}
	if (mkdirat(b->dirfd, TMP_DIR, 0750) == -1 && errno != EEXIST) {
		log_errorx("cannot create %s/%s: %s", b->dir, TMP_DIR, strerror(errno));
		goto fail;
	}
	if ((b->tmpfd = openat(b->dirfd, TMP_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		log_errorx("cannot open %s/%s: %s", b->dir, TMP_DIR, strerror(errno));
		goto fail;
	}
	return &b->base;
fail:
	local_close(&b->base);
	return NULL;
}

static void
local_close(struct blob *base)
{
	struct blob_local *b = (struct blob_local *)base;

	if (b->dirfd != -1)
		close(b->dirfd);
	if (b->tmpfd != -1)
		close(b->tmpfd);
	free(b->dir);
	free(b);
}

static enum blob_rc
local_ping(struct blob *base)
{
	struct blob_local *b = (struct blob_local *)base;
	struct stat st;

	if (fstatat(b->dirfd, TMP_DIR, &st, 0) == -1) {
		log_errorx("BLOB_DIR %s unusable: %s", b->dir, strerror(errno));
		return BLOB_IO;
	}
	return BLOB_OK;
}

static struct blob_writer *
local_writer_open(struct blob *base, const char *key)
{
	struct blob_local *b = (struct blob_local *)base;
	struct blob_writer *w;

	if (!blob_key_valid(key)) {
		log_errorx("refusing malformed blob key");
		return NULL;
	}
	w = xcalloc(1, sizeof *w);
	w->b = b;
	snprintf(w->key, sizeof w->key, "%s", key);
	snprintf(w->tmpname, sizeof w->tmpname, "%s.%ld", key, (long)getpid());
	w->fd = openat(b->tmpfd, w->tmpname, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (w->fd == -1) {
		log_errorx("cannot create %s/%s/%s: %s", b->dir, TMP_DIR, w->tmpname, strerror(errno));
		free(w);
		return NULL;
	}
	return w;
}

static enum blob_rc
local_writer_write(struct blob_writer *w, const void *p, size_t n)
{
	const char *c = p;
	ssize_t k;

	if (w->failed)
		return errno_rc(w->failed);
	while (n > 0) {
		k = write(w->fd, c, n);
		if (k == -1 && errno == EINTR)
			continue;
		if (k <= 0) {
			w->failed = k == 0 ? EIO : errno;
			log_errorx("writing blob in %s: %s", w->b->dir, strerror(w->failed));
			return errno_rc(w->failed);
		}
		c += k;
		n -= (size_t)k;
	}
	return BLOB_OK;
}

static void
local_writer_abort(struct blob_writer *w)
{
	if (w == NULL)
		return;
	if (w->fd != -1)
		close(w->fd);
	unlinkat(w->b->tmpfd, w->tmpname, 0);
	free(w);
}

/* Moves TMP_DIR/tmpname to its shard as key, durably (file already fsynced by the caller). */
static enum blob_rc
publish(struct blob_local *b, const char *tmpname, const char *key)
{
	char shard[3] = { key[0], key[1], '\0' }, dest[BLOB_KEY_LEN + 4];
	int sfd;

	if (mkdirat(b->dirfd, shard, 0750) == -1 && errno != EEXIST)
		goto fail;
	snprintf(dest, sizeof dest, "%s/%s", shard, key);
	if (renameat(b->tmpfd, tmpname, b->dirfd, dest) == -1)
		goto fail;
	if ((sfd = openat(b->dirfd, shard, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		fsync(sfd);
		close(sfd);
	}
	return BLOB_OK;
fail:
	log_errorx("publishing blob in %s: %s", b->dir, strerror(errno));
	return errno_rc(errno);
}

static enum blob_rc
local_writer_commit(struct blob_writer *w)
{
	enum blob_rc rc;

	if (w->failed) {
		rc = errno_rc(w->failed);
		local_writer_abort(w);
		return rc;
	}
	if (fsync(w->fd) == -1 || close(w->fd) == -1) {
		w->fd = -1;
		log_errorx("flushing blob in %s: %s", w->b->dir, strerror(errno));
		rc = errno_rc(errno);
		local_writer_abort(w);
		return rc;
	}
	w->fd = -1;
	if ((rc = publish(w->b, w->tmpname, w->key)) != BLOB_OK) {
		local_writer_abort(w);
		return rc;
	}
	free(w);
	return BLOB_OK;
}

/*
 * nginx wrote the upload to a temporary file on the same filesystem: a hard link makes it
 * ours without copying a byte. Anything unusual (another filesystem, no permission) answers
 * BLOB_UNSUPPORTED and the caller streams the body through a writer instead.
 */
static enum blob_rc
local_put_file(struct blob *base, const char *key, const char *path)
{
	struct blob_local *b = (struct blob_local *)base;
	char tmpname[BLOB_KEY_LEN + 32];
	enum blob_rc rc;
	int fd;

	if (!blob_key_valid(key))
		return BLOB_IO;
	snprintf(tmpname, sizeof tmpname, "%s.%ld", key, (long)getpid());
	if (linkat(AT_FDCWD, path, b->tmpfd, tmpname, 0) == -1) {
		log_debug("cannot link upload into %s (%s); copying instead", b->dir, strerror(errno));
		return BLOB_UNSUPPORTED;
	}
	if ((fd = openat(b->tmpfd, tmpname, O_RDONLY | O_CLOEXEC)) == -1 || fsync(fd) == -1) {
		log_errorx("flushing blob in %s: %s", b->dir, strerror(errno));
		rc = errno_rc(errno);
		if (fd != -1)
			close(fd);
		unlinkat(b->tmpfd, tmpname, 0);
		return rc;
	}
	close(fd);
	if ((rc = publish(b, tmpname, key)) != BLOB_OK)
		unlinkat(b->tmpfd, tmpname, 0);
	return rc;
}

static enum blob_rc
local_remove(struct blob *base, const char *key)
{
	struct blob_local *b = (struct blob_local *)base;
	char path[BLOB_KEY_LEN + 4];

	if (!blob_key_valid(key))
		return BLOB_NOT_FOUND;
	snprintf(path, sizeof path, "%.2s/%s", key, key);
	if (unlinkat(b->dirfd, path, 0) == -1) {
		if (errno == ENOENT)
			return BLOB_NOT_FOUND;
		log_errorx("removing blob from %s: %s", b->dir, strerror(errno));
		return BLOB_IO;
	}
	return BLOB_OK;
}

static enum blob_rc
local_serve(struct blob *base, const char *key, const char *content_disposition,
    const char *content_type, int64_t now, struct response *resp)
{
	(void)base;
	(void)now;
	if (!blob_key_valid(key))
		return BLOB_NOT_FOUND;
	/* nginx keeps Content-Type and Content-Disposition from this response and serves the
	 * file from its internal location, which adds nosniff and the sandbox CSP. */
	resp->status = 200;
	resp_header(resp, "X-Accel-Redirect", "/_blobs/%.2s/%s", key, key);
	resp_header(resp, "Content-Type", "%s", content_type);
	resp_header(resp, "Content-Disposition", "%s", content_disposition);
	return BLOB_OK;
}

static enum blob_rc
local_stat(struct blob *base, const char *key, uint64_t *size)
{
	struct blob_local *b = (struct blob_local *)base;
	char path[BLOB_KEY_LEN + 4];
	struct stat st;

	if (!blob_key_valid(key))
		return BLOB_NOT_FOUND;
	snprintf(path, sizeof path, "%.2s/%s", key, key);
	if (fstatat(b->dirfd, path, &st, 0) == -1)
		return errno == ENOENT ? BLOB_NOT_FOUND : BLOB_IO;
	*size = (uint64_t)st.st_size;
	return BLOB_OK;
}

/* Files on this machine can only arrive through nginx and a worker. */
static enum blob_rc
local_presign_post(struct blob *base, const char *key, uint64_t size, const char *content_type,
    int64_t now, int64_t expires, json_object **form)
{
	(void)base;
	(void)key;
	(void)size;
	(void)content_type;
	(void)now;
	(void)expires;
	*form = NULL;
	return BLOB_UNSUPPORTED;
}

static enum blob_rc
local_list_older(struct blob *base, int64_t before, int (*fn)(void *, const char *), void *ctx)
{
	struct blob_local *b = (struct blob_local *)base;
	struct dirent *de, *fe;
	struct stat st;
	DIR *top, *shard;
	int fd, stop = 0;

	/* Abandoned partial writes (a worker killed mid-upload) go first. */
	if ((fd = dup(b->tmpfd)) != -1 && (top = fdopendir(fd)) != NULL) {
		rewinddir(top);
		while ((de = readdir(top)) != NULL)
			if (de->d_name[0] != '.' && fstatat(b->tmpfd, de->d_name, &st, 0) == 0 &&
			    st.st_mtime < before && unlinkat(b->tmpfd, de->d_name, 0) == 0)
				log_info("removed abandoned partial upload %s", de->d_name);
		closedir(top);
	}
	if ((fd = dup(b->dirfd)) == -1 || (top = fdopendir(fd)) == NULL) {
		log_errorx("listing %s: %s", b->dir, strerror(errno));
		return BLOB_IO;
	}
	rewinddir(top);
	while (!stop && (de = readdir(top)) != NULL) {
		if (strlen(de->d_name) != 2 || de->d_name[0] == '.')
			continue;
		if ((fd = openat(b->dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
			continue;
		if ((shard = fdopendir(fd)) == NULL) {
			close(fd);
			continue;
		}
		while (!stop && (fe = readdir(shard)) != NULL) {
			if (!blob_key_valid(fe->d_name) || fstatat(fd, fe->d_name, &st, 0) == -1 ||
			    st.st_mtime >= before)
				continue;
			stop = fn(ctx, fe->d_name) == -1;
		}
		closedir(shard);
	}
	closedir(top);
	return BLOB_OK;
}

const struct blob_backend blob_backend_local = {
	.name = "local",
	.open = local_open,
	.close = local_close,
	.ping = local_ping,
	.writer_open = local_writer_open,
	.writer_write = local_writer_write,
	.writer_commit = local_writer_commit,
	.writer_abort = local_writer_abort,
	.put_file = local_put_file,
	.remove = local_remove,
	.serve = local_serve,
	.list_older = local_list_older,
	.stat = local_stat,
	.presign_post = local_presign_post,
};
