/*
 * check_sigv4: the SigV4 signer (src/aws/sigv4.c) and `fileshare-admin sigv4`.
 *
 *  - AWS's published test suite (aws-c-auth's copy, read from ../shared/testdata at test time,
 *    or from $SIGV4_TEST_SUITE): for every case, header signing and presigning, the canonical
 *    request, string to sign, signature, Authorization value and signed request byte for byte,
 *    once through the library and once through the admin command;
 *  - AWS's documented examples (S3 GET Object, PUT Object, GET ?lifecycle, list objects, the S3
 *    presigned URL, IAM ListUsers);
 *  - canonicalisation tables (paths, queries, headers), the result's fields, and the failure
 *    cases (named bad_*), for the library and the command line.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "admin.h"
#include "aws/sigv4.h"
#include "buf.h"
#include "testutil.h"
#include "xmalloc.h"

#define EMPTY_SHA256	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define DOC_AK		"AKIAIOSFODNN7EXAMPLE"
#define DOC_SK		"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define SUITE_AK	"AKIDEXAMPLE"
#define SUITE_SK	"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

/* ---------------------------------------------------------------- AWS's test suite */

#define MAX_CASES 128
static char	 suite_dir[1024];
static char	*case_names[MAX_CASES];
static int	 ncases;

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Where the suite is: $SIGV4_TEST_SUITE, else ../shared/... from the repository root, else
 * ../../shared/... from a build directory inside it. Returns 0 if found.
 */
static int
find_suite(void)
{
	static const char *const rel[] = {
		"../shared/testdata/aws-sigv4-test-suite/v4",
		"../../shared/testdata/aws-sigv4-test-suite/v4",
		"../../../shared/testdata/aws-sigv4-test-suite/v4",
	};
	const char *env = getenv("SIGV4_TEST_SUITE");
	struct dirent *de;
	DIR *d = NULL;
	size_t i;

	if (env != NULL && *env != '\0') {
		snprintf(suite_dir, sizeof suite_dir, "%s", env);
		d = opendir(suite_dir);
	}
	for (i = 0; d == NULL && i < sizeof rel / sizeof rel[0]; i++) {
		snprintf(suite_dir, sizeof suite_dir, "%s", rel[i]);
		d = opendir(suite_dir);
	}
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL && ncases < MAX_CASES)
		if (de->d_name[0] != '.')
			case_names[ncases++] = xstrdup(de->d_name);
	closedir(d);
	qsort(case_names, (size_t)ncases, sizeof case_names[0], name_cmp);
	return ncases > 0 ? 0 : -1;
}

static char *
case_file(const char *name, const char *file, size_t *len)
{
	char path[2048];
	char *s;

	snprintf(path, sizeof path, "%s/%s/%s", suite_dir, name, file);
	s = tu_read_file(path, len);
	ck_assert_msg(s != NULL, "cannot read %s", path);
	return s;
}

/*
 * A raw request as aws-c-auth's test runner reads it: "METHOD URI HTTP/1.1", header lines
 * (a line starting with whitespace continues the previous value), empty line, body. This
 * parser is the test's own, independent of the one in admin_sigv4.c.
 */
struct suite_req {
	char	*text;
	char	*method;
	char	*target;
	char	*path;
	char	*query;
	struct sigv4_header h[32];
	char	*owned[64];
	size_t	 nh, nowned;
	const char *hdr_block;		/* the header lines as written */
	size_t	 hdr_len;
	const char *body;
	size_t	 body_len;
};

static void
suite_req_parse(struct suite_req *r, char *text, size_t len)
{
	char *p = text, *end = text + len, *nl, *sp, *colon, *q;

	memset(r, 0, sizeof *r);
	r->text = text;
	nl = memchr(p, '\n', (size_t)(end - p));
	ck_assert_ptr_nonnull(nl);
	sp = memchr(p, ' ', (size_t)(nl - p));
	ck_assert_ptr_nonnull(sp);
	ck_assert_int_gt(nl - sp, 10);
	ck_assert(strncmp(nl - 9, " HTTP/1.1", 9) == 0);
	r->method = xstrndup(p, (size_t)(sp - p));
	r->target = xstrndup(sp + 1, (size_t)(nl - 9 - sp - 1));
	r->path = xstrdup(r->target);
	if ((q = strchr(r->path, '?')) != NULL) {
		*q = '\0';
		r->query = q + 1;
	}
	p = nl + 1;
	r->hdr_block = p;
	while (p < end && *p != '\n') {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		if (*p == ' ' || *p == '\t') {
			struct buf v = BUF_INIT;

			ck_assert_uint_gt(r->nh, 0);
			buf_printf(&v, "%s\n%.*s", r->h[r->nh - 1].value, (int)(nl - p), p);
			r->h[r->nh - 1].value = r->owned[r->nowned++] = buf_detach(&v);
		} else {
			colon = memchr(p, ':', (size_t)(nl - p));
			ck_assert_ptr_nonnull(colon);
			r->h[r->nh].name = r->owned[r->nowned++] = xstrndup(p, (size_t)(colon - p));
			r->h[r->nh].value = r->owned[r->nowned++] =
			    xstrndup(colon + 1, (size_t)(nl - colon - 1));
			r->nh++;
		}
		p = nl < end ? nl + 1 : end;
	}
	r->hdr_len = (size_t)(p - r->hdr_block);
	r->body = p < end ? p + 1 : end;
	r->body_len = (size_t)(end - r->body);
}

static void
suite_req_free(struct suite_req *r)
{
	size_t i;

	for (i = 0; i < r->nowned; i++)
		free(r->owned[i]);
	free(r->method);
	free(r->target);
	free(r->path);
	free(r->text);
}

/* The signed request the way the suite writes it: added headers after the original ones. */
static void
render(struct buf *out, const struct suite_req *r, const struct sigv4_result *res, int presign)
{
	size_t i;

	if (presign)
		buf_printf(out, "%s %s?%s HTTP/1.1\n", r->method, r->path,
		    res->presigned_query.data);
	else
		buf_printf(out, "%s %s HTTP/1.1\n", r->method, r->target);
	buf_append(out, r->hdr_block, r->hdr_len);
	for (i = 0; i < res->nadded; i++)
		buf_printf(out, "%s:%s\n", res->added[i].name, res->added[i].value);
	buf_appendc(out, '\n');
	buf_append(out, r->body, r->body_len);
}

/* Byte-for-byte, with both texts in the message when they differ. */
#define assert_bytes(got, glen, want, wlen, what) do {					\
	ck_assert_msg((glen) == (wlen) && memcmp((got), (want), (wlen)) == 0,		\
	    "%s differs:\n--- got\n%.*s\n--- want\n%.*s\n---", (what), (int)(glen),	\
	    (const char *)(got), (int)(wlen), (const char *)(want));			\
} while (0)

#define assert_prefix(s, prefix) do {							\
	ck_assert_msg(strncmp((s), (prefix), strlen(prefix)) == 0,			\
	    "\n%s\ndoes not start with\n%s", (s), (prefix));				\
} while (0)

static int
ctx_int(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int(v) : 0;
}

