/*
 * admin_sigv4: `fileshare-admin sigv4`, SigV4 debugging. Signs a raw HTTP request read from a
 * file (the format of AWS's test suite: request line, header lines with continuation lines
 * starting with whitespace, blank line, body) and prints one intermediate or the signed
 * request. No configuration, clock or network: everything comes from the command line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "admin.h"
#include "aws/sigv4.h"
#include "buf.h"
#include "num.h"
#include "xmalloc.h"

static const char usage_text[] =
"usage: fileshare-admin sigv4 --request FILE --region R --service S --date YYYYMMDDTHHMMSSZ\n"
"           --access-key AK --secret-key SK [--session-token T] [--presign SECONDS]\n"
"           [--no-normalize] [--sign-body]\n"
"           [--show canonical-request|string-to-sign|signature|signed-request]\n"
"\n"
"Signs the raw HTTP request in FILE ('-' for stdin) with AWS Signature Version 4.\n"
"  --presign SECONDS  sign in the query string (a presigned URL valid 1..604800 s)\n"
"                     instead of adding an Authorization header\n"
"  --no-normalize     S3 mode: the path is neither normalised nor encoded again\n"
"  --sign-body        add (and sign) an x-amz-content-sha256 header with the payload\n"
"                     hash, as S3 requires; not with --presign\n"
"  --show WHAT        what to print (default signed-request: the request as it would be\n"
"                     sent, with X-Amz-Date and Authorization added, or with --presign\n"
"                     the signed query on the request line)\n"
"The payload hash is the SHA-256 of the body, as in AWS's test suite, unless the request\n"
"carries an x-amz-content-sha256 header (a hex SHA-256 or UNSIGNED-PAYLOAD), whose value\n"
"is then used (and --sign-body has nothing to add); with --presign --service s3 (an S3\n"
"presigned URL, whose payload is not known in advance) it is UNSIGNED-PAYLOAD.\n"
"canonical-request, string-to-sign and signature are printed with one newline added;\n"
"signed-request exactly, body included.\n";

/* The request as read: pointers into the file's bytes, plus the parsed header list. */
struct rawreq {
	struct buf	 file;
	char		*method;
	char		*target;	/* path[?query] */
	char		*version;
	const char	*eol;		/* "\r\n" or "\n", as the request line ends */
	const char	*hdr_start;	/* the header lines, verbatim */
	size_t		 hdr_len;
	const char	*body;
	size_t		 body_len;
	struct sigv4_header *headers;
	size_t		 nheaders;
	char		**owned;	/* strings the headers point at */
	size_t		 nowned;
};

static void
rawreq_free(struct rawreq *r)
{
	size_t i;

	for (i = 0; i < r->nowned; i++)
		free(r->owned[i]);
	free(r->owned);
	free(r->headers);
	free(r->method);
	free(r->target);
	free(r->version);
	buf_free(&r->file);
}

static char *
own(struct rawreq *r, char *s)
{
	r->owned = xrealloc(r->owned, (r->nowned + 1) * sizeof *r->owned);
	r->owned[r->nowned++] = s;
	return s;
}

static int
read_all(const char *path, struct buf *b)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	char chunk[8192];
	size_t n;
	int rc = 0;

	if (f == NULL) {
		fprintf(stderr, "fileshare-admin sigv4: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_append(b, chunk, n);
	if (ferror(f)) {
		fprintf(stderr, "fileshare-admin sigv4: %s: read error\n", path);
		rc = -1;
	}
	if (f != stdin)
		fclose(f);
	buf_append(b, "", 0);
	return rc;
}

/* Length of the line at p (up to end), without its "\n" or "\r\n"; *next is after it. */
static size_t
line_at(const char *p, const char *end, const char **next)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	size_t len;

	if (nl == NULL) {
		*next = end;
		return (size_t)(end - p);
	}
	*next = nl + 1;
	len = (size_t)(nl - p);
	if (len > 0 && p[len - 1] == '\r')
		len--;
	return len;
}

/*
 * Parses the request line ("METHOD TARGET HTTP/x.y"; the target may hold spaces, as in AWS's
 * get-space cases), the headers (a line starting with space or tab continues the previous
 * value, newline included, so the signer folds it) and the body after the first empty line.
 */
