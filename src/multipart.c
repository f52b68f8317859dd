/*
 * multipart: streaming multipart/form-data (see multipart.h).
 *
 * The body is a sequence of delimiters "\r\n--BOUNDARY" (the first may lack its CRLF) each
 * followed by optional transport padding and CRLF and then a part (headers, blank line,
 * data), until the close delimiter "\r\n--BOUNDARY--"; anything after that is epilogue.
 * The parser is a byte-driven state machine; only part data is handled in bulk, since it is
 * where the bytes are.
 */
#include "multipart.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "http.h"
#include "xmalloc.h"

#define DELIM_MAX	(4 + MULTIPART_BOUNDARY_MAX)	/* "\r\n--" boundary */

enum state {
	ST_PREAMBLE,	/* before the first delimiter: discarded */
	ST_AFTER_DELIM,	/* a delimiter just matched: "--", padding or CRLF follows */
	ST_PADDING,	/* transport padding (spaces, tabs) before the CRLF */
	ST_DELIM_LF,	/* the CR ending the delimiter line was seen */
	ST_CLOSE_DASH,	/* the first '-' of the close delimiter's "--" was seen */
	ST_HEADERS,	/* a part's header block, collected in hdr */
	ST_DATA,	/* a part's data, searched for the next delimiter */
	ST_EPILOGUE,	/* after the close delimiter: ignored */
	ST_ERROR,
};

struct multipart {
	struct multipart_callbacks cb;
	void		*ctx;
	enum state	 st;
	enum multipart_error err;
	char		 delim[DELIM_MAX];
	size_t		 dlen;
	/*
	 * Bytes of delim matched so far. In ST_DATA they are the look-behind: the last `matched`
	 * bytes seen are exactly delim[0..matched), so they need no copy of their own.
	 */
	size_t		 matched;
	bool		 in_part;	/* on_part_begin called, on_part_end not yet */
	size_t		 parts;
	char		 hdr[MULTIPART_HEADERS_MAX];
	size_t		 hlen;
	/* The current part's strings (see struct multipart_part), and two scratch buffers:
	 * tmp holds an unescaped parameter value while scratch decodes filename* from it. */
	struct buf	 name, filename, filename_ext, ctype, tmp, scratch;
	bool		 has_name, has_filename, has_filename_ext, has_disposition;
	bool		 seen_ctype, has_ctype;
};

