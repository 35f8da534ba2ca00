#!/bin/bash
# Interoperability with DPDK's ipsec-secgw example, an independent ESP implementation
# (librte_ipsec / its legacy path, crypto through crypto_aesni_gcm), on net_pcap vdevs.
#
#  (a) msecgw encrypts a plaintext pcap (config/single-sender.json as shipped: IPv4 SSM,
#      AES-GCM-128, SID 0 with sid_bits 8 so IV == sequence number, ESN off); ipsec-secgw
#      decrypts it with an inbound tunnel SA whose endpoints are (S, G), which is what address
#      preservation puts in the outer header; the delivered packets equal the input byte for
#      byte (the legacy path decrements the TTL: compared with TTL - 1 and the IPv4 checksum
#      recomputed; the librte_ipsec path (-l) leaves it alone).
#  (b) ipsec-secgw encrypts plaintext with an outbound tunnel SA from S to G; msecgw decrypts
#      (its receiver derives SID 0 from ipsec-secgw's IV = seq, replay window 1024) and delivers
#      the originals byte for byte.
#  Both directions in three ipsec-secgw modes: legacy, librte_ipsec with a replay window, and
#  librte_ipsec with ESN (-e; msecgw SAs with "esn": true, AES-GCM-256 one way). Counters on both
#  sides must show every packet and no drop.
#  (c) The other suites, both directions, on librte_ipsec with crypto_aesni_mb: aes-gmac-128
#      (ipsec-secgw: cipher_algo null, auth_algo aes-gmac), aes-ctr-128-hmac-sha256-128
#      (aes-128-ctr + sha256-hmac) and null-hmac-sha256-128 (null + sha256-hmac), ESN off; then
#      with ESN (-e) the two HMAC suites, whose ESN high half both sides append after the
#      payload (RFC 4303 §2.2.1). AES-GMAC with ESN is not compared: lib/ipsec appends the high
#      half after the payload for GMAC as well, where RFC 4543 §3.3 puts it in the AAD after
#      the SPI (doc/wire-format.md §4).
set -u
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

if [ ! -x "$MSECGW" ]; then
	not_ok "msecgw binary missing ($MSECGW)"
	exit 1
fi
ORACLE=("$PY" "$MSEC_ROOT/tests/integration/esp_oracle.py")
N=20                    # frames per size: 60 per group
PFX=it-secgw-$$
on_exit "rm -rf /var/run/dpdk/$PFX-* /var/run/dpdk/it-*-$$"

if ! SECGW=$("$TOOLS/build-secgw.sh" 2>"$WORK/build-secgw.err"); then
	not_ok "ipsec-secgw builds (tools/build-secgw.sh)"
	sed 's/^/# /' "$WORK/build-secgw.err" | tail -n 20
	exit 1
fi
ok "ipsec-secgw built by tools/build-secgw.sh ($SECGW)"

# drops_total NAME: sum of every drop counter in a gateway's exit summary
drops_total() {
	grep -E '^msecgw: drops:' "$WORK/$1.log" | tail -n 1 | grep -oE '=[0-9]+' |
		tr -d = | awk '{s += $1} END {print s + 0}'
}

# gw_checks NAME FIELD COUNT RC: the gateway exited 0, counted COUNT in FIELD and dropped nothing
gw_checks() {
	local name=$1 field=$2 want=$3 rc=$4 got drops
	got=$(counter "$name" "$field")
	drops=$(drops_total "$name")
	if [ "$rc" -eq 0 ] && [ "$got" -eq "$want" ] && [ "$drops" -eq 0 ]; then
		ok "msecgw $name: exit 0, $field $got of $want, no drops"
	else
		not_ok "msecgw $name: exit 0, $field $got of $want, no drops (exit $rc, drops $drops)"
		grep -E '^msecgw|ERROR|Sanitizer|runtime error' "$WORK/$name.log" | tail -n 15 | sed 's/^/# /'
	fi
}

