/*
 * admin_migrate_pool: the parallelism of the data moves, and their plumbing. Workers are
 * forked processes, not threads: each makes its own transport (one libcurl handle) and
 * credentials provider after the fork, as the FastCGI workers do, so nothing AWS-related is
 * shared and nothing needs a lock. The parent stays single-threaded: it alone reads and writes
 * SQLite, keeps the checkpoint and draws the progress; workers get their tasks as text over a
 * pipe and answer over another.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <openssl/evp.h>

#include "admin_migrate.h"
#include "log.h"
#include "timeutil.h"
#include "xmalloc.h"

struct mworker {
	pid_t		 pid;
	int		 to;		/* tasks (parent writes) */
	int		 from;		/* answers (parent reads) */
	bool		 busy;
	long		 id;
	struct buf	 in;		/* answer bytes not yet split into lines */
};

struct mpool {
	int		 n;
	struct mworker	*w;
};

/* ------------------------------------------------------------------ the child */

static int
read_task(int fd, struct buf *pending, struct buf *task)
{
	char chunk[65536], *nl;
	ssize_t got;
	size_t off = 0;

	buf_reset(task);
	for (;;) {
		/* Lines already read: move them into the task until the "E" line. */
		while (pending->len > off &&
		    (nl = memchr(pending->data + off, '\n', pending->len - off)) != NULL) {
			size_t linelen = (size_t)(nl - (pending->data + off));

			if (linelen == 1 && pending->data[off] == 'E') {
				off += 2;
				memmove(pending->data, pending->data + off, pending->len - off);
				pending->len -= off;
				pending->data[pending->len] = '\0';
				return 0;
			}
			buf_append(task, pending->data + off, linelen + 1);
			off += linelen + 1;
		}
		if (off > 0) {
			memmove(pending->data, pending->data + off, pending->len - off);
			pending->len -= off;
			pending->data[pending->len] = '\0';
			off = 0;
		}
		got = read(fd, chunk, sizeof chunk);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return -1;	/* the parent closed the pipe (or died) */
		buf_append(pending, chunk, (size_t)got);
	}
}

static void
child_main(int in, int out, mpool_task_fn fn, mpool_fini_fn fini, void *ctx)
{
	struct buf pending = BUF_INIT, task = BUF_INIT;
	FILE *f = fdopen(out, "w");

	if (f == NULL)
		exit(1);
	while (read_task(in, &pending, &task) == 0) {
		if (fn(ctx, task.data ? task.data : (char *)"", task.len, f) == -1)
			break;
		if (fflush(f) == EOF)
			break;
	}
	buf_free(&pending);
	buf_free(&task);
	if (fini != NULL)
		fini(ctx);
	fclose(f);
	close(in);
	exit(0);
}

/* ------------------------------------------------------------------ the parent */

