#!/bin/bash
# Group key management end to end (doc/key-management.md), real processes in network namespaces:
#
#   src: UDP sender s0 ==veth== e0 [msecgw gw-1, sender]  e1 ==+
#                                                              |  core: bridge bd0 (data, ESP)
#   dsta: receiver r0a ==veth== d0a [msecgw gw-2] d1a =========+
#   dstb: receiver r0b ==veth== d0b [msecgw gw-3] d1b =========+
#
#   ks: msec-gcks k0 (10.0.0.1) ==+ core: bridge bm0 (GSAKMP: 10.0.0.0/24, rekeys to 239.192.0.1)
#   gwe m1 (10.0.0.2), gwa m2 (10.0.0.3), gwb m3 (10.0.0.4) ==+
#
# The gateways hold no keys in their configuration: each registers with the key server (the
# demo policy token: AES-GCM-256, ESN, SIDs, LKH degree 4), gw-1 as a sender. Phases:
#   1. plaintext multicast from src reaches the Linux sockets in dsta and dstb (one sender,
#      two receivers, all datagrams, in order, source preserved);
#   2. a rekey under traffic (msecctl gcks rekey): no datagram lost at either receiver, and
#      every gateway ends on the new epoch;
#   3. gw-3 evicted: the next epoch reaches gw-1 and gw-2 only; dsta still gets everything,
#      dstb nothing;
#   4. the key server killed (-9) and restarted in the middle of traffic: nothing lost; it
#      comes back with its members and epochs, and a rekey after the restart reaches them.
set -u
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

GCKS=${MSEC_GCKS:-$MSEC_BUILD/app/msec-gcks/msec-gcks}
TOKEN=${MSEC_TOKEN:-$MSEC_BUILD/tools/msec-token}
for b in "$MSECGW" "$GCKS" "$TOKEN" "$MSECCTL"; do
	if [ ! -x "$b" ]; then
		not_ok "built: $b"
		exit 1
	fi
done
NETNS_CUSTOM=1
NS_LIST="src gwe gwa gwb dsta dstb core ks"
N=${N:-150}
SIZES=${SIZES:-100,1000,1400}
# shellcheck source=tests/integration/netns_lib.sh
. "$(dirname "$0")/netns_lib.sh"

# --- topology --------------------------------------------------------------------------------
veth() {	# veth NS1 IF1 NS2 IF2: a pair, up, offloads off (see test_netns_afpacket.sh)
	ip link add "$2" netns "$NS$1" type veth peer name "$4" netns "$NS$3" || return 1
	for x in "$1:$2" "$3:$4"; do
		ip -n "$NS${x%%:*}" link set "${x#*:}" up || return 1
		nsx "${x%%:*}" ethtool -K "${x#*:}" tx off rx off gso off tso off gro off \
			>/dev/null 2>&1 || return 1
	done
}
topology() {
	local ns
	for ns in $NS_LIST; do
		ip netns add "$NS$ns" || return 1
		nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 || return 1
		ip -n "$NS$ns" link set lo up || return 1
	done
	for br in bd0 bm0; do
		ip -n "${NS}core" link add "$br" type bridge mcast_snooping 0 || return 1
		ip -n "${NS}core" link set "$br" up || return 1
	done
	veth src s0 gwe e0 || return 1
	veth gwe e1 core c1 && veth gwa d1a core c2 && veth gwb d1b core c3 || return 1
	veth gwa d0a dsta r0a && veth gwb d0b dstb r0b || return 1
	for c in c1 c2 c3; do ip -n "${NS}core" link set "$c" master bd0 || return 1; done
	veth ks k0 core cm0 && veth gwe m1 core cm1 && veth gwa m2 core cm2 &&
		veth gwb m3 core cm3 || return 1
	for c in cm0 cm1 cm2 cm3; do ip -n "${NS}core" link set "$c" master bm0 || return 1; done
	for x in ks:k0:1 gwe:m1:2 gwa:m2:3 gwb:m3:4; do
		IFS=: read -r ns i n <<<"$x"
		ip -n "$NS$ns" addr add "10.0.0.$n/24" dev "$i" || return 1
		ip -n "$NS$ns" route add 224.0.0.0/4 dev "$i" || return 1
	done
	ip -n "${NS}src" addr add "$S/24" dev s0 || return 1
	ip -n "${NS}src" route add 224.0.0.0/4 dev s0 || return 1
	for x in dsta:r0a dstb:r0b; do
		ns=${x%%:*}
		ip -n "$NS$ns" addr add 198.51.100.20/24 dev "${x#*:}" || return 1
		ip -n "$NS$ns" route add 224.0.0.0/4 dev "${x#*:}" || return 1
		nsx "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
			net.ipv4.conf.default.rp_filter=0 || return 1
	done
}
if topology >"$WORK/setup.log" 2>&1; then
	ok "8 namespaces: sender, three gateways, two receivers, a key server, two bridges"
