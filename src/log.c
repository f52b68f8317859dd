#include "log.h"

#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"

static enum log_level min_level = LOG_INFO;
static pid_t my_pid;		/* getpid() is a system call; fork() resets this */
static struct buf held;		/* access lines waiting for log_flush() */
static bool holding;

#define HELD_MAX	(32 * 1024)	/* flush early beyond this */

static void
forget_pid(void)
{
	my_pid = 0;
}

static long
pid(void)
{
	static bool registered;

	if (my_pid == 0) {
		if (!registered) {
			pthread_atfork(NULL, NULL, forget_pid);
			registered = true;
		}
		my_pid = getpid();
	}
	return (long)my_pid;
}
static const char *names[] = { "debug", "info", "warn", "error" };

void
log_set_level(enum log_level l)
{
	min_level = l;
}

/*
 * The second part of ts ("2026-11-24T16:47:59") is formatted once per second and reused: the
 * access log writes a line per request, and gmtime_r + strftime were ~900 of the ~10,000
 * instructions a line cost (bench/profile).
 */
static void
begin(struct buf *b, const char *level)
{
	static time_t cached_sec = -1;
	static char cached_ts[32];
	struct timeval tv;
	struct tm tm;
	int ms;

	gettimeofday(&tv, NULL);
	if (tv.tv_sec != cached_sec) {
		gmtime_r(&tv.tv_sec, &tm);
		strftime(cached_ts, sizeof cached_ts, "%Y-%m-%dT%H:%M:%S", &tm);
		cached_sec = tv.tv_sec;
	}
	/* Appended piece by piece: printf's machinery was most of a line's cost. */
	ms = (int)(tv.tv_usec / 1000);
	buf_appends(b, "{\"ts\":\"");
	buf_appends(b, cached_ts);
	buf_appendc(b, '.');
	buf_appendc(b, (char)('0' + ms / 100));
	buf_appendc(b, (char)('0' + ms / 10 % 10));
	buf_appendc(b, (char)('0' + ms % 10));
	buf_appends(b, "Z\",\"level\":\"");
	buf_appends(b, level);
	buf_appends(b, "\",\"pid\":");
	buf_append_i64(b, pid());
}

static void
write_all(const char *p, size_t left)
{
	ssize_t n;

	while (left > 0) {
		n = write(STDERR_FILENO, p, left);
		if (n <= 0)
			break;
		p += n;
		left -= (size_t)n;
	}
}

/*
 * Writes the held lines: several per write(2), never more than PIPE_BUF bytes at once and
 * always whole lines, so lines from several workers sharing a pipe never interleave.
 */
void
log_flush(void)
{
	const char *p = held.data, *end = held.data + held.len, *cut, *nl;

	while (p < end) {
		cut = p;
		while (cut < end && (nl = memchr(cut, '\n', (size_t)(end - cut))) != NULL &&
		    (nl + 1 - p <= PIPE_BUF || cut == p))
			cut = nl + 1;
		if (cut == p)
			cut = end;
		write_all(p, (size_t)(cut - p));
		p = cut;
	}
	buf_reset(&held);
}

void
log_hold(bool on)
{
	holding = on;
	if (!on)
		log_flush();
}

/* One write(2) per line (or per batch of held access lines, see log_flush): lines from
 * several workers sharing stderr never interleave. The buffer is emptied, not freed:
 * log_access reuses one for every line. */
static void
finish(struct buf *b, bool may_hold)
{
	buf_appends(b, "}\n");
	if (holding && may_hold) {
		buf_append(&held, b->data, b->len);
		if (held.len >= HELD_MAX)
			log_flush();
	} else {
		if (held.len > 0)
			log_flush();	/* keep the order of the lines */
		write_all(b->data, b->len);
	}
	buf_reset(b);
}

void
log_msg(enum log_level level, const char *func, const char *fmt, ...)
{
	struct buf b = BUF_INIT, m = BUF_INIT;
	va_list ap;

	if (level < min_level)
		return;
	va_start(ap, fmt);
	buf_vprintf(&m, fmt, ap);
	va_end(ap);
	begin(&b, names[level]);
	buf_appends(&b, ",\"func\":\"");
	buf_append_json_str(&b, func, strlen(func));
	buf_appends(&b, "\",\"msg\":\"");
	buf_append_json_str(&b, buf_str(&m), m.len);
	buf_appends(&b, "\"");
	buf_free(&m);
	finish(&b, false);
	buf_free(&b);
}

void
log_access(const char *method, const char *path, int status, long usec, const char *user_id)
{
	static struct buf line;		/* kept between lines: no allocation per request */
	struct buf *b = &line;

	begin(b, "info");
	buf_appends(b, ",\"type\":\"access\",\"method\":\"");
	buf_append_json_str(b, method, strlen(method));
	buf_appends(b, "\",\"path\":\"");
	buf_append_json_str(b, path, strlen(path));
	buf_appends(b, "\",\"status\":");
	buf_append_i64(b, status);
	buf_appends(b, ",\"us\":");
	buf_append_i64(b, usec);
	if (user_id != NULL) {
		buf_appends(b, ",\"user\":\"");
		buf_append_json_str(b, user_id, strlen(user_id));
		buf_appends(b, "\"");
	}
	finish(b, true);
}
