/*
 * check_config: defaults, overrides, every rejected value (with a message that names the
 * variable and never a secret), and the development session secret file.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "testutil.h"

#define SECRET46	TU_SECRET
#define DAYS(n)		((int64_t)(n) * 86400)

static int
parse(struct config *cfg, const char *const *lines, char *err, size_t errlen)
{
	err[0] = '\0';
	return tu_config(cfg, lines, err, errlen);
}

START_TEST(test_defaults)
{
	const char *lines[] = { "SESSION_SECRET=" SECRET46, NULL };
	struct config c;
	char err[256];

	ck_assert_msg(parse(&c, lines, err, sizeof err) == 0, "%s", err);
	ck_assert_str_eq(c.data_dir, "./var");
	ck_assert(!c.use_dynamodb);
	ck_assert_ptr_null(c.aws_region);
	ck_assert_str_eq(c.users_table, "file-sharing-app-dev-users");
	ck_assert_str_eq(c.urls_table, "file-sharing-app-dev-urls");
	ck_assert_ptr_null(c.dynamodb_endpoint);
	ck_assert_str_eq(c.sqlite_path, "./var/fileshare.db");
	ck_assert_str_eq(c.blob_backend, "local");
	ck_assert_str_eq(c.blob_dir, "./var/blobs");
	ck_assert_ptr_null(c.s3_bucket);
	ck_assert_ptr_null(c.s3_endpoint);
	ck_assert_str_eq(c.public_base_url, "http://127.0.0.1:8080");
	ck_assert(!c.secure_cookies);
	ck_assert_int_eq(c.log_level, 1);	/* info */
	ck_assert_int_eq(c.purge_interval_s, 600);
	ck_assert_ptr_null(c.aws.access_key_id);
	ck_assert_ptr_null(c.aws.secret_access_key);
	ck_assert_ptr_null(c.aws.session_token);
	ck_assert_ptr_null(c.aws.container_relative_uri);
	ck_assert_ptr_null(c.aws.container_full_uri);
	ck_assert_ptr_null(c.aws.container_auth_token);
	ck_assert_ptr_null(c.aws.container_auth_token_file);
	ck_assert_uint_eq(c.session_secret_len, strlen(SECRET46));
	ck_assert_mem_eq(c.session_secret, SECRET46, strlen(SECRET46));

	ck_assert_uint_eq(c.limits[TIER_FREE].max_file_bytes, 100ULL << 20);
	ck_assert_int_eq(c.limits[TIER_FREE].max_lifetime_s, DAYS(7));
	ck_assert_int_eq(c.limits[TIER_FREE].default_lifetime_s, DAYS(7));
	ck_assert_int_eq(c.limits[TIER_FREE].max_active_links, 50);
	ck_assert(!c.limits[TIER_FREE].custom_slugs);
	ck_assert_uint_eq(c.limits[TIER_PREMIUM].max_file_bytes, 5ULL << 30);
	ck_assert_int_eq(c.limits[TIER_PREMIUM].max_lifetime_s, DAYS(365));
	ck_assert_int_eq(c.limits[TIER_PREMIUM].default_lifetime_s, DAYS(30));
	ck_assert_int_eq(c.limits[TIER_PREMIUM].max_active_links, 10000);
	ck_assert(c.limits[TIER_PREMIUM].custom_slugs);
	ck_assert_mem_eq(&c.limits[TIER_TRIAL], &c.limits[TIER_PREMIUM], sizeof c.limits[0]);
	config_free(&c);
	config_free(&c);	/* a second free is harmless */
	ck_assert_ptr_null(c.data_dir);
	ck_assert_uint_eq(c.session_secret_len, 0);
}
END_TEST