else
	not_ok "namespaces, veth pairs and bridges set up"
	sed 's/^/# /' "$WORK/setup.log" | tail -n 10
	exit 1
fi

# --- PKI, token, key server ------------------------------------------------------------------
"$TOOLS/msec-pki" "$WORK/pki" >/dev/null 2>&1 || { not_ok "demo PKI"; exit 1; }
check "policy token (demo policy: AES-GCM-256, LKH degree 4)" "$TOKEN" build \
	-p "$MSEC_ROOT/config/policy/demo-policy.json" -k "$WORK/pki/go.key" -c "$WORK/pki/go.crt" \
	-o "$WORK/tok.der"
cat >"$WORK/gcks.json" <<EOF
{
	"identity": { "key": "pki/gcks-1.key", "cert": "pki/gcks-1.crt" },
	"trust": { "members_ca": "pki/ca.crt", "group_owner_ca": "pki/ca.crt" },
	"listen": { "address": "10.0.0.1", "port": 3761 },
	"state": "state.db",
	"control_socket": "gcks.sock",
	"groups": [ { "token": "tok.der", "max_members": 256, "batch_ms": 50,
		"rekey": { "transport": "both", "address": "239.192.0.1", "resend_interval_ms": 100 } } ]
}
EOF
KS_PID=
start_ks() {
	bg_ns ks "$WORK/gcks.log" "$GCKS" -c "$WORK/gcks.json" -v
	KS_PID=$BG_PID
	wait_log "$WORK/gcks.log" 'serving 1 group' 10 "$KS_PID"
}
gcks() { "$MSECCTL" -s "$WORK/gcks.sock" "$@"; }
check "msec-gcks serves the group" start_ks

# --- gateways: keys from the key server only ---------------------------------------------------
gwconf() {	# gwconf NAME MGMT-IP SIDS: a member gateway's configuration
	cat >"$WORK/$1.json" <<EOF
{
	"control": { "socket": "$WORK/$1.sock" },
	"ports": [
		{ "name": "plain", "device": "net_af_packet0", "role": "protected" },
		{ "name": "esp", "device": "net_af_packet1", "role": "unprotected", "default": "discard" }
	],
	"gkm": {
		"identity": { "key": "pki/$1.key", "cert": "pki/$1.crt" },
		"trust": { "gcks_ca": "pki/ca.crt", "group_owner_ca": "pki/ca.crt" },
		"listen": { "address": "0.0.0.0", "port": 3761 },
		"interface": "$2"
	},
	"groups": [ {
		"name": "iptv-sports", "address": "$G", "source": "$S",
		"protected_port": "plain", "unprotected_port": "esp",
		"key_server": { "address": "10.0.0.1", "group_id": "5f2c8a0e91d34b77",
			"rekey_address": "239.192.0.1", "sids": $3, "fail": "close" }
	} ],
	"policies": [ { "group": "$G", "source": "$S", "action": "protect",
		"protect_group": "iptv-sports" } ]
}
EOF
}
gwconf gw-1 10.0.0.2 1
gwconf gw-2 10.0.0.3 0
gwconf gw-3 10.0.0.4 0
start_gw gw-1 gwe e0 e1 "$WORK/gw-1.json" 0 --socket "$WORK/gw-1.sock" || exit 1
P1=$GW_PID
start_gw gw-2 gwa d0a d1a "$WORK/gw-2.json" 1 --socket "$WORK/gw-2.sock" || exit 1
P2=$GW_PID
start_gw gw-3 gwb d0b d1b "$WORK/gw-3.json" 0 --socket "$WORK/gw-3.sock" || exit 1
P3=$GW_PID