static int
parse_request(struct rawreq *r)
{
	const char *p = r->file.data, *end = p + r->file.len, *next, *sp1, *sp2, *colon;
	size_t len, cap = 0;
	struct buf v = BUF_INIT;

	len = line_at(p, end, &next);
	sp1 = memchr(p, ' ', len);
	for (sp2 = p + len; sp2 > p && sp2[-1] != ' '; sp2--)
		;
	if (sp1 == NULL || sp2 - 1 <= sp1 + 1 || strncmp(sp2, "HTTP/", 5) != 0) {
		fprintf(stderr, "fileshare-admin sigv4: the first line is not "
		    "\"METHOD PATH HTTP/1.1\"\n");
		return -1;
	}
	r->method = xstrndup(p, (size_t)(sp1 - p));
	r->target = xstrndup(sp1 + 1, (size_t)(sp2 - 1 - (sp1 + 1)));
	r->version = xstrndup(sp2, (size_t)(p + len - sp2));
	r->eol = (next > p + len + 1) ? "\r\n" : "\n";
	p = r->hdr_start = next;
	while (p < end) {
		len = line_at(p, end, &next);
		if (len == 0)
			break;
		if (*p == ' ' || *p == '\t') {
			if (r->nheaders == 0) {
				fprintf(stderr, "fileshare-admin sigv4: continuation line before "
				    "any header\n");
				goto fail;
			}
			buf_reset(&v);
			buf_appends(&v, r->headers[r->nheaders - 1].value);
			buf_appendc(&v, '\n');
			buf_append(&v, p, len);
			r->headers[r->nheaders - 1].value = own(r, buf_detach(&v));
		} else {
			if ((colon = memchr(p, ':', len)) == NULL) {
				fprintf(stderr, "fileshare-admin sigv4: header line without ':'\n");
				goto fail;
			}
			if (r->nheaders == cap) {
				cap = cap ? cap * 2 : 16;
				r->headers = xrealloc(r->headers, cap * sizeof *r->headers);
			}
			r->headers[r->nheaders].name = own(r, xstrndup(p, (size_t)(colon - p)));
			r->headers[r->nheaders].value = own(r, xstrndup(colon + 1,
			    (size_t)(p + len - colon - 1)));
			r->nheaders++;
		}
		p = next;
	}
	r->hdr_len = (size_t)(p - r->hdr_start);
	if (p < end) {		/* the empty line: the body follows it */
		line_at(p, end, &next);
		r->body = next;
		r->body_len = (size_t)(end - next);
	} else {
		r->body = end;
		r->body_len = 0;
	}
	buf_free(&v);
	return 0;
fail:
	buf_free(&v);
	return -1;
}

/* The request as it would be sent: headers verbatim, the signer's appended, then the body. */
static void
print_signed_request(const struct rawreq *r, const char *path, const struct sigv4_result *res,
    long presign)
{
	struct buf out = BUF_INIT;
	size_t i;

	if (presign)
		buf_printf(&out, "%s %s?%s %s%s", r->method, path, res->presigned_query.data,
		    r->version, r->eol);
	else
		buf_printf(&out, "%s %s %s%s", r->method, r->target, r->version, r->eol);
	buf_append(&out, r->hdr_start, r->hdr_len);
	if (r->hdr_len > 0 && r->hdr_start[r->hdr_len - 1] != '\n')
		buf_appends(&out, r->eol);
	for (i = 0; i < res->nadded; i++)
		buf_printf(&out, "%s:%s%s", res->added[i].name, res->added[i].value, r->eol);
	buf_appends(&out, r->eol);
	buf_append(&out, r->body, r->body_len);
	fwrite(out.data, 1, out.len, stdout);
	buf_free(&out);
}

static int
usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "fileshare-admin sigv4: %s\n", why);
	fputs(usage_text, stderr);
	return 2;
}

