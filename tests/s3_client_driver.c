/*
 * s3_client_driver: the S3 client (src/aws/s3.c) on one transport and one credentials provider,
 * as a worker holds them, driven by tests/aws/test_s3_client.py over stdin/stdout: one JSON
 * command per line in, one JSON answer per line out. Configuration comes from the environment
 * through config_load(), as in the application; log lines go to stderr.
 *
 * Bodies come from files the test wrote (so it can compare bytes), streamed with pread and a
 * rewind hook unless "rewind": false; "hash": true computes the SHA-256 first and signs with
 * it; "data" sends a string from memory instead.
 *
 *   {"cmd":"put","key","file"|"data","content_type","hash","rewind","sha256"}
 *        -> {"ok","etag","attempts","reads","rewinds"} or the error fields (below)
 *   {"cmd":"head","key"}           -> {"ok","size","etag","content_type","last_modified"}
 *   {"cmd":"delete","key"}
 *   {"cmd":"list","prefix","max_keys","token"}   one page: {"ok","objects","truncated","next_token"}
 *   {"cmd":"list_all","prefix","max_keys"}       every page: {"ok","pages":[n,...],"objects"}
 *   {"cmd":"multipart","key","file","part_size","content_type","hash","rewind"}
 *        create, upload the parts, complete; when a part fails, abort (as a caller must):
 *        {"ok","upload_id","parts","part_attempts":[...],"etag","aborted","abort_ok", errors}
 *   {"cmd":"presign_get","key","expires","disposition","content_type"}  -> {"ok","url"}
 *   {"cmd":"presign_post","key","min","max","content_type","expires"}
 *        -> {"ok","url","fields":[[name,value],...]}
 *   {"cmd":"stats"}        transport counters, clock skew, retry quota
 *   {"cmd":"random","value":0.01}   the backoff's random source (a constant)
 *   {"cmd":"quit"}
 * Error fields: "ok":false,"kind","code","status","message","request_id","attempts","transport".
 *
 * Usage: s3_client_driver [--timeout-ms N] [--stall-s N] [--connect-timeout-ms N]
 * On a start-up error it prints {"fatal":"..."} and exits 2.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "aws/credentials.h"
#include "aws/s3.h"
#include "aws/sigv4.h"
#include "aws/transport.h"
#include "buf.h"
#include "config.h"
#include "log.h"
#include "num.h"
#include "timeutil.h"
#include "xmalloc.h"

static struct transport *t;
static struct creds_provider *cp;
static struct s3 *s;
static double fixed_r = -1;

static double
driver_random(void *ctx)
{
	(void)ctx;
	return fixed_r;
}

static void
emit(json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(stdout);
	json_object_put(o);
}

static const char *
get_str(json_object *o, const char *name)
{
	json_object *v;

	return json_object_object_get_ex(o, name, &v) && json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : NULL;
}

static int64_t
get_int(json_object *o, const char *name, int64_t def)
{
	json_object *v;

	return json_object_object_get_ex(o, name, &v) && v != NULL ? json_object_get_int64(v) : def;
}

static bool
get_bool(json_object *o, const char *name, bool def)
{
	json_object *v;

	return json_object_object_get_ex(o, name, &v) && v != NULL ? json_object_get_boolean(v) :
	    def;
}

static void
add_str(json_object *o, const char *name, const char *v)
{
	json_object_object_add(o, name, v ? json_object_new_string(v) : NULL);
}

static void
add_error(json_object *out, int rc, const struct s3_error *e)
{
	json_object_object_add(out, "ok", json_object_new_boolean(rc == 0));
	json_object_object_add(out, "attempts", json_object_new_int(e->attempts));
	if (rc == 0)
		return;
	add_str(out, "kind", s3_errkind_name(e->kind));
	add_str(out, "code", e->code);
	json_object_object_add(out, "status", json_object_new_int(e->status));
	add_str(out, "message", e->message);
	add_str(out, "request_id", e->request_id);
	add_str(out, "transport", transport_error_name(e->transport));
}

/* A byte range of a file, streamed with pread; rewind starts it over. */
struct fstream {
	int		 fd;
	off_t		 start;
	size_t		 len, pos;
	int		 reads, rewinds;
};

