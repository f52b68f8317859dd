/*
 * timeutil: the process clock (replaceable, so tests are exact) and RFC 3339 UTC strings,
 * the format every stored time uses ("2026-11-24T16:47:59Z").
 */
#ifndef FS_TIMEUTIL_H
#define FS_TIMEUTIL_H
#include <stdint.h>

#define RFC3339_LEN 21	/* "YYYY-MM-DDTHH:MM:SSZ" plus NUL */

/* Milliseconds since the epoch. Tests may point this at a fake clock. */
extern int64_t (*clock_now_ms)(void);
int64_t	clock_real_ms(void);
int64_t	monotonic_us(void);

void	time_format(int64_t epoch_s, char out[RFC3339_LEN]);
/* Accepts exactly the format above; 0 and *out, or -1. */
int	time_parse(const char *s, int64_t *out);

#endif
