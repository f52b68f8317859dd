/*
 * check_store: the behaviour every store backend must have, written against store.h only so
 * that the same suite runs unchanged on each backend (FS_TEST_STORE picks one; see
 * tu_backend_selected), plus the cases that only make sense for one backend (SQLite's schema
 * versions), which a backend entry adds to the suite.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store.h"
#include "testutil.h"

#define T0	TU_EPOCH_S

static struct config cfg;

static void
setup(void)
{
	tu_setup();
	tu_store_config(&cfg, NULL);
}

static void
teardown(void)
{
	config_free(&cfg);
	tu_teardown();
}

static struct store *
open_store(void)
{
	struct store *s = store_open(&cfg);

	ck_assert_msg(s != NULL, "store_open failed");
	return s;
}

/* A user whose every field differs from the next one's. */
static void
make_user(struct user *u, int n, const char *email)
{
	memset(u, 0, sizeof *u);
	snprintf(u->user_id, sizeof u->user_id, "00000000-0000-4000-8000-%012d", n);
	snprintf(u->email, sizeof u->email, "%s", email);
	snprintf(u->password_hash, sizeof u->password_hash,
	    "$scrypt$ln=10,r=8,p=1$AAAAAAAAAAAAAAAAAAAA%02d$BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB", n % 100);
	u->tier = TIER_FREE;
	u->created_at = T0 + n;
	u->updated_at = T0 + n;
}

static void
assert_user_eq(const struct user *a, const struct user *b)
{
	ck_assert_str_eq(a->user_id, b->user_id);
	ck_assert_str_eq(a->email, b->email);
	ck_assert_str_eq(a->password_hash, b->password_hash);
	ck_assert_int_eq(a->tier, b->tier);
	ck_assert_int_eq(a->trial_used, b->trial_used);
	ck_assert_int_eq(a->trial_started_at, b->trial_started_at);
	ck_assert_int_eq(a->trial_expires_at, b->trial_expires_at);
	ck_assert_int_eq(a->sessions_valid_after_ms, b->sessions_valid_after_ms);
	ck_assert_int_eq(a->created_at, b->created_at);
	ck_assert_int_eq(a->updated_at, b->updated_at);
}

/* --- the behaviour suite --------------------------------------------------------------- */

START_TEST(test_ping)
{
	struct store *s = open_store();

	ck_assert_int_eq(store_ping(s), STORE_OK);
	ck_assert_int_eq(store_ping(s), STORE_OK);
	store_close(s);
	store_close(NULL);	/* a no-op */
}
END_TEST

START_TEST(test_create_and_get)
{
	struct store *s = open_store();
	struct user u, got;

	make_user(&u, 1, "alice@example.com");
	ck_assert_int_eq(store_user_create(s, &u), STORE_OK);

	memset(&got, 0x5a, sizeof got);
	ck_assert_int_eq(store_user_get(s, u.user_id, &got), STORE_OK);
	assert_user_eq(&got, &u);
	memset(&got, 0x5a, sizeof got);
	ck_assert_int_eq(store_user_get_by_email(s, "alice@example.com", &got), STORE_OK);
	assert_user_eq(&got, &u);
	/* Fields never set come back as zero. */
	ck_assert(!got.trial_used);
	ck_assert_int_eq(got.trial_started_at, 0);
	ck_assert_int_eq(got.sessions_valid_after_ms, 0);
	store_close(s);
}
END_TEST

START_TEST(test_create_full_row)
{
	struct store *s = open_store();
	struct user u, got;

	/* Every field set, including the ones a migration or an import would carry. */
	make_user(&u, 2, "bob@example.com");
	u.tier = TIER_TRIAL;
	u.trial_used = true;
	u.trial_started_at = T0 + 100;
	u.trial_expires_at = T0 + 100 + 30 * TU_DAY;
	u.sessions_valid_after_ms = (T0 + 50) * 1000 + 123;
	u.updated_at = T0 + 200;
	ck_assert_int_eq(store_user_create(s, &u), STORE_OK);
	ck_assert_int_eq(store_user_get(s, u.user_id, &got), STORE_OK);
	assert_user_eq(&got, &u);
	store_close(s);
}
END_TEST

