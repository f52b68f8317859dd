/*
 * check_s3: the S3 client (src/aws/s3.c), table-driven, failure cases named bad_*:
 *  - endpoints and URLs: virtual-hosted and path-style, cn- regions, dotted buckets, endpoint
 *    paths, forced addressing; bucket and region validation; the key encoding table and the
 *    keys the client refuses;
 *  - the XML scanner: its event sequence, ListObjectsV2 pages (truncated, last, empty), entity
 *    and character references, CDATA, nested tricks, and malformed or hostile documents
 *    (unterminated, mismatched, DTDs, unknown entities, NUL, huge values, deep nesting, a second
 *    root, a token that does not move);
 *  - <Error> documents, the error kinds and the retry classes;
 *  - the CompleteMultipartUpload body;
 *  - the POST policy: AWS's documented signature example, the policy JSON, the whole form;
 *  - presigned GET URLs: AWS's documented example (examplebucket/test.txt) around the signer,
 *    response-content-* parameters, the session token, refused inputs;
 *  - calls against a loopback port nothing listens on (retries, backoff, quota), inputs refused
 *    before anything is sent, and a forked loopback server with canned answers for what the
 *    S3 stand-in cannot do: a 200 carrying an <Error>, a Date far from ours, a streamed body
 *    that must be rewound (or cannot be) for a retry, the payload hash that is sent.
 * The same code against the SigV4-verifying S3 stand-in: tests/aws/test_s3_client.py
 * (tests/suites/41-s3-client.sh).
 */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "aws/credentials.h"
#include "aws/s3.h"
#include "aws/sigv4.h"
#include "aws/transport.h"
#include "buf.h"
#include "config.h"
#include "testutil.h"
#include "timeutil.h"
#include "xmalloc.h"

#define N_ELEMS(a)	(sizeof (a) / sizeof (a)[0])
#define AKID		"AKIDEXAMPLE"
#define SECRET		"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

/* ---------------------------------------------------------------- a client over a config */

struct client {
	struct config		 cfg;
	struct transport	*t;
	struct creds_provider	*cp;
	struct s3		*s;
	char			 err[256];
};

/* A client from NAME=VALUE lines added to the defaults (keys, region, bucket); NULL lines
 * end the list. c->s is NULL (with c->err) when s3_new refuses. */
static void
client_open(struct client *c, const char *const *extra, const struct s3_options *opts)
{
	const char *all[16];
	char cerr[256];
	size_t n = 0;

	memset(c, 0, sizeof *c);
	all[n++] = "SESSION_SECRET=" TU_SECRET;
	all[n++] = "AWS_ACCESS_KEY_ID=" AKID;
	all[n++] = "AWS_SECRET_ACCESS_KEY=" SECRET;
	all[n++] = "AWS_REGION=us-east-1";
	all[n++] = "S3_BUCKET=fileshare-test";
	while (extra != NULL && *extra != NULL && n < N_ELEMS(all) - 1)
		all[n++] = *extra++;
	all[n] = NULL;
	ck_assert_msg(tu_config(&c->cfg, all, cerr, sizeof cerr) == 0, "config: %s", cerr);
	c->t = transport_new();
	ck_assert_ptr_nonnull(c->t);
	c->cp = creds_provider_new(&c->cfg, c->t, cerr, sizeof cerr);
	ck_assert_msg(c->cp != NULL, "credentials: %s", cerr);
	c->s = s3_new(&c->cfg, c->t, c->cp, opts, c->err, sizeof c->err);
}

static void
client_close(struct client *c)
{
	s3_free(c->s);
	creds_provider_free(c->cp);
	transport_free(c->t);
	config_free(&c->cfg);
}

/* ---------------------------------------------------------------- endpoints and keys */

static const struct endpoint_case {
	const char		*lines[4];
	enum s3_addressing	 addressing;
	const char		*base;		/* NULL: refused */
	const char		*object;	/* URL of "dir/a b.txt" */
} endpoint_cases[] = {
	{ { "AWS_REGION=eu-west-1", NULL }, S3_ADDR_AUTO,
	  "https://fileshare-test.s3.eu-west-1.amazonaws.com",
	  "https://fileshare-test.s3.eu-west-1.amazonaws.com/dir/a%20b.txt" },
	{ { "AWS_REGION=cn-north-1", NULL }, S3_ADDR_AUTO,
	  "https://fileshare-test.s3.cn-north-1.amazonaws.com.cn",
	  "https://fileshare-test.s3.cn-north-1.amazonaws.com.cn/dir/a%20b.txt" },
	/* a dotted bucket would not match the wildcard certificate: path-style */
	{ { "S3_BUCKET=files.example.com", NULL }, S3_ADDR_AUTO,
	  "https://s3.us-east-1.amazonaws.com/files.example.com",
	  "https://s3.us-east-1.amazonaws.com/files.example.com/dir/a%20b.txt" },
	{ { NULL }, S3_ADDR_PATH,
	  "https://s3.us-east-1.amazonaws.com/fileshare-test",
	  "https://s3.us-east-1.amazonaws.com/fileshare-test/dir/a%20b.txt" },
	{ { "AWS_ENDPOINT_URL_S3=http://127.0.0.1:9000", NULL }, S3_ADDR_AUTO,
	  "http://127.0.0.1:9000/fileshare-test",
	  "http://127.0.0.1:9000/fileshare-test/dir/a%20b.txt" },
	{ { "AWS_ENDPOINT_URL_S3=http://127.0.0.1:9000/", NULL }, S3_ADDR_AUTO,
	  "http://127.0.0.1:9000/fileshare-test",
	  "http://127.0.0.1:9000/fileshare-test/dir/a%20b.txt" },
	{ { "AWS_ENDPOINT_URL_S3=https://minio.internal:443/s3", NULL }, S3_ADDR_AUTO,
	  "https://minio.internal/s3/fileshare-test",
	  "https://minio.internal/s3/fileshare-test/dir/a%20b.txt" },
	{ { "AWS_ENDPOINT_URL_S3=http://[::1]:9000", NULL }, S3_ADDR_PATH,
	  "http://[::1]:9000/fileshare-test",
	  "http://[::1]:9000/fileshare-test/dir/a%20b.txt" },
	{ { "AWS_ENDPOINT_URL_S3=https://s3.amazonaws.com", NULL }, S3_ADDR_VIRTUAL,
	  "https://fileshare-test.s3.amazonaws.com",
	  "https://fileshare-test.s3.amazonaws.com/dir/a%20b.txt" },
	/* bad_ */
	{ { "AWS_ENDPOINT_URL_S3=http://127.0.0.1:9000", NULL }, S3_ADDR_VIRTUAL, NULL, NULL },
	{ { "S3_BUCKET=Upper", NULL }, S3_ADDR_AUTO, NULL, NULL },
	{ { "S3_BUCKET=ab", NULL }, S3_ADDR_AUTO, NULL, NULL },
	{ { "S3_BUCKET=a..b", NULL }, S3_ADDR_AUTO, NULL, NULL },
	{ { "S3_BUCKET=-abc", NULL }, S3_ADDR_AUTO, NULL, NULL },
	{ { "S3_BUCKET=abc-", NULL }, S3_ADDR_AUTO, NULL, NULL },
	{ { "S3_BUCKET=under_score", NULL }, S3_ADDR_AUTO, NULL, NULL },
	{ { "S3_BUCKET=a/b/c", NULL }, S3_ADDR_AUTO, NULL, NULL },
	{ { "AWS_REGION=EU-WEST-1", NULL }, S3_ADDR_AUTO, NULL, NULL },
	{ { "AWS_REGION=us-east-1/x", NULL }, S3_ADDR_AUTO, NULL, NULL },
};

START_TEST(test_endpoints)
{
	const struct endpoint_case *e = &endpoint_cases[_i];
	struct s3_options o = { .addressing = e->addressing };
	struct buf url = BUF_INIT;
	struct client c;

	client_open(&c, e->lines, &o);
	if (e->base == NULL) {
		ck_assert_msg(c.s == NULL, "case %d accepted", _i);
		ck_assert_msg(strstr(c.err, "S3_BUCKET") || strstr(c.err, "AWS_"), "case %d: %s", _i,
		    c.err);
	} else {
		ck_assert_msg(c.s != NULL, "case %d: %s", _i, c.err);
		ck_assert_str_eq(s3_base_url(c.s), e->base);
		ck_assert_int_eq(s3_object_url(c.s, "dir/a b.txt", &url), 0);
		ck_assert_str_eq(buf_str(&url), e->object);
		ck_assert_int_eq(s3_skew(c.s), 0);
		ck_assert_int_eq(s3_retry_quota(c.s), DDB_QUOTA_INITIAL);
		ck_assert_int_eq(s3_object_url(c.s, "a/../b", &url), -1);
		ck_assert_str_eq(buf_str(&url), "");
	}
	buf_free(&url);
	client_close(&c);
}
END_TEST

START_TEST(test_bad_missing_settings)
{
	struct config cfg;
	char err[256];

	memset(&cfg, 0, sizeof cfg);
	cfg.aws_region = "us-east-1";
	ck_assert_ptr_null(s3_new(&cfg, NULL, NULL, NULL, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "S3_BUCKET"));
	cfg.s3_bucket = "fileshare-test";
	ck_assert_ptr_null(s3_new(&cfg, NULL, NULL, NULL, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "transport"));
	cfg.aws_region = NULL;
	ck_assert_ptr_null(s3_new(&cfg, NULL, NULL, NULL, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "AWS_REGION"));
	s3_free(NULL);
}
END_TEST

static const struct encode_case {
	const char	*key;
	const char	*encoded;
} encode_cases[] = {
	{ "plain.txt", "plain.txt" },
	{ "dir/sub/file", "dir/sub/file" },
	{ "with space", "with%20space" },
	{ "a+b", "a%2Bb" },
	{ "100%", "100%25" },
	{ "%20", "%2520" },
	{ "tilde~x", "tilde~x" },
	{ "-_.~", "-_.~" },
	{ "\xc3\xbc" "n\xc3\xaf/\xf0\x9f\x98\x80", "%C3%BCn%C3%AF/%F0%9F%98%80" },
	{ "a=b&c?d#e", "a%3Db%26c%3Fd%23e" },
	{ "star*(x)'!", "star%2A%28x%29%27%21" },
	{ "a:b@c,d;e$f", "a%3Ab%40c%2Cd%3Be%24f" },
	{ "quote\"<>\\^`{|}", "quote%22%3C%3E%5C%5E%60%7B%7C%7D" },
	{ "a//b", "a//b" },
	{ "trailing/", "trailing/" },
	{ "/leading", "/leading" },
	{ "...", "..." },
	{ ".hidden/x.", ".hidden/x." },
};

START_TEST(test_key_encoding)
{
	const struct encode_case *e = &encode_cases[_i];
	struct buf b = BUF_INIT;

	ck_assert_msg(s3_key_valid(e->key), "case %d refused", _i);
	s3_encode_key(&b, e->key);
	ck_assert_str_eq(buf_str(&b), e->encoded);
	buf_free(&b);
}
END_TEST

START_TEST(test_query_encoding)
{
	struct buf b = BUF_INIT;

	s3_encode_query(&b, "a/b c+d=e&f~g");
	ck_assert_str_eq(buf_str(&b), "a%2Fb%20c%2Bd%3De%26f~g");
	buf_reset(&b);
	s3_encode_query(&b, "attachment; filename=\"r\xc3\xa9sum\xc3\xa9.pdf\"");
	ck_assert_str_eq(buf_str(&b), "attachment%3B%20filename%3D%22r%C3%A9sum%C3%A9.pdf%22");
	buf_free(&b);
}
END_TEST

static char long_key[S3_MAX_KEY + 2];

