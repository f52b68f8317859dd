/*
 * supervisor: binds the listening socket, preforks the workers, restarts any that die (with a
 * growing delay when they keep dying at once), and on SIGTERM/SIGINT asks them to finish
 * their current request and exit, killing stragglers after STOP_GRACE_S seconds. With a
 * link-open socket on SQLite, one more worker (comm "fs-links") serves that socket alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "purge.h"
#include "store.h"
#include "timeutil.h"
#include "worker.h"
#include "xmalloc.h"

#define STOP_GRACE_S	9
#define FAST_DEATH_US	1000000
#define CHECKPOINT_EVERY_MS	250

struct slot {
	pid_t	 pid;		/* 0: not running */
	int64_t	 started_us;
	int64_t	 respawn_at_us;	/* when pid == 0: do not start before this */
	int	 fast_deaths;	/* consecutive deaths within FAST_DEATH_US of starting */
	bool	 links;		/* the link worker: the link-open socket, alone */
};

int
listen_on(const char *addr)
{
	struct addrinfo hints, *res = NULL, *ai;
	char host[256];
	const char *colon;
	int fd = -1, one = 1, rc;

	if (!strncmp(addr, "unix:", 5)) {
		struct sockaddr_un sun;
		const char *path = addr + 5;

		memset(&sun, 0, sizeof sun);
		sun.sun_family = AF_UNIX;
		if (*path == '\0' || strlen(path) >= sizeof sun.sun_path) {
			log_errorx("--listen: unix socket path empty or longer than %zu bytes",
			    sizeof sun.sun_path - 1);
			return -1;
		}
		strcpy(sun.sun_path, path);
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
			goto fail;
		unlink(path);	/* a stale socket from an earlier run */
		if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1 || chmod(path, 0660) == -1 ||
		    listen(fd, 1024) == -1)
			goto fail;
		return fd;
	}
	colon = strrchr(addr, ':');
	if (colon == NULL || colon == addr || (size_t)(colon - addr) >= sizeof host) {
		log_errorx("--listen: expected unix:/path or host:port, got \"%s\"", addr);
		return -1;
	}
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, colon + 1, &hints, &res)) != 0) {
		log_errorx("--listen %s: %s", addr, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol)) == -1)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1024) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1)
		log_errorx("--listen %s: %s", addr, strerror(errno));
	return fd;
fail:
	log_errorx("--listen %s: %s", addr, strerror(errno));
	if (fd != -1)
		close(fd);
	return -1;
}