START_TEST(test_several_users_are_independent)
{
	struct store *s = open_store();
	struct user u[5], got;
	char email[64];
	int i;

	for (i = 0; i < 5; i++) {
		snprintf(email, sizeof email, "user%d@example.com", i);
		make_user(&u[i], 10 + i, email);
		ck_assert_int_eq(store_user_create(s, &u[i]), STORE_OK);
	}
	ck_assert_int_eq(store_user_set_tier(s, u[2].user_id, TIER_PREMIUM, T0 + 1000), STORE_OK);
	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(store_user_get_by_email(s, u[i].email, &got), STORE_OK);
		ck_assert_str_eq(got.user_id, u[i].user_id);
		ck_assert_int_eq(got.tier, i == 2 ? TIER_PREMIUM : TIER_FREE);
	}
	store_close(s);
}
END_TEST

START_TEST(test_duplicate_email)
{
	struct store *s = open_store();
	struct user a, b, got;

	make_user(&a, 1, "same@example.com");
	make_user(&b, 2, "same@example.com");
	ck_assert_int_eq(store_user_create(s, &a), STORE_OK);
	ck_assert_int_eq(store_user_create(s, &b), STORE_CONFLICT);
	/* Nothing of b was written, and a is intact. */
	ck_assert_int_eq(store_user_get(s, b.user_id, &got), STORE_NOT_FOUND);
	ck_assert_int_eq(store_user_get_by_email(s, "same@example.com", &got), STORE_OK);
	assert_user_eq(&got, &a);
	/* The store still works after a conflict. */
	make_user(&b, 2, "other@example.com");
	ck_assert_int_eq(store_user_create(s, &b), STORE_OK);
	store_close(s);
}
END_TEST

START_TEST(test_duplicate_id)
{
	struct store *s = open_store();
	struct user a, b, got;

	make_user(&a, 1, "first@example.com");
	make_user(&b, 1, "second@example.com");
	b.tier = TIER_PREMIUM;
	ck_assert_int_eq(store_user_create(s, &a), STORE_OK);
	ck_assert_int_eq(store_user_create(s, &b), STORE_CONFLICT);
	ck_assert_int_eq(store_user_get(s, a.user_id, &got), STORE_OK);
	assert_user_eq(&got, &a);
	/* The second address was not claimed by the failed create. */
	ck_assert_int_eq(store_user_get_by_email(s, "second@example.com", &got), STORE_NOT_FOUND);
	make_user(&b, 3, "second@example.com");
	ck_assert_int_eq(store_user_create(s, &b), STORE_OK);
	store_close(s);
}
END_TEST

START_TEST(test_not_found)
{
	struct store *s = open_store();
	struct user u, got;
	enum store_rc rc;

	make_user(&u, 1, "known@example.com");
	ck_assert_int_eq(store_user_create(s, &u), STORE_OK);
	ck_assert_int_eq(store_user_get(s, "00000000-0000-4000-8000-999999999999", &got), STORE_NOT_FOUND);
	ck_assert_int_eq(store_user_get(s, "", &got), STORE_NOT_FOUND);
	ck_assert_int_eq(store_user_get_by_email(s, "unknown@example.com", &got), STORE_NOT_FOUND);
	ck_assert_int_eq(store_user_get_by_email(s, "", &got), STORE_NOT_FOUND);
	ck_assert_int_eq(store_user_set_tier(s, "nobody", TIER_PREMIUM, T0), STORE_NOT_FOUND);
	ck_assert_int_eq(store_user_revoke_sessions(s, "nobody", T0 * 1000, T0), STORE_NOT_FOUND);
	/* Starting the trial of nobody must fail; either refusal is acceptable. */
	rc = store_user_start_trial(s, "nobody", T0, T0 + 30 * TU_DAY);
	ck_assert_msg(rc == STORE_NOT_FOUND || rc == STORE_CONFLICT, "start_trial(nobody): %s",
	    store_rc_str(rc));
	/* Lookups are exact: no prefix or pattern matching. */
	ck_assert_int_eq(store_user_get_by_email(s, "known@example.co", &got), STORE_NOT_FOUND);
	ck_assert_int_eq(store_user_get_by_email(s, "%@example.com", &got), STORE_NOT_FOUND);
	store_close(s);
}
END_TEST

