/*
 * check_walbuf: the WAL-buffering VFS against real SQLite files. Each commit's frames are in
 * the WAL file when the commit returns (another connection sees them, and so does a process
 * opened after the writer died without closing), a transaction of more frames than fit one
 * write or the buffer is whole, a rollback after a cache spill leaves nothing behind for the
 * next writer, a write that fails fails the commit, and the writes passed down are far fewer
 * than SQLite's. And the store's checkpoint pass, whose syncs go through the same files.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "config.h"
#include "sqlite_walbuf.h"
#include "store.h"
#include "testutil.h"

#define ROWS	2000	/* rows of ~300 bytes: ~150 pages of 4 KiB */

static sqlite3 *
db_open(const char *vfs)
{
	sqlite3 *db = NULL;

	ck_assert_int_eq(sqlite3_open_v2(tu_path("t.db"), &db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
	    " PRAGMA wal_autocheckpoint=0;", NULL, NULL, NULL), SQLITE_OK);
	return db;
}

static void
exec_ok(sqlite3 *db, const char *sql)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

	ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(db));
}

/* Column col of the first row sql returns. */
static sqlite3_int64
col_int(sqlite3 *db, const char *sql, int col)
{
	sqlite3_stmt *st;
	sqlite3_int64 v;

	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, col);
	sqlite3_finalize(st);
	return v;
}

static sqlite3_int64
one_int(sqlite3 *db, const char *sql)
{
	return col_int(db, sql, 0);
}

static void
integrity_ok(sqlite3 *db)
{
	sqlite3_stmt *st;

	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
}

/* The frames in the WAL now (PRAGMA wal_checkpoint's second column; the passive checkpoint it
 * runs does not change it). */
static sqlite3_int64
wal_frames(sqlite3 *db)
{
	return col_int(db, "PRAGMA wal_checkpoint(PASSIVE)", 1);
}

/* The database is sound before and after its WAL is copied into it. */
static void
checkpoint_and_close(sqlite3 *r, sqlite3 *w)
{
	integrity_ok(r);
	exec_ok(r, "PRAGMA wal_checkpoint(TRUNCATE)");
	integrity_ok(r);
	sqlite3_close(r);
	sqlite3_close(w);
}

/* A table of ROWS rows, n = 0, spread over ~150 pages. */
static void
seed(sqlite3 *db)
{
	exec_ok(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, pad TEXT, n INTEGER NOT NULL DEFAULT 0);"
	    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000)"
	    " INSERT INTO t (id, pad) SELECT x, printf('%0300d', x) FROM c;");
}

START_TEST(test_vfs_registered)
{
	const char *name = sqlite_walbuf_vfs();

	ck_assert_ptr_nonnull(name);
	ck_assert_ptr_nonnull(sqlite3_vfs_find(name));
	ck_assert_ptr_ne(sqlite3_vfs_find(NULL), sqlite3_vfs_find(name));	/* not the default */
	ck_assert_str_eq(sqlite_walbuf_vfs(), name);				/* registered once */
}
END_TEST

/* Commits of several pages each: every one is visible to a plain connection at once, and the
 * WAL got about one write per commit instead of two per frame. */
START_TEST(test_commits_visible_and_coalesced)
{
	sqlite3 *w = db_open(sqlite_walbuf_vfs()), *r;
	struct walbuf_stats a, b;
	char sql[200];
	int i, j;

	seed(w);
	r = db_open(NULL);
	sqlite_walbuf_stats(&a);
	for (i = 0; i < 50; i++) {
		exec_ok(w, "BEGIN IMMEDIATE");
		for (j = 0; j < 6; j++) {	/* six rows far apart: six pages */
			snprintf(sql, sizeof sql, "UPDATE t SET n = n + 1 WHERE id = %d",
			    1 + (i * 7 + j * 331) % ROWS);
			exec_ok(w, sql);
		}
		exec_ok(w, "COMMIT");
		ck_assert_int_eq(one_int(r, "SELECT sum(n) FROM t"), (i + 1) * 6);
	}
	sqlite_walbuf_stats(&b);
	/* 50 commits of >= 6 frames: >= 600 writes by SQLite, one (or two) passed down each */
	ck_assert_uint_ge(b.writes - a.writes, 600);
	ck_assert_uint_le(b.flushes - a.flushes, 60);
	ck_assert_uint_eq(b.bytes - a.bytes, (b.writes - a.writes) / 2 * (24 + 4096));
	integrity_ok(r);
	sqlite3_close(r);
	sqlite3_close(w);
}
END_TEST

