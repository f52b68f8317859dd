#!/usr/bin/env bash
# The security matrix (tests/security/test_matrix.py: one table of attack -> expected answer
# against the real stack, ending with a grep of every log this test run wrote for every secret
# the tests used) and the review of the rendered nginx configuration
# (tests/security/test_nginx_conf.py). BUILD_DIR picks the build (default ./build); its
# test-logs/ directory holds the logs of the integration suites that ran on it before.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export BUILD_DIR=${BUILD_DIR:-$root/build}
if [ ! -x "$BUILD_DIR/fileshare-fcgi" ]; then
	echo "$BUILD_DIR/fileshare-fcgi is missing: run scripts/build first" >&2
	exit 1
fi
exec timeout 150 /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/security
