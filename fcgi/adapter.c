/*
 * adapter: the only file that knows libfcgi. It turns FastCGI params and streams into a
 * struct request, hands it to the app, and writes the struct response back.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "app.h"
#include "aws/session.h"
#include "log.h"
#include "num.h"
#include "worker.h"
#include "xmalloc.h"

static volatile sig_atomic_t stopping;

static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
	FCGX_ShutdownPending();
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

/* libfcgi's own printf lacks modern conversions (%zu): format with snprintf instead. */
static void
write_response(FCGX_Request *fr, const struct response *resp)
{
	char line[128];
	int n;

	n = snprintf(line, sizeof line, "Status: %d %s\r\n", resp->status, http_reason(resp->status));
	FCGX_PutStr(line, n, fr->out);
	if (resp->headers.len)
		FCGX_PutStr(resp->headers.data, (int)resp->headers.len, fr->out);
	n = snprintf(line, sizeof line, "Content-Length: %zu\r\n\r\n", resp->body.len);
	FCGX_PutStr(line, n, fr->out);
	if (!resp->head && resp->body.len)
		FCGX_PutStr(resp->body.data, (int)resp->body.len, fr->out);
}

int
worker_run(int listen_fd, const struct config *cfg)
{
	struct sigaction sa;
	FCGX_Request fr;
	struct request req;
	struct response resp;
	struct app app;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof ss;
	bool unix_listener;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: accept() must return on SIGTERM */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);

	memset(&app, 0, sizeof app);
	app.cfg = cfg;
	if ((app.store = store_open(cfg)) == NULL || (app.blob = blob_open(cfg)) == NULL) {
		log_errorx("worker cannot open its store or blob store; exiting");
		store_close(app.store);
		return 1;
	}
	unix_listener = getsockname(listen_fd, (struct sockaddr *)&ss, &sslen) == 0 &&
	    ss.ss_family == AF_UNIX;
	if (FCGX_Init() != 0 || FCGX_InitRequest(&fr, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		log_errorx("FCGX_Init failed");
		store_close(app.store);
		blob_close(app.blob);
		return 1;
	}
	log_debug("worker ready");
	resp_init(&resp);
	while (!stopping) {
		if (FCGX_Accept_r(&fr) < 0) {
			if (stopping || errno == EINTR)
				continue;
			log_errorx("FCGX_Accept_r failed: %s", strerror(errno));
			break;
		}
		build_request(&fr, &req);
		resp_reset(&resp);
		app_handle(&app, &req, &resp);
		write_response(&fr, &resp);
		/*
		 * libfcgi closes a connection with shutdown(), then poll()s until nginx has read
		 * the answer and closed its end, then close(): the worker waited one turn of
		 * nginx's event loop after every request (strace -c: a poll per request; bench/run:
		 * workers mostly idle at 5,300 redirects/s). On a unix socket nothing is lost by
		 * closing at once: what was written stays readable by nginx (there is no RST),
		 * and FCGX_Finish_r has read the request's stdin to its end. libfcgi skips the
		 * linger for a "detached" request; a TCP connection keeps it.
		 */
		if (unix_listener)
			fr.detached = 1;
		FCGX_Finish_r(&fr);
		req_free(&req);
	}
	FCGX_Free(&fr, 0);
	resp_free(&resp);
	store_close(app.store);
	blob_close(app.blob);
	aws_session_release();
	return 0;
}
