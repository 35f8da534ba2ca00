#!/bin/sh
# msecgw set-up: install what is missing (Debian 12, apt-get), build, then run something.
#   tools/setup.sh demo    build and run the built-in demo (two gateways on virtual devices)
#   tools/setup.sh test    build and run the whole test suite (ends with "tests: N passed, N failed")
#   tools/setup.sh build   only build (build/ and, for tests, build-san/)
set -eu

cd "$(dirname "$0")/.."
what=${1:-demo}

# Packages: build chain, DPDK 22.11 and its example sources, IPsec-MB, OpenSSL, jansson, Check,
# SQLite; test oracles: scapy (Debian's python3), tshark, iproute2, tcpreplay, clang for libFuzzer.
pkgs="meson ninja-build pkg-config gcc clang libclang-rt-14-dev make python3 python3-scapy
dpdk dpdk-dev libdpdk-dev dpdk-doc libipsec-mb-dev libssl-dev libjansson-dev check
libsubunit-dev libsqlite3-dev libpcap-dev tshark iproute2 ethtool tcpreplay procps
python3-cryptography"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "setup: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

werror=false
[ "${CI:-}" = "true" ] && werror=true

build() {	# build DIR [meson options...]
	dir=$1; shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" -Dwerror=$werror "$@" >/dev/null
	fi
	ninja -C "$dir" >/dev/null
}

case "$what" in
demo)
	build build
	exec tools/demo.sh build
	;;
test)
	build build
	# the suite runs under AddressSanitizer and UndefinedBehaviorSanitizer
	build build-san -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
	exec tools/test.sh build-san
	;;
build)
	build build
	;;
*)
	echo "usage: tools/setup.sh demo|test|build" >&2
	exit 2
	;;
esac
