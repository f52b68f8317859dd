/*
 * admin_migrate_blobs: `fileshare-admin migrate-blobs --to s3` copies the local blob store
 * (BLOB_DIR/xx/<key>, xx the key's first two characters) into S3_BUCKET under the same keys,
 * the keys the S3 blob backend reads, so BLOB_BACKEND=s3 finds every file afterwards.
 *
 * Every blob is read once to hash it (MD5 for the ETag check, SHA-256 to sign the payload, per
 * part as well when it goes up in parts), then looked up with HEAD: an object of the same size
 * whose ETag is the file's MD5 is already there and skipped, so re-runs copy only what is
 * missing or different. Otherwise it is uploaded (one PUT up to 5 GiB, a multipart upload
 * above), streamed from the file and signed with its SHA-256 (S3 refuses a body that does not
 * match it), the ETag S3 answers is compared with the MD5, and a final HEAD checks size and
 * ETag again. A multipart ETag is AWS's MD5 of the parts' MD5s with "-N"; the local S3
 * stand-in (s3rver) gives the whole object's MD5 instead, and both are accepted.
 *
 * The work is spread over forked workers (admin_migrate_pool.c), each with its own transport.
 * The exit status is 1 if any blob could not be copied and verified.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "admin.h"
#include "admin_migrate.h"
#include "aws/credentials.h"
#include "aws/s3.h"
#include "aws/transport.h"
#include "blob.h"
#include "log.h"
#include "num.h"
#include "xmalloc.h"

#define BLOB_TASK_FILES		16
#define BLOB_TASK_BYTES		(256ull << 20)
#define HASH_CHUNK		(1u << 20)

/* ------------------------------------------------------------------ the workers' side */

struct bctx {
	const struct config	*cfg;
	bool			 dry_run;
	uint64_t		 threshold;	/* larger blobs go up in parts */
	struct transport	*t;
	struct creds_provider	*creds;
	struct s3		*s3;
};

static void
bfini(void *vctx)
{
	struct bctx *b = vctx;

	s3_free(b->s3);
	creds_provider_free(b->creds);
	transport_free(b->t);
	b->s3 = NULL;
	b->creds = NULL;
	b->t = NULL;
}

static int
bopen(struct bctx *b, char *err, size_t errlen)
{
	if (b->s3 != NULL)
		return 0;
	if ((b->t = transport_new()) == NULL) {
		snprintf(err, errlen, "cannot create the HTTP transport");
		return -1;
	}
	if ((b->creds = creds_provider_new(b->cfg, b->t, err, errlen)) == NULL)
		return -1;
	if ((b->s3 = s3_new(b->cfg, b->t, b->creds, NULL, err, errlen)) == NULL)
		return -1;
	return 0;
}

static void
hexify(const unsigned char *md, unsigned int n, char *out)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	out[2 * n] = '\0';
}

/* What one pass over the file gives: the whole file's MD5 and SHA-256, and per part (when it
 * goes up in parts) the same, plus AWS's multipart ETag. */
struct bhash {
	char	 md5[33], sha256[65];
	size_t	 nparts;
	uint64_t part_size;
	char	(*part_sha)[65];
	char	 mp_etag[48];	/* "<md5 of the parts' MD5s>-N" */
};

