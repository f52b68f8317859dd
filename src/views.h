/*
 * views: the JSON shapes of stored things that more than one caller prints (the HTTP API
 * and fileshare-admin), so both always agree.
 */
#ifndef FS_VIEWS_H
#define FS_VIEWS_H
#include <stdint.h>

#include <json-c/json.h>

#include "config.h"
#include "store.h"

/* An RFC 3339 string, or JSON null for 0. New reference (caller owns). */
json_object	*view_time(int64_t t);
/* {used, active, started_at, expires_at, days_left, can_start} at time now. */
json_object	*view_trial(const struct user *, int64_t now);
/* The tier's limits, as GET /api/me shows them. */
json_object	*view_limits(const struct tier_limits *);
/* {user_id, email, tier (effective), limits, trial, created_at}. */
json_object	*view_account(const struct config *, const struct user *, int64_t now);

/* One link as the API shows it to its owner: short_code, short_url, kind, full_url or file
 * fields, created_at, expires_at, max_clicks, click_count, password_protected, status. */
json_object	*view_link(const struct config *, const struct link *, int64_t now);

#endif
