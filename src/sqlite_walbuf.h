/*
 * sqlite_walbuf: a VFS over SQLite's default one that hands each transaction's WAL frames to
 * the kernel in one write instead of two per frame (a 24-byte header, then the page). See
 * sqlite_walbuf.c for when buffered frames reach the file; by the time a commit returns they
 * all have, so durability and what other processes see are unchanged.
 *
 * For single-threaded processes (the store configures SQLite so): the buffers are per file,
 * the list of them per process.
 */
#ifndef SQLITE_WALBUF_H
#define SQLITE_WALBUF_H

#include <stdint.h>

/* The VFS's name for sqlite3_open_v2, registered on first use (not as the default); NULL
 * when it could not be (SQLite's default VFS is then used, unbuffered). */
const char *sqlite_walbuf_vfs(void);

struct walbuf_stats {
	uint64_t	 writes;	/* xWrite calls SQLite made on WAL files */
	uint64_t	 flushes;	/* writes this VFS passed down for them */
	uint64_t	 bytes;		/* bytes those carried */
};

/* Counters since the process started (tests, bench/profile). */
void sqlite_walbuf_stats(struct walbuf_stats *out);

#endif
