#!/bin/bash
# TESLA source authentication end to end (doc/tesla.md, doc/wire-format.md §7): a sending msecgw
# and a receiving msecgw on veth pairs in network namespaces (net_af_packet), a Linux socket as
# source and one as receiver, the topology of test_netns_afpacket.sh. The SA is
# aes-gcm-128+tesla with AES-128-GMAC as TESLA MAC, T_int 100 ms, d = 2.
#
#   1. genuine traffic: every datagram arrives unchanged and in order, each one verified by its
#      TESLA MAC after its key was disclosed (counters of the receiver), key beacons sent;
#   2. a simulated clock: the receiver's TESLA clock set 1 s ahead (msecctl clock offset 1000)
#      makes every packet unsafe: none is delivered, all are counted as tesla_unsafe; back at 0,
#      traffic flows again;
#   3. the receiver forced unsynced (msecctl clock unsynced) with the default fail-close: none
#      is delivered (tesla_unsynced); synced again, traffic flows;
#   4. a member holding the group key but no chain floods forged packets (tesla_forge.py) while
#      the genuine sender sends: every genuine datagram arrives, no forged one does, the store
#      stays within its reserved bytes, and the flood is counted as tesla_buffer_full,
#      tesla_bad_key and tesla_unsafe;
#   5. the sender's SA deleted right after the last datagram: the receiver still gets every
#      one, because a deleted TESLA sender keeps disclosing keys (beacons) for d + 1 intervals;
#   6. nothing is counted as bad MAC, malformed or unknown sender.
# The receiver's commitment is computed here from the sender's configured chain key with
# Python's hmac (F(k) = HMAC-SHA-256(k, 0x00), doc/tesla.md), not taken from msecgw.
set -u
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

if [ ! -x "$MSECGW" ] || [ ! -x "$MSECCTL" ]; then
	not_ok "msecgw and msecctl binaries present ($MSECGW, $MSECCTL)"
	exit 1
fi
N=100
# the TESLA trailer adds 53 bytes: 1350-byte datagrams fit a 1500-byte MTU (1400 would not,
# and the sender counts those as mtu_exceeded)
SIZES=100,1000,1350
# shellcheck source=tests/integration/netns_lib.sh
. "$(dirname "$0")/netns_lib.sh"

KEY=e3b0c44298fc1c149afbf4c8996fb92400c0ffee
CHAIN_KEY=8f4c1b2a7d6e5f40312233445566778899aabbccddeeff00112233445566aa55
CHAIN_LEN=30000
T0=$(($(date +%s%3N) - 2000))     # interval 0 began 2 s ago: receivers walk 20 keys at first
COMMIT=$("$PY" - "$CHAIN_KEY" "$CHAIN_LEN" <<'EOF'
import hashlib, hmac, sys
k = bytes.fromhex(sys.argv[1])
for _ in range(int(sys.argv[2])):      # F^(N+1)(K_N) = F(K_0)
    k = hmac.new(k, b"\x00", hashlib.sha256).digest()
print(k.hex())
EOF
)
# 100 ms intervals: the last datagrams' keys come 200-300 ms after them, long after the delete
# of phase 4 has taken effect (with 20 ms they could still make it without the drain)
TESLA_COMMON="\"t0_ms\": $T0, \"interval_ms\": 100, \"delay\": 2, \"chain_length\": $CHAIN_LEN,
    \"mac\": \"aes-gmac-128\", \"max_walk\": 1000"
conf() {	# conf FILE DIRECTION TESLA-EXTRA POLICIES
	cat >"$1" <<EOF
{"control": {"socket": ""}, "clock": {"check": "none"},
 "ports": [{"name": "plain", "device": "net_af_packet0", "role": "protected"},
           {"name": "esp", "device": "net_af_packet1", "role": "unprotected"}],
 "groups": [{"name": "channel", "address": "$G", "source": "$S",
   "protected_port": "plain", "unprotected_port": "esp",
   "sas": [{"spi": 16401, "suite": "aes-gcm-128+tesla", "key": "$KEY", "esn": true,
     "direction": "$2", $3}]}],
 "policies": [$4]}
EOF
}
conf "$WORK/enc.json" sender "\"sids\": [0], \"tesla\": {$TESLA_COMMON, \"chain_key\": \"$CHAIN_KEY\"}" \
	"{\"group\": \"$G\", \"source\": \"$S\", \"action\": \"protect\", \"protect_group\": \"channel\"}"
# the receiver knows the genuine sender (SIDs 0, 2 and 3: the member of phase 4 forges with 2
# and 3) and a second sender (SID 1) whose chain nobody here has
conf "$WORK/dec.json" receiver "\"tesla\": {$TESLA_COMMON, \"senders\": [{\"sids\": [0, 2, 3],
     \"commitment\": \"$COMMIT\", \"clock_bound_ms\": 5}, {\"sids\": [1], \"commitment\":
     \"$(printf '5a%.0s' $(seq 32))\", \"clock_bound_ms\": 5}], \"bucket_packets\": 256}" ""

ENC_SOCK=$WORK/enc.sock
DEC_SOCK=$WORK/dec.sock
start_gw enc gwe e0 e1 "$WORK/enc.json" 0 --socket "$ENC_SOCK" || exit 1
ENC_PID=$GW_PID
start_gw dec gwd d0 d1 "$WORK/dec.json" 1 --socket "$DEC_SOCK" || exit 1
DEC_PID=$GW_PID

