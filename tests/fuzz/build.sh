#!/usr/bin/env bash
# Builds the libFuzzer targets: tests/fuzz/build.sh [OUT_DIR]   (default: <repo>/build-fuzz)
# The library sources are the ones Makefile.am puts in libfileshare.a, compiled with clang
# -fsanitize=fuzzer-no-link,address,undefined; each tests/fuzz/fuzz_<name>.c becomes
# OUT_DIR/fuzz_<name>. The S3 XML target is built once src/aws/s3.c is part of the library.
# Prints the target names, one a line, on the last line of its output ("targets: a b c").
# FUZZ_SRC_ROOT=<checkout> takes the library sources from another tree (the targets stay these).
# Needs clang and libclang-rt-14-dev (scripts/install-deps test installs both).
set -euo pipefail
root=${FUZZ_SRC_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
here=$(cd "$(dirname "$0")" && pwd)
out=$(mkdir -p "${1:-$root/build-fuzz}" && cd "${1:-$root/build-fuzz}" && pwd)
cc=${CC:-clang}
command -v "$cc" >/dev/null || { echo "fuzz/build.sh: $cc not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }

# libfileshare_a_SOURCES from Makefile.am: the .c files between that line and the first
# line without a trailing backslash.
libsrcs=$(awk '/^libfileshare_a_SOURCES *=/ { on = 1 }
	on { for (i = 1; i <= NF; i++) if ($i ~ /\.c$/) print $i; if ($0 !~ /\\$/) exit }' "$root/Makefile.am" | tr '\n' ' ')
[ -n "$libsrcs" ] || { echo "fuzz/build.sh: no libfileshare_a_SOURCES in $root/Makefile.am" >&2; exit 1; }

targets=""
for f in "$here"/fuzz_*.c; do
	t=$(basename "$f" .c)
	t=${t#fuzz_}
	if [ "$t" = s3xml ] && ! printf '%s\n' $libsrcs | grep -qx 'src/aws/s3.c'; then
		echo "fuzz/build.sh: skipping fuzz_s3xml: src/aws/s3.c is not in the library yet" >&2
		continue
	fi
	targets="$targets $t"
done
make -s --no-print-directory -j"$(nproc)" -f "$here/fuzz.mk" CC="$cc" SRCROOT="$root" FUZZDIR="$here" OUT="$out" \
	LIBSRCS="$libsrcs" TARGETS="$targets"
echo "targets:$targets"