static const struct bad_key_case {
	const char	*key;
	const char	*why;
} bad_keys[] = {
	{ "", "empty" },
	{ "a\x01" "b", "control character" },
	{ "a\nb", "newline" },
	{ "a\x7f", "DEL" },
	{ ".", "dot segment" },
	{ "..", "dot-dot segment" },
	{ "a/./b", "inner dot segment" },
	{ "a/../b", "inner dot-dot segment" },
	{ "./a", "leading dot segment" },
	{ "a/..", "trailing dot-dot segment" },
	{ "a/.", "trailing dot segment" },
	{ "\xc3", "truncated UTF-8" },
	{ "\xc0\x80", "overlong NUL" },
	{ "\xe0\x80\xaf", "overlong slash" },
	{ "\xed\xa0\x80", "surrogate" },
	{ "\xf4\x90\x80\x80", "beyond U+10FFFF" },
	{ "\xff", "not UTF-8" },
	{ "\x80x", "continuation byte first" },
};

START_TEST(test_bad_keys)
{
	ck_assert_msg(!s3_key_valid(bad_keys[_i].key), "accepted: %s", bad_keys[_i].why);
}
END_TEST

START_TEST(test_key_lengths)
{
	memset(long_key, 'k', S3_MAX_KEY);
	long_key[S3_MAX_KEY] = '\0';
	ck_assert(s3_key_valid(long_key));
	long_key[S3_MAX_KEY] = 'k';
	long_key[S3_MAX_KEY + 1] = '\0';
	ck_assert(!s3_key_valid(long_key));
	ck_assert(!s3_key_valid(NULL));
}
END_TEST

/* ---------------------------------------------------------------- the XML scanner */

struct trace {
	struct buf	b;
};

static int
trace_cb(void *ctx, enum s3_xml_event ev, int depth, const char *const *path, const char *text,
    size_t len)
{
	struct trace *t = ctx;
	int i;

	buf_appends(&t->b, ev == S3_XML_OPEN ? "O" : ev == S3_XML_LEAF ? "L" : "C");
	buf_printf(&t->b, "%d:", depth);
	for (i = 0; i < depth; i++)
		buf_printf(&t->b, "%s%s", i ? "/" : "", path[i]);
	if (ev == S3_XML_LEAF) {
		buf_appendc(&t->b, '=');
		buf_append(&t->b, text, len);
	}
	buf_appendc(&t->b, ' ');
	return 0;
}

static const struct scan_case {
	const char	*doc;
	const char	*trace;		/* NULL: refused */
} scan_cases[] = {
	{ "<a/>", "O1:a L1:a= C1:a " },
	{ "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a x=\"1\" y='2>'>t</a>\n",
	  "O1:a L1:a=t C1:a " },
	{ "\xef\xbb\xbf<a>t</a>", "O1:a L1:a=t C1:a " },
	{ "<a><b>x</b><c/><!-- <d>no</d> --><?pi ?><e >y</e ></a>",
	  "O1:a O2:a/b L2:a/b=x C2:a/b O2:a/c L2:a/c= C2:a/c O2:a/e L2:a/e=y C2:a/e C1:a " },
	/* mixed content: a has children, so its own text is no leaf */
	{ "<a>before<b>x</b>after</a>", "O1:a O2:a/b L2:a/b=x C2:a/b C1:a " },
	{ "<s3:a xmlns:s3=\"u\"><s3:Key>k</s3:Key></s3:a>", "O1:a O2:a/Key L2:a/Key=k C2:a/Key C1:a " },
	{ "<a>&amp;&lt;&gt;&quot;&apos;&#65;&#x42;&#xe9;&#x1F600;</a>",
	  "O1:a L1:a=&<>\"'AB\xc3\xa9\xf0\x9f\x98\x80 C1:a " },
	{ "<a><![CDATA[<not>&amp;]]>x</a>", "O1:a L1:a=<not>&amp;x C1:a " },
	{ "<a>\r\n  spaced  \t</a>", "O1:a L1:a=\r\n  spaced  \t C1:a " },
	/* bad_ */
	{ "", NULL },
	{ "   ", NULL },
	{ "<?xml version=\"1.0\"?>", NULL },
	{ "<a>", NULL },
	{ "<a><b>x</b>", NULL },
	{ "<a", NULL },
	{ "<a b=\"1\"", NULL },
	{ "<a></b>", NULL },
	{ "<a><b></a></b>", NULL },
	{ "</a>", NULL },
	{ "<a/><b/>", NULL },
	{ "text<a/>", NULL },
	{ "<a/>text", NULL },
	{ "<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>", NULL },
	{ "<a>&x;</a>", NULL },
	{ "<a>&amp</a>", NULL },
	{ "<a>&#0;</a>", NULL },
	{ "<a>&#xD800;</a>", NULL },
	{ "<a>&#x110000;</a>", NULL },
	{ "<a>&#99999999999999999999;</a>", NULL },
	{ "<a>&#;</a>", NULL },
	{ "<a>&#x;</a>", NULL },
	{ "<a>&#12a;</a>", NULL },
	{ "<a>& amp;</a>", NULL },
	{ "<a b=1/>", NULL },
	{ "<a b=\"<\"/>", NULL },
	{ "<a b=\"1\"c=\"2\"/>", NULL },
	{ "<a b/>", NULL },
	{ "<a><!-- open </a>", NULL },
	{ "<a><![CDATA[ open </a>", NULL },
	{ "<![CDATA[x]]><a/>", NULL },
	{ "<a><?pi </a>", NULL },
	{ "<1a/>", NULL },
	{ "<a / >", NULL },
	{ "<>", NULL },
};

START_TEST(test_xml_scan)
{
	const struct scan_case *e = &scan_cases[_i];
	struct trace t = { BUF_INIT };
	char err[96] = "";
	int rc = s3_xml_scan(e->doc, strlen(e->doc), trace_cb, &t, err, sizeof err);

	if (e->trace == NULL) {
		ck_assert_msg(rc == -1, "case %d accepted: %s", _i, buf_str(&t.b));
		ck_assert_msg(err[0] != '\0', "case %d: no reason", _i);
	} else {
		ck_assert_msg(rc == 0, "case %d refused: %s", _i, err);
		ck_assert_str_eq(buf_str(&t.b), e->trace);
	}
	buf_free(&t.b);
}
END_TEST

/* A NUL inside the document (given with its length) is refused. */
START_TEST(test_bad_xml_nul)
{
	static const char doc[] = "<a>x\0y</a>";
	static const char doc2[] = "<a><![CDATA[x\0y]]></a>";
	struct trace t = { BUF_INIT };
	char err[96];

	ck_assert_int_eq(s3_xml_scan(doc, sizeof doc - 1, trace_cb, &t, err, sizeof err), -1);
	ck_assert_int_eq(s3_xml_scan(doc2, sizeof doc2 - 1, trace_cb, &t, err, sizeof err), -1);
	ck_assert_int_eq(s3_xml_scan(NULL, 0, trace_cb, &t, err, sizeof err), -1);
	buf_free(&t.b);
}
END_TEST

static int
stop_cb(void *ctx, enum s3_xml_event ev, int depth, const char *const *path, const char *text,
    size_t len)
{
	(void)ctx, (void)depth, (void)path, (void)text, (void)len;
	return ev == S3_XML_LEAF ? -1 : 0;
}

START_TEST(test_xml_limits)
{
	struct buf doc = BUF_INIT;
	struct trace t = { BUF_INIT };
	char err[96];
	int i;

	/* S3_XML_MAX_DEPTH levels are fine, one more is not */
	for (i = 0; i < S3_XML_MAX_DEPTH; i++)
		buf_appends(&doc, "<d>");
	for (i = 0; i < S3_XML_MAX_DEPTH; i++)
		buf_appends(&doc, "</d>");
	ck_assert_int_eq(s3_xml_scan(doc.data, doc.len, trace_cb, &t, err, sizeof err), 0);
	buf_reset(&doc);
	for (i = 0; i <= S3_XML_MAX_DEPTH; i++)
		buf_appends(&doc, "<d>");
	for (i = 0; i <= S3_XML_MAX_DEPTH; i++)
		buf_appends(&doc, "</d>");
	ck_assert_int_eq(s3_xml_scan(doc.data, doc.len, trace_cb, &t, err, sizeof err), -1);
	ck_assert_str_eq(err, "elements nested too deeply");

	/* a value of S3_XML_MAX_TEXT bytes is fine, one more byte is not (also by entities) */
	buf_reset(&doc);
	buf_appends(&doc, "<a>");
	for (i = 0; i < S3_XML_MAX_TEXT; i++)
		buf_appendc(&doc, 'v');
	buf_appends(&doc, "</a>");
	ck_assert_int_eq(s3_xml_scan(doc.data, doc.len, stop_cb, NULL, err, sizeof err), -1);
	ck_assert_str_eq(err, "stopped by the caller");	/* it reached the leaf */
	buf_reset(&doc);
	buf_appends(&doc, "<a>");
	for (i = 0; i < S3_XML_MAX_TEXT; i++)
		buf_appendc(&doc, 'v');
	buf_appends(&doc, "&amp;</a>");
	ck_assert_int_eq(s3_xml_scan(doc.data, doc.len, trace_cb, &t, err, sizeof err), -1);
	ck_assert_str_eq(err, "character data too long");
	buf_reset(&doc);
	buf_appends(&doc, "<a><![CDATA[");
	for (i = 0; i <= S3_XML_MAX_TEXT; i++)
		buf_appendc(&doc, 'v');
	buf_appends(&doc, "]]></a>");
	ck_assert_int_eq(s3_xml_scan(doc.data, doc.len, trace_cb, &t, err, sizeof err), -1);

	/* names: S3_XML_MAX_NAME bytes are fine, more are not */
	buf_reset(&doc);
	buf_appendc(&doc, '<');
	for (i = 0; i < S3_XML_MAX_NAME; i++)
		buf_appendc(&doc, 'n');
	buf_appends(&doc, "/>");
	ck_assert_int_eq(s3_xml_scan(doc.data, doc.len, trace_cb, &t, err, sizeof err), 0);
	buf_reset(&doc);
	buf_appendc(&doc, '<');
	for (i = 0; i <= S3_XML_MAX_NAME; i++)
		buf_appendc(&doc, 'n');
	buf_appends(&doc, "/>");
	ck_assert_int_eq(s3_xml_scan(doc.data, doc.len, trace_cb, &t, err, sizeof err), -1);
	ck_assert_str_eq(err, "name too long");

	/* a callback stops the scan */
	ck_assert_int_eq(s3_xml_scan("<a>x</a>", 8, stop_cb, NULL, err, sizeof err), -1);
	ck_assert_str_eq(err, "stopped by the caller");
	buf_free(&doc);
	buf_free(&t.b);
}
END_TEST

/* ---------------------------------------------------------------- ListObjectsV2 pages */

