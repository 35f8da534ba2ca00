#!/bin/bash
# The Wireshark Lua dissector (tools/wireshark/gsakmp.lua) against gsakmp-sample's capture: one
# message of every exchange over UDP, and a TCP segment carrying two messages back to back.
# tshark must decode what the sample tool wrote: exchange types, Sequence IDs, the Vendor ID,
# signature types, cookies, certificates (through Wireshark's X.509 dissector) and, with the
# throwaway keys `gsakmp-sample -k` prints, the KEK-protected Key Download (the data-SA
# attributes: SPI, SIDs, flags, delays, addresses, TESLA and its senders) and Rekey Events
# (AES-256-GCM and RFC 5649 key wrap, keys learned from earlier messages). Good frames carry no
# warning, error, Lua error or malformed mark. Damaged captures (gsakmp_captures.py: truncated,
# snap-length-cut, bit-flipped, wrong lengths, random datagrams, TCP segments cut or noisy, Key
# Downloads whose damaged plaintext is sealed again so that it authenticates) dissect with the
# expert info each kind calls for and never with a Lua error.
set -u
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

SAMPLE=$MSEC_BUILD/tools/gsakmp-sample
LUA=$MSEC_ROOT/tools/wireshark/gsakmp.lua
CAPS=("$PY" "$MSEC_ROOT/tests/integration/gsakmp_captures.py")
if ! command -v tshark >/dev/null; then
	not_ok "tshark is installed"
	exit 1
fi
if [ ! -x "$SAMPLE" ]; then
	not_ok "gsakmp-sample binary missing ($SAMPLE)"
	exit 1
fi

# fields CAPTURE OUT [tshark options]: one line per frame, tab-separated, repeated values joined
# by ','; stderr (less tshark's warning about running as root) to OUT.err.
fields() {
	local cap=$1 out=$2
	shift 2
	tshark -X "lua_script:$LUA" -r "$cap" -T fields -E occurrence=a -E aggregator=, "$@" \
		>"$out" 2>"$out.raw"
	grep -v 'Running as user' "$out.raw" >"$out.err"
}

# col FILE N: column N of every line, '-' when empty, joined by spaces.
col() {
	awk -F'\t' -v c="$2" '{ v = $c; if (v == "") v = "-"; printf "%s%s", s, v; s = " " }' "$1"
}

# same "what" GOT WANT
same() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1"
		echo "#   got:  $2"
		echo "#   want: $3"
	fi
}

# clean OUT: no stderr, no Lua error and none of our "Dissector error" in expert messages.
clean() { [ ! -s "$1.err" ] && ! grep -qE 'Lua Error|Dissector error' "$1"; }

# Wireshark's expert severities (PI_WARN, PI_ERROR) as tshark prints them
WARN=6291456
ERROR=8388608

# warned OUT COLUMN: the frames with an expert warning or error.
warned() { awk -F'\t' -v c="$2" -v min="$WARN" '{ n = split($c, s, ",")
	for (i = 1; i <= n; i++) if (s[i] + 0 >= min) { printf "%s ", $1; break } }' "$1"; }

start=$(date +%s%N)
CAP=$WORK/sample.pcap
w="gsakmp-sample writes the UDP and TCP capture and its throwaway keys"
if "$SAMPLE" -o "$CAP" -t -k >"$WORK/keys.txt" 2>"$WORK/sample.err" && [ -s "$CAP" ]; then
	ok "$w"
else
	not_ok "$w"
	sed 's/^/#   /' "$WORK/sample.err" | tail -n 5
	exit 1
fi
KEK=$(awk '/^registration KEK/ { print $3 }' "$WORK/keys.txt")

# ---------------------------------------------------------------- no keys
F=(-e frame.number -e gsakmp.exchange_type -e gsakmp.seq_id -e gsakmp.length -e tcp.len
	-e gsakmp.vendor_id.msecgw -e gsakmp.profile -e gsakmp.sig.type -e gsakmp.notify.type
	-e gsakmp.notify.cookie -e gsakmp.notify.cookie.version -e gsakmp.notify.mech.type
	-e gsakmp.notify.mech.choice -e gsakmp.cert.length -e x509sat.uTF8String
	-e gsakmp.sealed.iv -e gsakmp.sealed.tag -e gsakmp.sealed.decrypted -e gsakmp.sig.signer
	-e _ws.expert.severity -e _ws.expert.message)