# tesla FIELD SOCK: a field of the SA's "tesla" object (drops by name too)
tesla() {
	"$MSECCTL" -s "$2" -j sa list 2>/dev/null | "$PY" -c '
import json, sys
t = json.load(sys.stdin)["sas"][0].get("tesla", {})
f = sys.argv[1]
print(t.get(f, t.get("drops", {}).get(f, -1)))' "$1"
}
expect() {	# expect WHAT ACTUAL OP WANT
	if [ "$2" "$3" "$4" ]; then
		ok "$1 ($2)"
	else
		not_ok "$1 ($2, expected $3 $4)"
	fi
}

# --- 1: genuine traffic -----------------------------------------------------------------------
traffic "TESLA, genuine traffic"
sleep 0.2
expect "receiver: every datagram verified by its TESLA MAC" "$(tesla verified "$DEC_SOCK")" -ge "$N"
expect "sender: key beacons sent while idle" "$(tesla beacons_sent "$ENC_SOCK")" -gt 0
expect "sender publishes its chain's commitment, the one configured at the receiver" \
	"$(tesla commitment "$ENC_SOCK")" = "$COMMIT"

# --- 2: a simulated clock 1 s ahead: everything is unsafe --------------------------------------
"$MSECCTL" -s "$DEC_SOCK" clock offset 1000 >"$WORK/clock.log" 2>&1
unsafe0=$(tesla tesla_unsafe "$DEC_SOCK")
traffic "TESLA, receiver clock 1 s ahead (simulated)" --expect-none
expect "receiver: the packets counted as tesla_unsafe" \
	"$(($(tesla tesla_unsafe "$DEC_SOCK") - unsafe0))" -ge "$N"
"$MSECCTL" -s "$DEC_SOCK" clock offset 0 >>"$WORK/clock.log" 2>&1
traffic "TESLA, receiver clock back"

# --- 3: unsynced, fail-close ------------------------------------------------------------------
"$MSECCTL" -s "$DEC_SOCK" clock unsynced >>"$WORK/clock.log" 2>&1
traffic "TESLA, receiver unsynced (fail-close)" --expect-none
expect "receiver: the packets counted as tesla_unsynced" "$(tesla tesla_unsynced "$DEC_SOCK")" \
	-ge "$N"
"$MSECCTL" -s "$DEC_SOCK" clock synced >>"$WORK/clock.log" 2>&1
traffic "TESLA, receiver synced again"

# --- 4: a member with the group key floods forged and unsafe packets during genuine traffic ----
bg_ns gwe "$WORK/forge.log" "$PY" "$MSEC_ROOT/tests/integration/tesla_forge.py" e1 "$KEY" "$G" \
	"$S" 16401 "$T0" 100 2 2.5
FORGE_PID=$BG_PID
held_max=0
sample_held() {
	local h
	for _ in $(seq 8); do
		h=$(tesla held_bytes "$DEC_SOCK")
		[ "$h" -gt "$held_max" ] && held_max=$h
		sleep 0.1
	done
}
sleep 0.3
AFTER_SEND=sample_held traffic "TESLA, genuine traffic during a member's flood of forged packets"
AFTER_SEND=
wait "$FORGE_PID"
sed 's/^/# /' "$WORK/forge.log"
for f in tesla_buffer_full tesla_bad_key tesla_unsafe; do
	expect "receiver: the flood's $f counted" "$(tesla "$f" "$DEC_SOCK")" -gt 0
done
expect "receiver: no forged packet delivered (verified = genuine only)" \
	"$(tesla verified "$DEC_SOCK")" -eq $((N * 4))
store=$(tesla store_bytes "$DEC_SOCK")
expect "receiver: bytes held during the flood within the reserved store ($store)" \
	"$held_max" -le "$store"

# --- 5: the SA deleted right after the last datagram: the packets the receiver still holds ----
# need two more disclosures; the deleted sender keeps sending key beacons for d + 1 intervals
delete_sa() {
	"$MSECCTL" -s "$ENC_SOCK" sa delete channel 16401 >"$WORK/delete.log" 2>&1
	"$MSECCTL" -s "$ENC_SOCK" -j sa list >"$WORK/draining.json" 2>&1
}
AFTER_SEND=delete_sa traffic "TESLA, sender SA deleted right after the last datagram"
AFTER_SEND=
expect "sender: the deleted SA was draining (key beacons only)" \
	"$(grep -c '"state": *"draining"' "$WORK/draining.json")" -eq 1
sleep 0.6
expect "sender: the draining SA is gone after d + 1 intervals" \
	"$("$MSECCTL" -s "$ENC_SOCK" -j sa list | grep -c '"spi"')" -eq 0

# --- 6: nothing refused that should pass ---------------------------------------------------------
for f in tesla_bad_mac tesla_malformed tesla_unknown_sender; do
	expect "receiver: $f stays 0" "$(tesla "$f" "$DEC_SOCK")" -eq 0
done

stop_pid "$ENC_PID"
stop_pid "$DEC_PID"
if grep -qE 'ERROR|Sanitizer|runtime error' "$WORK/enc.log" "$WORK/dec.log"; then
	not_ok "no errors or sanitizer reports in the gateways' logs"
	grep -hE 'ERROR|Sanitizer|runtime error' "$WORK/enc.log" "$WORK/dec.log" | head | sed 's/^/# /'
else
	ok "no errors or sanitizer reports in the gateways' logs"
fi
