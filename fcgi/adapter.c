/*
 * adapter: the only file that knows libfcgi. A worker is one event loop over its listening
 * sockets (the pool's, the link-open socket, or both: see worker.h) and every connection
 * nginx keeps open to it (fastcgi_keep_conn + upstream keepalive: no connect, accept and
 * close per request). libfcgi reads and writes each request, one
 * FCGX_Request per connection; the adapter turns it into a struct request for the app and
 * writes the struct response back. Link opens that arrive together are answered as a group
 * (app_handle_group: one store transaction for all of them, answered after it commits).
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "app.h"
#include "buf.h"
#include "aws/session.h"
#include "log.h"
#include "num.h"
#include "timeutil.h"
#include "worker.h"
#include "xmalloc.h"

#define MAX_EVENTS	64	/* requests read per turn of the loop (and the largest group) */
#define MAX_CONNS	4096	/* connections one worker holds; beyond, it leaves them to others */
#define IO_TIMEOUT_S	30	/* a peer that stalls mid-request cannot hold the worker longer */
#define STOP_QUIET_MS	200	/* stopping: exit once no request came for this long ... */
#define STOP_MAX_MS	5000	/* ... or after this, whatever comes */

static volatile sig_atomic_t stopping;

static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;	/* epoll_wait returns EINTR; reads in progress restart (SA_RESTART) */
}

static ssize_t
fcgi_read(void *ctx, void *buf, size_t n)
{
	FCGX_Stream *in = ctx;
	int got;

	got = FCGX_GetStr(buf, n > 1 << 30 ? 1 << 30 : (int)n, in);
	if (got < 0 || (got == 0 && FCGX_GetError(in) != 0))
		return -1;
	return got;
}

/* Builds req from the FastCGI params. */
static void
build_request(FCGX_Request *fr, struct request *req)
{
	const char *m = FCGX_GetParam("REQUEST_METHOD", fr->envp);
	const char *uri = FCGX_GetParam("REQUEST_URI", fr->envp);
	const char *cl = FCGX_GetParam("CONTENT_LENGTH", fr->envp);
	const char *ct = FCGX_GetParam("CONTENT_TYPE", fr->envp);
	const char *ra = FCGX_GetParam("REMOTE_ADDR", fr->envp);
	const char *q;
	char **e;
	int64_t len;

	req_init(req);
	req_set_method(req, m ? m : "");
	if (uri == NULL)
		uri = FCGX_GetParam("SCRIPT_NAME", fr->envp);
	if (uri != NULL) {
		q = strchr(uri, '?');
		req->path = q ? xstrndup(uri, (size_t)(q - uri)) : xstrdup(uri);
		req->query = xstrdup(q ? q + 1 : "");
	} else
		req->query = xstrdup("");
	if (cl != NULL && *cl != '\0') {
		if (num_parse_i64(cl, 0, INT64_MAX, &len) == 0)
			req->content_length = len;
	}
	if (ct != NULL)
		req_add_header(req, "content-type", ct);
	req->remote_addr = xstrdup(ra);
	for (e = fr->envp; *e != NULL; e++) {
		const char *eq;
		char name[256];

		if (strncmp(*e, "HTTP_", 5) || (eq = strchr(*e, '=')) == NULL ||
		    (size_t)(eq - *e - 5) >= sizeof name)
			continue;
		memcpy(name, *e + 5, (size_t)(eq - *e - 5));
		name[eq - *e - 5] = '\0';
		req_add_header(req, name, eq + 1);
	}
	req->body.read = fcgi_read;
	req->body.ctx = fr->in;
	/* Upload locations hand over nginx's temporary file instead of streaming the body. */
	if ((q = FCGX_GetParam("BODY_FILE", fr->envp)) != NULL && *q != '\0')
		req_set_body_file(req, q);
}

