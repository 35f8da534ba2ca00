#!/bin/bash
# Interoperability with scapy's ESP (scapy.layers.ipsec.SecurityAssociation, tunnel mode, with its
# own ESN support for AES-GCM) and with the oracle's own ESP code on Python's `cryptography` and
# `hmac` (every suite; scapy 2.5 has no AES-GMAC and leaves the ESN high half out of its ESP HMAC),
# and a field-by-field check of doc/wire-format.md, on twelve group SAs: IPv4 and IPv6,
# aes-gcm-128 and -256, aes-gmac-128, aes-ctr-128-hmac-sha256-128 and null-hmac-sha256-128,
# sid_bits 8, 12 and 16 with nonzero SIDs, ESN on and off, outer TTL/DSCP copied or set; frames
# of 64, 512 and 1420 bytes with varied DSCP, ECN, ID, DF, TTL and flow label. The oracle is
# tests/integration/esp_oracle.py.
#
#  1. msecgw encrypts; every ESP frame decrypts with scapy to the original IP packet byte for byte,
#     and every field of wire-format.md §1-§4 holds (outer header copying, address preservation,
#     protocol 50, SPI, seq = low 32 bits, IV = SID || seq, minimal padding 1, 2, 3..., next
#     header 4/41, the group's multicast MAC). Negative controls: a key with one bit flipped and
#     the opposite ESN setting both fail the ICV on every frame.
#  2. scapy (or the oracle's own code) encrypts (tunnel header = inner source and group, IV =
#     SID || seq, ESN SAs with the high half of the sequence number = 1, which msecgw learns from
#     the IV; NULL has no IV, so its ESN SA starts at high half 0); msecgw delivers the
#     originals byte for byte. The same run gets the frames again with a flipped ICV bit (new
#     sequence numbers: counted as auth_fail) and once more unchanged (counted as replay).
set -u
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

if [ ! -x "$MSECGW" ]; then
	not_ok "msecgw binary missing ($MSECGW)"
	exit 1
fi
ORACLE=("$PY" "$MSEC_ROOT/tests/integration/esp_oracle.py")
on_exit "rm -rf /var/run/dpdk/it-*-$$"

K128=2b7e151628aed2a6abf7158809cf4f3c
K256=603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4
KA=8a9b0c1d2e3f405162738495a6b7c8d9eafb0c1d2e3f4051627384950a1b2c3d
cat >"$WORK/spec.json" <<EOF
[
 {"name": "v4-s8", "source": "192.0.2.10", "group": "232.129.2.3", "dport": 6000, "spi": 12289,
  "suite": "aes-gcm-128", "key": "${K128}cafe0001", "sid_bits": 8, "sid": 165, "esn": true},
 {"name": "v4-s12", "source": "192.0.2.11", "group": "239.200.1.1", "dport": 6002, "spi": 12290,
  "suite": "aes-gcm-256", "key": "${K256}cafe0002", "sid_bits": 12, "sid": 2748, "esn": false,
  "ttl": 16, "dscp": 46},
 {"name": "v4-s16", "source": "192.0.2.12", "group": "232.1.1.3", "dport": 6004, "spi": 12291,
  "suite": "aes-gcm-128", "key": "${K128}cafe0003", "sid_bits": 16, "sid": 48879, "esn": true},
 {"name": "v6-s8", "source": "2001:db8::10", "group": "ff3e::8000:1234", "dport": 6006,
  "spi": 12292, "suite": "aes-gcm-128", "key": "${K128}cafe0004", "sid_bits": 8, "sid": 90,
  "esn": false},
 {"name": "v6-s12", "source": "2001:db8::11", "group": "ff3e::1:2", "dport": 6008, "spi": 12293,
  "suite": "aes-gcm-256", "key": "${K256}cafe0005", "sid_bits": 12, "sid": 291, "esn": true,
  "ttl": 7, "dscp": 10},
 {"name": "v6-s16", "source": "2001:db8::12", "group": "ff15::abcd:1", "dport": 6010,
  "spi": 12294, "suite": "aes-gcm-256", "key": "${K256}cafe0006", "sid_bits": 16, "sid": 65535,
  "esn": true},
 {"name": "v4-gmac", "source": "192.0.2.13", "group": "232.1.1.13", "dport": 6012, "spi": 12295,
  "suite": "aes-gmac-128", "key": "${K128}cafe0007", "sid_bits": 8, "sid": 33, "esn": true},
 {"name": "v6-gmac", "source": "2001:db8::13", "group": "ff3e::13", "dport": 6014, "spi": 12296,
  "suite": "aes-gmac-128", "key": "${K128}cafe0008", "sid_bits": 12, "sid": 1000, "esn": false,
  "ttl": 9, "dscp": 12},
 {"name": "v4-ctr", "source": "192.0.2.14", "group": "232.1.1.14", "dport": 6016, "spi": 12297,
  "suite": "aes-ctr-128-hmac-sha256-128", "key": "${K128}cafe0009", "auth_key": "${KA}",
  "sid_bits": 8, "sid": 7, "esn": false},
 {"name": "v6-ctr", "source": "2001:db8::14", "group": "ff3e::14", "dport": 6018, "spi": 12298,
  "suite": "aes-ctr-128-hmac-sha256-128", "key": "${K128}cafe000a", "auth_key": "${KA}",
  "sid_bits": 16, "sid": 4242, "esn": true},
 {"name": "v4-null", "source": "192.0.2.15", "group": "232.1.1.15", "dport": 6020, "spi": 12299,
  "suite": "null-hmac-sha256-128", "auth_key": "${KA}", "sid": 0, "esn": false},
 {"name": "v6-null", "source": "2001:db8::15", "group": "ff3e::15", "dport": 6022, "spi": 12300,
  "suite": "null-hmac-sha256-128", "auth_key": "${K256}", "sid": 3, "esn": true, "ttl": 3}
]
EOF
N=8                     # frames per SA and size (64, 512, 1420 bytes)
NF=$((N * 3 * 12))

