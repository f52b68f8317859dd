#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "aws/ddb_schema.h"
#include "encode.h"
#include "num.h"
#include "xmalloc.h"

#define DAY (24 * 60 * 60)

struct parser {
	config_getter	 get;
	void		*ctx;
	char		*err;
	size_t		 errlen;
};

static int __attribute__((format(printf, 2, 3)))
fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->err, p->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* A set-but-empty variable counts as unset, as shells and ECS task definitions produce those. */
static const char *
val(struct parser *p, const char *name)
{
	const char *v = p->get(name, p->ctx);
	return v != NULL && *v != '\0' ? v : NULL;
}

static int
get_str(struct parser *p, const char *name, const char *def, char **out)
{
	const char *v = val(p, name);
	size_t i;

	if (v == NULL)
		v = def;
	if (v != NULL)
		for (i = 0; v[i]; i++)
			if ((unsigned char)v[i] < 0x20)
				return fail(p, "%s: contains a control character", name);
	*out = xstrdup(v);
	return 0;
}

static int
get_bool(struct parser *p, const char *name, bool def, bool *out)
{
	const char *v = val(p, name);

	if (v == NULL)
		*out = def;
	else if (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "yes"))
		*out = true;
	else if (!strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "no"))
		*out = false;
	else
		return fail(p, "%s: must be true or false, got \"%.40s\"", name, v);
	return 0;
}

static int
get_i64(struct parser *p, const char *name, int64_t def, int64_t min, int64_t max, int64_t *out)
{
	const char *v = val(p, name);

	if (v == NULL) {
		*out = def;
		return 0;
	}
	if (num_parse_i64(v, min, max, out) == -1)
		return fail(p, "%s: must be an integer from %lld to %lld, got \"%.40s\"", name,
		    (long long)min, (long long)max, v);
	return 0;
}

static int
get_size(struct parser *p, const char *name, uint64_t def, uint64_t *out)
{
	const char *v = val(p, name);

	if (v == NULL) {
		*out = def;
		return 0;
	}
	if (num_parse_size(v, 1ULL << 42, out) == -1 || *out == 0)
		return fail(p, "%s: must be a positive size in bytes (suffix K, M or G allowed), got \"%.40s\"",
		    name, v);
	return 0;
}

/* http(s)://host[:port][/path], no query, fragment, credentials or trailing slash kept. */
static int
check_base_url(struct parser *p, const char *name, char *url, bool *https)
{
	const char *rest;
	size_t n;

	if (!strncmp(url, "https://", 8)) {
		*https = true;
		rest = url + 8;
	} else if (!strncmp(url, "http://", 7)) {
		*https = false;
		rest = url + 7;
	} else
		return fail(p, "%s: must start with http:// or https://", name);
	if (*rest == '\0' || *rest == '/' || strpbrk(url, "?#@ ") != NULL)
		return fail(p, "%s: must be a plain http(s) URL with a host, no credentials, query or fragment", name);
	n = strlen(url);
	while (n > 0 && url[n - 1] == '/')
		url[--n] = '\0';
	return 0;
}

static int
read_secret_file(struct parser *p, const char *path, struct config *cfg)
{
	char tmp[4200], hex[129];
	unsigned char raw[32];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1 && errno == ENOENT) {
		/* First run: write a temporary file, then link() it into place so that
		 * several processes starting at once all end up with the same secret. */
		random_bytes(raw, sizeof raw);
		hex_encode(raw, sizeof raw, hex);
		OPENSSL_cleanse(raw, sizeof raw);
		snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd == -1)
			return fail(p, "SESSION_SECRET: unset, and cannot create %s: %s", tmp, strerror(errno));
		if (write(fd, hex, 64) != 64 || fsync(fd) == -1) {
			close(fd);
			unlink(tmp);
			OPENSSL_cleanse(hex, sizeof hex);
			return fail(p, "SESSION_SECRET: unset, and cannot write %s", tmp);
		}
		close(fd);
		OPENSSL_cleanse(hex, sizeof hex);
		if (link(tmp, path) == -1 && errno != EEXIST) {
			unlink(tmp);
			return fail(p, "SESSION_SECRET: unset, and cannot create %s: %s", path, strerror(errno));
		}
		unlink(tmp);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd == -1)
		return fail(p, "SESSION_SECRET: unset, and cannot read %s: %s", path, strerror(errno));
	n = read(fd, hex, sizeof hex - 1);
	close(fd);
	if (n < 32) {
		OPENSSL_cleanse(hex, sizeof hex);
		return fail(p, "SESSION_SECRET: unset, and %s holds fewer than 32 characters", path);
	}
	memcpy(cfg->session_secret, hex, (size_t)n > sizeof cfg->session_secret ?
	    sizeof cfg->session_secret : (size_t)n);
	cfg->session_secret_len = (size_t)n > sizeof cfg->session_secret ?
	    sizeof cfg->session_secret : (size_t)n;
	OPENSSL_cleanse(hex, sizeof hex);
	return 0;
}