static int
hash_file(int fd, uint64_t size, uint64_t part_size, struct bhash *h)
{
	EVP_MD_CTX *md5 = EVP_MD_CTX_new(), *sha = EVP_MD_CTX_new(), *pmd5 = EVP_MD_CTX_new(),
	    *psha = EVP_MD_CTX_new(), *mp = EVP_MD_CTX_new();
	unsigned char *buf = xmalloc(HASH_CHUNK), md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	uint64_t off = 0, in_part = 0;
	size_t part = 0;
	ssize_t got;
	int rc = -1;

	memset(h, 0, sizeof *h);
	h->part_size = part_size;
	h->nparts = part_size ? (size_t)((size + part_size - 1) / part_size) : 0;
	if (part_size && h->nparts == 0)
		h->nparts = 1;
	h->part_sha = h->nparts ? xcalloc(h->nparts, sizeof *h->part_sha) : NULL;
	EVP_DigestInit_ex(md5, EVP_md5(), NULL);
	EVP_DigestInit_ex(sha, EVP_sha256(), NULL);
	EVP_DigestInit_ex(mp, EVP_md5(), NULL);
	if (h->nparts) {
		EVP_DigestInit_ex(pmd5, EVP_md5(), NULL);
		EVP_DigestInit_ex(psha, EVP_sha256(), NULL);
	}
	while (off < size) {
		size_t want = HASH_CHUNK;

		if (h->nparts && want > part_size - in_part)
			want = (size_t)(part_size - in_part);
		if (want > size - off)
			want = (size_t)(size - off);
		if ((got = pread(fd, buf, want, (off_t)off)) <= 0) {
			if (got < 0 && errno == EINTR)
				continue;
			goto out;	/* shorter than it was: changed under us */
		}
		EVP_DigestUpdate(md5, buf, (size_t)got);
		EVP_DigestUpdate(sha, buf, (size_t)got);
		if (h->nparts) {
			EVP_DigestUpdate(pmd5, buf, (size_t)got);
			EVP_DigestUpdate(psha, buf, (size_t)got);
		}
		off += (uint64_t)got;
		in_part += (uint64_t)got;
		if (h->nparts && (in_part == part_size || off == size)) {
			EVP_DigestFinal_ex(pmd5, md, &mdlen);
			EVP_DigestUpdate(mp, md, mdlen);
			EVP_DigestFinal_ex(psha, md, &mdlen);
			hexify(md, mdlen, h->part_sha[part++]);
			in_part = 0;
			EVP_DigestInit_ex(pmd5, EVP_md5(), NULL);
			EVP_DigestInit_ex(psha, EVP_sha256(), NULL);
		}
	}
	EVP_DigestFinal_ex(md5, md, &mdlen);
	hexify(md, mdlen, h->md5);
	EVP_DigestFinal_ex(sha, md, &mdlen);
	hexify(md, mdlen, h->sha256);
	if (h->nparts) {
		EVP_DigestFinal_ex(mp, md, &mdlen);
		hexify(md, mdlen, h->mp_etag);
		snprintf(h->mp_etag + 32, sizeof h->mp_etag - 32, "-%zu", h->nparts);
	}
	rc = 0;
out:
	EVP_MD_CTX_free(md5);
	EVP_MD_CTX_free(sha);
	EVP_MD_CTX_free(pmd5);
	EVP_MD_CTX_free(psha);
	EVP_MD_CTX_free(mp);
	free(buf);
	return rc;
}

/* Whether an ETag (quotes included or not) is the file's. */
static bool
etag_ok(const char *etag, const struct bhash *h)
{
	char bare[S3_ETAG_MAX];
	size_t n;

	snprintf(bare, sizeof bare, "%s", etag[0] == '"' ? etag + 1 : etag);
	n = strlen(bare);
	if (n > 0 && bare[n - 1] == '"')
		bare[n - 1] = '\0';
	return !strcasecmp(bare, h->md5) || (h->nparts && !strcasecmp(bare, h->mp_etag));
}

/* A part of the file as a streamed body. */
struct fslice {
	int		 fd;
	uint64_t	 start, len, pos;
};

static ssize_t
slice_read(void *vctx, void *buf, size_t n)
{
	struct fslice *s = vctx;
	ssize_t got;

	if (n > s->len - s->pos)
		n = (size_t)(s->len - s->pos);
	if (n == 0)
		return 0;
	do
		got = pread(s->fd, buf, n, (off_t)(s->start + s->pos));
	while (got < 0 && errno == EINTR);
	if (got <= 0)
		return -1;
	s->pos += (uint64_t)got;
	return got;
}

static int
slice_rewind(void *vctx)
{
	((struct fslice *)vctx)->pos = 0;
	return 0;
}

static int
upload_single(struct bctx *b, const char *key, int fd, uint64_t size, const struct bhash *h,
    char etag[S3_ETAG_MAX], struct s3_error *e)
{
	struct fslice sl = { fd, 0, size, 0 };
	struct s3_body body = { 0 };

	if (size == 0)
		body.data = "";	/* an empty body in memory: nothing to stream */
	else {
		body.len = (size_t)size;
		body.read = slice_read;
		body.rewind = slice_rewind;
		body.ctx = &sl;
	}
	body.sha256 = h->sha256;
	return s3_put_object(b->s3, key, &body, NULL, etag, e);
}