SECGW_PID=
stop_secgw() {
	[ -n "$SECGW_PID" ] || return 0
	kill -TERM "$SECGW_PID" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$SECGW_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$SECGW_PID" 2>/dev/null
	wait "$SECGW_PID" 2>/dev/null
	local rc=$?
	SECGW_PID=
	return $rc
}
on_exit stop_secgw

# run_secgw MODE CFG RX0 TX0 RX1 TX1 NIN NOUT [ipsec-secgw options...]
# Port 0 is protected (plaintext), port 1 unprotected (ESP); one lcore, lookaside crypto on
# crypto_aesni_gcm. Runs until telemetry shows NIN packets decrypted out of port 0 and NOUT
# encrypted out of port 1, then stops it with SIGTERM (which flushes the tx pcaps).
run_secgw() {
	local mode=$1 cfg=$2 rx0=$3 tx0=$4 rx1=$5 tx1=$6 nin=$7 nout=$8 rc what
	shift 8
	"$SECGW" -l 1 --no-huge --no-shconf --no-pci -m 1024 --file-prefix "$PFX-$mode" \
		--log-level=pmd.net.pcap:error \
		--vdev "net_pcap0,rx_pcap=$rx0,tx_pcap=$tx0" \
		--vdev "net_pcap1,rx_pcap=$rx1,tx_pcap=$tx1" \
		--vdev "${SECGW_CDEV:-crypto_aesni_gcm0}" \
		-- -p 0x3 -u 0x2 -P --config "(0,0,1),(1,0,1)" -f "$cfg" "$@" \
		>"$WORK/secgw-$mode.log" 2>&1 &
	SECGW_PID=$!
	"${ORACLE[@]}" tel-wait "$PFX-$mode" 0:ipackets="$nout" 1:ipackets="$nin" \
		0:opackets="$nin" 1:opackets="$nout" --timeout 20 --pid "$SECGW_PID" \
		>"$WORK/tel-$mode.out" 2>&1
	rc=$?
	sed 's/^#/# ipsec-secgw/' "$WORK/tel-$mode.out"
	what="all $nin ESP frames decrypted to port 0, all $nout plaintext frames encrypted to port 1"
	check "ipsec-secgw $mode: $what, no errors" [ "$rc" -eq 0 ]
	if stop_secgw; then
		ok "ipsec-secgw $mode: stops cleanly on SIGTERM"
	else
		not_ok "ipsec-secgw $mode: stops cleanly on SIGTERM"
	fi
	if [ "$rc" -ne 0 ]; then
		grep -vE '^\s' "$WORK/secgw-$mode.log" | tail -n 15 | sed 's/^/# /'
	fi
}

# --- SAs -----------------------------------------------------------------------------------
# (a) as shipped, if config/single-sender.json is still what this test needs
"${ORACLE[@]}" spec-from-conf "$MSEC_ROOT/config/single-sender.json" "$WORK/spec-a.json"
fits=$("$PY" - "$WORK/spec-a.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
why = []
if len(s) != 1:
    why.append("%d SAs" % len(s))
else:
    sa = s[0]
    if sa["dir"] != "sender": why.append("direction %s" % sa["dir"])
    if ":" in sa["group"] or not sa["source"]: why.append("not IPv4 SSM")
    if sa["sid"] != 0 or sa["sid_bits"] != 8: why.append("SID %d/%d bits" % (sa["sid"], sa["sid_bits"]))
    if sa["esn"]: why.append("ESN on")
print("; ".join(why))
EOF
)
if [ -z "$fits" ]; then
	CONF_A=$MSEC_ROOT/config/single-sender.json
	ok "config/single-sender.json fits: IPv4 SSM sender, SID 0 of 8 bits (IV == seq), ESN off"
else
	echo "# config/single-sender.json does not fit ($fits): using a generated sender config"
	cat >"$WORK/spec-a.json" <<'EOF'
