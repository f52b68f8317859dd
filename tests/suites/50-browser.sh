#!/usr/bin/env bash
# The web UI end to end in Debian's Chromium (playwright-core, never a downloaded browser)
# against the real stack: nginx + fileshare-fcgi on loopback, started by scripts/serve with a
# temporary VAR_DIR (tests/browser/harness.mjs). BUILD_DIR (default ./build) picks the binaries.
# Screenshots land in tests/artifacts/ (git-ignored), with the stack's log when a test fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export BUILD_DIR=${BUILD_DIR:-$root/build}
for need in /usr/bin/chromium "$BUILD_DIR/fileshare-fcgi" tests/node/node_modules/playwright-core; do
	if [ ! -e "$need" ]; then
		echo "50-browser: $need is missing (scripts/install-deps test; scripts/build; cd tests/node && npm ci)" >&2
		exit 1
	fi
done
command -v zbarimg >/dev/null || { echo "50-browser: zbarimg is missing (apt-get install zbar-tools)" >&2; exit 1; }

work=$(mktemp -d)
export FS_BROWSER_PIDS=$work/serve.pids
# Whatever happens to the test process, no stack outlives this script.
cleanup() {
	if [ -s "$FS_BROWSER_PIDS" ]; then
		while read -r pid; do
			kill -0 "$pid" 2>/dev/null && kill -TERM "$pid" 2>/dev/null || true
		done < "$FS_BROWSER_PIDS"
		sleep 1
		while read -r pid; do
			kill -0 "$pid" 2>/dev/null && kill -KILL -- "-$pid" 2>/dev/null || true
		done < "$FS_BROWSER_PIDS"
	fi
	rm -rf "$work"
}
trap cleanup EXIT
mkdir -p tests/artifacts

start=$SECONDS
status=0
timeout --signal=TERM --kill-after=10 170 node --test-reporter=spec --test-reporter-destination=stdout \
	--test-reporter=tap --test-reporter-destination="$work/tap" tests/browser/journey.test.mjs || status=$?
pass=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$work/tap" 2>/dev/null | tail -1)
fail=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$work/tap" 2>/dev/null | tail -1)
todo=$(sed -n 's/^# todo \([0-9]*\)$/\1/p' "$work/tap" 2>/dev/null | tail -1)
echo "browser: ${pass:-0} passed, ${fail:-?} failed, ${todo:-0} known bugs (todo) in $((SECONDS - start)) s; screenshots in tests/artifacts/"
[ "$status" -eq 0 ] && [ "${fail:-1}" = 0 ]