static ssize_t
fstream_read(void *ctx, void *dst, size_t n)
{
	struct fstream *f = ctx;
	ssize_t r;

	if (n > f->len - f->pos)
		n = f->len - f->pos;
	do
		r = pread(f->fd, dst, n, f->start + (off_t)f->pos);
	while (r == -1 && errno == EINTR);
	if (r <= 0)
		return -1;
	f->pos += (size_t)r;
	f->reads++;
	return r;
}

static int
fstream_rewind(void *ctx)
{
	struct fstream *f = ctx;

	f->pos = 0;
	f->rewinds++;
	return 0;
}

/* The SHA-256 of a file range, read once before the upload (as a caller that keeps it). */
static int
fstream_sha256(struct fstream *f, char out[SIGV4_HEX_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE], tmp[65536];
	unsigned int mdlen = 0, i;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	ssize_t r;
	int rc = -1;

	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto done;
	f->pos = 0;
	while (f->pos < f->len) {
		if ((r = fstream_read(f, tmp, sizeof tmp)) <= 0)
			goto done;
		if (EVP_DigestUpdate(ctx, tmp, (size_t)r) != 1)
			goto done;
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32)
		goto done;
	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
	rc = 0;
done:
	f->pos = 0;
	f->reads = 0;
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* Sets up body from the command: "data" (memory) or "file" (+ offset/length) streamed. */
static int
make_body(json_object *cmd, struct s3_body *body, struct fstream *fs, char *hash,
    off_t offset, int64_t length)
{
	const char *data = get_str(cmd, "data"), *file = get_str(cmd, "file"), *sha;
	struct stat st;

	memset(body, 0, sizeof *body);
	if (data != NULL) {
		body->data = data;
		body->len = strlen(data);
	} else {
		if (file == NULL || fs->fd < 0)
			return -1;
		if (fstat(fs->fd, &st) == -1)
			return -1;
		fs->start = offset;
		fs->len = length >= 0 ? (size_t)length : (size_t)(st.st_size - offset);
		fs->pos = 0;
		body->read = fstream_read;
		body->rewind = get_bool(cmd, "rewind", true) ? fstream_rewind : NULL;
		body->ctx = fs;
		body->len = fs->len;
	}
	if ((sha = get_str(cmd, "sha256")) != NULL)
		body->sha256 = sha;
	else if (get_bool(cmd, "hash", false)) {
		if (data != NULL) {
			if (sigv4_sha256_hex(data, strlen(data), hash) == -1)
				return -1;
		} else if (fstream_sha256(fs, hash) == -1)
			return -1;
		body->sha256 = hash;
	}
	return 0;
}

static int
open_file(json_object *cmd)
{
	const char *file = get_str(cmd, "file");

	return file != NULL ? open(file, O_RDONLY | O_CLOEXEC) : -1;
}

static void
cmd_put(json_object *cmd)
{
	json_object *out = json_object_new_object();
	struct fstream fs = { .fd = open_file(cmd) };
	struct s3_body body;
	struct s3_error e;
	char etag[S3_ETAG_MAX] = "", hash[SIGV4_HEX_LEN + 1];
	int rc;

	if (make_body(cmd, &body, &fs, hash, 0, -1) == -1) {
		add_str(out, "error", "no body");
		goto done;
	}
	rc = s3_put_object(s, get_str(cmd, "key"), &body, get_str(cmd, "content_type"), etag, &e);
	add_error(out, rc, &e);
	add_str(out, "etag", etag);
	json_object_object_add(out, "reads", json_object_new_int(fs.reads));
	json_object_object_add(out, "rewinds", json_object_new_int(fs.rewinds));
done:
	if (fs.fd >= 0)
		close(fs.fd);
	emit(out);
}

static void
cmd_head(json_object *cmd)
{
	json_object *out = json_object_new_object();
	struct s3_head h;
	struct s3_error e;
	int rc = s3_head_object(s, get_str(cmd, "key"), &h, &e);

	add_error(out, rc, &e);
	if (rc == 0) {
		json_object_object_add(out, "size", json_object_new_int64((int64_t)h.size));
		add_str(out, "etag", h.etag);
		add_str(out, "content_type", h.content_type);
		json_object_object_add(out, "last_modified", json_object_new_int64(h.last_modified));
	}
	emit(out);
}

static void
cmd_delete(json_object *cmd)
{
	json_object *out = json_object_new_object();
	struct s3_error e;

	add_error(out, s3_delete_object(s, get_str(cmd, "key"), &e), &e);
	emit(out);
}

static void
add_objects(json_object *arr, const struct s3_list *l)
{
	json_object *o;
	size_t i;

	for (i = 0; i < l->nobjects; i++) {
		o = json_object_new_object();
		add_str(o, "key", l->objects[i].key);
		json_object_object_add(o, "size", json_object_new_int64((int64_t)l->objects[i].size));
		json_object_object_add(o, "last_modified",
		    json_object_new_int64(l->objects[i].last_modified));
		add_str(o, "etag", l->objects[i].etag);
		json_object_array_add(arr, o);
	}
}

static void
cmd_list(json_object *cmd)
{
	json_object *out = json_object_new_object(), *objs = json_object_new_array();
	struct s3_list l;
	struct s3_error e;
	int rc = s3_list_objects(s, get_str(cmd, "prefix"), get_str(cmd, "token"),
	    (int)get_int(cmd, "max_keys", 0), &l, &e);

	add_error(out, rc, &e);
	add_objects(objs, &l);
	json_object_object_add(out, "objects", objs);
	json_object_object_add(out, "truncated", json_object_new_boolean(l.truncated));
	add_str(out, "next_token", l.next_token);
	s3_list_free(&l);
	emit(out);
}

/* Every page, the way a caller pages: the next token until the answer is not truncated. */
static void
cmd_list_all(json_object *cmd)
{
	json_object *out = json_object_new_object(), *objs = json_object_new_array();
	json_object *pages = json_object_new_array();
	struct s3_list l;
	struct s3_error e;
	char *token = NULL;
	int rc, n = 0;

	for (;;) {
		rc = s3_list_objects(s, get_str(cmd, "prefix"), token,
		    (int)get_int(cmd, "max_keys", 0), &l, &e);
		free(token);
		token = NULL;
		if (rc == -1 || ++n > 1000)
			break;
		json_object_array_add(pages, json_object_new_int((int)l.nobjects));
		add_objects(objs, &l);
		if (!l.truncated)
			break;
		token = l.next_token;
		l.next_token = NULL;
		s3_list_free(&l);
	}
	s3_list_free(&l);
	add_error(out, rc, &e);
	json_object_object_add(out, "pages", pages);
	json_object_object_add(out, "objects", objs);
	emit(out);
}

/*
 * A whole multipart upload as a caller does it: the file in parts of part_size, each streamed
 * from its range; any part failing (after the client's retries) aborts the upload.
 */
static void
cmd_multipart(json_object *cmd)
{
	json_object *out = json_object_new_object(), *attempts = json_object_new_array();
	struct fstream fs = { .fd = open_file(cmd) };
	const char *key = get_str(cmd, "key");
	int64_t part_size = get_int(cmd, "part_size", S3_MIN_PART), total, off;
	struct s3_part *parts = NULL;
	char (*etags)[S3_ETAG_MAX] = NULL, final[S3_ETAG_MAX] = "", hash[SIGV4_HEX_LEN + 1];
	struct s3_body body;
	struct s3_error e, ae;
	struct stat st;
	char *upload_id = NULL;
	size_t n = 0, cap;
	int rc = -1;
	bool aborted = false, abort_ok = false;

	memset(&e, 0, sizeof e);
	if (fs.fd < 0 || fstat(fs.fd, &st) == -1 || part_size < 1) {
		add_str(out, "error", "no file");
		goto done;
	}
	total = st.st_size;
	cap = (size_t)(total / part_size + 1);
	parts = xcalloc(cap, sizeof *parts);
	etags = xcalloc(cap, sizeof *etags);
	if (s3_multipart_create(s, key, get_str(cmd, "content_type"), &upload_id, &e) == -1)
		goto report;
	add_str(out, "upload_id", upload_id);
	for (off = 0; off < total || (total == 0 && n == 0); off += part_size) {
		int64_t len = total - off < part_size ? total - off : part_size;

		if (make_body(cmd, &body, &fs, hash, (off_t)off, len) == -1) {
			add_str(out, "error", "no body");
			break;
		}
		rc = s3_multipart_upload_part(s, key, upload_id, (int)n + 1, &body, etags[n], &e);
		json_object_array_add(attempts, json_object_new_int(e.attempts));
		if (rc == -1)
			break;
		parts[n].number = (int)n + 1;
		parts[n].etag = etags[n];
		n++;
		if (total == 0)
			break;
	}
	if (rc == 0)
		rc = s3_multipart_complete(s, key, upload_id, parts, n, final, &e);
	if (rc == -1) {
		aborted = true;
		abort_ok = s3_multipart_abort(s, key, upload_id, &ae) == 0;
	}
report:
	add_error(out, rc, &e);
	json_object_object_add(out, "parts", json_object_new_int((int)n));
	add_str(out, "etag", final);
	json_object_object_add(out, "aborted", json_object_new_boolean(aborted));
	json_object_object_add(out, "abort_ok", json_object_new_boolean(abort_ok));
done:
	json_object_object_add(out, "part_attempts", attempts);
	free(upload_id);
	free(parts);
	free(etags);
	if (fs.fd >= 0)
		close(fs.fd);
	emit(out);
}

static void
cmd_presign_get(json_object *cmd)
{
	json_object *out = json_object_new_object();
	char *url = NULL;
	int rc = s3_presign_get(s, get_str(cmd, "key"), (long)get_int(cmd, "expires", 300),
	    get_str(cmd, "disposition"), get_str(cmd, "content_type"), clock_now_ms() / 1000, &url);

	json_object_object_add(out, "ok", json_object_new_boolean(rc == 0));
	add_str(out, "url", url);
	free(url);
	emit(out);
}

static void
cmd_presign_post(json_object *cmd)
{
	json_object *out = json_object_new_object(), *fields = json_object_new_array(), *pair;
	struct s3_post_params p;
	struct s3_post_form f;
	size_t i;
	int rc;

	memset(&p, 0, sizeof p);
	p.key = get_str(cmd, "key");
	p.min_size = (uint64_t)get_int(cmd, "min", 0);
	p.max_size = (uint64_t)get_int(cmd, "max", 0);
	p.content_type = get_str(cmd, "content_type");
	p.expires_s = (long)get_int(cmd, "expires", 300);
	rc = s3_presign_post(s, &p, clock_now_ms() / 1000, &f);
	json_object_object_add(out, "ok", json_object_new_boolean(rc == 0));
	add_str(out, "url", f.url);
	for (i = 0; i < f.nfields; i++) {
		pair = json_object_new_array();
		json_object_array_add(pair, json_object_new_string(f.fields[i].name));
		json_object_array_add(pair, json_object_new_string(f.fields[i].value));
		json_object_array_add(fields, pair);
	}
	json_object_object_add(out, "fields", fields);
	s3_post_form_free(&f);
	emit(out);
}

static void
cmd_stats(void)
{
	json_object *out = json_object_new_object();
	struct transport_stats st;

	transport_stats(t, &st);
	json_object_object_add(out, "calls", json_object_new_int64((int64_t)st.calls));
	json_object_object_add(out, "connections", json_object_new_int64((int64_t)st.connections));
	json_object_object_add(out, "failures", json_object_new_int64((int64_t)st.failures));
	json_object_object_add(out, "skew", json_object_new_int64(s3_skew(s)));
	json_object_object_add(out, "quota", json_object_new_int(s3_retry_quota(s)));
	add_str(out, "base_url", s3_base_url(s));
	emit(out);
}

static void
fatal(const char *msg)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "fatal", json_object_new_string(msg));
	emit(o);
}

