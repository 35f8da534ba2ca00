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
echo "== encrypting gateway (built-in demo configuration)"
"$gw" $eal --file-prefix demo-enc \
	--vdev "net_pcap0,rx_pcap=$work/plain.pcap,tx_pcap=$work/enc-plain-out.pcap" \
	--vdev "net_pcap1,rx_pcap=$work/empty.pcap,tx_pcap=$work/esp.pcap" \
	-- --socket "" --idle-exit 1000 2>&1 | grep -E '^msecgw' | tee "$work/enc.log"
echo "== decrypting gateway (built-in demo configuration)"
"$gw" $eal --file-prefix demo-dec \
	--vdev "net_pcap0,rx_pcap=$work/empty.pcap,tx_pcap=$work/out.pcap" \
	--vdev "net_pcap1,rx_pcap=$work/esp.pcap,tx_pcap=$work/dec-esp-out.pcap" \
	-- --socket "" --idle-exit 1000 2>&1 | grep -E '^msecgw' | tee "$work/dec.log"
echo "== result"
/usr/bin/python3 tools/pcap-compare.py "$work/plain.pcap" "$work/esp.pcap" "$work/out.pcap"
echo "== first ESP frames on the wire between the gateways"
tshark -r "$work/esp.pcap" -c 4 2>/dev/null || true