A=$WORK/plain.txt
fields "$CAP" "$A" "${F[@]}"
frames=$(wc -l <"$A")
gs=$(awk -F'\t' '$2 != ""' "$A" | wc -l)
w="tshark loads gsakmp.lua and decodes all 13 frames as GSAKMP"
if clean "$A" && [ "$frames" -eq 13 ] && [ "$gs" -eq 13 ]; then
	ok "$w"
else
	not_ok "$w ($gs of $frames)"
	sed 's/^/#   /' "$A.err" | head -n 5
fi
same "exchange types of every message (the TCP segment: 13 then 15)" "$(col "$A" 2)" \
	"8 10 8 9 4 12 5 5 5 11 14 13,15 5"
same "Sequence IDs: 0 outside Rekey Events, 2, 3, 4 and 0xFFFFFFFF on them" "$(col "$A" 3)" \
	"0 0 0 0 0 0 2 3 4 0 0 0,0 4294967295"
same "the TCP segment is cut into two messages by their header Length" \
	"$(awk -F'\t' '$1 == 12 { split($4, l, ","); print l[1] + l[2], $5 }' "$A")" "1012 1012"
same "msecgw Vendor ID recognised in the messages that carry it, profile flag set" \
	"$(col "$A" 6) / $(col "$A" 7)" \
	"1 1 1 1 1 - 1 - - 1 - - - / 1 1 1 1 1 0 1 0 0 1 0 0,0 0"
same "signature types: Ed25519 (member), ECDSA P-256 (GC/KS), none on Cookie Download/RTJ Error" \
	"$(col "$A" 8)" \
	"49154 - 49154 49153 49154 49153 49153 49153 49153 - 49153 49154,49154 49153"
cookie=$(awk -F'\t' '$1 == 2 { print $9 "/" $10 "/" $11 }' "$A")
echoed=$(awk -F'\t' '$1 == 3 { n = split($9, t, ","); split($10, c, ",")
	for (i = 1; i <= n; i++) if (t[i] == 28) print c[1] }' "$A")
w="cookie: Cookie-Required (27) of 17 octets, version 0, echoed in a Cookie (28) notification"
if [ "${cookie%%/*}" = 27 ] && [ "${#echoed}" -eq 34 ] &&
	[ "$(echo "$cookie" | cut -d/ -f2)" = "$echoed" ] && [ "${cookie##*/}" = 0 ]; then
	ok "$w"
else
	not_ok "$w ($cookie, $echoed)"
fi
same "Mechanism Choices: X25519, AES-256-GCM, SHA-256" \
	"$(awk -F'\t' '$1 == 1 { print $12 " " $13 }' "$A")" "0,1,2 49153,49153,49153"
certs=$(awk -F'\t' '$14 != ""' "$A" | wc -l)
if [ "$certs" -eq 11 ] && grep -q 'gcks.example' <(cut -f15 "$A") &&
	grep -q 'gm1.example' <(cut -f15 "$A"); then
	ok "certificates of the 11 signed frames handed to the X.509 dissector (subjects decoded)"
else
	not_ok "certificates of the 11 signed frames handed to the X.509 dissector ($certs frames)"
fi
ivs=$(cut -f16 "$A" | tr ',' '\n' | grep -c .)
bad_iv=$(cut -f16 "$A" | tr ',' '\n' | grep . | grep -vcE '^([0-9a-f]{24})$')
bad_tag=$(cut -f17 "$A" | tr ',' '\n' | grep . | grep -vcE '^([0-9a-f]{32})$')
dec=$(cut -f18 "$A" | tr ',' '\n' | grep -c 1)
if [ "$ivs" -eq 10 ] && [ "$bad_iv" -eq 0 ] && [ "$bad_tag" -eq 0 ] && [ "$dec" -eq 0 ]; then
	ok "without keys the 10 KEK-protected blobs show as 12-octet IV, ciphertext, 16-octet tag"
else
	not_ok "$w ($ivs, $bad_iv, $bad_tag, $dec)"
fi
same "signer IDs: the certificate subjects as RFC 4514 strings" \
	"$(awk -F'\t' '$1 == 4 || $1 == 5 { print $19 }' "$A" | paste -sd'|')" \
	"CN=gcks.example,O=msecgw sample|CN=gm1.example,O=msecgw sample"

