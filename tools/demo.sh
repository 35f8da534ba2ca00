#!/bin/bash
# The built-in demo: a plaintext multicast stream (IPv4 SSM, IPv4 ASM and IPv6 groups, three frame
# sizes) goes through an encrypting msecgw and a decrypting msecgw on virtual devices (net_pcap),
# both running the built-in demo configuration. Prints what went in, what came out encrypted,
# what came out decrypted, and drops by reason.
#   tools/demo.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
gw=$build/app/msecgw/msecgw
work=$(mktemp -d /tmp/msecgw-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT

eal="-l 0,1 --no-huge --no-shconf --no-pci -m 256 --log-level=pmd.net.pcap:error"

/usr/bin/python3 tools/gen-traffic.py -o "$work/plain.pcap" --count 200 >/dev/null
/usr/bin/python3 -c "from scapy.all import wrpcap; wrpcap('$work/empty.pcap', [], linktype=1)"

echo "== demo: $(/usr/bin/python3 -c "from scapy.all import rdpcap; print(len(rdpcap('$work/plain.pcap')))") plaintext frames: 3 groups (232.1.1.1 SSM, 239.1.1.1, ff3e::1:1) x sizes 64/512/1420"
# run_gw NAME RX0 TX0 RX1 TX1: one gateway on two pcap ports with the built-in configuration;
# shows its counters, and everything it said when it failed
run_gw() {
	local rc=0
	"$gw" $eal --file-prefix "demo-$1" \
		--vdev "net_pcap0,rx_pcap=$2,tx_pcap=$3" --vdev "net_pcap1,rx_pcap=$4,tx_pcap=$5" \
		-- --socket "" --idle-exit 1000 >"$work/$1.log" 2>&1 || rc=$?
	grep -E '^msecgw' "$work/$1.log" || true
	if [ "$rc" -ne 0 ]; then
		echo "demo: the $1 gateway failed (exit $rc):" >&2
		tail -n 30 "$work/$1.log" >&2
		exit "$rc"
	fi
}
echo "== encrypting gateway (built-in demo configuration)"
run_gw enc "$work/plain.pcap" "$work/enc-plain-out.pcap" "$work/empty.pcap" "$work/esp.pcap"
echo "== decrypting gateway (built-in demo configuration)"
run_gw dec "$work/empty.pcap" "$work/out.pcap" "$work/esp.pcap" "$work/dec-esp-out.pcap"
echo "== result"
/usr/bin/python3 tools/pcap-compare.py "$work/plain.pcap" "$work/esp.pcap" "$work/out.pcap"
echo "== first ESP frames on the wire between the gateways"
tshark -r "$work/esp.pcap" -c 4 2>/dev/null || true

# Group key management (doc/key-management.md): the same kind of gateways without a key in their
# configuration. A key server (msec-gcks) admits them by the Group Owner's signed policy token;
# one gateway sends, two receive, in network namespaces on veth pairs; then a rekey under
# traffic, an eviction and a crash of the key server. The steps are those of the end-to-end
# test, printed as they happen.
[ "${MSEC_DEMO_GKM:-1}" = 1 ] || exit 0   # the test suite runs this part on its own
echo "== group key management: msec-gcks, one sending and two receiving msecgw (network namespaces)"
if ! ip netns add "msec-demo-probe-$$" 2>/dev/null; then
	echo "   skipped: network namespaces are not available here (root is needed)"
	exit 0
fi
ip netns del "msec-demo-probe-$$"
MSEC_BUILD=$PWD/$build MSECGW=$PWD/$gw MSECCTL=$PWD/$build/app/msecctl/msecctl \
	tests/integration/test_gkm_netns.sh | sed -e 's/^ok - /   /' -e 's/^not ok - /   FAILED: /'
