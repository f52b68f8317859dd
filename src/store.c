#include "store.h"

#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "encode.h"
#include "xmalloc.h"


struct store *
store_open(const struct config *cfg)
{
	const struct store_backend *b = cfg->use_dynamodb ? &store_backend_dynamodb :
	    &store_backend_sqlite;

	return b->open(cfg);
}

void
store_close(struct store *s)
{
	if (s != NULL)
		s->backend->close(s);
}

const char *
store_rc_str(enum store_rc rc)
{
	switch (rc) {
	case STORE_OK: return "ok";
	case STORE_NOT_FOUND: return "not found";
	case STORE_CONFLICT: return "conflict";
	case STORE_GONE: return "gone";
	case STORE_QUOTA: return "quota";
	default: return "unavailable";
	}
}

void
link_free(struct link *l)
{
	if (l == NULL)
		return;
	free(l->full_url);
	free(l->filename);
	free(l->content_type);
	free(l->password_hash);
	l->full_url = l->filename = l->content_type = l->password_hash = NULL;
}

void
link_copy(struct link *dst, const struct link *src)
{
	*dst = *src;
	dst->full_url = xstrdup(src->full_url);
	dst->filename = xstrdup(src->filename);
	dst->content_type = xstrdup(src->content_type);
	dst->password_hash = xstrdup(src->password_hash);
}

void
link_page_free(struct link_page *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		link_free(&p->links[i]);
	free(p->links);
	p->links = NULL;
	p->n = 0;
}

bool
link_is_live(const struct link *l, int64_t now)
{
	return now < l->expires_at && (l->max_clicks == 0 || l->click_count < l->max_clicks);
}

void
store_cursor_make(const struct link *l, char out[128])
{
	char raw[RFC3339_LEN + CODE_MAX + 2];
	int n;

	time_format(l->created_at, raw);
	n = snprintf(raw + RFC3339_LEN - 1, sizeof raw - (RFC3339_LEN - 1), "|%s", l->short_code);
	b64url_encode((unsigned char *)raw, (size_t)(RFC3339_LEN - 1 + n), out);
}

int
store_cursor_parse(const char *cursor, char created[RFC3339_LEN], char code[CODE_MAX])
{
	unsigned char raw[RFC3339_LEN + CODE_MAX + 2];
	long n = b64url_decode(cursor, strlen(cursor), raw, sizeof raw - 1);
	char *bar;
	int64_t t;

	if (n <= RFC3339_LEN)
		return -1;
	raw[n] = '\0';
	bar = strchr((char *)raw, '|');
	if (bar == NULL || bar - (char *)raw != RFC3339_LEN - 1 || bar[1] == '\0' ||
	    strlen(bar + 1) >= CODE_MAX)
		return -1;
	*bar = '\0';
	if (time_parse((char *)raw, &t) == -1)
		return -1;
	strcpy(created, (char *)raw);
	strcpy(code, bar + 1);
	return 0;
}
