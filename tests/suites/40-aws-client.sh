#!/usr/bin/env bash
# The C AWS layer (src/aws: transport, credentials chain, DynamoDB client) against real parts:
# the SigV4-verifying DynamoDB proxy in front of dynalite, a container-credentials endpoint and
# an HTTP recorder, driven through tests/aws_client_driver (see tests/aws/test_client.py).
# BUILD_DIR picks the build (default ./build); loopback only; every server started is stopped.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export BUILD_DIR=${BUILD_DIR:-$root/build}
if [ ! -d tests/node/node_modules/dynalite ]; then
	echo "tests/node/node_modules is missing: run (cd tests/node && npm ci)" >&2
	exit 1
fi
if [ ! -x "$BUILD_DIR/tests/aws_client_driver" ]; then
	echo "$BUILD_DIR/tests/aws_client_driver is missing: run scripts/build first" >&2
	exit 1
fi
exec timeout 120 /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/aws/test_client.py
