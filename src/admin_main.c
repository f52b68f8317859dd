/*
 * fileshare-admin: the operator's command line. main() alone here so every subcommand
 * links into the tests.
 */
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "config.h"
#include "log.h"

/* Commands with needs_config read and validate the environment first (store, blobs). */
static const struct {
	const char *name;
	int (*fn)(const struct config *, int, char **);
	int needs_config;
	const char *help;
} cmds[] = {
	{ "trial-status", admin_trial_status, 1, "EMAIL          the account's tier and trial, as JSON" },
	{ "set-tier", admin_set_tier, 1, "EMAIL premium|free   change an account's stored tier" },
	{ "create-tables", admin_create_tables, 1, "         create the DynamoDB tables (keys, GSIs, TTL)" },
	{ "purge", admin_purge, 1, "[--now EPOCH]    delete expired links, their files, and orphan files" },
	{ "migrate", admin_migrate, 1, "--from sqlite:PATH --to dynamodb [--dry-run] ...  copy SQLite data to DynamoDB, verified" },
	{ "export", admin_export, 1, "--from dynamodb --to sqlite:PATH [--dry-run] ...  copy DynamoDB data to SQLite (rollback), verified" },
	{ "migrate-blobs", admin_migrate_blobs, 1, "--to s3 [--dry-run] ...  copy the local blobs to S3_BUCKET, verified" },
	{ "dump", admin_dump, 1, "--from sqlite:PATH|dynamodb  the canonical dump (sorted lines) and its SHA-256" },
	{ "sigv4", admin_sigv4, 0, "--request FILE ...  sign a raw HTTP request with SigV4 (debugging; --help)" },
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: fileshare-admin COMMAND [ARGS]\n\ncommands:\n");
	for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		fprintf(f, "  %s %s\n", cmds[i].name, cmds[i].help);
	fprintf(f, "\nSettings (which store, where) come from the environment, as for fileshare-fcgi.\n");
}

int
main(int argc, char **argv)
{
	struct config cfg;
	char err[512];
	size_t i;
	int rc;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (!strcmp(argv[1], cmds[i].name))
			break;
	if (i == sizeof cmds / sizeof cmds[0]) {
		fprintf(stderr, "fileshare-admin: unknown command \"%s\"\n", argv[1]);
		usage(stderr);
		return 2;
	}
	if (!cmds[i].needs_config)
		return cmds[i].fn(NULL, argc - 1, argv + 1);
	if (config_load(&cfg, err, sizeof err) == -1) {
		fprintf(stderr, "fileshare-admin: configuration: %s\n", err);
		return 1;
	}
	log_set_level((enum log_level)cfg.log_level);
	rc = cmds[i].fn(&cfg, argc - 1, argv + 1);
	config_free(&cfg);
	return rc;
}