START_TEST(test_start_trial_once)
{
	struct store *s = open_store();
	struct user u, got;
	int64_t started = T0 + 500, expires = T0 + 500 + 30 * TU_DAY;

	make_user(&u, 1, "trial@example.com");
	ck_assert_int_eq(store_user_create(s, &u), STORE_OK);
	ck_assert_int_eq(store_user_start_trial(s, u.user_id, started, expires), STORE_OK);
	ck_assert_int_eq(store_user_get(s, u.user_id, &got), STORE_OK);
	ck_assert_int_eq(got.tier, TIER_TRIAL);
	ck_assert(got.trial_used);
	ck_assert_int_eq(got.trial_started_at, started);
	ck_assert_int_eq(got.trial_expires_at, expires);
	ck_assert_int_eq(got.updated_at, started);
	ck_assert_int_eq(got.created_at, u.created_at);

	/* A second start, now or much later, is refused and changes nothing. */
	ck_assert_int_eq(store_user_start_trial(s, u.user_id, started + 1, expires + 1), STORE_CONFLICT);
	ck_assert_int_eq(store_user_start_trial(s, u.user_id, expires + TU_DAY, expires + 31 * TU_DAY),
	    STORE_CONFLICT);
	ck_assert_int_eq(store_user_get(s, u.user_id, &got), STORE_OK);
	ck_assert_int_eq(got.trial_started_at, started);
	ck_assert_int_eq(got.trial_expires_at, expires);
	store_close(s);
}
END_TEST

START_TEST(test_start_trial_premium)
{
	struct store *s = open_store();
	struct user u, got;

	make_user(&u, 1, "payer@example.com");
	u.tier = TIER_PREMIUM;
	ck_assert_int_eq(store_user_create(s, &u), STORE_OK);
	ck_assert_int_eq(store_user_start_trial(s, u.user_id, T0, T0 + 30 * TU_DAY), STORE_CONFLICT);
	ck_assert_int_eq(store_user_get(s, u.user_id, &got), STORE_OK);
	ck_assert_int_eq(got.tier, TIER_PREMIUM);
	ck_assert(!got.trial_used);
	ck_assert_int_eq(got.trial_started_at, 0);
	store_close(s);
}
END_TEST

START_TEST(test_set_tier)
{
	static const enum tier seq[] = { TIER_PREMIUM, TIER_FREE, TIER_TRIAL, TIER_PREMIUM, TIER_PREMIUM };
	struct store *s = open_store();
	struct user u, got;
	size_t i;

	make_user(&u, 1, "tier@example.com");
	ck_assert_int_eq(store_user_create(s, &u), STORE_OK);
	for (i = 0; i < sizeof seq / sizeof seq[0]; i++) {
		ck_assert_int_eq(store_user_set_tier(s, u.user_id, seq[i], T0 + 1000 + (int64_t)i), STORE_OK);
		ck_assert_int_eq(store_user_get(s, u.user_id, &got), STORE_OK);
		ck_assert_int_eq(got.tier, seq[i]);
		ck_assert_int_eq(got.updated_at, T0 + 1000 + (int64_t)i);
		ck_assert_int_eq(got.created_at, u.created_at);
		ck_assert_str_eq(got.email, u.email);
	}
	store_close(s);
}
END_TEST

START_TEST(test_set_tier_after_trial_keeps_trial_used)
{
	struct store *s = open_store();
	struct user u, got;

	make_user(&u, 1, "back@example.com");
	ck_assert_int_eq(store_user_create(s, &u), STORE_OK);
	ck_assert_int_eq(store_user_start_trial(s, u.user_id, T0, T0 + 30 * TU_DAY), STORE_OK);
	ck_assert_int_eq(store_user_set_tier(s, u.user_id, TIER_FREE, T0 + 10), STORE_OK);
	ck_assert_int_eq(store_user_get(s, u.user_id, &got), STORE_OK);
	ck_assert_int_eq(got.tier, TIER_FREE);
	ck_assert(got.trial_used);		/* never goes back to false */
	ck_assert_int_eq(got.trial_started_at, T0);
	ck_assert_int_eq(store_user_start_trial(s, u.user_id, T0 + 20, T0 + 20 + 30 * TU_DAY), STORE_CONFLICT);
	store_close(s);
}
END_TEST

