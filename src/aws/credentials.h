/*
 * credentials: the AWS credentials the signers use, from the standard chain:
 *
 *  1. the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (read by
 *     config.c; static, never refreshed);
 *  2. the container endpoint (ECS task role, EKS Pod Identity): GET
 *     http://169.254.170.2$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, or
 *     $AWS_CONTAINER_CREDENTIALS_FULL_URI, which must name a loopback or link-local host
 *     (127.0.0.0/8, ::1, localhost, 169.254.0.0/16, fe80::/10, or EKS's fd00:ec2::23); anything
 *     else is refused at start-up. The Authorization header carries the token in the file
 *     AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (read again at every refresh, since the agent
 *     rotates it) or else AWS_CONTAINER_AUTHORIZATION_TOKEN. (The SDKs also accept any https://
 *     FULL_URI host; this project does not.)
 *
 * Container credentials are cached and refreshed once fewer than CREDS_REFRESH_BEFORE_S seconds
 * are left before their Expiration. If a refresh fails, the cached credentials stay in use
 * while they are unexpired (with a warning in the log, and no new attempt for
 * CREDS_RETRY_AFTER_S seconds); once expired, credentials_get() fails. Time is always the
 * caller's (now, epoch seconds), so tests are exact.
 *
 * Secrets: no key, secret, session token or authorization token is ever logged or put in an
 * error message. Everything this module holds is wiped with OPENSSL_cleanse when freed, and the
 * copies it hands out must be released with aws_credentials_clear(), which wipes them too.
 */
#ifndef FS_AWS_CREDENTIALS_H
#define FS_AWS_CREDENTIALS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct config;
struct transport;

#define CREDS_REFRESH_BEFORE_S		300	/* refresh this long before Expiration */
#define CREDS_RETRY_AFTER_S		10	/* after a failed attempt (cache usable), or a fetch
						   that brought credentials already due */
#define CREDS_RETRY_AFTER_EXPIRED_S	1	/* after a failed attempt with nothing usable */
#define CREDS_ECS_HOST			"169.254.170.2"
#define CREDS_FETCH_TIMEOUT_MS		2000L	/* per attempt, like the SDKs */
#define CREDS_FETCH_ATTEMPTS		2
#define CREDS_MAX_RESPONSE		(64 * 1024)

/* A copy of the current credentials; owned strings. A zeroed struct is empty. */
struct aws_credentials {
	char	*access_key_id;
	char	*secret_access_key;
	char	*session_token;		/* NULL for long-term keys */
	int64_t	 expiration;		/* epoch seconds; 0: does not expire */
};

/* Wipes and frees the strings, and zeroes the struct. NULL is a no-op. */
void	aws_credentials_clear(struct aws_credentials *);

enum creds_source { CREDS_SOURCE_ENV, CREDS_SOURCE_CONTAINER };

struct creds_provider;

/*
 * Reads the chain's settings from cfg->aws. Returns NULL with one line in err (naming the
 * variable, never a value that could be a secret) when nothing is configured, FULL_URI is not
 * an allowed http(s) URL, or RELATIVE_URI does not start with '/'. t (borrowed; it must outlive
 * the provider) is only used for the container endpoint and may be NULL for environment keys.
 * Nothing is fetched here: the first credentials_get() does it.
 */
struct creds_provider *creds_provider_new(const struct config *cfg, struct transport *t,
	    char *err, size_t errlen);
void	creds_provider_free(struct creds_provider *);
enum creds_source creds_provider_source(const struct creds_provider *);
/* The URL the container credentials come from; NULL for environment keys. */
const char *creds_provider_url(const struct creds_provider *);

/*
 * The credentials to sign with at time now: a copy into *out (which need not be initialised;
 * release it with aws_credentials_clear() on success and failure alike). Fetches or refreshes
 * from the container endpoint when due (see above). 0, or -1 (logged) when there are no
 * usable credentials.
 */
int	credentials_get(struct creds_provider *, int64_t now, struct aws_credentials *out);
/*
 * Fetches new container credentials at once, whatever the cache holds (after the service
 * refused the current ones). 0 if new ones were stored; -1 if the fetch failed (logged; the
 * cache is kept) or the credentials come from the environment (nothing to refresh).
 */
int	credentials_refresh(struct creds_provider *, int64_t now);
/* Whether the cache holds credentials usable at now (for tests and /readyz). */
bool	credentials_usable(const struct creds_provider *, int64_t now);

/*
 * How the provider fetches: GET url with the Authorization header value authorization (NULL:
 * none); the response body into body. Returns 0 on a 200 answer, -1 with a one-line reason in
 * err otherwise (never the authorization value). The default goes through the transport; tests
 * install their own.
 */
typedef int (*creds_fetch_fn)(void *ctx, const char *url, const char *authorization,
	    struct buf *body, char *err, size_t errlen);
void	creds_provider_set_fetch(struct creds_provider *, creds_fetch_fn, void *ctx);

/* ------------------------------------------------------------------ pure parts, for tests */

/*
 * Parses the endpoint's answer, strictly: a JSON object with non-empty strings AccessKeyId,
 * SecretAccessKey, Token and Expiration (RFC 3339), no control characters in any of them,
 * Expiration later than now. Other members (RoleArn, ...) are ignored. 0 and *out filled
 * (release with aws_credentials_clear), or -1 with a reason in err (no secret in it).
 */
int	creds_parse_response(const char *body, size_t len, int64_t now,
	    struct aws_credentials *out, char *err, size_t errlen);
/*
 * Parses an RFC 3339 date-time ("2026-11-24T16:47:59Z", fractional seconds and numeric
 * offsets allowed, "t"/"z" in either case) to epoch seconds (fraction dropped). 0 or -1.
 */
int	creds_parse_rfc3339(const char *s, int64_t *out);
/*
 * Whether a FULL_URI may be used: http or https, and a host that is loopback, link-local,
 * "localhost" or EKS's fd00:ec2::23 (IP literals only otherwise: no DNS names). 0, or -1 with
 * a reason in err.
 */
int	creds_check_full_uri(const char *uri, char *err, size_t errlen);

#endif