static int
load_limits(struct parser *p, struct config *cfg)
{
	struct tier_limits *f = &cfg->limits[TIER_FREE], *pr = &cfg->limits[TIER_PREMIUM];

	if (get_size(p, "FREE_MAX_FILE_SIZE", 100ULL << 20, &f->max_file_bytes) ||
	    get_size(p, "PREMIUM_MAX_FILE_SIZE", 5ULL << 30, &pr->max_file_bytes) ||
	    get_i64(p, "FREE_MAX_LIFETIME_DAYS", 7, 1, 3650, &f->max_lifetime_s) ||
	    get_i64(p, "FREE_DEFAULT_LIFETIME_DAYS", 7, 1, 3650, &f->default_lifetime_s) ||
	    get_i64(p, "PREMIUM_MAX_LIFETIME_DAYS", 365, 1, 3650, &pr->max_lifetime_s) ||
	    get_i64(p, "PREMIUM_DEFAULT_LIFETIME_DAYS", 30, 1, 3650, &pr->default_lifetime_s) ||
	    get_i64(p, "FREE_MAX_LINKS", 50, 1, 100000000, &f->max_active_links) ||
	    get_i64(p, "PREMIUM_MAX_LINKS", 10000, 1, 100000000, &pr->max_active_links))
		return -1;
	if (f->default_lifetime_s > f->max_lifetime_s)
		return fail(p, "FREE_DEFAULT_LIFETIME_DAYS: must not exceed FREE_MAX_LIFETIME_DAYS");
	if (pr->default_lifetime_s > pr->max_lifetime_s)
		return fail(p, "PREMIUM_DEFAULT_LIFETIME_DAYS: must not exceed PREMIUM_MAX_LIFETIME_DAYS");
	f->max_lifetime_s *= DAY;
	f->default_lifetime_s *= DAY;
	pr->max_lifetime_s *= DAY;
	pr->default_lifetime_s *= DAY;
	f->custom_slugs = false;
	pr->custom_slugs = true;
	cfg->limits[TIER_TRIAL] = *pr;
	return 0;
}

