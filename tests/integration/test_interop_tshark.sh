#!/bin/bash
# Interoperability with tshark's ESP dissector (Wireshark's own AES-GCM, AES-CTR and HMAC code,
# libgcrypt): msecgw encrypts IPv4 and IPv6 groups with aes-gcm-128, aes-gcm-256,
# aes-ctr-128-hmac-sha256-128 ("AES-CTR [RFC3686]" + "HMAC-SHA-256-128 [RFC4868]") and
# null-hmac-sha256-128 ("NULL" + "HMAC-SHA-256-128 [RFC4868]"), ESN on and off, single-sender
# SIDs (0 of 8 bits) and multi-sender SIDs (nonzero, 8, 12 and 16 bits: the IV is opaque to
# tshark). tshark must report esp.icv_good on every frame of every non-ESN SA (count == frames
# sent) and decrypt every inner packet to the plaintext sent, byte for byte. A key with one bit
# flipped (the HMAC key for the HMAC suites) must give esp.icv_bad on every frame (negative
# control). tshark 4.0 has no AES-GMAC (RFC 4543) in its ESP SA table: that suite is checked in
# test_interop_scapy.sh (Python cryptography) and against ipsec-secgw.
#
# ESN: tshark 4.0's ESP SA table (esp_sa UAT: protocol, src, dst, SPI, encryption, key,
# authentication, key) has no ESN setting, its AAD is always SPI || seq. For ESN SAs the test
# checks that tshark still decrypts the payload (GCM's and CTR's keystreams do not depend on the
# AAD) and reports icv_bad on every frame (the ICV covers seq_hi, RFC 4106 §5, RFC 4303 §2.2.1);
# the ESN ICV itself is verified in test_interop_scapy.sh, and that is reported as a SKIP line
# here.
set -u
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

if [ ! -x "$MSECGW" ]; then
	not_ok "msecgw binary missing ($MSECGW)"
	exit 1
fi
if ! command -v tshark >/dev/null; then
	not_ok "tshark is installed"
	exit 1
fi
ORACLE=("$PY" "$MSEC_ROOT/tests/integration/esp_oracle.py")
on_exit "rm -rf /var/run/dpdk/it-*-$$"

