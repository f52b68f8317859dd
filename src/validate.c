#include "validate.h"

#include <ctype.h>
#include <string.h>

#include "auth.h"

/*
 * The one UTF-8 decoder: the code point at the start of s, rejecting overlong forms,
 * surrogates, values above U+10FFFF and sequences cut short by len.
 */
int
utf8_decode(const char *s, size_t len, unsigned *cpp)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n, k;
	unsigned cp;

	if (len == 0)
		return -1;
	if (p[0] < 0x80) {
		n = 1;
		cp = p[0];
	} else if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		cp = p[0] & 0x07;
	} else
		return -1;
	if (n > len)
		return -1;
	for (k = 1; k < n; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (p[k] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*cpp = cp;
	return (int)n;
}

long
utf8_length(const char *s, size_t len)
{
	size_t i = 0;
	long count = 0;
	unsigned cp;
	int n;

	while (i < len) {
		if ((n = utf8_decode(s + i, len - i, &cp)) < 0)
			return -1;
		i += (size_t)n;
		count++;
	}
	return count;
}

int
validate_password(const char *s, size_t len)
{
	long n;

	if (len > PASSWORD_MAX_LEN || memchr(s, '\0', len) != NULL)
		return -1;
	n = utf8_length(s, len);
	return n >= PASSWORD_MIN_LEN ? 0 : -1;
}

static int
local_char(int c)
{
	return isalnum(c) || strchr("!#$%&'*+/=?^_`{|}~-.", c) != NULL;
}

/* Dot-atom local part, hostname domain with at least two labels and an alphabetic TLD. */
int
validate_email(const char *s, size_t len, char *out, size_t outlen)
{
	const char *at;
	size_t i, local_len, label = 0, labels = 1, tld_start = 0;
	char c;

	if (len < 3 || len > 254 || len >= outlen || memchr(s, '\0', len) != NULL)
		return -1;
	at = memchr(s, '@', len);
	if (at == NULL || memchr(at + 1, '@', len - (size_t)(at - s) - 1) != NULL)
		return -1;
	local_len = (size_t)(at - s);
	if (local_len == 0 || local_len > 64 || s[0] == '.' || s[local_len - 1] == '.')
		return -1;
	for (i = 0; i < local_len; i++) {
		if (!local_char((unsigned char)s[i]) || (s[i] == '.' && s[i + 1] == '.'))
			return -1;
		out[i] = (char)tolower((unsigned char)s[i]);
	}
	out[i++] = '@';
	if (i >= len)
		return -1;
	for (; i < len; i++) {
		c = (char)tolower((unsigned char)s[i]);
		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return -1;
			label = 0;
			labels++;
			tld_start = i + 1;
		} else if (isalnum((unsigned char)c) || c == '-') {
			if (label == 0 && c == '-')
				return -1;
			if (++label > 63)
				return -1;
		} else
			return -1;
		out[i] = c;
	}
	out[len] = '\0';
	if (labels < 2 || label < 2 || s[len - 1] == '-')
		return -1;
	/* The TLD is alphabetic, or an internationalised one in punycode (xn--...). */
	if (len - tld_start > 4 && !strncmp(out + tld_start, "xn--", 4))
		return 0;
	for (i = tld_start; i < len; i++)
		if (!isalpha((unsigned char)s[i]))
			return -1;
	return 0;
}
