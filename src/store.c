#include "store.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>


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
