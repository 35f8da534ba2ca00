#!/usr/bin/python3
"""Write a pcap of plaintext multicast UDP streams for msecgw demos, tests and benchmarks.

  gen-traffic.py -o plain.pcap [--stream SRC,GROUP,DPORT]... [--sizes 64,512,1420] [--count N]

Each frame is Ethernet/IP/UDP with the multicast destination MAC; the payload starts with
"MSEC", the stream index, the frame size and a per-stream sequence number, so receivers can check
order and loss. Frame sizes are L2 sizes without FCS (64 is the minimum Ethernet frame).
Streams are interleaved round-robin over sizes.
"""
import argparse
import ipaddress
import struct
import sys

from scapy.all import Ether, IP, IPv6, UDP, Raw, wrpcap  # noqa: E402

DEFAULT_STREAMS = [
    "192.0.2.10,232.1.1.1,5004",     # IPv4 SSM channel
    "192.0.2.20,239.1.1.1,5006",     # IPv4 ASM group
    "2001:db8::10,ff3e::1:1,5008",   # IPv6 SSM group
]


def mcast_mac(group):
    ip = ipaddress.ip_address(group)
    b = ip.packed
    if ip.version == 4:
        return "01:00:5e:%02x:%02x:%02x" % (b[1] & 0x7F, b[2], b[3])
    return "33:33:%02x:%02x:%02x:%02x" % (b[12], b[13], b[14], b[15])


def frame(idx, src, group, dport, size, seq, ttl):
    v6 = ipaddress.ip_address(group).version == 6
    l3 = IPv6(src=src, dst=group, hlim=ttl) if v6 else IP(src=src, dst=group, ttl=ttl, id=seq & 0xFFFF)
    hdr = Ether(src="02:00:00:00:00:01", dst=mcast_mac(group)) / l3 / UDP(sport=40000 + idx, dport=dport)
    head = struct.pack("!4sHHI", b"MSEC", idx, size, seq)
    pad = max(0, size - len(hdr) - len(head))
    body = head + bytes((seq + i) & 0xFF for i in range(pad))
    return hdr / Raw(body)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--out", required=True)
    ap.add_argument("--stream", action="append", help="SRC,GROUP,DPORT (repeatable)")
    ap.add_argument("--sizes", default="64,512,1420")
    ap.add_argument("--count", type=int, default=100, help="frames per stream and size")
    ap.add_argument("--ttl", type=int, default=32)
    a = ap.parse_args()
    streams = [s.split(",") for s in (a.stream or DEFAULT_STREAMS)]
    sizes = [int(s) for s in a.sizes.split(",")]
    pkts = []
    seq = [0] * len(streams)
    for n in range(a.count):
        for size in sizes:
            for i, (src, group, dport) in enumerate(streams):
                seq[i] += 1
                pkts.append(frame(i, src, group, int(dport), size, seq[i], a.ttl))
    wrpcap(a.out, pkts)
    print("gen-traffic: %d frames, %d streams, sizes %s -> %s" % (len(pkts), len(streams), a.sizes, a.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
