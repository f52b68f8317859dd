/*
 * fuzz_creds: what the container credentials endpoint answers (src/aws/credentials.c):
 * creds_parse_response() and its RFC 3339 parser directly, then a provider for a container
 * endpoint whose fetches return the fuzzer's bodies one after another, asked for credentials
 * at times that move past expiries and refresh windows.
 *
 * Input: a selector byte; for the provider, records of [ok byte][u16 length][body].
 * Checks, beyond no crash or leak: parsed credentials are non-empty, free of control
 * characters and not yet expired; a provider hands out usable credentials or fails cleanly
 * (never an expired set), and credentials_usable() agrees with what it returned.
 */
#include "fuzz.h"
#include "fuzzcfg.h"

#include "aws/credentials.h"
#include "aws/transport.h"
#include "buf.h"

#define NOW	INT64_C(1767225600)

static bool
clean_str(const char *s)
{
	if (s == NULL || *s == '\0')
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static struct fuzz_in feed;
static int fetches;

static int
fake_fetch(void *ctx, const char *url, const char *authorization, struct buf *body, char *err,
    size_t errlen)
{
	uint8_t ok = fuzz_byte(&feed);
	size_t len = fuzz_u16(&feed);

	(void)ctx;
	FUZZ_CHECK(url != NULL && !strncmp(url, "http://127.0.0.1", 16));
	FUZZ_CHECK(authorization != NULL && !strcmp(authorization, "Bearer fuzz-agent-token"));
	fetches++;
	if (len > feed.n)
		len = feed.n;
	buf_append(body, feed.p, len);
	feed.p += len;
	feed.n -= len;
	if (!(ok & 1)) {
		snprintf(err, errlen, "HTTP 500");
		return -1;
	}
	return 0;
}

static void
provider(const uint8_t *data, size_t size)
{
	static const char *const vars[] = {
		"DATA_DIR=/nonexistent", "SESSION_SECRET=" FUZZ_SECRET,
		"AWS_REGION=us-east-1",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:9/v1/credentials",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN=Bearer fuzz-agent-token",
		NULL,
	};
	static const int64_t steps[] = { 0, 1, 60, 3000, 3600, 7200, 86400, 2, 300 };
	static struct transport *t;	/* needed to make a provider; never used (fake_fetch) */
	struct config cfg;
	struct creds_provider *cp;
	struct aws_credentials c;
	char err[256];
	int64_t now = NOW;
	size_t i;
	int rc;

	memset(&cfg, 0, sizeof cfg);
	fuzzcfg_parse(&cfg, vars);
	if (t == NULL && (t = transport_new()) == NULL)
		abort();
	cp = creds_provider_new(&cfg, t, err, sizeof err);
	FUZZ_CHECK(cp != NULL);
	creds_provider_set_fetch(cp, fake_fetch, NULL);
	feed.p = data;
	feed.n = size;
	fetches = 0;
	for (i = 0; i < sizeof steps / sizeof steps[0] && feed.n > 0; i++) {
		now += steps[i];
		rc = credentials_get(cp, now, &c);
		FUZZ_CHECK(rc == 0 || rc == -1);
		if (rc == 0) {
			FUZZ_CHECK(clean_str(c.access_key_id) && clean_str(c.secret_access_key) &&
			    clean_str(c.session_token));
			FUZZ_CHECK(c.expiration > now);
			FUZZ_CHECK(credentials_usable(cp, now));
		} else
			FUZZ_CHECK(!credentials_usable(cp, now));
		aws_credentials_clear(&c);
		if (i % 3 == 2)
			(void)credentials_refresh(cp, now);
	}
	creds_provider_free(cp);
	config_free(&cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t sel = fuzz_byte(&in);
	struct aws_credentials c;
	char err[256], *s;
	int64_t t;

	switch (sel % 3) {
	case 0:
		if (creds_parse_response((const char *)in.p, in.n, NOW, &c, err, sizeof err) == 0) {
			FUZZ_CHECK(clean_str(c.access_key_id) && clean_str(c.secret_access_key) &&
			    clean_str(c.session_token));
			FUZZ_CHECK(c.expiration > NOW);
		} else
			FUZZ_CHECK(c.access_key_id == NULL && err[0] != '\0');
		aws_credentials_clear(&c);
		FUZZ_CHECK(c.access_key_id == NULL && c.secret_access_key == NULL);
		break;
	case 1:
		s = fuzz_rest_dup(&in, NULL);
		if (creds_parse_rfc3339(s, &t) == 0)
			FUZZ_CHECK(t >= -24 * 3600 && t < INT64_C(253402387200));	/* 1970 to 9999, offsets */
		(void)creds_check_full_uri(s, err, sizeof err);
		free(s);
		break;
	case 2:
		provider(in.p, in.n);
		break;
	}
	return 0;
}
