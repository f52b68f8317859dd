#include "blob.h"

#include <ctype.h>
#include <string.h>

#include "encode.h"
#include "log.h"

struct blob *
blob_open(const struct config *cfg)
{
	if (!strcmp(cfg->blob_backend, "local"))
		return blob_backend_local.open(cfg);
	if (!strcmp(cfg->blob_backend, "s3"))
		return blob_backend_s3.open(cfg);
	log_errorx("BLOB_BACKEND=%s is not available in this build", cfg->blob_backend);
	return NULL;
}

void
blob_close(struct blob *b)
{
	if (b != NULL)
		b->backend->close(b);
}

void
blob_new_key(char *out)
{
	unsigned char raw[BLOB_KEY_LEN / 2];

	random_bytes(raw, sizeof raw);
	hex_encode(raw, sizeof raw, out);
}

int
blob_key_valid(const char *key)
{
	size_t i;

	for (i = 0; i < BLOB_KEY_LEN; i++)
		if (!isxdigit((unsigned char)key[i]) || isupper((unsigned char)key[i]))
			return 0;
	return key[BLOB_KEY_LEN] == '\0';
}