static bool
tchar(unsigned char c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool
ows(char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 2046 bchars; a space may not end the boundary. */
static bool
bchar(unsigned char c)
{
	return isalnum(c) || (c != '\0' && strchr("'()+_,-./:=? ", c) != NULL);
}

/*
 * Parameters after a media or disposition type: *( OWS ";" OWS name "=" (token |
 * quoted-string) ), a trailing ";" tolerated. Quoted strings are unescaped into tmp before
 * fn sees them. 0, or -1 if the syntax is wrong or fn returns -1.
 */
static int
params_each(const char *s, size_t n, struct buf *tmp,
    int (*fn)(void *, const char *, size_t, const char *, size_t), void *arg)
{
	size_t i = 0, name, nlen, v;

	for (;;) {
		while (i < n && ows(s[i]))
			i++;
		if (i == n)
			return 0;
		if (s[i++] != ';')
			return -1;
		while (i < n && ows(s[i]))
			i++;
		if (i == n)
			return 0;
		for (name = i; i < n && tchar((unsigned char)s[i]); i++)
			;
		if ((nlen = i - name) == 0)
			return -1;
		while (i < n && ows(s[i]))
			i++;
		if (i == n || s[i++] != '=')
			return -1;
		while (i < n && ows(s[i]))
			i++;
		buf_reset(tmp);
		if (i < n && s[i] == '"') {
			for (i++; i < n && s[i] != '"'; i++) {
				if (s[i] == '\\' && ++i == n)
					return -1;
				buf_appendc(tmp, s[i]);
			}
			if (i++ == n)
				return -1;	/* unterminated */
		} else {
			for (v = i; i < n && tchar((unsigned char)s[i]); i++)
				;
			if (i == v)
				return -1;
			buf_append(tmp, s + v, i - v);
		}
		if (fn(arg, s + name, nlen, buf_str(tmp), tmp->len) == -1)
			return -1;
	}
}

/* Length of "type/subtype" (or a lone disposition type when slash is false) at s. */
static size_t
type_len(const char *s, size_t n, bool slash)
{
	size_t i;

	for (i = 0; i < n && tchar((unsigned char)s[i]); i++)
		;
	if (i == 0 || !slash)
		return i;
	if (i == n || s[i] != '/' || i + 1 == n || !tchar((unsigned char)s[i + 1]))
		return 0;
	for (i++; i < n && tchar((unsigned char)s[i]); i++)
		;
	return i;
}

static bool
name_is(const char *name, size_t nlen, const char *want)
{
	return strlen(want) == nlen && !strncasecmp(name, want, nlen);
}

struct boundary_param {
	char	b[MULTIPART_BOUNDARY_MAX + 1];
	size_t	len;
	bool	seen;
};

static int
boundary_param(void *arg, const char *name, size_t nlen, const char *v, size_t vlen)
{
	struct boundary_param *bp = arg;
	size_t i;

	if (!name_is(name, nlen, "boundary"))
		return 0;
	if (bp->seen || vlen == 0 || vlen > MULTIPART_BOUNDARY_MAX || v[vlen - 1] == ' ')
		return -1;
	for (i = 0; i < vlen; i++)
		if (!bchar((unsigned char)v[i]))
			return -1;
	memcpy(bp->b, v, vlen);
	bp->len = vlen;
	bp->seen = true;
	return 0;
}

struct multipart *
multipart_new(const char *content_type, const struct multipart_callbacks *cb, void *ctx,
    enum multipart_error *err)
{
	struct boundary_param bp = { .len = 0, .seen = false };
	struct buf tmp = BUF_INIT;
	struct multipart *mp;
	const char *s = content_type;
	size_t n, t;
	int rc;

	if (s == NULL)
		goto fail;
	while (ows(*s))
		s++;
	n = strlen(s);
	t = type_len(s, n, true);
	if (!name_is(s, t, "multipart/form-data"))
		goto fail;
	rc = params_each(s + t, n - t, &tmp, boundary_param, &bp);
	buf_free(&tmp);
	if (rc == -1 || !bp.seen)
		goto fail;

	mp = xcalloc(1, sizeof *mp);
	if (cb != NULL)
		mp->cb = *cb;
	mp->ctx = ctx;
	memcpy(mp->delim, "\r\n--", 4);
	memcpy(mp->delim + 4, bp.b, bp.len);
	mp->dlen = 4 + bp.len;
	/* As if a CRLF had come first: the first delimiter may open the body without one. */
	mp->matched = 2;
	mp->st = ST_PREAMBLE;
	if (err != NULL)
		*err = MULTIPART_OK;
	return mp;
fail:
	if (err != NULL)
		*err = MULTIPART_EBOUNDARY;
	return NULL;
}

static int
fail(struct multipart *mp, enum multipart_error e)
{
	mp->err = e;
	mp->st = ST_ERROR;
	return -1;
}

static int
emit(struct multipart *mp, const char *p, size_t n)
{
	if (n == 0 || mp->cb.on_part_data == NULL)
		return 0;
	return mp->cb.on_part_data(mp->ctx, p, n) == -1 ? fail(mp, MULTIPART_ECALLBACK) : 0;
}

/*
 * Searches p[0..n) for the delimiter, continuing a partial match. Sets *found when it
 * completes inside p and returns how many bytes of p it consumed (up to the delimiter's end),
 * or -1 if on_part_data stopped. With deliver, every byte that can no longer be the start of
 * a delimiter goes to on_part_data before returning.
 *
 * On a mismatch the new partial match is 1 if the byte is CR and 0 otherwise: CR occurs in
 * the delimiter only at its start (bchars exclude it), so no longer border can exist.
 */
static long
scan(struct multipart *mp, const char *p, size_t n, bool deliver, bool *found)
{
	size_t held = mp->matched, m = held, i = 0, out;
	const char *cr;

	*found = false;
	while (i < n) {
		if (m == 0) {
			if ((cr = memchr(p + i, '\r', n - i)) == NULL) {
				i = n;
				break;
			}
			i = (size_t)(cr - p);
		}
		if (p[i] == mp->delim[m])
			m++;
		else
			m = p[i] == '\r';
		i++;
		if (m == mp->dlen) {
			*found = true;
			break;
		}
	}
	/* held + i bytes seen; the last m of them are delim[0..m) and stay held back. */
	out = held + i - m;
	if (deliver && out > 0) {
		if (out <= held) {
			if (emit(mp, mp->delim, out) == -1)
				return -1;
		} else if (emit(mp, mp->delim, held) == -1 ||
		    emit(mp, p, out - held) == -1)
			return -1;
	}
	mp->matched = *found ? 0 : m;
	return (long)i;
}

static int
end_part(struct multipart *mp)
{
	if (!mp->in_part)
		return 0;
	mp->in_part = false;
	if (mp->cb.on_part_end != NULL && mp->cb.on_part_end(mp->ctx) == -1)
		return fail(mp, MULTIPART_ECALLBACK);
	return 0;
}

/*
 * filename*'s ext-value (RFC 5987): charset'language'percent-encoded, into out as UTF-8.
 * The two charsets every recipient must support: UTF-8, and ISO-8859-1 (widened to UTF-8).
 */
static int
ext_value(const char *v, size_t n, struct buf *out, struct buf *tmp)
{
	const char *q1, *q2;
	size_t i;
	bool latin1;

	if ((q1 = memchr(v, '\'', n)) == NULL ||
	    (q2 = memchr(q1 + 1, '\'', n - (size_t)(q1 - v) - 1)) == NULL)
		return -1;
	if (name_is(v, (size_t)(q1 - v), "UTF-8"))
		latin1 = false;
	else if (name_is(v, (size_t)(q1 - v), "ISO-8859-1"))
		latin1 = true;
	else
		return -1;
	buf_reset(tmp);
	if (url_decode(q2 + 1, n - (size_t)(q2 + 1 - v), false, tmp) == -1)
		return -1;
	buf_reset(out);
	if (!latin1) {
		buf_append(out, tmp->data, tmp->len);
		return 0;
	}
	for (i = 0; i < tmp->len; i++) {
		unsigned char c = (unsigned char)tmp->data[i];

		if (c < 0x80)
			buf_appendc(out, (char)c);
		else {
			buf_appendc(out, (char)(0xc0 | c >> 6));
			buf_appendc(out, (char)(0x80 | (c & 0x3f)));
		}
	}
	return 0;
}

/* One Content-Disposition parameter; a repeated one is an error, since which to believe
 * would be a guess (and an attacker's choice). */
static int
disposition_param(void *arg, const char *name, size_t nlen, const char *v, size_t vlen)
{
	struct multipart *mp = arg;

	if (name_is(name, nlen, "name")) {
		if (mp->has_name)
			return -1;
		mp->has_name = true;
		buf_append(&mp->name, v, vlen);
	} else if (name_is(name, nlen, "filename")) {
		if (mp->has_filename)
			return -1;
		mp->has_filename = true;
		buf_append(&mp->filename, v, vlen);
	} else if (name_is(name, nlen, "filename*")) {
		if (mp->has_filename_ext)
			return -1;
		mp->has_filename_ext = true;
		return ext_value(v, vlen, &mp->filename_ext, &mp->scratch);
	}
	return 0;
}

/* form-data and its parameters; any other disposition type is not form data. */
static int
disposition(struct multipart *mp, const char *v, size_t n)
{
	size_t t = type_len(v, n, false);

	if (!name_is(v, t, "form-data"))
		return -1;
	return params_each(v + t, n - t, &mp->tmp, disposition_param, mp);
}

/*
 * The header block hdr[0..hlen) ends in CRLF CRLF (or is a lone CRLF). Each line is
 * name ":" OWS value OWS; no folding, no bare CR or LF, no control characters but HT.
 * Content-Disposition and Content-Type may each appear once; other headers are ignored.
 */
static int
parse_headers(struct multipart *mp)
{
	const char *h = mp->hdr, *line, *colon, *v;
	size_t n = mp->hlen - 2, i = 0, ll, vl, k;

	buf_reset(&mp->name);
	buf_reset(&mp->filename);
	buf_reset(&mp->filename_ext);
	buf_reset(&mp->ctype);
	mp->has_name = mp->has_filename = mp->has_filename_ext = false;
	mp->seen_ctype = mp->has_ctype = mp->has_disposition = false;

	while (i < n) {
		line = h + i;
		for (ll = 0; h[i + ll] != '\r'; ll++) {
			unsigned char c = (unsigned char)line[ll];

			if ((c < 0x20 && c != '\t') || c == 0x7f)
				return -1;
		}
		if (h[i + ll + 1] != '\n')
			return -1;
		i += ll + 2;
		if (ll == 0 || ows(line[0]) || (colon = memchr(line, ':', ll)) == NULL)
			return -1;
		for (k = 0; line + k < colon; k++)
			if (!tchar((unsigned char)line[k]))
				return -1;
		if (k == 0)
			return -1;
		for (v = colon + 1; v < line + ll && ows(*v); v++)
			;
		for (vl = (size_t)(line + ll - v); vl > 0 && ows(v[vl - 1]); vl--)
			;
		if (name_is(line, k, "Content-Disposition")) {
			if (mp->has_disposition || disposition(mp, v, vl) == -1)
				return -1;
			mp->has_disposition = true;
		} else if (name_is(line, k, "Content-Type")) {
			if (mp->seen_ctype)
				return -1;
			mp->seen_ctype = true;
			mp->has_ctype = vl > 0;
			buf_append(&mp->ctype, v, vl);
		}
	}
	return 0;
}

static int
begin_part(struct multipart *mp)
{
	struct multipart_part part;
	const struct buf *fn;

	if (parse_headers(mp) == -1)
		return fail(mp, MULTIPART_ESYNTAX);
	fn = mp->has_filename_ext ? &mp->filename_ext : mp->has_filename ? &mp->filename : NULL;
	part.name = buf_str(&mp->name);
	part.filename = fn != NULL ? buf_str(fn) : NULL;
	part.filename_len = fn != NULL ? fn->len : 0;
	part.content_type = mp->has_ctype ? buf_str(&mp->ctype) : NULL;
	mp->in_part = true;
	if (mp->cb.on_part_begin != NULL && mp->cb.on_part_begin(mp->ctx, &part) == -1)
		return fail(mp, MULTIPART_ECALLBACK);
	return 0;
}

int
multipart_feed(struct multipart *mp, const char *data, size_t len)
{
	size_t i = 0;
	bool found;
	long used;
	char c;

	while (i < len) {
		switch (mp->st) {
		case ST_PREAMBLE:
		case ST_DATA:
			used = scan(mp, data + i, len - i, mp->st == ST_DATA, &found);
			if (used == -1)
				return -1;
			i += (size_t)used;
			if (found)
				mp->st = ST_AFTER_DELIM;
			break;
		case ST_AFTER_DELIM:
		case ST_PADDING:
			c = data[i++];
			if (c == '-' && mp->st == ST_AFTER_DELIM)
				mp->st = ST_CLOSE_DASH;
			else if (ows(c))
				mp->st = ST_PADDING;
			else if (c == '\r')
				mp->st = ST_DELIM_LF;
			else
				return fail(mp, MULTIPART_ESYNTAX);
			break;
		case ST_DELIM_LF:
			if (data[i++] != '\n')
				return fail(mp, MULTIPART_ESYNTAX);
			if (end_part(mp) == -1)
				return -1;
			if (++mp->parts > MULTIPART_MAX_PARTS)
				return fail(mp, MULTIPART_ETOOMANY);
			mp->hlen = 0;
			mp->st = ST_HEADERS;
			break;
		case ST_CLOSE_DASH:
			if (data[i++] != '-')
				return fail(mp, MULTIPART_ESYNTAX);
			if (end_part(mp) == -1)
				return -1;
			mp->st = ST_EPILOGUE;
			break;
		case ST_HEADERS:
			while (i < len) {
				if (mp->hlen == sizeof mp->hdr)
					return fail(mp, MULTIPART_EHEADERS);
				mp->hdr[mp->hlen++] = data[i++];
				if ((mp->hlen == 2 && !memcmp(mp->hdr, "\r\n", 2)) ||
				    (mp->hlen >= 4 && !memcmp(mp->hdr + mp->hlen - 4, "\r\n\r\n", 4))) {
					if (begin_part(mp) == -1)
						return -1;
					mp->matched = 0;
					mp->st = ST_DATA;
					break;
				}
			}
			break;
		case ST_EPILOGUE:
			return 0;
		case ST_ERROR:
			return -1;
		}
	}
	return mp->st == ST_ERROR ? -1 : 0;
}

int
multipart_finish(struct multipart *mp)
{
	if (mp->st == ST_ERROR)
		return -1;
	if (mp->st != ST_EPILOGUE)
		return fail(mp, MULTIPART_ETRUNCATED);
	return 0;
}

enum multipart_error
multipart_error(const struct multipart *mp)
{
	return mp->err;
}

const char *
multipart_strerror(enum multipart_error e)
{
	switch (e) {
	case MULTIPART_OK:
		return "no error";
	case MULTIPART_EBOUNDARY:
		return "not multipart/form-data with a usable boundary";
	case MULTIPART_ESYNTAX:
		return "malformed multipart body";
	case MULTIPART_EHEADERS:
		return "part headers too large";
	case MULTIPART_ETOOMANY:
		return "too many parts";
	case MULTIPART_ETRUNCATED:
		return "multipart body ends before its closing delimiter";
	case MULTIPART_ECALLBACK:
		return "stopped by the receiver";
	}
	return "unknown multipart error";
}

void
multipart_free(struct multipart *mp)
{
	if (mp == NULL)
		return;
	buf_free(&mp->name);
	buf_free(&mp->filename);
	buf_free(&mp->filename_ext);
	buf_free(&mp->ctype);
	buf_free(&mp->tmp);
	buf_free(&mp->scratch);
	free(mp);
}