/* The response head and body, in one buffer handed to libfcgi (no printf per request). */
static void
write_response(FCGX_Request *fr, const struct response *resp)
{
	static struct buf head;

	buf_reset(&head);
	buf_appends(&head, "Status: ");
	buf_append_i64(&head, resp->status);
	buf_appendc(&head, ' ');
	buf_appends(&head, http_reason(resp->status));
	buf_appends(&head, "\r\n");
	buf_append(&head, resp->headers.data, resp->headers.len);
	buf_appends(&head, "Content-Length: ");
	buf_append_i64(&head, (long long)resp->body.len);
	buf_appends(&head, "\r\n\r\n");
	FCGX_PutStr(head.data, (int)head.len, fr->out);
	if (!resp->head && resp->body.len)
		FCGX_PutStr(resp->body.data, (int)resp->body.len, fr->out);
}

/* One connection from nginx, kept between requests when nginx asks (FCGI_KEEP_CONN). */
struct conn {
	FCGX_Request	 fr;	/* fr.ipcFd is the socket; libfcgi closes it at the end */
	bool		 unix_sock;
	struct conn	*prev, *next;
};

#define MAX_LISTENERS	2	/* the pool's socket and the link-open socket (see worker.h) */

/* A listening socket; its address in lp->listeners is its epoll data.ptr. */
struct listener {
	int		 fd;
	bool		 unix_sock;	/* AF_UNIX: see answer() */
};

struct loop {
	int		 ep;		/* epoll */
	struct listener	 listeners[MAX_LISTENERS];
	int		 nlisteners;
	bool		 listening;	/* the listeners are in ep */
	bool		 alone;		/* no other worker listens on them */
	bool		 grouping;	/* app_groups(): answer link opens in groups */
	bool		 accept_deferred;	/* a connection was left waiting last turn */
	size_t		 nconns;
	struct conn	*conns;		/* every open connection */
	struct app	 app;
};

static struct listener *
as_listener(struct loop *lp, void *ptr)
{
	int i;

	for (i = 0; i < lp->nlisteners; i++)
		if (ptr == &lp->listeners[i])
			return &lp->listeners[i];
	return NULL;
}

static void
set_listening(struct loop *lp, bool on)
{
	struct epoll_event ev;
	int i;

	if (lp->listening == on)
		return;
	for (i = 0; i < lp->nlisteners; i++) {
		memset(&ev, 0, sizeof ev);
		/* Not EPOLLEXCLUSIVE: a new connection wakes every idle worker (one wins
		 * accept4), so a worker that is busy in this turn can leave it to them (see
		 * worker_run). */
		ev.events = EPOLLIN;
		ev.data.ptr = &lp->listeners[i];
		if (epoll_ctl(lp->ep, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, lp->listeners[i].fd,
		    &ev) == -1) {
			log_errorx("epoll_ctl (listening socket): %s", strerror(errno));
			return;
		}
	}
	lp->listening = on;
}

/* Closes c (if libfcgi has not already) and forgets it. */
static void
conn_drop(struct loop *lp, struct conn *c)
{
	if (c->fr.ipcFd >= 0)
		close(c->fr.ipcFd);	/* also leaves the epoll set */
	c->fr.ipcFd = -1;
	FCGX_Free(&c->fr, 0);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		lp->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	free(c);
	lp->nconns--;
	if (!stopping && lp->nconns < MAX_CONNS)
		set_listening(lp, true);
}

/*
 * Takes one pending connection from l (the listening sockets are non-blocking); false when
 * there is none or it could not be taken.
 */