static int
ctx_bool(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

static const char *
ctx_str(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

/* Runs admin_sigv4 with stdout and stderr captured; returns its exit status. */
static int
run_admin(const char *const *args, struct buf *out, struct buf *err)
{
	char *argv[40];
	int argc = 0, so, se, rc;
	FILE *fo = tmpfile(), *fe = tmpfile();
	char chunk[4096];
	size_t n;

	ck_assert(fo != NULL && fe != NULL);
	argv[argc++] = (char *)"sigv4";
	while (*args != NULL && argc < 39)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	fflush(stdout);
	fflush(stderr);
	so = dup(1);
	se = dup(2);
	dup2(fileno(fo), 1);
	dup2(fileno(fe), 2);
	rc = admin_sigv4(NULL, argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	rewind(fo);
	rewind(fe);
	while ((n = fread(chunk, 1, sizeof chunk, fo)) > 0)
		buf_append(out, chunk, n);
	while ((n = fread(chunk, 1, sizeof chunk, fe)) > 0)
		buf_append(err, chunk, n);
	buf_append(out, "", 0);
	buf_append(err, "", 0);
	fclose(fo);
	fclose(fe);
	return rc;
}

/* The value of the "Authorization:" line of a signed request file. */
static char *
authz_line(const char *sreq)
{
	const char *p = strstr(sreq, "\nAuthorization:");

	if (p == NULL)
		return NULL;
	p += strlen("\nAuthorization:");
	return xstrndup(p, strcspn(p, "\n"));
}

/* Library, header and query signing, against every file of one case. */
START_TEST(test_aws_suite_case)
{
	const char *name = case_names[_i];
	struct suite_req r;
	struct sigv4_request rq;
	struct sigv4_params p;
	struct sigv4_result res;
	json_object *ctx, *creds;
	char *text, *want, *authz;
	size_t len, wlen;
	int presign;

	text = case_file(name, "context.json", &len);
	ctx = json_tokener_parse(text);
	free(text);
	ck_assert_ptr_nonnull(ctx);
	ck_assert(json_object_object_get_ex(ctx, "credentials", &creds));
	text = case_file(name, "request.txt", &len);
	suite_req_parse(&r, text, len);

	memset(&rq, 0, sizeof rq);
	rq.method = r.method;
	rq.path = r.path;
	rq.query = r.query;
	rq.headers = r.h;
	rq.nheaders = r.nh;
	rq.body = r.body;
	rq.body_len = r.body_len;
	/* aws-c-auth's runner: sign_body adds the header and hashes the body; without it the
	   payload is the empty-string hash whatever the body. */
	if (ctx_bool(ctx, "sign_body"))
		rq.payload = SIGV4_PAYLOAD_BODY;
	else {
		rq.payload = SIGV4_PAYLOAD_PRECOMPUTED;
		rq.payload_hash = EMPTY_SHA256;
	}
	memset(&p, 0, sizeof p);
	p.region = ctx_str(ctx, "region");
	p.service = ctx_str(ctx, "service");
	p.amz_date = "20150830T123600Z";
	ck_assert_str_eq(ctx_str(ctx, "timestamp"), "2015-08-30T12:36:00Z");
	p.creds.access_key_id = ctx_str(creds, "access_key_id");
	p.creds.secret_access_key = ctx_str(creds, "secret_access_key");
	p.creds.session_token = ctx_str(creds, "token");
	/* aws-c-auth's runner always double-encodes; "normalize" only switches normalisation. */
	p.no_normalize_path = !ctx_bool(ctx, "normalize");
	p.session_token_unsigned = ctx_bool(ctx, "omit_session_token");

	for (presign = 0; presign <= 1; presign++) {
		const char *pre = presign ? "query" : "header";
		char fname[64];
		struct buf got = BUF_INIT;
		int rc;

		p.add_content_sha256 = !presign && ctx_bool(ctx, "sign_body");
		rc = presign ? sigv4_presign(&rq, &p,
		    ctx_int(ctx, "expiration_in_seconds"), &res) :
		    sigv4_sign_headers(&rq, &p, &res);
		ck_assert_msg(rc == 0, "%s %s: %s", name, pre, res.error);

		snprintf(fname, sizeof fname, "%s-canonical-request.txt", pre);
		want = case_file(name, fname, &wlen);
		assert_bytes(res.canonical_request.data, res.canonical_request.len, want, wlen,
		    fname);
		free(want);
		snprintf(fname, sizeof fname, "%s-string-to-sign.txt", pre);
		want = case_file(name, fname, &wlen);
		assert_bytes(res.string_to_sign.data, res.string_to_sign.len, want, wlen, fname);
		free(want);
		snprintf(fname, sizeof fname, "%s-signature.txt", pre);
		want = case_file(name, fname, &wlen);
		assert_bytes(res.signature, strlen(res.signature), want, wlen, fname);
		free(want);
		snprintf(fname, sizeof fname, "%s-signed-request.txt", pre);
		want = case_file(name, fname, &wlen);
		render(&got, &r, &res, presign);
		assert_bytes(got.data, got.len, want, wlen, fname);
		if (!presign) {
			authz = authz_line(want);
			ck_assert_ptr_nonnull(authz);
			ck_assert_str_eq(res.authorization.data, authz);
			free(authz);
			ck_assert_uint_eq(res.presigned_query.len, 0);
		} else {
			ck_assert_uint_eq(res.nadded, 0);
			ck_assert_uint_eq(res.authorization.len, 0);
		}
		free(want);
		buf_free(&got);
		sigv4_result_free(&res);
	}
	suite_req_free(&r);
	json_object_put(ctx);
}
END_TEST

/*
 * The same cases through `fileshare-admin sigv4`: its own request parser and renderer. The
 * unnormalised cases run with --no-normalize (S3 mode: no double encoding either), which
 * gives the same bytes for these paths. omit_session_token has no command-line switch: that
 * case is covered by the library test above only.
 */
START_TEST(test_aws_suite_case_admin)
{
	const char *name = case_names[_i];
	char reqpath[2048], *text, *want, expires[16];
	json_object *ctx, *creds;
	size_t len, wlen;
	int presign, show;

	text = case_file(name, "context.json", &len);
	ctx = json_tokener_parse(text);
	free(text);
	ck_assert_ptr_nonnull(ctx);
	ck_assert(json_object_object_get_ex(ctx, "credentials", &creds));
	if (ctx_bool(ctx, "omit_session_token")) {
		json_object_put(ctx);
		return;
	}
	snprintf(reqpath, sizeof reqpath, "%s/%s/request.txt", suite_dir, name);
	snprintf(expires, sizeof expires, "%d",
	    ctx_int(ctx, "expiration_in_seconds"));
	for (presign = 0; presign <= 1; presign++) {
		for (show = 0; show < 4; show++) {
			static const char *const shows[] = { "signed-request",
			    "canonical-request", "string-to-sign", "signature" };
			static const char *const files[] = { "signed-request.txt",
			    "canonical-request.txt", "string-to-sign.txt", "signature.txt" };
			const char *args[24];
			struct buf out = BUF_INIT, err = BUF_INIT;
			char fname[64];
			int n = 0, rc;

			args[n++] = "--request";
			args[n++] = reqpath;
			args[n++] = "--region";
			args[n++] = ctx_str(ctx, "region");
			args[n++] = "--service";
			args[n++] = ctx_str(ctx, "service");
			args[n++] = "--date";
			args[n++] = "20150830T123600Z";
			args[n++] = "--access-key";
			args[n++] = ctx_str(creds, "access_key_id");
			args[n++] = "--secret-key";
			args[n++] = ctx_str(creds, "secret_access_key");
			if (ctx_str(creds, "token")) {
				args[n++] = "--session-token";
				args[n++] = ctx_str(creds, "token");
			}
			if (!ctx_bool(ctx, "normalize"))
				args[n++] = "--no-normalize";
			if (presign) {
				args[n++] = "--presign";
				args[n++] = expires;
			} else if (ctx_bool(ctx, "sign_body"))
				args[n++] = "--sign-body";
			args[n++] = "--show";
			args[n++] = shows[show];
			args[n] = NULL;
			rc = run_admin(args, &out, &err);
			ck_assert_msg(rc == 0, "%s: exit %d: %s", name, rc, err.data);
			snprintf(fname, sizeof fname, "%s-%s", presign ? "query" : "header",
			    files[show]);
			want = case_file(name, fname, &wlen);
			if (show > 0) {	/* printed with one newline added */
				ck_assert(out.len > 0 && out.data[out.len - 1] == '\n');
				out.len--;
			}
			assert_bytes(out.data, out.len, want, wlen, fname);
			free(want);
			buf_free(&out);
			buf_free(&err);
		}
	}
	json_object_put(ctx);
}
END_TEST

/* ---------------------------------------------------------------- AWS's documented examples */

struct doc_case {
	const char	*name;
	const char	*method, *path, *query;
	const char	*h[8];		/* name, value, ..., NULL */
	const char	*body;
	const char	*region, *service, *date, *ak, *sk;
	bool		 s3;		/* no normalisation, no double encoding */
	bool		 add_sha;
	enum sigv4_payload payload;
	long		 expires;	/* 0: headers */
	const char	*creq;		/* NULL: not published */
	const char	*sts_hash;	/* last line of the string to sign; NULL: not published */
	const char	*signature;
	const char	*out;		/* the Authorization value, or the presigned query */
};

static const struct doc_case doc_cases[] = {
	/* Amazon S3 API reference, "Signature Calculations for the Authorization Header:
	   Transferring Payload in a Single Chunk", Example: GET Object. */
	{ "s3_get_object", "GET", "/test.txt", NULL,
	  { "Host", "examplebucket.s3.amazonaws.com", "Range", "bytes=0-9", NULL }, "",
	  "us-east-1", "s3", "20130524T000000Z", DOC_AK, DOC_SK, true, true,
	  SIGV4_PAYLOAD_BODY, 0,
	  "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
	  "x-amz-content-sha256:" EMPTY_SHA256 "\nx-amz-date:20130524T000000Z\n\n"
	  "host;range;x-amz-content-sha256;x-amz-date\n" EMPTY_SHA256,
	  "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972",
	  "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
	  "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
	  "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
	  "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41" },
	/* Same page, Example: PUT Object (the key "test$file.text" goes out encoded once). */
	{ "s3_put_object", "PUT", "/test%24file.text", NULL,
	  { "Host", "examplebucket.s3.amazonaws.com", "Date", "Fri, 24 May 2013 00:00:00 GMT",
	    "x-amz-storage-class", "REDUCED_REDUNDANCY", NULL }, "Welcome to Amazon S3.",
	  "us-east-1", "s3", "20130524T000000Z", DOC_AK, DOC_SK, true, true,
	  SIGV4_PAYLOAD_BODY, 0, NULL, NULL,
	  "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd", NULL },
	/* Same page, Example: GET Bucket Lifecycle (a query key without '='). */
	{ "s3_get_lifecycle", "GET", "/", "lifecycle",
	  { "Host", "examplebucket.s3.amazonaws.com", NULL }, "",
	  "us-east-1", "s3", "20130524T000000Z", DOC_AK, DOC_SK, true, true,
	  SIGV4_PAYLOAD_BODY, 0, NULL, NULL,
	  "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543", NULL },
	/* Same page, Example: Get Bucket (List Objects) (two parameters, sorted). */
	{ "s3_list_objects", "GET", "/", "max-keys=2&prefix=J",
	  { "Host", "examplebucket.s3.amazonaws.com", NULL }, "",
	  "us-east-1", "s3", "20130524T000000Z", DOC_AK, DOC_SK, true, true,
	  SIGV4_PAYLOAD_BODY, 0, NULL, NULL,
	  "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7", NULL },
	/* Amazon S3 API reference, "Authenticating Requests: Using Query Parameters", the
	   presigned GET of test.txt valid 86400 s. */
	{ "s3_presigned_url", "GET", "/test.txt", NULL,
	  { "Host", "examplebucket.s3.amazonaws.com", NULL }, NULL,
	  "us-east-1", "s3", "20130524T000000Z", DOC_AK, DOC_SK, true, false,
	  SIGV4_PAYLOAD_UNSIGNED, 86400,
	  "GET\n/test.txt\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE"
	  "%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires="
	  "86400&X-Amz-SignedHeaders=host\nhost:examplebucket.s3.amazonaws.com\n\nhost\n"
	  "UNSIGNED-PAYLOAD",
	  "3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04",
	  "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
	  "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2F"
	  "us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-SignedHeaders=host&"
	  "X-Amz-Expires=86400&X-Amz-Signature="
	  "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404" },
	/* AWS General Reference, "Signature Version 4 signing process" example: IAM ListUsers. */
	{ "iam_list_users", "GET", "/", "Action=ListUsers&Version=2010-05-08",
	  { "Host", "iam.amazonaws.com",
	    "Content-Type", "application/x-www-form-urlencoded; charset=utf-8", NULL }, "",
	  "us-east-1", "iam", "20150830T123600Z", SUITE_AK, SUITE_SK, false, false,
	  SIGV4_PAYLOAD_BODY, 0,
	  "GET\n/\nAction=ListUsers&Version=2010-05-08\n"
	  "content-type:application/x-www-form-urlencoded; charset=utf-8\n"
	  "host:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
	  "content-type;host;x-amz-date\n" EMPTY_SHA256,
	  "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59",
	  "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
	  "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
	  "SignedHeaders=content-type;host;x-amz-date, "
	  "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7" },
};

START_TEST(test_doc_examples)
{
	const struct doc_case *c = &doc_cases[_i];
	struct sigv4_header h[4];
	struct sigv4_request rq;
	struct sigv4_params p;
	struct sigv4_result res;
	size_t n = 0;
	const char *last;
	int rc;

	while (c->h[2 * n] != NULL) {
		h[n].name = c->h[2 * n];
		h[n].value = c->h[2 * n + 1];
		n++;
	}
	memset(&rq, 0, sizeof rq);
	rq.method = c->method;
	rq.path = c->path;
	rq.query = c->query;
	rq.headers = h;
	rq.nheaders = n;
	rq.body = c->body;
	rq.body_len = c->body ? strlen(c->body) : 0;
	rq.payload = c->payload;
	memset(&p, 0, sizeof p);
	p.region = c->region;
	p.service = c->service;
	p.amz_date = c->date;
	p.creds.access_key_id = c->ak;
	p.creds.secret_access_key = c->sk;
	p.no_normalize_path = p.no_double_encode = c->s3;
	p.add_content_sha256 = c->add_sha;
	rc = c->expires ? sigv4_presign(&rq, &p, c->expires, &res) :
	    sigv4_sign_headers(&rq, &p, &res);
	ck_assert_msg(rc == 0, "%s: %s", c->name, res.error);
	if (c->creq != NULL)
		ck_assert_str_eq(res.canonical_request.data, c->creq);
	if (c->sts_hash != NULL) {
		last = strrchr(res.string_to_sign.data, '\n');
		ck_assert_ptr_nonnull(last);
		ck_assert_str_eq(last + 1, c->sts_hash);
	}
	ck_assert_str_eq(res.signature, c->signature);
	if (c->out != NULL)
		ck_assert_str_eq(c->expires ? res.presigned_query.data : res.authorization.data,
		    c->out);
	sigv4_result_free(&res);
}
END_TEST

/* ---------------------------------------------------------------- canonicalisation tables */

/* A request over the generic signer with one twist; the canonical lines it must produce. */
struct canon_case {
	const char	*name;
	bool		 s3;		/* no normalisation, no double encoding */
	bool		 no_normalize;	/* only normalisation off */
	const char	*path;
	const char	*query;
	const char	*h[12];		/* extra headers: name, value, ..., NULL */
	const char	*want_path;
	const char	*want_query;
	const char	*want_headers;	/* canonical header lines (NULL: not checked) */
	const char	*want_signed;	/* signed header list (NULL: not checked) */
};

static const struct canon_case canon_cases[] = {
	{ "path_root", false, false, "/", NULL, { NULL }, "/", "", NULL, NULL },
	{ "path_dot_segments", false, false, "/a/./b/../c", NULL, { NULL }, "/a/c", "", NULL,
	  NULL },
	{ "path_dotdot_above_root", false, false, "/../../a", NULL, { NULL }, "/a", "", NULL,
	  NULL },
	{ "path_double_slashes", false, false, "//a//b//", NULL, { NULL }, "/a/b/", "", NULL,
	  NULL },
	{ "path_trailing_dot", false, false, "/a/b/.", NULL, { NULL }, "/a/b", "", NULL, NULL },
	{ "path_all_gone", false, false, "/a/..", NULL, { NULL }, "/", "", NULL, NULL },
	{ "path_double_encoded", false, false, "/a%20b/c d/%E1%88%B4", NULL, { NULL },
	  "/a%2520b/c%20d/%25E1%2588%25B4", "", NULL, NULL },
	{ "path_utf8_raw", false, false, "/\xe1\x88\xb4", NULL, { NULL }, "/%E1%88%B4", "", NULL,
	  NULL },
	{ "path_reserved", false, false, "/a+b=c;d,e:f@g!h$i'j(k)l*m&n", NULL, { NULL },
	  "/a%2Bb%3Dc%3Bd%2Ce%3Af%40g%21h%24i%27j%28k%29l%2Am%26n", "", NULL, NULL },
	{ "path_unreserved", false, false, "/-._~AZaz09", NULL, { NULL }, "/-._~AZaz09", "",
	  NULL, NULL },
	{ "path_no_normalize_double_encoded", false, true, "/a/./b/../%41", NULL, { NULL },
	  "/a/./b/../%2541", "", NULL, NULL },
	{ "path_s3_as_sent", true, false, "//a/./b/../c%20d/%e1", NULL, { NULL },
	  "//a/./b/../c%20d/%e1", "", NULL, NULL },
	{ "path_s3_reserved_kept", true, false, "/a+b=c;d,e:f@g!h$i'j(k)l*m&n", NULL, { NULL },
	  "/a+b=c;d,e:f@g!h$i'j(k)l*m&n", "", NULL, NULL },
	{ "path_s3_illegal_encoded", true, false, "/a b/\xe1\x88\xb4/%zz/50%/\"<>", NULL,
	  { NULL }, "/a%20b/%E1%88%B4/%25zz/50%25/%22%3C%3E", "", NULL, NULL },
	{ "query_sorted_by_key_then_value", false, false, "/", "b=2&a=3&a=1&a=2", { NULL }, "/",
	  "a=1&a=2&a=3&b=2", NULL, NULL },
	{ "query_key_without_equals", false, false, "/", "acl&a=", { NULL }, "/", "a=&acl=",
	  NULL, NULL },
	{ "query_empty_pieces_ignored", false, false, "/", "&a=1&&b=2&", { NULL }, "/",
	  "a=1&b=2", NULL, NULL },
	{ "query_empty_key", false, false, "/", "=v&a=1", { NULL }, "/", "=v&a=1", NULL, NULL },
	{ "query_decoded_then_encoded", false, false, "/", "k=%7e%41%2f%2F/ b&%E1%88%B4=x",
	  { NULL }, "/", "%E1%88%B4=x&k=~A%2F%2F%2F%20b", NULL, NULL },
	{ "query_plus_is_literal", false, false, "/", "q=a+b", { NULL }, "/", "q=a%2Bb", NULL,
	  NULL },
	{ "query_value_with_equals", false, false, "/", "a=b=c", { NULL }, "/", "a=b%3Dc", NULL,
	  NULL },
	{ "query_invalid_utf8_and_nul", false, false, "/", "a=%FF%00&b=%", { NULL }, "/",
	  "a=%FF%00&b=%25", NULL, NULL },
	{ "query_raw_utf8", false, false, "/", "\xe1\x88\xb4=bar", { NULL }, "/",
	  "%E1%88%B4=bar", NULL, NULL },
	/* Sorting is on the encoded bytes: "%5B" ('[') sorts before "A". */
	{ "query_sorted_encoded", false, false, "/", "A=1&[=2", { NULL }, "/", "%5B=2&A=1", NULL,
	  NULL },
	{ "query_key_prefix_sorts_first", false, false, "/", "a-=1&a=2", { NULL }, "/",
	  "a=2&a-=1", NULL, NULL },
	{ "query_s3_same_rules", true, false, "/", "response-content-disposition="
	  "attachment%3B%20filename%3D%22a%20b.txt%22", { NULL }, "/",
	  "response-content-disposition=attachment%3B%20filename%3D%22a%20b.txt%22", NULL, NULL },
	{ "headers_trim_and_collapse", false, false, "/", NULL,
	  { "X-A", "  a   b \t c  ", "x-b", "\tfolded\r\n   value\n\tthree ", NULL }, "/", "",
	  "host:h.example\nx-a:a b c\nx-amz-date:20150830T123600Z\nx-b:folded value three\n",
	  "host;x-a;x-amz-date;x-b" },
	{ "headers_repeated_joined_in_order", false, false, "/", NULL,
	  { "My-H", " v2 ", "my-h", "v1", "MY-H", "", "my-h", "a  b", NULL }, "/", "",
	  "host:h.example\nmy-h:v2,v1,,a b\nx-amz-date:20150830T123600Z\n",
	  "host;my-h;x-amz-date" },
	{ "headers_case_and_sort", false, false, "/", NULL,
	  { "Zed", "Z", "content-TYPE", "application/json", "X-Amz-Target", "DynamoDB_20120810.GetItem",
	    NULL }, "/", "",
	  "content-type:application/json\nhost:h.example\nx-amz-date:20150830T123600Z\n"
	  "x-amz-target:DynamoDB_20120810.GetItem\nzed:Z\n",
	  "content-type;host;x-amz-date;x-amz-target;zed" },
	{ "headers_unsigned_skipped", false, false, "/", NULL,
	  { "User-Agent", "curl/8", "Expect", "100-continue", "X-Amzn-Trace-Id", "Root=1",
	    "Date", "Sun, 30 Aug 2015 12:36:00 GMT", NULL }, "/", "",
	  "date:Sun, 30 Aug 2015 12:36:00 GMT\nhost:h.example\nx-amz-date:20150830T123600Z\n",
	  "date;host;x-amz-date" },
	{ "headers_empty_value", false, false, "/", NULL, { "X-Empty", "   ", NULL }, "/", "",
	  "host:h.example\nx-amz-date:20150830T123600Z\nx-empty:\n", "host;x-amz-date;x-empty" },
	{ "headers_utf8_value", false, false, "/", NULL, { "X-U", "caf\xc3\xa9  \xe1\x88\xb4",
	  NULL }, "/", "",
	  "host:h.example\nx-amz-date:20150830T123600Z\nx-u:caf\xc3\xa9 \xe1\x88\xb4\n",
	  "host;x-amz-date;x-u" },
};

START_TEST(test_canonical)
{
	const struct canon_case *c = &canon_cases[_i];
	struct sigv4_header h[8];
	struct sigv4_request rq;
	struct sigv4_params p;
	struct sigv4_result res;
	struct buf want_start = BUF_INIT;
	size_t n = 0;
	const char *lines;

	h[n].name = "Host";
	h[n].value = "h.example";
	n++;
	while (c->h[2 * (n - 1)] != NULL) {
		h[n].name = c->h[2 * (n - 1)];
		h[n].value = c->h[2 * (n - 1) + 1];
		n++;
	}
	memset(&rq, 0, sizeof rq);
	rq.method = "GET";
	rq.path = c->path;
	rq.query = c->query;
	rq.headers = h;
	rq.nheaders = n;
	memset(&p, 0, sizeof p);
	p.region = "us-east-1";
	p.service = "service";
	p.amz_date = "20150830T123600Z";
	p.creds.access_key_id = SUITE_AK;
	p.creds.secret_access_key = SUITE_SK;
	p.no_normalize_path = c->s3 || c->no_normalize;
	p.no_double_encode = c->s3;
	ck_assert_msg(sigv4_sign_headers(&rq, &p, &res) == 0, "%s: %s", c->name, res.error);
	buf_printf(&want_start, "GET\n%s\n%s\n", c->want_path, c->want_query);
	ck_assert_msg(strncmp(res.canonical_request.data, want_start.data, want_start.len) == 0,
	    "%s: canonical request starts\n%s\nnot\n%s", c->name, res.canonical_request.data,
	    want_start.data);
	if (c->want_headers != NULL) {
		lines = res.canonical_request.data + want_start.len;
		ck_assert_msg(strncmp(lines, c->want_headers, strlen(c->want_headers)) == 0 &&
		    lines[strlen(c->want_headers)] == '\n', "%s: headers\n%s\nnot\n%s", c->name,
		    lines, c->want_headers);
	}
	if (c->want_signed != NULL)
		ck_assert_str_eq(res.signed_headers.data, c->want_signed);
	buf_free(&want_start);
	sigv4_result_free(&res);
}
END_TEST

/* ---------------------------------------------------------------- the result's fields */

static const struct sigv4_header base_headers[] = {
	{ "Host", "dynamodb.eu-west-1.amazonaws.com" },
	{ "Content-Type", "application/x-amz-json-1.0" },
	{ "X-Amz-Target", "DynamoDB_20120810.GetItem" },
};

static void
base_request(struct sigv4_request *rq, struct sigv4_params *p)
{
	static const char body[] = "{\"TableName\":\"t\"}";

	memset(rq, 0, sizeof *rq);
	rq->method = "POST";
	rq->path = "/";
	rq->headers = base_headers;
	rq->nheaders = sizeof base_headers / sizeof base_headers[0];
	rq->body = body;
	rq->body_len = strlen(body);
	memset(p, 0, sizeof *p);
	p->region = "eu-west-1";
	p->service = "dynamodb";
	p->amz_date = "20260101T000000Z";
	p->creds.access_key_id = DOC_AK;
	p->creds.secret_access_key = DOC_SK;
}

START_TEST(test_result_fields_dynamodb)
{
	struct sigv4_request rq;
	struct sigv4_params p;
	struct sigv4_result res;
	char hash[SIGV4_HEX_LEN + 1];

	base_request(&rq, &p);
	ck_assert_int_eq(sigv4_sign_headers(&rq, &p, &res), 0);
	ck_assert_ptr_null(res.error);
	ck_assert_int_eq(sigv4_sha256_hex(rq.body, rq.body_len, hash), 0);
	ck_assert_str_eq(res.payload_hash, hash);
	ck_assert_str_eq(res.credential_scope.data, "20260101/eu-west-1/dynamodb/aws4_request");
	ck_assert_str_eq(res.signed_headers.data, "content-type;host;x-amz-date;x-amz-target");
	ck_assert_uint_eq(strlen(res.signature), 64);
	ck_assert_uint_eq(res.nadded, 2);
	ck_assert_str_eq(res.added[0].name, "X-Amz-Date");
	ck_assert_str_eq(res.added[0].value, "20260101T000000Z");
	ck_assert_str_eq(res.added[1].name, "Authorization");
	ck_assert_str_eq(res.added[1].value, res.authorization.data);
	ck_assert_uint_eq(res.presigned_query.len, 0);
	/* The string to sign ends with the hash of the canonical request. */
	ck_assert_int_eq(sigv4_sha256_hex(res.canonical_request.data, res.canonical_request.len,
	    hash), 0);
	ck_assert_ptr_nonnull(strstr(res.string_to_sign.data, hash));
	assert_prefix(res.string_to_sign.data, "AWS4-HMAC-SHA256\n20260101T000000Z\n"
	    "20260101/eu-west-1/dynamodb/aws4_request\n");
	sigv4_result_free(&res);
}
END_TEST

START_TEST(test_session_token_header)
{
	struct sigv4_request rq;
	struct sigv4_params p;
	struct sigv4_result res;

	base_request(&rq, &p);
	p.creds.session_token = "tok/en+=";
	ck_assert_int_eq(sigv4_sign_headers(&rq, &p, &res), 0);
	ck_assert_str_eq(res.signed_headers.data,
	    "content-type;host;x-amz-date;x-amz-security-token;x-amz-target");
	ck_assert_ptr_nonnull(strstr(res.canonical_request.data, "\nx-amz-security-token:tok/en+=\n"));
	ck_assert_uint_eq(res.nadded, 3);
	ck_assert_str_eq(res.added[0].name, "X-Amz-Security-Token");
	ck_assert_str_eq(res.added[0].value, "tok/en+=");
	sigv4_result_free(&res);

	/* The empty token is no token. */
	p.creds.session_token = "";
	ck_assert_int_eq(sigv4_sign_headers(&rq, &p, &res), 0);
	ck_assert_uint_eq(res.nadded, 2);
	ck_assert_ptr_null(strstr(res.canonical_request.data, "security-token"));
	sigv4_result_free(&res);

	/* Unsigned: added to the request, absent from the canonical request. */
	p.creds.session_token = "tok";
	p.session_token_unsigned = true;
	ck_assert_int_eq(sigv4_sign_headers(&rq, &p, &res), 0);
	ck_assert_uint_eq(res.nadded, 3);
	ck_assert_str_eq(res.added[0].name, "X-Amz-Security-Token");
	ck_assert_ptr_null(strstr(res.canonical_request.data, "security-token"));
	sigv4_result_free(&res);
}
END_TEST

START_TEST(test_presign_with_token_and_query)
{
	struct sigv4_header h[] = { { "Host", "bucket.s3.eu-west-1.amazonaws.com" } };
	struct sigv4_request rq;
	struct sigv4_params p;
	struct sigv4_result res;
	const char *cr;

	memset(&rq, 0, sizeof rq);
	rq.method = "GET";
	rq.path = "/files/a%20b.txt";
	rq.query = "response-content-disposition=attachment%3B%20filename%3D%22a%20b.txt%22";
	rq.headers = h;
	rq.nheaders = 1;
	rq.payload = SIGV4_PAYLOAD_UNSIGNED;
	memset(&p, 0, sizeof p);
	p.region = "eu-west-1";
	p.service = "s3";
	p.amz_date = "20260101T000000Z";
	p.creds.access_key_id = DOC_AK;
	p.creds.secret_access_key = DOC_SK;
	p.creds.session_token = "FQo/Gx+a==";
	p.no_normalize_path = p.no_double_encode = true;
	ck_assert_int_eq(sigv4_presign(&rq, &p, 300, &res), 0);
	cr = res.canonical_request.data;
	ck_assert_str_eq(cr, "GET\n/files/a%20b.txt\nX-Amz-Algorithm=AWS4-HMAC-SHA256&"
	    "X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20260101%2Feu-west-1%2Fs3%2Faws4_request&"
	    "X-Amz-Date=20260101T000000Z&X-Amz-Expires=300&"
	    "X-Amz-Security-Token=FQo%2FGx%2Ba%3D%3D&X-Amz-SignedHeaders=host&"
	    "response-content-disposition=attachment%3B%20filename%3D%22a%20b.txt%22\n"
	    "host:bucket.s3.eu-west-1.amazonaws.com\n\nhost\nUNSIGNED-PAYLOAD");
	assert_prefix(res.presigned_query.data, "response-content-disposition=attachment"
	    "%3B%20filename%3D%22a%20b.txt%22&X-Amz-Algorithm=AWS4-HMAC-SHA256&");
	ck_assert_ptr_nonnull(strstr(res.presigned_query.data,
	    "&X-Amz-Expires=300&X-Amz-Security-Token=FQo%2FGx%2Ba%3D%3D&X-Amz-Signature="));
	ck_assert_str_eq(res.presigned_query.data + res.presigned_query.len - 64, res.signature);
	ck_assert_uint_eq(res.nadded, 0);
	sigv4_result_free(&res);

	/* The bounds of the expiry are accepted. */
	ck_assert_int_eq(sigv4_presign(&rq, &p, 1, &res), 0);
	sigv4_result_free(&res);
	ck_assert_int_eq(sigv4_presign(&rq, &p, SIGV4_MAX_EXPIRES, &res), 0);
	ck_assert_ptr_nonnull(strstr(res.presigned_query.data, "X-Amz-Expires=604800&"));
	sigv4_result_free(&res);
}
END_TEST

START_TEST(test_payload_variants)
{
	struct sigv4_request rq;
	struct sigv4_params p;
	struct sigv4_result res;
	char hash[SIGV4_HEX_LEN + 1];
	struct sigv4_header h[] = { { "Host", "b.s3.amazonaws.com" },
	    { "X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD" } };

	base_request(&rq, &p);
	p.no_normalize_path = p.no_double_encode = p.add_content_sha256 = true;
	rq.payload = SIGV4_PAYLOAD_UNSIGNED;
	ck_assert_int_eq(sigv4_sign_headers(&rq, &p, &res), 0);
	ck_assert_str_eq(res.payload_hash, "UNSIGNED-PAYLOAD");
	ck_assert_uint_eq(res.nadded, 3);
	ck_assert_str_eq(res.added[1].name, "x-amz-content-sha256");
	ck_assert_str_eq(res.added[1].value, "UNSIGNED-PAYLOAD");
	ck_assert_ptr_nonnull(strstr(res.canonical_request.data,
	    "\nx-amz-content-sha256:UNSIGNED-PAYLOAD\n"));
	ck_assert(strcmp(res.canonical_request.data + res.canonical_request.len - 17,
	    "\nUNSIGNED-PAYLOAD") == 0);
	sigv4_result_free(&res);

	/* A streamed body: its hash, computed elsewhere, signs exactly as the body would. */
	ck_assert_int_eq(sigv4_sha256_hex(rq.body, rq.body_len, hash), 0);
	rq.payload = SIGV4_PAYLOAD_BODY;
	ck_assert_int_eq(sigv4_sign_headers(&rq, &p, &res), 0);
	{
		char sig[65];

		memcpy(sig, res.signature, sizeof sig);
		sigv4_result_free(&res);
		rq.payload = SIGV4_PAYLOAD_PRECOMPUTED;
		rq.payload_hash = hash;
		rq.body = NULL;
		rq.body_len = 0;
		ck_assert_int_eq(sigv4_sign_headers(&rq, &p, &res), 0);
		ck_assert_str_eq(res.signature, sig);
		ck_assert_str_eq(res.added[1].value, hash);
		sigv4_result_free(&res);
	}

	/* The caller may send the header itself when it equals the payload hash. */
	rq.headers = h;
	rq.nheaders = 2;
	rq.payload = SIGV4_PAYLOAD_UNSIGNED;
	p.add_content_sha256 = false;
	ck_assert_int_eq(sigv4_sign_headers(&rq, &p, &res), 0);
	ck_assert_str_eq(res.signed_headers.data, "host;x-amz-content-sha256;x-amz-date");
	ck_assert_uint_eq(res.nadded, 2);
	sigv4_result_free(&res);

	/* No body at all is the empty string's hash. */
	base_request(&rq, &p);
	rq.body = NULL;
	rq.body_len = 0;
	ck_assert_int_eq(sigv4_sign_headers(&rq, &p, &res), 0);
	ck_assert_str_eq(res.payload_hash, EMPTY_SHA256);
	sigv4_result_free(&res);
}
END_TEST

START_TEST(test_sha256_hex)
{
	char out[SIGV4_HEX_LEN + 1];

	ck_assert_int_eq(sigv4_sha256_hex("abc", 3, out), 0);
	ck_assert_str_eq(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	ck_assert_int_eq(sigv4_sha256_hex(NULL, 0, out), 0);
	ck_assert_str_eq(out, EMPTY_SHA256);
}
END_TEST

START_TEST(test_deterministic_and_sensitive)
{
	struct sigv4_request rq;
	struct sigv4_params p;
	struct sigv4_result a, b;

	base_request(&rq, &p);
	ck_assert_int_eq(sigv4_sign_headers(&rq, &p, &a), 0);
	ck_assert_int_eq(sigv4_sign_headers(&rq, &p, &b), 0);
	ck_assert_str_eq(a.signature, b.signature);
	sigv4_result_free(&b);
	/* Each of secret, date, region and service changes the signature. */
	p.creds.secret_access_key = "other";
	ck_assert_int_eq(sigv4_sign_headers(&rq, &p, &b), 0);
	ck_assert_str_ne(a.signature, b.signature);
	sigv4_result_free(&b);
	base_request(&rq, &p);
	p.amz_date = "20260101T000001Z";
	ck_assert_int_eq(sigv4_sign_headers(&rq, &p, &b), 0);
	ck_assert_str_ne(a.signature, b.signature);
	sigv4_result_free(&b);
	base_request(&rq, &p);
	p.region = "eu-west-2";
	ck_assert_int_eq(sigv4_sign_headers(&rq, &p, &b), 0);
	ck_assert_str_ne(a.signature, b.signature);
	sigv4_result_free(&b);
	sigv4_result_free(&a);
}
END_TEST

START_TEST(test_result_free_is_safe)
{
	struct sigv4_result res;

	memset(&res, 0, sizeof res);
	sigv4_result_free(NULL);
	sigv4_result_free(&res);
	sigv4_result_free(&res);
	ck_assert_ptr_null(res.canonical_request.data);
}
END_TEST

START_TEST(test_long_inputs_not_truncated)
{
	struct sigv4_request rq;
	struct sigv4_params p;
	struct sigv4_result res;
	struct buf path = BUF_INIT, val = BUF_INIT, q = BUF_INIT, secret = BUF_INIT;
	struct sigv4_header h[2] = { { "Host", "h" }, { "X-Long", NULL } };
	int i;

	for (i = 0; i < 5000; i++) {
		buf_appends(&path, "/seg");
		buf_appends(&val, "v ");
		buf_printf(&q, "k%d=%d&", 4999 - i, i);
		buf_appendc(&secret, 'S');
	}
	h[1].value = val.data;
	base_request(&rq, &p);
	rq.path = path.data;
	rq.query = q.data;
	rq.headers = h;
	rq.nheaders = 2;
	p.creds.secret_access_key = secret.data;	/* longer than an HMAC block */
	ck_assert_int_eq(sigv4_sign_headers(&rq, &p, &res), 0);
	ck_assert_ptr_nonnull(strstr(res.canonical_request.data, path.data));
	ck_assert_uint_gt(res.canonical_request.len, path.len + val.len + q.len - 5000);
	sigv4_result_free(&res);
	buf_free(&path);
	buf_free(&val);
	buf_free(&q);
	buf_free(&secret);
}
END_TEST

/* ---------------------------------------------------------------- failures */

enum field {
	F_NONE, F_METHOD, F_PATH, F_QUERY, F_HOST, F_HEADER, F_DATE, F_REGION, F_SERVICE,
	F_AK, F_SK, F_TOKEN, F_HASH, F_PAYLOAD, F_BODY_LEN,
};

struct bad_case {
	const char	*name;
	enum field	 f;
	const char	*v;		/* the new value (F_HEADER: the name) */
	const char	*v2;		/* F_HEADER: the value */
	bool		 presign;
	long		 expires;	/* when presigning */
	bool		 add_sha;
	const char	*want;		/* a substring of res.error */
};

static const struct bad_case bad_cases[] = {
	{ "bad_missing_host", F_HOST, NULL, NULL, false, 0, false, "Host" },
	{ "bad_missing_host_presign", F_HOST, NULL, NULL, true, 60, false, "Host" },
	{ "bad_empty_host", F_HOST, "  ", NULL, false, 0, false, "Host" },
	{ "bad_date_empty", F_DATE, "", NULL, false, 0, false, "date" },
	{ "bad_date_null", F_DATE, NULL, NULL, false, 0, false, "date" },
	{ "bad_date_iso_dashes", F_DATE, "2015-08-30T12:36:00Z", NULL, false, 0, false, "date" },
	{ "bad_date_no_z", F_DATE, "20150830T123600", NULL, false, 0, false, "date" },
	{ "bad_date_month_13", F_DATE, "20151330T123600Z", NULL, false, 0, false, "date" },
	{ "bad_date_feb_30", F_DATE, "20150230T123600Z", NULL, false, 0, false, "date" },
	{ "bad_date_feb_29_not_leap", F_DATE, "21000229T000000Z", NULL, false, 0, false, "date" },
	{ "bad_date_hour_24", F_DATE, "20150830T243600Z", NULL, false, 0, false, "date" },
	{ "bad_date_second_60", F_DATE, "20150830T123660Z", NULL, false, 0, false, "date" },
	{ "bad_date_letters", F_DATE, "2015083OT123600Z", NULL, false, 0, false, "date" },
	{ "bad_expires_zero", F_NONE, NULL, NULL, true, 0, false, "expiry" },
	{ "bad_expires_negative", F_NONE, NULL, NULL, true, -5, false, "expiry" },
	{ "bad_expires_over_a_week", F_NONE, NULL, NULL, true, 604801, false, "expiry" },
	{ "bad_presign_with_content_sha256", F_NONE, NULL, NULL, true, 60, true, "presigned" },
	{ "bad_method_empty", F_METHOD, "", NULL, false, 0, false, "method" },
	{ "bad_method_space", F_METHOD, "GE T", NULL, false, 0, false, "method" },
	{ "bad_path_relative", F_PATH, "a/b", NULL, false, 0, false, "path" },
	{ "bad_path_empty", F_PATH, "", NULL, false, 0, false, "path" },
	{ "bad_path_with_query", F_PATH, "/a?b=c", NULL, false, 0, false, "path" },
	{ "bad_path_newline", F_PATH, "/a\r\nX: y", NULL, false, 0, false, "path" },
	{ "bad_query_fragment", F_QUERY, "a=1#frag", NULL, false, 0, false, "query" },
	{ "bad_query_signature_param",
	    F_QUERY, "X-Amz-Signature=abc", NULL, false, 0, false, "X-Amz" },
	{ "bad_query_encoded_date_param",
	    F_QUERY, "x-amz-%64ate=1", NULL, true, 60, false, "X-Amz" },
	{ "bad_header_name_space", F_HEADER, "Bad Name", "v", false, 0, false, "header name" },
	{ "bad_header_name_colon", F_HEADER, "a:b", "v", false, 0, false, "header name" },
	{ "bad_header_name_empty", F_HEADER, "", "v", false, 0, false, "header name" },
	{ "bad_header_x_amz_date_given",
	    F_HEADER, "X-Amz-Date", "20150830T123600Z", false, 0, false,
	  "signer" },
	{ "bad_header_authorization_given",
	    F_HEADER, "authorization", "x", false, 0, false, "signer" },
	{ "bad_header_token_given",
	    F_HEADER, "x-amz-security-token", "x", false, 0, false, "signer" },
	{ "bad_header_content_sha256_twice", F_HEADER, "x-amz-content-sha256", EMPTY_SHA256,
	  false, 0, true, "add_content_sha256" },
	{ "bad_header_content_sha256_mismatch", F_HEADER, "x-amz-content-sha256",
	  "UNSIGNED-PAYLOAD", false, 0, false, "differs" },
	{ "bad_region_empty", F_REGION, "", NULL, false, 0, false, "region" },
	{ "bad_region_slash", F_REGION, "us/east", NULL, false, 0, false, "region" },
	{ "bad_service_space", F_SERVICE, "s 3", NULL, false, 0, false, "service" },
	{ "bad_access_key_null", F_AK, NULL, NULL, false, 0, false, "access key" },
	{ "bad_access_key_comma", F_AK, "AK,ID", NULL, false, 0, false, "access key" },
	{ "bad_secret_empty", F_SK, "", NULL, false, 0, false, "secret" },
	{ "bad_token_newline", F_TOKEN, "tok\nX-Evil: 1", NULL, false, 0, false, "token" },
	{ "bad_hash_uppercase",
	    F_HASH, "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
	  NULL, false, 0, false, "payload hash" },
	{ "bad_hash_short", F_HASH, "e3b0", NULL, false, 0, false, "payload hash" },
	{ "bad_hash_null", F_HASH, NULL, NULL, false, 0, false, "payload hash" },
	{ "bad_payload_kind", F_PAYLOAD, NULL, NULL, false, 0, false, "payload" },
	{ "bad_body_null_with_length", F_BODY_LEN, NULL, NULL, false, 0, false, "body" },
};

START_TEST(test_bad_input)
{
	const struct bad_case *c = &bad_cases[_i];
	struct sigv4_header h[4];
	struct sigv4_request rq;
	struct sigv4_params p;
	struct sigv4_result res;
	int rc;

	base_request(&rq, &p);
	memcpy(h, base_headers, sizeof base_headers);
	rq.headers = h;
	switch (c->f) {
	case F_NONE:
		break;
	case F_METHOD:
		rq.method = c->v;
		break;
	case F_PATH:
		rq.path = c->v;
		break;
	case F_QUERY:
		rq.query = c->v;
		break;
	case F_HOST:
		if (c->v == NULL) {
			h[0] = h[2];
			rq.nheaders = 2;
		} else
			h[0].value = c->v;
		break;
	case F_HEADER:
		h[3].name = c->v;
		h[3].value = c->v2;
		rq.nheaders = 4;
		break;
	case F_DATE:
		p.amz_date = c->v;
		break;
	case F_REGION:
		p.region = c->v;
		break;
	case F_SERVICE:
		p.service = c->v;
		break;
	case F_AK:
		p.creds.access_key_id = c->v;
		break;
	case F_SK:
		p.creds.secret_access_key = c->v;
		break;
	case F_TOKEN:
		p.creds.session_token = c->v;
		break;
	case F_HASH:
		rq.payload = SIGV4_PAYLOAD_PRECOMPUTED;
		rq.payload_hash = c->v;
		break;
	case F_PAYLOAD:
		rq.payload = (enum sigv4_payload)42;
		break;
	case F_BODY_LEN:
		rq.body = NULL;
		rq.body_len = 3;
		break;
	}
	p.add_content_sha256 = c->add_sha;
	rc = c->presign ? sigv4_presign(&rq, &p, c->expires, &res) :
	    sigv4_sign_headers(&rq, &p, &res);
	ck_assert_msg(rc == -1, "%s: signed anyway", c->name);
	ck_assert_ptr_nonnull(res.error);
	ck_assert_msg(c->want == NULL || strstr(res.error, c->want) != NULL,
	    "%s: error \"%s\" does not mention \"%s\"", c->name, res.error, c->want);
	ck_assert_str_eq(res.signature, "");
	ck_assert_uint_eq(res.nadded, 0);
	sigv4_result_free(&res);
}
END_TEST

/* ---------------------------------------------------------------- fileshare-admin sigv4 */

static const char *
write_tmp(const char *name, const char *content, size_t len)
{
	const char *path = tu_path(name);
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(content, 1, len, f), len);
	fclose(f);
	return path;
}

#define DOC_ARGS "--region", "us-east-1", "--service", "s3", "--date", "20130524T000000Z", \
	"--access-key", DOC_AK, "--secret-key", DOC_SK

START_TEST(test_admin_s3_presigned_url)
{
	static const char req[] = "GET /test.txt HTTP/1.1\nHost: examplebucket.s3.amazonaws.com\n";
	const char *path = write_tmp("presign.req", req, sizeof req - 1);
	const char *args[] = { "--request", path, DOC_ARGS, "--presign", "86400",
	    "--no-normalize", NULL };
	struct buf out = BUF_INIT, err = BUF_INIT;

	ck_assert_int_eq(run_admin(args, &out, &err), 0);
	ck_assert_str_eq(out.data, "GET /test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&"
	    "X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&"
	    "X-Amz-Date=20130524T000000Z&X-Amz-SignedHeaders=host&X-Amz-Expires=86400&"
	    "X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404 "
	    "HTTP/1.1\nHost: examplebucket.s3.amazonaws.com\n\n");
	buf_free(&out);
	buf_free(&err);
}
END_TEST

START_TEST(test_admin_s3_get_object_crlf)
{
	static const char req[] = "GET /test.txt HTTP/1.1\r\nHost: examplebucket.s3.amazonaws.com"
	    "\r\nRange: bytes=0-9\r\n\r\n";
	const char *path = write_tmp("get.req", req, sizeof req - 1);
	const char *args[] = { "--request", path, DOC_ARGS, "--no-normalize", "--sign-body",
	    NULL };
	struct buf out = BUF_INIT, err = BUF_INIT;

	ck_assert_int_eq(run_admin(args, &out, &err), 0);
	ck_assert_str_eq(out.data, "GET /test.txt HTTP/1.1\r\n"
	    "Host: examplebucket.s3.amazonaws.com\r\nRange: bytes=0-9\r\n"
	    "X-Amz-Date:20130524T000000Z\r\nx-amz-content-sha256:" EMPTY_SHA256 "\r\n"
	    "Authorization:AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/"
	    "s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
	    "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41\r\n\r\n");
	buf_free(&out);
	buf_free(&err);
}
END_TEST

/* An x-amz-content-sha256 header in the file is the payload hash; --sign-body adds nothing. */
START_TEST(test_admin_content_sha256_in_file)
{
	static const char req[] = "PUT /k HTTP/1.1\nHost: b.s3.amazonaws.com\n"
	    "X-Amz-Content-Sha256:  UNSIGNED-PAYLOAD \n\nbody bytes";
	const char *path = write_tmp("put.req", req, sizeof req - 1);
	const char *args[] = { "--request", path, DOC_ARGS, "--no-normalize", "--sign-body",
	    "--show", "canonical-request", NULL };
	struct buf out = BUF_INIT, err = BUF_INIT;

	ck_assert_int_eq(run_admin(args, &out, &err), 0);
	ck_assert_str_eq(out.data, "PUT\n/k\n\nhost:b.s3.amazonaws.com\n"
	    "x-amz-content-sha256:UNSIGNED-PAYLOAD\nx-amz-date:20130524T000000Z\n\n"
	    "host;x-amz-content-sha256;x-amz-date\nUNSIGNED-PAYLOAD\n");
	buf_free(&out);
	buf_free(&err);
}
END_TEST

START_TEST(test_admin_reads_stdin)
{
	static const char req[] = "POST / HTTP/1.1\nHost: h\n\n{}";
	const char *path = write_tmp("stdin.req", req, sizeof req - 1);
	const char *args[] = { "--request", "-", DOC_ARGS, "--show", "signature", NULL };
	struct buf out = BUF_INIT, err = BUF_INIT, out2 = BUF_INIT;
	const char *args2[] = { "--request", path, DOC_ARGS, "--show", "signature", NULL };
	FILE *f = fopen(path, "rb");
	int saved = dup(0);

	ck_assert_ptr_nonnull(f);
	dup2(fileno(f), 0);
	clearerr(stdin);
	ck_assert_int_eq(run_admin(args, &out, &err), 0);
	dup2(saved, 0);
	close(saved);
	fclose(f);
	ck_assert_uint_eq(out.len, 65);
	ck_assert_int_eq(run_admin(args2, &out2, &err), 0);
	ck_assert_str_eq(out.data, out2.data);
	buf_free(&out);
	buf_free(&out2);
	buf_free(&err);
}
END_TEST

/* Usage errors: exit 2, usage on stderr, nothing on stdout, and never the secret. */
struct admin_bad {
	const char	*name;
	const char	*args[24];
	int		 status;
	const char	*want;		/* a substring of stderr */
};

#define REQ_ARGS "--request", "REQ"
#define SECRET "s3cr3t-do-not-print"
static const struct admin_bad admin_bad_cases[] = {
	{ "bad_no_arguments", { NULL }, 2, "usage:" },
	{ "bad_missing_region", { REQ_ARGS, "--service", "s3", "--date", "20130524T000000Z",
	  "--access-key", "AK", "--secret-key", SECRET, NULL }, 2, "required" },
	{ "bad_missing_secret", { REQ_ARGS, "--region", "r", "--service", "s3", "--date",
	  "20130524T000000Z", "--access-key", "AK", NULL }, 2, "required" },
	{ "bad_option_without_value", { REQ_ARGS, "--region", "r", "--service", "s3", "--date",
	  "20130524T000000Z", "--access-key", "AK", "--secret-key", NULL }, 2, "missing its value" },
	{ "bad_unknown_option", { REQ_ARGS, "--region", "r", "--service", "s3", "--date",
	  "20130524T000000Z", "--access-key", "AK", "--secret-key", SECRET, SECRET, NULL }, 2,
	  "unknown option" },
	{ "bad_show", { REQ_ARGS, "--region", "r", "--service", "s3", "--date",
	  "20130524T000000Z", "--access-key", "AK", "--secret-key", SECRET, "--show", "key",
	  NULL }, 2, "--show" },
	{ "bad_presign_zero", { REQ_ARGS, "--region", "r", "--service", "s3", "--date",
	  "20130524T000000Z", "--access-key", "AK", "--secret-key", SECRET, "--presign", "0",
	  NULL }, 2, "--presign" },
	{ "bad_presign_too_long", { REQ_ARGS, "--region", "r", "--service", "s3", "--date",
	  "20130524T000000Z", "--access-key", "AK", "--secret-key", SECRET, "--presign",
	  "604801", NULL }, 2, "--presign" },
	{ "bad_presign_not_a_number", { REQ_ARGS, "--region", "r", "--service", "s3", "--date",
	  "20130524T000000Z", "--access-key", "AK", "--secret-key", SECRET, "--presign", "1h",
	  NULL }, 2, "--presign" },
	{ "bad_presign_with_sign_body", { REQ_ARGS, "--region", "r", "--service", "s3", "--date",
	  "20130524T000000Z", "--access-key", "AK", "--secret-key", SECRET, "--presign", "60",
	  "--sign-body", NULL }, 2, "--sign-body" },
	{ "bad_date", { REQ_ARGS, "--region", "r", "--service", "s3", "--date",
	  "2013-05-24T00:00:00Z", "--access-key", "AK", "--secret-key", SECRET, NULL }, 1,
	  "date" },
	{ "bad_request_file_missing", { "--request", "/nonexistent/req", "--region", "r",
	  "--service", "s3", "--date", "20130524T000000Z", "--access-key", "AK", "--secret-key",
	  SECRET, NULL }, 1, "/nonexistent/req" },
};

START_TEST(test_admin_bad)
{
	const struct admin_bad *c = &admin_bad_cases[_i];
	static const char req[] = "GET / HTTP/1.1\nHost: h\n";
	const char *path = write_tmp("bad.req", req, sizeof req - 1);
	const char *args[24];
	struct buf out = BUF_INIT, err = BUF_INIT;
	size_t i;

	for (i = 0; c->args[i] != NULL; i++)
		args[i] = strcmp(c->args[i], "REQ") ? c->args[i] : path;
	args[i] = NULL;
	ck_assert_int_eq(run_admin(args, &out, &err), c->status);
	ck_assert_msg(strstr(err.data, c->want) != NULL, "%s: stderr lacks \"%s\": %s", c->name,
	    c->want, err.data);
	ck_assert_ptr_null(strstr(err.data, SECRET));
	ck_assert_ptr_null(strstr(out.data, SECRET));
	ck_assert_uint_eq(out.len, 0);
	buf_free(&out);
	buf_free(&err);
}
END_TEST

/* Requests the command cannot parse or sign: exit 1 with the reason. */
static const struct {
	const char	*name;
	const char	*req;
	const char	*want;
} admin_bad_requests[] = {
	{ "bad_request_line", "GET /\nHost: h\n", "first line" },
	{ "bad_request_no_target", "GET HTTP/1.1\nHost: h\n", "first line" },
	{ "bad_request_header_without_colon", "GET / HTTP/1.1\nHost h\n", "':'" },
	{ "bad_request_continuation_first", "GET / HTTP/1.1\n  folded\nHost: h\n",
	  "continuation" },
	{ "bad_request_no_host", "GET / HTTP/1.1\nX-A: b\n", "Host" },
	{ "bad_request_two_content_sha256", "GET / HTTP/1.1\nHost: h\nx-amz-content-sha256: a\n"
	  "X-Amz-Content-Sha256: b\n", "more than one" },
	{ "bad_request_content_sha256_garbage", "GET / HTTP/1.1\nHost: h\n"
	  "x-amz-content-sha256: xyz\n", "payload hash" },
	{ "bad_request_x_amz_date_present", "GET / HTTP/1.1\nHost: h\nX-Amz-Date: 1\n",
	  "signer" },
};

START_TEST(test_admin_bad_request)
{
	const char *req = admin_bad_requests[_i].req;
	const char *path = write_tmp("badreq.req", req, strlen(req));
	const char *args[] = { "--request", path, DOC_ARGS, NULL };
	struct buf out = BUF_INIT, err = BUF_INIT;

	ck_assert_int_eq(run_admin(args, &out, &err), 1);
	ck_assert_msg(strstr(err.data, admin_bad_requests[_i].want) != NULL,
	    "%s: stderr: %s", admin_bad_requests[_i].name, err.data);
	ck_assert_ptr_null(strstr(err.data, DOC_SK));
	ck_assert_uint_eq(out.len, 0);
	buf_free(&out);
	buf_free(&err);
}
END_TEST

START_TEST(test_admin_help)
{
	const char *args[] = { "--help", NULL };
	struct buf out = BUF_INIT, err = BUF_INIT;

	ck_assert_int_eq(run_admin(args, &out, &err), 0);
	ck_assert_ptr_nonnull(strstr(out.data, "--no-normalize"));
	ck_assert_ptr_nonnull(strstr(out.data, "payload hash"));
	buf_free(&out);
	buf_free(&err);
}
END_TEST

static Suite *
sigv4_suite(void)
{
	Suite *s = suite_create("sigv4");
	TCase *tc;

	tc = tcase_create("aws_test_suite");
	tcase_set_timeout(tc, TU_TIMEOUT);
	if (find_suite() == 0) {
		tcase_add_loop_test(tc, test_aws_suite_case, 0, ncases);
		tcase_add_loop_test(tc, test_aws_suite_case_admin, 0, ncases);
		printf("check_sigv4: AWS SigV4 test suite: %d cases in %s\n", ncases, suite_dir);
	} else
		printf("check_sigv4: AWS SigV4 test suite not found (set SIGV4_TEST_SUITE or put "
		    "it in ../shared/testdata/aws-sigv4-test-suite/v4): skipped\n");
	suite_add_tcase(s, tc);

	tc = tcase_create("aws_doc_examples");
	tcase_add_loop_test(tc, test_doc_examples, 0, sizeof doc_cases / sizeof doc_cases[0]);
	suite_add_tcase(s, tc);

	tc = tcase_create("canonical");
	tcase_add_loop_test(tc, test_canonical, 0, sizeof canon_cases / sizeof canon_cases[0]);
	suite_add_tcase(s, tc);

	tc = tcase_create("result");
	tcase_add_test(tc, test_result_fields_dynamodb);
	tcase_add_test(tc, test_session_token_header);
	tcase_add_test(tc, test_presign_with_token_and_query);
	tcase_add_test(tc, test_payload_variants);
	tcase_add_test(tc, test_sha256_hex);
	tcase_add_test(tc, test_deterministic_and_sensitive);
	tcase_add_test(tc, test_result_free_is_safe);
	tcase_add_test(tc, test_long_inputs_not_truncated);
	suite_add_tcase(s, tc);

	tc = tcase_create("bad_input");
	tcase_add_loop_test(tc, test_bad_input, 0, sizeof bad_cases / sizeof bad_cases[0]);
	suite_add_tcase(s, tc);

	tc = tcase_create("admin");
	tcase_add_checked_fixture(tc, tu_setup, tu_teardown);
	tcase_set_timeout(tc, TU_TIMEOUT);
	tcase_add_test(tc, test_admin_s3_presigned_url);
	tcase_add_test(tc, test_admin_s3_get_object_crlf);
	tcase_add_test(tc, test_admin_content_sha256_in_file);
	tcase_add_test(tc, test_admin_reads_stdin);
	tcase_add_test(tc, test_admin_help);
	tcase_add_loop_test(tc, test_admin_bad, 0,
	    sizeof admin_bad_cases / sizeof admin_bad_cases[0]);
	tcase_add_loop_test(tc, test_admin_bad_request, 0,
	    sizeof admin_bad_requests / sizeof admin_bad_requests[0]);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(sigv4_suite());
	int failed, i;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	for (i = 0; i < ncases; i++)
		free(case_names[i]);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
