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
NS=msec-$$-
if ! ip netns add "${NS}probe" 2>"$WORK/netns.err"; then
	echo "ok - # SKIP network namespaces unavailable: $(head -n 1 "$WORK/netns.err")"
	exit 0
fi
ip netns del "${NS}probe"
for t in tshark ethtool; do
	if ! command -v "$t" >/dev/null; then
		not_ok "$t is installed"
		exit 1
	fi
done

ORACLE=("$PY" "$MSEC_ROOT/tests/integration/esp_oracle.py")
N=200
S=192.0.2.10
G=232.1.1.1
PORT=5004
PFX=it-ns-$$

nsx() {	# nsx NS command...: run in one of our namespaces
	local ns=$1
	shift
	ip netns exec "$NS$ns" "$@"
}

# Background processes, stopped with SIGTERM (the gateways print their counters and flush), then
# KILL. Not SIGINT: a non-interactive shell starts background commands with SIGINT ignored, and
# only programs that install their own handler get it back. They are started by bg_ns, not in a
# backgrounded function, so that $! is the process itself (ip netns exec execs it), not a
# subshell that would pass no signal on.
BG=()
bg_ns() {	# bg_ns NS LOG command...: sets BG_PID
	local ns=$1 log=$2
	shift 2
	ip netns exec "$NS$ns" "$@" >"$log" 2>&1 &
	BG_PID=$!
	BG+=("$BG_PID")
}
stop_pid() {	# stop_pid PID: returns the process's exit status
	local pid=$1
	[ -n "$pid" ] || return 0
	if kill -TERM "$pid" 2>/dev/null; then
		for _ in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
}
cleanup() {
	local ns pid
	for pid in "${BG[@]}"; do stop_pid "$pid"; done
	# anything still living in our namespaces was started by this script
	for ns in src gwe gwd dst; do
		for pid in $(ip netns pids "$NS$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
		ip netns del "$NS$ns" 2>/dev/null
	done
	rm -rf /var/run/dpdk/"$PFX"-*
}
on_exit cleanup

# wait_log FILE PATTERN SECONDS PID: until FILE matches, or PID died, or the time is up
wait_log() {
	for _ in $(seq $(($3 * 10))); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		kill -0 "$4" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# --- topology --------------------------------------------------------------------------------
setup() {
	local ns x i
	for ns in src gwe gwd dst; do
		ip netns add "$NS$ns" || return 1
		nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 || return 1
		ip -n "$NS$ns" link set lo up || return 1
	done
	ip link add s0 netns "${NS}src" type veth peer name e0 netns "${NS}gwe" || return 1
	ip link add e1 netns "${NS}gwe" type veth peer name d1 netns "${NS}gwd" || return 1
	ip link add d0 netns "${NS}gwd" type veth peer name r0 netns "${NS}dst" || return 1
	for x in src:s0 gwe:e0 gwe:e1 gwd:d1 gwd:d0 dst:r0; do
		ns=${x%%:*}
		i=${x#*:}
		ip -n "$NS$ns" link set "$i" up || return 1
		nsx "$ns" ethtool -K "$i" tx off rx off gso off tso off gro off >/dev/null 2>&1 ||
			return 1
	done
	ip -n "${NS}src" addr add "$S/24" dev s0 || return 1
	ip -n "${NS}src" route add 224.0.0.0/4 dev s0 || return 1
	ip -n "${NS}dst" addr add 198.51.100.20/24 dev r0 || return 1
	ip -n "${NS}dst" route add 224.0.0.0/4 dev r0 || return 1
	nsx dst sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.ipv4.conf.r0.rp_filter=0 || return 1
}
if setup >"$WORK/setup.log" 2>&1; then
	ok "namespaces ${NS}{src,gwe,gwd,dst} with veth pairs, offloads off, rp_filter 0 on the receiver"
else
	not_ok "namespaces and veth pairs set up"
	sed 's/^/# /' "$WORK/setup.log" | tail -n 10
	exit 1
fi

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

# start_gw NAME NS IF0 IF1 CONFIG MAIN_LCORE: msecgw on two af_packet ports, its worker on the
# other lcore (two gateways side by side on two cores)
start_gw() {
	local name=$1 ns=$2 if0=$3 if1=$4 conf=$5 main=$6
	bg_ns "$ns" "$WORK/$name.log" "$MSECGW" -l 0,1 --main-lcore "$main" --no-huge --no-shconf \
		-m 256 --no-pci --file-prefix "$PFX-$name" --vdev "net_af_packet0,iface=$if0" \
		--vdev "net_af_packet1,iface=$if1" -- -c "$conf" --socket ""
	GW_PID=$BG_PID
	if wait_log "$WORK/$name.log" 'msecgw: running' 30 "$GW_PID"; then
		ok "msecgw $name runs on net_af_packet ($if0, $if1) in $NS$ns"
	else
		not_ok "msecgw $name runs on net_af_packet ($if0, $if1) in $NS$ns"
		tail -n 15 "$WORK/$name.log" | sed 's/^/# /'
		return 1
	fi
}

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

# traffic PHASE: receiver joins in dst, sender sends N datagrams from src; all must arrive intact
traffic() {
	local phase=$1 rpid
	rm -f "$WORK/ready-$phase"
	bg_ns dst "$WORK/recv-$phase.log" "$PY" "${ORACLE[1]}" mcast-recv "$G" "$PORT" "$N" \
		"$WORK/recv-$phase.json" --src "$S" --timeout 30 --ready "$WORK/ready-$phase" \
		--done "$WORK/sent-$phase"
	rpid=$BG_PID
	for _ in $(seq 100); do
		[ -f "$WORK/ready-$phase" ] && break
		sleep 0.1
	done
	nsx src "$PY" "${ORACLE[1]}" mcast-send "$G" "$PORT" "$N" --src "$S" --gap 2 \
		>"$WORK/send-$phase.log" 2>&1
	touch "$WORK/sent-$phase"
	# exit 0: all N, identical, in order, every one from S
	if wait "$rpid"; then
		ok "$phase: Linux receiver got $N of $N datagrams unchanged, in order, from $S (source preserved)"
	else
		not_ok "$phase: Linux receiver got $N of $N datagrams unchanged, in order, from $S"
		sed 's/^/# /' "$WORK/recv-$phase.log" "$WORK/send-$phase.log"
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
