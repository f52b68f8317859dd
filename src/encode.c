#include "encode.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "log.h"

void
hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = d[in[i] >> 4];
		out[2 * i + 1] = d[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t
b64url_encode(const unsigned char *in, size_t n, char *out)
{
	size_t i, o = 0;
	unsigned int v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = b64[(v >> 6) & 63];
		out[o++] = b64[v & 63];
	}
	if (n - i == 1) {
		v = (unsigned)in[i] << 16;
		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
	} else if (n - i == 2) {
		v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = b64[(v >> 6) & 63];
	}
	out[o] = '\0';
	return o;
}

static int
b64val(char c)
{
	const char *p = c ? strchr(b64, c) : NULL;
	return p ? (int)(p - b64) : -1;
}

long
b64url_decode(const char *in, size_t n, unsigned char *out, size_t outcap)
{
	size_t i, o = 0, full = n / 4 * 4;
	int a, b, c, d;

	if (n % 4 == 1 || (n / 4) * 3 + (n % 4 ? n % 4 - 1 : 0) > outcap)
		return -1;
	for (i = 0; i < full; i += 4) {
		if ((a = b64val(in[i])) < 0 || (b = b64val(in[i + 1])) < 0 ||
		    (c = b64val(in[i + 2])) < 0 || (d = b64val(in[i + 3])) < 0)
			return -1;
		out[o++] = (unsigned char)(a << 2 | b >> 4);
		out[o++] = (unsigned char)((b & 15) << 4 | c >> 2);
		out[o++] = (unsigned char)((c & 3) << 6 | d);
	}
	if (n - full >= 2) {
		if ((a = b64val(in[i])) < 0 || (b = b64val(in[i + 1])) < 0)
			return -1;
		out[o++] = (unsigned char)(a << 2 | b >> 4);
		if (n - full == 3) {
			if ((c = b64val(in[i + 2])) < 0 || (c & 3) != 0)
				return -1;
			out[o++] = (unsigned char)((b & 15) << 4 | c >> 2);
		} else if ((b & 15) != 0)
			return -1;	/* non-canonical trailing bits */
	}
	return (long)o;
}

void
random_bytes(void *p, size_t n)
{
	if (RAND_bytes(p, (int)n) != 1) {
		log_errorx("RAND_bytes failed");
		abort();
	}
}

void
random_base62(char *out, size_t n)
{
	static const char alpha[] =
	    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	unsigned char pool[64];
	size_t have = 0, used = 0, o = 0;

	while (o < n) {
		if (used == have) {
			random_bytes(pool, sizeof pool);
			have = sizeof pool;
			used = 0;
		}
		/* 248 = 4 * 62: bytes at or above it would bias the low letters, so skip them. */
		if (pool[used] < 248)
			out[o++] = alpha[pool[used] % 62];
		used++;
	}
	out[n] = '\0';
}