V=$WORK/plain.V
tshark -X "lua_script:$LUA" -r "$CAP" -V >"$V" 2>/dev/null
names=$(grep -oE '^    Exchange Type: [A-Za-z /-]+ \([0-9]+\)' "$V" | sort -u | wc -l)
sigs=$(grep -cE 'Signature Type: (Ed25519|ECDSA-P256-SHA256) \(msecgw\) \(4915[34]\)' "$V")
w="-V names the 10 exchange types, both signature types, cookie notifications, our Vendor ID"
if [ "$names" -eq 10 ] && [ "$sigs" -eq 12 ] &&
	grep -q 'Notification Type: Cookie-Required (27)' "$V" &&
	grep -q 'Notification Type: Cookie (28)' "$V" &&
	grep -q 'Vendor ID payload: msecgw-gsakmp-01 (msecgw GSAKMP profile)' "$V"; then
	ok "$w"
else
	not_ok "$w ($names, $sigs)"
fi
w="good frames: no Lua error, no malformed mark, no expert warning or error"
if ! grep -qE 'Lua Error|Malformed|Dissector error' "$V" && [ -z "$(warned "$A" 20)" ]; then
	ok "$w"
else
	not_ok "$w"
	grep -E 'Lua Error|Malformed|Dissector error' "$V" | head -n 3 | sed 's/^/#   /'
fi