int
config_parse(struct config *cfg, config_getter get, void *ctx, char *err, size_t errlen)
{
	struct parser p = { get, ctx, err, errlen };
	const char *secret, *lvl;
	char *path = NULL;
	int64_t i;

	memset(cfg, 0, sizeof *cfg);
	if (get_str(&p, "DATA_DIR", "./var", &cfg->data_dir) ||
	    get_bool(&p, "USE_DYNAMODB", false, &cfg->use_dynamodb) ||
	    get_str(&p, "AWS_REGION", NULL, &cfg->aws_region) ||
	    get_str(&p, "DYNAMODB_USERS_TABLE_NAME", DDB_DEFAULT_USERS_TABLE, &cfg->users_table) ||
	    get_str(&p, "DYNAMODB_URLS_TABLE_NAME", DDB_DEFAULT_URLS_TABLE, &cfg->urls_table) ||
	    get_str(&p, "AWS_ENDPOINT_URL_DYNAMODB", NULL, &cfg->dynamodb_endpoint) ||
	    get_str(&p, "SQLITE_PATH", NULL, &cfg->sqlite_path) ||
	    get_str(&p, "BLOB_BACKEND", "local", &cfg->blob_backend) ||
	    get_str(&p, "BLOB_DIR", NULL, &cfg->blob_dir) ||
	    get_str(&p, "S3_BUCKET", NULL, &cfg->s3_bucket) ||
	    get_str(&p, "AWS_ENDPOINT_URL_S3", NULL, &cfg->s3_endpoint) ||
	    get_str(&p, "PUBLIC_BASE_URL", "http://127.0.0.1:8080", &cfg->public_base_url) ||
	    get_i64(&p, "PURGE_INTERVAL", 600, 0, 7 * DAY, &cfg->purge_interval_s) ||
	    get_str(&p, "AWS_ACCESS_KEY_ID", NULL, &cfg->aws.access_key_id) ||
	    get_str(&p, "AWS_SECRET_ACCESS_KEY", NULL, &cfg->aws.secret_access_key) ||
	    get_str(&p, "AWS_SESSION_TOKEN", NULL, &cfg->aws.session_token) ||
	    get_str(&p, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", NULL, &cfg->aws.container_relative_uri) ||
	    get_str(&p, "AWS_CONTAINER_CREDENTIALS_FULL_URI", NULL, &cfg->aws.container_full_uri) ||
	    get_str(&p, "AWS_CONTAINER_AUTHORIZATION_TOKEN", NULL, &cfg->aws.container_auth_token) ||
	    get_str(&p, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", NULL, &cfg->aws.container_auth_token_file) ||
	    load_limits(&p, cfg))
		goto fail;

	lvl = val(&p, "LOG_LEVEL");
	cfg->log_level = 1;
	if (lvl != NULL) {
		static const char *lv[] = { "debug", "info", "warn", "error" };
		for (i = 0; i < 4 && strcmp(lvl, lv[i]); i++)
			;
		if (i == 4) {
			fail(&p, "LOG_LEVEL: must be debug, info, warn or error");
			goto fail;
		}
		cfg->log_level = (int)i;
	}
	if (check_base_url(&p, "PUBLIC_BASE_URL", cfg->public_base_url, &cfg->secure_cookies))
		goto fail;
	if (cfg->dynamodb_endpoint != NULL) {
		bool unused;
		if (check_base_url(&p, "AWS_ENDPOINT_URL_DYNAMODB", cfg->dynamodb_endpoint, &unused))
			goto fail;
	}
	if (cfg->s3_endpoint != NULL) {
		bool unused;
		if (check_base_url(&p, "AWS_ENDPOINT_URL_S3", cfg->s3_endpoint, &unused))
			goto fail;
	}
	if (strcmp(cfg->blob_backend, "local") && strcmp(cfg->blob_backend, "s3")) {
		fail(&p, "BLOB_BACKEND: must be local or s3, got \"%.40s\"", cfg->blob_backend);
		goto fail;
	}
	if (!strcmp(cfg->blob_backend, "s3") && cfg->s3_bucket == NULL) {
		fail(&p, "S3_BUCKET: required when BLOB_BACKEND=s3");
		goto fail;
	}
	if ((cfg->use_dynamodb || !strcmp(cfg->blob_backend, "s3")) && cfg->aws_region == NULL) {
		fail(&p, "AWS_REGION: required when USE_DYNAMODB=true or BLOB_BACKEND=s3");
		goto fail;
	}
	if ((cfg->aws.access_key_id == NULL) != (cfg->aws.secret_access_key == NULL)) {
		fail(&p, "%s: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY together",
		    cfg->aws.access_key_id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
		goto fail;
	}
	if (cfg->sqlite_path == NULL) {
		path = xmalloc(strlen(cfg->data_dir) + 16);
		sprintf(path, "%s/fileshare.db", cfg->data_dir);
		cfg->sqlite_path = path;
	}
	if (cfg->blob_dir == NULL) {
		path = xmalloc(strlen(cfg->data_dir) + 8);
		sprintf(path, "%s/blobs", cfg->data_dir);
		cfg->blob_dir = path;
	}

	secret = val(&p, "SESSION_SECRET");
	if (secret != NULL) {
		size_t n = strlen(secret);
		if (n < 32) {
			fail(&p, "SESSION_SECRET: must be at least 32 characters (got %zu)", n);
			goto fail;
		}
		if (n > sizeof cfg->session_secret)
			n = sizeof cfg->session_secret;
		memcpy(cfg->session_secret, secret, n);
		cfg->session_secret_len = n;
	} else {
		char sp[4096];
		if (mkdir(cfg->data_dir, 0700) == -1 && errno != EEXIST) {
			fail(&p, "DATA_DIR: cannot create %s: %s", cfg->data_dir, strerror(errno));
			goto fail;
		}
		snprintf(sp, sizeof sp, "%s/session-secret", cfg->data_dir);
		if (read_secret_file(&p, sp, cfg) == -1)
			goto fail;
	}
	return 0;
fail:
	config_free(cfg);
	return -1;
}

static const char *
env_get(const char *name, void *ctx)
{
	(void)ctx;
	return getenv(name);
}

int
config_load(struct config *cfg, char *err, size_t errlen)
{
	return config_parse(cfg, env_get, NULL, err, errlen);
}

void
config_free(struct config *cfg)
{
	char **s[] = { &cfg->data_dir, &cfg->aws_region, &cfg->users_table, &cfg->urls_table,
	    &cfg->dynamodb_endpoint, &cfg->sqlite_path, &cfg->blob_backend, &cfg->blob_dir,
	    &cfg->s3_bucket, &cfg->s3_endpoint, &cfg->public_base_url, &cfg->aws.access_key_id,
	    &cfg->aws.session_token, &cfg->aws.container_relative_uri, &cfg->aws.container_full_uri,
	    &cfg->aws.container_auth_token_file };
	size_t i;

	for (i = 0; i < sizeof s / sizeof s[0]; i++) {
		free(*s[i]);
		*s[i] = NULL;
	}
	if (cfg->aws.secret_access_key) {
		OPENSSL_cleanse(cfg->aws.secret_access_key, strlen(cfg->aws.secret_access_key));
		free(cfg->aws.secret_access_key);
		cfg->aws.secret_access_key = NULL;
	}
	if (cfg->aws.container_auth_token) {
		OPENSSL_cleanse(cfg->aws.container_auth_token, strlen(cfg->aws.container_auth_token));
		free(cfg->aws.container_auth_token);
		cfg->aws.container_auth_token = NULL;
	}
	OPENSSL_cleanse(cfg->session_secret, sizeof cfg->session_secret);
	cfg->session_secret_len = 0;
}

const char *
tier_name(enum tier t)
{
	switch (t) {
	case TIER_TRIAL: return "trial";
	case TIER_PREMIUM: return "premium";
	default: return "free";
	}
}
