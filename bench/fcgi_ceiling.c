/*
 * bench/fcgi_ceiling: the least a FastCGI responder can do, for bench/run's "ceiling" row.
 *
 *     fcgi-ceiling SOCKET_PATH LOCATION
 *
 * One process, one epoll loop, no library: it reads FastCGI records from nginx's kept-alive
 * connections and answers every request whose (empty) stdin has ended with the same constant
 * 302 to LOCATION, with the headers the app sends on a redirect (bench/run passes a URL as
 * long as its seeded links', so nginx and wrk handle responses of the same size). No parameter
 * is looked at, nothing is stored or logged. Like the product's worker it reads every ready
 * connection before it answers (a first version that answered each connection as it read it,
 * edge-triggered, cost 13-14 us of CPU per request instead of ~8 and ran at 30-32k/s instead
 * of 38-42k/s behind the same nginx). What nginx with FileShare Plus's own configuration
 * reaches in front of it is the FastCGI hop's own limit on the machine: the row tells a reader
 * how much of the gap between nginx's own `return 302` and the product's redirect is the hop
 * itself. It is a measuring instrument, never part of the product.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

enum { FCGI_BEGIN = 1, FCGI_END = 3, FCGI_STDIN = 5, FCGI_STDOUT = 6 };
enum { HDR = 8, IN_CAP = 65536 + 2 * HDR + 256, OUT_CAP = 65536, MAX_EVENTS = 64 };

struct conn {
	int fd;
	int keep;                       /* the request asked to keep the connection */
	int closing;                    /* drop it once its answers are written */
	int want_out;                   /* EPOLLOUT asked for (answers waiting for room) */
	size_t in_len, out_len, out_off;
	unsigned char in[IN_CAP];
	unsigned char out[OUT_CAP];
};

static char answer[2048];
static size_t answer_len;

static void
put_header(unsigned char *p, int type, unsigned id, size_t len, size_t pad)
{
	p[0] = 1;
	p[1] = (unsigned char)type;
	p[2] = (unsigned char)(id >> 8);
	p[3] = (unsigned char)id;
	p[4] = (unsigned char)(len >> 8);
	p[5] = (unsigned char)len;
	p[6] = (unsigned char)pad;
	p[7] = 0;
}

/* Queues the answer to request id: stdout with the head, the empty stdout, the end record. */
static int
queue_answer(struct conn *c, unsigned id)
{
	size_t alen = answer_len, pad = (8 - alen % 8) % 8;
	size_t need = HDR + alen + pad + HDR + HDR + 8;
	unsigned char *p;

	if (c->out_len + need > OUT_CAP)
		return -1;
	p = c->out + c->out_len;
	put_header(p, FCGI_STDOUT, id, alen, pad);
	memcpy(p + HDR, answer, alen);
	memset(p + HDR + alen, 0, pad);
	p += HDR + alen + pad;
	put_header(p, FCGI_STDOUT, id, 0, 0);
	p += HDR;
	put_header(p, FCGI_END, id, 8, 0);
	memset(p + HDR, 0, 8);
	c->out_len += need;
	return 0;
}

static int
flush_out(struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 1 : -1;
		}
		c->out_off += (size_t)n;
	}
	c->out_off = c->out_len = 0;
	return 0;
}

/* Consumes the whole records in c->in; returns -1 on a protocol error. */
static int
consume(struct conn *c)
{
	size_t off = 0;

	while (c->in_len - off >= HDR) {
		const unsigned char *h = c->in + off;
		unsigned id = (unsigned)h[2] << 8 | h[3];
		size_t len = (size_t)h[4] << 8 | h[5], total = HDR + len + h[6];

		if (h[0] != 1)
			return -1;
		if (c->in_len - off < total)
			break;
		if (h[1] == FCGI_BEGIN && len >= 3)
			c->keep = h[HDR + 2] & 1;
		else if (h[1] == FCGI_STDIN && len == 0) {
			if (queue_answer(c, id) < 0)
				return -1;
			if (!c->keep)
				c->closing = 1;
		}
		off += total;
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	return 0;
}

static void
accept_all(int ep, int lfd)
{
	int fd;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		struct epoll_event cev = { .events = EPOLLIN };
		struct conn *c = calloc(1, sizeof *c);

		if (c == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		cev.data.ptr = c;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev) < 0) {
			close(fd);
			free(c);
		}
	}
}

static void
drop(int ep, struct conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct epoll_event ev = { .events = EPOLLIN }, evs[MAX_EVENTS];
	int lfd, ep, len;

	if (argc != 3 || strlen(argv[1]) >= sizeof sa.sun_path) {
		fprintf(stderr, "usage: fcgi-ceiling SOCKET_PATH LOCATION\n");
		return 2;
	}
	if (strlen(argv[2]) > 1900 || strpbrk(argv[2], "\r\n") != NULL) {
		fprintf(stderr, "fcgi-ceiling: LOCATION must be one line of at most 1,900 bytes\n");
		return 2;
	}
	/* at most 1,900 + 110 bytes: it fits */
	len = snprintf(answer, sizeof answer, "Status: 302 Found\r\nLocation: %s\r\n"
	    "Cache-Control: private, no-store\r\nReferrer-Policy: no-referrer\r\n"
	    "Content-Length: 0\r\n\r\n", argv[2]);
	answer_len = (size_t)len;
	signal(SIGPIPE, SIG_IGN);
	strcpy(sa.sun_path, argv[1]);
	unlink(argv[1]);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 1024) < 0) {
		perror("fcgi-ceiling: listen");
		return 1;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	ev.data.ptr = NULL;
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0) {
		perror("fcgi-ceiling: epoll");
		return 1;
	}
	for (;;) {
		int n = epoll_wait(ep, evs, MAX_EVENTS, -1);

		if (n < 0 && errno != EINTR) {
			perror("fcgi-ceiling: epoll_wait");
			return 1;
		}
		/* As the product's worker does: read every ready connection first, then answer. */
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			ssize_t got;

			if (c == NULL) {
				accept_all(ep, lfd);
				continue;
			}
			if (!(evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
				continue;
			/* Level-triggered: one read per turn (epoll reports what is left). */
			got = read(c->fd, c->in + c->in_len, IN_CAP - c->in_len);
			if (got > 0) {
				c->in_len += (size_t)got;
				if (consume(c) < 0) {
					c->closing = 1;         /* protocol error: drop the connection */
					c->out_len = c->out_off = 0;
				}
			} else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
				c->closing = 1;
			}
		}
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			int r;

			if (c == NULL)
				continue;
			r = flush_out(c);
			if (r < 0 || (c->closing && r == 0))
				drop(ep, c);
			else if ((r == 1) != c->want_out) {
				/* a full socket: wait for room, then stop asking once it is written */
				struct epoll_event cev = { .events = EPOLLIN | (r == 1 ? EPOLLOUT : 0u),
				    .data.ptr = c };
				c->want_out = r == 1;
				epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &cev);
			}
		}
	}
}
