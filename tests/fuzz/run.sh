#!/usr/bin/env bash
# Runs the libFuzzer targets: tests/fuzz/run.sh SECONDS [TARGET...]   (default: every target)
# Builds them first (tests/fuzz/build.sh), then runs each for SECONDS from its committed seed
# corpus (tests/fuzz/corpus/<target>, read-only) plus a working corpus in
# build-fuzz/corpus/<target> that keeps what earlier runs found. Up to FUZZ_JOBS targets
# (default: the number of CPUs) run at once. Fails if any target crashes, leaks, times out on
# an input (FUZZ_TIMEOUT seconds, default 10) or goes over FUZZ_RSS_MB (default 2048);
# reproducers are kept in build-fuzz/artifacts/. Prints the executions per target.
# The app's own log lines are discarded (-close_fd_mask=2); sanitizer reports are not.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/tests/fuzz
out=${FUZZ_OUT:-$root/build-fuzz}
secs=${1:?usage: run.sh SECONDS [TARGET...]}
shift
jobs=${FUZZ_JOBS:-$(nproc)}

built=$("$here/build.sh" "$out" | tail -n 1)
targets=${*:-${built#targets: }}
mkdir -p "$out/artifacts" "$out/logs"

run_one() {	# run_one TARGET: one fuzzing run; its summary line goes to logs/TARGET.result
	local t=$1 log=$out/logs/$1.log dict=() rc=0 execs
	mkdir -p "$out/corpus/$t"
	[ -f "$here/$t.dict" ] && dict=(-dict="$here/$t.dict")
	"$out/fuzz_$t" "$out/corpus/$t" "$here/corpus/$t" "${dict[@]}" \
		-max_total_time="$secs" -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb="${FUZZ_RSS_MB:-2048}" \
		-close_fd_mask=2 -print_final_stats=1 -artifact_prefix="$out/artifacts/$t-" \
		> "$log" 2>&1 || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	printf '%s %s %s\n' "$t" "${execs:-0}" "$rc" > "$out/logs/$t.result"
}
export -f run_one
export out here secs
rm -f "$out"/logs/*.result
printf '%s\n' $targets | xargs -P "$jobs" -I{} bash -c 'run_one {}'

failed=0
total=0
printf '%-10s %12s %10s  %s\n' target executions exec/s result
for t in $targets; do
	read -r name execs rc < "$out/logs/$t.result"
	total=$((total + execs))
	if [ "$rc" -eq 0 ]; then
		res=ok
	else
		res="FAILED (exit $rc; see $out/logs/$t.log)"
		failed=$((failed + 1))
		grep -E 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)|runtime error:|FUZZ_CHECK|SUMMARY' \
			"$out/logs/$t.log" | head -n 5 | sed 's/^/    /' >&2 || true
	fi
	printf '%-10s %12d %10d  %s\n' "$name" "$execs" $((execs / secs)) "$res"
done
printf '%-10s %12d\n' total "$total"
[ "$failed" -eq 0 ]