[{"name": "a", "source": "192.0.2.10", "group": "232.1.1.1", "dport": 5004, "spi": 2561,
  "suite": "aes-gcm-128", "key": "4c80cdefbb5d10da906ac73c3613a634d5e0e5d0", "sid_bits": 8,
  "sid": 0, "esn": false, "dir": "sender"}]
EOF
	CONF_A=$WORK/conf-a.json
	"${ORACLE[@]}" mkconf "$WORK/spec-a.json" "$CONF_A"
fi

# the other groups: (a) with ESN, and three (b) groups, one per ipsec-secgw mode
S=192.0.2.10
cat >"$WORK/spec-a-esn.json" <<EOF
[{"name": "a-esn", "source": "$S", "group": "232.1.1.4", "dport": 5004, "spi": 4100,
  "suite": "aes-gcm-256", "key": "5a17e3c0d4b9a1f28e6c7b0d3f5a9e2c1b4d6f8a0c2e4f6b8d0a1c3e5f7b9d1f01020304",
  "sid_bits": 8, "sid": 0, "esn": true, "dir": "sender"}]
EOF
for m in legacy:232.1.1.2:4098:aes-gcm-128:false librte:232.1.1.3:4099:aes-gcm-256:false \
		esn:232.1.1.5:4101:aes-gcm-128:true; do
	IFS=: read -r mode grp spi suite esn <<<"$m"
	if [ "$suite" = aes-gcm-128 ]; then
		key=9d2c41f7a03b5e86c1d4e7f2a9b06c35${spi}abcd
	else
		key=3e8a1c5f7b9d2e4a6c8e0f1a3b5c7d9e2f4a6b8c0d1e3f5a7b9c0d2e4f6a8b0c${spi}abcd
	fi
	cat >"$WORK/spec-b-$mode.json" <<EOF
[{"name": "b-$mode", "source": "$S", "group": "$grp", "dport": 5006, "spi": $spi,
  "suite": "$suite", "key": "$key", "sid_bits": 8, "sid": 0, "esn": $esn, "dir": "receiver"}]
EOF
done
"$PY" - "$WORK" <<'EOF'
import json, sys
w = sys.argv[1]
spec = []
for f in ("spec-a-esn", "spec-b-legacy", "spec-b-librte", "spec-b-esn"):
    spec += json.load(open("%s/%s.json" % (w, f)))
json.dump(spec, open(w + "/spec-gw.json", "w"))
EOF
"${ORACLE[@]}" mkconf "$WORK/spec-gw.json" "$WORK/conf-gw.json" --replay-window 1024

# plaintext: tools/gen-traffic.py, one stream per group, 64/512/1420-byte frames (one python)
gens=()
for g in a a-esn b-legacy b-librte b-esn; do
	gens+=("gen-traffic-spec $WORK/spec-$g.json $WORK/plain-$g.pcap --count $N")
done
if ! "${ORACLE[@]}" multi "${gens[@]}" "cat $WORK/empty.pcap" >"$WORK/gen.log" 2>&1; then
	not_ok "plaintext pcaps generated (tools/gen-traffic.py)"
	sed 's/^/# /' "$WORK/gen.log" | tail -n 10
	exit 1
fi
NF=$((N * 3))

# --- (a) msecgw encrypts ---------------------------------------------------------------------
run_gw enc-a "$CONF_A" "$WORK/plain-a.pcap" "$WORK/enc-a-p0.pcap" "$WORK/empty.pcap" \
	"$WORK/esp-a.pcap"
gw_checks enc-a protected "$NF" $?
run_gw enc-a-esn "$WORK/conf-gw.json" "$WORK/plain-a-esn.pcap" "$WORK/enc-a-esn-p0.pcap" \
	"$WORK/empty.pcap" "$WORK/esp-a-esn.pcap"
gw_checks enc-a-esn protected "$NF" $?

