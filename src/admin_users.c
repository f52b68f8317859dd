/*
 * admin_users: operator commands about accounts and links, on whichever store the environment selects.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "admin.h"
#include "log.h"
#include "num.h"
#include "purge.h"
#include "store.h"
#include "timeutil.h"
#include "trial.h"
#include "validate.h"
#include "views.h"

/* Looks the account up by email; prints why not and returns -1 if it cannot. */
static int
find_user(struct store *s, const char *email, struct user *u)
{
	char lower[EMAIL_MAX];
	enum store_rc rc;

	if (validate_email(email, strlen(email), lower, sizeof lower) == -1) {
		fprintf(stderr, "fileshare-admin: \"%s\" is not a valid email address\n", email);
		return -1;
	}
	rc = store_user_get_by_email(s, lower, u);
	if (rc == STORE_NOT_FOUND)
		fprintf(stderr, "fileshare-admin: no account with email %s\n", lower);
	else if (rc != STORE_OK)
		fprintf(stderr, "fileshare-admin: store unavailable (%s)\n", store_rc_str(rc));
	return rc == STORE_OK ? 0 : -1;
}

static void
print_status(const struct config *cfg, const struct user *u, int64_t now)
{
	json_object *o = view_account(cfg, u, now);

	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

/* trial-status EMAIL: 0 and the status as JSON; 1 if there is no such account or no store. */
int
admin_trial_status(const struct config *cfg, int argc, char **argv)
{
	struct store *s;
	struct user u;
	int rc = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: fileshare-admin trial-status EMAIL\n");
		return 2;
	}
	if ((s = store_open(cfg)) == NULL)
		return 1;
	if (find_user(s, argv[1], &u) == 0) {
		print_status(cfg, &u, clock_now_ms() / 1000);
		rc = 0;
	}
	store_close(s);
	return rc;
}

/* set-tier EMAIL premium|free: 0 and the new status; 1 on failure. */
int
admin_set_tier(const struct config *cfg, int argc, char **argv)
{
	struct store *s;
	struct user u;
	enum tier t;
	int64_t now = clock_now_ms() / 1000;
	int rc = 1;

	if (argc != 3 || (strcmp(argv[2], "premium") && strcmp(argv[2], "free"))) {
		fprintf(stderr, "usage: fileshare-admin set-tier EMAIL premium|free\n");
		return 2;
	}
	t = !strcmp(argv[2], "premium") ? TIER_PREMIUM : TIER_FREE;
	if ((s = store_open(cfg)) == NULL)
		return 1;
	if (find_user(s, argv[1], &u) == 0) {
		if (store_user_set_tier(s, u.user_id, t, now) != STORE_OK ||
		    store_user_get(s, u.user_id, &u) != STORE_OK)
			fprintf(stderr, "fileshare-admin: could not update %s\n", u.email);
		else {
			log_info("tier of %s set to %s by operator", u.user_id, tier_name(t));
			print_status(cfg, &u, now);
			rc = 0;
		}
	}
	store_close(s);
	return rc;
}

/* purge [--now EPOCH]: one pass (as of EPOCH: to reap what will be old by then); prints the
 * counts as JSON; 1 if the store or blob store failed. */
int
admin_purge(const struct config *cfg, int argc, char **argv)
{
	struct purge_stats st;
	int64_t now = clock_now_ms() / 1000;
	int rc;

	if (argc == 3 && !strcmp(argv[1], "--now") &&
	    num_parse_i64(argv[2], 0, INT64_MAX / 2, &now) == 0)
		;
	else if (argc != 1) {
		fprintf(stderr, "usage: fileshare-admin purge [--now EPOCH_SECONDS]\n");
		return 2;
	}
	memset(&st, 0, sizeof st);
	rc = purge_once(cfg, now, &st);
	printf("{\"expired_links\":%llu,\"blobs_deleted\":%llu,\"orphans_deleted\":%llu,\"errors\":%llu}\n",
	    (unsigned long long)st.expired_links, (unsigned long long)st.blobs_deleted,
	    (unsigned long long)st.orphans_deleted, (unsigned long long)st.errors);
	return rc == 0 && st.errors == 0 ? 0 : 1;
}
