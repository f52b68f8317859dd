/*
 * encode: hex and base64url (no padding) codecs, and OpenSSL's CSPRNG behind one function.
 */
#ifndef FS_ENCODE_H
#define FS_ENCODE_H
#include <stddef.h>

/* Writes 2n+1 bytes (lower-case hex, NUL-terminated) to out. */
void	hex_encode(const unsigned char *in, size_t n, char *out);
/* Appends base64url of in to out (needs 4*ceil(n/3)+1 bytes); returns the length written. */
size_t	b64url_encode(const unsigned char *in, size_t n, char *out);
/* Decodes base64url without padding; returns the decoded length or -1 on bad input/size. */
long	b64url_decode(const char *in, size_t n, unsigned char *out, size_t outcap);
/* Fills p with n cryptographically random bytes; aborts if the CSPRNG fails. */
void	random_bytes(void *p, size_t n);
/* n characters of base62, uniformly distributed (rejection sampling), NUL-terminated. */
void	random_base62(char *out, size_t n);

#endif