/* The shape of AWS's documentation example, two objects, truncated. */
static const char page1[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
	"  <Name>bucket</Name>\n  <Prefix>up/</Prefix>\n  <KeyCount>2</KeyCount>\n"
	"  <MaxKeys>2</MaxKeys>\n  <IsTruncated>true</IsTruncated>\n"
	"  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>\n"
	"  <Contents>\n    <Key>up/my-image.jpg</Key>\n"
	"    <LastModified>2009-10-12T17:50:30.000Z</LastModified>\n"
	"    <ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag>\n"
	"    <Size>434234</Size>\n    <StorageClass>STANDARD</StorageClass>\n"
	"    <Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>"
	"<DisplayName>mtd@amazon.com</DisplayName></Owner>\n  </Contents>\n"
	"  <Contents>\n    <Key>up/a &amp; b &lt;c&gt; &#xE9;+%20~.txt</Key>\n"
	"    <LastModified>2026-01-01T00:00:00Z</LastModified>\n"
	"    <ETag>\"599bab3ed2c697f1d26842727561fd94-3\"</ETag>\n"
	"    <Size>0</Size>\n  </Contents>\n"
	"</ListBucketResult>\n";

START_TEST(test_list_page)
{
	struct s3_list l;
	char err[160] = "";

	ck_assert_msg(s3_list_parse(page1, sizeof page1 - 1, NULL, &l, err, sizeof err) == 0,
	    "%s", err);
	ck_assert(l.truncated);
	ck_assert_str_eq(l.next_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
	ck_assert_uint_eq(l.nobjects, 2);
	ck_assert_str_eq(l.objects[0].key, "up/my-image.jpg");
	ck_assert_uint_eq(l.objects[0].size, 434234);
	ck_assert_int_eq(l.objects[0].last_modified, INT64_C(1255369830));
	ck_assert_str_eq(l.objects[0].etag, "\"fba9dede5f27731c9771645a39863328\"");
	ck_assert_str_eq(l.objects[1].key, "up/a & b <c> \xc3\xa9+%20~.txt");
	ck_assert_uint_eq(l.objects[1].size, 0);
	ck_assert_int_eq(l.objects[1].last_modified, TU_EPOCH_S);
	ck_assert_str_eq(l.objects[1].etag, "\"599bab3ed2c697f1d26842727561fd94-3\"");
	/* the token of the request differs from the new one: fine */
	s3_list_free(&l);
	ck_assert_int_eq(s3_list_parse(page1, sizeof page1 - 1, "other", &l, err, sizeof err), 0);
	s3_list_free(&l);
	s3_list_free(&l);	/* a freed (zeroed) list is a no-op */
	s3_list_free(NULL);
}
END_TEST

static const struct list_case {
	const char	*doc;
	const char	*token_sent;
	size_t		 nobjects;	/* (size_t)-1: refused */
	bool		 truncated;
	const char	*first_key;
} list_cases[] = {
	/* the last page, and an empty bucket */
	{ "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key>"
	  "<Size>5</Size><LastModified>2026-01-01T00:00:00.123Z</LastModified></Contents>"
	  "</ListBucketResult>", "tok", 1, false, "k" },
	{ "<ListBucketResult><Name>b</Name><Prefix/><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys>"
	  "<IsTruncated>false</IsTruncated></ListBucketResult>", NULL, 0, false, NULL },
	/* the token is only read when truncated */
	{ "<ListBucketResult><IsTruncated>false</IsTruncated><NextContinuationToken>t"
	  "</NextContinuationToken></ListBucketResult>", "t", 0, false, NULL },
	/* nested tricks: only Contents/Key at depth 3 is an object's key */
	{ "<ListBucketResult><Key>root-level</Key><IsTruncated>false</IsTruncated>"
	  "<Contents><Owner><Key>owner-key</Key></Owner><Key>real</Key><Size>1</Size>"
	  "<LastModified>2026-01-01T00:00:00Z</LastModified>"
	  "<Contents><Key>inner</Key></Contents></Contents>"
	  "<CommonPrefixes><Prefix>p/</Prefix><Key>cp</Key></CommonPrefixes>"
	  "</ListBucketResult>", NULL, 1, false, "real" },
	{ "<s3:ListBucketResult xmlns:s3=\"x\"><s3:IsTruncated>true</s3:IsTruncated>"
	  "<s3:NextContinuationToken>n</s3:NextContinuationToken><s3:Contents><s3:Key>"
	  "<![CDATA[c&d]]></s3:Key><s3:Size>2</s3:Size><s3:LastModified>2026-01-01T00:00:00Z"
	  "</s3:LastModified></s3:Contents></s3:ListBucketResult>", NULL, 1, true, "c&d" },
	/* bad_ */
	{ "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",
	  NULL, (size_t)-1, false, NULL },
	{ "<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>same"
	  "</NextContinuationToken></ListBucketResult>", "same", (size_t)-1, false, NULL },
	{ "<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>"
	  "</NextContinuationToken></ListBucketResult>", NULL, (size_t)-1, false, NULL },
	{ "<ListBucketResult></ListBucketResult>", NULL, (size_t)-1, false, NULL },
	{ "<ListBucketResult><IsTruncated>yes</IsTruncated></ListBucketResult>",
	  NULL, (size_t)-1, false, NULL },
	{ "<ListBucketResult><IsTruncated>false</IsTruncated><IsTruncated>true</IsTruncated>"
	  "</ListBucketResult>", NULL, (size_t)-1, false, NULL },
	{ "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key>"
	  "<LastModified>2026-01-01T00:00:00Z</LastModified></Contents></ListBucketResult>",
	  NULL, (size_t)-1, false, NULL },
	{ "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Size>1</Size>"
	  "<LastModified>2026-01-01T00:00:00Z</LastModified></Contents></ListBucketResult>",
	  NULL, (size_t)-1, false, NULL },
	{ "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key><Size>1</Size>"
	  "</Contents></ListBucketResult>", NULL, (size_t)-1, false, NULL },
	{ "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key><Size>-1</Size>"
	  "<LastModified>2026-01-01T00:00:00Z</LastModified></Contents></ListBucketResult>",
	  NULL, (size_t)-1, false, NULL },
	{ "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key>"
	  "<Size>99999999999999999999</Size><LastModified>2026-01-01T00:00:00Z</LastModified>"
	  "</Contents></ListBucketResult>", NULL, (size_t)-1, false, NULL },
	{ "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key><Size>1x</Size>"
	  "<LastModified>2026-01-01T00:00:00Z</LastModified></Contents></ListBucketResult>",
	  NULL, (size_t)-1, false, NULL },
	{ "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key><Size>1</Size>"
	  "<LastModified>yesterday</LastModified></Contents></ListBucketResult>",
	  NULL, (size_t)-1, false, NULL },
	{ "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key><Key>k2</Key>"
	  "<Size>1</Size><LastModified>2026-01-01T00:00:00Z</LastModified></Contents>"
	  "</ListBucketResult>", NULL, (size_t)-1, false, NULL },
	{ "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key></Key><Size>1</Size>"
	  "<LastModified>2026-01-01T00:00:00Z</LastModified></Contents></ListBucketResult>",
	  NULL, (size_t)-1, false, NULL },
	{ "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key><Size>1</Size>"
	  "<LastModified>2026-01-01T00:00:00Z</LastModified><ETag>\"a\nb\"</ETag></Contents>"
	  "</ListBucketResult>", NULL, (size_t)-1, false, NULL },
	{ "<Error><Code>AccessDenied</Code></Error>", NULL, (size_t)-1, false, NULL },
	{ "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key>",
	  NULL, (size_t)-1, false, NULL },
	{ "not xml at all", NULL, (size_t)-1, false, NULL },
};

START_TEST(test_list_cases)
{
	const struct list_case *e = &list_cases[_i];
	struct s3_list l;
	char err[160] = "";
	int rc = s3_list_parse(e->doc, strlen(e->doc), e->token_sent, &l, err, sizeof err);

	if (e->nobjects == (size_t)-1) {
		ck_assert_msg(rc == -1, "case %d accepted", _i);
		ck_assert_ptr_nonnull(strstr(err, "ListObjectsV2 answer: "));
		ck_assert_ptr_null(l.objects);
		ck_assert_ptr_null(l.next_token);
	} else {
		ck_assert_msg(rc == 0, "case %d: %s", _i, err);
		ck_assert_uint_eq(l.nobjects, e->nobjects);
		ck_assert_int_eq(l.truncated, e->truncated);
		ck_assert_int_eq(l.next_token != NULL, e->truncated);
		if (e->first_key != NULL)
			ck_assert_str_eq(l.objects[0].key, e->first_key);
	}
	s3_list_free(&l);
}
END_TEST

/* A page of 1000 objects with long keys: the array grows, nothing leaks. */
START_TEST(test_list_big_page)
{
	struct buf doc = BUF_INIT;
	struct s3_list l;
	char err[160];
	int i;

	buf_appends(&doc, "<ListBucketResult><IsTruncated>true</IsTruncated>"
	    "<NextContinuationToken>next</NextContinuationToken>");
	for (i = 0; i < S3_MAX_LIST_KEYS; i++) {
		buf_printf(&doc, "<Contents><Key>%04d/", i);
		for (int j = 0; j < 200; j++)
			buf_appends(&doc, "&amp;");
		buf_printf(&doc, "</Key><Size>%d</Size><LastModified>2026-01-01T00:00:00Z"
		    "</LastModified></Contents>", i);
	}
	buf_appends(&doc, "</ListBucketResult>");
	ck_assert_int_eq(s3_list_parse(doc.data, doc.len, NULL, &l, err, sizeof err), 0);
	ck_assert_uint_eq(l.nobjects, S3_MAX_LIST_KEYS);
	ck_assert_uint_eq(strlen(l.objects[999].key), 5 + 200);
	ck_assert_uint_eq(l.objects[999].size, 999);
	s3_list_free(&l);
	buf_free(&doc);
}
END_TEST

/* ---------------------------------------------------------------- errors */

static const struct error_doc_case {
	const char	*doc;
	int		 rc;
	const char	*code, *message, *request_id;
} error_docs[] = {
	{ "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>"
	  "<Message>The specified key does not exist.</Message><Key>a&amp;b</Key>"
	  "<RequestId>4442587FB7D0A2F9</RequestId><HostId>h</HostId></Error>", 0,
	  "NoSuchKey", "The specified key does not exist.", "4442587FB7D0A2F9" },
	/* SignatureDoesNotMatch carries the canonical request in other elements: not kept */
	{ "<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated "
	  "does not match.\nsecond line</Message><StringToSign>AWS4-HMAC-SHA256\n...</StringToSign>"
	  "<CanonicalRequest>GET\n/\n</CanonicalRequest></Error>", 0,
	  "SignatureDoesNotMatch", "The request signature we calculated does not match.", "" },
	{ "<Error><Code>SlowDown</Code></Error>", 0, "SlowDown", "", "" },
	{ "<Error/>", 0, "", "", "" },
	/* nested lookalikes are not the error's own */
	{ "<Error><Detail><Code>Nested</Code></Detail><Code>Real</Code></Error>", 0,
	  "Real", "", "" },
	/* bad_ */
	{ "", -1, "", "", "" },
	{ "<html><body>502 Bad Gateway</body></html>", -1, "", "", "" },
	{ "<CompleteMultipartUploadResult><ETag>x</ETag></CompleteMultipartUploadResult>", -1,
	  "", "", "" },
	{ "<Error><Code>Unterminated</Code>", -1, "", "", "" },
	{ "{\"__type\":\"x\"}", -1, "", "", "" },
};

START_TEST(test_error_parse)
{
	const struct error_doc_case *e = &error_docs[_i];
	char code[64], msg[256], rid[80];

	ck_assert_int_eq(s3_error_parse(e->doc, strlen(e->doc), code, sizeof code, msg, sizeof msg,
	    rid, sizeof rid), e->rc);
	ck_assert_str_eq(code, e->code);
	ck_assert_str_eq(msg, e->message);
	ck_assert_str_eq(rid, e->request_id);
}
END_TEST

START_TEST(test_error_parse_truncates)
{
	char code[8], msg[8], rid[4];
	const char *doc = "<Error><Code>AVeryLongCodeName</Code><Message>0123456789</Message>"
	    "<RequestId>ABCDEFG</RequestId></Error>";

	ck_assert_int_eq(s3_error_parse(doc, strlen(doc), code, sizeof code, msg, sizeof msg, rid,
	    sizeof rid), 0);
	ck_assert_str_eq(code, "AVeryLo");
	ck_assert_str_eq(msg, "0123456");
	ck_assert_str_eq(rid, "ABC");
}
END_TEST

static const struct kind_case {
	enum transport_error	 terr;
	int			 status;
	const char		*code;
	enum s3_errkind		 kind;
	enum ddb_retry_class	 retry;
} kind_cases[] = {
	{ TRANSPORT_OK, 200, NULL, S3_OK, DDB_RETRY_NO },
	{ TRANSPORT_OK, 204, "", S3_OK, DDB_RETRY_NO },
	{ TRANSPORT_OK, 404, "NoSuchKey", S3_ERR_NOT_FOUND, DDB_RETRY_NO },
	{ TRANSPORT_OK, 404, "NoSuchUpload", S3_ERR_NOT_FOUND, DDB_RETRY_NO },
	{ TRANSPORT_OK, 404, "NoSuchBucket", S3_ERR_NOT_FOUND, DDB_RETRY_NO },
	{ TRANSPORT_OK, 404, NULL, S3_ERR_NOT_FOUND, DDB_RETRY_NO },	/* HEAD: no body */
	{ TRANSPORT_OK, 403, "AccessDenied", S3_ERR_ACCESS_DENIED, DDB_RETRY_NO },
	{ TRANSPORT_OK, 403, "SignatureDoesNotMatch", S3_ERR_ACCESS_DENIED, DDB_RETRY_NO },
	{ TRANSPORT_OK, 403, "InvalidAccessKeyId", S3_ERR_ACCESS_DENIED, DDB_RETRY_NO },
	{ TRANSPORT_OK, 400, "InvalidToken", S3_ERR_ACCESS_DENIED, DDB_RETRY_NO },
	{ TRANSPORT_OK, 400, "ExpiredToken", S3_ERR_ACCESS_DENIED, DDB_RETRY_NO },
	{ TRANSPORT_OK, 403, "RequestTimeTooSkewed", S3_ERR_ACCESS_DENIED, DDB_RETRY_NO },
	{ TRANSPORT_OK, 400, "AuthorizationHeaderMalformed", S3_ERR_ACCESS_DENIED, DDB_RETRY_NO },
	{ TRANSPORT_OK, 403, NULL, S3_ERR_ACCESS_DENIED, DDB_RETRY_NO },
	{ TRANSPORT_OK, 412, "PreconditionFailed", S3_ERR_PRECONDITION, DDB_RETRY_NO },
	{ TRANSPORT_OK, 409, "ConditionalRequestConflict", S3_ERR_PRECONDITION, DDB_RETRY_NO },
	{ TRANSPORT_OK, 412, NULL, S3_ERR_PRECONDITION, DDB_RETRY_NO },
	{ TRANSPORT_OK, 304, NULL, S3_ERR_PRECONDITION, DDB_RETRY_NO },
	{ TRANSPORT_OK, 503, "SlowDown", S3_ERR_THROTTLED, DDB_RETRY_THROTTLE },
	{ TRANSPORT_OK, 429, NULL, S3_ERR_THROTTLED, DDB_RETRY_THROTTLE },
	{ TRANSPORT_OK, 429, "TooManyRequests", S3_ERR_THROTTLED, DDB_RETRY_THROTTLE },
	{ TRANSPORT_OK, 400, "ThrottlingException", S3_ERR_THROTTLED, DDB_RETRY_THROTTLE },
	{ TRANSPORT_OK, 400, "Throttling", S3_ERR_THROTTLED, DDB_RETRY_THROTTLE },
	{ TRANSPORT_OK, 400, "ThrottlingSomethingNew", S3_ERR_THROTTLED, DDB_RETRY_THROTTLE },
	{ TRANSPORT_OK, 503, "RequestLimitExceeded", S3_ERR_THROTTLED, DDB_RETRY_THROTTLE },
	{ TRANSPORT_OK, 500, "InternalError", S3_ERR_UNAVAILABLE, DDB_RETRY_TRANSIENT },
	{ TRANSPORT_OK, 503, "ServiceUnavailable", S3_ERR_UNAVAILABLE, DDB_RETRY_TRANSIENT },
	{ TRANSPORT_OK, 503, NULL, S3_ERR_UNAVAILABLE, DDB_RETRY_TRANSIENT },
	{ TRANSPORT_OK, 502, NULL, S3_ERR_UNAVAILABLE, DDB_RETRY_TRANSIENT },
	{ TRANSPORT_OK, 504, NULL, S3_ERR_UNAVAILABLE, DDB_RETRY_TRANSIENT },
	{ TRANSPORT_OK, 400, "RequestTimeout", S3_ERR_UNAVAILABLE, DDB_RETRY_TRANSIENT },
	/* CompleteMultipartUpload's 200 with an <Error> */
	{ TRANSPORT_OK, 200, "InternalError", S3_ERR_UNAVAILABLE, DDB_RETRY_TRANSIENT },
	{ TRANSPORT_OK, 200, "SlowDown", S3_ERR_THROTTLED, DDB_RETRY_THROTTLE },
	{ TRANSPORT_OK, 200, "AccessDenied", S3_ERR_ACCESS_DENIED, DDB_RETRY_NO },
	{ TRANSPORT_OK, 200, "InvalidPart", S3_ERR_OTHER, DDB_RETRY_NO },
	{ TRANSPORT_OK, 501, "NotImplemented", S3_ERR_BAD_REQUEST, DDB_RETRY_NO },
	{ TRANSPORT_OK, 400, "InvalidArgument", S3_ERR_BAD_REQUEST, DDB_RETRY_NO },
	{ TRANSPORT_OK, 400, "EntityTooLarge", S3_ERR_BAD_REQUEST, DDB_RETRY_NO },
	{ TRANSPORT_OK, 400, "InvalidPart", S3_ERR_BAD_REQUEST, DDB_RETRY_NO },
	{ TRANSPORT_OK, 400, "InvalidPartOrder", S3_ERR_BAD_REQUEST, DDB_RETRY_NO },
	{ TRANSPORT_OK, 400, "MalformedXML", S3_ERR_BAD_REQUEST, DDB_RETRY_NO },
	{ TRANSPORT_OK, 400, "XAmzContentSHA256Mismatch", S3_ERR_BAD_REQUEST, DDB_RETRY_NO },
	{ TRANSPORT_OK, 400, NULL, S3_ERR_BAD_REQUEST, DDB_RETRY_NO },
	{ TRANSPORT_OK, 301, "PermanentRedirect", S3_ERR_OTHER, DDB_RETRY_NO },
	{ TRANSPORT_ERR_CONNECT, 0, NULL, S3_ERR_UNAVAILABLE, DDB_RETRY_TRANSIENT },
	{ TRANSPORT_ERR_RESET, 0, NULL, S3_ERR_UNAVAILABLE, DDB_RETRY_TRANSIENT },
	{ TRANSPORT_ERR_TIMEOUT, 0, NULL, S3_ERR_UNAVAILABLE, DDB_RETRY_TIMEOUT },
	{ TRANSPORT_ERR_BODY, 0, NULL, S3_ERR_OTHER, DDB_RETRY_NO },
	{ TRANSPORT_ERR_TOO_LARGE, 200, NULL, S3_ERR_OTHER, DDB_RETRY_NO },
	{ TRANSPORT_ERR_OTHER, 0, NULL, S3_ERR_OTHER, DDB_RETRY_NO },
};

START_TEST(test_error_kinds)
{
	const struct kind_case *e = &kind_cases[_i];

	ck_assert_msg(s3_error_kind(e->terr, e->status, e->code) == e->kind,
	    "case %d: kind %s", _i, s3_errkind_name(s3_error_kind(e->terr, e->status, e->code)));
	ck_assert_msg(s3_retry_classify(e->terr, e->status, e->code) == e->retry,
	    "case %d: retry %d", _i, (int)s3_retry_classify(e->terr, e->status, e->code));
}
END_TEST

START_TEST(test_errkind_names)
{
	ck_assert_str_eq(s3_errkind_name(S3_OK), "ok");
	ck_assert_str_eq(s3_errkind_name(S3_ERR_NOT_FOUND), "not_found");
	ck_assert_str_eq(s3_errkind_name(S3_ERR_ACCESS_DENIED), "access_denied");
	ck_assert_str_eq(s3_errkind_name(S3_ERR_PRECONDITION), "precondition");
	ck_assert_str_eq(s3_errkind_name(S3_ERR_THROTTLED), "throttled");
	ck_assert_str_eq(s3_errkind_name(S3_ERR_UNAVAILABLE), "unavailable");
	ck_assert_str_eq(s3_errkind_name(S3_ERR_BAD_REQUEST), "bad_request");
	ck_assert_str_eq(s3_errkind_name(S3_ERR_OTHER), "other");
}
END_TEST

/* ---------------------------------------------------------------- CompleteMultipartUpload */

START_TEST(test_complete_xml)
{
	struct s3_part parts[] = {
		{ 1, "\"a54357aff0632cce46d942af68356b38\"" },
		{ 2, "\"0c78aef83f66abc1fa1e8477f296d394\"" },
		{ 10000, "odd&<>" },
	};
	struct buf b = BUF_INIT;

	ck_assert_int_eq(s3_complete_xml(&b, parts, 3), 0);
	ck_assert_str_eq(buf_str(&b),
	    "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
	    "<Part><PartNumber>1</PartNumber><ETag>\"a54357aff0632cce46d942af68356b38\"</ETag></Part>"
	    "<Part><PartNumber>2</PartNumber><ETag>\"0c78aef83f66abc1fa1e8477f296d394\"</ETag></Part>"
	    "<Part><PartNumber>10000</PartNumber><ETag>odd&amp;&lt;&gt;</ETag></Part>"
	    "</CompleteMultipartUpload>");
	buf_free(&b);
}
END_TEST

START_TEST(test_bad_complete_parts)
{
	struct s3_part unsorted[] = { { 2, "a" }, { 1, "b" } };
	struct s3_part dup[] = { { 1, "a" }, { 1, "b" } };
	struct s3_part zero[] = { { 0, "a" } };
	struct s3_part big[] = { { 10001, "a" } };
	struct s3_part noetag[] = { { 1, NULL } };
	struct s3_part empty[] = { { 1, "" } };
	struct s3_part nl[] = { { 1, "a\nb" } };
	struct buf b = BUF_INIT;

	ck_assert_int_eq(s3_complete_xml(&b, unsorted, 2), -1);
	ck_assert_int_eq(s3_complete_xml(&b, dup, 2), -1);
	ck_assert_int_eq(s3_complete_xml(&b, zero, 1), -1);
	ck_assert_int_eq(s3_complete_xml(&b, big, 1), -1);
	ck_assert_int_eq(s3_complete_xml(&b, noetag, 1), -1);
	ck_assert_int_eq(s3_complete_xml(&b, empty, 1), -1);
	ck_assert_int_eq(s3_complete_xml(&b, nl, 1), -1);
	ck_assert_int_eq(s3_complete_xml(&b, NULL, 0), -1);
	ck_assert_int_eq(s3_complete_xml(&b, unsorted, 0), -1);
	ck_assert_uint_eq(b.len, 0);
	buf_free(&b);
}
END_TEST

/* ---------------------------------------------------------------- POST policy */

/* AWS's "Example: Browser-Based Upload using HTTP POST (Using AWS Signature Version 4)": the
 * base64 policy (CRLF line ends) and the signature the page gives for it. */
#define AWS_POST_POLICY_B64 \
	"eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAg" \
	"ICB7ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAi" \
	"dXNlci91c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25f" \
	"cmVkaXJlY3QiOiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxf" \
	"dXBsb2FkLmh0bWwifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQog" \
	"ICAgeyJ4LWFtei1tZXRhLXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRl" \
	"LWVuY3J5cHRpb24iOiAiQUVTMjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAi" \
	"Il0sDQoNCiAgICB7IngtYW16LWNyZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMt" \
	"ZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEy" \
	"NTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAiMjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9"
#define AWS_POST_SIGNATURE "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e"
#define AWS_EXAMPLE_SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

START_TEST(test_post_signature_aws_example)
{
	char sig[65];

	ck_assert_int_eq(s3_post_signature(AWS_EXAMPLE_SECRET, "20151229", "us-east-1",
	    AWS_POST_POLICY_B64, sig), 0);
	ck_assert_str_eq(sig, AWS_POST_SIGNATURE);
	/* any change in the inputs changes it */
	ck_assert_int_eq(s3_post_signature(AWS_EXAMPLE_SECRET, "20151230", "us-east-1",
	    AWS_POST_POLICY_B64, sig), 0);
	ck_assert_str_ne(sig, AWS_POST_SIGNATURE);
	ck_assert_int_eq(s3_post_signature(AWS_EXAMPLE_SECRET, "20151229", "eu-west-1",
	    AWS_POST_POLICY_B64, sig), 0);
	ck_assert_str_ne(sig, AWS_POST_SIGNATURE);
	/* bad_ */
	ck_assert_int_eq(s3_post_signature("", "20151229", "us-east-1", "x", sig), -1);
	ck_assert_str_eq(sig, "");
	ck_assert_int_eq(s3_post_signature(AWS_EXAMPLE_SECRET, "2015122", "us-east-1", "x", sig), -1);
	ck_assert_int_eq(s3_post_signature(AWS_EXAMPLE_SECRET, "2015122x", "us-east-1", "x", sig),
	    -1);
	ck_assert_int_eq(s3_post_signature(AWS_EXAMPLE_SECRET, "20151229", "", "x", sig), -1);
	ck_assert_int_eq(s3_post_signature(AWS_EXAMPLE_SECRET, "20151229", "us-east-1", "", sig),
	    -1);
	ck_assert_int_eq(s3_post_signature(NULL, "20151229", "us-east-1", "x", sig), -1);
}
END_TEST

START_TEST(test_post_policy_json)
{
	struct buf b = BUF_INIT;

	ck_assert_int_eq(s3_post_policy(&b, "2026-01-01T00:15:00.000Z", "fileshare-test",
	    "uploads/k1", 1, 1048576, NULL, AKID "/20260101/us-east-1/s3/aws4_request",
	    "20260101T000000Z", NULL), 0);
	ck_assert_str_eq(buf_str(&b),
	    "{\"expiration\":\"2026-01-01T00:15:00.000Z\",\"conditions\":["
	    "{\"bucket\":\"fileshare-test\"},{\"key\":\"uploads/k1\"},"
	    "[\"content-length-range\",1,1048576],"
	    "{\"x-amz-algorithm\":\"AWS4-HMAC-SHA256\"},"
	    "{\"x-amz-credential\":\"AKIDEXAMPLE/20260101/us-east-1/s3/aws4_request\"},"
	    "{\"x-amz-date\":\"20260101T000000Z\"}]}");
	buf_reset(&b);
	/* quotes and backslashes in values stay inside their JSON strings */
	ck_assert_int_eq(s3_post_policy(&b, "2026-01-01T00:15:00.000Z", "fileshare-test",
	    "a\"b\\c", 0, 5, "text/plain; charset=\"utf-8\"", "cred", "20260101T000000Z", "tok/+="),
	    0);
	ck_assert_str_eq(buf_str(&b),
	    "{\"expiration\":\"2026-01-01T00:15:00.000Z\",\"conditions\":["
	    "{\"bucket\":\"fileshare-test\"},{\"key\":\"a\\\"b\\\\c\"},"
	    "[\"content-length-range\",0,5],"
	    "{\"Content-Type\":\"text/plain; charset=\\\"utf-8\\\"\"},"
	    "{\"x-amz-algorithm\":\"AWS4-HMAC-SHA256\"},{\"x-amz-credential\":\"cred\"},"
	    "{\"x-amz-date\":\"20260101T000000Z\"},{\"x-amz-security-token\":\"tok/+=\"}]}");
	buf_reset(&b);
	/* bad_ */
	ck_assert_int_eq(s3_post_policy(&b, "x", "b", "k", 6, 5, NULL, "c", "d", NULL), -1);
	ck_assert_int_eq(s3_post_policy(&b, "x", "b", "a/../k", 0, 5, NULL, "c", "d", NULL), -1);
	ck_assert_int_eq(s3_post_policy(&b, "x", "b", "k", 0, 5, "a\r\nb", "c", "d", NULL), -1);
	ck_assert_int_eq(s3_post_policy(&b, NULL, "b", "k", 0, 5, NULL, "c", "d", NULL), -1);
	ck_assert_uint_eq(b.len, 0);
	buf_free(&b);
}
END_TEST

/* Base64 (standard, padded) back to bytes; caller frees. */
static char *
b64_decode(const char *in, size_t *outlen)
{
	size_t n = strlen(in);
	unsigned char *out = xmalloc(n / 4 * 3 + 1);
	int len = EVP_DecodeBlock(out, (const unsigned char *)in, (int)n);

	ck_assert_int_ge(len, 0);
	while (n > 0 && in[n - 1] == '=') {	/* EVP_DecodeBlock counts the padding */
		len--;
		n--;
	}
	out[len] = '\0';
	*outlen = (size_t)len;
	return (char *)out;
}

static const char *
field(const struct s3_post_form *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->nfields; i++)
		if (strcmp(f->fields[i].name, name) == 0)
			return f->fields[i].value;
	return NULL;
}

START_TEST(test_presign_post_form)
{
	static const char *const lines[] = { "AWS_ENDPOINT_URL_S3=http://127.0.0.1:9000", NULL };
	struct s3_post_params p = { "uploads/0123", 1, 10485760, "image/png", 900 };
	struct s3_post_form f;
	struct client c;
	struct buf want = BUF_INIT;
	json_object *doc;
	char sig[65], *policy;
	size_t plen;

	tu_clock_install(TU_EPOCH_S * 1000);
	client_open(&c, lines, NULL);
	ck_assert_ptr_nonnull(c.s);
	ck_assert_int_eq(s3_presign_post(c.s, &p, TU_EPOCH_S, &f), 0);
	ck_assert_str_eq(f.url, "http://127.0.0.1:9000/fileshare-test");
	ck_assert_uint_eq(f.nfields, 7);
	ck_assert_str_eq(f.fields[0].name, "key");
	ck_assert_str_eq(f.fields[0].value, "uploads/0123");
	ck_assert_str_eq(f.fields[1].name, "Content-Type");
	ck_assert_str_eq(f.fields[1].value, "image/png");
	ck_assert_str_eq(f.fields[2].name, "x-amz-algorithm");
	ck_assert_str_eq(f.fields[2].value, "AWS4-HMAC-SHA256");
	ck_assert_str_eq(f.fields[3].name, "x-amz-credential");
	ck_assert_str_eq(f.fields[3].value, AKID "/20260101/us-east-1/s3/aws4_request");
	ck_assert_str_eq(f.fields[4].name, "x-amz-date");
	ck_assert_str_eq(f.fields[4].value, "20260101T000000Z");
	ck_assert_str_eq(f.fields[5].name, "policy");
	ck_assert_str_eq(f.fields[6].name, "x-amz-signature");
	ck_assert_ptr_null(field(&f, "x-amz-security-token"));

	policy = b64_decode(field(&f, "policy"), &plen);
	ck_assert_int_eq(s3_post_policy(&want, "2026-01-01T00:15:00.000Z", "fileshare-test",
	    "uploads/0123", 1, 10485760, "image/png", AKID "/20260101/us-east-1/s3/aws4_request",
	    "20260101T000000Z", NULL), 0);
	ck_assert_str_eq(policy, buf_str(&want));
	doc = json_tokener_parse(policy);
	ck_assert_ptr_nonnull(doc);
	ck_assert_str_eq(tu_json_str(doc, "expiration"), "2026-01-01T00:15:00.000Z");
	json_object_put(doc);
	ck_assert_int_eq(s3_post_signature(SECRET, "20260101", "us-east-1", field(&f, "policy"),
	    sig), 0);
	ck_assert_str_eq(field(&f, "x-amz-signature"), sig);
	free(policy);
	s3_post_form_free(&f);
	s3_post_form_free(&f);		/* zeroed: a no-op */
	s3_post_form_free(NULL);

	/* without a content type the form sends none */
	p.content_type = NULL;
	ck_assert_int_eq(s3_presign_post(c.s, &p, TU_EPOCH_S, &f), 0);
	ck_assert_uint_eq(f.nfields, 6);
	ck_assert_ptr_null(field(&f, "Content-Type"));
	s3_post_form_free(&f);

	/* bad_ inputs: nothing made */
	p.min_size = 11;
	p.max_size = 10;
	ck_assert_int_eq(s3_presign_post(c.s, &p, TU_EPOCH_S, &f), -1);
	ck_assert_ptr_null(f.url);
	ck_assert_uint_eq(f.nfields, 0);
	p.min_size = 0;
	p.max_size = S3_MAX_PUT + 1;
	ck_assert_int_eq(s3_presign_post(c.s, &p, TU_EPOCH_S, &f), -1);
	p.max_size = 10;
	p.expires_s = 0;
	ck_assert_int_eq(s3_presign_post(c.s, &p, TU_EPOCH_S, &f), -1);
	p.expires_s = SIGV4_MAX_EXPIRES + 1;
	ck_assert_int_eq(s3_presign_post(c.s, &p, TU_EPOCH_S, &f), -1);
	p.expires_s = 60;
	p.key = "";
	ck_assert_int_eq(s3_presign_post(c.s, &p, TU_EPOCH_S, &f), -1);
	p.key = "k";
	p.content_type = "text/plain\r\nX-Evil: 1";
	ck_assert_int_eq(s3_presign_post(c.s, &p, TU_EPOCH_S, &f), -1);
	ck_assert_int_eq(s3_presign_post(c.s, NULL, TU_EPOCH_S, &f), -1);
	buf_free(&want);
	client_close(&c);
}
END_TEST

START_TEST(test_presign_post_session_token)
{
	static const char *const lines[] = { "AWS_SESSION_TOKEN=FwoGZXIvYXdzE+token/==", NULL };
	struct s3_post_params p = { "k", 0, 100, NULL, 60 };
	struct s3_post_form f;
	struct client c;
	char *policy;
	size_t plen;

	client_open(&c, lines, NULL);
	ck_assert_int_eq(s3_presign_post(c.s, &p, TU_EPOCH_S, &f), 0);
	ck_assert_str_eq(f.url, "https://fileshare-test.s3.us-east-1.amazonaws.com/");
	ck_assert_str_eq(field(&f, "x-amz-security-token"), "FwoGZXIvYXdzE+token/==");
	ck_assert_str_eq(f.fields[f.nfields - 2].name, "policy");
	policy = b64_decode(field(&f, "policy"), &plen);
	ck_assert_ptr_nonnull(strstr(policy,
	    ",{\"x-amz-security-token\":\"FwoGZXIvYXdzE+token/==\"}]}"));
	ck_assert_ptr_nonnull(strstr(policy, "\"expiration\":\"2026-01-01T00:01:00.000Z\""));
	free(policy);
	s3_post_form_free(&f);
	client_close(&c);
}
END_TEST

/* ---------------------------------------------------------------- presigned GET */

/* AWS's "Authenticating Requests: Using Query Parameters (AWS Signature Version 4)" example:
 * GET examplebucket/test.txt, 2013-05-24T00:00:00Z, 86400 s. */
#define AWS_PRESIGN_NOW		INT64_C(1369353600)
#define AWS_PRESIGN_SIGNATURE	"aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"

static void
aws_example_client(struct client *c, const char *token_line)
{
	const char *lines[6] = {
		"AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
		"AWS_SECRET_ACCESS_KEY=" AWS_EXAMPLE_SECRET,
		"S3_BUCKET=examplebucket",
		"AWS_ENDPOINT_URL_S3=https://s3.amazonaws.com",
		token_line, NULL
	};
	struct s3_options o = { .addressing = S3_ADDR_VIRTUAL };

	client_open(c, lines, &o);
	ck_assert_msg(c->s != NULL, "%s", c->err);
}

START_TEST(test_presign_get_aws_example)
{
	struct client c;
	char *url;

	aws_example_client(&c, NULL);
	ck_assert_int_eq(s3_presign_get(c.s, "test.txt", 86400, NULL, NULL, AWS_PRESIGN_NOW, &url),
	    0);
	ck_assert_str_eq(url, "https://examplebucket.s3.amazonaws.com/test.txt"
	    "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
	    "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
	    "&X-Amz-Date=20130524T000000Z&X-Amz-SignedHeaders=host&X-Amz-Expires=86400"
	    "&X-Amz-Signature=" AWS_PRESIGN_SIGNATURE);
	free(url);
	client_close(&c);
}
END_TEST

START_TEST(test_presign_get_params)
{
	struct client c;
	char *url, *sig;

	aws_example_client(&c, NULL);
	ck_assert_int_eq(s3_presign_get(c.s, "dir/a b+c.txt", 300,
	    "attachment; filename=\"a b.txt\"", "text/plain; charset=utf-8", AWS_PRESIGN_NOW, &url),
	    0);
	ck_assert_msg(strncmp(url, "https://examplebucket.s3.amazonaws.com/dir/a%20b%2Bc.txt"
	    "?response-content-disposition=attachment%3B%20filename%3D%22a%20b.txt%22"
	    "&response-content-type=text%2Fplain%3B%20charset%3Dutf-8"
	    "&X-Amz-Algorithm=AWS4-HMAC-SHA256&", strlen("https://examplebucket.s3.amazonaws.com/"
	    "dir/a%20b%2Bc.txt?response-content-disposition=attachment%3B%20filename%3D%22a%20b.txt"
	    "%22&response-content-type=text%2Fplain%3B%20charset%3Dutf-8&X-Amz-Algorithm="
	    "AWS4-HMAC-SHA256&")) == 0, "%s", url);
	ck_assert_ptr_nonnull(strstr(url, "&X-Amz-Expires=300&"));
	ck_assert_ptr_null(strstr(url, "X-Amz-Security-Token"));
	sig = strstr(url, "&X-Amz-Signature=");
	ck_assert_ptr_nonnull(sig);
	ck_assert_uint_eq(strlen(sig), strlen("&X-Amz-Signature=") + 64);
	ck_assert_str_ne(sig + 17, AWS_PRESIGN_SIGNATURE);
	ck_assert_ptr_null(strchr(strchr(url, '?') + 1, '?'));
	free(url);

	/* only one of the two */
	ck_assert_int_eq(s3_presign_get(c.s, "k", 300, NULL, "image/png", AWS_PRESIGN_NOW, &url), 0);
	ck_assert_ptr_nonnull(strstr(url, "/k?response-content-type=image%2Fpng&X-Amz-Algorithm="));
	free(url);

	/* bad_ inputs */
	ck_assert_int_eq(s3_presign_get(c.s, "k", 0, NULL, NULL, AWS_PRESIGN_NOW, &url), -1);
	ck_assert_ptr_null(url);
	ck_assert_int_eq(s3_presign_get(c.s, "k", SIGV4_MAX_EXPIRES + 1, NULL, NULL,
	    AWS_PRESIGN_NOW, &url), -1);
	ck_assert_int_eq(s3_presign_get(c.s, "k", SIGV4_MAX_EXPIRES, NULL, NULL, AWS_PRESIGN_NOW,
	    &url), 0);
	free(url);
	ck_assert_int_eq(s3_presign_get(c.s, "a/./b", 60, NULL, NULL, AWS_PRESIGN_NOW, &url), -1);
	ck_assert_int_eq(s3_presign_get(c.s, "k", 60, "attachment\r\nSet-Cookie: x", NULL,
	    AWS_PRESIGN_NOW, &url), -1);
	ck_assert_int_eq(s3_presign_get(c.s, "k", 60, NULL, "text/plain\n", AWS_PRESIGN_NOW, &url),
	    -1);
	ck_assert_ptr_null(url);
	client_close(&c);
}
END_TEST

START_TEST(test_presign_get_session_token)
{
	struct client c;
	char *url;

	aws_example_client(&c, "AWS_SESSION_TOKEN=IQoJb3JpZ2lu+/=");
	ck_assert_int_eq(s3_presign_get(c.s, "test.txt", 86400, NULL, NULL, AWS_PRESIGN_NOW, &url),
	    0);
	ck_assert_ptr_nonnull(strstr(url, "&X-Amz-Expires=86400&X-Amz-Security-Token="
	    "IQoJb3JpZ2lu%2B%2F%3D&X-Amz-Signature="));
	/* the token is signed, so the signature differs from the example's */
	ck_assert_ptr_null(strstr(url, AWS_PRESIGN_SIGNATURE));
	free(url);
	client_close(&c);
}
END_TEST

/* ---------------------------------------------------------------- calls without a server */

static int
closed_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	ck_assert_int_ge(fd, 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

struct sleeps {
	int	n;
	int64_t	ms[8];
};

static void
record_sleep(void *ctx, int64_t ms)
{
	struct sleeps *s = ctx;

	if (s->n < 8)
		s->ms[s->n] = ms;
	s->n++;
}

static double
fixed_random(void *ctx)
{
	return *(double *)ctx;
}

/* A streamed body of n bytes from memory, counting reads and rewinds. */
struct mstream {
	const char	*data;
	size_t		 n, pos;
	int		 reads, rewinds;
	bool		 rewind_fails;
};

static ssize_t
mstream_read(void *ctx, void *dst, size_t n)
{
	struct mstream *m = ctx;

	if (n > m->n - m->pos)
		n = m->n - m->pos;
	memcpy(dst, m->data + m->pos, n);
	m->pos += n;
	m->reads++;
	return (ssize_t)n;
}

static int
mstream_rewind(void *ctx)
{
	struct mstream *m = ctx;

	m->rewinds++;
	if (m->rewind_fails)
		return -1;
	m->pos = 0;
	return 0;
}

START_TEST(test_retries_unreachable)
{
	char line[96];
	const char *lines[2] = { line, NULL };
	struct sleeps sl = { 0 };
	struct s3_error e;
	struct s3_body body = { .data = "hello", .len = 5 };
	struct mstream m = { "streamed", 8, 0, 0, 0, false };
	struct transport_stats st;
	struct client c;
	char etag[S3_ETAG_MAX];
	double r = 0.25;

	snprintf(line, sizeof line, "AWS_ENDPOINT_URL_S3=http://127.0.0.1:%d", closed_port());
	client_open(&c, lines, NULL);
	ck_assert_ptr_nonnull(c.s);
	s3_set_random(c.s, fixed_random, &r);
	s3_set_sleep(c.s, record_sleep, &sl);
	ck_assert_int_eq(s3_put_object(c.s, "k", &body, "text/plain", etag, &e), -1);
	ck_assert_int_eq(e.kind, S3_ERR_UNAVAILABLE);
	ck_assert_int_eq(e.transport, TRANSPORT_ERR_CONNECT);
	ck_assert_int_eq(e.attempts, S3_MAX_ATTEMPTS);
	ck_assert_str_eq(etag, "");
	ck_assert_int_eq(sl.n, 2);
	ck_assert_int_eq(sl.ms[0], ddb_backoff_ms(1, r));
	ck_assert_int_eq(sl.ms[1], ddb_backoff_ms(2, r));
	ck_assert_int_eq(s3_retry_quota(c.s), DDB_QUOTA_INITIAL - 2 * DDB_QUOTA_RETRY_COST);

	/* a stream without rewind is retried too while none of it was read */
	body.data = NULL;
	body.read = mstream_read;
	body.ctx = &m;
	body.len = m.n;
	ck_assert_int_eq(s3_put_object(c.s, "k", &body, NULL, etag, &e), -1);
	ck_assert_int_eq(e.attempts, S3_MAX_ATTEMPTS);
	ck_assert_int_eq(m.reads, 0);

	ck_assert_int_eq(s3_delete_object(c.s, "k", &e), -1);
	ck_assert_int_eq(e.kind, S3_ERR_UNAVAILABLE);
	transport_stats(c.t, &st);
	ck_assert_uint_eq(st.calls, 3 * S3_MAX_ATTEMPTS);
	client_close(&c);
}
END_TEST

/* Inputs refused before anything is sent: no transport call, S3_ERR_BAD_REQUEST. */
START_TEST(test_bad_inputs_not_sent)
{
	static const char *const lines[] = { "AWS_ENDPOINT_URL_S3=http://s3.example.invalid:9000",
	    NULL };
	struct mstream m = { "x", 1, 0, 0, 0, false };
	struct s3_body streamed = { .read = mstream_read, .ctx = &m, .len = 1 };
	struct s3_body both = { .data = "x", .read = mstream_read, .ctx = &m, .len = 1 };
	struct s3_body rewind_only = { .data = "x", .rewind = mstream_rewind, .len = 1 };
	struct s3_body badhash = { .data = "x", .len = 1, .sha256 = "ABC" };
	struct s3_body mem = { .data = "x", .len = 1 };
	struct s3_part parts[] = { { 2, "a" }, { 1, "b" } };
	struct transport_stats st;
	struct s3_head h;
	struct s3_list l;
	struct s3_error e;
	struct client c;
	char etag[S3_ETAG_MAX], *id = (char *)"x";

	client_open(&c, lines, NULL);
	ck_assert_ptr_nonnull(c.s);
	/* plain http, not loopback: a stream needs its hash */
	ck_assert_int_eq(s3_put_object(c.s, "k", &streamed, NULL, etag, &e), -1);
	ck_assert_int_eq(e.kind, S3_ERR_BAD_REQUEST);
	ck_assert_int_eq(e.attempts, 0);
	ck_assert_ptr_nonnull(strstr(e.message, "SHA-256"));
	ck_assert_int_eq(s3_put_object(c.s, "k", &both, NULL, etag, &e), -1);
	ck_assert_int_eq(s3_put_object(c.s, "k", &rewind_only, NULL, etag, &e), -1);
	ck_assert_int_eq(s3_put_object(c.s, "k", &badhash, NULL, etag, &e), -1);
	ck_assert_int_eq(s3_put_object(c.s, "k", NULL, NULL, etag, &e), -1);
	ck_assert_int_eq(s3_put_object(c.s, "a/../k", &mem, NULL, etag, &e), -1);
	ck_assert_int_eq(e.kind, S3_ERR_BAD_REQUEST);
	ck_assert_int_eq(s3_put_object(c.s, "k", &mem, "text/plain\r\nX: y", etag, &e), -1);
	ck_assert_int_eq(s3_head_object(c.s, "", &h, &e), -1);
	ck_assert_int_eq(e.kind, S3_ERR_BAD_REQUEST);
	ck_assert_int_eq(s3_delete_object(c.s, "bad\x01key", &e), -1);
	ck_assert_int_eq(s3_multipart_create(c.s, "..", NULL, &id, &e), -1);
	ck_assert_ptr_null(id);
	ck_assert_int_eq(s3_multipart_upload_part(c.s, "k", "id", 0, &mem, etag, &e), -1);
	ck_assert_int_eq(s3_multipart_upload_part(c.s, "k", "id", S3_MAX_PARTS + 1, &mem, etag, &e),
	    -1);
	ck_assert_int_eq(s3_multipart_upload_part(c.s, "k", "", 1, &mem, etag, &e), -1);
	ck_assert_int_eq(s3_multipart_upload_part(c.s, "k", "i\nd", 1, &mem, etag, &e), -1);
	ck_assert_int_eq(s3_multipart_complete(c.s, "k", "id", parts, 2, etag, &e), -1);
	ck_assert_int_eq(s3_multipart_complete(c.s, "k", "id", parts, 0, etag, &e), -1);
	ck_assert_int_eq(s3_multipart_abort(c.s, "k", "", &e), -1);
	ck_assert_int_eq(s3_list_objects(c.s, NULL, NULL, S3_MAX_LIST_KEYS + 1, &l, &e), -1);
	ck_assert_int_eq(s3_list_objects(c.s, NULL, NULL, -1, &l, &e), -1);
	ck_assert_int_eq(s3_list_objects(c.s, NULL, "", 10, &l, &e), -1);
	ck_assert_int_eq(s3_list_objects(c.s, "a\nb", NULL, 10, &l, &e), -1);
	ck_assert_int_eq(e.kind, S3_ERR_BAD_REQUEST);
	s3_list_free(&l);
	transport_stats(c.t, &st);
	ck_assert_uint_eq(st.calls, 0);
	ck_assert_int_eq(m.reads, 0);
	client_close(&c);
}
END_TEST

/* ---------------------------------------------------------------- a canned loopback server */

struct canned {
	int		 status;
	const char	*headers;	/* extra header lines, each ending in \r\n */
	const char	*body;
};

struct fake {
	pid_t	pid;
	int	port;
	int	log;		/* read end: each request's head and first KiB of body, then "\n@@\n" */
};

/* Reads one request (head and Content-Length body) from fd into req; -1 at EOF. */
static int
read_request(int fd, struct buf *req, size_t *head_len, size_t *body_len)
{
	char tmp[65536];
	char *end, *cl;
	ssize_t n;
	size_t want;

	buf_reset(req);
	for (;;) {
		if (req->len > 0 && (end = strstr(req->data, "\r\n\r\n")) != NULL)
			break;
		if ((n = read(fd, tmp, sizeof tmp)) <= 0)
			return -1;
		buf_append(req, tmp, (size_t)n);
	}
	*head_len = (size_t)(end - req->data) + 4;
	cl = strcasestr(req->data, "\r\nContent-Length:");
	want = cl != NULL && cl < end ? strtoul(cl + 17, NULL, 10) : 0;
	while (req->len - *head_len < want) {
		if ((n = read(fd, tmp, sizeof tmp)) <= 0)
			return -1;
		buf_append(req, tmp, (size_t)n);
	}
	*body_len = want;
	return 0;
}

static void
write_all(int fd, const void *p, size_t n)
{
	const char *s = p;
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, s, n)) <= 0) {
			if (w == -1 && errno == EINTR)
				continue;
			_exit(3);
		}
		s += w;
		n -= (size_t)w;
	}
}