order=$(tshark -X "lua_script:$LUA" -r "$CAP" -Y 'frame.number == 4' -T json \
	--no-duplicate-keys 2>/dev/null | "$PY" -c '
import json, sys
g = json.load(sys.stdin)[0]["_source"]["layers"]["gsakmp"]
print(" ".join(p["gsakmp.payload.type"] for p in g["gsakmp.payload"]), g["gsakmp.exchange_type"])
' 2>&1)
same "-T json: the Key Download's payloads in order (ID, 2 nonces, KC, PT, KD, VID, SIG, CERT)" \
	"$order" "4 12 12 11 1 2 10 8 6 9"

# ---------------------------------------------------------------- the registration KEK only
K=(-e frame.number -e gsakmp.sealed.decrypted -e gsakmp.kd.spi -e gsakmp.kd.suite
	-e gsakmp.kd.flags -e gsakmp.kd.sid_bits -e gsakmp.kd.sid -e gsakmp.kd.act_delay
	-e gsakmp.kd.deact_delay -e gsakmp.kd.replay_window -e gsakmp.kd.group_addr
	-e gsakmp.kd.source_addr -e gsakmp.kd.tesla.interval -e gsakmp.kd.tesla.chain_len
	-e gsakmp.kd.tesla.t0 -e gsakmp.kd.key.id -e gsakmp.kd.key.handle -e gsakmp.kd.key.data
	-e gsakmp.kd.ra.member_id -e gsakmp.sealed.mechanism -e gsakmp.sealed.key
	-e _ws.expert.severity -e _ws.expert.message)
B=$WORK/kek.txt
fields "$CAP" "$B" -o "gsakmp.keys:$KEK" "${K[@]}"
row4() { awk -F'\t' -v c="$1" '$1 == 4 { print $c }' "$B"; }
same "registration KEK: PT Data and Key Download of the Key Download decrypt" "$(row4 2)" "1,1"
same "data SA: SPI, suite, flags, SID bits, SIDs" \
	"$(row4 3) $(row4 4) $(row4 5) $(row4 6) $(row4 7)" "0x10001000 1 0x0000001f 8 5,6"
same "data SA: delays, replay window, group and source address, TESLA interval, chain, T_0" \
	"$(for c in 8 9 10 11 12 13 14 15; do row4 $c; done | paste -sd' ')" \
	"2000 10000 1024 232.1.1.1 192.0.2.10 20 360000 1772366400000"
# TESLA (attribute 11, doc/gsakmp-profile.md §9.1): the group-wide parameters, then per sender
# its SID count, chain index, commitment F(K_0) and SIDs
T=(-e frame.number -e gsakmp.kd.tesla.d -e gsakmp.kd.tesla.mac -e gsakmp.kd.tesla.max_skew
	-e gsakmp.kd.tesla.senders -e gsakmp.kd.tesla.sender.nsids -e gsakmp.kd.tesla.sender.chain
	-e gsakmp.kd.tesla.sender.sid -e gsakmp.kd.tesla.sender.commitment
	-e gsakmp.kd.tesla.reserved)
TL=$WORK/tesla.txt
fields "$CAP" "$TL" -o "gsakmp.keys:$KEK" "${T[@]}"
same "data SA: TESLA d, MAC, clock skew, senders; per sender SID count, chain, SIDs" \
	"$(awk -F'\t' '$1 == 4 { print $2, $3, $4, $5, $6, $7, $8 }' "$TL")" "2 1 10 2 2,1 0,1 5,6,9"
same "data SA: each TESLA sender's 32-octet commitment; the reserved octets, zero" \
	"$(awk -F'\t' '$1 == 4 { print $9, $10 }' "$TL")" \
	"$(printf '7e%.0s' {1..32}),$(printf '7f%.0s' {1..32}) 0000,000000,000000,000000"
w="-V: the TESLA attribute and its two senders named in the tree, no expert warning"
tshark -X "lua_script:$LUA" -r "$CAP" -o "gsakmp.keys:$KEK" -Y 'frame.number == 4' -V \
	>"$WORK/tesla.V" 2>/dev/null
if grep -q 'TESLA (critical): T_int 20 ms, d 2, HMAC-SHA-256-128, 2 senders' "$WORK/tesla.V" &&
	grep -q 'Sender 1: chain 0, SIDs 5, 6$' "$WORK/tesla.V" &&
	grep -q 'Sender 2: chain 1, SID 9$' "$WORK/tesla.V" &&
	! grep -qE 'Expert Info \((Warning|Error)' "$WORK/tesla.V"; then
	ok "$w"
else
	not_ok "$w"
	grep -E 'TESLA|Sender [0-9]|Expert' "$WORK/tesla.V" | head -n 5 | sed 's/^/#   /'
fi
# value names as tshark registers them (-G values reads plugins, not -X: a private HOME)
want_vals="gsakmp.kd.key.type 49159 AES-CTR-128 + HMAC-SHA-256-128 (msecgw)"
want_vals+="|gsakmp.kd.suite 1 aes-gcm-128|gsakmp.kd.suite 2 aes-gcm-256"
want_vals+="|gsakmp.kd.suite 3 aes-gmac-128|gsakmp.kd.suite 4 aes-cbc-128+hmac-sha256-128"
want_vals+="|gsakmp.kd.suite 5 null-hmac-sha256-128|gsakmp.kd.suite 6 aes-ctr-128-hmac-sha256-128"
want_vals+="|gsakmp.kd.tesla.mac 1 HMAC-SHA-256-128|gsakmp.kd.tesla.mac 2 AES-128-GMAC"
mkdir -p "$WORK/home/.local/lib/wireshark/plugins"
cp "$LUA" "$WORK/home/.local/lib/wireshark/plugins/"
same "value names: the six suites by the gateway's names, both TESLA MACs, key type 49159" \
	"$(HOME=$WORK/home tshark -G values 2>/dev/null | awk -F'\t' '$2 == "gsakmp.kd.suite" ||
		$2 == "gsakmp.kd.tesla.mac" || ($2 == "gsakmp.kd.key.type" && $3 == 49159) {
		print $2 " " $3 " " $4 }' | sort | paste -sd'|')" \
	"$want_vals"
same "Key Download keys: GTPK 1/1, Rekey Array of member 5 with node keys 3, 6, 12" \
	"$(row4 16) $(row4 17) $(row4 19) $(row4 18 | cut -d, -f1)" \
	"1,3,6,12 1,1,1,1 5 101112131415161718191a1b1c1d1e1f20212223"
same "learned keys: the GTPK opens the rekey policy tokens (HKDF), node key 12 its blocks" \
	"$(awk -F'\t' '$1 == 7 || $1 == 8 || $1 == 9 { print $2 }' "$B" | paste -sd' ')" \
	"1,0,1,0 0,1,0 1"

# ---------------------------------------------------------------- every key
C=$WORK/keys.txt.out
fields "$CAP" "$C" -o "gsakmp.key_file:$WORK/keys.txt" "${K[@]}"
all=$(cut -f2 "$C" | tr ',' '\n' | grep -c 1)
none=$(cut -f2 "$C" | tr ',' '\n' | grep -c 0)
new=$(awk -F'\t' '$1 == 7 || $1 == 8' "$C" | cut -f18 | tr ',' '\n' |
	grep -cx 707172737475767778797a7b7c7d7e7f80818283)
w="key file (gsakmp-sample -k): all 10 blobs decrypt, GTPK' in every Rekey Event Data"
if [ "$all" -eq 10 ] && [ "$none" -eq 0 ] && [ "$new" -eq 6 ]; then
	ok "$w"
else
	not_ok "$w ($all, $none, $new)"
fi
same "mechanisms: AES-256-GCM everywhere, RFC 5649 key wrap in the second Rekey Event" \
	"$(col "$C" 20)" \
	"- - - 49153,49153 - - 49153,49153,49153,49153 49154,49154,49154 49153 - - - -"
w="decrypted frames: no Lua error, no expert warning or error"
if clean "$B" && clean "$C" && [ -z "$(warned "$B" 22)$(warned "$C" 22)" ]; then
	ok "$w"
else
	not_ok "$w"
fi

# ---------------------------------------------------------------- damaged captures
# One capture of every kind gsakmp_captures.py makes, dissected with the KEK set; damaged.kinds
# says what each frame must show.
DMG=$WORK/damaged.pcap
if ! "${CAPS[@]}" "$CAP" "$DMG" "$KEK" >"$WORK/captures.err" 2>&1; then
	not_ok "gsakmp_captures.py writes the damaged captures"
	sed 's/^/#   /' "$WORK/captures.err" | tail -n 5
	exit 1
fi
D=$WORK/damaged.txt
fields "$DMG" "$D" -o "gsakmp.keys:$KEK" -e frame.number -e _ws.expert.severity \
	-e _ws.expert.message -e gsakmp.sealed.decrypted
if [ -s "$D.err" ]; then
	not_ok "tshark reads the damaged captures without complaint"
	sed 's/^/#   /' "$D.err" | head -n 5
fi

# verdict KIND: "FRAMES MISSED LUA_ERRORS[ frames missing the expert their kind requires]"
verdict() {
	awk -F'\t' -v kind="$1" -v warn="$WARN" -v err="$ERROR" '
		NR == FNR { if ($2 == kind) must[$1] = $3; next }
		$1 in must {
			total++
			if ($3 ~ /Lua Error|Dissector error/) lua++
			n = split($2, s, ","); top = 0
			for (i = 1; i <= n; i++) if (s[i] + 0 > top) top = s[i] + 0
			if ((must[$1] == "error" && top < err) ||
			    (must[$1] == "warn" && top < warn)) {
				bad++; list = list " " $1
			}
		}
		END { printf "%d %d %d%s\n", total, bad, lua, list }' "$DMG.kinds" "$D"
}

# judge KIND FRAMES "what": ok when the kind has FRAMES frames, all flagged, no Lua error.
judge() {
	local v
	v=$(verdict "$1")
	if [ "${v%% *}" = "$2" ] && [ "$(echo "$v" | cut -d' ' -f2,3)" = "0 0" ]; then
		ok "$3"
	else
		not_ok "$3 (frames, missed, Lua errors: $v)"
		awk -F'\t' 'NR == FNR { if ($2 == k) m[$1] = 1; next }
			($1 in m) && /Lua Error|Dissector error/' k="$1" "$DMG.kinds" "$D" |
			head -n 3 | sed 's/^/#   /'
	fi
}

judge trunc 120 "truncated messages (120): each gets an expert error, no Lua error"
judge snap 13 "capture cut to 120 octets a frame: the cut ones get an expert warning, no Lua error"
judge flip 192 "random bit flips (192 messages): no Lua error"
judge fields 240 "a bit flipped in the fixed fields of each payload (240 messages): no Lua error"
judge length 192 "header or Payload Length made wrong (192 messages): each gets an expert error"
judge garbage 60 "60 random datagrams on port 3761: each gets an expert warning, no Lua error"
judge tcp 16 "TCP segments cut, with bad header Lengths, or noise (16): bad Lengths flagged"
judge reseal 52 "Key Download plaintext damaged and sealed again (52): cut ones flagged"
dec=$(awk -F'\t' 'NR == FNR { if ($2 == "reseal") m[$1] = 1; next }
	($1 in m) { n += gsub(/1/, "", $4) } END { print n + 0 }' "$DMG.kinds" "$D")
same "the 52 re-sealed Key Downloads (and their policy tokens) decrypt" "$dec" 104

echo "# test_dissector: $((($(date +%s%N) - start) / 1000000)) ms"