"${ORACLE[@]}" multi "gen $WORK/spec.json $WORK/plain.pcap --count $N" \
	"mkconf $WORK/spec.json $WORK/sender.json --dir sender" \
	"mkconf $WORK/spec.json $WORK/receiver.json --dir receiver --replay-window 1024" \
	"cat $WORK/empty.pcap"

# gw_checks NAME RC FIELD=COUNT...: exit 0 and each named counter (drops included) as given,
# every other drop counter 0
gw_checks() {
	local name=$1 rc=$2 what="" bad=0 kv f v got drops extra=0
	shift 2
	for kv in "$@"; do
		f=${kv%%=*}
		v=${kv#*=}
		got=$(counter "$name" "$f")
		what="$what $f $got/$v"
		[ "$got" -eq "$v" ] || bad=1
		case $f in protected|unprotected) ;; *) extra=$((extra + v)) ;; esac
	done
	drops=$(grep -E '^msecgw: drops:' "$WORK/$name.log" | grep -oE '=[0-9]+' | tr -d = |
		awk '{s += $1} END {print s + 0}')
	if [ "$rc" -eq 0 ] && [ "$bad" -eq 0 ] && [ "$drops" -eq "$extra" ]; then
		ok "msecgw $name: exit 0,$what, no other drops"
	else
		not_ok "msecgw $name: exit 0,$what, no other drops (exit $rc, drops $drops)"
		grep -E '^msecgw|ERROR|Sanitizer|runtime error' "$WORK/$name.log" | tail -n 15 |
			sed 's/^/# /'
	fi
}

# 1. msecgw -> scapy
run_gw enc "$WORK/sender.json" "$WORK/plain.pcap" "$WORK/enc-p0.pcap" "$WORK/empty.pcap" \
	"$WORK/esp.pcap"
gw_checks enc $? protected="$NF"
"${ORACLE[@]}" check-esp "$WORK/spec.json" "$WORK/plain.pcap" "$WORK/esp.pcap" --wrong-key \
	--label "msecgw -> scapy"

# 2. scapy -> msecgw: good frames, the same with a flipped ICV bit, the good ones replayed
"${ORACLE[@]}" multi "encrypt $WORK/spec.json $WORK/plain.pcap $WORK/sc-good.pcap --esn-hi 1" \
	"encrypt $WORK/spec.json $WORK/plain.pcap $WORK/sc-bad.pcap --esn-hi 1 --seq-base 1000 --tamper" \
	"cat $WORK/sc-in.pcap $WORK/sc-good.pcap $WORK/sc-bad.pcap $WORK/sc-good.pcap"
run_gw dec "$WORK/receiver.json" "$WORK/empty.pcap" "$WORK/out.pcap" "$WORK/sc-in.pcap" \
	"$WORK/dec-p1.pcap"
gw_checks dec $? unprotected="$NF" auth_fail="$NF" replay="$NF"
"${ORACLE[@]}" compare "$WORK/out.pcap" "$WORK/plain.pcap" --mac \
	--what "scapy and the oracle -> msecgw (IV = SID || seq, ESN high half 1 where an IV carries it)"