static int
upload_parts(struct bctx *b, const char *key, int fd, uint64_t size, const struct bhash *h,
    char etag[S3_ETAG_MAX], struct s3_error *e)
{
	struct s3_part *parts = xcalloc(h->nparts, sizeof *parts);
	char (*etags)[S3_ETAG_MAX] = xcalloc(h->nparts, sizeof *etags);
	struct s3_error ae;
	char *upload_id = NULL;
	size_t i;
	int rc = -1;

	if (s3_multipart_create(b->s3, key, NULL, &upload_id, e) == -1)
		goto out;
	for (i = 0; i < h->nparts; i++) {
		uint64_t start = (uint64_t)i * h->part_size;
		struct fslice sl = { fd, start, size - start < h->part_size ? size - start :
		    h->part_size, 0 };
		struct s3_body body = { 0 };

		body.len = (size_t)sl.len;
		body.read = slice_read;
		body.rewind = slice_rewind;
		body.ctx = &sl;
		body.sha256 = h->part_sha[i];
		if (s3_multipart_upload_part(b->s3, key, upload_id, (int)i + 1, &body, etags[i],
		    e) == -1)
			goto abort;
		parts[i].number = (int)i + 1;
		parts[i].etag = etags[i];
	}
	if (s3_multipart_complete(b->s3, key, upload_id, parts, h->nparts, etag, e) == 0) {
		rc = 0;
		goto out;
	}
abort:
	(void)s3_multipart_abort(b->s3, key, upload_id, &ae);
out:
	free(upload_id);
	free(parts);
	free(etags);
	return rc;
}

static bool
transient(const struct s3_error *e)
{
	return e->kind == S3_ERR_UNAVAILABLE || e->kind == S3_ERR_THROTTLED;
}

/* The client's own retries (S3_MAX_ATTEMPTS) are for a blip; a bulk copy that runs for hours
 * waits longer before it gives a blob up: BLOB_ROUNDS rounds of them, with pauses between. */
#define BLOB_ROUNDS	4

static int
upload(struct bctx *b, const char *key, int fd, uint64_t size, const struct bhash *h,
    char etag[S3_ETAG_MAX], struct s3_error *e)
{
	int round, rc = -1;

	for (round = 0; round < BLOB_ROUNDS; round++) {
		if (round > 0)
			msleep_ms(250LL << round);
		rc = h->nparts ? upload_parts(b, key, fd, size, h, etag, e) :
		    upload_single(b, key, fd, size, h, etag, e);
		if (rc == 0 || !transient(e))
			break;
	}
	return rc;
}

static int
head(struct bctx *b, const char *key, struct s3_head *hd, struct s3_error *e)
{
	int round, rc = -1;

	for (round = 0; round < BLOB_ROUNDS; round++) {
		if (round > 0)
			msleep_ms(250LL << round);
		if ((rc = s3_head_object(b->s3, key, hd, e)) == 0 || !transient(e))
			break;
	}
	return rc;
}

static void
answer(FILE *out, char tag, const char *key, const char *why)
{
	struct buf l = BUF_INIT;

	buf_appendc(&l, tag);
	buf_appendc(&l, '\t');
	mesc_append(&l, key);
	if (why != NULL) {
		buf_appendc(&l, '\t');
		mesc_append(&l, why);
	}
	fprintf(out, "%s\n", l.data);
	buf_free(&l);
}

/*
 * One blob: 'S' already there, 'C' copied, 'P' replaced a different object, 'F' failed (with
 * the reason). Returns the bytes copied.
 */
