#!/bin/bash
# Several workers on one group SA: each sending worker uses its own sender ID (RFC 6054; one SID
# per encryption module, RFC 6407 §3.5), so no two cores share an IV counter, and the receiving
# side keeps one replay window per SID. Two workers, two RX queues per port, both queues carrying
# the same groups; the ESP loops back through a two-queue net_ring. No packet may be dropped, both
# SIDs must be seen as senders, and every received packet must be accounted for.
set -u
. "$(dirname "$0")/lib.sh"
[ -x "$MSECGW" ] || { not_ok "msecgw binary missing"; exit 1; }

sock=$WORK/ctl.sock
"$PY" "$TOOLS/gen-traffic.py" -o "$WORK/a.pcap" --count 10 >/dev/null
"$PY" "$TOOLS/gen-traffic.py" -o "$WORK/b.pcap" --count 10 --sizes 128,1000 >/dev/null
sed 's/"net_pcap1"/"net_ring0"/' "$MSEC_ROOT/config/demo.json" >"$WORK/mc.json"
"$PY" - "$WORK/mc.json" "$sock" <<'PYEOF'
import json, sys
c = json.load(open(sys.argv[1]))
for p in c["ports"]:
    p["queues"] = 2
c["control"] = {"socket": sys.argv[2]}
json.dump(c, open(sys.argv[1], "w"), indent=1)
PYEOF

# three lcores on two CPUs: the main lcore (control thread) and two workers
# shellcheck disable=SC2086
"$MSECGW" --lcores 0@0,1@1,2@1 $EAL_BASE --file-prefix "it-mc-$$" \
	--vdev "net_pcap0,rx_pcap=$WORK/a.pcap,rx_pcap=$WORK/b.pcap,infinite_rx=1,tx_pcap=/dev/null,tx_pcap=/dev/null" \
	--vdev net_ring0 -- -c "$WORK/mc.json" >"$WORK/mc.log" 2>&1 &
gw=$!
on_exit "kill -9 $gw 2>/dev/null"
for _ in $(seq 100); do
	"$MSECCTL" -s "$sock" ping >/dev/null 2>&1 && break
	sleep 0.1
done
sleep 2
"$MSECCTL" -s "$sock" -j sa list >"$WORK/sa.json" 2>&1
"$MSECCTL" -s "$sock" stats >"$WORK/stats.txt" 2>&1
kill -INT "$gw"
wait "$gw"
check "two-worker gateway stops cleanly" test $? -eq 0
check "two workers ran" grep -q 'running: 2 workers' "$WORK/mc.log"
check "each SA received from two senders (one SID per worker)" "$PY" -c "
import json, sys
sas = json.load(open('$WORK/sa.json'))['sas']
sys.exit(not sas or any(s.get('senders_seen') != 2 for s in sas))"
check "msecctl stats shows both workers" grep -qE '^worker 1 +rx [1-9]' "$WORK/stats.txt"
bad=$(grep -oE '^msecgw: drops:.*' "$WORK/mc.log" | tr ' ' '\n' | grep -E '=[1-9]' || true)
check "no drops with two senders on one SA${bad:+ (got $bad)}" test -z "$bad"
drops=$(grep -oE '^msecgw: drops:.*' "$WORK/mc.log" | grep -oE '=[0-9]+' | tr -d = |
	awk '{ s += $1 } END { print s + 0 }')
check "every received packet accounted for: rx == tx + drops" \
	test "$(counter mc rx)" -eq $(( $(counter mc tx) + drops ))
check "traffic flowed in both directions" \
	bash -c "[ $(counter mc protected) -gt 1000 ] && [ $(counter mc unprotected) -gt 1000 ]"
