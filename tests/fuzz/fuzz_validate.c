/*
 * fuzz_validate: the validators of account input (src/validate.c): email addresses,
 * passwords and the UTF-8 decoder under both.
 *
 * Input: the raw bytes (NUL included), tried as an email, a password and UTF-8.
 * Checks, beyond no crash or leak: an accepted email is 3-254 bytes, lower-case, has exactly
 * one '@' and validates again to itself; the output buffer is never written past its size
 * (a small one is tried too); an accepted password is valid UTF-8 with no NUL and at least
 * PASSWORD_MIN_LEN code points; utf8_length agrees with decoding one code point at a time.
 */
#include <ctype.h>

#include "fuzz.h"

#include "auth.h"
#include "validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	char *out = malloc(size + 1), small[16], again[256];
	size_t i;
	long n, count = 0;
	unsigned cp;
	int l;

	if (out == NULL)
		abort();
	if (validate_email(s, size, out, size + 1) == 0) {
		FUZZ_CHECK(size >= 3 && size <= 254 && strlen(out) == size);
		FUZZ_CHECK(strchr(out, '@') != NULL && strchr(out, '@') == strrchr(out, '@'));
		for (i = 0; i < size; i++)
			FUZZ_CHECK(!isupper((unsigned char)out[i]) && (unsigned char)out[i] > 0x20 &&
			    (unsigned char)out[i] < 0x7f);
		FUZZ_CHECK(validate_email(out, size, again, sizeof again) == 0 && !strcmp(again, out));
	}
	/* A buffer too small for the address: refused, nothing written past it (ASan). */
	(void)validate_email(s, size, small, sizeof small);

	if (validate_password(s, size) == 0) {
		FUZZ_CHECK(size <= PASSWORD_MAX_LEN && memchr(s, '\0', size) == NULL);
		FUZZ_CHECK(fuzz_utf8_ok(s, size));
		FUZZ_CHECK(utf8_length(s, size) >= PASSWORD_MIN_LEN);
	}

	n = utf8_length(s, size);
	FUZZ_CHECK((n >= 0) == fuzz_utf8_ok(s, size));
	for (i = 0; i < size; i += (size_t)l) {
		l = utf8_decode(s + i, size - i, &cp);
		if (l < 0)
			break;
		FUZZ_CHECK(l >= 1 && l <= 4 && (size_t)l <= size - i && cp <= 0x10ffff);
		count++;
	}
	FUZZ_CHECK(n < 0 ? i < size : count == n);
	FUZZ_CHECK(utf8_decode(s, 0, &cp) == -1);
	free(out);
	return 0;
}
