/*
 * testutil: what every Check program shares. A fake clock, a temporary directory per test,
 * configurations built by config_parse() from NAME=VALUE tables, the store backend the tests
 * run against (FS_TEST_STORE), an app over a fresh store, and requests built in memory and run
 * through app_handle() without any server.
 *
 * Every test program runs in Check's fork mode; fixtures (tu_setup/tu_teardown) run in the
 * test's own process, so nothing here needs to be undone between tests except files.
 */
#ifndef FS_TESTUTIL_H
#define FS_TESTUTIL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <check.h>
#include <json-c/json.h>

#include "app.h"
#include "config.h"
#include "http.h"
#include "store.h"

#define TU_SECRET	"test-session-secret-0123456789abcdefghijklmnop"	/* 46 characters */
#define TU_BASE_URL	"http://fs.test"
#define TU_TIMEOUT	120	/* seconds per test: scrypt and fork races are slow under ASan */

/* 2026-01-01T00:00:00Z, where every test's fake clock starts unless it says otherwise. */
#define TU_EPOCH_S	INT64_C(1767225600)
#define TU_DAY		INT64_C(86400)

/* The fake clock: clock_now_ms (timeutil.h) reads it once installed. */
void	 tu_clock_install(int64_t now_ms);
void	 tu_clock_set(int64_t now_ms);
void	 tu_clock_advance(int64_t ms);
int64_t	 tu_clock_ms(void);

/* The usual fixture: fake clock at TU_EPOCH_S, cheap scrypt, a fresh temporary directory. */
void	 tu_setup(void);
void	 tu_teardown(void);

/* The temporary directory of the current test (made by tu_setup or tu_tmpdir_make). */
const char *tu_tmpdir_make(void);
void	 tu_tmpdir_remove(void);
const char *tu_tmpdir(void);
/* tmpdir/name in a static buffer (overwritten by the next call). */
const char *tu_path(const char *name);

/* An owned list of "NAME=VALUE" lines; later lines win over earlier ones. */
struct tu_vars {
	char	**v;
	size_t	  n;
};

void	 tu_vars_add(struct tu_vars *, const char *name, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	 tu_vars_addv(struct tu_vars *, const char *const *lines);	/* NULL-terminated */
void	 tu_vars_free(struct tu_vars *);
/* The config_getter over a struct tu_vars (ctx). */
const char *tu_vars_get(const char *name, void *ctx);
/* config_parse() over lines (NULL-terminated "NAME=VALUE"); 0 or -1 with err set. */
int	 tu_config(struct config *, const char *const *lines, char *err, size_t errlen);

/*
 * The store backends the suites can run against. FS_TEST_STORE (read here, and only here,
 * with getenv) picks one by name; unset means "sqlite". A backend adds the variables that
 * select it to a configuration; the files it needs go in the current temporary directory.
 */
struct tu_backend {
	const char	*name;
	void		(*vars)(struct tu_vars *);
	void		(*prepare)(const struct config *);	/* e.g. create tables; may be NULL */
};

const struct tu_backend *tu_backend_selected(void);	/* NULL (after a message) if unknown */
/* The minimal configuration for the selected backend in the temporary directory. */
void	 tu_store_config(struct config *, const char *const *extra);

/* An app over a fresh store in the temporary directory. extra overrides the defaults:
 * DATA_DIR=tmpdir, SESSION_SECRET=TU_SECRET, PUBLIC_BASE_URL=TU_BASE_URL. */
struct tu_app {
	struct config	 cfg;
	struct app	 app;
};

void	 tu_app_open(struct tu_app *, const char *const *extra);
void	 tu_app_close(struct tu_app *);

/* A request body served from memory, at most chunk bytes per read (0: any). */
struct tu_body {
	const char	*data;
	size_t		 len;
	size_t		 pos;
	size_t		 chunk;
	size_t		 reads;		/* read() calls so far */
	bool		 fail;		/* read() returns -1 */
};

ssize_t	 tu_body_read(void *ctx, void *buf, size_t n);

#define TU_MAX_HEADERS	8

struct tu_request {
	const char	*method;
	const char	*target;			/* path, optionally "?query" */
	const char	*headers[TU_MAX_HEADERS];	/* "Name: value", NULL after the last */
	const char	*body;				/* NULL: no body */
	size_t		 body_len;			/* 0: strlen(body) */
	bool		 no_content_length;		/* send the body without Content-Length */
	size_t		 chunk;				/* see struct tu_body */
};

/* Builds req (req_free it) reading its body from *body, which must outlive req. */
void	 tu_request_build(struct request *req, struct tu_body *body, const struct tu_request *);

struct tu_result {
	struct response	 resp;
	json_object	*json;		/* the body parsed as JSON; NULL if empty or not JSON */
	bool		 drained;	/* every byte of the request body was read */
};

/* Runs app_handle() on the request; free the result with tu_result_free. */
void	 tu_handle(struct app *, const struct tu_request *, struct tu_result *);
void	 tu_result_free(struct tu_result *);

/* The value of the first response header called name (any case) into out; NULL if absent. */
const char *tu_resp_header(const struct response *, const char *name, char *out, size_t outlen);
/* The number of response headers called name. */
int	 tu_resp_header_count(const struct response *, const char *name);
/* The session token a response's Set-Cookie carries into out; -1 if none. */
int	 tu_session_cookie(const struct response *, char *out, size_t outlen);

/* A member by dotted path ("error.code"); NULL if absent. */
json_object *tu_json_get(json_object *, const char *path);
/* The string at path; NULL if absent or not a string. */
const char *tu_json_str(json_object *, const char *path);

/*
 * Makes the next allocations of about size bytes come back full of non-zero bytes, so that a
 * missing NUL terminator or an uninitialised read shows every time instead of by chance:
 * glibc's M_PERTURB, with the per-thread cache for that size drained first (cached blocks
 * are handed out unperturbed). ASan fills new blocks with 0xbe by itself.
 */
struct tu_garbage {
	void	*held[32];
};

void	 tu_garbage_begin(struct tu_garbage *, size_t size);
void	 tu_garbage_end(struct tu_garbage *);

/* Reads a whole file (caller frees); NULL if it cannot. */
char	*tu_read_file(const char *path, size_t *len);

/* Asserts that r is the JSON error shape with this status and code. */
#define tu_assert_error(r, st, code) do {						\
	ck_assert_int_eq((r)->resp.status, (st));					\
	ck_assert_msg((r)->json != NULL, "error body is not JSON: %s",			\
	    buf_str(&(r)->resp.body));							\
	ck_assert_str_eq(tu_json_str((r)->json, "error.code") ?				\
	    tu_json_str((r)->json, "error.code") : "(none)", (code));			\
	ck_assert_ptr_nonnull(tu_json_str((r)->json, "error.message"));		\
} while (0)

#endif