START_TEST(test_overrides)
{
	const char *lines[] = {
		"SESSION_SECRET=" SECRET46,
		"DATA_DIR=/srv/fs",
		"USE_DYNAMODB=true",
		"AWS_REGION=eu-west-1",
		"DYNAMODB_USERS_TABLE_NAME=u-tbl",
		"DYNAMODB_URLS_TABLE_NAME=l-tbl",
		"AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000/",
		"BLOB_BACKEND=s3",
		"S3_BUCKET=bucket-1",
		"AWS_ENDPOINT_URL_S3=http://127.0.0.1:9000",
		"PUBLIC_BASE_URL=https://fs.example.com/",
		"LOG_LEVEL=debug",
		"PURGE_INTERVAL=0",
		"AWS_ACCESS_KEY_ID=AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
		"AWS_SESSION_TOKEN=session-token",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/x",
		NULL
	};
	struct config c;
	char err[256];

	ck_assert_msg(parse(&c, lines, err, sizeof err) == 0, "%s", err);
	ck_assert_str_eq(c.data_dir, "/srv/fs");
	ck_assert_str_eq(c.sqlite_path, "/srv/fs/fileshare.db");
	ck_assert_str_eq(c.blob_dir, "/srv/fs/blobs");
	ck_assert(c.use_dynamodb);
	ck_assert_str_eq(c.aws_region, "eu-west-1");
	ck_assert_str_eq(c.users_table, "u-tbl");
	ck_assert_str_eq(c.urls_table, "l-tbl");
	ck_assert_str_eq(c.dynamodb_endpoint, "http://127.0.0.1:8000");
	ck_assert_str_eq(c.blob_backend, "s3");
	ck_assert_str_eq(c.s3_bucket, "bucket-1");
	ck_assert_str_eq(c.s3_endpoint, "http://127.0.0.1:9000");
	ck_assert_str_eq(c.public_base_url, "https://fs.example.com");
	ck_assert(c.secure_cookies);
	ck_assert_int_eq(c.log_level, 0);
	ck_assert_int_eq(c.purge_interval_s, 0);
	ck_assert_str_eq(c.aws.access_key_id, "AKIDEXAMPLE");
	ck_assert_str_eq(c.aws.secret_access_key, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
	ck_assert_str_eq(c.aws.session_token, "session-token");
	ck_assert_str_eq(c.aws.container_relative_uri, "/v2/credentials/x");
	config_free(&c);
}
END_TEST

/* Set-but-empty counts as unset (ECS task definitions and shells produce those). */
START_TEST(test_empty_means_unset)
{
	const char *lines[] = {
		"SESSION_SECRET=" SECRET46, "USE_DYNAMODB=", "PUBLIC_BASE_URL=", "BLOB_BACKEND=",
		"PURGE_INTERVAL=", "FREE_MAX_FILE_SIZE=", "LOG_LEVEL=", "AWS_ACCESS_KEY_ID=", NULL
	};
	struct config c;
	char err[256];

	ck_assert_msg(parse(&c, lines, err, sizeof err) == 0, "%s", err);
	ck_assert(!c.use_dynamodb);
	ck_assert_str_eq(c.public_base_url, "http://127.0.0.1:8080");
	ck_assert_str_eq(c.blob_backend, "local");
	ck_assert_int_eq(c.purge_interval_s, 600);
	ck_assert_uint_eq(c.limits[TIER_FREE].max_file_bytes, 100ULL << 20);
	ck_assert_int_eq(c.log_level, 1);
	ck_assert_ptr_null(c.aws.access_key_id);
	config_free(&c);
}
END_TEST

static const struct {
	const char	*value;
	bool		 want;
} bool_cases[] = {
	{ "true", true }, { "1", true }, { "yes", true },
	{ "false", false }, { "0", false }, { "no", false },
};

START_TEST(test_bool_spellings)
{
	char line[64];
	const char *lines[] = { "SESSION_SECRET=" SECRET46, "AWS_REGION=us-east-1", line, NULL };
	struct config c;
	char err[256];

	snprintf(line, sizeof line, "USE_DYNAMODB=%s", bool_cases[_i].value);
	ck_assert_msg(parse(&c, lines, err, sizeof err) == 0, "%s: %s", line, err);
	ck_assert_int_eq(c.use_dynamodb, bool_cases[_i].want);
	config_free(&c);
}
END_TEST

static const char *const log_levels[] = { "debug", "info", "warn", "error" };

START_TEST(test_log_levels)
{
	char line[64];
	const char *lines[] = { "SESSION_SECRET=" SECRET46, line, NULL };
	struct config c;
	char err[256];

	snprintf(line, sizeof line, "LOG_LEVEL=%s", log_levels[_i]);
	ck_assert_msg(parse(&c, lines, err, sizeof err) == 0, "%s", err);
	ck_assert_int_eq(c.log_level, _i);
	config_free(&c);
}
END_TEST

static const struct {
	const char	*url;
	const char	*want;
	bool		 secure;
} url_cases[] = {
	{ "http://fs.test", "http://fs.test", false },
	{ "http://fs.test/", "http://fs.test", false },
	{ "http://fs.test:8080//", "http://fs.test:8080", false },
	{ "https://fs.test", "https://fs.test", true },
	{ "https://fs.test/", "https://fs.test", true },
	{ "https://fs.test/app/", "https://fs.test/app", true },
	{ "http://127.0.0.1:8080", "http://127.0.0.1:8080", false },
};

START_TEST(test_public_base_url)
{
	char line[128];
	const char *lines[] = { "SESSION_SECRET=" SECRET46, line, NULL };
	struct config c;
	char err[256];

	snprintf(line, sizeof line, "PUBLIC_BASE_URL=%s", url_cases[_i].url);
	ck_assert_msg(parse(&c, lines, err, sizeof err) == 0, "%s: %s", line, err);
	ck_assert_str_eq(c.public_base_url, url_cases[_i].want);
	ck_assert_int_eq(c.secure_cookies, url_cases[_i].secure);
	config_free(&c);
}
END_TEST

START_TEST(test_tier_limit_overrides)
{
	const char *lines[] = {
		"SESSION_SECRET=" SECRET46,
		"FREE_MAX_FILE_SIZE=10M",
		"PREMIUM_MAX_FILE_SIZE=2G",
		"FREE_MAX_LIFETIME_DAYS=14",
		"FREE_DEFAULT_LIFETIME_DAYS=3",
		"PREMIUM_MAX_LIFETIME_DAYS=3650",
		"PREMIUM_DEFAULT_LIFETIME_DAYS=3650",
		"FREE_MAX_LINKS=5",
		"PREMIUM_MAX_LINKS=100000000",
		NULL
	};
	struct config c;
	char err[256];

	ck_assert_msg(parse(&c, lines, err, sizeof err) == 0, "%s", err);
	ck_assert_uint_eq(c.limits[TIER_FREE].max_file_bytes, 10ULL << 20);
	ck_assert_uint_eq(c.limits[TIER_PREMIUM].max_file_bytes, 2ULL << 30);
	ck_assert_int_eq(c.limits[TIER_FREE].max_lifetime_s, DAYS(14));
	ck_assert_int_eq(c.limits[TIER_FREE].default_lifetime_s, DAYS(3));
	ck_assert_int_eq(c.limits[TIER_PREMIUM].max_lifetime_s, DAYS(3650));
	ck_assert_int_eq(c.limits[TIER_PREMIUM].default_lifetime_s, DAYS(3650));
	ck_assert_int_eq(c.limits[TIER_FREE].max_active_links, 5);
	ck_assert_int_eq(c.limits[TIER_PREMIUM].max_active_links, 100000000);
	/* The trial is premium, overrides included. */
	ck_assert_mem_eq(&c.limits[TIER_TRIAL], &c.limits[TIER_PREMIUM], sizeof c.limits[0]);
	config_free(&c);
}
END_TEST

static const struct {
	const char	*value;
	uint64_t	 want;
} size_cases[] = {
	{ "1", 1 }, { "512k", 512ULL << 10 }, { "512K", 512ULL << 10 }, { "3m", 3ULL << 20 },
	{ "1g", 1ULL << 30 }, { "4096G", 1ULL << 42 }, { "4398046511104", 1ULL << 42 },
};

START_TEST(test_size_suffixes)
{
	char line[64];
	const char *lines[] = { "SESSION_SECRET=" SECRET46, line, NULL };
	struct config c;
	char err[256];

	snprintf(line, sizeof line, "FREE_MAX_FILE_SIZE=%s", size_cases[_i].value);
	ck_assert_msg(parse(&c, lines, err, sizeof err) == 0, "%s: %s", line, err);
	ck_assert_uint_eq(c.limits[TIER_FREE].max_file_bytes, size_cases[_i].want);
	config_free(&c);
}
END_TEST

START_TEST(test_session_secret_lengths)
{
	const char *at32[] = { "SESSION_SECRET=0123456789abcdef0123456789abcdef", NULL };
	const char *at80[] = {
		"SESSION_SECRET=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdefEXTRAEXTRAEXTRA0",
		NULL
	};
	struct config c;
	char err[256];

	ck_assert_msg(parse(&c, at32, err, sizeof err) == 0, "%s", err);
	ck_assert_uint_eq(c.session_secret_len, 32);
	ck_assert_mem_eq(c.session_secret, "0123456789abcdef0123456789abcdef", 32);
	config_free(&c);
	/* Longer secrets are accepted; the key holds their first 64 bytes. */
	ck_assert_msg(parse(&c, at80, err, sizeof err) == 0, "%s", err);
	ck_assert_uint_eq(c.session_secret_len, 64);
	ck_assert_mem_eq(c.session_secret, at80[0] + strlen("SESSION_SECRET="), 64);
	config_free(&c);
}
END_TEST

/* --- rejected values ------------------------------------------------------------------- */

static const struct {
	const char	*lines[4];	/* added after SESSION_SECRET and DATA_DIR */
	const char	*names;		/* the variable the message must start with */
	const char	*hidden;	/* a secret the message must not contain, or NULL */
} bad_cases[] = {
	{ { "USE_DYNAMODB=maybe" }, "USE_DYNAMODB", NULL },
	{ { "USE_DYNAMODB=2" }, "USE_DYNAMODB", NULL },
	{ { "PURGE_INTERVAL=-1" }, "PURGE_INTERVAL", NULL },
	{ { "PURGE_INTERVAL=604801" }, "PURGE_INTERVAL", NULL },
	{ { "PURGE_INTERVAL=10s" }, "PURGE_INTERVAL", NULL },
	{ { "PURGE_INTERVAL= 5" }, "PURGE_INTERVAL", NULL },
	{ { "PURGE_INTERVAL=+5" }, "PURGE_INTERVAL", NULL },
	{ { "FREE_MAX_FILE_SIZE=0" }, "FREE_MAX_FILE_SIZE", NULL },
	{ { "FREE_MAX_FILE_SIZE=abc" }, "FREE_MAX_FILE_SIZE", NULL },
	{ { "FREE_MAX_FILE_SIZE=1X" }, "FREE_MAX_FILE_SIZE", NULL },
	{ { "FREE_MAX_FILE_SIZE=-5" }, "FREE_MAX_FILE_SIZE", NULL },
	{ { "FREE_MAX_FILE_SIZE=1.5M" }, "FREE_MAX_FILE_SIZE", NULL },
	{ { "FREE_MAX_FILE_SIZE=1MB" }, "FREE_MAX_FILE_SIZE", NULL },
	{ { "FREE_MAX_FILE_SIZE=0K" }, "FREE_MAX_FILE_SIZE", NULL },
	{ { "FREE_MAX_FILE_SIZE=4097G" }, "FREE_MAX_FILE_SIZE", NULL },
	{ { "FREE_MAX_FILE_SIZE=99999999999999999999999" }, "FREE_MAX_FILE_SIZE", NULL },
	{ { "PREMIUM_MAX_FILE_SIZE=0" }, "PREMIUM_MAX_FILE_SIZE", NULL },
	{ { "FREE_MAX_LIFETIME_DAYS=0" }, "FREE_MAX_LIFETIME_DAYS", NULL },
	{ { "FREE_DEFAULT_LIFETIME_DAYS=3651" }, "FREE_DEFAULT_LIFETIME_DAYS", NULL },
	{ { "PREMIUM_MAX_LIFETIME_DAYS=x" }, "PREMIUM_MAX_LIFETIME_DAYS", NULL },
	{ { "PREMIUM_DEFAULT_LIFETIME_DAYS=-1" }, "PREMIUM_DEFAULT_LIFETIME_DAYS", NULL },
	{ { "FREE_MAX_LINKS=0" }, "FREE_MAX_LINKS", NULL },
	{ { "PREMIUM_MAX_LINKS=100000001" }, "PREMIUM_MAX_LINKS", NULL },
	{ { "FREE_MAX_LIFETIME_DAYS=5", "FREE_DEFAULT_LIFETIME_DAYS=6" }, "FREE_DEFAULT_LIFETIME_DAYS", NULL },
	{ { "PREMIUM_MAX_LIFETIME_DAYS=10" }, "PREMIUM_DEFAULT_LIFETIME_DAYS", NULL },
	{ { "PUBLIC_BASE_URL=ftp://x" }, "PUBLIC_BASE_URL", NULL },
	{ { "PUBLIC_BASE_URL=fs.test" }, "PUBLIC_BASE_URL", NULL },
	{ { "PUBLIC_BASE_URL=https://" }, "PUBLIC_BASE_URL", NULL },
	{ { "PUBLIC_BASE_URL=http:///path" }, "PUBLIC_BASE_URL", NULL },
	{ { "PUBLIC_BASE_URL=https://admin:hunter2pass@fs.test" }, "PUBLIC_BASE_URL", "hunter2pass" },
	{ { "PUBLIC_BASE_URL=https://fs.test/?a=1" }, "PUBLIC_BASE_URL", NULL },
	{ { "PUBLIC_BASE_URL=https://fs.test/#top" }, "PUBLIC_BASE_URL", NULL },
	{ { "PUBLIC_BASE_URL=https://fs test" }, "PUBLIC_BASE_URL", NULL },
	{ { "PUBLIC_BASE_URL=https://fs.test/\r\nX: y" }, "PUBLIC_BASE_URL", NULL },
	{ { "AWS_ENDPOINT_URL_DYNAMODB=localhost:8000" }, "AWS_ENDPOINT_URL_DYNAMODB", NULL },
	{ { "AWS_ENDPOINT_URL_S3=ftp://s3.test" }, "AWS_ENDPOINT_URL_S3", NULL },
	{ { "BLOB_BACKEND=nfs" }, "BLOB_BACKEND", NULL },
	{ { "BLOB_BACKEND=s3", "AWS_REGION=eu-west-1" }, "S3_BUCKET", NULL },
	{ { "BLOB_BACKEND=s3", "S3_BUCKET=bucket" }, "AWS_REGION", NULL },
	{ { "USE_DYNAMODB=true" }, "AWS_REGION", NULL },
	{ { "AWS_ACCESS_KEY_ID=AKIDEXAMPLE" }, "AWS_SECRET_ACCESS_KEY", NULL },
	{ { "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIsecretKEY" }, "AWS_ACCESS_KEY_ID", "wJalrXUtnFEMIsecretKEY" },
	{ { "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=abc\x01zzTopSecretKey" },
	    "AWS_SECRET_ACCESS_KEY", "zzTopSecretKey" },
	{ { "AWS_SESSION_TOKEN=tok\x1bSessionSecretValue" }, "AWS_SESSION_TOKEN", "SessionSecretValue" },
	{ { "AWS_CONTAINER_AUTHORIZATION_TOKEN=Basic\tContainerSecret" },
	    "AWS_CONTAINER_AUTHORIZATION_TOKEN", "ContainerSecret" },
	{ { "LOG_LEVEL=loud" }, "LOG_LEVEL", NULL },
	{ { "LOG_LEVEL=INFO " }, "LOG_LEVEL", NULL },
	{ { "SESSION_SECRET=too-short-secret-but-private" }, "SESSION_SECRET", "too-short-secret-but-private" },
	{ { "SESSION_SECRET=0123456789abcdef0123456789abcde" }, "SESSION_SECRET", "0123456789abcdef0123456789abcde" },
	{ { "DATA_DIR=/tmp/a\nb" }, "DATA_DIR", NULL },
	{ { "SQLITE_PATH=/tmp/a\rb" }, "SQLITE_PATH", NULL },
	{ { "S3_BUCKET=bu\tcket" }, "S3_BUCKET", NULL },
};

START_TEST(test_bad_values)
{
	struct tu_vars v = { NULL, 0 };
	struct config c;
	char err[512], prefix[64];
	size_t i;
	int rc;

	tu_vars_add(&v, "SESSION_SECRET", "%s", SECRET46);
	tu_vars_add(&v, "DATA_DIR", "%s", tu_tmpdir());
	for (i = 0; i < 4 && bad_cases[_i].lines[i] != NULL; i++)
		tu_vars_addv(&v, (const char *const[]){ bad_cases[_i].lines[i], NULL });
	err[0] = '\0';
	rc = config_parse(&c, tu_vars_get, &v, err, sizeof err);
	tu_vars_free(&v);
	ck_assert_msg(rc == -1, "%s: accepted", bad_cases[_i].lines[0]);
	snprintf(prefix, sizeof prefix, "%s:", bad_cases[_i].names);
	ck_assert_msg(!strncmp(err, prefix, strlen(prefix)), "%s: message \"%s\" does not start with %s",
	    bad_cases[_i].lines[0], err, prefix);
	ck_assert_msg(strchr(err, '\n') == NULL && strchr(err, '\r') == NULL,
	    "message is not one line: %s", err);
	ck_assert_msg(strstr(err, SECRET46) == NULL, "message leaks SESSION_SECRET: %s", err);
	if (bad_cases[_i].hidden != NULL)
		ck_assert_msg(strstr(err, bad_cases[_i].hidden) == NULL, "message leaks a secret: %s", err);
	/* A failed parse owns nothing: freeing it again is harmless. */
	ck_assert_ptr_null(c.data_dir);
	config_free(&c);
}
END_TEST

/* --- the development secret file ------------------------------------------------------- */

static void
assert_only_secret_file(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		ck_assert_msg(!strcmp(e->d_name, "session-secret"), "left behind: %s/%s", dir, e->d_name);
		n++;
	}
	closedir(d);
	ck_assert_int_eq(n, 1);
}

