#!/bin/bash
# Short libFuzzer runs of every harness in tests/fuzz over its seed corpus (clang, ASan, UBSan).
# The corpus in the repository is only read; new inputs go to a temporary directory.
set -u
root=${MSEC_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
secs=${FUZZ_SECONDS:-20}
dir=$root/build-fuzz
if [ ! -f "$dir/build.ninja" ]; then
	CC=clang meson setup "$dir" "$root" -Dfuzz=true -Db_sanitize=address,undefined \
		-Db_lundef=false -Dbuildtype=debugoptimized >/dev/null || {
		echo "not ok - fuzz build configures"; exit 1; }
fi
if ! ninja -C "$dir" >/dev/null; then
	echo "not ok - fuzz harnesses build"
	exit 1
fi
echo "ok - fuzz harnesses build"
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
for f in "$dir"/tests/fuzz/fuzz_*; do
	[ -f "$f" ] && [ -x "$f" ] || continue
	name=$(basename "$f")
	corpus=$root/tests/fuzz/corpus/${name#fuzz_}
	work=$(mktemp -d)
	[ -d "$corpus" ] && cp -r "$corpus"/. "$work"/
	if "$f" -max_total_time="$secs" -max_len=2048 -timeout=10 "$work" >"$work.log" 2>&1; then
		echo "ok - $name: $(grep -oE 'Done [0-9]+ runs' "$work.log" | tail -n 1) in ${secs}s"
	else
		echo "not ok - $name found a crash"
		grep -E 'ERROR|SUMMARY|Test unit written' "$work.log" | head -n 10
	fi
	rm -rf "$work" "$work.log"
done