/* One transaction of ~150 frames (600 KiB, more than one write of SQLite's unix VFS can take)
 * and one of ~1,500 (6 MiB, past the buffer): both whole. */
START_TEST(test_large_transactions)
{
	sqlite3 *w = db_open(sqlite_walbuf_vfs()), *r;

	seed(w);
	exec_ok(w, "UPDATE t SET n = n + 1");
	r = db_open(NULL);
	ck_assert_int_eq(one_int(r, "SELECT sum(n) FROM t"), ROWS);
	exec_ok(w, "CREATE TABLE big (b BLOB);"
	    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1500)"
	    " INSERT INTO big SELECT zeroblob(4000) FROM c;");
	ck_assert_int_eq(one_int(r, "SELECT count(*) FROM big"), 1500);
	checkpoint_and_close(r, w);
}
END_TEST

/* A cache spill writes frames of an unfinished transaction; rolled back, the next writer (a
 * plain connection) appends its own frames where they were, and nothing pending overwrites
 * them later. */
START_TEST(test_rollback_after_spill)
{
	sqlite3 *w = db_open(sqlite_walbuf_vfs()), *r;
	struct walbuf_stats a, b;

	seed(w);
	exec_ok(w, "PRAGMA cache_size=20");
	r = db_open(NULL);
	sqlite_walbuf_stats(&a);
	exec_ok(w, "BEGIN IMMEDIATE; UPDATE t SET n = n + 100;");	/* ~150 pages: spills */
	sqlite_walbuf_stats(&b);
	ck_assert_uint_gt(b.writes, a.writes);
	exec_ok(w, "ROLLBACK");
	exec_ok(r, "UPDATE t SET n = n + 1 WHERE id <= 500");
	exec_ok(w, "UPDATE t SET n = n + 2 WHERE id > 1500");
	ck_assert_int_eq(one_int(r, "SELECT sum(n) FROM t"), 500 + 2 * 500);
	ck_assert_int_eq(one_int(w, "SELECT sum(n) FROM t"), 500 + 2 * 500);
	checkpoint_and_close(r, w);
}
END_TEST

/* A writer killed right after its commits returned (never closing, no destructor): a new
 * process finds every commit in the WAL. */
START_TEST(test_commit_survives_kill)
{
	sqlite3 *w = db_open(sqlite_walbuf_vfs()), *r;
	int fds[2], status, i;
	char c;
	pid_t pid;

	seed(w);
	sqlite3_close(w);
	ck_assert_int_eq(pipe(fds), 0);
	if ((pid = fork()) == 0) {
		w = db_open(sqlite_walbuf_vfs());
		for (i = 0; i < 20; i++)
			if (sqlite3_exec(w, "UPDATE t SET n = n + 1 WHERE id % 97 = 0", NULL, NULL,
			    NULL) != SQLITE_OK)
				_exit(1);
		(void)!write(fds[1], "x", 1);
		pause();
		_exit(2);
	}
	close(fds[1]);
	ck_assert_int_eq(read(fds[0], &c, 1), 1);
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status));
	close(fds[0]);
	r = db_open(NULL);
	ck_assert_int_eq(one_int(r, "SELECT sum(n) FROM t"), 20 * (ROWS / 97));
	integrity_ok(r);
	sqlite3_close(r);
}
END_TEST

/* A write that fails at the commit (the file-size limit: EFBIG, as a full disk would) fails
 * the commit itself, and nothing of it is visible afterwards. (Check runs each test in a
 * process of its own: the limit dies with it.) */
