#!/usr/bin/env bash
# The longer fuzzing run: tests/fuzz/run-long.sh [SECONDS]   (default 600 per target)
# Every target for SECONDS, one after another per CPU, keeping what it finds in
# build-fuzz/corpus/ for the next run (minimise it into tests/fuzz/corpus/ by hand when a
# find is worth keeping: fuzz_<t> -merge=1 tests/fuzz/corpus/<t> build-fuzz/corpus/<t>).
set -euo pipefail
exec "$(dirname "$0")/run.sh" "${1:-600}"
