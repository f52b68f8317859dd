#!/usr/bin/env bash
# Moving data (docs/migration.md): fileshare-admin migrate / export / dump (and migrate-blobs)
# against dynalite behind the SigV4-verifying proxy and s3rver, with the real stack (nginx +
# fileshare-fcgi) on the migrated data. 10,000 users and 100,000 links by default
# (MIGRATE_USERS, MIGRATE_LINKS). BUILD_DIR picks the build (default ./build); loopback only;
# every server started is stopped.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export BUILD_DIR=${BUILD_DIR:-$root/build}
if [ ! -d tests/node/node_modules/dynalite ]; then
	echo "tests/node/node_modules is missing: run (cd tests/node && npm ci)" >&2
	exit 1
fi
if [ ! -x "$BUILD_DIR/fileshare-admin" ] || [ ! -x "$BUILD_DIR/fileshare-fcgi" ]; then
	echo "$BUILD_DIR/fileshare-admin is missing: run scripts/build first" >&2
	exit 1
fi
exec timeout 600 /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/migrate "$@"
