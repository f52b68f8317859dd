/*
 * linkops: what the handlers that create links share (handlers_links.c implements it; the
 * direct-upload handlers use it too): the caller's tier limits, link options validated
 * against them, and storing new links all or none with the right error answers.
 */
#ifndef FS_LINKOPS_H
#define FS_LINKOPS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"

/* The options every kind of link takes, validated against the caller's tier. */
struct link_opts {
	int64_t	 expires_at;
	int64_t	 max_clicks;		/* 0: unlimited */
	char	 password_hash[PASSWORD_HASH_MAX];
	bool	 has_password;
};

/* The limits of the caller's effective tier. */
const struct tier_limits *links_limits(struct ctx *);
/* Validates expires_in, max_clicks and password (each NULL when absent) for the caller's
 * tier and fills o (hashing the password). -1 after answering the error. */
int	link_opts_parse(struct ctx *, const char *expires_in, const char *max_clicks,
	    const char *password, size_t pwlen, struct link_opts *o);
/* Zeroes l and fills owner, times and options from o (l borrows o's password hash). */
void	link_init(struct ctx *, struct link *l, const struct link_opts *o);
/* Stores n links all or none. Random codes are drawn (and redrawn while one collides) unless
 * fixed_codes, when a taken code is a 409 slug_taken. -1 after answering the error. */
int	links_store(struct ctx *, struct link *links, size_t n, bool fixed_codes);
/* The 413 answer for a file over the tier's limit, and the answers for blob failures. */
void	file_too_large(struct ctx *);
void	blob_error(struct ctx *, enum blob_rc);

#endif