static uint64_t
one_blob(struct bctx *b, const char *key, const char *path, FILE *out, char *kind)
{
	struct s3_head hd;
	struct s3_error e;
	struct bhash h = { 0 };
	struct stat sb;
	char etag[S3_ETAG_MAX] = "", why[512];
	uint64_t part = 0;
	bool existed = false;
	int fd;

	*kind = 'F';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 || fstat(fd, &sb) == -1) {
		snprintf(why, sizeof why, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if ((uint64_t)sb.st_size > b->threshold) {
		part = b->threshold;
		if (part < S3_MIN_PART)
			part = S3_MIN_PART;
		if ((uint64_t)sb.st_size / part >= S3_MAX_PARTS)
			part = (uint64_t)sb.st_size / (S3_MAX_PARTS - 1) + 1;
	}
	if (hash_file(fd, (uint64_t)sb.st_size, part, &h) == -1) {
		snprintf(why, sizeof why, "%s: changed while being read", path);
		goto fail;
	}
	if (head(b, key, &hd, &e) == 0) {
		if (hd.size == (uint64_t)sb.st_size && etag_ok(hd.etag, &h)) {
			*kind = 'S';
			goto done;
		}
		existed = true;
	} else if (e.kind != S3_ERR_NOT_FOUND && e.kind != S3_ERR_ACCESS_DENIED) {
		/* (Without s3:ListBucket a missing key is 403: the PUT will tell.) */
		snprintf(why, sizeof why, "HEAD: %s %s", s3_errkind_name(e.kind), e.code);
		goto fail;
	}
	if (b->dry_run) {
		*kind = existed ? 'P' : 'C';
		goto done;
	}
	if (upload(b, key, fd, (uint64_t)sb.st_size, &h, etag, &e) == -1) {
		snprintf(why, sizeof why, "upload: %s %s %s", s3_errkind_name(e.kind), e.code,
		    e.message);
		goto fail;
	}
	if (etag[0] != '\0' && !etag_ok(etag, &h)) {
		snprintf(why, sizeof why, "S3 stored other bytes (ETag %s, MD5 %s)", etag, h.md5);
		goto fail;
	}
	/* Read back what S3 holds now. */
	if (head(b, key, &hd, &e) == -1) {
		snprintf(why, sizeof why, "HEAD after the upload: %s %s", s3_errkind_name(e.kind),
		    e.code);
		goto fail;
	}
	if (hd.size != (uint64_t)sb.st_size || !etag_ok(hd.etag, &h)) {
		snprintf(why, sizeof why, "S3 holds %" PRIu64 " bytes with ETag %s, the file %"
		    PRIu64 " bytes with MD5 %s", hd.size, hd.etag, (uint64_t)sb.st_size, h.md5);
		goto fail;
	}
	*kind = existed ? 'P' : 'C';
done:
	answer(out, *kind, key, NULL);
	free(h.part_sha);
	close(fd);
	return *kind == 'S' ? 0 : (uint64_t)sb.st_size;
fail:
	answer(out, 'F', key, why);
	free(h.part_sha);
	if (fd != -1)
		close(fd);
	return 0;
}

/* B, then KEY TAB PATH lines: answers S/C/P/F lines and R copied replaced same failed bytes. */
static int
btask(void *vctx, char *task, size_t len, FILE *out)
{
	struct bctx *b = vctx;
	char *line, *save = NULL, *f[3], err[512];
	long n[4] = { 0 };
	uint64_t bytes = 0;
	char kind;

	(void)len;
	if (bopen(b, err, sizeof err) == -1) {
		fprintf(out, "A\tS3: %s\nR\n", err);
		return 0;
	}
	for (line = strtok_r(task, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == 'B' || msplit(line, f, 3) != 2)
			continue;
		munesc(f[0]);
		munesc(f[1]);
		bytes += one_blob(b, f[0], f[1], out, &kind);
		n[kind == 'C' ? 0 : kind == 'P' ? 1 : kind == 'S' ? 2 : 3]++;
	}
	fprintf(out, "R\t%ld\t%ld\t%ld\t%ld\t%" PRIu64 "\n", n[0], n[1], n[2], n[3], bytes);
	return 0;
}

/* ------------------------------------------------------------------ the parent */

struct bentry {
	char		*key;
	uint64_t	 size;
};

struct brun {
	const char	*dir;
	struct bentry	*v;
	size_t		 n, next;
	long		 copied, replaced, same, failed;
	uint64_t	 bytes;
	struct mprogress pr;
	char		 fatal[512];
	char		*fail_examples[20];
	long		 nfail_examples;
};

static int
cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct bentry *)a)->key, ((const struct bentry *)b)->key);
}

