#!/usr/bin/python3
"""Compare what went into an encrypting msecgw with what came out of the decrypting one.

  pcap-compare.py SENT.pcap ESP.pcap OUT.pcap [--quiet]

Prints, per stream and frame size: frames sent, ESP frames seen between the gateways, frames
delivered, and whether every delivered IP packet equals the sent one byte for byte (in order).
Also checks that the ESP frames carry no plaintext payload and that delivered frames carry the
group's multicast MAC. Exit status 0 only if everything sent was delivered unchanged.
"""
import ipaddress
import struct
import sys
from collections import OrderedDict

from scapy.all import rdpcap, Ether, IP, IPv6, ESP, Raw  # noqa: E402


def key_of(l3):
    raw = bytes(l3)
    pl = bytes(l3.payload.payload) if l3.payload is not None else b""
    if len(pl) >= 12 and pl[:4] == b"MSEC":
        idx, size, seq = struct.unpack("!HHI", pl[4:12])
        return (idx, size), seq, raw
    return None, None, raw


def mcast_mac(group):
    ip = ipaddress.ip_address(group)
    b = ip.packed
    if ip.version == 4:
        return "01:00:5e:%02x:%02x:%02x" % (b[1] & 0x7F, b[2], b[3])
    return "33:33:%02x:%02x:%02x:%02x" % (b[12], b[13], b[14], b[15])


def l3_of(p):
    return p[IP] if IP in p else (p[IPv6] if IPv6 in p else None)


def main():
    quiet = "--quiet" in sys.argv
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    sent, esp, out = (rdpcap(f) for f in args[:3])
    streams = OrderedDict()
    names = {}
    for p in sent:
        l3 = l3_of(p)
        k, seq, raw = key_of(l3)
        s = streams.setdefault(k, {"sent": [], "esp": 0, "out": [], "ok": True})
        s["sent"].append(raw)
        names[k] = "%s -> %s" % (l3.src, l3.dst)
    esp_len = {}
    for k, s in streams.items():
        src, dst = names[k].split(" -> ")
        n = len(s["sent"][0])
        hdr = 40 if ":" in dst else 20
        esp_len[(src, dst, hdr + 16 + ((n + 2 + 3) // 4) * 4 + 16)] = k
    plain_markers = 0
    for p in esp:
        l3 = l3_of(p)
        if l3 is None or ESP not in p:
            continue
        if b"MSEC" in bytes(p[ESP]):
            plain_markers += 1
        # attribute ESP frames to a stream by outer addresses and exact length
        k = esp_len.get((l3.src, l3.dst, len(bytes(l3))))
        if k in streams:
            streams[k]["esp"] += 1
    bad_mac = 0
    for p in out:
        l3 = l3_of(p)
        if l3 is None:
            continue
        k, seq, raw = key_of(l3)
        if k not in streams:
            continue
        streams[k]["out"].append(raw)
        if p[Ether].dst != mcast_mac(l3.dst):
            bad_mac += 1
    ok = plain_markers == 0 and bad_mac == 0
    if not quiet:
        print("%-32s %6s %8s %8s %10s %s" % ("stream", "frame", "sent", "esp", "delivered", "identical"))
    for k, s in streams.items():
        same = s["out"] == s["sent"]
        ok = ok and same
        if not quiet:
            print("%-32s %6s %8d %8d %10d %s" % (names[k], k[1] if k else "-", len(s["sent"]), s["esp"], len(s["out"]), "yes" if same else "NO"))
    if plain_markers:
        print("ERROR: %d ESP frames contain plaintext markers" % plain_markers)
    if bad_mac:
        print("ERROR: %d delivered frames have a wrong multicast MAC" % bad_mac)
    total_sent = sum(len(s["sent"]) for s in streams.values())
    total_out = sum(len(s["out"]) for s in streams.values())
    print("compare: %d sent, %d ESP frames, %d delivered, %s" % (total_sent, sum(s["esp"] for s in streams.values()), total_out, "all identical" if ok else "MISMATCH"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
