#!/bin/bash
# Build DPDK's ipsec-secgw example (the peer data plane and an independent ESP oracle) and print
# the path of the binary. Idempotent: a second run only prints the path.
#   tools/build-secgw.sh [OUTDIR]
# OUTDIR defaults to $MSEC_BUILD/peer when MSEC_BUILD (default build/) is a meson build directory
# (meson's own .gitignore there keeps it out of git), else ~/.cache/msecgw/peer. The sources come
# from the dpdk-doc package (/usr/share/dpdk/examples, override with DPDK_EXAMPLES).
#
# One patch: ipsec-secgw asks every port for RX checksum offload, which virtual devices
# (net_pcap, net_null, net_af_packet) do not offer ("port 0 required RX offloads: 0xe, available
# RX offloads: 0x0"). The sed below sets the rxmode offloads to 0; it matches the text, not a line
# number, and the build fails if the text is not found exactly once.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${MSEC_BUILD:-$root/build}
examples=${DPDK_EXAMPLES:-/usr/share/dpdk/examples}

if [ $# -ge 1 ]; then
	out=$1
elif [ -d "$build/meson-private" ]; then
	out=$build/peer
else
	out=${XDG_CACHE_HOME:-$HOME/.cache}/msecgw/peer
fi

die() { echo "build-secgw: $*" >&2; exit 1; }

if [ ! -d "$examples/ipsec-secgw" ] || [ ! -d "$examples/common" ]; then
	die "no $examples/ipsec-secgw (install dpdk-doc)"
fi
pkg-config --exists libdpdk || die "pkg-config finds no libdpdk (install libdpdk-dev)"
command -v make >/dev/null || die "make is missing"

mkdir -p "$out"
# a stray copy must never show up in git, whatever directory it lands in
[ -f "$out/.gitignore" ] || echo '*' >"$out/.gitignore"
bin=$out/ipsec-secgw/build/ipsec-secgw
# The stamp records what the binary was built from; a change of DPDK or of this script rebuilds.
stamp="dpdk $(pkg-config --modversion libdpdk) script $(sha256sum "$0" | cut -c1-16)"

# several callers (tests, benchmarks) may start at once: build under a lock
exec 9>"$out/.lock"
flock 9

if [ -x "$bin" ] && [ "$(cat "$out/stamp" 2>/dev/null)" = "$stamp" ]; then
	echo "$bin"
	exit 0
fi

rm -rf "$out/ipsec-secgw" "$out/common" "$out/stamp"
cp -r "$examples/ipsec-secgw" "$examples/common" "$out/"
src=$out/ipsec-secgw/ipsec-secgw.c
pat='^\([[:space:]]*\.offloads[[:space:]]*=[[:space:]]*\)RTE_ETH_RX_OFFLOAD_CHECKSUM,'
n=$(grep -c "$pat" "$src" || true)
[ "$n" = 1 ] || die "expected one '.offloads = RTE_ETH_RX_OFFLOAD_CHECKSUM,' in $src, found $n"
sed -i "s/$pat/\\10, \\/* msecgw: vdevs offer no RX offloads *\\//" "$src"
grep -q 'offloads = 0, /\* msecgw' "$src" || die "patch did not apply to $src"

log=$out/build.log
if ! make -C "$out/ipsec-secgw" -j"$(nproc)" >"$log" 2>&1; then
	tail -n 20 "$log" >&2
	die "make failed (log: $log)"
fi
[ -x "$bin" ] || die "make succeeded but $bin is missing"
echo "$stamp" >"$out/stamp"
echo "$bin"