static void
fake_serve(int lfd, int logfd, const struct canned *answers, size_t nanswers)
{
	struct buf req = BUF_INIT, out = BUF_INIT;
	size_t i = 0, hl, bl;
	int fd;

	for (;;) {
		if ((fd = accept(lfd, NULL, NULL)) == -1)
			_exit(2);
		while (read_request(fd, &req, &hl, &bl) == 0) {
			const struct canned *a = &answers[i < nanswers ? i : nanswers - 1];
			bool head = strncmp(req.data, "HEAD ", 5) == 0;
			size_t blen = a->body ? strlen(a->body) : 0;

			i++;
			write_all(logfd, req.data, hl + (bl > 1024 ? 1024 : bl));
			write_all(logfd, "\n@@\n", 4);
			buf_reset(&out);
			buf_printf(&out, "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n%s\r\n", a->status,
			    blen, a->headers ? a->headers : "");
			if (!head && blen)
				buf_append(&out, a->body, blen);
			write_all(fd, out.data, out.len);
		}
		close(fd);
	}
}

static void
fake_start(struct fake *f, const struct canned *answers, size_t n)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	int lfd = socket(AF_INET, SOCK_STREAM, 0), p[2];

	ck_assert_int_ge(lfd, 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof sa), 0);
	ck_assert_int_eq(listen(lfd, 8), 0);
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
	ck_assert_int_eq(pipe(p), 0);
	f->port = ntohs(sa.sin_port);
	f->pid = fork();
	ck_assert_int_ge(f->pid, 0);
	if (f->pid == 0) {
		close(p[0]);
		fake_serve(lfd, p[1], answers, n);
		_exit(0);
	}
	close(lfd);
	close(p[1]);
	f->log = p[0];
}

