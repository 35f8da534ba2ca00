#!/bin/bash
# Runs every test: Check unit suites, then each tests/integration/test_* script.
# Integration scripts print TAP-style lines ("ok - what" / "not ok - what"); a script that exits
# non-zero without reporting a failure counts as one failure. Ends with "tests: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
build=${1:-build-san}
root=$(pwd)
pass=0
fail=0
failed=()

export MSEC_ROOT=$root
export MSEC_BUILD=$root/$build
export MSECGW=$root/$build/app/msecgw/msecgw
export MSECCTL=$root/$build/app/msecctl/msecctl
export PY=/usr/bin/python3
# sanitizers: fail on the first report; DPDK's EAL keeps some memory until exit by design
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

echo "== unit suites"
out=$("$build/tests/unit/msec-unit-tests" 2>&1)
rc=$?
echo "$out" | grep -vE '^[0-9]+%: Checks' | tail -n 40
line=$(echo "$out" | grep -E '^unit: [0-9]+ passed, [0-9]+ failed' | tail -n 1)
if [ -n "$line" ]; then
	p=$(echo "$line" | awk '{print $2}')
	f=$(echo "$line" | awk '{print $4}')
	pass=$((pass + p))
	fail=$((fail + f))
	[ "$f" -gt 0 ] && failed+=("unit suites")
else
	fail=$((fail + 1))
	failed+=("unit runner (exit $rc)")
fi

for t in tests/integration/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	echo "== $name"
	log=$(mktemp)
	start=$(date +%s)
	timeout 600 "$t" >"$log" 2>&1
	rc=$?
	p=$(grep -cE '^ok( |$)' "$log")
	f=$(grep -cE '^not ok( |$)' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $name exited with status $rc" >>"$log"
	fi
	grep -E '^(ok|not ok|#)' "$log"
	if [ "$f" -gt 0 ]; then
		echo "--- last lines of $name output:"
		grep -vE '^(ok|not ok)' "$log" | tail -n 40
		failed+=("$name")
	fi
	echo "   ($(( $(date +%s) - start )) s)"
	pass=$((pass + p))
	fail=$((fail + f))
	rm -f "$log"
done

if [ ${#failed[@]} -gt 0 ]; then
	echo "failed: ${failed[*]}"
fi
echo "tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
