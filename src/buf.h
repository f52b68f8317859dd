/*
 * buf: a growable byte buffer, always NUL-terminated, binary-safe (git's strbuf shape).
 * A zeroed struct (BUF_INIT) is a valid empty buffer; data is never NULL after any append.
 * The owner calls buf_free(); buf_detach() hands the bytes to the caller (caller frees).
 */
#ifndef FS_BUF_H
#define FS_BUF_H
#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

#define BUF_INIT { NULL, 0, 0 }

void	 buf_grow(struct buf *, size_t extra);
void	 buf_append(struct buf *, const void *, size_t);
void	 buf_appends(struct buf *, const char *);
void	 buf_appendc(struct buf *, char);
/* Appends v in decimal (the hot paths' alternative to buf_printf("%lld")). */
void	 buf_append_i64(struct buf *, long long v);
void	 buf_printf(struct buf *, const char *, ...) __attribute__((format(printf, 2, 3)));
void	 buf_vprintf(struct buf *, const char *, va_list) __attribute__((format(printf, 2, 0)));
/* Appends s as the inside of a JSON string (no quotes added); invalid UTF-8 becomes U+FFFD. */
void	 buf_append_json_str(struct buf *, const char *s, size_t len);
void	 buf_reset(struct buf *);
void	 buf_free(struct buf *);
char	*buf_detach(struct buf *);      /* caller frees; buffer is left empty */
const char *buf_str(const struct buf *); /* "" for an empty buffer */

#endif
