/*
 * validate: pure validators for what clients send. Each returns 0 when the input is
 * acceptable (writing its normal form where there is one) and -1 otherwise.
 */
#ifndef FS_VALIDATE_H
#define FS_VALIDATE_H
#include <stddef.h>

/* An address like local@example.com, at most 254 bytes; out receives it lower-cased. */
int	validate_email(const char *s, size_t len, char *out, size_t outlen);
/* At least PASSWORD_MIN_LEN characters (code points), at most PASSWORD_MAX_LEN bytes,
 * valid UTF-8, no NUL. */
int	validate_password(const char *s, size_t len);
/* Number of code points in valid UTF-8 s, or -1 if s is not valid UTF-8. */
long	utf8_length(const char *s, size_t len);
/* Decodes the code point at the start of s into *cp and returns its length in bytes (1-4),
 * or -1 if s does not start with a well-formed UTF-8 sequence (or len is 0). */
int	utf8_decode(const char *s, size_t len, unsigned *cp);

#endif
