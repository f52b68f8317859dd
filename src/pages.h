/*
 * pages: the few HTML pages the app itself answers to people opening a link (not found,
 * expired, password form), styled by the UI's stylesheet, every value HTML-escaped, under a
 * strict Content-Security-Policy. Clients that are not browsers get the JSON error instead.
 */
#ifndef FS_PAGES_H
#define FS_PAGES_H
#include <stdbool.h>

#include "http.h"

/* Appends s HTML-escaped (& < > " ' and nothing else changed). */
void	html_escape(struct buf *, const char *s);
/* True unless the client is a browser (its Accept names text/html): API clients, curl and
 * scripts get the JSON error shape. */
bool	wants_json(const struct request *);

void	page_not_found(const struct request *, struct response *);
void	page_gone(const struct request *, struct response *);
/* The password form for code; wrong adds the "wrong password" message and status 401. */
void	page_password(const struct request *, struct response *, const char *code, bool wrong);

#endif
