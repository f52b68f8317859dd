/*
 * linkrules: what short codes, slugs, target URLs and file names may be (see linkrules.h).
 *
 * The URL rules are deliberately narrower than RFC 3986: a short link is something people
 * click, so anything a browser would rewrite (backslashes, tabs, "https:x"), anything that
 * can hide what the link really points to (userinfo, invisible and bidi characters, numeric
 * hosts in odd spellings) and anything that points back at this service is refused.
 */
#include "linkrules.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "encode.h"
#include "validate.h"

/* Longest host name DNS can carry; longer hosts cannot resolve, so they are refused. */
#define HOST_MAX	253

void
link_new_code(char *out, size_t len)
{
	random_base62(out, len);
}

/* First path segments the service (or nginx in front of it) owns, or may own one day. */
static const char *const reserved_slugs[] = {
	"_blobs", "_errors", "about", "account", "admin", "api", "app", "assets", "auth",
	"dashboard", "download", "favicon", "files", "health", "healthz", "help", "index",
	"links", "login", "logout", "me", "privacy", "readyz", "register", "robots", "settings",
	"signin", "signout", "signup", "static", "status", "terms", "trial", "upload", "uploads",
	"www",
};

int
link_check_slug(const char *slug, size_t len)
{
	size_t i;

	if (slug == NULL || len < SLUG_MIN_LEN || len > SLUG_MAX_LEN)
		return -1;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)slug[i]) && slug[i] != '_' && slug[i] != '-')
			return -1;
	for (i = 0; i < sizeof reserved_slugs / sizeof reserved_slugs[0]; i++)
		if (strlen(reserved_slugs[i]) == len && !strncasecmp(slug, reserved_slugs[i], len))
			return -2;
	return 0;
}

