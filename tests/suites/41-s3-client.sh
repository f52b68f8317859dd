#!/usr/bin/env bash
# The C S3 client (src/aws/s3.c) against real parts: s3rver behind the SigV4-verifying proxy
# (tests/aws/s3-server.mjs), with faults injected at the proxy, driven through
# tests/s3_client_driver (see tests/aws/test_s3_client.py). BUILD_DIR picks the build (default
# ./build); loopback only; every server started is stopped. Under 90 s.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export BUILD_DIR=${BUILD_DIR:-$root/build}
if [ ! -d tests/node/node_modules/s3rver ]; then
	echo "tests/node/node_modules is missing: run (cd tests/node && npm ci)" >&2
	exit 1
fi
if [ ! -x "$BUILD_DIR/tests/s3_client_driver" ]; then
	echo "$BUILD_DIR/tests/s3_client_driver is missing: run scripts/build first" >&2
	exit 1
fi
exec timeout 90 /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/aws/test_s3_client.py
