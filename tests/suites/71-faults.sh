#!/usr/bin/env bash
# Fault injection against the real stack (tests/faults, pytest through the integration
# harness): kill -9 of workers under mixed load; DynamoDB stalling past the client's timeout,
# connections cut in the middle of an answer, credentials rotating and expiring under load;
# S3 failing multipart parts; BLOB_DIR on a full filesystem; the SQLite file locked by another
# process. Each checks that nothing a client was told succeeded is lost and nothing
# half-written remains. BUILD_DIR picks the build (default ./build). The full-filesystem case
# mounts a small tmpfs, so it needs root (it is skipped, saying why, otherwise).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export BUILD_DIR=${BUILD_DIR:-$root/build}
if [ ! -x "$BUILD_DIR/fileshare-fcgi" ]; then
	echo "$BUILD_DIR/fileshare-fcgi is missing: run scripts/build first" >&2
	exit 1
fi
if [ ! -d tests/node/node_modules/dynalite ] || [ ! -d tests/node/node_modules/s3rver ]; then
	echo "tests/node/node_modules is missing: run (cd tests/node && npm ci)" >&2
	exit 1
fi
exec timeout 240 /usr/bin/python3 -m pytest -q -p no:cacheprovider -rs tests/faults
