#!/usr/bin/env bash
# SigV4 cross-check: random requests (tests/sigv4/gen.py, seeded) signed by botocore (Debian's
# python3-botocore), by @smithy/signature-v4 (tests/node) and by our `fileshare-admin sigv4`;
# canonical request, string to sign, signature and Authorization must be byte-identical
# with every reference that implements the case's options (see the scripts for the classes
# each one cannot sign). Prints the first mismatches in full and "N passed, M failed".
#   SIGV4_CASES=N (default 1200) and SIGV4_SEED=S (default 20150830) pick the requests;
#   BUILD_DIR (default <repo>/build) is where fileshare-admin was built.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build}
admin=$build/fileshare-admin
py=/usr/bin/python3		# Debian's, where python3-botocore lives (not a pyenv one)
here=$root/tests/sigv4

if [ ! -x "$admin" ]; then
	echo "20-sigv4: $admin not found: build first (scripts/build)" >&2
	exit 1
fi
if ! "$py" -c 'import botocore' 2>/dev/null; then
	echo "20-sigv4: botocore missing for $py (apt-get install python3-botocore)" >&2
	exit 1
fi
if [ ! -d "$root/tests/node/node_modules/@smithy/signature-v4" ]; then
	echo "20-sigv4: tests/node/node_modules is missing: run (cd tests/node && npm ci)" >&2
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/fs-sigv4-XXXXXX")
trap 'rm -rf "$work"' EXIT

timeout 50 "$py" "$here/gen.py" "$work" "${SIGV4_CASES:-1200}" "${SIGV4_SEED:-20150830}"
# The three signers are independent: run them side by side.
timeout 50 "$py" "$here/sign_botocore.py" "$work/cases.jsonl" >"$work/botocore.jsonl" &
boto=$!
timeout 50 node "$here/sign_smithy.js" "$work/cases.jsonl" >"$work/smithy.jsonl" &
smithy=$!
timeout 50 "$py" "$here/sign_ours.py" "$admin" "$work/cases.jsonl" >"$work/ours.jsonl"
wait "$boto"
wait "$smithy"
exec "$py" "$here/compare.py" "$work/cases.jsonl" "$work/ours.jsonl" \
	botocore="$work/botocore.jsonl" smithy="$work/smithy.jsonl"