# --- ipsec-secgw: decrypts (a) on port 1 -> 0 and encrypts (b) on port 0 -> 1, per mode -------
"${ORACLE[@]}" secgw-cfg "$WORK/secgw-legacy.cfg" --inbound "$WORK/spec-a.json" \
	--outbound "$WORK/spec-b-legacy.json"
"${ORACLE[@]}" secgw-cfg "$WORK/secgw-librte.cfg" --inbound "$WORK/spec-a.json" \
	--outbound "$WORK/spec-b-librte.json"
"${ORACLE[@]}" secgw-cfg "$WORK/secgw-esn.cfg" --inbound "$WORK/spec-a-esn.json" \
	--outbound "$WORK/spec-b-esn.json"

run_secgw legacy "$WORK/secgw-legacy.cfg" "$WORK/plain-b-legacy.pcap" "$WORK/dec-a-legacy.pcap" \
	"$WORK/esp-a.pcap" "$WORK/esp-b-legacy.pcap" "$NF" "$NF"
run_secgw librte "$WORK/secgw-librte.cfg" "$WORK/plain-b-librte.pcap" "$WORK/dec-a-librte.pcap" \
	"$WORK/esp-a.pcap" "$WORK/esp-b-librte.pcap" "$NF" "$NF" -l -w 1024
run_secgw esn "$WORK/secgw-esn.cfg" "$WORK/plain-b-esn.pcap" "$WORK/dec-a-esn.pcap" \
	"$WORK/esp-a-esn.pcap" "$WORK/esp-b-esn.pcap" "$NF" "$NF" -l -w 1024 -e

"${ORACLE[@]}" multi \
	"compare $WORK/dec-a-legacy.pcap $WORK/plain-a.pcap:1 --what 'msecgw -> ipsec-secgw legacy path (it routes: TTL - 1)'" \
	"compare $WORK/dec-a-librte.pcap $WORK/plain-a.pcap --what 'msecgw -> ipsec-secgw librte_ipsec, replay window 1024'" \
	"compare $WORK/dec-a-esn.pcap $WORK/plain-a-esn.pcap --what 'msecgw -> ipsec-secgw librte_ipsec, ESN, AES-GCM-256'" \
	"cat $WORK/esp-b.pcap $WORK/esp-b-legacy.pcap $WORK/esp-b-librte.pcap $WORK/esp-b-esn.pcap"

# --- (b) msecgw decrypts what ipsec-secgw encrypted (one run, three groups in order) ----------
run_gw dec-b "$WORK/conf-gw.json" "$WORK/empty.pcap" "$WORK/out-b.pcap" "$WORK/esp-b.pcap" \
	"$WORK/dec-b-p1.pcap"
gw_checks dec-b unprotected $((NF * 3)) $?
"${ORACLE[@]}" compare "$WORK/out-b.pcap" "$WORK/plain-b-legacy.pcap:1" \
	"$WORK/plain-b-librte.pcap" "$WORK/plain-b-esn.pcap" --mac \
	--what "ipsec-secgw (legacy, librte_ipsec, ESN) -> msecgw"

# --- (c) the other suites ------------------------------------------------------------------
KA=c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf
KB=0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0
KC=9e8d7c6b5a49382716059e8d7c6b5a49382716059e8d7c6b5a4938271605ffee
# sx: msecgw sends, ipsec-secgw receives; sy: ipsec-secgw sends, msecgw receives; ESN off, then
# the -e run with the HMAC suites (sxe, sye). Every sending SA has its own KEYMAT: msecgw
# refuses two sending SAs with the same one ("one key, one sender").
cat >"$WORK/spec-sx.json" <<EOF
[{"name": "sx-gmac", "source": "$S", "group": "232.1.2.1", "dport": 5010, "spi": 4200,
  "suite": "aes-gmac-128", "key": "1f2e3d4c5b6a79880f1e2d3c4b5a6978a1b2c3d4", "sid_bits": 8,
  "sid": 0, "esn": false, "dir": "sender"},
 {"name": "sx-ctr", "source": "$S", "group": "232.1.2.2", "dport": 5010, "spi": 4201,
  "suite": "aes-ctr-128-hmac-sha256-128", "key": "8899aabbccddeeff0011223344556677deadbeef",
  "auth_key": "$KA", "sid_bits": 8, "sid": 0, "esn": false, "dir": "sender"},
 {"name": "sx-null", "source": "$S", "group": "232.1.2.3", "dport": 5010, "spi": 4202,
  "suite": "null-hmac-sha256-128", "auth_key": "$KB", "sid": 0, "esn": false, "dir": "sender"}]
