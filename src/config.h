/*
 * config: every setting, read from the environment once at start-up and validated here.
 * This is the only module that calls getenv(). A bad value fails config_load() with one line
 * naming the variable and what is wrong; the line never contains a secret's value.
 */
#ifndef FS_CONFIG_H
#define FS_CONFIG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tier { TIER_FREE, TIER_TRIAL, TIER_PREMIUM };

struct tier_limits {
	uint64_t	max_file_bytes;
	int64_t		max_lifetime_s;
	int64_t		default_lifetime_s;
	int64_t		max_active_links;
	bool		custom_slugs;	/* also password-protected links */
};

struct aws_env_creds {
	char	*access_key_id;		/* AWS_ACCESS_KEY_ID, NULL if unset */
	char	*secret_access_key;	/* AWS_SECRET_ACCESS_KEY */
	char	*session_token;		/* AWS_SESSION_TOKEN */
	char	*container_relative_uri;	/* AWS_CONTAINER_CREDENTIALS_RELATIVE_URI */
	char	*container_full_uri;	/* AWS_CONTAINER_CREDENTIALS_FULL_URI */
	char	*container_auth_token;	/* AWS_CONTAINER_AUTHORIZATION_TOKEN */
	char	*container_auth_token_file;	/* AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE */
};

struct config {
	char	*data_dir;		/* DATA_DIR, default ./var */
	bool	 use_dynamodb;		/* USE_DYNAMODB */
	char	*aws_region;		/* AWS_REGION */
	char	*users_table;		/* DYNAMODB_USERS_TABLE_NAME */
	char	*urls_table;		/* DYNAMODB_URLS_TABLE_NAME */
	char	*dynamodb_endpoint;	/* AWS_ENDPOINT_URL_DYNAMODB, NULL = AWS */
	char	*sqlite_path;		/* SQLITE_PATH, default DATA_DIR/fileshare.db */
	bool	 sqlite_checkpointer;	/* not from the environment: set by the supervisor when
					 * its checkpointer process does the WAL checkpoints */
	char	*blob_backend;		/* BLOB_BACKEND: "local" or "s3" */
	char	*blob_dir;		/* BLOB_DIR, default DATA_DIR/blobs */
	char	*s3_bucket;		/* S3_BUCKET */
	char	*s3_endpoint;		/* AWS_ENDPOINT_URL_S3 */
	char	*public_base_url;	/* PUBLIC_BASE_URL, no trailing slash */
	bool	 secure_cookies;	/* PUBLIC_BASE_URL is https */
	unsigned char session_secret[64];	/* SESSION_SECRET or the dev secret file */
	size_t	 session_secret_len;
	int	 log_level;		/* LOG_LEVEL: debug|info|warn|error */
	int64_t	 purge_interval_s;	/* PURGE_INTERVAL, 0 disables */
	struct tier_limits limits[3];	/* indexed by enum tier */
	struct aws_env_creds aws;
};

/* A getter maps a variable name to its value or NULL (getenv in production, a table in tests). */
typedef const char *(*config_getter)(const char *name, void *ctx);

/* Fills cfg from the process environment. 0 on success; -1 with err set (one line). */
int	config_load(struct config *cfg, char *err, size_t errlen);
int	config_parse(struct config *cfg, config_getter get, void *ctx, char *err, size_t errlen);
void	config_free(struct config *cfg);
const char *tier_name(enum tier);

#endif
