/*
 * check_trial: the trial's rules as functions of a user row and the time, at every boundary,
 * and once end to end through the store (start, then set-tier free).
 */
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "testutil.h"
#include "timeutil.h"
#include "trial.h"

#define T0	TU_EPOCH_S		/* when the trial starts */
#define EXP	(T0 + TRIAL_SECONDS)	/* when it ends */

enum row { NEVER, TRIAL_ROW, PREMIUM, PREMIUM_AFTER_TRIAL, FREE_AFTER_TRIAL };

static void
make_user(enum row row, struct user *u)
{
	memset(u, 0, sizeof *u);
	strcpy(u->user_id, "11111111-2222-4333-8444-555555555555");
	strcpy(u->email, "user@example.com");
	u->created_at = u->updated_at = T0 - TU_DAY;
	switch (row) {
	case NEVER:
		u->tier = TIER_FREE;
		break;
	case PREMIUM:
		u->tier = TIER_PREMIUM;
		break;
	case TRIAL_ROW:
	case PREMIUM_AFTER_TRIAL:
	case FREE_AFTER_TRIAL:
		u->tier = row == TRIAL_ROW ? TIER_TRIAL : row == PREMIUM_AFTER_TRIAL ? TIER_PREMIUM : TIER_FREE;
		u->trial_used = true;
		u->trial_started_at = T0;
		u->trial_expires_at = EXP;
		break;
	}
}

static const struct {
	const char	*name;
	enum row	 row;
	int64_t		 now;
	enum tier	 tier;		/* effective */
	bool		 active;
	int		 days_left;
	bool		 can_start;
} cases[] = {
	{ "never started", NEVER, T0, TIER_FREE, false, 0, true },
	{ "never started, years later", NEVER, T0 + 3650 * TU_DAY, TIER_FREE, false, 0, true },
	{ "at start", TRIAL_ROW, T0, TIER_TRIAL, true, 30, false },
	{ "one second in", TRIAL_ROW, T0 + 1, TIER_TRIAL, true, 30, false },
	{ "one day in", TRIAL_ROW, T0 + TU_DAY, TIER_TRIAL, true, 29, false },
	{ "one day and a second in", TRIAL_ROW, T0 + TU_DAY + 1, TIER_TRIAL, true, 29, false },
	{ "half way", TRIAL_ROW, T0 + 15 * TU_DAY, TIER_TRIAL, true, 15, false },
	{ "start of the last day", TRIAL_ROW, EXP - TU_DAY, TIER_TRIAL, true, 1, false },
	{ "just before the last day", TRIAL_ROW, EXP - TU_DAY - 1, TIER_TRIAL, true, 2, false },
	{ "last second", TRIAL_ROW, EXP - 1, TIER_TRIAL, true, 1, false },
	{ "exactly at expiry", TRIAL_ROW, EXP, TIER_FREE, false, 0, false },
	{ "one second after expiry", TRIAL_ROW, EXP + 1, TIER_FREE, false, 0, false },
	{ "a year after expiry", TRIAL_ROW, EXP + 365 * TU_DAY, TIER_FREE, false, 0, false },
	{ "premium", PREMIUM, T0, TIER_PREMIUM, false, 0, false },
	{ "premium, years later", PREMIUM, T0 + 3650 * TU_DAY, TIER_PREMIUM, false, 0, false },
	{ "premium after a trial, during it", PREMIUM_AFTER_TRIAL, T0 + TU_DAY, TIER_PREMIUM, false, 0, false },
	{ "premium after a trial, after it", PREMIUM_AFTER_TRIAL, EXP + 1, TIER_PREMIUM, false, 0, false },
	{ "set back to free during the trial", FREE_AFTER_TRIAL, T0 + TU_DAY, TIER_FREE, false, 0, false },
	{ "set back to free, after expiry", FREE_AFTER_TRIAL, EXP + TU_DAY, TIER_FREE, false, 0, false },
};

