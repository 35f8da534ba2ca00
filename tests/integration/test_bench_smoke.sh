#!/bin/bash
# Smoke run of the benchmark (tools/bench --smoke), so that it never rots: every application
# of the real benchmark runs once, briefly, on the same virtual devices (net_pcap replaying a
# capture forever, net_null), without hugepages: msecgw both ways, DPDK's ipsec-secgw both ways,
# testpmd io forwarding, dpdk-test-crypto-perf, and the msec-worker-bench micro-benchmark.
# It checks that numbers were produced and that the run cleaned up after itself, not how large
# the numbers are (this build may be the sanitizer build, on a busy machine).
set -u
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

[ -x "$MSECGW" ] || { not_ok "msecgw binary missing ($MSECGW)"; exit 1; }
for t in dpdk-testpmd dpdk-test-crypto-perf; do
	command -v "$t" >/dev/null || { not_ok "$t not installed (package dpdk)"; exit 1; }
done

# The peer is built first, as test_interop_secgw.sh does (one build, shared through
# $MSEC_BUILD/peer): compiling it is not part of the benchmark's own time.
if ! "$TOOLS/build-secgw.sh" >"$WORK/build-secgw.log" 2>&1; then
	not_ok "ipsec-secgw builds (tools/build-secgw.sh)"
	tail -n 20 "$WORK/build-secgw.log" | sed 's/^/# /'
	exit 1
fi
ok "ipsec-secgw built by tools/build-secgw.sh"

start=$(date +%s)
huge_before=$(cat /proc/sys/vm/nr_hugepages)
out=$WORK/bench
"$PY" "$TOOLS/bench" --smoke --build "$MSEC_BUILD" --no-configure --no-ninja --out "$out" \
	>"$WORK/bench.log" 2>&1
rc=$?
elapsed=$(( $(date +%s) - start ))
if [ "$rc" -eq 0 ]; then
	ok "tools/bench --smoke ran to the end"
else
	not_ok "tools/bench --smoke ran to the end (exit $rc)"
	tail -n 25 "$WORK/bench.log" | sed 's/^/# /'
fi

"$PY" - "$out/results.json" "$out/report.md" <<'PYEOF'
import json, sys

def tap(ok, what):
    print("%s - %s" % ("ok" if ok else "not ok", what))

try:
    r = json.load(open(sys.argv[1]))
except (OSError, ValueError) as e:
    tap(False, "results.json written (%s)" % e)
    sys.exit(0)
rows = {(t["dir"], t["size"]): t for t in r.get("table", [])}
for d, what in (("enc", "encrypt"), ("dec", "decrypt")):
    t = rows.get((d, "64"), {})
    tap((t.get("msecgw_mpps") or 0) > 0 and (t.get("cycles") or 0) > 0,
        "msecgw %s: Mpps and cycles per packet measured (%s Mpps)" % (what, t.get("msecgw_mpps")))
    tap((t.get("secgw_mpps") or 0) > 0 and (t.get("ratio") or 0) > 0,
        "ipsec-secgw %s measured on the same vdevs and packets, ratio printed (%s Mpps)"
        % (what, t.get("secgw_mpps")))
    tap((t.get("io") or 0) > 0, "testpmd io ceiling for %s measured (%s Mpps)" % (what, t.get("io")))
    tap((t.get("crypto") or 0) > 0 and (t.get("bound") or 0) > 0,
        "crypto-perf ceiling for %s measured and bound computed (%s Mops)" % (what, t.get("crypto")))
mem = r.get("memory", {})
m = mem.get("g1-enc") or {}
tap(m.get("mbuf_pool_bytes", 0) > 0 and m.get("sa_total_bytes", 0) > 0 and m.get("sas") == 1,
    "memory reported by /msecgw/memory (mbuf pool %s B, SA database %s B)"
    % (m.get("mbuf_pool_bytes"), m.get("sa_total_bytes")))
tap((r.get("machine", {}).get("tsc_hz") or 0) > 0, "TSC Hz known (cycles per packet)")
ex = r.get("extra", {})
tap("replay window cost (on - off)" in ex, "replay window cost measured by msec-worker-bench")
tl = {t["mac"]: t for t in r.get("tesla", [])}
for mac in ("hmac-sha256-128", "aes-gmac-128"):
    t = tl.get(mac, {})
    tap(all((t.get(k) or 0) > 0 for k in ("send_on", "send_off", "recv_on", "recv_off",
                                          "latency_ms_mean", "held_bytes_max")),
        "TESLA on/off rows with %s: send and receive cycles, added latency, held memory (%s)"
        % (mac, {k: t.get(k) for k in ("send_on", "recv_on", "latency_ms_mean")}))
rep = open(sys.argv[2]).read() if len(sys.argv) > 2 else ""
tap("| enc | aes-gcm-128 | 1 | 64 |" in rep and "Targets" in rep, "report.md has the table and the targets")
PYEOF

left=$("$PY" -c '
import json, os, sys
p = json.load(open(sys.argv[1])).get("prefixes", [])
print(sum(os.path.exists("/var/run/dpdk/" + x) for x in p) if p else -1)' "$out/results.json" 2>/dev/null)
check "no DPDK runtime directory left behind (${left:-?} of the run's file prefixes remain)" \
	[ "${left:-1}" = 0 ]
check "hugepage reservation unchanged ($huge_before)" [ "$(cat /proc/sys/vm/nr_hugepages)" = "$huge_before" ]
check "smoke run took less than 60 s (${elapsed} s)" [ "$elapsed" -lt 60 ]