/* sigv4 ...: 0 and the requested output; 2 on bad arguments; 1 if the request cannot be signed. */
int
admin_sigv4(const struct config *cfg, int argc, char **argv)
{
	const char *file = NULL, *show = "signed-request", *region = NULL, *service = NULL;
	const char *date = NULL, *ak = NULL, *sk = NULL, *token = NULL, *presign_arg = NULL;
	int no_normalize = 0, sign_body = 0, rc = 1, i;
	int64_t presign = 0;
	struct rawreq r;
	struct sigv4_request rq;
	struct sigv4_params p;
	struct sigv4_result res;
	char *path = NULL, *q;
	const char *sha_hdr = NULL;
	size_t k, nsha = 0;

	(void)cfg;
	memset(&r, 0, sizeof r);
	memset(&res, 0, sizeof res);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], **dst = NULL;

		if (!strcmp(a, "--no-normalize")) {
			no_normalize = 1;
			continue;
		}
		if (!strcmp(a, "--sign-body")) {
			sign_body = 1;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage_text, stdout);
			return 0;
		}
		if (!strcmp(a, "--request"))
			dst = &file;
		else if (!strcmp(a, "--region"))
			dst = &region;
		else if (!strcmp(a, "--service"))
			dst = &service;
		else if (!strcmp(a, "--date"))
			dst = &date;
		else if (!strcmp(a, "--access-key"))
			dst = &ak;
		else if (!strcmp(a, "--secret-key"))
			dst = &sk;
		else if (!strcmp(a, "--session-token"))
			dst = &token;
		else if (!strcmp(a, "--presign"))
			dst = &presign_arg;
		else if (!strcmp(a, "--show"))
			dst = &show;
		else {
			/* Not echoed: it could be a misplaced secret. */
			return usage("unknown option (see usage)");
		}
		if (i + 1 >= argc)
			return usage("an option is missing its value");
		*dst = argv[++i];
	}
	if (file == NULL || region == NULL || service == NULL || date == NULL || ak == NULL ||
	    sk == NULL)
		return usage("--request, --region, --service, --date, --access-key and "
		    "--secret-key are required");
	if (strcmp(show, "canonical-request") && strcmp(show, "string-to-sign") &&
	    strcmp(show, "signature") && strcmp(show, "signed-request"))
		return usage("--show takes canonical-request, string-to-sign, signature or "
		    "signed-request");
	if (presign_arg != NULL &&
	    num_parse_i64(presign_arg, 1, SIGV4_MAX_EXPIRES, &presign) == -1)
		return usage("--presign takes a number of seconds from 1 to 604800");
	if (presign && sign_body)
		return usage("--sign-body adds a header; a presigned URL has none to add");

	if (read_all(file, &r.file) == -1 || parse_request(&r) == -1)
		goto done;
	memset(&rq, 0, sizeof rq);
	memset(&p, 0, sizeof p);
	path = xstrdup(r.target);
	if ((q = strchr(path, '?')) != NULL)
		*q++ = '\0';
	rq.method = r.method;
	rq.path = path;
	rq.query = q;
	rq.headers = r.headers;
	rq.nheaders = r.nheaders;
	rq.body = r.body;
	rq.body_len = r.body_len;
	for (k = 0; k < r.nheaders; k++)
		if (!strcasecmp(r.headers[k].name, "x-amz-content-sha256")) {
			sha_hdr = r.headers[k].value;
			nsha++;
		}
	if (nsha > 1) {
		fprintf(stderr, "fileshare-admin sigv4: more than one x-amz-content-sha256 "
		    "header\n");
		goto done;
	}
	if (sha_hdr != NULL) {
		/* The service checks the payload against this header, so it is the payload hash. */
		size_t len;
		char *v;

		sha_hdr += strspn(sha_hdr, " \t\r\n");
		for (len = strlen(sha_hdr); len > 0 && strchr(" \t\r\n", sha_hdr[len - 1]); len--)
			;
		v = own(&r, xstrndup(sha_hdr, len));
		if (!strcmp(v, SIGV4_UNSIGNED_PAYLOAD))
			rq.payload = SIGV4_PAYLOAD_UNSIGNED;
		else {
			rq.payload = SIGV4_PAYLOAD_PRECOMPUTED;
			rq.payload_hash = v;	/* the signer refuses anything but 64 hex digits */
		}
		sign_body = 0;	/* the header is already there */
	} else if (presign && !strcmp(service, "s3"))
		rq.payload = SIGV4_PAYLOAD_UNSIGNED;
	else
		rq.payload = SIGV4_PAYLOAD_BODY;

	p.region = region;
	p.service = service;
	p.amz_date = date;
	p.creds.access_key_id = ak;
	p.creds.secret_access_key = sk;
	p.creds.session_token = token;
	p.no_normalize_path = p.no_double_encode = no_normalize != 0;
	p.add_content_sha256 = sign_body != 0;

	if ((presign ? sigv4_presign(&rq, &p, (long)presign, &res) :
	    sigv4_sign_headers(&rq, &p, &res)) == -1) {
		fprintf(stderr, "fileshare-admin sigv4: cannot sign: %s\n", res.error);
		goto done;
	}
	if (!strcmp(show, "canonical-request"))
		printf("%s\n", res.canonical_request.data);
	else if (!strcmp(show, "string-to-sign"))
		printf("%s\n", res.string_to_sign.data);
	else if (!strcmp(show, "signature"))
		printf("%s\n", res.signature);
	else
		print_signed_request(&r, path, &res, (long)presign);
	rc = fflush(stdout) == 0 ? 0 : 1;
done:
	sigv4_result_free(&res);
	free(path);
	rawreq_free(&r);
	return rc;
}