static bool
accept_one(struct loop *lp, const struct listener *l)
{
	struct timeval tv = { IO_TIMEOUT_S, 0 };
	struct epoll_event ev;
	struct conn *c;
	int fd;

	if (lp->nconns >= MAX_CONNS)
		return false;
	if ((fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC)) == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
			log_errorx("accept: %s", strerror(errno));
		return false;
	}
	/* The socket stays blocking: libfcgi reads a request whole once epoll says it has begun
	 * to arrive (nginx sends it at once), bounded by these timeouts. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	c = xcalloc(1, sizeof *c);
	/* No listening socket of its own: at the end of the connection FCGX_Accept_r returns an
	 * error instead of accepting another one behind the loop's back. */
	FCGX_InitRequest(&c->fr, -1, 0);
	c->fr.ipcFd = fd;
	/* FCGX_Accept_r begins by finishing the previous request, closing the socket unless that
	 * request kept it: there is none yet, so keep it. */
	c->fr.keepConnection = 1;
	c->unix_sock = l->unix_sock;
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN;
	ev.data.ptr = c;
	if (epoll_ctl(lp->ep, EPOLL_CTL_ADD, fd, &ev) == -1) {
		log_errorx("epoll_ctl: %s", strerror(errno));
		close(fd);
		FCGX_Free(&c->fr, 0);
		free(c);
		return false;
	}
	c->next = lp->conns;
	if (c->next != NULL)
		c->next->prev = c;
	lp->conns = c;
	if (++lp->nconns >= MAX_CONNS)
		set_listening(lp, false);	/* full: other workers take the rest */
	return true;
}

/*
 * New connections on the listeners that epoll reported (ready[0..n-1]). A worker alone on its
 * sockets takes all of them. Workers sharing a socket take one per listener and turn, and none
 * in a turn that has requests to answer unless the connection already waited a turn:
 * concurrent requests on new connections are spread over the idle workers instead of
 * queueing here behind a slow one (tests/faults: a redirect stalled on DynamoDB held up a
 * trial start accepted in the same turn).
 */
static void
take_connections(struct loop *lp, struct listener **ready, int n, bool busy)
{
	int i;

	if (lp->alone) {
		for (i = 0; i < n; i++)
			while (accept_one(lp, ready[i]))
				;
		return;
	}
	if (n > 0 && (!busy || lp->accept_deferred)) {
		for (i = 0; i < n; i++)
			(void)accept_one(lp, ready[i]);
		lp->accept_deferred = false;
	} else
		lp->accept_deferred = n > 0;
}

/* Writes the answer and ends the request; drops the connection if libfcgi closed it. */
static void
answer(struct loop *lp, struct conn *c, const struct response *resp)
{
	write_response(&c->fr, resp);
	/*
	 * libfcgi closes a connection with shutdown(), then poll()s until nginx has read the
	 * answer and closed its end: on a unix socket nothing is lost by closing at once (what
	 * was written stays readable; there is no RST), so the linger is skipped there
	 * ("detached"). A connection nginx keeps is not closed at all.
	 */
	if (c->unix_sock)
		c->fr.detached = 1;
	FCGX_Finish_r(&c->fr);
	c->fr.detached = 0;
	if (c->fr.ipcFd < 0)
		conn_drop(lp, c);
}

/* Reads the request waiting on each ready connection and answers them all. */
static void
serve(struct loop *lp, struct conn **ready, size_t n, struct request *reqs,
    struct response *resps)
{
	size_t i, j, k, m = 0;

	for (i = 0; i < n; i++) {
		/* With no listening socket, FCGX_Accept_r only reads this connection's next
		 * request; it fails (and libfcgi closes the socket) when nginx has closed it. */
		if (FCGX_Accept_r(&ready[i]->fr) < 0 || ready[i]->fr.ipcFd < 0) {
			conn_drop(lp, ready[i]);
			continue;
		}
		ready[m] = ready[i];
		build_request(&ready[m]->fr, &reqs[m]);
		resp_reset(&resps[m]);
		m++;
	}
	for (i = 0; i < m; i = j) {
		for (j = i; lp->grouping && j < m && app_groupable(&reqs[j]); j++)
			;
		if (j - i > 1)
			app_handle_group(&lp->app, reqs + i, resps + i, j - i);
		else {
			j = i + 1;
			app_handle(&lp->app, &reqs[i], &resps[i]);
		}
		for (k = i; k < j; k++) {
			answer(lp, ready[k], &resps[k]);
			req_free(&reqs[k]);
		}
	}
}

