/*
 * ddb_schema: the DynamoDB table layout the code relies on. Terraform (terraform/modules/
 * dynamodb) must declare exactly these names; tests/terraform compares them with this file.
 */
#ifndef FS_DDB_SCHEMA_H
#define FS_DDB_SCHEMA_H

/* <prefix>-users: one item per account, plus one email-claim item per address. */
#define DDB_USERS_HASH_KEY		"user_id"
#define DDB_USERS_EMAIL_INDEX		"email-index"
#define DDB_USERS_EMAIL_ATTR		"email"

/* <prefix>-urls: one item per link. */
#define DDB_URLS_HASH_KEY		"short_code"
#define DDB_URLS_USER_INDEX		"user-index"
#define DDB_URLS_USER_ATTR		"created_by_user"
#define DDB_URLS_USER_INDEX_SORT	"created_at"
#define DDB_URLS_TTL_ATTR		"expires_at_ttl"

/* The tables' names when the environment does not set them (the seed's dev names). */
#define DDB_DEFAULT_USERS_TABLE		"file-sharing-app-dev-users"
#define DDB_DEFAULT_URLS_TABLE		"file-sharing-app-dev-urls"

#endif