/* The blobs of dir: files xx/<key> with a valid key starting with xx. Other files (partial
 * writes key.<pid>, strays) are counted in *other. */
static int
walk(struct brun *r, long *other, uint64_t *total)
{
	DIR *d, *sd;
	struct dirent *de, *se;
	struct stat sb;
	char path[4096];
	size_t cap = 0;

	if ((d = opendir(r->dir)) == NULL) {
		fprintf(stderr, "fileshare-admin migrate-blobs: %s: %s\n", r->dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strlen(de->d_name) != 2 || de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", r->dir, de->d_name);
		if ((sd = opendir(path)) == NULL)
			continue;
		while ((se = readdir(sd)) != NULL) {
			if (se->d_name[0] == '.')
				continue;
			snprintf(path, sizeof path, "%s/%s/%s", r->dir, de->d_name, se->d_name);
			if (stat(path, &sb) == -1 || !S_ISREG(sb.st_mode) ||
			    !blob_key_valid(se->d_name) || strncmp(se->d_name, de->d_name, 2)) {
				(*other)++;
				continue;
			}
			if (r->n == cap) {
				cap = cap ? cap * 2 : 1024;
				r->v = xrealloc(r->v, cap * sizeof *r->v);
			}
			r->v[r->n].key = xstrdup(se->d_name);
			r->v[r->n++].size = (uint64_t)sb.st_size;
			*total += (uint64_t)sb.st_size;
		}
		closedir(sd);
	}
	closedir(d);
	if (r->n > 1)
		qsort(r->v, r->n, sizeof *r->v, cmp_entry);
	return 0;
}

static int
bfeed(void *vctx, struct buf *task, long *id)
{
	struct brun *r = vctx;
	uint64_t bytes = 0;
	size_t k = 0;
	char path[4096];

	if (r->next == r->n || r->fatal[0])
		return 0;
	*id = (long)r->next;
	buf_appends(task, "B\n");
	while (r->next < r->n && k < BLOB_TASK_FILES && (k == 0 || bytes < BLOB_TASK_BYTES)) {
		struct bentry *e = &r->v[r->next++];

		snprintf(path, sizeof path, "%s/%.2s/%s", r->dir, e->key, e->key);
		mesc_append(task, e->key);
		buf_appendc(task, '\t');
		mesc_append(task, path);
		buf_appendc(task, '\n');
		bytes += e->size;
		k++;
	}
	buf_appends(task, "E\n");
	return 1;
}

static void
bline(void *vctx, long id, char *line)
{
	struct brun *r = vctx;
	char *f[8];
	size_t n;

	(void)id;
	switch (line[0]) {
	case 'S': case 'C': case 'P':
		r->pr.done++;
		break;
	case 'F':
		r->pr.done++;
		if (r->nfail_examples < 20) {
			n = msplit(line, f, 8);
			if (n >= 3) {
				char *s = xmalloc(strlen(f[1]) + strlen(f[2]) + 3);

				sprintf(s, "%s: %s", f[1], munesc(f[2]) ? f[2] : "");
				r->fail_examples[r->nfail_examples++] = s;
			}
		}
		break;
	case 'A':
		if (r->fatal[0] == '\0')
			snprintf(r->fatal, sizeof r->fatal, "%s", line + 2);
		break;
	case 'R':
		n = msplit(line, f, 8);
		if (n >= 6) {
			r->copied += strtol(f[1], NULL, 10);
			r->replaced += strtol(f[2], NULL, 10);
			r->same += strtol(f[3], NULL, 10);
			r->failed += strtol(f[4], NULL, 10);
			r->bytes += strtoull(f[5], NULL, 10);
		}
		break;
	}
}

static void
btick(void *vctx)
{
	struct brun *r = vctx;

	mprogress_update(&r->pr, r->pr.done, false);
}

int
admin_migrate_blobs(const struct config *cfg, int argc, char **argv)
{
	struct bctx b = { 0 };
	struct brun r;
	struct mpool *pool = NULL;
	int64_t workers = 4, progress_ms = 1000, threshold = (int64_t)S3_MAX_PUT;
	const char *to = NULL;
	uint64_t total = 0;
	long other = 0, lost, i;
	int rc = 1, a;

	memset(&r, 0, sizeof r);
	r.dir = cfg->blob_dir;
	for (a = 1; a < argc; a++) {
		const char *o = argv[a], *v = a + 1 < argc ? argv[a + 1] : NULL;

		if (!strcmp(o, "--dry-run"))
			b.dry_run = true;
		else if (!strcmp(o, "--to") && v)
			to = argv[++a];
		else if (!strcmp(o, "--from") && v)
			r.dir = argv[++a];
		else if (!strcmp(o, "--parallel") && v && !num_parse_i64(v, 1, 64, &workers))
			a++;
		else if (!strcmp(o, "--progress-interval") && v &&
		    !num_parse_i64(v, 10, 3600000, &progress_ms))
			a++;
		else if (!strcmp(o, "--multipart-threshold") && v &&
		    !num_parse_i64(v, S3_MIN_PART, (int64_t)S3_MAX_PUT, &threshold))
			a++;
		else {
			fprintf(stderr, "usage: fileshare-admin migrate-blobs --to s3 [--from DIR] "
			    "[--dry-run] [--parallel N] [--multipart-threshold BYTES] "
			    "[--progress-interval MS]\n");
			return 2;
		}
	}
	if (to == NULL || strcmp(to, "s3")) {
		fprintf(stderr, "fileshare-admin migrate-blobs: --to s3 is required\n");
		return 2;
	}
	if (cfg->s3_bucket == NULL || cfg->aws_region == NULL) {
		fprintf(stderr, "fileshare-admin migrate-blobs: S3_BUCKET and AWS_REGION are "
		    "required\n");
		return 1;
	}
	b.cfg = cfg;
	b.threshold = (uint64_t)threshold;
	mprogress_init(&r.pr, "migrate-blobs");
	r.pr.interval_us = progress_ms * 1000;
	if ((pool = mpool_start((int)workers, btask, bfini, &b)) == NULL)
		return 1;
	if (walk(&r, &other, &total) == -1)
		goto out;
	fprintf(stderr, "migrate-blobs: %s -> s3 bucket %s: %zu blobs, %" PRIu64 " bytes%s\n",
	    r.dir, cfg->s3_bucket, r.n, total, b.dry_run ? " (dry run: nothing is written)" : "");
	mprogress_phase(&r.pr, "blobs", (int64_t)r.n);
	if (mpool_run(pool, bfeed, bline, btick, &r, &lost) == -1)
		snprintf(r.fatal, sizeof r.fatal, "a worker died in the middle of a task");
	mprogress_end(&r.pr);
	printf("migrate-blobs %s -> s3://%s%s\n", r.dir, cfg->s3_bucket, b.dry_run ?
	    " -- DRY RUN, nothing written; the counts say what a run would do" : "");
	printf("local blobs %zu (%" PRIu64 " bytes); other files left alone %ld\n", r.n, total, other);
	printf("%s %ld, replaced (a different object had the key) %ld, already there %ld, "
	    "failed %ld; %" PRIu64 " bytes %s\n", b.dry_run ? "to copy" : "copied", r.copied,
	    r.replaced, r.same, r.failed, r.bytes, b.dry_run ? "to send" : "sent");
	if (r.nfail_examples) {
		printf("failed (%ld):\n", r.failed);
		for (i = 0; i < r.nfail_examples; i++)
			printf("  %s\n", r.fail_examples[i]);
	}
	if (r.fatal[0])
		printf("result: STOPPED: %s\n", r.fatal);
	else if (r.failed || (size_t)(r.copied + r.replaced + r.same) != r.n)
		printf("result: FAILED: not every blob is in the bucket\n");
	else if (b.dry_run)
		printf("result: dry run\n");
	else
		printf("result: OK, every local blob is in the bucket with its size and MD5 "
		    "(checked by HEAD)\n");
	rc = !r.fatal[0] && !r.failed && (size_t)(r.copied + r.replaced + r.same) == r.n ? 0 : 1;
out:
	mpool_stop(pool);
	for (i = 0; i < (long)r.n; i++)
		free(r.v[i].key);
	free(r.v);
	for (i = 0; i < r.nfail_examples; i++)
		free(r.fail_examples[i]);
	fflush(stdout);
	return rc;
}