START_TEST(test_revoke_sessions_monotonic)
{
	static const struct { int64_t after, want; } steps[] = {
		{ 1000, 1000 }, { 500, 1000 }, { 1000, 1000 }, { 2000, 2000 }, { 0, 2000 },
		{ INT64_C(1767225600123), INT64_C(1767225600123) },
	};
	struct store *s = open_store();
	struct user u, other, got;
	size_t i;

	make_user(&u, 1, "rev@example.com");
	make_user(&other, 2, "other@example.com");
	ck_assert_int_eq(store_user_create(s, &u), STORE_OK);
	ck_assert_int_eq(store_user_create(s, &other), STORE_OK);
	for (i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		ck_assert_int_eq(store_user_revoke_sessions(s, u.user_id, steps[i].after, T0 + (int64_t)i), STORE_OK);
		ck_assert_int_eq(store_user_get(s, u.user_id, &got), STORE_OK);
		ck_assert_msg(got.sessions_valid_after_ms == steps[i].want, "step %zu: %lld", i,
		    (long long)got.sessions_valid_after_ms);
	}
	ck_assert_int_eq(store_user_get(s, other.user_id, &got), STORE_OK);
	ck_assert_int_eq(got.sessions_valid_after_ms, 0);	/* only that user */
	store_close(s);
}
END_TEST

START_TEST(test_token_revocation)
{
	struct store *s = open_store();
	bool revoked = true;

	ck_assert_int_eq(store_token_is_revoked(s, "jti-one", &revoked), STORE_OK);
	ck_assert(!revoked);
	ck_assert_int_eq(store_token_revoke(s, "jti-one", T0 + 3600), STORE_OK);
	ck_assert_int_eq(store_token_is_revoked(s, "jti-one", &revoked), STORE_OK);
	ck_assert(revoked);
	/* Revoking twice is fine; other ids are unaffected, and ids are exact. */
	ck_assert_int_eq(store_token_revoke(s, "jti-one", T0 + 7200), STORE_OK);
	revoked = true;
	ck_assert_int_eq(store_token_is_revoked(s, "jti-two", &revoked), STORE_OK);
	ck_assert(!revoked);
	revoked = true;
	ck_assert_int_eq(store_token_is_revoked(s, "jti-on", &revoked), STORE_OK);
	ck_assert(!revoked);
	revoked = true;
	ck_assert_int_eq(store_token_is_revoked(s, "JTI-ONE", &revoked), STORE_OK);
	ck_assert(!revoked);
	store_close(s);
}
END_TEST

START_TEST(test_reopen_keeps_data)
{
	struct store *s = open_store();
	struct user u, got;
	bool revoked = false;

	make_user(&u, 1, "persist@example.com");
	ck_assert_int_eq(store_user_create(s, &u), STORE_OK);
	ck_assert_int_eq(store_user_start_trial(s, u.user_id, T0, T0 + 30 * TU_DAY), STORE_OK);
	ck_assert_int_eq(store_user_revoke_sessions(s, u.user_id, 4242, T0 + 1), STORE_OK);
	ck_assert_int_eq(store_token_revoke(s, "jti-kept", T0 + 3600), STORE_OK);
	store_close(s);

	s = open_store();
	ck_assert_int_eq(store_user_get_by_email(s, "persist@example.com", &got), STORE_OK);
	ck_assert_str_eq(got.user_id, u.user_id);
	ck_assert_int_eq(got.tier, TIER_TRIAL);
	ck_assert(got.trial_used);
	ck_assert_int_eq(got.sessions_valid_after_ms, 4242);
	ck_assert_int_eq(store_token_is_revoked(s, "jti-kept", &revoked), STORE_OK);
	ck_assert(revoked);
	/* The unique email survives too. */
	make_user(&u, 2, "persist@example.com");
	ck_assert_int_eq(store_user_create(s, &u), STORE_CONFLICT);
	store_close(s);
}
END_TEST

