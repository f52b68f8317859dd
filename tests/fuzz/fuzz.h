/*
 * fuzz: what the libFuzzer targets in tests/fuzz share. A cursor over the fuzzer's input
 * (the C cousin of LLVM's FuzzedDataProvider: bytes, small integers, lines, the rest), and a
 * few checks that every target asserts on what the code under test hands back.
 *
 * Every target is one file fuzz_<name>.c defining LLVMFuzzerTestOneInput (and, when it needs
 * state, LLVMFuzzerInitialize); tests/fuzz/build.sh links each with the library sources built
 * with -fsanitize=fuzzer-no-link,address,undefined. A failed FUZZ_CHECK aborts, which the
 * fuzzer reports as a crash with the input that caused it.
 */
#ifndef FS_FUZZ_H
#define FS_FUZZ_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The message goes where sanitizer reports go: libFuzzer's -close_fd_mask=2 (the runners
 * use it to silence the app's log lines) closes stderr but keeps that one. */
void	__sanitizer_report_error_summary(const char *);

#define FUZZ_STR2(x) #x
#define FUZZ_STR(x) FUZZ_STR2(x)
#define FUZZ_CHECK(cond) do {							\
	if (!(cond)) {								\
		__sanitizer_report_error_summary("FUZZ_CHECK failed at " __FILE__ ":"	\
		    FUZZ_STR(__LINE__) ": " #cond);					\
		abort();							\
	}									\
} while (0)

struct fuzz_in {
	const uint8_t	*p;
	size_t		 n;
};

static inline uint8_t
fuzz_byte(struct fuzz_in *in)
{
	uint8_t b;

	if (in->n == 0)
		return 0;
	b = in->p[0];
	in->p++;
	in->n--;
	return b;
}

static inline uint16_t
fuzz_u16(struct fuzz_in *in)
{
	uint16_t hi = fuzz_byte(in);

	return (uint16_t)(hi << 8 | fuzz_byte(in));
}

/* The bytes up to the next '\n' (not included; consumed), or everything left. The result
 * points into the input: copy it to get a NUL-terminated string. */
static inline size_t
fuzz_line(struct fuzz_in *in, const char **s)
{
	const uint8_t *nl = in->n ? memchr(in->p, '\n', in->n) : NULL;
	size_t len = nl ? (size_t)(nl - in->p) : in->n;

	*s = (const char *)in->p;
	in->p += len;
	in->n -= len;
	if (nl != NULL) {
		in->p++;
		in->n--;
	}
	return len;
}

/* A NUL-terminated copy of n bytes (embedded NULs cut the string short, as C APIs see it). */
static inline char *
fuzz_strndup(const void *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s == NULL)
		abort();
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

/* The next line as an owned NUL-terminated string. */
static inline char *
fuzz_line_dup(struct fuzz_in *in)
{
	const char *s;
	size_t n = fuzz_line(in, &s);

	return fuzz_strndup(s, n);
}

/* Everything left as an owned NUL-terminated string. */
static inline char *
fuzz_rest_dup(struct fuzz_in *in, size_t *len)
{
	char *s = fuzz_strndup(in->p, in->n);

	if (len != NULL)
		*len = in->n;
	in->p += in->n;
	in->n = 0;
	return s;
}

/* Whether s/n is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
static inline bool
fuzz_utf8_ok(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, k, len;
	unsigned cp, min;

	while (i < n) {
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		if ((u[i] & 0xe0) == 0xc0) {
			len = 2;
			cp = u[i] & 0x1f;
			min = 0x80;
		} else if ((u[i] & 0xf0) == 0xe0) {
			len = 3;
			cp = u[i] & 0x0f;
			min = 0x800;
		} else if ((u[i] & 0xf8) == 0xf0) {
			len = 4;
			cp = u[i] & 0x07;
			min = 0x10000;
		} else
			return false;
		if (i + len > n)
			return false;
		for (k = 1; k < len; k++) {
			if ((u[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (u[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

/* Whether s/n holds a byte that must never reach a header line: CR, LF or NUL. */
static inline bool
fuzz_has_crlf_nul(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
			return true;
	return false;
}

#endif