gkm_json() { "$MSECCTL" -s "$WORK/$1.sock" -j gkm; }
# member_state GW: "STATE EPOCH" of the group's newest epoch
member_state() {
	gkm_json "$1" 2>/dev/null | "$PY" -c "
import json,sys; g=json.load(sys.stdin)['groups'][0]
print(g['state'], max([e['epoch'] for e in g['epochs']] or [0]))"
}
ks_epoch() {
	gcks -j gcks group iptv-sports 2>/dev/null | "$PY" -c "
import json,sys; print(json.load(sys.stdin)['group']['data_sas'][0]['epoch'])"
}
# wait_members GW...: every GW a member holding the key server's current epoch (the demo token
# rekeys at every membership change, "events": 1, so joins move the epoch too)
wait_members() {
	local want gw st
	for _ in $(seq 150); do
		want=$(ks_epoch)
		st=ok
		for gw in "$@"; do
			[ "$(member_state "$gw")" = "member $want" ] || st=no
		done
		[ "$st" = ok ] && return 0
		sleep 0.1
	done
	for gw in "$@"; do echo "# $gw: $(member_state "$gw")"; done
	return 1
}
if wait_members gw-1 gw-2 gw-3; then
	ok "three gateways registered and hold the current epoch; no key in their configuration"
else
	not_ok "three gateways registered"
	tail -n 20 "$WORK/gcks.log" "$WORK/gw-1.log" | sed 's/^/# /'
fi
gcks -j gcks members iptv-sports >"$WORK/members.json"
check "the key server lists 3 active members, gw-1 a sender with one SID" "$PY" -c "
import json; m=json.load(open('$WORK/members.json'))['members']
s={x['subject'].split(',')[0]: x for x in m}
assert len(m)==3 and all(x['state']=='active' for x in m), m
assert s['CN=gw-1']['role']=='sender' and len(s['CN=gw-1']['sids'])==1, s"

# --- traffic: one sender, two receivers at once -------------------------------------------------
# traffic2 PHASE WANT_A WANT_B: receivers in dsta and dstb; WANT is "all" or "none"
traffic2() {
	local phase=$1 want_a=$2 want_b=$3 pa pb x
	rm -f "$WORK"/ready-"$phase"-*
	for x in a b; do
		bg_ns "dst$x" "$WORK/recv-$phase-$x.log" "$PY" "${ORACLE[1]}" mcast-recv "$G" "$PORT" \
			"$N" "$WORK/recv-$phase-$x.json" --src "$S" --sizes "$SIZES" --timeout 30 \
			--ready "$WORK/ready-$phase-$x" --done "$WORK/sent-$phase"
		[ $x = a ] && pa=$BG_PID || pb=$BG_PID
	done
	for _ in $(seq 100); do
		[ -f "$WORK/ready-$phase-a" ] && [ -f "$WORK/ready-$phase-b" ] && break
		sleep 0.1
	done
	nsx src "$PY" "${ORACLE[1]}" mcast-send "$G" "$PORT" "$N" --src "$S" --gap 4 \
		--sizes "$SIZES" >"$WORK/send-$phase.log" 2>&1 &
	local spid=$!
	[ -z "${DURING:-}" ] || $DURING
	wait "$spid"
	touch "$WORK/sent-$phase"
	for x in a b; do
		local pid want
		[ $x = a ] && pid=$pa want=$want_a || pid=$pb want=$want_b
		if [ "$want" = none ]; then
			wait "$pid"
			if grep -q '"received": 0,' "$WORK/recv-$phase-$x.json"; then
				ok "$phase: dst$x got none of the $N datagrams"
			else
				not_ok "$phase: dst$x got none of the $N datagrams"
				sed 's/^/# /' "$WORK/recv-$phase-$x.log"
			fi
		elif wait "$pid"; then
			ok "$phase: dst$x got $N of $N datagrams unchanged, in order, from $S"
		else
			not_ok "$phase: dst$x got $N of $N datagrams unchanged, in order, from $S"
			sed 's/^/# /' "$WORK/recv-$phase-$x.log" | tail -n 5
		fi
	done
}