START_TEST(test_two_handles_see_each_other)
{
	struct store *a = open_store(), *b = open_store();
	struct user u, got;

	make_user(&u, 1, "shared@example.com");
	ck_assert_int_eq(store_user_create(a, &u), STORE_OK);
	ck_assert_int_eq(store_user_get(b, u.user_id, &got), STORE_OK);
	ck_assert_int_eq(store_user_start_trial(b, u.user_id, T0, T0 + 30 * TU_DAY), STORE_OK);
	ck_assert_int_eq(store_user_start_trial(a, u.user_id, T0, T0 + 30 * TU_DAY), STORE_CONFLICT);
	ck_assert_int_eq(store_user_get(a, u.user_id, &got), STORE_OK);
	ck_assert_int_eq(got.tier, TIER_TRIAL);
	store_close(a);
	store_close(b);
}
END_TEST

/* --- concurrency: separate processes, each with its own handle ------------------------- */

#define RACERS	8

enum race_op { RACE_START_TRIAL, RACE_CREATE_SAME_EMAIL };

/* In a forked child: open, signal ready, wait for the start, do op, exit with its result.
 * No Check calls here: a failure is an exit status the parent reports. */
static void
racer(enum race_op op, int n, int ready_fd, int go_fd)
{
	struct store *s;
	struct user u;
	enum store_rc rc;
	char ch = 'r';

	s = store_open(&cfg);
	if (s == NULL)
		_exit(100);
	if (write(ready_fd, &ch, 1) != 1 || read(go_fd, &ch, 1) != 0)
		_exit(101);
	if (op == RACE_START_TRIAL)
		rc = store_user_start_trial(s, "00000000-0000-4000-8000-000000000001", T0 + n,
		    T0 + n + 30 * TU_DAY);
	else {
		make_user(&u, 100 + n, "race@example.com");
		rc = store_user_create(s, &u);
	}
	store_close(s);
	_exit((int)rc);
}

/* Runs RACERS processes at once; counts[] receives how many ended with each store_rc. */
static void
race(enum race_op op, int counts[4])
{
	int ready[2], go[2], i, status;
	pid_t pid[RACERS];
	char ch;

	memset(counts, 0, 4 * sizeof counts[0]);
	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(go), 0);
	for (i = 0; i < RACERS; i++) {
		pid[i] = fork();
		ck_assert_int_ne(pid[i], -1);
		if (pid[i] == 0) {
			close(ready[0]);
			close(go[1]);
			racer(op, i, ready[1], go[0]);
		}
	}
	close(ready[1]);
	close(go[0]);
	for (i = 0; i < RACERS; i++)
		ck_assert_int_eq(read(ready[0], &ch, 1), 1);	/* every handle is open */
	close(go[1]);						/* go */
	close(ready[0]);
	for (i = 0; i < RACERS; i++) {
		ck_assert_int_eq(waitpid(pid[i], &status, 0), pid[i]);
		ck_assert_msg(WIFEXITED(status), "racer %d died (signal %d)", i,
		    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
		ck_assert_msg(WEXITSTATUS(status) <= STORE_UNAVAILABLE, "racer %d exited %d", i,
		    WEXITSTATUS(status));
		counts[WEXITSTATUS(status)]++;
	}
}

START_TEST(test_concurrent_start_trial)
{
	struct store *s = open_store();
	struct user u, got;
	int counts[4];

	make_user(&u, 1, "racer@example.com");
	ck_assert_int_eq(store_user_create(s, &u), STORE_OK);
	store_close(s);		/* the children must not share this handle */

	race(RACE_START_TRIAL, counts);
	ck_assert_msg(counts[STORE_OK] == 1 && counts[STORE_CONFLICT] == RACERS - 1,
	    "ok %d, conflict %d, not found %d, unavailable %d", counts[STORE_OK],
	    counts[STORE_CONFLICT], counts[STORE_NOT_FOUND], counts[STORE_UNAVAILABLE]);

	s = open_store();
	ck_assert_int_eq(store_user_get(s, u.user_id, &got), STORE_OK);
	ck_assert_int_eq(got.tier, TIER_TRIAL);
	ck_assert(got.trial_used);
	ck_assert_int_ge(got.trial_started_at, T0);
	ck_assert_int_lt(got.trial_started_at, T0 + RACERS);
	ck_assert_int_eq(got.trial_expires_at, got.trial_started_at + 30 * TU_DAY);
	store_close(s);
}
END_TEST