static void
usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [--timeout-ms N] [--stall-s N] [--connect-timeout-ms N]\n",
	    argv0);
}

int
main(int argc, char **argv)
{
	struct s3_options opts = { 0 };
	struct config cfg;
	char err[512], *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int64_t v;
	int i, rc = 0;

	for (i = 1; i + 1 < argc; i += 2) {
		if (num_parse_i64(argv[i + 1], 1, 600000, &v) == -1) {
			usage(argv[0]);
			return 2;
		}
		if (strcmp(argv[i], "--timeout-ms") == 0)
			opts.timeout_ms = (long)v;
		else if (strcmp(argv[i], "--stall-s") == 0)
			opts.stall_s = (long)v;
		else if (strcmp(argv[i], "--connect-timeout-ms") == 0)
			opts.connect_timeout_ms = (long)v;
		else {
			usage(argv[0]);
			return 2;
		}
	}
	if (i != argc) {
		usage(argv[0]);
		return 2;
	}
	if (config_load(&cfg, err, sizeof err) == -1) {
		fatal(err);
		return 2;
	}
	log_set_level((enum log_level)cfg.log_level);
	t = transport_new();
	if (t == NULL || (cp = creds_provider_new(&cfg, t, err, sizeof err)) == NULL ||
	    (s = s3_new(&cfg, t, cp, &opts, err, sizeof err)) == NULL) {
		fatal(t == NULL ? "no transport" : err);
		rc = 2;
		goto done;
	}
	{
		json_object *o = json_object_new_object();

		json_object_object_add(o, "ready", json_object_new_boolean(1));
		add_str(o, "base_url", s3_base_url(s));
		emit(o);
	}
	while ((len = getline(&line, &cap, stdin)) > 0) {
		json_object *cmd = json_tokener_parse(line);
		const char *name = cmd ? get_str(cmd, "cmd") : NULL;

		if (name == NULL)
			fatal("bad command line");
		else if (strcmp(name, "put") == 0)
			cmd_put(cmd);
		else if (strcmp(name, "head") == 0)
			cmd_head(cmd);
		else if (strcmp(name, "delete") == 0)
			cmd_delete(cmd);
		else if (strcmp(name, "list") == 0)
			cmd_list(cmd);
		else if (strcmp(name, "list_all") == 0)
			cmd_list_all(cmd);
		else if (strcmp(name, "multipart") == 0)
			cmd_multipart(cmd);
		else if (strcmp(name, "presign_get") == 0)
			cmd_presign_get(cmd);
		else if (strcmp(name, "presign_post") == 0)
			cmd_presign_post(cmd);
		else if (strcmp(name, "stats") == 0)
			cmd_stats();
		else if (strcmp(name, "random") == 0) {
			json_object *val;

			fixed_r = json_object_object_get_ex(cmd, "value", &val) ?
			    json_object_get_double(val) : -1;
			s3_set_random(s, fixed_r >= 0 ? driver_random : NULL, NULL);
			emit(json_object_new_object());
		} else if (strcmp(name, "quit") == 0) {
			json_object_put(cmd);
			break;
		} else
			fatal("unknown command");
		json_object_put(cmd);
	}
done:
	free(line);
	s3_free(s);
	creds_provider_free(cp);
	transport_free(t);
	config_free(&cfg);
	return rc;
}
