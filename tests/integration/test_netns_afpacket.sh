#!/bin/bash
# msecgw on real veth pairs in network namespaces, through net_af_packet, between Linux sockets:
#
#   msec-PID-src          msec-PID-gwe                msec-PID-gwd               msec-PID-dst
#   UDP sender s0 ==veth== e0 [msecgw encrypt] e1 ==veth== d1 [decrypt] d0 ==veth== r0 receiver
#
# The sender is a plain Linux UDP socket (IP_MULTICAST_IF, TTL 16, route 224.0.0.0/4 on s0) sending
# to an SSM channel; the receiver a Linux socket joined with IP_ADD_SOURCE_MEMBERSHIP (rp_filter 0:
# the source is not on its subnet, address preservation keeps it). The decrypting gateway is
# msecgw first, then DPDK's ipsec-secgw (legacy path) fed by the same, still running, msecgw.
# Each phase sends 200 datagrams (100, 1000 and 1400 bytes, paced) and the receiver must get all
# of them unchanged and in order; tshark captures the ESP on the middle veth (on d1, the receiving
# end: af_packet transmits with PACKET_QDISC_BYPASS, which capture on e1 would not see) and
# must report esp.icv_good on every frame. Offloads are off on every veth: with TX checksum
# offload the sending kernel leaves the UDP checksum to the "hardware", af_packet hands the frame
# over as it is, and the gateway would protect a packet with a wrong checksum (and GRO/GSO would
# hand it frames above the MTU). Each gateway gets its own namespace: net_af_packet derives its
# PACKET_FANOUT group id from pid ^ ifindex, which collides between two DPDK processes started
# one after the other in one namespace ("could not set PACKET_FANOUT ... Invalid argument").
set -u
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

if [ ! -x "$MSECGW" ]; then
	not_ok "msecgw binary missing ($MSECGW)"
	exit 1
fi
# shellcheck source=tests/integration/netns_lib.sh
. "$(dirname "$0")/netns_lib.sh"

cat >"$WORK/spec.json" <<EOF
[{"name": "channel", "source": "$S", "group": "$G", "dport": $PORT, "spi": 16385,
  "suite": "aes-gcm-128", "key": "e3b0c44298fc1c149afbf4c8996fb92400c0ffee", "sid_bits": 8,
  "sid": 0, "esn": false}]
EOF
"${ORACLE[@]}" mkconf "$WORK/spec.json" "$WORK/enc.json" --dir sender \
	--dev0 net_af_packet0 --dev1 net_af_packet1
"${ORACLE[@]}" mkconf "$WORK/spec.json" "$WORK/dec.json" --dir receiver \
	--dev0 net_af_packet0 --dev1 net_af_packet1
"${ORACLE[@]}" secgw-cfg "$WORK/secgw.cfg" --inbound "$WORK/spec.json"

# gw_stop NAME PID FIELD COUNT: SIGTERM, exit 0, FIELD == COUNT, every drop counter 0
gw_stop() {
	local name=$1 pid=$2 field=$3 want=$4 rc got drops
	stop_pid "$pid"
	rc=$?
	got=$(counter "$name" "$field")
	drops=$(grep -E '^msecgw: drops:' "$WORK/$name.log" | grep -oE '=[0-9]+' | tr -d = |
		awk '{s += $1} END {print s + 0}')
	if [ "$rc" -eq 0 ] && [ "$got" -eq "$want" ] && [ "$drops" -eq 0 ]; then
		ok "msecgw $name: exit 0 on SIGTERM, $field $got of $want, no drops"
	else
		not_ok "msecgw $name: exit 0 on SIGTERM, $field $got of $want, no drops (exit $rc, drops $drops)"
		grep -E '^msecgw|ERROR|Sanitizer|runtime error' "$WORK/$name.log" | tail -n 15 |
			sed 's/^/# /'
	fi
}

# --- phase 1: msecgw -> msecgw, ESP captured on the middle veth -------------------------------
start_gw enc gwe e0 e1 "$WORK/enc.json" 0 || exit 1
ENC_PID=$GW_PID
start_gw dec gwd d0 d1 "$WORK/dec.json" 1 || exit 1
DEC_PID=$GW_PID

bg_ns gwd "$WORK/tshark.log" tshark -n -i d1 -f "ip proto 50" -w "$WORK/mid.pcap" -F pcap
TSHARK_PID=$BG_PID
if ! wait_log "$WORK/tshark.log" 'Capturing on' 15 "$TSHARK_PID"; then
	not_ok "tshark captures on d1"
	sed 's/^/# /' "$WORK/tshark.log"
fi

traffic "msecgw -> msecgw"
sleep 0.3
stop_pid "$TSHARK_PID"
"${ORACLE[@]}" tshark-check "$WORK/spec.json" "$WORK/mid.pcap" --count "$N" \
	--label "tshark on the middle veth"
gw_stop dec "$DEC_PID" unprotected "$N"

# --- phase 2: the same msecgw -> ipsec-secgw (legacy path) ------------------------------------
if SECGW=$(MSEC_BUILD=$MSEC_BUILD "$TOOLS/build-secgw.sh" 2>"$WORK/build-secgw.err"); then
	# one lcore, 0: the core the stopped msecgw decryptor's worker had (the encryptor's is 1)
	bg_ns gwd "$WORK/secgw.log" "$SECGW" -l 0 --no-huge --no-shconf --no-pci -m 1024 \
		--file-prefix "$PFX-secgw" --vdev net_af_packet0,iface=d0 \
		--vdev net_af_packet1,iface=d1 --vdev crypto_aesni_gcm0 \
		-- -p 0x3 -u 0x2 -P --config "(0,0,0),(1,0,0)" -f "$WORK/secgw.cfg"
	SECGW_PID=$BG_PID
	if wait_log "$WORK/secgw.log" 'entering main loop' 30 "$SECGW_PID"; then
		ok "ipsec-secgw runs on net_af_packet (d0, d1) in ${NS}gwd"
		traffic "msecgw -> ipsec-secgw"
	else
		not_ok "ipsec-secgw runs on net_af_packet (d0, d1) in ${NS}gwd"
		grep -vE '^\s' "$WORK/secgw.log" | tail -n 15 | sed 's/^/# /'
	fi
	stop_pid "$SECGW_PID"
	gw_stop enc "$ENC_PID" protected $((N * 2))
else
	not_ok "ipsec-secgw builds (tools/build-secgw.sh)"
	sed 's/^/# /' "$WORK/build-secgw.err" | tail -n 10
	gw_stop enc "$ENC_PID" protected "$N"
fi