START_TEST(test_concurrent_create_same_email)
{
	struct store *s = open_store();	/* creates the schema before the race */
	struct user got;
	int counts[4];

	store_close(s);
	race(RACE_CREATE_SAME_EMAIL, counts);
	ck_assert_msg(counts[STORE_OK] == 1 && counts[STORE_CONFLICT] == RACERS - 1,
	    "ok %d, conflict %d, not found %d, unavailable %d", counts[STORE_OK],
	    counts[STORE_CONFLICT], counts[STORE_NOT_FOUND], counts[STORE_UNAVAILABLE]);
	s = open_store();
	ck_assert_int_eq(store_user_get_by_email(s, "race@example.com", &got), STORE_OK);
	store_close(s);
}
END_TEST

START_TEST(test_concurrent_first_open)
{
	int counts[4];
	struct store *s;
	struct user u;

	/* Nobody has opened the file yet: eight processes create the schema together. */
	race(RACE_CREATE_SAME_EMAIL, counts);
	ck_assert_msg(counts[STORE_OK] == 1 && counts[STORE_CONFLICT] == RACERS - 1,
	    "ok %d, conflict %d, not found %d, unavailable %d", counts[STORE_OK],
	    counts[STORE_CONFLICT], counts[STORE_NOT_FOUND], counts[STORE_UNAVAILABLE]);
	s = open_store();
	ck_assert_int_eq(store_user_get_by_email(s, "race@example.com", &u), STORE_OK);
	store_close(s);
}
END_TEST

/* --- SQLite only ----------------------------------------------------------------------- */