int
worker_run(const int *fds, int nfds, bool alone, const struct config *cfg)
{
	static struct request reqs[MAX_EVENTS];
	static struct response resps[MAX_EVENTS];
	struct epoll_event evs[MAX_EVENTS];
	struct conn *ready[MAX_EVENTS];
	struct listener *lready[MAX_LISTENERS], *l;
	struct sigaction sa;
	struct loop lp;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof ss;
	int64_t stop_at = 0, quiet_since = 0;
	int i, n, nl, rc = 0, fl;
	size_t nready;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);

	/*
	 * glibc returns the top of the heap to the kernel whenever 128 KiB are free there, and
	 * SQLite's page cache breathes by more than that between transactions: perf showed a
	 * brk() pair per request under load. Keep up to 8 MiB instead (an idle worker has not
	 * grown that far; a busy one keeps what it uses).
	 */
	mallopt(M_TRIM_THRESHOLD, 8 << 20);
	mallopt(M_TOP_PAD, 1 << 20);
	memset(&lp, 0, sizeof lp);
	lp.ep = -1;
	lp.alone = alone;
	lp.app.cfg = cfg;
	if ((lp.app.store = store_open(cfg)) == NULL || (lp.app.blob = blob_open(cfg)) == NULL) {
		log_errorx("worker cannot open its store or blob store; exiting");
		store_close(lp.app.store);
		return 1;
	}
	lp.grouping = app_groups(&lp.app);
	if (FCGX_Init() != 0 || (lp.ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		goto setup_failed;
	for (i = 0; i < nfds && i < MAX_LISTENERS; i++) {
		l = &lp.listeners[lp.nlisteners++];
		l->fd = fds[i];
		sslen = sizeof ss;
		l->unix_sock = getsockname(l->fd, (struct sockaddr *)&ss, &sslen) == 0 &&
		    ss.ss_family == AF_UNIX;
		if ((fl = fcntl(l->fd, F_GETFL)) == -1 || fcntl(l->fd, F_SETFL, fl | O_NONBLOCK) == -1)
			goto setup_failed;
	}
	set_listening(&lp, true);
	if (!lp.listening) {
		rc = 1;
		goto out;
	}
	for (i = 0; i < MAX_EVENTS; i++)
		resp_init(&resps[i]);
	log_debug("worker ready");
	log_hold(true);
	for (;;) {
		int timeout = -1;

		if (stopping) {
			int64_t now = monotonic_us() / 1000;

			if (stop_at == 0) {
				/* Take no new connections; answer what arrives on the open ones
				 * until they fall quiet, then close them (nginx reconnects). */
				set_listening(&lp, false);
				stop_at = now + STOP_MAX_MS;
				quiet_since = now;
			}
			if (lp.nconns == 0 || now >= stop_at || now - quiet_since >= STOP_QUIET_MS)
				break;
			timeout = STOP_QUIET_MS;
		}
		if ((n = epoll_wait(lp.ep, evs, MAX_EVENTS, timeout)) == -1) {
			if (errno == EINTR)
				continue;
			log_errorx("epoll_wait: %s", strerror(errno));
			rc = 1;
			break;
		}
		nready = 0;
		nl = 0;
		for (i = 0; i < n; i++) {
			if ((l = as_listener(&lp, evs[i].data.ptr)) != NULL)
				lready[nl++] = l;
			else
				ready[nready++] = evs[i].data.ptr;
		}
		take_connections(&lp, lready, nl, nready > 0);
		if (nready > 0) {
			if (stopping)
				quiet_since = monotonic_us() / 1000;
			serve(&lp, ready, nready, reqs, resps);
		}
		log_flush();
	}
	log_hold(false);
	for (i = 0; i < MAX_EVENTS; i++)
		resp_free(&resps[i]);
	while (lp.conns != NULL)
		conn_drop(&lp, lp.conns);
	goto out;
setup_failed:
	log_errorx("worker set-up failed: %s", strerror(errno));
	rc = 1;
out:
	if (lp.ep != -1)
		close(lp.ep);
	store_close(lp.app.store);
	blob_close(lp.app.blob);
	aws_session_release();
	return rc;
}