/* Stops the server and returns what it received (caller frees). */
static char *
fake_stop(struct fake *f)
{
	struct buf all = BUF_INIT;
	char tmp[4096];
	ssize_t n;

	kill(f->pid, SIGKILL);
	waitpid(f->pid, NULL, 0);
	while ((n = read(f->log, tmp, sizeof tmp)) > 0)
		buf_append(&all, tmp, (size_t)n);
	close(f->log);
	buf_appends(&all, "");
	return buf_detach(&all);
}

static int
count(const char *hay, const char *needle)
{
	int n = 0;

	for (; (hay = strstr(hay, needle)) != NULL; hay += strlen(needle))
		n++;
	return n;
}

static void
fake_client(struct client *c, const struct fake *f, struct sleeps *sl)
{
	static double r = 0.0;
	char line[96];
	const char *lines[2] = { line, NULL };

	snprintf(line, sizeof line, "AWS_ENDPOINT_URL_S3=http://127.0.0.1:%d", f->port);
	client_open(c, lines, NULL);
	ck_assert_ptr_nonnull(c->s);
	s3_set_random(c->s, fixed_random, &r);
	s3_set_sleep(c->s, record_sleep, sl);
}

#define XML_ERROR(code)	"<?xml version=\"1.0\"?><Error><Code>" code "</Code><Message>m</Message>" \
	"<RequestId>RID-" code "</RequestId></Error>"
