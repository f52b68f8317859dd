/*
 * The FastCGI program's parts: the adapter (the only code that calls libfcgi) runs one
 * worker's accept loop; the supervisor binds, preforks and restarts workers.
 */
#ifndef FS_WORKER_H
#define FS_WORKER_H
#include <stdbool.h>

#include "config.h"

/*
 * Opens this worker's store, then accepts and answers requests on the listening sockets
 * fds[0..nfds-1] (at most 2) until SIGTERM or SIGINT (requests in flight are finished first).
 * alone: no other process listens on them, so the worker takes every pending connection at
 * once instead of leaving some to idle peers. Returns the process exit status.
 */
int	worker_run(const int *fds, int nfds, bool alone, const struct config *cfg);

/* Binds addr ("unix:/path" or "host:port"); the listening fd, or -1 (logged). */
int	listen_on(const char *addr);
/*
 * Runs nworkers workers on listen_fd until SIGTERM/SIGINT; returns the exit status. links_fd
 * (-1: none) is the socket nginx sends link opens to: on SQLite one more worker, the link
 * worker, serves it alone (every open in one process: one writer of click counts, whose page
 * cache no other worker's commit invalidates); on DynamoDB, where an open waits on the
 * network, every worker serves both sockets.
 */
int	supervisor_run(int listen_fd, const char *addr, int links_fd, const char *links_addr,
	    int nworkers, const struct config *cfg);

#endif