EOF
cat >"$WORK/spec-sy.json" <<EOF
[{"name": "sy-gmac", "source": "$S", "group": "232.1.2.4", "dport": 5012, "spi": 4203,
  "suite": "aes-gmac-128", "key": "5a5b5c5d5e5f60616263646566676869cafe0102", "sid_bits": 8,
  "sid": 0, "esn": false, "dir": "receiver"},
 {"name": "sy-ctr", "source": "$S", "group": "232.1.2.5", "dport": 5012, "spi": 4204,
  "suite": "aes-ctr-128-hmac-sha256-128", "key": "00112233445566778899aabbccddeeff01020304",
  "auth_key": "$KB", "sid_bits": 8, "sid": 0, "esn": false, "dir": "receiver"},
 {"name": "sy-null", "source": "$S", "group": "232.1.2.6", "dport": 5012, "spi": 4205,
  "suite": "null-hmac-sha256-128", "auth_key": "$KA", "sid": 0, "esn": false, "dir": "receiver"}]
EOF
cat >"$WORK/spec-sxe.json" <<EOF
[{"name": "sxe-ctr", "source": "$S", "group": "232.1.2.7", "dport": 5014, "spi": 4206,
  "suite": "aes-ctr-128-hmac-sha256-128", "key": "0123456789abcdef0123456789abcdef0a0b0c0d",
  "auth_key": "$KA", "sid_bits": 8, "sid": 0, "esn": true, "dir": "sender"},
 {"name": "sxe-null", "source": "$S", "group": "232.1.2.8", "dport": 5014, "spi": 4207,
  "suite": "null-hmac-sha256-128", "auth_key": "$KC", "sid": 0, "esn": true, "dir": "sender"}]
EOF
cat >"$WORK/spec-sye.json" <<EOF
[{"name": "sye-ctr", "source": "$S", "group": "232.1.2.9", "dport": 5016, "spi": 4208,
  "suite": "aes-ctr-128-hmac-sha256-128", "key": "fedcba9876543210fedcba98765432100d0c0b0a",
  "auth_key": "$KB", "sid_bits": 8, "sid": 0, "esn": true, "dir": "receiver"},
 {"name": "sye-null", "source": "$S", "group": "232.1.2.10", "dport": 5016, "spi": 4209,
  "suite": "null-hmac-sha256-128", "auth_key": "$KA", "sid": 0, "esn": true, "dir": "receiver"}]
EOF
"$PY" - "$WORK" <<'EOF'
import json, sys
w = sys.argv[1]
for out, parts in (("spec-sxall", ("spec-sx", "spec-sxe")), ("spec-syall", ("spec-sy", "spec-sye"))):
    spec = []
    for f in parts:
        spec += json.load(open("%s/%s.json" % (w, f)))
    json.dump(spec, open("%s/%s.json" % (w, out), "w"))
EOF
sgens=()
for g in sx sy sxe sye; do
	sgens+=("gen-traffic-spec $WORK/spec-$g.json $WORK/plain-$g.pcap --count $N")