/* Starts the worker for slot s: fds are the pool's sockets, links_fd the link worker's. */
static pid_t
spawn(const struct slot *s, const int *fds, int nfds, int links_fd, const struct config *cfg,
    sigset_t *oldmask)
{
	pid_t pid = fork();

	if (pid == -1) {
		log_errorx("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		signal(SIGCHLD, SIG_DFL);
		sigprocmask(SIG_SETMASK, oldmask, NULL);
		/* exit(), not _exit(): LeakSanitizer checks run from atexit in sanitizer builds. */
		if (s->links) {
			prctl(PR_SET_NAME, "fs-links");	/* tells it apart in ps */
			exit(worker_run(&links_fd, 1, true, cfg));
		}
		exit(worker_run(fds, nfds, false, cfg));
	}
	return pid;
}

static void
describe_exit(pid_t pid, int status, char *out, size_t len)
{
	if (WIFEXITED(status))
		snprintf(out, len, "worker %ld exited with status %d", (long)pid, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(out, len, "worker %ld killed by signal %d (%s)%s", (long)pid, WTERMSIG(status),
		    strsignal(WTERMSIG(status)), WCOREDUMP(status) ? ", core dumped" : "");
	else
		snprintf(out, len, "worker %ld ended (status %d)", (long)pid, status);
}

static volatile sig_atomic_t checkpointer_stop;

static void
checkpointer_on_term(int sig)
{
	(void)sig;
	checkpointer_stop = 1;
}

/*
 * The checkpointer (SQLite only): its own connection runs the store's checkpoint every
 * CHECKPOINT_EVERY_MS, so no worker's requests wait for one (see store_sqlite.c).
 */
static pid_t
spawn_checkpointer(const struct config *cfg, sigset_t *oldmask, void *parent_mem)
{
	struct timespec pause = { 0, CHECKPOINT_EVERY_MS * 1000000L };
	struct sigaction sa;
	struct store *st;
	pid_t pid = fork();

	if (pid == -1) {
		log_errorx("fork for the checkpointer: %s", strerror(errno));
		return 0;
	}
	if (pid > 0)
		return pid;
	free(parent_mem);	/* the supervisor's, not ours (LeakSanitizer checks at exit) */
	signal(SIGCHLD, SIG_DFL);
	prctl(PR_SET_NAME, "fs-checkpoint");	/* tells it apart from the workers in ps */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = checkpointer_on_term;	/* no SA_RESTART: the pause ends at once */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigprocmask(SIG_SETMASK, oldmask, NULL);
	if ((st = store_open(cfg)) == NULL)
		exit(1);
	while (!checkpointer_stop) {
		nanosleep(&pause, NULL);
		if (!checkpointer_stop)
			(void)store_checkpoint(st);	/* failures are logged; the next pass retries */
	}
	store_close(st);
	exit(0);
}

/* Runs one purge pass in a child process, so the supervisor itself never opens a store. */
static pid_t
spawn_purge(const struct config *cfg, sigset_t *oldmask)
{
	struct purge_stats st;
	pid_t pid = fork();

	if (pid == -1) {
		log_errorx("fork for purge: %s", strerror(errno));
		return 0;
	}
	if (pid == 0) {
		signal(SIGCHLD, SIG_DFL);
		sigprocmask(SIG_SETMASK, oldmask, NULL);
		exit(purge_once(cfg, clock_now_ms() / 1000, &st) == 0 ? 0 : 1);
	}
	return pid;
}

static void
noop(int sig)
{
	(void)sig;
}

int
supervisor_run(int listen_fd, const char *addr, int links_fd, const char *links_addr,
    int nworkers, const struct config *cfg)
{
	/* On SQLite the link-open socket gets a worker of its own (the last slot); on
	 * DynamoDB the pool's workers serve both sockets. */
	bool link_worker = links_fd != -1 && !cfg->use_dynamodb;
	int nslots = nworkers + (link_worker ? 1 : 0);
	struct slot *slots = xcalloc((size_t)nslots, sizeof *slots);
	int fds[2] = { listen_fd, links_fd };
	int nfds = links_fd != -1 && !link_worker ? 2 : 1;
	sigset_t set, oldmask;
	struct sigaction sa;
	siginfo_t info;
	struct timespec tick;
	int64_t now, stop_deadline = 0, next_purge, checkpointer_at = 0;
	pid_t purge_pid = 0, checkpointer_pid = 0;
	/* The workers' copy says whether the checkpointer (SQLite) does their checkpoints. */
	struct config wcfg = *cfg;
	int i, sig, status, alive;
	bool stopping = false;
	pid_t pid;
	char why[128];

	/* SIGCHLD must not be ignored for sigtimedwait to see it. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = noop;
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, &oldmask);

	wcfg.sqlite_checkpointer = !cfg->use_dynamodb;
	cfg = &wcfg;
	if (link_worker)
		slots[nworkers].links = true;
	if (links_fd == -1)
		log_info("supervisor %ld starting %d workers on %s", (long)getpid(), nworkers, addr);
	else
		log_info("supervisor %ld starting %d workers on %s, link opens on %s (%s)",
		    (long)getpid(), nworkers, addr, links_addr,
		    link_worker ? "a worker of their own" : "every worker");
	next_purge = monotonic_us() + 5 * 1000000;	/* first pass shortly after start */
	for (;;) {
		now = monotonic_us();
		if (!stopping && cfg->purge_interval_s > 0 && purge_pid == 0 && now >= next_purge) {
			purge_pid = spawn_purge(cfg, &oldmask);
			next_purge = now + cfg->purge_interval_s * 1000000;
		}
		if (cfg->sqlite_checkpointer && !stopping && checkpointer_pid == 0 &&
		    now >= checkpointer_at)
			checkpointer_pid = spawn_checkpointer(cfg, &oldmask, slots);
		alive = 0;
		for (i = 0; i < nslots; i++) {
			if (slots[i].pid == 0 && !stopping && now >= slots[i].respawn_at_us) {
				slots[i].pid = spawn(&slots[i], fds, nfds, links_fd, cfg, &oldmask);
				if (slots[i].pid == -1) {
					slots[i].pid = 0;
					slots[i].respawn_at_us = now + 1000000;
				} else
					slots[i].started_us = now;
			}
			if (slots[i].pid > 0)
				alive++;
		}
		if (stopping && alive == 0 && purge_pid == 0 && checkpointer_pid == 0)
			break;
		if (stopping && now >= stop_deadline) {
			for (i = 0; i < nslots; i++)
				if (slots[i].pid > 0) {
					log_warnx("worker %ld still busy after %d s; killing it",
					    (long)slots[i].pid, STOP_GRACE_S);
					kill(slots[i].pid, SIGKILL);
				}
			stop_deadline = now + 1000000;
		}
		tick.tv_sec = 0;
		tick.tv_nsec = 100 * 1000 * 1000;
		sig = sigtimedwait(&set, &info, &tick);
		if (sig == SIGTERM || sig == SIGINT) {
			if (!stopping) {
				log_info("signal %d: stopping %d workers", sig, alive);
				stopping = true;
				stop_deadline = monotonic_us() + (int64_t)STOP_GRACE_S * 1000000;
				close(listen_fd);
				if (links_fd != -1)
					close(links_fd);
				for (i = 0; i < nslots; i++)
					if (slots[i].pid > 0)
						kill(slots[i].pid, SIGTERM);
				if (purge_pid > 0)
					kill(purge_pid, SIGTERM);
				if (checkpointer_pid > 0)
					kill(checkpointer_pid, SIGTERM);
			}
		}
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			if (pid == purge_pid) {
				purge_pid = 0;
				if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
					describe_exit(pid, status, why, sizeof why);
					log_warnx("purge pass failed: %s", why);
				}
				continue;
			}
			if (pid == checkpointer_pid) {
				checkpointer_pid = 0;
				if (!stopping) {
					/* Workers checkpoint past a larger WAL meanwhile (wal_hook). */
					describe_exit(pid, status, why, sizeof why);
					log_warnx("checkpointer: %s; restarting it in 1 s", why);
					checkpointer_at = monotonic_us() + 1000000;
				}
				continue;
			}
			for (i = 0; i < nslots && slots[i].pid != pid; i++)
				;
			if (i == nslots)
				continue;
			describe_exit(pid, status, why, sizeof why);
			now = monotonic_us();
			slots[i].pid = 0;
			if (stopping) {
				log_info("%s", why);
				continue;
			}
			if (now - slots[i].started_us < FAST_DEATH_US)
				slots[i].fast_deaths++;
			else
				slots[i].fast_deaths = 0;
			/* 0, then 0.1 s doubling up to 10 s while a worker keeps dying at start. */
			slots[i].respawn_at_us = now + (slots[i].fast_deaths == 0 ? 0 :
			    (int64_t)100000 << (slots[i].fast_deaths > 7 ? 7 : slots[i].fast_deaths - 1));
			log_warnx("%s; restarting it", why);
		}
	}
	if (!strncmp(addr, "unix:", 5))
		unlink(addr + 5);
	if (links_addr != NULL && !strncmp(links_addr, "unix:", 5))
		unlink(links_addr + 5);
	free(slots);
	log_info("supervisor stopped");
	return 0;
}