START_TEST(test_dev_secret_created_then_reused)
{
	char dir[4200], file[4300], line[4300];
	const char *lines[] = { line, NULL };
	struct config c1, c2;
	struct stat st;
	char err[512], *content;
	size_t len, i;

	snprintf(dir, sizeof dir, "%s/data", tu_tmpdir());	/* does not exist yet */
	snprintf(file, sizeof file, "%s/session-secret", dir);
	snprintf(line, sizeof line, "DATA_DIR=%s", dir);

	ck_assert_msg(parse(&c1, lines, err, sizeof err) == 0, "%s", err);
	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(stat(file, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	content = tu_read_file(file, &len);
	ck_assert_ptr_nonnull(content);
	ck_assert_uint_eq(len, 64);		/* 32 random bytes in hex */
	for (i = 0; i < len; i++)
		ck_assert(strchr("0123456789abcdef", content[i]) != NULL);
	ck_assert_uint_eq(c1.session_secret_len, len);
	ck_assert_mem_eq(c1.session_secret, content, len);
	assert_only_secret_file(dir);

	/* The second start reads the same secret, byte for byte, and rewrites nothing. */
	ck_assert_msg(parse(&c2, lines, err, sizeof err) == 0, "%s", err);
	ck_assert_uint_eq(c2.session_secret_len, c1.session_secret_len);
	ck_assert_mem_eq(c2.session_secret, c1.session_secret, c1.session_secret_len);
	free(content);
	content = tu_read_file(file, &len);
	ck_assert_uint_eq(len, 64);
	ck_assert_mem_eq(c2.session_secret, content, len);
	assert_only_secret_file(dir);
	free(content);
	config_free(&c1);
	config_free(&c2);
}
END_TEST

START_TEST(test_dev_secret_file_too_short)
{
	char line[4300];
	const char *lines[] = { line, NULL };
	struct config c;
	char err[512];
	FILE *f;

	f = fopen(tu_path("session-secret"), "w");
	ck_assert_ptr_nonnull(f);
	fputs("shortButSecretValue", f);
	fclose(f);
	snprintf(line, sizeof line, "DATA_DIR=%s", tu_tmpdir());
	ck_assert_int_eq(parse(&c, lines, err, sizeof err), -1);
	ck_assert_msg(!strncmp(err, "SESSION_SECRET:", 15), "%s", err);
	ck_assert_msg(strstr(err, "shortButSecretValue") == NULL, "message leaks the file: %s", err);
}
END_TEST

START_TEST(test_dev_secret_data_dir_unusable)
{
	char line[4300];
	const char *lines[] = { line, NULL };
	struct config c;
	char err[512];
	FILE *f;

	/* A regular file where a directory should be: no amount of privilege helps. */
	f = fopen(tu_path("plainfile"), "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	snprintf(line, sizeof line, "DATA_DIR=%s/plainfile/sub", tu_tmpdir());
	ck_assert_int_eq(parse(&c, lines, err, sizeof err), -1);
	ck_assert_msg(!strncmp(err, "DATA_DIR:", 9), "%s", err);
}
END_TEST

#define RACERS	4
#define ROUNDS	20

/* In a forked child: wait for the start signal, load, report the secret. No Check calls here. */
static void
racer(const char *dir, int go_fd, int out_fd)
{
	char line[4300], err[512], ch, rec[1 + 64];
	const char *lines[] = { line, NULL };
	struct config c;

	snprintf(line, sizeof line, "DATA_DIR=%s", dir);
	if (read(go_fd, &ch, 1) != 0)
		_exit(3);
	memset(rec, 0, sizeof rec);
	if (tu_config(&c, lines, err, sizeof err) == 0) {
		rec[0] = (char)c.session_secret_len;
		memcpy(rec + 1, c.session_secret, c.session_secret_len > 64 ? 64 : c.session_secret_len);
		config_free(&c);
	} else
		fprintf(stderr, "racer: %s\n", err);
	if (write(out_fd, rec, sizeof rec) != (ssize_t)sizeof rec)
		_exit(4);
	_exit(0);
}

START_TEST(test_dev_secret_concurrent_first_start)
{
	int round, i, status, go[2], out[RACERS][2];
	char dir[4200], file[4300], rec[RACERS][1 + 64], *content;
	pid_t pid[RACERS];
	size_t len;

	for (round = 0; round < ROUNDS; round++) {
		snprintf(dir, sizeof dir, "%s/race%d", tu_tmpdir(), round);
		snprintf(file, sizeof file, "%s/session-secret", dir);
		ck_assert_int_eq(pipe(go), 0);
		for (i = 0; i < RACERS; i++) {
			ck_assert_int_eq(pipe(out[i]), 0);
			pid[i] = fork();
			ck_assert_int_ne(pid[i], -1);
			if (pid[i] == 0) {
				close(go[1]);
				close(out[i][0]);
				racer(dir, go[0], out[i][1]);
			}
			close(out[i][1]);
		}
		close(go[0]);
		close(go[1]);	/* everyone starts now */
		for (i = 0; i < RACERS; i++) {
			ck_assert_int_eq(read(out[i][0], rec[i], sizeof rec[i]), (ssize_t)sizeof rec[i]);
			close(out[i][0]);
			ck_assert_int_eq(waitpid(pid[i], &status, 0), pid[i]);
			ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "racer %d failed", i);
		}
		content = tu_read_file(file, &len);
		ck_assert_ptr_nonnull(content);
		ck_assert_uint_eq(len, 64);
		for (i = 0; i < RACERS; i++) {
			ck_assert_msg(rec[i][0] == 64, "round %d: racer %d loaded no secret", round, i);
			ck_assert_msg(!memcmp(rec[i] + 1, content, 64),
			    "round %d: racer %d holds a different secret from the file", round, i);
		}
		free(content);
		assert_only_secret_file(dir);
	}
}
END_TEST

static Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = tcase_create("values");
	tcase_add_checked_fixture(tc, tu_setup, tu_teardown);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_overrides);
	tcase_add_test(tc, test_empty_means_unset);
	tcase_add_loop_test(tc, test_bool_spellings, 0, (int)(sizeof bool_cases / sizeof bool_cases[0]));
	tcase_add_loop_test(tc, test_log_levels, 0, 4);
	tcase_add_loop_test(tc, test_public_base_url, 0, (int)(sizeof url_cases / sizeof url_cases[0]));
	tcase_add_test(tc, test_tier_limit_overrides);
	tcase_add_loop_test(tc, test_size_suffixes, 0, (int)(sizeof size_cases / sizeof size_cases[0]));
	tcase_add_test(tc, test_session_secret_lengths);
	suite_add_tcase(s, tc);

	tc = tcase_create("rejected");
	tcase_add_checked_fixture(tc, tu_setup, tu_teardown);
	tcase_add_loop_test(tc, test_bad_values, 0, (int)(sizeof bad_cases / sizeof bad_cases[0]));
	tcase_add_test(tc, test_dev_secret_file_too_short);
	tcase_add_test(tc, test_dev_secret_data_dir_unusable);
	suite_add_tcase(s, tc);

	tc = tcase_create("dev_secret");
	tcase_add_checked_fixture(tc, tu_setup, tu_teardown);
	tcase_set_timeout(tc, TU_TIMEOUT);
	tcase_add_test(tc, test_dev_secret_created_then_reused);
	tcase_add_test(tc, test_dev_secret_concurrent_first_start);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