traffic2 "registered" all all

# --- 2: a rekey under traffic -----------------------------------------------------------------
rekey_mid() { sleep 0.2; gcks gcks rekey iptv-sports >/dev/null; }
DURING=rekey_mid traffic2 "rekey under traffic" all all
E=$(ks_epoch)
if wait_members gw-1 gw-2 gw-3; then
	ok "after the rekey every gateway holds the new epoch ($E)"
else
	not_ok "after the rekey every gateway holds the new epoch ($E)"
fi

# --- 3: eviction ------------------------------------------------------------------------------
subject3=$("$PY" -c "
import json; m=json.load(open('$WORK/members.json'))['members']
print([x['subject'] for x in m if x['subject'].startswith('CN=gw-3')][0])")
check "gw-3 evicted ($subject3)" gcks gcks evict iptv-sports "$subject3"
sleep 0.5
E=$(ks_epoch)
if wait_members gw-1 gw-2; then
	ok "the eviction's new epoch ($E) reached gw-1 and gw-2"
else
	not_ok "the eviction's new epoch ($E) reached gw-1 and gw-2"
fi
check "gw-3 did not get epoch $E" test "$(member_state gw-3 | awk '{print $2}')" -lt "$E"
sleep 2.5   # past ATD and DTD: the sender is on epoch 3 and epoch 2 is gone
traffic2 "after the eviction" all none

# --- 4: the key server dies and comes back -------------------------------------------------------
ks_crash() {
	sleep 0.2
	kill -9 "$KS_PID"
	wait "$KS_PID" 2>/dev/null
	start_ks
}
DURING=ks_crash traffic2 "key server killed -9 and restarted under traffic" all none
gcks -j gcks group iptv-sports >"$WORK/group.json"
check "after the restart: 2 members, epoch $E, sequence IDs continue" "$PY" -c "
import json; g=json.load(open('$WORK/group.json'))['group']
assert g['members']==2 and g['data_sas'][0]['epoch']==$E and g['sequence_id']>0, g"
check "a rekey after the restart" gcks gcks rekey iptv-sports
if wait_members gw-1 gw-2; then
	ok "gw-1 and gw-2 follow the restarted key server to epoch $((E + 1))"
else
	not_ok "gw-1 and gw-2 follow the restarted key server to epoch $((E + 1))"
	tail -n 20 "$WORK/gcks.log" | sed 's/^/# /'
fi
sleep 2.5
traffic2 "after the restart's rekey" all none

for x in 1:"$P1" 2:"$P2" 3:"$P3"; do
	stop_pid "${x#*:}"
	check "msecgw gw-${x%%:*} exits cleanly" test $? -eq 0
done
gcks -j gcks members iptv-sports >"$WORK/members2.json"
check "gw-1 and gw-2 departed on shutdown (Request to Depart)" "$PY" -c "
import json; m=json.load(open('$WORK/members2.json'))['members']
assert all(x['state'] in ('leaving', 'evicted') for x in m) or len(m)<=1, m"
stop_pid "$KS_PID"