/* Code points that render as (or like) a space other than U+0020 itself. */
static bool
is_unicode_space(unsigned cp)
{
	return cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
	    cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

/*
 * Invisible and bidi-control characters: they change how a name or address is displayed
 * without being seen (U+202E turns "invoice\u202Efdp.exe" into "invoiceexe.pdf").
 */
static bool
is_invisible(unsigned cp)
{
	return cp == 0xad || cp == 0x34f || cp == 0x61c || cp == 0x115f || cp == 0x1160 ||
	    cp == 0x17b4 || cp == 0x17b5 || cp == 0x180e ||
	    (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2060 && cp <= 0x206f) || cp == 0x3164 || cp == 0xfeff || cp == 0xffa0 ||
	    (cp >= 0xfff9 && cp <= 0xfffb) || (cp >= 0x1d173 && cp <= 0x1d17a) ||
	    (cp >= 0xe0000 && cp <= 0xe007f);
}

/* C0 controls, DEL and C1 controls. */
static bool
is_control(unsigned cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

/*
 * Full-width forms and ideographic full stops: browsers map them to ASCII letters and dots in
 * host names (UTS #46), so full-width "example" and U+3002 before "com" would reach
 * example.com unseen by the loop check.
 */
static bool
is_fullwidth(unsigned cp)
{
	return (cp >= 0xff01 && cp <= 0xff5e) || cp == 0x3002 || cp == 0xff0e || cp == 0xff61;
}

/* --- host canonical form, for the loop check --------------------------------------------- */

struct hostbuf {
	char	s[HOST_MAX + 1];
	size_t	len;
	bool	overflow;
};

static void
hb_putc(struct hostbuf *h, char c)
{
	if (h->len >= HOST_MAX) {
		h->overflow = true;
		return;
	}
	h->s[h->len++] = c;
	h->s[h->len] = '\0';
}

static void
hb_puts(struct hostbuf *h, const char *s)
{
	while (*s)
		hb_putc(h, *s++);
}

/*
 * One WHATWG IPv4 number: decimal, octal with a leading 0, or hex with 0x; "0x" alone is 0.
 * Returns 0 or -1.
 */
static int
ipv4_number(const char *s, size_t n, uint64_t *out)
{
	unsigned base = 10;
	uint64_t v = 0;
	size_t i = 0;
	int d;

	if (n == 0)
		return -1;
	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	} else if (n >= 2 && s[0] == '0') {
		base = 8;
		i = 1;
	}
	for (; i < n; i++) {
		if (isdigit((unsigned char)s[i]))
			d = s[i] - '0';
		else if (base == 16 && isxdigit((unsigned char)s[i]))
			d = tolower((unsigned char)s[i]) - 'a' + 10;
		else
			return -1;
		if ((unsigned)d >= base)
			return -1;
		v = v * base + (unsigned)d;
		if (v > UINT32_MAX)
			return -1;
	}
	*out = v;
	return 0;
}

/*
 * Whether the last label of host (trailing dot already removed) is a number, in which case
 * browsers parse the whole host as IPv4 ("127.1", "0x7f.0.0.1" and "2130706433" all mean
 * 127.0.0.1) and reject it if that fails.
 */
static bool
ends_in_number(const char *h, size_t n)
{
	const char *dot = memrchr(h, '.', n);
	const char *l = dot ? dot + 1 : h;
	size_t ll = n - (size_t)(l - h), i;

	if (ll == 0)
		return false;
	for (i = 0; i < ll && isdigit((unsigned char)l[i]); i++)
		;
	if (i == ll)
		return true;
	if (ll >= 2 && l[0] == '0' && (l[1] == 'x' || l[1] == 'X')) {
		for (i = 2; i < ll && isxdigit((unsigned char)l[i]); i++)
			;
		return i == ll;
	}
	return false;
}

/* The dotted-quad form of a host that ends in a number; -1 if it is no IPv4 address. */
static int
ipv4_canon(const char *h, size_t n, struct hostbuf *out)
{
	uint64_t parts[4], addr = 0;
	size_t np = 0, start = 0, i;
	char quad[16];

	for (i = 0; i <= n; i++) {
		if (i < n && h[i] != '.')
			continue;
		if (np == 4 || ipv4_number(h + start, i - start, &parts[np]) == -1)
			return -1;
		np++;
		start = i + 1;
	}
	for (i = 0; i + 1 < np; i++) {
		if (parts[i] > 255)
			return -1;
		addr = addr << 8 | parts[i];
	}
	if (parts[np - 1] >= (UINT64_C(1) << (8 * (5 - np))))
		return -1;
	addr = addr << (8 * (5 - np)) | parts[np - 1];
	snprintf(quad, sizeof quad, "%u.%u.%u.%u", (unsigned)(addr >> 24) & 255,
	    (unsigned)(addr >> 16) & 255, (unsigned)(addr >> 8) & 255, (unsigned)addr & 255);
	out->len = 0;
	hb_puts(out, quad);
	return 0;
}

/* An IPv6 literal (no brackets) in inet_ntop's canonical form; IPv4-mapped ones as IPv4. */
static int
ipv6_canon(const char *h, size_t n, struct hostbuf *out)
{
	char tmp[64], txt[INET6_ADDRSTRLEN];
	struct in6_addr a;

	if (n == 0 || n >= sizeof tmp)
		return -1;
	memcpy(tmp, h, n);
	tmp[n] = '\0';
	if (inet_pton(AF_INET6, tmp, &a) != 1)
		return -1;
	if (IN6_IS_ADDR_V4MAPPED(&a))
		snprintf(txt, sizeof txt, "%u.%u.%u.%u", a.s6_addr[12], a.s6_addr[13],
		    a.s6_addr[14], a.s6_addr[15]);
	else if (inet_ntop(AF_INET6, &a, txt, sizeof txt) == NULL)
		return -1;
	out->len = 0;
	hb_puts(out, txt);
	return 0;
}

/* RFC 3492 bias adaptation (base 36, tmin 1, tmax 26, skew 38, damp 700). */
static uint32_t
puny_adapt(uint32_t delta, uint32_t numpoints, bool first)
{
	uint32_t k = 0;

	delta = first ? delta / 700 : delta / 2;
	delta += delta / numpoints;
	while (delta > ((36 - 1) * 26) / 2) {
		delta /= 36 - 1;
		k += 36;
	}
	return k + (36 * delta) / (delta + 38);
}

static char
puny_digit(uint32_t d)
{
	return (char)(d < 26 ? 'a' + d : '0' + (d - 26));
}

/*
 * Appends "xn--" and the RFC 3492 encoding of one UTF-8 label, ASCII lower-cased first as
 * UTS #46 does. Only ASCII is case-folded: folding other capitals needs Unicode tables, so
 * "B\u00dcCHER" does not meet "xn--bcher-kva" (this matters only if the service's own name is an
 * IDN). -1 on invalid UTF-8 or on overflow (labels far beyond DNS's 63 bytes).
 */
static int
punycode_label(const char *s, size_t n, struct hostbuf *out)
{
	uint32_t cpn = 128, delta = 0, bias = 72, h, b = 0, total = 0, m, q, k, t;
	unsigned cp;
	size_t i;
	int l;

	hb_puts(out, "xn--");
	for (i = 0; i < n; i += (size_t)l) {
		if ((l = utf8_decode(s + i, n - i, &cp)) < 0)
			return -1;
		total++;
		if (cp < 0x80) {
			hb_putc(out, (char)tolower((int)cp));
			b++;
		}
	}
	if (b > 0)
		hb_putc(out, '-');
	for (h = b; h < total; delta++, cpn++) {
		m = UINT32_MAX;
		for (i = 0; i < n; i += (size_t)l) {
			l = utf8_decode(s + i, n - i, &cp);
			if (cp >= cpn && cp < m)
				m = cp;
		}
		if ((uint64_t)(m - cpn) * (h + 1) + delta > UINT32_MAX / 2)
			return -1;
		delta += (m - cpn) * (h + 1);
		cpn = m;
		for (i = 0; i < n; i += (size_t)l) {
			l = utf8_decode(s + i, n - i, &cp);
			if (cp < cpn && ++delta > UINT32_MAX / 2)
				return -1;
			if (cp != cpn)
				continue;
			for (q = delta, k = 36;; k += 36) {
				t = k <= bias ? 1 : k >= bias + 26 ? 26 : k - bias;
				if (q < t)
					break;
				hb_putc(out, puny_digit(t + (q - t) % (36 - t)));
				q = (q - t) / (36 - t);
			}
			hb_putc(out, puny_digit(q));
			bias = puny_adapt(delta, h + 1, h == b);
			delta = 0;
			h++;
		}
	}
	return 0;
}

/*
 * The form every spelling of one host shares, for the loop check: ASCII lower case, no
 * trailing dot, IPv4 as a dotted quad (browsers read "127.1" and "2130706433" as 127.0.0.1),
 * IPv6 as inet_ntop writes it, IDN labels in punycode. h has no port or brackets; v6 says it
 * was bracketed. Returns NULL, or a static reason the host is unusable.
 */
static const char *
host_canon(const char *h, size_t n, bool v6, struct hostbuf *out)
{
	size_t i, start, k;
	bool ascii;

	out->len = 0;
	out->s[0] = '\0';
	out->overflow = false;
	if (v6)
		return ipv6_canon(h, n, out) == 0 ? NULL : "invalid IPv6 address";
	if (n > 0 && h[n - 1] == '.')
		n--;
	if (n == 0)
		return "missing host";
	if (ends_in_number(h, n))
		return ipv4_canon(h, n, out) == 0 ? NULL : "invalid IPv4 address";
	for (start = 0, i = 0; i <= n; i++) {
		if (i < n && h[i] != '.')
			continue;
		if (i == start)
			return "empty label in host";
		if (start > 0)
			hb_putc(out, '.');
		for (ascii = true, k = start; k < i; k++)
			if ((unsigned char)h[k] >= 0x80)
				ascii = false;
		if (ascii) {
			for (k = start; k < i; k++)
				hb_putc(out, (char)tolower((unsigned char)h[k]));
		} else if (punycode_label(h + start, i - start, out) == -1)
			return "invalid host";
		start = i + 1;
	}
	return out->overflow ? "host too long" : NULL;
}

/* An own host as configured ("Example.COM.", "example.com:8443", "[::1]:80", "::1"). */
static int
own_host_canon(const char *own, struct hostbuf *out)
{
	size_t n = strlen(own);
	const char *colon, *rb;

	if (n > 0 && own[0] == '[') {
		if ((rb = memchr(own, ']', n)) == NULL)
			return -1;
		return host_canon(own + 1, (size_t)(rb - own) - 1, true, out) ? -1 : 0;
	}
	colon = memchr(own, ':', n);
	if (colon != NULL && memchr(colon + 1, ':', n - (size_t)(colon - own) - 1) != NULL)
		return host_canon(own, n, true, out) ? -1 : 0;	/* a bare IPv6 address */
	if (colon != NULL)
		n = (size_t)(colon - own);
	if (utf8_length(own, n) < 0)
		return -1;
	return host_canon(own, n, false, out) ? -1 : 0;
}

/* Byte by byte: controls, spaces, backslashes, invalid UTF-8 and deceptive code points. */
static const char *
url_chars(const char *url, size_t len)
{
	unsigned char c;
	unsigned cp;
	size_t i;
	int l;

	for (i = 0; i < len; i += (size_t)l) {
		c = (unsigned char)url[i];
		l = 1;
		if (c < 0x80) {
			if (is_control(c))
				return "control character in URL";
			if (c == ' ')
				return "space in URL";
			if (c == '\\')
				return "backslash in URL";
			continue;
		}
		if ((l = utf8_decode(url + i, len - i, &cp)) < 0)
			return "invalid UTF-8 in URL";
		if (is_control(cp))
			return "control character in URL";
		if (is_unicode_space(cp))
			return "Unicode whitespace in URL";
		if (is_invisible(cp))
			return "invisible or bidi character in URL";
	}
	return NULL;
}

/* 1-65535, decimal digits only (leading zeros allowed, as browsers do). */
static int
check_port(const char *p, size_t n)
{
	unsigned long v = 0;
	size_t i;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)p[i]))
			return -1;
		v = v * 10 + (unsigned long)(p[i] - '0');
		if (v > 65535)
			return -1;
	}
	return v == 0 ? -1 : 0;
}