START_TEST(test_trial_rules)
{
	struct user u;
	struct trial_status ts;
	bool used = cases[_i].row != NEVER && cases[_i].row != PREMIUM;

	make_user(cases[_i].row, &u);
	memset(&ts, 0x5a, sizeof ts);
	trial_status(&u, cases[_i].now, &ts);
	ck_assert_msg(user_effective_tier(&u, cases[_i].now) == cases[_i].tier, "%s: tier %s", cases[_i].name,
	    tier_name(user_effective_tier(&u, cases[_i].now)));
	ck_assert_msg(ts.active == cases[_i].active, "%s: active %d", cases[_i].name, ts.active);
	ck_assert_msg(ts.days_left == cases[_i].days_left, "%s: days_left %d", cases[_i].name, ts.days_left);
	ck_assert_msg(ts.can_start == cases[_i].can_start, "%s: can_start %d", cases[_i].name, ts.can_start);
	ck_assert_int_eq(ts.used, used);
	ck_assert_int_eq(ts.started_at, used ? T0 : 0);
	ck_assert_int_eq(ts.expires_at, used ? EXP : 0);
}
END_TEST

/* Whole days, rounded up, never more than 30 and never 0 while active, on every hour. */
START_TEST(test_days_left_monotonic)
{
	struct user u;
	struct trial_status ts;
	int64_t now;
	int prev = 31;

	make_user(TRIAL_ROW, &u);
	for (now = T0; now < EXP; now += 3600) {
		trial_status(&u, now, &ts);
		ck_assert(ts.active);
		ck_assert_int_ge(ts.days_left, 1);
		ck_assert_int_le(ts.days_left, 30);
		ck_assert_int_le(ts.days_left, prev);
		ck_assert_int_eq(ts.days_left, (int)((EXP - now + TU_DAY - 1) / TU_DAY));
		prev = ts.days_left;
	}
	trial_status(&u, EXP, &ts);
	ck_assert(!ts.active);
	ck_assert_int_eq(ts.days_left, 0);
}
END_TEST

/* The same rules on rows the store wrote, driven by the fake clock. */
START_TEST(test_trial_through_store)
{
	struct config cfg;
	struct store *s;
	struct user u, got;
	struct trial_status ts;
	int64_t now;

	tu_store_config(&cfg, NULL);
	s = store_open(&cfg);
	ck_assert_ptr_nonnull(s);
	make_user(NEVER, &u);
	ck_assert_int_eq(store_user_create(s, &u), STORE_OK);

	now = clock_now_ms() / 1000;
	ck_assert_int_eq(store_user_start_trial(s, u.user_id, now, now + TRIAL_SECONDS), STORE_OK);
	ck_assert_int_eq(store_user_get(s, u.user_id, &got), STORE_OK);
	trial_status(&got, now, &ts);
	ck_assert_int_eq(user_effective_tier(&got, now), TIER_TRIAL);
	ck_assert(ts.active && ts.used && !ts.can_start);
	ck_assert_int_eq(ts.days_left, 30);

	/* An operator sets the account back to free during the trial. */
	tu_clock_advance(2 * TU_DAY * 1000);
	now = clock_now_ms() / 1000;
	ck_assert_int_eq(store_user_set_tier(s, u.user_id, TIER_FREE, now), STORE_OK);
	ck_assert_int_eq(store_user_get(s, u.user_id, &got), STORE_OK);
	trial_status(&got, now, &ts);
	ck_assert_int_eq(user_effective_tier(&got, now), TIER_FREE);
	ck_assert(!ts.active);
	ck_assert(ts.used);
	ck_assert(!ts.can_start);
	ck_assert_int_eq(ts.days_left, 0);
	ck_assert_int_eq(store_user_start_trial(s, u.user_id, now, now + TRIAL_SECONDS), STORE_CONFLICT);

	/* And forever after. */
	tu_clock_advance(400 * TU_DAY * 1000);
	now = clock_now_ms() / 1000;
	trial_status(&got, now, &ts);
	ck_assert(!ts.can_start);
	ck_assert_int_eq(user_effective_tier(&got, now), TIER_FREE);
	store_close(s);
	config_free(&cfg);
}
END_TEST

static Suite *
trial_suite(void)
{
	Suite *s = suite_create("trial");
	TCase *tc;

	tc = tcase_create("rules");
	tcase_add_loop_test(tc, test_trial_rules, 0, (int)(sizeof cases / sizeof cases[0]));
	tcase_add_test(tc, test_days_left_monotonic);
	suite_add_tcase(s, tc);

	tc = tcase_create("store");
	tcase_add_checked_fixture(tc, tu_setup, tu_teardown);
	tcase_set_timeout(tc, TU_TIMEOUT);
	tcase_add_test(tc, test_trial_through_store);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(trial_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