struct mpool *
mpool_start(int n, mpool_task_fn fn, mpool_fini_fn fini, void *child_ctx)
{
	struct mpool *p = xcalloc(1, sizeof *p);
	pid_t parent = getpid();
	int i, j, to[2], from[2];

	signal(SIGPIPE, SIG_IGN);	/* a dead worker is an EPIPE to handle, not our death */
	p->w = xcalloc((size_t)n, sizeof *p->w);
	for (i = 0; i < n; i++) {
		if (pipe(to) == -1 || pipe(from) == -1) {
			log_errorx("pipe: %s", strerror(errno));
			goto fail;
		}
		fflush(NULL);	/* nothing buffered may be written twice */
		switch (p->w[i].pid = fork()) {
		case -1:
			log_errorx("fork: %s", strerror(errno));
			close(to[0]);
			close(to[1]);
			close(from[0]);
			close(from[1]);
			goto fail;
		case 0:
#ifdef __linux__
			prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
			if (getppid() != parent)
				_exit(1);
			signal(SIGPIPE, SIG_DFL);
			for (j = 0; j < i; j++) {
				close(p->w[j].to);
				close(p->w[j].from);
			}
			close(to[1]);
			close(from[0]);
			free(p->w);
			free(p);
			child_main(to[0], from[1], fn, fini, child_ctx);
			_exit(0);	/* not reached */
		default:
			close(to[0]);
			close(from[1]);
			p->w[i].to = to[1];
			p->w[i].from = from[0];
			fcntl(p->w[i].from, F_SETFL, fcntl(p->w[i].from, F_GETFL) | O_NONBLOCK);
			fcntl(p->w[i].to, F_SETFD, FD_CLOEXEC);
			fcntl(p->w[i].from, F_SETFD, FD_CLOEXEC);
			p->n = i + 1;
		}
	}
	return p;
fail:
	mpool_stop(p);
	return NULL;
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Splits the worker's answer bytes into lines; a line starting with 'R' ends its task. */
static void
drain_lines(struct mworker *w, mpool_line_fn on_line, void *ctx)
{
	size_t off = 0;
	char *nl;

	while (w->in.len > off && (nl = memchr(w->in.data + off, '\n', w->in.len - off)) != NULL) {
		char *line = w->in.data + off;

		*nl = '\0';
		off = (size_t)(nl - w->in.data) + 1;
		on_line(ctx, w->id, line);
		if (line[0] == 'R')
			w->busy = false;
	}
	if (off > 0) {
		memmove(w->in.data, w->in.data + off, w->in.len - off);
		w->in.len -= off;
		w->in.data[w->in.len] = '\0';
	}
}

int
mpool_run(struct mpool *p, mpool_feed_fn feed, mpool_line_fn on_line, void (*tick)(void *),
    void *ctx, long *lost_id)
{
	struct pollfd *pfd = xcalloc((size_t)p->n, sizeof *pfd);
	struct buf task = BUF_INIT;
	char chunk[65536];
	bool more = true;
	int i, nbusy, rc = 0;
	ssize_t got;

	for (;;) {
		for (i = 0; i < p->n && more; i++) {
			struct mworker *w = &p->w[i];

			if (w->busy)
				continue;
			buf_reset(&task);
			if (feed(ctx, &task, &w->id) != 1) {
				more = false;
				break;
			}
			w->busy = true;
			if (write_all(w->to, task.data, task.len) == -1) {
				log_errorx("worker %d: cannot send it a task: %s", (int)w->pid,
				    strerror(errno));
				*lost_id = w->id;
				rc = -1;
				goto out;
			}
		}
		nbusy = 0;
		for (i = 0; i < p->n; i++) {
			pfd[i].fd = p->w[i].busy ? p->w[i].from : -1;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
			nbusy += p->w[i].busy;
		}
		if (nbusy == 0)
			break;
		if (poll(pfd, (nfds_t)p->n, 100) < 0 && errno != EINTR) {
			log_errorx("poll: %s", strerror(errno));
			rc = -1;
			goto out;
		}
		if (tick != NULL)
			tick(ctx);
		for (i = 0; i < p->n; i++) {
			struct mworker *w = &p->w[i];

			if (pfd[i].fd < 0 || pfd[i].revents == 0)
				continue;
			while ((got = read(w->from, chunk, sizeof chunk)) > 0) {
				buf_append(&w->in, chunk, (size_t)got);
				drain_lines(w, on_line, ctx);
			}
			if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
				log_errorx("worker %d ended in the middle of a task", (int)w->pid);
				*lost_id = w->id;
				rc = -1;
				goto out;
			}
		}
	}
out:
	buf_free(&task);
	free(pfd);
	return rc;
}

void
mpool_stop(struct mpool *p)
{
	int i, status;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++)
		close(p->w[i].to);	/* end of tasks: the worker cleans up and exits */
	for (i = 0; i < p->n; i++) {
		if (p->w[i].busy)
			kill(p->w[i].pid, SIGTERM);	/* stopped in the middle of something */
		while (waitpid(p->w[i].pid, &status, 0) == -1 && errno == EINTR)
			;
		close(p->w[i].from);
		buf_free(&p->w[i].in);
	}
	free(p->w);
	free(p);
}

/* ------------------------------------------------------------------ progress */

void
mprogress_init(struct mprogress *pr, const char *what)
{
	memset(pr, 0, sizeof *pr);
	pr->what = what;
	pr->tty = isatty(STDERR_FILENO) == 1;
	pr->interval_us = 1000000;
}

