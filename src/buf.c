#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

void
buf_grow(struct buf *b, size_t extra)
{
	size_t need = b->len + extra + 1, cap;

	if (need < b->len)
		abort();	/* size_t overflow: no legitimate caller gets here */
	if (need <= b->cap)
		return;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap * 2 > cap ? cap * 2 : need;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
	b->data[b->len] = '\0';	/* a buffer is NUL-terminated from its first allocation */
}

void
buf_append(struct buf *b, const void *p, size_t n)
{
	buf_grow(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
buf_appends(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void
buf_appendc(struct buf *b, char c)
{
	buf_append(b, &c, 1);
}

void
buf_append_i64(struct buf *b, long long v)
{
	char tmp[24], *p = tmp + sizeof tmp;
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	buf_append(b, p, (size_t)(tmp + sizeof tmp - p));
}

/*
 * One formatting pass when the text fits in the spare capacity (the usual case: headers and
 * log lines into reused buffers); a second pass after growing only when it does not. Before,
 * every call formatted twice (measure, then write): bench/profile counted ~2,000 instructions
 * per redirect in the extra passes.
 */
void
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	size_t room;
	int n;

	buf_grow(b, 0);		/* data is allocated from here on */
	room = b->cap - b->len;
	va_copy(cp, ap);
	n = vsnprintf(b->data + b->len, room, fmt, cp);
	va_end(cp);
	if (n < 0)
		abort();
	if ((size_t)n >= room) {
		buf_grow(b, (size_t)n);
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	}
	b->len += (size_t)n;
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if invalid. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned int cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void
buf_append_json_str(struct buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, l;

	while (i < n) {
		unsigned char c = p[i];
		switch (c) {
		case '"': buf_append(b, "\\\"", 2); i++; continue;
		case '\\': buf_append(b, "\\\\", 2); i++; continue;
		case '\n': buf_append(b, "\\n", 2); i++; continue;
		case '\r': buf_append(b, "\\r", 2); i++; continue;
		case '\t': buf_append(b, "\\t", 2); i++; continue;
		default: break;
		}
		if (c < 0x20 || c == 0x7f) {
			buf_printf(b, "\\u%04x", c);
			i++;
			continue;
		}
		/* '<' '>' '&' escaped so JSON can never be sniffed or embedded as markup. */
		if (c == '<' || c == '>' || c == '&') {
			buf_printf(b, "\\u%04x", c);
			i++;
			continue;
		}
		l = utf8_seq(p + i, n - i);
		if (l == 0) {
			buf_appends(b, "\\ufffd");
			i++;
			continue;
		}
		/* U+2028/2029 break JavaScript string literals. */
		if (l == 3 && p[i] == 0xe2 && p[i + 1] == 0x80 && (p[i + 2] == 0xa8 || p[i + 2] == 0xa9)) {
			buf_printf(b, "\\u%04x", p[i + 2] == 0xa8 ? 0x2028 : 0x2029);
			i += 3;
			continue;
		}
		buf_append(b, p + i, l);
		i += l;
	}
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

char *
buf_detach(struct buf *b)
{
	char *p;

	if (b->data == NULL)
		return xstrdup("");
	p = b->data;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

const char *
buf_str(const struct buf *b)
{
	return b->data ? b->data : "";
}