START_TEST(test_write_failure_fails_the_commit)
{
	sqlite3 *w = db_open(sqlite_walbuf_vfs()), *r;
	struct rlimit rl;
	struct stat sb;
	char wal[4096];

	seed(w);
	r = db_open(NULL);
	snprintf(wal, sizeof wal, "%s-wal", tu_path("t.db"));
	ck_assert_int_eq(stat(wal, &sb), 0);
	signal(SIGXFSZ, SIG_IGN);
	rl.rlim_cur = rl.rlim_max = (rlim_t)sb.st_size + 8192;	/* two frames more, no more */
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	ck_assert_int_ne(sqlite3_exec(w, "UPDATE t SET n = n + 1", NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_get_autocommit(w), 1);		/* rolled back */
	ck_assert_int_eq(one_int(r, "SELECT sum(n) FROM t"), 0);
	ck_assert_int_eq(one_int(w, "SELECT sum(n) FROM t"), 0);
	/* a commit that fits still works */
	exec_ok(w, "UPDATE t SET n = n + 1 WHERE id = 1");
	ck_assert_int_eq(one_int(r, "SELECT sum(n) FROM t"), 1);
	integrity_ok(r);
	sqlite3_close(r);
	sqlite3_close(w);
}
END_TEST

/* The store's checkpoint pass (the checkpointer's, under the supervisor) over a WAL past the
 * size where it catches up: every frame is copied, so the next commit starts the WAL over. */
START_TEST(test_checkpointer_restarts_the_wal)
{
	char dd[1024], sp[1024], wal[1024], err[256];
	const char *lines[] = { dd, sp, "SESSION_SECRET=" TU_SECRET, "PUBLIC_BASE_URL=" TU_BASE_URL,
	    NULL };
	struct config cfg;
	struct store *st;
	sqlite3_stmt *up;
	struct stat sb;
	sqlite3 *w;
	int i;

	snprintf(dd, sizeof dd, "DATA_DIR=%s", tu_tmpdir());
	snprintf(sp, sizeof sp, "SQLITE_PATH=%s", tu_path("t.db"));
	snprintf(wal, sizeof wal, "%s-wal", tu_path("t.db"));
	ck_assert_msg(tu_config(&cfg, lines, err, sizeof err) == 0, "config: %s", err);
	cfg.sqlite_checkpointer = true;
	st = store_open(&cfg);
	ck_assert_ptr_nonnull(st);
	w = db_open(NULL);
	seed(w);
	ck_assert_int_eq(sqlite3_prepare_v2(w, "UPDATE t SET n = n + 1 WHERE id = ?", -1, &up, NULL),
	    SQLITE_OK);
	for (i = 0; i < 17000; i++) {	/* one frame each */
		sqlite3_bind_int(up, 1, 1 + i * 37 % ROWS);
		ck_assert_int_eq(sqlite3_step(up), SQLITE_DONE);
		sqlite3_reset(up);
	}
	sqlite3_finalize(up);
	ck_assert_int_eq(stat(wal, &sb), 0);
	ck_assert_int_ge(sb.st_size, 17000LL * (24 + 4096));
	ck_assert_int_eq(store_checkpoint(st), STORE_OK);
	exec_ok(w, "UPDATE t SET n = n + 1 WHERE id = 1");
	ck_assert_int_eq(wal_frames(w), 1);		/* started over */
	ck_assert_int_eq(one_int(w, "SELECT sum(n) FROM t"), 17001);
	integrity_ok(w);
	sqlite3_close(w);
	store_close(st);
	config_free(&cfg);
}
END_TEST

static Suite *
walbuf_suite(void)
{
	Suite *s = suite_create("walbuf");
	TCase *tc = tcase_create("walbuf");

	tcase_add_checked_fixture(tc, tu_setup, tu_teardown);
	tcase_set_timeout(tc, TU_TIMEOUT);
	tcase_add_test(tc, test_vfs_registered);
	tcase_add_test(tc, test_commits_visible_and_coalesced);
	tcase_add_test(tc, test_large_transactions);
	tcase_add_test(tc, test_rollback_after_spill);
	tcase_add_test(tc, test_commit_survives_kill);
	tcase_add_test(tc, test_write_failure_fails_the_commit);
	tcase_add_test(tc, test_checkpointer_restarts_the_wal);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(walbuf_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
