#!/bin/bash
# Make-before-break rekey under full traffic, driven through the control socket (msecctl), with
# the workers running: zero packets lost, zero drops.
#
# One gateway loops its own group ESP back to itself: the protected port replays a plaintext
# capture forever (net_pcap infinite_rx), the unprotected port is a net_ring whose TX ring is its
# own RX ring. Every packet is encrypted with the group's current sender SA, comes back and is
# decrypted, so an SA that vanished too early or a sender that switched too soon shows up as
# no_sa / auth_fail drops. At the end: decrypted == encrypted - (ESP still in the ring).
# Also exercises: msecctl ping/stats/groups/sa list/add/replace/delete, telemetry, SIGTERM.
set -u
. "$(dirname "$0")/lib.sh"
[ -x "$MSECGW" ] || { not_ok "msecgw binary missing"; exit 1; }

sock=$WORK/ctl.sock
prefix=it-rekey-$$
key1=000102030405060708090a0b0c0d0e0f10111213
key2=f0e0d0c0b0a09080706050403020100f1f2e3d4c
key4=4444444444444444444444444444444444444444
key6=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff01020304

cat >"$WORK/loop.json" <<EOF
{
	"ports": [
		{ "name": "plain", "device": "net_pcap0", "role": "protected" },
		{ "name": "wire", "device": "net_ring0", "role": "unprotected" }
	],
	"control": { "socket": "$sock" },
	"groups": [
		{ "name": "tv1", "address": "232.1.1.1", "source": "192.0.2.10",
		  "sas": [ { "spi": "0x1001", "direction": "symmetric", "suite": "aes-gcm-128",
			     "key": "$key1", "sid_bits": 8, "sids": [1] } ] },
		{ "name": "grp4", "address": "239.1.1.1",
		  "sas": [ { "spi": "0x2001", "direction": "symmetric", "suite": "aes-gcm-128",
			     "key": "$key4", "sid_bits": 12, "sids": [7] } ] },
		{ "name": "grp6", "address": "ff3e::1:1", "source": "2001:db8::10",
		  "sas": [ { "spi": "0x3001", "direction": "symmetric", "suite": "aes-gcm-256",
			     "key": "$key6", "sid_bits": 16, "sids": [513] } ] }
	]
}
EOF
cat >"$WORK/next.json" <<EOF
{ "group": "tv1", "spi": "0x1002", "direction": "symmetric", "suite": "aes-gcm-128",
  "key": "$key2", "sid_bits": 8, "sids": [1], "replaces": "0x1001",
  "activation_delay_ms": 300, "deactivation_delay_ms": 2500 }
EOF
# a replace of the IPv6 SA that keeps its keys but adds a lifetime: counters carry over
cat >"$WORK/replace6.json" <<EOF
{ "group": "grp6", "spi": "0x3001", "direction": "symmetric", "suite": "aes-gcm-256",
  "key": "$key6", "sid_bits": 16, "sids": [513],
  "lifetime": { "soft_seconds": 3000, "hard_seconds": 3600 } }
EOF
cat >"$WORK/bad.json" <<EOF
{ "group": "tv1", "spi": "0x1003", "direction": "symmetric", "suite": "aes-gcm-128",
  "key": "0011", "sid_bits": 8, "sids": [1] }
EOF

"$PY" "$TOOLS/gen-traffic.py" -o "$WORK/plain.pcap" --count 20 >/dev/null

# shellcheck disable=SC2086
"$MSECGW" -l 0,1 $EAL_BASE --file-prefix "$prefix" \
	--vdev "net_pcap0,rx_pcap=$WORK/plain.pcap,infinite_rx=1,tx_pcap=/dev/null" \
	--vdev net_ring0 -- -c "$WORK/loop.json" >"$WORK/gw.log" 2>&1 &
gw=$!
on_exit "kill -9 $gw 2>/dev/null"

for _ in $(seq 100); do
	[ -S "$sock" ] && "$MSECCTL" -s "$sock" ping >/dev/null 2>&1 && break
	sleep 0.1
done
check "gateway answers on its control socket" "$MSECCTL" -s "$sock" ping
ctl() { "$MSECCTL" -s "$sock" "$@"; }

sleep 1
ctl stats >"$WORK/stats1.txt" 2>&1
check "msecctl stats shows traffic flowing" grep -qE 'protected [1-9]' "$WORK/stats1.txt"
ctl groups >"$WORK/groups.txt" 2>&1
check "msecctl groups lists the three groups" \
	bash -c "grep -q tv1 '$WORK/groups.txt' && grep -q grp6 '$WORK/groups.txt' && grep -q 'ff3e::1:1' '$WORK/groups.txt'"

