#include "store.h"

#include <stddef.h>

#include "log.h"

struct store *
store_open(const struct config *cfg)
{
	const struct store_backend *b = &store_backend_sqlite;

	if (cfg->use_dynamodb) {
		log_errorx("USE_DYNAMODB=true, but this build has no DynamoDB store backend yet");
		return NULL;
	}
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
	default: return "unavailable";
	}
}