#define COMPLETE_OK	"<CompleteMultipartUploadResult><Location>l</Location><Bucket>b</Bucket>" \
	"<Key>k</Key><ETag>\"3858f62230ac3c915f300c664312c11f-2\"</ETag></CompleteMultipartUploadResult>"

/* A 200 carrying <Error>: a failure, retried when its code is; the body sent is the XML. */
START_TEST(test_complete_error_in_200)
{
	static const struct canned answers[] = {
		{ 200, "x-amz-request-id: R1\r\n", XML_ERROR("InternalError") },
		{ 200, NULL, "\n\n  " COMPLETE_OK },
	};
	struct s3_part parts[] = { { 1, "\"e1\"" }, { 2, "\"e2\"" } };
	struct sleeps sl = { 0 };
	struct s3_error e;
	struct client c;
	struct fake f;
	char etag[S3_ETAG_MAX], *log;

	tu_clock_install(TU_EPOCH_S * 1000);
	fake_start(&f, answers, N_ELEMS(answers));
	fake_client(&c, &f, &sl);
	ck_assert_int_eq(s3_multipart_complete(c.s, "dir/k", "up id/1", parts, 2, etag, &e), 0);
	ck_assert_int_eq(e.attempts, 2);
	ck_assert_int_eq(e.kind, S3_OK);
	ck_assert_str_eq(etag, "\"3858f62230ac3c915f300c664312c11f-2\"");
	ck_assert_int_eq(sl.n, 1);
	log = fake_stop(&f);
	ck_assert_int_eq(count(log, "POST /fileshare-test/dir/k?uploadId=up%20id%2F1 HTTP/1.1"), 2);
	ck_assert_int_eq(count(log, "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/"
	    "2006-03-01/\"><Part><PartNumber>1</PartNumber><ETag>\"e1\"</ETag></Part>"), 2);
	ck_assert_int_eq(count(log, "Content-Type: application/xml\r\n"), 2);
	/* a body in memory is signed with its real hash */
	ck_assert_int_eq(count(log, "x-amz-content-sha256: UNSIGNED-PAYLOAD"), 0);
	free(log);
	client_close(&c);
}
END_TEST

