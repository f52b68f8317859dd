/*
 * The FastCGI program's parts: the adapter (the only code that calls libfcgi) runs one
 * worker's accept loop; the supervisor binds, preforks and restarts workers.
 */
#ifndef FS_WORKER_H
#define FS_WORKER_H
#include "config.h"

/*
 * Opens this worker's store, then accepts and answers requests on listen_fd until SIGTERM or
 * SIGINT (a request in flight is finished first). Returns the process exit status.
 */
int	worker_run(int listen_fd, const struct config *cfg);

/* Binds addr ("unix:/path" or "host:port"); the listening fd, or -1 (logged). */
int	listen_on(const char *addr);
/* Runs nworkers workers on listen_fd until SIGTERM/SIGINT; returns the exit status. */
int	supervisor_run(int listen_fd, const char *addr, int nworkers, const struct config *cfg);

#endif
