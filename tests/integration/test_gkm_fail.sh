#!/bin/bash
# A key-server group before it holds keys (doc/key-management.md §3 item 1): its traffic is
# dropped (counted no_sa) with "fail": "close" and forwarded in the clear with "fail": "open";
# the gateway keeps asking the (absent) key server meanwhile.
# Two net_pcap ports; the key server address is a loopback port nobody listens on.
set -u
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

N=40
"$TOOLS/msec-pki" "$WORK/pki" >/dev/null 2>&1 || { not_ok "demo PKI"; exit 1; }
"$PY" "$TOOLS/gen-traffic.py" -o "$WORK/plain.pcap" --stream 192.0.2.10,232.1.1.1,5004 \
	--sizes 200 --count "$N" >/dev/null || { not_ok "plaintext pcap"; exit 1; }
empty_pcap "$WORK/empty.pcap"

conf() {	# conf FILE FAIL
	cat >"$1" <<EOF
{
	"ports": [
		{ "name": "plain", "device": "net_pcap0", "role": "protected" },
		{ "name": "esp", "device": "net_pcap1", "role": "unprotected" }
	],
	"gkm": {
		"identity": { "key": "pki/gw-1.key", "cert": "pki/gw-1.crt" },
		"trust": { "gcks_ca": "pki/ca.crt", "group_owner_ca": "pki/ca.crt" },
		"listen": { "address": "127.0.0.1", "port": $((30000 + RANDOM % 20000)) }
	},
	"groups": [ {
		"name": "iptv-sports", "address": "232.1.1.1", "source": "192.0.2.10",
		"key_server": { "address": "127.0.0.1", "port": 9, "group_id": "5f2c8a0e91d34b77",
			"sids": 1, "fail": "$2" }
	} ]
}
EOF
}

for fail in close open; do
	conf "$WORK/$fail.json" "$fail"
	run_gw "$fail" "$WORK/$fail.json" "$WORK/plain.pcap" "$WORK/out0-$fail.pcap" \
		"$WORK/empty.pcap" "$WORK/out1-$fail.pcap"
	rc=$?
	check "fail $fail: the gateway starts without its key server and exits 0" test "$rc" -eq 0
	check "fail $fail: it registers (Request to Join sent) and is still registering" \
		grep -q "group iptv-sports: registering" "$WORK/$fail.log"
	out=$(pcap_count "$WORK/out1-$fail.pcap")
	if [ "$fail" = close ]; then
		check "fail close: none of the $N datagrams leaves the unprotected port ($out)" \
			test "$out" -eq 0
		check "fail close: all $N counted no_sa" test "$(counter close no_sa)" -eq "$N"
	else
		check "fail open: all $N datagrams leave the unprotected port in the clear ($out)" \
			test "$out" -eq "$N"
		check "fail open: the clear copies are the datagrams sent (UDP, not ESP)" "$PY" -c "
from scapy.all import rdpcap, UDP
p = rdpcap('$WORK/out1-open.pcap')
assert all(UDP in f and f[UDP].dport == 5004 for f in p), p"
	fi
done