done
"${ORACLE[@]}" multi "${sgens[@]}" \
	"mkconf $WORK/spec-sxall.json $WORK/conf-sx.json" \
	"mkconf $WORK/spec-syall.json $WORK/conf-sy.json --replay-window 1024" \
	"secgw-cfg $WORK/secgw-suites.cfg --inbound $WORK/spec-sx.json --outbound $WORK/spec-sy.json" \
	"secgw-cfg $WORK/secgw-suites-esn.cfg --inbound $WORK/spec-sxe.json --outbound $WORK/spec-sye.json" \
	"cat $WORK/plain-sxall.pcap $WORK/plain-sx.pcap $WORK/plain-sxe.pcap" >"$WORK/gen-s.log" 2>&1 ||
	{ not_ok "other suites: plaintext and configurations generated"; sed 's/^/# /' "$WORK/gen-s.log" | tail -n 10; }
NS=$((N * 3 * 3))
NSE=$((N * 3 * 2))

# msecgw encrypts all five groups in one run (one worker: each SA's frames keep their order)
run_gw enc-sx "$WORK/conf-sx.json" "$WORK/plain-sxall.pcap" "$WORK/enc-sx-p0.pcap" \
	"$WORK/empty.pcap" "$WORK/esp-sxall.pcap"
gw_checks enc-sx protected $((NS + NSE)) $?
"$PY" - "$WORK" <<'EOF'
# split msecgw's output by SPI: the ESN run of ipsec-secgw gets only the ESN groups
import sys
from scapy.all import rdpcap, wrpcap
from scapy.layers.ipsec import ESP
w = sys.argv[1]
pk = rdpcap(w + "/esp-sxall.pcap")
wrpcap(w + "/esp-sx.pcap", [p for p in pk if ESP in p and p[ESP].spi in (4200, 4201, 4202)], linktype=1)
wrpcap(w + "/esp-sxe.pcap", [p for p in pk if ESP in p and p[ESP].spi in (4206, 4207)], linktype=1)
EOF

SECGW_CDEV=crypto_aesni_mb0 run_secgw suites "$WORK/secgw-suites.cfg" "$WORK/plain-sy.pcap" \
	"$WORK/dec-sx.pcap" "$WORK/esp-sx.pcap" "$WORK/esp-sy.pcap" "$NS" "$NS" -l -w 1024
SECGW_CDEV=crypto_aesni_mb0 run_secgw suites-esn "$WORK/secgw-suites-esn.cfg" \
	"$WORK/plain-sye.pcap" "$WORK/dec-sxe.pcap" "$WORK/esp-sxe.pcap" "$WORK/esp-sye.pcap" \
	"$NSE" "$NSE" -l -w 1024 -e

"${ORACLE[@]}" multi \
	"compare $WORK/dec-sx.pcap $WORK/plain-sx.pcap --what 'msecgw -> ipsec-secgw librte_ipsec: aes-gmac-128, aes-ctr-128-hmac-sha256-128, null-hmac-sha256-128'" \
	"compare $WORK/dec-sxe.pcap $WORK/plain-sxe.pcap --what 'msecgw -> ipsec-secgw librte_ipsec, ESN: aes-ctr-128-hmac-sha256-128, null-hmac-sha256-128'" \
	"cat $WORK/esp-syall.pcap $WORK/esp-sy.pcap $WORK/esp-sye.pcap"

run_gw dec-sy "$WORK/conf-sy.json" "$WORK/empty.pcap" "$WORK/out-sy.pcap" "$WORK/esp-syall.pcap" \
	"$WORK/dec-sy-p1.pcap"
gw_checks dec-sy unprotected $((NS + NSE)) $?
"${ORACLE[@]}" compare "$WORK/out-sy.pcap" "$WORK/plain-sy.pcap" "$WORK/plain-sye.pcap" --mac \
	--what "ipsec-secgw librte_ipsec (aes-gmac, aes-128-ctr + sha256-hmac, null + sha256-hmac; then ESN) -> msecgw"