void
mprogress_phase(struct mprogress *pr, const char *phase, int64_t total)
{
	pr->phase = phase;
	pr->total = total;
	pr->done = 0;
	pr->phase_done0 = 0;
	pr->phase_started_us = monotonic_us();
	pr->last_us = 0;
	pr->drawn = false;
	mprogress_update(pr, 0, true);
}

static void
fmt_eta(char *out, size_t len, double s)
{
	if (s < 0 || s > 359999)
		snprintf(out, len, "--:--");
	else if (s >= 3600)
		snprintf(out, len, "%d:%02d:%02d", (int)s / 3600, ((int)s / 60) % 60, (int)s % 60);
	else
		snprintf(out, len, "%d:%02d", (int)s / 60, (int)s % 60);
}

void
mprogress_update(struct mprogress *pr, int64_t done, bool force)
{
	int64_t now = monotonic_us();
	double el = (double)(now - pr->phase_started_us) / 1e6, rate, left;
	char eta[32], bar[31];
	int i, fill;

	pr->done = done;
	if (!force && now - pr->last_us < (pr->tty ? 100000 : pr->interval_us))
		return;
	pr->last_us = now;
	rate = el > 0.05 ? (double)(done - pr->phase_done0) / el : 0;
	left = rate > 0 ? (double)(pr->total - done) / rate : -1;
	fmt_eta(eta, sizeof eta, left);
	if (pr->tty) {
		fill = pr->total > 0 ? (int)(30 * done / pr->total) : 30;
		for (i = 0; i < 30; i++)
			bar[i] = i < fill ? '#' : '-';
		bar[30] = '\0';
		if (pr->total <= 0)
			fprintf(stderr, "\r\033[K%s %s %lld items  %.0f/s", pr->what, pr->phase,
			    (long long)done, rate);
		else
			fprintf(stderr, "\r\033[K%s %-7s [%s] %lld/%lld items  %.0f/s  ETA %s",
			    pr->what, pr->phase, bar, (long long)done, (long long)pr->total, rate, eta);
		pr->drawn = true;
	} else if (pr->total <= 0)	/* a scan: the total is not known in advance */
		fprintf(stderr, "%s: %s %lld items, %.0f items/s\n", pr->what, pr->phase,
		    (long long)done, rate);
	else
		fprintf(stderr, "%s: %s %lld/%lld items (%d%%), %.0f items/s, eta %s\n", pr->what,
		    pr->phase, (long long)done, (long long)pr->total,
		    pr->total > 0 ? (int)(100 * done / pr->total) : 100, rate, eta);
	fflush(stderr);
}

void
mprogress_end(struct mprogress *pr)
{
	mprogress_update(pr, pr->done, true);
	if (pr->tty && pr->drawn)
		fputc('\n', stderr);
}

/* ------------------------------------------------------------------ helpers */

const char *
msqlite_arg(const char *arg)
{
	if (arg == NULL || strncmp(arg, "sqlite:", 7) || arg[7] == '\0')
		return NULL;
	return arg + 7;
}

int
mfile_write_atomic(const char *path, const void *data, size_t len)
{
	char tmp[PATH_MAX], dir[PATH_MAX], *slash;
	int fd, saved;

	if (snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) == -1)
		return -1;
	if (write_all(fd, data, len) == -1 || fsync(fd) == -1) {
		saved = errno;
		close(fd);
		unlink(tmp);
		errno = saved;
		return -1;
	}
	if (close(fd) == -1 || rename(tmp, path) == -1) {
		saved = errno;
		unlink(tmp);
		errno = saved;
		return -1;
	}
	/* The rename itself must reach the disk before we rely on it. */
	snprintf(dir, sizeof dir, "%s", path);
	if ((slash = strrchr(dir, '/')) != NULL)
		*(slash == dir ? slash + 1 : slash) = '\0';
	else
		strcpy(dir, ".");
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(fd);
		close(fd);
	}
	return 0;
}

void
msleep_ms(int64_t ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

void
msha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL);
	for (i = 0; i < mdlen && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	out[64] = '\0';
}
