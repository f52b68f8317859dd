/* The retry state of the AWS clients (see retry.h). */
#include "aws/retry.h"

#include <errno.h>
#include <time.h>

#include "aws/credentials.h"
#include "encode.h"

static double
default_random(void *ctx)
{
	uint32_t v;

	(void)ctx;
	random_bytes(&v, sizeof v);
	return (double)v / 4294967296.0;
}

static void
default_sleep(void *ctx, int64_t ms)
{
	struct timespec ts, rem;

	(void)ctx;
	if (ms <= 0)
		return;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &rem) == -1 && errno == EINTR)
		ts = rem;
}

void
aws_retry_init(struct aws_retry *r, int max_attempts)
{
	r->max_attempts = max_attempts;
	r->quota = DDB_QUOTA_INITIAL;
	r->skew = 0;
	aws_retry_set_random(r, NULL, NULL);
	aws_retry_set_sleep(r, NULL, NULL);
}

void
aws_retry_set_random(struct aws_retry *r, double (*rnd)(void *), void *ctx)
{
	r->rnd = rnd ? rnd : default_random;
	r->rnd_ctx = ctx;
}

void
aws_retry_set_sleep(struct aws_retry *r, void (*sleep_ms)(void *, int64_t), void *ctx)
{
	r->sleep_ms = sleep_ms ? sleep_ms : default_sleep;
	r->sleep_ctx = ctx;
}

void
aws_call_begin(struct aws_call *c, struct aws_retry *r)
{
	c->r = r;
	c->budget = r->max_attempts;
	c->retries = 0;
	c->last_cost = 0;
	c->skew_fixed = false;
	c->creds_fixed = false;
}

void
aws_call_succeeded(struct aws_call *c)
{
	c->r->quota += c->last_cost ? c->last_cost : DDB_QUOTA_SUCCESS;
	if (c->r->quota > DDB_QUOTA_INITIAL)
		c->r->quota = DDB_QUOTA_INITIAL;
}

bool
aws_call_fix_skew(struct aws_call *c, int status, const char *type, const char *message,
    const char *date, int64_t now_s, int64_t *skew)
{
	if (c->skew_fixed ||
	    !ddb_skew_detect(status, type, message, date, now_s, c->r->skew, skew))
		return false;
	c->r->skew = *skew;
	c->skew_fixed = true;
	c->budget++;
	return true;
}

bool
aws_call_fix_creds(struct aws_call *c, const char *type, struct creds_provider *creds,
    int64_t now_s)
{
	if (c->creds_fixed || !ddb_creds_refused(type) || credentials_refresh(creds, now_s) != 0)
		return false;
	c->creds_fixed = true;
	c->budget++;
	return true;
}

bool
aws_call_may_retry(const struct aws_call *c, enum ddb_retry_class cls, int attempts)
{
	return cls != DDB_RETRY_NO && attempts < c->budget;
}

int64_t
aws_call_backoff(struct aws_call *c, enum ddb_retry_class cls)
{
	int cost = cls == DDB_RETRY_TIMEOUT ? DDB_QUOTA_TIMEOUT_COST : DDB_QUOTA_RETRY_COST;

	if (c->r->quota < cost)
		return -1;
	c->r->quota -= cost;
	c->last_cost = cost;
	c->retries++;
	return ddb_backoff_ms(c->retries, c->r->rnd(c->r->rnd_ctx));
}

void
aws_retry_sleep(const struct aws_retry *r, int64_t ms)
{
	r->sleep_ms(r->sleep_ctx, ms);
}
