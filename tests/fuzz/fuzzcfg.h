/*
 * fuzzcfg: a configuration for the targets that need one (the app, the DynamoDB store, the
 * credentials provider), built by config_parse() from NAME=VALUE lines, never from the
 * environment the fuzzer runs in.
 */
#ifndef FS_FUZZCFG_H
#define FS_FUZZCFG_H
#include <string.h>

#include "config.h"
#include "fuzz.h"

#define FUZZ_SECRET	"fuzz-session-secret-0123456789abcdefghijkl"
#define FUZZ_BASE_URL	"http://fs.test"

static const char *
fuzzcfg_get(const char *name, void *ctx)
{
	const char *const *v = ctx;
	size_t n = strlen(name);
	const char *found = NULL;

	for (; *v != NULL; v++)
		if (!strncmp(*v, name, n) && (*v)[n] == '=')
			found = *v + n + 1;	/* the last one wins */
	return found;
}

/* Parses vars (NULL-terminated "NAME=VALUE") into cfg; aborts with the message if refused. */
static inline void
fuzzcfg_parse(struct config *cfg, const char *const *vars)
{
	char err[512];

	if (config_parse(cfg, fuzzcfg_get, (void *)vars, err, sizeof err) == -1) {
		fprintf(stderr, "fuzz: configuration refused: %s\n", err);
		abort();
	}
}

#endif
