/*
 * xmalloc: the one allocation family. Out of memory is not a recoverable condition for a
 * worker (the supervisor restarts it), so every function here aborts instead of returning NULL.
 */
#ifndef FS_XMALLOC_H
#define FS_XMALLOC_H
#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);        /* NULL in, NULL out */
char *xstrndup(const char *s, size_t n);

#endif
