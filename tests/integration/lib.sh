# Shared helpers for the integration scripts (sourced, not run). Each script prints TAP-style
# lines, "ok - what" or "not ok - what"; tools/test.sh counts them.
#
# Environment (set by tools/test.sh, defaults for running a script by hand from the tree):
#   MSEC_ROOT  source tree      MSEC_BUILD  build directory (build-san in CI)
#   MSECGW     gateway binary   MSECCTL     CLI binary      PY  Debian's python3 (scapy)

MSEC_ROOT=${MSEC_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
MSEC_BUILD=${MSEC_BUILD:-$MSEC_ROOT/build}
MSECGW=${MSECGW:-$MSEC_BUILD/app/msecgw/msecgw}
MSECCTL=${MSECCTL:-$MSEC_BUILD/app/msecctl/msecctl}
PY=${PY:-/usr/bin/python3}
TOOLS=$MSEC_ROOT/tools
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

# EAL options for one gateway on virtual devices: no hugepages, no shared config, no PCI.
# A unique --file-prefix per process keeps telemetry sockets apart.
EAL_BASE="--no-huge --no-shconf --no-pci -m 256 --log-level=pmd.net.pcap:error"

WORK=$(mktemp -d /tmp/msec-it.XXXXXX)
_cleanup_hooks=()
on_exit() { _cleanup_hooks+=("$*"); }
_run_cleanup() {
	for h in "${_cleanup_hooks[@]}"; do eval "$h" || true; done
	rm -rf "$WORK"
}
[ -n "${KEEP:-}" ] || trap _run_cleanup EXIT
# a script stopped by a signal (tools/test.sh's timeout, ^C) still stops what it started
trap 'exit 143' TERM
trap 'exit 130' INT

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; }
# check "description" command...: ok when the command succeeds. The command's own output goes
# to $WORK/check.log (shown on failure), so that it cannot be mistaken for a TAP line.
check() {
	local what=$1
	shift
	if "$@" >"$WORK/check.log" 2>&1; then
		ok "$what"
	else
		not_ok "$what"
		sed 's/^/#   /' "$WORK/check.log" | tail -n 5
	fi
}

# An empty pcap (a net_pcap RX source that never yields a packet).
empty_pcap() { "$PY" -c "from scapy.all import wrpcap; wrpcap('$1', [], linktype=1)"; }

# run_gw NAME CONFIG(or "") RX0 TX0 RX1 TX1 [extra msecgw options...]
# Runs one gateway on two net_pcap ports (port 0 then port 1, in that order) until it has been
# idle for a second; its output goes to $WORK/NAME.log. Returns the gateway's exit status.
run_gw() {
	local name=$1 conf=$2 rx0=$3 tx0=$4 rx1=$5 tx1=$6
	shift 6
	local copt=()
	[ -n "$conf" ] && copt=(-c "$conf")
	# shellcheck disable=SC2086
	"$MSECGW" -l 0,1 $EAL_BASE --file-prefix "it-$name-$$" \
		--vdev "net_pcap0,rx_pcap=$rx0,tx_pcap=$tx0" \
		--vdev "net_pcap1,rx_pcap=$rx1,tx_pcap=$tx1" \
		-- "${copt[@]}" --socket "" --idle-exit 1000 "$@" >"$WORK/$name.log" 2>&1
}

# counter NAME FIELD: a counter from the gateway's exit summary ("msecgw: ... FIELD N ..." or
# "FIELD=N" in the drops line); 0 when absent.
counter() {
	local v
	v=$(grep -oE "(^| )$2[ =][0-9]+" "$WORK/$1.log" | tail -n 1 | grep -oE '[0-9]+$')
	echo "${v:-0}"
}

# pcap_count FILE: number of frames in a pcap.
pcap_count() { "$PY" -c "from scapy.all import rdpcap; print(len(rdpcap('$1')))"; }