START_TEST(test_complete_error_in_200_final)
{
	static const struct canned answers[] = {
		{ 200, "x-amz-request-id: R2\r\n", XML_ERROR("AccessDenied") },
	};
	struct s3_part parts[] = { { 1, "\"e1\"" } };
	struct sleeps sl = { 0 };
	struct s3_error e;
	struct client c;
	struct fake f;
	char etag[S3_ETAG_MAX];

	tu_clock_install(TU_EPOCH_S * 1000);
	fake_start(&f, answers, N_ELEMS(answers));
	fake_client(&c, &f, &sl);
	ck_assert_int_eq(s3_multipart_complete(c.s, "k", "u", parts, 1, etag, &e), -1);
	ck_assert_int_eq(e.kind, S3_ERR_ACCESS_DENIED);
	ck_assert_int_eq(e.status, 200);
	ck_assert_int_eq(e.attempts, 1);
	ck_assert_str_eq(e.code, "AccessDenied");
	ck_assert_str_eq(e.request_id, "R2");
	free(fake_stop(&f));
	client_close(&c);
}
END_TEST

/* A Date an hour ahead and RequestTimeTooSkewed: the skew is taken, the call signed again. */
START_TEST(test_skew_from_date)
{
	static const struct canned answers[] = {
		{ 403, "Date: Thu, 01 Jan 2026 01:00:00 GMT\r\n", XML_ERROR("RequestTimeTooSkewed") },
		{ 200, "ETag: \"abc\"\r\n", NULL },
	};
	struct s3_body body = { .data = "hello", .len = 5 };
	struct sleeps sl = { 0 };
	struct s3_error e;
	struct client c;
	struct fake f;
	char etag[S3_ETAG_MAX], *log;

	tu_clock_install(TU_EPOCH_S * 1000);
	fake_start(&f, answers, N_ELEMS(answers));
	fake_client(&c, &f, &sl);
	ck_assert_int_eq(s3_put_object(c.s, "k", &body, NULL, etag, &e), 0);
	ck_assert_int_eq(e.attempts, 2);
	ck_assert_int_eq(sl.n, 0);
	ck_assert_int_eq(s3_skew(c.s), 3600);
	ck_assert_str_eq(etag, "\"abc\"");
	log = fake_stop(&f);
	ck_assert_int_eq(count(log, "X-Amz-Date: 20260101T000000Z"), 1);
	ck_assert_int_eq(count(log, "X-Amz-Date: 20260101T010000Z"), 1);
	ck_assert_int_eq(count(log, "x-amz-content-sha256: "
	    "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"), 2);
	free(log);
	client_close(&c);
}
END_TEST

/* 500 after the body was read: a stream with rewind is rewound and resent; without, the first
 * failure is final; a rewind that fails stops the retries. */
