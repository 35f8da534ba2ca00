#!/bin/bash
# Shared by the tests that run gateways in network namespaces (sourced after lib.sh):
#
#   msec-PID-src          msec-PID-gwe                msec-PID-gwd               msec-PID-dst
#   UDP sender s0 ==veth== e0 [gateway one]   e1 ==veth== d1 [gateway two] d0 ==veth== r0 receiver
#
# Sets NS, PFX, ORACLE, N, SIZES, S, G, PORT (callers may set N and SIZES before), skips the calling
# test when namespaces are unavailable, builds the topology and registers its cleanup. A caller
# with a topology of its own sets NETNS_CUSTOM=1 and NS_LIST (the namespace suffixes it creates,
# cleaned up at exit) before sourcing, and builds it itself.
# Provides nsx, bg_ns, stop_pid, wait_log, start_gw NAME NS IF0 IF1 CONFIG MAIN_LCORE [msecgw
# options...] and traffic PHASE [--expect-none] (AFTER_SEND: a command run right after the
# last datagram is sent).

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
N=${N:-200}
SIZES=${SIZES:-100,1000,1400}
S=192.0.2.10
G=232.1.1.1
PORT=5004
PFX=it-ns-$$
NS_LIST=${NS_LIST:-src gwe gwd dst}

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
	for ns in $NS_LIST; do
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
if [ -z "${NETNS_CUSTOM:-}" ]; then
	if setup >"$WORK/setup.log" 2>&1; then
		ok "namespaces ${NS}{src,gwe,gwd,dst} with veth pairs, offloads off, rp_filter 0 on the receiver"
	else
		not_ok "namespaces and veth pairs set up"
		sed 's/^/# /' "$WORK/setup.log" | tail -n 10
		exit 1
	fi
fi

# start_gw NAME NS IF0 IF1 CONFIG MAIN_LCORE [OPTION...]: msecgw on two af_packet ports, its
# worker on the other lcore (two gateways side by side on two cores); the options go to msecgw
# (default --socket "")
start_gw() {
	local name=$1 ns=$2 if0=$3 if1=$4 conf=$5 main=$6
	shift 6
	[ $# -gt 0 ] || set -- --socket ""
	bg_ns "$ns" "$WORK/$name.log" "$MSECGW" -l 0,1 --main-lcore "$main" --no-huge --no-shconf \
		-m 256 --no-pci --file-prefix "$PFX-$name" --vdev "net_af_packet0,iface=$if0" \
		--vdev "net_af_packet1,iface=$if1" -- -c "$conf" "$@"
	GW_PID=$BG_PID
	if wait_log "$WORK/$name.log" 'msecgw: running' 30 "$GW_PID"; then
		ok "msecgw $name runs on net_af_packet ($if0, $if1) in $NS$ns"
	else
		not_ok "msecgw $name runs on net_af_packet ($if0, $if1) in $NS$ns"
		tail -n 15 "$WORK/$name.log" | sed 's/^/# /'
		return 1
	fi
}

# traffic PHASE [--expect-none]: receiver joins in dst, sender sends N datagrams from src; all
# must arrive intact (or, with --expect-none, none at all)
traffic() {
	local phase=$1 rpid none=${2:-}
	rm -f "$WORK/ready-$phase"
	bg_ns dst "$WORK/recv-$phase.log" "$PY" "${ORACLE[1]}" mcast-recv "$G" "$PORT" "$N" \
		"$WORK/recv-$phase.json" --src "$S" --sizes "$SIZES" --timeout 30 \
		--ready "$WORK/ready-$phase" \
		--done "$WORK/sent-$phase"
	rpid=$BG_PID
	for _ in $(seq 100); do
		[ -f "$WORK/ready-$phase" ] && break
		sleep 0.1
	done
	nsx src "$PY" "${ORACLE[1]}" mcast-send "$G" "$PORT" "$N" --src "$S" --gap 2 --sizes "$SIZES" \
		>"$WORK/send-$phase.log" 2>&1
	# the caller's hook, right after the last datagram left (e.g. delete the SA)
	[ -z "${AFTER_SEND:-}" ] || $AFTER_SEND
	touch "$WORK/sent-$phase"
	if [ "$none" = --expect-none ]; then
		wait "$rpid"
		if grep -q '"received": 0,' "$WORK/recv-$phase.json"; then
			ok "$phase: the Linux receiver got none of the $N datagrams"
		else
			not_ok "$phase: the Linux receiver got none of the $N datagrams"
			sed 's/^/# /' "$WORK/recv-$phase.log"
		fi
		return
	fi
	# exit 0: all N, identical, in order, every one from S
	if wait "$rpid"; then
		ok "$phase: Linux receiver got $N of $N datagrams unchanged, in order, from $S (source preserved)"
	else
		not_ok "$phase: Linux receiver got $N of $N datagrams unchanged, in order, from $S"
		sed 's/^/# /' "$WORK/recv-$phase.log" "$WORK/send-$phase.log"
	fi
}

