#!/usr/bin/env bash
# Fuzzing: every libFuzzer target in tests/fuzz (parsers of outside input: query strings,
# cookies, multipart, URL and file-name rules, the API's JSON through app_handle, DynamoDB
# and credential answers, SigV4 canonicalisation, validators, tokens and sealed envelopes,
# S3's XML) built with ASan+UBSan and run briefly from the committed seed corpora. Fails on
# any crash, leak, failed check or slow input. FUZZ_SECONDS per target (default 10);
# tests/fuzz/run-long.sh is the longer run.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
if ! command -v clang >/dev/null || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
	echo "70-fuzz: clang and libclang-rt-14-dev are needed (scripts/install-deps test)" >&2
	exit 1
fi
"$root/tests/fuzz/build.sh" >/dev/null	# (the build is not fuzzing time)
exec timeout 150 "$root/tests/fuzz/run.sh" "${FUZZ_SECONDS:-10}"
