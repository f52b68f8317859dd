/*
 * fuzz_sigv4: SigV4 canonicalisation and signing (src/aws/sigv4.c) with a fuzzed method,
 * path, query, headers and body, in both modes (Authorization header; presigned query) and
 * with the S3 flags on or off.
 *
 * Input: a flags byte, then lines: method, path, query, headers ("Name: value", up to an
 * empty line), and the body (the rest).
 * Checks, beyond no crash or leak: a refusal says why; a signature is 64 lower-case hex
 * digits; the canonical request has one line per signed header plus five, and its path and
 * query lines hold only unreserved characters, '/', '&', '=' and well-formed escapes;
 * signing is deterministic, and the order of distinct headers does not change the signature;
 * a presigned query ends with the signature.
 */
#include <ctype.h>

#include "fuzz.h"

#include "aws/sigv4.h"

#define MAX_HEADERS 12

static bool
canon_chars_ok(const char *s, size_t n, const char *extra)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			if (i + 2 >= n)
				return false;
			if (!isxdigit((unsigned char)s[i + 1]) || !isxdigit((unsigned char)s[i + 2]) ||
			    islower((unsigned char)s[i + 1]) || islower((unsigned char)s[i + 2]))
				return false;
			i += 2;
			continue;
		}
		if (!isalnum(c) && !strchr("-_.~", c) && !strchr(extra, c))
			return false;
	}
	return true;
}

static void
check_result(const struct sigv4_result *r, bool presign, bool s3)
{
	const char *cr = r->canonical_request.data, *nl1, *nl2, *nl3;
	size_t i, lines = 0, semis = 0;

	FUZZ_CHECK(strlen(r->signature) == SIGV4_HEX_LEN);
	for (i = 0; i < SIGV4_HEX_LEN; i++)
		FUZZ_CHECK(isdigit((unsigned char)r->signature[i]) ||
		    (r->signature[i] >= 'a' && r->signature[i] <= 'f'));
	for (i = 0; i < r->canonical_request.len; i++) {
		FUZZ_CHECK(cr[i] != '\r');
		lines += cr[i] == '\n';
	}
	for (i = 0; i < r->signed_headers.len; i++)
		semis += r->signed_headers.data[i] == ';';
	FUZZ_CHECK(lines == 5 + semis + 1);
	nl1 = strchr(cr, '\n');
	nl2 = strchr(nl1 + 1, '\n');
	nl3 = strchr(nl2 + 1, '\n');
	FUZZ_CHECK(nl1[1] == '/');
	if (!s3)	/* S3 keeps the path as sent, escapes and all */
		FUZZ_CHECK(canon_chars_ok(nl1 + 1, (size_t)(nl2 - nl1 - 1), "/"));
	FUZZ_CHECK(canon_chars_ok(nl2 + 1, (size_t)(nl3 - nl2 - 1), "&="));
	if (presign) {
		const char *q = r->presigned_query.data, *sig = NULL, *at;

		/* The last one is ours (the caller's query may hold anything before it). */
		for (at = q; (at = strstr(at, "&X-Amz-Signature=")) != NULL; at++)
			sig = at;
		FUZZ_CHECK(sig != NULL && !strcmp(sig + 17, r->signature));
		FUZZ_CHECK(r->nadded == 0);
	} else {
		FUZZ_CHECK(r->nadded >= 2 && r->nadded <= SIGV4_MAX_ADDED);
		for (i = 0; i < r->nadded; i++)
			FUZZ_CHECK(!fuzz_has_crlf_nul(r->added[i].value, strlen(r->added[i].value)));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t flags = fuzz_byte(&in);
	char *method = fuzz_line_dup(&in), *path = fuzz_line_dup(&in), *query = fuzz_line_dup(&in);
	char *lines[MAX_HEADERS], *body;
	struct sigv4_header h[MAX_HEADERS + 1], rev[MAX_HEADERS + 1];
	struct sigv4_request rq;
	struct sigv4_params p;
	struct sigv4_result r1, r2, r3;
	size_t nh = 0, i, j, blen;
	bool s3 = flags & 1, presign = flags & 2, distinct = true;
	int rc;

	h[nh].name = "Host";
	h[nh++].value = s3 ? "bucket.s3.us-east-1.amazonaws.com" : "dynamodb.us-east-1.amazonaws.com";
	for (i = 0; i < MAX_HEADERS; i++) {
		char *colon;

		lines[i] = fuzz_line_dup(&in);
		if (lines[i][0] == '\0') {
			free(lines[i]);
			break;
		}
		colon = strchr(lines[i], ':');
		h[nh].name = lines[i];
		h[nh].value = colon ? colon + 1 : "";
		if (colon)
			*colon = '\0';
		nh++;
	}
	body = fuzz_rest_dup(&in, &blen);

	memset(&rq, 0, sizeof rq);
	rq.method = method;
	rq.path = path;
	rq.query = (flags & 4) ? NULL : query;
	rq.headers = h;
	rq.nheaders = nh;
	rq.body = body;
	rq.body_len = blen;
	rq.payload = s3 && (flags & 8) ? SIGV4_PAYLOAD_UNSIGNED : SIGV4_PAYLOAD_BODY;
	memset(&p, 0, sizeof p);
	p.region = "us-east-1";
	p.service = s3 ? "s3" : "dynamodb";
	p.amz_date = "20260101T000000Z";
	p.creds.access_key_id = "AKIDEXAMPLE";
	p.creds.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
	p.creds.session_token = (flags & 16) ? "IQoJb3JpZ2luX2VjEXAMPLETOKEN" : NULL;
	p.no_normalize_path = s3;
	p.no_double_encode = s3;
	p.add_content_sha256 = s3 && !presign && (flags & 32);
	p.session_token_unsigned = (flags & 64) != 0;

	rc = presign ? sigv4_presign(&rq, &p, 1 + (flags >> 7) * 3599, &r1) :
	    sigv4_sign_headers(&rq, &p, &r1);
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc == -1)
		FUZZ_CHECK(r1.error != NULL && r1.error[0] != '\0');
	else {
		check_result(&r1, presign, s3);
		/* Deterministic. */
		FUZZ_CHECK((presign ? sigv4_presign(&rq, &p, 1 + (flags >> 7) * 3599, &r2) :
		    sigv4_sign_headers(&rq, &p, &r2)) == 0);
		FUZZ_CHECK(!strcmp(r1.signature, r2.signature));
		sigv4_result_free(&r2);
		/* Distinct header names: their order does not matter. */
		for (i = 0; i < nh && distinct; i++)
			for (j = i + 1; j < nh; j++)
				if (!strcasecmp(h[i].name, h[j].name))
					distinct = false;
		if (distinct) {
			for (i = 0; i < nh; i++)
				rev[i] = h[nh - 1 - i];
			rq.headers = rev;
			FUZZ_CHECK((presign ? sigv4_presign(&rq, &p, 1 + (flags >> 7) * 3599, &r3) :
			    sigv4_sign_headers(&rq, &p, &r3)) == 0);
			FUZZ_CHECK(!strcmp(r1.signature, r3.signature));
			sigv4_result_free(&r3);
		}
	}
	sigv4_result_free(&r1);
	for (i = 1; i < nh; i++)
		free((char *)h[i].name);
	free(body);
	free(method);
	free(path);
	free(query);
	return 0;
}