/*
 * Characters by character first (so obfuscations get their own reason), then scheme,
 * "//", authority, host and port, and last the loop check against own_hosts.
 */
int
link_check_url(const char *url, size_t len, const char *const *own_hosts, size_t n_own,
    const char **why)
{
	const char *reason, *auth, *end, *host, *port = NULL, *rb;
	size_t i, hlen, plen = 0;
	struct hostbuf canon, own;
	bool v6 = false;
	unsigned cp;
	int l;

	if (url == NULL || len == 0) {
		reason = "empty URL";
		goto refuse;
	}
	if (len > URL_MAX_LEN) {
		reason = "URL too long";
		goto refuse;
	}
	if ((reason = url_chars(url, len)) != NULL)
		goto refuse;

	if (len >= 2 && url[0] == '/' && url[1] == '/') {
		reason = "scheme-relative URL";
		goto refuse;
	}
	for (i = 0; i < len && (isalnum((unsigned char)url[i]) || url[i] == '+' ||
	    url[i] == '-' || url[i] == '.'); i++)
		;
	if (i == 0 || i == len || url[i] != ':' || !isalpha((unsigned char)url[0])) {
		reason = "not an absolute URL";
		goto refuse;
	}
	if (!(i == 4 && !strncasecmp(url, "http", 4)) &&
	    !(i == 5 && !strncasecmp(url, "https", 5))) {
		reason = "scheme must be http or https";
		goto refuse;
	}
	i++;
	if (len - i < 2 || url[i] != '/' || url[i + 1] != '/') {
		reason = "missing // after scheme";
		goto refuse;
	}

	auth = url + i + 2;
	for (end = auth; end < url + len && *end != '/' && *end != '?' && *end != '#'; end++)
		;
	if (end == auth) {
		reason = "missing host";
		goto refuse;
	}
	if (memchr(auth, '@', (size_t)(end - auth)) != NULL) {
		reason = "userinfo not allowed";
		goto refuse;
	}
	if (memchr(auth, '%', (size_t)(end - auth)) != NULL) {
		reason = "percent-encoding in host";
		goto refuse;
	}
	if (*auth == '[') {
		v6 = true;
		host = auth + 1;
		if ((rb = memchr(auth, ']', (size_t)(end - auth))) == NULL ||
		    (rb + 1 < end && rb[1] != ':')) {
			reason = "invalid IPv6 address";
			goto refuse;
		}
		hlen = (size_t)(rb - host);
		if (rb + 1 < end) {
			port = rb + 2;
			plen = (size_t)(end - port);
		}
	} else {
		host = auth;
		if ((rb = memchr(auth, ':', (size_t)(end - auth))) != NULL) {
			port = rb + 1;
			plen = (size_t)(end - port);
		}
		hlen = (size_t)((rb ? rb : end) - host);
		if (hlen == 0) {
			reason = "missing host";
			goto refuse;
		}
		for (i = 0; i < hlen; i += (size_t)l) {
			l = 1;
			if ((unsigned char)host[i] < 0x80) {
				if (!isalnum((unsigned char)host[i]) && host[i] != '-' &&
				    host[i] != '.' && host[i] != '_') {
					reason = "invalid character in host";
					goto refuse;
				}
				continue;
			}
			l = utf8_decode(host + i, hlen - i, &cp);	/* valid: url_chars */
			if (is_fullwidth(cp)) {
				reason = "full-width character in host";
				goto refuse;
			}
		}
	}
	if (port != NULL && check_port(port, plen) == -1) {
		reason = "invalid port";
		goto refuse;
	}
	if ((reason = host_canon(host, hlen, v6, &canon)) != NULL)
		goto refuse;

	for (i = 0; own_hosts != NULL && i < n_own; i++) {
		if (own_hosts[i] == NULL || own_host_canon(own_hosts[i], &own) == -1)
			continue;
		if (!strcmp(own.s, canon.s)) {
			reason = "link to this service";
			goto refuse;
		}
	}
	if (why != NULL)
		*why = NULL;
	return 0;
refuse:
	if (why != NULL)
		*why = reason;
	return -1;
}

