#!/bin/bash
# The msecgw command line: configuration checking with precise errors, the built-in demo
# configuration, start-up refusals that name their cause, and the example configurations.
set -u
. "$(dirname "$0")/lib.sh"
[ -x "$MSECGW" ] || { not_ok "msecgw binary missing"; exit 1; }

gw() {	# gw ARGS...: one short-lived gateway on two pcap ports, output in $WORK/out
	empty_pcap "$WORK/e.pcap"
	# shellcheck disable=SC2086
	"$MSECGW" -l 0,1 $EAL_BASE --file-prefix "it-gw-$$" \
		--vdev "net_pcap0,rx_pcap=$WORK/e.pcap,tx_pcap=$WORK/o0.pcap" \
		--vdev "net_pcap1,rx_pcap=$WORK/e.pcap,tx_pcap=$WORK/o1.pcap" \
		-- --socket "" "$@" >"$WORK/out" 2>&1
}

for f in "$MSEC_ROOT"/config/*.json; do
	check "config/$(basename "$f") is valid" gw -c "$f" --check
done

# shellcheck disable=SC2086
"$MSECGW" -l 0,1 $EAL_BASE --file-prefix "it-gwp-$$" -- --print-demo-config >"$WORK/out" 2>/dev/null
check "--print-demo-config prints the built-in configuration" \
	"$PY" -c "import json,sys; a=json.load(open('$WORK/out')); b=json.load(open('$MSEC_ROOT/config/demo.json')); sys.exit(a!=b)"

# a configuration error names the file, the JSON path and what was expected; nothing starts
sed 's/"sid_bits": *[0-9]*/"sid_bits": 10/' "$MSEC_ROOT/config/demo.json" >"$WORK/bad-sid.json"
gw -c "$WORK/bad-sid.json"
rc=$?
check "bad sid_bits: gateway refuses to start" test "$rc" -ne 0
check "bad sid_bits: error names file and JSON path" \
	grep -qE 'bad-sid\.json: groups\[0\]\.sas\[0\]\.sid_bits: expected' "$WORK/out"

printf '{ "ports": [ }' >"$WORK/syntax.json"
gw -c "$WORK/syntax.json"
check "JSON syntax error: refused with line and column" \
	bash -c "[ $? -ne 0 ] && grep -qE 'syntax\.json:1:[0-9]+' '$WORK/out'"

gw -c "$WORK/does-not-exist.json"
rc=$?
check "missing configuration file: refused, file named" \
	bash -c "[ $rc -ne 0 ] && grep -q 'does-not-exist.json' '$WORK/out'"

gw --no-such-option
check "unknown option: usage and failure" bash -c "[ $? -ne 0 ] && grep -q usage '$WORK/out'"

# start-up refusals: one lcore only (no worker), unknown device
empty_pcap "$WORK/e.pcap"
# shellcheck disable=SC2086
"$MSECGW" -l 0 $EAL_BASE --file-prefix "it-gw1-$$" \
	--vdev "net_pcap0,rx_pcap=$WORK/e.pcap,tx_pcap=$WORK/o0.pcap" \
	--vdev "net_pcap1,rx_pcap=$WORK/e.pcap,tx_pcap=$WORK/o1.pcap" -- --socket "" >"$WORK/out" 2>&1
check "no worker lcore: refused with a hint" \
	bash -c "[ $? -ne 0 ] && grep -q 'no worker lcore' '$WORK/out'"
# shellcheck disable=SC2086
"$MSECGW" -l 0,1 $EAL_BASE --file-prefix "it-gw2-$$" \
	--vdev "net_pcap0,rx_pcap=$WORK/e.pcap,tx_pcap=$WORK/o0.pcap" -- --socket "" >"$WORK/out" 2>&1
check "configured device missing: refused, device named" \
	bash -c "[ $? -ne 0 ] && grep -q 'net_pcap1' '$WORK/out'"

# more sending workers than an SA has sender IDs: refused (one SID per sending core, RFC 6054)
sed 's/net_pcap/net_ring/' "$MSEC_ROOT/config/demo.json" >"$WORK/ring.json"
maxsids=$("$PY" -c "import json; c=json.load(open('$WORK/ring.json')); print(max(len(s.get('sids', [])) for g in c['groups'] for s in g['sas']))")
lc=0@0
for i in $(seq 1 $((maxsids + 1))); do lc="$lc,$i@1"; done
# shellcheck disable=SC2086
"$MSECGW" --lcores "$lc" $EAL_BASE --file-prefix "it-gw3-$$" --vdev net_ring0 --vdev net_ring1 \
	-- -c "$WORK/ring.json" --socket "" >"$WORK/out" 2>&1
check "more sending workers than sender IDs: refused" \
	bash -c "[ $? -ne 0 ] && grep -q 'sender IDs' '$WORK/out'"
