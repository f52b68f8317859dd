/*
 * retry: the retry state the AWS clients (dynamodb.c, s3.c) share, the SDKs' "standard" mode.
 * A client keeps a struct aws_retry: its attempt budget, its retry quota (a token bucket that
 * retries drain and successes refill), the clock skew it signs with, and the random source
 * and sleep of its backoff (test hooks). Each call keeps a struct aws_call: the attempts it
 * may still make, one free extra attempt each for a clock-skew correction and for refreshed
 * credentials, and what its last retry took from the quota.
 *
 * The rules themselves (which answers are retried and how, the backoff formula, what shows a
 * skewed clock or refused credentials) are the pure ddb_* functions of dynamodb.h.
 */
#ifndef FILESHARE_AWS_RETRY_H
#define FILESHARE_AWS_RETRY_H

#include <stdbool.h>
#include <stdint.h>

#include "aws/dynamodb.h"

struct creds_provider;

struct aws_retry {
	int	 max_attempts;
	int	 quota;		/* DDB_QUOTA_INITIAL at most */
	int64_t	 skew;		/* seconds added to our clock when signing */
	double	(*rnd)(void *);
	void	*rnd_ctx;
	void	(*sleep_ms)(void *, int64_t);
	void	*sleep_ctx;
};

struct aws_call {
	struct aws_retry *r;
	int	 budget;	/* attempts this call may make */
	int	 retries;	/* backoffs so far */
	int	 last_cost;	/* what the last retry took from the quota (0: none) */
	bool	 skew_fixed;
	bool	 creds_fixed;
};

/* A client's state: max_attempts per call, a full quota, no skew, the real random source
 * (OpenSSL's) and nanosleep. */
void	aws_retry_init(struct aws_retry *, int max_attempts);
/* Test hooks; NULL puts the default back. */
void	aws_retry_set_random(struct aws_retry *, double (*rnd)(void *ctx), void *ctx);
void	aws_retry_set_sleep(struct aws_retry *, void (*sleep_ms)(void *ctx, int64_t ms), void *ctx);

void	aws_call_begin(struct aws_call *, struct aws_retry *);
/* The call succeeded: the quota gets back what its last retry took, or DDB_QUOTA_SUCCESS. */
void	aws_call_succeeded(struct aws_call *);
/*
 * An error answer (ddb_skew_detect's arguments; now_s our uncorrected clock) that shows a
 * skewed clock: the client signs with the correction from now on (*skew, for the log line)
 * and the call gets one more attempt. Once per call; false when it does not apply.
 */
bool	aws_call_fix_skew(struct aws_call *, int status, const char *type, const char *message,
	    const char *date, int64_t now_s, int64_t *skew);
/* Refused credentials (ddb_creds_refused(type)) that a refresh cured: one more attempt.
 * Once per call; false when it does not apply or the refresh failed. */
bool	aws_call_fix_creds(struct aws_call *, const char *type, struct creds_provider *,
	    int64_t now_s);
/* Whether a failed attempt of class cls may be retried: cls allows it, and the call has
 * attempts left after the attempts it made. */
bool	aws_call_may_retry(const struct aws_call *, enum ddb_retry_class cls, int attempts);
/* Takes the retry's cost (by cls) from the client's quota and returns the backoff before it
 * (ms); -1 when the quota cannot pay for it (nothing taken). */
int64_t	aws_call_backoff(struct aws_call *, enum ddb_retry_class cls);
/* Sleeps ms through the client's sleep hook. */
void	aws_retry_sleep(const struct aws_retry *, int64_t ms);

#endif
