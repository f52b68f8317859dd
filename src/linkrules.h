/*
 * linkrules: the pure rules about links: what a short code, a custom slug and a target URL
 * may be, how an uploaded file's name is made safe to keep and to send back, and which
 * clients are link-preview bots. No I/O, no allocation except where a struct buf is passed.
 */
#ifndef FS_LINKRULES_H
#define FS_LINKRULES_H
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define URL_MAX_LEN		4096
#define CODE_LEN_URL		8	/* base62: 47.6 bits */
#define CODE_LEN_FILE		11	/* base62: 65.5 bits, not guessable */
#define SLUG_MIN_LEN		4
#define SLUG_MAX_LEN		64
#define FILENAME_MAX_BYTES	255

/* A new random code of len base62 characters (CSPRNG, no modulo bias) into out[len+1]. */
void	link_new_code(char *out, size_t len);

/*
 * Custom slug: [A-Za-z0-9_-]{4,64} and not a reserved first path segment (api, static,
 * healthz, readyz, ... compared case-insensitively). 0 ok, -1 malformed, -2 reserved.
 */
int	link_check_slug(const char *slug, size_t len);

/*
 * A target URL: absolute http or https (scheme case-insensitive), at most URL_MAX_LEN bytes,
 * with a non-empty host (reg-name, IPv4 or [IPv6]) and optional port 1-65535, no userinfo
 * ('@' in the authority), no backslash, no ASCII control characters or whitespace, valid
 * UTF-8 with no Unicode whitespace, invisible or bidi-control characters, and whose host is
 * none of the own_hosts (this service's host names, compared case-insensitively without port
 * and trailing dot) — no loops. Returns 0 or -1; *why gets a short static reason.
 * Clarified: a reg-name host may hold only letters, digits, '-', '.', '_' and non-ASCII
 * (IDN) characters; hosts are compared as browsers resolve them ("127.1" is 127.0.0.1, IDN
 * as punycode); why may be NULL, and *why is set to NULL on success.
 */
int	link_check_url(const char *url, size_t len, const char *const *own_hosts, size_t n_own,
	    const char **why);

/*
 * Makes a client-supplied file name safe to store and show: takes the part after the last
 * '/' or '\\', drops NUL, C0/C1 controls, DEL and bidi/invisible format characters, replaces
 * invalid UTF-8 bytes with '_', turns Unicode spaces (U+00A0, U+3000, ...) into ' ', trims
 * leading dots and spaces and trailing dots and spaces, truncates to FILENAME_MAX_BYTES on a
 * character boundary (keeping the extension when it is short), and falls back to "download"
 * when nothing is left. Appends the result to out.
 */
void	link_clean_filename(const char *name, size_t len, struct buf *out);

/*
 * The Content-Disposition value for a cleaned filename (RFC 6266): `attachment;
 * filename="ASCII fallback"; filename*=UTF-8''percent-encoded`. The fallback replaces
 * non-ASCII with '_' and escapes '"' and '\\'. Appends to out.
 */
void	link_content_disposition(const char *filename, struct buf *out);

/* A media type to send for a stored file: the client's if it is a plain type/subtype token
 * pair (parameters dropped, lower-cased), else one guessed from the extension, else
 * application/octet-stream. Appends to out. */
void	link_content_type(const char *client_type, const char *filename, struct buf *out);

/* True if user_agent names a known link-preview bot (Slackbot, Twitterbot,
 * facebookexternalhit, Discordbot, WhatsApp, TelegramBot, LinkedInBot, SkypeUriPreview). */
bool	link_is_preview_bot(const char *user_agent);

#endif