START_TEST(test_stream_rewind_on_retry)
{
	static const struct canned answers[] = {
		{ 500, NULL, XML_ERROR("InternalError") },
		{ 503, NULL, XML_ERROR("SlowDown") },
		{ 200, "ETag: \"ok\"\r\n", NULL },
	};
	static const char data[] = "0123456789abcdef";
	struct mstream m = { data, 16, 0, 0, 0, false };
	struct s3_body body = { .read = mstream_read, .rewind = mstream_rewind, .ctx = &m, .len = 16 };
	struct sleeps sl = { 0 };
	struct s3_error e;
	struct client c;
	struct fake f;
	char etag[S3_ETAG_MAX], *log;

	tu_clock_install(TU_EPOCH_S * 1000);
	fake_start(&f, answers, N_ELEMS(answers));
	fake_client(&c, &f, &sl);
	ck_assert_int_eq(s3_multipart_upload_part(c.s, "k", "u", 3, &body, etag, &e), 0);
	ck_assert_int_eq(e.attempts, 3);
	ck_assert_int_eq(m.rewinds, 2);
	ck_assert_str_eq(etag, "\"ok\"");
	ck_assert_int_eq(sl.n, 2);
	log = fake_stop(&f);
	ck_assert_int_eq(count(log, "PUT /fileshare-test/k?partNumber=3&uploadId=u HTTP/1.1"), 3);
	/* loopback: a stream without its hash goes UNSIGNED-PAYLOAD */
	ck_assert_int_eq(count(log, "x-amz-content-sha256: UNSIGNED-PAYLOAD"), 3);
	ck_assert_int_eq(count(log, "\r\n\r\n0123456789abcdef\n@@\n"), 3);
	free(log);
	client_close(&c);
}
END_TEST

START_TEST(test_stream_without_rewind_not_retried)
{
	static const struct canned answers[] = {
		{ 500, "x-amz-request-id: R500\r\n", XML_ERROR("InternalError") },
		{ 200, "ETag: \"ok\"\r\n", NULL },
	};
	static const char data[] = "0123456789abcdef";
	static const char hash[] = "9f9f5111f7b27a781f1f1ddde5ebc2dd2b796bfc7365c9c28b548e564176929f";
	struct mstream m = { data, 16, 0, 0, 0, false };
	struct s3_body body = { .read = mstream_read, .ctx = &m, .len = 16, .sha256 = hash };
	struct sleeps sl = { 0 };
	struct s3_error e;
	struct client c;
	struct fake f;
	char etag[S3_ETAG_MAX], *log;

	tu_clock_install(TU_EPOCH_S * 1000);
	fake_start(&f, answers, N_ELEMS(answers));
	fake_client(&c, &f, &sl);
	ck_assert_int_eq(s3_put_object(c.s, "k", &body, NULL, etag, &e), -1);
	ck_assert_int_eq(e.attempts, 1);
	ck_assert_int_eq(e.kind, S3_ERR_UNAVAILABLE);
	ck_assert_str_eq(e.code, "InternalError");
	ck_assert_str_eq(e.request_id, "R500");
	ck_assert_int_eq(sl.n, 0);
	ck_assert_int_eq(s3_retry_quota(c.s), DDB_QUOTA_INITIAL);	/* no retry, no charge */
	log = fake_stop(&f);
	/* the caller's hash is what is signed and sent */
	ck_assert_int_eq(count(log, hash), 1);
	free(log);

	/* a rewind that fails: stops after the first attempt, and says why */
	fake_start(&f, answers, N_ELEMS(answers));
	client_close(&c);
	fake_client(&c, &f, &sl);
	m.pos = 0;
	m.rewind_fails = true;
	body.rewind = mstream_rewind;
	ck_assert_int_eq(s3_put_object(c.s, "k", &body, NULL, etag, &e), -1);
	ck_assert_int_eq(e.attempts, 1);
	ck_assert_int_eq(m.rewinds, 1);
	ck_assert_ptr_nonnull(strstr(e.message, "rewound"));
	free(fake_stop(&f));
	client_close(&c);
}
END_TEST

/* HEAD: 404 without a body is not_found (not retried); 200 fills the fields. */
START_TEST(test_head_answers)
{
	static const struct canned answers[] = {
		{ 404, "x-amz-request-id: R404\r\n", NULL },
		{ 200, "ETag: \"d41d8cd98f00b204e9800998ecf8427e\"\r\nContent-Type: image/png\r\n"
		  "Last-Modified: Thu, 01 Jan 2026 00:00:00 GMT\r\n", "0123456789" },
		{ 503, NULL, NULL },
	};
	struct sleeps sl = { 0 };
	struct s3_head h;
	struct s3_error e;
	struct client c;
	struct fake f;

	tu_clock_install(TU_EPOCH_S * 1000);
	fake_start(&f, answers, N_ELEMS(answers));
	fake_client(&c, &f, &sl);
	ck_assert_int_eq(s3_head_object(c.s, "missing", &h, &e), -1);
	ck_assert_int_eq(e.kind, S3_ERR_NOT_FOUND);
	ck_assert_int_eq(e.attempts, 1);
	ck_assert_str_eq(e.request_id, "R404");
	ck_assert_int_eq(s3_head_object(c.s, "there", &h, &e), 0);
	ck_assert_uint_eq(h.size, 10);
	ck_assert_str_eq(h.etag, "\"d41d8cd98f00b204e9800998ecf8427e\"");
	ck_assert_str_eq(h.content_type, "image/png");
	ck_assert_int_eq(h.last_modified, TU_EPOCH_S);
	/* 503 without a body: retried, then unavailable */
	ck_assert_int_eq(s3_head_object(c.s, "there", &h, &e), -1);
	ck_assert_int_eq(e.kind, S3_ERR_UNAVAILABLE);
	ck_assert_int_eq(e.attempts, S3_MAX_ATTEMPTS);
	free(fake_stop(&f));
	client_close(&c);
}
END_TEST

/* Create and List over the wire: the query each sends, the answer each reads; DELETE and abort
 * take 404 as done. */
START_TEST(test_create_list_delete)
{
	static const struct canned answers[] = {
		{ 200, NULL, "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
		  "<UploadId>VXBsb2FkIElE+/=</UploadId></InitiateMultipartUploadResult>" },
		{ 200, NULL, "<InitiateMultipartUploadResult><Bucket>b</Bucket>"
		  "</InitiateMultipartUploadResult>" },
		{ 200, NULL, "<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>"
		  "t2/+=</NextContinuationToken><Contents><Key>p/a</Key><Size>1</Size><LastModified>"
		  "2026-01-01T00:00:00Z</LastModified></Contents></ListBucketResult>" },
		{ 200, NULL, "<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>"
		  "t2/+=</NextContinuationToken></ListBucketResult>" },
		{ 404, NULL, XML_ERROR("NoSuchKey") },
		{ 404, NULL, XML_ERROR("NoSuchUpload") },
		{ 403, NULL, XML_ERROR("AccessDenied") },
	};
	struct sleeps sl = { 0 };
	struct s3_list l;
	struct s3_error e;
	struct client c;
	struct fake f;
	char *id, *log;

	tu_clock_install(TU_EPOCH_S * 1000);
	fake_start(&f, answers, N_ELEMS(answers));
	fake_client(&c, &f, &sl);
	ck_assert_int_eq(s3_multipart_create(c.s, "k", "video/mp4", &id, &e), 0);
	ck_assert_str_eq(id, "VXBsb2FkIElE+/=");
	free(id);
	ck_assert_int_eq(s3_multipart_create(c.s, "k", NULL, &id, &e), -1);
	ck_assert_int_eq(e.kind, S3_ERR_OTHER);
	ck_assert_ptr_null(id);
	ck_assert_int_eq(s3_list_objects(c.s, "p/", NULL, 2, &l, &e), 0);
	ck_assert_uint_eq(l.nobjects, 1);
	ck_assert_str_eq(l.next_token, "t2/+=");
	s3_list_free(&l);
	/* the same token back: refused rather than looping */
	ck_assert_int_eq(s3_list_objects(c.s, "p/", "t2/+=", 2, &l, &e), -1);
	ck_assert_int_eq(e.kind, S3_ERR_OTHER);
	s3_list_free(&l);
	ck_assert_int_eq(s3_delete_object(c.s, "gone", &e), 0);
	ck_assert_int_eq(s3_multipart_abort(c.s, "k", "VXBsb2FkIElE+/=", &e), 0);
	ck_assert_int_eq(s3_delete_object(c.s, "k", &e), -1);
	ck_assert_int_eq(e.kind, S3_ERR_ACCESS_DENIED);
	ck_assert_int_eq(e.attempts, 1);
	log = fake_stop(&f);
	ck_assert_int_eq(count(log, "POST /fileshare-test/k?uploads HTTP/1.1"), 2);
	ck_assert_int_eq(count(log, "Content-Type: video/mp4\r\n"), 1);
	ck_assert_int_eq(count(log, "GET /fileshare-test?list-type=2&max-keys=2&prefix=p%2F "
	    "HTTP/1.1"), 1);
	ck_assert_int_eq(count(log, "GET /fileshare-test?continuation-token=t2%2F%2B%3D&list-type=2"
	    "&max-keys=2&prefix=p%2F HTTP/1.1"), 1);
	ck_assert_int_eq(count(log, "DELETE /fileshare-test/k?uploadId=VXBsb2FkIElE%2B%2F%3D "
	    "HTTP/1.1"), 1);
	/* nothing secret in what was sent beyond the Authorization header itself */
	ck_assert_int_eq(count(log, SECRET), 0);
	free(log);
	client_close(&c);
}
END_TEST

static Suite *
s3_suite(void)
{
	Suite *s = suite_create("s3");
	TCase *tc;

	tc = tcase_create("urls");
	tcase_set_timeout(tc, TU_TIMEOUT);
	tcase_add_loop_test(tc, test_endpoints, 0, N_ELEMS(endpoint_cases));
	tcase_add_test(tc, test_bad_missing_settings);
	tcase_add_loop_test(tc, test_key_encoding, 0, N_ELEMS(encode_cases));
	tcase_add_test(tc, test_query_encoding);
	tcase_add_loop_test(tc, test_bad_keys, 0, N_ELEMS(bad_keys));
	tcase_add_test(tc, test_key_lengths);
	suite_add_tcase(s, tc);

	tc = tcase_create("xml");
	tcase_add_loop_test(tc, test_xml_scan, 0, N_ELEMS(scan_cases));
	tcase_add_test(tc, test_bad_xml_nul);
	tcase_add_test(tc, test_xml_limits);
	tcase_add_test(tc, test_list_page);
	tcase_add_loop_test(tc, test_list_cases, 0, N_ELEMS(list_cases));
	tcase_add_test(tc, test_list_big_page);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_loop_test(tc, test_error_parse, 0, N_ELEMS(error_docs));
	tcase_add_test(tc, test_error_parse_truncates);
	tcase_add_loop_test(tc, test_error_kinds, 0, N_ELEMS(kind_cases));
	tcase_add_test(tc, test_errkind_names);
	tcase_add_test(tc, test_complete_xml);
	tcase_add_test(tc, test_bad_complete_parts);
	suite_add_tcase(s, tc);

	tc = tcase_create("presign");
	tcase_set_timeout(tc, TU_TIMEOUT);
	tcase_add_test(tc, test_post_signature_aws_example);
	tcase_add_test(tc, test_post_policy_json);
	tcase_add_test(tc, test_presign_post_form);
	tcase_add_test(tc, test_presign_post_session_token);
	tcase_add_test(tc, test_presign_get_aws_example);
	tcase_add_test(tc, test_presign_get_params);
	tcase_add_test(tc, test_presign_get_session_token);
	suite_add_tcase(s, tc);

	tc = tcase_create("calls");
	tcase_set_timeout(tc, TU_TIMEOUT);
	tcase_add_test(tc, test_retries_unreachable);
	tcase_add_test(tc, test_bad_inputs_not_sent);
	tcase_add_test(tc, test_complete_error_in_200);
	tcase_add_test(tc, test_complete_error_in_200_final);
	tcase_add_test(tc, test_skew_from_date);
	tcase_add_test(tc, test_stream_rewind_on_retry);
	tcase_add_test(tc, test_stream_without_rewind_not_retried);
	tcase_add_test(tc, test_head_answers);
	tcase_add_test(tc, test_create_list_delete);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(s3_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
