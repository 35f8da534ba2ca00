#!/bin/bash
# The malformed-input table at the gateway: every packet of tests/integration/craft_bad.py goes
# through a running msecgw and must land in exactly the counter the table names (a named drop
# reason, "unprotected" for delivered packets, "protected" or "bypassed"), with no crash.
set -u
. "$(dirname "$0")/lib.sh"
[ -x "$MSECGW" ] || { not_ok "msecgw binary missing"; exit 1; }

cat >"$WORK/gw.json" <<EOF2
{
	"ports": [
		{ "name": "plain", "device": "net_pcap0", "role": "protected", "default": "discard" },
		{ "name": "wire", "device": "net_pcap1", "role": "unprotected", "default": "discard",
		  "mtu": 1500 }
	],
	"max_senders": 2,
	"groups": [
		{ "name": "tv1", "address": "232.1.1.1", "source": "192.0.2.10",
		  "sas": [ { "spi": "0x1001", "direction": "symmetric", "suite": "aes-gcm-128",
			     "key": "000102030405060708090a0b0c0d0e0f10111213", "sid_bits": 8,
			     "sids": [9], "replay_window": 64 } ] },
		{ "name": "tv6", "address": "ff3e::1:1", "source": "2001:db8::10",
		  "sas": [ { "spi": "0x3001", "direction": "receiver", "suite": "aes-gcm-256",
			     "key": "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff01020304",
			     "sid_bits": 16 } ] }
	],
	"policies": [
		{ "group": "239.9.9.9", "action": "discard" },
		{ "group": "239.8.8.8", "action": "bypass" }
	]
}
EOF2

"$PY" "$MSEC_ROOT/tests/integration/craft_bad.py" "$WORK" || { not_ok "craft_bad.py"; exit 1; }
run_gw bad "$WORK/gw.json" "$WORK/prot.pcap" "$WORK/prot-out.pcap" "$WORK/unprot.pcap" \
	"$WORK/unprot-out.pcap"
rc=$?
check "gateway survives the malformed table and exits 0" test "$rc" -eq 0
grep -E '^msecgw: (rx|drops)' "$WORK/bad.log" | sed 's/^/# /'

declare -A want
while read -r name n; do
	[ "$name" = delivered ] && name=unprotected
	want[$name]=$n
done <"$WORK/expect.txt"
# every drop reason the gateway knows, plus the traffic counters
reasons=$(grep -oE '^msecgw: drops:.*' "$WORK/bad.log" | tr ' ' '\n' | grep '=' | cut -d= -f1)
for r in $reasons protected unprotected bypassed; do
	got=$(counter bad "$r")
	exp=${want[$r]:-0}
	check "counter $r = $exp" test "$got" -eq "$exp"
done
total=$(( $(pcap_count "$WORK/prot.pcap") + $(pcap_count "$WORK/unprot.pcap") ))
check "every frame received ($total)" test "$(counter bad rx)" -eq "$total"
check "every decrypted packet left on the protected port" \
	test "$(pcap_count "$WORK/prot-out.pcap")" -eq "${want[unprotected]}"

# TX congestion: two protected ports replaying plaintext forever feed one unprotected net_ring
# that loops back into the gateway. The ring fills faster than one worker drains it, so packets
# the ring refuses must be counted as tx_full, and every received packet must be accounted for:
# rx + (ESP still in the ring) == tx + all drops.
"$PY" "$TOOLS/gen-traffic.py" -o "$WORK/a.pcap" --count 10 \
	--stream 192.0.2.10,232.1.1.1,5004 >/dev/null
"$PY" "$TOOLS/gen-traffic.py" -o "$WORK/b.pcap" --count 10 \
	--stream 192.0.2.30,232.3.3.3,5004 >/dev/null
cat >"$WORK/congest.json" <<EOF2
{
	"ports": [
		{ "name": "a", "device": "net_pcap0", "role": "protected" },
		{ "name": "b", "device": "net_pcap1", "role": "protected" },
		{ "name": "wire", "device": "net_ring0", "role": "unprotected" }
	],
	"groups": [
		{ "name": "ga", "address": "232.1.1.1", "source": "192.0.2.10", "protected_port": "a",
		  "sas": [ { "spi": "0x1001", "direction": "symmetric", "suite": "aes-gcm-128",
			     "key": "000102030405060708090a0b0c0d0e0f10111213", "sids": [1] } ] },
		{ "name": "gb", "address": "232.3.3.3", "source": "192.0.2.30", "protected_port": "b",
		  "sas": [ { "spi": "0x1002", "direction": "symmetric", "suite": "aes-gcm-128",
			     "key": "101112131415161718191a1b1c1d1e1f20212223", "sids": [1] } ] }
	]
}
EOF2
# shellcheck disable=SC2086
"$MSECGW" -l 0,1 $EAL_BASE --file-prefix "it-congest-$$" \
	--vdev "net_pcap0,rx_pcap=$WORK/a.pcap,infinite_rx=1,tx_pcap=/dev/null" \
	--vdev "net_pcap1,rx_pcap=$WORK/b.pcap,infinite_rx=1,tx_pcap=/dev/null" \
	--vdev net_ring0 -- -c "$WORK/congest.json" --socket "" >"$WORK/congest.log" 2>&1 &
gwpid=$!
on_exit "kill -9 $gwpid 2>/dev/null"
sleep 3
kill -INT "$gwpid"
wait "$gwpid"
check "congested gateway stops cleanly on SIGINT" test $? -eq 0
txfull=$(counter congest tx_full)
check "TX congestion counted as tx_full ($txfull)" test "$txfull" -gt 0
drops=$(grep -oE '^msecgw: drops:.*' "$WORK/congest.log" | grep -oE '=[0-9]+' | tr -d = |
	awk '{ s += $1 } END { print s + 0 }')
rx=$(counter congest rx)
tx=$(counter congest tx)
echo "# rx $rx tx $tx drops $drops"
check "every received packet accounted for: rx == tx + drops" test "$rx" -eq $((tx + drops))