/* --- file names -------------------------------------------------------------------------- */

/* An extension up to this many bytes (dot included) survives truncation of a long name. */
#define EXT_KEEP_MAX	16

static bool
trim_char(char c)
{
	return c == '.' || c == ' ';
}

/* The largest n' <= n at which s (valid UTF-8) can be cut without splitting a character. */
static size_t
char_boundary(const char *s, size_t n)
{
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

/*
 * Cleans into out directly (after what it already holds), then trims and truncates in place,
 * so the only allocation is out's own growth.
 */
void
link_clean_filename(const char *name, size_t len, struct buf *out)
{
	size_t base = out->len, i, start = 0, n, k, ext, stem;
	const char *dot;
	unsigned cp;
	char *s;
	int l;

	for (i = 0; name != NULL && i < len; i++)
		if (name[i] == '/' || name[i] == '\\')
			start = i + 1;
	for (i = start; name != NULL && i < len; i += (size_t)l) {
		l = 1;
		if ((unsigned char)name[i] < 0x80) {
			if (!is_control((unsigned char)name[i]))
				buf_appendc(out, name[i]);
			continue;
		}
		if ((l = utf8_decode(name + i, len - i, &cp)) < 0) {
			l = 1;
			buf_appendc(out, '_');
		} else if (is_unicode_space(cp))
			buf_appendc(out, ' ');
		else if (!is_control(cp) && !is_invisible(cp))
			buf_append(out, name + i, (size_t)l);
	}
	buf_grow(out, 0);	/* data is non-NULL from here on */

	s = out->data + base;
	n = out->len - base;
	for (k = 0; k < n && trim_char(s[k]); k++)
		;
	memmove(s, s + k, n - k);
	n -= k;
	while (n > 0 && trim_char(s[n - 1]))
		n--;
	if (n > FILENAME_MAX_BYTES) {
		dot = memrchr(s, '.', n);
		ext = dot != NULL ? n - (size_t)(dot - s) : 0;
		if (dot != NULL && ext <= EXT_KEEP_MAX) {
			/* s[0] is neither dot nor space, so the stem never trims to nothing. */
			stem = char_boundary(s, FILENAME_MAX_BYTES - ext);
			while (stem > 0 && trim_char(s[stem - 1]))
				stem--;
			memmove(s + stem, dot, ext);
			n = stem + ext;
		} else {
			n = char_boundary(s, FILENAME_MAX_BYTES);
			while (n > 0 && trim_char(s[n - 1]))
				n--;
		}
	}
	out->len = base + n;
	out->data[out->len] = '\0';
	if (n == 0)
		buf_appends(out, "download");
}

/* RFC 5987 attr-char: what may stand unencoded in filename*. */
static bool
attr_char(unsigned char c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$&+-.^_`|~", c) != NULL);
}

void
link_content_disposition(const char *filename, struct buf *out)
{
	const char *f = filename != NULL && *filename ? filename : "download";
	size_t i, n = strlen(f);
	unsigned char c;
	unsigned cp;
	int l;

	buf_appends(out, "attachment; filename=\"");
	for (i = 0; i < n; i += (size_t)l) {
		c = (unsigned char)f[i];
		l = 1;
		if (c >= 0x80) {
			/* One '_' per character, or per byte that is not UTF-8. */
			if ((l = utf8_decode(f + i, n - i, &cp)) < 0)
				l = 1;
			buf_appendc(out, '_');
		} else if (is_control(c))
			buf_appendc(out, '_');	/* never a CR or LF in a header */
		else {
			if (c == '"' || c == '\\')
				buf_appendc(out, '\\');
			buf_appendc(out, (char)c);
		}
	}
	buf_appends(out, "\"; filename*=UTF-8''");
	for (i = 0; i < n; i++) {
		c = (unsigned char)f[i];
		if (attr_char(c))
			buf_appendc(out, (char)c);
		else
			buf_printf(out, "%%%02X", c);
	}
}

/* --- media types ------------------------------------------------------------------------- */

static const struct {
	const char	*ext;
	const char	*type;
} ext_types[] = {
	{ "7z", "application/x-7z-compressed" },
	{ "aac", "audio/aac" },
	{ "avi", "video/x-msvideo" },
	{ "avif", "image/avif" },
	{ "bmp", "image/bmp" },
	{ "bz2", "application/x-bzip2" },
	{ "css", "text/css" },
	{ "csv", "text/csv" },
	{ "doc", "application/msword" },
	{ "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document" },
	{ "epub", "application/epub+zip" },
	{ "flac", "audio/flac" },
	{ "gif", "image/gif" },
	{ "gz", "application/gzip" },
	{ "heic", "image/heic" },
	{ "htm", "text/html" },
	{ "html", "text/html" },
	{ "ico", "image/vnd.microsoft.icon" },
	{ "ics", "text/calendar" },
	{ "jpeg", "image/jpeg" },
	{ "jpg", "image/jpeg" },
	{ "js", "text/javascript" },
	{ "json", "application/json" },
	{ "m4a", "audio/mp4" },
	{ "md", "text/markdown" },
	{ "mjs", "text/javascript" },
	{ "mkv", "video/x-matroska" },
	{ "mov", "video/quicktime" },
	{ "mp3", "audio/mpeg" },
	{ "mp4", "video/mp4" },
	{ "odp", "application/vnd.oasis.opendocument.presentation" },
	{ "ods", "application/vnd.oasis.opendocument.spreadsheet" },
	{ "odt", "application/vnd.oasis.opendocument.text" },
	{ "oga", "audio/ogg" },
	{ "ogg", "audio/ogg" },
	{ "ogv", "video/ogg" },
	{ "otf", "font/otf" },
	{ "pdf", "application/pdf" },
	{ "png", "image/png" },
	{ "ppt", "application/vnd.ms-powerpoint" },
	{ "pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation" },
	{ "rar", "application/vnd.rar" },
	{ "rtf", "application/rtf" },
	{ "svg", "image/svg+xml" },
	{ "tar", "application/x-tar" },
	{ "tgz", "application/gzip" },
	{ "tif", "image/tiff" },
	{ "tiff", "image/tiff" },
	{ "ttf", "font/ttf" },
	{ "txt", "text/plain" },
	{ "wasm", "application/wasm" },
	{ "wav", "audio/wav" },
	{ "weba", "audio/webm" },
	{ "webm", "video/webm" },
	{ "webp", "image/webp" },
	{ "woff", "font/woff" },
	{ "woff2", "font/woff2" },
	{ "xls", "application/vnd.ms-excel" },
	{ "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" },
	{ "xml", "application/xml" },
	{ "xz", "application/x-xz" },
	{ "zip", "application/zip" },
};

/* RFC 7230 tchar. */
static bool
tchar(unsigned char c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Length of a "type/subtype" token pair at the start of s (each at most 127 bytes, as
 * RFC 6838 allows), or 0 if there is none. */
static size_t
media_type_len(const char *s)
{
	size_t t, st;

	for (t = 0; tchar((unsigned char)s[t]); t++)
		;
	if (t == 0 || t > 127 || s[t] != '/')
		return 0;
	for (st = 0; tchar((unsigned char)s[t + 1 + st]); st++)
		;
	if (st == 0 || st > 127)
		return 0;
	return t + 1 + st;
}

void
link_content_type(const char *client_type, const char *filename, struct buf *out)
{
	const char *p, *dot;
	size_t n, i, k;

	if (client_type != NULL) {
		for (p = client_type; *p == ' ' || *p == '\t'; p++)
			;
		if ((n = media_type_len(p)) > 0) {
			for (k = n; p[k] == ' ' || p[k] == '\t'; k++)
				;
			if (p[k] == '\0' || p[k] == ';') {
				for (i = 0; i < n; i++)
					buf_appendc(out, (char)tolower((unsigned char)p[i]));
				return;
			}
		}
	}
	if (filename != NULL && (dot = strrchr(filename, '.')) != NULL && dot != filename)
		for (i = 0; i < sizeof ext_types / sizeof ext_types[0]; i++)
			if (!strcasecmp(dot + 1, ext_types[i].ext)) {
				buf_appends(out, ext_types[i].type);
				return;
			}
	buf_appends(out, "application/octet-stream");
}

/* --- link-preview bots ------------------------------------------------------------------- */

static const char *const preview_bots[] = {
	"Slackbot", "Twitterbot", "facebookexternalhit", "Discordbot", "WhatsApp",
	"TelegramBot", "LinkedInBot", "SkypeUriPreview",
};

/* A bot's name as a whole word of the User-Agent, in any case ("Slackbot-LinkExpanding 1.0",
 * "Mozilla/5.0 (compatible; Discordbot/2.0; ...)"), not inside a longer word. */
bool
link_is_preview_bot(const char *user_agent)
{
	const char *p;
	size_t i, n;

	if (user_agent == NULL)
		return false;
	for (i = 0; i < sizeof preview_bots / sizeof preview_bots[0]; i++) {
		n = strlen(preview_bots[i]);
		for (p = user_agent; (p = strcasestr(p, preview_bots[i])) != NULL; p++)
			if ((p == user_agent || !isalnum((unsigned char)p[-1])) &&
			    !isalnum((unsigned char)p[n]))
				return true;
	}
	return false;
}
