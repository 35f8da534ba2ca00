#!/bin/bash
# End to end with the real binaries: the README's demo (built-in configuration, IPv4 SSM, IPv4 ASM
# and IPv6 groups, 64/512/1420-byte frames) through an encrypting and a decrypting msecgw on
# net_pcap devices. Every delivered plaintext packet must equal what was sent, byte for byte and
# in order, the ESP between the gateways must carry no plaintext, and no packet may be dropped.
set -u
. "$(dirname "$0")/lib.sh"
[ -x "$MSECGW" ] || { not_ok "msecgw binary missing"; exit 1; }

# the demo's key-management part is test_gkm_netns.sh, which runs on its own
out=$(MSEC_DEMO_GKM=0 "$TOOLS/demo.sh" "$MSEC_BUILD" 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
check "demo runs (exit 0)" test "$rc" -eq 0
check "every delivered packet identical to the one sent" \
	bash -c "echo \"\$0\" | grep -qE '^compare: [1-9][0-9]* sent, [0-9]+ ESP frames, [0-9]+ delivered, all identical'" "$out"
sent=$(echo "$out" | grep -oE '^compare: [0-9]+' | grep -oE '[0-9]+$')
delivered=$(echo "$out" | grep -oE ', [0-9]+ delivered' | grep -oE '[0-9]+')
check "nothing lost ($sent sent, $delivered delivered)" test "${sent:-0}" -eq "${delivered:--1}"
nonzero=$(echo "$out" | grep -E '^msecgw: drops:' | tr ' ' '\n' | grep -E '=[1-9]' || true)
check "all drop counters zero in both gateways${nonzero:+ (got $nonzero)}" test -z "$nonzero"
check "both gateways printed their counters" \
	test "$(echo "$out" | grep -cE '^msecgw: drops:')" -eq 2
