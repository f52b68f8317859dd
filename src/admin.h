/*
 * admin: the subcommands of fileshare-admin. Each takes its own argv (argv[0] is the
 * subcommand's name), prints its result on stdout and returns the exit status.
 */
#ifndef FS_ADMIN_H
#define FS_ADMIN_H
#include "config.h"

int	admin_trial_status(const struct config *, int argc, char **argv);
int	admin_set_tier(const struct config *, int argc, char **argv);
int	admin_purge(const struct config *, int argc, char **argv);
int	admin_create_tables(const struct config *, int argc, char **argv);
int	admin_sigv4(const struct config *, int argc, char **argv);	/* cfg unused (NULL) */
/* admin_migrate.c: moving data between the stores (docs/migration.md) */
int	admin_migrate(const struct config *, int argc, char **argv);
int	admin_export(const struct config *, int argc, char **argv);
int	admin_dump(const struct config *, int argc, char **argv);
int	admin_migrate_blobs(const struct config *, int argc, char **argv);	/* _blobs.c */

#endif
