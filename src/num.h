/*
 * num: strict number parsing (strtonum-style). The whole string must be a base-10 integer
 * within [min, max]; no sign for unsigned, no spaces, no trailing garbage.
 */
#ifndef FS_NUM_H
#define FS_NUM_H
#include <stdint.h>

/* 0 and *out set on success; -1 otherwise (*out untouched). */
int	num_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
/* Like num_parse_i64 but accepts a size suffix K, M, G (binary multiples). */
int	num_parse_size(const char *s, uint64_t max, uint64_t *out);

#endif