/* The schema_version rows of the file (count and max), read with SQLite directly. */
static void
schema_rows(int *count, int *max)
{
	sqlite3 *db;
	sqlite3_stmt *st;

	ck_assert_int_eq(sqlite3_open_v2(cfg.sqlite_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT count(*), max(version) FROM schema_version", -1,
	    &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	*count = sqlite3_column_int(st, 0);
	*max = sqlite3_column_int(st, 1);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void
sql(const char *stmt)
{
	sqlite3 *db;
	char *err = NULL;

	ck_assert_int_eq(sqlite3_open_v2(cfg.sqlite_path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(db, stmt, NULL, NULL, &err) == SQLITE_OK, "%s: %s", stmt, err);
	sqlite3_close(db);
}

START_TEST(test_sqlite_schema_version_kept)
{
	struct store *s = open_store();
	struct user u, got;
	int count, max, count2, max2;

	make_user(&u, 1, "schema@example.com");
	ck_assert_int_eq(store_user_create(s, &u), STORE_OK);
	store_close(s);
	schema_rows(&count, &max);
	ck_assert_int_ge(max, 1);
	ck_assert_int_eq(count, max);	/* one row per migration applied */

	/* Reopening applies nothing again and keeps the data. */
	s = open_store();
	ck_assert_int_eq(store_user_get(s, u.user_id, &got), STORE_OK);
	store_close(s);
	schema_rows(&count2, &max2);
	ck_assert_int_eq(count2, count);
	ck_assert_int_eq(max2, max);
}
END_TEST

START_TEST(test_sqlite_newer_schema_refused)
{
	struct store *s = open_store();
	struct user u, got;
	int count, max;
	char stmt[128];

	make_user(&u, 1, "future@example.com");
	ck_assert_int_eq(store_user_create(s, &u), STORE_OK);
	store_close(s);
	schema_rows(&count, &max);
	snprintf(stmt, sizeof stmt, "INSERT INTO schema_version (version) VALUES (%d)", max + 1);
	sql(stmt);	/* as a later release would leave it */

	ck_assert_ptr_null(store_open(&cfg));
	ck_assert_ptr_null(store_open(&cfg));	/* and again: the refusal changed nothing */
	schema_rows(&count, &max);
	ck_assert_int_eq(count, max);

	/* Remove the marker and the same file opens again, data intact. */
	snprintf(stmt, sizeof stmt, "DELETE FROM schema_version WHERE version = %d", max);
	sql(stmt);
	s = open_store();
	ck_assert_int_eq(store_user_get(s, u.user_id, &got), STORE_OK);
	store_close(s);
}
END_TEST

START_TEST(test_sqlite_unopenable)
{
	struct config bad;
	FILE *f;
	static const char *const missing_dir[] = { "SQLITE_PATH=/nonexistent-dir/for/sure/fs.db", NULL };
	const char *garbage[] = { NULL, NULL };
	char line[4300];

	tu_store_config(&bad, missing_dir);
	ck_assert_ptr_null(store_open(&bad));
	config_free(&bad);

	/* A file that is not a database. */
	f = fopen(tu_path("garbage.db"), "w");
	ck_assert_ptr_nonnull(f);
	fputs("this is not an SQLite database, not even close; it is just text.\n", f);
	for (int i = 0; i < 200; i++)
		fputs("more text to fill a page or two of the file with junk bytes\n", f);
	fclose(f);
	snprintf(line, sizeof line, "SQLITE_PATH=%s", tu_path("garbage.db"));
	garbage[0] = line;
	tu_store_config(&bad, garbage);
	ck_assert_ptr_null(store_open(&bad));
	config_free(&bad);
}
END_TEST

/* --- the suite, per backend ------------------------------------------------------------ */

static void
add_behaviour(Suite *s)
{
	TCase *tc = tcase_create("behaviour");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, TU_TIMEOUT);
	tcase_add_test(tc, test_ping);
	tcase_add_test(tc, test_create_and_get);
	tcase_add_test(tc, test_create_full_row);
	tcase_add_test(tc, test_several_users_are_independent);
	tcase_add_test(tc, test_duplicate_email);
	tcase_add_test(tc, test_duplicate_id);
	tcase_add_test(tc, test_not_found);
	tcase_add_test(tc, test_start_trial_once);
	tcase_add_test(tc, test_start_trial_premium);
	tcase_add_test(tc, test_set_tier);
	tcase_add_test(tc, test_set_tier_after_trial_keeps_trial_used);
	tcase_add_test(tc, test_revoke_sessions_monotonic);
	tcase_add_test(tc, test_token_revocation);
	tcase_add_test(tc, test_reopen_keeps_data);
	tcase_add_test(tc, test_two_handles_see_each_other);
	suite_add_tcase(s, tc);

	tc = tcase_create("concurrency");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, TU_TIMEOUT);
	tcase_add_test(tc, test_concurrent_start_trial);
	tcase_add_test(tc, test_concurrent_create_same_email);
	tcase_add_test(tc, test_concurrent_first_open);
	suite_add_tcase(s, tc);
}

static void
add_sqlite_only(Suite *s)
{
	TCase *tc = tcase_create("sqlite");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, TU_TIMEOUT);
	tcase_add_test(tc, test_sqlite_schema_version_kept);
	tcase_add_test(tc, test_sqlite_newer_schema_refused);
	tcase_add_test(tc, test_sqlite_unopenable);
	suite_add_tcase(s, tc);
}

/* Cases of a backend's own, on top of the shared behaviour. A new backend needs only its
 * entry in testutil.c's backend table to run the whole shared suite; an entry here adds
 * cases that only make sense for it. */
static const struct {
	const char	*name;
	void		(*extra)(Suite *);
} suites[] = {
	{ "sqlite", add_sqlite_only },
};

static Suite *
store_suite(const struct tu_backend *b)
{
	static char name[64];	/* suite_create() keeps the pointer, not a copy */
	Suite *s;
	size_t i;

	snprintf(name, sizeof name, "store (%s)", b->name);
	s = suite_create(name);
	add_behaviour(s);
	for (i = 0; i < sizeof suites / sizeof suites[0]; i++)
		if (!strcmp(suites[i].name, b->name) && suites[i].extra != NULL)
			suites[i].extra(s);
	return s;
}

int
main(void)
{
	const struct tu_backend *b = tu_backend_selected();
	SRunner *sr;
	int failed;

	if (b == NULL)
		return EXIT_FAILURE;
	sr = srunner_create(store_suite(b));
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
