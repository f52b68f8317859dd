#!/usr/bin/env bash
# Self-tests of the local AWS stand-ins (tests/aws): the SigV4-verifying DynamoDB proxy in front
# of dynalite and the S3 stand-in (s3rver behind a SigV4-verifying proxy), driven by botocore's
# and curl's signers. Loopback only; every server started is stopped, also on failure.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
if [ ! -d tests/node/node_modules/dynalite ] || [ ! -d tests/node/node_modules/s3rver ]; then
	echo "tests/node/node_modules is missing: run (cd tests/node && npm ci)" >&2
	exit 1
fi
exec timeout 120 /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/aws/selftest.py