K128=7f3a9c2e5b8d1f4a6c0e2b4d6f8a1c3e
K256=c4e1a7f2b9d03e5a8c6f1b2d4e7a9c0f3b5d8e1a2c4f6b9d0e3a5c7f1b2d4e6a
KA=5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d
KB=d4c3b2a1f0e9d8c7b6a5948372615040d4c3b2a1f0e9d8c7b6a5948372615040
cat >"$WORK/spec.json" <<EOF
[
 {"name": "v4-128", "source": "192.0.2.10", "group": "232.1.1.1", "dport": 6000, "spi": 8193,
  "suite": "aes-gcm-128", "key": "${K128}00000001", "sid_bits": 8, "sid": 0, "esn": false},
 {"name": "v4-256", "source": "192.0.2.10", "group": "232.1.1.2", "dport": 6002, "spi": 8194,
  "suite": "aes-gcm-256", "key": "${K256}00000002", "sid_bits": 8, "sid": 90, "esn": false},
 {"name": "v4-128-esn", "source": "192.0.2.10", "group": "232.1.1.3", "dport": 6004, "spi": 8195,
  "suite": "aes-gcm-128", "key": "${K128}00000003", "sid_bits": 8, "sid": 0, "esn": true},
 {"name": "v4-256-esn", "source": "192.0.2.10", "group": "232.1.1.4", "dport": 6006, "spi": 8196,
  "suite": "aes-gcm-256", "key": "${K256}00000004", "sid_bits": 8, "sid": 60, "esn": true},
 {"name": "v6-128", "source": "2001:db8::10", "group": "ff3e::2:1", "dport": 6008, "spi": 8197,
  "suite": "aes-gcm-128", "key": "${K128}00000005", "sid_bits": 8, "sid": 0, "esn": false},
 {"name": "v6-256", "source": "2001:db8::10", "group": "ff3e::2:2", "dport": 6010, "spi": 8198,
  "suite": "aes-gcm-256", "key": "${K256}00000006", "sid_bits": 8, "sid": 255, "esn": false},
 {"name": "v6-128-esn", "source": "2001:db8::10", "group": "ff3e::2:3", "dport": 6012, "spi": 8199,
  "suite": "aes-gcm-128", "key": "${K128}00000007", "sid_bits": 8, "sid": 1, "esn": true},
 {"name": "v6-256-esn", "source": "2001:db8::10", "group": "ff3e::2:4", "dport": 6014, "spi": 8200,
  "suite": "aes-gcm-256", "key": "${K256}00000008", "sid_bits": 8, "sid": 0, "esn": true},
 {"name": "v4-sid12", "source": "192.0.2.20", "group": "239.10.20.30", "dport": 6016, "spi": 8201,
  "suite": "aes-gcm-128", "key": "${K128}00000009", "sid_bits": 12, "sid": 2748, "esn": false},
 {"name": "v6-sid16", "source": "2001:db8::20", "group": "ff3e::2:5", "dport": 6018, "spi": 8202,
  "suite": "aes-gcm-256", "key": "${K256}0000000a", "sid_bits": 16, "sid": 48879, "esn": false},
 {"name": "v4-ctr", "source": "192.0.2.30", "group": "232.1.3.1", "dport": 6020, "spi": 8203,
  "suite": "aes-ctr-128-hmac-sha256-128", "key": "${K128}0000000b", "auth_key": "${KA}",
  "sid_bits": 8, "sid": 0, "esn": false},
 {"name": "v6-ctr-sid12", "source": "2001:db8::30", "group": "ff3e::3:1", "dport": 6022,
  "spi": 8204, "suite": "aes-ctr-128-hmac-sha256-128", "key": "${K128}0000000c",
  "auth_key": "${KA}", "sid_bits": 12, "sid": 99, "esn": false},
 {"name": "v4-ctr-esn", "source": "192.0.2.30", "group": "232.1.3.2", "dport": 6024, "spi": 8205,
  "suite": "aes-ctr-128-hmac-sha256-128", "key": "${K128}0000000d", "auth_key": "${KA}",
  "sid_bits": 8, "sid": 5, "esn": true},
 {"name": "v4-null", "source": "192.0.2.31", "group": "232.1.3.3", "dport": 6026, "spi": 8206,
  "suite": "null-hmac-sha256-128", "auth_key": "${KA}", "sid": 0, "esn": false},
 {"name": "v6-null", "source": "2001:db8::31", "group": "ff3e::3:2", "dport": 6028, "spi": 8207,
  "suite": "null-hmac-sha256-128", "auth_key": "${K256}", "sid": 0, "esn": false},
 {"name": "v6-null-esn", "source": "2001:db8::31", "group": "ff3e::3:3", "dport": 6030,
  "spi": 8208, "suite": "null-hmac-sha256-128", "auth_key": "${KB}", "sid": 0, "esn": true}
]
EOF
N=8                     # frames per SA and size (64, 512, 1420 bytes)
NSA=16
NF=$((N * 3 * NSA))

"${ORACLE[@]}" multi "gen $WORK/spec.json $WORK/plain.pcap --count $N" \
	"mkconf $WORK/spec.json $WORK/sender.json --dir sender" "cat $WORK/empty.pcap"

run_gw enc "$WORK/sender.json" "$WORK/plain.pcap" "$WORK/enc-p0.pcap" "$WORK/empty.pcap" \
	"$WORK/esp.pcap"
rc=$?
got=$(counter enc protected)
drops=$(grep -E '^msecgw: drops:' "$WORK/enc.log" | grep -oE '=[0-9]+' | tr -d = |
	awk '{s += $1} END {print s + 0}')
if [ "$rc" -eq 0 ] && [ "$got" -eq "$NF" ] && [ "$drops" -eq 0 ]; then
	ok "msecgw encrypts $NF frames for $NSA group SAs, exit 0, no drops"
else
	not_ok "msecgw encrypts $NF frames for $NSA group SAs, exit 0, no drops (exit $rc, protected $got, drops $drops)"
	grep -E '^msecgw|ERROR|Sanitizer|runtime error' "$WORK/enc.log" | tail -n 15 | sed 's/^/# /'
fi

"${ORACLE[@]}" tshark-check "$WORK/spec.json" "$WORK/esp.pcap" --plain "$WORK/plain.pcap" \
	--label "tshark"
"${ORACLE[@]}" tshark-check "$WORK/spec.json" "$WORK/esp.pcap" --wrong-key \
	--label "tshark, negative control"
