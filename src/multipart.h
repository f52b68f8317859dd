/*
 * multipart: a streaming multipart/form-data parser (RFC 7578). Feed it the body in chunks of
 * any size, even one byte; it calls back for each part's start (with its name, filename and
 * content type), for each piece of the part's data, and for the part's end. It never holds a
 * whole part in memory: only the headers of the current part (bounded) and a boundary-sized
 * look-behind.
 */
#ifndef FS_MULTIPART_H
#define FS_MULTIPART_H
#include <stdbool.h>
#include <stddef.h>

#define MULTIPART_BOUNDARY_MAX	70	/* RFC 2046 */
#define MULTIPART_HEADERS_MAX	8192	/* bytes of headers per part, ending blank line included */
#define MULTIPART_MAX_PARTS	1000

struct multipart_part {
	const char	*name;		/* form field name ("" if absent) */
	const char	*filename;	/* NULL if not a file part; raw, as the client sent it, after
					 * decoding filename*=UTF-8''... when present (it wins;
					 * ISO-8859-1'' is converted to UTF-8) */
	size_t		 filename_len;	/* may contain NUL bytes: use this length */
	const char	*content_type;	/* NULL if absent */
};

/* Callbacks return 0 to go on, or -1 to stop parsing (multipart_feed then returns -1 with
 * MULTIPART_ECALLBACK). The part struct's strings live until on_part_end returns.
 * Clarified: any callback may be NULL; on_part_end comes once the delimiter line after the
 * part is complete, so a part cut off by the end of the body gets none. */
struct multipart_callbacks {
	int	(*on_part_begin)(void *ctx, const struct multipart_part *);
	int	(*on_part_data)(void *ctx, const char *data, size_t len);
	int	(*on_part_end)(void *ctx);
};

enum multipart_error {
	MULTIPART_OK = 0,
	MULTIPART_EBOUNDARY,	/* no usable boundary parameter in the Content-Type */
	MULTIPART_ESYNTAX,	/* malformed body (bad delimiter line, bad headers, ...) */
	MULTIPART_EHEADERS,	/* a part's headers exceed MULTIPART_HEADERS_MAX */
	MULTIPART_ETOOMANY,	/* more than MULTIPART_MAX_PARTS parts */
	MULTIPART_ETRUNCATED,	/* multipart_finish before the closing delimiter */
	MULTIPART_ECALLBACK,	/* a callback returned -1 */
};

struct multipart;

/* From the request's Content-Type (must be multipart/form-data with a boundary, quoted or
 * not). NULL with *err set if not. Caller frees with multipart_free. */
struct multipart *multipart_new(const char *content_type, const struct multipart_callbacks *,
		    void *ctx, enum multipart_error *err);
/* 0, or -1 on error (then every later call fails too). */
int		 multipart_feed(struct multipart *, const char *data, size_t len);
/* 0 if the closing delimiter was seen (anything after it is ignored), -1 otherwise. */
int		 multipart_finish(struct multipart *);
enum multipart_error multipart_error(const struct multipart *);
const char	*multipart_strerror(enum multipart_error);
void		 multipart_free(struct multipart *);	/* NULL ok */

#endif
