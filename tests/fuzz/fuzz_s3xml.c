/*
 * fuzz_s3xml: the S3 answers' XML (src/aws/s3.c): the small scanner s3_xml_scan() itself, the
 * <Error> reader, and the ListObjectsV2 reader, with and without a continuation token sent.
 *
 * Input: a selector byte (which reader; where a callback stops the scan), then the document.
 * Checks, beyond no crash or leak: the scanner's events nest (every OPEN is closed, LEAF only
 * inside an element, depth within S3_XML_MAX_DEPTH and equal to the path's length), names
 * are at most S3_XML_MAX_NAME bytes, leaf text at most S3_XML_MAX_TEXT; a document accepted
 * whole has exactly one root and ends at depth 0; a stopping callback makes the scan fail;
 * the <Error> fields are NUL-terminated within their (small) buffers; a parsed listing has a
 * key for every object and a token whenever it says it is truncated.
 */
#include "fuzz.h"

#include "aws/s3.h"

struct scan_state {
	int		 depth;
	int		 roots;
	unsigned	 events;
	unsigned	 stop_at;	/* 0: never stop */
};

static int
on_event(void *ctx, enum s3_xml_event ev, int depth, const char *const *path, const char *text,
    size_t len)
{
	struct scan_state *s = ctx;
	int i;

	FUZZ_CHECK(depth >= 1 && depth <= S3_XML_MAX_DEPTH);
	for (i = 0; i < depth; i++)
		FUZZ_CHECK(path[i] != NULL && strlen(path[i]) <= S3_XML_MAX_NAME);
	switch (ev) {
	case S3_XML_OPEN:
		FUZZ_CHECK(depth == s->depth + 1 && text == NULL);
		if (depth == 1)
			s->roots++;
		s->depth = depth;
		break;
	case S3_XML_LEAF:
		FUZZ_CHECK(depth == s->depth && text != NULL && len <= S3_XML_MAX_TEXT);
		FUZZ_CHECK(memchr(text, '\0', len) == NULL);	/* NUL is refused, even as &#0; */
		break;
	case S3_XML_CLOSE:
		FUZZ_CHECK(depth == s->depth && text == NULL);
		s->depth = depth - 1;
		break;
	}
	return s->stop_at != 0 && ++s->events == s->stop_at ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t sel = fuzz_byte(&in);
	const char *doc = (const char *)in.p;
	size_t len = in.n, i;
	struct scan_state st = { 0, 0, 0, 0 };
	struct s3_list list;
	char err[128], code[8], msg[16], rid[12];
	int rc;

	switch (sel % 3) {
	case 0:
		st.stop_at = (sel >> 2) & 15;
		rc = s3_xml_scan(doc, len, on_event, &st, err, sizeof err);
		FUZZ_CHECK(rc == 0 || rc == -1);
		if (rc == 0) {
			FUZZ_CHECK(st.depth == 0 && st.roots == 1);
			FUZZ_CHECK(st.stop_at == 0 || st.events < st.stop_at);
		} else
			FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL && err[0] != '\0');
		break;
	case 1:
		memset(code, 'x', sizeof code);
		memset(msg, 'x', sizeof msg);
		memset(rid, 'x', sizeof rid);
		rc = s3_error_parse(doc, len, code, sizeof code, msg, sizeof msg, rid, sizeof rid);
		FUZZ_CHECK(rc == 0 || rc == -1);
		if (rc == 0)
			FUZZ_CHECK(memchr(code, '\0', sizeof code) && memchr(msg, '\0', sizeof msg) &&
			    memchr(rid, '\0', sizeof rid));
		break;
	case 2:
		rc = s3_list_parse(doc, len, (sel & 4) ? "token-1" : NULL, &list, err, sizeof err);
		FUZZ_CHECK(rc == 0 || rc == -1);
		if (rc == 0) {
			for (i = 0; i < list.nobjects; i++)
				FUZZ_CHECK(list.objects[i].key != NULL);
			FUZZ_CHECK(!list.truncated || (list.next_token != NULL && list.next_token[0] != '\0'));
			FUZZ_CHECK(!(sel & 4) || !list.truncated || strcmp(list.next_token, "token-1"));
		}
		s3_list_free(&list);
		break;
	}
	return 0;
}