# telemetry: the same counters under /msecgw/
if command -v dpdk-telemetry.py >/dev/null; then
	tel=$(echo "/msecgw/drops" | timeout 10 dpdk-telemetry.py -f "$prefix" 2>&1)
	check "telemetry /msecgw/drops answers with every reason" \
		bash -c "echo '$tel' | grep -q auth_fail && echo '$tel' | grep -q tx_full"
	tel=$(echo "/msecgw/sa/stats,0x1001,tv1" | timeout 10 dpdk-telemetry.py -f "$prefix" 2>&1)
	check "telemetry /msecgw/sa/stats shows per-SA counters, no key" \
		bash -c "echo '$tel' | grep -q out_packets && ! echo '$tel' | grep -qi '$key1'"
fi

check "msecctl refuses a bad SA file with the JSON path" \
	bash -c "! '$MSECCTL' -s '$sock' sa add '$WORK/bad.json' 2>'$WORK/bad.err' && grep -q 'key' '$WORK/bad.err'"
check "msecctl sa add: next SA of tv1 (make-before-break)" ctl sa add "$WORK/next.json"
ctl sa list >"$WORK/list1.txt" 2>&1
check "both SAs of tv1 live during the rollover" \
	bash -c "grep -q 0x00001001 '$WORK/list1.txt' && grep -q 0x00001002 '$WORK/list1.txt'"
check "msecctl sa replace keeps the IPv6 SA running" ctl sa replace "$WORK/replace6.json"
sleep 3.5
ctl sa list >"$WORK/list2.txt" 2>&1
check "old SA of tv1 gone after the deactivation delay" \
	bash -c "! grep -q 0x00001001 '$WORK/list2.txt' && grep -q 0x00001002 '$WORK/list2.txt'"
check "new SA of tv1 carries traffic" \
	bash -c "grep 0x00001002 '$WORK/list2.txt' | awk '{ exit !(\$7 > 0 && \$8 > 0) }'"
check "no key material in msecctl output" \
	bash -c "! grep -qiE '$key1|$key2|$key6' '$WORK/list1.txt' '$WORK/list2.txt' '$WORK/stats1.txt'"
check "msecctl sa delete removes an SA" ctl sa delete grp4 0x2001
check "msecctl sa delete of a missing SA is refused" bash -c "! '$MSECCTL' -s '$sock' sa delete grp4 0x2001 2>/dev/null"
sleep 0.5

kill -TERM "$gw"
wait "$gw"
rc=$?
check "SIGTERM stops the gateway cleanly (exit 0, got $rc)" test "$rc" -eq 0
check "shutdown is logged" grep -q 'signal received: stopping' "$WORK/gw.log"

cp "$WORK/gw.log" "$WORK/final.log"
bad=""
prot=$(counter final protected)
unprot=$(counter final unprotected)
ring_out=$(grep -oE 'port wire ipackets [0-9]+ opackets [0-9]+' "$WORK/gw.log" | awk '{print $6}')
ring_in=$(grep -oE 'port wire ipackets [0-9]+ opackets [0-9]+' "$WORK/gw.log" | awk '{print $4}')
left=$(( ${ring_out:-0} - ${ring_in:-0} ))
# grp4 lost its SA on purpose: its plaintext is then refused as no_sa on the sending side
nosa=$(counter final no_sa)
echo "# protected $prot unprotected $unprot in ring $left no_sa(after delete) $nosa"
check "traffic ran through the rekey (over 10000 packets)" test "${prot:-0}" -gt 10000
check "zero packets lost across the rekey: decrypted == encrypted - in flight" \
	test "$unprot" -eq $(( prot - left ))
for r in auth_fail replay malformed bad_pad bad_next_header addr_mismatch senders_full \
		sa_expired seq_exhausted mtu_exceeded no_room tx_full; do
	v=$(counter final "$r")
	[ "$v" -eq 0 ] || bad="$bad $r=$v"
done
check "no drop other than the deliberate deletion${bad:+ (got$bad)}" test -z "${bad:-}"
drops=$(grep -oE '^msecgw: drops:.*' "$WORK/final.log" | grep -oE '=[0-9]+' | tr -d = |
	awk '{ s += $1 } END { print s + 0 }')
check "every received packet accounted for: rx == tx + drops" \
	test "$(counter final rx)" -eq $(( $(counter final tx) + drops ))
